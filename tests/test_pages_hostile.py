"""Hostile article pages served from 127.0.0.1 to the real extraction pipeline (issue 12, point 10).

Two identical pages past the worker's memory limit fail the same way, each with
one log line and nothing on the user's stderr; a page with a bogus charset is
read as browsers read it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.app import App, make_app
from aggregator.article_types import Article
from aggregator.articles import pages
from aggregator.config import Settings, load_config
from aggregator.feeds.poll import run_async
from aggregator.service.polling import poll_and_extract
from aggregator.store import articles as article_store
from aggregator.store.tables import candidates
from tests import feedgen
from tests.fixture_server import FixtureServer
from tests.stock import Clock

T0 = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)
WORDS = " ".join(["A naïve approach to serving models, explained step by step for the café crowd."] * 12)


@pytest.fixture
def app_for(tmp_path: Path) -> Iterator[object]:
    # Extraction is what is tested here, not the storage: SQLite only.
    apps: list[App] = []
    (tmp_path / "data").mkdir()
    database_url = f"sqlite:///{tmp_path / 'data' / 'aggregator.sqlite3'}"

    def build(server: FixtureServer, links: dict[str, str]) -> App:
        entries = [
            feedgen.Entry(key, f"Post {key}", link, T0 - timedelta(days=1), "A short summary.", None)
            for key, link in links.items()
        ]
        server.add("/feed.xml", feedgen.rss("Pages", server.base_url, entries))
        path = tmp_path / "feeds.yaml"
        path.write_text(feedgen.feeds_yaml([("pages", server.url("/feed.xml"))]), encoding="utf-8")
        app = make_app(
            Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(path),
            config_path=path, clock=Clock(T0), rng=random.Random(5), parse_workers=1,
        )  # fmt: skip
        apps.append(app)
        app.sync_feeds()
        return app

    yield build
    for app in apps:
        app.close()


def articles(app: App) -> dict[str, Article]:
    with app.read() as s:
        rows = s.execute(sa.select(candidates.c.id, candidates.c.entry_key)).all()
        return {key: article_store.get_article(s, cid) for cid, key in rows}  # type: ignore[misc]


def test_identical_pages_past_the_memory_limit_fail_alike_with_one_line_each(
    server: FixtureServer,
    app_for,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Under the element limit, but trafilatura needs far more than 300 MiB for it.
    heavy = b"<html><body><article><pre>" + b"<span>x</span>\n" * 190_000 + b"</pre></article></body></html>"
    for i in range(3):
        server.add(f"/heavy{i}.html", heavy, content_type="text/html; charset=utf-8")
    monkeypatch.setattr(pages, "WORKER_MEMORY", 300 * 1024 * 1024)
    caplog.set_level(logging.WARNING, logger="aggregator")
    app = app_for(server, {f"heavy{i}": server.url(f"/heavy{i}.html") for i in range(3)})

    run_async(poll_and_extract(app))

    got = articles(app)
    reasons = {got[f"heavy{i}"].reason for i in range(3)}
    assert reasons == {"extraction needed more than the 300 MiB of memory it may use; page skipped"}
    assert all(got[f"heavy{i}"].status == "error" for i in range(3))
    assert capfd.readouterr().err == ""  # no worker's traceback on the user's terminal
    lines = [r.getMessage() for r in caplog.records if r.name == "aggregator.articles.pages"]
    for i in range(3):
        assert sum(f"/heavy{i}.html" in line for line in lines) == 1, lines


@pytest.mark.parametrize("charset", ["bogus", "utf-8", None])
def test_a_page_with_a_bogus_charset_is_read_as_browsers_read_it(
    server: FixtureServer,
    app_for,  # type: ignore[no-untyped-def]
    charset: str | None,
) -> None:
    body = f"<html><head><title>Serving</title></head><body><article><p>{WORDS}</p></article></body></html>"
    content_type = "text/html" + (f"; charset={charset}" if charset else "")
    server.add("/latin.html", body.encode("cp1252"), content_type=content_type)
    app = app_for(server, {"latin": server.url("/latin.html")})

    run_async(poll_and_extract(app))

    article = articles(app)["latin"]
    assert article.status == "ok"
    assert "A naïve approach" in (article.text or "") and "café" in (article.text or "")
