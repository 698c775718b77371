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
    refund_requested_at = models.DateTimeField(null=True, blank=True, help_text="Set when staff ask for a refund.")
    refund_id = models.CharField(max_length=255, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Payment {self.payment_intent_id or '(no intent)'} {self.status}"


class WebhookEvent(models.Model):
    """A Stripe webhook event, stored by its Stripe id (unique) in the same transaction that
    applies it (payments.events): a redelivery of the same event finds the row and does nothing."""

    stripe_id = models.CharField(max_length=255, unique=True, help_text="The event's id at Stripe (evt_…).")
    type = models.CharField(max_length=100)
    payload = models.JSONField(help_text="The event as Stripe sent it.")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text="What the event did, or why it was ignored.")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.stripe_id}: {self.outcome}"
