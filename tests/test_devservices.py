"""harbor.devservices: real embedded servers, started in a temp dir and stopped again."""

import os
import pickle
import pickletools
import signal
import threading
import time

import psycopg
import pytest
import redis
import requests

from harbor.devservices import DevServices
from harbor.devservices.base import pid_alive, port_open
from harbor.devservices.servers import LocalStripe

AUTH = ("sk_test_x", "")
SHARED_PICKLE = "/tmp/localstripe.pickle"


def _mtime(path):
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None


def test_starts_postgres_redis_and_localstripe_then_stops_them(tmp_path):
    shared_pickle_before = _mtime(SHARED_PICKLE)
    services = DevServices(tmp_path, durable=False, environ={})

    env = services.start()
    try:
        assert set(env) == {"DATABASE_URL", "REDIS_URL", "STRIPE_API_BASE"}
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("harbor",)
        assert redis.Redis.from_url(env["REDIS_URL"]).ping()
        stripe_js = requests.get(env["STRIPE_API_BASE"] + "/js.stripe.com/v3/", timeout=5)
        assert stripe_js.status_code == 200 and "Stripe" in stripe_js.text
        requests.post(env["STRIPE_API_BASE"] + "/v1/customers", auth=AUTH, timeout=5).raise_for_status()

        again = DevServices(tmp_path, durable=False, environ={})
        assert again.start() == env  # adopts the running servers instead of starting twins
        assert [s.pid for s in again.running] == [s.pid for s in services.running]
    finally:
        pids = [(s.pid, s.port) for s in services.running]
        services.stop()

    for pid, port in pids:
        assert not pid_alive(pid) and not port_open(port)
    # A throwaway localstripe saves nothing: not in its directory, and never in the shared
    # /tmp path stock localstripe uses.
    assert not (tmp_path / "localstripe" / "localstripe.pickle").exists()
    assert _mtime(SHARED_PICKLE) == shared_pickle_before


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


# --- localstripe's saved state (durable, as under `make run`) -------------------------------

def start_localstripe(root, save_interval=1.0):
    service = LocalStripe(root, durable=True)
    service.save_interval = save_interval
    return service.start()


def create_customers(service, n, description="customer"):
    with requests.Session() as http:
        return [http.post(service.url() + "/v1/customers", data={"description": description},
                          auth=AUTH, timeout=10).json()["id"] for _ in range(n)]


def customer_ids(service):
    """Every customer, page by page (localstripe lists at most `limit` per request)."""
    ids = []
    for _ in range(1000):
        params = {"limit": 100, **({"starting_after": ids[-1]} if ids else {})}
        page = requests.get(service.url() + "/v1/customers", params=params, auth=AUTH, timeout=10).json()
        ids += [customer["id"] for customer in page["data"]]
        if not page["has_more"]:
            return ids
    raise AssertionError("localstripe's customer list never ended")


def save_sizes(service):
    """The object count of each save logged so far (the log is kept across restarts)."""
    log = (service.dir / "localstripe.log").read_text()
    return [int(line.split("saved ")[1].split()[0]) for line in log.splitlines() if "localstripe:saved " in line]


def assert_complete_pickle(path):
    # Walk the opcodes without building objects (unpickling a localstripe Store here would
    # call its dump_to_disk): a truncated pickle runs out before its final STOP.
    data = path.read_bytes()
    *_, (last, _, position) = pickletools.genops(data)
    assert last.name == "STOP" and position == len(data) - 1


def kill(service):
    os.killpg(service.pid, signal.SIGKILL)
    service.process.wait()
    service.pid = service.process = None


def test_localstripe_killed_while_saving_restarts_with_a_complete_pickle(tmp_path):
    service = start_localstripe(tmp_path, save_interval=0.05)
    state, tmp = service.state_path, service.state_path.with_name(service.state_path.name + ".tmp")
    try:
        # A few hundred customers with long descriptions: a pickle of a few MB takes a
        # while to write and fsync, so a kill can land in the middle of a save.
        persisted = set(create_customers(service, 300, description="x" * 10_000))
        service.stop()  # clean stop: all 300 are in the pickle
        killed_mid_save = 0
        for attempt in range(8):
            service.start()
            listed = set(customer_ids(service))
            assert persisted <= listed  # nothing that was once on disk is lost
            persisted = listed
            # Keep the store changing, so that it is saved every 0.05 s, and kill -9 it the
            # moment a save has its temp file open: in attempt r, after r saves have landed,
            # so that the pickle on disk also moves forward between kills.
            stop_writing = threading.Event()

            def keep_writing():
                with requests.Session() as http:
                    while not stop_writing.is_set():
                        try:
                            http.post(service.url() + "/v1/customers", data={"description": "y" * 10_000},
                                      auth=AUTH, timeout=10)
                        except requests.RequestException:
                            return

            writer = threading.Thread(target=keep_writing)
            writer.start()
            landed, inode = 0, state.stat().st_ino
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not (landed >= min(attempt, 3) and tmp.exists()):
                if state.stat().st_ino != inode:  # each save renames a new file onto it
                    landed, inode = landed + 1, state.stat().st_ino
            kill(service)
            stop_writing.set()
            writer.join()
            # A temp file left behind means it died between opening it and the rename.
            killed_mid_save += tmp.exists()
            tmp.unlink(missing_ok=True)  # never read; removed so the next attempt sees only a fresh one
            assert_complete_pickle(state)
            if attempt >= 3 and killed_mid_save >= 2:
                break
        assert killed_mid_save >= 2, "kills did not land during saves; the test proved little"

        service.start()  # and it serves, with everything that was saved
        assert persisted <= set(customer_ids(service))
        assert len(persisted) > 300  # saves landed between the kills, too
        assert not list(tmp_path.glob("localstripe/*.corrupt-*"))
    finally:
        service.stop()


@pytest.mark.parametrize("content", [
    b"\x00garbage, not a pickle\xff",
    pickle.dumps({f"customer:cus_{i}": "x" * 100 for i in range(100)})[:2000],  # truncated
    pickle.dumps(["a", "list"]),  # a pickle, but not a store
], ids=["garbage", "truncated", "wrong-type"])
def test_localstripe_starts_empty_and_moves_an_unreadable_pickle_aside(tmp_path, content):
    state = tmp_path / "localstripe" / "localstripe.pickle"
    state.parent.mkdir()
    state.write_bytes(content)

    service = start_localstripe(tmp_path)
    try:
        assert customer_ids(service) == []
        assert len(create_customers(service, 1)) == 1
        [aside] = tmp_path.glob("localstripe/localstripe.pickle.corrupt-*")
        assert aside.read_bytes() == content
        assert f"moved it to {aside}" in (service.dir / "localstripe.log").read_text()
    finally:
        service.stop()
    assert_complete_pickle(state)


def test_localstripe_state_survives_a_clean_stop_and_restart(tmp_path):
    # An interval longer than the test: only the save at shutdown (SIGTERM) can write.
    service = start_localstripe(tmp_path, save_interval=3600)
    try:
        created = create_customers(service, 150)  # more than one page of 100
        assert not service.state_path.exists()  # not saved per request
        service.stop()
        assert len(save_sizes(service)) == 1

        service.start()
        assert sorted(customer_ids(service)) == sorted(created)
    finally:
        service.stop()


def test_localstripe_saves_on_a_timer_not_per_request(tmp_path):
    interval = 0.5
    service = start_localstripe(tmp_path, save_interval=interval)
    try:
        started = time.monotonic()
        create_customers(service, 100)
        deadline = time.monotonic() + 30
        while not (save_sizes(service) and save_sizes(service)[-1] >= 100):  # the timer saves them
            assert time.monotonic() < deadline, "no save after the writes"
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        saves = len(save_sizes(service))
        # Saves are at least `interval` apart whatever the load: at most one per interval.
        assert saves <= elapsed / interval + 1 and saves < 100
        time.sleep(4 * interval)
        assert len(save_sizes(service)) == saves  # nothing changed, nothing saved
    finally:
        service.stop()


def test_localstripe_shows_a_payment_without_scanning_its_whole_store(tmp_path, monkeypatch):
    """Stock localstripe lists by scanning every object it holds, and lists a charge's refunds
    each time it shows the charge: a PaymentIntent cost more with every order in the store
    (21 ms per order empty, 240 ms after 4,000). Lists now read their own type only."""
    from localstripe import resources

    from harbor.devservices import localstripe_server

    for name in ("__setitem__", "__delitem__", "try_load_from_disk", "dump_to_disk"):
        monkeypatch.setattr(resources.Store, name, getattr(resources.Store, name))
    monkeypatch.setattr(resources.StripeObject, "_api_list_all", resources.StripeObject.__dict__["_api_list_all"])
    monkeypatch.setattr(resources, "store", resources.Store())  # this test's own, thrown away after
    localstripe_server.patch_localstripe(localstripe_server.Persister(str(tmp_path / "state.pickle"), 3600))
    for i in range(30):
        resources.Customer(email=f"shopper{i}@example.com")
    intent = resources.PaymentIntent._api_create(amount=1500, currency="usd", payment_method="pm_card_visa",
                                                 confirm=True)

    def whole_store_scanned(store):
        raise AssertionError("the whole store was scanned")

    monkeypatch.setattr(resources.Store, "items", whole_store_scanned)
    shown = resources.PaymentIntent._api_retrieve(intent.id)._export()

    assert shown["status"] == "succeeded"
    assert [charge["amount_refunded"] for charge in shown["charges"]["data"]] == [0]
    assert len(resources.Customer._api_list_all("/v1/customers", limit=100)._list) == 30
