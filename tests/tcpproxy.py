"""A TCP proxy a test can cut: the shop's processes reach a shared server (RabbitMQ) through
it, so a test can take "the broker" away from them without touching the server itself.

  proxy.cut()        down: new connections are refused (nothing listens on the port) and
                     every open connection is reset, both ways
  proxy.blackhole()  unreachable: new connections are accepted but never answered, and open
                     connections stop moving bytes (held in the kernel's buffers, as a
                     network partition holds them until TCP gives up or the path heals)
  proxy.restore()    up again: new connections go through; blackholed bytes flow on; the
                     connections accepted while blackholed are reset (their clients gave up)

Threads and plain sockets; one thread accepts, one pumps each connection both ways.
"""

import select
import socket
import struct
import threading
import time

from harbor.devservices.base import free_port


def _reset(sock):
    """Close with an RST (SO_LINGER 0), as a dead peer or a firewall's reject would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class _Pipe:
    def __init__(self, client, upstream):
        self.client, self.upstream = client, upstream
        self.dead = False  # the pump stops
        self.reset = False  # ...and resets both ends (a cut), instead of closing them
        self.thread = None


class TcpProxy:
    def __init__(self, host, port):
        self.target = (host, port)
        self.port = free_port()
        self.mode = "up"  # up | down | blackhole
        self._lock = threading.Lock()
        self._pipes = set()
        self._held = []  # connections accepted while blackholed, never answered
        self._listener = None
        self._stopped = False

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        self._listen()
        return self

    # --- what a test does ---------------------------------------------------------------------
    def cut(self):
        with self._lock:
            self.mode = "down"
            pipes, held, self._held = list(self._pipes), self._held, []
        self._close_listener()
        for pipe in pipes:
            pipe.reset = pipe.dead = True
        for sock in held:
            _reset(sock)
        for pipe in pipes:
            pipe.thread.join(5)

    def blackhole(self):
        with self._lock:
            was_down, self.mode = self.mode == "down", "blackhole"
        if was_down:
            self._listen()

    def restore(self):
        with self._lock:
            was_down, self.mode = self.mode == "down", "up"
            held, self._held = self._held, []
        for sock in held:
            _reset(sock)
        if was_down:
            self._listen()

    def stop(self):
        self._stopped = True
        self.cut()

    def connections(self):
        with self._lock:
            return len(self._pipes)

    # --- the machinery --------------------------------------------------------------------------
    def _listen(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 5
        while True:  # the same port again after a cut (its old connections may linger)
            try:
                listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        listener.listen(128)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name=f"tcpproxy-{self.port}", daemon=True).start()

    def _close_listener(self):
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def _accept(self, listener):
        while self._listener is listener and not self._stopped:
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return  # closed by cut()
            client.settimeout(None)
            with self._lock:
                if self.mode == "blackhole":
                    self._held.append(client)
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            pipe = _Pipe(client, upstream)
            pipe.thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
            with self._lock:
                self._pipes.add(pipe)
            pipe.thread.start()

    def _pump(self, pipe):
        ends = {pipe.client: pipe.upstream, pipe.upstream: pipe.client}
        try:
            while not pipe.dead:
                if self.mode == "blackhole":  # read nothing: the bytes wait in the kernel
                    time.sleep(0.05)
                    continue
                readable, _, _ = select.select(list(ends), [], [], 0.1)
                for sock in readable:
                    try:
                        data = sock.recv(65536)
                        if data:
                            ends[sock].sendall(data)
                    except OSError:
                        data = b""
                    if not data:
                        pipe.dead = True
                        break
        finally:
            for sock in ends:
                _reset(sock) if pipe.reset else sock.close()
            with self._lock:
                self._pipes.discard(pipe)
