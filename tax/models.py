from django.db import models

from catalog.models import TaxClass
from harbor.countries import SHIPPING_COUNTRIES


class TaxRate(models.Model):
    """A country's (or one of its regions') rate for a tax class, in percent. A region's rate
    (a US state, a Canadian province: the address's `region`, as the shopper writes it, e.g.
    "NY") replaces the country's for addresses there; no row at all means no tax."""

    country = models.CharField(max_length=2, choices=SHIPPING_COUNTRIES)
    region = models.CharField(max_length=100, blank=True, help_text="Empty: the whole country.")
    tax_class = models.CharField(max_length=10, choices=TaxClass.choices, default=TaxClass.STANDARD)
    rate = models.DecimalField(max_digits=6, decimal_places=3, help_text="Percent, e.g. 20 or 8.875.")
    name = models.CharField(max_length=40, default="VAT", help_text='What shoppers read: "VAT", "Sales tax", "GST".')

    class Meta:
        ordering = ["country", "region", "tax_class"]
        constraints = [
            models.UniqueConstraint(fields=["country", "region", "tax_class"], name="taxrate_once"),
            models.CheckConstraint(condition=models.Q(rate__gte=0) & models.Q(rate__lt=100), name="taxrate_percent"),
        ]

    def __str__(self):
        where = f"{self.country}-{self.region}" if self.region else self.country
        return f"{where} {self.tax_class}: {self.rate}% {self.name}"
