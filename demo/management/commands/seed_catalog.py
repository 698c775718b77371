from django.core.management.base import BaseCommand
from django.db import transaction

from demo import pricing as demo
from demo.catalog import DEMO_PRODUCTS
from catalog.models import Product, Stock


class Command(BaseCommand):
    help = (
        "Load the demo catalog (about a dozen products with stock). Idempotent: products are "
        "matched by SKU and updated; stock is only set for products that have none yet, so "
        "re-running never undoes sales."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for sku, name, price, units, grams, tax_class in DEMO_PRODUCTS:
            fields = {"name": name, "unit_price": price, "currency": "usd", "active": True, "weight_grams": grams,
                      "tax_class": tax_class}
            product, was_created = Product.objects.update_or_create(
                sku=sku, defaults=fields,
                create_defaults={**fields, "description": f"{name}. Part of the Harbor demo catalog."},
            )
            Stock.objects.get_or_create(product=product, defaults={"available": units, "received": units})
            created += was_created
        self.stdout.write(f"seed_catalog: {len(DEMO_PRODUCTS)} products ({created} new)")
        seed_pricing()
        self.stdout.write(f"seed_catalog: {sum(map(len, demo.METHODS.values()))} shipping methods in "
                          f"{len(demo.METHODS)} zones, {len(demo.TAX_RATES)} tax rates, vouchers "
                          f"{', '.join(demo.VOUCHERS)}")


def seed_pricing():
    """The demo's zones, methods, tax rates and vouchers, matched by name or code and updated:
    idempotent, and a voucher's uses are never reset."""
    from discounts.models import Voucher
    from shipping.models import ShippingMethod, ShippingZone, WeightBracket
    from tax.models import TaxRate

    for zone_name, methods in demo.METHODS.items():
        countries = demo.REST_OF_WORLD if zone_name == "Rest of world" else demo.DOMESTIC[zone_name]
        zone, _ = ShippingZone.objects.update_or_create(name=zone_name, defaults={"countries": countries})
        for position, (code, name, price, free_over, low, high, brackets) in enumerate(methods):
            method, _ = ShippingMethod.objects.update_or_create(code=code, defaults={
                "zone": zone, "name": name, "price": price, "currency": "usd", "free_over": free_over,
                "min_days": low, "max_days": high, "position": position, "active": True})
            method.brackets.exclude(max_weight_grams__in=[grams for grams, _ in brackets]).delete()
            for grams, bracket_price in brackets:
                WeightBracket.objects.update_or_create(method=method, max_weight_grams=grams,
                                                       defaults={"price": bracket_price})
    ShippingZone.objects.filter(name="Everywhere", methods__isnull=True).delete()  # the migration's, now empty
    for country, region, standard, reduced, name in demo.TAX_RATES:
        for tax_class, rate in (("standard", standard), ("reduced", reduced), ("zero", "0")):
            TaxRate.objects.update_or_create(country=country, region=region, tax_class=tax_class,
                                             defaults={"rate": rate, "name": name})
    for code, fields in demo.VOUCHERS.items():
        Voucher.objects.update_or_create(code=code, defaults={**fields, "active": True})
