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


def test_feeds_report_counts_each_feeds_record_and_calls_out_quiet_ones(st: Stock) -> None:
    promoted = invoke("promote", str(st.id(RECSYS)), "--section", "business/mlops")
    assert promoted.exit_code == 0, promoted.output
    assert invoke("reject", str(st.id("A proof of a theorem"))).exit_code == 0
    result = invoke("feeds", "report", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["feed"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"alpha", "beta"}  # the digest import's own feed is not a feed of feeds.yaml
    alpha = rows["alpha"]
    assert (alpha["candidates"], alpha["promoted"], alpha["rejected"], alpha["duplicates"]) == (2, 1, 1, 0)
    assert str(alpha["last_item"]).startswith("2024-03-19")
    # The command's clock is the real one: two years after the stocked posts, both feeds are quiet.
    assert alpha["verdict"] == "quiet" and "no new item in" in str(alpha["why"])
    table = invoke("feeds", "report").output
    assert "alpha" in table and "2 feeds: 0 noisy, 2 quiet" in table


def test_a_feed_mostly_rejected_or_mostly_reposts_is_noisy() -> None:
    from datetime import UTC, datetime

    from aggregator.service.feeds import judge
    from aggregator.suggest.values import FeedRecord

    now = datetime(2024, 3, 20, tzinfo=UTC)
    fresh = now.replace(day=18)
    assert judge(FeedRecord("a", "", True, 30, 1, 19, 0, fresh), now).verdict == "noisy"
    assert judge(FeedRecord("a", "", True, 30, 5, 15, 0, fresh), now).verdict == ""
    reposts = judge(FeedRecord("m", "", True, 20, 0, 0, 12, fresh), now)
    assert (reposts.verdict, reposts.why) == (
        "noisy",
        "12 of 20 candidates are reposts of articles found elsewhere",
    )
    assert judge(FeedRecord("q", "", True, 0, 0, 0, 0, None), now).why == "no item yet"
