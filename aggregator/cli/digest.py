"""``aggregator digest``: the monthly issues: list, show, render, publish, lint, reorder, import."""

from __future__ import annotations

import codecs
from contextlib import nullcontext
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from aggregator.cli.context import (
    ID_MAX,
    console,
    curator_name,
    curator_option,
    err_console,
    iso,
    open_service,
    print_error,
    require_candidates,
    styled,
)
from aggregator.cli.voice import ExitCode
from aggregator.controls import json_dumps, show_controls
from aggregator.digest.names import TEMPLATES, check_name
from aggregator.errors import DigestError

if TYPE_CHECKING:
    from aggregator.digest.model import Digest, DigestItem
    from aggregator.service.digests import Imported

app = typer.Typer(
    help="Digest issues: list, show, render, publish, lint, move items, import existing digests.",
    no_args_is_help=True,
)


class NotesStyle(StrEnum):
    nested = "nested"
    inline = "inline"


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON array, for scripts."),
) -> None:
    """List the digest issues, newest first, with their state and items per section.

    Example: aggregator digest list --json
    """
    with open_service(ctx, sync=False) as service:
        issues = service.digests.list_issues()
    if as_json:
        out = [
            {
                "name": i.name,
                "status": i.status,
                "created_at": iso(i.created_at),
                "published_at": iso(i.published_at),
                "items": i.total,
                "sections": dict(i.sections),
            }
            for i in issues
        ]
        typer.echo(json_dumps(out, indent=2))
        return
    if not issues:
        console().print(
            "No digest issues yet (promoting a candidate, or `aggregator digest import`, opens one)."
        )
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("issue", "status", "items", "published", "per section"):
        table.add_column(name, overflow="fold" if name == "per section" else "ellipsis")
    for i in issues:
        tops: dict[str, int] = {}
        for section, n in i.sections:
            top = section.split("/", 1)[0]
            tops[top] = tops.get(top, 0) + n
        per = ", ".join(f"{top} {n}" for top, n in tops.items())
        published = i.published_at.strftime("%Y-%m-%d") if i.published_at else "-"
        table.add_row(i.name, i.status, str(i.total), published, per)
    console().print(table)


def _item_dict(item: DigestItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "position": item.position,
        "title": item.title,
        "article_title": item.article_title,
        "url": item.url,
        "month": item.month if isinstance(item.month, str) else item.month.isoformat(),
        "label": item.label,
        "notes": list(item.notes),
        "images": list(item.images),
        "published_at": iso(item.published_at),
    }


def _digest_dict(d: Digest) -> dict[str, Any]:
    return {
        "name": d.name,
        "status": d.status,
        "published_at": iso(d.published_at),
        "sections": [
            {
                "id": section.id,
                "number": section.number,
                "title": section.title,
                "hide_labels": section.hide_labels,
                "subsections": [
                    {
                        "id": sub.id,
                        "number": sub.number,
                        "title": sub.title,
                        "items": [_item_dict(item) for item in sub.items],
                    }
                    for sub in section.subsections
                ],
            }
            for section in d.sections
        ],
        "unplaced": [{"section": sid, **_item_dict(item)} for sid, item in d.unplaced],
    }


def _warn_unplaced(d: Digest) -> None:
    for sid, item in d.unplaced:
        print_error(
            f"candidate {item.id} is in section {sid!r}, which feeds.yaml does not have; it is not "
            "rendered (see `aggregator digest lint`)",
            label="warning",
        )


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The issue, YYYY-MM."),
    as_json: bool = typer.Option(False, "--json", help="The issue as JSON, for scripts."),
) -> None:
    """Show an issue's sections and items in printed order, with the ids `digest move` takes.

    Example: aggregator digest show 2024-03
    """
    with open_service(ctx, sync=False) as service:
        d = service.digests.show(name)
    if as_json:
        typer.echo(json_dumps(_digest_dict(d), indent=2))
        return
    out = console()
    published = f", published {d.published_at:%Y-%m-%d}" if d.published_at else ""
    out.print(Text.assemble(styled(d.name, "bold"), f" ({d.status}{published}): {len(d.items)} items"))
    for section in d.sections:
        for sub in section.subsections:
            out.print()
            heading = styled(f"{sub.number}. {section.title} / {sub.title}", "bold")
            out.print(Text.assemble(heading, " ", styled(sub.id, "dim")))
            table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
            for column, kwargs in (
                ("id", {"justify": "right"}),
                ("pos", {"justify": "right"}),
                ("month", {"no_wrap": True}),
                ("label", {}),
                ("title", {"overflow": "fold"}),
                ("notes", {"justify": "right"}),
            ):
                table.add_column(column, **kwargs)
            for item in sub.items:
                label = "" if section.hide_labels else item.label
                position = "-" if item.position is None else str(item.position + 1)
                table.add_row(
                    str(item.id), position, item.month_name, label, item.title, str(len(item.notes))
                )
            out.print(table)
    _warn_unplaced(d)


@app.command("render")
def render_(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The issue, YYYY-MM."),
    template: str | None = typer.Option(
        None,
        "--template",
        "-t",
        help=f"One of {', '.join(TEMPLATES)}, or the path of a template file (default: digest.template).",
    ),
    notes: NotesStyle | None = typer.Option(
        None,
        "--notes",
        help="nested: every note a bullet; inline: the first after ': ' (default: digest.notes).",
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Render an issue as Markdown through a template (the shipped ones or a curator's copy).

    Example: aggregator digest render 2024-03 --template unnumbered --notes inline -o 2024-03.md
    """
    with open_service(ctx, sync=False) as service:
        style: Literal["nested", "inline"] | None = None if notes is None else notes.value
        rendered = service.digests.render(name, template, style)
    d, text = rendered.digest, rendered.text
    _warn_unplaced(d)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DigestError(f"{output}: cannot write: {exc.strerror or exc} (check the path)") from exc
    err_console().print(f"wrote {output} ({len(d.items)} items, template {rendered.template})")


@app.command("publish")
def publish(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The issue, YYYY-MM."),
    force: bool = typer.Option(
        False, "--force", help="Publish even if empty, with lint problems, or published already."
    ),
) -> None:
    """Mark an issue published: it is frozen from then on (changes need --force).

    Refused when the issue is empty, `digest lint` finds problems, or it is published already.

    Example: aggregator digest publish 2024-03
    """
    with open_service(ctx, sync=False) as service:
        when = service.digests.publish(name, force=force)
    console().print(f"published {name} at {when:%Y-%m-%d %H:%M} UTC")


@app.command("lint")
def lint(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The issue, YYYY-MM."),
    as_json: bool = typer.Option(False, "--json", help="The findings as a JSON array."),
) -> None:
    """Check an issue: the same article twice, articles also in another issue, items without a date,
    links that are not http(s), items in sections feeds.yaml no longer has, titles, labels or notes
    with control or bidi-override characters (U+202E...). Exits 1 when it finds any.

    Example: aggregator digest lint 2024-03 --json
    """
    with open_service(ctx, sync=False) as service:
        findings = service.digests.lint(name)
    if as_json:
        out = [{"kind": f.kind, "ids": list(f.ids), "message": f.message} for f in findings]
        typer.echo(json_dumps(out, indent=2))
    else:
        for f in findings:
            console().print(
                Text.assemble(styled(f.kind, "yellow"), ": ", show_controls(f.message)), soft_wrap=True
            )
        if not findings:
            console().print(f"{name}: no problems found")
    if findings:
        raise typer.Exit(ExitCode.FAILED)


@app.command("move")
def move(
    ctx: typer.Context,
    candidate_id: int = typer.Argument(..., help="The item to move (its candidate id).", min=1, max=ID_MAX),
    before: int | None = typer.Option(
        None, "--before", help="Put it just before this item.", min=1, max=ID_MAX
    ),
    after: int | None = typer.Option(None, "--after", help="Put it just after this item.", min=1, max=ID_MAX),
    top: bool = typer.Option(False, "--top", help="Put it first in its subsection."),
    bottom: bool = typer.Option(False, "--bottom", help="Put it last in its subsection."),
    force: bool = typer.Option(False, "--force", help="Reorder a published issue anyway."),
    curator: str | None = curator_option(),
) -> None:
    """Reorder an item within its subsection; every item of the subsection keeps the order shown.

    The move is logged like a triage decision: `aggregator undo` puts the old order back.

    Example: aggregator digest move 412 --before 398
    """
    chosen = [flag for flag, on in (("--before", before is not None), ("--after", after is not None),
                                    ("--top", top), ("--bottom", bottom)) if on]  # fmt: skip
    if len(chosen) != 1:
        print_error("give exactly one of --before ID, --after ID, --top, --bottom")
        raise typer.Exit(ExitCode.USAGE)
    to: Literal["top", "bottom"] | None = "top" if top else "bottom" if bottom else None
    with open_service(ctx, sync=False) as service:
        require_candidates(service, [cid for cid in (candidate_id, before, after) if cid is not None])
        result = service.digests.move(
            candidate_id, before=before, after=after, to=to, force=force, curator=curator_name(curator)
        )
    order = ", ".join(str(cid) for cid in result.order)
    console().print(f"moved {candidate_id}: {result.issue} {result.section} is now {order}")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A digest in Markdown."),
    digest: str = typer.Option(..., "--digest", "-d", help="The issue to import into, YYYY-MM."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Do the import, show what it did, then undo it: nothing is written."
    ),
    force: bool = typer.Option(False, "--force", help="Import into a published issue anyway."),
    curator: str | None = curator_option(),
) -> None:
    """Import an existing digest (numbered or not, notes inline or nested) as promoted items.

    Headings are matched to the sections of feeds.yaml; one that matches none is reported with its line
    and nothing is written. Items are matched to stored candidates by URL, or become new candidates.
    Importing the same file again changes nothing; a changed file updates the issue to match it.
    --dry-run runs the very same import in a transaction it rolls back, so it reports the same
    counts and refusals.

    Example: aggregator digest import 2022-12.md --digest 2022-12 --dry-run
    """
    try:
        check_name(digest)
    except DigestError as exc:
        raise typer.BadParameter(str(exc), param_hint="--digest") from None
    text = _read_digest(file)
    out = console()
    # One transaction, usually under a second: on a terminal a spinner with the elapsed time says it
    # is working (a large import against a busy database can take longer); elsewhere the result says it.
    working = out.status(f"importing {file.name} into {digest}...") if out.is_terminal else nullcontext()
    with open_service(ctx, sync=False) as service, working:
        imported = service.digests.import_digest(
            text, digest, source=str(file), dry_run=dry_run, force=force, curator=curator_name(curator)
        )
    output = _import_output(imported)
    for warning in output.warnings:
        print_error(warning, label="warning")
    for line in output.lines:
        out.print(line, soft_wrap=isinstance(line, Text))


#: The largest digest file read; the curators' largest is 31 KB.
MAX_DIGEST_BYTES = 1 << 20


def _read_digest(file: Path) -> str:
    """The text of a digest file, or a DigestError saying which byte of which line is not UTF-8."""
    try:
        with file.open("rb") as f:
            data = f.read(MAX_DIGEST_BYTES + 1)
    except OSError as exc:
        raise DigestError(f"{file}: cannot read it: {exc.strerror or exc} (check the path)") from None
    if len(data) > MAX_DIGEST_BYTES:
        raise DigestError(
            f"{file}: larger than {MAX_DIGEST_BYTES >> 20} MiB, which no digest is (is it the right file?)"
        )
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = body.rfind(b"\n", 0, exc.start) + 1
        line = body.count(b"\n", 0, exc.start) + 1
        column = len(body[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise DigestError(
            f"{file}:{line}:{column}: byte 0x{body[exc.start]:02x} is not UTF-8 (save the file as UTF-8)"
        ) from None


@dataclass(frozen=True, slots=True)
class _ImportOutput:
    warnings: tuple[str, ...]
    lines: tuple[Text | Table, ...]


_DONE = {"created": "create", "promoted": "promote", "updated": "update", "unchanged": "unchanged"}


def _import_output(imported: Imported) -> _ImportOutput:
    """What ``digest import`` prints: the same counts whether it is a dry run or not."""
    plan, report = imported.plan, imported.report
    counts = (
        f"{len(plan.actions)} items into {plan.issue}: {report.created} new candidates, "
        f"{report.promoted} promoted, {report.updated} updated, {report.unchanged} unchanged"
    )
    if not imported.dry_run:
        notices = [Text(show_controls(f"line {a.item.line}: {a.notice}")) for a in plan.actions if a.notice]
        return _ImportOutput(plan.warnings, (*notices, Text(f"imported {counts}")))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("line", "section", "action", "candidate", "title", "notes"):
        table.add_column(column, overflow="fold" if column in ("title", "notes") else "ellipsis")
    for a, outcome in zip(plan.actions, report.outcomes, strict=True):
        cid = "new" if a.candidate_id is None else str(a.candidate_id)
        table.add_row(str(a.item.line), a.item.section, _DONE[outcome], cid, a.item.title, a.notice or "")
    summary = Text(show_controls(f"dry run: would import {counts}; nothing was written"))
    return _ImportOutput(plan.warnings, (table, summary))
