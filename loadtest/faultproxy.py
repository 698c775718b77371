"""An HTTP proxy in front of localstripe that injects faults on request, or adds latency
to every call (the benchmark's "Stripe as slow as the real one": `proxy.latency = 0.3`).

`proxy.inject("POST", r"/confirm$", "500", times=3)` makes the next three matching
requests fail with 500 without reaching Stripe. Faults:
  "500", "503", "429"  answer that status, the request never reaches Stripe
  "timeout"         hold the request longer than the client waits, then drop it
  "drop_after"      forward it (Stripe processes it), then drop the connection unanswered
  "delay"           forward it (Stripe processes it), then hold the answer `delay_seconds`
"""

import http.client
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from harbor.devservices.base import free_port


class FaultProxy:
    def __init__(self, upstream):
        self.upstream = urlsplit(upstream)
        self.rules = []
        self.log = []  # (method, path, fault or "ok")
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}"

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
            return [entry for entry in self.log if entry[2] != "ok"]

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._take_fault(self.command, self.path)
                with proxy._lock:
                    proxy.log.append((self.command, self.path, fault or "ok"))
                if fault in ("500", "503", "429"):
                    payload = b'{"error": {"message": "injected fault", "type": "api_error"}}'
                    self.send_response(int(fault))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if fault == "timeout":
                    time.sleep(float(proxy.timeout_seconds))
                    self.close_connection = True
                    return
                if proxy.latency:
                    time.sleep(proxy.latency)
                status, headers, data = self._forward(body)
                if fault == "drop_after":
                    self.close_connection = True
                    return
                if fault == "delay":
                    time.sleep(float(proxy.delay_seconds))
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

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

    timeout_seconds = 6
    delay_seconds = 2
    latency = 0.0  # seconds added to every request that reaches Stripe

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
