"""``aggregator run``: the daemon's life, from the lock to the last released claim.

    lock (SQLite) ─> sync feeds.yaml ─> heartbeat ─> APScheduler in the background:
        work thread: tick (every AGGREGATOR_TICK_SECONDS), cron jobs, catch-up, reload
        pulse thread: heartbeat (every 15 s, so a long poll never looks like a dead replica)
    main thread: waits on its inbox for signals ─> SIGHUP: reload; SIGTERM/SIGINT: stop

Signal handlers only put the signal's name in a ``SimpleQueue`` (whose ``put``
is safe in a signal handler); the main thread acts on it. Stopping: no new work
is taken (polls claim nothing, extraction starts no page), work in flight has
AGGREGATOR_STOP_SECONDS to finish, then it is cancelled; this process's claims
are released and the daemon exits 0. A second signal while stopping cancels at
once and exits (130) as soon as the claims are released.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from aggregator.daemon.logs import LiveLine, LogFormat, event, log, setup_logging
from aggregator.daemon.observers import build_observers
from aggregator.daemon.schedule import HEARTBEAT, HEARTBEAT_SECONDS, TICK, cron_jobs
from aggregator.daemon.work import Work
from aggregator.errors import AggregatorError

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from aggregator.daemon.observer import Observer
    from aggregator.service import Service

#: Seconds cancelled work may take to wind down before the daemon exits without it.
CANCEL_GRACE = 10.0
_STOP_SIGNALS = ("SIGTERM", "SIGINT")

Ended = Literal["idle", "deadline", "forced"]


def start(
    service: Service, *, once: bool, log_format: LogFormat, verbose: int, metrics_port: int | None
) -> int:
    """Run the daemon over ``service`` until a signal stops it (``once``: for one tick); the exit code."""
    live = setup_logging(log_format, verbose)
    daemon = service.daemon
    lock = daemon.lock()
    with contextlib.ExitStack() as stack:
        if lock is not None:
            stack.enter_context(lock)
            lock.acquire(daemon.me)
        observers = build_observers(metrics_port, log, live, stack)
        report = service.feeds.sync()
        event(
            logging.INFO, "start", "aggregator run%s on %s: %d feeds (%d added, %d removed), tick %g s",
            " --once" if once else "", daemon.me, len(service.app.config.feeds), len(report.added),
            len(report.removed), daemon.tick_seconds, once=once,
        )  # fmt: skip
        return Runner(service, observers, live).run(once=once)


class Runner:
    """The daemon's main thread: the scheduler started, signals answered, the stop carried out."""

    def __init__(self, service: Service, observers: list[Observer], live: LiveLine | None = None) -> None:
        self.service = service
        self.live = live
        self.inbox: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.work = Work(service, observers, self.inbox)
        self.work.crons = cron_jobs(service.daemon.email_schedule())
        self.scheduler: BackgroundScheduler | None = None

    def run(self, *, once: bool) -> int:
        with _signals(self.inbox):
            self.service.daemon.heartbeat(self.work.summary())  # the database works, and knows this replica
            if once:
                threading.Thread(target=self._once, name="once", daemon=True).start()
            else:
                self._start_scheduler()
            why = self._serve(once=once)
            return self._stop(why)

    def _once(self) -> None:
        self.work.tick()
        self.work.catch_up()
        self.inbox.put("done")

    def _serve(self, *, once: bool) -> str:
        """Answer the inbox until a stop signal (its name) or, with ``once``, the work's end (``done``)."""
        while True:
            message = self.inbox.get()
            if message in _STOP_SIGNALS or message == "done":
                return message
            if message == "SIGHUP":
                if once or self.scheduler is None:
                    event(
                        logging.INFO,
                        "reload",
                        "SIGHUP ignored: `aggregator run --once` reads feeds.yaml once",
                    )
                else:
                    event(logging.INFO, "reload", "SIGHUP: reading feeds.yaml again")
                    self.scheduler.add_job(
                        self.work.reload, args=[self._rescheduled], id="reload", replace_existing=True
                    )

    def _start_scheduler(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        # One work thread: ticks, jobs and reloads never overlap, and the pools' worker
        # processes (tied to the thread that starts them) live as long as it does.
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1), "pulse": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=UTC,
        )
        now = datetime.now(UTC)
        tick = IntervalTrigger(seconds=self.service.daemon.tick_seconds, timezone=UTC)
        scheduler.add_job(self.work.tick, tick, id=TICK, next_run_time=now)
        pulse = IntervalTrigger(seconds=HEARTBEAT_SECONDS, timezone=UTC)
        scheduler.add_job(self.work.heartbeat, pulse, id=HEARTBEAT, executor="pulse", next_run_time=now)
        scheduler.add_job(self.work.catch_up, id="catch_up", next_run_time=now)
        self.scheduler = scheduler
        self._schedule_crons()
        self.work.next_runs = self._next_runs
        scheduler.start()

    def _schedule_crons(self) -> None:
        scheduler = self.scheduler
        assert scheduler is not None
        crons = self.work.crons
        for cron in crons:
            scheduler.add_job(self.work.cron, cron.trigger, args=[cron], id=cron.name, replace_existing=True)
        for job in scheduler.get_jobs():
            if job.id not in {TICK, HEARTBEAT, "catch_up", "reload"} | {cron.name for cron in crons}:
                scheduler.remove_job(job.id)  # the weekly email, when feeds.yaml no longer has recipients

    def _rescheduled(self) -> None:
        """After a reload: the cron jobs as feeds.yaml now says, and a tick now for the new feeds."""
        self.work.crons = cron_jobs(self.service.daemon.email_schedule())
        self._schedule_crons()
        if self.scheduler is not None:
            self.scheduler.modify_job(TICK, next_run_time=datetime.now(UTC))

    def _next_runs(self) -> dict[str, str]:
        scheduler = self.scheduler
        if scheduler is None:
            return {}
        return {
            job.id: job.next_run_time.isoformat()
            for job in scheduler.get_jobs()
            if job.next_run_time is not None and job.id not in ("catch_up", "reload")
        }

    def _stop(self, why: str) -> int:
        """Stop taking work, give work in flight its deadline, cancel the rest, release the claims."""
        daemon = self.service.daemon
        if why != "done":
            event(
                logging.INFO, "stop", "%s: stopping; work in flight has %g s (a second %s stops at once)",
                why, daemon.stop_seconds, why, signal=why,
            )  # fmt: skip
        daemon.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        ended = self._wait_idle(daemon.stop_seconds)
        cancelled = ended != "idle"
        if cancelled:
            reason = (
                "a second signal" if ended == "forced" else f"the {daemon.stop_seconds:g} s deadline passed"
            )
            event(logging.WARNING, "stop", "%s: cancelling the work in flight", reason, outcome="cancelled")
            daemon.cancel()
            if ended == "deadline" and self._wait_idle(CANCEL_GRACE) == "idle":
                ended = "idle"
        try:
            daemon.release()
            released = "its claims released"
        except AggregatorError as exc:
            released = f"its claims not released ({exc}); they expire with their leases"
        event(logging.INFO, "stop", "stopped, %s", released, outcome="cancelled" if cancelled else "ok")
        if self.live is not None:
            self.live.clear()
        if ended != "idle":  # work that would not end: leave without it
            logging.shutdown()
            os._exit(130 if ended == "forced" else 0)
        return 0

    def _wait_idle(self, seconds: float) -> Ended:
        """Until no work runs (``idle``), ``seconds`` pass (``deadline``) or a signal comes (``forced``)."""
        deadline = time.monotonic() + seconds
        while self.work.busy:
            left = deadline - time.monotonic()
            if left <= 0:
                return "deadline"
            try:
                message = self.inbox.get(timeout=left)
            except queue.Empty:
                return "deadline"
            if message in _STOP_SIGNALS:
                return "forced"
        return "idle"


@contextlib.contextmanager
def _signals(inbox: queue.SimpleQueue[str]) -> Iterator[None]:
    """SIGTERM, SIGINT and SIGHUP put their names in ``inbox`` while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(number: int, frame: object) -> None:
        inbox.put(signal.Signals(number).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
