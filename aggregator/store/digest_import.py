"""The rows a digest import reads and writes: the candidates it may match, the reserved feed, the lock.

SQL only, in the caller's session, never committing: :mod:`aggregator.digest.import_plan` decides what
each item of the file does and :mod:`aggregator.digest.import_apply` calls the writes below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.store.db import hold_transaction_lock
from aggregator.store.digests import chunks
from aggregator.store.repo import dialect_insert
from aggregator.store.tables import candidates, digest_items, digests, feeds

#: The feed row that holds candidates made by ``digest import``. Its name is not a valid feed name in
#: feeds.yaml (names start with a letter or digit), so no configured feed can collide with it; it is
#: created with ``in_config`` and ``enabled`` false, so ``sync_feeds`` leaves it alone, ``claim_feeds``
#: never claims it and ``list_feeds`` (``feeds status``) does not show it.
IMPORT_FEED = "_import"
IMPORT_FEED_URL = "urn:aggregator:digest-import"

#: The PostgreSQL advisory lock an import holds for its transaction ("aggimprt").
IMPORT_LOCK_KEY = 0x616767696D707274


def lock_imports(s: Connection) -> None:
    """Hold the import lock until this transaction ends, so imports run one at a time.

    Two imports at once would both plan the same new candidates and items and
    one would fail on the unique keys. SQLite's writers are one at a time already.
    """
    hold_transaction_lock(s, IMPORT_LOCK_KEY)


def matching_rows(s: Connection, issue: str, keys: Iterable[str], urls: Iterable[str]) -> list[Any]:
    """The candidates an import may match, each with its feed and the issue it is in (if any).

    This issue's items whatever their URL (a second candidate for the same link that is not http(s)
    is found only here), then candidates anywhere by canonical URL (``keys``), then the import feed's
    own by entry key or by URL as written.
    """
    base = sa.select(
        candidates.c.id,
        candidates.c.url,
        candidates.c.canonical_url,
        candidates.c.entry_key,
        candidates.c.title,
        candidates.c.published_at,
        candidates.c.status,
        feeds.c.name.label("feed"),
        feeds.c.label.label("feed_label"),
        digests.c.name.label("issue"),
    ).join(feeds, feeds.c.id == candidates.c.feed_id)
    base = base.outerjoin(digest_items, digest_items.c.candidate_id == candidates.c.id).outerjoin(
        digests, digests.c.id == digest_items.c.digest_id
    )
    found: dict[int, Any] = {r.id: r for r in s.execute(base.where(digests.c.name == issue))}
    imported = feeds.c.name == IMPORT_FEED
    for chunk in chunks(sorted(keys)):
        for r in s.execute(base.where(candidates.c.canonical_url.in_(chunk))):
            found[r.id] = r
        for r in s.execute(base.where(imported, candidates.c.entry_key.in_(chunk))):
            found[r.id] = r
    for chunk in chunks(sorted(urls)):
        for r in s.execute(base.where(imported, candidates.c.url.in_(chunk))):
            found[r.id] = r
    return list(found.values())


def import_feed_id(s: Connection, now: datetime) -> int:
    """The id of the reserved feed :data:`IMPORT_FEED`, made when it does not exist yet."""
    found = s.execute(sa.select(feeds.c.id).where(feeds.c.name == IMPORT_FEED)).scalar()
    if found is not None:
        return int(found)
    created = s.execute(
        dialect_insert(s, feeds)
        .values(
            name=IMPORT_FEED,
            url=IMPORT_FEED_URL,
            config_url=IMPORT_FEED_URL,
            label="",
            interval_seconds=365 * 86400,
            enabled=False,
            in_config=False,
            title="Items imported from existing digests (aggregator digest import)",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(feeds.c.id)
    ).scalar()
    if created is not None:
        return int(created)
    return int(s.execute(sa.select(feeds.c.id).where(feeds.c.name == IMPORT_FEED)).scalar_one())


def free_entry_key(s: Connection, feed_id: int, key: str, issue: str) -> str:
    """``key``, or ``key (issue)``, ``key (issue #2)``... : the first the feed does not hold yet."""
    taken = set(
        s.execute(
            sa.select(candidates.c.entry_key).where(
                candidates.c.feed_id == feed_id, candidates.c.entry_key.startswith(key, autoescape=True)
            )
        ).scalars()
    )
    if key not in taken:
        return key
    n = 1
    while True:
        option = f"{key} ({issue})" if n == 1 else f"{key} ({issue} #{n})"
        if option not in taken:
            return option
        n += 1


def digest_item_rows(s: Connection, candidate_ids: Sequence[int]) -> dict[int, Any]:
    """Candidate id to its digest item's row, for those of ``candidate_ids`` in an issue."""
    rows = s.execute(sa.select(digest_items).where(digest_items.c.candidate_id.in_(candidate_ids)))
    return {r.candidate_id: r for r in rows}


def candidate_row(s: Connection, candidate_id: int) -> Any:
    return s.execute(sa.select(candidates).where(candidates.c.id == candidate_id)).one()


def insert_candidate(s: Connection, values: Mapping[str, Any]) -> int:
    """A new candidate with ``values``; its id."""
    return int(s.execute(sa.insert(candidates).values(**values).returning(candidates.c.id)).scalar_one())


def update_candidate(
    s: Connection, candidate_id: int, changes: Mapping[str, Any], now: datetime, curator: str
) -> None:
    """Write ``changes`` as the curator's decision: a new version, decided now by ``curator``."""
    s.execute(
        sa.update(candidates)
        .where(candidates.c.id == candidate_id)
        .values(
            **changes,
            decided_at=now,
            decided_by=curator,
            updated_at=now,
            version=candidates.c.version + 1,
        )
    )


def insert_item(
    s: Connection, digest_id: int, candidate_id: int, now: datetime, curator: str, values: Mapping[str, Any]
) -> None:
    """Put a candidate into an issue, promoted now by ``curator``, with the digest item's ``values``."""
    s.execute(
        sa.insert(digest_items).values(
            digest_id=digest_id, candidate_id=candidate_id, promoted_at=now, promoted_by=curator, **values
        )
    )


def update_item(s: Connection, candidate_id: int, changes: Mapping[str, Any]) -> None:
    s.execute(sa.update(digest_items).where(digest_items.c.candidate_id == candidate_id).values(**changes))
