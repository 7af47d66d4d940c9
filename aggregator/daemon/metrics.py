"""The daemon's Prometheus metrics (``aggregator run --metrics-port N``), the way Miniflux serves its own.

:class:`Metrics` is an :class:`~aggregator.daemon.observer.Observer`: the
daemon tells it about each tick, each job run and the gauges it read, and it
keeps them in a registry of its own (never prometheus_client's global one, so
two daemons in one test process never share a counter). :meth:`Metrics.serve`
exposes them over HTTP on 127.0.0.1 only: whoever scrapes from elsewhere puts
a proxy or a sidecar in front, as they choose.

Exposed (all prefixed ``aggregator_``)::

    build_info{version,python}                 1
    feeds{state}                               feeds by health word (ok, failing, gone, ...)
    feeds_due                                  feeds whose poll time has come, held by nobody
    polls_total{result}                        feed polls: new, updated, unchanged, not_modified, error, gone
    poll_duration_seconds{result}              a feed's fetch, parse and decision, by result
    entries_stored_total{kind}                 entries stored: new, updated
    extraction_queue_depth                     candidates whose page is due
    extractions_total{status}                  pages extracted: ok, too_short, challenge, ..., error
    ticks_total, tick_duration_seconds         the daemon's poll ticks
    job_runs_total{job,outcome}                scheduled jobs: ok, failed, skipped (ran elsewhere)
    job_duration_seconds{job}
"""

from __future__ import annotations

import platform
import threading
from typing import TYPE_CHECKING, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, start_http_server

from aggregator import __version__
from aggregator.article_types import ExtractStatus
from aggregator.errors import ConfigError
from aggregator.ops_types import Gauges
from aggregator.poll_types import PollRun
from aggregator.types import Outcome

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

__all__ = ["Metrics"]

#: A feed's poll: most answer in well under a second; the deadline caps the slow ones.
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: A tick or a job: a quiet tick takes milliseconds, a first poll of hundreds of feeds minutes.
RUN_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
JOB_OUTCOMES = ("ok", "failed", "skipped")


class Metrics:
    """The daemon's metrics in a registry of their own; an Observer of its ticks and jobs."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        Info("aggregator_build", "The aggregator serving these metrics.", registry=r).info(
            {"version": __version__, "python": platform.python_version()}
        )
        self.feeds = Gauge("aggregator_feeds", "Feeds by state.", ["state"], registry=r)
        self.feeds_due = Gauge("aggregator_feeds_due", "Feeds due for a poll, held by nobody.", registry=r)
        self.polls = Counter("aggregator_polls", "Feed polls by result.", ["result"], registry=r)
        self.poll_seconds = Histogram(
            "aggregator_poll_duration_seconds", "A feed's poll by result.", ["result"],
            buckets=POLL_BUCKETS, registry=r,
        )  # fmt: skip
        self.entries = Counter("aggregator_entries_stored", "Entries stored.", ["kind"], registry=r)
        self.queue_depth = Gauge(
            "aggregator_extraction_queue_depth", "Candidates whose page is due for extraction.", registry=r
        )
        self.extractions = Counter(
            "aggregator_extractions", "Pages extracted by status.", ["status"], registry=r
        )
        self.ticks = Counter("aggregator_ticks", "Poll ticks run.", registry=r)
        self.tick_seconds = Histogram(
            "aggregator_tick_duration_seconds", "A poll tick's wall time.", buckets=RUN_BUCKETS, registry=r
        )
        self.jobs = Counter("aggregator_job_runs", "Scheduled job runs.", ["job", "outcome"], registry=r)
        self.job_seconds = Histogram(
            "aggregator_job_duration_seconds", "A scheduled job run's wall time.", ["job"],
            buckets=RUN_BUCKETS, registry=r,
        )  # fmt: skip
        # Every known label value from the start: a rate over a series born late misses its first step.
        for result in get_args(Outcome):
            self.polls.labels(result)
            self.poll_seconds.labels(result)
        for kind in ("new", "updated"):
            self.entries.labels(kind)
        for status in get_args(ExtractStatus):
            self.extractions.labels(status)
        self._states: set[str] = set()
        self._lock = threading.Lock()
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- the Observer ---------------------------------------------------------------------------

    def tick_finished(self, run: PollRun, seconds: float) -> None:
        self.ticks.inc()
        self.tick_seconds.observe(seconds)
        for result in run.report.results:
            self.polls.labels(result.outcome).inc()
            self.poll_seconds.labels(result.outcome).observe(result.elapsed)
            self.entries.labels("new").inc(result.new)
            self.entries.labels("updated").inc(result.updated)
        if run.extracted is not None:
            for status, count in run.extracted.counts().items():
                self.extractions.labels(status).inc(count)

    def job_finished(self, job: str, period: str, outcome: str, seconds: float) -> None:
        self.jobs.labels(job, outcome).inc()
        if outcome != "skipped":  # a run elsewhere took no time here
            self.job_seconds.labels(job).observe(seconds)

    def gauges_read(self, gauges: Gauges) -> None:
        with self._lock:  # a state that went away reads 0, not its last count
            self._states |= set(gauges.feeds_by_health)
            for state in self._states:
                self.feeds.labels(state).set(gauges.feeds_by_health.get(state, 0))
        self.feeds_due.set(gauges.due)
        self.queue_depth.set(gauges.pending_extractions)

    # -- serving --------------------------------------------------------------------------------

    def serve(self, port: int) -> int:
        """Serve ``/metrics`` on 127.0.0.1:``port`` in a thread (0: a free port); the port it listens on."""
        if self._server is not None:
            raise RuntimeError("the metrics are served already")
        try:
            self._server, self._thread = start_http_server(port, addr="127.0.0.1", registry=self.registry)
        except OSError as exc:
            raise ConfigError(
                "--metrics-port",
                [
                    f"--metrics-port: cannot serve metrics on 127.0.0.1:{port}: {exc.strerror or exc} "
                    "(choose a free port, or 0 for any)"
                ],
            ) from exc
        return int(self._server.server_port)

    def close(self) -> None:
        """Stop serving (and wait for the server's thread); nothing when not serving."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()
