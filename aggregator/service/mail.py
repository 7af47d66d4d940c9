"""The weekly email's operations for the front ends (``aggregator email weekly``, the daemon's job).

    clock once ─> the week's window ─> store.mail (one read) ─> mail.week (content) ─> mail.message
    (fitted under 90 KB) ─> files (-o, --html) ─> mail.smtp (an envelope per recipient) ─> email_sends
    (one write per accepted recipient, as soon as the server accepts)

A week goes to a recipient once: those recorded are skipped unless ``force``; a refused recipient
stays unsent, so the next run tries it alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.errors import ConfigError
from aggregator.mail.values import Delivery, MailError, WeekContent, WeeklyReport, Window
from aggregator.service.part import Part

if TYPE_CHECKING:
    from email.message import EmailMessage

    from aggregator.mail.smtp import SmtpSettings

__all__ = ["Mail"]


class Mail(Part):
    """The weekly email: preview it, send it once per week and recipient."""

    def current_week(self) -> str:
        """The ISO week it is now in the email's time zone (``2026-W50``)."""
        from aggregator.mail.week import current_week

        return current_week(self.app.clock(), self.app.config.email)

    def weekly(
        self,
        week: str | None = None,
        *,
        dry_run: bool = False,
        out: Path | None = None,
        html: Path | None = None,
        to: Sequence[str] = (),
        force: bool = False,
    ) -> WeeklyReport:
        """Build ``week``'s email (None: this week), write the preview files asked for, and unless
        ``dry_run`` send it to ``to`` (else feeds.yaml's recipients) who do not have it yet.

        A bad week is a MailError; no recipient, sender or server is a ConfigError; a server that
        cannot be reached is a MailError with nothing recorded; refused recipients are in the report.
        """
        from aggregator.mail.message import PREVIEW_SENDER, fitted, message, new_message_id
        from aggregator.mail.week import build_content, current_week, window
        from aggregator.store import mail as store

        now = self.app.clock()
        schedule = self.app.config.email
        win = window(week or current_week(now, schedule), schedule)
        recipients = tuple(dict.fromkeys(to or schedule.recipients))
        sender = self.app.settings.smtp_sender or schedule.sender
        if not dry_run:
            self._check_sendable(recipients, sender)
        month = _month(min(win.end, now))
        with self.app.read() as s:
            rows = store.week_candidates(s, win.start, win.end)
            feeds = store.feed_rows(s)
            status, counts = store.draft_counts(s, month)
            already = store.sent_recipients(s, win.week)

        def content_for(cap: int) -> WeekContent:
            draft = (month, status, counts)
            return build_content(win, rows, feeds, draft, self.app.taxonomy, now, cap=cap)

        shown_sender = sender or PREVIEW_SENDER
        content, rendered, size = fitted(content_for, sender=shown_sender, date=now)
        if out is not None:
            preview = message(
                rendered, sender=shown_sender, to=", ".join(recipients) or None,
                message_id=new_message_id(win.week, shown_sender), date=now,
            )  # fmt: skip
            _write(out, preview.as_bytes())
        if html is not None:
            _write(html, rendered.html.encode("utf-8"))
        report = WeeklyReport(
            win.week, win, rendered.subject, size, content.total, content.shown, dry_run,
            already_sent=tuple(r for r in recipients if r in already),
        )  # fmt: skip
        if dry_run:
            return report
        assert sender is not None  # _check_sendable
        pending = [r for r in recipients if force or r not in already]
        copies = []
        for recipient in pending:
            message_id = new_message_id(win.week, sender)
            msg = message(rendered, sender=sender, to=recipient, message_id=message_id, date=now)
            copies.append((recipient, message_id, msg))
        deliveries = self._deliver(win, sender, copies, now) if copies else []
        return WeeklyReport(
            win.week, win, rendered.subject, size, content.total, content.shown, False,
            already_sent=report.already_sent if not force else (), deliveries=tuple(deliveries),
        )  # fmt: skip

    def _deliver(
        self, win: Window, sender: str, copies: list[tuple[str, str, EmailMessage]], now: datetime
    ) -> list[Delivery]:
        from aggregator.mail.smtp import deliver
        from aggregator.store import mail as store

        def record(d: Delivery) -> None:
            if d.accepted:
                with self.app.write() as s:
                    store.record_send(s, win.week, d.recipient, d.message_id, now)

        return deliver(self._smtp(), sender, copies, record)

    def _smtp(self) -> SmtpSettings:
        from aggregator.mail.smtp import SmtpSettings

        st = self.app.settings
        assert st.smtp_host is not None  # _check_sendable
        password = st.smtp_password.get_secret_value() if st.smtp_password is not None else None
        return SmtpSettings(
            st.smtp_host, st.smtp_port, st.smtp_user, password, st.smtp_starttls, st.smtp_tls,
            st.smtp_timeout, st.smtp_ca_file,
        )  # fmt: skip

    def _check_sendable(self, recipients: tuple[str, ...], sender: str | None) -> None:
        problems = []
        if not recipients:
            problems.append(
                f"{self.app.config_path}: email.recipients: nobody to send to "
                "(list the curators' addresses there, or pass --to ADDR)"
            )
        if not sender:
            problems.append(
                f"{self.app.config_path}: email.sender: no From address "
                "(set it there, or AGGREGATOR_SMTP_SENDER)"
            )
        if not self.app.settings.smtp_host:
            problems.append(
                "environment: AGGREGATOR_SMTP_HOST: no mail server to send through "
                "(set it, with AGGREGATOR_SMTP_PORT; or preview with --dry-run -o week.eml)"
            )
        if problems:
            raise ConfigError("email", problems)


def _month(moment: datetime) -> str:
    """The digest issue a moment falls in (UTC): ``2026-12``."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise MailError(
            f"cannot write {path}: {exc.strerror or exc} (check the folder and its permissions)"
        ) from None
