"""Harbor settings: everything that varies between machines comes from the environment.

The variables are listed in ../shared/CONTRACT.md and the README. `make run` and
`make test` set DATABASE_URL / REDIS_URL / STRIPE_API_BASE to embedded servers when
they are not set (harbor/devservices).
"""

import ipaddress
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from harbor import brokers, lease, logconfig, prod, ratelimit

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("HARBOR_VAR_DIR", default=str(BASE_DIR / "var")))

ENVIRONMENT = env.str("ENVIRONMENT", default="dev")
if ENVIRONMENT not in ("dev", "prod"):
    raise ImproperlyConfigured("ENVIRONMENT must be 'dev' or 'prod'")
IS_PROD = ENVIRONMENT == "prod"
if IS_PROD:
    prod.check(os.environ)  # missing secrets, hosts or broker: refuse to start, naming them

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-secret-key-do-not-deploy")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if IS_PROD else ["127.0.0.1", "localhost", "testserver"])
# https://shop.example.com: the origins whose forms may POST (behind TLS, Django checks the Origin).
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "allauth",  # shopper accounts (accounts/): sign-up with e-mail verification, log in, password reset
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "django_celery_results",
    "django_htmx",
    "django_structlog",
    "django_prometheus",
    "axes",  # the admin login's lock-out after failed attempts
    "harbor",  # the platform's own commands (setup_rabbitmq) and files in PostgreSQL (harbor/storage.py)
    "catalog",
    "inventory",  # warehouses, stock per warehouse, what each order took from where
    "shipping",  # pricing: shipping zones and methods, tax rates, discount codes
    "tax",
    "discounts",
    "orders",
    "payments",
    "notifications",
    "webhooks",  # the order's events POSTed, signed, to the warehouse's and the ERP's systems
    "returns",  # goods sent back: requested by the shopper, approved and received by ops, refunded
    "storefront",
    "accounts",  # the shopper's account: My orders, saved addresses, deleting the account
    "demo",  # the demo shop's data: manage.py seed_catalog
    "loadtest",  # load tools: manage.py soak, the benchmark's no-op task (never used by the shop itself)
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # first: times the whole request
    "django.middleware.security.SecurityMiddleware",
    "harbor.compression.HTMLGZipMiddleware",  # HTML pages compressed for browsers that ask (harbor/compression.py)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_structlog.middlewares.RequestMiddleware",  # request_id on every line of the request
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",  # answers a locked-out login with the lock-out page
    "django_prometheus.middleware.PrometheusAfterMiddleware",  # last: counts responses by view and status
]

ROOT_URLCONF = "harbor.urls"
WSGI_APPLICATION = "harbor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # orders/ overrides the admin's index (the ops panel), accounts/ django-allauth's layout and
        # form elements (the shop's look): searched before those apps' own templates.
        "DIRS": [BASE_DIR / "orders" / "templates", BASE_DIR / "accounts" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "storefront.context.cart",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's PostgreSQL backend (psycopg 3) with query counts, durations and errors for Prometheus.
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database that does not answer costs seconds, not a hung thread: bounded connects, and every
# statement (and every wait for a row lock) bounded too. That is what bounds a run of the
# payments worker, whose threads pool enforces no Celery time limit (the Stripe calls have their
# deadline, payments.gateway). `migrate` of a big table may need DB_STATEMENT_TIMEOUT=0 (none).
DB_OPTIONS = DATABASES["default"].setdefault("OPTIONS", {})
DB_OPTIONS.setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
DB_OPTIONS.setdefault("options", f"-c statement_timeout={env.int('DB_STATEMENT_TIMEOUT', default=30) * 1000} "
                                 f"-c lock_timeout={env.int('DB_LOCK_TIMEOUT', default=10) * 1000}")
# Statements run through harbor.db.prepared_cursor() (checkout's stock take) are prepared once
# per connection; Django's other cursors bind on the client and never prepare. "" turns it off
# (a pooler in transaction mode, such as PgBouncer before 1.21).
_prepare_threshold = env.str("DB_PREPARE_THRESHOLD", default="0").strip()
DB_OPTIONS.setdefault("prepare_threshold", int(_prepare_threshold) if _prepare_threshold else None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Django's own RedisCache, one redis-py client per pool, with django-prometheus's hit/miss
# counters (harbor/cache.py says why not django_prometheus.cache.backends.redis).
CACHES = {"default": {"BACKEND": "harbor.cache.RedisCache", "LOCATION": REDIS_URL}}

# --- Auth, i18n, static ------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lock-out (django-axes), for the admin and the shoppers' logins alike: AXES_FAILURE_LIMIT
# failed logins for one login name (a username, or a shopper's e-mail address: harbor/auth.py)
# from one client (harbor.clientip, as every other limit reads it) lock that pair out for
# AXES_COOLOFF_HOURS. Per name *and* client, so nobody can lock someone out from elsewhere.
# `manage.py axes_reset` lifts a lock-out; the admin lists the attempts. Shoppers' logins are
# also limited by django-allauth's own rate limits (ACCOUNT_RATE_LIMITS below).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend",
                           "allauth.account.auth_backends.AuthenticationBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "harbor.clientip.client_ip"
AXES_USERNAME_CALLABLE = "harbor.auth.login_name"
AXES_LOCKOUT_CALLABLE = "harbor.auth.lockout_response"
AXES_RESET_ON_SUCCESS = True

# Shopper accounts (django-allauth; accounts/): the e-mail address is the login, verified before
# the first login (the link in the e-mail logs the shopper in); one address per account, changed
# by verifying the new one. Its own rate limits (per client as harbor.clientip counts them, and
# per address) come on top of the lock-out above.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:orders"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # a mail scanner opening the link must not verify the address
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_CHANGE_EMAIL = True  # one address per account: a new one replaces it once verified
ACCOUNT_EMAIL_NOTIFICATIONS = True  # "your e-mail/password was changed" mails
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None  # the login form asks ("Remember me")
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Harbor: "
ACCOUNT_PREVENT_ENUMERATION = True  # sign-up and password reset answer alike for known and unknown addresses
# Failed logins: per client here; per address *and* client by django-axes above (allauth's own
# per-address limit would let anyone lock a shopper out from everywhere, so it is not used).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("ACCOUNT_LOGIN_FAILED_LIMIT", default="10/m/ip"),
    "signup": env.str("ACCOUNT_SIGNUP_LIMIT", default="20/m/ip"),
    "reset_password": env.str("ACCOUNT_RESET_PASSWORD_LIMIT", default="20/m/ip,5/m/key"),
}
for _name, _rate in ACCOUNT_RATE_LIMITS.items():
    if not _rate:
        ACCOUNT_RATE_LIMITS[_name] = False  # empty: off (allauth's own default would apply otherwise)
SESSION_COOKIE_AGE = 14 * 24 * 3600  # "Remember me"; without it the session ends with the browser

# "Find my order" (storefront/views/find_order.py): requests per client, and per e-mail address
# (so nobody can fill someone's inbox); empty turns a limit off.
FIND_ORDER_RATE_LIMIT = env.str("FIND_ORDER_RATE_LIMIT", default="10/hour")
FIND_ORDER_EMAIL_LIMIT = env.str("FIND_ORDER_EMAIL_LIMIT", default="3/hour")
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_ROOT = BASE_DIR / "harbor" / "public"  # served at the site's root: /favicon.ico
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
# Files: "labels" the shipping labels, private (served only through their order's capability
# URL and the admin), readable from every host: in PostgreSQL by default (harbor/storage.py;
# labels written to MEDIA_ROOT before it are still read from there), or any Django storage
# named by LABEL_STORAGE with LABEL_STORAGE_OPTIONS (JSON), e.g. S3 through django-storages
# (installed separately: docs/configuration.md). "catalog" the product pictures and their
# thumbnails, public, served at /media/catalog/ (storefront/views/media.py: long-lived cache
# headers), or from S3 with CATALOG_MEDIA_BUCKET. "default" is MEDIA_ROOT on this host.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "labels": {"BACKEND": env.str("LABEL_STORAGE", default="") or "harbor.storage.DatabaseStorage",
               "OPTIONS": env.json("LABEL_STORAGE_OPTIONS") if os.environ.get("LABEL_STORAGE_OPTIONS") else {}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "catalog": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": MEDIA_ROOT / "catalog", "base_url": f"/{MEDIA_URL}catalog/"}},
}
if os.environ.get("CATALOG_MEDIA_BUCKET"):
    STORAGES["catalog"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": env.str("CATALOG_MEDIA_BUCKET"),
        "location": env.str("CATALOG_MEDIA_PREFIX", default="catalog"),
        "custom_domain": env.str("CATALOG_MEDIA_DOMAIN", default="") or None,  # e.g. a CDN in front of the bucket
        "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
        "querystring_auth": False,  # public pictures: plain, cacheable URLs
        "file_overwrite": False,
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    }}
# Thumbnails (sorl-thumbnail, catalog/images.py): written to the catalog storage when a picture
# is saved, their names recorded on it; sorl's own store is not used (catalog/thumbnail_kvstore.py).
THUMBNAIL_KVSTORE = "catalog.thumbnail_kvstore.KVStore"
THUMBNAIL_ENGINE = "catalog.thumbnail_engine.Engine"
THUMBNAIL_STORAGE = "catalog"
THUMBNAIL_PREFIX = "thumbs/"
THUMBNAIL_UPSCALE = False

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
    # Harbor's limits read the client with harbor.clientip (below), not DRF's get_ident.
    "NUM_PROXIES": None,
}
# Trusted proxies in front of web, each appending to X-Forwarded-For: the client is the
# NUM_PROXIES-th address from the right (0: no proxy, REMOTE_ADDR; harbor/clientip.py).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
if NUM_PROXIES < 0:
    raise ImproperlyConfigured("NUM_PROXIES must be 0 (no proxy) or the number of trusted proxies")
# Placing orders (orders/throttles.py, payments/card_testing.py), per client (an IPv4 address
# or an IPv6 /64): orders, failed payments (card testing: also per card, and a shop-wide
# ceiling), SetupIntents, orders awaiting payment at once. Empty turns a limit off (benchmarks
# and soaks do). Rates as DRF writes them: "5/hour".
CHECKOUT_RATE_LIMIT = env.str("CHECKOUT_RATE_LIMIT", default="60/minute")
CHECKOUT_FAILED_PAYMENTS_LIMIT = env.str("CHECKOUT_FAILED_PAYMENTS_LIMIT", default="5/hour")
CHECKOUT_FAILED_PAYMENTS_CARD_LIMIT = env.str("CHECKOUT_FAILED_PAYMENTS_CARD_LIMIT", default="5/day")
CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT = env.str("CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT", default="100/hour")
CHECKOUT_CARD_SETUP_LIMIT = env.str("CHECKOUT_CARD_SETUP_LIMIT", default="20/hour")
SHOPPER_RETURN_LIMIT = env.str("SHOPPER_RETURN_LIMIT", default="10/minute")
# Seconds within which a repeated "I have authenticated" for one order does nothing again.
SHOPPER_RETURN_WINDOW = env.int("SHOPPER_RETURN_WINDOW", default=10)
# Returns (of goods): days after fulfillment a shopper may open one; how often a client may ask.
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=30)
RETURN_REQUEST_LIMIT = env.str("RETURN_REQUEST_LIMIT", default="10/hour")
_unpaid_limit = env.str("CHECKOUT_UNPAID_LIMIT", default="3").strip()
CHECKOUT_UNPAID_LIMIT = int(_unpaid_limit) if _unpaid_limit else None  # empty: off
for _name in ("CHECKOUT_RATE_LIMIT", "CHECKOUT_FAILED_PAYMENTS_LIMIT", "CHECKOUT_FAILED_PAYMENTS_CARD_LIMIT",
              "CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT", "CHECKOUT_CARD_SETUP_LIMIT", "SHOPPER_RETURN_LIMIT",
              "RETURN_REQUEST_LIMIT", "FIND_ORDER_RATE_LIMIT", "FIND_ORDER_EMAIL_LIMIT"):
    try:
        ratelimit.parse_rate(globals()[_name])
    except (ValueError, KeyError):
        raise ImproperlyConfigured(f"{_name}: {globals()[_name]!r} is not a rate such as 5/hour (or empty: off)")
IDEMPOTENCY_KEY_TTL = env.int("IDEMPOTENCY_KEY_TTL", default=24 * 3600)  # seconds a key is remembered
SPECTACULAR_SETTINGS = {
    "TITLE": "Harbor API",
    "DESCRIPTION": "Storefront and checkout API. Money is integer minor units with a lowercase ISO currency.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "orders.schema.add_order_links"],
}

# --- Totals -------------------------------------------------------------------------------
# Do catalog prices include tax (VAT style: the UK, the EU) or is tax added at checkout (US
# sales-tax style)? orders/totals.py; the storefront shows "incl. VAT £3.00" or "Tax $4.13".
PRICES_INCLUDE_TAX = env.bool("PRICES_INCLUDE_TAX", default=True)
# What computes tax (tax/calculation.py): the admin's rate table, or another provider's class.
TAX_CALCULATOR = env.str("TAX_CALCULATOR", default="tax.calculation.RateTable")

# --- Stripe ------------------------------------------------------------------------------

STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="" if IS_PROD else "sk_test_harbor_dev")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="" if IS_PROD else "pk_test_harbor_dev")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="") or None  # None = real Stripe
# Where the shopper's browser loads Stripe.js. With a local Stripe server (localstripe) it
# serves a fake Stripe.js that talks to that server; the page's code is the same.
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="") or (
    f"{STRIPE_API_BASE.rstrip('/')}/js.stripe.com/v3/" if STRIPE_API_BASE else "https://js.stripe.com/v3/")
STRIPE_TIMEOUT = env.int("STRIPE_TIMEOUT", default=20)  # seconds per request; < the soft time limit
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="" if IS_PROD else "whsec_harbor_dev")
# Test mode: test keys, a fake Stripe server, the test-card banner on the checkout page. Always
# in dev; in prod only for a staging deployment that says so (harbor/prod.py refuses it otherwise).
STRIPE_TEST_MODE = prod.test_mode(os.environ) if IS_PROD else True
# Webhook signatures older than this many seconds are refused (replay protection; must be > 0).
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)
if STRIPE_WEBHOOK_TOLERANCE <= 0:  # 0 would turn replay protection off in stripe-python
    raise ImproperlyConfigured("STRIPE_WEBHOOK_TOLERANCE must be > 0 (seconds)")

# --- Celery ------------------------------------------------------------------------------
# Broker: CELERY_BROKER_URL, else RabbitMQ in prod, else the Redis of REDIS_URL. For a RabbitMQ
# cluster, the nodes' URLs separated by ";" (amqp://u:p@rabbit1:5672/harbor;amqp://u:p@rabbit2…):
# each process uses one node and moves on to the next (round-robin) when it stops answering
# (harbor/failover.py).
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
# Celery's Django fixup closes the database connections only every this many tasks (never, in
# practice): harbor/celery.py recycles them around each task as Django does per request.
CELERY_DB_REUSE_MAX = 2**31
CELERY_TIMEZONE = TIME_ZONE
# django-celery-beat's DatabaseScheduler behind a lease in Redis (harbor/beat.py): Beat may run
# on two hosts, only the lease's holder sends, and a standby takes over within BEAT_LEASE_TTL +
# BEAT_LEASE_TTL/3 of the holder's loss. `-S django` runs the same class (harbor/celery.py).
CELERY_BEAT_SCHEDULER = "harbor.beat:LeasedScheduler"
# Seconds; renewed every third of it. Outside the task timing rule (below: soft limit < time
# limit < lock TTL < visibility timeout), which bounds what a sent task does whoever sent it:
# the lease only decides who sends. If it ever fails (a holder stalled past the TTL mid-tick),
# a periodic task is sent twice: one more reconciliation run, harmless since reconciliation is
# idempotent; the lease keeps that the exception. Its own bounds: harbor/lease.py check_timing.
BEAT_LEASE_TTL = env.int("BEAT_LEASE_TTL", default=30)
# The lease's Redis key: the Beats that share it are one group, at most one of them sending.
BEAT_LEASE_KEY = env.str("BEAT_LEASE_KEY", default="harbor:beat:lease")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

brokers.check_urls(CELERY_BROKER_URL)  # a list names the nodes of one RabbitMQ cluster (one vhost)
# Round-robin, not shuffle: kombu's shuffle picks a random node at each switch (the dead one
# again, maybe); round-robin tries each other node before it comes back (harbor/failover.py).
CELERY_BROKER_FAILOVER_STRATEGY = "round-robin"
# Seconds between AMQP heartbeats on a worker's connection: a node gone silent (a lost host, a
# partition) is noticed after ~2 missed ones and the worker moves to the next node (Celery's
# 120 s default: minutes consuming nothing). RabbitMQ then also drops a silent worker and
# redelivers its unacked messages sooner than ORDER_LOCK_TTL, as a reset connection already
# does: the second run finds the lock held and retries, and time limit < lock TTL below still
# stops the first run before its lock can expire (docs/configuration.md).
CELERY_BROKER_HEARTBEAT = env.int("CELERY_BROKER_HEARTBEAT", default=10)

# Each queue on its own exchange and routing key (harbor/brokers.py): quorum queues on topic
# exchanges with RabbitMQ, the same names on Redis.
BROKER_IS_AMQP = brokers.is_amqp(CELERY_BROKER_URL)
CELERY_TASK_QUEUES = brokers.queues(BROKER_IS_AMQP)
# Anything without a route (e.g. Celery's own housekeeping) lands on a queue that a
# worker consumes rather than on the unconsumed default "celery" queue.
CELERY_TASK_DEFAULT_QUEUE = "fulfillment"
CELERY_TASK_ROUTES = {
    "orders.tasks.fulfill_order": {"queue": "payments"},
    "orders.tasks.cancel_order": {"queue": "payments"},
    "orders.tasks.create_label": {"queue": "fulfillment"},
    "orders.tasks.refund_order": {"queue": "payments"},
    "orders.tasks.void_payment": {"queue": "payments"},
    "notifications.tasks.*": {"queue": "notifications"},
    # Their own queue and worker: a slow receiver can never delay a charge or an e-mail.
    "webhooks.tasks.*": {"queue": "webhooks"},
}
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged when done, so a crash redelivers it
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task that fails for good (or hits its time limit) is rejected, not acknowledged: on
# RabbitMQ it is dead-lettered (harbor.dlx → dead_letters), never silently dropped.
CELERY_TASK_ACKS_ON_FAILURE = False
CELERY_TASK_ACKS_ON_TIMEOUT = False
# On a lost broker connection a running task finishes (its effects are recorded in PostgreSQL;
# its ack is lost, so the broker redelivers it and the rerun finds the work done or the lock
# held) rather than being killed mid-charge. Celery 6 turns this default to True: keep it.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a payment waits in the broker, not behind a busy child
# Task events, for the Celery exporter's runtimes, failures and queue metrics (Prometheus).
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True

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
RABBITMQ_CONSUMER_TIMEOUT = env.int("RABBITMQ_CONSUMER_TIMEOUT", default=1800)  # the broker's, in seconds
# For setup_rabbitmq's policy, e.g. http://user:pass@rabbitmq:15672 (else rabbitmqctl on this host).
RABBITMQ_MANAGEMENT_URL = env.str("RABBITMQ_MANAGEMENT_URL", default="")
brokers.check_timing(soft=CELERY_TASK_SOFT_TIME_LIMIT, hard=CELERY_TASK_TIME_LIMIT, lock_ttl=ORDER_LOCK_TTL,
                     backoff_max=TASK_RETRY_BACKOFF_MAX, amqp=BROKER_IS_AMQP,
                     visibility_timeout=CELERY_VISIBILITY_TIMEOUT, consumer_timeout=RABBITMQ_CONSUMER_TIMEOUT,
                     prefetch_multiplier=CELERY_WORKER_PREFETCH_MULTIPLIER, heartbeat=CELERY_BROKER_HEARTBEAT)
# Publishing happens in the request (after commit): keep a broker outage short for the
# shopper. A failed publish is logged and recovered later, never surfaced as a 500.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env.int("CELERY_PUBLISH_MAX_RETRIES", default=2),
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_TRANSPORT_OPTIONS = brokers.transport_options(BROKER_IS_AMQP, CELERY_VISIBILITY_TIMEOUT)
# A broker that is down or blackholed costs a checkout about this long (then reconciliation).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=1.0)
# The longest any confirmed publish waits for the broker's ack when its caller set no budget of
# its own (a worker's task events): a silent node then fails the publish, and the connection
# fails over, instead of freezing the worker's event loop (harbor/failover.py, item 3).
CELERY_BROKER_CONFIRM_TIMEOUT = env.float("CELERY_BROKER_CONFIRM_TIMEOUT", default=10.0)
# Declares native delayed delivery once per cluster, not once per URL (harbor/failover.py, item 4).
CELERY_WORKER_CONSUMER = "harbor.failover:Consumer"

# --- Reliability ------------------------------------------------------------------------
# fulfill_order runs (retries and redeliveries included) allowed per order before it goes to
# needs_review: the cap that stops a task that kills its worker every time (celery#9082).
FULFILL_MAX_ATTEMPTS = env.int("FULFILL_MAX_ATTEMPTS", default=20)
RECONCILE_AFTER = env.int("RECONCILE_AFTER", default=120)  # seconds an order may sit pending/paid
RECONCILE_INTERVAL = env.int("RECONCILE_INTERVAL", default=300)  # used by setup_periodic_tasks
lease.check_timing(ttl=BEAT_LEASE_TTL, reconcile_interval=RECONCILE_INTERVAL)  # Beat's failover < one interval

# Outbound webhooks (webhooks/services.py): each POST waits WEBHOOK_TIMEOUT s; a failed one is
# tried again after WEBHOOK_RETRY_BASE s, doubling up to WEBHOOK_RETRY_MAX_BACKOFF, for
# WEBHOOK_RETRY_FOR s; a subscriber whose every delivery failed for WEBHOOK_DISABLE_AFTER s is
# disabled (alert: HarborWebhookSubscriberDisabled). Due deliveries are swept every
# WEBHOOK_SWEEP_INTERVAL s.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10)
WEBHOOK_LEASE_MARGIN = env.int("WEBHOOK_LEASE_MARGIN", default=20)  # a claim outlives the POST by this
WEBHOOK_RETRY_BASE = env.float("WEBHOOK_RETRY_BASE", default=10)
WEBHOOK_RETRY_MAX_BACKOFF = env.int("WEBHOOK_RETRY_MAX_BACKOFF", default=3600)
WEBHOOK_RETRY_FOR = env.int("WEBHOOK_RETRY_FOR", default=24 * 3600)
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=24 * 3600)
WEBHOOK_SWEEP_INTERVAL = env.int("WEBHOOK_SWEEP_INTERVAL", default=30)
WEBHOOK_SUBSCRIBERS_TTL = env.float("WEBHOOK_SUBSCRIBERS_TTL", default=5)  # webhooks/subscribers.py
# Tries at making one refund at Stripe before it is given up (and the order sent to review).
REFUND_MAX_ATTEMPTS = env.int("REFUND_MAX_ATTEMPTS", default=10)
# A pending order that never got a payment attempt this long (e.g. a day-long broker outage)
# is canceled and its stock released, rather than charged that late with the stock held.
RESERVATION_WINDOW = env.int("RESERVATION_WINDOW", default=24 * 3600)
# How long an order waits for the shopper's 3-D Secure before reconciliation cancels it (its
# stock is held meanwhile, with no money moved: short, and CHECKOUT_UNPAID_LIMIT per client).
AUTHENTICATION_WINDOW = env.int("AUTHENTICATION_WINDOW", default=15 * 60)
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
# The shop's address as shoppers reach it: the links in e-mails (sent by workers, with no request
# to read it from) start with it. Default: https://<first ALLOWED_HOSTS> in prod, this machine's
# `make run` address in dev.
SITE_URL = env.str("SITE_URL", default="") or (
    f"https://{ALLOWED_HOSTS[0]}" if IS_PROD and ALLOWED_HOSTS else f"http://127.0.0.1:{env.int('PORT', default=8000)}")
SHIP_FROM = {"name": "Harbor Fulfillment", "line1": "1 Quay Street", "line2": "Unit 4",
             "city": "Portsmouth", "postal_code": "PO1 2AB", "country": "GB"}

# --- Metrics ------------------------------------------------------------------------------
# /metrics (harbor/metrics.py) answers only these client addresses (CIDRs, comma-separated in
# the environment); anyone else gets 403. The address is REMOTE_ADDR: behind a reverse proxy
# that is the proxy's, so there the proxy must refuse /metrics from outside (or Prometheus
# scrapes the web processes directly). Multiprocess mode: harbor/gunicorn.conf.py.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1/32", "::1/128"])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {_network!r} is not an IP network (e.g. 10.0.0.0/8)")
PROMETHEUS_EXPORT_MIGRATIONS = False  # no database query when the app loads

# --- Logging -----------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=IS_PROD)  # JSON lines in prod, a readable console in dev
LOGGING = logconfig.logging_config(json=LOG_JSON, level=LOG_LEVEL)
logconfig.configure_structlog()
DJANGO_STRUCTLOG_CELERY_ENABLED = True  # the request's context rides along with the tasks it sends
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # no shopper IP in logs (nor in task headers)

if IS_PROD:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (`manage.py check --deploy` is clean).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^healthz$", r"^metrics$"]  # probes and scrapes over plain HTTP
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
