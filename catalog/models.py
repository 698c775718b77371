from django.db import models


class TaxClass(models.TextChoices):
    """Which of a country's tax rates a product is taxed at (tax.models.TaxRate)."""

    STANDARD = "standard"
    REDUCED = "reduced"  # e.g. books, children's clothes, some food
    ZERO = "zero"


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[a-z]{3}$"), name="product_currency_iso"),
        ]

    def __str__(self):
        return f"{self.sku} — {self.name}"


class Stock(models.Model):
    """Units available to sell. Only catalog.stock changes `available`, and only with a
    conditional UPDATE; the CHECK constraint makes a negative count impossible even for
    code that forgets to."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True, related_name="stock")
    available = models.IntegerField(default=0)
    # Every unit ever put into stock. available = received - units held by live orders;
    # the nightly audit (orders/stock.py stock_drift) reports any drift from that.
    received = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "stock"
        constraints = [models.CheckConstraint(condition=models.Q(available__gte=0), name="stock_available_gte_0")]

    def __str__(self):
        return f"{self.product.sku}: {self.available}"
