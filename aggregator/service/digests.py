"""The facade's digests operations (see :mod:`aggregator.service`).

The digest wing and the store are imported inside the methods, so a command that does not touch a
digest, and ``import aggregator.cli``, load neither (rendering is the only user of Jinja2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from aggregator.service.part import Part

if TYPE_CHECKING:
    from datetime import datetime

    from aggregator.digest.import_plan import ImportPlan, ImportReport
    from aggregator.digest.lint import LintFinding
    from aggregator.digest.model import Digest, IssueSummary, NotesStyle
    from aggregator.digest.moves import MoveResult


@dataclass(frozen=True, slots=True)
class Rendered:
    """An issue rendered as Markdown, with the issue itself (for its unplaced items and its count)."""

    digest: Digest
    text: str
    template: str
    """The template used: a shipped template's name or a path, as given or as feeds.yaml's default."""


@dataclass(frozen=True, slots=True)
class Imported:
    """What ``digest import`` did (or, in a dry run, would do): the plan and each action's outcome."""

    plan: ImportPlan
    report: ImportReport
    dry_run: bool


class Digests(Part):
    """Digests: each method reads the clock once, owns its unit of work and returns plain values."""

    def list_issues(self) -> list[IssueSummary]:
        """Every issue, newest month first, with item counts per subsection."""
        from aggregator.digest.issues import list_issues

        with self.app.read() as s:
            return list_issues(s)

    def show(self, name: str) -> Digest:
        """Issue ``name`` as plain values, in the taxonomy's order and numbering."""
        from aggregator.digest.issues import load_issue

        block = self.app.config.digest
        with self.app.read() as s:
            return load_issue(s, name, self.app.taxonomy, title=block.title, preface=block.preface)

    def render(
        self, name: str, template: str | Path | None = None, notes: NotesStyle | None = None
    ) -> Rendered:
        """Issue ``name`` as Markdown; the template and notes style default to feeds.yaml's ``digest``."""
        from aggregator.digest.render import render

        issue = self.show(name)
        block = self.app.config.digest
        chosen = template or block.template
        style: NotesStyle = notes or ("inline" if block.notes == "inline" else "nested")
        return Rendered(issue, render(issue, chosen, notes=style, options=block), str(chosen))

    def publish(self, name: str, *, force: bool = False) -> datetime:
        """Mark issue ``name`` published (frozen from now on); its publication time."""
        from aggregator.digest.issues import publish

        now = self.app.clock()
        with self.app.write() as s:
            return publish(s, name, now, self.app.taxonomy, force=force)

    def lint(self, name: str) -> list[LintFinding]:
        """The problems of issue ``name``."""
        from aggregator.digest.issues import lint_issue

        with self.app.read() as s:
            return lint_issue(s, name, self.app.taxonomy)

    def move(
        self,
        candidate_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        to: Literal["top", "bottom"] | None = None,
        force: bool = False,
        curator: str,
    ) -> MoveResult:
        """Reorder an item within its subsection, logged like a decision so ``undo`` restores the order."""
        from aggregator.digest.moves import move
        from aggregator.store import triage as triage_store

        now = self.app.clock()
        with self.app.write() as s:
            result = move(s, candidate_id, before=before, after=after, to=to, force=force)
            triage_store.record_move(s, result.before, result.order, curator=curator, now=now)
        return result

    def import_digest(
        self,
        text: str,
        name: str,
        *,
        source: str = "digest",
        dry_run: bool = False,
        force: bool = False,
        curator: str,
    ) -> Imported:
        """Import a digest's Markdown into issue ``name``; a dry run does the same and rolls it back.

        One write transaction under the import lock: feeds.yaml's feeds are synced in it (their labels
        decide the overrides, and a refusal or a dry run leaves no trace of the sync either), then the
        plan (every refusal) and its writes. The values returned are made before the commit.
        """
        from aggregator.digest.import_apply import apply_import
        from aggregator.digest.import_plan import plan_import
        from aggregator.digest.read import parse_digest
        from aggregator.store import digest_import, repo

        parsed = parse_digest(text, self.app.taxonomy, source=source)
        with self.app.write() as s:
            digest_import.lock_imports(s)
            now = self.app.clock()
            repo.sync_feeds(s, self.app.config.feeds, now)
            plan = plan_import(s, parsed, name, self.app.taxonomy, force=force, source=source)
            report = apply_import(s, plan, now, curator)
            if dry_run:
                s.rollback()
        return Imported(plan, report, dry_run)
