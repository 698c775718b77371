"""Logging: JSON lines in production, a readable console in development, one formatter for
both structlog and plain `logging.getLogger(__name__)` lines.

django-structlog binds a `request_id` per HTTP request and carries the bound context into
every task the request causes (and their retries), where `task_id` is bound too; checkout
and the order tasks bind `order_id` (structlog.contextvars). `merge_contextvars` in the
formatter puts that context on every line, so one grep for an order id (or a request id)
shows its story across web, workers and beat.
"""

import structlog

SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_config(json, level):
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"harbor": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                           structlog.processors.dict_tracebacks if json else structlog.dev.set_exc_info,
                           renderer],
            "foreign_pre_chain": [*SHARED, structlog.stdlib.ExtraAdder(),
                                  structlog.stdlib.PositionalArgumentsFormatter()],
        }},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "harbor"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # One line per Stripe API call at INFO: noise next to Harbor's own lines.
            "stripe": {"level": "WARNING"},
            "django_structlog": {"level": level},
        },
    }


def configure_structlog():
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *SHARED, structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.processors.StackInfoRenderer(), structlog.processors.UnicodeDecoder(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def bind_order(order_id):
    """Every log line from here on (in this request or task) names the order."""
    structlog.contextvars.bind_contextvars(order_id=str(order_id))
