from django.apps import AppConfig

# The order events (orders/outbox.py) that are an e-mail to the shopper.
EVENTS = ("order.paid", "order.payment_failed", "order.canceled", "order.refunded",
          "return.requested", "return.approved", "return.rejected", "return.received")


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The e-mails learn of an order's changes from its events (the outbox), never by being
        # called from orders/: every e-mail inherits the outbox's no-loss guarantee.
        from orders import outbox

        outbox.subscribe("notifications.tasks.on_event", types=EVENTS)
