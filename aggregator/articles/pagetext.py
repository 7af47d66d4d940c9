"""What extraction yields for one page or one feed's content: the frozen, picklable :class:`PageText`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aggregator.article_types import ExtractStatus

__all__ = ["PageText", "without_text"]


@dataclass(frozen=True, slots=True)
class PageText:
    """What one page, or a feed's content, yields: the article's text and metadata, or why not."""

    status: ExtractStatus
    reason: str | None
    """A human sentence saying why, for every status but ok."""
    text: str | None
    """The article as Markdown (headings, lists, code fences, tables); None unless status is ok."""
    title: str | None
    author: str | None
    published: datetime | None
    """Aware UTC; midnight when the page gives only a day."""
    site_name: str | None
    language: str | None
    """Primary subtag ("en", "ko", "ja") from the text's script and the page's declaration."""
    lead_image: str | None
    """Absolute http(s) URL (og:image, twitter:image, image_src)."""
    links: tuple[str, ...]
    """Absolute http(s) links in the article's body, deduplicated, in order; same-page anchors left out."""
    word_count: int
    """Words in ``text`` (or in what was extracted, for a too_short page); see :func:`word_count`."""

    @classmethod
    def flagged(cls, status: ExtractStatus, reason: str) -> PageText:
        """A result with no text and no metadata: a failed fetch, a bot wall, not HTML."""
        return cls(status, reason, None, None, None, None, None, None, None, (), 0)


def without_text(result: PageText, status: ExtractStatus, reason: str) -> PageText:
    """A flagged result that keeps the page's metadata (a teaser's title is the article's), not its text."""
    return PageText(
        status, reason, None, result.title, result.author, result.published, result.site_name,
        result.language, result.lead_image, result.links, result.word_count,
    )  # fmt: skip
