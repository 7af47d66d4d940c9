"""Every real-world feed in ../shared/corpus/feeds, served over HTTP and polled into the database.

None may crash the run; each yields stored candidates or a recorded, readable
error; the well-formed ones store exactly INDEX.tsv's item count, or the
difference explained in test_parse_corpus.EXPECTED_DIFFERENCES.
"""

from __future__ import annotations

import csv
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.app import make_app
from aggregator.config import Settings, load_config
from aggregator.errors import ParseError
from aggregator.service.polling import run_poll
from aggregator.store.tables import candidates, feeds
from tests import feedgen
from tests.fixture_server import serve
from tests.test_parse_corpus import EXPECTED_DIFFERENCES

pytestmark = pytest.mark.corpus


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:90]


def content_type(name: str) -> str:
    if name.endswith(".json"):
        return "application/feed+json"
    if name.endswith(".gz"):
        return "application/octet-stream"
    return "application/xml"


def test_every_corpus_feed_polls_into_candidates_or_a_readable_error(
    corpus: Path, tmp_path: Path, database_url: str
) -> None:
    folder = corpus / "feeds"
    with (folder / "INDEX.tsv").open(encoding="utf-8", newline="") as f:
        index = {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != "INDEX.tsv")
    assert len(files) > 200

    with serve(ports=8) as server:
        pairs = []
        for i, path in enumerate(files):
            server.add(f"/{path.name}", path.read_bytes(), content_type=content_type(path.name))
            pairs.append((slug(path.name), server.url(f"/{path.name}", i % 8)))
        config = tmp_path / "feeds.yaml"
        config.write_text(feedgen.feeds_yaml(pairs), encoding="utf-8")
        now = datetime(2026, 11, 1, tzinfo=UTC)
        clock = [now]
        app = make_app(
            Settings(database_url=database_url, data_dir=tmp_path / "data"),
            load_config(config),
            config_path=config,
            clock=lambda: clock[0],
            rng=random.Random(3),
            parse_workers=2,
        )
        try:
            app.sync_feeds()
            report = run_poll(app)
            clock[0] = now + timedelta(hours=2)
            again = run_poll(app, due_only=False)
            with app.read() as s:
                counts = dict(
                    s.execute(
                        sa.select(feeds.c.name, sa.func.count(candidates.c.id))
                        .outerjoin(candidates, candidates.c.feed_id == feeds.c.id)
                        .group_by(feeds.c.name)
                    ).all()
                )
                errors = dict(s.execute(sa.select(feeds.c.name, feeds.c.last_error)).all())
                warnings = dict(s.execute(sa.select(feeds.c.name, feeds.c.last_warning)).all())
        finally:
            app.close()

    assert len(report.results) == len(files)
    problems = []
    for path in files:
        name = slug(path.name)
        stored, error = counts[name], errors[name]
        if stored == 0 and not error and not warnings[name]:
            problems.append(f"{path.name}: no candidates and no recorded error or warning")
        if error and (server.base_url.split(":")[1] not in error or len(error) < 20):
            problems.append(f"{path.name}: unreadable error {error!r}")
        row = index.get(path.name, {})
        if row.get("wellformed") != "True" and path.name not in EXPECTED_DIFFERENCES:
            continue
        expected: int | type[ParseError] = int(row["items"]) if row.get("items") else -1
        if path.name in EXPECTED_DIFFERENCES:
            expected = EXPECTED_DIFFERENCES[path.name][0]
        if expected is ParseError:
            if stored or not error:
                problems.append(f"{path.name}: expected a recorded parse error, got {stored} stored")
        elif stored != expected:
            problems.append(f"{path.name}: stored {stored}, INDEX.tsv says {expected}")
    assert problems == []
    # Every malformed document is flagged, with or without entries.
    for path in files:
        if index.get(path.name, {}).get("wellformed") == "False":
            name = slug(path.name)
            assert errors[name] or warnings[name], path.name

    # A second poll of unchanged bodies stores nothing new and changes nothing.
    assert again.new == 0 and again.updated == 0
    assert {r.outcome for r in again.results} <= {"unchanged", "error"}
