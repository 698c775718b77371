from django.contrib import admin

from accounts.models import Address


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    """Shoppers' saved addresses (kept from their orders; deleted with the account)."""

    list_display = ["user", "name", "city", "country", "last_used_at"]
    search_fields = ["user__email", "name", "city", "postal_code"]
    list_select_related = ["user"]
    readonly_fields = ["last_used_at", "created_at"]
