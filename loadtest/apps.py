from django.apps import AppConfig


class LoadtestConfig(AppConfig):
    """Load tools (the soak, the benchmark), outside the domain apps: an app only so that
    `manage.py soak` and the benchmark's no-op Celery task are found."""

    name = "loadtest"
    default_auto_field = "django.db.models.BigAutoField"
