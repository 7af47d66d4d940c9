"""feeds.yaml as frozen values: what the layers below the edge read, without pydantic.

The file is validated at the edge (:mod:`aggregator.config`) and turned into
these values (:func:`aggregator.config.cache.freeze`); the application holds a
:class:`Configuration`, and the domains, the store and the front ends read only
these. The sections are :mod:`aggregator.taxonomy`'s. Field names and meanings
are feeds.yaml's; see :mod:`aggregator.config.models` for the rules each obeys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import Literal

from aggregator.taxonomy import Section, Taxonomy

__all__ = ["Configuration", "DigestOptions", "EmailSchedule", "Feed", "FetchLimits"]


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed the curators follow."""

    name: str
    """Stable id used on the command line and in the database; unique across the file."""
    url: str
    label: str = ""
    """The company shown in the digest line; empty for individuals."""
    language: str | None = None
    section_hint: str | None = None
    """A section id (``aws`` or ``aws/mlops``) the suggestion starts from."""
    weight: float = 1.0
    interval: timedelta = timedelta(hours=1)
    """The fixed interval between polls (feeds.yaml's ``interval: 2h``); unused with ``interval_auto``."""
    enabled: bool = True
    interval_auto: bool = True
    """``interval: auto`` (the default): the interval follows how often the feed publishes
    (:mod:`aggregator.feeds.schedule`); a fixed ``interval`` in feeds.yaml sets this False."""


@dataclass(frozen=True, slots=True)
class TrendPost:
    """What varies in a ``trend-post`` (a Jekyll Chirpy post, seed 003): its front matter and words."""

    author: str = ""
    categories: tuple[str, ...] = ("AI Trend",)
    tags: tuple[str, ...] = ("ai-trend",)
    math: bool = True
    toc: bool = True
    pin: bool = False
    img_path: str = ""
    image: str = ""
    """The cover image's path under ``img_path`` (empty: no ``image`` key)."""
    image_alt: str = ""
    description: str = ""
    intro: str = ""
    """The intro blockquote (``{month}`` is the issue's month name); empty: none."""
    headings: tuple[tuple[str, str], ...] = ()
    """(section id, heading) such as ("news", "💡 **News**"); a section not named: ``**title**``."""


@dataclass(frozen=True, slots=True)
class Notebook:
    """What varies in a ``notebook`` (a curator's idea book, seed 004)."""

    title: str = ""
    """The page's ``# `` title; empty: the digest's title."""
    links: bool = True
    """False: every bullet is the title alone, as a notebook of ideas writes them."""


@dataclass(frozen=True, slots=True)
class DigestOptions:
    """The digest's title, preface and how its Markdown is rendered."""

    title: str
    preface: str = ""
    template: str = "summary"
    notes: Literal["nested", "inline"] = "nested"
    trend_post: TrendPost = TrendPost()
    notebook: Notebook = Notebook()


@dataclass(frozen=True, slots=True)
class EmailSchedule:
    """Who gets the weekly email, and when (local time in ``timezone``)."""

    recipients: tuple[str, ...] = ()
    sender: str | None = None
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = "08:00"
    """HH:MM, local time in ``timezone``."""
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Limits for every HTTP fetch (seconds for timeouts)."""

    user_agent_contact: str = "https://github.com/aimldigest/aggregator"
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    concurrency: int = 64
    per_host: int = 4
    adopt_redirect_after: int = 3
    """Consecutive polls that must see the same permanent redirect before the URL is replaced."""
    backoff_cap: timedelta = timedelta(days=1)
    allow_private_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    """CIDRs that untrusted URLs (article links) may reach; empty means none."""


@dataclass(frozen=True, slots=True)
class Configuration:
    """The whole of feeds.yaml, validated and frozen."""

    digest: DigestOptions
    taxonomy: Taxonomy
    feeds: tuple[Feed, ...] = ()
    fetch: FetchLimits = FetchLimits()
    email: EmailSchedule = EmailSchedule()
    _by_name: dict[str, Feed] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {feed.name: feed for feed in self.feeds})

    @property
    def sections(self) -> tuple[Section, ...]:
        """The digest's sections, in order (the taxonomy's)."""
        return self.taxonomy.sections

    def feed(self, name: str) -> Feed | None:
        """The feed called ``name``, or None."""
        return self._by_name.get(name)

    def unknown_feeds(self, names: Iterable[str]) -> tuple[str, ...]:
        """Those of ``names`` that feeds.yaml does not list, in their order."""
        return tuple(name for name in names if name not in self._by_name)

    def section_ids(self) -> list[str]:
        """Every section id in order: each top id followed by its full subsection ids."""
        return self.taxonomy.section_ids()

    def promotable_sections(self) -> list[str]:
        """The ids an item can be promoted into: every subsection, and top sections without any."""
        return self.taxonomy.promotable_sections()

    def section_number(self, section_id: str) -> str:
        """The printed number of a section (``"2.4"``); KeyError for an unknown id."""
        return self.taxonomy.section_number(section_id)
