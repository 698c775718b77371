"""An HTTP proxy in front of localstripe that injects faults on request, or adds latency
to every call (the benchmark's "Stripe as slow as the real one": `proxy.latency = 0.3`).

`proxy.inject("POST", r"/confirm$", "500", times=3)` makes the next three matching
requests fail with 500 without reaching Stripe. Faults:
  "500", "503", "429"  answer that status, the request never reaches Stripe
  "timeout"         the request never reaches Stripe: held longer than the client waits, then dropped
  "drop_after"      forward it (Stripe processes it), then drop the connection unanswered
  "answer_too_late" forward it (Stripe processes it), then hold Stripe's answer longer than
                    the client waits (`timeout_seconds`) and only then send it: Stripe charged,
                    and the answer came too late for us
  "delay"           forward it (Stripe processes it), then hold the answer `delay_seconds`

Every request is recorded in `proxy.log` as a Call: what came in, the fault it got, what
Stripe answered if it was forwarded, and whether the answer reached the client in time, so
a test can prove its fault happened (e.g. "the confirm was forwarded, then its answer held").
"""

import http.client
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from harbor.devservices.base import free_port


@dataclass
class Call:
    method: str
    path: str
    fault: str  # or "ok"
    idempotency_key: str = ""  # Harbor's keys name the order: harbor-order-<id>-<step>
    upstream_status: int | None = None  # Stripe's answer, if the request was forwarded
    answered: bool = False  # the client got an answer (False: dropped, or it had given up)
    client: str = ""  # the caller's address (the multi-host harness: which host asked)
    at: float = 0.0  # when it came in (time.time())

    @property
    def forwarded(self):
        return self.upstream_status is not None

    def for_order(self, order_id):
        return self.idempotency_key.startswith(f"harbor-order-{order_id}-")


class FaultProxy:
    def __init__(self, upstream, host="127.0.0.1"):
        self.upstream = urlsplit(upstream)
        self.host = host
        self.rules = []
        self.log = []  # a Call per request
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, free_port()), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self):
        return f"http://{self.host}:{self.server.server_port}"

    def inject(self, method, path_pattern, fault, times=1):
        with self._lock:
            self.rules.append([method, re.compile(path_pattern), fault, times])

    def clear(self):
        with self._lock:
            self.rules.clear()
            self.log.clear()

    def _take_fault(self, method, path):
        with self._lock:
            for rule in self.rules:
                if rule[0] == method and rule[1].search(path) and rule[3] > 0:
                    rule[3] -= 1
                    return rule[2]
        return None

    def faults_served(self):
        with self._lock:
            return [call for call in self.log if call.fault != "ok"]

    def calls(self, method, path_pattern, order_id=None):
        """The recorded requests matching; with `order_id`, only those carrying its idempotency key."""
        pattern = re.compile(path_pattern)
        with self._lock:
            return [call for call in self.log if call.method == method and pattern.search(call.path)
                    and (order_id is None or call.for_order(order_id))]

    def reached_stripe(self, method, path_pattern, order_id=None, status=None):
        """The matching requests that Stripe processed (optionally: that it answered with `status`)."""
        return [call for call in self.calls(method, path_pattern, order_id)
                if call.forwarded and (status is None or call.upstream_status == status)]

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except ConnectionError:  # the caller is gone (a test killed its host): nothing to answer
                    pass

            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._take_fault(self.command, self.path)
                call = Call(self.command, self.path, fault or "ok", self.headers.get("Idempotency-Key") or "",
                            client=self.client_address[0], at=time.time())
                with proxy._lock:
                    proxy.log.append(call)
                if fault in ("500", "503", "429"):
                    payload = b'{"error": {"message": "injected fault", "type": "api_error"}}'
                    self.send_response(int(fault))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    call.answered = True
                    return
                if fault == "timeout":
                    time.sleep(float(proxy.timeout_seconds))
                    self.close_connection = True
                    return
                if proxy.latency:
                    time.sleep(proxy.latency)
                status, headers, data = self._forward(body)
                call.upstream_status = status
                if fault == "drop_after":
                    self.close_connection = True
                    return
                if fault == "answer_too_late":
                    time.sleep(float(proxy.timeout_seconds))  # the client has given up by now
                    self.close_connection = True
                if fault == "delay":
                    time.sleep(float(proxy.delay_seconds))
                try:
                    self.send_response(status)
                    for name, value in headers:
                        if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:  # the client hung up before the answer came
                    self.close_connection = True
                    return
                call.answered = fault != "answer_too_late"

            def _forward(self, body):
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                result = response.status, response.getheaders(), response.read()
                conn.close()
                return result

            do_GET = do_POST = do_DELETE = _any

        return Handler

    timeout_seconds = 6  # longer than the tests' STRIPE_TIMEOUT (3 s)
    delay_seconds = 2
    latency = 0.0  # seconds added to every request that reaches Stripe

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
