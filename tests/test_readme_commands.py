"""Every command the README shows exists, and every option it shows for a command is one that command
takes: a renamed option or a removed command cannot leave the README telling people to type it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from aggregator.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"

#: `aggregator ...` in backticks, or a line of a code block that starts with it.
_INLINE = re.compile(r"`((?:\.venv/bin/)?aggregator(?: [^`]*)?)`")
_BLOCK = re.compile(r"^\s*(?:\$ )?((?:\.venv/bin/)?aggregator(?: .*)?)$", re.M)
_OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def shown_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```(?:sh|console|bash|text)?\n(.*?)```", text, re.S))
    found = _INLINE.findall(text) + [line.split("  #", 1)[0].rstrip() for line in _BLOCK.findall(blocks)]
    return sorted({c.replace("\\|", "|") for c in found if "COMMAND" not in c})


def is_group(command: Any) -> bool:
    return hasattr(command, "commands")  # Typer's own click, or click: a group has commands


def resolve(words: list[str]) -> tuple[Any, list[str], list[str]]:
    """The command ``words`` name (descending through groups), its path, and the words after it."""
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    rest = list(words)
    while is_group(command) and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    return command, path, rest


def test_the_readme_shows_commands() -> None:
    assert len(shown_commands()) > 30  # the extraction below still finds what the README shows


def test_every_command_and_option_the_readme_shows_exists() -> None:
    problems = []
    for shown in shown_commands():
        words = shown.split()[1:]
        global_options: list[str] = []
        while words and words[0] in ("--config", "-c", "-v", "-vv", "-vvv", "--verbose"):
            global_options.append(words.pop(0))
            if global_options[-1] in ("--config", "-c") and words:
                words.pop(0)
        command, path, rest = resolve(words)
        if is_group(command) and not path and rest and not rest[0].startswith("-"):
            problems.append(f"{shown}: no command {rest[0]!r}")
            continue
        if is_group(command) and path:
            problems.append(f"{shown}: {' '.join(path)} needs a subcommand")
            continue
        known = {"--help"}
        for param in command.params:
            known.update(param.opts, param.secondary_opts)
        if not path:
            known.update(("--install-completion", "--show-completion", "--version"))
        for option in _OPTION.findall(" ".join(rest)):
            if option not in known:
                problems.append(f"{shown}: {' '.join(path) or 'aggregator'} has no option {option}")
    assert problems == []
