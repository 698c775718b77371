from django import forms
from django.contrib import admin

from harbor.countries import SHIPPING_COUNTRIES
from shipping.models import ShippingMethod, ShippingZone, WeightBracket


class ZoneForm(forms.ModelForm):
    countries = forms.MultipleChoiceField(choices=SHIPPING_COUNTRIES, widget=forms.CheckboxSelectMultiple,
                                          help_text="The countries this zone's methods deliver to.")

    class Meta:
        model = ShippingZone
        fields = ["name", "countries"]


class MethodInline(admin.TabularInline):
    model = ShippingMethod
    extra = 0
    fields = ["code", "name", "price", "currency", "free_over", "min_days", "max_days", "position", "active"]
    show_change_link = True  # its weight brackets are on its own page


@admin.register(ShippingZone)
class ZoneAdmin(admin.ModelAdmin):
    form = ZoneForm
    list_display = ["name", "country_list", "method_count"]
    inlines = [MethodInline]

    @admin.display(description="countries")
    def country_list(self, zone):
        return ", ".join(zone.countries)

    @admin.display(description="methods")
    def method_count(self, zone):
        return zone.methods.count()


class BracketInline(admin.TabularInline):
    model = WeightBracket
    extra = 1


@admin.register(ShippingMethod)
class MethodAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "zone", "price", "currency", "free_over", "min_days", "max_days", "active"]
    list_filter = ["zone", "active"]
    search_fields = ["code", "name"]
    inlines = [BracketInline]
