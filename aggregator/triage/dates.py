"""The dates a curator types (``--until``, ``--since``, the snooze prompt), and how they are shown. Pure.

``parse_date`` reads ``YYYY-MM-DD`` (midnight UTC), an ISO date-time (UTC unless
it says), or ``3d`` / ``2w`` from a given ``now``; a value it cannot read is a
:class:`~aggregator.errors.BadValueError` naming the option, which the CLI turns
into a usage error and the screen shows under its prompt. ``when`` writes a
timestamp to the minute, as both front ends print it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from aggregator.errors import BadValueError

_RELATIVE = re.compile(r"\+?(\d+)\s*([dw])")


def parse_date(value: str, now: datetime, *, relative: Literal["ahead", "ago"], option: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC), an ISO date-time (UTC unless it says), or ``3d`` / ``2w``
    from ``now``: ahead of it (``--until``) or before it (``--since``)."""
    text = value.strip()
    words = "from now" if relative == "ahead" else "ago"
    match = _RELATIVE.fullmatch(text)
    try:
        if match:
            days = timedelta(days=int(match[1]) * (7 if match[2] == "w" else 1))
            return now + days if relative == "ahead" else now - days
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadValueError(
                f"{value!r} is not a date: write YYYY-MM-DD, an ISO date-time, or 3d / 2w ({words})", option
            ) from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # past year 9999 or before year 1, once in UTC
        raise BadValueError(
            f"{value!r} is out of range: dates run from year 1 to 9999 in UTC (write a nearer date, or "
            f"fewer days {words})",
            option,
        ) from None


def when(value: datetime | None) -> str:
    """A timestamp for a table: UTC, to the minute; '-' when unset."""
    if value is None:
        return "-"
    return value.isoformat(" ", "minutes")[:16]  # the year in four digits, as strftime's %Y is not
