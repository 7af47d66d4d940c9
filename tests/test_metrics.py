"""The daemon's Prometheus metrics, scraped over HTTP on 127.0.0.1 after real polls against a real server."""

from __future__ import annotations

import platform
import random
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aggregator import __version__
from aggregator.app import make_app
from aggregator.config import Settings, load_config
from aggregator.daemon.metrics import Metrics
from aggregator.errors import ConfigError
from aggregator.ops_types import Gauges
from aggregator.service import Service
from tests import feedgen
from tests.fixture_server import FixtureServer, Response
from tests.stock import Clock

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def service(tmp_path: Path, database_url: str, server: FixtureServer) -> Iterator[Service]:
    site = server.base_url
    server.add("/ok.xml", feedgen.rss("ok", site, feedgen.entries(site, 3)), etag='"v1"')
    server.route("/broken.xml", Response(status=500, body=b"down"))
    path = tmp_path / "feeds.yaml"
    pairs = [("ok", server.url("/ok.xml")), ("broken", server.url("/broken.xml"))]
    path.write_text(feedgen.feeds_yaml(pairs), encoding="utf-8")
    app = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(path), config_path=path,
        clock=Clock(T0), rng=random.Random(7), parse_workers=0,
    )  # fmt: skip
    built = Service(app)
    built.feeds.sync()
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    built = Metrics()
    try:
        yield built
    finally:
        built.close()


def scrape(port: int) -> Samples:
    """Every sample served on 127.0.0.1:``port``, parsed the way Prometheus's own parser reads them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as answer:
        assert answer.status == 200
        text = answer.read().decode("utf-8")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def test_counters_move_with_real_polls_and_jobs(service: Service, metrics: Metrics) -> None:
    port = metrics.serve(0)
    before = scrape(port)
    assert value(before, "aggregator_build_info", version=__version__, python=platform.python_version()) == 1
    assert total(before, "aggregator_polls_total") == 0
    assert value(before, "aggregator_polls_total", result="not_modified") == 0  # every result from the start

    first = service.polling.poll(extract=True)
    metrics.tick_finished(first, 1.5)
    metrics.gauges_read(service.ops.gauges())
    metrics.job_finished("weekly_email", "2026-W50", "ok", 2.0)
    metrics.job_finished("weekly_email", "2026-W50", "skipped", 0.0)
    after = scrape(port)

    assert value(after, "aggregator_polls_total", result="new") == 1
    assert value(after, "aggregator_polls_total", result="error") == 1
    assert value(after, "aggregator_poll_duration_seconds_count", result="new") == 1
    assert value(after, "aggregator_entries_stored_total", kind="new") == 3
    assert first.extracted is not None and first.extracted.articles
    assert total(after, "aggregator_extractions_total") == len(first.extracted.articles)
    assert value(after, "aggregator_feeds", state="ok") == 1
    assert value(after, "aggregator_feeds", state="failing") == 1
    assert value(after, "aggregator_feeds_due") == 0
    assert value(after, "aggregator_extraction_queue_depth") == service.ops.gauges().pending_extractions
    assert value(after, "aggregator_ticks_total") == 1
    assert value(after, "aggregator_tick_duration_seconds_count") == 1
    assert value(after, "aggregator_tick_duration_seconds_sum") == 1.5
    assert value(after, "aggregator_job_runs_total", job="weekly_email", outcome="ok") == 1
    assert value(after, "aggregator_job_runs_total", job="weekly_email", outcome="skipped") == 1
    assert value(after, "aggregator_job_duration_seconds_count", job="weekly_email") == 1  # skipped: no time

    second = service.polling.poll(names=["ok"], due_only=False, extract=False)  # answered 304
    metrics.tick_finished(second, 0.2)
    again = scrape(port)
    assert value(again, "aggregator_polls_total", result="not_modified") == 1
    assert total(again, "aggregator_polls_total") == 3
    assert value(again, "aggregator_entries_stored_total", kind="new") == 3
    assert value(again, "aggregator_ticks_total") == 2


def test_a_state_that_went_away_reads_zero(metrics: Metrics) -> None:
    port = metrics.serve(0)
    metrics.gauges_read(Gauges(feeds_by_health={"ok": 3, "failing": 2}, due=4, pending_extractions=7))
    metrics.gauges_read(Gauges(feeds_by_health={"ok": 5}, due=0, pending_extractions=1))
    samples = scrape(port)
    assert value(samples, "aggregator_feeds", state="ok") == 5
    assert value(samples, "aggregator_feeds", state="failing") == 0
    assert value(samples, "aggregator_extraction_queue_depth") == 1


def test_each_metrics_has_its_own_registry_and_listens_on_loopback_only(metrics: Metrics) -> None:
    other = Metrics()  # a second daemon in this process: no "Duplicated timeseries" error
    try:
        other.job_finished("housekeeping", "2026-12-07", "failed", 3.0)
        port, other_port = metrics.serve(0), other.serve(0)
        assert port != other_port
        assert metrics._server is not None and metrics._server.server_address[0] == "127.0.0.1"
        assert ("aggregator_job_runs_total", frozenset({("job", "housekeeping"), ("outcome", "failed")})) in (
            scrape(other_port)
        )
        assert total(scrape(port), "aggregator_job_runs_total") == 0
    finally:
        other.close()


def test_a_busy_port_is_one_line_and_close_stops_serving(metrics: Metrics) -> None:
    port = metrics.serve(0)
    busy = Metrics()
    with pytest.raises(ConfigError) as caught:
        busy.serve(port)
    assert caught.value.problems[0].startswith(f"--metrics-port: cannot serve metrics on 127.0.0.1:{port}: ")
    metrics.close()
    with pytest.raises(OSError):
        scrape(port)
    metrics.close()  # twice is fine
