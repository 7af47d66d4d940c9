"""Who watches the daemon: the one place its observers are built (see :mod:`aggregator.daemon.observer`).

The log's tick lines and the terminal's live summary line are built here; the
Prometheus metrics (``aggregator.daemon.metrics.Metrics``, the operators' side of
issue 14) join them when ``--metrics-port`` is given.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack

from aggregator.daemon.logs import LiveLine, event
from aggregator.daemon.observer import Observer
from aggregator.ops_types import Gauges
from aggregator.poll_types import PollRun


def build_observers(
    metrics_port: int | None, log: logging.Logger, terminal: LiveLine | None, stack: ExitStack
) -> list[Observer]:
    """The log's observer, the live summary line on a terminal, and the Prometheus metrics served on
    127.0.0.1:``metrics_port`` (stopped when ``stack`` closes)."""
    observers: list[Observer] = []
    if metrics_port is not None:
        from aggregator.daemon.metrics import Metrics

        metrics = Metrics()
        port = metrics.serve(metrics_port)
        stack.callback(metrics.close)
        event(logging.INFO, "metrics", "metrics on http://127.0.0.1:%d/metrics", port, port=port)
        observers.append(metrics)  # first: once a tick's log line is out, the metrics count that tick
    observers.append(LogObserver(log))
    if terminal is not None:
        observers.append(SummaryLine(terminal))
    return observers


class LogObserver:
    """A log line per tick (per feed and per job, the daemon logs itself, with their details)."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log

    def tick_finished(self, run: PollRun, seconds: float) -> None:
        report, extracted = run.report, run.extracted
        pages = len(extracted.articles) if extracted is not None else 0
        quiet = not report.results and not pages  # nothing was due: heard only with -vv
        event(
            logging.DEBUG if quiet else logging.INFO, "tick",
            "tick: %d feeds polled, %d new, %d failed; %d pages extracted (%.1f s)",
            len(report.results), report.new, len(report.failed), pages, seconds,
            polled=len(report.results), new=report.new, failed=len(report.failed), extracted=pages,
            seconds=round(seconds, 3), outcome="ok",
        )  # fmt: skip

    def job_finished(self, job: str, period: str, outcome: str, seconds: float) -> None:
        pass

    def gauges_read(self, gauges: Gauges) -> None:
        self.log.debug("gauges: %s", gauges)


class SummaryLine:
    """The terminal's live line: feeds polled and new entries since start, feeds failing, pages queued."""

    def __init__(self, line: LiveLine) -> None:
        self.line = line
        self.polled = self.new = self.ticks = 0
        self.failing: int | None = None
        self.queue: int | None = None

    def tick_finished(self, run: PollRun, seconds: float) -> None:
        self.ticks += 1
        self.polled += len(run.report.results)
        self.new += run.report.new
        self._draw()

    def job_finished(self, job: str, period: str, outcome: str, seconds: float) -> None:
        pass

    def gauges_read(self, gauges: Gauges) -> None:
        self.failing, self.queue = gauges.failing, gauges.pending_extractions
        self._draw()

    def _draw(self) -> None:
        failing = "?" if self.failing is None else str(self.failing)
        queue = "?" if self.queue is None else str(self.queue)
        self.line.show(
            f"[{self.ticks} ticks] polled {self.polled} · new {self.new} · failing {failing} · "
            f"extraction queue {queue}"
        )
