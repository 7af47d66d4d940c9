"""Pure: which week an email covers and what it shows of it.

The email of ISO week ``2026-W50`` (in the email's time zone) goes out at feeds.yaml's weekday and
time in that week, and lists the candidates first seen in the seven days before that moment, so
consecutive emails neither overlap nor leave a gap, however late one is sent. Candidates are grouped
by section (the suggestion, else the feed's ``section_hint``), ranked by score (then newest first),
a cross-post group shown once with its other routes, and cut at a cap per section ("N more in the
queue"). Feeds failing, gone, or quiet for more than 30 days, and the month's draft, follow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aggregator.configuration import EmailSchedule
from aggregator.controls import strip_controls
from aggregator.mail.values import Block, DraftLine, Item, MailError, Trouble, WeekContent, Window
from aggregator.store.mail import FeedRow, WeekRow
from aggregator.taxonomy import Taxonomy

#: A feed with nothing new for longer than this is "quiet".
QUIET_AFTER = timedelta(days=30)
#: Items shown per section before "N more in the queue" (the renderer lowers it to fit the size cap).
SECTION_CAP = 10
#: Characters of an excerpt: about two lines of a mail client.
EXCERPT_CHARS = 220

_WEEK_RE = re.compile(r"(\d{4})-W(\d{2})")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPACE = re.compile(r"\s+")


def parse_week(text: str) -> tuple[int, int]:
    """``2026-W50`` as (2026, 50), or a MailError saying how to write it."""
    match = _WEEK_RE.fullmatch(text.strip())
    if match:
        year, week = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, week, 1)
            return year, week
        except ValueError:
            pass
    raise MailError(f"not an ISO week: {text!r} (write it as YYYY-Www, e.g. 2026-W50)")


def current_week(now: datetime, schedule: EmailSchedule) -> str:
    """The ISO week ``now`` falls in, in the email's time zone: ``2026-W50``."""
    return iso_week(now, ZoneInfo(schedule.timezone))


def iso_week(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO week ``moment`` falls in, in ``zone``: ``2026-W01`` (a week's email and its job's period)."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year:04d}-W{week:02d}"


def window(week: str, schedule: EmailSchedule) -> Window:
    """The seven days before ``week``'s sending moment (its weekday and time in its time zone)."""
    year, number = parse_week(week)
    zone = ZoneInfo(schedule.timezone)
    hour, minute = (int(part) for part in schedule.time.split(":"))
    day = date.fromisocalendar(year, number, _DAYS.index(schedule.weekday) + 1)
    end = datetime.combine(day, time(hour, minute), tzinfo=zone)
    start = datetime.combine(day - timedelta(days=7), time(hour, minute), tzinfo=zone)
    return Window(f"{year:04d}-W{number:02d}", start, end, schedule.timezone)


def build_content(
    win: Window,
    rows: Sequence[WeekRow],
    feeds: Sequence[FeedRow],
    draft: tuple[str, str | None, Sequence[tuple[str, int]]],
    taxonomy: Taxonomy,
    now: datetime,
    *,
    cap: int = SECTION_CAP,
) -> WeekContent:
    """The week's content from the store's rows; ``draft`` is (month, status, counts per section)."""
    zone = ZoneInfo(win.zone)
    promotable = set(taxonomy.promotable_sections())
    groups = _grouped(rows)
    by_section: dict[str | None, list[tuple[WeekRow, list[WeekRow]]]] = {}
    for lead, others in groups:
        by_section.setdefault(lead.section, []).append((lead, others))
    blocks = []
    for section in _section_order(by_section, taxonomy):
        ranked = sorted(by_section[section], key=lambda g: _rank(g[0]))
        items = tuple(_item(lead, others, zone, promotable) for lead, others in ranked[:cap])
        title = taxonomy.label(section) if section else "No section yet"
        blocks.append(Block(section, strip_controls(title), items, max(0, len(ranked) - cap)))
    best = min((lead for lead, _ in groups), key=_rank, default=None)
    month, status, counts = draft
    ordered = _in_taxonomy_order(counts, taxonomy)
    lines = tuple(DraftLine(taxonomy.label(section), n) for section, n in ordered)
    return WeekContent(
        window=win,
        total=len(groups),
        blocks=tuple(blocks),
        troubles=troubles(feeds, now, zone),
        draft_month=month,
        draft_status=status,
        draft=lines,
        top_title=None if best is None else clean(best.title),
    )


def _grouped(rows: Sequence[WeekRow]) -> list[tuple[WeekRow, list[WeekRow]]]:
    """Cross-post groups once: (the group's lead, its other members); the lead is the group's own first
    candidate when it is in the week, else the best ranked."""
    members: dict[int, list[WeekRow]] = {}
    alone: list[tuple[WeekRow, list[WeekRow]]] = []
    for row in rows:
        if row.group_id is None:
            alone.append((row, []))
        else:
            members.setdefault(row.group_id, []).append(row)
    for group_id, group in members.items():
        lead = next((r for r in group if r.id == group_id), None) or min(group, key=_rank)
        alone.append((lead, [r for r in group if r is not lead]))
    return alone


def _rank(row: WeekRow) -> tuple[float, float, int]:
    """Best first: the highest score (none counts as lowest), then the newest, then the latest id."""
    score = row.score if row.score is not None else float("-inf")
    return (-score, -row.published_at.timestamp(), -row.id)


def _section_order(found: Mapping[str | None, object], taxonomy: Taxonomy) -> list[str | None]:
    """feeds.yaml's order (a top section before its subsections), unknown ids by name, no section last."""
    order: dict[str, int] = {}
    for section in taxonomy:
        for section_id in (section.id, *section.full_ids()):
            order.setdefault(section_id, len(order))
    named = [s for s in found if s is not None]
    ordered: list[str | None] = [*sorted(named, key=lambda s: (order.get(s, len(order)), s))]
    return [*ordered, None] if None in found else ordered


def _in_taxonomy_order(counts: Sequence[tuple[str, int]], taxonomy: Taxonomy) -> list[tuple[str, int]]:
    ids = taxonomy.section_ids()
    return sorted(counts, key=lambda c: (ids.index(c[0]) if c[0] in ids else len(ids), c[0]))


def _item(lead: WeekRow, others: list[WeekRow], zone: ZoneInfo, promotable: set[str]) -> Item:
    section = lead.section if lead.section in promotable else None
    command = f"aggregator promote {lead.id}" + (f" --section {section}" if section else "")
    return Item(
        id=lead.id,
        title=clean(lead.title) or "(untitled)",
        url=http_url(lead.url),
        label=clean(lead.label),
        feed=lead.feed,
        date=lead.published_at.astimezone(zone).date().isoformat(),
        excerpt=excerpt(lead.text),
        reason=clean(lead.reason) if lead.reason and lead.suggested else None,
        promote=command,
        also=tuple(f"{clean(o.label) or o.feed} ({o.feed})" for o in others),
    )


def troubles(feeds: Sequence[FeedRow], now: datetime, zone: ZoneInfo) -> tuple[Trouble, ...]:
    """Feeds gone, failing, or quiet for more than 30 days, in that order, each by name."""
    found = []
    for f in feeds:
        label = clean(f.label)
        if f.gone_at is not None:
            day = f.gone_at.astimezone(zone).date().isoformat()
            found.append(Trouble(f.name, label, "gone", f"answered 410 Gone on {day}; no longer polled"))
        elif f.error_count:
            error = clean(f.last_error or "unknown error")
            found.append(Trouble(f.name, label, "failing", f"{f.error_count} failed polls in a row: {error}"))
        elif (f.newest or f.created_at) < now - QUIET_AFTER:
            day = (f.newest or f.created_at).astimezone(zone).date().isoformat()
            what = "nothing new since" if f.newest else "nothing at all since it was added on"
            found.append(Trouble(f.name, label, "quiet", f"{what} {day}"))
    kinds = {"gone": 0, "failing": 1, "quiet": 2}
    return tuple(sorted(found, key=lambda t: (kinds[t.kind], t.name)))


def clean(text: str | None, limit: int = 300) -> str:
    """Text from the world for one line: no control or bidi-override character, whitespace folded."""
    folded = _SPACE.sub(" ", strip_controls(text or "")).strip()
    return folded if len(folded) <= limit else _cut(folded, limit - 1)


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters and an ellipsis, at a word where there are words."""
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"


def excerpt(text: str) -> str:
    """About two lines of ``text``, cut at a word where there are words."""
    folded = clean(text, limit=len(text) + 1)
    return folded if len(folded) <= EXCERPT_CHARS else _cut(folded, EXCERPT_CHARS)


def http_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) link without spaces or controls; None otherwise."""
    if not url:
        return None
    if not url.lower().startswith(("http://", "https://")) or strip_controls(url) != url:
        return None
    return None if any(ch.isspace() for ch in url) else url
