"""Digest issues in the database: open, list, load for rendering, publish, reorder, lint, import.

Like ``repo``, functions take the caller's session and never commit; they return plain values
(``aggregator.digest.model``'s dataclasses and the small ones below), never rows.

- A published issue is frozen: changing it (``move``, ``import``, a promotion) needs ``force``.
- The order within a subsection is :func:`aggregator.digest.model.order_items`'s; :func:`move` writes a
  position for every item of the subsection, so the order the curator saw is the order kept.
- Import (:func:`plan_import`, then :func:`apply_import` in the same unit of work) puts every item of a
  parsed digest into the issue as a promoted candidate. Items are matched to candidates by canonical
  URL: one already in this issue first (so importing the same file again duplicates nothing: the file
  is the truth for sections, order, notes, images and overrides), else one in no issue (a feed's own
  candidate before an imported one, one with the same display URL first); otherwise a new candidate
  is made under the reserved feed ``_import`` (see :data:`IMPORT_FEED`) with ``date_source``
  ``digest`` and the first day of the printed month as its date. An article already in another issue
  gets a new candidate here, and ``digest lint`` reports it. Title, label and month overrides are
  written only where the file prints something other than what rendering would print anyway.
  The plan makes every refusal (problems of the file, links too long to index, a published issue);
  apply only writes and reports what each action did. A dry run is both, rolled back: the same writes,
  so the same counts and refusals as the import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aggregator.configuration import Configuration
from aggregator.digest.model import (
    Digest,
    DigestItem,
    LintFinding,
    LintItem,
    ParsedDigest,
    ParsedItem,
    build_digest,
    lint_findings,
    month_key,
    order_items,
)
from aggregator.digest.names import check_name, month_of
from aggregator.errors import DigestError
from aggregator.store import search
from aggregator.store.db import hold_transaction_lock
from aggregator.store.repo import CHUNK, assign_groups, dialect_insert
from aggregator.store.tables import CURATOR_CHARS, MAX_KEY_BYTES, candidates, digest_items, digests, feeds
from aggregator.taxonomy import Section
from aggregator.urls import canonical_url, is_http_url

#: The feed row that holds candidates made by ``digest import``. Its name is not a valid feed name in
#: feeds.yaml (names start with a letter or digit), so no configured feed can collide with it; it is
#: created with ``in_config`` and ``enabled`` false, so ``sync_feeds`` leaves it alone, ``claim_feeds``
#: never claims it and ``list_feeds`` (``feeds status``) does not show it.
IMPORT_FEED = "_import"
IMPORT_FEED_URL = "urn:aggregator:digest-import"


def _frozen(name: str) -> str:
    return (
        f"digest {name} is published and frozen; add --force to change it anyway "
        "(or `aggregator digest render` to see it as published)"
    )


def open_issue(s: Session, name: str, now: datetime, *, force: bool = False) -> int:
    """The id of issue ``name`` to change, opened as a draft when it does not exist yet.

    A published issue is frozen: changing it needs ``force``.
    """
    check_name(name)
    row = s.execute(sa.select(digests.c.id, digests.c.status).where(digests.c.name == name)).first()
    if row is None:
        # Two curators' first promotions of a month may open it at once (PostgreSQL): the one
        # whose insert loses reads the other's issue instead of failing on the unique name.
        created = s.execute(
            dialect_insert(s, digests)
            .values(name=name, status="draft", created_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(digests.c.id)
        ).scalar()
        if created is not None:
            return int(created)
        row = s.execute(sa.select(digests.c.id, digests.c.status).where(digests.c.name == name)).one()
    if row.status == "published" and not force:
        raise DigestError(_frozen(name))
    return int(row.id)


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssueSummary:
    """One issue in ``digest list``: its state and how many items each subsection holds."""

    name: str
    status: str
    created_at: datetime
    published_at: datetime | None
    sections: tuple[tuple[str, int], ...]
    """(full subsection id, item count), sorted by id."""

    @property
    def total(self) -> int:
        return sum(n for _, n in self.sections)


def list_issues(s: Session) -> list[IssueSummary]:
    """Every issue, newest month first, with item counts per subsection."""
    counts: dict[int, list[tuple[str, int]]] = {}
    for digest_id, section, n in s.execute(
        sa.select(digest_items.c.digest_id, digest_items.c.section, sa.func.count())
        .group_by(digest_items.c.digest_id, digest_items.c.section)
        .order_by(digest_items.c.section)
    ):
        counts.setdefault(digest_id, []).append((section, int(n)))
    rows = s.execute(sa.select(digests).order_by(digests.c.name.desc())).all()
    return [
        IssueSummary(r.name, r.status, r.created_at, r.published_at, tuple(counts.get(r.id, ())))
        for r in rows
    ]


def _issue_row(s: Session, name: str, *, lock: bool = False) -> Any:
    check_name(name)
    stmt = sa.select(digests).where(digests.c.name == name)
    if lock:
        stmt = stmt.with_for_update()  # PostgreSQL; SQLite writers hold the database already
    row = s.execute(stmt).first()
    if row is None:
        raise DigestError(
            f"there is no digest issue {name} (see `aggregator digest list`; promoting a candidate "
            f"into it, or `aggregator digest import FILE --digest {name}`, opens it)"
        )
    return row


def _item_columns() -> list[Any]:
    return [
        digest_items.c.section,
        digest_items.c.position,
        digest_items.c.title.label("title_override"),
        digest_items.c.label.label("label_override"),
        digest_items.c.month.label("month_override"),
        digest_items.c.images,
        candidates.c.id,
        candidates.c.title,
        candidates.c.url,
        candidates.c.published_at,
        candidates.c.notes,
        feeds.c.label.label("feed_label"),
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


def load_issue(s: Session, name: str, config: Configuration) -> Digest:
    """Issue ``name`` as plain values for rendering, in the taxonomy's order and numbering."""
    row = _issue_row(s, name)
    stmt = (
        sa.select(*_item_columns())
        .join(candidates, candidates.c.id == digest_items.c.candidate_id)
        .join(feeds, feeds.c.id == candidates.c.feed_id)
        .where(digest_items.c.digest_id == row.id)
    )
    items = [(r.section, _digest_item(r)) for r in s.execute(stmt)]
    return build_digest(
        name=row.name,
        title=config.digest.title,
        preface=config.digest.preface,
        taxonomy=config.sections,
        items=items,
        status=row.status,
        published_at=row.published_at,
    )


# -- lint and publish ------------------------------------------------------------------------


def _known_sections(sections: Sequence[Section]) -> list[str]:
    """Where items can be: every subsection, and top sections that have none."""
    return [full_id for section in sections for full_id in section.full_ids() or [section.id]]


def lint(s: Session, name: str, sections: Sequence[Section]) -> list[LintFinding]:
    """The problems of issue ``name`` (see :func:`aggregator.digest.model.lint_findings`)."""
    row = _issue_row(s, name)
    cols = (
        digests.c.name.label("issue"),
        digest_items.c.section,
        digest_items.c.month,
        digest_items.c.title.label("title_override"),
        digest_items.c.label.label("label_override"),
        candidates.c.id,
        candidates.c.title,
        candidates.c.url,
        candidates.c.canonical_url,
        candidates.c.group_id,
        candidates.c.date_source,
        candidates.c.notes,
        feeds.c.label.label("feed_label"),
    )
    base = (
        sa.select(*cols)
        .join(candidates, candidates.c.id == digest_items.c.candidate_id)
        .join(digests, digests.c.id == digest_items.c.digest_id)
        .join(feeds, feeds.c.id == candidates.c.feed_id)
    )
    mine = [_lint_item(r) for r in s.execute(base.where(digest_items.c.digest_id == row.id))]
    urls = sorted({i.canonical_url for i in mine if i.canonical_url})
    groups = sorted({i.group_id for i in mine if i.group_id is not None})
    others: dict[int, LintItem] = {}
    elsewhere = base.where(digest_items.c.digest_id != row.id)
    for chunk in _chunks(urls):
        for r in s.execute(elsewhere.where(candidates.c.canonical_url.in_(chunk))):
            others[r.id] = _lint_item(r)
    for chunk in _chunks(groups):
        for r in s.execute(elsewhere.where(candidates.c.group_id.in_(chunk))):
            others[r.id] = _lint_item(r)
    mine.sort(key=lambda i: i.id)
    return lint_findings(name, mine, list(others.values()), _known_sections(sections))


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
    )


def publish(
    s: Session, name: str, now: datetime, sections: Sequence[Section], *, force: bool = False
) -> datetime:
    """Mark issue ``name`` published (frozen from now on); returns its publication time.

    Refused, unless ``force``: an issue already published (force publishes it again, with a new date),
    an empty issue, and an issue ``lint`` finds problems in.
    """
    row = _issue_row(s, name, lock=True)
    if not force:
        if row.status == "published":
            raise DigestError(
                f"digest {name} was published on {row.published_at:%Y-%m-%d %H:%M} UTC already "
                "(add --force to publish it again with a new date)"
            )
        count = s.execute(
            sa.select(sa.func.count()).select_from(digest_items).where(digest_items.c.digest_id == row.id)
        ).scalar_one()
        if not count:
            raise DigestError(f"digest {name} has no items (promote some first, or add --force)")
        findings = lint(s, name, sections)
        if findings:
            lines = "\n".join(f"  {f.message}" for f in findings)
            raise DigestError(
                f"digest {name} has {len(findings)} problem{'s' if len(findings) != 1 else ''}; fix them "
                f"or add --force to publish anyway:\n{lines}"
            )
    s.execute(sa.update(digests).where(digests.c.id == row.id).values(status="published", published_at=now))
    return now


# -- order ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoveResult:
    issue: str
    section: str
    order: tuple[int, ...]
    """The subsection's candidate ids in their new order."""
    before: tuple[tuple[int, int | None], ...]
    """(candidate id, position) of every item of the subsection before the move, for an undo."""


def _section_order(s: Session, digest_id: int, section: str) -> list[tuple[int, int | None]]:
    """(candidate id, stored position) of a subsection's items, in printed order."""
    rows = s.execute(
        sa.select(candidates.c.id, candidates.c.published_at, digest_items.c.position)
        .join(candidates, candidates.c.id == digest_items.c.candidate_id)
        .where(digest_items.c.digest_id == digest_id, digest_items.c.section == section)
    ).all()
    items = [
        DigestItem(r.id, "", None, month_of(r.published_at), published_at=r.published_at, position=r.position)
        for r in rows
    ]
    return [(item.id, item.position) for item in order_items(items)]


def _write_positions(
    s: Session, digest_id: int, current: Sequence[tuple[int, int | None]], order: Sequence[int]
) -> set[int]:
    """Give each item of ``order`` its index as position; returns the candidates whose position changed."""
    old = dict(current)
    params = [{"b_cid": cid, "b_pos": pos} for pos, cid in enumerate(order) if old.get(cid, -1) != pos]
    if params:
        s.execute(
            sa.update(digest_items)
            .where(
                digest_items.c.digest_id == digest_id, digest_items.c.candidate_id == sa.bindparam("b_cid")
            )
            .values(position=sa.bindparam("b_pos")),
            params,
        )
    return {p["b_cid"] for p in params}


def _placement(s: Session, candidate_id: int) -> Any:
    return s.execute(
        sa.select(digest_items.c.digest_id, digest_items.c.section, digests.c.name, digests.c.status)
        .join(digests, digests.c.id == digest_items.c.digest_id)
        .where(digest_items.c.candidate_id == candidate_id)
    ).first()


def move(
    s: Session,
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
    here = _placement(s, candidate_id)
    if here is None:
        raise DigestError(
            f"candidate {candidate_id} is in no digest issue (promote it first; `aggregator digest show "
            "YYYY-MM` lists the ids of an issue's items)"
        )
    if here.status == "published" and not force:
        raise DigestError(f"digest {here.name} is published and frozen; add --force to reorder it anyway")
    s.execute(sa.select(digests.c.id).where(digests.c.id == here.digest_id).with_for_update())
    reference = before if before is not None else after
    if reference is not None:
        if reference == candidate_id:
            raise DigestError(f"candidate {candidate_id} cannot be moved before or after itself")
        there = _placement(s, reference)
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
    current = _section_order(s, here.digest_id, here.section)
    order = [cid for cid, _ in current if cid != candidate_id]
    if to == "top":
        order.insert(0, candidate_id)
    elif to == "bottom":
        order.append(candidate_id)
    else:
        assert reference is not None
        at = order.index(reference) + (1 if after is not None else 0)
        order.insert(at, candidate_id)
    _write_positions(s, here.digest_id, current, order)
    return MoveResult(here.name, here.section, tuple(order), tuple(current))


# -- import -----------------------------------------------------------------------------------

ImportKind = Literal["keep", "promote", "create"]
Outcome = Literal["created", "promoted", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class ImportAction:
    """What importing one parsed item does."""

    item: ParsedItem
    kind: ImportKind
    """keep: its candidate is in this issue already; promote: an existing candidate in no issue;
    create: a new candidate under the import feed."""
    candidate_id: int | None
    feed: str | None
    status: str | None
    """The candidate's status before the import (None when created)."""
    own: bool
    """The candidate belongs to the import feed: its title, URL and date follow the file."""
    published_at: datetime | None
    """The candidate's new publication date (own candidates only)."""
    title: str | None
    label: str | None
    month: str | None
    """The overrides written on the digest item (None: none)."""
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    issue: str
    actions: tuple[ImportAction, ...]
    warnings: tuple[str, ...]
    force: bool = False
    """The issue may be published (the plan was made with ``force``)."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What :func:`apply_import` did."""

    issue: str
    outcomes: tuple[Outcome, ...]
    """One per action of the plan, in its order. ``updated``: the candidate, its digest item or its
    position changed; ``unchanged``: nothing about it did."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o == outcome)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def promoted(self) -> int:
        return self.count("promoted")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


def _month_start(month: str) -> datetime:
    year, number = month_key(month)
    return datetime(year, number, 1, tzinfo=UTC)


def _key_of(url: str) -> str:
    """What identifies an imported article: its canonical URL, else the URL as written."""
    return (canonical_url(url) if is_http_url(url) else None) or url.strip()


def _row_key(r: Any) -> str:
    """The key of a stored candidate, as :func:`_key_of` gives it for the file's URL."""
    return str(r.canonical_url or (r.url or "").strip())


_SHOWN_PROBLEMS = 20


def _refuse(source: str, problems: Sequence[str]) -> DigestError:
    """The refusal of a file with problems: how many, and the first twenty, each with its line."""
    n = len(problems)
    shown = "\n".join(f"  {p}" for p in problems[:_SHOWN_PROBLEMS])
    more = f"\n  ... and {n - _SHOWN_PROBLEMS} more" if n > _SHOWN_PROBLEMS else ""
    return DigestError(
        f"{source}: {n} problem{'s' if n != 1 else ''}, so nothing was imported; fix the file "
        f"(or feeds.yaml) and import it again:\n{shown}{more}"
    )


def plan_import(
    s: Session,
    parsed: ParsedDigest,
    name: str,
    sections: Sequence[Section],
    *,
    force: bool = False,
    source: str = "digest",
) -> ImportPlan:
    """What importing ``parsed`` into issue ``name`` would do; reads only.

    Every refusal is here, so :func:`apply_import` only writes: a DigestError lists every problem of
    the parse, or of the items against what the database can hold (a link longer than
    :data:`MAX_KEY_BYTES`), or says the issue is published (unless ``force``).
    """
    check_name(name)
    problems = list(parsed.problems)
    for item in parsed.items:
        size = len(_key_of(item.url).encode("utf-8", "surrogatepass"))
        if size > MAX_KEY_BYTES:
            problems.append(
                f"{source}:{item.line}: the link is {size:,} bytes long; at most {MAX_KEY_BYTES:,} can be "
                "stored (is it one link?)"
            )
    if problems:
        raise _refuse(source, problems)
    status = s.execute(sa.select(digests.c.status).where(digests.c.name == name)).scalar()
    if status == "published" and not force:
        raise DigestError(_frozen(name))
    hidden = {sec.id for sec in sections if sec.hide_labels}
    keys = {_key_of(item.url) for item in parsed.items}
    urls = {item.url for item in parsed.items}
    cols = (
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
    )
    base = (
        sa.select(*cols)
        .join(feeds, feeds.c.id == candidates.c.feed_id)
        .outerjoin(digest_items, digest_items.c.candidate_id == candidates.c.id)
        .outerjoin(digests, digests.c.id == digest_items.c.digest_id)
    )
    # This issue's items whatever their URL (a second candidate for the same link that is not http(s)
    # is found only here), then candidates anywhere by canonical URL, then the import feed's own.
    found: dict[int, Any] = {r.id: r for r in s.execute(base.where(digests.c.name == name))}
    imported = feeds.c.name == IMPORT_FEED
    for chunk in _chunks(sorted(keys)):
        for r in s.execute(base.where(candidates.c.canonical_url.in_(chunk))):
            found[r.id] = r
        for r in s.execute(base.where(imported, candidates.c.entry_key.in_(chunk))):
            found[r.id] = r
    for chunk in _chunks(sorted(urls)):
        for r in s.execute(base.where(imported, candidates.c.url.in_(chunk))):
            found[r.id] = r
    pools: dict[str, list[Any]] = {}
    for r in found.values():
        pools.setdefault(_row_key(r), []).append(r)

    used: set[int] = set()
    actions: list[ImportAction] = []
    warnings = list(parsed.warnings)
    for item in parsed.items:
        key = _key_of(item.url)
        pool = pools.get(key, [])
        here = sorted((r for r in pool if r.issue == name and r.id not in used), key=lambda r: r.id)
        free = sorted(
            (r for r in pool if r.issue is None and r.id not in used),
            key=lambda r: (r.url != item.url, r.feed == IMPORT_FEED, r.id),
        )
        chosen = here[0] if here else free[0] if free else None
        hides = item.section.split("/", 1)[0] in hidden
        if chosen is None:
            elsewhere = sorted({r.issue for r in pool if r.issue not in (None, name)})
            notice = (
                f"the article is in {', '.join(elsewhere)} already; it gets a candidate of its own here "
                "(`aggregator digest lint` will report it)"
                if elsewhere
                else None
            )
            if item.month is None:
                warnings.append(
                    f"{source}:{item.line}: no (Mon YYYY) after the title; the item is dated {name}"
                )
            actions.append(
                ImportAction(
                    item=item,
                    kind="create",
                    candidate_id=None,
                    feed=IMPORT_FEED,
                    status=None,
                    own=True,
                    published_at=_month_start(item.month or name),
                    title=None,
                    label=_label_override(item.label, "", hides),
                    month=None,
                    notice=notice,
                )
            )
            continue
        used.add(chosen.id)
        kind: ImportKind = "keep" if chosen.issue == name else "promote"
        own = chosen.feed == IMPORT_FEED
        notice = None
        published: datetime | None
        if own:
            published = _month_start(item.month) if item.month else chosen.published_at
            title_override = None
            month_override = None
            feed_label = ""
        else:
            published = None
            title_override = item.title if item.title != chosen.title else None
            month_override = (
                item.month if item.month and item.month != month_of(chosen.published_at) else None
            )
            feed_label = chosen.feed_label
            if kind == "promote":
                notice = f"candidate {chosen.id} of feed {chosen.feed} ({chosen.status}) is promoted"
            if chosen.url != item.url:
                notice = (notice + "; " if notice else "") + (
                    f"its link {chosen.url} is printed, not {item.url}"
                )
        actions.append(
            ImportAction(
                item=item,
                kind=kind,
                candidate_id=chosen.id,
                feed=chosen.feed,
                status=chosen.status,
                own=own,
                published_at=published,
                title=title_override,
                label=_label_override(item.label, feed_label, hides),
                month=month_override,
                notice=notice,
            )
        )
    return ImportPlan(name, tuple(actions), tuple(warnings), force)


def _label_override(written: str | None, feed_label: str, hides: bool) -> str | None:
    """The label override that makes rendering print what the file printed (None: no override)."""
    if written is None:
        # Nothing written: in a section that hides labels nothing is printed anyway.
        return None if hides or not feed_label else ""
    return written if written != feed_label else None


def _import_feed_id(s: Session, now: datetime) -> int:
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


#: The PostgreSQL advisory lock an import holds for its transaction ("aggimprt").
IMPORT_LOCK_KEY = 0x616767696D707274


def lock_imports(s: Session) -> None:
    """Hold the import lock until this transaction ends, so imports run one at a time.

    Two imports at once would both plan the same new candidates and items and
    one would fail on the unique keys. SQLite's writers are one at a time already.
    """
    hold_transaction_lock(s, IMPORT_LOCK_KEY)


def _content_hash(item: ParsedItem) -> str:
    h = hashlib.sha256()
    for part in (item.title, item.url, item.month or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def _free_entry_key(s: Session, feed_id: int, key: str, issue: str) -> str:
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


def apply_import(s: Session, plan: ImportPlan, now: datetime, curator: str) -> ImportReport:
    """Write ``plan`` (made by :func:`plan_import` in the same unit of work); what each action did.

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
    digest_id = open_issue(s, plan.issue, now, force=plan.force)
    feed_id: int | None = None
    new_urls: list[str] = []
    retitled: list[int] = []
    file_order: dict[str, list[int]] = {}
    changed: set[int] = set()  # kept candidates whose row, digest item or position changed
    ids: list[int] = []
    current_rows = {
        r.candidate_id: r
        for r in s.execute(
            sa.select(digest_items).where(
                digest_items.c.candidate_id.in_([a.candidate_id for a in plan.actions if a.kind == "keep"])
            )
        )
    }
    for action in plan.actions:
        item = action.item
        item_values = {
            "section": item.section,
            "title": action.title,
            "label": action.label,
            "month": action.month,
            "images": list(item.images),
        }
        if action.kind == "create":
            if feed_id is None:
                feed_id = _import_feed_id(s, now)
            key = _free_entry_key(s, feed_id, _key_of(item.url), plan.issue)
            canonical = canonical_url(item.url) if is_http_url(item.url) else None
            assert action.published_at is not None
            cid = s.execute(
                sa.insert(candidates)
                .values(
                    feed_id=feed_id,
                    entry_key=key,
                    url=item.url,
                    canonical_url=canonical,
                    title=item.title,
                    tags=[],
                    published_at=action.published_at,
                    date_source="digest",
                    first_seen_at=now,
                    updated_at=now,
                    content_hash=_content_hash(item),
                    status="promoted",
                    notes=list(item.notes),
                    decided_at=now,
                    decided_by=curator,
                    version=1,
                )
                .returning(candidates.c.id)
            ).scalar_one()
            if canonical:
                new_urls.append(canonical)
            retitled.append(cid)
            s.execute(
                sa.insert(digest_items).values(
                    digest_id=digest_id, candidate_id=cid, promoted_at=now, promoted_by=curator, **item_values
                )
            )
        else:
            assert action.candidate_id is not None
            cid = action.candidate_id
            row = s.execute(sa.select(candidates).where(candidates.c.id == cid)).one()
            changes: dict[str, Any] = {}
            if row.status != "promoted":
                changes["status"] = "promoted"
            if list(row.notes or []) != list(item.notes):
                changes["notes"] = list(item.notes)
            if action.own:
                own = {"title": item.title, "url": item.url, "published_at": action.published_at}
                changes.update({k: v for k, v in own.items() if getattr(row, k) != v})
            if "title" in changes:
                retitled.append(cid)
            if changes:
                s.execute(
                    sa.update(candidates)
                    .where(candidates.c.id == cid)
                    .values(
                        **changes,
                        decided_at=now,
                        decided_by=curator,
                        updated_at=now,
                        version=candidates.c.version + 1,
                    )
                )
            if action.kind == "promote":
                s.execute(
                    sa.insert(digest_items).values(
                        digest_id=digest_id,
                        candidate_id=cid,
                        promoted_at=now,
                        promoted_by=curator,
                        **item_values,
                    )
                )
            else:
                old = current_rows[cid]
                item_changes = {k: v for k, v in item_values.items() if getattr(old, k) != v}
                if item_changes:
                    s.execute(
                        sa.update(digest_items)
                        .where(digest_items.c.candidate_id == cid)
                        .values(**item_changes)
                    )
                if changes or item_changes:
                    changed.add(cid)
        ids.append(cid)
        file_order.setdefault(item.section, []).append(cid)
    if new_urls:
        assign_groups(s, sorted(set(new_urls)))
    search.index_candidates(s, retitled)  # imported titles are searchable like polled ones
    for section, listed_ids in file_order.items():
        current = _section_order(s, digest_id, section)
        listed = set(listed_ids)
        order = listed_ids + [cid for cid, _ in current if cid not in listed]
        changed |= _write_positions(s, digest_id, current, order)
    outcomes: list[Outcome] = []
    for action, cid in zip(plan.actions, ids, strict=True):
        if action.kind == "create":
            outcomes.append("created")
        elif action.kind == "promote":
            outcomes.append("promoted")
        else:
            outcomes.append("updated" if cid in changed else "unchanged")
    return ImportReport(plan.issue, tuple(outcomes))


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
