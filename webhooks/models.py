"""Outbound webhooks: who is told (Subscriber), what each is told (Delivery: one per event per
subscriber, numbered in the subscriber's sequence), and every try (Attempt: the delivery log)."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class Subscriber(models.Model):
    url = models.URLField(max_length=500, help_text="Where events are POSTed. In production: https, public addresses only.")
    secret = models.CharField(max_length=200, help_text="Shared with the receiver: signs every delivery (HMAC-SHA256).")
    # Event types (orders/outbox.py PUBLIC_TYPES), or ["*"] for all of them.
    events = ArrayField(models.CharField(max_length=40), default=list)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    # The last sequence number given to one of its deliveries (webhooks/services.py fan_out).
    last_sequence = models.BigIntegerField(default=0, editable=False)
    # Since when every try has failed (cleared by a success): WEBHOOK_DISABLE_AFTER of that disables it.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.url

    def wants(self, event_type):
        return "*" in self.events or event_type in self.events


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # not yet accepted by the receiver: tried again at next_attempt_at
        DELIVERED = "delivered"  # the receiver answered 2xx
        FAILED = "failed"  # still failing WEBHOOK_RETRY_FOR after it was created: given up (ops can redeliver)

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("orders.OutboxEvent", on_delete=models.CASCADE, related_name="+")
    order_id = models.UUIDField(db_index=True)  # the event's order: deliveries of one order go in sequence
    sequence = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A sender is on it until then (a lease, not a row lock: no network call holds a lock).
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "event"], name="delivery_once_per_event"),
            models.UniqueConstraint(fields=["subscriber", "sequence"], name="delivery_sequence_unique"),
        ]
        indexes = [models.Index(fields=["next_attempt_at"], name="delivery_due",
                                condition=Q(status="pending"))]
        permissions = [("redeliver_delivery", "Can send a webhook delivery again")]

    def __str__(self):
        return f"#{self.sequence} to {self.subscriber_id}"


class Attempt(models.Model):
    """One try of a delivery: what the receiver answered, and how fast."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"


class FannedOut(models.Model):
    """The events already turned into deliveries (fan_out is repeated safely by event id)."""

    event = models.OneToOneField("orders.OutboxEvent", on_delete=models.CASCADE, primary_key=True, related_name="+")
