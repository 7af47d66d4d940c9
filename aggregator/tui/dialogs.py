"""The triage screen's dialogs: section picker, prompts, confirmation, messages, notes, filter, help.

Each is a modal screen that returns its answer through ``dismiss`` (None when
cancelled with Escape). Every text shown goes through :func:`plain`: titles, notes,
labels and error messages are data, never markup, and their control and
bidi-override characters are shown as escapes (``\\x1b``), never sent to the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, OptionList, SelectionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from aggregator.controls import show_controls
from aggregator.triage_types import STATUSES, Status
from aggregator.tui.once import Dialog
from aggregator.tui.typeahead import TypeAhead

DIALOG_CSS = """
ModalScreen {
    align: center middle;
}
ModalScreen > Vertical {
    width: 76;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: round $accent;
    padding: 0 1;
    background: $surface;
}
ModalScreen .dialog-title {
    text-style: bold;
    width: 100%;
}
ModalScreen .dialog-hint {
    color: $text-muted;
    width: 100%;
}
ModalScreen .dialog-error {
    color: $error;
    width: 100%;
}
ModalScreen OptionList, ModalScreen SelectionList {
    height: auto;
    max-height: 16;
}
FilterDialog > Vertical {
    width: 100%;
    max-width: 116;
}
"""


def plain(text: str) -> Content:
    """``text`` for a widget: never markup, control and bidi-override characters shown as escapes."""
    return Content(show_controls(text))


class MessageDialog(Dialog[None]):
    """A message that stays until the curator has read it: refusals, conflicts, database errors.

    Keys typed before it was on screen are dropped when it opens (as mutt drops type-ahead on an
    error): an Enter meant for the list would otherwise close it unread, and the rest would act on a
    list that has changed. The hint says how many were dropped.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q,space", "close", "close", show=False),
    ]

    def __init__(self, title: str, lines: Sequence[str]) -> None:
        super().__init__(classes="message-dialog")
        self.heading = title
        self.lines = list(lines)
        self.dropped = ""
        """What was said of the keys dropped when it opened ("" when none were)."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.heading), classes="dialog-title")
            with VerticalScroll(id="message-body"):
                yield Static(plain("\n".join(self.lines)), id="message-text")
            yield Static(plain("Enter or Esc: close"), classes="dialog-hint", id="message-hint")

    def on_mount(self) -> None:
        dropped = self.app.drop_typed_ahead() if isinstance(self.app, TypeAhead) else 0
        if dropped:
            self.dropped = (
                "1 key typed meanwhile was dropped"
                if dropped == 1
                else f"{dropped} keys typed meanwhile were dropped"
            )
            self.query_one("#message-hint", Static).update(plain(f"Enter or Esc: close   ({self.dropped})"))

    @property
    def text(self) -> str:
        return "\n".join([self.heading, *self.lines, *([self.dropped] if self.dropped else [])])

    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmDialog(Dialog[bool]):
    """A yes/no question for destructive bulk actions: ``y`` confirms, anything else cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "yes", show=False),
        Binding("n,escape,enter,q", "answer(False)", "no", show=False),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.question), classes="dialog-title")
            yield Static(plain("y: yes   n or Esc: no"), classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PromptDialog(Dialog[str | None]):
    """One line of text. ``check`` may refuse it with a message; the dialog then stays open.

    A ``value`` holding control characters is shown with them as escapes; submitted unchanged, the
    answer is ``value`` itself.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", show=False)]

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "Enter: OK   Esc: cancel",
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.heading = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.heading), classes="dialog-title")
            yield Input(value=show_controls(self.value), placeholder=self.placeholder, id="prompt-input")
            yield Static("", classes="dialog-error", id="prompt-error")
            yield Static(plain(self.hint), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        # The input shows a value's control characters as escapes; left as shown, it is the value.
        answer = self.value if event.value == show_controls(self.value) else event.value
        problem = self.check(answer) if self.check else None
        if problem:
            self.query_one("#prompt-error", Static).update(plain(problem))
            return
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SectionPicker(Dialog[str | None]):
    """The digest's sections, numbered, with one preselected; Enter picks, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", show=False),
        Binding("j", "move(1)", "down", show=False),
        Binding("k", "move(-1)", "up", show=False),
    ]

    def __init__(self, title: str, sections: Sequence[tuple[str, str]], selected: str | None) -> None:
        """``sections``: (id, label) in the taxonomy's order."""
        super().__init__()
        self.heading = title
        self.sections = list(sections)
        self.selected = selected

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.heading), classes="dialog-title")
            yield OptionList(*[Option(plain(label), id=sid) for sid, label in self.sections], id="sections")
            yield Static(plain("↑↓/jk: move   Enter: choose   Esc: cancel"), classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [sid for sid, _ in self.sections]
        options.highlighted = ids.index(self.selected) if self.selected in ids else 0
        options.focus()

    @property
    def highlighted(self) -> str | None:
        option = self.query_one(OptionList).highlighted_option
        return option.id if option else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if delta > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


class NotesEditor(Dialog[tuple[str, ...] | None]):
    """A candidate's notes, one per line; Ctrl+S (or F2) saves them all, replacing the old ones."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", "save", show=False, priority=True),
        Binding("escape", "cancel", "cancel", show=False),
    ]

    def __init__(self, title: str, notes: Sequence[str]) -> None:
        super().__init__()
        self.heading = title
        self.notes = list(notes)

    @property
    def shown(self) -> str:
        """The notes as the editor starts: one a line, control characters written as escapes."""
        return "\n".join(show_controls(note) for note in self.notes)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.heading), classes="dialog-title")
            yield TextArea(self.shown, id="notes", soft_wrap=True)
            yield Static(plain("one note per line   Ctrl+S or F2: save   Esc: cancel"), classes="dialog-hint")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.styles.height = 10
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        if text == self.shown:  # saved as shown: the notes as they are, control characters and all
            self.dismiss(tuple(self.notes))
            return
        self.dismiss(tuple(line.rstrip() for line in text.splitlines() if line.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class Filter:
    """What the filter dialog chose: statuses (empty: all), feeds (empty: all) and a section (None: any)."""

    statuses: tuple[Status, ...]
    feeds: tuple[str, ...]
    section: str | None


class FilterDialog(Dialog[Filter | None]):
    """Statuses, feeds and a section side by side; Space toggles, Tab moves between lists, Enter applies."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "apply", "apply", show=False, priority=True),
        Binding("escape", "cancel", "cancel", show=False),
    ]
    DEFAULT_CSS = """
    FilterDialog Horizontal { height: auto; }
    FilterDialog .column { width: 1fr; height: auto; }
    FilterDialog #status-column { width: 19; }
    FilterDialog #section-column { width: 1fr; }
    FilterDialog SelectionList, FilterDialog OptionList { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(
        self,
        current: Filter,
        feeds: Sequence[str],
        sections: Sequence[tuple[str, str]],
    ) -> None:
        """``feeds``: names; ``sections``: (id, label), every section filterable."""
        super().__init__()
        self.current = current
        self.feeds = list(feeds)
        self.sections = list(sections)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain("Filter the queue"), classes="dialog-title")
            with Horizontal():
                with Vertical(classes="column", id="status-column"):
                    yield Static(plain("status"), classes="dialog-hint")
                    yield SelectionList[str](
                        *[Selection[str](plain(s), s, s in self.current.statuses) for s in STATUSES],
                        id="statuses",
                    )
                with Vertical(classes="column"):
                    yield Static(plain("feed (none: all)"), classes="dialog-hint")
                    yield SelectionList[str](
                        *[Selection(plain(name), name, name in self.current.feeds) for name in self.feeds],
                        id="feeds",
                    )
                with Vertical(classes="column", id="section-column"):
                    yield Static(plain("section"), classes="dialog-hint")
                    yield OptionList(
                        Option(plain("any section"), id=""),
                        *[Option(plain(label), id=sid) for sid, label in self.sections],
                        id="section",
                    )
            yield Static(
                plain("Space: toggle   Tab: next list   Enter: apply   Esc: cancel"), classes="dialog-hint"
            )

    def on_mount(self) -> None:
        section = self.query_one("#section", OptionList)
        ids = ["", *[sid for sid, _ in self.sections]]
        section.highlighted = ids.index(self.current.section) if self.current.section in ids else 0
        self.query_one("#statuses", SelectionList).focus()

    def action_apply(self) -> None:
        statuses = self.query_one("#statuses", SelectionList).selected
        feeds = self.query_one("#feeds", SelectionList).selected
        option = self.query_one("#section", OptionList).highlighted_option
        self.dismiss(
            Filter(
                statuses=tuple(s for s in STATUSES if s in statuses),
                feeds=tuple(str(f) for f in feeds),
                section=(option.id or None) if option else None,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(Dialog[None]):
    """Every key of the screen, generated from its bindings so it cannot fall behind."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,enter", "close", "close", show=False)
    ]

    def __init__(self, sections: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = list(sections)

    @property
    def text(self) -> str:
        lines: list[str] = []
        for heading, keys in self.sections:
            if lines:
                lines.append("")
            lines.append(heading)
            lines += [f"  {key:<14} {what}" for key, what in keys]
        return "\n".join(lines)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain("Keys"), classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(plain(self.text), id="help-text")
            yield Static(plain("Esc or ?: close   ↑↓: scroll"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
