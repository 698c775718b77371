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
