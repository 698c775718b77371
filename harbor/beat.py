"""Celery Beat on two hosts: django-celery-beat's DatabaseScheduler behind a lease.

Beat may run on two hosts (or more). Each runs `celery -A harbor beat -S django`; only the
one holding the lease in Redis (harbor/lease.py) sends, and it renews the lease every
BEAT_LEASE_TTL/3. The others poll at that pace and send nothing. When the holder's host is
lost, its lease expires within BEAT_LEASE_TTL and a standby takes it at its next poll: Beat
sends again within TTL + TTL/3 of the loss (40 s with the default 30 s).

`-S django` names django-celery-beat's scheduler (its `celery.beat_schedulers` entry point);
harbor.celery's Beat resolves that name to LeasedScheduler, so the contract's command line
runs this class (as does plain `celery -A harbor beat`, through CELERY_BEAT_SCHEDULER).

This module imports django-celery-beat's models: Celery imports it by name once Django is set up.
"""

import logging

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

from harbor.lease import Lease

logger = logging.getLogger("harbor.beat")



class LeasedScheduler(DatabaseScheduler):
    """Sends the periodic tasks only while it holds the Beat lease."""

    def __init__(self, *args, **kwargs):
        self.lease = Lease(settings.REDIS_URL, settings.BEAT_LEASE_KEY, settings.BEAT_LEASE_TTL)
        super().__init__(*args, **kwargs)
        # What was sent is written back (last_run_at) at every renewal rather than every 3
        # minutes: a standby that takes over reads the schedule from the database, so the
        # fresher it is, the fewer tasks it sends again that the lost holder had just sent.
        self.sync_every = self.lease.renew_interval

    def tick(self, *args, **kwargs):
        was_holding = self.lease.held
        if not self.lease.hold():
            if was_holding:
                self.sync()  # record what this Beat sent while it held the lease (DB errors are logged)
            return self.lease.renew_interval  # a standby polls every TTL/3: takeover within TTL + TTL/3
        if not was_holding:
            # Taking over: the schedule in memory is as old as this process's last holding
            # (or its start); reread it from the database, where the last holder recorded
            # what it sent, before sending anything.
            self._initial_read, self._heap = True, None
        # Never sleep past the next renewal: the lease must be renewed before it is trusted no more.
        return min(super().tick(*args, **kwargs), self.lease.renew_interval)

    def close(self):
        super().close()
        self.lease.release()  # a clean stop hands over at the standby's next poll, not after TTL

    @property
    def info(self):
        return f"{super().info}\n    . lease -> {self.lease.key} (ttl {self.lease.ttl:g} s), {self.lease.token}"
