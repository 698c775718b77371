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
    root = tempfile.mkdtemp(prefix="harbor-test-")
    os.environ.setdefault("HARBOR_VAR_DIR", os.path.join(root, "var"))
    services = DevServices(root, durable=False)
    os.environ.update(services.start())

    def cleanup():
        services.stop()
        shutil.rmtree(root, ignore_errors=True)

    early_config.add_cleanup(cleanup)
    return (yield)
