"""The wheel's package list names every package in the source tree (the editable install would hide a gap)."""

from __future__ import annotations

import tomllib
from pathlib import Path

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
