"""What ships: the wheel names every package and template; the image installs a working aggregator."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from aggregator import __version__

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_and_template_folder_is_shipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "aggregator").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    patterns = config["package-data"]["aggregator"]
    package = ROOT / "aggregator"
    templates = [p.relative_to(package) for p in (package / "templates").rglob("*.j2")]
    assert templates
    for template in templates:
        assert any(template.match(pattern) for pattern in patterns), f"{template} is not in package-data"


# -- the image (Docker cannot run here: its install script runs into a fresh virtual environment) --


def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def instruction(word: str) -> list[str]:
    return [line.removeprefix(word).strip() for line in dockerfile() if line.split()[0] == word]


def copy_context(target: Path) -> None:
    """Copy what the Dockerfile's COPY lines take from the build context before the install runs."""
    for args in instruction("COPY"):
        *sources, destination = args.split()
        if sources == ["feeds.yaml"]:
            continue  # copied after the install, not needed by it
        for source in sources:
            origin = ROOT / source
            landing = target / (source if destination.endswith("/") else destination)
            landing.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, landing, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(origin, landing)


def test_the_image_install_script_installs_a_working_aggregator(tmp_path: Path) -> None:
    source, venv, data = tmp_path / "src", tmp_path / "venv", tmp_path / "data"
    source.mkdir()
    copy_context(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env |= {"PYTHON": sys.executable, "AGGREGATOR_DATA_DIR": str(data)}
    script = source / "docker" / "install.sh"
    installed = subprocess.run(
        ["sh", str(script), str(source), str(venv)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.strip().endswith(f"aggregator {__version__}")
    aggregator = str(venv / "bin" / "aggregator")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([aggregator, *args], capture_output=True, text=True, env=env, cwd=tmp_path)

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import aggregator.daemon.metrics as m; print(m.__file__)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(venv)), "the installed copy, not the source tree"
    assert run("--version").stdout.strip() == f"aggregator {__version__}"
    missing = run("health")
    assert (missing.returncode, missing.stderr.split(" (")[0]) == (
        1, f"unhealthy: no database at {data / 'aggregator.sqlite3'}"
    )  # fmt: skip
    assert not data.exists()  # health creates nothing
    data.mkdir()
    assert run("db", "upgrade").returncode == 0
    fresh = run("health")
    assert fresh.returncode == 1
    assert fresh.stderr.startswith(f"unhealthy: no daemon on this host ({socket.gethostname()})"), (
        fresh.stderr
    )


def test_the_dockerfile_runs_the_script_as_a_user_with_a_volume_and_a_healthcheck() -> None:
    assert instruction("FROM") == ["python:3.11-slim"]
    (run_line,) = instruction("RUN")
    assert run_line.startswith("sh docker/install.sh /src /opt/aggregator")
    env = " ".join(instruction("ENV"))
    assert "AGGREGATOR_DATA_DIR=/data" in env and "PATH=/opt/aggregator/bin:$PATH" in env
    assert instruction("USER") == ["aggregator"]
    lines = dockerfile()
    assert lines.index("USER aggregator") > lines.index(
        next(line for line in lines if line.startswith("RUN"))
    )
    assert instruction("VOLUME") == ['["/data"]']
    (check,) = instruction("HEALTHCHECK")
    assert check.endswith('CMD ["aggregator", "health"]')
    assert instruction("ENTRYPOINT") == ['["aggregator"]'] and instruction("CMD") == ['["run"]']
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "data", "tests"} <= set(ignored)


def test_compose_runs_two_replicas_on_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    daemons = {name: s for name, s in services.items() if s.get("command") == ["run"]}
    replicas = sum(s.get("deploy", {}).get("replicas", 1) for s in daemons.values())
    assert replicas == 2
    for service in daemons.values():
        url = service["environment"]["AGGREGATOR_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
