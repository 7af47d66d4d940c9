"""``aggregator demo``: the whole loop offline, on invented blogs (or captured feeds) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from aggregator.cli.context import console, print_error
from aggregator.cli.voice import ExitCode

if TYPE_CHECKING:
    from aggregator.demo.run import Outputs


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    directory: Path | None = typer.Option(
        None,
        "--dir",
        file_okay=False,
        metavar="DIR",
        help="Where to put the database and outputs (default: a temp dir).",
    ),
    keep: bool = typer.Option(False, "--keep", help="Keep the temp dir afterwards (always kept with --dir)."),
    corpus: Path | None = typer.Option(
        None,
        "--corpus",
        exists=True,
        file_okay=False,
        metavar="DIR",
        help="Serve the feed files (RSS, RDF, Atom, JSON Feed) found in a folder and below it instead of "
        "the invented blogs; other files (Markdown, TSV, OPML, HTML) are skipped.",
    ),
) -> None:
    """See the whole loop work without network: serve a dozen invented blogs on 127.0.0.1, poll and
    extract them into a fresh SQLite database, suggest and score, show the queue, promote a few, render
    the month's digest and write the weekly email (.eml and HTML).

    Exits 1 when the loop stops short (the poll stored no candidates, nothing was promoted), saying why.

    Example: aggregator demo --dir demo-data

    Example: aggregator demo --dir corpus-demo --corpus captured-feeds/
    """
    import shutil
    import tempfile

    from aggregator.demo.corpus import NoFeeds, scan
    from aggregator.demo.run import run_demo

    try:
        feeds = scan(corpus.resolve()) if corpus else None
    except NoFeeds as exc:
        raise typer.BadParameter(str(exc), param_hint="--corpus") from None
    where = directory or Path(tempfile.mkdtemp(prefix="aggregator-demo-"))
    out = console()
    try:
        outputs = run_demo(where.resolve(), out, corpus=feeds)
    finally:
        if directory is None and not keep:
            shutil.rmtree(where, ignore_errors=True)
    kept = directory is not None or keep
    out.print(
        Text(
            f"done in {outputs.seconds:.1f} s: {outputs.candidates} candidates stored",
            style="bold yellow" if outputs.problem else "bold green",
        )
    )
    if not kept:
        out.print("The outputs were in a temp dir, now removed: keep them with --keep or --dir DIR.")
    else:
        _where(outputs)
    if outputs.problem:
        print_error(outputs.problem)
        raise typer.Exit(ExitCode.FAILED)


def _where(outputs: Outputs) -> None:
    """Where each output is, and the commands that explore them."""
    out = console()
    for label, path in outputs.written():
        out.print(f"  {label:<11} {path}")
    env = f"AGGREGATOR_DATA_DIR={outputs.directory} aggregator --config {outputs.config}"
    commands = ["triage", "queue --sort score"] if outputs.candidates else []
    commands += [f"digest show {outputs.month}"] if outputs.month else []
    out.print("Explore further:")
    for command in [*commands, "feeds status"]:
        out.print(f"  {env} {command}")
