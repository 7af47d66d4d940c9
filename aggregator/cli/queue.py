"""``aggregator queue``: the candidates waiting for a decision, filtered, searched, a page at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from aggregator.cli.context import (
    COUNT_MAX,
    bad_values,
    check_section,
    console,
    iso,
    open_service,
    parse_statuses,
    styled,
)
from aggregator.controls import json_dumps, show_controls
from aggregator.statuses import QueueSort

if TYPE_CHECKING:
    from aggregator.triage_types import QueueItem, QueueQuery

#: A count past this many is shown as "10,000+" (counting stops there).
COUNT_CAP = 10_000


def register(app: typer.Typer) -> None:
    app.command("queue")(queue)


def queue(
    ctx: typer.Context,
    status: list[str] = typer.Option(
        [],
        "--status",
        help="Only this status: new, shortlisted, promoted, rejected, snoozed, or all; repeatable "
        "(default: new and shortlisted, what still needs a decision).",
    ),
    feed: list[str] = typer.Option([], "--feed", "-f", help="Only this feed (by name); repeatable."),
    section: str | None = typer.Option(
        None,
        "--section",
        "-s",
        help="Only this section or one inside it (aws lists aws/mlops too): where an item was promoted, "
        "else its feed's hint, else its suggested section; a feed hinted only research is not listed "
        "under research/nlp.",
    ),
    since: str | None = typer.Option(
        None, "--since", help="Published on or after: YYYY-MM-DD, an ISO date-time, or 7d / 2w ago."
    ),
    search: str | None = typer.Option(
        None, "--search", "-q", help="Words that must all be in the title or text (Korean and Japanese too)."
    ),
    sort: str = typer.Option(
        "date",
        "--sort",
        help="date (newest first), feed (by feed name, then newest) or score (most important first).",
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=COUNT_MAX, help="At most this many."),
    offset: int = typer.Option(
        0, "--offset", min=0, max=COUNT_MAX, help="Skip this many first (the next page)."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON array with every field, for scripts."),
) -> None:
    """List the queue: candidates to decide on, newest first (most important first with --sort score).

    A cross-posted article is listed once, as its group's primary, with its other routes.

    Example: aggregator queue --feed aws-ml --since 2w --search "sagemaker inference" --limit 20
    """
    statuses = parse_statuses(status)
    if sort not in ("date", "feed", "score"):
        raise typer.BadParameter(f"{sort!r} is not a sort: write date, feed or score", param_hint="--sort")
    with open_service(ctx, sync=False) as service:
        section = check_section(service.taxonomy, section)
        from aggregator.triage_types import QueueQuery

        query = QueueQuery(
            statuses=statuses,
            feeds=tuple(feed),
            section=section,
            search=search,
            sort=cast(QueueSort, sort),
            limit=limit,
            offset=offset,
        )
        with bad_values():
            page = service.queue.page(query, since=since, count_up_to=None if as_json else COUNT_CAP)
    if as_json:
        typer.echo(json_dumps([item_dict(item) for item in page.items], indent=2))
        return
    print_items(list(page.items), page.query, page.total or 0)


def item_dict(item: QueueItem) -> dict[str, Any]:
    """A queue item as JSON: the candidate's keys for the same facts (``feed``, a nested ``article``,
    ``routes`` as objects), then its triage state and score as `show --json` names them."""
    return {
        "id": item.id,
        "feed": item.feed_name,
        "label": item.label,
        "title": item.title,
        "url": item.url,
        "published_at": iso(item.published_at),
        "status": item.status,
        "group_id": item.group_id,
        "language": item.language,
        "section_hint": item.section_hint,
        "article": None
        if item.extract_status is None
        else {"status": item.extract_status, "word_count": item.word_count},
        "version": item.version,
        "notes": list(item.notes),
        "snoozed_until": iso(item.snoozed_until),
        "digest": item.digest,
        "section": item.section,
        "decided_by": item.decided_by,
        "decided_at": iso(item.decided_at),
        "score": item.score,
        "routes": [{"feed": name} for name in item.routes],
    }


def print_items(items: list[QueueItem], query: QueueQuery, total: int) -> None:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name, kwargs in (
        ("id", {"justify": "right", "no_wrap": True}),
        ("date", {"no_wrap": True}),
        ("feed", {"no_wrap": True, "max_width": 24}),
        ("status", {"no_wrap": True}),
        ("score", {"justify": "right", "no_wrap": True}),
        ("title", {"overflow": "fold", "ratio": 1}),
    ):
        table.add_column(name, **kwargs)
    for item in items:
        table.add_row(
            str(item.id),
            item.published_at.strftime("%Y-%m-%d"),
            item.feed_name if not item.label else f"{item.feed_name} ({item.label})",
            _status_text(item),
            "-" if item.score is None else f"{item.score:.0f}",
            _title(item),
        )
    out = console()
    if not items:
        out.print(f"no candidate matches ({describe(query, total)})")
        return
    out.print(table)
    shown = f"{query.offset + 1}-{query.offset + len(items)}"
    of = f"{COUNT_CAP:,}+" if total >= COUNT_CAP else f"{total:,}"
    more = query.offset + len(items) < total
    hint = f"; next page: --offset {query.offset + len(items)}" if more else ""
    out.print(styled(f"{shown} of {of}{hint}", "dim"))


def describe(query: QueueQuery, total: int) -> str:
    """The filters of an empty page in words: ``status new or shortlisted, feed alpha``."""
    parts = [f"status {' or '.join(query.statuses)}"]
    if query.feeds:
        parts.append(f"feed {' or '.join(query.feeds)}")
    if query.section:
        parts.append(f"section {query.section}")
    if query.search:
        parts.append(f"words {query.search!r}")
    if query.since is not None:
        parts.append(f"since {query.since:%Y-%m-%d}")
    if query.offset and total:
        parts.append(f"past --offset {query.offset}: there are {total:,}")
    return show_controls(", ".join(parts))


def _title(item: QueueItem) -> Text | str:
    extra = [_notes(len(item.notes))] if item.notes else []
    if item.routes:  # the same article by other routes: listed once, here
        extra.append("also via " + ", ".join(show_controls(r) for r in item.routes))
    if not extra:
        return item.title
    return Text.assemble(show_controls(item.title), styled(f" ({'; '.join(extra)})", "dim"))


def _notes(n: int) -> str:
    return "1 note" if n == 1 else f"{n} notes"


def _status_text(item: QueueItem) -> str:
    if item.status == "promoted" and item.section:
        return f"promoted {item.digest or ''} {item.section}".replace("  ", " ")
    if item.status == "snoozed" and item.snoozed_until is not None:
        return f"snoozed to {item.snoozed_until:%Y-%m-%d}"
    return item.status
