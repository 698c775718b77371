from django.contrib import admin
from django.utils.html import format_html

from catalog import images
from catalog.models import Category, Product, ProductImage


class ProductImageInline(admin.TabularInline):
    """The product's pictures, in the order the shop shows them (lowest position first; the
    first is its picture on cards and in the cart). Thumbnails are made when a picture is saved."""

    model = ProductImage
    extra = 1
    fields = ["preview", "image", "alt_text", "position"]
    readonly_fields = ["preview"]
    ordering = ["position", "id"]

    @admin.display(description="thumbnail")
    def preview(self, obj):
        sets = images.srcsets(obj.renditions) if obj and obj.pk else None
        if not sets:
            return "made when saved" if not (obj and obj.pk) else "none yet (see the log)"
        return format_html('<img src="{}" alt="" width="96" height="96" style="object-fit: cover">', sets["src"])


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position"]
    list_editable = ["position"]
    list_filter = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "unit_price", "currency", "weight_grams", "tax_class", "active"]
    list_filter = ["active", "category", "currency", "tax_class"]
    search_fields = ["sku", "name"]
    list_select_related = ["category"]
    inlines = [ProductImageInline]  # and each warehouse's stock (inventory/admin.py)
