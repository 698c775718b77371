"""The Celery app: `celery -A harbor worker|beat` finds it here.

All configuration lives in Django settings under the CELERY_ prefix (harbor/settings.py).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbor.settings")

app = Celery("harbor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
