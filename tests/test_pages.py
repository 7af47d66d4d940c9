"""Article extraction end to end: pages served from 127.0.0.1, a real database, real worker processes."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from aggregator.app import App, make_app
from aggregator.article_types import Article
from aggregator.articles import pages
from aggregator.cli import app as cli
from aggregator.config import Settings, load_config
from aggregator.feeds.poll import run_async
from aggregator.service.polling import extract_pending, poll_and_extract, run_poll
from aggregator.store import articles as article_store
from aggregator.store.tables import candidates
from aggregator.workers import WorkerPool
from tests import feedgen
from tests.fixture_server import FixtureServer, Response
from tests.stock import Clock

PAGES = Path(__file__).parent / "fixtures" / "pages"
T0 = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)
FEED_CONTENT = "<p>" + " ".join(["The feed's own full text of this post, kept as a fallback."] * 20) + "</p>"


def entry(key: str, link: str) -> feedgen.Entry:
    return feedgen.Entry(key, f"Post {key}", link, T0 - timedelta(days=1), "A short summary.", FEED_CONTENT)


@pytest.fixture
def make(tmp_path: Path, database_url: str) -> Iterator[object]:
    apps: list[App] = []
    clock = Clock(T0)

    def build(
        server: FixtureServer,
        entries: list[feedgen.Entry],
        also: tuple[tuple[str, str], ...] = (),
        **fetch: object,
    ) -> App:
        server.add("/feed.xml", feedgen.rss("Pages", server.base_url, entries))
        text = feedgen.feeds_yaml([("pages", server.url("/feed.xml")), *also])
        for key, value in fetch.items():
            text = text.replace("  deadline: 5\n", f"  deadline: 5\n  {key}: {value}\n")
        path = tmp_path / "feeds.yaml"
        path.write_text(text, encoding="utf-8")
        app = make_app(
            Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(path),
            config_path=path, clock=clock, rng=random.Random(5), parse_workers=1,
        )  # fmt: skip
        apps.append(app)
        app.sync_feeds()
        return app

    build.clock = clock  # type: ignore[attr-defined]
    yield build
    for app in apps:
        app.close()


def by_key(app: App) -> dict[str, Article]:
    with app.read() as s:
        rows = s.execute(sa.select(candidates.c.id, candidates.c.entry_key)).all()
        return {key: article_store.get_article(s, cid) for cid, key in rows}  # type: ignore[misc]


def page(server: FixtureServer, name: str, content_type: str = "text/html; charset=utf-8") -> str:
    server.add(f"/p/{name}", (PAGES / name).read_bytes(), content_type=content_type)
    return server.url(f"/p/{name}")


def test_pages_are_extracted_flagged_or_replaced_by_the_feeds_text(server: FixtureServer, make) -> None:  # type: ignore[no-untyped-def]
    entries = [
        entry("article", page(server, "article_boilerplate.html")),
        entry("korean", page(server, "korean.html")),
        entry("japanese", page(server, "japanese.html")),
        entry("challenge", page(server, "cloudflare_challenge.html")),
        entry("paywall", page(server, "paywall_stub.html")),
        entry("pdf", page(server, "document.pdf", "application/pdf")),
        entry("wrong-charset", page(server, "euc_kr_declared_utf8.html")),
        entry("code", page(server, "code_blocks.html")),
        entry("table", page(server, "table.html")),
        entry("private", "http://127.0.0.2/internal"),
        entry("missing", server.url("/p/nowhere.html")),
    ]
    app = make(server, entries)

    report, extracted = run_async(poll_and_extract(app))

    assert report.new == len(entries)
    assert len(extracted.articles) == len(entries)
    got = by_key(app)
    article = got["article"]
    assert (article.status, article.text_source) == ("ok", "page")
    assert article.word_count > 80 and article.attempts == 1 and article.next_attempt_at is None
    assert got["korean"].status == "ok" and got["korean"].language == "ko"
    assert got["japanese"].status == "ok" and got["japanese"].language == "ja"
    assert got["wrong-charset"].status == "ok"
    assert any("\uac00" <= ch <= "\ud7a3" for ch in got["wrong-charset"].text or "")
    for key, status in (("challenge", "challenge"), ("paywall", "paywall"), ("pdf", "not_html")):
        flagged = got[key]
        assert flagged.status == status, key
        assert flagged.text_source == "feed", key  # never the flagged page itself
        assert "feed's own full text" in (flagged.text or ""), key
    assert "        worker.run(extract_page, SAMPLE_PAGE)\n" in (got["code"].text or "")  # indentation kept
    assert "| int8 static calibrated | 206 | 17.9 | -0.2% |" in (got["table"].text or "").replace("  ", " ")
    assert got["private"].status == "error" and "not fetched" in (got["private"].reason or "")
    assert got["missing"].status == "http_error" and got["missing"].next_attempt_at is None
    assert not [r for r in server.requests if r.path == "/internal"]
    # Every page was fetched exactly once.
    fetched = [r.path for r in server.requests if r.path.startswith("/p/")]
    assert sorted(fetched) == sorted(set(fetched))


def test_a_hosts_feeds_and_article_pages_share_one_per_host_limit(server: FixtureServer, make) -> None:  # type: ignore[no-untyped-def]
    body = (PAGES / "article_boilerplate.html").read_bytes()
    entries = []
    for i in range(4):
        server.add(f"/p/{i}.html", body, content_type="text/html")
        entries.append(entry(f"p{i}", server.url(f"/p/{i}.html")))
    # A second feed on the same host answers slowly: while it is in flight, the
    # first feed's pages wait for the host's one slot instead of going in beside it.
    slow = Response(
        body=feedgen.rss("Slow", server.base_url, []),
        delay=0.5,
        headers={"Content-Type": "application/rss+xml"},
    )
    server.route("/slow.xml", slow)
    app = make(server, entries, also=(("slow", server.url("/slow.xml")),), per_host=1)

    report, extracted = run_async(poll_and_extract(app))

    assert report.new == 4 and len(extracted.articles) == 4
    assert {a.status for a in extracted.articles} == {"ok"}
    assert server.max_in_flight == 1


def test_finished_articles_are_saved_in_batches(
    server: FixtureServer, make, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    body = (PAGES / "article_boilerplate.html").read_bytes()
    entries = []
    for i in range(12):
        server.add(f"/p/{i}.html", body, content_type="text/html")
        entries.append(entry(f"p{i}", server.url(f"/p/{i}.html")))
    app = make(server, entries)
    assert run_poll(app).new == 12
    saved: list[int] = []
    save = pages._save

    def counting(app: App, batch: list[Article]) -> None:
        saved.append(len(batch))
        save(app, batch)

    monkeypatch.setattr(pages, "_save", counting)
    monkeypatch.setattr(pages, "BATCH", 5)
    # Articles wait for company up to the linger, here longer than the whole run:
    # only a full batch or the end of the run writes them, and the end does not wait.
    monkeypatch.setattr(pages, "WRITE_LINGER", 120.0)

    report = run_async(extract_pending(app))

    assert len(report.articles) == 12 and report.elapsed < 60
    assert saved == [5, 5, 2]
    assert {a.status for a in by_key(app).values()} == {"ok"}


def test_transient_failures_are_retried_later_and_by_hand(server: FixtureServer, make) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    server.route("/p/busy", Response(status=503, headers={"Retry-After": "60"}))
    server.route("/p/slow", Response(body=b"<html></html>", gate=gate))
    app = make(server, [entry("busy", server.url("/p/busy")), entry("slow", server.url("/p/slow"))])
    try:
        run_async(poll_and_extract(app))
    finally:
        gate.set()
    got = by_key(app)
    assert got["busy"].status == "http_error" and got["busy"].next_attempt_at == T0 + timedelta(minutes=15)
    assert got["slow"].status == "timeout" and got["slow"].next_attempt_at == T0 + timedelta(minutes=15)
    assert got["busy"].text_source == "feed"

    # Not due yet: nothing happens. Once due, tried again.
    assert run_async(extract_pending(app)).articles == ()
    make.clock.now = T0 + timedelta(minutes=16)  # type: ignore[attr-defined]
    server.add("/p/busy", (PAGES / "article_boilerplate.html").read_bytes(), content_type="text/html")
    again = {a.candidate_id: a for a in run_async(extract_pending(app)).articles}
    assert len(again) == 2
    got = by_key(app)
    assert (got["busy"].status, got["busy"].text_source, got["busy"].attempts) == ("ok", "page", 2)


# Bot walls answer with an error status; written for these tests after the shape of the real ones.
CLOUDFLARE_403 = b"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow">
</head><body class="no-js"><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">blog.example.com</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<div id="challenge-body-text" class="core-msg spacer">blog.example.com needs to review the security of your
connection before proceeding.</div></div></div>
<script>(function(){window._cf_chl_opt={cvId:'3',cType:'managed'};var s=document.createElement('script');
s.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=0';document.head.appendChild(s);}());</script>
</body></html>"""
ENABLE_JAVASCRIPT_503 = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>blog.example.com</title>
</head><body><div id="wall"><p>Please enable JavaScript to view this website.</p>
<p>Our servers check every visitor before letting them in.</p></div>
<script src="/wall/check.js"></script></body></html>"""
# A plain error page: few words and a script, but no bot-wall marker.
NOT_FOUND_404 = b"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Page not found - Example Blog</title>
<script src="/js/analytics.js"></script></head><body><h1>404</h1>
<p>Sorry, there is nothing at this address.</p><p><a href="/">Home</a></p></body></html>"""
SERVER_ERROR_500 = b"""<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>
<body><h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>"""


def test_bot_walls_served_with_an_error_status_are_challenges(server: FixtureServer, make) -> None:  # type: ignore[no-untyped-def]
    html = "text/html; charset=UTF-8"
    server.route("/p/cloudflare", Response(status=403, body=CLOUDFLARE_403, headers={"Content-Type": html}))
    server.route(
        "/p/javascript",
        Response(status=503, body=ENABLE_JAVASCRIPT_503, headers={"Content-Type": html, "Retry-After": "60"}),
    )
    server.route("/p/missing", Response(status=404, body=NOT_FOUND_404, headers={"Content-Type": html}))
    server.route("/p/broken", Response(status=500, body=SERVER_ERROR_500, headers={"Content-Type": html}))
    names = ("cloudflare", "javascript", "missing", "broken")
    app = make(server, [entry(name, server.url(f"/p/{name}")) for name in names])

    report, extracted = run_async(poll_and_extract(app))

    assert report.new == 4 and len(extracted.articles) == 4
    got = by_key(app)
    cloudflare, javascript = got["cloudflare"], got["javascript"]
    assert cloudflare.status == "challenge"
    assert "Cloudflare" in (cloudflare.reason or "") and "Just a moment..." in (cloudflare.reason or "")
    assert "HTTP 403" in (cloudflare.reason or "")
    assert javascript.status == "challenge"
    assert "enable JavaScript" in (javascript.reason or "") and "HTTP 503" in (javascript.reason or "")
    for wall in (cloudflare, javascript):
        assert wall.next_attempt_at is None  # a bot wall is not transient, whatever its status says
        assert wall.page_url is not None and wall.page_url.endswith(("/p/cloudflare", "/p/javascript"))
        assert wall.text_source == "feed" and "feed's own full text" in (wall.text or "")
    missing, broken = got["missing"], got["broken"]
    assert missing.status == "http_error" and missing.reason == "404 Not Found: the request was refused"
    assert missing.next_attempt_at is None and missing.text_source == "feed"
    assert broken.status == "http_error" and broken.next_attempt_at == T0 + timedelta(minutes=15)
    assert broken.text_source == "feed"
    fetched = sorted(r.path for r in server.requests if r.path.startswith("/p/"))
    assert fetched == sorted(f"/p/{name}" for name in names)  # each page fetched once


def test_a_page_over_the_cap_and_a_page_that_takes_too_long(server: FixtureServer, make) -> None:  # type: ignore[no-untyped-def]
    huge = (
        "<html><body>"
        + "".join(
            f"<div><p>word {i} " + "lorem ipsum dolor sit amet " * 20 + "</p></div>" for i in range(15000)
        )
        + "</body></html>"
    ).encode()
    server.add("/p/huge", huge, content_type="text/html")
    big = b"<html><body>" + b"<p>too much</p>" * 700_000 + b"</body></html>"
    server.add("/p/big", big, content_type="text/html")
    app = make(
        server, [entry("huge", server.url("/p/huge")), entry("big", server.url("/p/big"))],
        max_body_bytes=9_000_000,
    )  # fmt: skip
    assert run_poll(app).new == 2
    # `big` (10.5 MB) passes the 9 MB cap; `huge` (8.5 MB) fits but takes ~12 s to extract.
    with WorkerPool(1, timeout=1.0) as pool:
        report = run_async(extract_pending(app, pool=pool))
    got = by_key(app)
    assert len(report.articles) == 2
    assert got["big"].status == "error" and "larger" in (got["big"].reason or "")
    assert got["huge"].status == "timeout" and "1 s" in (got["huge"].reason or "")
    assert got["big"].text_source == got["huge"].text_source == "feed"
    assert got["huge"].next_attempt_at is None  # a page that is too slow stays too slow


def test_extraction_with_nothing_pending_starts_no_worker(server: FixtureServer, make) -> None:  # type: ignore[no-untyped-def]
    app = make(server, [])
    with WorkerPool(1, timeout=30) as pool:
        report = run_async(extract_pending(app, pool=pool))
        assert report.articles == () and pool._workers == []


def test_extract_and_show_commands(
    server: FixtureServer,
    make,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    app = make(
        server, [entry("article", page(server, "article_boilerplate.html")), entry("gone", server.url("/x"))]
    )
    app.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    runner = CliRunner()
    polled = runner.invoke(cli, ["poll", "--no-extract"], catch_exceptions=False)
    assert polled.exit_code == 0 and "pages extracted" not in polled.output

    first = runner.invoke(cli, ["extract"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "2 candidates" in first.output
    assert "No candidate needs extracting." in runner.invoke(cli, ["extract"]).output
    retried = runner.invoke(cli, ["extract", "--retry-failed"], catch_exceptions=False)
    assert "1 candidates" in retried.output

    listed = json.loads(runner.invoke(cli, ["candidates", "list", "--json"]).output)
    article_id = next(c["id"] for c in listed if c["title"] == "Post article")
    shown = json.loads(runner.invoke(cli, ["show", str(article_id), "--json"]).output)
    assert shown["article"]["status"] == "ok" and shown["article"]["text_source"] == "page"
    assert shown["article"]["reading_minutes"] >= 1 and shown["article"]["text"]
    text = runner.invoke(cli, ["show", str(article_id)])
    assert text.exit_code == 0 and "reading time" in text.output and "text from" in text.output
    missing = runner.invoke(cli, ["show", "99999"])
    assert missing.exit_code == 1
    assert "no candidate 99999 (see `aggregator queue --status all`)" in missing.output


def test_show_reads_the_feeds_html_summary_as_text_until_the_page_is_extracted(
    server: FixtureServer,
    make,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    summary = (
        '<p>Ten years ago we released <a href="https://example.org/x">PortKit</a> &amp; left it.</p>'
        "<ul><li>expose a service</li><li>know your address</li></ul><pre>ports  = [80]</pre>"
    )
    item = feedgen.Entry("html", "Post html", server.url("/p/html"), T0 - timedelta(days=1), summary, "")
    app = make(server, [item])
    app.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["poll", "--no-extract"], catch_exceptions=False).exit_code == 0
    listed = json.loads(runner.invoke(cli, ["candidates", "list", "--json"]).output)
    cid = next(c["id"] for c in listed if c["title"] == "Post html")
    shown = runner.invoke(cli, ["show", str(cid)], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert "<p>" not in shown.output and "&amp;" not in shown.output and "<li>" not in shown.output
    assert "Ten years ago we released PortKit & left it.\n\n- expose a service\n- know your address" in (
        shown.output
    )
    assert "```\nports  = [80]\n```" in shown.output  # preformatted text keeps its spaces
    as_json = json.loads(runner.invoke(cli, ["show", str(cid), "--json"]).output)
    assert as_json["summary"] == summary  # the data itself is unchanged
