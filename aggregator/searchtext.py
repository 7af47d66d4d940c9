"""Search documents and queries that work for English, Korean and Japanese alike. Pure.

Full-text engines split text into words at spaces and punctuation. Korean
attaches particles to words (``루다가``: ``루다`` plus ``가``) and Japanese and
Chinese put no spaces at all (``生成モデルの学習``), so a word tokenizer would
index ``루다가`` and ``生成モデルの学習`` as single words that no query ever
matches. Here text is cut into terms before the database sees it:

- a run of Han, kana or Hangul becomes its overlapping character bigrams
  (``이루다`` -> ``이루 루다``), plus its last character on its own, and a run
  of one character is that character (``가``);
- anything else becomes lowercase words (NFKC first, so full-width ``ＡＩ`` and
  ``AI`` are the same word; ``**Fortuna**`` is ``fortuna``).

A query is cut the same way and every one of its terms must match (AND), so
``루다`` finds ``이루다`` and ``루다가``, and ``生成モデル`` (``生成 成モ モデ デル``)
finds ``生成モデルの学習``. A query run of one character matches as a prefix
(``猫`` finds the bigram ``猫が``), which the run's last character on its own
makes complete: every character of a run starts a bigram or is the last one.

The document the database indexes is these terms, each once, separated by
spaces (see :func:`document`): the backend's own tokenizer (SQLite FTS5's
``unicode61``, PostgreSQL's ``simple`` configuration) then only splits at the
spaces, and duplicates are dropped because matching needs presence, not counts
or positions.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MAX_TEXT_CHARS",
    "Term",
    "candidate_document",
    "document",
    "html_text",
    "query_terms",
    "terms",
]

#: How much of an article's text is indexed, after its title. The start of an
#: article says what it is about (products, models, companies are named in the
#: first paragraphs), and a bound keeps every document, and so every poll's
#: index writes, small and predictable whatever a page holds: a 40 KB article
#: costs what a 4 KB one does, the index stays a small fraction of the
#: database, and a common word's posting list does not grow with article length.
MAX_TEXT_CHARS = 4000

#: Longer "words" (a hash, base64 in a code block) are left out of documents:
#: nobody searches for them, and PostgreSQL refuses words over 2,047 bytes.
MAX_TERM_CHARS = 100

# Scripts written without reliable word boundaries: Hangul (jamo, compatibility
# jamo, syllables), hiragana, katakana (with the prolonged sound mark and the
# iteration marks), Han (extension A, the unified block, compatibility
# ideographs, the supplementary planes) and the ideographic iteration marks.
# Only letters: punctuation such as the katakana middle dot separates runs.
_CJK = (
    "\u1100-\u11ff\u3131-\u318e\ua960-\ua97c\uac00-\ud7a3\ud7b0-\ud7c6\ud7cb-\ud7fb"
    "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9\U00020000-\U0003134f"
    "\u3005-\u3007\u303b"
)


@dataclass(frozen=True, slots=True)
class _Patterns:
    run: re.Pattern[str]
    """A CJK run (group 1), else a word: letters and digits of any other script ("_" separates
    words, as it does for the databases)."""
    # The same terms for long texts, each kind found by one pass in C: a Python loop
    # over the runs of a Korean article cost three times as much.
    word: re.Pattern[str]
    bigram: re.Pattern[str]
    run_end: re.Pattern[str]
    any_cjk: re.Pattern[str]


@functools.cache
def _patterns() -> _Patterns:
    """The CJK patterns, compiled on first use: their character classes cost 15 ms to compile,
    which a command that searches nothing should not pay."""
    return _Patterns(
        run=re.compile(f"([{_CJK}]+)|[^\\W_{_CJK}]+"),
        word=re.compile(f"[^\\W_{_CJK}]+"),
        bigram=re.compile(f"(?=([{_CJK}]{{2}}))"),
        run_end=re.compile(f"[{_CJK}](?![{_CJK}])"),
        any_cjk=re.compile(f"[{_CJK}]"),
    )


_ASCII_SEPARATORS = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})

_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Block-level tags separate words; inline ones do not ("<b>시간</b>을" is one word).
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|hr|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|pre|section|article|header|footer"
    r"|figure|figcaption|img|dd|dt|dl)\b[^<>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<!\[CDATA\[|\]\]>")


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a query; a ``prefix`` term matches every indexed term that starts with it."""

    text: str
    prefix: bool = False


def terms(text: str) -> list[str]:
    """The terms of ``text``, with repeats: its words, its CJK runs' bigrams and their last characters."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():  # most English text: the same words, four times faster than the regex
        return text.translate(_ASCII_SEPARATORS).split()
    p = _patterns()
    words = p.word.findall(text)
    if not p.any_cjk.search(text):
        return words
    return [*words, *p.bigram.findall(text), *p.run_end.findall(text)]


def document(title: str, text: str | None = None) -> str:
    """What the database indexes for a title and its text: each term once, space-separated.

    Only the first :data:`MAX_TEXT_CHARS` characters of ``title`` and of ``text``
    count, and no term longer than :data:`MAX_TERM_CHARS` (PostgreSQL's text search
    vector holds at most 1 MB).
    """
    title = title[:MAX_TEXT_CHARS]
    body = f"{title}\n{text[:MAX_TEXT_CHARS]}" if text else title
    return " ".join(t for t in dict.fromkeys(terms(body)) if len(t) <= MAX_TERM_CHARS)


def query_terms(query: str) -> tuple[Term, ...]:
    """A user's query as the terms that must all match; none for a query without letters or digits.

    A CJK run of two or more characters gives its bigrams only (its last
    character is implied by the last bigram); a one-character run is a prefix.
    """
    out: dict[Term, None] = {}
    for match in _patterns().run.finditer(unicodedata.normalize("NFKC", query).casefold()):
        run = match.group(0)
        if match.group(1) is None:
            out[Term(run)] = None
        elif len(run) == 1:
            out[Term(run, prefix=True)] = None
        else:
            for bigram in map(str.__add__, run, run[1:]):
                out[Term(bigram)] = None
    return tuple(out)


def html_text(markup: str, limit: int = MAX_TEXT_CHARS) -> str:
    """About the first ``limit`` characters of text in HTML: tags dropped, entities decoded."""
    head = markup[: limit * 4]  # markup is mostly tags; four times the text is plenty
    if "<" in head:
        head = _SCRIPT_STYLE.sub(" ", _COMMENT.sub(" ", head))
        head = _TAG.sub("", _BLOCK_TAG.sub(" ", head))
    if "&" in head:
        head = html.unescape(head)
    return head[:limit]


def candidate_document(
    title: str,
    *,
    article_text: str | None,
    content: str | None,
    content_type: str | None,
    summary: str | None,
) -> str:
    """A candidate's document: its title and its article's text, else the feed's content, else its summary."""
    if article_text:
        return document(title, article_text)
    for value, kind in ((content, content_type), (summary, None)):
        if value:
            is_html = "html" in kind if kind else "<" in value
            return document(title, html_text(value) if is_html else value)
    return document(title)
