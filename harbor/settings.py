"""Harbor settings: everything that varies between machines comes from the environment.

The variables are listed in ../shared/CONTRACT.md and the README. `make run` and
`make test` set DATABASE_URL / REDIS_URL / STRIPE_API_BASE to embedded servers when
they are not set (harbor/devservices).
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("HARBOR_VAR_DIR", default=str(BASE_DIR / "var")))

ENVIRONMENT = env.str("ENVIRONMENT", default="dev")
if ENVIRONMENT not in ("dev", "prod"):
    raise ImproperlyConfigured("ENVIRONMENT must be 'dev' or 'prod'")
IS_PROD = ENVIRONMENT == "prod"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if IS_PROD:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # no default: prod must set it
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-secret-key-do-not-deploy")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if IS_PROD else ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "django_celery_results",
    "catalog",
    "orders",
    "payments",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "harbor.urls"
WSGI_APPLICATION = "harbor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "harbor" / "templates"],  # admin/index.html: the ops panel
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------

if "DATABASE_URL" not in os.environ:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test` (they start an embedded "
        "PostgreSQL), or `. var/devservices.env` while `make run` is up, or set it yourself."
    )
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- Auth, i18n, static ------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

# The checkout body limit (issue: "a body over 64 KiB refused"); Django's own limit
# guards form posts, the API's JSON parser enforces the same number (harbor/api.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

# --- API ---------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["harbor.api.LimitedJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "harbor.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Harbor API",
    "DESCRIPTION": "Storefront and checkout API. Money is integer minor units with a lowercase ISO currency.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
}

# --- Stripe ------------------------------------------------------------------------------

STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="" if IS_PROD else "sk_test_harbor_dev")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="" if IS_PROD else "pk_test_harbor_dev")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="") or None  # None = real Stripe
STRIPE_TIMEOUT = env.int("STRIPE_TIMEOUT", default=20)  # seconds per request; < the soft time limit
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="" if IS_PROD else "whsec_harbor_dev")
# Webhook signatures older than this many seconds are refused (replay protection; must be > 0).
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)

# --- Celery ------------------------------------------------------------------------------
# Broker: CELERY_BROKER_URL, else RabbitMQ in prod, else the Redis of REDIS_URL.
if os.environ.get("CELERY_BROKER_URL"):
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
elif IS_PROD:
    CELERY_BROKER_URL = env.str("RABBITMQ_URL")
else:
    CELERY_BROKER_URL = REDIS_URL

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]  # a pickle message is refused, never executed
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Each queue on its own direct exchange and routing key: without them Celery binds every
# queue to the default exchange/key, and a message could match all three.
CELERY_TASK_QUEUES = [Queue(name, Exchange(name, type="direct"), routing_key=name)
                      for name in ("payments", "fulfillment", "notifications")]
# Anything without a route (e.g. Celery's own housekeeping) lands on a queue that a
# worker consumes rather than on the unconsumed default "celery" queue.
CELERY_TASK_DEFAULT_QUEUE = "fulfillment"
CELERY_TASK_ROUTES = {
    "orders.tasks.fulfill_order": {"queue": "payments"},
    "orders.tasks.create_label": {"queue": "fulfillment"},
    "payments.tasks.refund_order": {"queue": "payments"},
    "notifications.tasks.*": {"queue": "notifications"},
}
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged when done, so a crash redelivers it
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a payment waits in the broker, not behind a busy child

# Timing rule: a run is killed (time limit) before its order lock can expire, and the
# lock expires before the broker would redeliver the unacknowledged message; a retry's
# countdown is shorter than the visibility timeout, or Redis would redeliver the waiting
# retry as well. Checked below and by tests/test_settings.py.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=45)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60)
ORDER_LOCK_TTL = env.int("ORDER_LOCK_TTL", default=90)  # seconds
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=600)
TASK_RETRY_BACKOFF = env.int("TASK_RETRY_BACKOFF", default=2)  # first retry within ~2 s (full jitter)
TASK_RETRY_BACKOFF_MAX = env.int("TASK_RETRY_BACKOFF_MAX", default=120)
TASK_MAX_RETRIES = env.int("TASK_MAX_RETRIES", default=12)
if not (CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < ORDER_LOCK_TTL < CELERY_VISIBILITY_TIMEOUT
        and TASK_RETRY_BACKOFF_MAX < CELERY_VISIBILITY_TIMEOUT):
    raise ImproperlyConfigured(
        "Need soft time limit < CELERY_TASK_TIME_LIMIT < ORDER_LOCK_TTL < CELERY_VISIBILITY_TIMEOUT "
        "and TASK_RETRY_BACKOFF_MAX < CELERY_VISIBILITY_TIMEOUT"
    )
# Publishing happens in the request (after commit): keep a broker outage short for the
# shopper. A failed publish is logged and recovered later, never surfaced as a 500.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env.int("CELERY_PUBLISH_MAX_RETRIES", default=2),
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,  # Redis: redeliver unacked after this
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}

# --- Reliability ------------------------------------------------------------------------
# fulfill_order runs (retries and redeliveries included) allowed per order before it goes to
# needs_review: the cap that stops a task that kills its worker every time (celery#9082).
FULFILL_MAX_ATTEMPTS = env.int("FULFILL_MAX_ATTEMPTS", default=20)
RECONCILE_AFTER = env.int("RECONCILE_AFTER", default=120)  # seconds an order may sit pending/paid
RECONCILE_INTERVAL = env.int("RECONCILE_INTERVAL", default=300)  # used by setup_periodic_tasks
FAILPOINTS = env.bool("HARBOR_FAILPOINTS", default=False)  # test-only fault injection (harbor/failpoints.py)
if FAILPOINTS and IS_PROD:
    raise ImproperlyConfigured("HARBOR_FAILPOINTS is for tests; it must not be set with ENVIRONMENT=prod")

# --- E-mail and shipping ---------------------------------------------------------------
# EMAIL_URL like smtp://user:pass@host:587 (django-environ); without it, dev writes each
# message as a file under var/mail/ for a developer to open.
if os.environ.get("EMAIL_URL"):
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Harbor <orders@harbor.example>")
SHIP_FROM = {"name": "Harbor Fulfillment", "line1": "1 Quay Street", "line2": "Unit 4",
             "city": "Portsmouth", "postal_code": "PO1 2AB", "country": "GB"}

# --- Logging -----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if IS_PROD:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
