"""The suggestion commands and what the others print of suggestions, through Typer's CliRunner,
against a real database stocked by a real poll (SQLite and PostgreSQL)."""

from __future__ import annotations

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
