"""``aggregator triage``: the interactive triage screen over the queue."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from aggregator.cli.context import (
    check_section,
    curator_name,
    curator_option,
    open_service,
    parse_statuses,
    print_error,
)
from aggregator.digest.names import check_name
from aggregator.errors import BadValueError
from aggregator.statuses import OPEN_STATUSES, STATUSES


def register(app: typer.Typer) -> None:
    app.command("triage")(triage)


def _fail(message: str) -> typer.Exit:
    print_error(message)
    return typer.Exit(2)


def triage(
    ctx: typer.Context,
    status: list[str] = typer.Option(
        [],
        "--status",
        help=f"Show candidates in this state; repeatable: {', '.join(STATUSES)} or all "
        f"(default: {' and '.join(OPEN_STATUSES)}).",
    ),
    feed: list[str] = typer.Option([], "--feed", help="Only this feed (by name); repeatable."),
    section: str | None = typer.Option(
        None, "--section", help="Only this section (promoted there, else hinted by the feed), e.g. aws."
    ),
    search: str | None = typer.Option(None, "--search", help="Full-text search over titles and text."),
    digest: str | None = typer.Option(
        None, "--digest", "-d", help="The issue `p` promotes into, YYYY-MM (default: this month)."
    ),
    curator: str | None = curator_option(),
) -> None:
    """Work the queue on an interactive screen: read, promote, shortlist, reject, snooze, undo.

    j/k move, Enter reads, p promotes (section picker, then a note), s shortlists,
    x rejects, z snoozes, e edits notes, u undoes, m marks (an action applies to
    every marked item), / searches, f filters, o opens the browser, ? lists every key.
    Needs a terminal (80x24 is enough, over SSH too).

    Example: aggregator triage --status new --feed aws-ml --search "inference"
    """
    statuses = parse_statuses(status)
    if digest is not None:
        check_name(digest)
    if not _has_terminal():
        raise _fail("aggregator triage needs a terminal; for scripts use `aggregator queue`")
    with open_service(ctx, sync=False) as service:
        try:
            service.queue.check_feeds(feed)
        except BadValueError as exc:
            raise _fail(exc.message) from None
        section = check_section(service.taxonomy, section)
        from aggregator.triage_types import QueueQuery

        query = QueueQuery(
            statuses=statuses,
            feeds=tuple(feed),
            section=section,
            search=search.strip() if search and search.strip() else None,
            sort="score",  # most important first (newest first among the unscored)
        )
        from aggregator.tui import TriageApp  # Textual loads only for this command

        screen = TriageApp(service, curator=curator_name(curator), query=query, digest=digest)
        with _logs_held():
            screen.run()
    if screen.return_code:
        raise typer.Exit(screen.return_code)


class _Held(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _logs_held() -> Iterator[None]:
    """Hold log records while the screen owns the terminal (a line on stderr tears it); print them after."""
    root = logging.getLogger()
    saved, held = root.handlers[:], _Held()
    root.handlers = [held]
    try:
        yield
    finally:
        root.handlers = saved
        for record in held.records:
            root.handle(record)


def _has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
