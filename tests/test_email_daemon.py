"""The daemon's weekly job sends the week's email through a real SMTP server (aiosmtpd) on 127.0.0.1:
once per week and recipient across firings, a refusal failing the run until the next firing in the
week sends to the refused recipient alone. Both backends, the injected clock, APScheduler's triggers."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.app import make_app
from aggregator.config import Settings, load_config
from aggregator.daemon import schedule
from aggregator.daemon.work import Work
from aggregator.service import Service
from aggregator.store.tables import job_runs
from tests.fixture_server import serve
from tests.smtp_server import Inbox, serve_smtp
from tests.stock import stock

A, B = "ana@example.org", "bo@example.org"
#: The weekly email's first firing after the stock's poll (Wednesday 2024-03-20): Monday 08:00 UTC.
FIRST = datetime(2024, 3, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with serve_smtp() as box:
        yield box


@pytest.fixture
def service(tmp_path: Path, database_url: str, inbox: Inbox) -> Iterator[Service]:
    with serve() as server:
        st = stock(server, tmp_path, database_url, {"alpha": ["Serving many models", "루다 생성 모델"]})
    st.app.close()
    with st.config_path.open("a", encoding="utf-8") as f:
        f.write(f"email:\n  recipients: [{A}, {B}]\n  sender: bot@example.org\n")
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
        smtp_starttls=False,
        smtp_timeout=5,
    )
    app = make_app(settings, load_config(st.config_path), config_path=st.config_path, clock=st.clock)
    try:
        yield Service(app)
    finally:
        app.close()


def fire_at(service: Service, work: Work, job: schedule.CronJob, moment: datetime) -> None:
    service.app.clock.now = moment  # type: ignore[attr-defined]
    work.cron(job)


def runs(service: Service) -> list[tuple[str, str, str | None]]:
    with service.app.read() as s:
        query = sa.select(job_runs).where(job_runs.c.job == "weekly_email").order_by(job_runs.c.period)
        return [(r.period, r.outcome, r.detail) for r in s.execute(query)]


def test_the_weekly_job_sends_each_week_once(service: Service, inbox: Inbox) -> None:
    job = schedule.weekly_email(service.app.config.email)
    work = Work(service, [], queue.SimpleQueue())
    for week in range(2):
        for late in (timedelta(0), timedelta(minutes=1), timedelta(hours=30)):
            fire_at(service, work, job, FIRST + timedelta(weeks=week) + late)
    assert [r.rcpt_tos for r in inbox.received] == [[A], [B], [A], [B]]
    subjects = [str(r.message()["Subject"]) for r in inbox.received]
    assert subjects[0].startswith("2024-W13: 2 new candidates") and subjects[2].startswith("2024-W14: 0 new")
    assert [(period, outcome) for period, outcome, _ in runs(service)] == [
        ("2024-W13", "ok"),
        ("2024-W14", "ok"),
    ]
    assert [(detail or "").split(" (")[0] for _, _, detail in runs(service)] == ["sent to 2 of 2"] * 2


def test_a_refusal_fails_the_run_and_the_next_firing_sends_to_it_alone(
    service: Service, inbox: Inbox
) -> None:
    job = schedule.weekly_email(service.app.config.email)
    work = Work(service, [], queue.SimpleQueue())
    inbox.refuse = {B}
    fire_at(service, work, job, FIRST)
    assert runs(service) == [
        ("2024-W13", "failed", f"sent to 1 of 2: {B}: 550 5.1.1 <{B}>: mailbox unavailable")
    ]
    inbox.refuse = set()
    fire_at(service, work, job, FIRST + timedelta(hours=1))
    assert [r.rcpt_tos for r in inbox.received] == [[A], [B]]
    assert runs(service)[0][:2] == ("2024-W13", "ok")
    assert (runs(service)[0][2] or "").startswith("sent to 2 of 2 (2 candidates, ")
