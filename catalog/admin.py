from django.contrib import admin

from catalog.models import Product, Stock


class StockInline(admin.StackedInline):
    model = Stock
    can_delete = False
    fields = ["available", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "unit_price", "currency", "active", "available"]
    list_filter = ["active", "currency"]
    search_fields = ["sku", "name"]
    inlines = [StockInline]

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
    readonly_fields = ["product"]
