"""Sending through SMTP (smtplib): STARTTLS or implicit TLS, a login when a user is set, timeouts on
connecting and on every answer, one envelope per recipient, so a refused recipient is retried alone.

A server that cannot be reached, refuses TLS or the login is a :class:`MailError` naming it and the
settings to check; a recipient the server refuses is a :class:`Delivery` with the server's answer.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aggregator.mail.values import Delivery, MailError


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to send (``AGGREGATOR_SMTP_*``)."""

    host: str
    port: int
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    tls: bool = False
    """Implicit TLS (port 465); ``starttls`` is then not used."""
    timeout: float = 30.0
    ca_file: Path | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def _context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(settings.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise MailError(
                f"cannot read AGGREGATOR_SMTP_CA_FILE {settings.ca_file}: {exc} "
                "(name a PEM file of certificates)"
            ) from None
    return context


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """A connected, secured and logged-in client; MailError naming the server otherwise."""
    context = _context(settings) if settings.tls or settings.starttls else None
    client: smtplib.SMTP | None = None
    try:
        if settings.tls:
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            if settings.starttls:
                client.starttls(context=context)
        if settings.user:
            client.login(settings.user, settings.password or "")
        return client
    except smtplib.SMTPNotSupportedError:
        _close(client)
        raise MailError(
            f"the mail server {settings.where} does not offer STARTTLS "
            "(use its TLS port with AGGREGATOR_SMTP_TLS=true, "
            "or AGGREGATOR_SMTP_STARTTLS=false on a trusted network)"
        ) from None
    except smtplib.SMTPResponseException as exc:
        _close(client)
        raise MailError(
            f"the mail server {settings.where} refused us: {_answer(exc.smtp_code, exc.smtp_error)} "
            "(check AGGREGATOR_SMTP_USER and AGGREGATOR_SMTP_PASSWORD)"
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        _close(client)
        raise MailError(
            f"cannot reach the mail server {settings.where}: {exc or type(exc).__name__} "
            "(check AGGREGATOR_SMTP_HOST, AGGREGATOR_SMTP_PORT and the TLS settings)"
        ) from None


def _close(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def deliver(
    settings: SmtpSettings,
    sender: str,
    copies: Sequence[tuple[str, str, EmailMessage]],
    on_delivery: Callable[[Delivery], None],
) -> list[Delivery]:
    """Send each (recipient, message id, message) in its own envelope; ``on_delivery`` hears of each
    answer as it comes (so an accepted recipient is recorded before the next is tried)."""
    client = _connect(settings)
    out: list[Delivery] = []
    lost: str | None = None
    try:
        for recipient, message_id, msg in copies:
            if lost is None:
                try:
                    client.send_message(msg, from_addr=sender, to_addrs=[recipient])
                    delivery = Delivery(recipient, True, "250 accepted", message_id)
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = exc.recipients.get(recipient, (550, b"refused"))
                    delivery = Delivery(recipient, False, _answer(code, text), message_id)
                except smtplib.SMTPResponseException as exc:
                    delivery = Delivery(recipient, False, _answer(exc.smtp_code, exc.smtp_error), message_id)
                except (OSError, smtplib.SMTPException) as exc:
                    lost = f"the connection to {settings.where} was lost: {exc or type(exc).__name__}"
            if lost is not None:
                delivery = Delivery(recipient, False, lost, message_id)
            out.append(delivery)
            on_delivery(delivery)
    finally:
        _close(client)
    return out
