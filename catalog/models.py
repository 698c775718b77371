from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Func, Value
from django.db.models.functions import Lower

from catalog import images

# The text search configuration of the catalog's search (catalog/search.py): English stemming,
# so "mugs" finds "mug"; the index and the queries must use the same one.
SEARCH_CONFIG = "english"


class TaxClass(models.TextChoices):
    """Which of a country's tax rates a product is taxed at (tax.models.TaxRate)."""

    STANDARD = "standard"
    REDUCED = "reduced"  # e.g. books, children's clothes, some food
    ZERO = "zero"


class Category(models.Model):
    """A shelf of the shop: a tree (parent → children). A category's page lists its own
    products and those of every category below it."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True, help_text="Its address: /categories/<slug>/.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               help_text="Empty for a top-level category.")
    description = models.TextField(blank=True, help_text="Shown on its page and as its search-engine description.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among its siblings (lowest first).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="category_not_own_parent")]

    def __str__(self):
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit_price = models.PositiveIntegerField(help_text="Minor units (cents).")
    currency = models.CharField(max_length=3, default="usd", help_text="Lowercase ISO 4217 code.")
    active = models.BooleanField(default=True)
    # What shipping is priced by (shipping.rates: weight brackets) and how it is taxed (tax.rates).
    weight_grams = models.PositiveIntegerField(default=0, db_default=0, help_text="Shipping weight of one unit.")
    tax_class = models.CharField(max_length=10, choices=TaxClass.choices, default=TaxClass.STANDARD,
                                 db_default=TaxClass.STANDARD)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the search matches (catalog/search.py), kept by PostgreSQL itself on every write
    # (a stored generated column, so no code path can forget it): name and SKU weigh most,
    # then the description. The GIN index makes a match a lookup, not a scan.
    search_vector = models.GeneratedField(
        expression=(SearchVector("name", weight="A", config=SEARCH_CONFIG)
                    # "MUG-001" as words ("mug 001"): the parser would read "-001" as a number.
                    + SearchVector(Func(F("sku"), Value(r"[^[:alnum:]]+"), Value(" "), Value("g"),
                                        function="regexp_replace"), weight="A", config=SEARCH_CONFIG)
                    + SearchVector("description", weight="C", config=SEARCH_CONFIG)),
        output_field=SearchVectorField(), db_persist=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[a-z]{3}$"), name="product_currency_iso"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="product_search"),
            models.Index(Lower("name"), name="product_name_lower"),  # the "Name" sort
        ]

    def __str__(self):
        return f"{self.sku} — {self.name}"


class ProductImage(models.Model):
    """A picture of a product, uploaded in the admin. The first (lowest position) is the
    product's picture on cards and in the cart; the product page shows them all, in order.
    The storefront serves thumbnails of it (catalog/images.py), never the upload itself."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/", storage=images.storage, width_field="width",
                              height_field="height")
    alt_text = models.CharField(max_length=200, help_text="What the picture shows, for people who cannot see it.")
    position = models.PositiveSmallIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, editable=False)
    height = models.PositiveIntegerField(null=True, editable=False)
    # Its thumbnails' storage names, {format: [[name, width], ...]} (catalog/images.py: made on save).
    renditions = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["product", "position"], name="productimage_order")]

    def __str__(self):
        return f"{self.product.sku} #{self.position}: {self.alt_text}"
