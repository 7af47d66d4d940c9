"""Plain values of the operators' wing: the processes (instances, daemon replicas), scheduled jobs'
runs, the gauges a daemon reports, and what ``aggregator health`` and ``aggregator status`` show.

Frozen dataclasses that cross layers, like :mod:`aggregator.types`; no logic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aggregator.types import FeedState

__all__ = ["Gauges", "Health", "Instance", "JobRun", "JobStatus", "Replica", "ServiceStatus"]


@dataclass(frozen=True, slots=True)
class Instance:
    """A running process of the aggregator, as its claims on feeds name it.

    ``id`` is a UUID drawn when the process starts, so a restarted container
    (PID 1 again, same host name) is never mistaken for its previous life.
    """

    id: str
    host: str
    pid: int


@dataclass(frozen=True, slots=True)
class Replica:
    """A process as ``instances`` records it: a command (role ``cli``) or a daemon replica (``daemon``).

    ``summary`` is what a daemon wrote with its last heartbeat (plain JSON values:
    its last tick's counts, its jobs' next run times as ISO 8601 strings); empty
    for a command.
    """

    id: str
    host: str
    pid: int
    role: str
    version: str | None
    started_at: datetime
    heartbeat_at: datetime
    summary: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the service holds right now, as a daemon's metrics and summary line show it."""

    feeds_by_health: Mapping[str, int]
    """Feeds in feeds.yaml by their health word (``feeds.health``): ok, failing, gone, ..."""
    due: int
    """Feeds whose next poll time has come and that nobody holds."""
    pending_extractions: int
    """Candidates whose page is due for extraction (never tried, or a retry whose time has come)."""

    @property
    def failing(self) -> int:
        return sum(self.feeds_by_health.get(word, 0) for word in ("failing", "gone"))


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a scheduled job for one period (``weekly_email`` for ``2026-W49``), as recorded."""

    job: str
    period: str
    instance_id: str
    started_at: datetime
    outcome: str
    """``running``, ``ok`` or ``failed``."""
    finished_at: datetime | None = None
    lease_until: datetime | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """What ``aggregator health`` found: healthy, or the first problem as one line saying what to do."""

    database: str
    """The database, its password hidden."""
    problem: str | None = None
    revision: str | None = None
    """The schema revision found (None: not read, or an empty database)."""
    daemon: Replica | None = None
    """The freshest daemon replica that counts (this host's, unless any host was accepted)."""
    heartbeat_age: timedelta | None = None

    @property
    def healthy(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A scheduled job's last recorded run and, from a running daemon, its next one."""

    job: str
    last: JobRun | None
    next_run: datetime | None
    """From the freshest live daemon's summary; None when no daemon is running or it did not say."""


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """What ``aggregator status`` shows: the daemons, the feeds, the extraction queue, the jobs."""

    database: str
    now: datetime
    max_age: timedelta
    """A daemon whose heartbeat is older than this is not running."""
    daemons: tuple[Replica, ...]
    """Every daemon replica recorded, the latest heartbeat first."""
    gauges: Gauges
    failing: tuple[FeedState, ...]
    """A few failing or gone feeds (the most errors first), with their errors."""
    jobs: tuple[JobStatus, ...]

    def live(self, replica: Replica) -> bool:
        return self.now - replica.heartbeat_at <= self.max_age

    @property
    def running(self) -> tuple[Replica, ...]:
        return tuple(r for r in self.daemons if self.live(r))
