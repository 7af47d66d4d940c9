"""`aggregator show` on a real terminal (a pty): paged only when longer than the screen, colour drawn."""

from __future__ import annotations

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

from tests.stock import Stock
from tests.test_triage_cli import invoke, st

__all__ = ["st"]

AGGREGATOR = str(Path(sys.executable).with_name("aggregator"))

RECORDER = """
import json, os, sys
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump({"LESS": os.environ.get("LESS"), "input": sys.stdin.read()}, out)
"""


def on_a_terminal(args: list[str], rows: int, env: dict[str, str], keys: bytes = b"") -> str:
    """Run the command with a pty of ``rows`` x 100 as its terminal; type ``keys`` once it has drawn."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 100, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    full |= {"TERM": "xterm-256color"} | env
    for name in [k for k, v in env.items() if v == "<unset>"]:
        del full[name]
    proc = subprocess.Popen([AGGREGATOR, *args], stdin=slave, stdout=slave, stderr=slave, env=full)
    os.close(slave)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, f"the command waited for input; it printed {seen[-400:]!r}"
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command and its pager are done with the terminal
                break
            if not chunk:
                break
            seen += chunk
            if keys and b"Serving many models" in seen:
                os.write(master, keys)
                keys = b""
    finally:
        os.close(master)
        assert proc.wait(timeout=30) == 0
    return seen.decode("utf-8", "replace")


def recorder(tmp_path: Path) -> tuple[str, Path]:
    script, record = tmp_path / "pager.py", tmp_path / "paged.json"
    script.write_text(RECORDER, encoding="utf-8")
    return f"{sys.executable} {script} {record}", record


def test_a_short_record_is_printed_without_a_pager(st: Stock, tmp_path: Path) -> None:
    pager, record = recorder(tmp_path)
    shown = on_a_terminal(
        ["show", str(st.id("Serving many models"))], 200, {"PAGER": pager, "LESS": "<unset>"}
    )
    assert not record.exists()
    assert "Serving many models" in shown and "\x1b[1m" in shown  # bold drawn by the terminal itself


def test_a_long_record_is_paged_with_less_told_to_draw_colour(st: Stock, tmp_path: Path) -> None:
    cid = st.id("Serving many models")
    assert invoke("extract", "--id", str(cid)).exit_code == 0
    pager, record = recorder(tmp_path)
    on_a_terminal(["show", str(cid)], 8, {"PAGER": pager, "LESS": "<unset>"})
    paged = json.loads(record.read_text(encoding="utf-8"))
    assert paged["LESS"] == "-R"
    assert "Serving many models" in paged["input"] and "\x1b[1m" in paged["input"]
    assert "Body text of the post." in paged["input"]

    record.unlink()
    on_a_terminal(["show", str(cid)], 8, {"PAGER": pager, "LESS": "-S"})  # the user's LESS is theirs
    assert json.loads(record.read_text(encoding="utf-8"))["LESS"] == "-S"


def test_the_real_less_draws_the_styles_and_quits_on_q(st: Stock) -> None:
    cid = st.id("Serving many models")
    assert invoke("extract", "--id", str(cid)).exit_code == 0
    shown = on_a_terminal(["show", str(cid)], 8, {"PAGER": "<unset>", "LESS": "<unset>"}, keys=b"q")
    assert "\x1b[1m" in shown and "ESC[1m" not in shown  # less -R passes SGR on; plain less shows ESC[
    # A short record never starts less: nothing to quit, the command ends on its own.
    short = on_a_terminal(
        ["show", str(st.id("루다 생성 모델"))], 200, {"PAGER": "<unset>", "LESS": "<unset>"}
    )
    assert "루다 생성 모델" in short
