"""The weekly email as one ``multipart/alternative`` message, fitted under the size cap.

Headers: Subject (RFC 2047 encoded when not ASCII), From, To, Date, Message-ID, List-Id,
List-Unsubscribe (a ``mailto:``) and Auto-Submitted; both parts UTF-8, base64 or quoted-printable,
whichever is shorter. Past 90 KB, fewer items per section are shown ("N more in the queue").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid

from aggregator.mail.render import render
from aggregator.mail.values import MailError, Rendered, WeekContent

#: The message's size limit (Gmail clips messages past about 102 KB).
MAX_BYTES = 90 * 1024
#: Items per section tried in turn until the message fits.
CAPS = (10, 8, 6, 5, 4, 3, 2, 1, 0)
#: The sender when neither feeds.yaml nor the environment names one (previews only).
PREVIEW_SENDER = "aggregator@localhost"


class _Policy(EmailPolicy):
    """The SMTP policy, but a Subject that is not ASCII is encoded by ``email.header.Header``: the
    policy's own folding drops the space where it splits a run of encoded words (루다 생성 → 루다생성)."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "subject" and not str(value).isascii():
            header = Header(str(value), "utf-8", maxlinelen=76, header_name=name)
            return f"{name}: {header.encode(linesep=self.linesep)}{self.linesep}"
        folded: str = super().fold(name, value)
        return folded

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject" and not str(value).isascii():
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


#: CRLF line ends, as SMTP wants them.
SMTP_POLICY = _Policy(linesep="\r\n")


def domain_of(address: str) -> str:
    """The domain of ``address`` (``localhost`` when it has none)."""
    _, at, domain = address.rpartition("@")
    return domain.strip("<> ") if at and domain.strip("<> ") else "localhost"


def new_message_id(week: str, sender: str) -> str:
    """A fresh ``Message-ID`` naming the week, under the sender's domain."""
    return make_msgid(idstring=week.replace("-", ""), domain=domain_of(sender))


def message(r: Rendered, *, sender: str, to: str | None, message_id: str, date: datetime) -> EmailMessage:
    """One recipient's copy (``to`` None: a preview addressed to nobody)."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = r.subject
    msg["From"] = sender
    msg["To"] = to or "undisclosed-recipients:;"
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["List-Id"] = f"aggregator weekly candidates <weekly.{domain_of(sender)}>"
    msg["List-Unsubscribe"] = f"<mailto:{sender}?subject=unsubscribe>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(r.text, subtype="plain", charset="utf-8")
    msg.add_alternative(r.html, subtype="html", charset="utf-8")
    return msg


def fitted(
    content_for: Callable[[int], WeekContent], *, sender: str, date: datetime
) -> tuple[WeekContent, Rendered, int]:
    """The content with the most items per section whose message fits in :data:`MAX_BYTES`, rendered,
    and its size in bytes."""
    caps = list(CAPS)
    while caps:
        cap = caps.pop(0)
        content = content_for(cap)
        rendered = render(content)
        probe = message(
            rendered,
            sender=sender,
            to="someone.with.a.long.address@example.com",
            message_id=new_message_id(content.window.week, sender),
            date=date,
        )
        size = len(probe.as_bytes())
        if size <= MAX_BYTES:
            return content, rendered, size
        # Skip the caps the size says cannot fit (it grows about in step with the items shown).
        guess = cap * MAX_BYTES / size
        caps = [c for c in caps if c <= guess] or caps[-1:]
    raise MailError(
        f"the weekly email of {content.window.week} is {size:,} bytes even with no item shown, "
        f"past the {MAX_BYTES:,}-byte cap (fewer feeds in trouble would shorten it)"
    )
