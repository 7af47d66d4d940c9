"""``aggregator poll``: one poll cycle, from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from aggregator.cli.context import console, open_service, print_error, styled, when
from aggregator.cli.progress import Progress
from aggregator.cli.voice import ExitCode

if TYPE_CHECKING:
    from aggregator.poll_types import ClaimOutlook
    from aggregator.service import Service
    from aggregator.types import FeedUpdateResult

_STYLE = {
    "new": "green",
    "updated": "cyan",
    "error": "red",
    "gone": "red",
    "unchanged": "",
    "not_modified": "dim",
}


def register(app: typer.Typer) -> None:
    app.command("poll")(poll)


def poll(
    ctx: typer.Context,
    feed: list[str] = typer.Option([], "--feed", "-f", help="Poll this feed (by name); repeatable."),
    all_: bool = typer.Option(False, "--all", help="Poll every enabled feed, due or not."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 when any feed failed."),
    extract: bool = typer.Option(
        True, "--extract/--no-extract", help="Fetch and extract new candidates' pages while polling."
    ),
) -> None:
    """Run one poll cycle: the feeds that are due, every feed (--all), or the ones named.

    New candidates' pages are fetched and extracted while the poll goes on,
    newest first (--no-extract leaves them for `aggregator extract`); pages left
    pending by earlier polls are the daemon's or `aggregator extract`'s. On a
    terminal a progress display shows feeds and pages as they go; elsewhere a
    line every 10 s on stderr.

    Prints a row per feed: result, new and updated entries, time. Exits 0 when
    the cycle ran, even if some feeds failed (see `aggregator feeds status`);
    with --strict, exits 3 when any feed failed. Exits 1 when the database
    failed part-way: what was stored stays, the rest is polled next time.

    Example: aggregator poll --feed netflix --feed aws-ml --strict
    """
    with open_service(ctx) as service:
        unknown = service.polling.unknown_feeds(feed)
        if unknown:
            where = service.feeds.config_path
            print_error(f"no feed named {', '.join(unknown)} in {where} (see `aggregator feeds list`)")
            raise typer.Exit(ExitCode.USAGE)
        with Progress("poll", feeds=_expected(service, feed, all_), pages=0 if extract else None) as shown:
            run = service.polling.poll(
                names=feed or None, due_only=not all_, extract=extract,
                on_result=shown.feed, on_article=shown.page, own_pages=True,
            )  # fmt: skip
    report, extracted, outlook = run.report, run.extracted, run.outlook
    out = console()
    failed = len(report.failed)
    if outlook is not None:
        out.print(nothing_claimed(outlook, due_only=not (all_ or feed)))
    else:
        out.print(_table(report.results))
        out.print(
            f"{len(report.results)} feeds polled in {report.elapsed:.1f} s: {report.new} new, "
            f"{report.updated} updated, {failed} failed"
        )
    if extracted is not None and extracted.articles:  # pages left pending before are extracted too
        counts = extracted.counts()
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        out.print(f"{len(extracted.articles)} pages extracted ({summary})")
    if failed and strict:
        raise typer.Exit(ExitCode.FEEDS_FAILED)


def _expected(service: Service, names: list[str], all_: bool) -> int:
    """How many feeds the poll will likely poll (the named ones, every enabled one, or the due ones)."""
    if names:
        return len(set(names))
    gauges = service.ops.gauges()
    if all_:
        by_health = gauges.feeds_by_health
        return sum(by_health.values()) - by_health.get("disabled", 0) - by_health.get("gone", 0)
    return gauges.due


def nothing_claimed(outlook: ClaimOutlook, *, due_only: bool) -> str:
    """Why a poll claimed no feed, in a sentence: held by another poll, disabled, gone, or none due."""
    if outlook.held:
        holders = ", ".join(outlook.holders[:3]) + (", ..." if len(outlook.holders) > 3 else "")
        feeds = "1 feed" if outlook.held == 1 else f"{outlook.held} feeds"
        return (
            f"Another poll ({holders}) has claimed {feeds} until {when(outlook.held_until)} UTC and is "
            "polling them: nothing is left to poll here."
        )
    if outlook.feeds == 0:
        return "feeds.yaml lists no feeds: there is nothing to poll."
    if outlook.disabled == outlook.feeds:
        return "Every feed in feeds.yaml is disabled (enabled: false): there is nothing to poll."
    if outlook.disabled + outlook.gone == outlook.feeds:
        return (
            "Every enabled feed answered 410 Gone and is no longer polled "
            "(give it a new URL in feeds.yaml, or see `aggregator feeds status`)."
        )
    if due_only and not outlook.due:
        later = f" (the next at {when(outlook.next_due)} UTC)" if outlook.next_due else ""
        return f"No feed is due{later}: use --all to poll every feed now."
    return "No feed was free to poll."


def _table(results: tuple[FeedUpdateResult, ...]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("feed", no_wrap=True)
    table.add_column("result")
    table.add_column("new", justify="right")
    table.add_column("updated", justify="right")
    table.add_column("time", justify="right")
    table.add_column("note", overflow="fold")
    for r in sorted(results, key=lambda r: r.feed_name):
        style = _STYLE.get(r.outcome, "")
        table.add_row(
            r.feed_name,
            styled(r.outcome, style),
            str(r.new),
            str(r.updated),
            f"{r.elapsed:.2f}s",
            # The row names the feed already; its URL in front of every error is noise.
            (r.error or "").removeprefix(f"{r.url}: "),
        )
    return table
