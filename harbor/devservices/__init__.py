"""Embedded dev services for `make run` and the test suite.

For each of DATABASE_URL, REDIS_URL and STRIPE_API_BASE that is unset, start a real
server under `root` (PostgreSQL, Redis, localstripe), wait until it answers, and return
the variables that point at it. Set variables are left alone: that server is used and
nothing is started. `stop()` stops what was started (or adopted), last started first.
"""

import atexit
import os
from pathlib import Path

from harbor.devservices.servers import ALL


class DevServices:
    def __init__(self, root, *, durable=True, environ=None):
        self.root = Path(root)
        self.durable = durable
        self.environ = os.environ if environ is None else environ
        self.running = []

    def missing(self):
        return [cls for cls in ALL if not self.environ.get(cls.env_var)]

    def start(self):
        """Start the missing services; return {env var: url} for them."""
        atexit.register(self.stop)
        found = {}
        try:
            for cls in self.missing():
                service = cls(self.root, durable=self.durable).start()
                self.running.append(service)
                found[cls.env_var] = service.url()
        except BaseException:
            self.stop()
            raise
        return found

    def stop(self):
        while self.running:
            self.running.pop().stop()
