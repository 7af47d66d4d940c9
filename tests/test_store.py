"""The schema: migrations match the tables, old schemas are upgraded, newer ones refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from aggregator.errors import SchemaError, StorageError
from aggregator.store import db
from aggregator.store.tables import metadata


def test_migrations_create_exactly_the_tables_the_code_uses(database_url: str) -> None:
    engine = db.create_engine_for(database_url)
    try:
        before, after = db.ensure_schema(engine)
        assert (before, after) == (None, db.head_revision())
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_object": _declared_for(conn)}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
        assert diff == []
        assert db.ensure_schema(engine) == (after, after)
    finally:
        engine.dispose()


def _declared_for(conn: sa.Connection) -> Callable[..., bool]:
    """What SQLAlchemy can compare on this backend.

    A table declared for other dialects only (``info["dialects"]``: the search
    index, a plain table on PostgreSQL) is left out, and so are the tables
    SQLite itself reports as virtual or as their shadow tables (FTS5's search
    index and its storage), which SQLAlchemy cannot declare.
    """
    dialect = conn.dialect.name
    native: set[str] = set()
    if dialect == "sqlite":
        native = {
            name for name, type_ in conn.exec_driver_sql("SELECT name, type FROM pragma_table_list")
            if type_ in ("virtual", "shadow")
        }  # fmt: skip

    def include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        if type_ != "table":
            return True
        if isinstance(obj, sa.Table) and dialect not in obj.info.get("dialects", (dialect,)):
            return False
        return name not in native

    return include


def test_a_schema_newer_than_the_code_is_refused_before_anything_is_written(database_url: str) -> None:
    engine = db.create_engine_for(database_url)
    try:
        db.ensure_schema(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
        with pytest.raises(SchemaError, match=r"9999_future.*newer version"):
            db.ensure_schema(engine)
        with engine.connect() as conn:
            assert (
                conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "9999_future"
            )
    finally:
        engine.dispose()


def test_datetimes_come_back_aware_utc(database_url: str) -> None:
    engine = db.create_engine_for(database_url)
    try:
        db.ensure_schema(engine)
        when = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
        feeds = metadata.tables["feeds"]
        with engine.begin() as conn:
            conn.execute(
                sa.insert(feeds).values(
                    name="x",
                    url="http://x.test/",
                    config_url="http://x.test/",
                    interval_seconds=3600,
                    created_at=when,
                    updated_at=when.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Seoul")),
                )
            )
        with engine.connect() as conn:
            row = conn.execute(sa.select(feeds.c.created_at, feeds.c.updated_at)).one()
        assert row.created_at == when and row.created_at.tzinfo is not None
        assert row.updated_at == when
    finally:
        engine.dispose()


def test_naive_datetimes_are_a_bug() -> None:
    from aggregator.store.tables import UTCDateTime

    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2024, 1, 1), sa.create_engine("sqlite://").dialect)


def test_sqlite_file_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = db.create_engine_for(f"sqlite:///{tmp_path}/a.sqlite3", busy_timeout=2.5)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert (tmp_path / "a.sqlite3").exists()
    finally:
        engine.dispose()


def test_an_unusable_database_url_says_what_to_do() -> None:
    with pytest.raises(StorageError, match="not a database URL"):
        db.create_engine_for("not a url at all")
