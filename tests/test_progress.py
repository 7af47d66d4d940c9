"""Long work is not silent, and `poll --feed X` works on X: progress lines, the poll's own pages first."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aggregator.article_types import Article
from aggregator.cli import app
from aggregator.cli.progress import Progress
from aggregator.types import FeedUpdateResult
from tests import feedgen
from tests.fixture_server import FixtureServer

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def project(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, server: FixtureServer
) -> Path:
    base = server.base_url
    for name, n, seed in (("a", 4, 1), ("b", 3, 2)):
        items = feedgen.entries(f"{base}/{name}", n, seed=seed)
        server.add(f"/{name}.xml", feedgen.rss(f"{name} blog", base, items))
        for entry in items:  # every page is an article, so extraction succeeds
            body = f"<article>{entry.content}</article>"
            page = f"<html><head><title>{entry.title}</title></head><body>{body}</body></html>"
            server.add(entry.link.removeprefix(base), page.encode(), content_type="text/html")
    (tmp_path / "feeds.yaml").write_text(
        feedgen.feeds_yaml([("alpha", server.url("/a.xml")), ("beta", server.url("/b.xml"))]),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    return tmp_path


def _page_requests(server: FixtureServer, feed: str) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith(f"/{feed}/blog/")]


def test_poll_feed_extracts_that_feed_s_pages_and_leaves_the_others_pending(
    project: Path, server: FixtureServer
) -> None:
    first = invoke("poll", "--feed", "alpha", "--no-extract")
    assert first.exit_code == 0, first.output
    second = invoke("poll", "--feed", "beta")
    assert second.exit_code == 0, second.output
    assert "3 pages extracted (3 ok)" in second.output
    assert sorted(_page_requests(server, "b")) == sorted(set(_page_requests(server, "b")))
    assert len(_page_requests(server, "b")) == 3
    assert _page_requests(server, "a") == []  # alpha's pending pages are extract's business
    caught_up = invoke("extract")
    assert caught_up.exit_code == 0 and "4 candidates" in caught_up.output
    assert len(_page_requests(server, "a")) == 4


def test_a_poll_not_on_a_terminal_ends_with_a_plain_progress_line(project: Path) -> None:
    result = invoke("poll", "--all")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if " INFO poll: " in line]
    assert len(lines) == 1, result.output
    assert re.match(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO poll: 2/2 feeds, 7/7 pages "
        r"\(7 ok, 0 flagged, 0 failed\), \d+\.\d s, \d+\.\d pages/s$",
        lines[0],
    ), lines[0]


def _article(candidate_id: int, status: str) -> Article:
    return Article(candidate_id, status, None, None, None, 0)  # type: ignore[arg-type]


def test_plain_lines_come_every_period_and_at_the_end() -> None:
    now = [0.0]
    out = io.StringIO()
    with Progress("extract", pages=4, stream=out, every=10.0, clock=lambda: now[0]) as shown:
        shown.page(_article(1, "ok"))
        now[0] = 5.0
        shown.page(_article(2, "paywall"))
        assert out.getvalue() == ""  # not yet 10 s
        now[0] = 10.0
        shown.page(_article(3, "timeout"))
        assert out.getvalue().endswith(
            "extract: 3/4 pages (1 ok, 1 flagged, 1 failed), 10.0 s, 0.3 pages/s\n"
        )
        now[0] = 12.0
        shown.page(_article(4, "ok"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1].endswith("extract: 4/4 pages (2 ok, 1 flagged, 1 failed), 12.0 s, 0.3 pages/s")


def test_a_poll_s_page_total_grows_with_the_new_entries_it_finds() -> None:
    out = io.StringIO()
    with Progress("poll", feeds=2, pages=0, stream=out, every=1e9) as shown:
        shown.feed(FeedUpdateResult("alpha", "http://x/a", "new", new=5))
        shown.feed(FeedUpdateResult("beta", "http://x/b", "error"))
        shown.page(_article(1, "ok"))
    assert "poll: 2/2 feeds, 1/5 pages (1 ok, 0 flagged, 0 failed)" in out.getvalue()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_display_is_drawn_in_place() -> None:
    out = _Tty()
    with Progress("extract", pages=2, stream=out) as shown:
        shown.page(_article(1, "ok"))
        shown.page(_article(2, "http_error"))
    text = out.getvalue()
    assert "pages extracted" in text and "2/2" in text and "1 ok, 0 flagged, 1 failed" in text
    assert " INFO " not in text


def test_a_run_that_fails_prints_no_progress_line_beside_its_error() -> None:
    out = io.StringIO()
    with pytest.raises(RuntimeError), Progress("extract", pages=2, stream=out, every=1e9) as shown:
        shown.page(_article(1, "ok"))
        raise RuntimeError("the database went away")
    assert out.getvalue() == ""
