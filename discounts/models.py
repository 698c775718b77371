from django.db import models
from django.db.models import F, Q

from catalog.models import Product


class Voucher(models.Model):
    """A discount code. `uses` counts the redemptions that stand (a use is given back when its
    order ends without a charge); it only moves through discounts.vouchers, with conditional
    updates, so a limited voucher is redeemed exactly as often as it allows under any
    concurrency (the CHECK constraint backs that up, as for stock)."""

    class Kind(models.TextChoices):
        PERCENT = "percent", "Percent off"
        FIXED = "fixed", "Amount off"
        FREE_SHIPPING = "free_shipping", "Free shipping"

    code = models.CharField(max_length=64, unique=True, help_text="What shoppers type (any case), e.g. WELCOME10.")
    description = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERCENT)
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True,
                                  help_text="For percent off, e.g. 10.")
    amount = models.PositiveIntegerField(null=True, blank=True, help_text="For amount off: minor units (cents).")
    currency = models.CharField(max_length=3, blank=True, help_text="For amount off: the amount's currency.")
    min_subtotal = models.PositiveIntegerField(default=0, help_text="Minor units the eligible items must reach.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Uses in all; empty: no limit.")
    per_email_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Uses per e-mail address.")
    uses = models.PositiveIntegerField(default=0, editable=False)
    products = models.ManyToManyField(Product, blank=True, related_name="+",
                                      help_text="Only these products (none chosen: every product).")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(usage_limit__isnull=True) | Q(uses__lte=F("usage_limit")),
                                   name="voucher_uses_within_limit"),
            models.CheckConstraint(condition=~Q(kind="percent") | (Q(percent__gt=0) & Q(percent__lte=100)),
                                   name="voucher_percent_set"),
            models.CheckConstraint(condition=~Q(kind="fixed") | (Q(amount__gt=0) & Q(currency__regex=r"^[a-z]{3}$")),
                                   name="voucher_amount_set"),
            models.UniqueConstraint(models.functions.Upper("code"), name="voucher_code_any_case"),
        ]

    def __str__(self):
        return self.code


class Redemption(models.Model):
    """One use of a voucher by one order. The order is named by its id, not a foreign key:
    discounts sit below orders and learn of an order only what checkout tells them."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    order_id = models.UUIDField(unique=True)
    email = models.EmailField(help_text="Lowercased: per-e-mail limits count it.")
    amount = models.PositiveIntegerField(default=0, help_text="What it took off the order, minor units.")
    currency = models.CharField(max_length=3, default="usd")
    created_at = models.DateTimeField(auto_now_add=True)
    returned_at = models.DateTimeField(null=True, blank=True, help_text="The order ended without a charge.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["voucher", "email"])]

    def __str__(self):
        return f"{self.voucher} for order {self.order_id}"
