"""``aggregator email weekly``: the week's candidates in the curators' inbox, once; or a preview."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from aggregator.cli.context import console, open_service, print_error

if TYPE_CHECKING:
    from aggregator.mail.values import WeeklyReport

app = typer.Typer(help="The weekly email to the curators: preview it, send it.", no_args_is_help=True)


@app.command("weekly")
def weekly(
    ctx: typer.Context,
    week: str | None = typer.Option(
        None, "--week", metavar="YYYY-Www", help="The ISO week to send (default: this week)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Build the message, send nothing, record nothing."),
    out: Path | None = typer.Option(
        None, "--out", "-o", dir_okay=False, help="Write the whole message (.eml) to this file."
    ),
    html: Path | None = typer.Option(
        None, "--html", dir_okay=False, help="Write the HTML part to this file, for a browser."
    ),
    to: list[str] = typer.Option(
        [], "--to", metavar="ADDR", help="Send to this address instead of feeds.yaml's recipients (repeat)."
    ),
    force: bool = typer.Option(False, "--force", help="Send again to recipients who have this week already."),
) -> None:
    """Send the week's new candidates, by section and score, to the curators: once per week each.

    The email of a week lists what was first seen in the seven days before its sending time
    (feeds.yaml's email weekday and time, in its time zone); the daemon sends it on that schedule.
    A recipient the server refuses is left unsent (exit 1, with the server's answer) and is the only
    one a second run tries; a second run sends nothing new unless --force.

    Example: aggregator email weekly --dry-run -o week.eml --html week.html
    """
    for address in to:
        if "@" not in address or any(ch.isspace() for ch in address):
            raise typer.BadParameter(f"{address!r} is not an email address (write one, e.g. ana@example.org)")
    with open_service(ctx) as service:
        report = service.mail.weekly(week, dry_run=dry_run, out=out, html=html, to=tuple(to), force=force)
    _print(report, out, html)
    if report.refused:
        raise typer.Exit(1)


def _print(report: WeeklyReport, out: Path | None, html: Path | None) -> None:
    out_console = console()
    kb = report.size / 1024
    more = report.candidates - report.shown
    shown = f"{report.shown} shown" + (f", {more} more in the queue" if more else "")
    out_console.print(f"{report.subject}", markup=False)
    out_console.print(f"{report.candidates} candidates ({shown}), {kb:.1f} KB", markup=False)
    for path, what in ((out, "message"), (html, "HTML part")):
        if path is not None:
            out_console.print(f"wrote the {what} to {path}", markup=False)
    if report.dry_run:
        out_console.print("dry run: nothing sent", markup=False)
        return
    for recipient in report.already_sent:
        out_console.print(f"{recipient}: had {report.week} already (--force sends it again)", markup=False)
    for d in report.accepted:
        out_console.print(f"sent to {d.recipient}", markup=False)
    for d in report.refused:
        print_error(f"{d.recipient} was refused by the mail server: {d.answer} (run again to retry it alone)")
    if not report.deliveries and not report.already_sent:
        out_console.print("nobody to send to", markup=False)
