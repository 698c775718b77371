"""The order admin for ops staff.

Everything on an order is read-only here (status changes only through the state machine,
money never by hand); what staff may do to an order is the four actions, each calling
orders/operations.py with the staff user as the actor and gated by its own permission.
"""

import logging
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django_celery_results.models import TaskResult

from harbor.admin_mixins import ReadOnlyAdminMixin
from orders.ops import format_age
from catalog.money import format_money as money
from orders import operations, totals
from orders.addresses import address_lines
from orders.admin_inlines import (OrderEventInline, OrderLineInline, PaymentInline,
                                  ShipmentInline)
from orders.admin_export import export_csv
from orders.admin_label import label_view
from orders.admin_refund import refund_view
from orders.models import Order
from payments.models import Payment
# Registers the Periodic tasks admin (Harbor's own tasks only) in place of django-celery-beat's.
from orders import admin_schedules  # noqa: F401,E402
from orders import admin_shipments  # noqa: F401,E402  (the Shipments admin)

logger = logging.getLogger(__name__)


def _order_action(operation, permission, description, done):
    """An admin action running `operation` on each selected order, reporting each outcome."""

    def action(modeladmin, request, queryset):
        actor = request.user.get_username()
        for order in queryset.order_by("created_at"):
            try:
                outcome = operation(order, actor=actor)
            except operations.OperationRefused as exc:
                modeladmin.message_user(request, f"Order {order.pk}: refused: {exc}.", messages.WARNING)
            except Exception as exc:  # e.g. the broker is down: say so instead of a 500
                logger.exception("admin action %s on order %s failed", operation.__name__, order.pk)
                modeladmin.message_user(request, f"Order {order.pk}: failed: {type(exc).__name__}: {exc}",
                                        messages.ERROR)
            else:
                modeladmin.message_user(request, f"Order {order.pk}: {outcome or done}.", messages.SUCCESS)

    action.__name__ = operation.__name__
    return admin.action(description=description, permissions=[permission])(action)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Orders come from checkout only, are never deleted, and change only through the actions.
    list_display = ["reference", "email", "status", "total_display", "created_at", "age"]
    list_filter = ["status", "created_at"]
    date_hierarchy = "created_at"
    # Order id (or a part of it), e-mail, Stripe PaymentIntent id, tracking number.
    search_fields = ["id", "email", "payment__payment_intent_id", "shipments__tracking_number", "discount_code"]
    search_help_text = "Reference (HB-10427), order id, e-mail, PaymentIntent id (pi_…), tracking number or discount code."
    fieldsets = [
        (None, {"fields": ["reference", "id", "status", "email", "customer", "total_display", "breakdown_display",
                           "refunds_display", "attempts", "created_at", "updated_at", "age", "task_results"]}),
        ("Checkout details", {"fields": ["payment_method", "shipping_method_display", "shipping_address_lines"]}),
    ]
    readonly_fields = ["reference", "id", "status", "email", "customer", "total_display", "breakdown_display",
                       "refunds_display",
                       "attempts", "created_at", "updated_at", "age", "task_results", "payment_method",
                       "shipping_method_display", "shipping_address_lines"]
    inlines = [OrderLineInline, OrderEventInline, PaymentInline, ShipmentInline]  # + e-mails, returns (their apps)
    actions = [
        _order_action(operations.retry_fulfillment, "retry_fulfillment",
                      "Retry fulfillment of selected orders (pending, requires_action or paid)",
                      "fulfillment re-enqueued"),
        _order_action(operations.cancel, "cancel_order",
                      "Cancel selected orders (not charged; stock is released)", "canceled, stock released"),
        _order_action(operations.request_refund, "refund_order",
                      "Refund selected orders in full (charged; queued; for a part, open the order)", "refund queued"),
        _order_action(operations.mark_reviewed, "review_order",
                      "Retry selected orders from scratch (needs_review; fresh attempt budget)", "sent back"),
        export_csv,
    ]

    def has_export_permission(self, request):
        return request.user.has_perm("orders.export_order")  # the CSV holds every shopper's e-mail

    @admin.display(description="total", ordering="total")
    def total_display(self, order):
        return money(order.total, order.currency)

    @admin.display(description="reference", ordering="number")
    def reference(self, order):
        return order.reference

    @admin.display(description="totals")
    def breakdown_display(self, order):
        """Subtotal, discount, shipping, tax and total, as the shopper's receipt shows them."""
        return format_html('<table class="harbor-totals">{}</table>', format_html_join(
            "", '<tr class="{}"><th scope="row">{}</th><td>{}</td></tr>',
            ((row.kind, row.label, row.amount) for row in totals.breakdown(order))))

    @admin.display(description="shipping method")
    def shipping_method_display(self, order):
        if not order.shipping_method:
            return "—"
        estimate = totals.shipping_estimate(order)
        return f"{order.shipping_method_name} ({order.shipping_method}){', ' + estimate if estimate else ''}"

    def get_search_results(self, request, queryset, search_term):
        """"HB-10427" (or "10427") finds that order, besides the usual fields."""
        results, distinct = super().get_search_results(request, queryset, search_term)
        number = search_term.strip().upper().removeprefix("HB-")
        if number.isascii() and number.isdigit():
            results |= queryset.filter(number=int(number))
        return results, distinct

    @admin.display(description="refunds")
    def refunds_display(self, order):
        payment = Payment.objects.filter(order=order).first()
        rows = list(payment.refunds.all()) if payment else []
        link = (format_html(' <a href="{}">Refund…</a>', reverse("admin:orders_order_refund", args=[order.pk]))
                if payment and payment.status in ("succeeded", "refunded") else "")
        if not rows:
            return format_html("none{}", link)
        listed = format_html_join("", "<li>{} {} {} {}</li>", (
            (money(r.amount, payment.currency) if r.amount is not None else "all left", r.status, r.stripe_id or "",
             r.reason) for r in rows))
        return format_html("{} of {} refunded{}<ul>{}</ul>", money(payment.amount_refunded, payment.currency),
                           money(payment.amount, payment.currency), link, listed)

    def get_urls(self):
        refund = self.admin_site.admin_view(lambda request, object_id: refund_view(self, request, object_id))
        label = self.admin_site.admin_view(
            lambda request, object_id, shipment_id: label_view(self, request, object_id, shipment_id))
        return [path("<path:object_id>/refund/", refund, name="orders_order_refund"),
                path("<uuid:object_id>/label/<int:shipment_id>.pdf", label, name="orders_order_label"),
                *super().get_urls()]

    @admin.display(description="age", ordering="-created_at")
    def age(self, order):
        return format_age((timezone.now() - order.created_at).total_seconds())

    @admin.display(description="shipping address")
    def shipping_address_lines(self, order):
        """As it is printed on the label, one line each (orders/addresses.py)."""
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in address_lines(order.shipping_address)))

    @admin.display(description="Celery task results")
    def task_results(self, order):
        """A link to the TaskResult changelist searched for this order's id (it is every
        order task's first argument; the TaskResult admin searches task_args/task_kwargs)."""
        order_id = str(order.pk)
        url = reverse("admin:django_celery_results_taskresult_changelist") + "?" + urlencode({"q": order_id})
        count = TaskResult.objects.filter(Q(task_args__contains=order_id) | Q(task_kwargs__contains=order_id)).count()
        return format_html('<a href="{}">{} task result{} for this order</a>', url, count, "" if count == 1 else "s")

    # Checked by each action's `permissions=[...]` (custom permissions on Order).
    def has_retry_fulfillment_permission(self, request):
        return request.user.has_perm("orders.retry_fulfillment")

    def has_cancel_order_permission(self, request):
        return request.user.has_perm("orders.cancel_order")

    def has_refund_order_permission(self, request):
        return request.user.has_perm("orders.refund_order")

    def has_review_order_permission(self, request):
        return request.user.has_perm("orders.review_order")
