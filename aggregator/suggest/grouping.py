"""Cross-post grouping: the same article reached by several routes, grouped with one primary.

A posting joins a group when, within the time window, it shares with a member:

- the canonical URL (:func:`aggregator.urls.canonical_url`: tracking parameters, http/https, AWS's
  locale editions such as ``/ko/blogs/...``);
- the slug of its URL, wherever it is published (a Medium mirror keeps the publisher's slug, adding
  an id), when the slug is long enough to be particular (at least four words);
- its title, when the title is long enough to be particular (at least five words);
- near-duplicate text: MinHash signatures (``datasketch``) of word 3-gram shingles (character 4-grams
  where the text is Korean, Japanese or Chinese), found by LSH and confirmed by their estimated
  Jaccard similarity (a reformatted mirror, a lightly edited republication).

Two posts of one series never group: where both name a part ("Part 1", "2편", "第3回") and the parts
differ. A post and its follow-up differ in slug, title and text, so nothing joins them.

The primary is chosen by rule: the publisher's own domain before a mirror (:data:`.lexicon.MIRROR_HOSTS`),
then the earliest published, then the first added. :class:`Grouper` is incremental: add postings one
by one or a poll's hundreds at once, ask any member's group; forget postings older than the window.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from datasketch import MinHash, MinHashLSH

from aggregator.searchtext import terms
from aggregator.suggest.features import host_of
from aggregator.suggest.lexicon import MIRROR_HOSTS
from aggregator.suggest.values import Group, Posting
from aggregator.urls import canonical_url

__all__ = ["Grouper", "series_parts", "shingles", "slug_key"]

NUM_PERM = 64
THRESHOLD = 0.5
"""Estimated Jaccard similarity of shingles at which two texts are one article."""
MIN_SHINGLES = 20
"""Texts shorter than this many shingles are not compared (a summary line says too little)."""
TEXT_CHARS = 3000

_SERIES = re.compile(
    r"(?:\bpart|\bpt\.?|\bvol\.?|\bepisode|\bep\.?|\bchapter|#)\s*(\d+)|(\d+)\s*(?:편|부|회|탄)|第\s*(\d+)\s*[回部章]"
    r"|\((\d+)\)\s*$|\b(\d+)(?:st|nd|rd|th)\s+part",
    re.IGNORECASE,
)
_MEDIUM_ID = re.compile(r"^[0-9a-f]{8,16}$")
_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3]")


def series_parts(*texts: str) -> frozenset[str]:
    """The part numbers ``texts`` (a title, a URL) name: ``{"1"}`` for "Part 1" or ``part-1-...``."""
    found: set[str] = set()
    for text in texts:
        for match in _SERIES.finditer(text.replace("-", " ")):
            found.update(str(int(g)) for g in match.groups() if g)
    return frozenset(found)


def slug_key(url: str) -> str | None:
    """The last path segment's words (a Medium id dropped), when there are at least four; else None."""
    try:
        segments = [s for s in unquote(urlsplit(url).path).lower().split("/") if s]
    except ValueError:
        return None
    if not segments:
        return None
    words = [w for w in re.split(r"[-_+\s]+", re.sub(r"\.html?$", "", segments[-1])) if w]
    if words and _MEDIUM_ID.match(words[-1]) and any(c.isdigit() for c in words[-1]):
        words = words[:-1]
    return "slug:" + " ".join(words) if len(words) >= 4 else None


def title_key(title: str) -> str | None:
    words = terms(title)
    return "title:" + " ".join(words) if len(words) >= 5 else None


def shingles(text: str) -> set[bytes]:
    """Word 3-grams of the text's words, and character 4-grams of its CJK runs (joined in order)."""
    text = unicodedata.normalize("NFKC", text[:TEXT_CHARS]).casefold()
    found: set[bytes] = set()
    if _CJK.search(text):
        cjk = "".join(_CJK.findall(text))
        found = {cjk[i : i + 4].encode() for i in range(max(0, len(cjk) - 3))}
        text = _CJK.sub(" ", text)
    words = terms(text)
    found.update(" ".join(words[i : i + 3]).encode() for i in range(max(0, len(words) - 2)))
    return found


@dataclass
class _Member:
    posting: Posting
    order: int
    parts: frozenset[str]
    keys: tuple[str, ...]
    signature: MinHash | None


class Grouper:
    """Groups postings as they come; one per process (not thread-safe)."""

    def __init__(self, *, window: timedelta = timedelta(days=14), threshold: float = THRESHOLD) -> None:
        self.window = window
        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.members: dict[str, _Member] = {}
        self.by_key: dict[str, list[str]] = {}
        self.parent: dict[str, str] = {}
        self.groups: dict[str, list[str]] = {}
        """Each root's members."""
        self.reasons: dict[str, str] = {}
        self._template = MinHash(num_perm=NUM_PERM, seed=1)

    def add_many(self, postings: Iterable[Posting]) -> list[Group]:
        """Add each posting in turn; their groups as they stand after all were added."""
        keys = [self._add(p) for p in postings]
        return [self.group_of(k) for k in keys]

    def add(self, posting: Posting) -> Group:
        """Add one posting (a key seen before is replaced); its group."""
        return self.group_of(self._add(posting))

    def group_of(self, key: str) -> Group:
        """The group of the posting ``key`` (KeyError when it was never added or was forgotten)."""
        root = self._find(key)
        members = sorted((self.members[k] for k in self.groups[root]), key=_primacy)
        keys = tuple(m.posting.key for m in members)
        return Group(keys[0], keys, self.reasons.get(root, "alone"))

    def forget_before(self, moment: datetime) -> int:
        """Forget postings published before ``moment`` (they can join nothing new); how many."""
        old = [k for k, m in self.members.items() if m.posting.published and m.posting.published < moment]
        for key in old:
            self._remove(key)
        return len(old)

    # -- inside ----------------------------------------------------------------------------------

    def _add(self, posting: Posting) -> str:
        if posting.key in self.members:
            self._remove(posting.key)
        keys = tuple(
            k for k in (canonical_url(posting.url), slug_key(posting.url), title_key(posting.title)) if k
        )
        signature = self._signature(posting.text)
        member = _Member(posting, len(self.parent), series_parts(posting.title, posting.url), keys, signature)
        self.members[posting.key] = member
        self.parent[posting.key] = posting.key
        self.groups[posting.key] = [posting.key]
        for key in keys:
            why = _KEY_REASONS[key.split(":", 1)[0]]
            for other in self.by_key.get(key, []):
                self._join(member, other, why)
            self.by_key.setdefault(key, []).append(posting.key)
        if signature is not None:
            for other in self.lsh.query(signature):
                similarity = signature.jaccard(self.members[other].signature)
                if similarity >= self.threshold:
                    self._join(member, other, f"near-duplicate text ({similarity:.2f})")
            self.lsh.insert(posting.key, signature)
        return posting.key

    def _signature(self, text: str) -> MinHash | None:
        found = shingles(text) if text else set()
        if len(found) < MIN_SHINGLES:
            return None
        signature = self._template.copy()
        signature.update_batch(list(found))
        return signature

    def _join(self, member: _Member, other_key: str, why: str) -> None:
        other = self.members[other_key]
        if member.parts and other.parts and member.parts != other.parts:
            return  # two parts of one series
        a, b = member.posting.published, other.posting.published
        if a is not None and b is not None and abs(a - b) > self.window:
            return
        ra, rb = self._find(member.posting.key), self._find(other_key)
        if ra == rb:
            return
        if len(self.groups[ra]) > len(self.groups[rb]):
            ra, rb = rb, ra
        self.parent[ra] = rb
        self.groups[rb].extend(self.groups.pop(ra))
        self.reasons[rb] = why
        self.reasons.pop(ra, None)

    def _find(self, key: str) -> str:
        root = key
        while self.parent[root] != root:
            self.parent[root] = self.parent[self.parent[root]]
            root = self.parent[root]
        return root

    def _remove(self, key: str) -> None:
        """Drop ``key``; its group's other members stay grouped (the union is rebuilt among them)."""
        member = self.members.pop(key)
        for k in member.keys:
            self.by_key[k].remove(key)
        if member.signature is not None:
            self.lsh.remove(key)
        root = self._find(key)
        rest = [k for k in self.groups.pop(root) if k != key]
        reason = self.reasons.pop(root, "alone")
        del self.parent[key]
        if rest:
            for k in rest:
                self.parent[k] = rest[0]
            self.groups[rest[0]] = rest
            self.reasons[rest[0]] = reason


_KEY_REASONS = {"https": "same canonical URL", "slug": "same URL slug", "title": "same title"}


def _primacy(member: _Member) -> tuple[bool, datetime, int]:
    posting = member.posting
    host = host_of(posting.url)
    mirror = host in MIRROR_HOSTS or any(host.endswith(f".{m}") for m in MIRROR_HOSTS)
    return (mirror, posting.published or datetime.max.replace(tzinfo=UTC), member.order)
