"""gunicorn's settings for Harbor: `gunicorn harbor.wsgi -c harbor/gunicorn.conf.py ...` (Procfile).

Metrics in multiprocess mode (harbor/metrics.py): every worker writes its counters to files
in PROMETHEUS_MULTIPROC_DIR and a scrape adds them up. The variable is set here, before
anything imports prometheus_client (which picks its value store at import), and only here:
Celery workers, beat and manage.py never have it, so they never write into the directory.
Default: $HARBOR_VAR_DIR/prometheus (var/prometheus). The directory is emptied when the
server starts (a stale file of an earlier run's pid would be added in), and a worker that
exits is marked dead: its live gauges go, its counters stay (totals must not drop).

Tracing (harbor/telemetry.py, only with OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_TRACES_EXPORTER)
starts in each worker after the fork: the span exporter's thread would not survive a fork,
and Django must be instrumented before the worker loads the app and builds its middleware.
Command-line options (--bind, --workers, ...) override anything set here.
"""

import os
from pathlib import Path

_base_dir = Path(__file__).resolve().parent.parent
_var_dir = Path(os.environ.get("HARBOR_VAR_DIR") or _base_dir / "var")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var_dir / "prometheus"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbor.settings")

from prometheus_client import multiprocess  # noqa: E402  (after PROMETHEUS_MULTIPROC_DIR is set)


def on_starting(server):
    """In the master, before any worker: an empty metrics directory."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    server.log.info("Prometheus multiprocess directory: %s", directory)


def post_fork(server, worker):
    from harbor import telemetry

    if telemetry.setup("harbor-web"):
        server.log.info("Tracing on in worker %s", worker.pid)


def child_exit(server, worker):
    """In the master, when a worker exited (or was killed): its metric files count as dead."""
    multiprocess.mark_process_dead(worker.pid)
