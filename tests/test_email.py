"""The weekly email through the service, sent to a real SMTP server (aiosmtpd) on 127.0.0.1, on both
backends: the message parsed back, sent once per week and recipient, refusals, STARTTLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import trustme

from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.errors import ConfigError
from aggregator.mail.values import MailError
from aggregator.service import Service
from aggregator.store.tables import candidates, email_sends, feeds
from tests.fixture_server import serve
from tests.smtp_server import Inbox, serve_smtp
from tests.stock import T0, Stock, stock

A, B = "ana@example.org", "bo@example.org"
#: A Monday after T0's week (T0 is Wednesday 2024-03-20): the email of 2024-W13 covers T0.
SEND_DAY = datetime(2024, 3, 25, 9, 0, tzinfo=UTC)
EMAIL_YAML = f"email:\n  recipients: [{A}, {B}]\n  sender: digest-bot@example.org\n  timezone: UTC\n"


@pytest.fixture
def st(tmp_path: Path, database_url: str) -> Iterator[Stock]:
    with serve() as server:
        result = stock(
            server,
            tmp_path,
            database_url,
            {"alpha": ["Serving many models", "루다 생성 모델"], "beta": ["大規模言語モデルの評価"]},
            hints={"alpha": "research/nlp"},
        )
    result.app.close()
    with result.config_path.open("a", encoding="utf-8") as f:
        f.write(EMAIL_YAML)
    result.clock.now = SEND_DAY
    _made.clear()
    yield result
    for app in _made:
        app.close()


_made: list[App] = []


def service_for(st: Stock, **settings: object) -> Service:
    """A service over ``st``'s database with these settings; closed when the test ends."""
    old = st.app
    app = make_app(
        Settings(database_url=old.settings.database_url, data_dir=old.settings.data_dir, **settings),
        load_config(st.config_path),
        config_path=st.config_path,
        clock=st.clock,
        parse_workers=0,
    )
    st.app = app
    _made.append(app)
    return Service(app)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with serve_smtp() as box:
        yield box


def plain_smtp(inbox: Inbox) -> dict[str, object]:
    return {"smtp_host": "127.0.0.1", "smtp_port": inbox.port, "smtp_starttls": False, "smtp_timeout": 5}


def sends(app: App) -> list[tuple[str, str]]:
    with app.read() as s:
        query = sa.select(email_sends.c.week, email_sends.c.recipient).order_by(email_sends.c.recipient)
        rows = s.execute(query)
        return [(r[0], r[1]) for r in rows]


def set_candidate(app: App, cid: int, **values: object) -> None:
    with app.write() as s:
        s.execute(sa.update(candidates).where(candidates.c.id == cid).values(**values))


def test_the_week_arrives_once_per_recipient_as_one_multipart_message(st: Stock, inbox: Inbox) -> None:
    service = service_for(st, **plain_smtp(inbox))
    korean = st.id("루다 생성 모델")
    set_candidate(st.app, korean, score=9.0, suggested_section="research/nlp", suggestion_reason="cue: 모델")
    report = service.mail.weekly()
    assert report.week == "2024-W13"  # the first run on a new database: this week only, no backlog
    assert [d.recipient for d in report.accepted] == [A, B] and not report.refused
    assert [r.rcpt_tos for r in inbox.received] == [[A], [B]]
    msg = inbox.to(A)[0]
    assert msg.get_content_type() == "multipart/alternative"
    text, html = (part.get_content() for part in msg.iter_parts())
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Subject"] == "2024-W13: 3 new candidates, 0 feeds failing · 루다 생성 모델"
    raw_subject = next(line for line in inbox.received[0].data.split(b"\r\n") if line.startswith(b"Subject:"))
    assert b"=?utf-8?" in raw_subject.lower()  # encoded, not raw UTF-8
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@example.org>")
    assert msg["Message-ID"] != inbox.to(B)[0]["Message-ID"]
    assert msg["List-Id"] == "aggregator weekly candidates <weekly.example.org>"
    assert msg["List-Unsubscribe"] == "<mailto:digest-bot@example.org?subject=unsubscribe>"
    assert msg["Date"] == "Mon, 25 Mar 2024 09:00:00 +0000"
    for part in (text, html):
        assert "루다 생성 모델" in part and "大規模言語モデルの評価" in part and "Serving many models" in part
        assert f"aggregator promote {korean} --section research/nlp" in part
        assert "cue: 모델" in part  # the suggestion's reason
    # ranked by score first: the Korean post leads its section
    assert text.index("루다 생성 모델") < text.index("Serving many models")
    assert sends(st.app) == [("2024-W13", A), ("2024-W13", B)]


def test_a_second_run_sends_nothing_new_and_force_sends_again(st: Stock, inbox: Inbox) -> None:
    service = service_for(st, **plain_smtp(inbox))
    service.mail.weekly()
    again = service.mail.weekly()
    assert again.deliveries == () and again.already_sent == (A, B)
    assert len(inbox.received) == 2
    forced = service.mail.weekly(force=True)
    assert [d.recipient for d in forced.accepted] == [A, B]
    assert len(inbox.received) == 4


def test_a_refusing_server_records_nothing(st: Stock, inbox: Inbox) -> None:
    inbox.refuse_data = True
    service = service_for(st, **plain_smtp(inbox))
    report = service.mail.weekly()
    assert [d.answer for d in report.refused] == ["554 5.7.1 message rejected as spam"] * 2
    assert sends(st.app) == []


def test_only_the_refused_recipient_is_tried_again(st: Stock, inbox: Inbox) -> None:
    inbox.refuse = {B}
    service = service_for(st, **plain_smtp(inbox))
    first = service.mail.weekly()
    assert [d.recipient for d in first.accepted] == [A]
    assert [(d.recipient, d.answer) for d in first.refused] == [(B, f"550 5.1.1 <{B}>: mailbox unavailable")]
    assert sends(st.app) == [("2024-W13", A)]
    inbox.refuse = set()
    second = service.mail.weekly()
    assert [d.recipient for d in second.deliveries] == [B] and second.already_sent == (A,)
    assert [r.rcpt_tos for r in inbox.received] == [[A], [B]]
    assert sends(st.app) == [("2024-W13", A), ("2024-W13", B)]


def test_an_unreachable_server_is_one_error_and_records_nothing(st: Stock) -> None:
    with serve_smtp() as gone:
        port = gone.port
    service = service_for(st, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_timeout=5)
    unreachable = rf"cannot reach the mail server 127.0.0.1:{port}: .*AGGREGATOR_SMTP_HOST"
    with pytest.raises(MailError, match=unreachable):
        service.mail.weekly()
    assert sends(st.app) == []


def test_starttls_with_a_certificate_the_test_made(st: Stock, tmp_path: Path) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with serve_smtp(tls=server_context) as inbox:
        untrusting = service_for(st, smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_timeout=5)
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusting.mail.weekly()
        assert sends(st.app) == [] and inbox.received == []
        trusting = {"smtp_ca_file": ca_file, "smtp_timeout": 5}
        service = service_for(st, smtp_host="127.0.0.1", smtp_port=inbox.port, **trusting)
        report = service.mail.weekly()
    assert [d.recipient for d in report.accepted] == [A, B]
    assert "루다 생성 모델" in inbox.to(A)[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_implicit_tls(st: Stock, tmp_path: Path) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with serve_smtp(tls=server_context, implicit=True) as inbox:
        tls = {"smtp_tls": True, "smtp_ca_file": ca_file, "smtp_timeout": 5}
        service = service_for(st, smtp_host="127.0.0.1", smtp_port=inbox.port, **tls)
        report = service.mail.weekly(to=[A])
    assert [d.recipient for d in report.accepted] == [A] and len(inbox.received) == 1


def test_a_dry_run_writes_the_preview_and_needs_no_server(st: Stock, tmp_path: Path) -> None:
    service = service_for(st)
    eml, html = tmp_path / "week.eml", tmp_path / "week.html"
    report = service.mail.weekly(dry_run=True, out=eml, html=html)
    with pytest.raises(ConfigError, match="AGGREGATOR_SMTP_HOST"):
        service.mail.weekly()
    assert report.dry_run and report.deliveries == () and sends(st.app) == []
    assert b"multipart/alternative" in eml.read_bytes()
    page = html.read_text(encoding="utf-8")
    assert "大規模言語モデルの評価" in page and "<style" not in page and 'style="' in page  # CSS inlined
    assert "<img" not in page


def test_groups_once_feeds_in_trouble_and_the_draft(st: Stock, inbox: Inbox) -> None:
    service = service_for(st, **plain_smtp(inbox))
    lead, copy = st.id("Serving many models"), st.id("大規模言語モデルの評価")
    set_candidate(st.app, copy, group_id=lead)
    set_candidate(st.app, lead, group_id=lead)
    with st.app.write() as s:
        s.execute(sa.update(feeds).where(feeds.c.name == "beta").values(error_count=3, last_error="HTTP 500"))
    service.triage.promote([st.id("루다 생성 모델")], section="research/nlp", curator="ana")
    report = service.mail.weekly(dry_run=True)
    text = report_text(service)
    assert report.candidates == 2
    assert report.subject.startswith("2024-W13: 2 new candidates, 1 feed failing")
    assert "大規模言語モデルの評価" not in text and "also from Beta (beta)" in text
    assert "* beta (Beta): failing, 3 failed polls in a row: HTTP 500" in text
    assert "== Digest 2024-03 so far ==" in text and "* 1.2 Research / NLP: 1" in text


def report_text(service: Service) -> str:
    from aggregator.mail.message import PREVIEW_SENDER  # noqa: F401 - the same build as the service's

    path = service.app.settings.data_dir / "preview.eml"
    path.parent.mkdir(parents=True, exist_ok=True)
    service.mail.weekly(dry_run=True, out=path)
    from email import policy
    from email.parser import BytesParser

    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = msg.get_body(("plain",))  # type: ignore[attr-defined]
    return str(body.get_content())


def test_a_late_week_lists_only_its_own_seven_days(st: Stock, inbox: Inbox) -> None:
    service = service_for(st, **plain_smtp(inbox))
    earlier = service.mail.weekly("2024-W12", dry_run=True)
    later = service.mail.weekly("2024-W14", dry_run=True)
    ours = service.mail.weekly("2024-W13", dry_run=True)
    with pytest.raises(MailError, match="write it as YYYY-Www"):
        service.mail.weekly("2024-13", dry_run=True)
    assert (earlier.candidates, later.candidates, ours.candidates) == (0, 0, 3)
    assert ours.window.start == SEND_DAY - timedelta(days=7, hours=1) and ours.window.start <= T0
