from django.apps import AppConfig


class DiscountsConfig(AppConfig):
    name = "discounts"
    verbose_name = "Discount codes"
    default_auto_field = "django.db.models.BigAutoField"
