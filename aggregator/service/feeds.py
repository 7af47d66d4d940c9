"""The facade's feeds operations (see :mod:`aggregator.service`).

:class:`Feeds` works on the database: sync feeds.yaml into it, and each feed's
polling state and health. The module functions below work on feeds.yaml
alone (list, OPML import and export), so those commands need no database;
they take the configuration the command loaded and return plain values.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aggregator.errors import ConfigError
from aggregator.poll_types import SyncReport
from aggregator.service.part import Part
from aggregator.suggest.values import FeedRecord
from aggregator.types import FeedSetting, FeedStatus

if TYPE_CHECKING:
    from pathlib import Path

    from aggregator.config.opml_import import ImportReport
    from aggregator.configuration import Configuration

#: The largest OPML file read (a reader's export of 2,000 feeds is about 400 KB).
MAX_OPML_BYTES = 16 << 20


#: A feed with no new item for this long is called quiet.
QUIET_AFTER = timedelta(days=60)
#: A feed is called noisy once this many of its candidates were decided and under NOISY_SHARE were promoted,
NOISY_DECIDED, NOISY_SHARE = 10, 0.1
#: ... or once at least NOISY_DECIDED of its candidates, and half of them, were other routes to one article.
NOISY_DUPLICATES = 0.5


class Feeds(Part):
    """Feeds: each method reads the clock once, owns its unit of work and returns plain values."""

    def report(self) -> list[FeedRecord]:
        """Per feed: candidates, promotions, rejections, duplicates, the newest item's date; each feed
        judged noisy (its candidates mostly rejected, or mostly reposts) or quiet (nothing new for
        60 days), else neither. Feeds removed from feeds.yaml are included (their candidates stay)."""
        from aggregator.store import repo

        now = self.app.clock()
        with self.app.read() as s:
            rows = repo.feed_report(s)
        return [judge(FeedRecord(*row), now) for row in rows]

    @property
    def config_path(self) -> Path:
        """The feeds.yaml this service was opened on (for messages)."""
        return self.app.config_path

    def sync(self) -> SyncReport:
        """Make the feeds table follow feeds.yaml (see ``store.repo.sync_feeds``)."""
        return self.app.sync_feeds()

    def status(self, *, failing: bool = False) -> list[FeedStatus]:
        """Each feed of feeds.yaml with its polling state and health, by name; with ``failing``,
        only those with a problem (failing, gone or malformed)."""
        from aggregator.feeds.health import PROBLEMS, feed_health
        from aggregator.store import repo

        now = self.app.clock()
        with self.app.read() as s:
            states = repo.list_feeds(s)
        out = [FeedStatus(f, feed_health(f, now)) for f in states]
        return [f for f in out if f.health in PROBLEMS] if failing else out


def feed_settings(config: Configuration) -> tuple[FeedSetting, ...]:
    """The feeds feeds.yaml lists, in its order."""
    return tuple(
        FeedSetting(
            name=f.name,
            url=f.url,
            label=f.label,
            language=f.language,
            section_hint=f.section_hint,
            interval=f.interval,
            enabled=f.enabled,
            interval_auto=f.interval_auto,
        )
        for f in config.feeds
    )


def import_opml(config_path: Path, file: Path, *, dry_run: bool = False) -> ImportReport:
    """Add the feeds of the OPML ``file`` to feeds.yaml (``dry_run``: only say what would be added)."""
    from aggregator.config.opml_import import import_into_config
    from aggregator.feeds.opml import read_opml

    try:
        with file.open("rb") as opened:
            data = opened.read(MAX_OPML_BYTES + 1)
    except OSError as exc:
        raise ConfigError(str(file), [f"{file}: cannot read: {exc.strerror}"]) from exc
    if len(data) > MAX_OPML_BYTES:
        raise ConfigError(
            str(file),
            [f"{file}: larger than {MAX_OPML_BYTES >> 20} MiB, which no list of feeds is (the right file?)"],
        )
    return import_into_config(config_path, read_opml(data, source=str(file)), dry_run=dry_run)


def export_opml(config: Configuration) -> bytes:
    """feeds.yaml's feeds as an OPML 2.0 document (UTF-8)."""
    from aggregator.feeds.opml import export_opml as export

    return export(list(config.feeds), title=config.digest.title)


def judge(record: FeedRecord, now: datetime) -> FeedRecord:
    """``record`` called noisy or quiet (with why), or neither."""
    decided = record.promoted + record.rejected
    if decided >= NOISY_DECIDED and record.promoted < NOISY_SHARE * decided:
        why = f"{record.promoted} of {decided} decided candidates promoted"
        return replace(record, verdict="noisy", why=why)
    if record.duplicates >= NOISY_DECIDED and record.duplicates >= NOISY_DUPLICATES * record.candidates:
        why = f"{record.duplicates} of {record.candidates} candidates are reposts of articles found elsewhere"
        return replace(record, verdict="noisy", why=why)
    if record.last_item is None:
        return replace(record, verdict="quiet", why="no item yet")
    if now - record.last_item > QUIET_AFTER:
        return replace(record, verdict="quiet", why=f"no new item in {(now - record.last_item).days} days")
    return record
