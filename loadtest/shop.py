"""One way for the load tools to run a whole shop: embedded services (or the URLs already
set), migrated and seeded, then gunicorn, Celery workers and beat as processes, started with
the Procfile's own command lines so what is measured is what `make run` runs.

    shop = Shop(root).start_services()     # DATABASE_URL etc. now in os.environ
    shop.prepare()                          # migrate, seed, periodic tasks, static files
    shop.web(); shop.worker("worker")      # Procfile lines, by name
    ...; shop.stop()
"""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from harbor.devservices import DevServices
from harbor.devservices.base import free_port, pid_alive

BASE_DIR = Path(__file__).resolve().parent.parent
PROCFILE = BASE_DIR / "Procfile"


def procfile():
    """{name: command line} of the Procfile."""
    entries = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


class Process:
    def __init__(self, name, argv, env, log_path):
        self.name, self.argv, self.log_path = name, argv, log_path
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(argv, env=env, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def pid(self):
        return self.popen.pid

    def wait_for(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while text.encode() not in Path(self.log_path).read_bytes():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start; see {self.log_path}")
            time.sleep(0.1)
        return self

    def signal(self, sig):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout=30):
        if self.popen.poll() is not None:
            return
        self.signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait()


# A load test places orders from one address as fast as it can, half of them unpaid while the
# workers are paused: every per-client limit (orders/throttles.py) is off for it.
NO_LIMITS = {name: "" for name in ("CHECKOUT_RATE_LIMIT", "CHECKOUT_UNPAID_LIMIT", "CHECKOUT_FAILED_PAYMENTS_LIMIT",
                                   "CHECKOUT_FAILED_PAYMENTS_CARD_LIMIT", "CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT")}


class Shop:
    def __init__(self, root, env=None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.env = dict(env or {})
        self.services = DevServices(self.root / "services", durable=False)
        self.processes = {}
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start_services(self):
        os.environ.update(self.services.start())
        os.environ.setdefault("HARBOR_VAR_DIR", str(self.root / "var"))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbor.settings")
        return self

    def process_env(self, **more):
        bin_dir = str(Path(sys.executable).parent)
        return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", **self.env,
                **{k: str(v) for k, v in more.items()}}

    def manage(self, *args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.process_env(), check=True,
                       stdout=subprocess.DEVNULL)

    def prepare(self):
        for command in (["migrate", "--noinput"], ["seed_catalog"], ["setup_periodic_tasks"],
                        ["collectstatic", "--noinput"]):
            self.manage(*command)
        return self

    def start(self, name, argv, ready, **env):
        process = Process(name, argv, self.process_env(**env), self.root / f"{name}.log")
        self.processes[name] = process
        return process.wait_for(ready)

    def web(self, **env):
        """gunicorn exactly as the Procfile starts it."""
        self.port = self.port or free_port()
        line = procfile()["web"].replace("${PORT}", str(self.port))
        process = self.start("web", shlex.split(line), "Booting worker", **env)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.url + "/livez", timeout=2)
                return process
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def worker(self, name, command=None, **env):
        """A Celery worker: a Procfile line by name, or a command line of one's own."""
        return self.start(name, shlex.split(command or procfile()[name]), "ready.", **env)

    def beat(self, **env):
        return self.start("beat", shlex.split(procfile()["beat"]), "beat: Starting", **env)

    def stop(self, *names):
        for name in names or list(reversed(self.processes)):
            process = self.processes.pop(name, None)
            if process:
                process.stop()

    def stop_services(self):
        self.services.stop()

    def pause(self, *names):
        for name in names:
            self.processes[name].signal(signal.SIGSTOP)

    def resume(self, *names):
        for name in names:
            self.processes[name].signal(signal.SIGCONT)

    def rss(self):
        """{process: {"rss", "pss"} in bytes, children included}: the shop's own processes
        and the embedded servers. RSS counts a page shared by a parent and its forked
        children (gunicorn and Celery workers, PostgreSQL's backends and shared buffers) once
        per process, so its sum overstates the whole; PSS splits each shared page among the
        processes sharing it, so PSS sums to what the shop really holds."""
        import psutil

        pids = {name: p.pid for name, p in self.processes.items()}
        pids.update({f"{s.name} (embedded)": s.pid for s in self.services.running})
        sizes = {}
        for name, pid in pids.items():
            if not pid_alive(pid):
                continue
            try:
                root = psutil.Process(pid)
                family = [root, *root.children(recursive=True)]
                infos = [p.memory_full_info() for p in family if p.is_running()]
                sizes[name] = {"rss": sum(i.rss for i in infos), "pss": sum(i.pss for i in infos)}
            except psutil.Error:
                continue
        return sizes
