"""A real SMTP server (aiosmtpd) that keeps every message it accepts."""

import asyncio
import email
import email.policy
import threading

from aiosmtpd.controller import Controller

from harbor.devservices.base import free_port


class Sink:
    def __init__(self, host="127.0.0.1"):
        self.messages = []
        self.delay = 0  # seconds to take over each message: a slow mail server
        self.refused = {}  # address -> the server's answer to RCPT TO, e.g. "550 5.1.1 No such user"
        self.refusals = []  # (address, answer) of every refused recipient
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname=host, port=free_port())

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            answer = self.refused.get(address)
            if answer:
                self.refusals.append((address, answer))
                return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address, subject_contains=""):
        with self._lock:
            return [m for m in self.messages if m["To"] == address and subject_contains in m["Subject"]]

    def clear(self):
        with self._lock:
            self.messages.clear()

    @property
    def url(self):
        return f"smtp://{self.controller.hostname}:{self.controller.port}"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()
