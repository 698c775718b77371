"""The demo catalog that `manage.py seed_catalog` loads:
(sku, name, unit price in cents, stock, weight in grams, tax class)."""

DEMO_PRODUCTS = [
    ("MUG-001", "Harbor enamel mug", 1800, 120, 350, "standard"),
    ("TEE-BLK-M", "Lighthouse tee, black, M", 2600, 80, 220, "standard"),
    ("TEE-BLK-L", "Lighthouse tee, black, L", 2600, 80, 240, "standard"),
    ("CAP-NVY", "Deckhand cap, navy", 2200, 60, 120, "standard"),
    ("TOTE-CNV", "Canvas tote", 1500, 150, 180, "standard"),
    ("BTL-750", "Steel bottle, 750 ml", 3200, 90, 400, "standard"),
    ("NB-A5", "Logbook notebook, A5", 1200, 200, 300, "reduced"),
    ("PEN-BRS", "Brass pen", 4500, 40, 60, "standard"),
    ("SCK-WOOL", "Wool socks", 1400, 100, 90, "standard"),
    ("BLK-FLC", "Fleece blanket", 5900, 12, 1400, "standard"),  # Portsmouth 8, Newark 4: a US order of 9 ships in two parcels
    ("KEY-ROPE", "Rope keychain", 800, 250, 30, "standard"),
    ("PST-CHART", "Harbor chart poster", 2900, 50, 250, "zero"),  # printed charts: zero-rated in the UK
]
