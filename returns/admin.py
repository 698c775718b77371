"""Returns in the admin: ops approve or reject a request, then mark the goods received (which
restocks them and refunds the lines' share, once). Each is an action calling returns.services,
gated by its permission; nothing about a return is edited by hand. The order's page lists its
returns too: orders/ knows nothing of returns, so this app adds its inline to the order admin."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from catalog.money import format_money
from harbor.admin_mixins import ReadOnlyAdminMixin
from orders.admin import OrderAdmin
from returns import services
from returns.models import Return, ReturnLine


class ReturnLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReturnLine
    fields = ["sku", "quantity", "amount_display"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="share")
    def amount_display(self, line):
        return format_money(line.amount, line.ret.order.currency)


class RejectForm(forms.Form):
    note = forms.CharField(label="Why (the shopper is told)", required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))


def refund_text(ret):
    if ret.refund_id:
        return f"{format_money(ret.refund.amount or 0, ret.order.currency)} {ret.refund.status}"
    return "—" if ret.status != Return.Status.RECEIVED else "nothing left to refund"


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "order_link", "status", "lines_display", "amount_display", "refund_display", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "order__id", "order__email", "lines__sku"]
    search_help_text = "Return id, order id, e-mail or SKU."
    list_select_related = ["order", "refund"]
    fields = ["id", "order_link", "status", "reason", "amount_display", "refund_display", "note", "created_at",
              "decided_by", "decided_at", "received_by", "received_at"]
    readonly_fields = fields
    inlines = [ReturnLineInline]
    actions = ["approve", "reject", "receive"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines")

    @admin.display(description="order", ordering="order__number")
    def order_link(self, ret):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[ret.order_id]),
                           ret.order.reference)

    @admin.display(description="lines")
    def lines_display(self, ret):
        return ret.lines_text()

    @admin.display(description="to refund", ordering="amount")
    def amount_display(self, ret):
        return format_money(ret.amount, ret.order.currency)

    @admin.display(description="refund")
    def refund_display(self, ret):
        return refund_text(ret)

    def has_decide_permission(self, request):
        return request.user.has_perm("returns.decide_return")

    def has_receive_permission(self, request):
        return request.user.has_perm("returns.receive_return")

    def _each(self, request, queryset, step, done, **kwargs):
        for ret in queryset.order_by("pk"):
            try:
                step(ret.pk, actor=request.user.get_username(), **kwargs)
            except services.ReturnRefused as exc:
                self.message_user(request, f"Return {ret.pk}: refused: {exc}.", messages.WARNING)
            else:
                self.message_user(request, f"Return {ret.pk} ({ret.order.reference}): {done}.", messages.SUCCESS)

    @admin.action(description="Approve selected returns (the shopper sends the goods)", permissions=["decide"])
    def approve(self, request, queryset):
        self._each(request, queryset, services.approve, "approved")

    @admin.action(description="Reject selected returns…", permissions=["decide"])
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._each(request, queryset, services.reject, "rejected", note=form.cleaned_data["note"])
            return None
        context = {**self.admin_site.each_context(request), "title": "Reject returns", "opts": self.model._meta,
                   "returns": queryset.select_related("order"), "form": form,
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
        return TemplateResponse(request, "admin/returns/return/reject.html", context)

    @admin.action(description="Goods received: restock and refund selected returns", permissions=["receive"])
    def receive(self, request, queryset):
        self._each(request, queryset, services.receive, "received, refund queued")


class ReturnInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Return
    fields = ["link", "status", "lines_display", "amount_display", "refund_display", "created_at"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "returns"

    @admin.display(description="return")
    def link(self, ret):
        return format_html('<a href="{}">Return {}</a>', reverse("admin:returns_return_change", args=[ret.pk]),
                           ret.pk)

    @admin.display(description="lines")
    def lines_display(self, ret):
        return ret.lines_text()

    @admin.display(description="to refund")
    def amount_display(self, ret):
        return format_money(ret.amount, ret.order.currency)

    @admin.display(description="refund")
    def refund_display(self, ret):
        return refund_text(ret)


OrderAdmin.inlines = [*OrderAdmin.inlines, ReturnInline]
