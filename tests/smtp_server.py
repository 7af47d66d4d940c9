"""A real SMTP server (aiosmtpd) on 127.0.0.1, on a port the system picks, for the weekly email's tests.

``Inbox`` keeps what it accepted and refuses what a test tells it to: some recipients (at RCPT), or
every message (at DATA). ``serve_smtp(tls=...)`` offers STARTTLS with a certificate the test made.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Inbox:
    """The server's behaviour and what it received."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    """Recipients refused at RCPT with 550."""
    refuse_data: bool = False
    """Every message refused at DATA with 554."""
    port: int = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return "554 5.7.1 message rejected as spam"
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 2.0.0 queued"

    def to(self, recipient: str) -> list[EmailMessage]:
        return [r.message() for r in self.received if recipient in r.rcpt_tos]


class _AnyPort(Controller):
    """aiosmtpd's controller, listening on a port the system picks (port 0)."""

    def _create_server(self) -> Awaitable[Any]:
        async def create() -> Any:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


@contextmanager
def serve_smtp(*, tls: ssl.SSLContext | None = None, implicit: bool = False) -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1; with ``tls``, it offers STARTTLS and requires it, or with
    ``implicit``, speaks TLS from the first byte."""
    inbox = Inbox()
    extra: dict[str, Any] = {}
    if tls is not None:
        extra = {"ssl_context": tls} if implicit else {"tls_context": tls, "require_starttls": True}
    controller = _AnyPort(inbox, hostname="127.0.0.1", **extra)
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()
