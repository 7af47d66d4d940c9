"""`aggregator demo` end to end: the invented blogs served on 127.0.0.1, the whole loop, every output."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.demo.content import BLOGS, BROKEN, CROSS_POST, POSTS
from tests.feedgen import entries, rss

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    where = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["demo", "--dir", str(where)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return where, result.output


def rows(where: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(where / "aggregator.sqlite3") as db:
        return db.execute(sql).fetchall()


def test_every_post_of_the_working_feeds_is_a_stored_candidate(demo_dir: tuple[Path, str]) -> None:
    where, output = demo_dir
    stored = rows(where, "SELECT f.name, c.url FROM candidates c JOIN feeds f ON f.id = c.feed_id")
    assert sorted(name for name, _ in stored) == sorted(p.blog for p in POSTS)
    assert {name for (name,) in rows(where, "SELECT name FROM feeds")} == {b.name for b in BLOGS}
    assert f"failed: {BROKEN}" in output.replace("\n", " ")


def test_texts_are_extracted_and_the_bot_wall_is_flagged(demo_dir: tuple[Path, str]) -> None:
    where, _ = demo_dir
    status = dict(
        rows(where, "SELECT c.url, a.status FROM articles a JOIN candidates c ON c.id = a.candidate_id")
    )
    walled = [p for p in POSTS if p.bot_wall]
    assert [status[url] for url in status if url.endswith(f"/{walled[0].blog}/{walled[0].slug}")] == [
        "challenge"
    ]
    others = {url: s for url, s in status.items() if not url.endswith(f"/{walled[0].blog}/{walled[0].slug}")}
    assert len(others) == len(POSTS) - 1
    assert set(others.values()) == {"ok"}, {url: s for url, s in others.items() if s != "ok"}
    words = rows(where, "SELECT min(word_count) FROM articles WHERE status = 'ok'")[0][0]
    assert isinstance(words, int) and words >= 120  # well above extraction's 80 (too_short below)


def test_every_candidate_has_a_suggestion_and_a_score(demo_dir: tuple[Path, str]) -> None:
    where, output = demo_dir
    missing = rows(where, "SELECT id FROM candidates WHERE suggested_section IS NULL OR score IS NULL")
    assert missing == []
    assert "the queue, top 10 by score" in output


def test_each_top_section_gets_suggestions_and_a_promotion(demo_dir: tuple[Path, str]) -> None:
    where, output = demo_dir
    suggested = rows(
        where, "SELECT f.name, c.suggested_section FROM candidates c JOIN feeds f ON f.id = c.feed_id"
    )
    tops = {"research", "business", "aws"}
    assert {str(section).split("/")[0] for _, section in suggested} == tops
    hinted = {b.name for b in BLOGS if b.section_hint == "aws"}
    assert hinted and all(str(s).startswith("aws/") for name, s in suggested if name in hinted)
    promoted = rows(where, "SELECT suggested_section, notes FROM candidates WHERE status = 'promoted'")
    assert {str(section).split("/")[0] for section, _ in promoted} == tops
    assert all(notes for _, notes in promoted)
    for top in tops:
        assert re.search(rf"promoted #\d+ into {top}/\w+", output)


def test_the_scores_spread(demo_dir: tuple[Path, str]) -> None:
    where, _ = demo_dir
    scores = [f"{score:.0f}" for (score,) in rows(where, "SELECT score FROM candidates")]
    assert len(scores) == len(POSTS)
    values = sorted({int(s) for s in scores})
    assert len(values) >= 6, scores
    assert values[-1] - values[0] >= 30, scores
    assert max(Counter(scores).values()) <= 4, Counter(scores)


def test_the_cross_post_is_grouped_and_nothing_else(demo_dir: tuple[Path, str]) -> None:
    where, _ = demo_dir
    company, mirror, slug = CROSS_POST
    grouped = rows(
        where,
        "SELECT f.name, c.url FROM candidates c JOIN feeds f ON f.id = c.feed_id WHERE c.group_id IN "
        "(SELECT group_id FROM candidates GROUP BY group_id HAVING count(*) > 1)",
    )
    assert sorted(name for name, _ in grouped) == sorted([company, mirror])
    assert all(url.endswith(f"/{slug}") for _, url in grouped)


def test_the_digest_is_in_the_curators_format(demo_dir: tuple[Path, str]) -> None:
    where, output = demo_dir
    lines = (where / "digest.md").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ")
    headings = [line for line in lines if line.startswith("##")]
    items = [line for line in lines if line.startswith("* ")]
    assert headings and all(re.fullmatch(r"#{2,3} (\d+\.)+ \S.*", h) for h in headings)
    assert len(items) == len(re.findall(r"promoted #\d+ into", output)) >= 2
    item = re.compile(r"\* \[.+ \((Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}, [^)]+\)\]"
                      r"\(http://127\.0\.0\.1:\d+/[^)]+\): picked by the demo: .+")  # fmt: skip
    assert all(item.fullmatch(line) for line in items), items
    promoted = rows(where, "SELECT count(*) FROM candidates WHERE status = 'promoted'")[0][0]
    assert promoted == len(items)


def test_the_weekly_email_parses_with_both_parts(demo_dir: tuple[Path, str]) -> None:
    where, _ = demo_dir
    message = BytesParser(policy=policy.default).parsebytes((where / "weekly.eml").read_bytes())
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    assert "How we cut ranking latency" in plain.get_content()
    assert "<html" in html.get_content().lower()
    assert (where / "weekly.html").read_text(encoding="utf-8").lower().count("<html") == 1


def test_the_closing_lines_say_where_everything_is_and_what_to_run(demo_dir: tuple[Path, str]) -> None:
    where, output = demo_dir
    flat = output.replace("\n", " ")
    for name in ("feeds.yaml", "aggregator.sqlite3", "digest.md", "weekly.eml", "weekly.html"):
        assert str(where / name) in flat
    assert f"AGGREGATOR_DATA_DIR={where} aggregator --config {where / 'feeds.yaml'} triage" in flat
    assert "queue --sort score" in flat


def test_the_explore_commands_work_on_the_demo_database(
    demo_dir: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    where, _ = demo_dir
    monkeypatch.setenv("AGGREGATOR_DATA_DIR", str(where))
    monkeypatch.delenv("AGGREGATOR_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["--config", str(where / "feeds.yaml"), "queue", "--sort", "score"])
    assert result.exit_code == 0, result.output
    assert "lumen-engineering" in result.output


def test_a_corpus_folder_is_served_instead(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    site = "http://127.0.0.1:9/x"
    (corpus / "Some Blog.xml").write_bytes(rss("Some Blog", site, entries(site, 3)))
    result = runner.invoke(app, ["demo", "--corpus", str(corpus)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "polled 1 feeds: 3 new candidates" in result.output
    assert "none fetched: a captured corpus has no pages" in result.output  # no host but this one
    assert "temp dir, now removed" in result.output
