"""/healthz names what is down; /api/schema/ documents the API."""

import yaml
from django.core.management import call_command

from harbor.celery import app as celery_app
from harbor.devservices.servers import Redis


def test_healthz_is_200_when_everything_answers(api, db):
    response = api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "redis": "ok"}


def test_healthz_is_503_naming_the_broker_when_it_goes_down(api, db, tmp_path, monkeypatch):
    broker = Redis(tmp_path, durable=False).start()
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery prefers the variable to its conf
    monkeypatch.setattr(celery_app.conf, "broker_url", broker.url())
    monkeypatch.setattr(celery_app, "_pool", None)  # /healthz reuses pooled connections: a pool for this broker
    assert api.get("/healthz").status_code == 200

    broker.stop()
    response = api.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "down", "redis": "ok"}


def test_schema_is_valid_openapi_covering_the_api(api, db):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/products/", "/api/orders/", "/api/orders/{id}/"} <= set(schema["paths"])
    assert set(schema["paths"]["/api/orders/"]["post"]["responses"]) >= {"202", "400", "409", "413", "422"}
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
