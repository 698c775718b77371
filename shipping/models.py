"""Shipping zones (a set of countries) and their methods, priced in minor units.

A method's price for a cart (shipping.rates.quote): its weight bracket's price if it has
brackets (the lightest bracket that holds the cart's weight; heavier than every bracket: not
offered), else its price; nothing at all once the merchandise (after any discount) reaches
its free-over amount. A method with no currency is free in any currency (the shop's default
"Standard" method before ops price shipping); a priced one is offered for its currency only.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from harbor.countries import SHIPPING_COUNTRIES


class ShippingZone(models.Model):
    name = models.CharField(max_length=100, unique=True)
    countries = ArrayField(models.CharField(max_length=2, choices=SHIPPING_COUNTRIES),
                           help_text="The countries this zone's methods deliver to.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ShippingMethod(models.Model):
    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    # The API's id for it, stable across renames (POST /api/orders/ "shipping_method").
    code = models.SlugField(max_length=64, unique=True, help_text="Stable id clients send, e.g. uk-express.")
    name = models.CharField(max_length=100)
    price = models.PositiveIntegerField(default=0, help_text="Minor units of the currency (cents).")
    currency = models.CharField(max_length=3, blank=True,
                                help_text="Lowercase ISO 4217 code; empty: free in any currency.")
    free_over = models.PositiveIntegerField(
        null=True, blank=True, help_text="Free once the merchandise, after discounts, is at least this (minor units).")
    min_days = models.PositiveSmallIntegerField(default=3, help_text="Delivery estimate, business days.")
    max_days = models.PositiveSmallIntegerField(default=5)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among methods of the same price.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "price", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(max_days__gte=models.F("min_days")), name="shippingmethod_days"),
            models.CheckConstraint(condition=Q(currency="") | Q(currency__regex=r"^[a-z]{3}$"),
                                   name="shippingmethod_currency_iso"),
            models.CheckConstraint(condition=~Q(currency="") | Q(price=0), name="shippingmethod_free_any_currency"),
        ]

    def __str__(self):
        return f"{self.name} ({self.zone})"


class WeightBracket(models.Model):
    """The method's price for carts up to this weight (the lightest bracket that holds it)."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="brackets")
    max_weight_grams = models.PositiveIntegerField()
    price = models.PositiveIntegerField(help_text="Minor units of the method's currency.")

    class Meta:
        ordering = ["max_weight_grams"]
        constraints = [models.UniqueConstraint(fields=["method", "max_weight_grams"], name="bracket_once_per_weight")]

    def __str__(self):
        return f"up to {self.max_weight_grams} g"
