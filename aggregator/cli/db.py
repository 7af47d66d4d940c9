"""``aggregator db``: the database schema."""

from __future__ import annotations

import typer

from aggregator.app import open_engine
from aggregator.cli.context import console
from aggregator.config import load_settings
from aggregator.store import db

app = typer.Typer(help="The database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Bring the database schema up to date (every command also does this on start).

    Refuses a schema newer than this aggregator, before anything is written.
    The database is $AGGREGATOR_DATABASE_URL (e.g. postgresql+psycopg://app@db/aggregator),
    else the SQLite file under $AGGREGATOR_DATA_DIR.

    Example: aggregator db upgrade
    """
    engine = open_engine(load_settings())
    try:
        before, after = db.ensure_schema(engine)
        where = db.describe_url(engine)
    finally:
        engine.dispose()
    if before == after:
        console().print(f"{where}: schema already at revision {after}")
    else:
        console().print(f"{where}: schema upgraded from {before or 'empty'} to revision {after}")


@app.command("current")
def current() -> None:
    """Print the database's schema revision and the newest this aggregator knows.

    Example: aggregator db current
    """
    engine = open_engine(load_settings())
    try:
        rev = db.current_revision(engine)
        where = db.describe_url(engine)
    finally:
        engine.dispose()
    console().print(f"{where}: revision {rev or 'none (empty database)'}; newest known {db.head_revision()}")
