"""The facade's queue operations (see :mod:`aggregator.service`): list, count, the feeds to filter by."""

from __future__ import annotations

from dataclasses import replace

from aggregator.errors import BadValueError
from aggregator.service.part import Part
from aggregator.store import queue as store
from aggregator.triage.dates import parse_date
from aggregator.triage_types import QueueItem, QueuePage, QueueQuery


class Queue(Part):
    """The queue: each method reads the clock once, owns its read and returns plain values."""

    def items(self, query: QueueQuery) -> list[QueueItem]:
        """One page of the queue (``query.limit`` rows from ``query.offset``), in its order."""
        now = self.app.clock()
        with self.app.read() as s:
            return store.list_queue(s, query, now)

    def count(self, query: QueueQuery, *, at_most: int | None = None) -> int:
        """How many candidates ``query`` finds; with ``at_most``, counting stops there."""
        now = self.app.clock()
        with self.app.read() as s:
            return store.count_queue(s, query, now, at_most=at_most)

    def page(
        self, query: QueueQuery, *, since: str | None = None, count_up_to: int | None = None
    ) -> QueuePage:
        """What `aggregator queue` prints: one page, and its count up to ``count_up_to`` (None: no count).

        ``since`` (``YYYY-MM-DD``, an ISO date-time, ``7d``) is read against the
        same clock reading as the listing. An unknown date, or a feed name no
        feed has (removed feeds included), is a :class:`BadValueError`.
        """
        now = self.app.clock()
        if since is not None:
            query = replace(query, since=parse_date(since, now, relative="ago", option="--since"))
        with self.app.read() as s:
            if query.feeds:
                unknown = sorted(set(query.feeds) - store.feed_names(s))
                if unknown:
                    raise BadValueError(
                        f"no feed called {unknown[0]!r} (see `aggregator feeds list`)", "--feed"
                    )
            items = store.list_queue(s, query, now)
            total = None if count_up_to is None else store.count_queue(s, query, now, at_most=count_up_to)
        return QueuePage(query, tuple(items), total)

    def window(
        self, query: QueueQuery, *, cursor: int, span: int, page_size: int, cap: int, to_end: bool = False
    ) -> tuple[int, dict[int, list[QueueItem]]]:
        """The count, and the pages of ``page_size`` rows within ``span`` rows of the cursor, in one read.

        Counting stops one past ``cap`` (one more tells "there is more"), unless
        ``to_end``: then every row is counted and the cursor is the last row.
        """
        now = self.app.clock()
        with self.app.read() as s:
            # Counting every match of a common word costs a full scan on PostgreSQL
            # (~300 ms at 100k); count a little past the cursor instead, and say "+".
            total = store.count_queue(s, query, now, at_most=None if to_end else cap + 1)
            if total == 0:
                return 0, {}
            shown = min(total, cap)
            at = shown - 1 if to_end else min(cursor, shown - 1)
            first, last = max(at - span, 0) // page_size, min(at + span, shown - 1) // page_size
            pages = {
                n: store.list_queue(s, replace(query, limit=page_size, offset=n * page_size), now)
                for n in range(first, last + 1)
            }
        return total, pages

    def feed_names(self) -> list[str]:
        """The feeds of feeds.yaml, in its order (what the screen's filter offers)."""
        return [feed.name for feed in self.app.config.feeds]

    def section_hints(self) -> dict[str, str | None]:
        """Each feed's section hint in feeds.yaml, by feed name."""
        return {feed.name: feed.section_hint for feed in self.app.config.feeds}

    def check_feeds(self, names: list[str]) -> None:
        """A :class:`BadValueError` for the first of ``names`` that feeds.yaml does not list."""
        unknown = self.app.config.unknown_feeds(names)
        if unknown:
            raise BadValueError(
                f"no feed named {unknown[0]!r} in {self.app.config_path} (see `aggregator feeds list`)",
                "--feed",
            )
