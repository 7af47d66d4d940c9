"""Engines and schema versions. Contains no queries about feeds or candidates.

SQLite (the default) runs in WAL mode with a busy timeout, so one daemon and
any number of CLI sessions can share the file. PostgreSQL is reached through
psycopg 3 (``postgresql+psycopg://...``). Every command calls
:func:`ensure_schema`: a schema that is behind is brought up to date; one newer
than this code is refused before anything is written.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from aggregator.errors import SchemaError, StorageError
from alembic import command

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine_for(url: str, *, echo: bool = False) -> sa.Engine:
    """An engine for ``url``, tuned for its backend.

    A ``postgresql://`` URL is taken to mean psycopg 3. For SQLite the file's
    folder is created when missing.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StorageError(
            f"AGGREGATOR_DATABASE_URL is not a database URL: {url!r} "
            "(expected e.g. sqlite:///data/aggregator.sqlite3 or postgresql+psycopg://user@host/db)"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = sa.create_engine(parsed, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs["pool_pre_ping"] = True
    try:
        return sa.create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:  # e.g. a driver that is not installed
        raise StorageError(f"cannot use {parsed.drivername}: {exc}") from exc


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, manage transactions (pysqlite's implicit
    # BEGIN defeats BEGIN IMMEDIATE below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # A writing unit of work (engine.execution_options(immediate=True)) takes
    # the write lock up front with BEGIN IMMEDIATE, so it waits up to the busy
    # timeout instead of failing half-way with "database is locked" when it
    # upgrades a read transaction. Readers stay deferred: in WAL mode they
    # never wait for a writer.
    if conn.get_execution_options().get("immediate"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def _script_location() -> str:
    spec = importlib.util.find_spec("aggregator_migrations")
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError("the migrations package (alembic/) is missing from this installation")
    return str(next(iter(spec.submodule_search_locations)))


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", _script_location())
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def describe_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def ensure_schema(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the schema up to date; refuse one newer than this code.

    Returns (revision before, revision after).
    """
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    try:
        before = current_revision(engine)
    except sa.exc.OperationalError as exc:
        raise StorageError(f"cannot open the database {describe_url(engine)}: {exc.orig}") from exc
    if before == head:
        return before, head
    if before is not None:
        try:
            script.get_revision(before)
        except Exception as exc:
            raise SchemaError(
                f"the database {describe_url(engine)} has schema revision {before!r}, which this "
                f"aggregator does not know (its newest is {head!r}): it was written by a newer "
                "version. Upgrade aggregator, or point AGGREGATOR_DATABASE_URL at another database."
            ) from exc
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except sa.exc.OperationalError as exc:
        raise StorageError(
            f"migrating {describe_url(engine)} from {before} to {head} failed: {exc.orig}"
        ) from exc
    return before, head
