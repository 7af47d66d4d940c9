"""Control and bidi-override characters: shown on a terminal, removed from documents, escaped in JSON."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.cli.context import SafeConsole
from aggregator.controls import CONTROLS, find_controls, json_dumps, show_controls, strip_controls

ESCAPE = re.compile(r"\\x[0-9a-f]{2}|\\u[0-9a-f]{4}")
HOSTILE = [
    "\x1b[2J",  # clear screen
    "\x1b]0;owned\x07",  # window title
    "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x9b31m",  # one-byte CSI
    "safe\rEVIL",
    "abc\u202egnp.exe",
    "\u2066isolated\u2069",
    "\x00\x08\x7f",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_show_controls_leaves_no_control_and_keeps_the_rest(text: str) -> None:
    shown = show_controls(text)
    assert not CONTROLS.search(shown)
    # Each one left a visible escape, and the characters around them are untouched.
    assert len(ESCAPE.findall(shown)) == len(CONTROLS.findall(text))
    assert ESCAPE.sub("", shown) == strip_controls(text)


def test_show_controls_writes_escapes_a_person_can_read() -> None:
    assert show_controls("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert show_controls("x\u202ey") == "x\\u202ey"
    assert show_controls("line one\n\tline two") == "line one\n\tline two"
    assert show_controls("안녕하세요 こんにちは שלום\u200f") == "안녕하세요 こんにちは שלום\u200f"


def test_strip_and_find() -> None:
    assert strip_controls("a\r\nb\x1b[1mc\u202ed") == "a\nb[1mcd"
    assert find_controls("a\u202eb\x1bc\u202e") == ["U+202E", "U+001B"]
    assert find_controls("plain [/] text") == []


@given(st.text())
def test_json_dumps_round_trips_and_prints_safely(text: str) -> None:
    dumped = json_dumps({"title": text, "notes": [text]})
    assert json.loads(dumped) == {"title": text, "notes": [text]}
    assert not CONTROLS.search(dumped)


@given(st.text())
def test_show_controls_never_leaves_a_control(text: str) -> None:
    assert not CONTROLS.search(show_controls(text))
    assert not CONTROLS.search(strip_controls(text))


@pytest.mark.parametrize(
    "text",
    ["[/]", "[INST] hello [/INST]", "[link=http://evil.example/]click me[/link]", ":rocket: [bold]x[/bold]"],
)
def test_safe_console_prints_markup_as_written(text: str) -> None:
    out = io.StringIO()
    SafeConsole(file=out, force_terminal=True, width=200).print(text)
    printed = out.getvalue()
    assert text in printed
    assert "\x1b]8;" not in printed  # no hyperlink was opened


def test_safe_console_shows_controls_in_table_cells() -> None:
    from rich.table import Table

    table = Table()
    table.add_column("title")
    table.add_row("before\x1b[2Jafter \u202eevil")
    out = io.StringIO()
    SafeConsole(file=out, force_terminal=False, width=200).print(table)
    printed = out.getvalue()
    assert "before\\x1b[2Jafter \\u202eevil" in printed
    assert "\x1b" not in printed and "\u202e" not in printed
