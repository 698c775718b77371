"""ENVIRONMENT=prod refuses to start unsafe, naming what is missing; configured, it passes
`manage.py check --deploy` with nothing to say."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

PROD = {
    "ENVIRONMENT": "prod",
    "DJANGO_SECRET_KEY": "x7Qe2v9LmT4pWz8KcR1nYb6HsD3fGj0AqUo5IiE-VtXlMkZrNyPa_Bw",
    "STRIPE_SECRET_KEY": "sk_live_not_a_real_key",
    "STRIPE_WEBHOOK_SECRET": "whsec_not_a_real_secret",
    "ALLOWED_HOSTS": "shop.example.com",
    "RABBITMQ_URL": "amqp://harbor:secret@rabbitmq:5672/harbor",
}


# The test session's own switches must not leak into a simulated deployment: the browser
# tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which `check --deploy` rightly rejects,
# and the session's localstripe is a fake Stripe, which production refuses.
TEST_ONLY = {"CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "STRIPE_API_BASE", "STRIPE_PUBLISHABLE_KEY",
             "STRIPE_TEST_MODE", "DJANGO_DEBUG"}


def django(*argv, **env):
    base = {k: v for k, v in os.environ.items() if k not in PROD and k not in TEST_ONLY}
    return subprocess.run([sys.executable, "manage.py", *argv], cwd=settings.BASE_DIR, capture_output=True,
                          text=True, env={**base, **{k: v for k, v in env.items() if v is not None}}, timeout=120)


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "ALLOWED_HOSTS",
                                     "RABBITMQ_URL"])
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_prod_refuses_to_start_without_each_required_variable(missing, how):
    result = django("check", **{**PROD, missing: None if how == "unset" else "  "})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_a_broker_url_of_its_own_satisfies_prod_too():
    result = django("check", **{**PROD, "RABBITMQ_URL": None, "CELERY_BROKER_URL": PROD["RABBITMQ_URL"]})

    assert result.returncode == 0, result.stderr


CLUSTER = ";".join(f"amqp://harbor:secret@rabbit{n}:5672/harbor" for n in (1, 2, 3))


def test_a_rabbitmq_cluster_is_a_list_of_its_nodes_urls():
    result = django("shell", "-c", "from django.conf import settings; print(settings.CELERY_BROKER_URL, "
                    "settings.BROKER_IS_AMQP, settings.CELERY_BROKER_HEARTBEAT)", **{**PROD, "RABBITMQ_URL": CLUSTER})

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [CLUSTER, "True", "10"]


@pytest.mark.parametrize("url", [CLUSTER + ";redis://redis:6379/0", CLUSTER + ";amqp://harbor:secret@rabbit4/other"])
def test_a_broker_list_that_is_not_one_cluster_refuses_to_start(url):
    result = django("check", **{**PROD, "RABBITMQ_URL": url})

    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr


@pytest.mark.parametrize("tolerance", ["0", "-5"])
def test_webhook_signatures_must_have_a_positive_tolerance(tolerance):
    result = django("check", STRIPE_WEBHOOK_TOLERANCE=tolerance)

    assert result.returncode != 0 and "STRIPE_WEBHOOK_TOLERANCE" in result.stderr


def test_check_deploy_is_clean_in_prod():
    result = django("check", "--deploy", "--fail-level", "WARNING", **PROD)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_dev_needs_none_of_it():
    assert django("check").returncode == 0


@pytest.mark.parametrize("setting,value,named", [
    ("STRIPE_SECRET_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "STRIPE_SECRET_KEY is a test key"),
    ("STRIPE_SECRET_KEY", "rk_test_restricted", "STRIPE_SECRET_KEY is a test key"),
    ("STRIPE_PUBLISHABLE_KEY", "pk_test_TYooMQauvdEDq54NiTphI7jx", "STRIPE_PUBLISHABLE_KEY is a test key"),
    ("STRIPE_API_BASE", "http://localstripe:8420", "is not Stripe's API"),
    ("STRIPE_API_BASE", "https://api.stripe.com.evil.example", "is not Stripe's API"),
    ("DJANGO_DEBUG", "1", "DJANGO_DEBUG is on"),
    ("DJANGO_DEBUG", "True", "DJANGO_DEBUG is on"),
])
def test_production_refuses_test_mode_unless_it_says_it_is_staging(setting, value, named):
    refused = django("check", **{**PROD, setting: value})
    staging = django("check", **{**PROD, setting: value, "STRIPE_TEST_MODE": "1"})

    assert refused.returncode != 0 and "refuses test mode" in refused.stderr and named in refused.stderr
    assert staging.returncode == 0, staging.stderr


def test_production_takes_live_keys_and_stripes_own_api_base():
    result = django("check", **{**PROD, "STRIPE_PUBLISHABLE_KEY": "pk_live_not_a_real_key",
                                "STRIPE_API_BASE": "https://api.stripe.com", "DJANGO_DEBUG": "0"})

    assert result.returncode == 0, result.stderr


def test_the_test_card_banner_shows_only_in_test_mode(client, settings, db):
    from tests.factories import ProductFactory

    ProductFactory(sku="MUG-001", unit_price=1800, stock__available=5)
    client.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})

    settings.STRIPE_TEST_MODE = True
    staging = client.get("/checkout/").content.decode()
    settings.STRIPE_TEST_MODE, settings.STRIPE_PUBLISHABLE_KEY = False, "pk_test_left_over"
    live = client.get("/checkout/").content.decode()

    assert "4242 4242 4242 4242" in staging
    assert "4242" not in live and "Test mode" not in live
