"""The constants the fast front door relies on (the import contracts run as `lint-imports`)."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from aggregator.store import db


def test_the_head_revision_constant_is_the_migrations_head() -> None:
    """ensure_schema skips Alembic when the database is at HEAD_REVISION: it must be the scripts' head."""
    script = ScriptDirectory.from_config(db.alembic_config())
    assert script.get_heads() == [db.HEAD_REVISION]
    assert db.head_revision() == db.HEAD_REVISION
