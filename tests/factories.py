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
