"""What production refuses to start without (ENVIRONMENT=prod), in one place: the settings
check it, and the compose check (tests/test_compose.py) makes sure the stack sets it."""

from django.core.exceptions import ImproperlyConfigured

REQUIRED = ("DJANGO_SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "ALLOWED_HOSTS")
BROKER = ("CELERY_BROKER_URL", "RABBITMQ_URL")  # either one


def check(environ):
    """ImproperlyConfigured naming every missing or empty variable production needs."""
    missing = [name for name in REQUIRED if not environ.get(name, "").strip()]
    if not any(environ.get(name, "").strip() for name in BROKER):
        missing.append("RABBITMQ_URL (or CELERY_BROKER_URL)")
    if missing:
        raise ImproperlyConfigured(f"ENVIRONMENT=prod refuses to start without: {', '.join(missing)}")
