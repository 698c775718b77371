"""Warehouses, the stock each holds, and what each order took from where.

Stock is per product per warehouse. Only inventory.stock changes `available`, and only with
conditional updates; the CHECK constraint makes a negative count impossible even for code
that forgets to. An Allocation records the units one order took from one warehouse: the
order's shipments are made from them (one per warehouse), its stock goes back to where it
came from, and the nightly audit counts them per warehouse.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from catalog.models import Product
from harbor.countries import SHIPPING_COUNTRIES


class Warehouse(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    # The label's sender: the address dict checkout uses for shoppers (name, line1, line2, city,
    # region, postal_code, country).
    address = models.JSONField(help_text="The sender printed on this warehouse's labels.")
    countries = ArrayField(models.CharField(max_length=2, choices=SHIPPING_COUNTRIES),
                           help_text="The countries it ships to.")
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower first, when several ship there.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self):
        return self.name


class Stock(models.Model):
    """Units of a product in a warehouse. available = received − units held by live orders
    (and not returned); the nightly audit (orders/stock.py) reports any drift from that."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stocks")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stocks")
    available = models.IntegerField(default=0)
    received = models.IntegerField(default=0, help_text="Every unit ever put into this warehouse's stock.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "stock"
        ordering = ["product", "warehouse"]
        constraints = [
            models.CheckConstraint(condition=models.Q(available__gte=0), name="inventory_stock_available_gte_0"),
            models.UniqueConstraint(fields=["product", "warehouse"], name="inventory_stock_once_per_warehouse"),
        ]

    def __str__(self):
        return f"{self.product.sku} @ {self.warehouse.code}: {self.available}"


class Allocation(models.Model):
    """Units of a product one order took from one warehouse at checkout. The order is named by
    its id: inventory sits below orders and learns of an order only what checkout tells it."""

    order_id = models.UUIDField(db_index=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="allocations")
    quantity = models.PositiveIntegerField()
    returned = models.PositiveIntegerField(default=0, help_text="Units that came back and went back into stock.")

    class Meta:
        ordering = ["order_id", "warehouse", "product"]
        constraints = [
            models.UniqueConstraint(fields=["order_id", "product", "warehouse"], name="allocation_once"),
            models.CheckConstraint(condition=models.Q(returned__lte=models.F("quantity")),
                                   name="allocation_returned_within"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_id} from {self.warehouse_id} for {self.order_id}"
