"""``aggregator feeds``: the feeds in feeds.yaml and how their polls are going."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from aggregator.cli.context import console, iso, load, open_service, styled, when
from aggregator.controls import CONTROLS, json_dumps

if TYPE_CHECKING:
    from aggregator.types import FeedState, FeedStatus

app = typer.Typer(help="Feeds: list, status, report, OPML import and export.", no_args_is_help=True)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the feeds in feeds.yaml with their label, language, section hint and interval (or auto).

    Example: aggregator feeds list
    """
    _, _, config = load(ctx)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("name", "label", "lang", "hint", "every", "on", "url"):
        table.add_column(name, overflow="fold" if name == "url" else "ellipsis")
    from aggregator.service import feeds as feeds_service

    for f in feeds_service.feed_settings(config):
        table.add_row(
            f.name, f.label, f.language or "", f.section_hint or "",
            "auto" if f.interval_auto else _duration(f.interval.total_seconds()),
            "yes" if f.enabled else "no", f.url,
        )  # fmt: skip
    console().print(table)


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON array, for scripts and monitoring."),
    failing: bool = typer.Option(
        False, "--failing", help="Only feeds with a problem: failing, gone or malformed."
    ),
) -> None:
    """Show each feed's polling state: last success, errors, its interval, the publisher's hint, next poll.

    "every" is the interval in effect: "auto 2h" adapts to how often the feed publishes, "1h" is
    fixed in feeds.yaml; "hint" is the longest wait the publisher asked for (RSS ttl, Cache-Control
    max-age, Expires), which the interval never undercuts.

    Example: aggregator feeds status --failing
    """
    with open_service(ctx) as service:
        states = service.feeds.status(failing=failing)
    if as_json:
        typer.echo(json_dumps([_status_dict(f) for f in states], indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    columns = ("feed", "state", "entries", "last success", "errors", "every", "hint", "next poll", "problem")
    longest = min(max((len(item.feed.name) for item in states), default=4), 40)
    for name in columns:  # one line per feed, its name whole: the other cells are cut on a narrow screen
        wrap = name == "problem"
        table.add_column(
            name, overflow="fold" if wrap else "ellipsis", no_wrap=not wrap,
            min_width=longest if name == "feed" else None,
        )  # fmt: skip
    for item in states:
        f, health = item.feed, item.health
        style = {"ok": "green", "failing": "red", "gone": "red", "disabled": "dim"}.get(health, "yellow")
        table.add_row(
            f.name, styled(health, style), str(f.entry_count), when(f.last_success_at),
            str(f.error_count), _every(f), _hint(f), when(f.next_poll_at), _problem(f),
        )  # fmt: skip
    console().print(table)


def _every(f: FeedState) -> str:
    """The interval in effect: ``auto 2h`` (``auto`` before its first poll) or the fixed ``1h``."""
    if not f.interval_auto:
        return _duration(f.interval_in_effect.total_seconds())
    return f"auto {_duration(f.poll_interval.total_seconds())}" if f.poll_interval else "auto"


def _hint(f: FeedState) -> str:
    return _duration(f.hint.total_seconds()) if f.hint else ""


def _problem(f: FeedState) -> str:
    if f.error_count or f.gone_at:
        return f.last_error or ""
    return f"warning: {f.last_warning}" if f.last_warning else ""


def _status_dict(status: FeedStatus) -> dict[str, object]:
    f = status.feed
    return {
        "name": f.name,
        "state": status.health,
        "url": f.url,
        "config_url": f.config_url,
        "title": f.title,
        "entries": f.entry_count,
        "last_polled_at": iso(f.last_polled_at),
        "last_success_at": iso(f.last_success_at),
        "last_error_at": iso(f.last_error_at),
        "last_error": f.last_error,
        "last_warning": f.last_warning,
        "error_count": f.error_count,
        "next_poll_at": iso(f.next_poll_at),
        "interval": "auto" if f.interval_auto else f"{int(f.interval.total_seconds())}s",
        "interval_seconds": int(f.interval_in_effect.total_seconds()),
        "hint_seconds": int(f.hint.total_seconds()) if f.hint else None,
        "gone_at": iso(f.gone_at),
        "pending_redirect": f.redirect_url,
    }


@app.command("import-opml")
def import_opml_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="An OPML file of feeds."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be added; change nothing."),
) -> None:
    """Add the feeds of an OPML file to feeds.yaml (comments and layout kept).

    Feeds whose URL is already in feeds.yaml are skipped. New feeds get a name
    made from their title and an empty label: edit the labels to what the
    digest should print.

    Example: aggregator feeds import-opml subscriptions.opml --dry-run
    """

    _, path, _ = load(ctx)
    from aggregator.service import feeds as feeds_service

    report = feeds_service.import_opml(path, file, dry_run=dry_run)
    out = console()
    verb = "would add" if dry_run else "added"
    for name, url in report.added:
        out.print(f"{verb} {name}: {url}")
    for url, reason in report.skipped:
        out.print(styled(f"skipped {url}: {reason}", "dim"))
    out.print(f"{len(report.added)} {verb}, {len(report.skipped)} skipped ({path})")


@app.command("export-opml")
def export_opml_(
    ctx: typer.Context,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Write the feeds of feeds.yaml as OPML 2.0, for another reader.

    Example: aggregator feeds export-opml -o feeds.opml
    """

    _, _, config = load(ctx)
    from aggregator.service import feeds as feeds_service

    data = feeds_service.export_opml(config)
    # A control or bidi-override character left in a label or title (C1, U+202E) is written as a
    # character reference: the same document to an XML reader, nothing that acts on a terminal.
    text = CONTROLS.sub(lambda m: f"&#x{ord(m.group()):X};", data.decode("utf-8"))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_bytes(text.encode("utf-8"))


def _duration(seconds: float) -> str:
    """``1h``, ``1h30m``, ``6h27m``, ``2d``: the two largest units (cut, not rounded)."""
    rest = max(int(seconds), 0)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts[:2]) or "0s"


@app.command("report")
def report(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON array, for scripts."),
) -> None:
    """Each feed's record: candidates, promotions, rejections, duplicates and its newest item; noisy
    feeds (mostly rejected, or mostly reposts) and quiet ones (nothing new for 60 days) called out.

    Example: aggregator feeds report
    """
    with open_service(ctx, sync=False) as service:
        records = service.feeds.report()
    if as_json:
        rows = [
            {"feed": r.feed, "label": r.label, "in_config": r.in_config, "candidates": r.candidates,
             "promoted": r.promoted, "rejected": r.rejected, "duplicates": r.duplicates,
             "last_item": iso(r.last_item), "verdict": r.verdict or None, "why": r.why or None}
            for r in records
        ]  # fmt: skip
        typer.echo(json_dumps(rows, indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("feed", "candidates", "promoted", "rejected", "duplicates", "last item", "verdict"):
        table.add_column(name, justify="left" if name in ("feed", "verdict", "last item") else "right")
    for r in records:
        verdict = styled(f"{r.verdict}: {r.why}", "yellow") if r.verdict else ""
        table.add_row(
            r.feed + ("" if r.in_config else " (removed)"), f"{r.candidates:,}", f"{r.promoted:,}",
            f"{r.rejected:,}", f"{r.duplicates:,}", when(r.last_item) if r.last_item else "-", verdict,
        )  # fmt: skip
    out = console()
    out.print(table)
    noisy = sum(r.verdict == "noisy" for r in records)
    quiet = sum(r.verdict == "quiet" for r in records)
    out.print(styled(f"{len(records)} feeds: {noisy} noisy, {quiet} quiet", "dim"))
