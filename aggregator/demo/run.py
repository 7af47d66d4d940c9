"""The demo's run: a fresh database, the real pipeline through the service facade, every output kept.

Each step prints as it happens; :func:`run_demo` returns where everything is (:class:`Outputs`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from aggregator.controls import show_controls
from aggregator.demo.corpus import Corpus
from aggregator.demo.site import DemoFeed, Server, corpus_site, invented_site, local_transport
from aggregator.triage_types import QueueItem, QueueQuery

if TYPE_CHECKING:
    from aggregator.service import Service

CURATOR = "demo"
SECTIONS = (
    ("research", "Research"),
    ("business", "Business Cases and Implementations"),
    ("aws", "AWS ML Only"),
)
SUBSECTIONS = (
    ("cv", "CV"),
    ("nlp", "NLP"),
    ("recsys", "RecSys, etc."),
    ("mlops", "Training, Inference and MLOps"),
)
PROMOTIONS = 3


@dataclass
class Outputs:
    """What the demo made and where it is."""

    directory: Path
    config: Path
    database: Path
    digest: Path
    email: Path
    email_html: Path
    week: str = ""
    month: str = ""
    candidates: int = 0
    promoted: list[int] = field(default_factory=list)
    seconds: float = 0.0
    problem: str = ""
    """Why the loop stopped short (no candidates, nothing promoted), or empty when it went through."""

    def written(self) -> list[tuple[str, Path]]:
        """Each output this run wrote, labelled, in the order the loop writes them."""
        named = (
            ("feeds.yaml", self.config), ("database", self.database), ("digest", self.digest),
            ("email", self.email), ("email HTML", self.email_html),
        )  # fmt: skip
        return [(label, path) for label, path in named if path.exists()]


def feeds_yaml(feeds: Sequence[DemoFeed], base: str) -> str:
    """feeds.yaml for the demo: its feeds on ``base``, the curators' sections, the summary template."""
    lines = [
        "# Written by `aggregator demo`: the feeds it serves on 127.0.0.1.",
        "fetch:",
        "  user_agent_contact: https://aggregator.invalid/demo",
        "  connect_timeout: 5",
        "  read_timeout: 5",
        "  deadline: 15",
        "  allow_private_networks: [127.0.0.1/32]",
        "digest:",
        "  title: Summary of Important AI & ML Blog Posts (demo)",
        "  template: summary",
        "  notes: inline",
        "email:",
        "  recipients: [curators@example.com]",
        "  weekday: mon",
        '  time: "08:00"',
        "  timezone: UTC",
        "sections:",
    ]
    for top, title in SECTIONS:
        lines += [f"  - id: {top}", f"    title: {title}", "    subsections:"]
        for sub, sub_title in SUBSECTIONS:
            lines += [f"      - id: {sub}", f'        title: "{sub_title}"']
    lines.append("feeds:")
    for feed in feeds:
        label = json.dumps(feed.label, ensure_ascii=False)  # a YAML string whatever the label holds
        lines += [f"  - name: {feed.name}", f"    url: {base}{feed.path}", f"    label: {label}"]
        lines += [f"    language: {feed.language}"] if feed.language else []
        lines += [f"    section_hint: {feed.section_hint}"] if feed.section_hint else []
        lines += [f"    weight: {feed.weight:g}"] if feed.weight != 1.0 else []
        lines.append("    interval: 1h")
    return "\n".join(lines) + "\n"


def run_demo(directory: Path, out: Console, *, corpus: Corpus | None = None, workers: int = 2) -> Outputs:
    """Serve the demo's web (or ``corpus``'s feeds), and run the whole loop on a fresh database under
    ``directory``; :attr:`Outputs.problem` says why when the loop stopped short."""
    from aggregator.app import make_app
    from aggregator.config import Settings, load_configuration
    from aggregator.service import Service

    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    outputs = Outputs(
        directory, directory / "feeds.yaml", directory / "aggregator.sqlite3", directory / "digest.md",
        directory / "weekly.eml", directory / "weekly.html",
    )  # fmt: skip
    stale = [Path(f"{outputs.database}{end}") for end in ("", "-wal", "-shm")]
    for path in [*stale, outputs.digest, outputs.email, outputs.email_html]:
        path.unlink(missing_ok=True)  # a fresh database every run, and no output of an earlier one
    server = Server()
    try:
        now = datetime.now().astimezone()
        week, start = _week(now)
        feeds, server.routes = corpus_site(corpus) if corpus else invented_site(server.base, start, now)
        outputs.config.write_text(feeds_yaml(feeds, server.base), encoding="utf-8")
        found = f"found in {corpus.folder} and below; {corpus.skipped_words()}" if corpus else ""
        served = found or f"{len(server.routes)} pages"
        serving = f"serving {_count(len(feeds), 'feed')} on {server.base}"
        _step(out, serving, f"{served}; wrote {outputs.config}")
        settings = Settings(
            data_dir=directory, database_url=f"sqlite:///{outputs.database.as_posix()}", workers=workers
        )
        port = server.httpd.server_address[1]
        app = make_app(
            settings, load_configuration(outputs.config), config_path=outputs.config,
            transport_factory=(lambda: local_transport(port)) if corpus else None,
        )  # fmt: skip
        try:
            app.sync_feeds()
            service = Service(app)
            _pipeline(service, out, outputs, week, extract=corpus is None)
        finally:
            app.close()
    finally:
        server.close()
    outputs.seconds = time.monotonic() - started
    return outputs


def _week(now: datetime) -> tuple[str, datetime]:
    """The week whose email covers the days up to ``now`` (the next Monday's), and the demo posts' start."""
    following = now + timedelta(days=7)
    year, number, _ = following.isocalendar()
    monday = datetime.fromisocalendar(year, number, 1).replace(hour=8, tzinfo=now.tzinfo)
    start = max(monday - timedelta(days=7), now - timedelta(days=5)) + timedelta(minutes=1)
    return f"{year:04d}-W{number:02d}", min(start, now - timedelta(minutes=30))


def _pipeline(service: Service, out: Console, outputs: Outputs, week: str, *, extract: bool) -> None:
    # A captured corpus holds feeds, not their pages: their links name the publishers' hosts, and
    # the demo contacts no host but this one (not even DNS), so their pages are not fetched.
    run = service.polling.poll(due_only=False, extract=extract)
    report, extracted = run.report, run.extracted
    failed = ", ".join(f"{r.feed_name} ({r.error})" for r in report.failed) or "none"
    polled = f"polled {_count(len(report.results), 'feed')}: {_count(report.new, 'new candidate')}"
    _step(out, polled, f"failed: {failed}")
    counts = extracted.counts() if extracted else {}
    _step(
        out,
        f"extracted {_count(sum(counts.values()), 'page')}",
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        if extract
        else "none fetched: a captured corpus has no pages, and the demo contacts no other host",
    )
    outputs.candidates = len(service.polling.candidates(limit=None))
    if not outputs.candidates:
        why = _why_empty(len(report.results), len(report.failed))
        outputs.problem = f"the poll stored no candidates: {why}"
        _skipped(out, "skipped suggesting, promoting, the digest and the weekly email", outputs.problem)
        return
    done = service.suggest.refresh()
    _step(out, "suggested sections and scored", f"{done} more candidates suggested after the poll's own pass")
    top = service.queue.items(QueueQuery(sort="score", limit=10))
    out.print(_queue_table(service, top))
    outputs.promoted = _promote(service, out, service.queue.items(QueueQuery(sort="score", limit=100)))
    if outputs.promoted:
        outputs.month = service.triage.current_digest()
        rendered = service.digests.render(outputs.month, template="summary")
        outputs.digest.write_text(rendered.text, encoding="utf-8")
        _step(out, f"rendered the {outputs.month} digest (summary template)", str(outputs.digest))
    else:
        why = "none of the 100 best-scored candidates has a suggested section"
        _skipped(out, "skipped promoting and the digest", f"{why}, so this month has no issue to render")
        outputs.problem = f"nothing was promoted: {why}"
    mail = service.mail.weekly(week, dry_run=True, out=outputs.email, html=outputs.email_html)
    outputs.week = mail.week
    _step(
        out,
        f"wrote the weekly email for {mail.week}: {mail.subject}",
        f"{outputs.email}, {outputs.email_html}",
    )


def _why_empty(feeds: int, failed: int) -> str:
    """Why a poll of ``feeds`` feeds, ``failed`` of them failing, stored no candidate."""
    see = "the 'polled' line above says why"
    if failed and failed == feeds:
        return f"the feed failed ({see})" if feeds == 1 else f"all {feeds} feeds failed ({see})"
    if failed:
        return f"{failed} of the {feeds} feeds failed ({see}) and the others hold no entries"
    return "the feed holds no entries" if feeds == 1 else f"the {feeds} feeds hold no entries"


def _promote(service: Service, out: Console, top: Sequence[QueueItem]) -> list[int]:
    """The top-scored items in distinct sections, promoted into this month's digest with a note: the
    best of each top section first (research, business, AWS), then of distinct subsections."""
    suggested: dict[int, tuple[str, float]] = {}
    for item in top:
        suggestion = service.suggest.of(item.id)
        if suggestion and suggestion.section and item.group_id in (None, item.id):
            suggested[item.id] = (suggestion.section, item.score or 0.0)
    titles = dict(SECTIONS)
    chosen: list[tuple[int, str, str]] = []
    for level in (_top_section, _same):  # distinct top sections first, then distinct subsections
        for cid, (section, score) in suggested.items():
            ids, taken = {c for c, _, _ in chosen}, {level(s) for _, s, _ in chosen}
            if len(chosen) < PROMOTIONS and cid not in ids and level(section) not in taken:
                where = titles.get(level(section), level(section))
                chosen.append((cid, section, f"picked by the demo: the top score in {where} ({score:.0f})"))
    for cid, section, note in chosen:
        service.triage.promote([cid], section=section, notes=[note], curator=CURATOR)
        _step(out, f"promoted #{cid} into {section}", note)
    return [cid for cid, _, _ in chosen]


def _top_section(section: str) -> str:
    return section.split("/")[0]


def _same(section: str) -> str:
    return section


def _queue_table(service: Service, items: Sequence[QueueItem]) -> Table:
    table = Table(title="the queue, top 10 by score", box=box.SIMPLE, title_justify="left")
    for name in ("id", "score", "suggested", "feed", "title"):
        table.add_column(
            name, justify="right" if name in ("id", "score") else "left", no_wrap=name != "title"
        )
    for item in items:
        suggestion = service.suggest.of(item.id)
        score = "-" if item.score is None else f"{item.score:.0f}"
        section = suggestion.section if suggestion and suggestion.section else "-"
        table.add_row(str(item.id), score, section, item.feed_name, Text(show_controls(item.title)))
    return table


def _count(n: int, noun: str) -> str:
    """``1 feed``, ``12 feeds``."""
    return f"{n} {noun}" if n == 1 else f"{n:,} {noun}s"


def _step(out: Console, headline: str, detail: str = "", *, mark: tuple[str, str] = ("✓", "green")) -> None:
    line = Text.assemble((f"{mark[0]} ", mark[1]), (show_controls(headline), "bold"))
    if detail:
        line.append(f"  {show_controls(detail)}", style="dim")
    out.print(line)


def _skipped(out: Console, headline: str, detail: str) -> None:
    _step(out, headline, detail, mark=("–", "yellow"))
