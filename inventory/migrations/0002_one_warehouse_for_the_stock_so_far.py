from django.conf import settings
from django.db import migrations

EVERYWHERE = ["AU", "AT", "BE", "BR", "CA", "CL", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HK", "HU", "IS", "IN",
              "IE", "IL", "IT", "JP", "LV", "LT", "LU", "MX", "NL", "NZ", "NO", "PL", "PT", "RO", "SG", "SK", "SI",
              "ZA", "KR", "ES", "SE", "CH", "TW", "AE", "GB", "US"]  # the shipping countries of this release


def one_warehouse(apps, schema_editor):
    """The stock so far was one undifferentiated stock, shipped from SHIP_FROM: it becomes the
    stock of one warehouse there, shipping everywhere, and every order line so far took its
    units from it."""
    Warehouse = apps.get_model("inventory", "Warehouse")
    Stock = apps.get_model("inventory", "Stock")
    Allocation = apps.get_model("inventory", "Allocation")
    OldStock = apps.get_model("catalog", "Stock")
    OrderLine = apps.get_model("orders", "OrderLine")
    main, _ = Warehouse.objects.get_or_create(code="main", defaults={
        "name": "Main warehouse", "address": settings.SHIP_FROM, "countries": EVERYWHERE, "priority": 100})
    Stock.objects.bulk_create([Stock(product_id=old.product_id, warehouse=main, available=old.available,
                                     received=old.received) for old in OldStock.objects.all()],
                              ignore_conflicts=True)
    Allocation.objects.bulk_create([Allocation(order_id=line.order_id, product_id=line.product_id, warehouse=main,
                                               quantity=line.quantity)
                                    for line in OrderLine.objects.all().iterator()], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial"), ("catalog", "0003_product_tax_class_product_weight_grams"),
                    ("orders", "0009_order_totals")]
    operations = [migrations.RunPython(one_warehouse, migrations.RunPython.noop)]
