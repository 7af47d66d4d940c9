"""The suggestion commands and what the others print of suggestions, through Typer's CliRunner,
against a real database stocked by a real poll (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aggregator.cli import app
from tests.fixture_server import serve
from tests.stock import Stock, stock

runner = CliRunner()
RECSYS = "Serving a recommender with SageMaker"


@pytest.fixture
def st(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stock]:
    with serve() as server:
        result = stock(
            server,
            tmp_path,
            database_url,
            {"alpha": [RECSYS, "A proof of a theorem"], "beta": ["Tokenizers"]},
            hints={"alpha": "business"},
        )
        result.app.close()
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
        monkeypatch.setenv("AGGREGATOR_CURATOR", "ana")
        monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
        yield result


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_backfill_suggests_every_candidate_once_then_none(st: Stock) -> None:
    first = invoke("suggest", "backfill")
    assert first.exit_code == 0, first.output
    assert "3 candidates suggested and scored" in first.output
    assert "0 candidates" in invoke("suggest", "backfill").output
    assert "3 candidates" in invoke("suggest", "backfill", "--all").output


def queue_json(*args: str) -> list[dict[str, object]]:
    result = invoke("queue", "--json", *args)
    assert result.exit_code == 0, result.output
    items: list[dict[str, object]] = json.loads(result.stdout)
    return items


def test_queue_sorts_by_score_and_filters_on_suggested_sections(st: Stock) -> None:
    unscored = queue_json("--sort", "score")
    assert all(item["score"] is None for item in unscored)
    invoke("suggest", "backfill")
    items = queue_json("--sort", "score")
    scores = [float(str(item["score"])) for item in items]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    table = invoke("queue", "--sort", "score")
    assert "score" in table.output and f"{scores[0]:.0f}" in table.output
    shown = json.loads(invoke("show", str(st.id("Tokenizers")), "--json").stdout)
    section = str(shown["suggested_section"])
    found = [item["title"] for item in queue_json("--section", section)]
    assert "Tokenizers" in found  # beta has no hint and nothing promoted: its suggestion decides
    assert invoke("queue", "--sort", "nonsense").exit_code == 2


def test_show_prints_the_suggestion_the_score_and_their_reasons(st: Stock) -> None:
    cid = st.id(RECSYS)
    before = invoke("show", str(cid))
    assert "not yet (run `aggregator suggest backfill`)" in before.output
    invoke("suggest", "backfill")
    text = invoke("show", str(cid)).output
    assert "suggested" in text and "business/" in text and "→" in text
    assert "score" in text and "+40 base" in text
    data = json.loads(invoke("show", str(cid), "--json").stdout)
    assert str(data["suggested_section"]).startswith("business/")
    assert data["score_reasons"][0] == {"phrase": "base", "points": 40.0}
