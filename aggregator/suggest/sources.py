"""Which feed of feeds.yaml an item came from, judged by its URL and label: what a digest's item
carries, so its feed's hint, label and weight can be used. Pure."""

from __future__ import annotations

from urllib.parse import urlsplit

from aggregator.configuration import Configuration, Feed
from aggregator.suggest.features import host_of
from aggregator.suggest.values import SuggestItem

__all__ = ["FeedIndex"]

_SHARED_HOSTS = frozenset({"medium.com", "rss.blog.naver.com", "blog.naver.com"})
"""Hosts many publishers share: there the first path segment names the publisher."""


class FeedIndex:
    """feeds.yaml's feeds by the host (and, on shared hosts, the publication) their posts live on."""

    def __init__(self, config: Configuration) -> None:
        self.by_site: dict[str, list[Feed]] = {}
        self.by_label: dict[str, list[Feed]] = {}
        for feed in config.feeds:
            self.by_site.setdefault(_site(feed.url, feed=True), []).append(feed)
            if feed.label:
                self.by_label.setdefault(feed.label.casefold(), []).append(feed)

    def feed_for(self, url: str, label: str | None) -> Feed | None:
        """The feed ``url`` (printed with ``label``) most likely came from; None when none fits."""
        found = self.by_site.get(_site(url))
        if not found:
            host = host_of(url)
            found = [f for site, feeds in self.by_site.items() if _same_domain(site, host) for f in feeds]
        if found:
            fitting = [f for f in found if label and f.label.casefold() == label.casefold()]
            return (fitting or found)[0]
        by_label = self.by_label.get(label.casefold(), []) if label else []
        return by_label[0] if len(by_label) == 1 else None

    def item(self, *, title: str, url: str, label: str | None, text: str = "") -> SuggestItem:
        """A digest item as a :class:`SuggestItem`, with its feed's name, label, language and hint.

        The label is the feed's when the feed is known: a digest hides labels in some sections, and
        what the section hides must not tell the model where the item was put.
        """
        feed = self.feed_for(url, label)
        if feed is None:
            return SuggestItem(title=title, url=url, label=label or "", text=text)
        return SuggestItem(
            title=title, url=url, feed=feed.name, label=feed.label, text=text,
            language=feed.language, section_hint=feed.section_hint,
        )  # fmt: skip


def _site(url: str, *, feed: bool = False) -> str:
    host = host_of(url)
    if host not in _SHARED_HOSTS:
        return host
    try:
        segments = [s for s in urlsplit(url).path.split("/") if s]
    except ValueError:
        return host
    if feed and segments[:1] == ["feed"]:
        segments = segments[1:]
    return f"{host}/{segments[0].lower()}" if segments else host


def _same_domain(site: str, host: str) -> bool:
    """``engineering.fb.com`` and ``ai.facebook.com`` are not; ``blog.x.com`` and ``x.com`` are."""
    if "/" in site or not host:
        return False
    a, b = site.split("."), host.split(".")
    return len(a) >= 2 and len(b) >= 2 and a[-2:] == b[-2:] and a[-2] not in {"github", "co", "com"}
