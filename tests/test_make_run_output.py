"""What `make run` says (harbor.devservices): honcho's status lines in plain words (a stop we
asked for is "stopped", not "rc=-15"), the banner printed as it is, the Procfile's workers
found by their node names, and the favicon every browser asks for."""

import datetime
import io
import socket
from pathlib import Path

import pytest
from honcho.printer import Message

from harbor.devservices import procfile
from harbor.devservices.__main__ import banner, env_file_text

BASE_DIR = Path(__file__).resolve().parent.parent


def manager():
    out = io.StringIO()
    printer = procfile.HarborPrinter(out, colour=False)
    printer.width = 10
    return procfile.HarborManager(printer), out


def lines(out):
    return [line.split("| ", 1)[1] for line in out.getvalue().splitlines()]


def test_a_stop_we_asked_for_reads_stopped():
    m, out = manager()
    m._system_print("SIGINT received\n")  # honcho's words (honcho/manager.py)
    m._terminating = True
    m._system_print("sending SIGTERM to web.1 (pid 41)\n")
    m._system_print("web.1 stopped (rc=-15)\n")
    m._system_print("beat.1 stopped (rc=0)\n")
    m._system_print("worker.1 stopped (rc=1)\n")
    m._system_print("sending SIGKILL to payments.1 (pid 43)\n")

    assert lines(out) == ["Ctrl-C: stopping Harbor…", "web.1 stopped", "beat.1 stopped",
                          "worker.1 stopped (exit code 1)", "payments.1 did not stop in time: killing it"]
    assert m.asked_to_stop


def test_a_process_that_exits_by_itself_says_so():
    m, out = manager()
    m._system_print("web.1 started (pid=41)\n")
    m._system_print("worker.1 stopped (rc=-15)\n")  # nobody asked: killed from outside, or crashed

    assert lines(out) == ["web.1 started (pid=41)",
                          "worker.1 exited unexpectedly (exit code -15): stopping the others"]
    assert not m.asked_to_stop


def test_the_banner_is_printed_without_a_prefix():
    m, out = manager()
    m._printer.write(Message(type="line", data="\n== Harbor is ready ==\n", time=datetime.datetime.now(),
                             name=procfile.BANNER, colour=None))
    assert out.getvalue() == "\n== Harbor is ready ==\n\n"


def test_the_banner_has_the_urls_the_login_the_test_card_and_the_other_shell():
    text = banner(8716, BASE_DIR / "var" / "devservices.env", True,
                  {"DATABASE_URL": "postgres://postgres@127.0.0.1:5999/harbor"})(23.4)

    for expected in ("Harbor is ready (23 s)", "http://127.0.0.1:8716/", "http://127.0.0.1:8716/admin/",
                     "login: admin / admin", "http://127.0.0.1:8716/api/products/", "4242 4242 4242 4242",
                     ". var/devservices.env", "python manage.py harbor_status", "Ctrl-C stops everything",
                     "postgres://postgres@127.0.0.1:5999/harbor"):
        assert expected in text
    assert "admin / admin" not in banner(8716, BASE_DIR / "var" / "devservices.env", False, {})(1)


def test_the_env_file_points_at_the_servers_and_the_venv():
    text = env_file_text({"REDIS_URL": "redis://127.0.0.1:5998/0"}, Path("/src/harbor/.venv/bin"))

    assert "export REDIS_URL=redis://127.0.0.1:5998/0\n" in text
    assert 'export PATH="/src/harbor/.venv/bin:$PATH"\n' in text


def test_the_procfile_workers_are_known_by_their_node_names():
    processes = procfile.read_procfile(BASE_DIR / "Procfile")

    assert set(processes) == {"web", "payments", "worker", "webhooks", "beat"}
    host = socket.gethostname()
    assert procfile.worker_names(processes) == [f"payments@{host}", f"worker@{host}", f"webhooks@{host}"]
    assert all("--quiet" in processes[name] for name in ("payments", "worker", "webhooks", "beat"))  # no banners


@pytest.mark.django_db
def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an .ico file


def test_a_taken_web_port_is_said_at_once_and_nothing_starts(tmp_path):
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PORT": str(port),
               "HARBOR_VAR_DIR": str(tmp_path / "var")}
        done = subprocess.run([sys.executable, "-m", "harbor.devservices", "run"], cwd=BASE_DIR, env=env,
                              capture_output=True, text=True, timeout=60)

    assert done.returncode == 1
    assert f"port {port} is taken" in done.stdout and f"PORT={port + 1} make run" in done.stdout
    assert not (tmp_path / "var").exists()  # no server was started
