"""The demo catalog that `manage.py seed_catalog` loads: (sku, name, unit price in cents, stock)."""

DEMO_PRODUCTS = [
    ("MUG-001", "Harbor enamel mug", 1800, 120),
    ("TEE-BLK-M", "Lighthouse tee, black, M", 2600, 80),
    ("TEE-BLK-L", "Lighthouse tee, black, L", 2600, 80),
    ("CAP-NVY", "Deckhand cap, navy", 2200, 60),
    ("TOTE-CNV", "Canvas tote", 1500, 150),
    ("BTL-750", "Steel bottle, 750 ml", 3200, 90),
    ("NB-A5", "Logbook notebook, A5", 1200, 200),
    ("PEN-BRS", "Brass pen", 4500, 40),
    ("SCK-WOOL", "Wool socks", 1400, 100),
    ("BLK-FLC", "Fleece blanket", 5900, 30),
    ("KEY-ROPE", "Rope keychain", 800, 250),
    ("PST-CHART", "Harbor chart poster", 2900, 50),
]
