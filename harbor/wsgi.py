import os

from django.core.wsgi import get_wsgi_application

from harbor import telemetry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbor.settings")
# Before the handler builds its middleware, so Django's requests are traced. Under gunicorn
# the post_fork hook (harbor/gunicorn.conf.py) has done it already; this is for other servers.
telemetry.setup("harbor-web")
application = get_wsgi_application()
