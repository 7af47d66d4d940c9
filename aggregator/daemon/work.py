"""What the daemon's scheduler runs: the poll tick, the heartbeat, the cron jobs, the reload.

Each runs through :meth:`Work._turn`: nothing starts once the daemon is
stopping; an error the service raises on purpose is one log line and the daemon
goes on; anything else is logged with its traceback (a bug) and the daemon goes
on. Each turn counts as work in flight while it runs, and says when it ends
(``idle`` in the daemon's inbox), so a stopping daemon knows when all is done.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aggregator.daemon.logs import event, log
from aggregator.daemon.schedule import CronJob, last_fire, month_of, owed
from aggregator.errors import AggregatorError, ConfigError
from aggregator.ops_types import Gauges
from aggregator.service.daemon import HOUSEKEEPING, MONTHLY_DRAFT, WEEKLY_EMAIL, JobResult
from aggregator.types import FeedUpdateResult

if TYPE_CHECKING:
    from aggregator.daemon.observer import Observer
    from aggregator.service import Service


class Work:
    """The daemon's work, over the service facade; told of its cron jobs and their next runs by the runner."""

    def __init__(self, service: Service, observers: list[Observer], inbox: queue.SimpleQueue[str]) -> None:
        self.service = service
        self.observers = observers
        self.inbox = inbox
        self.crons: list[CronJob] = []
        self.next_runs: Callable[[], dict[str, str]] = dict
        self.last_tick: dict[str, Any] | None = None
        self.gauges: Gauges | None = None
        self._busy = 0
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """Whether a turn is running."""
        with self._lock:
            return self._busy > 0

    def _turn(self, what: str, body: Callable[[], None]) -> None:
        with self._lock:
            self._busy += 1
        try:
            if not self.service.daemon.stopping:
                body()
        except AggregatorError as exc:
            event(logging.ERROR, what, "%s failed: %s", what, exc, outcome="failed", error=str(exc))
        except Exception:
            log.exception("%s failed on a bug (please report it); the daemon goes on", what)
        finally:
            with self._lock:
                self._busy -= 1
            self.inbox.put("idle")

    # -- the poll tick and the heartbeat -------------------------------------------------------

    def tick(self) -> None:
        """Poll the due feeds, extraction beside it; then read the gauges."""
        self._turn("tick", self._tick)

    def _tick(self) -> None:
        started = time.perf_counter()
        run = self.service.daemon.tick(on_result=_feed_polled)
        if run is None:
            return
        seconds = time.perf_counter() - started
        report, extracted = run.report, run.extracted
        self.last_tick = {
            "finished_at": self.service.daemon.now().isoformat(),
            "polled": len(report.results),
            "new": report.new,
            "failed": len(report.failed),
            "extracted": len(extracted.articles) if extracted is not None else 0,
            "seconds": round(seconds, 3),
        }
        self._tell("tick_finished", run, seconds)
        self.gauges = self.service.ops.gauges()
        self._tell("gauges_read", self.gauges)

    def heartbeat(self) -> None:
        """Tell the database this replica is alive, with its summary for ``aggregator status``."""
        self._turn("heartbeat", lambda: self.service.daemon.heartbeat(self.summary()))

    def summary(self) -> dict[str, Any]:
        """The last tick's counts, the gauges, and each scheduled job's next run (ISO 8601)."""
        gauges = self.gauges
        return {
            "tick": self.last_tick,
            "gauges": None
            if gauges is None
            else {
                "feeds_by_health": dict(gauges.feeds_by_health),
                "due": gauges.due,
                "pending_extractions": gauges.pending_extractions,
                "failing": gauges.failing,
            },
            "next_runs": self.next_runs(),
        }

    # -- the cron jobs ---------------------------------------------------------------------------

    def cron(self, job: CronJob) -> None:
        """A firing of ``job``: its period is that of its latest firing time, however late this runs."""

        def fire() -> None:
            fired = last_fire(job, self.service.daemon.now())
            if fired is not None:
                self.run_job(job.name, job.period(fired))

        self._turn(job.name, fire)

    def catch_up(self) -> None:
        """At start: this month's draft if it is missing, and each cron job's latest period not yet run."""

        def owed_runs() -> None:
            daemon = self.service.daemon
            now = daemon.now()
            ran = set()
            month = month_of(now)
            if daemon.draft_missing(month):
                self.run_job(MONTHLY_DRAFT, month)
                ran.add((MONTHLY_DRAFT, month))
            for job, period in owed(self.crons, now):
                if (job.name, period) not in ran:
                    self.run_job(job.name, period)

        self._turn("catch-up", owed_runs)

    def run_job(self, name: str, period: str) -> JobResult:
        """Run job ``name`` for ``period`` (once across replicas), log it and tell the observers."""
        daemon = self.service.daemon
        runs: dict[str, Callable[[str], JobResult]] = {
            WEEKLY_EMAIL: daemon.weekly_email,
            MONTHLY_DRAFT: daemon.open_draft,
            HOUSEKEEPING: daemon.housekeeping,
        }
        result = runs[name](period)
        self._report(result)
        return result

    def _report(self, result: JobResult) -> None:
        level = logging.WARNING if result.outcome == "failed" else logging.INFO
        event(
            level, "job", "job %s %s: %s (%s) in %.2f s", result.job, result.period, result.outcome,
            result.detail or "", result.seconds,
            job=result.job, period=result.period, outcome=result.outcome, detail=result.detail,
            seconds=round(result.seconds, 3), ran_on=result.ran_on,
        )  # fmt: skip
        self._tell("job_finished", result.job, result.period, result.outcome, result.seconds)

    # -- reloading feeds.yaml -------------------------------------------------------------------

    def reload(self, after: Callable[[], None]) -> None:
        """Read feeds.yaml again (SIGHUP); then ``after`` (the runner reschedules). An invalid file is
        logged a line per problem, and the configuration in use stays."""

        def reread() -> None:
            try:
                report = self.service.daemon.reload()
            except ConfigError as exc:
                for problem in exc.problems or [str(exc)]:
                    event(logging.ERROR, "reload", "%s", problem, outcome="failed")
                event(logging.ERROR, "reload", "feeds.yaml not reloaded: the configuration in use stays",
                      outcome="failed")  # fmt: skip
                return
            event(
                logging.INFO, "reload", "reloaded feeds.yaml: %d feeds added, %d changed, %d removed "
                "(disabled, their candidates kept)",
                len(report.added), len(report.changed), len(report.removed), outcome="ok",
                added=list(report.added), changed=list(report.changed), removed=list(report.removed),
            )  # fmt: skip
            after()

        self._turn("reload", reread)

    def _tell(self, method: str, *args: Any) -> None:
        """Call ``method`` on every observer; one that fails is logged and the others still hear."""
        for observer in self.observers:
            try:
                getattr(observer, method)(*args)
            except Exception:
                log.exception("the observer %s failed in %s", type(observer).__name__, method)


def _feed_polled(result: FeedUpdateResult) -> None:
    """A feed's poll as one log line, as soon as it is stored."""
    failed = result.outcome in ("error", "gone")
    error = (result.error or "").removeprefix(f"{result.url}: ")
    event(
        logging.WARNING if failed else logging.INFO, "poll", "%s: %s (%d new, %d updated) in %.2f s%s",
        result.feed_name, result.outcome, result.new, result.updated, result.elapsed,
        f": {error}" if error else "",
        feed=result.feed_name, outcome=result.outcome, new=result.new, updated=result.updated,
        seconds=round(result.elapsed, 3), error=result.error,
    )  # fmt: skip
