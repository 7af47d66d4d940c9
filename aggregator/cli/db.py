"""``aggregator db``: the database schema."""

from __future__ import annotations

import typer

from aggregator.cli.context import console
from aggregator.service.schema import schema_state, upgrade_schema

app = typer.Typer(help="The database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Bring the database schema up to date (every command also does this on start).

    Refuses a schema newer than this aggregator, before anything is written.
    The database is $AGGREGATOR_DATABASE_URL (e.g. postgresql+psycopg://app@db/aggregator),
    else the SQLite file under $AGGREGATOR_DATA_DIR.

    Example: aggregator db upgrade
    """
    from aggregator.config import load_settings

    state = upgrade_schema(load_settings())
    if state.before == state.after:
        console().print(f"{state.where}: schema already at revision {state.after}")
    else:
        console().print(
            f"{state.where}: schema upgraded from {state.before or 'empty'} to revision {state.after}"
        )


@app.command("current")
def current() -> None:
    """Print the database's schema revision and the newest this aggregator knows.

    Example: aggregator db current
    """
    from aggregator.config import load_settings

    state = schema_state(load_settings())
    console().print(
        f"{state.where}: revision {state.before or 'none (empty database)'}; newest known {state.after}"
    )
