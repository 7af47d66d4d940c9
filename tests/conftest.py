"""Shared fixtures: a real database per test (SQLite, and PostgreSQL where configured), a real HTTP server."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.fixture_server import FixtureServer, serve

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
POSTGRES_URL = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL")


def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a fresh schema, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("AGGREGATOR_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage test runs on SQLite and, where configured, on PostgreSQL."""
    if request.param == "sqlite":
        # An explicit URL's folder must exist (a typo must not start an empty database).
        (tmp_path / "data").mkdir(exist_ok=True)
        yield f"sqlite:///{tmp_path / 'data' / 'aggregator.sqlite3'}"
    else:
        yield from postgres_schema_url()


@pytest.fixture(autouse=True)
def _own_config_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test caches feeds.yaml's values in a folder of its own, never in the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("AGGREGATOR_CACHE_DIR", str(folder / "aggregator"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))


@pytest.fixture(autouse=True)
def _forget_the_commands_log_handlers() -> Iterator[None]:
    """Commands run through CliRunner set up logging on the runner's stderr, closed when the run ends:
    a handler left on the root logger would write the next test's warnings to a closed stream."""
    yield
    for handler in list(logging.root.handlers):
        if type(handler) is logging.StreamHandler:  # pytest's own handlers are subclasses
            logging.root.removeHandler(handler)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is missing")
    return CORPUS


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    """An HTTP server on 127.0.0.1 (port 0) for the test, stopped after it."""
    with serve() as running:
        yield running
