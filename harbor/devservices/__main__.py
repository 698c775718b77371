"""`python -m harbor.devservices run`: the whole shop on one machine (what `make run` does).

1. Start embedded PostgreSQL / Redis / localstripe under var/ for each URL not set.
2. Migrate, seed the demo catalog, collect static files, create the dev superuser
   admin/admin (never with ENVIRONMENT=prod).
3. Run web + worker + beat under honcho (Procfile) until Ctrl-C / SIGTERM, then stop
   what step 1 started.
"""

import argparse
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from harbor.devservices import DevServices

BASE_DIR = Path(__file__).resolve().parents[2]


def prepare_shop():
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("migrate", interactive=False, verbosity=1)
    call_command("seed_catalog")
    call_command("setup_periodic_tasks")
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.conf import settings

    if not settings.IS_PROD:
        from django.contrib.auth import get_user_model

        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@localhost", "admin")
    connections.close_all()


def run_processes(port):
    """Run the Procfile under honcho; forward SIGINT/SIGTERM to it and wait for it."""
    bin_dir = Path(sys.executable).parent  # the venv's gunicorn, celery, honcho
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    child = subprocess.Popen([bin_dir / "honcho", "-f", BASE_DIR / "Procfile", "start", "--port", str(port)],
                             cwd=BASE_DIR)
    signals_seen = 0

    def forward(signum, frame):
        nonlocal signals_seen
        signals_seen += 1
        # A Ctrl-C reaches honcho directly too; it ignores the repeat. A second one
        # from the user means "now": kill it.
        child.send_signal(signal.SIGTERM if signals_seen == 1 else signal.SIGKILL)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    code = child.wait()
    return 0 if signals_seen else code  # asked to stop: a clean exit, not "Error 143"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run"])
    parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="devservices: %(message)s")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbor.settings")
    var = Path(os.environ.setdefault("HARBOR_VAR_DIR", str(BASE_DIR / "var")))
    port = int(os.environ.setdefault("PORT", "8000"))
    os.environ.setdefault("RECONCILE_INTERVAL", "60")  # dev: reconcile every minute

    services = DevServices(var, durable=True)
    env_file = var / "devservices.env"
    try:
        started = services.start()
        os.environ.update(started)
        env_file.write_text("".join(f"export {k}={v}\n" for k, v in started.items()))
        prepare_shop()
        admin_line = "" if os.environ.get("ENVIRONMENT") == "prod" else "  (dev login: admin / admin)"
        print(
            f"\nHarbor is starting:\n"
            f"  storefront http://127.0.0.1:{port}/\n"
            f"  shop API   http://127.0.0.1:{port}/api/products/\n"
            f"  health     http://127.0.0.1:{port}/healthz\n"
            f"  API schema http://127.0.0.1:{port}/api/schema/\n"
            f"  admin      http://127.0.0.1:{port}/admin/{admin_line}\n"
            + "".join(f"  {k}={v}\n" for k, v in started.items())
            + f"Other shells: `. {env_file}` to use these services. Ctrl-C stops everything.\n",
            flush=True,
        )
        return run_processes(port)
    finally:
        env_file.unlink(missing_ok=True)
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
