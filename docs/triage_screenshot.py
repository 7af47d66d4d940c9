"""Redraw ``docs/triage.svg``: the triage screen at 110x30 on the demo's database.

    .venv/bin/aggregator demo --dir /tmp/aggregator-demo
    .venv/bin/python docs/triage_screenshot.py /tmp/aggregator-demo

Textual draws the screen headless (Pilot) and saves it as SVG; nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aggregator.app import make_app
from aggregator.config import Settings, load_configuration
from aggregator.service import Service
from aggregator.triage_types import QueueQuery
from aggregator.tui import TriageApp


async def shoot(service: Service, out: Path) -> None:
    screen = TriageApp(service, curator="demo", query=QueueQuery(sort="score"))
    async with screen.run_test(size=(110, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", "j")
        await pilot.pause()
        screen.save_screenshot(out.name, path=str(out.parent))


def main() -> None:
    demo = Path(sys.argv[1])
    config = demo / "feeds.yaml"
    settings = Settings(data_dir=demo, database_url=f"sqlite:///{demo / 'aggregator.sqlite3'}")
    service = Service(make_app(settings, load_configuration(config), config_path=config))
    try:
        asyncio.run(shoot(service, Path(__file__).resolve().parent / "triage.svg"))
    finally:
        service.close()


if __name__ == "__main__":
    main()
