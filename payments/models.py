from django.db import models


class Payment(models.Model):
    """The one payment of an order (unique), and where it stands at Stripe.

    Each Stripe object id is saved before the next step uses it, so a retry after a
    crash continues from what Stripe already has instead of starting over.
    """

    class Status(models.TextChoices):
        PENDING = "pending"  # being set up or confirmed
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REQUIRES_ACTION = "requires_action"
        REFUNDED = "refunded"

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="payment")
    amount = models.PositiveIntegerField(help_text="Minor units, copied from the order.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    customer_id = models.CharField(max_length=255, blank=True)
    payment_method_id = models.CharField(max_length=255, blank=True, help_text="As attached to the customer.")
    payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    refund_id = models.CharField(max_length=255, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Payment {self.payment_intent_id or '(no intent)'} {self.status}"
