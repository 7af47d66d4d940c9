"""When the daemon's scheduled jobs fire, and which period each firing belongs to.

Pure but for APScheduler's triggers: a job's cron (:class:`CronJob`), the period
key of a firing (the weekly email's ISO week in its own time zone, the month a
draft is opened for, the housekeeping day), and the last firing at or before a
moment (:func:`last_fire`), which names the period a run belongs to however late
it starts, and which runs a daemon starting late still owes (:func:`owed`).

    weekly_email    feeds.yaml's ``email`` weekday and time, in its time zone   period 2026-W50
    monthly_draft   the last day of each month, 12:00 UTC: next month's draft  period 2026-01
    housekeeping    every day at 03:30 UTC                                      period 2026-01-05
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from aggregator.digest.names import month_of as month_of
from aggregator.mail.week import iso_week
from aggregator.service.daemon import HOUSEKEEPING, MONTHLY_DRAFT, WEEKLY_EMAIL

if TYPE_CHECKING:
    from aggregator.configuration import EmailSchedule

#: The poll tick's and the heartbeat's job ids (the cron jobs' ids are their names).
TICK, HEARTBEAT = "tick", "heartbeat"
#: Seconds between heartbeats: well inside a lease, so a long poll never looks like a dead replica.
HEARTBEAT_SECONDS = 15.0


@dataclass(frozen=True)
class CronJob:
    """A job that fires on a calendar: its name, its trigger, the period of a firing."""

    name: str
    trigger: CronTrigger
    period: Callable[[datetime], str]
    """The period key of a firing at the given moment."""
    lookback: timedelta
    """Longer than the gap between two firings: how far back :func:`last_fire` looks."""


def weekly_email(schedule: EmailSchedule) -> CronJob:
    """The weekly email's cron: its weekday and HH:MM in its time zone; the period is that zone's ISO week."""
    zone = ZoneInfo(schedule.timezone)
    hour, minute = (int(part) for part in schedule.time.split(":"))
    trigger = CronTrigger(day_of_week=schedule.weekday, hour=hour, minute=minute, timezone=zone)
    return CronJob(WEEKLY_EMAIL, trigger, lambda moment: iso_week(moment, zone), timedelta(days=8))


def monthly_draft() -> CronJob:
    """Next month's digest draft, opened on the last day of each month at noon UTC."""
    trigger = CronTrigger(day="last", hour=12, minute=0, timezone=UTC)
    return CronJob(MONTHLY_DRAFT, trigger, next_month, timedelta(days=32))


def housekeeping() -> CronJob:
    """The daily clean-up, at 03:30 UTC."""
    trigger = CronTrigger(hour=3, minute=30, timezone=UTC)
    return CronJob(
        HOUSEKEEPING, trigger, lambda moment: moment.astimezone(UTC).date().isoformat(), timedelta(days=2)
    )


def cron_jobs(email: EmailSchedule | None) -> list[CronJob]:
    """The daemon's cron jobs: the weekly email when it has recipients, the monthly draft, housekeeping."""
    jobs = [monthly_draft(), housekeeping()]
    return [weekly_email(email), *jobs] if email is not None else jobs


def next_month(moment: datetime) -> str:
    """The month after the one ``moment`` falls in (UTC): ``2026-02`` for any moment of January 2026."""
    utc = moment.astimezone(UTC)
    return f"{utc.year + utc.month // 12:04d}-{utc.month % 12 + 1:02d}"


def last_fire(job: CronJob, now: datetime) -> datetime | None:
    """The latest firing of ``job`` at or before ``now`` (None if none within its lookback)."""
    found = None
    moment = job.trigger.get_next_fire_time(None, now - job.lookback)
    while moment is not None and moment <= now:
        found = moment
        moment = job.trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
    return found


def owed(jobs: list[CronJob], now: datetime) -> list[tuple[CronJob, str]]:
    """Each job's latest period whose firing time has come, as a starting daemon (or ``--once``) runs
    them: a run already recorded for the period is skipped by its claim, so this owes nothing twice."""
    due = []
    for job in jobs:
        fired = last_fire(job, now)
        if fired is not None:
            due.append((job, job.period(fired)))
    return due
