"""The ``aggregator`` command line: thin Typer commands over the modules below it.

Every command opens the application through :func:`aggregator.cli.context.open_app`
(settings, feeds.yaml, database, schema check) and prints with Rich. Errors a
person can act on are printed without a traceback: exit 2 for configuration
and usage errors, 1 for other failures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from aggregator import __version__
from aggregator.cli import articles, candidates, db, digest, feeds, poll, queue, triage, tui
from aggregator.cli.context import CliState, print_error
from aggregator.errors import AggregatorError, ConfigError


class _Group(TyperGroup):
    """Turns aggregator's errors into a clear message and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for line in exc.problems or [str(exc)]:
                print_error(line)
            raise typer.Exit(2) from exc
        except AggregatorError as exc:
            print_error(str(exc))
            raise typer.Exit(1) from exc


app = typer.Typer(
    cls=_Group,
    name="aggregator",
    help="Feed aggregation and triage for the curators of a monthly AI/ML digest.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aggregator {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="feeds.yaml to use (default: $AGGREGATOR_CONFIG, else ./feeds.yaml).",
        dir_okay=False,
    ),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="Log progress to stderr (-v: each feed as stored; -vv: debug)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Feed aggregation and triage for the curators of a monthly AI/ML digest.

    The database is $AGGREGATOR_DATABASE_URL, else a SQLite file under
    $AGGREGATOR_DATA_DIR (default ./data).

    Example: aggregator --config feeds.yaml poll --all
    """
    ctx.obj = CliState(config_path=config, verbose=verbose)


app.add_typer(db.app, name="db")
app.add_typer(feeds.app, name="feeds")
app.add_typer(candidates.app, name="candidates")
app.add_typer(digest.app, name="digest")
poll.register(app)
articles.register(app)
triage.register(app)
queue.register(app)
tui.register(app)


def main() -> None:
    app()
