"""A digest issue's name: the month it covers, written ``YYYY-MM``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aggregator.errors import DigestError

TEMPLATES = ("summary", "unnumbered", "trend-post", "notebook")
"""The shipped templates (``aggregator/templates/digest/NAME.md.j2``), by name."""

_NAME_RE = re.compile(r"(?!0000)(\d{4})-(0[1-9]|1[0-2])")  # datetime has no year 0


def check_name(name: str) -> str:
    """``YYYY-MM`` or a DigestError that says how to write it."""
    if not _NAME_RE.fullmatch(name):
        raise DigestError(f"not a digest issue: {name!r} (write the month as YYYY-MM, e.g. 2024-03)")
    return name


def month_of(moment: datetime) -> str:
    """The issue a moment falls in (UTC): ``2024-03``."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"
