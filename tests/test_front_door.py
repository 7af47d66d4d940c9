"""The fast front door: what `import aggregator.cli` loads; errors at the edge in one line, exit 1 or 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import aggregator.cli as cli
from aggregator.config import load_configuration
from aggregator.config.cache import cache_dir
from aggregator.errors import ConfigError
from tests import feedgen

#: Modules no command needs before it runs: each is imported by the function that uses it.
HEAVY = (
    "trafilatura",
    "alembic",
    "textual",
    "multiprocessing",
    "lxml",
    "jinja2",
    "feedparser",
    "pydantic_settings",
    "pydantic",
    "yaml",
    "httpx",
    "sqlalchemy",
)


def _loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout
    return set(out.split())


def test_importing_the_cli_loads_no_heavy_module() -> None:
    loaded = _loaded_after("import aggregator.cli")
    heavy = sorted(name for name in loaded if name.split(".")[0] in HEAVY)
    assert not [name for name in heavy if "." not in name], f"import aggregator.cli loaded {heavy}"


def test_a_cached_feeds_yaml_is_read_without_pydantic_or_yaml(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(feedgen.feeds_yaml([("alpha", "http://127.0.0.1:9/a.xml")]), encoding="utf-8")
    first = load_configuration(path)  # validates, then caches
    env = {**os.environ, "AGGREGATOR_CACHE_DIR": str(cache_dir())}
    loaded = _loaded_after(
        f"from aggregator.config import load_configuration; from pathlib import Path\n"
        f"assert load_configuration(Path({str(path)!r})).feeds[0].name == 'alpha'",
        env,
    )
    assert not {"pydantic", "yaml"} & loaded
    assert load_configuration(path) == first


def test_a_malformed_file_is_never_cached(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("digest: [\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError) as caught:
            load_configuration(path)
        assert caught.value.problems[0].startswith(f"{path}:")
    assert not list(cache_dir().glob("feeds-*.pickle"))


def test_an_edit_is_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(feedgen.feeds_yaml([("alpha", "http://127.0.0.1:9/a.xml")]), encoding="utf-8")
    assert [f.name for f in load_configuration(path).feeds] == ["alpha"]
    path.write_text(feedgen.feeds_yaml([("beta", "http://127.0.0.1:9/b.xml")]), encoding="utf-8")
    assert [f.name for f in load_configuration(path).feeds] == ["beta"]
    path.write_text("feeds: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_configuration(path)


def test_an_unwritable_cache_only_costs_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("AGGREGATOR_CACHE_DIR", str(blocker / "cache"))
    path = tmp_path / "feeds.yaml"
    path.write_text(feedgen.feeds_yaml([("alpha", "http://127.0.0.1:9/a.xml")]), encoding="utf-8")
    assert load_configuration(path).feeds[0].name == "alpha"
    assert load_configuration(path).feeds[0].name == "alpha"


def test_a_damaged_cache_entry_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(feedgen.feeds_yaml([("alpha", "http://127.0.0.1:9/a.xml")]), encoding="utf-8")
    load_configuration(path)
    for entry in cache_dir().glob("feeds-*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert load_configuration(path).feeds[0].name == "alpha"


# -- errors at the edge, through the real command ---------------------------------------------


def _aggregator(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "feeds.yaml").write_text(feedgen.feeds_yaml([]), encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    clean["AGGREGATOR_DATA_DIR"] = str(tmp_path / "data")
    clean["AGGREGATOR_CACHE_DIR"] = str(tmp_path / "cache")
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean | env,
        timeout=60,
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_bad_environment_variable_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _aggregator(tmp_path, "queue", AGGREGATOR_SMTP_PORT="abc")
    assert result.returncode == 2
    assert _one_line(result) == (
        "error: environment: AGGREGATOR_SMTP_PORT: expected a whole number, got 'abc' (change the value)"
    )


@pytest.mark.parametrize("command", [("queue",), ("db", "upgrade"), ("db", "current")])
def test_a_database_that_is_not_there_is_one_line_and_exit_1(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/x"
    result = _aggregator(tmp_path, *command, AGGREGATOR_DATABASE_URL=url)
    assert result.returncode == 1
    line = _one_line(result)
    assert line.startswith(f"error: the database {url} is unreachable: ")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "error: AGGREGATOR_DATABASE_URL is not a database URL: 'not a url'"),
        (
            "postgresql+psycopg://nobody:hunter2@127.0.0.1:port/x",
            "error: AGGREGATOR_DATABASE_URL is not a database URL: "
            "'postgresql+psycopg://nobody:***@127.0.0.1:port/x'",
        ),
        ("nosuchdb://127.0.0.1/x", "error: AGGREGATOR_DATABASE_URL names a database aggregator cannot use"),
        ("mysql+nosuchdriver://127.0.0.1/x", "error: AGGREGATOR_DATABASE_URL names a database aggregator"),
        ("postgresql+psycopg2://nobody@127.0.0.1:1/x", "error: cannot use postgresql+psycopg2: No module"),
        (
            "postgresql+psycopg://nobody@127.0.0.1:1/x?connect_timeout=soon",
            "error: cannot connect to the database postgresql+psycopg://nobody@127.0.0.1:1/x",
        ),
    ],
)
def test_a_database_url_that_cannot_work_is_one_line(tmp_path: Path, url: str, expected: str) -> None:
    result = _aggregator(tmp_path, "queue", AGGREGATOR_DATABASE_URL=url)
    assert result.returncode in (1, 2)
    line = _one_line(result)
    assert line.startswith(expected)
    assert "hunter2" not in result.stderr


def test_a_database_in_memory_answers(tmp_path: Path) -> None:
    result = _aggregator(tmp_path, "queue", AGGREGATOR_DATABASE_URL="sqlite://")
    assert result.returncode == 0, result.stderr


# -- one command's module per run -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["queue"], "queue"),
        (["-c", "feeds.yaml", "queue", "--limit", "3"], "queue"),
        (["--config=feeds.yaml", "log"], "log"),
        (["-vv", "show", "3"], "show"),
        (["-vc", "feeds.yaml", "promote", "1"], "promote"),
        (["--verbose", "digest", "list"], "digest"),
        (["--help"], None),
        (["--version"], None),
        (["-cfeeds.yaml", "queue"], None),  # unsure: the whole command line is built
        ([], None),
    ],
)
def test_the_command_a_run_names_is_found(args: list[str], name: str | None) -> None:
    assert cli.command_name(args) == name


def test_each_command_alone_is_the_same_command() -> None:
    """Built with only its module, every command has the help (and so the parameters) it has in
    the whole command line."""
    runner = CliRunner()
    for name, module in cli.COMMANDS.items():
        alone = runner.invoke(cli.build((module,)), [name, "--help"], terminal_width=100)
        whole = runner.invoke(cli.app, [name, "--help"], terminal_width=100)
        assert alone.exit_code == whole.exit_code == 0, name
        assert alone.output == whole.output, name


def test_a_run_loads_only_the_module_of_its_command() -> None:
    probe = (
        "import sys\n"
        "sys.argv = ['aggregator', 'queue', '--help']\n"
        "import aggregator.cli as cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(done.stderr.split())
    assert "Usage: aggregator queue" in done.stdout
    assert "aggregator.cli.queue" in loaded
    assert not loaded & {f"aggregator.cli.{m}" for m in cli.MODULES if m != "queue"}
