"""OpenTelemetry tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER) is
set. Django, Celery, psycopg and Redis are instrumented, so the trace a checkout request
starts continues in fulfill_order and its fan-out (Celery carries the context in the
message headers). Called once per process: gunicorn's post_fork (harbor/gunicorn.conf.py)
and wsgi.py for the web; in harbor/celery.py, worker_process_init for each prefork child and
worker_init for a worker without child processes (the threads pool).

Off, it costs nothing: setup() returns before importing OpenTelemetry, so no middleware,
no wrapped cursor, no span. On, everything else comes from the standard variables:
OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT), OTEL_EXPORTER_OTLP_HEADERS,
OTEL_SERVICE_NAME (default harbor-web / harbor-worker), OTEL_TRACES_SAMPLER(_ARG),
OTEL_BSP_* for the batch processor; OTEL_TRACES_EXPORTER=console prints spans instead.
"""

import os

_started = False


def enabled():
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                or os.environ.get("OTEL_TRACES_EXPORTER", "none") != "none")


def setup(service_name):
    """Start tracing in this process (once). Returns whether it is on."""
    global _started
    if _started or not enabled():
        return _started
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    # Resource.create() reads OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, which win over this default.
    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME",
                                                                                       service_name)}))
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp") == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers, timeout: the standard OTEL_* variables
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    instrument()
    _started = True
    return True


def _instrumentors():
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    return {DjangoInstrumentor: {}, CeleryInstrumentor: {}, PsycopgInstrumentor: {"enable_commenter": False},
            RedisInstrumentor: {}}


def instrument(tracer_provider=None):
    """Instrument Django, Celery, psycopg and Redis; with tracer_provider=None they use the global
    provider (setup()), tests pass their own and leave the global one unset. Django must be
    instrumented before the WSGI handler (or test client) builds its middleware chain."""
    for instrumentor, options in _instrumentors().items():
        instrumentor().instrument(tracer_provider=tracer_provider, **options)


def uninstrument():
    """Undo instrument() (for tests)."""
    for instrumentor in _instrumentors():
        instrumentor().uninstrument()
