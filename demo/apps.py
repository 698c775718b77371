from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo shop's data (`manage.py seed_catalog`): products, shipping, tax, vouchers. It sits
    on top of the domain apps it fills, so none of them needs to know about it."""

    name = "demo"
    default_auto_field = "django.db.models.BigAutoField"
