"""The facade's operations for operators (see :mod:`aggregator.service`): what the service holds now.

``gauges`` feeds the daemon's metrics and its summary line; ``status`` is
``aggregator status``; ``health`` answers Docker's HEALTHCHECK and
orchestrators: is the database reachable, is its schema this code's, and has
a daemon (on this host, by default) sent a heartbeat lately.

:func:`check_health` is a module function, not only a method: ``aggregator
health`` runs it from the environment alone, without feeds.yaml (a daemon keeps
running on its last good configuration while the file is being edited) and
without ``make_app``, which would create or migrate the database: a health
check that migrates is a bug.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aggregator.ops_types import Gauges, Health, JobRun, JobStatus, Replica, ServiceStatus
from aggregator.service.daemon import HOUSEKEEPING, MONTHLY_DRAFT, WEEKLY_EMAIL
from aggregator.service.part import Part
from aggregator.types import FeedState

if TYPE_CHECKING:
    import sqlalchemy as sa

    from aggregator.config.settings import Settings

__all__ = ["HEARTBEAT_MAX_AGE", "JOBS", "Ops", "check_health"]

#: How old the heartbeat of a daemon that is alive may be: three heartbeats' worth, about.
HEARTBEAT_MAX_AGE = timedelta(minutes=2)
#: The daemon's scheduled jobs, in the order ``status`` lists them (others it finds follow).
JOBS = (WEEKLY_EMAIL, MONTHLY_DRAFT, HOUSEKEEPING)
#: Seconds ``health`` waits for a lock or a connection: a check must answer before Docker's timeout.
HEALTH_DATABASE_TIMEOUT = 10.0
#: Failing feeds ``status`` names.
FAILING_SHOWN = 5


class Ops(Part):
    """Operators' views: each method reads the clock once and opens one unit of work."""

    def gauges(self) -> Gauges:
        """Feeds by health, feeds due, and candidates whose page is due, as of now."""
        from aggregator.store import articles, claims, repo

        now = self.app.clock()
        with self.app.read() as s:
            feeds = repo.list_feeds(s)
            pending = articles.count_pending(s, now=now)
            due = claims.claim_outlook(s, now=now).due
        return _gauges(feeds, now=now, due=due, pending=pending)

    def health(self, *, max_age: timedelta = HEARTBEAT_MAX_AGE, any_host: bool = False) -> Health:
        """:func:`check_health` on this App's database, at its clock's now."""
        host = None if any_host else socket.gethostname()
        return _judge(self.app.engine, now=self.app.clock(), max_age=max_age, host=host)

    def status(self, *, max_age: timedelta = HEARTBEAT_MAX_AGE) -> ServiceStatus:
        """The daemons, the feeds due and failing, the extraction queue, and each job's last and next run.

        A daemon is running when its heartbeat is at most ``max_age`` old; the
        next runs are those the freshest running daemon wrote in its summary.
        """
        from aggregator.feeds.health import feed_health
        from aggregator.store import articles, claims, db, jobs, repo

        now = self.app.clock()
        with self.app.read() as s:
            feeds = repo.list_feeds(s)
            pending = articles.count_pending(s, now=now)
            due = claims.claim_outlook(s, now=now).due
            daemons = claims.replicas(s, role="daemon")
            runs = jobs.last_runs(s)
        failing = [f for f in feeds if feed_health(f, now) in ("failing", "gone")]
        failing.sort(key=lambda f: (-f.error_count, f.name))
        live = next((r for r in daemons if now - r.heartbeat_at <= max_age), None)
        return ServiceStatus(
            database=db.describe_url(self.app.engine),
            now=now,
            max_age=max_age,
            daemons=tuple(daemons),
            gauges=_gauges(feeds, now=now, due=due, pending=pending),
            failing=tuple(failing[:FAILING_SHOWN]),
            jobs=job_statuses(runs, live.summary if live is not None else {}),
        )


def _gauges(feeds: Sequence[FeedState], *, now: datetime, due: int, pending: int) -> Gauges:
    from aggregator.feeds.health import feed_health

    by_health: dict[str, int] = dict(Counter(feed_health(f, now) for f in feeds))
    return Gauges(feeds_by_health=by_health, due=due, pending_extractions=pending)


def job_statuses(runs: Sequence[JobRun], summary: Mapping[str, Any]) -> tuple[JobStatus, ...]:
    """Each job's last run and its next run from a daemon's ``summary["next_runs"]`` (job → ISO 8601).

    The summary is another process's JSON: a value that is no date is no next run, never an error.
    """
    written = summary.get("next_runs")
    next_runs = {
        str(job): _instant(value)
        for job, value in (written.items() if isinstance(written, Mapping) else ())
        if _instant(value) is not None
    }
    last = {run.job: run for run in runs}
    names = [*JOBS, *sorted(set(last) - set(JOBS))]  # the tick and heartbeat are no jobs
    return tuple(JobStatus(name, last.get(name), next_runs.get(name)) for name in names)


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# -- health -----------------------------------------------------------------------------------


def check_health(
    settings: Settings,
    *,
    now: datetime,
    max_age: timedelta = HEARTBEAT_MAX_AGE,
    any_host: bool = False,
    host: str | None = None,
) -> Health:
    """Whether the service behind ``settings``'s database is alive at ``now``, creating and changing nothing.

    Healthy: the database answers, its schema is the revision this code
    knows, and a daemon replica on ``host`` (this host by default; any host
    with ``any_host``) sent a heartbeat at most ``max_age`` ago. A SQLite file
    that does not exist is reported, never created.
    """
    from aggregator.store import db

    url = settings.resolved_database_url()
    timeout = min(settings.database_busy_timeout, HEALTH_DATABASE_TIMEOUT)
    engine = db.create_engine_for(url, busy_timeout=timeout)
    try:
        path = db.sqlite_file(url)
        if path is not None and not path.is_file():
            return Health(
                db.describe_url(engine),
                problem=f"no database at {path} (start the daemon, `aggregator run`, which creates it; "
                "or point AGGREGATOR_DATA_DIR or AGGREGATOR_DATABASE_URL at the service's database)",
            )
        chosen = None if any_host else (host or socket.gethostname())
        return _judge(engine, now=now, max_age=max_age, host=chosen)
    finally:
        engine.dispose()


def _judge(engine: sa.Engine, *, now: datetime, max_age: timedelta, host: str | None) -> Health:
    from aggregator.errors import StorageError
    from aggregator.store import claims, db

    where = db.describe_url(engine)
    try:
        revision = db.recorded_revision(engine)
        if revision != db.HEAD_REVISION:
            return Health(where, problem=_schema_problem(where, revision), revision=revision)
        with db.storage_errors(engine), engine.connect() as s:
            daemons = claims.replicas(s, role="daemon")
    except StorageError as exc:
        return Health(where, problem=str(exc))
    mine = [r for r in daemons if host is None or r.host == host]
    if not mine:
        return Health(where, problem=_no_daemon(where, host, daemons), revision=revision)
    freshest = mine[0]  # the latest heartbeat first
    age = max(now - freshest.heartbeat_at, timedelta(0))  # another host's clock may run ahead
    problem = None
    if age > max_age:
        problem = (
            f"the daemon {freshest.host}:{freshest.pid} sent its last heartbeat {duration(age)} ago, "
            f"more than the {duration(max_age)} allowed (it is stuck or stopped: read its log and restart it)"
        )
    return Health(where, problem=problem, revision=revision, daemon=freshest, heartbeat_age=age)


def _schema_problem(where: str, revision: str | None) -> str:
    from aggregator.store.db import HEAD_REVISION

    if revision is None:
        return (
            f"the database {where} has no schema (start the daemon, `aggregator run`, "
            "or run `aggregator db upgrade`)"
        )
    # Revisions are numbered (alembic/versions/0001_...): a smaller number is an older schema.
    if revision.isdigit() and HEAD_REVISION.isdigit() and int(revision) < int(HEAD_REVISION):
        return (
            f"the database {where} has schema revision {revision}, behind this aggregator's "
            f"{HEAD_REVISION} (restart the daemon, which upgrades it, or run `aggregator db upgrade`)"
        )
    return (
        f"the database {where} has schema revision {revision}, which this aggregator does not know "
        f"(its newest is {HEAD_REVISION}): a newer version wrote it (upgrade aggregator)"
    )


def _no_daemon(where: str, host: str | None, daemons: Sequence[Replica]) -> str:
    if host is None:
        return f"no daemon has sent a heartbeat to {where} (start one: `aggregator run`)"
    elsewhere = sorted({r.host for r in daemons})
    seen = f"; daemons on {', '.join(elsewhere)} do (--any-host accepts them)" if elsewhere else ""
    return (
        f"no daemon on this host ({host}) has sent a heartbeat to {where}{seen} "
        "(start one here: `aggregator run`)"
    )


def duration(delta: timedelta) -> str:
    """A span as an operator reads it: ``45 s``, ``3 min 20 s``, ``2 h 5 min``, ``3 d 4 h``."""
    seconds = round(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
