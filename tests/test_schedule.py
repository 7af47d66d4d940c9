"""When each feed is polled: the pure policy table-driven, then through real polls on an injected clock."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from aggregator.app import App, make_app
from aggregator.cli import app as cli_app
from aggregator.config import Settings, load_config
from aggregator.errors import FetchError, HTTPStatusError
from aggregator.feeds import schedule
from aggregator.feeds.parse import parse_feed
from aggregator.feeds.schedule import HINT_CAP, MAX_AUTO, MIN_AUTO, MIN_SPREAD
from aggregator.feeds.update import Policy, Polled, settle
from aggregator.net.answers import freshness_lifetime
from aggregator.service.polling import run_poll
from aggregator.store import repo
from aggregator.store.tables import feeds
from aggregator.types import FeedState as State
from aggregator.types import Fetched, ParsedEntry, ParsedFeed, Validators
from tests import feedgen
from tests.fixture_server import FixtureServer, Response, serve
from tests.stock import Clock

T0 = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

# -- the auto interval -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published_last_week", "expected"),
    [
        (0, MAX_AUTO),  # never: once a day
        (1, MAX_AUTO),  # weekly: 3.5 days, clamped to a day
        (7, timedelta(hours=12)),  # daily: twice a day
        (14, timedelta(hours=6)),
        (168, timedelta(minutes=30)),  # hourly: every half hour
        (336, MIN_AUTO),  # twice an hour: the floor
        (10_000, MIN_AUTO),  # a firehose: still the floor
        (-3, MAX_AUTO),
    ],
)
def test_auto_interval_is_half_the_mean_gap_clamped(published_last_week: int, expected: timedelta) -> None:
    assert schedule.auto_interval(published_last_week) == expected


def test_a_feed_whose_entries_reach_back_less_than_a_week_is_counted_over_their_span() -> None:
    """The last 20 entries of an hourly feed span 20 hours: 20 a day, not 20 a week."""
    assert schedule.covered(T0, None) == timedelta(days=7)
    assert schedule.covered(T0, T0 - timedelta(days=30)) == timedelta(days=7)
    assert schedule.covered(T0, T0 - timedelta(hours=20)) == timedelta(days=1)  # at least a day
    assert schedule.covered(T0, T0 - timedelta(days=2)) == timedelta(days=2)
    assert schedule.auto_interval(20, timedelta(days=1)) == timedelta(minutes=36)
    assert schedule.auto_interval(1, schedule.covered(T0, T0 - HOUR)) == timedelta(
        hours=12
    )  # one post: not hourly
    assert schedule.auto_interval(20, timedelta(days=7)) == timedelta(hours=4, minutes=12)


def test_a_fixed_interval_ignores_how_often_the_feed_publishes() -> None:
    for count in (0, 1, 168):
        assert schedule.poll_interval(HOUR, auto=False, published_last_week=count, hint=None) == HOUR


@pytest.mark.parametrize(
    ("configured", "auto", "count", "hint", "expected"),
    [
        (HOUR, True, 168, timedelta(hours=2), timedelta(hours=2)),  # a ttl of 2 h lengthens half an hour
        (HOUR, True, 168, timedelta(minutes=10), timedelta(minutes=30)),  # a shorter hint never shortens
        (HOUR, True, 168, timedelta(days=365), HINT_CAP),  # an absurd hint is capped at a day
        (HOUR, True, 0, timedelta(days=365), MAX_AUTO),
        (HOUR, False, 0, timedelta(hours=3), timedelta(hours=3)),  # a fixed interval yields to a hint too
        (timedelta(days=2), False, 0, timedelta(days=365), timedelta(days=2)),  # capped: never shortens
    ],
)
def test_hints_only_lengthen_the_interval(
    configured: timedelta, auto: bool, count: int, hint: timedelta, expected: timedelta
) -> None:
    assert schedule.poll_interval(configured, auto=auto, published_last_week=count, hint=hint) == expected


def test_the_longest_hint_wins_and_is_capped() -> None:
    assert schedule.combine_hints([None, None]) is None
    assert schedule.combine_hints([timedelta(0)]) is None
    assert schedule.combine_hints([HOUR, None, timedelta(hours=3)]) == timedelta(hours=3)
    assert schedule.combine_hints([timedelta(days=30)]) == HINT_CAP


# -- due times and their spread ----------------------------------------------------------------


@pytest.mark.parametrize("interval", [timedelta(minutes=5), timedelta(minutes=15), HOUR, timedelta(days=1)])
def test_next_poll_is_one_interval_on_plus_at_most_its_spread(interval: timedelta) -> None:
    spread = max(interval / 10, MIN_SPREAD)
    rng = random.Random(3)
    for n in range(200):
        due = schedule.next_poll(T0, interval, key=f"feed-{n}", draw=rng.random())
        assert T0 + interval <= due < T0 + interval + spread
    assert schedule.next_poll(T0, interval, key="x", draw=0.25) == schedule.next_poll(
        T0, interval, key="x", draw=0.25
    )


def test_feeds_of_one_host_polled_in_one_tick_fall_due_in_different_ticks() -> None:
    """Even with the same random draw for all (the worst case), the feeds' own phases spread them."""
    tick = timedelta(seconds=30)
    interval = timedelta(minutes=15)
    dues = [schedule.next_poll(T0, interval, key=f"medium-{n}", draw=0.0) for n in range(20)]
    ticks = {(due - T0) // tick for due in dues}
    assert len(ticks) >= 4  # a spread of 2 min is 4 ticks; 20 feeds land in all of them
    assert len(set(dues)) == 20
    assert all(0 <= schedule.phase(f"medium-{n}") < 1 for n in range(20))


# -- the publisher's hints in the answer -------------------------------------------------------

DATE = format_datetime(T0, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"cache-control": "max-age=600"}, timedelta(minutes=10)),
        ({"cache-control": "public, max-age=3600, must-revalidate"}, HOUR),
        ({"cache-control": 'max-age="120"'}, timedelta(minutes=2)),
        ({"cache-control": "max-age=0"}, None),
        ({"cache-control": "no-cache"}, None),
        ({"cache-control": "s-maxage=600"}, None),  # for shared caches, not us
        ({"cache-control": "max-age=abc"}, None),
        ({"expires": format_datetime(T0 + 2 * HOUR, usegmt=True), "date": DATE}, 2 * HOUR),
        ({"expires": format_datetime(T0 + 2 * HOUR, usegmt=True)}, 2 * HOUR),  # counted from now
        ({"expires": format_datetime(T0 - HOUR, usegmt=True), "date": DATE}, None),
        ({"expires": "0"}, None),
        ({"expires": "-1", "date": DATE}, None),
        # max-age wins over Expires (RFC 9111 4.2.1)
        ({"cache-control": "max-age=60", "expires": format_datetime(T0 + 5 * HOUR)}, timedelta(seconds=60)),
    ],
)
def test_freshness_lifetime(headers: dict[str, str], expected: timedelta | None) -> None:
    assert freshness_lifetime(headers, T0) == expected


@pytest.mark.parametrize("malformed", [False, True])
def test_rss_ttl_is_read_by_both_parsers(malformed: bool) -> None:
    """The lxml fast path and feedparser (which a malformed document falls back to) agree."""
    title = "<title>T &amp; Co</title>" if not malformed else "<title>T & Co</title>"
    for ttl, expected in (("90", timedelta(minutes=90)), (" 30 ", timedelta(minutes=30)), ("0", None),
                          ("soon", None), ("999999999999", timedelta(days=7))):  # fmt: skip
        xml = (
            f'<?xml version="1.0"?><rss version="2.0"><channel>{title}<link>http://x.test/</link>'
            f"<ttl>{ttl}</ttl><item><title>a</title><link>http://x.test/a</link></item></channel></rss>"
        ).encode()
        parsed = parse_feed(xml, url="http://x.test/feed", content_type="application/rss+xml")
        assert (parsed.warning is not None) == malformed
        assert parsed.ttl == expected


# -- settle: the next state after a poll -------------------------------------------------------


def state(**changes: object) -> State:
    base = State(
        id=1, name="blog", url="http://x.test/feed", config_url="http://x.test/feed", label="", language=None,
        section_hint=None, weight=1.0, interval=HOUR, enabled=True, interval_auto=True,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def fetched(status: int = 200, headers: dict[str, str] | None = None) -> Fetched:
    body = b"<rss/>" if status == 200 else None
    url = "http://x.test/feed"
    return Fetched(url, url, status, headers or {}, body, Validators())


def hourly(n: int, *, ttl: timedelta | None = None) -> ParsedFeed:
    entries = tuple(
        ParsedEntry(
            key=f"e{i}", guid=f"e{i}", link=f"http://x.test/{i}", title=f"E{i}", published=T0 - i * HOUR
        )
        for i in range(n)
    )
    return ParsedFeed(
        title="X", link="http://x.test/", format="rss20", language=None, entries=entries, ttl=ttl
    )


def settled(polled: Polled, *, stored: int = 0, jitter: float = 0.0) -> State:
    """``stored`` entries in the last week, the oldest of them a month old (a feed with a long history)."""
    history = (stored, T0 - timedelta(days=30))
    new_state, _, _ = settle(polled, {}, now=T0, jitter=jitter, policy=Policy(), history=history)
    return new_state


def test_settle_counts_this_polls_new_entries_with_the_stored_ones() -> None:
    first = settled(Polled(state(), fetched(), hourly(20)))
    assert first.poll_interval == timedelta(days=3.5) / 20
    later = settled(Polled(state(), fetched(), hourly(20)), stored=148)  # 168 in the week
    assert later.poll_interval == timedelta(minutes=30)
    assert later.next_poll_at is not None  # half an hour on, spread over 3 min
    assert T0 + later.poll_interval <= later.next_poll_at < T0 + later.poll_interval + timedelta(minutes=3)


def test_settle_a_first_poll_counts_a_short_document_over_the_day_it_spans() -> None:
    new_state, _, _ = settle(Polled(state(), fetched(), hourly(20)), {}, now=T0, jitter=0.0, policy=Policy())
    assert new_state.poll_interval == timedelta(minutes=36)  # 20 entries over 19 h: 20 a day, not a week


def test_settle_entries_older_than_a_week_do_not_count() -> None:
    old = replace(
        hourly(1), entries=tuple(replace(e, published=T0 - timedelta(days=8)) for e in hourly(3).entries)
    )
    assert settled(Polled(state(), fetched(), old)).poll_interval == MAX_AUTO


def test_settle_records_the_hint_and_a_304_keeps_the_documents_ttl() -> None:
    polled = Polled(state(), fetched(headers={"cache-control": "max-age=600"}), hourly(168, ttl=2 * HOUR))
    first = settled(polled)
    assert (first.hint, first.poll_interval) == (2 * HOUR, 2 * HOUR)
    second = settled(Polled(first, fetched(304, {"cache-control": "max-age=60"})), stored=168)
    assert (second.hint, second.poll_interval) == (2 * HOUR, 2 * HOUR)  # the unchanged document's ttl
    fresh = settled(Polled(first, fetched(headers={"cache-control": "max-age=60"}), hourly(168)))
    assert fresh.hint == timedelta(minutes=1)  # a new document without a ttl: its hint goes
    assert fresh.poll_interval == timedelta(minutes=30)


def test_settle_fixed_interval() -> None:
    fixed = state(interval=timedelta(minutes=10), interval_auto=False)
    after = settled(Polled(fixed, fetched(), hourly(168)))
    assert after.poll_interval == timedelta(minutes=10)
    assert after.next_poll_at is not None and after.next_poll_at - T0 < timedelta(minutes=12)


def test_errors_back_off_from_the_interval_in_effect_and_honour_retry_after() -> None:
    quick = state(poll_interval=timedelta(minutes=15))
    error = FetchError("http://x.test/feed", "connection refused")
    once = settled(Polled(quick, error=error), jitter=0.999)
    assert once.next_poll_at is not None and once.next_poll_at - T0 <= timedelta(minutes=15)
    assert once.poll_interval == timedelta(minutes=15)  # kept for the next success to replace
    waits = []
    failing = quick
    for _ in range(8):
        failing = settled(Polled(failing, error=error), jitter=0.999)
        assert failing.next_poll_at is not None
        waits.append(failing.next_poll_at - T0)
    assert waits == sorted(waits) and waits[-1] <= timedelta(days=1)  # grows, capped
    busy = HTTPStatusError("http://x.test/feed", 429, "429", retry_after=T0 + timedelta(hours=5))
    assert settled(Polled(quick, error=busy)).next_poll_at == T0 + timedelta(hours=5)
    gone = HTTPStatusError("http://x.test/feed", 410, "410 Gone")
    stopped = settled(Polled(quick, error=gone))
    assert stopped.next_poll_at is None and stopped.gone_at == T0 and stopped.last_error


# -- through real polls -------------------------------------------------------------------------


@dataclass
class Env:
    server: FixtureServer
    tmp_path: Path
    database_url: str
    clock: Clock
    apps: list[App]

    def app(self, feeds: list[tuple[str, str, str | None]]) -> App:
        """An App over these (name, url, interval) feeds; ``None`` leaves feeds.yaml's default."""
        text = feedgen.feeds_yaml([(name, url) for name, url, _ in feeds], interval=None)
        for name, _, interval in feeds:
            if interval is not None:
                text = text.replace(f"  - name: {name}\n", f"  - name: {name}\n    interval: {interval}\n")
        path = self.tmp_path / "feeds.yaml"
        path.write_text(text, encoding="utf-8")
        settings = Settings(database_url=self.database_url, data_dir=self.tmp_path / "data")
        app = make_app(settings, load_config(path), config_path=path, clock=self.clock, rng=random.Random(7),
                       parse_workers=0)  # fmt: skip
        self.apps.append(app)
        app.sync_feeds()
        return app

    def serve_posts(self, path: str, every: timedelta | None, n: int, *, ttl: int | None = None,
                    headers: dict[str, str] | None = None) -> None:  # fmt: skip
        """A feed whose ``n`` entries were published ``every`` apart up to now (a week ago: ``None``)."""
        site = self.server.base_url
        items = [
            replace(entry, published=self.clock.now - (every * i if every else timedelta(days=9 + i)))
            for i, entry in enumerate(feedgen.entries(f"{site}{path}", n, seed=len(path), words=60))
        ]
        body = feedgen.rss(path, site, items)
        if ttl is not None:
            body = body.replace(b"<language>", f"<ttl>{ttl}</ttl><language>".encode(), 1)
        self.server.add(path, body, headers=headers)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[Env]:
    with serve() as server:
        env = Env(server, tmp_path, database_url, Clock(T0), [])
        try:
            yield env
        finally:
            for app in env.apps:
                app.close()


def rows(app: App) -> dict[str, State]:
    with app.read() as s:
        return {f.name: f for f in repo.list_feeds(s)}


def test_auto_adapts_to_hourly_weekly_and_silent_feeds_and_hints_lengthen(env: Env) -> None:
    env.serve_posts("/hourly.xml", HOUR, 169)  # 168 in the last week, the 169th a week old
    env.serve_posts("/daily.xml", timedelta(days=1), 8)  # 7 in the last week, the 8th a week old
    env.serve_posts("/weekly.xml", timedelta(days=7), 3)
    env.serve_posts("/silent.xml", None, 5)
    env.serve_posts("/ttl.xml", HOUR, 168, ttl=180)
    env.serve_posts("/cached.xml", HOUR, 168, headers={"Cache-Control": "public, max-age=5400"})
    names = ("hourly", "daily", "weekly", "silent", "ttl", "cached")
    app = env.app([(name, env.server.url(f"/{name}.xml"), None) for name in names])

    assert {r.outcome for r in run_poll(app).results} == {"new"}

    got = rows(app)
    assert {name: (f.poll_interval, f.hint) for name, f in got.items()} == {
        "hourly": (timedelta(minutes=30), None),
        "daily": (timedelta(hours=12), None),
        "weekly": (MAX_AUTO, None),
        "silent": (MAX_AUTO, None),
        "ttl": (timedelta(hours=3), timedelta(hours=3)),
        "cached": (timedelta(minutes=90), timedelta(minutes=90)),
    }
    for f in got.values():
        assert f.interval_auto and f.poll_interval and f.next_poll_at
        spread = max(f.poll_interval / 10, MIN_SPREAD)
        assert T0 + f.poll_interval <= f.next_poll_at < T0 + f.poll_interval + spread


def test_fixed_10m_beside_auto_through_real_polls(env: Env) -> None:
    env.serve_posts("/fixed.xml", timedelta(days=1), 8)
    env.serve_posts("/auto.xml", timedelta(days=1), 8)
    app = env.app(
        [("fixed", env.server.url("/fixed.xml"), "10m"), ("auto", env.server.url("/auto.xml"), None)]
    )
    run_poll(app)
    got = rows(app)
    assert (got["fixed"].interval_auto, got["fixed"].poll_interval) == (False, timedelta(minutes=10))
    assert (got["auto"].interval_auto, got["auto"].poll_interval) == (True, timedelta(hours=12))

    polled = {"fixed": 1, "auto": 1}
    for _ in range(6 * 30):  # six hours in 2-minute steps; 10m spreads over 2m: every 10 or 12 min
        env.clock.advance(timedelta(minutes=2))
        for result in run_poll(app).results:
            polled[result.feed_name] += 1
    assert polled["auto"] == 1  # due 12 h (and up to 72 min) after its first poll
    assert 1 + 30 <= polled["fixed"] <= 1 + 36
    assert len(env.server.requests_for("/fixed.xml")) == polled["fixed"]
    assert len(env.server.requests_for("/auto.xml")) == 1


def test_changing_interval_in_feeds_yaml_is_synced(env: Env) -> None:
    env.serve_posts("/a.xml", HOUR, 3)
    app = env.app([("a", env.server.url("/a.xml"), "2h")])
    assert not rows(app)["a"].interval_auto
    app = env.app([("a", env.server.url("/a.xml"), "auto")])
    assert rows(app)["a"].interval_auto
    with app.read() as s:
        assert s.execute(sa.select(feeds.c.interval_auto)).scalar_one() is True


def test_retry_after_and_backoff_through_a_real_poll(env: Env) -> None:
    env.server.route("/busy.xml", Response(status=503, headers={"Retry-After": "10800"}))
    env.server.route("/down.xml", Response(status=500))
    app = env.app([("busy", env.server.url("/busy.xml"), None), ("down", env.server.url("/down.xml"), None)])
    run_poll(app)
    got = rows(app)
    assert got["busy"].next_poll_at == T0 + timedelta(hours=3)
    down = got["down"].next_poll_at
    assert down is not None and T0 + timedelta(minutes=15) <= down <= T0 + timedelta(minutes=30)
    assert got["down"].error_count == 1 and got["down"].poll_interval is None


# -- what the command line shows -------------------------------------------------------------


def test_feeds_status_and_list_show_the_interval_in_effect(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, server: FixtureServer
) -> None:
    now = datetime.now(UTC)
    site = server.base_url
    items = [
        replace(e, published=now - i * 4 * HOUR) for i, e in enumerate(feedgen.entries(site, 48, words=60))
    ]
    server.add("/a.xml", feedgen.rss("A", site, items).replace(b"<language>", b"<ttl>60</ttl><language>"))
    server.add("/b.xml", feedgen.rss("B", site, feedgen.entries(f"{site}/b", 2, words=60)))
    text = feedgen.feeds_yaml(
        [("alpha", server.url("/a.xml")), ("beta", server.url("/b.xml"))], interval=None
    )
    (tmp_path / "feeds.yaml").write_text(
        text.replace("  - name: beta\n", "  - name: beta\n    interval: 90m\n")
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    runner = CliRunner()

    listed = runner.invoke(cli_app, ["feeds", "list"], catch_exceptions=False).output
    assert listed.splitlines()[2].split()[:2] == ["alpha", "Alpha"] and " auto " in listed.splitlines()[2]
    assert " 1h30m " in listed.splitlines()[3]
    before = runner.invoke(cli_app, ["feeds", "status"], catch_exceptions=False).output
    assert " auto " in before  # not polled yet: no interval chosen
    assert runner.invoke(cli_app, ["poll"], catch_exceptions=False).exit_code == 0

    out = runner.invoke(cli_app, ["feeds", "status"], catch_exceptions=False).output
    lines = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert set(lines) == {"alpha", "beta"}  # one line per feed
    assert " auto 2h " in lines["alpha"] and " 1h " in lines["alpha"]  # 3.5 d / 42 in the week, hint 1 h
    assert " 1h30m " in lines["beta"]
    monkeypatch.setenv("COLUMNS", "80")  # a pipe's width: still one line per feed, cells cut short
    narrow = runner.invoke(cli_app, ["feeds", "status"], catch_exceptions=False).output
    assert [line.split()[0] for line in narrow.splitlines()[2:] if line.strip()] == ["alpha", "beta"]
    status = {f["name"]: f for f in json.loads(runner.invoke(cli_app, ["feeds", "status", "--json"]).output)}
    assert (status["alpha"]["interval"], status["alpha"]["interval_seconds"]) == ("auto", 7200)
    assert status["alpha"]["hint_seconds"] == 3600
    assert (status["beta"]["interval"], status["beta"]["hint_seconds"]) == ("5400s", None)
