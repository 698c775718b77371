from django.db import models


class Return(models.Model):
    """A shopper sends back some units of a fulfilled order: requested (by the shopper, within
    RETURN_WINDOW_DAYS of fulfillment) → approved or rejected (ops) → received (ops: the goods
    are back, into the warehouses they came from, and the lines' share is refunded once)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved: send the goods back"
        REJECTED = "rejected", "Rejected"
        RECEIVED = "received", "Received"

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    reason = models.TextField(max_length=1000)
    # What the return gives back (minor units): the lines' share as estimated when requested;
    # when received, what was asked of the refund machinery (returns.services.receive).
    amount = models.PositiveIntegerField(default=0)
    # The refund made on receipt: one per return (the transition to received writes it).
    refund = models.OneToOneField("payments.Refund", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    note = models.TextField(blank=True, help_text="Staff's word to the shopper (why it was rejected).")
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    received_by = models.CharField(max_length=150, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("decide_return", "Can approve or reject a return"),
                       ("receive_return", "Can mark a return's goods received (refunds them)")]
        constraints = [models.CheckConstraint(condition=models.Q(status__in=["requested", "approved", "rejected",
                                                                            "received"]),
                                              name="return_status_valid")]

    def __str__(self):
        return f"Return {self.pk} of {self.order.reference}"

    def lines_text(self):
        return ", ".join(f"{line.quantity} × {line.sku}" for line in self.lines.all())


class ReturnLine(models.Model):
    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    amount = models.PositiveIntegerField(default=0, help_text="This line's share (minor units).")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["ret", "order_line"], name="returnline_once_per_line"),
                       models.CheckConstraint(condition=models.Q(quantity__gt=0), name="returnline_some_units")]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"
