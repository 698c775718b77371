from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from harbor import metrics
        from payments.metrics import CardTestingCollector, ChargesCollector

        metrics.register(ChargesCollector())
        metrics.register(CardTestingCollector())
