import os
import sys

# Prometheus's multiprocess directory belongs to gunicorn's workers (harbor/gunicorn.conf.py
# sets it). Any other process that inherited the variable (a Celery worker or beat, manage.py)
# drops it here, before prometheus_client is imported, so it never writes metric files there.
if "gunicorn" not in sys.modules:
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

# Importing the Celery app here makes `@shared_task` bind to it in every process.
from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
