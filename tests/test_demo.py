"""`aggregator demo` end to end: the invented blogs served on 127.0.0.1, the whole loop, every output."""

from __future__ import annotations

import gzip
import json
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
from aggregator.demo.corpus import JSON_FEED, XML, judge, scan
from tests.feedgen import atom, entries, rss

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
    assert "polled 1 feed: 3 new candidates" in result.output
    assert "none fetched: a captured corpus has no pages" in result.output  # no host but this one
    assert "temp dir, now removed" in result.output


# -- a folder of captured feeds (--corpus): written here, a corpus's usual layout ---------------------

SITE = "http://127.0.0.1:9/x"


def json_feed(title: str, n: int) -> bytes:
    items = [
        {"id": f"{SITE}/j/{i}", "url": f"{SITE}/notes/{i}", "title": f"{title} note {i}",
         "content_text": f"Note {i} on retrieval, ranking and evaluation.",
         "date_published": f"2024-02-0{i + 1}T09:00:00Z"}
        for i in range(n)
    ]  # fmt: skip
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": title, "items": items}
    ).encode()


def flat(output: str) -> str:
    return " ".join(output.split())


@pytest.fixture
def captured(tmp_path: Path) -> Path:
    """A corpus root as one is kept: notes, an index, subscriptions, a saved page, and feeds/ below."""
    root = tmp_path / "captured"
    (root / "feeds").mkdir(parents=True)
    (root / "archive").mkdir()
    (root / ".git").mkdir()
    (root / "README.md").write_text("# Captured feeds\n\nWhat is here and where it came from.\n")
    (root / "feeds" / "INDEX.tsv").write_text("file\tformat\nblog.rss.xml\tRSS 2.0\n")
    (root / "subscriptions.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>Mine</title></head><body>'
        f'<outline type="rss" text="Blog" xmlUrl="{SITE}/feed"/></body></opml>'
    )
    (root / "front-page.html").write_text(
        "<!doctype html><html><head><title>Home</title></head><body/></html>"
    )
    (root / "feeds" / "blog.rss.xml").write_bytes(rss("Blog", SITE, entries(SITE, 3, seed=1)))
    (root / "feeds" / "news.atom.xml").write_bytes(atom("News", SITE, entries(SITE, 2, seed=2)))
    (root / "feeds" / "notes.json").write_bytes(json_feed("Notes", 4))
    (root / "archive" / "blog.rss.xml").write_bytes(rss("Old blog", SITE, entries(SITE, 1, seed=3)))
    (root / ".git" / "feed.xml").write_bytes(rss("Hidden", SITE, entries(SITE, 5, seed=4)))
    return root


def test_a_corpus_root_serves_the_feeds_in_it_and_below_and_skips_the_rest(captured: Path) -> None:
    where = captured.parent / "out"
    result = runner.invoke(
        app, ["demo", "--dir", str(where), "--corpus", str(captured)], catch_exceptions=False
    )
    output = flat(result.output)
    assert result.exit_code == 0, result.output
    assert "serving 4 feeds" in output
    assert "skipped 4 files that are not feeds: 1 .html, 1 .md, 1 .opml, 1 .tsv" in output
    assert "polled 4 feeds: 10 new candidates failed: none" in output
    feeds = dict(
        rows(where, "SELECT f.name, count(*) FROM candidates c JOIN feeds f ON f.id = c.feed_id GROUP BY 1")
    )
    assert feeds == {
        "blog-rss": 1,
        "feeds-blog-rss": 3,
        "news-atom": 2,
        "notes": 4,
    }  # path order: archive/ first
    assert (where / "digest.md").exists() and (where / "weekly.eml").exists()


def test_a_folder_without_a_feed_is_a_usage_error_on_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "README.md").write_text("# Nothing but notes\n")
    (folder / "list.opml").write_text('<?xml version="1.0"?><opml version="2.0"><body/></opml>')
    result = runner.invoke(app, ["demo", "--corpus", str(folder)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output, result.stderr
    assert flat(result.stderr) == (
        f"error: --corpus: no feed in {folder} or below it: none of its 2 files is an RSS, RDF, Atom or JSON "
        "Feed document (1 .md, 1 .opml); give a folder that holds feed files, such as a captured corpus or "
        "its feeds/ folder (see `aggregator demo --help`)"
    )
    assert "serving" not in result.output  # nothing was done


def test_a_corpus_whose_only_feed_is_broken_skips_what_needs_candidates(tmp_path: Path) -> None:
    folder, where = tmp_path / "broken", tmp_path / "out"
    folder.mkdir()
    (folder / "cut.json").write_bytes(json_feed("Cut", 2)[:70])  # cut off inside the first item
    (where).mkdir()
    (where / "digest.md").write_text("an earlier run's digest\n")
    result = runner.invoke(
        app, ["demo", "--dir", str(where), "--corpus", str(folder)], catch_exceptions=False
    )
    output = flat(result.output)
    assert result.exit_code == 1, result.output
    assert "polled 1 feed: 0 new candidates failed: cut (" in output and "invalid JSON" in output
    assert "skipped suggesting, promoting, the digest and the weekly email" in output
    assert "no digest issue" not in output and "the queue, top 10" not in output
    assert str(where / "feeds.yaml") in output and str(where / "aggregator.sqlite3") in output
    assert not (where / "digest.md").exists() and "digest.md" not in output  # the earlier run's is gone
    assert "feeds status" in output and "queue --sort score" not in output
    errors = result.stderr.strip().splitlines()
    assert errors == [
        "error: the poll stored no candidates: the feed failed (the 'polled' line above says why)"
    ]


GZ_RSS = gzip.compress(rss("Zipped", SITE, entries(SITE, 1)))
SORTED_JSON_FEED = json.dumps(json.loads(json_feed("Sorted", 3)), sort_keys=True).encode()
LONG_JSON_FEED = json.dumps(
    {"items": [{"id": "1", "content_text": "word " * 20_000}], "version": "https://jsonfeed.org/version/1"}
).encode()  # its version past the first 64 KB


@pytest.mark.parametrize(
    ("name", "body", "served_as"),
    [
        ("a.rss.xml", rss("A", SITE, entries(SITE, 1)), XML),
        ("noext", atom("B", SITE, entries(SITE, 1)), XML),  # by content, whatever the name
        ("c.xml.gz", GZ_RSS, XML),
        ("d.rdf", b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a comment -->\n<rdf:RDF xmlns:rdf="x"/>', XML),
        ("e.xml", '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"/>'.encode("utf-16"), XML),
        (
            "f.atom.xml",
            b'<!DOCTYPE html><html><body><feed xmlns="http://www.w3.org/2005/Atom">',
            XML,
        ),  # saved
        ("g.json", SORTED_JSON_FEED, JSON_FEED),  # its version after its items
        ("g2.json", LONG_JSON_FEED, JSON_FEED),
        ("h.json", b'{"version":"https:\\/\\/jsonfeed.org\\/version\\/1","items":[]}', JSON_FEED),
        ("empty.xml", b"", XML),  # served: the poll says it is empty
        ("i.opml", b'<?xml version="1.0"?><opml version="1.0"><body/></opml>', None),
        (
            "j.xml",
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>',
            None,
        ),
        ("k.html", b"<!DOCTYPE html>\n<html lang=en><head><title>t</title></head></html>", None),
        ("l.json", b'{"rss": {"version": "2.0", "channel": {"title": "RSS as JSON"}}}', None),
        ("m.json", b'[{"title": "a list"}]', None),
        ("n.md", b"# Notes\n", None),
        ("o.tsv", b"file\tformat\n", None),
    ],
)
def test_a_file_is_judged_a_feed_by_its_start_then_its_name(
    tmp_path: Path, name: str, body: bytes, served_as: str | None
) -> None:
    (tmp_path / name).write_bytes(body)
    assert judge(tmp_path / name) == served_as


def test_the_shared_corpus_root_serves_what_its_feeds_folder_does(corpus: Path) -> None:
    from_root, from_feeds = scan(corpus), scan(corpus / "feeds")
    assert [f.path for f in from_root.files] == [f.path for f in from_feeds.files]
    assert len(from_root.files) > 200
    assert {".html", ".opml", ".md"} <= set(from_root.skipped)
