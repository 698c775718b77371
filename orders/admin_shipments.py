"""Parcels in the admin: every shipment with its warehouse, lines and status, and the two things
ops do to one: mark it shipped (with the carrier's tracking page, if they have it) and mark it
delivered. Both go through orders.shipping (conditional updates, an OrderEvent each), gated by
the `orders.ship_shipment` permission; nothing else about a shipment is edited by hand.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from harbor.admin_mixins import ReadOnlyAdminMixin
from orders import shipping
from orders.admin_label import label_link
from orders.models import Shipment

PERMISSION = "orders.ship_shipment"


class CarrierUrlForm(forms.Form):
    carrier_url = forms.URLField(label="Carrier tracking page", required=False, assume_scheme="https",
                                 help_text="Optional: the carrier's page for this parcel (https://…).")


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["tracking_number", "order_link", "warehouse", "status", "lines_display", "label_display",
                    "shipped_at", "delivered_at"]
    list_filter = ["status", "warehouse"]
    search_fields = ["tracking_number", "order__id", "order__email"]
    search_help_text = "Tracking number, order id or e-mail."
    list_select_related = ["order", "warehouse"]
    fields = ["tracking_number", "order_link", "warehouse", "status", "lines_display", "label_display",
              "carrier_link", "created_at", "label_created_at", "shipped_at", "delivered_at", "ship_links"]
    readonly_fields = fields
    actions = ["mark_shipped", "mark_delivered"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines")

    @admin.display(description="order", ordering="order__number")
    def order_link(self, shipment):
        order = shipment.order
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order.pk]),
                           order.reference)

    @admin.display(description="lines")
    def lines_display(self, shipment):
        return shipment.lines_text()

    @admin.display(description="label")
    def label_display(self, shipment):
        return label_link(shipment)

    @admin.display(description="carrier tracking")
    def carrier_link(self, shipment):
        if not shipment.carrier_url:
            return "—"
        return format_html('<a href="{0}" rel="noopener noreferrer" target="_blank">{0}</a>', shipment.carrier_url)

    @admin.display(description="do")
    def ship_links(self, shipment):
        """The page of one parcel offers what may happen to it next (to staff who may)."""
        if shipment.status == Shipment.Status.LABELED:
            return format_html('<a class="button" href="{}">Mark shipped…</a>',
                               reverse("admin:orders_shipment_ship", args=[shipment.pk]))
        if shipment.status == Shipment.Status.SHIPPED:
            return format_html('<a class="button" href="{}">Mark delivered…</a>',
                               reverse("admin:orders_shipment_deliver", args=[shipment.pk]))
        return "nothing: " + shipment.get_status_display().lower()

    def has_ship_permission(self, request):
        return request.user.has_perm(PERMISSION)

    @admin.action(description="Mark selected shipments shipped (their labels printed)…", permissions=["ship"])
    def mark_shipped(self, request, queryset):
        """An intermediate page: one optional carrier URL per parcel, then each is marked."""
        shipments = list(queryset.select_related("order", "warehouse"))
        forms_by_id = {s.pk: CarrierUrlForm(request.POST if "apply" in request.POST else None, prefix=f"s{s.pk}")
                       for s in shipments}
        if "apply" in request.POST and all(form.is_valid() for form in forms_by_id.values()):
            for shipment in shipments:
                self._do(request, shipment, shipping.mark_shipped,
                         carrier_url=forms_by_id[shipment.pk].cleaned_data["carrier_url"])
            return None
        context = {**self.admin_site.each_context(request), "title": "Mark shipments shipped",
                   "opts": self.model._meta, "rows": [(s, forms_by_id[s.pk]) for s in shipments],
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
        return TemplateResponse(request, "admin/orders/shipment/mark_shipped.html", context)

    @admin.action(description="Mark selected shipments delivered", permissions=["ship"])
    def mark_delivered(self, request, queryset):
        for shipment in queryset.select_related("order"):
            self._do(request, shipment, shipping.mark_delivered)

    def _do(self, request, shipment, mark, **kwargs):
        try:
            outcome = mark(shipment, actor=request.user.get_username(), **kwargs)
        except shipping.ShipmentRefused as exc:
            self.message_user(request, f"{shipment.tracking_number}: refused: {exc}.", messages.WARNING)
        else:
            self.message_user(request, f"{shipment.tracking_number} ({shipment.order.reference}): {outcome}.",
                              messages.SUCCESS)

    def one_view(self, request, object_id, action):
        """The buttons on one parcel's page: the same actions, for that parcel only."""
        if not self.has_ship_permission(request):
            raise PermissionDenied
        queryset = Shipment.objects.filter(pk=object_id)
        if request.method == "POST" or action == "mark_delivered":
            if request.method != "POST":
                context = {**self.admin_site.each_context(request), "title": "Mark shipment delivered",
                           "opts": self.model._meta, "shipment": queryset.first()}
                return TemplateResponse(request, "admin/orders/shipment/mark_delivered.html", context)
            response = getattr(self, action)(request, queryset)
            if response is not None:
                return response
            return redirect(reverse("admin:orders_shipment_change", args=[object_id]))
        return self.mark_shipped(request, queryset)

    def get_urls(self):
        def view(action):
            return self.admin_site.admin_view(lambda request, object_id: self.one_view(request, object_id, action))

        return [path("<int:object_id>/ship/", view("mark_shipped"), name="orders_shipment_ship"),
                path("<int:object_id>/deliver/", view("mark_delivered"), name="orders_shipment_deliver"),
                *super().get_urls()]
