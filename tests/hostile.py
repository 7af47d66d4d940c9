"""Hostile text for the output tests, and candidates holding it written through the store layer.

The strings act on something if printed raw: Rich markup (``[/]`` raises, ``[link=...]`` opens a
hyperlink), emoji codes, ANSI and OSC escape sequences, C1 controls (``\\x9b`` is a one-byte CSI),
bidi overrides and isolates, NUL and a lone carriage return. :func:`hostile_text` mixes them with
any other text. :func:`add_entry` and friends store candidates, feed errors and articles the way a
poll and an extraction do (``decide.plan_entries`` then ``repo.save_poll``; ``save_articles``), so a
Hypothesis example costs a write, not a poll.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import strategies as st

from aggregator.app import App
from aggregator.article_types import Article
from aggregator.controls import CONTROLS, show_controls
from aggregator.feeds import decide
from aggregator.store import articles as article_store
from aggregator.store import repo
from aggregator.types import FeedState, ParsedEntry, ParsedFeed

MARKUP = [
    "[/]",
    "[INST] Summarise this [/INST]",
    "[link=http://evil.example/]click me[/link]",
    "[bold red]loud[/bold red]",
    "[bold]",
    ":rocket: :warning:",
    "[/INST]]",
]
ESCAPES = [
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b]0;owned\x07",  # retitle the window
    "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x9b31mred",  # one-byte CSI
    "\x85next\x90dcs\x9c",  # C1
    "abc\u202egnp.exe",  # right-to-left override
    "\u2066isolated\u2069 \u2067rtl\u2068first\u2069",  # isolates
    "nul\x00byte",
    "safe\rEVIL",  # a lone carriage return overwrites the line
    "bell\x07back\x08\x7fdel\x0bvt\x0cff",
]
HOSTILE = MARKUP + ESCAPES
"""Every hostile string, markup first."""

SHOWN = re.compile(r"\\x[0-9a-f]{2}|\\u[0-9a-f]{4}")
"""What :func:`show_controls` writes for a control character."""


def hostile_text(*, nul: bool = True, newlines: bool = False) -> st.SearchStrategy[str]:
    """A few hostile pieces and arbitrary text, joined, never blank.

    ``nul=False`` leaves NUL out (PostgreSQL's text cannot hold it); ``newlines=False`` leaves tabs and
    line feeds out (titles are one line), so the text can be looked for in a table row as it is.
    """
    blocked = "" if newlines else "\t\n"
    if not nul:
        blocked += "\x00"
    chars = st.characters(codec="utf-8", exclude_characters=blocked or None)
    pieces = st.one_of(
        st.sampled_from([h for h in HOSTILE if not any(c in h for c in blocked)]),
        st.text(chars, min_size=1, max_size=6),
        st.sampled_from([chr(c) for c in range(0x100) if CONTROLS.match(chr(c)) and chr(c) not in blocked]),
        st.sampled_from(["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068"]),
    )
    return st.lists(pieces, min_size=1, max_size=5).map("".join).map(str.strip).filter(bool)


def shown(text: str) -> str:
    """``text`` as a safe terminal shows it."""
    return show_controls(text)


def has_controls(text: str) -> bool:
    return CONTROLS.search(text) is not None


_keys = itertools.count(1)


def feed_state(app: App, name: str) -> FeedState:
    with app.read() as s:
        return next(f for f in repo.list_feeds(s) if f.name == name)


def add_entry(
    app: App,
    feed: str,
    *,
    title: str,
    summary: str | None = None,
    author: str | None = None,
    link: str | None = None,
    published: datetime,
) -> int:
    """Store one new entry of ``feed`` as a poll does; its candidate id."""
    key = f"hostile-{next(_keys)}"
    entry = ParsedEntry(
        key=key,
        guid=key,
        link=link if link is not None else f"http://127.0.0.1/{key}",
        title=title,
        author=author,
        summary=summary,
        published=published,
    )
    now = app.clock()
    state = feed_state(app, feed)
    parsed = ParsedFeed(title=None, link=None, format="rss20", language=None, entries=(entry,))
    with app.write() as s:
        existing = repo.entry_hashes(s, [state.id]).get(state.id, {})
        plan = decide.plan_entries(parsed, existing, feed_language=None, now=now)
        repo.save_poll(s, [(state, plan)], now)
        (candidate,) = [
            c for c in repo.list_candidates(s, feed_names=[feed], limit=10_000) if c.entry_key == key
        ]
    return candidate.id


def add_article(app: App, candidate_id: int, *, text: str, reason: str | None, author: str | None) -> None:
    """Store an extracted article for the candidate, as extraction does."""
    article = Article(
        candidate_id,
        "ok",
        reason,
        "page",
        text,
        len(text.split()),
        page_url=f"http://127.0.0.1/page/{candidate_id}",
        title=text[:40],
        author=author,
        lead_image=f"http://127.0.0.1/img/{candidate_id}.png",
        extracted_at=app.clock(),
    )
    with app.write() as s:
        article_store.save_articles(s, [article])


def set_feed_error(app: App, feed: str, *, error: str, warning: str | None = None) -> None:
    """Record a failed poll of ``feed`` with this error text, as the poll's writer does."""
    now = app.clock()
    state = replace(
        feed_state(app, feed),
        last_polled_at=now,
        last_error_at=now,
        last_error=error,
        last_warning=warning,
        error_count=1,
        next_poll_at=now + timedelta(hours=1),
    )
    with app.write() as s:
        repo.save_poll(s, [(state, None)], now)


def feeds_yaml(feeds: list[tuple[str, str]]) -> str:
    """A valid feeds.yaml whose digest title, preface, section titles and labels are hostile.

    The YAML escapes (``\\e``, ``\\x9b``, ``\\u202e``) put real control characters into the values.
    """
    lines = [
        "fetch:",
        "  user_agent_contact: https://aggregator.invalid/contact",
        "  connect_timeout: 2",
        "  read_timeout: 2",
        "  deadline: 5",
        "  allow_private_networks: [127.0.0.1/32]",
        "digest:",
        '  title: "Digest [/] \\e[2J\\u202e :rocket:"',
        '  preface: "Preface [link=http://evil.example/]x[/link] \\x9b31m"',
        "sections:",
        "  - id: research",
        '    title: "Research [/] \\e]0;owned\\a"',
        "    subsections:",
        "      - id: nlp",
        '        title: "NLP [bold] \\u202eevil"',
        "      - id: cv",
        "        title: CV",
        "  - id: news",
        '    title: "News \\x85[INST]"',
        "    subsections:",
        "      - id: all",
        '        title: "All [/INST]"',
        "feeds:",
    ]
    for i, (name, url) in enumerate(feeds):
        label = "Alpha [/] \\u202e\\e[31m" if i == 0 else "Lab :rocket: [bold]"
        lines += [
            f"  - name: {name}",
            f"    url: {url}",
            f'    label: "{label}"',
            "    section_hint: research/nlp",
        ]
    return "\n".join(lines) + "\n"
