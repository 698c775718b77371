"""Browser tests: Playwright drives Debian's Chromium against a real shop.

The shop is real processes on the test database: gunicorn (the same server as production)
and the session's Celery worker, with PostgreSQL, Redis, localstripe (whose fake Stripe.js
the pages load) and the SMTP sink. Playwright cannot download a browser here, so it launches
/usr/bin/chromium, which `make test` installs; a missing browser fails the run, never skips it.
"""

import os
import shutil
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.realworker import Process, test_database_url

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # the Makefile exports it
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
# Playwright's sync API keeps an event loop in this thread; the ORM calls in these tests
# (arranging products, checking the outcome) are plain synchronous code all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            # As root, without a sandbox; and no calls home (this machine's network is closed).
            "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def live_shop(django_db_setup, tmp_path_factory, smtp_sink, site_url):
    """gunicorn serving the shop on the test database, static files collected. Its e-mails (the
    account's: verification, password reset) go to the session's SMTP sink, as the workers' do."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    port = int(site_url.rsplit(":", 1)[1])
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DJANGO_ALLOW_ASYNC_UNSAFE": "", "CHECKOUT_RATE_LIMIT": "",
           "EMAIL_URL": smtp_sink.url, "SITE_URL": site_url}
    args = [sys.executable, "-m", "gunicorn", "harbor.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--threads", "8", "--timeout", "30"]
    web = Process(args, env, tmp_path_factory.mktemp("web") / "web.log", "Booting worker").start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url + "/livez", timeout=2)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield url
    web.stop()


@pytest.fixture
def shop(live_shop, worker):
    """The base URL of a running shop (web + worker) whose data this test commits."""
    return live_shop


@pytest.fixture(scope="session")
def base_url(live_shop):
    return live_shop


@pytest.fixture
def screenshot(page):
    """screenshot("catalog") saves the page under var/screenshots/ (every run: look at them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name):
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return take


CHARGES = []  # (test, order id, status, succeeded charges at localstripe), for var/screenshots/charges.txt


@pytest.fixture(autouse=True)
def _count_charges_per_order(request, shop):
    """After each browser test (before its data is flushed): every order it made, with the
    succeeded charges localstripe holds for it."""
    yield
    from orders.models import Order
    from payments.audit import succeeded_charges_by_order

    charges = succeeded_charges_by_order()
    for order_id, status in Order.objects.values_list("pk", "status"):
        CHARGES.append((request.node.name, str(order_id), status, charges[str(order_id)]))


def pytest_sessionfinish(session):
    if CHARGES:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        rows = [f"{'test':<80} {'order':<36} {'status':<15} charges"]
        rows += [f"{test:<80} {order:<36} {status:<15} {n}" for test, order, status, n in CHARGES]
        (SCREENSHOTS / "charges.txt").write_text("\n".join(rows) + "\n")
