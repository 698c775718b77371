from django.db import models


class Notification(models.Model):
    """One e-mail of one kind per order (per return, for a return's e-mails: unique): the row is claimed (`claimed_at`) before
    sending and stamped `sent_at` after, so a repeated task finds it sent and does nothing."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt"
        PAYMENT_FAILED = "payment_failed"
        REFUND = "refund"
        CANCELED = "canceled"
        # A return's steps: one e-mail per step per return (`ref` is the return's id).
        RETURN_REQUESTED = "return_requested"
        RETURN_APPROVED = "return_approved"
        RETURN_REJECTED = "return_rejected"
        RETURN_RECEIVED = "return_received"

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What within the order the e-mail is about, when an order can have several (a return's id).
    ref = models.CharField(max_length=40, blank=True, default="")
    to = models.EmailField()
    subject = models.CharField(max_length=200, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="A sender is on it (notifications.emails).")
    sent_at = models.DateTimeField(null=True, blank=True)
    # The mail server refused it for good (5xx: no such mailbox, recipient refused): not tried
    # again, by the task or by reconciliation; the admin shows it with the server's answer.
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "kind", "ref"], name="notification_once")]

    def __str__(self):
        state = "sent" if self.sent_at else "failed" if self.failed_at else "not sent"
        return f"{self.kind} to {self.to} ({state})"
