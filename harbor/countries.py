"""The countries Harbor ships to: the one list the API, the storefront's country field, the
shipping zones choose from (ISO 3166-1 alpha-2, with the name shoppers read)."""

SHIPPING_COUNTRIES = [
    ("AU", "Australia"), ("AT", "Austria"), ("BE", "Belgium"), ("BR", "Brazil"), ("CA", "Canada"),
    ("CL", "Chile"), ("CZ", "Czechia"), ("DK", "Denmark"), ("EE", "Estonia"), ("FI", "Finland"),
    ("FR", "France"), ("DE", "Germany"), ("GR", "Greece"), ("HK", "Hong Kong"), ("HU", "Hungary"),
    ("IS", "Iceland"), ("IN", "India"), ("IE", "Ireland"), ("IL", "Israel"), ("IT", "Italy"),
    ("JP", "Japan"), ("LV", "Latvia"), ("LT", "Lithuania"), ("LU", "Luxembourg"), ("MX", "Mexico"),
    ("NL", "Netherlands"), ("NZ", "New Zealand"), ("NO", "Norway"), ("PL", "Poland"), ("PT", "Portugal"),
    ("RO", "Romania"), ("SG", "Singapore"), ("SK", "Slovakia"), ("SI", "Slovenia"), ("ZA", "South Africa"),
    ("KR", "South Korea"), ("ES", "Spain"), ("SE", "Sweden"), ("CH", "Switzerland"), ("TW", "Taiwan"),
    ("AE", "United Arab Emirates"), ("GB", "United Kingdom"), ("US", "United States"),
]
COUNTRY_NAMES = dict(SHIPPING_COUNTRIES)

# The European Union's members among them (the demo's EU shipping zone and VAT rates).
EU = ["AT", "BE", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HU", "IE", "IT", "LT", "LU", "LV", "NL", "PL",
      "PT", "RO", "SE", "SI", "SK"]
