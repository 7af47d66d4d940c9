"""The command line through Typer's CliRunner, against a real database and a real HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from typer.main import get_command
from typer.testing import CliRunner, Result

from aggregator.cli import app
from aggregator.cli.context import check_section
from aggregator.config import load_config
from aggregator.store import db
from tests import feedgen
from tests.fixture_server import FixtureServer, Response

runner = CliRunner()


@pytest.fixture
def project(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, server: FixtureServer
) -> Path:
    """A working directory with feeds.yaml (two good feeds, one failing) and the database in the env."""
    base = server.base_url
    server.add("/a.xml", feedgen.rss("Alpha blog", base, feedgen.entries(f"{base}/a", 4, seed=1)))
    server.add("/b.xml", feedgen.atom("Beta blog", base, feedgen.entries(f"{base}/b", 3, seed=2)))
    server.route("/down.xml", Response(status=503, headers={"Retry-After": "120"}))
    (tmp_path / "feeds.yaml").write_text(
        feedgen.feeds_yaml(
            [
                ("alpha", server.url("/a.xml")),
                ("beta", server.url("/b.xml")),
                ("down", server.url("/down.xml")),
            ]
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    return tmp_path


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def all_commands() -> list[list[str]]:
    def walk(cmd: Any, path: list[str]) -> Iterator[list[str]]:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path

    return list(walk(get_command(app), []))


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path: list[str]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert "Example: aggregator" in result.output
    assert f"aggregator {path[0]}" in result.output or path[0] in result.output


def test_command_set_is_the_documented_one() -> None:
    assert sorted(" ".join(p) for p in all_commands()) == [
        "candidates list", "db current", "db upgrade", "demo", "digest import", "digest lint", "digest list",
        "digest move", "digest publish", "digest render", "digest show", "email weekly", "extract",
        "feeds export-opml", "feeds import-opml", "feeds list", "feeds report", "feeds status", "health",
        "log", "note", "poll", "promote", "queue", "reject", "restore", "run", "shortlist", "show", "snooze",
        "status", "suggest backfill", "suggest eval", "triage", "undo", "unpromote",
    ]  # fmt: skip


def test_poll_prints_a_row_per_feed_and_exits_0_despite_failures(project: Path) -> None:
    result = invoke("poll")
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert lines["alpha"].split()[1:4] == ["new", "4", "0"]
    assert lines["beta"].split()[1:4] == ["new", "3", "0"]
    assert lines["down"].split()[1] == "error"
    assert "3 feeds polled" in result.output and "7 new" in result.output and "1 failed" in result.output


def test_poll_strict_exits_3_when_a_feed_failed(project: Path) -> None:
    assert invoke("poll", "--strict").exit_code == 3
    assert invoke("poll", "--strict", "--feed", "alpha").exit_code == 0


def test_poll_nothing_due(project: Path) -> None:
    invoke("poll")
    result = invoke("poll", "--feed", "alpha", "--feed", "beta")
    assert result.exit_code == 0
    result = invoke("poll")
    assert "No feed is due" in result.output


def test_poll_unknown_feed_name_is_a_usage_error(project: Path) -> None:
    result = invoke("poll", "--feed", "nope")
    assert result.exit_code == 2
    assert "no feed named nope" in result.output


def test_feeds_status_json(project: Path) -> None:
    invoke("poll")
    result = invoke("feeds", "status", "--json")
    assert result.exit_code == 0
    status = {f["name"]: f for f in json.loads(result.output)}
    assert status["alpha"]["state"] == "ok" and status["alpha"]["entries"] == 4
    assert status["alpha"]["last_success_at"] is not None
    assert status["down"]["state"] == "failing"
    assert status["down"]["error_count"] == 1
    assert "503" in status["down"]["last_error"]
    assert status["down"]["next_poll_at"] is not None


def test_feeds_status_table_and_failing_filter(project: Path) -> None:
    invoke("poll")
    result = invoke("feeds", "status", "--failing")
    assert result.exit_code == 0
    assert "down" in result.output and "alpha" not in result.output


def test_feeds_list(project: Path) -> None:
    result = invoke("feeds", "list")
    assert result.exit_code == 0
    assert "alpha" in result.output and "Alpha" in result.output and "1h" in result.output


def test_candidates_list_json_and_table(project: Path) -> None:
    invoke("poll")
    result = invoke("candidates", "list", "--json", "--feed", "beta")
    items = json.loads(result.output)
    assert len(items) == 3
    assert {i["feed"] for i in items} == {"beta"}
    assert items[0]["published_at"] >= items[1]["published_at"]
    assert items[0]["label"] == "Beta"
    table = invoke("candidates", "list", "--limit", "2")
    assert table.exit_code == 0
    assert len([line for line in table.output.splitlines() if line.strip()[:1].isdigit()]) == 2


def test_invalid_config_exits_2_naming_file_line_and_field(project: Path, database_url: str) -> None:
    text = (project / "feeds.yaml").read_text(encoding="utf-8")
    text = text.replace("  - name: beta\n", "  - name: beta\n    colour: blue\n")
    (project / "feeds.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index("    colour: blue") + 1

    result = invoke("poll")

    assert result.exit_code == 2
    assert f"feeds.yaml:{line}:" in result.output
    assert "colour" in result.output
    # Nothing was written: the database was never even created.
    if database_url.startswith("sqlite"):
        assert not (project / "data" / "aggregator.sqlite3").exists()
    else:
        engine = sa.create_engine(database_url)
        with engine.connect() as conn:
            assert not sa.inspect(conn).has_table("feeds")
        engine.dispose()


def test_missing_config_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    result = invoke("feeds", "list")
    assert result.exit_code == 2
    assert "feeds.yaml" in result.output


def test_config_option_and_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = project / "elsewhere"
    other.mkdir()
    (project / "feeds.yaml").rename(other / "mine.yaml")
    assert invoke("--config", str(other / "mine.yaml"), "feeds", "list").exit_code == 0
    monkeypatch.setenv("AGGREGATOR_CONFIG", str(other / "mine.yaml"))
    assert invoke("feeds", "list").exit_code == 0


def test_db_upgrade_and_current(project: Path) -> None:
    first = invoke("db", "upgrade")
    assert first.exit_code == 0 and "upgraded from empty" in first.output
    again = invoke("db", "upgrade")
    assert "already at revision" in again.output
    assert f"revision {db.head_revision()}" in invoke("db", "current").output


def test_a_newer_schema_is_refused_with_a_clear_message(project: Path, database_url: str) -> None:
    invoke("db", "upgrade")
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    engine.dispose()
    result = invoke("poll")
    assert result.exit_code == 1
    assert "0099" in result.output and "Upgrade aggregator" in result.output


def test_opml_export_then_import_into_another_config(project: Path) -> None:
    exported = invoke("feeds", "export-opml", "-o", "out.opml")
    assert exported.exit_code == 0
    assert (project / "out.opml").read_bytes().count(b"<outline") == 3
    other = project / "other.yaml"
    other.write_text(feedgen.feeds_yaml([]).replace("feeds:\n", "feeds: []\n"), encoding="utf-8")
    dry = invoke("--config", str(other), "feeds", "import-opml", "out.opml", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "3 would add" in dry.output
    assert "feeds: []" in other.read_text(encoding="utf-8")
    done = invoke("--config", str(other), "feeds", "import-opml", "out.opml")
    assert "3 added" in done.output
    listed = invoke("--config", str(other), "feeds", "list")
    assert listed.output.count("127.0.0.1") == 3
    again = invoke("--config", str(other), "feeds", "import-opml", "out.opml")
    assert "0 added, 3 skipped" in again.output


def test_a_section_option_names_the_sections_or_says_there_are_none(tmp_path: Path) -> None:
    with_sections = tmp_path / "feeds.yaml"
    with_sections.write_text(feedgen.feeds_yaml([("alpha", "http://127.0.0.1:1/feed.xml")]), encoding="utf-8")
    config = load_config(with_sections)
    assert check_section(config.taxonomy(), " business/mlops/ ") == "business/mlops"
    with pytest.raises(typer.BadParameter, match=r"unknown section 'nowhere'; the sections .*: research, "):
        check_section(config.taxonomy(), "nowhere")

    without = tmp_path / "bare.yaml"
    text = with_sections.read_text(encoding="utf-8")
    bare = text[: text.index("sections:")] + "sections: []\n" + text[text.index("feeds:") :]
    without.write_text(bare, encoding="utf-8")
    with pytest.raises(typer.BadParameter, match=r"unknown section 'research'; feeds.yaml has none$"):
        check_section(load_config(without).taxonomy(), "research")
