"""Warehouses and their stock in the admin. Ops change `received` (units put into a
warehouse's stock); `available` follows by the same delta, applied in one UPDATE, so the audit's
invariant (available = received − held) survives manual edits, and two admins editing at once
(or a sale meanwhile) lose nothing."""

from django import forms
from django.contrib import admin
from django.db.models import F
from django.utils import timezone

from catalog import cache
from catalog.admin import ProductAdmin
from catalog.models import Product
from harbor.countries import SHIPPING_COUNTRIES
from inventory.models import Stock, Warehouse


class StockForm(forms.ModelForm):
    """`received` plus, hidden, the value this admin saw when the page loaded: the change is
    that difference, so two admins editing the same stock at once both count."""

    received_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Stock
        fields = ["warehouse", "received"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_seen"].initial = self.instance.received
        if self.instance.pk:
            self.fields["warehouse"].disabled = True  # a row is one product in one warehouse

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


class StockInline(admin.TabularInline):
    model = Stock
    form = StockForm
    extra = 0
    can_delete = False
    fields = ["warehouse", "received", "received_seen", "available", "updated_at"]
    readonly_fields = ["available", "updated_at"]


admin.site.unregister(Product)


@admin.register(Product)
class ProductWithStockAdmin(ProductAdmin):
    """The catalog's product admin, with the product's stock in each warehouse."""

    list_display = [*ProductAdmin.list_display, "available"]
    inlines = [*ProductAdmin.inlines, StockInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Stock:
            return super().save_formset(request, form, formset, change)
        for stock_form in formset.forms:
            if not stock_form.has_changed() and not stock_form.instance.pk:
                continue  # an empty extra row
            # Not has_changed() for existing rows: that compares with the stored value, which
            # another admin may have moved to exactly what this one typed.
            if not stock_form.instance.pk or stock_form.delta():
                stock_form.instance.product = form.instance
                save_stock(stock_form.instance, stock_form, bool(stock_form.instance.pk))
        # What formset.save() would have left for the admin's change message (saved by delta above).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.display(description="available (all warehouses)")
    def available(self, product):
        return sum(stock.available for stock in product.stocks.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("stocks")


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ["product", "warehouse", "available", "received", "updated_at"]
    list_filter = ["warehouse"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product", "warehouse"]
    form = StockForm
    fields = ["product", "warehouse", "received", "received_seen", "available", "updated_at"]
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


class WarehouseForm(forms.ModelForm):
    countries = forms.MultipleChoiceField(choices=SHIPPING_COUNTRIES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Warehouse
        fields = ["code", "name", "priority", "active", "address", "countries"]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    form = WarehouseForm
    list_display = ["code", "name", "priority", "active", "ships_to"]

    @admin.display(description="ships to")
    def ships_to(self, warehouse):
        return ", ".join(warehouse.countries)
