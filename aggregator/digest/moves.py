"""The order of an issue's subsection as the curator sets it: ``digest move``.

Takes the caller's session and never commits. Every item of the subsection gets a position, so the
order the curator saw is the order kept (:func:`aggregator.digest.model.order_items`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from aggregator.digest.model import DigestItem, order_items
from aggregator.digest.names import month_of
from aggregator.errors import DigestError
from aggregator.store import digests as store


@dataclass(frozen=True, slots=True)
class MoveResult:
    issue: str
    section: str
    order: tuple[int, ...]
    """The subsection's candidate ids in their new order."""
    before: tuple[tuple[int, int | None], ...]
    """(candidate id, position) of every item of the subsection before the move, for an undo."""


def section_order(s: Connection, digest_id: int, section: str) -> list[tuple[int, int | None]]:
    """(candidate id, stored position) of a subsection's items, in printed order."""
    items = [
        DigestItem(r.id, "", None, month_of(r.published_at), published_at=r.published_at, position=r.position)
        for r in store.section_rows(s, digest_id, section)
    ]
    return [(item.id, item.position) for item in order_items(items)]


def move(
    s: Connection,
    candidate_id: int,
    *,
    before: int | None = None,
    after: int | None = None,
    to: Literal["top", "bottom"] | None = None,
    force: bool = False,
) -> MoveResult:
    """Put an item before or after another item of its subsection, or at its top or bottom.

    Every item of the subsection gets a position, so the order seen is the order kept. Refused for an
    item in no issue, a reference item in another issue or subsection, and a published issue (unless
    ``force``).
    """
    given = [x for x in (before, after, to) if x is not None]
    if len(given) != 1:
        raise DigestError("say where to move it: exactly one of --before ID, --after ID, --top, --bottom")
    here = store.placement(s, candidate_id)
    if here is None:
        raise DigestError(
            f"candidate {candidate_id} is in no digest issue (promote it first; `aggregator digest show "
            "YYYY-MM` lists the ids of an issue's items)"
        )
    if here.status == "published" and not force:
        raise DigestError(f"digest {here.name} is published and frozen; add --force to reorder it anyway")
    store.lock_issue(s, here.digest_id)
    reference = before if before is not None else after
    if reference is not None:
        if reference == candidate_id:
            raise DigestError(f"candidate {candidate_id} cannot be moved before or after itself")
        there = store.placement(s, reference)
        if there is None:
            raise DigestError(
                f"candidate {reference} is in no digest issue (see `aggregator digest show {here.name}`)"
            )
        if (there.name, there.section) != (here.name, here.section):
            raise DigestError(
                f"candidate {candidate_id} is in {here.name} {here.section} but {reference} is in "
                f"{there.name} {there.section}: move only reorders items within one subsection (to change "
                "an item's section, promote it again into the other section)"
            )
    current = section_order(s, here.digest_id, here.section)
    order = [cid for cid, _ in current if cid != candidate_id]
    if to == "top":
        order.insert(0, candidate_id)
    elif to == "bottom":
        order.append(candidate_id)
    else:
        assert reference is not None
        at = order.index(reference) + (1 if after is not None else 0)
        order.insert(at, candidate_id)
    store.write_positions(s, here.digest_id, current, order)
    return MoveResult(here.name, here.section, tuple(order), tuple(current))
