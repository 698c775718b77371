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
    # The PaymentIntent's client secret while the shopper must authenticate (3-D Secure):
    # shown only on the order's own page and API, to whoever holds the order id.
    client_secret = models.CharField(max_length=255, blank=True)
    # The card's fingerprint at Stripe (the same for one card number whatever the shopper or
    # client): card testing is also counted per card (payments/card_testing.py).
    card_fingerprint = models.CharField(max_length=64, blank=True)
    # When Stripe confirmed the intent canceled: a payment recorded `failed` whose intent is
    # not canceled yet could still be confirmed by whoever holds its client secret, so Harbor
    # cancels it (payments.charge.void) and reconciliation keeps trying until Stripe says so.
    intent_canceled_at = models.DateTimeField(null=True, blank=True)
    # Money returned so far: the sum of the order's refunds that have not failed at Stripe.
    amount_refunded = models.PositiveIntegerField(default=0, help_text="Minor units.")
    refunded_at = models.DateTimeField(null=True, blank=True, help_text="When the whole amount was back.")
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Payment {self.payment_intent_id or '(no intent)'} {self.status}"


class Refund(models.Model):
    """One refund of an order's payment: asked for in Harbor (staff, a command), or found at
    Stripe (made in its dashboard) and adopted. The Stripe refund id is unique, so a refund is
    recorded once however often it is seen (our task, a retry, a webhook)."""

    class Status(models.TextChoices):
        REQUESTED = "requested"  # to be made at Stripe by the refund_order task
        PENDING = "pending"  # made; Stripe has not finished it
        SUCCEEDED = "succeeded"
        FAILED = "failed"  # refused by Stripe, failed later, or given up after REFUND_MAX_ATTEMPTS
        CANCELED = "canceled"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # None while requested for "whatever is left": fixed from Stripe's figures when it is made.
    amount = models.PositiveIntegerField(null=True, blank=True, help_text="Minor units.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    stripe_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    reason = models.TextField(blank=True)
    restock = models.BooleanField(default=False, help_text="The goods came back: put them back in stock.")
    requested_by = models.CharField(max_length=150, blank=True, help_text="Staff user, command, or 'stripe'.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The status the order was last brought in line with (orders.refunds.settle), so each
    # change of a refund moves the order, and writes its event, once.
    applied = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Refund {self.stripe_id or '(not made yet)'} {self.status}"

    @property
    def counts(self):
        """Does it take money back (or will it)? Failed and canceled refunds do not."""
        return self.status in (self.Status.REQUESTED, self.Status.PENDING, self.Status.SUCCEEDED)


class WebhookEvent(models.Model):
    """A Stripe webhook event, stored by its Stripe id (unique) in the same transaction that
    applies it (orders.webhooks): a redelivery of the same event finds the row and does nothing."""

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
