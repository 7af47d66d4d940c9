"""Issues from the database as plain values: list, load for rendering, lint, publish.

Takes the caller's session and never commits (the facade, :mod:`aggregator.service.digests`, owns the
unit of work); the SQL is :mod:`aggregator.store.digests`'. A published issue is frozen: publishing it
again needs ``force``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from aggregator.digest.lint import LintFinding, LintItem, lint_findings
from aggregator.digest.model import Digest, DigestItem, IssueSummary, build_digest
from aggregator.digest.names import check_name, month_of
from aggregator.errors import DigestError
from aggregator.store import digests as store
from aggregator.store.digest_import import IMPORT_FEED
from aggregator.taxonomy import Taxonomy


def issue_row(s: Connection, name: str, *, lock: bool = False) -> Any:
    """Issue ``name``'s row: a DigestError when the name is not ``YYYY-MM`` or there is no such issue."""
    return store.issue_row(s, check_name(name), lock=lock)


def list_issues(s: Connection) -> list[IssueSummary]:
    """Every issue, newest month first, with item counts per subsection."""
    counts = store.section_counts(s)
    return [
        IssueSummary(r.name, r.status, r.created_at, r.published_at, tuple(counts.get(r.id, ())))
        for r in store.issue_rows(s)
    ]


def _digest_item(r: Any) -> DigestItem:
    return DigestItem(
        id=r.id,
        title=r.title_override if r.title_override else r.title,
        url=r.url,
        month=r.month_override or month_of(r.published_at),
        label=r.label_override if r.label_override is not None else r.feed_label,
        notes=tuple(r.notes or ()),
        images=tuple(r.images or ()),
        published_at=r.published_at,
        position=r.position,
        article_title=r.title,
    )


def load_issue(s: Connection, name: str, taxonomy: Taxonomy, *, title: str, preface: str) -> Digest:
    """Issue ``name`` as plain values for rendering, in the taxonomy's order and numbering.

    ``title`` and ``preface`` are feeds.yaml's ``digest`` block's.
    """
    row = issue_row(s, name)
    items = [(r.section, _digest_item(r)) for r in store.item_rows(s, row.id)]
    return build_digest(
        name=row.name,
        title=title,
        preface=preface,
        taxonomy=taxonomy,
        items=items,
        status=row.status,
        published_at=row.published_at,
    )


def lint_issue(s: Connection, name: str, taxonomy: Taxonomy) -> list[LintFinding]:
    """The problems of issue ``name`` (see :func:`aggregator.digest.lint.lint_findings`)."""
    row = issue_row(s, name)
    mine = [_lint_item(r) for r in store.lint_rows(s, row.id)]
    urls = sorted({i.canonical_url for i in mine if i.canonical_url})
    groups = sorted({i.group_id for i in mine if i.group_id is not None})
    others = [_lint_item(r) for r in store.lint_rows_elsewhere(s, row.id, urls, groups).values()]
    mine.sort(key=lambda i: i.id)
    return lint_findings(name, mine, others, taxonomy.promotable_sections())


def _lint_item(r: Any) -> LintItem:
    # Title and label as _digest_item prints them: the curator's override, else the article's and feed's.
    return LintItem(
        id=r.id,
        issue=r.issue,
        section=r.section,
        title=r.title_override if r.title_override else r.title,
        url=r.url,
        canonical_url=r.canonical_url,
        group_id=r.group_id,
        dated=r.date_source != "first_seen" or r.month is not None,
        label=r.label_override if r.label_override is not None else r.feed_label,
        notes=tuple(r.notes or ()),
        # The article's own date; not one the digest import or the first sight of it gave.
        published=r.published_at.date()
        if r.date_source != "first_seen" and r.feed_name != IMPORT_FEED
        else None,
    )


def publish(s: Connection, name: str, now: datetime, taxonomy: Taxonomy, *, force: bool = False) -> datetime:
    """Mark issue ``name`` published (frozen from now on); returns its publication time.

    Refused, unless ``force``: an issue already published (force publishes it again, with a new date),
    an empty issue, and an issue ``lint`` finds problems in.
    """
    row = issue_row(s, name, lock=True)
    if not force:
        if row.status == "published":
            raise DigestError(
                f"digest {name} was published on {row.published_at:%Y-%m-%d %H:%M} UTC already "
                "(add --force to publish it again with a new date)"
            )
        if not store.item_count(s, row.id):
            raise DigestError(f"digest {name} has no items (promote some first, or add --force)")
        findings = lint_issue(s, name, taxonomy)
        if findings:
            lines = "\n".join(f"  {f.message}" for f in findings)
            raise DigestError(
                f"digest {name} has {len(findings)} problem{'s' if len(findings) != 1 else ''}; fix them "
                f"or add --force to publish anyway:\n{lines}"
            )
    store.mark_published(s, row.id, now)
    return now
