"""``aggregator run``: the daemon (or, with ``--once``, one tick and the jobs that are due)."""

from __future__ import annotations

import typer

from aggregator.cli.context import open_service, state


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    ctx: typer.Context,
    once: bool = typer.Option(
        False, "--once", help="Run one tick (poll and extraction) and the jobs that are due, then exit."
    ),
    log_format: str = typer.Option(
        "text", "--log-format", help="Log lines as text (for a terminal) or json (a JSON object per line)."
    ),
    metrics_port: int | None = typer.Option(
        None,
        "--metrics-port",
        min=0,
        max=65535,
        help="Serve Prometheus metrics on 127.0.0.1:PORT (0: a free port, named in the log).",
    ),
) -> None:
    """Run the service: poll the due feeds every 30 s, extract new pages, run the scheduled jobs.

    The weekly email (feeds.yaml's `email` block), next month's digest draft
    and a daily housekeeping run once across replicas. SIGHUP reads feeds.yaml
    again; SIGTERM or Ctrl-C stops taking work, lets work in flight finish
    within $AGGREGATOR_STOP_SECONDS (30 s), releases this process's claims and
    exits 0. On SQLite one daemon runs per database file (commands work beside
    it); on PostgreSQL any number of replicas share the work. The tick is
    $AGGREGATOR_TICK_SECONDS.

    Example: aggregator run --log-format json
    """
    if log_format not in ("text", "json"):
        raise typer.BadParameter(
            f"{log_format!r} is not a log format (write text or json)", param_hint="--log-format"
        )
    from aggregator.daemon.main import start  # the scheduler: not for --help

    with open_service(ctx, sync=False) as service:
        code = start(
            service,
            once=once,
            log_format="json" if log_format == "json" else "text",
            verbose=state(ctx).verbose,
            metrics_port=metrics_port,
        )
    raise typer.Exit(code)
