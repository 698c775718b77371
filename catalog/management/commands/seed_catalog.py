from django.core.management.base import BaseCommand
from django.db import transaction

from catalog.demo import DEMO_PRODUCTS
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
        for sku, name, price, units in DEMO_PRODUCTS:
            product, was_created = Product.objects.update_or_create(
                sku=sku,
                defaults={"name": name, "unit_price": price, "currency": "usd", "active": True},
                create_defaults={"name": name, "unit_price": price, "currency": "usd", "active": True,
                                 "description": f"{name}. Part of the Harbor demo catalog."},
            )
            Stock.objects.get_or_create(product=product, defaults={"available": units, "received": units})
            created += was_created
        self.stdout.write(f"seed_catalog: {len(DEMO_PRODUCTS)} products ({created} new)")
