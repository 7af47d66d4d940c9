"""The suggestion wing's operations for the front ends, and this process's suggestion engine.

:class:`Suggestions` (``service.suggest``) stores a suggested section, an importance score and their
reasons beside each candidate, after every poll and extraction (:mod:`.polling` calls
:meth:`Suggestions.refresh`), and backfills a database whose candidates predate them.
:func:`evaluate_digests` learns from digests and tests on another (``aggregator suggest eval``).

The engine (:func:`engine_for`: the section model and the cross-post grouper) lives as long as the
App, used under its lock by one thread at a time (the daemon's poll tick, the screen's worker, a
command). It learns from the store, not from its callers: before each batch it reads the digest
items past the last one it learned (imported digests; promotions made by any process), so a
promotion reaches the next suggestion in the daemon and the screen without a restart; when an item
it learned has been taken out or moved since (an unpromotion, a re-import), it learns the history
again from the start. The grouper
is seeded with the last 14 days of candidates on first use; housekeeping makes it forget older ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aggregator.configuration import Configuration
from aggregator.errors import AggregatorError
from aggregator.searchtext import html_text
from aggregator.service.part import Part
from aggregator.store import suggestions as store
from aggregator.suggest.values import Contribution, EvalReport, StoredSuggestion

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from aggregator.app import App
    from aggregator.config.settings import Settings
    from aggregator.suggest.grouping import Grouper
    from aggregator.suggest.section import SectionSuggester
    from aggregator.suggest.values import Example, Posting, SuggestItem

__all__ = ["Suggestions", "engine_for", "evaluate_digests"]

log = logging.getLogger(__name__)

#: Candidates per read-suggest-write round: a poll's batch is rarely larger.
BATCH = 500
#: How far back cross-posts are looked for.
WINDOW = timedelta(days=14)
TEXT_CHARS = 3000


class Suggestions(Part):
    """Suggestions, scores and groups: each method reads the clock once per batch, owns its units of work."""

    def refresh(self, ids: Sequence[int] | None = None, *, quietly: bool = False) -> int:
        """Suggest, score and group the candidates that need it (new ones; those whose article came
        since), or exactly ``ids``; how many. ``quietly``: a failure is logged, not raised (after a
        decision that must stand whatever the model does), and 0 returned."""
        if not quietly:
            return engine_for(self.app).refresh(self.app, ids)
        try:
            return engine_for(self.app).refresh(self.app, ids)
        except AggregatorError as exc:  # the database busy or gone: one line, the next poll catches up
            log.warning("suggestions not updated: %s", exc)
            return 0
        except Exception:  # the model's trouble must not undo or hide a decision
            log.exception("suggestions not updated")
            return 0

    def backfill(self, *, everything: bool = False) -> int:
        """What a database made before suggestions needs: every candidate without one (all of them
        with ``everything``) suggested, scored and grouped; how many."""
        return engine_for(self.app).refresh(self.app, everything=everything)

    def forget_old(self) -> int:
        """Housekeeping: the grouper forgets postings older than its window; how many."""
        return engine_for(self.app).forget(self.app.clock() - WINDOW)

    def stored_texts(self, urls: Sequence[str]) -> dict[str, str]:
        """The stored text (the article's, else the feed's) of each of ``urls`` that is a stored candidate."""
        from aggregator.urls import canonical_url

        with self.app.read() as s:
            found = store.texts_by_url(s, {url: canonical_url(url) or "" for url in urls})
        return {url: text for url, row in found.items() if (text := text_of(row))}

    def of(self, candidate_id: int) -> StoredSuggestion | None:
        """The stored suggestion, score, reasons and group of a candidate (None: none stored yet)."""
        with self.app.read() as s:
            row = store.stored(s, candidate_id)
            if row is None:
                return None
            routes = store.routes(s, [row.group_id]) if row.group_id is not None else {}
        reasons = tuple(
            Contribution(str(r.get("phrase", "")), float(r.get("points", 0))) for r in row.score_reasons
        )
        members = routes.get(row.group_id, []) if row.group_id is not None else []
        others = tuple((cid, name, url) for cid, name, url in members if cid != candidate_id)
        if row.group_id is not None and row.group_id != candidate_id:
            others = ((row.group_id, row.primary_feed or "", row.primary_url), *others)
        return StoredSuggestion(
            row.section, row.confidence, row.reason, row.score, reasons, row.group_id, others
        )


def has_database(settings: Settings) -> bool:
    """Whether the database ``settings`` name may hold candidates: a server's, or a SQLite file that exists
    (``suggest eval`` must not create one just to find it empty)."""
    from aggregator.store.db import sqlite_file

    path = sqlite_file(settings.resolved_database_url())
    return path is None or path.is_file()


def evaluate_digests(
    train: Sequence[tuple[str, str]],
    test: tuple[str, str],
    config: Configuration,
    *,
    texts: Mapping[str, str] | None = None,
) -> EvalReport:
    """Learn sections from ``train``'s digests ((name, text) each), predict ``test``'s items, score them.

    ``texts`` maps an item's URL to its stored text, where the caller has it. A digest in which no
    item can be placed in feeds.yaml's sections is a :class:`~aggregator.errors.DigestError` naming it.
    """
    from aggregator.suggest.evaluate import evaluate  # scikit-learn: loaded by the command that runs

    return evaluate(train, test, config, texts=texts)


@dataclass
class Engine:
    """The section model and the grouper of one process, and how far into the history it has read."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    suggester: SectionSuggester | None = None
    grouper: Grouper | None = None
    last_item: int = 0
    """The id of the last digest item learned."""
    seen: int = 0
    """A digest of what it learned (:func:`store.learned` up to ``last_item``)."""
    last_forget: datetime | None = None

    def refresh(self, app: App, ids: Sequence[int] | None = None, *, everything: bool = False) -> int:
        """Suggest, score and group the candidates that need it (or exactly ``ids``); how many."""
        with self.lock:
            now = app.clock()
            with app.read() as s:
                todo = list(ids) if ids is not None else store.needing(s, everything=everything)
            if self.last_forget is None or now - self.last_forget >= timedelta(days=1):
                self.forget(now - WINDOW, locked=True)
                self.last_forget = now
            done = 0
            for start in range(0, len(todo), BATCH):
                done += self._batch(app, todo[start : start + BATCH], now)
            return done

    def forget(self, before: datetime, *, locked: bool = False) -> int:
        """Drop postings published before ``before`` from the grouper; how many (also done daily by
        :meth:`refresh`, so a replica whose housekeeping ran elsewhere forgets too)."""
        if not locked:
            with self.lock:
                return self.forget(before, locked=True)
        return self.grouper.forget_before(before) if self.grouper is not None else 0

    def _batch(self, app: App, ids: Sequence[int], now: datetime) -> int:
        from aggregator.suggest.scoring import importance
        from aggregator.suggest.values import ScoreInput

        with app.read() as s:
            self._catch_up(app, s)
            grouper = self._grouper(s, now)
            rows = store.subjects(s, ids)
            records = store.feed_records(s)
        assert self.suggester is not None
        feeds = _Feeds(app.config)
        items = [_item(feeds, r) for r in rows]
        suggestions = self.suggester.suggest_many(items)
        weights = {feed.name: feed.weight for feed in app.config.feeds}
        verdicts = []
        for row, item, suggestion in zip(rows, items, suggestions, strict=True):
            promoted, decided = records.get(row.feed_name, (0, 0))
            score = importance(
                ScoreInput(item, links=row.links, weight=weights.get(row.feed_name, 1.0),
                           promoted=promoted, decided=decided, suggestion=suggestion)
            )  # fmt: skip
            verdicts.append(
                store.Verdict(
                    row.id,
                    suggestion.section,
                    suggestion.confidence,
                    suggestion.reason,
                    score.value,
                    [{"phrase": r.phrase, "points": r.points} for r in score.reasons],
                )
            )
        groups = grouper.add_many(_posting(r, item) for r, item in zip(rows, items, strict=True))
        primaries = {int(k): int(g.primary) for g in groups if len(g.members) > 1 for k in g.members}
        with app.write() as s:
            store.save_verdicts(s, verdicts, now)
            store.save_groups(s, primaries)
        return len(verdicts)

    def _catch_up(self, app: App, s: Connection) -> None:
        """Learn the digest items added since the last batch; all of them again when feeds.yaml was
        reloaded or an item learned has been taken out or moved since (an unpromotion, a re-import)."""
        from aggregator.suggest.section import SectionSuggester

        suggester = self.suggester
        if (
            suggester is not None
            and self.last_item
            and hash(store.learned(s, upto=self.last_item)) != self.seen
        ):
            suggester = None
        if suggester is None or suggester.taxonomy is not app.taxonomy:
            suggester = self.suggester = SectionSuggester(app.taxonomy)
            self.last_item = 0
        rows = store.history(s, after=self.last_item)
        if rows:
            feeds = _Feeds(app.config)
            suggester.learn_many(_example(feeds, r) for r in rows)
            self.last_item = rows[-1].item_id
        self.seen = hash(store.learned(s, upto=self.last_item))

    def _grouper(self, s: object, now: datetime) -> Grouper:
        from aggregator.suggest.grouping import Grouper

        if self.grouper is None:
            grouper = Grouper(window=WINDOW)
            grouper.add_many(_posting(r) for r in store.recent(s, now - WINDOW))  # type: ignore[arg-type]
            self.grouper = grouper
        return self.grouper


def text_of(row: store.SubjectRow) -> str:
    """The candidate's text: its article's, else the feed's (tags dropped)."""
    return row.article_text[:TEXT_CHARS] if row.article_text else html_text(row.feed_text, TEXT_CHARS).strip()


class _Feeds:
    """feeds.yaml's feeds by name, and by URL for an imported digest's items (made once per batch)."""

    def __init__(self, config: Configuration) -> None:
        from aggregator.suggest.sources import FeedIndex

        self.by_name = {feed.name: feed for feed in config.feeds}
        self.index = FeedIndex(config)


def _item(feeds: _Feeds, row: store.SubjectRow, label: str | None = None) -> SuggestItem:
    from aggregator.suggest.values import SuggestItem

    text = text_of(row)
    feed = feeds.by_name.get(row.feed_name)
    if feed is None:  # an imported digest's item: its feed judged by its URL and label
        return feeds.index.item(title=row.title, url=row.url or "", label=label, text=text)
    return SuggestItem(
        title=row.title, url=row.url or "", feed=feed.name, label=feed.label, text=text,
        language=row.language or feed.language, section_hint=feed.section_hint,
    )  # fmt: skip


def _example(feeds: _Feeds, row: store.HistoryRow) -> Example:
    from aggregator.suggest.values import Example

    return Example(_item(feeds, row.subject, row.label), row.section)


def _posting(row: store.SubjectRow, item: SuggestItem | None = None) -> Posting:
    from aggregator.suggest.values import Posting

    text = item.text if item is not None else text_of(row)
    return Posting(str(row.id), row.url or "", row.title, text, row.feed_name, row.published_at)


_engines_lock = threading.Lock()


def engine_for(app: App) -> Engine:
    """The engine of ``app`` (made on first use; one per App for the life of the process)."""
    with _engines_lock:
        engine = app.__dict__.get("_suggestion_engine")
        if engine is None:
            engine = Engine()
            app.__dict__["_suggestion_engine"] = engine
        return engine
