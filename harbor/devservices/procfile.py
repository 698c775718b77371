"""Run the Procfile's processes for `make run`, under honcho, and say clearly what happens.

honcho's own `honcho start` multiplexes the processes' output well, but for a newcomer it
buries what matters: the URLs scroll away under the processes' start-up lines, and a normal
Ctrl-C reads like failure ("web.1 stopped (rc=-15)": the process ended on the SIGTERM it was
sent, which is how honcho stops it). So this runs honcho's Manager in this process, with:

- the banner (URLs, the dev login, how to use the shop from another shell) printed once the
  shop is ready (`/healthz` answers 200 and every Procfile worker answers a Celery ping),
  after everything the processes print while starting, and framed so it stands out;
- honcho's status lines said plainly: a process that ends because we asked "stopped"; one that
  ends by itself "exited unexpectedly (exit code N)", after which honcho stops the others.
"""

import datetime
import os
import re
import socket
import sys
import threading
import time

import requests
from honcho import environ
from honcho.manager import Manager
from honcho.printer import Message, Printer

from harbor.devservices.base import port_open

BANNER = "harbor"  # the name of the banner's message: printed as it is, without a prefix
READY_TIMEOUT = 180  # seconds: on a slow first start (migrations, a cold disk) it takes ~25 s

# honcho's own status lines (honcho/manager.py), which HarborManager words for people.
STOPPED = re.compile(r"(?P<name>\S+) stopped \(rc=(?P<rc>-?\d+)\)$")
SENDING = re.compile(r"sending (?P<signal>SIG\w+) to (?P<name>\S+) \(pid \d+\)$")
RECEIVED = re.compile(r"(?P<signal>SIG\w+) received$")
# How a process ends when it obeys the SIGTERM honcho sends (or the SIGINT of a Ctrl-C):
# exit 0, or ended by the signal itself (-15, -2, or a shell's 128 + the signal).
STOPPED_AS_ASKED = {0, -15, -2, 143, 130}


class HarborPrinter(Printer):
    def write(self, message):
        if message.name == BANNER:
            print(message.data, file=self.output, flush=True)
        else:
            super().write(message)


class HarborManager(Manager):
    def __init__(self, printer, on_started=None):
        super().__init__(printer)
        self.on_started = on_started
        self.asked_to_stop = False  # by a signal (Ctrl-C), as opposed to a process exiting on its own

    def _start(self):
        super()._start()
        if self.on_started:  # after honcho's forks, so no thread of ours is running while it forks
            self.on_started(self)

    def say(self, text, name=BANNER):
        """Print through honcho's queue, in order with the processes' lines."""
        self.events.put(Message(type="line", data=text, time=datetime.datetime.now(), name=name, colour=None))

    def _system_print(self, data):
        line = data.rstrip("\n")
        if match := RECEIVED.match(line):
            self.asked_to_stop = True
            line = ("Ctrl-C" if match["signal"] == "SIGINT" else match["signal"]) + ": stopping Harbor…"
        elif match := SENDING.match(line):
            if match["signal"] != "SIGKILL":
                return  # one "stopped" line per process says it
            line = f"{match['name']} did not stop in time: killing it"
        elif match := STOPPED.match(line):
            rc = int(match["rc"])
            if self._terminating and rc in STOPPED_AS_ASKED:
                line = f"{match['name']} stopped"
            elif self._terminating:
                line = f"{match['name']} stopped (exit code {rc})"
            else:
                line = f"{match['name']} exited unexpectedly (exit code {rc}): stopping the others"
        super()._system_print(line + "\n")


def read_procfile(path):
    return environ.parse_procfile(path.read_text()).processes


def worker_names(processes):
    """The Celery node names the Procfile's workers will have (their --hostname, %h expanded)."""
    names = []
    for command in processes.values():
        if re.search(r"\bcelery\b.*\bworker\b", command):
            match = re.search(r"--hostname[= ](\S+)", command)
            names.append((match.group(1) if match else "celery@%h").replace("%h", socket.gethostname()))
    return names


def not_ready(port, workers):
    """What is not ready yet (empty when the shop is): web listening, each worker answering a
    ping, then web's /healthz (asked last, so that the log shows one health check, not many)."""
    if not port_open(port):
        return ["web is not listening yet"]
    from harbor.celery import app

    answered = {name for reply in app.control.ping(timeout=1.0) for name in reply}
    if missing := [f"worker {name} does not answer a ping" for name in workers if name not in answered]:
        return missing
    try:
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=3)
    except requests.RequestException as exc:
        return [f"/healthz: {exc}"]
    return [] if health.status_code == 200 else [f"/healthz answers {health.status_code}: {health.text[:200]}"]


def announce_when_ready(manager, port, workers, ready_text, started, timeout=READY_TIMEOUT):
    """In a thread: wait until the shop is ready, then print `ready_text(seconds)`."""

    def wait():
        deadline = time.monotonic() + timeout
        while not manager._terminating:
            try:
                missing = not_ready(port, workers)
            except Exception as exc:  # e.g. the broker not answering yet: ask again
                missing = [f"{type(exc).__name__}: {exc}"]
            if not missing:
                time.sleep(0.5)  # let the processes' last start-up lines go first
                if not manager._terminating:
                    manager.say(ready_text(time.monotonic() - started))
                return
            if time.monotonic() > deadline:
                manager.say(f"\nHarbor is not ready after {timeout} s: " + "; ".join(missing) + "\n")
                return
            time.sleep(0.5)

    threading.Thread(target=wait, name="harbor-ready", daemon=True).start()


def run(procfile, port, cwd, ready_text, started, env=None):
    """Run every Procfile process until Ctrl-C/SIGTERM or until one exits; the banner when
    ready. Returns 0 for a stop that was asked for, else the exit code honcho reports."""
    processes = read_procfile(procfile)
    workers = worker_names(processes)
    printer = HarborPrinter(sys.stdout)
    manager = HarborManager(printer, on_started=lambda m: announce_when_ready(m, port, workers, ready_text,
                                                                              started))
    for p in environ.expand_processes(processes, port=port):
        manager.add_process(p.name, p.cmd, env={**os.environ, **(env or {}), **p.env}, cwd=str(cwd))
    manager.loop()
    if manager.asked_to_stop:
        return 0
    return manager.returncode or 1  # a process ended by itself: even "exit 0" is not a shop running
