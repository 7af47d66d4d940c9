"""``aggregator health`` and ``aggregator status``: the operator's view of a running service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.table import Table

from aggregator.cli.context import ID_MAX, console, iso, open_service, print_error, styled, when
from aggregator.cli.voice import ExitCode
from aggregator.controls import json_dumps, show_controls

if TYPE_CHECKING:
    from aggregator.ops_types import JobStatus, Replica, ServiceStatus
    from aggregator.types import FeedState

#: The default of --max-age, in seconds (``service.ops.HEARTBEAT_MAX_AGE``; not imported: kept light).
MAX_AGE_SECONDS = 120


def register(app: typer.Typer) -> None:
    app.command("health")(health)
    app.command("status")(status)


def _max_age_option() -> Any:
    return typer.Option(
        MAX_AGE_SECONDS,
        "--max-age",
        min=1,
        max=ID_MAX,
        help="Seconds a daemon's heartbeat may be old (default 120).",
    )


def health(
    max_age: int = _max_age_option(),
    any_host: bool = typer.Option(
        False, "--any-host", help="Accept a daemon on any host (default: only one on this host)."
    ),
) -> None:
    """Exit 0 when the service is alive, else 1 with one line saying what is wrong and what to do.

    Alive: the database answers, its schema is this aggregator's, and a daemon
    (`aggregator run`) on this host sent a heartbeat within --max-age seconds.
    Made for Docker's HEALTHCHECK and orchestrators' probes: it reads only the
    environment (not feeds.yaml) and never creates or migrates the database.

    Example: aggregator health --max-age 180
    """
    from aggregator.config import load_settings
    from aggregator.errors import AggregatorError, ConfigError
    from aggregator.service.ops import check_health, duration

    try:
        found = check_health(
            load_settings(), now=datetime.now(UTC), max_age=timedelta(seconds=max_age), any_host=any_host
        )
    except AggregatorError as exc:  # exit 1 even for a bad environment: Docker reserves exit 2
        for line in exc.problems if isinstance(exc, ConfigError) else [str(exc)]:
            print_error(line, label="unhealthy")
        raise typer.Exit(ExitCode.FAILED) from exc
    if found.problem is not None:
        print_error(found.problem, label="unhealthy")
        raise typer.Exit(ExitCode.FAILED)
    daemon, age = found.daemon, found.heartbeat_age
    assert daemon is not None and age is not None
    typer.echo(
        show_controls(
            f"healthy: daemon {daemon.host}:{daemon.pid} sent a heartbeat {duration(age)} ago "
            f"({found.database}, schema {found.revision})"
        )
    )


def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON object, for scripts and monitoring."),
    max_age: int = _max_age_option(),
) -> None:
    """Show the daemons, the feeds due and failing, pending extractions, and each job's last and next run.

    A daemon counts as running when its heartbeat is at most --max-age seconds
    old; the next runs are those the freshest running daemon scheduled.

    Example: aggregator status --json
    """
    with open_service(ctx, sync=False) as service:
        found = service.ops.status(max_age=timedelta(seconds=max_age))
    if as_json:
        typer.echo(json_dumps(status_dict(found), indent=2))
    elif console().is_terminal:
        _print_rich(found)
    else:
        for line in plain_lines(found):
            typer.echo(show_controls(line))


# -- the words both layouts share ------------------------------------------------------------


def _age(found: ServiceStatus, moment: datetime) -> str:
    from aggregator.service.ops import duration

    return f"{duration(max(found.now - moment, timedelta(0)))} ago"


def tick_text(summary: Mapping[str, Any]) -> str:
    """A daemon's summary but its next runs and gauges, as ``polled 12, new 3``: what its last tick did."""
    parts = []
    for key, value in summary.items():
        if key in ("next_runs", "gauges"):
            continue
        inner = value if isinstance(value, Mapping) else {key: value}
        parts += [
            f"{k} {v}"
            for k, v in inner.items()
            if isinstance(v, str | int | float)
            and v is not True
            and k != "finished_at"  # a moment, not a count
        ]
    return ", ".join(parts) or "-"


def _feeds_line(found: ServiceStatus) -> str:
    counts = found.gauges.feeds_by_health
    total = sum(counts.values())
    states = ", ".join(f"{word} {n}" for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"feeds: {total}" + (f" ({states})" if states else "") + f", {found.gauges.due} due now"


def _error_text(f: FeedState) -> str:
    return f"{f.last_error or '-'} ({f.error_count} error{'' if f.error_count == 1 else 's'} in a row)"


def _last_text(job: JobStatus) -> str:
    last = job.last
    if last is None:
        return "never run"
    text = f"{last.period} {last.outcome} at {when(last.finished_at or last.started_at)}"
    return text + (f" ({last.detail})" if last.detail else "")


def _next_text(found: ServiceStatus, job: JobStatus) -> str:
    if not found.running:
        return "no daemon running"
    return when(job.next_run) if job.next_run is not None else "not scheduled"


def _no_daemon_line(found: ServiceStatus) -> str:
    from aggregator.service.ops import duration

    return (
        f"no daemon running: none sent a heartbeat in the last {duration(found.max_age)} "
        "(start one: `aggregator run`)"
    )


def plain_lines(found: ServiceStatus) -> list[str]:
    """The status as plain lines, one fact each, never cut (for pipes, logs and grep)."""
    lines = [f"database: {found.database}"]
    for r in found.daemons:
        state = "running" if found.live(r) else "stopped"
        lines.append(
            f"daemon {r.host}:{r.pid} {state}, version {r.version or '-'}, started {when(r.started_at)}, "
            f"heartbeat {_age(found, r.heartbeat_at)}, last tick: {tick_text(r.summary)}"
        )
    if not found.running:
        lines.append(_no_daemon_line(found))
    lines.append(_feeds_line(found))
    lines += [f"failing feed {f.name}: {_error_text(f)}" for f in found.failing]
    lines.append(f"extractions pending: {found.gauges.pending_extractions}")
    lines += [f"job {j.job}: last {_last_text(j)}; next {_next_text(found, j)}" for j in found.jobs]
    return lines


def _print_rich(found: ServiceStatus) -> None:
    out = console()
    out.print(f"database: {found.database}")
    daemons = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
    for name in ("daemon", "state", "version", "started", "heartbeat", "last tick"):
        daemons.add_column(name, overflow="fold" if name == "last tick" else "ellipsis")
    for r in found.daemons:
        live = found.live(r)
        daemons.add_row(
            f"{r.host}:{r.pid}", styled("running" if live else "stopped", "green" if live else "red"),
            r.version or "-", when(r.started_at), _age(found, r.heartbeat_at), tick_text(r.summary),
        )  # fmt: skip
    if found.daemons:
        out.print(daemons)
    if not found.running:
        out.print(styled(_no_daemon_line(found), "yellow"))
    out.print(_feeds_line(found))
    for f in found.failing:
        out.print(styled(f"  {f.name}", "red"), _error_text(f))
    out.print(f"extractions pending: {found.gauges.pending_extractions}")
    jobs = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("job", "last run", "next run"):
        jobs.add_column(name, overflow="fold")
    for j in found.jobs:
        jobs.add_row(j.job, _last_text(j), _next_text(found, j))
    out.print(jobs)


# -- JSON ---------------------------------------------------------------------------------------


def status_dict(found: ServiceStatus) -> dict[str, object]:
    return {
        "database": found.database,
        "now": iso(found.now),
        "max_age_seconds": found.max_age.total_seconds(),
        "running": len(found.running),
        "daemons": [_replica_dict(found, r) for r in found.daemons],
        "feeds": {
            "by_state": dict(found.gauges.feeds_by_health),
            "due": found.gauges.due,
            "failing": [_failing_dict(f) for f in found.failing],
        },
        "pending_extractions": found.gauges.pending_extractions,
        "jobs": [_job_dict(j) for j in found.jobs],
    }


def _failing_dict(f: FeedState) -> dict[str, object]:
    return {
        "name": f.name,
        "error": f.last_error,
        "error_count": f.error_count,
        "last_error_at": iso(f.last_error_at),
    }


def _replica_dict(found: ServiceStatus, r: Replica) -> dict[str, object]:
    return {
        "id": r.id,
        "host": r.host,
        "pid": r.pid,
        "version": r.version,
        "started_at": iso(r.started_at),
        "heartbeat_at": iso(r.heartbeat_at),
        "heartbeat_age_seconds": (found.now - r.heartbeat_at).total_seconds(),
        "running": found.live(r),
        "summary": dict(r.summary),
    }


def _job_dict(j: JobStatus) -> dict[str, object]:
    last = j.last
    return {
        "job": j.job,
        "next_run": iso(j.next_run),
        "last": None
        if last is None
        else {
            "period": last.period,
            "outcome": last.outcome,
            "started_at": iso(last.started_at),
            "finished_at": iso(last.finished_at),
            "detail": last.detail,
        },
    }
