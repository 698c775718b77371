import factory

from catalog.models import Product, Stock


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


class StockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stock

    available = 100
    received = factory.SelfAttribute("available")
