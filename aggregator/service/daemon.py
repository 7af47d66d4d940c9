"""The facade's operations for the daemon (see :mod:`aggregator.service`): what ``aggregator run`` does.

The daemon front end (:mod:`aggregator.daemon`) schedules; everything it runs is
here: the poll tick, the heartbeat with its summary, the scheduled jobs with
their once-per-period claims, housekeeping, the SIGHUP reload, the request to
stop and the release of this process's claims, and the SQLite single-daemon lock.

A scheduled job runs once across replicas: its run is claimed by inserting the
row (job, period) of ``job_runs`` in a transaction of its own before the work
starts; a replica that loses the claim reports the run as skipped, naming the
replica that ran it. A run that failed, or whose replica died mid-run (its
lease ended), is claimed again by the next firing in the same period.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aggregator import __version__
from aggregator.errors import AggregatorError, StorageError
from aggregator.mail.values import MailError
from aggregator.poll_types import PollRun, SyncReport
from aggregator.service.part import Part
from aggregator.types import FeedUpdateResult

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from aggregator.configuration import EmailSchedule

#: The daemon's jobs, by the name their runs are recorded under.
WEEKLY_EMAIL, MONTHLY_DRAFT, HOUSEKEEPING = "weekly_email", "monthly_draft", "housekeeping"
#: How long a job's claim holds before another replica may take the period's run over.
JOB_LEASE = timedelta(hours=1)
#: Job runs older than this are deleted by housekeeping.
JOB_RUN_RETENTION = timedelta(days=180)


@dataclass(frozen=True, slots=True)
class JobResult:
    """How one firing of a scheduled job ended here (the weekly email, the monthly draft, housekeeping)."""

    job: str
    period: str
    outcome: Literal["ok", "failed", "skipped"]
    """``skipped``: another replica ran (or is running) this period's run, or there was nothing to do."""
    detail: str | None
    seconds: float
    ran_on: str | None = None
    """For a run skipped because it ran elsewhere: ``host:pid`` of that replica, or its instance id."""


#: What a job's work says: its outcome and a detail for the log and ``aggregator status``.
Done = tuple[Literal["ok", "skipped"], str]


class Daemon(Part):
    """The daemon's operations: each reads the clock once and owns its units of work."""

    @property
    def tick_seconds(self) -> float:
        """Seconds between poll ticks (AGGREGATOR_TICK_SECONDS)."""
        return self.app.settings.tick_seconds

    @property
    def stop_seconds(self) -> float:
        """Seconds work in flight may go on once asked to stop (AGGREGATOR_STOP_SECONDS)."""
        return self.app.settings.stop_seconds

    @property
    def me(self) -> str:
        """This process as a person reads it: ``host:pid``."""
        instance = self.app.instance
        return f"{instance.host}:{instance.pid}"

    @property
    def stopping(self) -> bool:
        """Whether the daemon has been asked to stop (no new work is to start)."""
        return self.app.stopping.stopping

    def now(self) -> datetime:
        """The service's clock (an operation of the daemon's own reads it once)."""
        return self.app.clock()

    # -- the poll tick and the heartbeat ---------------------------------------------------------

    def tick(self, on_result: Callable[[FeedUpdateResult], None] | None = None) -> PollRun | None:
        """Poll the due feeds with extraction beside it (pages left pending before included);
        None when the daemon is stopping."""
        if self.app.stopping.stopping:
            return None
        from aggregator.service.polling import Polling

        return Polling(self.app).poll(due_only=True, extract=True, on_result=on_result)

    def heartbeat(self, summary: Mapping[str, Any]) -> None:
        """Record that this daemon is alive, with its ``summary`` (plain JSON values, read by
        ``aggregator status``)."""
        from aggregator.store import claims

        now = self.app.clock()
        with self.app.write() as s:
            claims.heartbeat(s, self.app.instance, now, role="daemon", version=__version__, summary=summary)

    # -- stopping and reloading ---------------------------------------------------------------------

    def stop(self) -> None:
        """Take no more work: polls claim nothing, extraction starts no page; work in flight goes on."""
        self.app.stopping.stop()

    def cancel(self) -> None:
        """Abandon the work still in flight (its feeds keep their claims until :meth:`release`)."""
        self.app.stopping.cancel()

    def release(self) -> None:
        """Release this process's claims on feeds and forget its instance row: a clean exit says so."""
        from aggregator.store import claims

        with self.app.write() as s:
            claims.forget_instance(s, self.app.instance_id)

    def reload(self) -> SyncReport:
        """Read feeds.yaml again and use it: new feeds are polled from the next tick, removed ones are
        disabled with their candidates kept. An invalid file raises ConfigError and changes nothing."""
        from aggregator.config import load_configuration

        config = load_configuration(self.app.config_path)
        self.app.reconfigure(config)
        return self.app.sync_feeds()

    def email_schedule(self) -> EmailSchedule | None:
        """When the weekly email goes out, or None when feeds.yaml names no recipient."""
        email = self.app.config.email
        return email if email.recipients else None

    def lock(self) -> DaemonLock | None:
        """On SQLite, the lock that keeps a second daemon off the database file (not yet held);
        None on PostgreSQL, where any number of replicas share the work."""
        from aggregator.store import db

        path = db.sqlite_file(self.app.settings.resolved_database_url())
        return None if path is None else DaemonLock(path)

    # -- the scheduled jobs ---------------------------------------------------------------------

    def weekly_email(self, period: str) -> JobResult:
        """The weekly email of ``period`` (an ISO week, ``2026-W50``), once across replicas.

        Sent by the mail service (``Service.mail.weekly``), outside the claim's transaction, to each
        recipient that does not have the week yet: ok when every one has it now; failed, with each
        refusal, when one does not (the next firing in the period tries those alone).
        """
        from aggregator.service.mail import Mail

        def work(now: datetime) -> Done:
            if not self.app.config.email.recipients:
                return "skipped", "feeds.yaml names no email recipient"
            report = Mail(self.app).weekly(period)
            have = len(report.already_sent) + len(report.accepted)
            everyone = have + len(report.refused)
            if report.refused:
                refusals = "; ".join(f"{d.recipient}: {d.answer}" for d in report.refused)
                raise MailError(f"sent to {have} of {everyone}: {refusals}")
            if not report.deliveries:
                return "skipped", f"every recipient has {period} already"
            size = f"{report.candidates} candidates, {report.size:,} bytes"
            return "ok", f"sent to {have} of {everyone} ({size})"

        return self._run(WEEKLY_EMAIL, period, work)

    def draft_missing(self, month: str) -> bool:
        """Whether issue ``month`` (``YYYY-MM``) does not exist yet."""
        from aggregator.store import digests

        with self.app.read() as s:
            return digests.issue_status(s, month) is None

    def open_draft(self, month: str) -> JobResult:
        """Open issue ``month`` (``YYYY-MM``) as a draft unless it exists, once across replicas."""
        from aggregator.store import digests

        def work(s: Connection, now: datetime) -> Done:
            status = digests.issue_status(s, month)
            if status is not None:
                return "ok", f"issue {month} exists already ({status})"
            digests.open_issue(s, month, now)
            return "ok", f"opened the draft of issue {month}"

        return self._run(MONTHLY_DRAFT, month, self._in_write(work))

    def housekeeping(self, period: str) -> JobResult:
        """The daily clean-up of ``period`` (a date): expired leases, silent replicas, old job runs,
        the planner's statistics."""
        from aggregator.service.suggest import Suggestions
        from aggregator.store import claims, jobs, upkeep

        def work(s: Connection, now: datetime) -> Done:
            freed = upkeep.clear_expired_leases(s, now)
            gone = upkeep.forget_silent_instances(s, now, claims.INSTANCE_RETENTION)
            runs = jobs.forget_runs_before(s, now - JOB_RUN_RETENTION)
            statement = upkeep.refresh_statistics(s)
            forgotten = f"{gone} silent replicas and {runs} old job runs forgotten"
            grouper = f"{postings} postings past the cross-post window forgotten here"
            return "ok", f"{freed} expired leases cleared, {forgotten}, {statement}, {grouper}"

        # Every replica forgets its own old postings, outside the job's transaction (the grouper's lock).
        postings = Suggestions(self.app).forget_old()
        return self._run(HOUSEKEEPING, period, self._in_write(work))

    def _in_write(self, work: Callable[[Connection, datetime], Done]) -> Callable[[datetime], Done]:
        """``work`` in a write transaction of its own."""

        def run(now: datetime) -> Done:
            with self.app.write() as s:
                return work(s, now)

        return run

    def _run(self, job: str, period: str, work: Callable[[datetime], Done]) -> JobResult:
        """Claim ``job``'s run for ``period``, do ``work`` (in its own units of work), record how it ended.

        An error the service raises on purpose is the run's failure (recorded, and
        retried by the next firing in the period); anything else is a bug, recorded
        as a failure and raised.
        """
        from aggregator.store import jobs

        started = time.perf_counter()
        now = self.app.clock()
        me = self.app.instance_id
        with self.app.write() as s:
            claimed = jobs.claim_run(s, job=job, period=period, instance_id=me, now=now, lease=JOB_LEASE)
            holder = None if claimed else _holder(s, job, period)
        if not claimed:
            return JobResult(
                job, period, "skipped", f"ran on {holder}", time.perf_counter() - started, holder
            )
        outcome: Literal["ok", "failed", "skipped"]
        try:
            outcome, detail = work(now)
        except AggregatorError as exc:
            outcome, detail = "failed", str(exc)
        except Exception as exc:
            self._finish(job, period, ok=False, detail=f"{type(exc).__name__}: {exc}")
            raise
        # job_runs knows ok and failed: a run with nothing to do is ok, and its detail says so.
        self._finish(
            job,
            period,
            ok=outcome != "failed",
            detail=f"skipped: {detail}" if outcome == "skipped" else detail,
        )
        return JobResult(job, period, outcome, detail, time.perf_counter() - started)

    def _finish(self, job: str, period: str, *, ok: bool, detail: str) -> None:
        from aggregator.store import jobs

        now = self.app.clock()
        with self.app.write() as s:
            jobs.finish_run(
                s, job=job, period=period, instance_id=self.app.instance_id, now=now, ok=ok, detail=detail
            )


def _holder(s: Connection, job: str, period: str) -> str:
    """Who ran (or is running) ``job`` for ``period``: ``host:pid`` of its replica, else its instance id."""
    from aggregator.store import claims, jobs

    run = jobs.get_run(s, job=job, period=period)
    if run is None:
        return "another replica"
    for replica in claims.replicas(s):
        if replica.id == run.instance_id:
            return f"{replica.host}:{replica.pid}"
    return f"instance {run.instance_id}"


class DaemonLock:
    """One daemon per SQLite file: an exclusive ``flock`` on ``<database>.daemon.lock``, held for the
    daemon's life and released by the kernel if it dies, so a crash never leaves a stale lock.

    The holder writes its ``host:pid`` into the file, so a second daemon's refusal names it.
    CLI commands never take it: they run beside the daemon as ever.
    """

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".daemon.lock")
        self._fd: int | None = None

    def acquire(self, holder: str) -> None:
        """Hold the lock as ``holder`` (``host:pid``); StorageError naming the other daemon if it is held."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(
                f"cannot open the daemon lock {self.path}: {exc.strerror or exc} "
                "(check the folder's permissions)"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise StorageError(
                f"another daemon ({other}) is running on {self.database}: a SQLite database serves one "
                "daemon (stop that one first; CLI commands work beside it; several replicas need PostgreSQL)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{holder}\n".encode())
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the file drops the lock

    def __enter__(self) -> DaemonLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
