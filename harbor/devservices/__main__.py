"""`python -m harbor.devservices run`: the whole shop on one machine (what `make run` does).

1. Start embedded PostgreSQL / Redis / localstripe under var/ for each URL not set (each on
   the port it had last time, kept in var/<service>/port), and write var/devservices.env.
2. Migrate, seed the demo catalog and Beat's schedule, collect static files, create the dev
   superuser admin/admin (never with ENVIRONMENT=prod): one line each.
3. Run the Procfile's processes (harbor.devservices.procfile) until Ctrl-C / SIGTERM; once
   the shop is ready, print the banner: URLs, login, test card, how to use another shell.
4. Stop what step 1 started, and say so.
"""

import argparse
import io
import logging
import os
import sys
import time
from pathlib import Path

from harbor.devservices import DevServices, procfile
from harbor.devservices.base import port_free

BASE_DIR = Path(__file__).resolve().parents[2]
logger = logging.getLogger("harbor.devservices")
# Celery warns in every worker, at length, when it runs as root. One line from us says it once.
ROOT_WARNING = "You're running the worker with superuser privileges"


def prepare_shop():
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    _quiet_logging()  # django.setup() configured logging: keep our lines short
    applied = _migrate()
    logger.info("database: %s", f"{applied} migrations applied" if applied else "up to date")
    out = io.StringIO()
    logger.info("demo catalog: seeding (the first start also draws its pictures: about half a minute)")
    call_command("seed_catalog", stdout=out)
    call_command("setup_periodic_tasks", stdout=out)
    call_command("collectstatic", interactive=False, verbosity=0)
    logger.info("demo catalog and Beat's periodic tasks: in place (seed_catalog, setup_periodic_tasks)")
    from django.conf import settings

    if not settings.IS_PROD:
        from django.contrib.auth import get_user_model

        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@localhost", "admin")
            logger.info("dev superuser admin / admin: created")
    connections.close_all()


def _migrate():
    """Apply the migrations quietly; return how many were applied."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    call_command("migrate", interactive=False, verbosity=0)
    return pending


def _quiet_logging():
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("devservices: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def env_file_text(started, venv_bin):
    lines = [
        "# Written by `make run` while the shop runs (removed when it stops). In another shell:",
        "#   . var/devservices.env",
        "# then `python manage.py ...` talks to the same servers, with this checkout's .venv.",
        *(f"export {k}={v}" for k, v in started.items()),
        f"export VIRTUAL_ENV={venv_bin.parent}",
        f'export PATH="{venv_bin}:$PATH"',
    ]
    return "\n".join(lines) + "\n"


def banner(port, env_file, dev_login, started):
    """What a newcomer needs, once the shop is ready: where to click, how to log in, which
    card to use, and how to reach the shop from another shell."""
    url = f"http://127.0.0.1:{port}"
    rule = "=" * 72
    shown_env_file = str(env_file.relative_to(BASE_DIR) if env_file.is_relative_to(BASE_DIR) else env_file)

    def ready(seconds):
        rows = [
            "",
            rule,
            f"  Harbor is ready ({seconds:.0f} s). Open {url}/",
            "",
            f"  Shop         {url}/",
            f"  Admin        {url}/admin/" + ("      login: admin / admin" if dev_login else ""),
            f"  API          {url}/api/products/   (schema: {url}/api/schema/)",
            f"  Health       {url}/healthz",
            "  Test card    4242 4242 4242 4242, any future expiry (MM YY), any CVC",
            "",
            f"  From another shell, in {BASE_DIR}:",
            f"    . {shown_env_file:<28}# these servers, and .venv/bin first on PATH",
            "    python manage.py harbor_status",
            *(["", "  Embedded servers (kept in var/, same ports next time):"] if started else []),
            *(f"    {name:<16}{value}" for name, value in started.items()),
            "",
            "  Ctrl-C stops everything; the data stays in var/.",
            rule,
            "",
        ]
        return "\n".join(rows)

    return ready


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run"])
    parser.parse_args()
    _quiet_logging()
    started_at = time.monotonic()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbor.settings")
    var = Path(os.environ.setdefault("HARBOR_VAR_DIR", str(BASE_DIR / "var")))
    port = int(os.environ.setdefault("PORT", "8000"))
    os.environ.setdefault("RECONCILE_INTERVAL", "60")  # dev: reconcile every minute
    bin_dir = Path(sys.executable).parent  # the venv's gunicorn and celery, for the Procfile's lines
    child_env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    if os.geteuid() == 0:
        logger.info("running as root: fine on a dev machine (the Docker image runs as an unprivileged user)")
        child_env["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"),
                                                             f"ignore:{ROOT_WARNING}"]))

    if not port_free(port):
        logger.error("port %s is taken (another make run?): stop that, or choose another port: PORT=%s make run",
                     port, port + 1)
        return 1

    services = DevServices(var, durable=True)
    env_file = var / "devservices.env"
    code = None
    try:
        started = services.start()
        os.environ.update(started)
        env_file.write_text(env_file_text(started, bin_dir))
        prepare_shop()
        names = ", ".join(procfile.read_procfile(BASE_DIR / "Procfile"))
        logger.info("starting %s (the Procfile); the URLs follow once the shop is ready", names)
        dev_login = os.environ.get("ENVIRONMENT") != "prod"
        code = procfile.run(BASE_DIR / "Procfile", port, BASE_DIR, banner(port, env_file, dev_login, started),
                            started_at, env=child_env)
        return code
    except KeyboardInterrupt:  # Ctrl-C before the shop's processes started
        code = 0
        return 0
    finally:
        env_file.unlink(missing_ok=True)
        services.stop()
        if code == 0:
            logger.info("Harbor stopped; the data stays in %s", var)
        elif code is not None:
            logger.info("Harbor stopped because a process exited (see above); the data stays in %s", var)


if __name__ == "__main__":
    sys.exit(main())
