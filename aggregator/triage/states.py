"""The candidate state machine: which decision takes a candidate from which state to which.

Pure: no database, no clock. ``triage/decisions.py`` applies these rules, logs every
decision and undoes them::

    new ──shortlist──> shortlisted ──promote──> promoted ──unpromote──> shortlisted
     │  ╲                   │                      ▲
     │   ╲──promote─────────┼──────────────────────┘
     │                      └──reject──> rejected ──restore──> new
     ├──reject──> rejected
     └──snooze──> snoozed (until a date, then new again) ──restore──> new

``note`` changes no state. A refused decision says what the candidate is and
which command to run instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aggregator.triage_types import Action, Status

__all__ = ["ACTIONS", "Action", "NoChange", "Refusal", "effective_status", "plan"]

ACTIONS: tuple[Action, ...] = ("shortlist", "promote", "reject", "snooze", "restore", "unpromote", "note")

# For each action: the states it may start from, and the state it leads to.
# Starting from the target state itself is a no-op (reported, never an error),
# except where the action can change something there (promote into another
# section, snooze to another date, note).
_RULES: dict[Action, tuple[frozenset[Status], Status | None]] = {
    "shortlist": (frozenset({"new", "snoozed"}), "shortlisted"),
    "promote": (frozenset({"new", "shortlisted", "snoozed", "promoted"}), "promoted"),
    "reject": (frozenset({"new", "shortlisted", "snoozed"}), "rejected"),
    "snooze": (frozenset({"new", "shortlisted", "snoozed"}), "snoozed"),
    "restore": (frozenset({"shortlisted", "rejected", "snoozed"}), "new"),
    "unpromote": (frozenset({"promoted"}), "shortlisted"),
    "note": (frozenset({"new", "shortlisted", "promoted", "rejected", "snoozed"}), None),
}

# What to run instead, by the state that stopped a decision.
_INSTEAD: dict[Status, str] = {
    "promoted": "it is in a digest; `aggregator unpromote {id}` first",
    "rejected": "`aggregator restore {id}` first",
    "new": "it is new already",
    "shortlisted": "`aggregator restore {id}` to put it back to new",
    "snoozed": "`aggregator restore {id}` first",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a decision cannot apply to a candidate, in words a curator can act on."""

    reason: str


@dataclass(frozen=True, slots=True)
class NoChange:
    """The decision would leave the candidate as it is (already shortlisted, say)."""

    reason: str


def effective_status(status: Status, snoozed_until: datetime | None, now: datetime) -> Status:
    """A snoozed candidate whose date has come is new again, whether or not the database says so yet."""
    if status == "snoozed" and (snoozed_until is None or snoozed_until <= now):
        return "new"
    return status


def plan(action: Action, candidate_id: int, status: Status) -> Status | Refusal | NoChange:
    """The state ``action`` takes a candidate in ``status`` to, or why it does not."""
    sources, target = _RULES[action]
    if target is None:
        return status
    if status == target and action in ("shortlist", "reject", "restore"):
        return NoChange(f"already {status}")
    if status not in sources:
        advice = _INSTEAD[status].format(id=candidate_id)
        return Refusal(f"candidate {candidate_id} is {status}, so it cannot be {_past(action)}: {advice}")
    return target


def _past(action: Action) -> str:
    return {
        "shortlist": "shortlisted",
        "promote": "promoted",
        "reject": "rejected",
        "snooze": "snoozed",
        "restore": "restored",
        "unpromote": "unpromoted",
        "note": "noted",
    }[action]
