from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # A consumer of the order's events (orders/outbox.py): orders/ never calls this app.
        from harbor import metrics
        from orders import outbox
        from webhooks import subscribers
        from webhooks.metrics import WebhooksCollector

        metrics.register(WebhooksCollector())

        outbox.subscribe("webhooks.tasks.on_event", types=outbox.PUBLIC_TYPES, wants=subscribers.anyone_wants)
