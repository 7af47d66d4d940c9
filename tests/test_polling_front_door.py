"""The poll, feeds, candidates and extract commands load the polling wings only when they run."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "aggregator.feeds.poll",
    "aggregator.articles.pages",
    "aggregator.articles.extract",
    "aggregator.workers",
    "aggregator.feeds.opml",
    "multiprocessing",
    "feedparser",
    "trafilatura",
)


def test_the_polling_commands_and_services_import_nothing_heavy() -> None:
    script = (
        "import sys\n"
        "import aggregator.cli.poll, aggregator.cli.feeds, aggregator.cli.candidates\n"
        "import aggregator.service.polling, aggregator.service.feeds\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""
