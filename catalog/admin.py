from django.contrib import admin

from catalog.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "unit_price", "currency", "weight_grams", "tax_class", "active"]
    list_filter = ["active", "currency", "tax_class"]
    search_fields = ["sku", "name"]
