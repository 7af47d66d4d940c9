"""Hostile text through every command that prints, and through the digest's templates (issue 12, 2 and 3).

Text from the world or a curator is data, never markup, and no control or bidi-override character
reaches a terminal or a digest. Each Hypothesis example writes candidates, feed errors, articles and
decisions holding hostile strings (``tests/hostile.py``) into a real database (SQLite and PostgreSQL),
then runs the commands with Typer's CliRunner against it. Properties checked on every run: the exit
code, no traceback or MarkupError, no character of ``aggregator.controls.CONTROLS`` on stdout or
stderr, the text shown as written (its controls as visible escapes), and JSON that reads back to the
stored strings. One test polls a feed served on 127.0.0.1 so the path feed -> parse -> store -> print
is covered end to end.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer.testing
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import aggregator.cli as cli
from aggregator.app import App, make_app
from aggregator.config import Settings, load_config, parse_config
from aggregator.controls import CONTROLS, find_controls, strip_controls
from aggregator.digest.lint import LintItem, lint_findings
from aggregator.digest.markdown import md_text, md_url
from aggregator.digest.model import TEMPLATES, DigestItem, build_digest
from aggregator.digest.render import render
from aggregator.feeds.opml import read_opml
from aggregator.store import repo
from tests import hostile
from tests.fixture_server import FixtureServer
from tests.hostile import HOSTILE, MARKUP, add_article, add_entry, has_controls, hostile_text, shown

runner = CliRunner()
NOW = datetime.now(UTC).replace(microsecond=0)


def examples(n: int) -> settings:
    """Settings for a test that runs a dozen commands per example (about 50 ms each).

    The database and feeds.yaml are made once per test and every example adds its own candidates to
    them (fresh keys, fresh digest issues), so sharing the function-scoped fixture is intended. An
    example is a few short hostile pieces already; shrinking one through a dozen commands would take
    minutes, so a failure is reported as found.
    """
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )


@dataclass
class World:
    app: App
    postgres: bool

    def text(self, *, newlines: bool = False) -> st.SearchStrategy[str]:
        # PostgreSQL's text type cannot hold NUL; what the store does with one is not this test's subject.
        return hostile_text(nul=not self.postgres, newlines=newlines)


@pytest.fixture
def world(
    server: FixtureServer, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    yield from make_world(server, tmp_path, database_url, monkeypatch)


@pytest.fixture
def sqlite_world(server: FixtureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """For what does not depend on the database (usage errors)."""
    (tmp_path / "data").mkdir()  # an explicit SQLite URL's folder must exist
    yield from make_world(
        server, tmp_path, f"sqlite:///{tmp_path / 'data' / 'aggregator.sqlite3'}", monkeypatch
    )


def make_world(
    server: FixtureServer, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        hostile.feeds_yaml([("alpha", server.url("/alpha.xml")), ("broken", server.url("/broken.xml"))]),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("AGGREGATOR_CONFIG", str(path))
    monkeypatch.setenv("AGGREGATOR_CURATOR", "ana")
    monkeypatch.setenv("COLUMNS", "4000")  # a table row holds a whole title, so it can be looked for
    app = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(path), config_path=path,
        parse_workers=0,
    )  # fmt: skip
    app.sync_feeds()
    try:
        yield World(app, database_url.startswith("postgresql"))
    finally:
        app.close()


def run(*args: str, code: int = 0) -> Result:
    """Run a command; it exits with ``code``, with no traceback, and prints no control character."""
    result = runner.invoke(cli.app, list(args))
    where = f"aggregator {' '.join(args)!r}:\n{result.output}"
    assert result.exit_code == code, where + repr(result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), where
    assert "Traceback" not in result.output and "MarkupError" not in result.output, where
    assert not has_controls(result.stdout), where
    assert not has_controls(result.stderr), where
    return result


def printed(text: str, output: str) -> bool:
    """``text`` is in ``output`` as a safe terminal shows it, line by line (Rich turns tabs into spaces)."""
    return all(shown(part).strip() in output for line in text.splitlines() for part in line.split("\t"))


_dates = itertools.count(1)


def fresh_date() -> datetime:
    """A publication date no other example has, newest last, so a new candidate tops the queue."""
    return NOW - timedelta(days=3000) + timedelta(minutes=next(_dates))


_issues = itertools.count(0)


def fresh_issue() -> str:
    n = next(_issues)
    return f"{2001 + n // 12:04d}-{n % 12 + 1:02d}"


# -- candidates, show, queue ------------------------------------------------------------------


@st.composite
def _article(draw: st.DrawFn, world: World) -> dict[str, Any]:
    return {
        "title": draw(world.text()),
        "summary": draw(world.text(newlines=True)),
        "author": draw(world.text()),
        "path": draw(world.text()),
        "text": draw(world.text(newlines=True)),
        "reason": draw(world.text()),
    }


def test_a_candidate_from_the_world_is_printed_as_written(world: World) -> None:
    examples_so_far = itertools.count()

    @examples(6)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        a = data.draw(_article(world))
        # Each example its own article: two drawn paths can make one canonical URL, and the queue
        # shows a cross-post group once (as its earliest), which is not what this test is about.
        n = next(examples_so_far)
        cid = add_entry(
            world.app, "alpha", title=a["title"], summary=a["summary"], author=a["author"],
            link=f"http://127.0.0.1/{n}/{a['path']}", published=fresh_date(),
        )  # fmt: skip
        with world.app.read() as s:
            stored = repo.get_candidate(s, cid)
        assert stored is not None and stored.title == a["title"]

        listed = run("candidates", "list", "--limit", "100000").stdout
        assert shown(a["title"]) in listed
        (row,) = [c for c in json.loads(run("candidates", "list", "--json", "--limit", "100000").stdout)
                  if c["id"] == cid]  # fmt: skip
        assert (row["title"], row["label"], row["url"]) == (a["title"], stored.label, stored.url)

        queue = run("queue", "--limit", "1").stdout  # the newest: this example's
        assert shown(a["title"]) in queue  # (the feed column is cut short; the label is in the JSON)
        (item,) = json.loads(run("queue", "--limit", "1", "--json").stdout)
        assert (item["id"], item["title"], item["label"]) == (cid, a["title"], stored.label)
        run("queue", "--search", a["title"], "--limit", "5")  # echoes nothing, must not stumble

        add_article(world.app, cid, text=a["text"], reason=a["reason"], author=a["author"])
        text = run("show", str(cid)).stdout
        for value in (a["title"], a["text"], a["reason"], a["author"], stored.label, stored.url or ""):
            assert printed(value, text), value
        data_out = json.loads(run("show", str(cid), "--json").stdout)
        assert (data_out["title"], data_out["summary"], data_out["author"]) == (
            a["title"],
            a["summary"],
            a["author"],
        )
        assert (data_out["article"]["text"], data_out["article"]["reason"]) == (a["text"], a["reason"])

    check()


def test_show_pages_styles_but_never_a_control_from_the_world(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    title, text = "[/] \x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\ \u202e", "a\x1b[2Jb\x9bc [bold]d"
    cid = add_entry(world.app, "alpha", title=title, summary=text, published=fresh_date())
    # A terminal of 3 lines, as show and Rich see it (CliRunner's stdout says it is a tty), and a
    # pager that records what it is given and with which LESS.
    record = tmp_path / "paged.json"
    recorder = tmp_path / "pager.py"
    recorder.write_text(
        "import json, os, sys\n"
        "json.dump({'LESS': os.environ.get('LESS'), 'input': sys.stdin.read()}, open(sys.argv[1], 'w'))\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(typer.testing._NamedTextIOWrapper, "isatty", lambda self: True, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("LINES", "3")
    monkeypatch.setenv("PAGER", f"{sys.executable} {recorder} {record}")
    monkeypatch.delenv("LESS", raising=False)
    result = runner.invoke(cli.app, ["show", str(cid)])
    assert result.exit_code == 0, result.output
    paged = json.loads(record.read_text(encoding="utf-8"))
    assert paged["LESS"] == "-R"  # less shows our colours instead of ESC[1m
    content = paged["input"]
    sgr = re.compile(r"\x1b\[[0-9;]*m")
    assert sgr.search(content)  # styled: the keys are bold
    plain = sgr.sub("", content)
    assert not CONTROLS.search(plain)
    assert shown(title) in plain and shown(text) in plain


# -- triage decisions and the log -------------------------------------------------------------


def test_the_triage_commands_print_titles_notes_and_curators_as_written(world: World) -> None:
    @examples(6)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        title, note, other_note, label, override, reason, curator = (
            data.draw(world.text()) for _ in range(7)
        )
        issue = fresh_issue()
        cid = add_entry(world.app, "alpha", title=title, published=fresh_date())
        who = f"--curator={curator}"
        out = run("shortlist", str(cid), who).stdout
        assert f"{cid}  new → shortlisted  {shown(title)}" in out
        out = run("shortlist", str(cid), who).stdout
        assert f"{cid}  unchanged: already shortlisted" in out
        report = json.loads(run(
            "promote", str(cid), "--section", "research/nlp", "--digest", issue, f"--note={note}",
            f"--label={label}", f"--title={override}", who, "--json",
        ).stdout)  # fmt: skip
        assert report["changed"][0]["title"] == title
        out = run("note", str(cid), "--replace", who, "--", other_note).stdout
        assert f"{cid}  notes replaced by: {shown(other_note)}  {shown(title)}" in out
        run("unpromote", str(cid), who)
        out = run("reject", str(cid), f"--reason={reason}", who).stdout
        assert f"{cid}  shortlisted → rejected  {shown(title)}" in out
        out = run("undo", who).stdout
        assert f"{cid}  rejected → shortlisted  {shown(title)}" in out

        log = run("log", str(cid)).stdout
        assert shown(title) in log and printed(reason, log)
        entries = json.loads(run("log", str(cid), "--json").stdout)
        assert {e["title"] for e in entries} == {title}
        assert {e["curator"] for e in entries} == {curator.strip()}
        assert reason in [e["note"] for e in entries]

    check()


def test_a_curator_with_nothing_to_undo_is_named_as_written(world: World) -> None:
    # (An argument can hold no NUL outside a test: a command line is C strings.)
    for curator in [h for h in HOSTILE if not (world.postgres and "\x00" in h)]:
        refused = run("undo", f"--curator={curator}", code=1)
        assert f"error: {shown(curator.strip())} has no decision left to undo" in refused.stderr


# -- feeds ------------------------------------------------------------------------------------


def test_feed_errors_are_printed_as_written(world: World) -> None:
    @examples(10)
    @given(error=world.text(), warning=world.text())
    def check(error: str, warning: str) -> None:
        hostile.set_feed_error(world.app, "broken", error=error, warning=warning)
        for args in (["feeds", "status"], ["feeds", "status", "--failing"]):
            out = run(*args).stdout
            assert shown(error) in out
        (row,) = [f for f in json.loads(run("feeds", "status", "--json").stdout) if f["name"] == "broken"]
        assert (row["last_error"], row["last_warning"], row["state"]) == (error, warning, "failing")

    check()


def test_feeds_yaml_strings_are_printed_as_written(world: World) -> None:
    out = run("feeds", "list").stdout
    for label in (f.label for f in world.app.config.feeds):
        assert shown(label) in out
    # The OPML export writes U+202E and C1 as character references (XML cannot hold ESC at all).
    exported = read_opml(run("feeds", "export-opml").stdout.encode("utf-8"))
    assert [f.label for f in exported] == [strip_xml_invalid(f.label) for f in world.app.config.feeds]


def strip_xml_invalid(text: str) -> str:
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)


# -- the digest ---------------------------------------------------------------------------------


def test_digest_commands_show_render_and_lint_hostile_items(world: World) -> None:
    config = world.app.config
    section_titles = [s.title for s in config.sections] + [
        sub.title for s in config.sections for sub in s.subsections
    ]

    @examples(6)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        title, override, label = (data.draw(world.text()) for _ in range(3))
        notes = data.draw(st.lists(world.text(newlines=True), min_size=1, max_size=3))
        issue = fresh_issue()
        cid = add_entry(world.app, "alpha", title=title, published=fresh_date())
        plain_id = add_entry(world.app, "broken", title="A plain title", published=fresh_date())
        run("promote", str(plain_id), "--section", "news/all", "--digest", issue)
        run(
            "promote", str(cid), "--section", "research/nlp", "--digest", issue, f"--title={override}",
            f"--label={label}", *[f"--note={n}" for n in notes],
        )  # fmt: skip

        assert any(
            i["name"] == issue and i["items"] == 2 for i in json.loads(run("digest", "list", "--json").stdout)
        )
        out = run("digest", "show", issue).stdout
        assert shown(override) in out and shown(label) in out
        assert all(
            shown(t) in out for t in (config.sections[0].title, config.sections[0].subsections[0].title)
        )
        d = json.loads(run("digest", "show", issue, "--json").stdout)
        (item,) = [
            i for s in d["sections"] for sub in s["subsections"] for i in sub["items"] if i["id"] == cid
        ]
        assert (item["title"], item["label"], item["notes"], item["article_title"]) == (
            override, label, notes, title,
        )  # fmt: skip
        assert {s["title"] for s in d["sections"]} <= set(section_titles)

        for template in TEMPLATES:
            style = data.draw(st.sampled_from(["nested", "inline"]))
            markdown = run("digest", "render", issue, "--template", template, "--notes", style).stdout
            assert md_text(override) in markdown and "A plain title" in markdown

        findings = json.loads(
            run("digest", "lint", issue, "--json", code=1 if _dirty(override, label, notes) else 0).stdout
        )
        kinds = [(f["kind"], f["ids"]) for f in findings]
        if _dirty(override, label, notes):
            assert kinds == [("control_characters", [cid])]
            message = findings[0]["message"]
            for value in (override, label, *notes):
                assert all(code in message for code in find_controls(value))
            text = run("digest", "lint", issue, code=1).stdout
            assert "control_characters: candidate" in text
            refused = run("digest", "publish", issue, code=1)
            assert "1 problem" in refused.stderr and "U+" in refused.stderr
        else:
            assert kinds == []
            assert "no problems found" in run("digest", "lint", issue).stdout
            run("digest", "publish", issue)

    check()


def _dirty(*values: str | list[str]) -> bool:
    return any(has_controls(v) for value in values for v in ([value] if isinstance(value, str) else value))


# -- usage errors -------------------------------------------------------------------------------


def test_usage_errors_repeat_a_hostile_value_as_data(sqlite_world: World) -> None:
    cid = add_entry(sqlite_world.app, "broken", title="An issue must exist to render", published=fresh_date())
    run("promote", str(cid), "--section", "news/all", "--digest", "2024-03")
    for value in HOSTILE:
        # (arguments, exit code, whether the message repeats the value)
        for args, code, repeated in (
            (["queue", "--section", value], 2, True),
            (["queue", "--status", value], 2, True),
            (["queue", "--sort", value], 2, True),
            (["queue", "--since", value], 2, True),
            (["queue", "--feed", value], 2, True),
            (["candidates", "list", "--limit", value], 2, False),
            (["promote", "1", "--section", value], 1, True),
            (["snooze", "1", f"--until={value}"], 2, True),
            (["digest", "show", value], 1, True),
            (["poll", "--feed", value], 2, True),
            (["digest", "render", "2024-03", "--template", value], 1, True),
            ([value], 2, True),
        ):
            result = run(*args, code=code)
            if repeated and value in MARKUP:  # markup is repeated as written (statuses in lower case)
                assert value in result.stderr or value.lower() in result.stderr, (args, result.stderr)


# -- the digest renderer ------------------------------------------------------------------------

HOSTILE_CONFIG = parse_config(
    hostile.feeds_yaml([("alpha", "http://127.0.0.1:1/a.xml")]), source="feeds.yaml"
)


@settings(max_examples=80, deadline=None)
@given(
    title=hostile_text(newlines=True),
    label=hostile_text(),
    notes=st.lists(hostile_text(newlines=True), min_size=1, max_size=3),
    path=hostile_text(),
    preface=hostile_text(newlines=True),
)
def test_no_template_prints_a_control_character(
    title: str, label: str, notes: list[str], path: str, preface: str
) -> None:
    url = f"https://example.com/{path}"
    items = [
        ("research/nlp", DigestItem(1, title, url, "2024-03", label, tuple(notes), (f"![x]({path})",))),
        ("news/all", DigestItem(2, label, path, "2024-03", title, (title,), article_title=title)),
    ]
    digest = build_digest(
        name="2024-03", title=title, preface=preface, taxonomy=HOSTILE_CONFIG.taxonomy(), items=items
    )
    for template in TEMPLATES:
        for style in ("nested", "inline"):
            out = render(digest, template, notes=style)
            assert not CONTROLS.search(out), (template, style)
            assert md_text(title) in out  # the title, through the escaping filter
            assert f"]({md_url(url)})" in out  # the link is still a link
    summary = render(digest, "summary")
    for note in notes:
        first = strip_controls(note.replace("\r", "\n")).split("\n")[0]
        assert first in summary
    for section in HOSTILE_CONFIG.sections:
        assert strip_controls(section.title) in summary
    assert not CONTROLS.search(md_url(url)) and " " not in md_url(url)


def test_controls_go_before_the_escaping_and_links_keep_their_target() -> None:
    assert md_text("<\x00script>alert(1)</script>") == "\\<script>alert(1)\\</script>"
    assert md_text("[\x1b]8;;http://evil.example/\x1b\\x]") == "\\[\\]8;;http://evil.example/\\x\\]"
    assert md_url("https://example.com/a\u202eb\x85c d") == "https://example.com/a%E2%80%AEb%C2%85c%20d"


def test_lint_names_each_field_its_characters_and_the_fix() -> None:
    item = LintItem(
        id=5, issue="2024-03", section="research/nlp", title="Order \u202egnp.exe", url="https://x.test/a",
        canonical_url="https://x.test/a", group_id=None, dated=True, label="Lab\x1b[31m",
        notes=("ok", "a\x85b"),
    )  # fmt: skip
    clean = LintItem(
        id=6, issue="2024-03", section="research/nlp", title="Fine [/]", url="https://x.test/b",
        canonical_url="https://x.test/b", group_id=None, dated=True, label="Lab", notes=("[bold]",),
    )  # fmt: skip
    (finding,) = lint_findings("2024-03", [item, clean], [], ["research/nlp"])
    assert (finding.kind, finding.ids) == ("control_characters", (5,))
    assert "candidate 5 (Order \\u202egnp.exe)" in finding.message
    assert "in its title (U+202E), label (U+001B), notes (U+0085);" in finding.message
    promote = "aggregator promote 5 --digest 2024-03 --section research/nlp"
    assert f"`{promote} --title '...'`" in finding.message
    assert f"`{promote} --label '...'`" in finding.message
    assert "`aggregator note 5 --replace '...'`" in finding.message
    assert not has_controls(finding.message)


# -- end to end: a real poll of feeds served on 127.0.0.1 ----------------------------------------


HOSTILE_TITLE = (
    "Prompt formats: [INST] hi [/INST] [link=http://evil.example/]click me[/link] :rocket: \u202egnp.exe"
)
HOSTILE_SUMMARY = (
    "Before \x1b[2J\x1b]0;owned\x07 \x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\ \x9b31m after"
)


def test_a_hostile_feed_through_a_real_poll_prints_as_written(world: World, server: FixtureServer) -> None:
    # A JSON Feed carries what XML cannot (ESC, C1); the second feed is an HTML page that names a
    # feed at a hostile address, so its error text is hostile.
    site = server.url("/alpha")
    server.add("/alpha.xml", json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "alpha", "home_page_url": site,
        "items": [{"id": f"{site}/1", "url": f"{site}/p/[/]1", "title": HOSTILE_TITLE,
                   "summary": HOSTILE_SUMMARY, "content_text": HOSTILE_SUMMARY,
                   "date_published": "2024-03-01T10:00:00Z"}],
    }).encode(), headers={"Content-Type": "application/feed+json"})  # fmt: skip
    server.add(
        "/broken.xml",
        b'<!doctype html><html><head><link rel="alternate" type="application/rss+xml" '
        b'href="/feed[/][bold]\xe2\x80\xae\xc2\x9b31m.xml"></head><body>x</body></html>',
        headers={"Content-Type": "text/html"},
    )
    polled = run("-v", "poll", "--all", "--no-extract")
    assert "[/]" in polled.stdout and "\\u202e" in polled.stdout and "\\x9b" in polled.stdout
    assert "stored broken: error" in polled.stderr and "[bold]" in polled.stderr  # the log line
    with world.app.read() as s:
        (candidate,) = repo.list_candidates(s, feed_names=["alpha"], limit=5)
        (broken,) = [f for f in repo.list_feeds(s) if f.name == "broken"]
    assert "[/INST]" in candidate.title and "\u202e" in candidate.title
    assert broken.last_error is not None and "\u202e" in broken.last_error
    assert shown(broken.last_error.removeprefix(f"{broken.url}: ")) in polled.stdout

    listed = run("candidates", "list").stdout
    assert shown(candidate.title) in listed
    text = run("show", str(candidate.id)).stdout
    assert shown(candidate.title) in text and shown(HOSTILE_SUMMARY) in text
    assert json.loads(run("show", str(candidate.id), "--json").stdout)["summary"] == HOSTILE_SUMMARY
    assert shown(broken.last_error) in run("feeds", "status").stdout
    queue = run("queue").stdout
    assert shown(candidate.title) in queue
