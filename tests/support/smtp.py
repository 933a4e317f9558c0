"""A real local SMTP server (aiosmtpd) standing in for the mail provider: keeps every accepted
message, and can answer the first DATA commands with scripted temporary failures."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class SmtpStandIn:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)  # Message-ID of every DATA attempt
    script: list[str] = field(default_factory=list)  # replies to use before accepting, e.g. "451 ..."

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.attempts.append(str(message["Message-ID"]))
        if self.script:
            return self.script.pop(0)
        self.messages.append(message)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_stand_in() -> Iterator[SmtpStandIn]:
    server = SmtpStandIn(host="127.0.0.1", port=_free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
