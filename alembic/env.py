"""Alembic environment for aggregator.

``aggregator db upgrade`` (and every command, on start) runs migrations through
``aggregator.store.db`` with a live connection in ``config.attributes``. Run
standalone (``alembic upgrade head`` from the project root), it reads the
database URL the way the CLI does: AGGREGATOR_DATABASE_URL, else the SQLite
file under AGGREGATOR_DATA_DIR.
"""

from __future__ import annotations

from aggregator.store.tables import metadata
from alembic import context

config = context.config


def run_with(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER TABLE
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    from aggregator.app import open_engine
    from aggregator.config import load_settings

    engine = open_engine(load_settings())
    with engine.begin() as conn:
        run_with(conn)
    engine.dispose()
