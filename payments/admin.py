from django.contrib import admin

from harbor.admin_mixins import ReadOnlyAdminMixin
from payments.models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Stripe events as received: read-only, for tracing what Stripe told us and what we did."""

    list_display = ["stripe_id", "type", "received_at", "processed_at", "outcome"]
    list_filter = ["type"]
    search_fields = ["stripe_id", "outcome"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
