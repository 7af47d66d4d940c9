"""Issue 17's words on the command line: one rule for a missing id, `-s`, undo, note, empty lists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.cli.voice import ExitCode, no_candidate
from tests.fixture_server import serve
from tests.stock import Stock, stock
from tests.test_triage_cli import invoke, st

__all__ = ["st"]

MISSING = 999_999


@pytest.mark.parametrize(
    "args",
    [
        ["show", str(MISSING)],
        ["show", str(MISSING), "--json"],
        ["promote", str(MISSING), "-s", "business/mlops"],
        ["shortlist", str(MISSING)],
        ["note", str(MISSING), "a note"],
        ["extract", "--id", str(MISSING)],
        ["log", str(MISSING)],
        ["digest", "move", str(MISSING), "--top"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_missing_id_is_one_rule_and_one_hint(st: Stock, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.FAILED
    assert result.stderr.strip() == f"error: {no_candidate(MISSING)}"
    assert result.stdout == ""


def test_show_abc_is_a_usage_error_in_our_words(st: Stock) -> None:
    result = invoke("show", "abc")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("error: ID: 'abc' is not a whole number")
    assert "Traceback" not in result.output and "╭" not in result.output


def test_s_is_section_everywhere_and_status_is_long_only(st: Stock) -> None:
    cid = st.id("Serving many models")
    assert invoke("promote", str(cid), "-s", "business/mlops", "--digest", "2024-03").exit_code == 0
    listed = json.loads(invoke("queue", "-s", "business/mlops", "--status", "all", "--json").stdout)
    assert [item["id"] for item in listed] == [cid]
    result = invoke("queue", "-s", "promoted")  # a status, not a section
    assert result.exit_code == ExitCode.USAGE and "unknown section 'promoted'" in result.stderr


def test_undo_note_and_empty_lists_say_what_happened(st: Stock) -> None:
    cid = st.id("Serving many models")
    assert "(undo with `aggregator undo`)" in invoke("shortlist", str(cid)).stdout
    undone = invoke("undo")
    assert undone.exit_code == 0 and f"{cid}  shortlisted → new" in undone.stdout
    assert "undo with" not in undone.stdout
    noted = invoke("note", str(cid), "check the benchmark table")
    assert noted.stdout.startswith(f"{cid}  note added: check the benchmark table  Serving many models")
    replaced = invoke("note", str(cid), "only this", "--replace")
    assert replaced.stdout.startswith(f"{cid}  notes replaced by: only this  ")
    empty = invoke("queue", "--status", "rejected", "--feed", "alpha")
    assert empty.exit_code == 0
    assert empty.stdout.strip() == "no candidate matches (status rejected, feed alpha)"
    assert "none of 0" not in empty.stdout
    assert invoke("candidates", "list", "--status", "rejected").stdout.strip() == (
        "no candidate matches (status rejected)"
    )
    assert invoke("log", "--curator", "nobody").stdout.strip() == "no decision matches (curator nobody)"


@pytest.fixture
def hinted(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stock]:
    feeds = {"broad": ["A broad research post"], "narrow": ["A language model post"]}
    with serve() as server:
        result = stock(
            server, tmp_path, database_url, feeds, hints={"broad": "research", "narrow": "research/nlp"}
        )
        result.app.close()
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
        monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
        yield result


def test_a_subsection_does_not_list_feeds_hinted_only_its_parent(hinted: Stock) -> None:
    def titles(section: str) -> set[str]:
        result = invoke("queue", "--section", section, "--json")
        assert result.exit_code == 0, result.output
        return {item["title"] for item in json.loads(result.stdout)}

    assert titles("research") == {"A broad research post", "A language model post"}
    assert titles("research/nlp") == {"A language model post"}
