"""A poll cycle end to end: real HTTP server on 127.0.0.1, real database, real parser."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.feeds import poll as poll_module
from aggregator.service.polling import run_poll
from aggregator.store import repo
from aggregator.store.tables import candidates, feeds
from aggregator.types import FeedUpdateResult
from tests import feedgen
from tests.fixture_server import FixtureServer, Request, Response, serve
from tests.stock import Clock

T0 = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class Env:
    server: FixtureServer
    tmp_path: Path
    database_url: str
    clock: Clock
    apps: list[App]

    def app(self, feeds: list[tuple[str, str]], *, parse_workers: int = 0, extra: str = "") -> App:
        path = self.tmp_path / "feeds.yaml"
        path.write_text(feedgen.feeds_yaml(feeds, extra=extra), encoding="utf-8")
        settings = Settings(database_url=self.database_url, data_dir=self.tmp_path / "data")
        app = make_app(
            settings, load_config(path), config_path=path, clock=self.clock, rng=random.Random(7),
            parse_workers=parse_workers,
        )  # fmt: skip
        self.apps.append(app)
        app.sync_feeds()
        return app


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[Env]:
    with serve() as server:
        env = Env(server, tmp_path, database_url, Clock(T0), [])
        try:
            yield env
        finally:
            for app in env.apps:
                app.close()


def by_name(results: tuple[FeedUpdateResult, ...]) -> dict[str, FeedUpdateResult]:
    return {r.feed_name: r for r in results}


def stored(app: App) -> list[sa.Row]:  # type: ignore[type-arg]
    with app.read() as s:
        return list(
            s.execute(
                sa.select(candidates, feeds.c.name.label("feed_name"))
                .join(feeds, feeds.c.id == candidates.c.feed_id)
                .order_by(candidates.c.id)
            ).all()
        )


def feed_row(app: App, name: str) -> sa.Row:  # type: ignore[type-arg]
    with app.read() as s:
        return s.execute(sa.select(feeds).where(feeds.c.name == name)).one()


def test_cold_poll_stores_every_entry_of_rss_and_atom(env: Env) -> None:
    site = env.server.base_url
    env.server.add("/a.xml", feedgen.rss("A", site, feedgen.entries(site, 15, seed=1)), etag='"a1"')
    env.server.add(
        "/b.xml",
        feedgen.atom("B", site, feedgen.entries(site, 12, seed=2)),
        content_type="application/atom+xml",
    )
    app = env.app([("alpha", env.server.url("/a.xml")), ("beta", env.server.url("/b.xml"))])

    report = run_poll(app)

    results = by_name(report.results)
    assert (results["alpha"].outcome, results["alpha"].new) == ("new", 15)
    assert (results["beta"].outcome, results["beta"].new) == ("new", 12)
    rows = stored(app)
    assert len(rows) == 27
    first = next(r for r in rows if r.entry_key == f"{site}/p/post-1-0")
    assert first.url == f"{site}/blog/post-1-0"
    assert first.published_at == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert first.date_source == "published"
    assert first.status == "new"
    alpha = feed_row(app, "alpha")
    assert alpha.etag == '"a1"'
    assert alpha.title == "A"
    assert alpha.next_poll_at > T0
    assert alpha.lease_until is None


def test_second_poll_with_validators_parses_nothing(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    site = env.server.base_url
    env.server.add("/a.xml", feedgen.rss("A", site, feedgen.entries(site, 5)), etag='"v1"')
    app = env.app([("alpha", env.server.url("/a.xml"))])
    run_poll(app)
    parsed: list[str] = []
    real_parse = poll_module._parse
    monkeypatch.setattr(poll_module, "_parse", lambda b, u, h: parsed.append(u) or real_parse(b, u, h))

    env.clock.advance(timedelta(hours=2))
    report = run_poll(app)

    assert [(r.outcome, r.new, r.updated) for r in report.results] == [("not_modified", 0, 0)]
    assert parsed == []
    assert env.server.requests_for("/a.xml")[-1].headers["if-none-match"] == '"v1"'
    assert len(stored(app)) == 5


def test_unchanged_body_without_validators_is_not_parsed(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    site = env.server.base_url
    env.server.add("/a.xml", feedgen.rss("A", site, feedgen.entries(site, 5)))
    app = env.app([("alpha", env.server.url("/a.xml"))])
    run_poll(app)
    parsed: list[str] = []
    real_parse = poll_module._parse
    monkeypatch.setattr(poll_module, "_parse", lambda b, u, h: parsed.append(u) or real_parse(b, u, h))

    report = run_poll(app, due_only=False)

    assert [r.outcome for r in report.results] == ["unchanged"]
    assert parsed == []
    assert len(stored(app)) == 5


def test_changed_entry_updates_text_and_keeps_the_curators_decision(env: Env) -> None:
    site = env.server.base_url
    items = feedgen.entries(site, 3)
    env.server.add("/a.xml", feedgen.rss("A", site, items))
    app = env.app([("alpha", env.server.url("/a.xml"))])
    run_poll(app)
    with app.write() as s:
        s.execute(
            sa.update(candidates).where(candidates.c.entry_key == items[1].guid).values(status="shortlisted")
        )
    edited = [items[0], feedgen.Entry(**{**items[1].__dict__, "title": "A corrected title"}), items[2]]
    env.server.add("/a.xml", feedgen.rss("A", site, edited))

    env.clock.advance(timedelta(hours=2))
    report = run_poll(app)

    assert [(r.outcome, r.new, r.updated) for r in report.results] == [("updated", 0, 1)]
    row = next(r for r in stored(app) if r.entry_key == items[1].guid)
    assert row.title == "A corrected title"
    assert row.status == "shortlisted"
    assert row.first_seen_at == T0
    assert row.updated_at == T0 + timedelta(hours=2)
    assert len(stored(app)) == 3


def test_malformed_feed_beside_good_ones(env: Env) -> None:
    site = env.server.base_url
    env.server.add("/good1.xml", feedgen.rss("G1", site, feedgen.entries(site, 4, seed=1)))
    env.server.add(
        "/broken.xml", b"<html><body>Not a feed, a login page</body></html>", content_type="text/html"
    )
    env.server.add("/good2.xml", feedgen.atom("G2", site, feedgen.entries(site, 6, seed=2)))
    env.server.route("/down.xml", Response(status=500, body=b"oops"))
    app = env.app([
        ("good1", env.server.url("/good1.xml")),
        ("broken", env.server.url("/broken.xml")),
        ("good2", env.server.url("/good2.xml")),
        ("down", env.server.url("/down.xml")),
    ])  # fmt: skip

    report = run_poll(app)

    results = by_name(report.results)
    assert (results["good1"].new, results["good2"].new) == (4, 6)
    assert results["broken"].outcome == "error"
    assert "html" in (results["broken"].error or "").lower()
    assert results["down"].outcome == "error"
    assert "500" in (results["down"].error or "")
    broken = feed_row(app, "broken")
    assert broken.error_count == 1
    assert broken.last_error
    assert broken.etag is None and broken.body_hash is None
    assert T0 < broken.next_poll_at <= T0 + timedelta(minutes=30)
    assert len(stored(app)) == 10


def test_malformed_but_readable_feed_is_stored_and_flagged(env: Env) -> None:
    site = env.server.base_url
    body = feedgen.rss("M", site, feedgen.entries(site, 2)).replace(
        b"<title>M</title>", b"<title>M & Co</title>"
    )
    env.server.add("/m.xml", body)
    app = env.app([("mal", env.server.url("/m.xml"))])

    (result,) = run_poll(app).results

    assert (result.outcome, result.new) == ("new", 2)
    row = feed_row(app, "mal")
    assert row.last_warning and row.error_count == 0
    env.server.add("/m.xml", feedgen.rss("M", site, feedgen.entries(site, 2)))
    run_poll(app, due_only=False)
    assert feed_row(app, "mal").last_warning is None


def test_gone_feed_stops_polling_and_says_so(env: Env) -> None:
    env.server.route("/gone.xml", Response(status=410))
    app = env.app([("gone", env.server.url("/gone.xml"))])

    report = run_poll(app)
    assert [r.outcome for r in report.results] == ["gone"]
    row = feed_row(app, "gone")
    assert row.gone_at == T0
    assert row.next_poll_at is None
    assert "410" in row.last_error

    env.clock.advance(timedelta(days=3))
    assert run_poll(app, due_only=False).results == ()
    assert len(env.server.requests_for("/gone.xml")) == 1
    with app.read() as s:
        (state,) = repo.list_feeds(s)
    assert state.gone_at == T0


def test_retry_after_is_honoured(env: Env) -> None:
    env.server.route("/busy.xml", Response(status=429, headers={"Retry-After": "7200"}))
    app = env.app([("busy", env.server.url("/busy.xml"))])

    (result,) = run_poll(app).results

    assert result.outcome == "error"
    assert feed_row(app, "busy").next_poll_at == T0 + timedelta(seconds=7200)


def test_backoff_grows_with_consecutive_errors(env: Env) -> None:
    env.server.route("/down.xml", Response(status=503))
    app = env.app([("down", env.server.url("/down.xml"))])
    waits = []
    for _ in range(5):
        run_poll(app, due_only=False)
        row = feed_row(app, "down")
        waits.append(row.next_poll_at - env.clock.now)
        env.clock.advance(timedelta(minutes=1))
    assert feed_row(app, "down").error_count == 5
    # Equal jitter: each wait is within [base*2^(n-1)/2, base*2^(n-1)], base 30 min.
    for n, wait in enumerate(waits, start=1):
        upper = timedelta(minutes=30) * 2 ** (n - 1)
        assert upper / 2 <= wait <= upper
    assert waits[4] > waits[0]


def test_permanent_redirect_adopted_only_when_seen_consistently(env: Env) -> None:
    site = env.server.base_url
    env.server.add("/new.xml", feedgen.rss("Moved", site, feedgen.entries(site, 2)))
    env.server.route("/old.xml", Response(status=301, headers={"Location": "/new.xml"}))
    app = env.app([("moved", env.server.url("/old.xml"))])

    for poll_number in (1, 2):
        run_poll(app, due_only=False)
        row = feed_row(app, "moved")
        assert row.url == env.server.url("/old.xml")
        assert (row.redirect_url, row.redirect_count) == (env.server.url("/new.xml"), poll_number)
    run_poll(app, due_only=False)

    row = feed_row(app, "moved")
    assert row.url == env.server.url("/new.xml")
    assert row.config_url == env.server.url("/old.xml")
    assert (row.redirect_url, row.redirect_count) == (None, 0)
    before = len(env.server.requests_for("/old.xml"))
    run_poll(app, due_only=False)
    assert len(env.server.requests_for("/old.xml")) == before
    assert len(stored(app)) == 2


def test_temporary_redirect_is_followed_but_never_adopted(env: Env) -> None:
    site = env.server.base_url
    env.server.add("/new.xml", feedgen.rss("T", site, feedgen.entries(site, 2)))
    env.server.route("/old.xml", Response(status=302, headers={"Location": "/new.xml"}))
    app = env.app([("temp", env.server.url("/old.xml"))])
    for _ in range(4):
        run_poll(app, due_only=False)
    row = feed_row(app, "temp")
    assert (row.url, row.redirect_url, row.redirect_count) == (env.server.url("/old.xml"), None, 0)


def test_links_to_private_addresses_and_files_are_stored_but_never_fetched(env: Env) -> None:
    site = env.server.base_url
    hostile = [
        feedgen.Entry("h1", "Loopback", "http://127.0.0.2/admin", T0 - timedelta(days=1), "s", "<p>c</p>"),
        feedgen.Entry("h2", "Metadata", "http://169.254.169.254/latest/meta-data/", T0, "s", "<p>c</p>"),
        feedgen.Entry("h3", "Local file", "file:///etc/passwd", T0, "s", "<p>c</p>"),
        feedgen.Entry("h4", "Same host", f"{site}/secret-page", T0, "s", "<p>c</p>"),
    ]
    env.server.add("/h.xml", feedgen.rss("H", site, hostile))
    app = env.app([("hostile", env.server.url("/h.xml"))])

    report = run_poll(app)

    assert [r.new for r in report.results] == [4]
    assert [r.path for r in env.server.requests] == ["/h.xml"]
    rows = {r.entry_key: r for r in stored(app)}
    # Stored as published (feedparser folds "file:///x" to "file://x"), never canonical, never fetched.
    assert rows["h3"].url.startswith("file://") and rows["h3"].url.endswith("etc/passwd")
    assert rows["h3"].canonical_url is None
    assert rows["h1"].canonical_url == "https://127.0.0.2/admin"


def test_same_article_through_two_feeds_and_url_variants_is_grouped(env: Env) -> None:
    site = env.server.base_url
    aws_ko = feedgen.Entry(
        "k1", "같은 글", "https://aws.amazon.com/ko/blogs/machine-learning/same-post/?utm_source=rss",
        T0 - timedelta(days=1), "s", "<p>c</p>",
    )  # fmt: skip
    aws_en = feedgen.Entry(
        "e1", "Same post", "https://aws.amazon.com/blogs/machine-learning/same-post/",
        T0 - timedelta(days=1), "s", "<p>c</p>",
    )  # fmt: skip
    other = feedgen.Entry("o1", "Other", "https://example.com/other", T0, "s", "<p>c</p>")
    env.server.add("/ko.xml", feedgen.rss("KO", site, [aws_ko, other]))
    env.server.add("/en.xml", feedgen.rss("EN", site, [aws_en]))
    app = env.app([("aws-ko", env.server.url("/ko.xml")), ("aws-en", env.server.url("/en.xml"))])

    run_poll(app)

    rows = {r.entry_key: r for r in stored(app)}
    assert rows["k1"].canonical_url == rows["e1"].canonical_url
    assert rows["k1"].group_id == rows["e1"].group_id == min(rows["k1"].id, rows["e1"].id)
    assert rows["o1"].group_id == rows["o1"].id
    assert rows["k1"].url.startswith("https://aws.amazon.com/ko/blogs/")  # the display URL stays


def test_dates_fall_back_to_first_seen_and_future_dates_are_clamped(env: Env) -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>D</title><link>http://x.test/</link>'
        b"<item><title>Undated</title><link>http://x.test/undated</link><guid>u</guid></item>"
        b"<item><title>From the future</title><link>http://x.test/future</link><guid>f</guid>"
        b"<pubDate>Sat, 01 Jan 2050 00:00:00 GMT</pubDate></item>"
        b"</channel></rss>"
    )
    env.server.add("/d.xml", body)
    app = env.app([("dates", env.server.url("/d.xml"))])

    run_poll(app)

    rows = {r.entry_key: r for r in stored(app)}
    assert (rows["u"].published_at, rows["u"].date_source) == (T0, "first_seen")
    assert (rows["f"].published_at, rows["f"].date_source) == (T0, "published")
    assert rows["f"].feed_published_at == datetime(2050, 1, 1, tzinfo=UTC)
    # Seen again later, an undated entry keeps the day it was first seen.
    env.server.add("/d.xml", body.replace(b"<title>Undated</title>", b"<title>Undated, edited</title>"))
    env.clock.advance(timedelta(days=2))
    run_poll(app, due_only=False)
    row = next(r for r in stored(app) if r.entry_key == "u")
    assert (row.title, row.published_at) == ("Undated, edited", T0)


def test_slow_feed_times_out_without_holding_up_the_others(env: Env) -> None:
    site = env.server.base_url
    gate = __import__("threading").Event()
    env.server.route("/slow.xml", Response(body=b"<rss/>", gate=gate))
    env.server.add("/fast.xml", feedgen.rss("F", site, feedgen.entries(site, 3)))
    app = env.app([("slow", env.server.url("/slow.xml")), ("fast", env.server.url("/fast.xml"))])

    try:
        report = run_poll(app)
    finally:
        gate.set()

    results = by_name(report.results)
    assert results["fast"].new == 3
    assert results["slow"].outcome == "error"
    assert "timed out" in (results["slow"].error or "")


def test_feed_claimed_by_a_live_poller_is_skipped(env: Env) -> None:
    site = env.server.base_url
    env.server.add("/a.xml", feedgen.rss("A", site, feedgen.entries(site, 2)))
    app = env.app([("alpha", env.server.url("/a.xml"))])
    with app.write() as s:
        claimed = repo.claim_feeds(s, now=T0, lease=timedelta(minutes=10), owner="other-host:1")
    assert [f.name for f in claimed] == ["alpha"]

    assert run_poll(app).results == ()
    env.clock.advance(timedelta(minutes=11))  # the other poller's claim has expired
    assert [r.new for r in run_poll(app).results] == [2]


def test_many_feeds_parse_in_worker_processes(env: Env) -> None:
    base = env.server.base_url
    names = []
    for i in range(45):
        env.server.add(f"/f{i}.xml", feedgen.rss(f"F{i}", base, feedgen.entries(f"{base}/s{i}", 3, seed=i)))
        names.append((f"feed-{i}", env.server.url(f"/f{i}.xml")))
    app = env.app(names, parse_workers=2)

    report = run_poll(app)

    assert len(report.results) == len(names)
    assert {r.outcome for r in report.results} == {"new"}
    assert len(stored(app)) == 3 * len(names)


def test_feeds_removed_from_config_keep_their_candidates_and_stop(env: Env) -> None:
    site = env.server.base_url
    env.server.add("/a.xml", feedgen.rss("A", site, feedgen.entries(site, 2)))
    app = env.app([("alpha", env.server.url("/a.xml"))])
    run_poll(app)
    app2 = env.app([])
    assert run_poll(app2, due_only=False).results == ()
    assert len(stored(app2)) == 2
    assert feed_row(app2, "alpha").in_config is False


def test_user_agent_names_the_project_and_its_contact(env: Env) -> None:
    # Guards the fixture itself: requests are logged with their headers.
    env.server.route("/x", lambda r: Response(body=r.headers.get("user-agent", "").encode()))
    app = env.app([("x", env.server.url("/x"))])
    run_poll(app)
    req: Request = env.server.requests_for("/x")[0]
    assert req.headers["user-agent"].startswith("aggregator/")
    assert "https://aggregator.invalid/contact" in req.headers["user-agent"]


class _Loud:
    """A result whose repr() counts itself: the event loop's plumbing must never format it."""

    reprs = 0

    def __repr__(self) -> str:
        _Loud.reprs += 1
        return "_Loud()"


def test_run_async_hands_back_the_result_without_formatting_it() -> None:
    async def work() -> _Loud:
        return _Loud()

    _Loud.reprs = 0
    result = poll_module.run_async(work())

    assert isinstance(result, _Loud)
    # The Runner's SIGINT restore formats repr(main task), result included: a whole
    # extraction report's text. The result must not be that task's.
    assert _Loud.reprs == 0


def test_run_async_raises_the_coroutines_error() -> None:
    async def fail() -> None:
        raise LookupError("no such feed")

    with pytest.raises(LookupError, match="no such feed"):
        poll_module.run_async(fail())
