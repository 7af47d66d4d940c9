"""Applying a digest import's plan: the writes, and what each action did.

Takes the caller's session and never commits; see :mod:`aggregator.digest.import_plan` for what an
import does and why. Rolled back, this is the dry run: the same writes, so the same outcomes and
refusals as the import.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from aggregator.digest.import_plan import ImportAction, ImportPlan, ImportReport, Outcome, key_of
from aggregator.digest.moves import section_order
from aggregator.digest.read import ParsedItem
from aggregator.errors import DigestError
from aggregator.store import digest_import as store
from aggregator.store import search
from aggregator.store.digests import open_issue, write_positions
from aggregator.store.repo import assign_groups
from aggregator.store.tables import CURATOR_CHARS
from aggregator.urls import canonical_url, is_http_url

__all__ = ["apply_import"]


def apply_import(s: Connection, plan: ImportPlan, now: datetime, curator: str) -> ImportReport:
    """Write ``plan`` (made by :func:`~aggregator.digest.import_plan.plan_import` in the same unit of
    work); what each action did.

    It refuses nothing the plan accepted, with two exceptions that only a change between the plan
    and this call (or a curator name too long to store) can cause: the issue was published meanwhile
    (PostgreSQL's READ COMMITTED lets another command do that), and the curator's name. Rolled back,
    it is the dry run: the same writes, so the same outcomes and refusals.
    """
    if len(curator) > CURATOR_CHARS:
        raise DigestError(
            f"the curator's name is {len(curator):,} characters long; at most {CURATOR_CHARS} are stored "
            "(give a shorter --curator or AGGREGATOR_CURATOR)"
        )
    writer = _Writer(s, plan, now, curator, open_issue(s, plan.issue, now, force=plan.force))
    kept = [a.candidate_id for a in plan.actions if a.kind == "keep" and a.candidate_id is not None]
    writer.current_items = store.digest_item_rows(s, kept)
    ids = [writer.write(action) for action in plan.actions]
    if writer.new_urls:
        assign_groups(s, sorted(set(writer.new_urls)))
    search.index_candidates(s, writer.retitled)  # imported titles are searchable like polled ones
    writer.write_order()
    outcomes: list[Outcome] = []
    for action, cid in zip(plan.actions, ids, strict=True):
        if action.kind == "create":
            outcomes.append("created")
        elif action.kind == "promote":
            outcomes.append("promoted")
        else:
            outcomes.append("updated" if cid in writer.changed else "unchanged")
    return ImportReport(plan.issue, tuple(outcomes))


@dataclass
class _Writer:
    """The writes of one import, and what they touched."""

    s: Connection
    plan: ImportPlan
    now: datetime
    curator: str
    digest_id: int
    current_items: dict[int, Any] = field(default_factory=dict)
    """The digest items of the kept candidates, before the import."""
    feed_id: int | None = None
    new_urls: list[str] = field(default_factory=list)
    retitled: list[int] = field(default_factory=list)
    file_order: dict[str, list[int]] = field(default_factory=dict)
    changed: set[int] = field(default_factory=set)
    """Kept candidates whose row, digest item or position changed."""

    def write(self, action: ImportAction) -> int:
        """Write one action; its candidate's id."""
        item = action.item
        values = {
            "section": item.section,
            "title": action.title,
            "label": action.label,
            "month": action.month,
            "images": list(item.images),
        }
        cid = self.create(action, values) if action.kind == "create" else self.update(action, values)
        self.file_order.setdefault(item.section, []).append(cid)
        return cid

    def create(self, action: ImportAction, values: dict[str, Any]) -> int:
        """A new candidate under the import feed, promoted into the issue."""
        item, now = action.item, self.now
        if self.feed_id is None:
            self.feed_id = store.import_feed_id(self.s, now)
        key = store.free_entry_key(self.s, self.feed_id, key_of(item.url), self.plan.issue)
        canonical = canonical_url(item.url) if is_http_url(item.url) else None
        assert action.published_at is not None
        cid = store.insert_candidate(
            self.s,
            {
                "feed_id": self.feed_id,
                "entry_key": key,
                "url": item.url,
                "canonical_url": canonical,
                "title": item.title,
                "tags": [],
                "published_at": action.published_at,
                "date_source": "digest",
                "first_seen_at": now,
                "updated_at": now,
                "content_hash": _content_hash(item),
                "status": "promoted",
                "notes": list(item.notes),
                "decided_at": now,
                "decided_by": self.curator,
                "version": 1,
            },
        )
        if canonical:
            self.new_urls.append(canonical)
        self.retitled.append(cid)
        store.insert_item(self.s, self.digest_id, cid, now, self.curator, values)
        return cid

    def update(self, action: ImportAction, values: dict[str, Any]) -> int:
        """An existing candidate made to match the file, promoted into the issue or kept in it."""
        assert action.candidate_id is not None
        cid, item = action.candidate_id, action.item
        row = store.candidate_row(self.s, cid)
        changes: dict[str, Any] = {}
        if row.status != "promoted":
            changes["status"] = "promoted"
        if list(row.notes or []) != list(item.notes):
            changes["notes"] = list(item.notes)
        if action.own:
            own = {"title": item.title, "url": item.url, "published_at": action.published_at}
            changes.update({k: v for k, v in own.items() if getattr(row, k) != v})
        if "title" in changes:
            self.retitled.append(cid)
        if changes:
            store.update_candidate(self.s, cid, changes, self.now, self.curator)
        if action.kind == "promote":
            store.insert_item(self.s, self.digest_id, cid, self.now, self.curator, values)
            return cid
        old = self.current_items[cid]
        item_changes = {k: v for k, v in values.items() if getattr(old, k) != v}
        if item_changes:
            store.update_item(self.s, cid, item_changes)
        if changes or item_changes:
            self.changed.add(cid)
        return cid

    def write_order(self) -> None:
        """Each subsection in the file's order, the items the file does not list after them."""
        for section, listed_ids in self.file_order.items():
            current = section_order(self.s, self.digest_id, section)
            listed = set(listed_ids)
            order = listed_ids + [cid for cid, _ in current if cid not in listed]
            self.changed |= write_positions(self.s, self.digest_id, current, order)


def _content_hash(item: ParsedItem) -> str:
    h = hashlib.sha256()
    for part in (item.title, item.url, item.month or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()
