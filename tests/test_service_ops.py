"""The operators' gauges: feeds by health, feeds due, pages due for extraction."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.app import make_app
from aggregator.config import Settings, load_config
from aggregator.service import Service
from tests import feedgen
from tests.fixture_server import FixtureServer, Response
from tests.stock import Clock

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@pytest.fixture
def service(tmp_path: Path, database_url: str, server: FixtureServer) -> Iterator[Service]:
    site = server.base_url
    server.add("/ok.xml", feedgen.rss("ok", site, feedgen.entries(f"{site}/ok", 3)))
    server.route("/broken.xml", Response(status=500, body=b"down"))
    path = tmp_path / "feeds.yaml"
    pairs = [
        ("ok", server.url("/ok.xml")),
        ("broken", server.url("/broken.xml")),
        ("later", server.url("/x")),
    ]
    path.write_text(feedgen.feeds_yaml(pairs), encoding="utf-8")
    app = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(path), config_path=path,
        clock=Clock(T0), rng=random.Random(7), parse_workers=0,
    )  # fmt: skip
    built = Service(app)
    try:
        yield built
    finally:
        built.close()


def test_gauges_count_feeds_by_health_due_feeds_and_pending_pages(service: Service) -> None:
    service.feeds.sync()
    before = service.ops.gauges()
    assert before.feeds_by_health == {"never polled": 3}
    assert (before.due, before.pending_extractions, before.failing) == (3, 0, 0)

    service.polling.poll(names=["ok", "broken"], extract=False)
    after = service.ops.gauges()
    assert after.feeds_by_health == {"ok": 1, "failing": 1, "never polled": 1}
    assert after.failing == 1
    assert after.due == 1  # "later"; the polled two are scheduled ahead
    assert after.pending_extractions == 3  # the new candidates' pages, none tried yet

    service.app.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    assert service.ops.gauges().due == 3
