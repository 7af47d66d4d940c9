"""How a daemon asks the work running in its other threads to stop: first take no more, then abandon the rest.

A base module (it imports nothing of aggregator's): the App holds one, the poll
(``feeds/poll.py``) and the extraction (``articles/pages.py``) honour it, the
daemon (through ``service.daemon``) makes the request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

StopStep = Literal["stop", "cancel"]


class Stopping:
    """A request to stop, made in one thread (the daemon's, on SIGTERM) and honoured by work in others.

    Two steps: :meth:`stop` (take no more work: claim no feed, start no page; what is in
    flight goes on) and :meth:`cancel` (the deadline passed: abandon what is in flight).
    Work running elsewhere subscribes with :meth:`when`; a step is never taken back.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._step = 0
        self._listeners: dict[int, tuple[int, Callable[[], None]]] = {}
        self._next = 0

    @property
    def stopping(self) -> bool:
        return self._step >= 1

    @property
    def cancelled(self) -> bool:
        return self._step >= 2

    def stop(self) -> None:
        self._advance(1)

    def cancel(self) -> None:
        self._advance(2)

    def when(self, step: StopStep, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (in the stopping thread) once ``step`` is taken, at once if it was;
        returns what forgets it."""
        level = 1 if step == "stop" else 2
        with self._lock:
            if self._step < level:
                key = self._next = self._next + 1
                self._listeners[key] = (level, callback)
                return lambda: self._forget(key)
        callback()
        return lambda: None

    def _forget(self, key: int) -> None:
        with self._lock:
            self._listeners.pop(key, None)

    def _advance(self, level: int) -> None:
        with self._lock:
            if self._step >= level:
                return
            self._step = level
            due = [key for key, (wanted, _) in self._listeners.items() if wanted <= level]
            callbacks = [self._listeners.pop(key)[1] for key in due]
        for callback in callbacks:
            callback()
