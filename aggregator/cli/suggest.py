"""``aggregator suggest``: where candidates belong, measured: ``eval`` learns from digests, tests on one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.table import Table

from aggregator.cli.context import console, load, print_error

if TYPE_CHECKING:
    from aggregator.suggest.values import EvalReport
    from aggregator.taxonomy import Taxonomy

app = typer.Typer(
    help="Section suggestions: backfill them, measure them against the curators' digests.",
    no_args_is_help=True,
)


@app.command("backfill")
def backfill(
    ctx: typer.Context,
    everything: bool = typer.Option(
        False, "--all", help="Suggest again for every candidate, not only those without a suggestion."
    ),
) -> None:
    """Suggest a section, score and group every candidate stored without one (a database older than
    suggestions); polls and extraction do it for new candidates on their own.

    Example: aggregator suggest backfill
    """
    from aggregator.cli.context import open_service

    with open_service(ctx, sync=False) as service:
        done = service.suggest.backfill(everything=everything)
    console().print(f"{done:,} candidates suggested and scored")


@app.command("eval")
def eval_(
    ctx: typer.Context,
    train: list[Path] = typer.Option(
        ..., "--train", exists=True, dir_okay=False, help="A digest to learn from (repeat for several)."
    ),
    test: Path = typer.Option(..., "--test", exists=True, dir_okay=False, help="The digest to predict."),
    stored_text: bool = typer.Option(
        True,
        "--stored-text/--no-stored-text",
        help="Read the stored text of test items that are stored candidates.",
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object, for scripts."),
) -> None:
    """Learn sections from digests, predict another digest's items from their title, label and URL.

    Prints top-1 accuracy for the top section and the subsection, the same for the items no training
    digest holds (the honest measure), a confusion table and the misses. Needs no database: only
    feeds.yaml's sections and feeds.

    Example: aggregator suggest eval --train 2022-11.md --train 2022-10.md --test 2022-12.md
    """
    from aggregator.cli.digest import _read_digest
    from aggregator.controls import json_dumps
    from aggregator.service.suggest import evaluate_digests

    _, _, config = load(ctx)
    test_text = _read_digest(test)
    texts = _stored_texts(ctx, test_text) if stored_text else {}
    report = evaluate_digests(
        [(str(path), _read_digest(path)) for path in train], (str(test), test_text), config, texts=texts
    )
    for warning in report.warnings:
        print_error(warning, label="warning")
    if as_json:
        typer.echo(json_dumps(_as_dict(report), indent=2))
        return
    _print(report, config.taxonomy)


def _stored_texts(ctx: typer.Context, digest: str) -> dict[str, str]:
    """The stored text of the digest's links that are stored candidates; none when there is no database."""
    import re

    from aggregator.cli.context import open_service
    from aggregator.errors import AggregatorError
    from aggregator.service.suggest import has_database

    if not has_database(load(ctx)[0]):
        return {}
    urls = sorted(set(re.findall(r"\]\((https?://[^)\s]+)\)", digest)))
    try:
        with open_service(ctx, sync=False) as service:
            return service.suggest.stored_texts(urls)
    except AggregatorError as error:
        print_error(f"stored texts not used: {error}", label="warning")
        return {}


def _as_dict(report: EvalReport) -> dict[str, Any]:
    return {
        "items": report.items,
        "section_accuracy": report.section_accuracy,
        "subsection_accuracy": report.subsection_accuracy,
        "unseen_items": report.unseen_items,
        "unseen_section_accuracy": report.unseen_section_accuracy,
        "unseen_subsection_accuracy": report.unseen_subsection_accuracy,
        "training_items": report.training_items,
        "confusion": report.confusion,
        "misses": [
            {
                "title": m.title, "url": m.url, "expected": m.expected, "predicted": m.predicted,
                "confidence": m.confidence, "reason": m.reason, "seen": m.seen,
            }
            for m in report.misses
        ],
    }  # fmt: skip


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _number(taxonomy: Taxonomy, section: str) -> str:
    try:
        return taxonomy.section_number(section)
    except KeyError:
        return section


def _print(report: EvalReport, taxonomy: Taxonomy) -> None:
    out = console()
    out.print(f"{report.items} test items, {report.training_items} training items")
    out.print(
        f"top section {_pct(report.section_accuracy)}, subsection {_pct(report.subsection_accuracy)}; "
        f"on the {report.unseen_items} items no training digest holds: top section "
        f"{_pct(report.unseen_section_accuracy)}, subsection {_pct(report.unseen_subsection_accuracy)}"
    )
    order = {name: i for i, name in enumerate(taxonomy.promotable_sections())}
    predicted = sorted({p for row in report.confusion.values() for p in row}, key=lambda p: order.get(p, 99))
    table = Table(box=box.SIMPLE, title="expected (rows) by predicted (columns)", title_justify="left")
    table.add_column("expected", no_wrap=True)
    for name in predicted:
        table.add_column(_number(taxonomy, name), justify="right")
    for expected, row in sorted(report.confusion.items(), key=lambda kv: order.get(kv[0], 99)):
        table.add_row(f"{_number(taxonomy, expected)} {expected}", *(str(row.get(p, "")) for p in predicted))
    out.print(table)
    for miss in report.misses:
        seen = " (seen in training)" if miss.seen else ""
        out.print(f"miss{seen}: {miss.title}  {miss.expected} → {miss.predicted} ({miss.confidence:.0%})")
        out.print(f"    {miss.reason}")
