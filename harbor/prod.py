"""What production refuses to start without (ENVIRONMENT=prod), in one place: the settings
check it, and the compose check (tests/test_compose.py) makes sure the stack sets it.

Production also refuses to run in test mode unless the deployment says it is staging
(STRIPE_TEST_MODE=1): a test key or a fake Stripe server would let card 4242… buy real goods,
and debug pages would show settings and tracebacks to anyone.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

REQUIRED = ("DJANGO_SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "ALLOWED_HOSTS")
BROKER = ("CELERY_BROKER_URL", "RABBITMQ_URL")  # either one
STRIPE_API_HOST = "api.stripe.com"
TRUE = ("1", "true", "yes", "on")


def test_mode(environ):
    """STRIPE_TEST_MODE as django-environ reads a boolean."""
    return environ.get("STRIPE_TEST_MODE", "").strip().lower() in TRUE


def check(environ):
    """ImproperlyConfigured naming every missing or empty variable production needs, and every
    test-mode setting it refuses without STRIPE_TEST_MODE=1."""
    missing = [name for name in REQUIRED if not environ.get(name, "").strip()]
    if not any(environ.get(name, "").strip() for name in BROKER):
        missing.append("RABBITMQ_URL (or CELERY_BROKER_URL)")
    if missing:
        raise ImproperlyConfigured(f"ENVIRONMENT=prod refuses to start without: {', '.join(missing)}")
    if test_mode(environ):
        return
    refused = []
    for name, prefix in (("STRIPE_SECRET_KEY", "sk_test_"), ("STRIPE_SECRET_KEY", "rk_test_"),
                         ("STRIPE_PUBLISHABLE_KEY", "pk_test_")):
        if environ.get(name, "").strip().startswith(prefix):
            refused.append(f"{name} is a test key ({prefix}…)")
    base = environ.get("STRIPE_API_BASE", "").strip()
    if base:
        parts = urlsplit(base)
        if parts.scheme != "https" or parts.hostname != STRIPE_API_HOST:
            refused.append(f"STRIPE_API_BASE={base} is not Stripe's API (https://{STRIPE_API_HOST})")
    if environ.get("DJANGO_DEBUG", "").strip().lower() in TRUE:
        refused.append("DJANGO_DEBUG is on")
    if refused:
        raise ImproperlyConfigured("ENVIRONMENT=prod refuses test mode: " + "; ".join(refused)
                                   + ". A staging deployment says so with STRIPE_TEST_MODE=1.")
