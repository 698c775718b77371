"""/metrics from a real gunicorn, started with the Procfile's web line (harbor/gunicorn.conf.py):
two workers in Prometheus multiprocess mode, on the test database. One scrape, answered by
either worker, shows what both served; a worker killed with SIGKILL keeps its counts."""

import os
import shlex
import signal
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from harbor.devservices.base import free_port
from loadtest.shop import procfile
from tests.realworker import Process
from tests import realworker
from tests.test_metrics import parse

LIVEZ = ("django_http_responses_total_by_status_view_method_total",
         (("method", "GET"), ("status", "200"), ("view", "livez")))
BAD_CHECKOUT = ("harbor_checkout_outcomes_total", (("status", "400"),))


@pytest.fixture
def gunicorn(db, tmp_path):
    """gunicorn on the test database (`db`: set up, with nothing of this test's committed)."""
    port = free_port()
    argv = shlex.split(procfile()["web"].replace("${PORT}", str(port)))
    assert argv[:4] == ["gunicorn", "harbor.wsgi", "-c", "harbor/gunicorn.conf.py"] and "--workers" in argv
    # The Procfile's own line (2 workers), run by this venv's Python, with the worker's pid in the access log.
    argv = [sys.executable, "-m", *argv, "--access-logformat", "pid=%(p)s %(r)s %(s)s"]
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    (multiproc_dir / "counter_1.db").write_bytes(b"a stale file of an earlier run")  # wiped at start
    env = {**os.environ, "DATABASE_URL": realworker.test_database_url(), "CHECKOUT_RATE_LIMIT": "",
           "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir)}
    web = Process(argv, env, tmp_path / "web.log", "Booting worker").start()
    web.url, web.multiproc_dir = f"http://127.0.0.1:{port}", multiproc_dir
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(web.url + "/livez", timeout=10)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield web
    finally:
        web.stop()
        print("--- gunicorn log ---\n" + web.tail())


def served_by(web):
    """{worker pid: number of GET /livez it answered}, from the access log."""
    return Counter(line.split()[0][4:].strip("<>") for line in web.log_path.read_text().splitlines()
                   if line.startswith("pid=") and "GET /livez" in line and line.endswith(" 200"))


def scrape(web):
    response = requests.get(web.url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return parse(response.text)


def test_one_scrape_adds_up_every_worker_and_a_killed_workers_counts_survive(gunicorn):
    assert not (gunicorn.multiproc_dir / "counter_1.db").exists()
    sent = 0
    with ThreadPoolExecutor(8) as pool:  # new connections, in parallel: both workers take some
        while len(served_by(gunicorn)) < 2 and sent < 400:
            assert all(r.status_code == 200 for r in pool.map(
                lambda _: requests.get(gunicorn.url + "/livez", timeout=10), range(20)))
            sent += 20
        bad = list(pool.map(lambda _: requests.post(gunicorn.url + "/api/orders/", json={}, timeout=10), range(10)))
    assert {r.status_code for r in bad} == {400}
    # The access log is the other count: each line follows its answer; the readiness probes are in it too.
    deadline, last = time.monotonic() + 10, None
    while (per_worker := served_by(gunicorn)) != last or sum(per_worker.values()) < sent:
        assert time.monotonic() < deadline, per_worker
        last = per_worker
        time.sleep(0.3)
    assert len(per_worker) == 2, f"one worker answered all {sent} requests: {per_worker}"
    total = sum(per_worker.values())

    samples, families = scrape(gunicorn)

    assert samples[LIVEZ] == total  # the sum over both workers, in one scrape
    assert samples[BAD_CHECKOUT] == 10
    assert {"harbor_orders", "harbor_stuck_orders", "harbor_charges", "harbor_checkout_outcomes"} <= families
    assert ("harbor_orders", (("status", "pending"),)) in samples  # read from the test database

    # Kill one worker. Its counters stay in the directory (totals must not drop); child_exit
    # marks it dead, which removes its live gauges (a livesum gauge file stands in for one).
    victim = next(iter(per_worker))
    live_gauge = gunicorn.multiproc_dir / f"gauge_livesum_{victim}.db"
    gauge = MmapedDict(str(live_gauge))
    gauge.write_value(mmap_key("harbor_test_live", "harbor_test_live", [], [], "test"), 1.0, 0.0)
    gauge.close()
    os.kill(int(victim), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while gunicorn.log_path.read_text().count("Booting worker") < 3 or live_gauge.exists():
        assert time.monotonic() < deadline, gunicorn.tail()
        time.sleep(0.1)

    samples, _ = scrape(gunicorn)

    assert samples[LIVEZ] == total
    assert samples[BAD_CHECKOUT] == 10
    assert not live_gauge.exists()
    assert (gunicorn.multiproc_dir / f"counter_{victim}.db").exists()
