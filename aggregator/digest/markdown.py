"""Markdown escaping for the digest: the filters the templates print text and links through.

Pure, and free of Jinja2 (:mod:`aggregator.digest.render` registers these as its filters). The output
is Markdown, not HTML; the escaping is done here, so every link stays a link. No control or
bidi-override character (:data:`aggregator.controls.CONTROLS`: ESC, C1, U+202E...) reaches the
Markdown: these functions remove them from text before escaping it, and ``md_url`` percent-encodes them.

- ``md_text``: whitespace runs and newlines folded to one space; ``[`` and ``]`` escaped (Markdown such
  as ``*Data2vec 2.0*`` or ``**Renate**`` kept); ``<`` escaped where it would open a tag or an autolink;
  backticks escaped when they are unbalanced (a code span would swallow the link's end);
- ``md_url``: tabs and newlines removed, spaces, ``(``, ``)``, ``\\``, control and bidi-override
  characters percent-encoded (as UTF-8);
- ``link(text, url)``: ``[text](url)`` for an http(s) URL; anything else is printed as plain text in a
  code span after the text, never as a link (``digest lint`` reports it);
- ``headline(item, hide_labels)``: ``Title (Mon YYYY, Label)``, the label left out with its comma when it
  is empty or the section hides labels.
"""

from __future__ import annotations

import re

from aggregator.controls import strip_controls
from aggregator.digest.model import DigestItem
from aggregator.urls import is_http_url

__all__ = ["block", "headline", "link", "md_text", "md_url", "note", "yaml_str"]

_WS = re.compile(r"\s+")
_BRACKET = re.compile(r"(\\*)([\[\]])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\u202a-\u202e\u2066-\u2069()\\]")
_URL_DROP = re.compile(r"[\t\r\n]")


def _escape_bracket(match: re.Match[str]) -> str:
    slashes, bracket = match[1], match[2]
    if len(slashes) % 2 == 1:  # already escaped by the curator
        return match[0]
    return f"{slashes}\\{bracket}"


def md_text(text: str) -> str:
    """Text for a link's label or a heading: one line, brackets escaped, the curator's Markdown kept,
    no control or bidi-override characters."""
    # Controls go before the escaping reads the text: "<\x00script>" must not become a tag after it.
    out = strip_controls(_WS.sub(" ", text)).strip()
    out = _BRACKET.sub(_escape_bracket, out)
    out = _TAG_START.sub(r"\\<", out)
    if out.count("`") % 2 == 1:
        out = out.replace("`", "\\`")
    trailing = len(out) - len(out.rstrip("\\"))
    if trailing % 2 == 1:  # a lone final backslash would escape what follows (a "]" or a space)
        out += "\\"
    return out


def md_url(url: str) -> str:
    """A URL safe inside ``(...)``: spaces, parentheses, backslashes, control and bidi-override characters
    percent-encoded (a U+202E in a link stays where it was, as ``%E2%80%AE``, and reorders nothing)."""
    cleaned = _URL_DROP.sub("", url.strip())
    return _URL_UNSAFE.sub(_percent, cleaned)


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match[0].encode("utf-8"))


def _code_span(text: str) -> str:
    text = strip_controls(_URL_DROP.sub("", text.strip()))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link(text: str, url: str | None) -> str:
    """``[text](url)`` for an http(s) URL; otherwise the text, then the URL as plain text (if any).

    ``text`` is Markdown already (pass it through ``md_text`` or ``headline``).
    """
    if url and is_http_url(url):
        return f"[{text}]({md_url(url)})"
    if url and url.strip():
        return f"{text} {_code_span(url)}"
    return text


def headline(item: DigestItem, hide_labels: bool = False) -> str:
    """``Title (Mon YYYY, Label)`` as Markdown; the label left out with its comma when empty or hidden."""
    label = "" if hide_labels else md_text(item.label)
    suffix = f"{item.month_name}, {label}" if label else item.month_name
    title = md_text(item.title)
    return f"{title} ({suffix})" if title else f"({suffix})"


def note(text: str, indent: str = "") -> str:
    """A note as written, its further lines indented to stay inside its bullet; no control characters."""
    lines = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    return ("\n" + indent).join(lines)


def block(text: str) -> str:
    """Verbatim Markdown ending with exactly one newline (the preface)."""
    text = strip_controls(text)
    return text.rstrip("\n") + "\n" if text.strip() else ""


def yaml_str(text: str) -> str:
    """A double-quoted YAML scalar (front matter)."""
    out = strip_controls(_WS.sub(" ", text)).strip().replace("\\", "\\\\").replace('"', '\\"')
    return f'"{out}"'
