"""pytest plugin (loaded with `-p` from pytest.ini): real services for the test suite.

It runs before pytest-django configures Django, so settings see the URLs. Services whose
URL is set in the environment are used as they are; the others are started in a fresh
temp dir, without fsync, and stopped when the session ends.
"""

import logging
import os
import shutil
import sys
import tempfile

import pytest

from harbor.devservices import DevServices


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Report on the real stderr: pytest's capture is closed by the time we stop them.
    logger = logging.getLogger("harbor.devservices")
    logger.addHandler(logging.StreamHandler(sys.__stderr__))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    # The suite's shops take orders from one address (127.0.0.1) by the thousand, card after
    # declined card: the per-client, per-card and shop-wide limits are off in this process and
    # every process it starts, unless a test turns one on (tests/test_throttling.py,
    # tests/test_card_testing.py) or the environment sets it.
    for limit in ("CHECKOUT_RATE_LIMIT", "CHECKOUT_UNPAID_LIMIT", "CHECKOUT_FAILED_PAYMENTS_LIMIT",
                  "CHECKOUT_FAILED_PAYMENTS_CARD_LIMIT", "CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT",
                  "CHECKOUT_CARD_SETUP_LIMIT", "SHOPPER_RETURN_LIMIT", "RETURN_REQUEST_LIMIT"):
        os.environ.setdefault(limit, "")
    root = tempfile.mkdtemp(prefix="harbor-test-")
    os.environ.setdefault("HARBOR_VAR_DIR", os.path.join(root, "var"))
    services = DevServices(root, durable=False)
    os.environ.update(services.start())

    def cleanup():
        services.stop()
        shutil.rmtree(root, ignore_errors=True)

    early_config.add_cleanup(cleanup)
    return (yield)
