"""Webhooks in the admin: ops add and edit subscribers (the URL checked against SSRF when saved);
the delivery log is read-only, with a "Redeliver" action."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from harbor.admin_mixins import ReadOnlyAdminMixin
from orders.outbox import PUBLIC_TYPES
from webhooks import services, ssrf
from webhooks.models import Attempt, Delivery, Subscriber

EVENT_CHOICES = [("*", "all events"), *((t, t) for t in PUBLIC_TYPES)]


class SubscriberForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https",
                         help_text="Where events are POSTed. In production: https, public addresses only.")
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple,
                                       help_text="The event types sent to this URL.")
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), max_length=200,
                             help_text="Shared with the receiver, which checks each delivery's Harbor-Signature.")

    class Meta:
        model = Subscriber
        fields = ["url", "secret", "events", "active", "description"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            ssrf.check(url)
        except ssrf.Refused as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean_events(self):
        events = self.cleaned_data["events"]
        return ["*"] if "*" in events else events


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    form = SubscriberForm
    list_display = ["url", "events_display", "active", "failing_since", "disabled_at", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["last_sequence", "failing_since", "disabled_at", "disabled_reason", "created_at"]

    @admin.display(description="events")
    def events_display(self, subscriber):
        return "all" if "*" in subscriber.events else ", ".join(subscriber.events)

    def save_model(self, request, obj, form, change):
        if obj.active:  # enabled again by hand: the failure clock starts over
            obj.failing_since, obj.disabled_at, obj.disabled_reason = None, None, ""
        super().save_model(request, obj, form, change)


class AttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Attempt
    fields = ["number", "started_at", "status_code", "latency_ms", "error"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "attempts"


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sequence", "event_type", "order_link", "subscriber", "status", "attempts", "last_status_code",
                    "next_attempt_at", "delivered_at"]
    list_filter = ["status", "subscriber", "event__type"]
    search_fields = ["order_id", "event__event_id"]
    search_help_text = "Order id or event id."
    list_select_related = ["subscriber", "event"]
    fields = ["subscriber", "event_type", "event_id", "order_link", "sequence", "status", "attempts",
              "next_attempt_at", "delivered_at", "last_status_code", "last_error", "payload"]
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["redeliver"]

    @admin.display(description="event", ordering="event__type")
    def event_type(self, delivery):
        return delivery.event.type

    @admin.display(description="event id")
    def event_id(self, delivery):
        return delivery.event.event_id

    @admin.display(description="order")
    def order_link(self, delivery):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[delivery.order_id]),
                           delivery.order_id)

    @admin.display(description="body sent")
    def payload(self, delivery):
        return services.payload(delivery).decode()

    def has_redeliver_permission(self, request):
        return request.user.has_perm("webhooks.redeliver_delivery")

    @admin.action(description="Redeliver selected deliveries now", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        from webhooks.tasks import deliver

        ids = services.redeliver(list(queryset.values_list("pk", flat=True)))
        for delivery_id in ids:
            deliver.delay(delivery_id)
        self.message_user(request, f"{len(ids)} deliver{'y' if len(ids) == 1 else 'ies'} queued again "
                                   "(the receiver dedupes by event id).", messages.SUCCESS)
