"""Engines, schema versions and database errors in words. Contains no queries about feeds or candidates.

SQLite (the default) runs in WAL mode with a busy timeout, so one daemon and
any number of CLI sessions can share the file. PostgreSQL is reached through
psycopg 3 (``postgresql+psycopg://...``) with the same timeout on lock waits
and on connecting. Every command calls :func:`ensure_schema`: a schema that is
behind is brought up to date, one process at a time (a PostgreSQL advisory
lock, SQLite's write lock); one newer than this code is refused before
anything is written. A schema that is current (nearly always) is seen with one
query, without importing Alembic: :data:`HEAD_REVISION` names the newest
migration (a test keeps it equal to the scripts' head).

:func:`storage_errors` turns the driver's errors that mean "busy", "down",
"read-only" or "not a database" into one :class:`~aggregator.errors.StorageError`
that names the database (password hidden) and says what to do; errors that
look like bugs (integrity, programming) pass through untouched.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from aggregator.errors import SchemaError, StorageError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

#: The newest migration in alembic/versions: a schema at this revision needs no
#: Alembic at all. Raise it with each new migration (tests/test_contracts.py checks).
HEAD_REVISION = "0007"

#: Seconds a unit of work waits for a lock another process holds (SQLite's
#: write lock, a PostgreSQL row or advisory lock) before it fails as busy.
DEFAULT_BUSY_TIMEOUT = 30.0
#: The PostgreSQL advisory lock held while the schema is checked and upgraded
#: (the bytes of "aggregat"; any fixed 64-bit key no other program uses).
SCHEMA_LOCK_KEY = 0x6167677265676174
_BUSY_TIMEOUT_OPTION = "aggregator_busy_timeout"


#: The password of a URL SQLAlchemy cannot read, hidden in the message that says so.
_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")


def parse_url(url: str) -> URL:
    """``url`` as SQLAlchemy reads it; a ``postgresql://`` URL is taken to mean psycopg 3."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        shown = _PASSWORD.sub(r"\1***@", url)
        raise StorageError(
            f"AGGREGATOR_DATABASE_URL is not a database URL: {shown!r} "
            "(expected e.g. sqlite:///data/aggregator.sqlite3 or postgresql+psycopg://user@host/db)"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (plain path or ``file:`` URI); None for memory and other backends."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database.startswith("file:"):  # sqlite:///file:/path?mode=ro&uri=true
        if parsed.query.get("mode") == "memory":
            return None
        database = unquote(database.removeprefix("file:").split("?", 1)[0])
        if database.startswith("//"):  # file://localhost/path or file:///path
            database = "/" + database[2:].partition("/")[2]
    if not database or database == ":memory:":
        return None
    return Path(database).expanduser()


def create_engine_for(
    url: str, *, echo: bool = False, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> sa.Engine:
    """An engine for ``url``, tuned for its backend; lock waits give up after ``busy_timeout`` seconds.

    Creates no file or folder of its own: a SQLite file is created by SQLite on
    first connect, in a folder that must exist (see ``app.open_engine``).
    """
    parsed = parse_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": busy_timeout}
        engine = _create_engine(parsed, kwargs)
        sa.event.listen(engine, "connect", _sqlite_on_connect(busy_timeout))
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine.execution_options(**{_BUSY_TIMEOUT_OPTION: busy_timeout})
    kwargs["pool_pre_ping"] = True
    if parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = _postgres_connect_args(parsed, busy_timeout)
    engine = _create_engine(parsed, kwargs)
    return engine.execution_options(**{_BUSY_TIMEOUT_OPTION: busy_timeout})


def _create_engine(parsed: URL, kwargs: dict[str, Any]) -> sa.Engine:
    shown = parsed.render_as_string(hide_password=True)
    try:
        return sa.create_engine(parsed, **kwargs)
    except sa.exc.NoSuchModuleError as exc:  # a kind of database SQLAlchemy does not know
        raise StorageError(
            f"AGGREGATOR_DATABASE_URL names a database aggregator cannot use: {shown} ({exc}; use "
            "sqlite:///path/to/aggregator.sqlite3 or postgresql+psycopg://user@host/db)"
        ) from exc
    except ModuleNotFoundError as exc:  # e.g. a driver that is not installed
        raise StorageError(f"cannot use {parsed.drivername}: {exc}") from exc
    except (sa.exc.ArgumentError, TypeError, ValueError) as exc:  # e.g. an option the driver refuses
        raise StorageError(
            f"AGGREGATOR_DATABASE_URL {shown} cannot be used: {exc} (fix the URL or its options)"
        ) from exc


def busy_timeout(engine: sa.Engine) -> float:
    """The busy timeout ``engine`` was made with."""
    return float(engine.get_execution_options().get(_BUSY_TIMEOUT_OPTION, DEFAULT_BUSY_TIMEOUT))


def _postgres_connect_args(parsed: URL, busy_timeout: float) -> dict[str, Any]:
    # Lock waits (rows another transaction holds, the schema lock) end after
    # the busy timeout instead of never; so does connecting to a server that
    # does not answer. Settings the URL makes itself are kept.
    args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        args["connect_timeout"] = max(2, math.ceil(busy_timeout))
    options = parsed.query.get("options")
    if isinstance(options, str | None):
        lock = f"-c lock_timeout={max(1, round(busy_timeout * 1000))}"
        args["options"] = f"{options} {lock}" if options else lock
    return args


def _sqlite_on_connect(busy_timeout: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, manage transactions (pysqlite's implicit
        # BEGIN defeats BEGIN IMMEDIATE below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={max(1, round(busy_timeout * 1000))}")
            _wal_mode(cursor, busy_timeout)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return on_connect


def _wal_mode(cursor: Any, busy_timeout: float) -> None:
    """Put the file in WAL mode (it stays so); wait for another process doing the same.

    Switching a new file's journal mode takes a lock that SQLite's busy
    handler does not wait for: two commands opening a fresh database at once
    saw "database is locked" in up to one connection in ten. A file already
    in WAL mode is left alone, so a read-only one (mode=ro) opens too.
    """
    deadline = time.monotonic() + busy_timeout
    pause = 0.001
    while cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != _SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(pause)  # as SQLite's own busy handler does
            pause = min(pause * 2, 0.05)
            continue
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            return  # a database that has no WAL mode (one in memory) keeps its own


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


# -- errors in words -------------------------------------------------------------------------

# SQLite's primary result codes (an extended code's low byte).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26


def describe_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def storage_errors(engine: sa.Engine) -> Iterator[None]:
    """Turn the database's own failures inside the block into a :class:`StorageError` naming it."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        error = storage_error(exc, engine)
        if error is None:
            raise
        raise error from exc


def storage_error(exc: sa.exc.DBAPIError, engine: sa.Engine) -> StorageError | None:
    """A one-line StorageError for a failure of the database itself; None for one that looks like a bug."""
    where = describe_url(engine)
    orig = exc.orig
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _sqlite_error(code & 0xFF, reason, where, busy_timeout(engine))
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "55P03":  # lock_not_available: lock_timeout passed
        return _busy(where, busy_timeout(engine))
    if sqlstate == "25006":  # read_only_sql_transaction: a standby, or a read-only session
        return StorageError(
            f"the database {where} is read-only ({reason}); nothing was written "
            "(point AGGREGATOR_DATABASE_URL at the primary server)"
        )
    lost = isinstance(exc, sa.exc.OperationalError) and hasattr(orig, "sqlstate")  # psycopg's
    if (
        exc.connection_invalidated
        or isinstance(exc, sa.exc.InterfaceError)
        # psycopg: no SQLSTATE when the connection failed or broke; 08: connection exceptions;
        # 57P: the server shutting down, or not accepting connections yet.
        or (lost and (sqlstate is None or str(sqlstate).startswith(("08", "57P"))))
    ):
        return StorageError(
            f"the database {where} is unreachable: {reason} (check that the server is running and "
            "accepts connections, then run the command again)"
        )
    if isinstance(exc, sa.exc.OperationalError):
        return StorageError(f"the database {where} failed: {reason} (run the command again)")
    if exc.statement is None:  # connecting failed: the URL's options, say, which the driver refuses
        return StorageError(
            f"cannot connect to the database {where}: {reason} "
            "(check AGGREGATOR_DATABASE_URL and its options)"
        )
    return None


def _busy(where: str, timeout: float) -> StorageError:
    return StorageError(
        f"the database {where} is busy: another process has held a lock on it for more than {timeout:g} s "
        "and nothing was written (try again once that process is done, or raise "
        "AGGREGATOR_DATABASE_BUSY_TIMEOUT)"
    )


def _sqlite_error(code: int, reason: str, where: str, timeout: float) -> StorageError | None:
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return _busy(where, timeout)
    if code == _SQLITE_READONLY:
        return StorageError(
            f"the database {where} is read-only ({reason}); nothing was written (open it read-write: "
            "check the permissions of the file and its folder, and leave mode=ro out of the URL)"
        )
    if code in (_SQLITE_NOTADB, _SQLITE_CORRUPT):
        return StorageError(
            f"{where} is not an intact SQLite database ({reason}) (point AGGREGATOR_DATABASE_URL at "
            "aggregator's database, or restore the file from a backup)"
        )
    if code == _SQLITE_CANTOPEN:
        return StorageError(
            f"cannot open the database {where} ({reason}) (check that its folder exists and that the "
            "file and folder may be read and written)"
        )
    if code in (_SQLITE_FULL, _SQLITE_IOERR):
        return StorageError(f"the database {where} failed: {reason} (check the disk: space and errors)")
    return None


# -- schema versions -------------------------------------------------------------------------


def _script_location() -> str:
    spec = importlib.util.find_spec("aggregator_migrations")
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError("the migrations package (alembic/) is missing from this installation")
    return str(next(iter(spec.submodule_search_locations)))


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", _script_location())
    return cfg


def head_revision() -> str:
    """The newest revision of the migration scripts, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with storage_errors(engine), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def recorded_revision(engine: sa.Engine) -> str | None:
    """The revision ``alembic_version`` records, read without Alembic and changing nothing (``health``)."""
    return _recorded_revision(engine)


def _recorded_revision(engine: sa.Engine) -> str | None:
    """The one revision alembic_version records; None when it has none or several (Alembic decides)."""
    with storage_errors(engine), engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    return str(rows[0]) if len(rows) == 1 else None


def ensure_schema(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the schema up to date; refuse one newer than this code.

    The revision is read first without a lock (the usual case: nothing to
    do). A schema that is behind is upgraded under a lock, one process at a
    time, after reading its revision again: two commands started together on
    a fresh database create it once. Returns (revision before, revision after).
    Alembic is imported only when the schema is not at :data:`HEAD_REVISION`.
    """
    recorded = _recorded_revision(engine)
    if recorded == HEAD_REVISION:
        return recorded, recorded
    return _upgrade(engine)


def _upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from alembic import command

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    before = current_revision(engine)
    if before == head:
        return before, head
    _check_known(script, before, head, engine)
    with storage_errors(engine), _schema_lock(engine) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        if before == head:  # another process upgraded it while we waited
            return before, head
        _check_known(script, before, head, engine)
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, head


@contextmanager
def _schema_lock(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that no other process's schema upgrade runs beside; committed at the end."""
    if engine.dialect.name == "sqlite":
        # BEGIN IMMEDIATE: SQLite's one write lock, waited for up to the busy timeout.
        with engine.execution_options(immediate=True).begin() as conn:
            yield conn
        return
    with engine.begin() as conn:
        hold_transaction_lock(conn, SCHEMA_LOCK_KEY)  # PostgreSQL's DDL is transactional
        yield conn


def hold_transaction_lock(conn: sa.Connection, key: int) -> None:
    """Take PostgreSQL's advisory lock ``key`` until this transaction ends, waiting for whoever holds it.

    For work that must run one process at a time across replicas (a schema
    upgrade, a digest import). SQLite needs none: its writers already take
    turns (``BEGIN IMMEDIATE``).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _check_known(script: ScriptDirectory, before: str | None, head: str, engine: sa.Engine) -> None:
    if before is None:
        return
    try:
        script.get_revision(before)
    except Exception as exc:
        raise SchemaError(
            f"the database {describe_url(engine)} has schema revision {before!r}, which this "
            f"aggregator does not know (its newest is {head!r}): it was written by a newer "
            "version. Upgrade aggregator, or point AGGREGATOR_DATABASE_URL at another database."
        ) from exc
