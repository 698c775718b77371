"""The demo catalog that `manage.py seed_catalog` loads: six departments (some with shelves
below them), sixty products with stock, weights, tax classes and descriptions, and two or
three pictures each, drawn when the catalog is seeded (demo/pictures.py; nothing downloaded).

The first twelve SKUs are the original demo's (tests and the benchmark use MUG-001 and co.).
"""

from typing import NamedTuple


class DemoProduct(NamedTuple):
    sku: str
    name: str
    unit_price: int  # cents
    units: int  # stock
    weight_grams: int
    tax_class: str
    category: str  # a slug of CATEGORIES
    picture: str  # what demo/pictures.py draws
    colour: str  # its main colour
    description: str


# (slug, name, parent slug or None, description)
CATEGORIES = [
    ("clothing", "Clothing", None, "Tees, caps and knitwear cut for salt air, long watches and the walk home."),
    ("tees", "Tees & tops", "clothing", "Heavy cotton tees and tops, printed and dyed in Portsmouth."),
    ("headwear", "Caps & hats", "clothing", "Caps, beanies and hats for sun, spray and the harbour wall."),
    ("knitwear", "Knitwear & socks", "clothing", "Wool that keeps you warm when it is wet: socks, sweaters, scarves."),
    ("bags", "Bags", None, "Totes, duffels and roll-top dry bags made from canvas and sailcloth."),
    ("galley", "Galley", None, "Enamel, steel and oak for the galley: things that survive a rough crossing."),
    ("drinkware", "Drinkware", "galley", "Mugs, bottles and flasks that keep tea hot through a night watch."),
    ("tableware", "Tableware", "galley", "Plates, bowls and boards for the cockpit table and the kitchen."),
    ("stationery", "Logbooks & stationery", None, "Logbooks, pens and prints for writing down the weather."),
    ("home", "Cabin & home", None, "Blankets, cushions and charts for the cabin, the boat or the flat."),
    ("textiles", "Blankets & cushions", "home", "Wool and fleece blankets, cushions and mats."),
    ("prints", "Charts & prints", "home", "Charts, posters and calendars printed on heavy matt paper."),
    ("deck", "Deck & outdoors", None, "Rope, lanterns, knives and brass for the deck and the shed."),
]

P = DemoProduct
DEMO_PRODUCTS = [
    # The original twelve.
    P("MUG-001", "Harbor enamel mug", 1800, 120, 350, "standard", "drinkware", "mug", "#f4f1ea",
      "A white enamel mug with a navy rim, 350 ml. Enamel on steel: it goes on the stove, survives the deck and "
      "keeps its shine for decades."),
    P("TEE-BLK-M", "Lighthouse tee, black, M", 2600, 80, 220, "standard", "tees", "tee", "#23262b",
      "Heavyweight organic cotton tee with the Harbor lighthouse printed on the chest. Size M."),
    P("TEE-BLK-L", "Lighthouse tee, black, L", 2600, 80, 240, "standard", "tees", "tee", "#23262b",
      "Heavyweight organic cotton tee with the Harbor lighthouse printed on the chest. Size L."),
    P("CAP-NVY", "Deckhand cap, navy", 2200, 60, 120, "standard", "headwear", "cap", "#1f3559",
      "Six-panel cotton twill cap with a brass buckle. Washed soft; one size fits most."),
    P("TOTE-CNV", "Canvas tote", 1500, 150, 180, "standard", "bags", "tote", "#e8dcc2",
      "Natural 12 oz canvas tote with long handles and an inside pocket. Carries a week of groceries."),
    P("BTL-750", "Steel bottle, 750 ml", 3200, 90, 400, "standard", "drinkware", "bottle", "#2f6f73",
      "Double-walled stainless steel bottle, 750 ml: cold for 24 hours, hot for 12. Leak-proof cap."),
    P("NB-A5", "Logbook notebook, A5", 1200, 200, 300, "reduced", "stationery", "notebook", "#7a3b2e",
      "A5 logbook with 192 dotted pages, a cloth cover and a ribbon. Lies flat at the chart table."),
    P("PEN-BRS", "Brass pen", 4500, 40, 60, "standard", "stationery", "pen", "#c9a227",
      "Solid brass ballpoint that darkens with use. Takes standard refills; writes upside down."),
    P("SCK-WOOL", "Wool socks", 1400, 100, 90, "standard", "knitwear", "socks", "#8c2f39",
      "Merino wool socks with a cushioned sole. Warm even when wet."),
    # 12: Portsmouth 8, Newark 4 (demo/warehouses.py): a US order of 9 ships in two parcels.
    P("BLK-FLC", "Fleece blanket", 5900, 12, 1400, "standard", "textiles", "blanket", "#3d5a80",
      "Thick recycled fleece blanket, 150 × 200 cm. For the cockpit at dusk or the sofa at home."),
    P("KEY-ROPE", "Rope keychain", 800, 250, 30, "standard", "deck", "keychain", "#d1495b",
      "A monkey's fist knot in red rope on a brass ring. Hard to lose, and it floats."),
    P("PST-CHART", "Harbor chart poster", 2900, 50, 250, "zero", "prints", "poster", "#dfe7ec",
      "Our harbour's chart, soundings and all, printed on 250 g matt paper. 50 × 70 cm."),
    # Clothing.
    P("TEE-WHT-M", "Lighthouse tee, white, M", 2600, 70, 220, "standard", "tees", "tee", "#f2f2ef",
      "The lighthouse tee in undyed white organic cotton. Size M."),
    P("TEE-NVY-M", "Anchor tee, navy, M", 2400, 65, 210, "standard", "tees", "tee", "#1f3559",
      "Navy cotton tee with a small anchor embroidered over the heart. Size M."),
    P("LS-STR-M", "Breton long-sleeve, striped, M", 3900, 40, 300, "standard", "tees", "longsleeve", "#f2f2ef",
      "The classic sailor's striped top: 21 navy stripes on off-white jersey, boat neck. Size M."),
    P("POLO-RED-M", "Regatta polo, red, M", 4200, 35, 260, "standard", "tees", "tee", "#b23a48",
      "Piqué cotton polo in regatta red, with mother-of-pearl buttons. Size M."),
    P("HOOD-GRY-L", "Harbor hoodie, grey, L", 5800, 30, 650, "standard", "tees", "longsleeve", "#8d99a6",
      "Brushed-back cotton hoodie in heather grey, with a kangaroo pocket. Size L."),
    P("CAP-SND", "Deckhand cap, sand", 2200, 45, 120, "standard", "headwear", "cap", "#d8c3a5",
      "The deckhand cap in sand-coloured twill, with a brass buckle."),
    P("BEANIE-RED", "Fisherman beanie, red", 2400, 55, 90, "standard", "headwear", "beanie", "#c0392b",
      "Rib-knit merino beanie, short and turned up, the way harbour crews wear it."),
    P("BEANIE-NVY", "Fisherman beanie, navy", 2400, 4, 90, "standard", "headwear", "beanie", "#1f3559",
      "Rib-knit merino beanie in navy, short and turned up."),
    P("HAT-SUN", "Wide-brim sun hat", 3400, 25, 140, "standard", "headwear", "sunhat", "#e3c58b",
      "Packable sun hat with a 9 cm brim and a chin cord, in natural cotton canvas."),
    P("SCK-BOOT", "Boot socks, two pairs", 1900, 80, 160, "standard", "knitwear", "socks", "#4b5d67",
      "Two pairs of thick wool-blend boot socks, knee length. For sea boots and wellies."),
    P("SWTR-GRN", "Guernsey sweater, bottle green", 11900, 12, 850, "standard", "knitwear", "sweater", "#2d5a3d",
      "A traditional Guernsey knitted from tightly spun worsted wool: windproof and nearly waterproof."),
    P("SCARF-NVY", "Merino scarf, navy", 4500, 0, 150, "standard", "knitwear", "scarf", "#1f3559",
      "A long, fine merino scarf in navy, with fringed ends. Soft enough for a bare neck."),
    # Bags.
    P("TOTE-STR", "Striped beach tote", 2800, 60, 260, "standard", "bags", "tote", "#2e86ab",
      "A roomy striped canvas tote with rope handles, for the beach and the market."),
    P("DUF-40", "Waxed duffel, 40 l", 12900, 15, 1500, "standard", "bags", "duffel", "#5b4636",
      "Waxed cotton duffel with leather handles and a brass zip. 40 litres: a weekend aboard."),
    P("DRY-20", "Roll-top dry bag, 20 l", 3600, 50, 420, "standard", "bags", "drybag", "#f18f01",
      "Welded-seam roll-top bag, 20 l, with a shoulder strap. Keeps spare clothes dry in a dinghy."),
    P("DRY-05", "Roll-top dry bag, 5 l", 1900, 75, 180, "standard", "bags", "drybag", "#2e86ab",
      "The small roll-top, 5 l: phone, keys, wallet and a sandwich, dry."),
    P("PACK-DAY", "Sailcloth day pack", 8900, 20, 700, "standard", "bags", "pack", "#eae2b7",
      "A 22 l day pack made from recycled sailcloth, with a padded laptop sleeve."),
    P("POUCH-ZIP", "Sailcloth zip pouch", 1600, 90, 60, "standard", "bags", "pouch", "#eae2b7",
      "A zip pouch cut from retired sails: every one has a different number or seam on it."),
    # Galley: drinkware.
    P("MUG-BLU", "Enamel mug, blue rim", 1800, 100, 350, "standard", "drinkware", "mug", "#2e5e8e",
      "Our enamel mug in speckled blue with a dark rim, 350 ml."),
    P("BTL-500", "Steel bottle, 500 ml", 2800, 85, 330, "standard", "drinkware", "bottle", "#c0392b",
      "The steel bottle in a pocket size: 500 ml, double-walled, in harbour red."),
    P("TMB-350", "Insulated tumbler, 350 ml", 2600, 70, 280, "standard", "drinkware", "tumbler", "#4b5d67",
      "A stainless tumbler with a sliding lid, 350 ml: coffee stays hot through the morning watch."),
    P("FLASK-1L", "Thermos flask, 1 l", 3900, 40, 650, "standard", "drinkware", "flask", "#2d5a3d",
      "A one-litre vacuum flask in green enamel with a cup for a lid. Soup at sea."),
    P("CUP-SET", "Espresso cups, set of four", 3400, 30, 480, "standard", "drinkware", "cups", "#f4f1ea",
      "Four small enamel espresso cups, 90 ml, in a stacking set."),
    # Galley: tableware.
    P("PLT-ENM", "Enamel plate", 1400, 120, 300, "standard", "tableware", "plate", "#f4f1ea",
      "A 26 cm enamel plate with a navy rim. Survives the cockpit, the campfire and the dishwasher."),
    P("BWL-ENM", "Enamel bowl", 1300, 120, 250, "standard", "tableware", "bowl", "#f4f1ea",
      "A deep 16 cm enamel bowl for porridge, stew and everything in between."),
    P("BOARD-OAK", "Oak serving board", 4200, 25, 1100, "standard", "tableware", "board", "#b08150",
      "Solid English oak board with a rope handle, oiled by hand. 45 × 22 cm."),
    P("TIN-TEA", "Galley tea tin", 1100, 90, 180, "reduced", "tableware", "tin", "#1f3559",
      "Fifty bags of strong breakfast tea in a printed tin with a tight lid."),
    P("TOWEL-TEA", "Signal-flag tea towel", 1200, 110, 90, "standard", "tableware", "towel", "#f2f2ef",
      "A linen-cotton tea towel printed with the signal flags A to Z."),
    # Stationery.
    P("NB-A6", "Pocket logbook, A6", 800, 180, 120, "reduced", "stationery", "notebook", "#1f3559",
      "The logbook in pocket size: 96 dotted pages and a cloth cover."),
    P("PEN-SET", "Pencil set, six", 900, 140, 70, "standard", "stationery", "pencils", "#c9a227",
      "Six cedar pencils in a card sleeve, stamped with the Harbor anchor."),
    P("PST-CARDS", "Harbor postcards, set of eight", 1000, 150, 90, "standard", "stationery", "postcards",
      "#dfe7ec", "Eight postcards of harbour scenes, printed on heavy board."),
    P("BOOK-TIDE", "Tide table book 2027", 1500, 60, 220, "zero", "stationery", "book", "#2e86ab",
      "High and low water for every day of 2027 at twelve south-coast ports."),
    P("STAMP-ANC", "Anchor rubber stamp", 1300, 70, 80, "standard", "stationery", "stamp", "#b08150",
      "An anchor on a beech handle, for marking logbooks, letters and parcels."),
    # Cabin & home: textiles.
    P("BLK-WOOL", "Wool blanket, check", 9800, 18, 1600, "standard", "textiles", "blanket", "#8c2f39",
      "A woven lambswool blanket in a red and navy check, 140 × 190 cm."),
    P("CUSH-STR", "Striped cushion", 3200, 45, 700, "standard", "textiles", "cushion", "#2e86ab",
      "A 45 cm canvas cushion with blue ticking stripes and a feather pad."),
    P("RUG-JUTE", "Jute doormat", 2900, 40, 1800, "standard", "textiles", "mat", "#c2a36b",
      "A heavy jute doormat woven in a rope pattern, 60 × 40 cm."),
    P("APRON-CNV", "Canvas apron", 3600, 35, 400, "standard", "textiles", "apron", "#5b4636",
      "A waxed canvas apron with leather straps and two deep pockets."),
    # Cabin & home: prints.
    P("PST-LH", "Lighthouse print, A3", 2400, 50, 200, "zero", "prints", "lighthouse", "#f2e9dc",
      "A two-colour print of the harbour lighthouse at night, A3."),
    P("PST-KNOTS", "Knots of the sea poster", 2600, 45, 220, "zero", "prints", "flags", "#eae2b7",
      "Twenty-four knots every sailor should tie, drawn step by step. 50 × 70 cm."),
    P("PST-FLAGS", "Signal flags poster", 2600, 45, 220, "zero", "prints", "flags", "#f2f2ef",
      "The international code of signals: every flag and pennant, with its meaning. 50 × 70 cm."),
    P("CAL-2027", "Tide calendar 2027", 1800, 70, 450, "zero", "prints", "calendar", "#dfe7ec",
      "A wall calendar with a harbour photograph and the tides for each month of 2027."),
    # Deck & outdoors.
    P("ROPE-10M", "Mooring line, 10 m", 3900, 30, 1200, "standard", "deck", "rope", "#e8dcc2",
      "Ten metres of 12 mm three-strand polyester line with a spliced eye."),
    P("LANT-STORM", "Storm lantern", 4800, 20, 900, "standard", "deck", "lantern", "#2d5a3d",
      "A galvanised hurricane lantern with a glass globe. Paraffin, or the LED insert included."),
    P("FLAG-HRB", "Harbor burgee flag", 2200, 60, 80, "standard", "deck", "flag", "#c0392b",
      "A triangular burgee in knitted polyester, 30 × 45 cm, with a toggle and a line."),
    P("KNIFE-RIG", "Rigging knife", 5400, 3, 180, "standard", "deck", "knife", "#8d99a6",
      "A stainless rigging knife with a marlinspike and a shackle key."),
    P("COMP-BRS", "Brass pocket compass", 3900, 25, 110, "standard", "deck", "compass", "#c9a227",
      "A liquid-filled compass in a brass case with a hinged lid."),
    P("TORCH-LED", "Waterproof torch", 2900, 55, 200, "standard", "deck", "torch", "#f18f01",
      "A floating LED torch, waterproof to 10 m, on a lanyard. 300 lumens."),
    P("BELL-BRS", "Ship's bell, brass", 8900, 8, 2100, "standard", "deck", "bell", "#c9a227",
      "A 15 cm cast brass bell with a rope lanyard and a wall bracket."),
]
