from django.contrib import admin

from catalog.models import Product, Stock


class StockInline(admin.StackedInline):
    """Ops change `received` (units put into stock); `available` follows by the same delta,
    so the stock audit's invariant (available = received - held) survives manual edits."""

    model = Stock
    can_delete = False
    fields = ["received", "available", "updated_at"]
    readonly_fields = ["available", "updated_at"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "unit_price", "currency", "active", "available"]
    list_filter = ["active", "currency"]
    search_fields = ["sku", "name"]
    inlines = [StockInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Stock:
            return super().save_formset(request, form, formset, change)
        for stock_form in formset.forms:
            if stock_form.has_changed() or not stock_form.instance.pk:
                save_stock(stock_form.instance, stock_form, bool(stock_form.instance.pk))

    @admin.display(description="available", ordering="stock__available")
    def available(self, obj):
        return obj.stock.available if hasattr(obj, "stock") else 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stock")


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ["product", "available", "updated_at"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product"]
    fields = ["product", "received", "available", "updated_at"]
    readonly_fields = ["product", "available", "updated_at"]

    def save_model(self, request, obj, form, change):
        save_stock(obj, form, change)


def save_stock(obj, form, change):
    """Apply a change of `received` to `available` atomically (F expression), not by overwrite."""
    from django.db.models import F

    if not change:
        obj.available = obj.received
        obj.save()
        return
    delta = obj.received - form.initial.get("received", obj.received)
    Stock.objects.filter(pk=obj.pk).update(received=obj.received, available=F("available") + delta)
