"""``aggregator candidates``: what the polls have stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from aggregator.cli.context import COUNT_MAX, console, iso, open_service
from aggregator.controls import json_dumps

if TYPE_CHECKING:
    from aggregator.types import Candidate

app = typer.Typer(help="Stored candidates.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    feed: list[str] = typer.Option([], "--feed", "-f", help="Only this feed (by name); repeatable."),
    status: str | None = typer.Option(None, "--status", help="Only candidates in this state, e.g. new."),
    limit: int = typer.Option(
        50, "--limit", "-n", min=1, max=COUNT_MAX, help="At most this many, newest first."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON array, for scripts."),
) -> None:
    """List stored candidates, newest first.

    Example: aggregator candidates list --feed huggingface --limit 20 --json
    """
    with open_service(ctx, sync=False) as service:
        items = service.polling.candidates(feed_names=feed or None, status=status, limit=limit)
    if as_json:
        typer.echo(json_dumps([candidate_dict(c) for c in items], indent=2))
        return
    if not items:
        asked = [f"feed {' or '.join(feed)}"] if feed else []
        asked += [f"status {status}"] if status else []
        console().print(f"no candidate matches ({', '.join(asked) or 'none stored yet'})", markup=False)
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name, kwargs in (
        ("id", {"justify": "right"}),
        ("date", {"no_wrap": True}),
        ("feed", {"no_wrap": True}),
        ("title", {"overflow": "fold"}),
        ("group", {"justify": "right"}),
    ):
        table.add_column(name, **kwargs)
    for c in items:
        group = "" if c.group_id in (None, c.id) else str(c.group_id)
        table.add_row(str(c.id), c.published_at.strftime("%Y-%m-%d"), c.feed_name, c.title, group)
    console().print(table)


def candidate_dict(c: Candidate) -> dict[str, object]:
    """A candidate as JSON, the same in every command that prints one."""
    return {
        "id": c.id,
        "feed": c.feed_name,
        "label": c.label,
        "title": c.title,
        "url": c.url,
        "canonical_url": c.canonical_url,
        "author": c.author,
        "published_at": iso(c.published_at),
        "date_source": c.date_source,
        "first_seen_at": iso(c.first_seen_at),
        "updated_at": iso(c.updated_at),
        "status": c.status,
        "group_id": c.group_id,
        "language": c.language,
        "entry_key": c.entry_key,
    }
