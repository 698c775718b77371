"""Shipping addresses: the countries Harbor ships to, and an address written out the way
its country's post expects it (label, receipt, admin and order page use this one function).

An address is the checkout's dict: name, line1, line2 (optional), city, region (optional:
state, province or county), postal_code, country (ISO 3166-1 alpha-2).
"""

from harbor.countries import COUNTRY_NAMES, SHIPPING_COUNTRIES  # noqa: F401 (the one list)

# The line with the town, by country (city, region, postal code; region may be blank).
TOWN_LINE = {
    "US": lambda city, region, postal: f"{city}, {region} {postal}" if region else f"{city} {postal}",
    "CA": lambda city, region, postal: f"{city} {region} {postal}",  # Toronto ON M5V 2T6
    "AU": lambda city, region, postal: f"{city} {region} {postal}",  # Sydney NSW 2000
    "JP": lambda city, region, postal: f"{postal} {region} {city}",
    "GB": lambda city, region, postal: city,  # postcode on a line of its own, below
    "IE": lambda city, region, postal: city,
}
POSTCODE_OWN_LINE = {"GB", "IE"}


def _default_town(city, region, postal):
    return f"{postal} {city} {region}"  # most of Europe: 10115 Berlin


def address_lines(address):
    """The address as the lines to print, country last (its name where known)."""
    country = (address.get("country") or "").upper()
    city, region, postal = (address.get(key) or "" for key in ("city", "region", "postal_code"))
    town = " ".join(TOWN_LINE.get(country, _default_town)(city, region, postal).split())
    lines = [address.get("name", ""), address.get("line1", ""), address.get("line2", ""), town]
    if country in POSTCODE_OWN_LINE:
        lines += [region, postal]
    lines.append(COUNTRY_NAMES.get(country, country))
    return [line for line in lines if line]
