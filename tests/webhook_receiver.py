"""A webhook receiver as an outside system would run it, for the webhook fault tests
(tests/faults/test_webhook_faults.py): its own process, a real HTTP server on a port of its own.

It does what docs/webhooks.md asks of a receiver, written from the contract
(../shared/CONTRACT.md), not from the shop's code, so it also checks that the shop signs as
promised: it verifies `Harbor-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw
body>">` and dedupes by the event id. It records every request, one JSON line each, at
arrival (before it answers, so a request whose answer never reaches the shop is recorded
too):

    {"n": 7, "arrived": 1733370000.1, "event_id": "…", "type": "order.paid", "sequence": 12,
     "order_id": "…", "signature_ok": true, "accepted": true, "duplicate": false,
     "behaviour": "ok", "pid": 4242}

`accepted` means the receiver processed the event (it is in its dedupe store): a request it
answers 500 is not processed; one it answers too slowly, or holds until the sender is killed,
is (the receiver did the work, the shop never heard so). `duplicate` means it was processed
before (by this process or an earlier one on the same log: the store survives a restart).

Faults, for the first N delivery requests this process receives (command-line options):
  --fail-first N                     answer 500 without processing;
  --slow-first N --slow-seconds S    process, then answer only after S seconds;
  --hold-first N --hold-seconds S    process, then hold the request until released
                                     (POST /_control/release) or S seconds pass.
"Down" is the process stopped (Receiver.stop()) and started again on the same port.

Control: GET /_control/status -> {"pid", "requests", "held"}; POST /_control/release.

The test side is the Receiver class below (stdlib only, no Django: the script runs on its own).
"""

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import Request, urlopen

TOLERANCE = 300  # seconds: a delivery signed longer ago than this is refused as a replay


def signature_ok(secret, header, body, now):
    """The receiver's check, from the contract: t=<unix time>,v1=<hex HMAC-SHA256("<t>.<body>")>."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError, AttributeError):
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(now - timestamp) <= TOLERANCE and hmac.compare_digest(parts.get("v1", ""), expected)


class State:
    def __init__(self, options):
        self.options = options
        self.lock = threading.Lock()
        self.log = open(options.log, "a", buffering=1)  # line-buffered: each record is on disk as written
        self.seen = set()  # the dedupe store: event ids processed, by this process or an earlier one
        for line in Path(options.log).read_text().splitlines():
            record = json.loads(line)
            if record["accepted"]:
                self.seen.add(record["event_id"])
        self.requests = 0
        self.held = 0
        self.release = threading.Event()

    def record(self, **fields):
        """Decide what to do with delivery request number n, and write it down (atomically with
        the dedupe check: two copies of one event arriving together are one first, one duplicate)."""
        with self.lock:
            self.requests += 1
            n = self.requests
            o = self.options
            if not fields["signature_ok"]:
                behaviour = "bad_signature"
            elif n <= o.fail_first:
                behaviour = "fail"
            elif n <= o.fail_first + o.slow_first:
                behaviour = "slow"
            elif n <= o.fail_first + o.slow_first + o.hold_first:
                behaviour = "hold"
            else:
                behaviour = "ok"
            accepted = behaviour in ("ok", "slow", "hold")
            duplicate = accepted and fields["event_id"] in self.seen
            if accepted:
                self.seen.add(fields["event_id"])
            self.log.write(json.dumps({"n": n, "arrived": time.time(), **fields, "accepted": accepted,
                                       "duplicate": duplicate, "behaviour": behaviour, "pid": os.getpid()}) + "\n")
            return behaviour


class Handler(BaseHTTPRequestHandler):
    state = None  # set in main()

    def log_message(self, format, *args):  # quiet: the JSON lines are the record
        pass

    def _answer(self, code, body=b"", content_type="text/plain"):
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the sender gave up (timed out) or died meanwhile: nobody to answer
            pass

    def do_GET(self):
        if self.path == "/_control/status":
            s = self.state
            self._answer(200, json.dumps({"pid": os.getpid(), "requests": s.requests, "held": s.held}).encode(),
                         "application/json")
        else:
            self._answer(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_control/release":
            self.state.release.set()
            return self._answer(200, b"released")
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        header_id = self.headers.get("Harbor-Event-Id", "")
        behaviour = self.state.record(
            event_id=header_id, body_id=event.get("id"), type=event.get("type"), sequence=event.get("sequence"),
            order_id=data.get("order_id"),
            signature_ok=(signature_ok(self.state.options.secret, self.headers.get("Harbor-Signature", ""), body,
                                       time.time()) and header_id == event.get("id")))
        if behaviour == "bad_signature":
            self._answer(400, b"bad signature")
        elif behaviour == "fail":
            self._answer(500, b"receiver failing on purpose")
        elif behaviour == "slow":
            time.sleep(self.state.options.slow_seconds)
            self._answer(200, b"ok (late)")
        elif behaviour == "hold":
            with self.state.lock:
                self.state.held += 1
            self.state.release.wait(self.state.options.hold_seconds)
            self._answer(200, b"ok (held)")
        else:
            self._answer(200, b"ok")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--slow-first", type=int, default=0)
    parser.add_argument("--slow-seconds", type=float, default=0)
    parser.add_argument("--hold-first", type=int, default=0)
    parser.add_argument("--hold-seconds", type=float, default=60)
    options = parser.parse_args(argv)
    Handler.state = State(options)
    server = ThreadingHTTPServer(("127.0.0.1", options.port), Handler)  # SO_REUSEADDR: same port after a restart
    server.daemon_threads = True
    print(f"webhook receiver listening on {options.port} (pid {os.getpid()})", flush=True)
    server.serve_forever()


# --- The test side ---------------------------------------------------------------------------

class Receiver:
    """The receiver process, for a test: start(), stop() ("down"), start() again on the same
    port and log, records(), status(), release()."""

    def __init__(self, root, secret, port=None):
        self.root = Path(root)
        self.secret = secret
        self.port = port or _free_port()
        self.log_path = self.root / "receiver.jsonl"
        self.log_path.touch()
        self.process = None
        self.starts = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/harbor"

    def start(self, fail_first=0, slow_first=0, slow_seconds=0.0, hold_first=0, hold_seconds=60.0, timeout=15):
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        out = open(self.root / f"receiver-{self.starts}.out", "ab")
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--port", str(self.port), "--secret", self.secret, "--log", str(self.log_path),
             "--fail-first", str(fail_first), "--slow-first", str(slow_first), "--slow-seconds", str(slow_seconds),
             "--hold-first", str(hold_first), "--hold-seconds", str(hold_seconds)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.status()["pid"] == self.process.pid:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the webhook receiver did not start:\n" + self.output())
            time.sleep(0.05)

    def stop(self):
        """Down: the process ends; the port refuses connections until start() again."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    @property
    def up(self):
        return self.process is not None and self.process.poll() is None

    def _control(self, path, method="GET"):
        request = Request(f"http://127.0.0.1:{self.port}/_control/{path}", method=method,
                          data=b"" if method == "POST" else None)
        with urlopen(request, timeout=5) as answer:
            return json.loads(answer.read()) if path == "status" else answer.read()

    def status(self):
        return self._control("status")

    def release(self):
        return self._control("release", "POST")

    def records(self):
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def output(self):
        return "\n".join((p.read_text(errors="replace") for p in sorted(self.root.glob("receiver-*.out"))))


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
