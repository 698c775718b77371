import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Func, Q, Value

from harbor.storage import label_storage

NUMBER_SEQUENCE = "orders_order_number_seq"


class NextNumber(Func):
    """nextval() of the order-number sequence: the database numbers each order as it is written,
    whoever writes it (the checkout's raw INSERT included), with no gap-free promise and no lock."""

    function = "nextval"
    output_field = models.BigIntegerField()

    def __init__(self):
        super().__init__(Value(NUMBER_SEQUENCE))


class OrderStatus(models.TextChoices):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"  # the shopper must authenticate the card (3-D Secure)
    PAID = "paid"
    FULFILLED = "fulfilled"  # charged, label created and receipt sent
    PAYMENT_FAILED = "payment_failed"
    CANCELED = "canceled"
    REFUNDED = "refunded"
    NEEDS_REVIEW = "needs_review"


# Groups of statuses that several modules ask about, named once here.
UNFINISHED = (OrderStatus.PENDING, OrderStatus.PAID)  # the pipeline still owes work
CHARGED = (OrderStatus.PAID, OrderStatus.FULFILLED)  # money taken and kept: ship, e-mail, refund
# Nothing more will happen to the order by itself or by the shopper (status pages stop polling).
FINAL = (OrderStatus.FULFILLED, OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELED, OrderStatus.REFUNDED)
# Awaiting the shopper's payment, with the stock held meanwhile (CHECKOUT_UNPAID_LIMIT counts them).
UNPAID = (OrderStatus.PENDING, OrderStatus.REQUIRES_ACTION)


class Order(models.Model):
    # The public id is a random UUID: order URLs (and label URLs) are capabilities,
    # so they must not be guessable or enumerable.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The short reference people read and type ("HB-10427": on the label, the e-mails, the
    # pages, in the admin's search). It opens nothing: the UUID stays the capability.
    number = models.BigIntegerField(unique=True, db_default=NextNumber(), editable=False)
    # Changed only through orders.state.transition(), never by assignment.
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING, db_index=True)
    email = models.EmailField()
    shipping_address = models.JSONField()
    payment_method = models.CharField(max_length=255)
    # The totals (orders/totals.py), minor units: total = subtotal − discount + shipping, plus tax
    # when prices exclude it. `total` is what Stripe charges.
    subtotal = models.PositiveIntegerField(default=0, db_default=0, help_text="Minor units: the lines.")
    discount = models.PositiveIntegerField(default=0, db_default=0)
    shipping = models.PositiveIntegerField(default=0, db_default=0)
    tax = models.PositiveIntegerField(default=0, db_default=0, help_text="Included in the prices, or added.")
    total = models.PositiveIntegerField(help_text="Minor units (cents): what is charged.")
    currency = models.CharField(max_length=3)
    prices_include_tax = models.BooleanField(default=True, db_default=True)
    tax_label = models.CharField(max_length=40, blank=True, default="", db_default="", help_text='"VAT", "Sales tax"')
    # The shipping method as chosen (its name and estimate as they were then).
    shipping_method = models.CharField(max_length=64, blank=True, default="", db_default="")
    shipping_method_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    shipping_min_days = models.PositiveSmallIntegerField(null=True, blank=True)
    shipping_max_days = models.PositiveSmallIntegerField(null=True, blank=True)
    discount_code = models.CharField(max_length=64, blank=True, default="", db_default="")
    # fulfill_order runs that died, timed out or failed unexpectedly; at settings.FULFILL_MAX_ATTEMPTS
    # the order goes to review. run_started_at marks a run in progress (orders.fulfillment.begin_run).
    attempts = models.PositiveIntegerField(default=0)
    run_started_at = models.DateTimeField(null=True, blank=True)
    # The order's units went back to stock (orders.stock.release_stock): at most once.
    stock_released = models.BooleanField(default=False)
    # Who placed it, as the checkout limits count clients (harbor.clientip.client_key: an IPv4
    # address or an IPv6 /64), kept only as a keyed hash: enough to count a client's unpaid
    # orders and failed payments, never an address in the database.
    client = models.CharField(max_length=64, blank=True, default="", db_default="")
    # The shopper's account, if any: set when a signed-in shopper places it, or later when an
    # account verifies the address a guest order was placed with (accounts/customers.py).
    # Deleting the account keeps the order (the merchant's books), detached.
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="orders")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=OrderStatus.values), name="order_status_valid"),
        ]
        indexes = [
            # CHECKOUT_UNPAID_LIMIT counts a client's orders awaiting payment: a small partial index.
            models.Index(fields=["client"], condition=Q(status__in=UNPAID), name="order_unpaid_by_client"),
        ]
        # Staff operations (orders/operations.py), granted to the `ops` group; admin actions check them.
        permissions = [
            ("retry_fulfillment", "Can retry an order's fulfillment"),
            ("cancel_order", "Can cancel a pending order"),
            ("refund_order", "Can request a refund of an order"),
            ("review_order", "Can mark an order in needs_review as reviewed"),
            ("export_order", "Can export orders to CSV"),
        ]

    def __str__(self):
        return f"Order {self.reference} ({self.status})"

    @property
    def reference(self):
        return reference(self.number)

    @property
    def shipment(self):
        """The first parcel (the API's `shipment`, kept for the clients that read one), or None."""
        shipments = list(self.shipments.all())  # the prefetched ones when there are
        return shipments[0] if shipments else None


def reference(number):
    return f"HB-{number}" if number else "HB-…"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_price = models.PositiveIntegerField(help_text="Price per unit at purchase, minor units.")
    discount = models.PositiveIntegerField(default=0, db_default=0, help_text="This line's share of the discount.")
    tax = models.PositiveIntegerField(default=0, db_default=0, help_text="Tax on the line after its discount.")
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=0, db_default=0, help_text="Percent.")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "product"], name="orderline_one_per_product")]

    def __str__(self):  # the title of the line's row in the order admin
        return f"{self.quantity} × {self.sku}"

    @property
    def line_total(self):
        return self.quantity * self.unit_price


class OrderEvent(models.Model):
    """The order's history: one row per status change (and other notable happenings)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    actor = models.CharField(max_length=150, default="system", help_text="'system', a task name or a staff user.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"])]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}: {self.message}"


class IdempotencyKey(models.Model):
    """A checkout's Idempotency-Key, claimed in the same transaction that writes the order.

    The primary key makes a concurrent duplicate wait for the first request's
    transaction, then see its order (or, if it rolled back, claim the key itself).
    """

    key = models.CharField(max_length=255, primary_key=True)
    request_hash = models.CharField(max_length=64)
    order = models.OneToOneField(Order, on_delete=models.CASCADE, null=True, related_name="idempotency_key")
    created_at = models.DateTimeField(auto_now_add=True)


class Shipment(models.Model):
    """One parcel of an order: what one warehouse sends (one per order and warehouse). It is
    created with its tracking number and lines when the order is paid, from what checkout took
    from that warehouse (inventory.Allocation); then it gets its label; then ops mark it
    shipped and delivered."""

    class Status(models.TextChoices):
        PENDING = "pending", "Preparing"  # the tracking number, the label to come
        LABELED = "labeled", "Label printed"
        SHIPPED = "shipped", "Shipped"  # handed to the carrier
        DELIVERED = "delivered", "Delivered"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    # The sender on the label; none for an order placed before there were warehouses.
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    tracking_number = models.CharField(max_length=32, unique=True)
    # In PostgreSQL by default, so any web host serves what any worker host rendered
    # (STORAGES["labels"], harbor/storage.py).
    label = models.FileField(upload_to="labels/", blank=True, storage=label_storage)
    label_created_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    carrier_url = models.URLField(blank=True, help_text="The carrier's tracking page, when ops give one.")
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "warehouse"], name="shipment_once_per_warehouse",
                                               nulls_distinct=False)]
        permissions = [("ship_shipment", "Can mark a shipment shipped or delivered")]

    def __str__(self):
        return f"Shipment {self.tracking_number}"

    def lines_text(self):
        """"2 × MUG-001, 1 × TEE-BLK": what is in the parcel."""
        return ", ".join(f"{line.quantity} × {line.sku}" for line in self.lines.all()) or "—"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["shipment", "product"], name="shipmentline_once")]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"


class OutboxEvent(models.Model):
    """A fact other parts must learn (an order paid, a parcel shipped): the transactional outbox.

    The row is written in the same transaction as the change it reports, so there is never an
    event for a change that rolled back, nor a change without its event. `pending` lists the
    consumers (Celery task names, registered by the apps above orders: orders/outbox.py) that
    have not yet said they handled it; a consumer removes itself when done, and reconciliation
    sends the event again to whoever is still listed (orders/outbox.py sweep). Consumers
    deduplicate by the event's id, so a second delivery repeats nothing.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=40)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="outbox_events")
    data = models.JSONField(default=dict)
    pending = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="Last sent again by the sweep.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["created_at"], name="outbox_undelivered",
                                condition=~Q(pending=[]))]

    def __str__(self):
        return f"{self.type} {self.event_id}"
