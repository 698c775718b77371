from django import forms
from django.contrib import admin
from django.db.models import F
from django.utils import timezone

from django.utils.html import format_html

from catalog import cache, images
from catalog.models import Category, Product, ProductImage, Stock


class StockForm(forms.ModelForm):
    """`received` plus, hidden, the value this admin saw when the page loaded: the change is
    that difference, so two admins editing the same product at once both count."""

    received_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Stock
        fields = ["received"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_seen"].initial = self.instance.received

    def delta(self):
        seen = self.cleaned_data.get("received_seen")
        return self.cleaned_data["received"] - (self.fields["received_seen"].initial if seen is None else seen)

    def clean(self):
        data = super().clean()
        if self.instance.pk and "received" in data:
            available = Stock.objects.values_list("available", flat=True).get(pk=self.instance.pk)
            if available + self.delta() < 0:  # the CHECK constraint would refuse it anyway
                self.add_error("received", f"Only {available} units are available: received can go down by at "
                                           f"most that many.")
        return data


class StockInline(admin.StackedInline):
    """Ops change `received` (units put into stock); `available` follows by the same delta,
    so the stock audit's invariant (available = received - held) survives manual edits."""

    model = Stock
    form = StockForm
    can_delete = False
    fields = ["received", "received_seen", "available", "updated_at"]
    readonly_fields = ["available", "updated_at"]


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
    list_display = ["sku", "name", "category", "unit_price", "currency", "weight_grams", "tax_class", "active",
                    "available"]
    list_filter = ["active", "category", "currency", "tax_class"]
    search_fields = ["sku", "name"]
    list_select_related = ["category"]
    inlines = [ProductImageInline, StockInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Stock:
            return super().save_formset(request, form, formset, change)
        for stock_form in formset.forms:
            # Not has_changed(): that compares with the stored value, which another admin may
            # have moved to exactly what this one typed.
            if not stock_form.instance.pk or stock_form.delta():
                save_stock(stock_form.instance, stock_form, bool(stock_form.instance.pk))
        # What the admin's change message reads of a saved formset (formset.save() sets them;
        # this one saves through save_stock): without them, saving a product page was a 500.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

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
    form = StockForm
    fields = ["product", "received", "received_seen", "available", "updated_at"]
    readonly_fields = ["product", "available", "updated_at"]

    def save_model(self, request, obj, form, change):
        save_stock(obj, form, change)


def save_stock(obj, form, change):
    """Apply a change of `received` as the same delta to `received` and `available`, in one
    UPDATE with F expressions: neither is overwritten, so a concurrent edit or sale is kept."""
    if not change:
        obj.available = obj.received
        obj.save()
        return
    delta = form.delta()
    Stock.objects.filter(pk=obj.pk).update(received=F("received") + delta, available=F("available") + delta,
                                           updated_at=timezone.now())
    cache.changed()
    obj.refresh_from_db()  # for the admin's message and log: what is stored now
