"""The triage wing's words that the command line's options read: the statuses, the queue's orders and a
curator's name's length. Apart from :mod:`aggregator.triage_types` (which re-exports them) so that
``aggregator --help`` and option parsing need none of the value modules' dataclasses.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["CURATOR_CHARS", "OPEN_STATUSES", "STATUSES", "QueueSort", "Status"]

Status = Literal["new", "shortlisted", "promoted", "rejected", "snoozed"]
STATUSES: tuple[Status, ...] = ("new", "shortlisted", "promoted", "rejected", "snoozed")
#: What the queue lists when no status is asked for: what still needs a decision.
OPEN_STATUSES: tuple[Status, ...] = ("new", "shortlisted")
QueueSort = Literal["date", "feed", "score"]
#: The longest curator name kept (the decision log's column, the screen's status line).
CURATOR_CHARS = 200
