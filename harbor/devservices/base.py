"""What every embedded dev service shares: a directory, a port, a process, a state file.

A service runs in its own session (process group), so a Ctrl-C aimed at `make run`
reaches the shop's processes first; the services are stopped afterwards, in order,
by whoever started them. Its pid and port are kept in `<dir>/state.json`, so a later
run adopts a server that is still up (e.g. after the previous run was killed -9)
instead of starting a second one on the same data.

Its port is chosen once and kept in `<dir>/port`: the next start uses it again, so the URLs
in `var/devservices.env` (and in any shell that sourced it) stay right across restarts. Only
if something else has taken that port meanwhile is a new one chosen (and kept).
"""

import json
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

logger = logging.getLogger("harbor.devservices")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port, host="127.0.0.1"):
    """True if a server could listen on the port now (as servers do, with SO_REUSEADDR: a
    connection of the previous run still in TIME_WAIT does not make the port taken)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        pass
    # Someone else's zombie (a gunicorn worker its arbiter has not reaped yet) is dead too.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc here: it exists, as far as anyone can tell
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


class Service:
    name = ""  # directory name and label
    env_var = ""  # the variable that, when set, means "use that server instead"
    start_timeout = 60

    def __init__(self, root, *, durable=True):
        self.dir = Path(root) / self.name
        self.durable = durable  # False for throwaway test servers: trade safety for speed
        self.port = None
        self.pid = None
        self.process = None

    # --- to implement --------------------------------------------------------------------
    def command(self):
        raise NotImplementedError

    def url(self):
        raise NotImplementedError

    def ready(self):
        """True once the server answers requests."""
        return port_open(self.port)

    def prepare(self):
        """One-time setup before the first start (e.g. initdb)."""

    def after_start(self):
        """Setup that needs the running server (e.g. create the database)."""

    def run_as(self):
        """A user name to run the server as, or None for the current user."""
        return None

    # --- lifecycle -----------------------------------------------------------------------
    @property
    def state_file(self):
        return self.dir / "state.json"

    def adopt(self):
        """Reuse a server a previous run left up; True if there is one."""
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return False
        previous_port = self.port
        self.pid, self.port = state["pid"], state["port"]
        if pid_alive(self.pid) and self.ready():
            logger.info("%s: reusing the server already running (pid %s, port %s)", self.name, self.pid, self.port)
            return True
        self.pid, self.port = None, previous_port
        return False

    @property
    def port_file(self):
        return self.dir / "port"

    def choose_port(self):
        """The port kept from an earlier start if it is still free, else a new one (kept)."""
        try:
            kept = int(self.port_file.read_text())
        except (OSError, ValueError):
            kept = None
        if kept and port_free(kept):
            return kept
        port = free_port()
        if kept:
            logger.warning("%s: port %s (kept in %s) is taken; using %s from now on", self.name, kept,
                           self.port_file, port)
        self.port_file.write_text(f"{port}\n")
        return port

    def start(self):
        if self.pid or self.adopt():
            return self
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or self.choose_port()
        self.prepare()
        log = open(self.dir / f"{self.name}.log", "ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, user=self.run_as(), cwd=self.dir,
        )
        log.close()
        self.pid = self.process.pid
        self.state_file.write_text(json.dumps({"pid": self.pid, "port": self.port}))
        deadline = time.monotonic() + self.start_timeout
        while not self.ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.dir}/{self.name}.log")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer within {self.start_timeout}s; see {self.dir}")
            time.sleep(0.1)
        self.after_start()
        logger.info("%s: started (pid %s) at %s", self.name, self.pid, self.url())
        return self

    stop_signal = signal.SIGTERM

    def stop(self, timeout=20):
        if not self.pid:
            return
        try:
            os.killpg(self.pid, self.stop_signal)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while pid_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(self.pid):
            logger.warning("%s: did not stop in %ss, killing it", self.name, timeout)
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process is not None:
            self.process.wait()
        self.state_file.unlink(missing_ok=True)
        logger.info("%s: stopped", self.name)
        self.pid = self.process = None
