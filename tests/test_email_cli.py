"""``aggregator email weekly`` through Typer's CliRunner: the preview files, a send to a real SMTP
server (aiosmtpd) on 127.0.0.1, exit 1 with the server's answer on a refusal, exit 2 on usage."""

from __future__ import annotations

from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aggregator.cli import app
from tests.fixture_server import serve
from tests.smtp_server import Inbox, serve_smtp
from tests.stock import Stock, stock

runner = CliRunner()
#: The email of 2024-W13 (sent Monday 2024-03-25 08:00 UTC) lists what the stock's poll saw on 2024-03-20.
WEEK = "2024-W13"


@pytest.fixture
def st(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stock]:
    with serve() as server:
        result = stock(server, tmp_path, database_url, {"alpha": ["Serving many models", "루다 생성 모델"]})
    result.app.close()
    with result.config_path.open("a", encoding="utf-8") as f:
        f.write("email:\n  recipients: [ana@example.org, bo@example.org]\n  sender: bot@example.org\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    for name in ("HOST", "PORT", "STARTTLS", "TLS", "SENDER", "USER", "PASSWORD", "CA_FILE"):
        monkeypatch.delenv(f"AGGREGATOR_SMTP_{name}", raising=False)
    yield result


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with serve_smtp() as box:
        monkeypatch.setenv("AGGREGATOR_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("AGGREGATOR_SMTP_PORT", str(box.port))
        monkeypatch.setenv("AGGREGATOR_SMTP_STARTTLS", "false")
        yield box


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_a_dry_run_writes_the_message_and_the_html_part(st: Stock, tmp_path: Path) -> None:
    result = invoke("email", "weekly", "--week", WEEK, "--dry-run", "-o", "week.eml", "--html", "week.html")
    assert result.exit_code == 0, result.output
    assert "2024-W13: 2 new candidates, 0 feeds failing" in result.output
    assert "dry run: nothing sent" in result.output
    msg = BytesParser(policy=policy.default).parsebytes((tmp_path / "week.eml").read_bytes())
    assert msg["To"] == "ana@example.org, bo@example.org"
    assert "루다 생성 모델" in (tmp_path / "week.html").read_text(encoding="utf-8")


def test_a_send_then_a_second_run_then_force(st: Stock, inbox: Inbox) -> None:
    first = invoke("email", "weekly", "--week", WEEK, "--to", "cy@example.org")
    assert first.exit_code == 0, first.output
    assert "sent to cy@example.org" in first.output
    assert [r.rcpt_tos for r in inbox.received] == [["cy@example.org"]]
    second = invoke("email", "weekly", "--week", WEEK, "--to", "cy@example.org")
    assert second.exit_code == 0 and "had 2024-W13 already (--force sends it again)" in second.output
    assert len(inbox.received) == 1
    forced = invoke("email", "weekly", "--week", WEEK, "--to", "cy@example.org", "--force")
    assert forced.exit_code == 0 and len(inbox.received) == 2


def test_a_refused_recipient_exits_1_with_the_servers_answer(st: Stock, inbox: Inbox) -> None:
    inbox.refuse = {"bo@example.org"}
    result = invoke("email", "weekly", "--week", WEEK)
    assert result.exit_code == 1
    assert "sent to ana@example.org" in result.output
    assert (
        "error: bo@example.org was refused by the mail server: 550 5.1.1 <bo@example.org>: mailbox "
        "unavailable (run again to retry it alone)"
    ) in " ".join(result.output.split())


def test_no_server_and_a_bad_week_are_one_line_errors(st: Stock) -> None:
    result = invoke("email", "weekly")
    assert result.exit_code == 2
    assert "environment: AGGREGATOR_SMTP_HOST: no mail server to send through" in result.output
    assert "Traceback" not in result.output
    bad = invoke("email", "weekly", "--week", "2024-53", "--dry-run")
    assert bad.exit_code == 1
    assert "not an ISO week: '2024-53' (write it as YYYY-Www, e.g. 2026-W50)" in bad.output
    not_an_address = invoke("email", "weekly", "--to", "ana at example", "--dry-run")
    assert (
        not_an_address.exit_code == 2 and "'ana at example' is not an email address" in not_an_address.output
    )
    help_text = invoke("email", "weekly", "--help")
    assert "Example: aggregator email weekly --dry-run -o week.eml" in " ".join(help_text.output.split())
