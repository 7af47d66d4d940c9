"""CPU time and peak memory of a benchmark's process and its children, live ones included.

The App keeps its worker pools alive between polls and extractions, so the
workers' CPU never reaches ``RUSAGE_CHILDREN`` while a benchmark measures: the
children still running are read from /proc (Linux) as well.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

#: Children whose CPU and memory are not the measured work's (a benchmark's own server).
IGNORED: set[int] = set()


def _live_children() -> list[Path]:
    """/proc entries of this process's children still running, the ignored ones excepted."""
    me = os.getpid()
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == me and int(stat.parent.name) not in IGNORED:
            out.append(stat.parent)
    return out


def cpu_seconds() -> float:
    """CPU of this process and its children: those reaped, and those still running."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    live = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for child in _live_children():
        try:
            fields = (child / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        live += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime + live


def peak_rss_mb() -> float:
    """The largest peak of one process: this one, a reaped child or a live one."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    live = 0
    for child in _live_children():
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                live = max(live, int(line.split()[1]))
    return max(own, kids, live) / 1024
