"""The demo's two warehouses (seed_catalog): Portsmouth ships everywhere, Newark to North
America and comes first there (priority 1). Every product is stocked in both, in different
amounts: what Newark lacks for a US order, Portsmouth sends (a second parcel)."""

from harbor.countries import SHIPPING_COUNTRIES

WAREHOUSES = {
    "portsmouth": {"name": "Portsmouth (UK)", "priority": 2,
                   "countries": [code for code, _ in SHIPPING_COUNTRIES],
                   "address": {"name": "Harbor Fulfillment", "line1": "1 Quay Street", "line2": "Unit 4",
                               "city": "Portsmouth", "region": "", "postal_code": "PO1 2AB", "country": "GB"}},
    "newark": {"name": "Newark (US)", "priority": 1, "countries": ["US", "CA", "MX"],
               "address": {"name": "Harbor Fulfillment US", "line1": "200 Port Street", "line2": "Dock 7",
                           "city": "Newark", "region": "NJ", "postal_code": "07114", "country": "US"}},
}


def split(units):
    """(Portsmouth's, Newark's) units of a product stocked `units` in all."""
    newark = max(1, units // 3) if units >= 2 else 0
    return units - newark, newark
