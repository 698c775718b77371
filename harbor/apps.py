from django.apps import AppConfig


class HarborConfig(AppConfig):
    """The platform: its management commands (setup_rabbitmq) and its one table, the files kept
    in PostgreSQL (harbor/storage.py)."""

    name = "harbor"
