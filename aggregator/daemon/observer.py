"""What the daemon tells whoever watches it: the metrics, the log, the live summary line.

The daemon calls an :class:`Observer` after each tick and each job run; the
Prometheus metrics (``daemon/metrics.py``) and the summary line implement it.
Every argument is a plain value from :mod:`aggregator.types`.
"""

from __future__ import annotations

from typing import Protocol

from aggregator.ops_types import Gauges
from aggregator.poll_types import PollRun


class Observer(Protocol):
    def tick_finished(self, run: PollRun, seconds: float) -> None:
        """A poll tick ended: its poll (a result per feed), the extraction beside it, its wall time."""

    def job_finished(self, job: str, period: str, outcome: str, seconds: float) -> None:
        """A scheduled job's run ended: ``outcome`` is ``ok``, ``failed`` or ``skipped`` (ran elsewhere)."""

    def gauges_read(self, gauges: Gauges) -> None:
        """What the service holds now (read after each tick)."""
