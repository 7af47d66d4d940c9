"""The triage screen a curator decides from (issue 17): ids on screen, deciding from the article view and
moving on, promoted rows with their section, a filter dialog and a key footer that fit 80x24 and 120x40,
and the conflict dialog drawn every time. Pilot-driven, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.widgets import SelectionList

from aggregator.triage import decisions as triage_decisions
from aggregator.triage_types import Decision, QueueQuery
from aggregator.tui import TriageApp
from aggregator.tui.article import ArticleScreen
from aggregator.tui.dialogs import (
    ConfirmDialog,
    FilterDialog,
    HelpScreen,
    MessageDialog,
    PromptDialog,
    SectionPicker,
)
from aggregator.tui.queue_screen import HINTS, MORE
from tests.fixture_server import FixtureServer
from tests.stock import T0, Stock, stock
from tests.test_tui import current, goto, press, run, screen_lines, settle, state, titles, type_text

LONG_FEED = "huggingface-research-blog"
FEEDS = {
    "alpha": ["Serving many models", "Tokenizers explained", "Feature stores at scale"],
    LONG_FEED: ["Vector search in production", "Quantisation in practice", "Distillation notes"],
}
SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def st(server: FixtureServer, tmp_path: Path, database_url: str) -> Iterator[Stock]:
    result = stock(server, tmp_path, database_url, FEEDS, hints={"alpha": "aws"})
    yield result
    result.app.close()


def article(app: TriageApp) -> ArticleScreen:
    screen = app.screen
    assert isinstance(screen, ArticleScreen), type(screen).__name__
    return screen


def bo_decides(st: Stock, title: str, action: str) -> None:
    """Another curator decides behind the screen's back."""
    with st.app.write() as s:
        triage_decisions.decide(s, [st.id(title)], Decision(action), curator="bo", now=T0)  # type: ignore[arg-type]


# -- ids ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_each_row_and_the_article_view_show_the_candidate_id(st: Stock, size: tuple[int, int]) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        listing = app.queue_screen.list
        for row, title in enumerate(titles(app)):
            assert listing.line_text(row).split()[0] == f"#{st.id(title)}"
        await goto(pilot, "Tokenizers explained")
        await press(pilot, "enter")
        assert f"id           #{st.id('Tokenizers explained')}\n" in article(app).text
        assert any(f"#{st.id('Tokenizers explained')}" in line for line in screen_lines(app))

    run(st, scenario, size=size)


# -- deciding from the article view ---------------------------------------------------------------


def test_read_decide_next_from_the_article_view(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        order = titles(app)
        await press(pilot, "m")  # a mark elsewhere: a decision taken while reading applies to the article
        marked = order[0]
        await goto(pilot, order[1])
        await press(pilot, "enter")
        assert article(app).item.title == order[1]

        await press(pilot, "s")  # shortlisted (stays listed), and the next article opens
        assert state(st, order[1])[0] == "shortlisted"
        assert state(st, marked)[0] == "new"
        assert article(app).item.title == order[2]

        await press(pilot, "x")  # rejected (leaves the list): the next one opens
        assert state(st, order[2])[0] == "rejected"
        assert article(app).item.title == order[3]

        await press(pilot, "z")
        assert isinstance(app.screen, PromptDialog)
        await type_text(pilot, "3d")
        await press(pilot, "enter")
        assert state(st, order[3])[0] == "snoozed"
        assert article(app).item.title == order[4]

        await press(pilot, "p")
        assert isinstance(app.screen, SectionPicker)
        await press(pilot, "enter")
        assert isinstance(app.screen, PromptDialog)
        await press(pilot, "enter")
        assert state(st, order[4])[0] == "promoted"
        # A promotion re-scores the rows: the next is whatever now follows, under the cursor.
        assert article(app).item.title not in order[2:5]
        assert article(app).item.id == current(app).id

        now = titles(app)
        at = now.index(article(app).item.title)
        await press(pilot, "K")  # the previous article, then the next again
        assert article(app).item.title == now[at - 1]
        await press(pilot, "J")
        assert article(app).item.title == now[at]
        await press(pilot, "q")
        assert app.screen is app.queue_screen
        assert app.queue_screen.rows.marks == {st.id(marked): current_version(app, marked)}

    run(st, scenario)


def current_version(app: TriageApp, title: str) -> int:
    rows = app.queue_screen.rows
    return next(item.version for item in rows.loaded() if item.title == title)


def test_a_cancelled_decision_in_the_article_view_comes_back_to_the_same_article(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        first = titles(app)[0]
        await press(pilot, "enter", "z")
        await press(pilot, "escape")  # no date: nothing decided, the same article again
        assert article(app).item.title == first
        assert state(st, first)[0] == "new"
        await press(pilot, "p", "escape")
        assert article(app).item.title == first
        await press(pilot, "escape")
        assert app.screen is app.queue_screen

    run(st, scenario)


# -- promoted rows, the filter dialog, the footer, the help ------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_promoted_rows_show_their_section(st: Stock, size: tuple[int, int]) -> None:
    with st.app.write() as s:
        promote = Decision("promote", section="research/nlp")
        triage_decisions.decide(s, [st.id("Tokenizers explained")], promote, curator="bo", now=T0)

    async def scenario(pilot: Any, app: TriageApp) -> None:
        row = titles(app).index("Tokenizers explained")
        line = app.queue_screen.list.line_text(row)
        assert " P " in line and "§research/nlp Tokenizers explained" in line
        other = app.queue_screen.list.line_text(titles(app).index("Serving many models"))
        assert "§" not in other

    run(st, scenario, size=size, query=QueueQuery(statuses=("new", "promoted")))


def test_the_filter_dialog_shows_whole_feed_names_at_120_columns(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await press(pilot, "f")
        assert isinstance(app.screen, FilterDialog)
        feeds = app.screen.query_one("#feeds", SelectionList)
        assert feeds.region.width >= len(LONG_FEED) + 8
        assert any(LONG_FEED in line for line in screen_lines(app))
        await press(pilot, "escape")

    run(st, scenario, size=(120, 40))


def test_the_filter_dialog_fits_80_columns(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await press(pilot, "f")
        lines = screen_lines(app)
        assert all(cell_len(line) == 80 for line in lines)
        assert any("huggingface-researc…" in line for line in lines)  # cut at 80, but far past 6 characters
        await press(pilot, "escape")

    run(st, scenario, size=(80, 24))


@pytest.mark.parametrize("size", SIZES)
def test_the_key_footer_is_never_cut_and_help_has_every_key(st: Stock, size: tuple[int, int]) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        footer = screen_lines(app)[-1]
        assert cell_len(footer) == size[0]
        assert "…" not in footer
        assert footer.rstrip().endswith("? help")
        for key, what in [
            ("↵", "read"),
            ("s", "shortlist"),
            ("p", "promote"),
            ("x", "reject"),
            ("z", "snooze"),
        ]:
            assert f"{key} {what}" in footer
        if size[0] >= 120:
            assert "/ search" in footer and "f filter" in footer
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = app.screen.text
        for _key, what in [*HINTS, MORE]:
            assert what in help_text, what
        for what in ["shortlist it, then read the next", "read the next, the previous article"]:
            assert what in help_text

    run(st, scenario, size=size)


# -- the conflict dialog, every time ---------------------------------------------------------------

REPEATS = 8
"""Rounds per path (each ~0.7 s under Pilot). The race itself was keys typed together, which
:mod:`tests.test_tui_typeahead` repeats as a terminal delivers them; these rounds guard each path."""


async def conflict_round(pilot: Any, app: TriageApp, st: Stock, path: str) -> str:
    """One try: bo changes the highlighted item, the curator decides on it through ``path``; the item's
    status after bo's change."""
    await press(pilot, "escape", "g")
    item = current(app)
    fresh = "shortlisted" if item.status == "new" else "new"
    bo_decides(st, item.title, "shortlist" if fresh == "shortlisted" else "restore")
    if path == "reject":
        await pilot.press("x")
    elif path == "marked":
        await pilot.press("m", "m", "x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
    elif path == "snooze":
        await pilot.press("z", "3", "d", "enter")
    else:  # from the article view
        await pilot.press("enter", "s")
    return fresh


@pytest.mark.parametrize("path", ["reject", "marked", "snooze", "article"])
def test_the_conflict_dialog_is_drawn_every_time_and_keys_work_after_it(st: Stock, path: str) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        frames: list[str] = []
        display = app._display

        def recorded(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                frames.append(type(screen).__name__)
            display(screen, renderable)

        app._display = recorded  # type: ignore[method-assign]  # what reaches the terminal, frame by frame
        for i in range(REPEATS):
            frames.clear()
            fresh = await conflict_round(pilot, app, st, path)
            await settle(pilot)
            dialog = app.screen
            assert isinstance(dialog, MessageDialog), (i, type(dialog).__name__)
            assert "Someone else changed it" in dialog.text
            assert frames and frames[-1] == "MessageDialog", (i, frames)  # drawn, and last
            assert any("Someone else changed it" in line for line in screen_lines(app))
            assert app.queue_screen.busy  # the dialog holds the keys, nothing else does
            await press(pilot, "enter")
            if path == "article":  # back to the article, on the fresh version
                assert article(app).item.status == fresh
                await press(pilot, "q")
            assert app.screen is app.queue_screen
            assert not app.queue_screen.busy and not app.queue_screen._pending
            at = app.queue_screen.list.cursor
            await press(pilot, "j")  # keys work again at once
            assert app.queue_screen.list.cursor == at + 1

    run(st, scenario)
