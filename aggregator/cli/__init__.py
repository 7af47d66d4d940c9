"""The ``aggregator`` command line: thin Typer commands over the modules below it.

Every command opens the application through :func:`aggregator.cli.context.open_app`
(settings, feeds.yaml, database, schema check) and prints with Rich. Errors a
person can act on are printed on one line without a traceback: exit 2 for
configuration and usage errors, 1 for other failures (a database that is busy,
down or read-only among them).

A run of ``aggregator`` (:func:`main`) loads only the module of the command it
runs: Typer builds a command's parameters each time it starts, and importing
and building all 28 cost every command about 30 ms. ``aggregator.cli.app`` is
the whole command line, built on first use (``--help``, tests, documentation).

Text arguments that are not valid UTF-8 (a shell passes such bytes as
surrogate escapes) are refused as a usage error before any command runs: they
can be neither stored nor printed. Paths are exempt; they are the system's bytes.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import typer
from typer._click.exceptions import ClickException  # Typer 0.28 carries its own Click
from typer.core import TyperGroup

from aggregator import __version__
from aggregator.cli.context import CliState, print_error
from aggregator.cli.voice import ExitCode, tune, usage_line
from aggregator.errors import AggregatorError, ConfigError


class _Group(TyperGroup):
    """Turns aggregator's errors into a clear message and an exit code."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        tune(self)
        for command in _leaves(self.commands.values()):
            tune(command)
            if command.callback is not None:
                command.callback = _text_checked(command.callback, command.params)

    def main(self, args: Any = None, prog_name: str | None = None, *rest: Any, **extra: Any) -> Any:
        """Click's main, with its usage errors printed as one ``error:`` line like every other error."""
        if extra.get("standalone_mode", True) is False:
            return super().main(args, prog_name, *rest, **extra)
        extra["standalone_mode"] = False
        try:
            code = super().main(args, prog_name, *rest, **extra)
        except ClickException as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # the help is printed already
                print_error(usage_line(exc))
            sys.exit(exc.exit_code)
        except typer.Abort:
            print_error("aborted")
            sys.exit(ExitCode.INTERRUPTED)
        sys.exit(code if isinstance(code, int) else ExitCode.OK)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for line in exc.problems or [str(exc)]:
                print_error(line)
            raise typer.Exit(ExitCode.USAGE) from exc
        except AggregatorError as exc:
            print_error(str(exc))
            raise typer.Exit(ExitCode.FAILED) from exc


def _leaves(commands: Iterable[Any]) -> Iterable[Any]:
    for command in commands:
        if hasattr(command, "commands"):
            yield from _leaves(command.commands.values())
        else:
            yield command


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _text_checked(callback: Callable[..., Any], params: list[Any]) -> Callable[..., Any]:
    """``callback``, refusing any text parameter that holds undecodable bytes (surrogate escapes)."""
    by_name = {param.name: param for param in params}

    @functools.wraps(callback)
    def checked(**kwargs: Any) -> Any:
        for name, value in kwargs.items():
            for text in value if isinstance(value, list | tuple) else [value]:
                if isinstance(text, str) and _SURROGATE.search(text):
                    raise typer.BadParameter(
                        f"'{_shown(text)}' is not valid UTF-8 text (write it in UTF-8; check that the "
                        "terminal's encoding is UTF-8, e.g. LANG=C.UTF-8)",
                        param=by_name.get(name),
                    )
        return callback(**kwargs)

    return checked


def _shown(text: str) -> str:
    """``text`` with each undecodable byte as ``\\xNN`` (other lone surrogates as ``\\uNNNN``)."""
    return _SURROGATE.sub(
        lambda m: f"\\x{ord(m[0]) - 0xDC00:02x}" if 0xDC80 <= ord(m[0]) <= 0xDCFF else f"\\u{ord(m[0]):04x}",
        text,
    )


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aggregator {__version__}")
        raise typer.Exit()


def _root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="feeds.yaml to use (default: $AGGREGATOR_CONFIG, else ./feeds.yaml).",
        dir_okay=False,
    ),
    verbose: int = typer.Option(
        0,
        "--verbose",
        "-v",
        count=True,
        help="Log to stderr (-v: each feed as stored; -vv: debug; -vvv: libraries too).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Feed aggregation and triage for the curators of a monthly AI/ML digest.

    The database is $AGGREGATOR_DATABASE_URL, else a SQLite file under
    $AGGREGATOR_DATA_DIR (default ./data).

    Example: aggregator --config feeds.yaml poll --all
    """
    ctx.obj = CliState(config_path=config, verbose=verbose)


#: The command modules in the order ``--help`` lists them; the first six are groups of commands.
MODULES = (
    "db", "feeds", "candidates", "digest", "suggest", "email",
    "run", "poll", "articles", "triage", "queue", "tui", "ops", "demo",
)  # fmt: skip
_GROUPS = ("db", "feeds", "candidates", "digest", "suggest", "email")
#: The module of each command (``triage`` is the screen's command, in ``tui``).
COMMANDS = {
    **{name: name for name in _GROUPS},
    "run": "run",
    "poll": "poll",
    "extract": "articles",
    "show": "articles",
    **dict.fromkeys(("shortlist", "promote", "reject", "snooze", "restore", "unpromote", "note"), "triage"),
    "undo": "triage",
    "log": "triage",
    "queue": "queue",
    "triage": "tui",
    "health": "ops",
    "status": "ops",
    "demo": "demo",
}


def build(modules: tuple[str, ...] = MODULES) -> typer.Typer:
    """The command line with the commands of ``modules`` (all of them by default)."""
    root = typer.Typer(
        cls=_Group,
        name="aggregator",
        help="Feed aggregation and triage for the curators of a monthly AI/ML digest.",
        no_args_is_help=True,
        add_completion=True,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
    )
    root.callback()(_root)
    for name in MODULES:
        if name not in modules:
            continue
        module = importlib.import_module(f"aggregator.cli.{name}")
        if name in _GROUPS:
            root.add_typer(module.app, name=name)
        else:
            module.register(root)
    return root


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the whole command line, built once on first use
        whole = globals()["app"] = build()
        return whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def command_name(args: list[str]) -> str | None:
    """The command ``args`` run (their first word after the global options), or None when unsure."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--config", "-c"):
            i += 2
            continue
        if arg.startswith("--"):
            if arg in ("--help", "--version") or not arg.startswith(("--config=", "--verbose")):
                return None  # help, the version, or an option Typer will refuse: build everything
            i += 1
            continue
        if arg.startswith("-") and len(arg) > 1:
            flags = arg[1:]
            if set(flags) - {"v", "c"}:
                return None  # another short option, or -cPATH (unsure where PATH ends): build everything
            # -vv, or -vc PATH: a "c" at the end takes the next word; inside the word (-cv), the rest
            i += 2 if flags.endswith("c") else 1
            continue
        return arg
    return None


def main() -> None:
    module = COMMANDS.get(command_name(sys.argv[1:]) or "")
    (build((module,)) if module else build())()
