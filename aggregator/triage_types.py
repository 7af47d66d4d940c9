"""Plain values of the triage wing: statuses, the queue's query and rows, decisions, the decision
log, one candidate shown.

Frozen dataclasses that cross layers, like :mod:`aggregator.types`; no logic. All datetimes are
timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aggregator.article_types import Article, ExtractStatus
from aggregator.statuses import CURATOR_CHARS as CURATOR_CHARS
from aggregator.statuses import OPEN_STATUSES as OPEN_STATUSES
from aggregator.statuses import STATUSES as STATUSES
from aggregator.statuses import QueueSort as QueueSort
from aggregator.statuses import Status as Status
from aggregator.types import Candidate

# -- triage --------------------------------------------------------------------

# Status, STATUSES, OPEN_STATUSES, QueueSort and CURATOR_CHARS live in aggregator.statuses (imported
# above and re-exported): the command line's options read them without this module's dataclasses.


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """What `aggregator queue` and the triage screen ask for.

    ``section`` matches a promoted item's section, else the feed's section hint;
    ``aws`` matches ``aws/mlops``, not the other way round. ``search`` is
    full-text over titles and article text (Korean and Japanese included).
    The sort is a named order so a later score can join ``date`` and ``feed``.
    """

    statuses: tuple[Status, ...] = OPEN_STATUSES
    feeds: tuple[str, ...] = ()
    section: str | None = None
    since: datetime | None = None
    search: str | None = None
    sort: QueueSort = "date"
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One row of the queue, with what a curator needs to decide and a version to decide on."""

    id: int
    title: str
    url: str | None
    feed_name: str
    label: str
    published_at: datetime
    status: Status
    version: int
    """Grows with every decision; a decision made on an older version is refused."""
    section_hint: str | None
    language: str | None
    notes: tuple[str, ...] = ()
    snoozed_until: datetime | None = None
    digest: str | None = None
    section: str | None = None
    """The section a promoted item sits in."""
    decided_by: str | None = None
    decided_at: datetime | None = None
    word_count: int | None = None
    """Words of the article text; None before extraction."""
    extract_status: ExtractStatus | None = None
    group_id: int | None = None
    # Importance by the curators' rules, 0-100 (reasons: ``service.suggest.of``); None: not scored yet.
    score: float | None = None
    # The feeds of its cross-post group's other members (the same article reached by other routes).
    routes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Change:
    """One candidate's part in a decision: what it was, what it is now."""

    candidate_id: int
    title: str
    from_status: Status
    to_status: Status
    version: int
    digest: str | None = None
    section: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionReport:
    """What a triage command did: the batch to undo, the changes, the ids left as they were (and why)."""

    batch: str
    action: str
    changes: tuple[Change, ...]
    unchanged: tuple[tuple[int, str], ...] = ()


# -- triage: decisions, the decision log, one candidate shown ----------------------------------

Action = Literal["shortlist", "promote", "reject", "snooze", "restore", "unpromote", "note"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a curator asked for, besides which candidates: the options of one command."""

    action: Action
    section: str | None = None
    """promote: a full section id such as ``business/mlops``."""
    digest: str | None = None
    """promote: the issue, ``YYYY-MM``; None: the month of ``now``."""
    notes: tuple[str, ...] = ()
    """promote and note: notes to add, in order."""
    replace_notes: bool = False
    """note: the notes replace the candidate's notes instead of following them."""
    title: str | None = None
    label: str | None = None
    month: str | None = None
    """promote: the curator's overrides for the digest line (``month`` is ``YYYY-MM``)."""
    until: datetime | None = None
    """snooze: when the candidate comes back as new."""
    reason: str | None = None
    """reject: why, kept in the decision log."""
    force: bool = False
    """Change a published (frozen) digest issue anyway."""


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One row of the decision log, as `aggregator log` prints it."""

    id: int
    batch: str
    candidate_id: int
    title: str
    curator: str
    at: datetime
    action: str
    from_status: str
    to_status: str
    digest: str | None
    section: str | None
    note: str | None
    undone_at: datetime | None
    undone_by: str | None


@dataclass(frozen=True, slots=True)
class TriageState:
    """A candidate's triage state as `aggregator show` prints it."""

    status: Status
    version: int
    notes: tuple[str, ...]
    snoozed_until: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    digest: str | None
    section: str | None


@dataclass(frozen=True, slots=True)
class CandidateView:
    """One candidate as `aggregator show` and the triage screen's article view read it."""

    candidate: Candidate | None
    """None: no such candidate."""
    article: Article | None
    triage: TriageState | None
    decisions: tuple[LoggedDecision, ...] = ()
    """Its latest decisions, newest first."""
    feed_text: str | None = None
    """The feed's summary as text to read (HTML turned to lines), when its article has no text yet."""


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue, and how many candidates the query finds (None: not counted)."""

    query: QueueQuery
    """The query as run (``since`` resolved against the clock)."""
    items: tuple[QueueItem, ...]
    total: int | None = None
