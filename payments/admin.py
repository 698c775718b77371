from django.contrib import admin

from payments.models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """Stripe events as received: read-only, for tracing what Stripe told us and what we did."""

    list_display = ["stripe_id", "type", "received_at", "processed_at", "outcome"]
    list_filter = ["type"]
    search_fields = ["stripe_id", "outcome"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
