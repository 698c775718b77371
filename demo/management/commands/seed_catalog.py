from django.core.management.base import BaseCommand
from django.db import transaction

from catalog.models import Product
from demo import pricing as demo
from demo.catalog import DEMO_PRODUCTS
from demo.warehouses import WAREHOUSES, split
from inventory.models import Stock, Warehouse


class Command(BaseCommand):
    help = (
        "Load the demo catalog (about a dozen products with stock in two warehouses), its shipping "
        "methods, tax rates and vouchers. Idempotent: products are matched by SKU and updated; stock "
        "is only set where a product has none yet in a warehouse, so re-running never undoes sales."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        warehouses = {code: Warehouse.objects.update_or_create(code=code, defaults=fields)[0]
                      for code, fields in WAREHOUSES.items()}
        for sku, name, price, units, grams, tax_class in DEMO_PRODUCTS:
            fields = {"name": name, "unit_price": price, "currency": "usd", "active": True, "weight_grams": grams,
                      "tax_class": tax_class}
            product, was_created = Product.objects.update_or_create(
                sku=sku, defaults=fields,
                create_defaults={**fields, "description": f"{name}. Part of the Harbor demo catalog."},
            )
            for code, share in zip(("portsmouth", "newark"), split(units)):
                Stock.objects.get_or_create(product=product, warehouse=warehouses[code],
                                            defaults={"available": share, "received": share})
            created += was_created
        # The migration's one warehouse, on a fresh database still empty: the demo has its own two.
        Warehouse.objects.filter(code="main", stocks__isnull=True, allocations__isnull=True).delete()
        self.stdout.write(f"seed_catalog: {len(DEMO_PRODUCTS)} products ({created} new) in "
                          f"{len(warehouses)} warehouses")
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
