"""Read-only inlines of the order admin: what happened to an order, never a way to change it."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from harbor.admin_mixins import ReadOnlyAdminMixin
from catalog.money import format_money as money
from orders.admin_label import label_link
from orders.models import OrderEvent, OrderLine, Shipment
from payments.models import Payment


class ReadOnlyInline(ReadOnlyAdminMixin):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class OrderLineInline(ReadOnlyInline, admin.TabularInline):
    model = OrderLine
    fields = ["sku", "product", "quantity", "unit_price_display", "line_total_display"]

    @admin.display(description="unit price")
    def unit_price_display(self, line):
        return money(line.unit_price, line.order.currency)

    @admin.display(description="line total")
    def line_total_display(self, line):
        return money(line.line_total, line.order.currency)


class OrderEventInline(ReadOnlyInline, admin.TabularInline):
    model = OrderEvent
    fields = ["created_at", "from_status", "to_status", "actor", "message"]


class PaymentInline(ReadOnlyInline, admin.StackedInline):
    model = Payment
    fields = ["status", "amount_display", "refunded_display", "payment_intent_id", "customer_id", "payment_method_id",
              "refunded_at", "attempts", "last_error", "created_at", "updated_at"]

    @admin.display(description="amount")
    def amount_display(self, payment):
        return money(payment.amount, payment.currency)

    @admin.display(description="refunded")
    def refunded_display(self, payment):
        return money(payment.amount_refunded, payment.currency)


class ShipmentInline(ReadOnlyInline, admin.TabularInline):
    """Each parcel (one per warehouse); its own page marks it shipped or delivered."""
    model = Shipment
    fields = ["parcel", "warehouse", "status", "lines_display", "label_display", "shipped_at", "delivered_at"]
    verbose_name_plural = "parcels"

    @admin.display(description="tracking number")
    def parcel(self, shipment):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_shipment_change", args=[shipment.pk]),
                           shipment.tracking_number)

    @admin.display(description="lines")
    def lines_display(self, shipment):
        return shipment.lines_text()

    @admin.display(description="label")
    def label_display(self, shipment):
        return label_link(shipment)  # the admin's own view: MEDIA_URL is not served
