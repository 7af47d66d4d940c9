"""The triage screen: ``TriageApp``, the queue screen's application, over the service facade.

The screens are :mod:`aggregator.tui.queue_screen` (the list and its keys, with
the decisions in :mod:`aggregator.tui.decide` and the threaded database jobs in
:mod:`aggregator.tui.jobs`) and :mod:`aggregator.tui.article`; every database
call goes through the :class:`~aggregator.service.Service` the app is given.

Titles, labels, notes, URLs, section titles, search text and error messages are
data, never markup: widgets get them as ``Content`` (``dialogs.plain``),
notifications are plain text, and control and bidi-override characters are shown
as escapes (``\\x1b``, ``\\u202e``) wherever they are printed.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from urllib.parse import urlsplit

from textual.app import SuspendNotSupported
from textual.notifications import SeverityLevel
from textual.screen import Screen

from aggregator.controls import show_controls
from aggregator.service import Service
from aggregator.triage.sections import SectionSuggester, default_section
from aggregator.triage_types import QueueQuery
from aggregator.tui.dialogs import DIALOG_CSS
from aggregator.tui.queue_screen import QueueScreen
from aggregator.tui.typeahead import TypeAhead

Opener = Callable[[str], object]
"""Opens a URL in a browser (``webbrowser.open``); tests pass their own."""


class TriageApp(TypeAhead):
    """``aggregator triage``: the queue on one screen, usable over SSH in 80x24; keys typed ahead are
    handled in order (:mod:`aggregator.tui.typeahead`)."""

    TITLE = "aggregator triage"
    CSS = (
        DIALOG_CSS
        + """
    MessageDialog #message-body { height: auto; max-height: 16; }
    HelpScreen #help-body { height: auto; max-height: 18; }
    """
    )
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        service: Service,
        *,
        curator: str,
        query: QueueQuery | None = None,
        digest: str | None = None,
        opener: Opener | None = None,
        suggest: SectionSuggester = default_section,
        page_size: int = 100,
    ) -> None:
        """``digest``: the issue ``p`` promotes into (None: the current month);
        ``opener``: how ``o`` opens a URL (None: the system's browser);
        ``suggest``: the section the promote picker preselects."""
        super().__init__()
        self.service = service
        self.curator = curator
        self.digest = digest
        self.opener = opener
        self.suggest = suggest
        self.queue_screen = QueueScreen(query or QueueQuery(sort="score"), page_size)

    def get_default_screen(self) -> Screen[None]:
        return self.queue_screen

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notification whose message is plain text by default (it carries titles, URLs and errors),
        with control and bidi-override characters shown as escapes."""
        if not markup:
            message, title = show_controls(message), show_controls(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def digest_name(self) -> str:
        return self.digest or self.service.triage.current_digest()

    def open_link(self, url: str | None) -> None:
        """Open an http(s) URL with the opener; anything else is refused with a message."""
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc or url is None:
            self.notify("This item has no web address to open.", severity="warning")
            return
        if self.opener is not None:
            self.opener(url)
            return
        self._system_open(url)

    def _system_open(self, url: str) -> None:
        try:
            browser = webbrowser.get()
        except webbrowser.Error:
            self.notify(f"No web browser found. The address: {url}", severity="warning", timeout=15)
            return
        # A text browser (lynx, w3m) takes the terminal: give it the terminal, then come back.
        if type(browser) is webbrowser.GenericBrowser:
            try:
                with self.suspend():
                    browser.open(url)
                return
            except SuspendNotSupported:
                pass
        browser.open(url)
        self.notify(f"Opened {url}")
