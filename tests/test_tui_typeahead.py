"""Keys typed faster than the screen draws (a fast typist, a paste, a slow SSH link delivering keys
together) are handled in order, each on the screen on top by then, and a dialog answers once.

Each burst goes to the app's driver in one go, as a terminal delivers it, with no wait between keys
(Pilot's ``press`` waits for the screen after every key and cannot show these races).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual import events

from aggregator.triage import decisions as triage_decisions
from aggregator.triage_types import Decision
from aggregator.tui import TriageApp
from aggregator.tui.dialogs import MessageDialog
from aggregator.tui.typeahead import HOLD_LIMIT
from tests.fixture_server import FixtureServer
from tests.stock import T0, Stock, stock
from tests.test_tui import current, run, screen_lines, settle, state, titles

FEEDS = {"alpha": ["Serving many models", "Tokenizers explained", "Feature stores at scale"]}
_CHARS = {"enter": "\r", "escape": "\x1b", "slash": "/", "space": " "}


@pytest.fixture
def st(server: FixtureServer, tmp_path: Path, database_url: str) -> Iterator[Stock]:
    result = stock(server, tmp_path, database_url, FEEDS, hints={"alpha": "aws"})
    yield result
    result.app.close()


async def burst(pilot: Any, *keys: str) -> None:
    """Deliver ``keys`` together, as a terminal does, then wait until each is handled."""
    app: TriageApp = pilot.app
    for key in keys:
        app._driver.send_message(events.Key(key, _CHARS.get(key, key if len(key) == 1 else None)))
    for _ in range(400):
        await settle(pilot)
        if not app.keys_waiting:
            break
        await pilot.pause(0.005)
    assert not app.keys_waiting, app.keys_waiting
    await settle(pilot)


def test_a_snooze_date_typed_ahead_reaches_the_dialog(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        top = current(app).title
        await burst(pilot, "z", "3", "d", "enter")
        assert app.screen is app.queue_screen
        assert state(st, top)[0] == "snoozed"

    run(st, scenario)


def test_a_search_typed_ahead_is_applied_whole(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        await burst(pilot, "slash", *"tokenizers", "enter")
        assert app.queue_screen.query_.search == "tokenizers"
        assert titles(app) == ["Tokenizers explained"]

    run(st, scenario)


def test_a_promotion_and_its_note_typed_ahead(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        top = current(app).title
        await burst(pilot, "p", "enter", *"ok", "enter")
        assert app.screen is app.queue_screen
        assert state(st, top)[:2] == ("promoted", ["ok"])

    run(st, scenario)


def test_two_enters_on_the_section_picker_answer_it_once(st: Stock) -> None:
    """The second Enter used to select again and pop the queue screen itself (ScreenStackError)."""

    async def scenario(pilot: Any, app: TriageApp) -> None:
        first, _, third = titles(app)
        await burst(pilot, "p", "enter", "enter", "j")
        assert app.screen is app.queue_screen  # the second Enter answered the note prompt
        assert state(st, first)[:2] == ("promoted", [])
        assert current(app).title == third  # the promoted item left the list; j went on from the next

    run(st, scenario)


def test_keys_typed_during_a_refused_decision_are_dropped_and_its_message_stays_on_screen(st: Stock) -> None:
    """The conflict message after another curator's change is drawn every time and waits for a key typed
    after it: an Enter typed ahead (meant for the list) no longer closes it unread, nor waits behind it
    to act on a list that has changed."""

    async def scenario(pilot: Any, app: TriageApp) -> None:
        for round_ in range(10):
            item = current(app)
            change = "shortlist" if item.status == "new" else "restore"
            with st.app.write() as s:  # another curator, behind the screen's back
                triage_decisions.decide(s, [item.id], Decision(change), curator="bo", now=T0)  # type: ignore[arg-type]
            at = app.queue_screen.list.cursor
            await burst(pilot, "x", "enter", "j")  # reject, then on to read and move, typed together
            dialog = app.screen
            assert isinstance(dialog, MessageDialog), (round_, type(dialog).__name__)
            assert "Someone else changed it" in dialog.text
            assert "2 keys typed meanwhile were dropped" in dialog.text
            assert any("Someone else changed it" in line for line in screen_lines(app))
            assert state(st, item.title)[0] == change.replace("restore", "new").replace(
                "shortlist", "shortlisted"
            )
            await burst(pilot, "enter")  # read, closed
            assert app.screen is app.queue_screen and not app.queue_screen._pending
            await burst(pilot, "j")  # and the list answers at once
            assert app.queue_screen.list.cursor == at + 1
            await burst(pilot, "g")

    run(st, scenario)


def test_a_key_never_waits_longer_than_the_limit(st: Stock) -> None:
    """Whatever holds a key back (here: a key before it that never comes back), it goes on once it has
    waited HOLD_LIMIT seconds on the injected clock."""

    async def scenario(pilot: Any, app: TriageApp) -> None:
        now = [1000.0]
        app.clock = lambda: now[0]
        app._in_flight = (events.Key("f12", None), app.queue_screen)  # never handled, never comes back
        looked = asyncio.Event()
        looks = 0
        look_again = app._look_again

        async def counted() -> None:
            nonlocal looks
            await look_again()
            looks += 1
            if looks == 5:
                looked.set()

        app._look_again = counted  # type: ignore[method-assign]
        app._driver.send_message(events.Key("j", "j"))
        await asyncio.wait_for(looked.wait(), 10)  # the app has looked five times, and held the key
        assert app.keys_waiting == 1 and app.queue_screen.list.cursor == 0  # the clock stands still
        now[0] += HOLD_LIMIT + 0.01
        await burst(pilot)
        assert app.queue_screen.list.cursor == 1

    run(st, scenario)


def test_ctrl_q_quits_even_while_keys_wait(st: Stock) -> None:
    async def scenario(pilot: Any, app: TriageApp) -> None:
        app.clock = lambda: 1000.0
        app._in_flight = (events.Key("f12", None), app.queue_screen)
        app._driver.send_message(events.Key("j", "j"))
        app._driver.send_message(events.Key("ctrl+q", None))
        for _ in range(50):
            await pilot.pause()
            if app._exit:
                break
        assert app._exit

    run(st, scenario)
