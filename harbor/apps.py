from django.apps import AppConfig


class HarborConfig(AppConfig):
    """The platform: installed only for its management commands (setup_rabbitmq)."""

    name = "harbor"
