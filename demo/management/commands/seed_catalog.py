import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import connection, connections, transaction

from catalog import cache, images
from catalog.models import Category, Product, ProductImage
from demo import pictures
from demo import pricing as demo
from demo.catalog import CATEGORIES, DEMO_PRODUCTS
from demo.warehouses import WAREHOUSES, split
from inventory.models import Stock, Warehouse

OLD_PLACEHOLDER = "{name}. Part of the Harbor demo catalog."  # what the first demo wrote: replaced


class Command(BaseCommand):
    help = (
        "Load the demo catalog: six departments, sixty products with stock in two warehouses and two or "
        "three pictures each (drawn now, with their thumbnails), shipping, tax rates and vouchers. "
        "Idempotent: categories and products are matched by slug and SKU and updated; stock is only set "
        "where a product has none yet in a warehouse, so re-running never undoes sales; pictures are drawn "
        "only for products that have none."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-pictures", action="store_true",
                            help="skip drawing pictures (products without any show a plain tile)")

    def handle(self, *args, **options):
        started = time.monotonic()
        with transaction.atomic():
            categories = seed_categories()
            warehouses = seed_warehouses()
            created = seed_products(categories, warehouses)
            seed_pricing()
        self.stdout.write(f"seed_catalog: {len(DEMO_PRODUCTS)} products ({created} new) in "
                          f"{len(categories)} categories and {len(warehouses)} warehouses")
        self.stdout.write(f"seed_catalog: {sum(map(len, demo.METHODS.values()))} shipping methods in "
                          f"{len(demo.METHODS)} zones, {len(demo.TAX_RATES)} tax rates, vouchers "
                          f"{', '.join(demo.VOUCHERS)}")
        if not options["no_pictures"]:
            drawn, thumbnailed = seed_pictures()
            self.stdout.write(f"seed_catalog: {drawn} pictures drawn, {thumbnailed} thumbnailed "
                              f"({time.monotonic() - started:.1f} s)")


def seed_categories():
    """{slug: Category}, parents before children."""
    found = {}
    for position, (slug, name, parent, description) in enumerate(CATEGORIES):
        found[slug], _ = Category.objects.update_or_create(slug=slug, defaults={
            "name": name, "parent": found[parent] if parent else None, "description": description,
            "position": position})
    return found


def seed_warehouses():
    """The demo's two warehouses ({code: Warehouse}); the migration's one goes while it holds nothing."""
    warehouses = {code: Warehouse.objects.update_or_create(code=code, defaults=fields)[0]
                  for code, fields in WAREHOUSES.items()}
    Warehouse.objects.filter(code="main", stocks__isnull=True, allocations__isnull=True).delete()
    return warehouses


def seed_products(categories, warehouses):
    created = 0
    for item in DEMO_PRODUCTS:
        fields = {"name": item.name, "unit_price": item.unit_price, "currency": "usd", "active": True,
                  "weight_grams": item.weight_grams, "tax_class": item.tax_class,
                  "category": categories[item.category]}
        product, was_created = Product.objects.update_or_create(
            sku=item.sku, defaults=fields, create_defaults={**fields, "description": item.description})
        if product.description in ("", OLD_PLACEHOLDER.format(name=item.name)):
            Product.objects.filter(pk=product.pk).update(description=item.description)
        for code, share in zip(("portsmouth", "newark"), split(item.units)):
            Stock.objects.get_or_create(product=product, warehouse=warehouses[code],
                                        defaults={"available": share, "received": share})
        created += was_created
    return created


def seed_pictures():
    """Draw the pictures of products that have none (a file drawn before under the same name is
    reused) and make their thumbnails, on every core when it is safe to; then thumbnail any
    picture still without them (e.g. after a crash). Returns (pictures drawn, thumbnailed)."""
    have = set(ProductImage.objects.values_list("product__sku", flat=True))
    todo = [(item, position, view, alt) for item in DEMO_PRODUCTS if item.sku not in have
            for position, (view, alt) in enumerate(pictures.pictures(item))]
    if todo and not connection.in_atomic_block and (os.cpu_count() or 1) > 1:
        # Drawing and thumbnailing is CPU work: one process per core. The children open their own
        # database connections (sorl-thumbnail records what it made), so ours are closed first.
        connections.close_all()
        with ProcessPoolExecutor(max_workers=min(4, os.cpu_count()), mp_context=get_context("fork")) as pool:
            made = list(pool.map(_draw, todo, chunksize=4))
    else:
        made = [_draw(job) for job in todo]
    products = Product.objects.in_bulk([item.sku for item in DEMO_PRODUCTS], field_name="sku")
    # bulk_create: no post_save, so no second round of thumbnails (they are made above).
    ProductImage.objects.bulk_create([
        ProductImage(product=products[item.sku], image=name, alt_text=alt, position=position, width=pictures.SIZE,
                     height=pictures.SIZE, renditions=renditions)
        for (item, position, view, alt), (name, renditions, drawn) in zip(todo, made)])
    missing = list(ProductImage.objects.filter(renditions={}))
    for picture in missing:
        images.refresh(picture)
    cache.changed()
    return sum(drawn for *_, drawn in made), len(made) + len(missing)


def _draw(job):
    """(storage name, thumbnails, 1 if drawn now) of one demo picture."""
    item, position, view, alt = job
    storage, name = images.storage(), f"products/demo/{item.sku.lower()}-{view}.jpg"
    drawn = 0
    if not storage.exists(name):
        storage.save(name, ContentFile(pictures.picture(item, view)))
        drawn = 1
    field = ProductImage(width=pictures.SIZE, height=pictures.SIZE).image
    field.name = name
    return name, images.render(field), drawn


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
