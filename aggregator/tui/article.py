"""The article view of the triage screen: a candidate's metadata, notes, extraction and text, scrollable."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from aggregator.article_types import Article
from aggregator.articles.reading import reading_time
from aggregator.service import Service
from aggregator.service.failures import FAILURES
from aggregator.triage_types import QueueItem
from aggregator.tui.dialogs import plain
from aggregator.tui.once import AnswersOnce
from aggregator.tui.rows import clean, one_line
from aggregator.types import Candidate

if TYPE_CHECKING:
    from aggregator.suggest.values import StoredSuggestion

ARTICLE_KEYS: list[tuple[str, str]] = [
    ("s", "shortlist it, then read the next"),
    ("p", "promote it (section, note), then read the next"),
    ("x", "reject it, then read the next"),
    ("z", "snooze it (until), then read the next"),
    ("J K", "read the next, the previous article"),
    ("↑↓ j k", "scroll a line"),
    ("PgUp PgDn b Space", "scroll a page"),
    ("Home End g G", "top, bottom"),
    ("o", "open in the browser"),
    ("Esc q", "back to the queue"),
]
#: What the article view answers the queue screen: a decision on the article, or a move.
Command = Literal["shortlist", "promote", "reject", "snooze", "next", "previous"]
_HINT = "s shortlist  p promote  x reject  z snooze  J/K next/prev  o open  q back"


@dataclass(frozen=True, slots=True)
class Loaded:
    candidate: Candidate | None
    article: Article | None
    suggested: StoredSuggestion | None = None
    feed_text: str | None = None
    """The feed's summary as text to read, while the article has none."""


def describe(service: Service, item: QueueItem, loaded: Loaded | None) -> tuple[str, str]:
    """(header, body) of the article view; ``loaded`` None while the text is on its way."""
    feed = item.feed_name + (f" ({one_line(item.label)})" if item.label else "")
    status: str = item.status
    if item.status == "promoted" and item.section:
        status += f" → {item.digest or '?'} {one_line(service.taxonomy.label(item.section))}"
    if item.status == "snoozed" and item.snoozed_until:
        status += f" until {item.snoozed_until:%Y-%m-%d}"
    if item.decided_by:
        when = f" {item.decided_at:%Y-%m-%d %H:%M}" if item.decided_at else ""
        status += f" (by {one_line(item.decided_by)}{when})"
    rows = [
        ("id", f"#{item.id}"),
        ("feed", feed),
        ("published", f"{item.published_at:%Y-%m-%d}"),
        ("url", clean(item.url or "-")),
        ("status", status),
    ]
    article = loaded.article if loaded else None
    if loaded is None:
        rows.append(("extraction", "loading…"))
    elif article is None:
        rows.append(("extraction", item.extract_status or "not extracted yet"))
    else:
        source = f", text from {article.text_source}" if article.text_source else ", no text"
        reason = f": {one_line(article.reason)}" if article.reason else ""
        rows.append(("extraction", f"{article.status}{reason}{source}"))
    words = article.word_count if article else item.word_count
    rows.append(("reading time", reading_time(words)))
    rows += _suggestion_rows(service, loaded.suggested if loaded else None)
    notes = [one_line(n) for n in item.notes] or ["-"]
    lines = [one_line(item.title), ""]
    lines += [f"{key:<13}{value}" for key, value in rows]
    lines.append(f"{'notes':<13}• {notes[0]}" if item.notes else f"{'notes':<13}-")
    lines += [f"{'':<13}• {note}" for note in notes[1:]]
    if loaded is None:
        body = ""
    else:
        text = (article.text if article else None) or loaded.feed_text
        body = clean(text, keep_newlines=True) if text else "(no text: open it in the browser with o)"
    return "\n".join(lines), body


def _suggestion_rows(service: Service, s: StoredSuggestion | None) -> list[tuple[str, str]]:
    """The suggestion, its reason, the score and its reasons, the group's other routes."""
    if s is None or s.section is None:
        return [("suggested", "-")]
    rows = [
        ("suggested", f"{one_line(service.taxonomy.label(s.section))} ({(s.confidence or 0):.0%})"),
        ("why", one_line(s.reason or "")),
        ("score", f"{(s.score or 0):.0f}: {one_line(s.explain())}"),
    ]
    rows += [
        ("also via", f"{one_line(name)} #{cid} {clean(url or '')}".rstrip()) for cid, name, url in s.routes
    ]
    return rows


class ArticleScreen(AnswersOnce[Command | None]):
    """One candidate, read in full and decided on: ``s p x z`` answer the decision (the queue screen
    takes it, then opens the next article), ``J``/``K`` the next or previous article; Esc or q: back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "back to the queue", show=False),
        Binding("s", "answer('shortlist')", "shortlist", show=False),
        Binding("p", "answer('promote')", "promote", show=False),
        Binding("x", "answer('reject')", "reject", show=False),
        Binding("z", "answer('snooze')", "snooze", show=False),
        Binding("J", "answer('next')", "next article", show=False),
        Binding("K", "answer('previous')", "previous article", show=False),
        Binding("o", "open", "open in the browser", show=False),
        Binding("j", "scroll(1)", "scroll down", show=False),
        Binding("k", "scroll(-1)", "scroll up", show=False),
        Binding("space", "page(1)", "page down", show=False),
        Binding("b", "page(-1)", "page up", show=False),
        Binding("g", "edge(False)", "top", show=False),
        Binding("G", "edge(True)", "bottom", show=False),
    ]
    DEFAULT_CSS = """
    ArticleScreen #article-header { padding: 0 1; margin-bottom: 1; background: $panel; }
    ArticleScreen #article-body { padding: 0 1; }
    ArticleScreen #article-hint { dock: bottom; height: 1; background: $panel; color: $text-muted;
                                  text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, service: Service, item: QueueItem, open_url: Callable[[str | None], None]) -> None:
        super().__init__()
        self.service = service
        self.item = item
        self.open_url = open_url
        self.loaded: Loaded | None = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        header, body = describe(self.service, self.item, None)
        with VerticalScroll(id="article-scroll"):
            yield Static(plain(header), id="article-header")
            yield Static(plain(body), id="article-body")
        yield Static(plain(_HINT), id="article-hint")

    def on_mount(self) -> None:
        self.query_one("#article-scroll").focus()
        self.run_worker(self._load(), group="article")

    async def _load(self) -> None:
        def read() -> Loaded:
            view = self.service.articles.show(self.item.id, decisions=0)
            return Loaded(view.candidate, view.article, self.service.suggest.of(self.item.id), view.feed_text)

        try:
            self.loaded = await asyncio.to_thread(read)
        except FAILURES as exc:
            self.error = str(getattr(exc, "orig", None) or exc)
            self.query_one("#article-body", Static).update(plain(f"could not load the text: {self.error}"))
            return
        header, body = describe(self.service, self.item, self.loaded)
        self.query_one("#article-header", Static).update(plain(header))
        self.query_one("#article-body", Static).update(plain(body))

    @property
    def text(self) -> str:
        """The header and the text as shown (for tests and screen readers' sake)."""
        header, body = describe(self.service, self.item, self.loaded)
        return f"{header}\n\n{body}"

    def action_back(self) -> None:
        self.dismiss(None)

    def action_answer(self, command: Command) -> None:
        self.dismiss(command)

    def action_open(self) -> None:
        self.open_url(self.item.url)

    def action_scroll(self, lines: int) -> None:
        scroll = self.query_one("#article-scroll", VerticalScroll)
        scroll.scroll_relative(y=lines, animate=False)

    def action_page(self, pages: int) -> None:
        scroll = self.query_one("#article-scroll", VerticalScroll)
        if pages > 0:
            scroll.scroll_page_down(animate=False)
        else:
            scroll.scroll_page_up(animate=False)

    def action_edge(self, end: bool) -> None:
        scroll = self.query_one("#article-scroll", VerticalScroll)
        if end:
            scroll.scroll_end(animate=False)
        else:
            scroll.scroll_home(animate=False)
