"""Triage commands: shortlist, promote, reject, snooze, restore, unpromote, note, undo, log.

Each takes one or more candidate ids and applies to all of them or to none
(the error lists every refusal). The curator is ``--curator``, else
$AGGREGATOR_CURATOR, else the login name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from aggregator.cli.context import (
    COUNT_MAX,
    ID_MAX,
    bad_values,
    console,
    curator_name,
    curator_option,
    iso,
    open_service,
    require_candidates,
    styled,
    when,
)
from aggregator.controls import json_dumps

if TYPE_CHECKING:
    from aggregator.service.triage import Triage
    from aggregator.triage_types import DecisionReport

IDS_HELP = "Candidate ids (see `aggregator queue`)."
FORCE_HELP = "Change a published (frozen) digest issue anyway."


def register(app: typer.Typer) -> None:
    for command in (shortlist, promote, reject, snooze, restore, unpromote, note, undo, log):
        app.command(command.__name__.rstrip("_"))(command)


def _decide(
    ctx: typer.Context,
    as_json: bool,
    decide: Callable[[Triage], DecisionReport],
    *,
    note: tuple[str, bool] | None = None,
) -> None:
    """Run one decision of the facade (its own write transaction), then report it."""
    with open_service(ctx, sync=False) as service, bad_values():
        report = decide(service.triage)
    print_report(report, as_json, note=note)


def print_report(report: DecisionReport, as_json: bool, *, note: tuple[str, bool] | None = None) -> None:
    """What changed, one line per candidate; ``note``: the note added (or, True, replacing the others)."""
    if as_json:
        typer.echo(
            json_dumps(
                {
                    "batch": report.batch,
                    "action": report.action,
                    "changed": [
                        {
                            "id": c.candidate_id,
                            "title": c.title,
                            "from": c.from_status,
                            "to": c.to_status,
                            "version": c.version,
                            "digest": c.digest,
                            "section": c.section,
                        }
                        for c in report.changes
                    ],
                    "unchanged": [{"id": cid, "reason": why} for cid, why in report.unchanged],
                },
                indent=2,
            )
        )
        return
    out = console()
    for c in report.changes:
        where = f" → {c.digest} {c.section}" if c.digest and c.to_status == "promoted" else ""
        change = c.to_status if c.from_status == c.to_status else f"{c.from_status} → {c.to_status}"
        if note is not None:
            change, where = ("notes replaced by: " if note[1] else "note added: ") + note[0], ""
        out.print(f"{c.candidate_id}  {change}{where}  {c.title}", markup=False)
    for cid, why in report.unchanged:
        out.print(f"{cid}  unchanged: {why}", markup=False)
    if report.changes and report.action.startswith("undo"):
        out.print(styled("(undo again to go further back)", "dim"))
    elif report.changes:
        out.print(styled("(undo with `aggregator undo`)", "dim"))


def shortlist(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., metavar="ID...", help=IDS_HELP, min=1, max=ID_MAX),
    curator: str | None = curator_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Shortlist candidates: worth a closer look before the digest.

    Example: aggregator shortlist 12 15 19
    """
    _decide(ctx, as_json, lambda triage: triage.shortlist(ids, curator=curator_name(curator)))


def promote(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., metavar="ID...", help=IDS_HELP, min=1, max=ID_MAX),
    section: str = typer.Option(..., "--section", "-s", help="The digest section, e.g. business/mlops."),
    digest: str | None = typer.Option(
        None, "--digest", "-d", help="The issue, YYYY-MM (default: this month)."
    ),
    notes: list[str] = typer.Option(
        [], "--note", help="A note printed under the item; repeatable, in order."
    ),
    title: str | None = typer.Option(None, "--title", help="Print this title instead (Markdown allowed)."),
    label: str | None = typer.Option(
        None, "--label", help="Print this label instead of the feed's ('' for none)."
    ),
    month: str | None = typer.Option(None, "--month", help="Print this month instead (YYYY-MM)."),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    curator: str | None = curator_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Promote candidates into a digest issue's section, with notes.

    The issue is opened as a draft when it does not exist yet. Promoting an
    item that is already promoted moves it to the new section or issue.

    Example: aggregator promote 12 --section business/mlops --note "serving cost cut to 1/4"
    """
    _decide(
        ctx,
        as_json,
        lambda triage: triage.promote(
            ids, section=section, digest=digest, notes=notes, title=title, label=label, month=month,
            force=force, curator=curator_name(curator),
        ),
    )  # fmt: skip


def reject(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., metavar="ID...", help=IDS_HELP, min=1, max=ID_MAX),
    reason: str | None = typer.Option(None, "--reason", "-r", help="Why, kept in the decision log."),
    curator: str | None = curator_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Reject candidates: they leave the queue (`restore` brings them back).

    Example: aggregator reject 31 32 --reason "product announcement, no technical content"
    """
    _decide(ctx, as_json, lambda triage: triage.reject(ids, reason=reason, curator=curator_name(curator)))


def snooze(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., metavar="ID...", help=IDS_HELP, min=1, max=ID_MAX),
    until: str = typer.Option(
        ..., "--until", "-u", help="YYYY-MM-DD, an ISO date-time, or 3d / 2w from now."
    ),
    curator: str | None = curator_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Snooze candidates until a date; then they are new again.

    Example: aggregator snooze 40 --until 2w
    """
    _decide(ctx, as_json, lambda triage: triage.snooze(ids, until=until, curator=curator_name(curator)))


def restore(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., metavar="ID...", help=IDS_HELP, min=1, max=ID_MAX),
    curator: str | None = curator_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Put shortlisted, rejected or snoozed candidates back to new.

    Example: aggregator restore 31
    """
    _decide(ctx, as_json, lambda triage: triage.restore(ids, curator=curator_name(curator)))


def unpromote(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., metavar="ID...", help=IDS_HELP, min=1, max=ID_MAX),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    curator: str | None = curator_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Take promoted candidates out of their digest issue (they stay shortlisted, notes kept).

    Example: aggregator unpromote 12
    """
    _decide(ctx, as_json, lambda triage: triage.unpromote(ids, force=force, curator=curator_name(curator)))


def note(
    ctx: typer.Context,
    candidate_id: int = typer.Argument(..., metavar="ID", help="The candidate's id.", min=1, max=ID_MAX),
    text: str = typer.Argument(..., metavar="TEXT", help="The note (Markdown, as printed in the digest)."),
    replace: bool = typer.Option(
        False, "--replace", help="Replace the candidate's notes instead of adding one."
    ),
    curator: str | None = curator_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Add a note to a candidate (printed under its digest line), or replace its notes.

    Example: aggregator note 12 "① batch jobs daily ② Argo Workflows or Kubeflow"
    """
    _decide(
        ctx,
        as_json,
        lambda triage: triage.note([candidate_id], [text], replace=replace, curator=curator_name(curator)),
        note=(text, replace),
    )


def undo(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    curator: str | None = curator_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Undo your latest decision (all the candidates of that command); run again to go further back.

    Refused when someone has decided on one of those candidates since.

    Example: aggregator undo
    """
    _decide(ctx, as_json, lambda triage: triage.undo(curator=curator_name(curator), force=force))


def log(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(
        None, metavar="[ID]...", help="Only these candidates.", min=1, max=ID_MAX
    ),
    curator: str | None = typer.Option(None, "--curator", help="Only this curator's decisions."),
    limit: int = typer.Option(
        50, "--limit", "-n", min=1, max=COUNT_MAX, help="At most this many, newest first."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON array, for scripts."),
) -> None:
    """Show the decision log: who decided what, when, from which state to which.

    Example: aggregator log 12 --limit 10
    """
    with open_service(ctx, sync=False) as service:
        require_candidates(service, ids or [])
        rows = service.triage.history(candidate_ids=ids or (), curator=curator, limit=limit)
    if as_json:
        typer.echo(
            json_dumps(
                [
                    {
                        "id": r.id,
                        "batch": r.batch,
                        "candidate": r.candidate_id,
                        "title": r.title,
                        "curator": r.curator,
                        "at": iso(r.at),
                        "action": r.action,
                        "from": r.from_status,
                        "to": r.to_status,
                        "digest": r.digest,
                        "section": r.section,
                        "note": r.note,
                        "undone_at": iso(r.undone_at),
                        "undone_by": r.undone_by,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    if not rows:
        asked = [f"candidate {', '.join(map(str, ids))}"] if ids else []
        asked += [f"curator {curator}"] if curator else []
        console().print(f"no decision matches ({', '.join(asked) or 'the log is empty'})", markup=False)
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("when", no_wrap=True)
    table.add_column("who", no_wrap=True, max_width=12, overflow="ellipsis")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("decision", overflow="fold")
    table.add_column("title", overflow="fold", ratio=1)
    for r in rows:
        decision = r.action if r.from_status == r.to_status else f"{r.from_status} → {r.to_status}"
        if r.digest and r.to_status == "promoted":
            decision += f" ({r.digest} {r.section})"
        if r.undone_at:
            decision += " [undone]"
        title = r.title + (f"\n  {r.note}" if r.note else "")
        table.add_row(when(r.at), r.curator, str(r.candidate_id), decision, title)
    console().print(table, markup=False)
