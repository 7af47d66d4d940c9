"""The triage screen with hostile text everywhere (issue 12, points 2 and 3), through Textual's Pilot.

Titles arrive by a real poll of feeds served on 127.0.0.1 (markup, emoji codes, U+202E), and through
the store layer where XML cannot carry them (ESC and C1 in a title); the article text, the notes,
the curator's name, the search and feeds.yaml's section titles and labels are hostile too. On every
screen (the list, the status line, the article, the section picker, the prompts, the notes editor,
a refusal, a notification) the screen must not crash, must show the text as written, with its
control characters as visible escapes, and must send no control character to the terminal.
"""

from __future__ import annotations

import asyncio
import random
import webbrowser
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.service import Service
from aggregator.service.polling import run_poll
from aggregator.store import repo
from aggregator.store import triage as triage_store
from aggregator.triage import decisions as triage_decisions
from aggregator.triage_types import Decision, QueueQuery
from aggregator.tui import TriageApp
from aggregator.tui.article import ArticleScreen
from aggregator.tui.dialogs import MessageDialog, NotesEditor, PromptDialog, SectionPicker
from aggregator.tui.rows import one_line
from tests import feedgen, hostile
from tests.fixture_server import FixtureServer
from tests.hostile import add_article, add_entry, has_controls, shown
from tests.stock import T0, Clock, feed_entries
from tests.test_tui import press, screen_lines, settle, type_text

SERVED = [  # titles a feed can carry in XML
    "[/] closes nothing",
    "[link=http://evil.example/]click me[/link]",
    "[bold]Loud title",
    "Prompt formats: [INST] hi [/INST]",
    "Order abc\u202egnp.exe",
    ":rocket: launch day",
]
ESCAPED = "Escape \x1b[2J\x1b]0;owned\x07 and C1 \x9b31m end"
"""A title only the store layer can carry (XML 1.0 has no ESC)."""
TEXT = (
    "First [/] paragraph [link=http://evil.example/]x[/link].\n\n"
    "Second \x1b[31mred\x1b[0m \x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\ \u202eright"
)
NOTES = ("note [/] one", "note \x1b[2J two \u202e")
CURATOR = "ana [/] \x1b[2J\u202e"


@dataclass
class World:
    app: App
    ids: dict[str, int]
    link: str
    """The URL of the item whose title is ESCAPED (it holds "[/]")."""


@pytest.fixture
def world(server: FixtureServer, tmp_path: Path, database_url: str) -> Iterator[World]:
    site = server.url("/alpha")
    server.add("/alpha.xml", feedgen.rss("alpha blog", server.base_url, feed_entries(site, SERVED)))
    path = tmp_path / "feeds.yaml"
    path.write_text(hostile.feeds_yaml([("alpha", server.url("/alpha.xml"))]), encoding="utf-8")
    clock = Clock()
    app = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(path), config_path=path,
        clock=clock, rng=random.Random(5), parse_workers=0,
    )  # fmt: skip
    try:
        app.sync_feeds()
        run_poll(app, due_only=False)
        link = f"{site}/p/[/]x"
        cid = add_entry(app, "alpha", title=ESCAPED, link=link, published=T0)
        add_article(app, cid, text=TEXT, reason=None, author="Author \x1b[1m[/]")
        with app.write() as s:
            triage_decisions.decide(
                s, [cid], Decision("note", notes=NOTES, replace_notes=True), curator="bo [/]\x9b",
                now=clock(), section_ids=app.config.promotable_sections(),
            )  # fmt: skip
            ids = {c.title: c.id for c in repo.list_candidates(s, limit=100)}
        assert set(ids) == {*SERVED, ESCAPED}
        yield World(app, ids, link)
    finally:
        app.close()


def run(world: World, scenario: Any, **options: Any) -> TriageApp:
    """Run the screen headless, wide enough for whole titles, play ``scenario``, quit."""
    options.setdefault("curator", CURATOR)
    options.setdefault("opener", lambda url: None)
    app = TriageApp(Service(world.app), **options)

    async def main() -> None:
        async with app.run_test(size=(160, 40), notifications=True) as pilot:
            await settle(pilot)
            await scenario(pilot, app)

    asyncio.run(main())
    return app


def visible(app: TriageApp) -> str:
    """The screen as the terminal gets it; it must hold no control character."""
    lines = screen_lines(app)
    text = "\n".join(lines)
    assert not has_controls(text), [line for line in lines if has_controls(line)]
    return text


def version(world: World, cid: int) -> int:
    with world.app.read() as s:
        state = triage_store.triage_state(s, cid, world.app.clock())
    assert state is not None
    return state.version


async def goto(pilot: Any, title: str) -> None:
    app: TriageApp = pilot.app
    rows = app.queue_screen.rows
    shown_titles = [item.title for item in (rows.item(i) for i in range(rows.total)) if item is not None]
    target, cursor = shown_titles.index(title), app.queue_screen.list.cursor
    await press(pilot, *["j" if target > cursor else "k"] * abs(target - cursor))
    item = app.queue_screen.list.current
    assert item is not None and item.title == title


def test_the_list_and_the_status_line_show_hostile_text_as_written(world: World) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        screen = visible(app)
        for title in [*SERVED, ESCAPED]:
            assert one_line(title) in screen, title
        assert "[link=http://evil.example/]click me[/link]" in screen  # no link, no lost text
        assert "Escape \\x1b[2J\\x1b]0;owned\\x07 and C1 \\x9b31m end" in screen
        assert "Order abc\\u202egnp.exe" in screen
        assert f"curator {shown(CURATOR)}" in screen
        assert "Alpha [/] \\u" in screen  # the feed's label from feeds.yaml, cut to its column

    run(world, scenario)


def test_the_article_notes_and_decisions_show_hostile_text_as_written(world: World) -> None:
    cid = world.ids[ESCAPED]

    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, ESCAPED)
        await press(pilot, "enter")
        assert isinstance(app.screen, ArticleScreen)
        screen = visible(app)
        assert shown(ESCAPED) in screen
        for line in TEXT.splitlines():
            assert shown(line) in screen
        for note in NOTES:
            assert f"• {shown(note)}" in screen
        assert "(by bo [/]\\x9b" in screen
        await press(pilot, "escape")

        # The notes editor shows the control characters as escapes; saving them unchanged keeps them.
        await press(pilot, "e")
        assert isinstance(app.screen, NotesEditor)
        screen = visible(app)
        assert all(shown(note) in screen for note in NOTES)
        assert f"Notes: {shown(ESCAPED)}" in screen
        before = version(world, cid)
        await press(pilot, "ctrl+s")
        assert version(world, cid) == before  # nothing was written
        with world.app.read() as s:
            assert triage_store.triage_state(s, cid, world.app.clock()).notes == NOTES  # type: ignore[union-attr]

        # Promote: the picker lists feeds.yaml's hostile section titles as written; the note typed is data.
        await press(pilot, "p")
        assert isinstance(app.screen, SectionPicker)
        screen = visible(app)
        assert "1.1 Research [/] \\x1b]0;owned\\x07 / NLP [bold] \\u202eevil" in screen
        assert "2.1 News \\x85[INST] / All [/INST]" in screen
        await press(pilot, "enter")  # the feed's hint, research/nlp
        assert isinstance(app.screen, PromptDialog)
        screen = visible(app)  # (the heading wraps in the dialog)
        assert "Research [/] \\x1b]0;owned\\x07 / NLP [bold] \\u202eevil:" in screen
        await type_text(pilot, "[/] [bold]typed")
        await press(pilot, "enter")
        assert not isinstance(app.screen, (PromptDialog, SectionPicker))
        with world.app.read() as s:
            state = triage_store.triage_state(s, cid, world.app.clock())
        assert state is not None and (state.status, state.notes) == ("promoted", (*NOTES, "[/] [bold]typed"))
        assert "promote: 1 changed" in visible(app)

        # Undo, then undo again: the refusal names the curator as written.
        await press(pilot, "u")
        await press(pilot, "u")
        assert isinstance(app.screen, MessageDialog)
        assert f"{shown(CURATOR)} has no decision left to undo" in visible(app)
        await press(pilot, "escape")

    run(world, scenario)


def test_a_url_with_markup_is_shown_in_a_notification_as_written(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_browser(using: str | None = None) -> webbrowser.BaseBrowser:
        raise webbrowser.Error("no browser")

    monkeypatch.setattr(webbrowser, "get", no_browser)

    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, ESCAPED)
        await press(pilot, "o")
        screen = visible(app)  # (the toast wraps its text)
        assert "No web browser found." in screen and "/alpha/p/[/]x" in screen

    run(world, scenario, opener=None)


def test_a_hostile_search_is_shown_as_written_and_kept_when_submitted_unchanged(world: World) -> None:
    search = "[/] \x1b[2J \u202e"

    async def scenario(pilot: Any, app: TriageApp) -> None:
        assert f'/"{shown(search).strip()}"' in visible(app)
        await press(pilot, "slash")
        assert isinstance(app.screen, PromptDialog)
        assert shown(search) in visible(app)  # the input's value
        await press(pilot, "enter")
        assert app.queue_screen.query_.search == search

    run(world, scenario, query=QueueQuery(search=search))
