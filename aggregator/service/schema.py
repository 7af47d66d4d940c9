"""The database schema for ``aggregator db``: bring it up to date, or say which revision it is at.

Module functions, not a :class:`~aggregator.service.Service` group: these run
before there is an App (a schema newer than this code must be reported, not
refused as ``make_app`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aggregator.config.settings import Settings

__all__ = ["SchemaState", "schema_state", "upgrade_schema"]


@dataclass(frozen=True, slots=True)
class SchemaState:
    where: str
    """The database, its password hidden."""
    before: str | None
    """The revision found (None: an empty database)."""
    after: str
    """The revision after an upgrade; for :func:`schema_state`, the newest this code knows."""


def upgrade_schema(settings: Settings) -> SchemaState:
    """Bring the schema up to date; a SchemaError for one newer than this code."""
    from aggregator.app import open_engine  # SQLAlchemy: only for the db commands
    from aggregator.store import db

    engine = open_engine(settings)
    try:
        before, after = db.ensure_schema(engine)
        return SchemaState(db.describe_url(engine), before, after)
    finally:
        engine.dispose()


def schema_state(settings: Settings) -> SchemaState:
    """The database's revision and the newest this code knows, changing nothing."""
    from aggregator.app import open_engine
    from aggregator.store import db

    engine = open_engine(settings)
    try:
        return SchemaState(db.describe_url(engine), db.current_revision(engine), db.head_revision())
    finally:
        engine.dispose()
