from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from catalog.money import format_money
from discounts.models import Redemption, Voucher


class RedemptionInline(admin.TabularInline):
    """Each use and its order (read-only: uses move only through checkout and cancellations)."""

    model = Redemption
    extra = 0
    can_delete = False
    fields = ["order_link", "email", "amount_display", "created_at", "returned_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="order")
    def order_link(self, redemption):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[redemption.order_id]),
                           redemption.order_id)

    @admin.display(description="discount")
    def amount_display(self, redemption):
        return format_money(redemption.amount, redemption.currency)


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "value", "uses_display", "per_email_limit", "starts_at", "ends_at", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "description"]
    readonly_fields = ["uses", "created_at"]
    filter_horizontal = ["products"]
    inlines = [RedemptionInline]
    fieldsets = [
        (None, {"fields": ["code", "description", "active"]}),
        ("What it takes off", {"fields": ["kind", "percent", "amount", "currency", "min_subtotal", "products"]}),
        ("When and how often", {"fields": ["starts_at", "ends_at", "usage_limit", "per_email_limit", "uses",
                                           "created_at"]}),
    ]

    @admin.display(description="value")
    def value(self, voucher):
        if voucher.kind == Voucher.Kind.PERCENT:
            return f"{voucher.percent.normalize()}% off"
        if voucher.kind == Voucher.Kind.FIXED:
            return f"{format_money(voucher.amount, voucher.currency)} off"
        return "free shipping"

    @admin.display(description="uses", ordering="uses")
    def uses_display(self, voucher):
        return f"{voucher.uses} of {voucher.usage_limit}" if voucher.usage_limit is not None else str(voucher.uses)
