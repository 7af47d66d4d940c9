"""The triage commands through Typer's CliRunner, against a real database stocked by a real poll."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aggregator.cli import app
from tests.fixture_server import serve
from tests.stock import Stock, stock

runner = CliRunner()


@pytest.fixture
def st(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stock]:
    with serve() as server:
        result = stock(server, tmp_path, database_url, {"alpha": ["Serving many models", "루다 생성 모델"]})
        result.app.close()
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
        monkeypatch.setenv("AGGREGATOR_CURATOR", "ana")
        monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
        yield result


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def show(cid: int) -> dict[str, object]:
    result = invoke("show", str(cid), "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_shortlist_promote_with_notes_and_show(st: Stock) -> None:
    cid = st.id("Serving many models")
    result = invoke("shortlist", str(cid))
    assert result.exit_code == 0
    assert f"{cid}  new → shortlisted  Serving many models" in result.output
    result = invoke(
        "promote", str(cid), "--section", "business/mlops", "--digest", "2024-03",
        "--note", "first", "--note", "second [link](https://example.com/x)", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["action"] == "promote"
    assert report["changed"] == [
        {"id": cid, "title": "Serving many models", "from": "shortlisted", "to": "promoted", "version": 2,
         "digest": "2024-03", "section": "business/mlops"},
    ]  # fmt: skip
    data = show(cid)
    assert data["status"] == "promoted"
    assert (data["digest"], data["section"], data["decided_by"]) == ("2024-03", "business/mlops", "ana")
    assert data["notes"] == ["first", "second [link](https://example.com/x)"]
    text = invoke("show", str(cid)).output
    assert "promoted into 2024-03 business/mlops" in text
    assert "ana: promote shortlisted → promoted" in text


def test_the_curator_comes_from_the_option_then_the_environment(st: Stock) -> None:
    cid = st.id("루다 생성 모델")
    assert invoke("reject", str(cid), "--reason", "off topic", "--curator", "bo").exit_code == 0
    log = json.loads(invoke("log", str(cid), "--json").stdout)
    assert [(d["curator"], d["action"], d["note"]) for d in log] == [("bo", "reject", "off topic")]
    assert invoke("restore", str(cid)).exit_code == 0
    log = json.loads(invoke("log", "--json").stdout)
    assert log[0]["curator"] == "ana" and log[0]["action"] == "restore"
    table = invoke("log").output
    assert "rejected → new" in table and "루다 생성 모델" in table and "off topic" in table


def test_refusals_exit_1_and_name_every_problem(st: Stock) -> None:
    a = st.id("Serving many models")
    assert invoke("promote", str(a), "--section", "aws/mlops").exit_code == 0
    result = invoke("reject", str(a), "424242")
    assert result.exit_code == 1
    assert f"candidate {a} is promoted" in result.stderr
    assert "no candidate 424242" in result.stderr
    result = invoke("promote", str(a), "--section", "nowhere")
    assert result.exit_code == 1 and "unknown section 'nowhere'" in result.stderr
    assert show(a)["status"] == "promoted"


def test_snooze_until_a_relative_date_then_restore_and_undo(st: Stock) -> None:
    cid = st.id("Serving many models")
    before = datetime.now(UTC)
    result = invoke("snooze", str(cid), "--until", "2w")
    after = datetime.now(UTC)
    assert result.exit_code == 0, result.output
    data = show(cid)
    assert data["status"] == "snoozed"
    until = datetime.fromisoformat(str(data["snoozed_until"]))
    assert before + timedelta(weeks=2) <= until <= after + timedelta(weeks=2)
    result = invoke("snooze", str(cid), "--until", "next tuesday")
    assert result.exit_code == 2 and "is not a date" in result.output
    assert invoke("restore", str(cid)).exit_code == 0
    assert show(cid)["status"] == "new"
    result = invoke("undo")
    assert result.exit_code == 0 and "new → snoozed" in result.output
    assert show(cid)["status"] == "snoozed"


def test_note_adds_or_replaces(st: Stock) -> None:
    cid = st.id("Serving many models")
    invoke("note", str(cid), "one")
    invoke("note", str(cid), "two")
    assert show(cid)["notes"] == ["one", "two"]
    invoke("note", str(cid), "only", "--replace")
    assert show(cid)["notes"] == ["only"]


def test_undo_with_nothing_to_undo_says_so(st: Stock) -> None:
    result = invoke("undo", "--curator", "nobody")
    assert result.exit_code == 1
    assert "nobody has no decision left to undo" in result.stderr
