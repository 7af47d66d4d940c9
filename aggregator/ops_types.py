"""Plain values of the operators' views (``aggregator health``, ``aggregator status``), beside :mod:`types`.

Apart from :mod:`aggregator.types` only because that module is at the size
limit of ``tests/test_contracts.py``; same rules: frozen dataclasses, no logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.types import FeedState, Gauges, JobRun, Replica

__all__ = ["Health", "JobStatus", "ServiceStatus"]


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
