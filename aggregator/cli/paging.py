"""Paging a long text on a terminal, as git does: only when it does not fit, in a pager that draws colour.

Rendered first, the text goes straight to the terminal when it fits in the
screen's height (no pager to quit with ``q``). Longer, it goes to ``$PAGER``
(``less`` when unset; ``cat`` or empty: no pager) with ``LESS=-R`` when the
user has no ``LESS`` of their own, so ``less`` draws our bold and colours
instead of showing ``ESC[1m``. Every string from the world has had its ESC
shown as ``\\x1b`` already, so ``-R`` can only draw our styles.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable

from rich.console import Console

from aggregator.cli.context import console

#: What ``less`` gets when the user has no LESS of their own: draw colour (SGR) sequences.
LESS_DEFAULT = "-R"


def page(render: Callable[[Console], None]) -> None:
    """``render`` to stdout; on a terminal, through the pager when longer than the screen."""
    out = console()
    if not out.is_terminal:
        render(out)
        return
    with out.capture() as captured:
        render(out)
    text = captured.get()
    command = pager_command()
    if command is None or text.count("\n") < out.size.height:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    env = dict(os.environ)
    env.setdefault("LESS", LESS_DEFAULT)
    try:
        subprocess.run(command, input=text.encode("utf-8"), env=env, check=False)
    except OSError:  # no such pager: the text is still wanted
        sys.stdout.write(text)
        sys.stdout.flush()


def pager_command() -> list[str] | None:
    """``$PAGER`` split as the shell would, ``less`` when unset; None for no pager (empty or ``cat``)."""
    value = os.environ.get("PAGER")
    if value is None:
        return ["less"]
    words = shlex.split(value)
    if not words or words == ["cat"]:
        return None
    return words
