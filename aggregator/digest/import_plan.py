"""Planning a digest import: what each item of a parsed digest does to the issue; reads only.

Import (:func:`plan_import`, then :func:`aggregator.digest.import_apply.apply_import` in the same unit
of work) puts every item of a parsed digest into the issue as a promoted candidate. Items are matched to
candidates by canonical URL: one already in this issue first (so importing the same file again
duplicates nothing: the file is the truth for sections, order, notes, images and overrides), else one in
no issue (a feed's own candidate before an imported one, one with the same display URL first);
otherwise a new candidate is made under the reserved feed ``_import``
(:data:`aggregator.store.digest_import.IMPORT_FEED`) with ``date_source`` ``digest`` and the first day
of the printed month as its date. An article already in another issue gets a new candidate here, and
``digest lint`` reports it. Title, label and month overrides are written only where the file prints
something other than what rendering would print anyway.

The plan makes every refusal (problems of the file, links too long to index, a published issue);
apply only writes and reports what each action did. A dry run is both, rolled back: the same writes,
so the same counts and refusals as the import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection

from aggregator.digest.model import month_key
from aggregator.digest.names import check_name, month_of
from aggregator.digest.read import ParsedDigest, ParsedItem
from aggregator.errors import DigestError
from aggregator.store import digest_import as store
from aggregator.store.digests import frozen_message, issue_status
from aggregator.store.tables import MAX_KEY_BYTES
from aggregator.taxonomy import Taxonomy
from aggregator.urls import canonical_url, is_http_url

__all__ = ["ImportAction", "ImportKind", "ImportPlan", "ImportReport", "Outcome", "key_of", "plan_import"]

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


def month_start(month: str) -> datetime:
    year, number = month_key(month)
    return datetime(year, number, 1, tzinfo=UTC)


def key_of(url: str) -> str:
    """What identifies an imported article: its canonical URL, else the URL as written."""
    return (canonical_url(url) if is_http_url(url) else None) or url.strip()


def _row_key(r: Any) -> str:
    """The key of a stored candidate, as :func:`key_of` gives it for the file's URL."""
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
    s: Connection,
    parsed: ParsedDigest,
    name: str,
    taxonomy: Taxonomy,
    *,
    force: bool = False,
    source: str = "digest",
) -> ImportPlan:
    """What importing ``parsed`` into issue ``name`` would do; reads only.

    Every refusal is here, so :func:`~aggregator.digest.import_apply.apply_import` only writes: a
    DigestError lists every problem of the parse, or of the items against what the database can hold
    (a link longer than :data:`MAX_KEY_BYTES`), or says the issue is published (unless ``force``).
    """
    check_name(name)
    problems = list(parsed.problems) + _unstorable_links(parsed.items, source)
    if problems:
        raise _refuse(source, problems)
    if issue_status(s, name) == "published" and not force:
        raise DigestError(frozen_message(name))
    hidden = {sec.id for sec in taxonomy if sec.hide_labels}
    keys = {key_of(item.url) for item in parsed.items}
    urls = {item.url for item in parsed.items}
    pools: dict[str, list[Any]] = {}
    for r in store.matching_rows(s, name, keys, urls):
        pools.setdefault(_row_key(r), []).append(r)
    used: set[int] = set()
    actions: list[ImportAction] = []
    warnings = list(parsed.warnings)
    for item in parsed.items:
        pool = pools.get(key_of(item.url), [])
        chosen = _choose(item, pool, name, used)
        hides = item.section.split("/", 1)[0] in hidden
        if chosen is None:
            if item.month is None:
                warnings.append(
                    f"{source}:{item.line}: no (Mon YYYY) after the title; the item is dated {name}"
                )
            actions.append(_create_action(item, pool, name, hides))
        else:
            used.add(chosen.id)
            actions.append(_match_action(item, chosen, name, hides))
    return ImportPlan(name, tuple(actions), tuple(warnings), force)


def _unstorable_links(items: Sequence[ParsedItem], source: str) -> list[str]:
    """A problem for each link longer than the database can index."""
    problems: list[str] = []
    for item in items:
        size = len(key_of(item.url).encode("utf-8", "surrogatepass"))
        if size > MAX_KEY_BYTES:
            problems.append(
                f"{source}:{item.line}: the link is {size:,} bytes long; at most {MAX_KEY_BYTES:,} can be "
                "stored (is it one link?)"
            )
    return problems


def _choose(item: ParsedItem, pool: Sequence[Any], name: str, used: set[int]) -> Any:
    """The candidate an item takes: one in this issue, else one in no issue (see the module docstring)."""
    here = sorted((r for r in pool if r.issue == name and r.id not in used), key=lambda r: r.id)
    free = sorted(
        (r for r in pool if r.issue is None and r.id not in used),
        key=lambda r: (r.url != item.url, r.feed == store.IMPORT_FEED, r.id),
    )
    return here[0] if here else free[0] if free else None


def _create_action(item: ParsedItem, pool: Sequence[Any], name: str, hides: bool) -> ImportAction:
    """A new candidate under the import feed, dated the first day of its month (else of the issue's)."""
    elsewhere = sorted({r.issue for r in pool if r.issue not in (None, name)})
    notice = (
        f"the article is in {', '.join(elsewhere)} already; it gets a candidate of its own here "
        "(`aggregator digest lint` will report it)"
        if elsewhere
        else None
    )
    return ImportAction(
        item=item,
        kind="create",
        candidate_id=None,
        feed=store.IMPORT_FEED,
        status=None,
        own=True,
        published_at=month_start(item.month or name),
        title=None,
        label=_label_override(item.label, "", hides),
        month=None,
        notice=notice,
    )


def _match_action(item: ParsedItem, chosen: Any, name: str, hides: bool) -> ImportAction:
    """The item kept in (or promoted into) the issue on candidate ``chosen``, with the overrides it needs."""
    kind: ImportKind = "keep" if chosen.issue == name else "promote"
    own = chosen.feed == store.IMPORT_FEED
    notice = None
    published: datetime | None
    if own:
        published = month_start(item.month) if item.month else chosen.published_at
        title_override = None
        month_override = None
        feed_label = ""
    else:
        published = None
        title_override = item.title if item.title != chosen.title else None
        month_override = item.month if item.month and item.month != month_of(chosen.published_at) else None
        feed_label = chosen.feed_label
        if kind == "promote":
            notice = f"candidate {chosen.id} of feed {chosen.feed} ({chosen.status}) is promoted"
        if chosen.url != item.url:
            notice = (notice + "; " if notice else "") + f"its link {chosen.url} is printed, not {item.url}"
    return ImportAction(
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


def _label_override(written: str | None, feed_label: str, hides: bool) -> str | None:
    """The label override that makes rendering print what the file printed (None: no override)."""
    if written is None:
        # Nothing written: in a section that hides labels nothing is printed anyway.
        return None if hides or not feed_label else ""
    return written if written != feed_label else None
