"""Long work is never silent: feeds polled of N, pages extracted of M, elapsed and rate.

On a terminal (stderr), a Rich progress display redrawn in place; elsewhere
(a file, a pipe, cron's mail) a plain line every ``every`` seconds and one at
the end, each starting with a UTC timestamp like the log's lines. Pages are
counted ok, flagged (the page answered but holds no article: too short, a
challenge, a paywall, not HTML) or failed (HTTP errors, timeouts, errors).
The counts are numbers only: no text from the world is printed here.

The callbacks (:meth:`Progress.feed`, :meth:`Progress.page`) may come from
another thread than the one that made the display; every count is updated
under a lock.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from aggregator.article_types import Article
    from aggregator.types import FeedUpdateResult

#: Extraction statuses counted as flagged (the page answered, but no article is in it).
FLAGGED = frozenset({"too_short", "challenge", "paywall", "not_html"})
#: Seconds between two plain progress lines when stderr is not a terminal.
EVERY = 10.0


class Progress:
    """Counts of a run shown as it goes: a Rich display on a terminal, plain lines elsewhere."""

    def __init__(
        self,
        what: str,
        *,
        feeds: int | None = None,
        pages: int | None = None,
        stream: TextIO | None = None,
        every: float = EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.every, self.clock = every, clock
        self.feeds_total, self.pages_total = feeds, pages
        self.feeds_done = self.new = 0
        self.ok = self.flagged = self.failed = 0
        self.started = self.last_line = clock()
        self._lock = threading.Lock()
        self._rich: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}

    # -- what the run reports --------------------------------------------------

    def feed(self, result: FeedUpdateResult) -> None:
        """A feed was polled: one more of N; its new entries are pages to extract."""
        with self._lock:
            self.feeds_done += 1
            self.new += result.new
            if self.pages_total is not None:  # None: this run extracts no page
                self.pages_total += result.new
        self._show()

    def page(self, article: Article) -> None:
        """A page was extracted and stored."""
        with self._lock:
            if article.status == "ok":
                self.ok += 1
            elif article.status in FLAGGED:
                self.flagged += 1
            else:
                self.failed += 1
        self._show()

    # -- how it is shown -------------------------------------------------------

    @property
    def pages_done(self) -> int:
        return self.ok + self.flagged + self.failed

    def line(self) -> str:
        """``poll: 12/30 feeds, 340/800 pages (300 ok, 20 flagged, 20 failed), 45.2 s, 7.5 pages/s``."""
        elapsed = max(self.clock() - self.started, 1e-9)
        parts = []
        if self.feeds_total is not None or self.feeds_done:
            parts.append(f"{self.feeds_done}/{_of(self.feeds_total, self.feeds_done)} feeds")
        if self.pages_total is not None or self.pages_done:
            pages = f"{self.pages_done}/{_of(self.pages_total, self.pages_done)} pages"
            parts.append(f"{pages} ({self.ok} ok, {self.flagged} flagged, {self.failed} failed)")
        parts.append(f"{elapsed:.1f} s")
        if self.pages_total is not None or self.pages_done:
            parts.append(f"{self.pages_done / elapsed:.1f} pages/s")
        return f"{self.what}: " + ", ".join(parts)

    def __enter__(self) -> Progress:
        if self.stream.isatty():
            self._rich = _rich_display(self.stream)
            if self.feeds_total is not None or self.what == "poll":
                self._tasks["feeds"] = self._rich.add_task(
                    "feeds polled", total=self.feeds_total, counts="", rate=""
                )
            if self.pages_total is not None or self.what != "poll":
                self._tasks["pages"] = self._rich.add_task(
                    "pages extracted", total=self.pages_total, counts="", rate=""
                )
            self._rich.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._rich is not None:
            self._show()
            self._rich.stop()
        elif kind is None and (self.feeds_done or self.pages_done):  # a failure says its own one line
            self._print()

    def _show(self) -> None:
        if self._rich is not None:
            with self._lock:
                counts = f"{self.ok} ok, {self.flagged} flagged, {self.failed} failed"
                rate = f"{self.pages_done / max(self.clock() - self.started, 1e-9):.1f} pages/s"
                if "feeds" in self._tasks:
                    total = _of(self.feeds_total, self.feeds_done)
                    self._rich.update(self._tasks["feeds"], completed=self.feeds_done, total=total)
                if "pages" not in self._tasks:
                    return
                total = _of(self.pages_total, self.pages_done)
                self._rich.update(
                    self._tasks["pages"], completed=self.pages_done, total=total, counts=counts, rate=rate
                )
            return
        now = self.clock()
        if now - self.last_line >= self.every:
            self.last_line = now
            self._print()

    def _print(self) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.stream.write(f"{stamp} INFO {self.line()}\n")
        self.stream.flush()


def _of(total: int | None, done: int) -> int:
    """The total shown: never below what is done (a poll finds more pages as it goes)."""
    return max(total or 0, done)


def _rich_display(stream: TextIO) -> RichProgress:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    return RichProgress(
        TextColumn("{task.description:>15}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rate]}"),
        console=Console(file=stream),
        transient=False,
    )
