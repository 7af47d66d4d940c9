"""The CPUs this process may use: its affinity and its cgroup's CPU quota, not the host's core count.

A container on a 64-core host limited to two CPUs (``docker run --cpus 2``,
a Kubernetes CPU limit) sees 64 cores in ``os.cpu_count()``; starting a
worker per core there costs 64 processes of up to 1 GiB each and gains
nothing. :func:`usable_cpus` is the least of:

- the CPUs the scheduler lets this process run on (``sched_getaffinity``:
  ``taskset``, ``docker run --cpuset-cpus``);
- the CPU quota of its cgroup and every cgroup above it, rounded up:
  cgroup v2 ``cpu.max`` (``"200000 100000"``: two CPUs; ``"max 100000"``: no
  limit), cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1: no limit);

and at least 1. The files are read under ``root`` (``/`` by default), so
tests point it at fake ones. Unreadable or malformed files mean no limit: a
quota we cannot read never stops the service. Pure standard library; base layer.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

__all__ = ["cgroup_cpu_limit", "usable_cpus"]


def usable_cpus(root: Path = Path("/")) -> int:
    """How many CPUs this process may keep busy at once (at least 1)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        cpus = min(cpus, math.ceil(limit))
    return max(1, cpus)


def cgroup_cpu_limit(root: Path = Path("/")) -> float | None:
    """The tightest CPU quota over this process's cgroups (v2 and v1), in CPUs; None when unlimited."""
    limits = [*_v2_quotas(root), *_v1_quotas(root)]
    return min(limits, default=None)


def _memberships(root: Path) -> list[tuple[str, str]]:
    """``(controllers, path)`` of each line of ``/proc/self/cgroup`` (``""`` controllers: cgroup v2)."""
    try:
        text = (root / "proc/self/cgroup").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            found.append((parts[1], parts[2].strip()))
    return found


def _folders(mount: Path, path: str) -> Iterator[Path]:
    """The cgroup folder of ``path`` under ``mount`` and each folder above it, up to the mount itself.

    Without a cgroup namespace the path names the host's hierarchy, of which a
    container sees only its own part mounted as the root: the mount is always read.
    """
    parts = PurePosixPath(path).parts[1:] if path.startswith("/") else ()
    for depth in range(len(parts), 0, -1):
        yield mount.joinpath(*parts[:depth])
    yield mount


def _v2_quotas(root: Path) -> Iterator[float]:
    mount = root / "sys/fs/cgroup"
    for controllers, path in _memberships(root):
        if controllers:
            continue
        for folder in _folders(mount, path):
            quota = _v2_quota(folder / "cpu.max")
            if quota is not None:
                yield quota


def _v2_quota(file: Path) -> float | None:
    try:
        fields = file.read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return None
    if len(fields) != 2 or fields[0] == "max":
        return None
    return _ratio(fields[0], fields[1])


def _v1_quotas(root: Path) -> Iterator[float]:
    for controllers, path in _memberships(root):
        names = controllers.split(",")
        if "cpu" not in names:
            continue
        for mount_name in dict.fromkeys((controllers, "cpu,cpuacct", "cpu")):
            mount = root / "sys/fs/cgroup" / mount_name
            for folder in _folders(mount, path):
                quota = _v1_quota(folder)
                if quota is not None:
                    yield quota


def _v1_quota(folder: Path) -> float | None:
    try:
        quota = (folder / "cpu.cfs_quota_us").read_text(encoding="ascii", errors="replace").strip()
        period = (folder / "cpu.cfs_period_us").read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return _ratio(quota, period)


def _ratio(quota: str, period: str) -> float | None:
    """``quota / period`` in CPUs; None for no limit (-1, max) or numbers that make no sense."""
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    if q <= 0 or p <= 0:
        return None
    return q / p
