"""What every command shares: the global options and how to open the application."""

from __future__ import annotations

import getpass
import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO, cast

import typer
from rich.console import Console
from rich.text import Text

from aggregator.cli.voice import ExitCode, no_candidate
from aggregator.controls import show_controls
from aggregator.errors import BadValueError
from aggregator.service import Service
from aggregator.statuses import CURATOR_CHARS, OPEN_STATUSES, STATUSES, Status
from aggregator.triage import dates
from aggregator.triage.dates import when as when

if TYPE_CHECKING:
    from aggregator.app import App
    from aggregator.config import Settings
    from aggregator.configuration import Configuration
    from aggregator.taxonomy import Taxonomy


@dataclass
class CliState:
    config_path: Path | None = None
    verbose: int = 0


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, CliState):
        obj = root.obj = CliState()
    return obj


class SafeConsole(Console):
    """A Rich console for text from the world: strings are data, never markup, emoji codes or controls.

    Every string printed, in a table cell too, passes through :meth:`render_str`,
    which shows control and bidi-override characters as visible escapes
    (:func:`~aggregator.controls.show_controls`): ``[/]`` in a title is printed as
    it is written, ``[link=...]`` is no link, and ``ESC[2J`` cannot clear the
    screen. Styling is written as :class:`rich.text.Text` with a style, never as
    markup; a Text built from the world's strings must pass them through
    :func:`show_controls` itself.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = kwargs["emoji"] = False
        return super().render_str(show_controls(text), **kwargs)


class SafeFormatter(logging.Formatter):
    """``2026-01-05T08:00:00.123Z INFO logger: message``; text from the world shown, never acted on.

    The whole line (a traceback too) passes through :func:`show_controls`, so an
    escape sequence in a feed's error text is printed as ``\\x1b[2J``, not run.
    The time is UTC, as in the daemon's log.
    """

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def format(self, record: logging.LogRecord) -> str:
        return show_controls(super().format(record))


#: Libraries that log every migration step or request at INFO or DEBUG: heard only from ``-vvv`` on.
QUIET_LIBRARIES = ("alembic", "httpx", "httpcore", "apscheduler", "trafilatura", "htmldate", "courlan")


def setup_logging(verbose: int) -> None:
    """Log to stderr: warnings; ``-v`` each feed stored, page extracted; ``-vv`` debug; ``-vvv`` libraries."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose >= 3 else logging.WARNING)


#: The width of output that is not for a terminal (a pipe, a file): wide enough that nothing wraps.
PIPED_WIDTH = 1 << 20


def console() -> Console:
    """stdout: at the terminal's width on a terminal; piped, one record per line, never wrapped or cut.

    Piped (``| grep``, ``> file``, cron), a table's row is one line however long
    its URL or title: no column folds or ends in an ellipsis, and trailing
    padding is dropped.
    """
    out = SafeConsole(soft_wrap=False)
    if out.is_terminal:
        return out
    return SafeConsole(soft_wrap=False, width=PIPED_WIDTH, file=_TrimmedLines(sys.stdout))


class _TrimmedLines(io.TextIOBase):
    """A text stream that drops the spaces at the end of each line (a table's padding) on its way out."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.held = out, ""

    def write(self, text: str) -> int:
        lines = (self.held + text).split("\n")
        self.held = lines.pop()
        if lines:
            self.out.write("".join(line.rstrip(" ") + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self.held:
            self.out.write(self.held)
            self.held = ""
        self.out.flush()


def err_console() -> Console:
    return SafeConsole(stderr=True)


def styled(text: str, style: str) -> Text:
    """``text`` (from anywhere) in ``style``, with its control characters shown."""
    return Text(show_controls(text), style=style)


def print_error(message: str, *, label: str = "error") -> None:
    """``error: message`` on stderr, on one logical line; the message is data, never markup."""
    style = "yellow" if label == "warning" else "red"
    err_console().print(
        Text.assemble(styled(f"{label}:", style), " ", show_controls(message)), soft_wrap=True
    )


def load(ctx: typer.Context) -> tuple[Settings, Path, Configuration]:
    """The environment's settings, and feeds.yaml's path and frozen values (cached between commands)."""
    from aggregator.config import load_configuration, load_settings  # pydantic: when a command runs

    settings = load_settings()
    path = settings.config_path(state(ctx).config_path)
    return settings, path, load_configuration(path)


@contextmanager
def open_app(ctx: typer.Context, *, sync: bool = True) -> Iterator[App]:
    """Settings and feeds.yaml in, schema brought up to date, feeds synced: an App."""
    setup_logging(state(ctx).verbose)
    from aggregator.app import make_app  # the engine and the store: not for --help

    settings, path, config = load(ctx)
    app = make_app(settings, config, config_path=path)
    try:
        if sync:
            app.sync_feeds()
        yield app
    finally:
        app.close()


@contextmanager
def open_service(ctx: typer.Context, *, sync: bool = True) -> Iterator[Service]:
    """The service facade over :func:`open_app`'s application: what every command calls."""
    with open_app(ctx, sync=sync) as app:
        yield Service(app)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- options several commands share -----------------------------------------------

#: The largest candidate id (ids are 32-bit integers in PostgreSQL): a bigger one is a usage error.
ID_MAX = 2**31 - 1
#: The largest --limit or --offset (SQL takes 64-bit integers there).
COUNT_MAX = 2**63 - 1

CURATOR_HELP = "Who decides (default: $AGGREGATOR_CURATOR, else your login name)."


def curator_option() -> str | None:
    """``--curator``, read from $AGGREGATOR_CURATOR when not given."""
    return typer.Option(None, "--curator", envvar="AGGREGATOR_CURATOR", help=CURATOR_HELP)  # type: ignore[no-any-return]


def curator_name(value: str | None) -> str:
    """``--curator``, else $AGGREGATOR_CURATOR (Typer reads it into ``value``), else the login name."""
    if value and value.strip():
        name = value.strip()
        if len(name) > CURATOR_CHARS:
            raise typer.BadParameter(
                f"a curator's name has at most {CURATOR_CHARS} characters, this one {len(name):,} "
                "(give a shorter --curator or AGGREGATOR_CURATOR)",
                param_hint="--curator",
            )
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "curator"


def parse_date(value: str, now: datetime, *, relative: Literal["ahead", "ago"], option: str) -> datetime:
    """:func:`aggregator.triage.dates.parse_date`, its refusal as a usage error of ``option``."""
    with bad_values():
        return dates.parse_date(value, now, relative=relative, option=option)


@contextmanager
def bad_values() -> Iterator[None]:
    """A :class:`BadValueError` inside the block (a date, a feed name) as a usage error of its option."""
    try:
        yield
    except BadValueError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.option) from None


def parse_statuses(values: list[str]) -> tuple[Status, ...]:
    """``--status`` values (repeated or comma-separated; ``all``) as statuses; none: the open ones."""
    names = [part.strip().lower() for value in values for part in value.split(",") if part.strip()]
    if not names:
        return OPEN_STATUSES
    if "all" in names:
        return STATUSES
    for name in names:
        if name not in STATUSES:
            raise typer.BadParameter(
                f"unknown status {name!r} (not a status; write one of {', '.join(STATUSES)}, or all)",
                param_hint="--status",
            )
    return tuple(dict.fromkeys(cast(Status, name) for name in names))


def check_section(taxonomy: Taxonomy, section: str | None) -> str | None:
    """A ``--section`` value as an id of feeds.yaml (``aws`` or ``aws/mlops``), or a usage error."""
    if section is None:
        return None
    section = section.strip().strip("/")
    known = taxonomy.section_ids()
    if section not in known:
        listed = f"the sections in feeds.yaml are: {', '.join(known)}" if known else "feeds.yaml has none"
        raise typer.BadParameter(f"unknown section {section!r}; {listed}", param_hint="--section")
    return section


def require_candidates(service: Service, candidate_ids: list[int]) -> None:
    """Exit :attr:`ExitCode.FAILED` with one ``error: no candidate N`` line per id that names nothing."""
    missing = service.articles.missing(candidate_ids)
    for cid in missing:
        print_error(no_candidate(cid))
    if missing:
        raise typer.Exit(ExitCode.FAILED)
