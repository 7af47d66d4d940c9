"""Output that is not for a terminal: one record per line, at full width, never wrapped or cut."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aggregator.cli import app
from tests import feedgen
from tests.fixture_server import FixtureServer, Response

runner = CliRunner()
LONG = "/" + "/".join(f"segment-{i:02d}-of-a-long-feed-path" for i in range(8))


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def project(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, server: FixtureServer
) -> Path:
    base = server.base_url
    items = feedgen.entries(f"{base}/a", 3, seed=1)
    items = [items[0].__class__(**{**items[0].__dict__, "title": "A title " * 30}), *items[1:]]
    for i in range(3):
        server.add(f"{LONG}-{i}.xml", feedgen.rss("Alpha blog", base, items))
    server.route(f"{LONG}-down.xml", Response(status=503))
    pairs = [(f"feed-{i:02d}", server.url(f"{LONG}-{i}.xml")) for i in range(3)] + [
        ("down", server.url(f"{LONG}-down.xml"))
    ]
    (tmp_path / "feeds.yaml").write_text(feedgen.feeds_yaml(pairs), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    polled = invoke("poll", "--all", "--no-extract")
    assert polled.exit_code == 0, polled.output
    return tmp_path


@pytest.mark.parametrize(
    ("args", "records", "whole"),
    [
        (["feeds", "list"], 4, LONG),
        (["feeds", "status"], 4, "503"),
        (["candidates", "list"], 9, ("A title " * 30).strip()),
    ],
)
def test_a_table_piped_is_one_line_per_record_never_wrapped_or_cut(
    project: Path, args: list[str], records: int, whole: str
) -> None:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    body = [line for line in lines[2:] if line.strip()]  # after the header and its rule
    assert len(body) == records, result.output
    assert "…" not in result.output
    assert all(line == line.rstrip() for line in lines)
    assert whole in result.output
    if args == ["feeds", "list"]:
        assert all(LONG in line for line in body)


def test_status_and_digest_list_piped_are_never_wrapped(project: Path) -> None:
    for args in (["status"], ["digest", "list"]):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert "…" not in result.output
        lines = result.output.splitlines()
        assert all(line == line.rstrip() for line in lines)
        assert len(lines) < 40  # nothing wrapped
        if args == ["status"]:
            failing = [line for line in lines if line.startswith("failing feed down: ")]
            assert len(failing) == 1 and f"{LONG}-down.xml: 503" in failing[0], lines


def test_piped_through_a_real_process_keeps_whole_urls(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aggregator", "feeds", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert sum(LONG in line for line in done.stdout.splitlines()) == 4


def test_the_decision_log_piped_is_one_line_per_decision(project: Path) -> None:
    import json

    ids = [c["id"] for c in json.loads(invoke("candidates", "list", "--json").output)]
    assert invoke("shortlist", *map(str, ids)).exit_code == 0
    result = invoke("log", "--limit", "100")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "…" not in result.output and all(line == line.rstrip() for line in lines)
    assert sum(("A title " * 30).strip() in line for line in lines) == 3  # whole, on the decision's line
