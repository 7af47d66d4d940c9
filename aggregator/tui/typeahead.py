"""Type-ahead: the keys a curator types are handled one after another, each on the screen on top by then.

Textual forwards each key from the terminal to the focused widget (or the screen) as soon as it
arrives, and runs a binding's action only when the key has bubbled back up to the app. A burst such
as ``z3d⏎`` (a fast typist, a paste, a slow SSH link delivering keys together) therefore sent ``3d``
and Enter to the queue screen before ``z`` had opened the snooze dialog, or to the dialog before its
input had focus: they were lost, and the dialog answered an empty line. Here a key waits until the
key before it has been handled (it came back up to the app, a widget stopped it, or its screen has
gone) with what it set off (an option list's "selected", a dialog's answer), and the screen on top is
mounted with its focus set; then it goes where Textual would send it at that moment. Keys typed at
human speed pass straight through. While the screen on top is busy (a decision or a reload under way, see
:mod:`aggregator.tui.jobs`) keys wait too, so the dialog a decision opens gets the keys typed after it.
Ctrl+C and Ctrl+Q never wait.

Apart from a busy screen, a key that has waited longer than :data:`HOLD_LIMIT` goes on regardless,
so that nothing Textual does differently in a later version can leave the screen ignoring keys.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from textual import events, messages
from textual.app import App
from textual.message_pump import MessagePump
from textual.timer import Timer
from textual.widget import Widget

HOLD_LIMIT = 1.0
"""Seconds a key waits at most for the one before it, or for a screen to be mounted."""
POLL = 0.005
"""Seconds between two looks while keys wait (only while keys wait: a widget handling a key says
nothing when it is done)."""
NEVER_HELD = frozenset({"ctrl+c", "ctrl+q"})
_BACKGROUND = (events.Timer, events.Key, messages.Prompt)
"""Messages that do not hold the next key back: timers (a cursor's blink), keys typed later, idle prompts."""


class TypeAhead(App[None]):
    """An app whose keys are handled in the order typed, each after the one before it."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.clock = clock
        self._typed: deque[events.Key] = deque()
        self._in_flight: tuple[events.Key, Widget] | None = None
        self._waiting_since = 0.0
        self._poll: Timer | None = None

    @property
    def keys_waiting(self) -> int:
        """Keys typed and not yet sent on."""
        return len(self._typed)

    def drop_typed_ahead(self) -> int:
        """Forget the keys typed and not yet sent on (as mutt does on an error: they were typed before
        the curator could see it); how many there were."""
        dropped = len(self._typed)
        self._typed.clear()
        return dropped

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.key in NEVER_HELD:
            await super().on_event(event)
            return
        if event.is_forwarded:  # a key coming back up from the screen: its binding runs now
            await super().on_event(event)
            if self._in_flight is not None and self._in_flight[0] is event:
                self._in_flight = None
                await self._send_waiting()
            return
        if not self._typed:
            self._waiting_since = self.clock()
        self._typed.append(event)
        await self._send_waiting()

    async def _send_waiting(self) -> None:
        while self._typed and self._may_send():
            key = self._typed.popleft()
            self._in_flight = (key, self.focused or self.screen)
            self._waiting_since = self.clock()
            await super().on_event(key)
        if self._typed and self._poll is None:
            self._poll = self.set_timer(POLL, self._look_again, name="type-ahead")

    async def _look_again(self) -> None:
        self._poll = None
        await self._send_waiting()

    def _may_send(self) -> bool:
        """Whether the next key may go: the screen on top is not busy (a decision or a reload under way:
        its dialogs come first), is mounted, the app has run what was asked of it before (a widget's
        ``focus()`` is such a call), and the key before has been handled (or the wait is over)."""
        screen = self.screen
        if getattr(screen, "busy", False):
            return False
        if self.clock() - self._waiting_since > HOLD_LIMIT:
            return True
        if not screen.is_mounted or not _quiet(self, lambda m: not isinstance(m, events.Callback)):
            return False  # mounting, or a widget's focus() still to run
        if self._in_flight is not None:
            key, target = self._in_flight
            # Done when it came back up to the app (its binding ran), when a widget stopped it (an
            # input took the character) or when its screen has gone (the dialog it answered); until
            # then it is on its way, or being handled somewhere.
            done = key._stop_propagation or not target.is_attached or target.screen is not screen
            if not done or not all(_quiet(n, lambda m: m is not key) for n in _chain(target)):
                return False
            self._in_flight = None
        # What the key before set off (an option list's "selected", a dialog's answer) has been handled.
        where = self.focused or screen
        return all(_quiet(node, lambda m: isinstance(m, _BACKGROUND)) for node in _chain(where))


def _chain(node: MessagePump | None) -> list[MessagePump]:
    """``node`` and its ancestors, up to the screen (the app is where this runs)."""
    nodes = []
    while node is not None and node._parent is not None:
        nodes.append(node)
        node = node._parent
    return nodes


def _quiet(node: MessagePump, allowed: Callable[[object], bool]) -> bool:
    """Whether every message waiting in ``node``'s queue is ``allowed``."""
    waiting = getattr(node._message_queue, "values", ())  # Textual's queue keeps its messages in a deque
    return all(allowed(message) for message in waiting)
