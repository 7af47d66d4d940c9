"""An item as the suggestion model reads it: its content as one text, its source as tokens. Pure.

The content is the title, the words of the URL's slug (``deploy-sagemaker-models-to-serverless-
inference`` says as much as a title) and the first part of the text. The source is the feed, the label,
the URL's host and first path segment, the section hint, and which cue families (:mod:`.lexicon`) the
content holds: what decides the top section (the AWS-only section by its source and products, research
or business by the kind of post).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from aggregator.suggest.lexicon import AWS_PRODUCTS, KINDS, OUT_OF_SCOPE, TOPICS, find_cues
from aggregator.suggest.values import SuggestItem

__all__ = ["TEXT_CHARS", "content", "host_of", "slug_words", "source_tokens"]

TEXT_CHARS = 1500
"""How much of the text counts: the opening says what a post is about; the rest costs time."""

_SLUG_SPLIT = re.compile(r"[-_+.\s]+")
_HEXISH = re.compile(r"^(?=.*\d)[0-9a-f]{8,}$|^\d+$")
_LOCALE = re.compile(r"^[a-z]{2}(?:-[a-z]{2})?$")


def host_of(url: str) -> str:
    """The URL's host, lowercased, without ``www.``; '' when there is none."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")


def slug_words(url: str) -> str:
    """The words of the URL's path, without numbers, ids, locales, file endings and ``blog(s)``."""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return ""
    words: list[str] = []
    for segment in path.split("/"):
        segment = re.sub(r"\.(html?|php|aspx?)$", "", segment.lower())
        if not segment or _LOCALE.match(segment) or segment in {"blog", "blogs", "posts", "post", "ko", "ja"}:
            continue
        words.extend(w for w in _SLUG_SPLIT.split(segment) if w and not _HEXISH.match(w))
    return " ".join(words)


def is_aws(item: SuggestItem, host: str) -> bool:
    """Whether AWS itself published the item (its host, its label or its feed's hint says so)."""
    hint = (item.section_hint or "").split("/", 1)[0]
    amazon = item.label.casefold() == "amazon" and hint != "research"
    return host == "aws.amazon.com" or hint == "aws" or amazon


def content(item: SuggestItem) -> str:
    """The text the topic model reads: title, slug words, the start of the text; NFKC-normalised."""
    parts = [item.title, slug_words(item.url), item.text[:TEXT_CHARS]]
    return unicodedata.normalize("NFKC", "\n".join(p for p in parts if p))


def source_tokens(item: SuggestItem, text: str | None = None) -> str:
    """The item's source and kind as space-separated tokens, for the top-section model."""
    host = host_of(item.url)
    tokens = [f"host={host}"] if host else ["host=none"]
    try:
        first = urlsplit(item.url).path.strip("/").split("/")[0].lower() if item.url else ""
    except ValueError:
        first = ""
    if first and not _LOCALE.match(first):
        tokens.append(f"path={host}/{first}")
    if item.feed:
        tokens.append(f"feed={item.feed}")
    tokens.append(f"label={item.label.casefold().replace(' ', '_')}" if item.label else "label=none")
    if item.section_hint:
        tokens.append(f"hint={item.section_hint.split('/')[0]}")
    text = content(item) if text is None else text
    head = f"{item.title} {slug_words(item.url)}"
    tokens.extend(f"cue={name}" for name, cues in KINDS.items() if find_cues(text, cues))
    tokens.extend(f"topic={name}" for name, cues in TOPICS.items() if find_cues(head, cues))
    if is_aws(item, host):  # the AWS-only section holds AWS's posts on AWS's products
        tokens.append("cue=aws_product_in_title" if find_cues(head, AWS_PRODUCTS) else "cue=aws_general")
    if find_cues(head, OUT_OF_SCOPE):
        tokens.append("cue=out_of_scope")
    return " ".join(tokens)
