"""``aggregator demo``: the whole loop offline, on invented blogs served from 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from aggregator.cli.context import console


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    directory: Path | None = typer.Option(
        None, "--dir", file_okay=False, help="Where to put the database and outputs (default: a temp dir)."
    ),
    keep: bool = typer.Option(False, "--keep", help="Keep the temp dir afterwards (always kept with --dir)."),
    corpus: Path | None = typer.Option(
        None,
        "--corpus",
        exists=True,
        file_okay=False,
        help="Serve a folder of captured feeds (each file a feed) instead of the invented blogs.",
    ),
) -> None:
    """See the whole loop work without network: serve a dozen invented blogs on 127.0.0.1, poll and
    extract them into a fresh SQLite database, suggest and score, show the queue, promote a few, render
    the month's digest and write the weekly email (.eml and HTML).

    Example: aggregator demo --dir demo-data
    """
    import shutil
    import tempfile

    from aggregator.demo.run import run_demo

    where = directory or Path(tempfile.mkdtemp(prefix="aggregator-demo-"))
    out = console()
    try:
        outputs = run_demo(where.resolve(), out, corpus=corpus)
    finally:
        if directory is None and not keep:
            shutil.rmtree(where, ignore_errors=True)
    kept = directory is not None or keep
    out.print(
        Text(f"done in {outputs.seconds:.1f} s: {outputs.candidates} candidates stored", style="bold green")
    )
    if not kept:
        out.print("The outputs were in a temp dir, now removed: keep them with --keep or --dir DIR.")
        return
    for label, path in (
        ("feeds.yaml", outputs.config), ("database", outputs.database), ("digest", outputs.digest),
        ("email", outputs.email), ("email HTML", outputs.email_html),
    ):  # fmt: skip
        out.print(f"  {label:<11} {path}")
    env = f"AGGREGATOR_DATA_DIR={outputs.directory} aggregator --config {outputs.config}"
    out.print("Explore further:")
    for command in ("triage", "queue --sort score", f"digest show {outputs.month}", "feeds status"):
        out.print(f"  {env} {command}")
