"""Plain values of the extraction wing: an article page's job and what was extracted from it.

Frozen dataclasses that cross layers, like :mod:`aggregator.types`; no logic. All datetimes are
timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# -- extraction ----------------------------------------------------------------

ExtractStatus = Literal[
    "ok", "too_short", "challenge", "paywall", "not_html", "http_error", "timeout", "error"
]
TextSource = Literal["page", "feed", "summary"]


@dataclass(frozen=True, slots=True)
class ExtractJob:
    """A candidate whose article page is to be fetched and extracted."""

    candidate_id: int
    url: str | None
    content: str | None
    content_type: str | None
    summary: str | None
    language: str | None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Article:
    """A candidate's article as stored: the text, where it came from, and the page's metadata."""

    candidate_id: int
    status: ExtractStatus
    """How the page went; a flagged page (challenge, paywall...) is never the stored text."""
    reason: str | None
    text_source: TextSource | None
    text: str | None
    word_count: int
    page_url: str | None = None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    lead_image: str | None = None
    links: tuple[str, ...] = ()
    attempts: int = 1
    next_attempt_at: datetime | None = None
    """When a transient failure is tried again; None when the outcome is final."""
    extracted_at: datetime | None = None
