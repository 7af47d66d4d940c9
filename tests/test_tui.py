"""The triage screen through Textual's Pilot: real keys, a real database (SQLite and PostgreSQL).

Each test stocks a database the real way (feeds served on 127.0.0.1, then a
poll), runs :class:`TriageApp` headless in 80x24, presses keys and checks the
database. Synchronisation is on the app's own state: after keys, ``settle``
waits until no database job is running and the screen has processed its
messages; never a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from rich.cells import cell_len
from typer.testing import CliRunner

from aggregator.article_types import Article
from aggregator.cli import tui as tui_cli
from aggregator.service import Service
from aggregator.store import articles as article_store
from aggregator.store import triage as store
from aggregator.store.tables import candidates, decisions
from aggregator.triage import decisions as triage_decisions
from aggregator.triage_types import Decision, QueueItem, QueueQuery
from aggregator.tui import TriageApp, default_section
from aggregator.tui import queue_screen as tui_app
from aggregator.tui.article import ArticleScreen
from aggregator.tui.dialogs import (
    ConfirmDialog,
    FilterDialog,
    HelpScreen,
    MessageDialog,
    NotesEditor,
    PromptDialog,
    SectionPicker,
)
from aggregator.tui.rows import QueueRows, fit, row_cells
from tests.fixture_server import FixtureServer
from tests.stock import T0, Stock, stock

LONG = "An extremely long title about serving large language models " * 3
FEEDS = {
    "alpha": ["Serving many models", "Tokenizers explained", "Feature stores at scale"],
    "beta": ["Vector search in production", LONG.strip()],
    "gamma": ["이루다 대화 모델 학습기"],
}
Scenario = Callable[[Any, TriageApp], Awaitable[None]]


@pytest.fixture
def st(server: FixtureServer, tmp_path: Path, database_url: str) -> Iterator[Stock]:
    result = stock(server, tmp_path, database_url, FEEDS, hints={"alpha": "aws", "beta": "business/mlops"})
    yield result
    result.app.close()


# -- driving the screen ----------------------------------------------------------------


def run(st: Stock, scenario: Scenario, *, size: tuple[int, int] = (80, 24), **options: Any) -> TriageApp:
    """Run the screen headless, settle, play ``scenario``, quit."""
    options.setdefault("curator", "ana")
    options.setdefault("opener", lambda url: None)
    app = TriageApp(Service(st.app), **options)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(pilot, app)

    asyncio.run(main())
    return app


async def settle(pilot: Any) -> None:
    """Until no database job runs, no key typed waits its turn and every message is handled (a decision
    starts a reload, and so on)."""
    app = pilot.app
    for _ in range(200):
        await pilot.pause()
        running = [w for w in app.workers if not w.is_finished]
        if not running:
            await pilot.pause()
            if not [w for w in app.workers if not w.is_finished] and not app.keys_waiting:
                return
            continue
        await app.workers.wait_for_complete(running)
    raise AssertionError("the screen never settled")


async def press(pilot: Any, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


async def type_text(pilot: Any, text: str) -> None:
    await press(pilot, *text)


def titles(app: TriageApp) -> list[str]:
    rows = app.queue_screen.rows
    return [item.title for item in (rows.item(i) for i in range(rows.total)) if item is not None]


def current(app: TriageApp) -> QueueItem:
    item = app.queue_screen.list.current
    assert item is not None
    return item


async def goto(pilot: Any, title: str) -> None:
    """Move the cursor onto ``title`` with j/k, as a curator would."""
    app: TriageApp = pilot.app
    target = titles(app).index(title)
    cursor = app.queue_screen.list.cursor
    key = "j" if target > cursor else "k"
    await press(pilot, *[key] * abs(target - cursor))
    assert current(app).title == title


def state(st: Stock, title: str) -> tuple[str, list[str], str | None]:
    """(status, notes, decided_by) in the database."""
    with st.app.read() as s:
        row = s.execute(
            sa.select(candidates.c.status, candidates.c.notes, candidates.c.decided_by).where(
                candidates.c.id == st.id(title)
            )
        ).one()
    return row[0], list(row[1] or []), row[2]


def screen_lines(app: TriageApp) -> list[str]:
    """What the terminal shows, line by line (the compositor's strips; Textual has no public text dump)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


# -- the screen ----------------------------------------------------------------------


def test_moving_and_shortlisting_with_real_keys(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        assert app.queue_screen.rows.total == 6
        assert sorted(titles(app)) == sorted(t.strip() for ts in FEEDS.values() for t in ts)
        await press(pilot, "down", "down", "up")
        assert app.queue_screen.list.cursor == 1
        await press(pilot, "G")
        assert app.queue_screen.list.cursor == 5
        await press(pilot, "g")
        assert app.queue_screen.list.cursor == 0
        await press(pilot, "end", "home", "pagedown")
        assert app.queue_screen.list.cursor == 5
        await press(pilot, "pageup")
        assert app.queue_screen.list.cursor == 0

        await goto(pilot, "Tokenizers explained")
        at = app.queue_screen.list.cursor
        await press(pilot, "s")
        assert state(st, "Tokenizers explained") == ("shortlisted", [], "ana")
        # The row stays (shortlisted is in the default filter), shows S, and the cursor moved on.
        row = app.queue_screen.rows.item(at)
        assert row is not None and (row.title, row.status) == ("Tokenizers explained", "shortlisted")
        assert app.queue_screen.list.cursor == at + 1
        assert app.queue_screen.list.line_text(at).split()[:3] == [
            f"#{st.id('Tokenizers explained')}",
            "2024-03-18",
            "S",
        ]

    run(st, scenario)


def test_keys_typed_during_a_decision_wait_their_turn(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        first, second = titles(app)[:2]
        await pilot.press("s", "s")  # no settling between: the second waits for the first's reload
        await settle(pilot)
        assert state(st, first)[0] == "shortlisted"
        assert state(st, second)[0] == "shortlisted"
        assert not isinstance(app.screen, MessageDialog)

    run(st, scenario)


def test_promote_through_the_picker_with_the_hint_preselected_and_a_note(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Serving many models")  # feed alpha, hinted "aws"
        await press(pilot, "p")
        picker = app.screen
        assert isinstance(picker, SectionPicker)
        assert picker.highlighted == "aws/cv"  # a top-level hint starts on its first subsection
        assert "2024-03" in picker.heading
        assert ("aws/mlops", "3.4 AWS ML Only / Training, Inference and MLOps") in picker.sections
        await press(pilot, "j", "j", "j", "enter")  # down to aws/mlops
        assert isinstance(app.screen, PromptDialog)
        await type_text(pilot, "serving cost cut to a quarter")
        await press(pilot, "enter")
        assert not isinstance(app.screen, (PromptDialog, SectionPicker))
        status, notes, by = state(st, "Serving many models")
        assert (status, notes, by) == ("promoted", ["serving cost cut to a quarter"], "ana")
        with st.app.read() as s:
            log = store.history(s, candidate_ids=[st.id("Serving many models")])
        assert (log[0].digest, log[0].section) == ("2024-03", "aws/mlops")
        assert "Serving many models" not in titles(app)  # promoted leaves the default filter

    run(st, scenario)


def test_promote_can_be_cancelled_and_offers_the_digest_of_the_command_line(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Vector search in production")  # beta, hinted business/mlops
        await press(pilot, "p")
        assert isinstance(app.screen, SectionPicker)
        assert app.screen.highlighted == "business/mlops"
        assert "2024-04" in app.screen.heading
        await press(pilot, "escape")
        assert state(st, "Vector search in production")[0] == "new"
        await press(pilot, "p", "enter", "enter")  # the preselected section, no note
        with st.app.read() as s:
            log = store.history(s, candidate_ids=[st.id("Vector search in production")])
        assert (log[0].digest, log[0].section, log[0].note) == ("2024-04", "business/mlops", None)

    run(st, scenario, digest="2024-04")


def test_rejecting_marked_items_asks_first_and_both_answers_work(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Serving many models")
        await press(pilot, "m")  # marks, then moves on
        marked_next = current(app).title
        await press(pilot, "m")
        assert len(app.queue_screen.rows.marks) == 2
        assert "2 marked" in app.queue_screen.status_text()
        assert app.queue_screen.list.line_text(titles(app).index("Serving many models")).startswith("*")

        await press(pilot, "x")
        assert isinstance(app.screen, ConfirmDialog)
        assert "Reject 2 items?" in app.screen.question
        await press(pilot, "n")
        assert state(st, "Serving many models")[0] == "new"
        assert state(st, marked_next)[0] == "new"
        assert len(app.queue_screen.rows.marks) == 2  # still marked

        await press(pilot, "x")
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "y")
        assert state(st, "Serving many models")[0] == "rejected"
        assert state(st, marked_next)[0] == "rejected"
        assert not app.queue_screen.rows.marks
        assert app.queue_screen.rows.total == 4
        with st.app.read() as s:
            batches = s.execute(sa.select(sa.func.count(sa.distinct(decisions.c.batch)))).scalar_one()
        assert batches == 1  # one command: one undo

    run(st, scenario)


def test_reject_of_one_item_is_one_key_and_a_reason_can_be_given(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Tokenizers explained")
        await press(pilot, "x")
        assert state(st, "Tokenizers explained")[0] == "rejected"
        await goto(pilot, "Feature stores at scale")
        await press(pilot, "X")
        assert isinstance(app.screen, PromptDialog)
        await type_text(pilot, "vendor pitch")
        await press(pilot, "enter")
        with st.app.read() as s:
            log = store.history(s, candidate_ids=[st.id("Feature stores at scale")])
        assert (log[0].action, log[0].note) == ("reject", "vendor pitch")

    run(st, scenario)


def test_snooze_with_a_typed_date(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Feature stores at scale")
        await press(pilot, "z")
        assert isinstance(app.screen, PromptDialog)
        await type_text(pilot, "soon")
        await press(pilot, "enter")
        assert isinstance(app.screen, PromptDialog)  # refused, still open, says how to write it
        assert "not a date" in str(app.screen.query_one("#prompt-error").render())
        await press(pilot, "ctrl+u")
        await type_text(pilot, "2024-04-01")
        await press(pilot, "enter")
        with st.app.read() as s:
            until = s.execute(
                sa.select(candidates.c.snoozed_until).where(
                    candidates.c.id == st.id("Feature stores at scale")
                )
            ).scalar_one()
        assert until is not None and until.date().isoformat() == "2024-04-01"
        assert state(st, "Feature stores at scale")[0] == "snoozed"
        assert "Feature stores at scale" not in titles(app)

    run(st, scenario)


def test_edit_notes_replaces_them(st: Stock) -> None:
    with st.app.write() as s:
        triage_decisions.decide(
            s, [st.id("Tokenizers explained")], Decision("note", notes=("old one",)), curator="ana", now=T0
        )

    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Tokenizers explained")
        await press(pilot, "e")
        editor = app.screen
        assert isinstance(editor, NotesEditor)
        assert editor.notes == ["old one"]
        await press(pilot, "enter")
        await type_text(pilot, "second note")
        await press(pilot, "ctrl+s")
        assert state(st, "Tokenizers explained")[1] == ["old one", "second note"]
        assert current(app).title == "Tokenizers explained"  # a note keeps the cursor
        assert current(app).notes == ("old one", "second note")

    run(st, scenario)


def test_undo_reverts_the_last_decision(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Vector search in production")
        await press(pilot, "x")
        assert state(st, "Vector search in production")[0] == "rejected"
        assert "Vector search in production" not in titles(app)
        await press(pilot, "u")
        assert state(st, "Vector search in production")[0] == "new"
        assert "Vector search in production" in titles(app)
        await press(pilot, "u")  # nothing left to undo: a message, not a traceback
        assert isinstance(app.screen, MessageDialog)
        assert "no decision left to undo" in app.screen.text
        await press(pilot, "escape")
        assert app.screen is app.queue_screen

    run(st, scenario)


def test_search_narrows_the_list_in_english_and_korean(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await press(pilot, "slash")
        assert isinstance(app.screen, PromptDialog)
        await type_text(pilot, "tokenizers")
        await press(pilot, "enter")
        assert titles(app) == ["Tokenizers explained"]
        assert '/"tokenizers"' in app.queue_screen.status_text()

        await press(pilot, "slash", "ctrl+u")
        await type_text(pilot, "루다")
        await press(pilot, "enter")
        assert titles(app) == ["이루다 대화 모델 학습기"]

        await press(pilot, "slash", "ctrl+u", "enter")  # an empty search shows everything again
        assert len(titles(app)) == 6

    run(st, scenario)


def test_filter_by_status(st: Stock) -> None:
    with st.app.write() as s:
        triage_decisions.decide(
            s, [st.id("Tokenizers explained")], Decision("shortlist"), curator="bo", now=T0
        )
        triage_decisions.decide(
            s, [st.id("Feature stores at scale")], Decision("reject"), curator="bo", now=T0
        )

    async def scenario(pilot: Any, app: TriageApp) -> None:
        assert len(titles(app)) == 5
        await press(pilot, "f")
        assert isinstance(app.screen, FilterDialog)
        await press(pilot, "space", "enter")  # untick "new"
        assert titles(app) == ["Tokenizers explained"]
        assert "shortlisted" in app.queue_screen.status_text().split()

        await press(pilot, "f", "space", "down", "space", "down", "down", "space", "enter")
        assert app.queue_screen.query_.statuses == ("new", "rejected")
        assert "Feature stores at scale" in titles(app)
        assert "Tokenizers explained" not in titles(app)

    run(st, scenario)


def test_filter_by_feed_and_section(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await press(pilot, "f", "tab", "space", "enter")  # the first feed: alpha
        assert sorted(titles(app)) == sorted(FEEDS["alpha"])
        await press(pilot, "f", "tab", "space", "tab")  # no feed again, then the section list
        section = app.screen.query_one("#section")
        ids = [option.id for option in section.options]  # type: ignore[attr-defined]
        await press(pilot, *["down"] * ids.index("business"), "enter")
        assert app.queue_screen.query_.section == "business"
        assert sorted(titles(app)) == sorted(FEEDS["beta"])

    run(st, scenario)


def test_o_opens_the_url_with_the_injected_opener(st: Stock) -> None:
    opened: list[str] = []
    with st.app.write() as s:
        s.execute(
            sa.update(candidates)
            .where(candidates.c.id == st.id("Feature stores at scale"))
            .values(url="javascript:alert(1)")
        )

    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Tokenizers explained")
        await press(pilot, "o")
        assert opened == [current(app).url]
        assert opened[0].startswith("http://127.0.0.1:") and opened[0].endswith("/alpha/p/1")
        await goto(pilot, "Feature stores at scale")
        await press(pilot, "o")  # only http(s) is ever opened
        assert len(opened) == 1

    run(st, scenario, opener=opened.append)


def test_r_reloads_what_others_decided(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        with st.app.write() as s:
            triage_decisions.decide(
                s, [st.id("Feature stores at scale")], Decision("reject"), curator="bo", now=T0
            )
        assert "Feature stores at scale" in titles(app)  # the screen has not looked yet
        await press(pilot, "r")
        assert "Feature stores at scale" not in titles(app)
        assert app.queue_screen.rows.total == 5

    run(st, scenario)


def test_a_database_error_is_a_message_not_a_traceback(st: Stock, monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(*args: Any, **kwargs: Any) -> Any:
        raise sa.exc.OperationalError("UPDATE candidates ...", {}, Exception("database is locked"))

    async def scenario(pilot: Any, app: TriageApp) -> None:
        monkeypatch.setattr(triage_decisions, "decide", locked)
        await press(pilot, "s")
        assert isinstance(app.screen, MessageDialog)
        title, message = app.screen.text.split("\n")
        assert title == "Database error"
        assert message.startswith("the database ")
        assert message.endswith(" failed: database is locked (run the command again)")
        await press(pilot, "enter")
        assert app.screen is app.queue_screen
        assert app.return_code is None  # still running

    run(st, scenario)


def test_help_lists_every_key(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await press(pilot, "question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = help_screen.text
        for key, what in [("j ↓", "next item"), ("p", "promote"), ("x", "reject"), ("z", "snooze"),
                          ("e", "notes"), ("u", "undo"), ("/", "search"), ("f", "filter"), ("o", "open"),
                          ("m", "mark"), ("?", "help"), ("q", "quit"), ("Enter", "read"), ("s", "shortlist"),
                          ("r", "reload"), ("G End", "last"), ("g Home", "first")]:  # fmt: skip
            assert any(line.strip().startswith(key) and what in line for line in text.splitlines()), key
        await press(pilot, "escape")
        assert app.screen is app.queue_screen

    run(st, scenario)


def test_enter_reads_the_article_and_escape_goes_back(st: Stock) -> None:
    text = "First paragraph of the article.\n\nSecond paragraph, with \x1b[31mno escapes\x1b[0m."
    with st.app.write() as s:
        article_store.save_articles(
            s,
            [Article(st.id("Vector search in production"), "ok", None, "page", text, 460, extracted_at=T0)],
        )
        s.execute(  # the feed's summary in HTML: read as text, never shown as markup
            sa.update(candidates)
            .where(candidates.c.id == st.id("Feature stores at scale"))
            .values(summary="<p>Summary of <b>Feature stores</b> at scale.</p>")
        )

    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Feature stores at scale")
        await press(pilot, "enter")
        article = app.screen
        assert isinstance(article, ArticleScreen)
        shown = article.text
        assert shown.startswith("Feature stores at scale")
        assert "feed         alpha (Alpha)" in shown
        assert "/alpha/p/2" in shown
        assert "status       new" in shown
        assert "extraction   not extracted yet" in shown
        assert shown.endswith("Summary of Feature stores at scale.")  # the feed's summary until extracted
        assert "<p>" not in shown and "<b>" not in shown
        await press(pilot, "j", "space", "o", "q")
        assert app.screen is app.queue_screen

        await goto(pilot, "Vector search in production")
        await press(pilot, "enter")
        assert isinstance(app.screen, ArticleScreen)
        shown = app.screen.text
        assert "extraction   ok, text from page" in shown
        assert "reading time 2 min (460 words)" in shown
        # The escape sequence is shown, never sent to the terminal.
        assert "Second paragraph, with \\x1b[31mno escapes\\x1b[0m." in shown and "\x1b" not in shown
        await press(pilot, "escape")
        assert app.screen is app.queue_screen

    run(st, scenario)


def test_a_conflict_is_shown_and_nothing_is_overwritten(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Tokenizers explained")
        # Another curator shortlists it behind the screen's back.
        with st.app.write() as s:
            triage_decisions.decide(
                s, [st.id("Tokenizers explained")], Decision("shortlist"), curator="bo", now=T0
            )
        await press(pilot, "x")
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)
        assert "Someone else changed it" in dialog.text
        assert "changed by bo at 2024-03-20 12:00 UTC" in dialog.text
        assert state(st, "Tokenizers explained") == ("shortlisted", [], "bo")  # not overwritten
        await press(pilot, "enter")
        assert app.screen is app.queue_screen
        assert current(app).title == "Tokenizers explained"
        assert current(app).status == "shortlisted"  # reloaded: the current state
        await press(pilot, "x")  # on the fresh version it goes through
        assert state(st, "Tokenizers explained")[0] == "rejected"

    run(st, scenario)


def test_a_refusal_is_a_message_not_a_traceback(st: Stock) -> None:
    with st.app.write() as s:
        promote = Decision("promote", section="research/nlp")
        triage_decisions.decide(s, [st.id("Tokenizers explained")], promote, curator="bo", now=T0)

    async def scenario(pilot: Any, app: TriageApp) -> None:
        assert titles(app) == ["Tokenizers explained"]
        await press(pilot, "n")  # restore refuses a promoted item, and says what to do
        assert isinstance(app.screen, MessageDialog)
        assert "Refused" in app.screen.text and "unpromote" in app.screen.text
        await press(pilot, "escape")
        assert state(st, "Tokenizers explained")[0] == "promoted"

    run(st, scenario, query=QueueQuery(statuses=("promoted",)))


def test_an_empty_queue_says_so(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        assert titles(app) == []
        assert "nothing here" in app.queue_screen.list.line_text(0)
        await press(pilot, "j", "s", "x", "o", "enter", "e")  # nothing to act on: no dialog, no error
        assert app.screen is app.queue_screen

    run(st, scenario, query=QueueQuery(statuses=("rejected",)))


def test_the_screen_fits_80x24(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        lines = screen_lines(app)
        assert len(lines) == 24
        assert all(cell_len(line) == 80 for line in lines)
        long_rows = [line for line in lines if "An extremely long title" in line]
        assert len(long_rows) == 1  # truncated on its row, not wrapped onto the next
        assert long_rows[0].rstrip().endswith("…")
        korean = next(line for line in lines if "이루다" in line)
        assert "Gamma" in korean
        assert "curator ana" in lines[22] and "digest 2024-03" in lines[22]
        assert lines[22].lstrip().startswith("1/6")
        assert "? help" in lines[23] and "q quit" in lines[23]

    run(st, scenario)


def test_pages_load_lazily(server: FixtureServer, tmp_path: Path, database_url: str) -> None:
    names = [f"Post number {i:02d}" for i in range(30)]
    big = stock(server, tmp_path, database_url, {"alpha": names})
    try:

        async def scenario(pilot: Any, app: TriageApp) -> None:
            rows = app.queue_screen.rows
            assert rows.total == 30
            assert max(rows.pages) < 10  # the end of the queue is not loaded
            assert rows.item(29) is None
            await press(pilot, "G")
            assert current(app).title == "Post number 29"
            assert len(rows.pages) <= rows.keep_pages
            await press(pilot, "k", "s")
            assert state(big, "Post number 28")[0] == "shortlisted"

        run(big, scenario, size=(80, 8), page_size=2)
    finally:
        big.app.close()


def test_a_long_queue_is_counted_only_so_far_and_shows_a_plus(
    server: FixtureServer, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"Post number {i:02d}" for i in range(30)]
    big = stock(server, tmp_path, database_url, {"alpha": names})
    monkeypatch.setattr(tui_app, "COUNT_CAP", 12)
    try:

        async def scenario(pilot: Any, app: TriageApp) -> None:
            screen = app.queue_screen
            assert (screen.rows.total, screen.capped) == (12, True)
            assert screen.status_text().startswith("1/12+")
            await press(pilot, "j")
            assert (screen.rows.total, screen.capped) == (12, True)
            await press(pilot, "G")  # the end: counted all the way, once
            assert (screen.rows.total, screen.capped) == (30, False)
            assert current(app).title == "Post number 29"
            assert screen.status_text().startswith("30/30 ")

        run(big, scenario, size=(80, 8), page_size=2)
    finally:
        big.app.close()


# -- the pure parts -------------------------------------------------------------------


def _item(**kw: Any) -> QueueItem:
    values: dict[str, Any] = dict(
        id=1, title="t", url=None, feed_name="alpha", label="", published_at=T0, status="new", version=1,
        section_hint=None, language=None,
    )  # fmt: skip
    values.update(kw)
    return QueueItem(**values)


def test_default_section_follows_the_hint(st: Stock) -> None:
    taxonomy = st.app.taxonomy
    hints = Service(st.app).queue.section_hints()  # the feeds' hints in feeds.yaml

    def suggest(item: QueueItem) -> str | None:
        return default_section(taxonomy, item, hints.get(item.feed_name))

    assert suggest(_item(section_hint="aws")) == "aws/cv"
    assert suggest(_item(section_hint="aws/mlops")) == "aws/mlops"
    assert suggest(_item(section_hint="aws", section="business/nlp")) == "business/nlp"
    assert suggest(_item(feed_name="gamma")) is None
    assert suggest(_item(feed_name="beta")) == "business/mlops"  # from feeds.yaml
    assert taxonomy.label("business/mlops") == "2.4 Business Cases / Training, Inference and MLOps"
    assert taxonomy.label("research") == "1 Research"


def test_rows_are_cut_to_the_width_wide_characters_included() -> None:
    assert fit("이루다 대화", 6) == "이루… "
    assert fit("이루다 대화", 5) == "이루…"
    assert fit("short", 8) == "short   "
    item = _item(title="Title\twith\x1b[31m escape", label="스캐터랩 Scatter Lab")
    line = "".join(text for text, _ in row_cells(item, 40, marked=True))
    assert cell_len(line) == 40
    assert "\x1b" not in line
    assert line == "*    #1 2024-03-20 N 스캐터…  Title wit…"  # the escape shown, not sent
    wide = "".join(text for text, _ in row_cells(item, 60, marked=False))
    assert cell_len(wide) == 60
    assert wide.rstrip() == "     #1 2024-03-20 N 스캐터…  Title with\\x1b[31m escape"


def test_rows_keep_a_few_pages_and_drop_stale_ones() -> None:
    rows = QueueRows(page_size=2, keep_pages=2)
    rows.reset(10, {0: [_item(id=1), _item(id=2)]})
    assert rows.missing(0, 6) == [1, 2]
    assert rows.missing(0, 6) == []  # asked for already
    generation = rows.generation
    rows.marks[3] = 1
    assert rows.store(generation, 1, [_item(id=3, version=4), _item(id=4)], near=0)
    assert rows.marks[3] == 4  # the screen now shows version 4
    assert rows.store(generation, 2, [_item(id=5), _item(id=6)], near=5)
    assert sorted(rows.pages) == [1, 2]  # page 0 was farthest from the cursor
    rows.reset(10, {})
    assert not rows.store(generation, 3, [_item(id=7)], near=0)  # asked for before the reset


# -- the command ----------------------------------------------------------------------


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """root"""

    tui_cli.register(app)
    return app


def test_the_command_has_help_with_an_example() -> None:
    result = CliRunner().invoke(_cli(), ["triage", "--help"])
    assert result.exit_code == 0
    assert "Example: aggregator triage" in result.output
    for option in ("--status", "--feed", "--section", "--search", "--curator", "--digest"):
        assert option in result.output


def test_the_command_checks_its_options_and_builds_the_query(
    st: Stock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGGREGATOR_CONFIG", str(st.config_path))
    monkeypatch.setenv(
        "AGGREGATOR_DATABASE_URL", str(st.app.engine.url.render_as_string(hide_password=False))
    )
    runner = CliRunner()
    result = runner.invoke(_cli(), ["triage", "--status", "later"])
    assert result.exit_code == 2 and "not a status" in result.output
    result = runner.invoke(_cli(), ["triage", "--digest", "2024-13"])
    assert result.exit_code != 0 and "YYYY-MM" in str(result.exception or result.output)

    started: list[TriageApp] = []
    monkeypatch.setattr(TriageApp, "run", lambda self, **kw: started.append(self))
    monkeypatch.setattr(tui_cli, "_has_terminal", lambda: True)
    result = runner.invoke(_cli(), ["triage", "--feed", "nope"])
    assert result.exit_code == 2 and "no feed named 'nope'" in result.output
    args = ["triage", "--status", "new", "--status", "snoozed", "--feed", "alpha", "--section", "aws",
            "--search", " gpu ", "--curator", "cy", "--digest", "2024-05"]  # fmt: skip
    result = runner.invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    (app,) = started
    query = app.queue_screen.query_
    assert (query.statuses, query.feeds, query.section, query.search) == (
        ("new", "snoozed"), ("alpha",), "aws", "gpu",
    )  # fmt: skip
    assert (app.curator, app.digest) == ("cy", "2024-05")
