"""harbor.devservices: real embedded servers, started in a temp dir and stopped again."""

import psycopg
import redis
import requests

from harbor.devservices import DevServices
from harbor.devservices.base import pid_alive, port_open


def test_starts_postgres_redis_and_localstripe_then_stops_them(tmp_path):
    services = DevServices(tmp_path, durable=False, environ={})

    env = services.start()
    try:
        assert set(env) == {"DATABASE_URL", "REDIS_URL", "STRIPE_API_BASE"}
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("harbor",)
        assert redis.Redis.from_url(env["REDIS_URL"]).ping()
        stripe_js = requests.get(env["STRIPE_API_BASE"] + "/js.stripe.com/v3/", timeout=5)
        assert stripe_js.status_code == 200 and "Stripe" in stripe_js.text
        # localstripe keeps its state in its own directory, never in the shared /tmp path.
        requests.post(env["STRIPE_API_BASE"] + "/v1/customers", auth=("sk_test_x", ""), timeout=5)
        assert (tmp_path / "localstripe" / "localstripe.pickle").exists()

        again = DevServices(tmp_path, durable=False, environ={})
        assert again.start() == env  # adopts the running servers instead of starting twins
        assert [s.pid for s in again.running] == [s.pid for s in services.running]
    finally:
        pids = [(s.pid, s.port) for s in services.running]
        services.stop()

    for pid, port in pids:
        assert not pid_alive(pid) and not port_open(port)


def test_a_service_whose_url_is_set_is_not_started(tmp_path):
    environ = {"DATABASE_URL": "postgres://x", "REDIS_URL": "redis://x", "STRIPE_API_BASE": "http://x"}

    services = DevServices(tmp_path, environ=environ)

    assert services.start() == {} and services.running == []


def test_localstripe_listens_on_loopback_only(tmp_path):
    from harbor.devservices.servers import LocalStripe

    service = LocalStripe(tmp_path, durable=False).start()
    try:
        listening = [line for line in open("/proc/net/tcp").read().splitlines()[1:]
                     if line.split()[1].endswith(f":{service.port:04X}") and line.split()[3] == "0A"]
        assert listening and all(line.split()[1].startswith("0100007F:") for line in listening)
        assert not any(f":{service.port:04X}" in line.split()[1] for line in open("/proc/net/tcp6").read().splitlines()[1:])
    finally:
        service.stop()
