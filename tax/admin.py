from django.contrib import admin

from tax.models import TaxRate


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["country", "region", "tax_class", "rate", "name"]
    list_editable = ["rate", "name"]
    list_filter = ["country", "tax_class"]
    search_fields = ["country", "region", "name"]
