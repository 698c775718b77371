"""The demo's shipping zones, methods and tax rates (seed_catalog), priced in US dollars like
the demo catalog. Rates as of 2026, for the demo only: check your own before you sell."""

from harbor.countries import EU, SHIPPING_COUNTRIES

DOMESTIC = {"UK": ["GB"], "EU": EU, "US": ["US"]}
REST_OF_WORLD = [code for code, _ in SHIPPING_COUNTRIES if code not in {c for cs in DOMESTIC.values() for c in cs}]

# zone -> [(code, name, price, free_over, min_days, max_days, [(max grams, price), ...])]
METHODS = {
    "UK": [("uk-standard", "Standard (Royal Mail Tracked 48)", 600, None, 2, 3, []),
           ("uk-express", "Express (next working day)", 1200, None, 1, 1, [])],
    "EU": [("eu-standard", "Standard (EU)", 900, None, 3, 6, [(2000, 900), (5000, 1400), (20000, 2500)]),
           ("eu-express", "Express (EU)", 1900, None, 1, 3, [])],  # flat: it takes any parcel
    "US": [("us-standard", "Flat rate (free over $75)", 700, 7500, 3, 5, []),
           ("us-priority", "Priority", 1500, None, 1, 2, [])],
    "Rest of world": [("standard", "International standard", 1900, None, 7, 14, [])],
}

# (country, region, standard, reduced, name); zero-rated goods are 0 everywhere.
TAX_RATES = [
    ("GB", "", "20", "5", "VAT"), ("IE", "", "23", "13.5", "VAT"), ("DE", "", "19", "7", "MwSt."),
    ("FR", "", "20", "5.5", "TVA"), ("NL", "", "21", "9", "btw"), ("IT", "", "22", "10", "IVA"),
    ("ES", "", "21", "10", "IVA"), ("AT", "", "20", "10", "USt."), ("BE", "", "21", "6", "TVA"),
    ("CZ", "", "21", "12", "DPH"), ("DK", "", "25", "25", "moms"), ("EE", "", "22", "9", "käibemaks"),
    ("FI", "", "25.5", "14", "ALV"), ("GR", "", "24", "13", "ΦΠΑ"), ("HU", "", "27", "5", "ÁFA"),
    ("LT", "", "21", "9", "PVM"), ("LU", "", "17", "8", "TVA"), ("LV", "", "21", "12", "PVN"),
    ("PL", "", "23", "8", "VAT"), ("PT", "", "23", "6", "IVA"), ("RO", "", "19", "9", "TVA"),
    ("SE", "", "25", "12", "moms"), ("SI", "", "22", "9.5", "DDV"), ("SK", "", "23", "19", "DPH"),
    # US sales tax, by state (the address's region): the state rate only, no county or city part.
    ("US", "CA", "7.25", "7.25", "Sales tax"), ("US", "NY", "4", "4", "Sales tax"),
    ("US", "TX", "6.25", "6.25", "Sales tax"), ("US", "WA", "6.5", "6.5", "Sales tax"),
]

# code -> fields (discounts.models.Voucher), as the contract describes them.
VOUCHERS = {
    "WELCOME10": {"description": "10% off your first order", "kind": "percent", "percent": "10",
                  "per_email_limit": 1, "usage_limit": None},
    "LAUNCH5": {"description": "$5.00 off, for the first five orders", "kind": "fixed", "amount": 500,
                "currency": "usd", "usage_limit": 5, "per_email_limit": None},
}
