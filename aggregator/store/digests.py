"""Digest issues: opening a month's draft, and the rule that a published issue is frozen."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aggregator.errors import DigestError
from aggregator.store.tables import digests

_NAME_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def check_name(name: str) -> str:
    """``YYYY-MM`` or a DigestError that says how to write it."""
    if not _NAME_RE.fullmatch(name):
        raise DigestError(f"not a digest issue: {name!r} (write the month as YYYY-MM, e.g. 2024-03)")
    return name


def month_of(moment: datetime) -> str:
    """The issue a moment falls in (UTC): ``2024-03``."""
    return f"{moment.year:04d}-{moment.month:02d}"


def open_issue(s: Session, name: str, now: datetime, *, force: bool = False) -> int:
    """The id of issue ``name`` to change, opened as a draft when it does not exist yet.

    A published issue is frozen: changing it needs ``force``.
    """
    check_name(name)
    row = s.execute(sa.select(digests.c.id, digests.c.status).where(digests.c.name == name)).first()
    if row is None:
        created = s.execute(
            sa.insert(digests).values(name=name, status="draft", created_at=now).returning(digests.c.id)
        )
        return int(created.scalar_one())
    if row.status == "published" and not force:
        raise DigestError(
            f"digest {name} is published and frozen; add --force to change it anyway "
            "(or `aggregator digest render` to see it as published)"
        )
    return int(row.id)
