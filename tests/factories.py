import factory

from catalog.models import Product
from harbor.countries import SHIPPING_COUNTRIES
from inventory.models import Stock, Warehouse


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["sku"]
        skip_postgeneration_save = True

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.LazyAttribute(lambda p: f"Product {p.sku}")
    unit_price = 1250
    currency = "usd"
    active = True
    stock = factory.RelatedFactory("tests.factories.StockFactory", factory_related_name="product")


def main_warehouse():
    """The one warehouse a test's stock is in unless it says otherwise: it ships everywhere,
    as the migration's does."""
    return Warehouse.objects.get_or_create(code="main", defaults={
        "name": "Main warehouse", "countries": [code for code, _ in SHIPPING_COUNTRIES], "priority": 100,
        "address": {"name": "Harbor Fulfillment", "line1": "1 Quay Street", "city": "Portsmouth",
                    "postal_code": "PO1 2AB", "country": "GB"}})[0]


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"wh-{n}")
    name = factory.LazyAttribute(lambda w: f"Warehouse {w.code}")
    countries = factory.LazyFunction(lambda: [code for code, _ in SHIPPING_COUNTRIES])
    priority = 100
    address = factory.LazyAttribute(lambda w: {"name": w.name, "line1": "1 Dock", "city": "Town",
                                               "postal_code": "1", "country": "GB"})


class StockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stock

    warehouse = factory.LazyFunction(main_warehouse)
    available = 100
    received = factory.SelfAttribute("available")


def order_line(order, product, quantity, unit_price=1800):
    """An order line as checkout writes it: with the allocation of its units (here, all from the
    product's first warehouse), so releasing or auditing the order's stock counts them."""
    from inventory.models import Allocation
    from orders.models import OrderLine

    line = OrderLine.objects.create(order=order, product=product, sku=product.sku, quantity=quantity,
                                    unit_price=unit_price)
    stock = product.stocks.order_by("warehouse__priority", "warehouse_id").first()
    Allocation.objects.create(order_id=order.pk, product=product, warehouse=stock.warehouse if stock
                              else main_warehouse(), quantity=quantity)
    return line


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Category"
        django_get_or_create = ["slug"]

    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").title())
    slug = factory.Sequence(lambda n: f"category-{n}")


def picture_file(name="picture.jpg", size=300, colour=(20, 110, 120)):
    """A small JPEG upload, drawn now (for ProductImage.image)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")
