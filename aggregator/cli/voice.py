"""One voice for every command: the exit codes, usage errors on one ``error:`` line, readable metavars.

A usage error Click finds (a missing option, ``show abc``, ``--limit 0``) is
printed like every other error: one ``error: ...`` line on stderr naming the
option and what to write, with where to read more; never a boxed panel. Help
names each value by what it is (``--limit N``, ``--feed NAME``), never by
its Python type (``<list[str]>``, ``<int range> [x>=1]``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from typer._click.core import Command, Context, Parameter  # Typer 0.28 carries its own Click
from typer._click.exceptions import BadParameter, ClickException, MissingParameter
from typer._click.types import IntRange, ParamType
from typer._types import TyperChoice
from typer.core import TyperArgument, TyperOption


class ExitCode(IntEnum):
    """The exit code of every command: one rule, the README's table (tested against this)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    FEEDS_FAILED = 3
    INTERRUPTED = 130


#: What each exit code means, as the README's table says it.
EXIT_CODES: dict[ExitCode, str] = {
    ExitCode.OK: "success (a poll whose feeds failed too, unless --strict)",
    ExitCode.FAILED: (
        "the command ran and failed, the message says why: something asked for is not there (no "
        "candidate 42, no issue 2026-13 in the database), the database busy, unreachable or read-only, "
        "a refused decision, `digest lint` found problems, `health` found the service unhealthy"
    ),
    ExitCode.USAGE: (
        "the command was written wrong or its configuration is invalid: an unknown option, a value "
        "that is not a number, date or known name (a feed, a section, a status), feeds.yaml or the "
        "environment invalid; nothing was done"
    ),
    ExitCode.FEEDS_FAILED: "`poll --strict`: the cycle ran and at least one feed failed",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); what was stored stays",
}

#: Where to look when a candidate id names nothing: the same hint from every command taking ids.
MISSING_HINT = "see `aggregator queue --status all`"


def no_candidate(candidate_id: int) -> str:
    """The error line of an id naming no candidate (exit :attr:`ExitCode.FAILED`), as `promote` says it."""
    return f"no candidate {candidate_id} ({MISSING_HINT})"


#: Metavars by option name where the upper-cased name would mislead (a count, a date, an issue).
_METAVARS = {
    "limit": "N",
    "offset": "N",
    "max_age": "SECONDS",
    "metrics_port": "PORT",
    "since": "DATE",
    "until": "DATE",
    "month": "YYYY-MM",
    "digest": "YYYY-MM",
    "feed": "NAME",
    "curator": "NAME",
    "output": "PATH",
    "config": "PATH",
    "before": "ID",
    "search": "WORDS",
    "sort": "ORDER",
    "after": "ID",
}


class WholeNumber(IntRange):
    """An integer option or argument in a range, refused in words (``'abc' is not a whole number``)."""

    name = "whole number"

    def convert(self, value: Any, param: Parameter | None, ctx: Context | None) -> Any:
        try:
            text = str(value).strip()
            if "_" in text:  # int() reads 1_000; a command line does not
                raise ValueError(text)
            number = value if isinstance(value, int) else int(text)
        except ValueError:
            self.fail(f"{value!r} is not a whole number (write one such as 42)", param, ctx)
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            self.fail(f"{number} is out of range (write {self.words()})", param, ctx)
        return number

    def words(self) -> str:
        """The range in words: ``1 or more``, ``from 1 to 2147483647``."""
        if self.max is None:
            return f"{self.min} or more"
        if self.min is None:
            return f"{self.max} or less"
        return f"a number from {self.min} to {self.max}"

    def _describe_range(self) -> str:
        return ""  # the help says what the number is; the error message says the range

    def get_metavar(self, param: Parameter, ctx: Context) -> str | None:
        return ""  # an argument is named by its metavar (ID); an option gets one from tune()


def tune(command: Command) -> None:
    """``command``'s parameters with readable metavars, and its integers refused in words."""
    for param in command.params:
        if isinstance(param.type, IntRange) and not isinstance(param.type, WholeNumber):
            old = param.type
            param.type = WholeNumber(old.min, old.max, min_open=old.min_open, max_open=old.max_open)
        if isinstance(param, TyperArgument):
            if param.metavar is None and param.name:
                param.metavar = param.name.upper().removeprefix("CANDIDATE_")
            if not isinstance(param.type, WholeNumber | TyperChoice):
                param.type = _unnamed(param.type)
            continue
        if not isinstance(param, TyperOption) or param.is_flag or param.metavar:
            continue
        if param.count:
            param.metavar = ""  # -v, -vv: no value to name
            continue
        if isinstance(param.type, TyperChoice):
            continue
        name = param.name or ""
        param.metavar = _METAVARS.get(name, "N" if isinstance(param.type, WholeNumber) else name.upper())


def _unnamed(kind: ParamType) -> ParamType:
    """``kind`` without a type name in help (``<str>``, ``<path>``): the argument's metavar names it."""
    quiet = type(
        f"Unnamed{type(kind).__name__}", (type(kind),), {"get_metavar": lambda self, param=None, ctx=None: ""}
    )
    copy: ParamType = object.__new__(quiet)
    copy.__dict__.update(kind.__dict__)
    return copy


def usage_line(exc: ClickException) -> str:
    """The one line a usage error prints after ``error:``: what failed, where, and where to read more."""
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, MissingParameter) and exc.param is not None:
        missing = (
            "option is required (give it a value)" if isinstance(exc.param, TyperOption) else "is missing"
        )
        message = f"{_hint(exc.param)}: {missing}"
    elif isinstance(exc, BadParameter):
        hint = exc.param_hint or (_hint(exc.param) if exc.param is not None else None)
        if isinstance(hint, list | tuple):
            hint = " / ".join(hint)
        message = f"{hint}: {exc.message}" if hint else exc.message
    else:
        message = exc.format_message().rstrip(".")
        message = message[:1].lower() + message[1:]
    if ctx is None or not ctx.command_path:
        return message
    see = f"see `{ctx.command_path} --help`"
    return f"{message}; {see}" if message.endswith(")") else f"{message} ({see})"


def _hint(param: Parameter) -> str:
    """How a usage error names ``param``: ``--limit / -n``, or an argument's metavar (``ID``)."""
    if isinstance(param, TyperOption):
        return " / ".join(param.opts)
    return (param.metavar or (param.name or "").upper()).strip("[].")
