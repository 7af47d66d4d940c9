"""Screens that answer once: the dialogs and the article view.

A second answer can be on its way when the first is given: two Enters typed together on the section
picker each select an option, and the second ``dismiss`` would pop the screen under the dialog
(Textual raises ``ScreenStackError``, the triage screen stopped with a traceback). A screen that is no
longer on top has answered; what it is asked afterwards is dropped.
"""

from __future__ import annotations

from typing import TypeVar

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen, Screen

R = TypeVar("R")


class AnswersOnce(Screen[R]):
    """A screen whose first answer is its only one."""

    def dismiss(self, result: R | None = None) -> AwaitComplete:
        if self.app.screen is not self:  # answered already, or covered by a screen it did not open
            return AwaitComplete()
        return super().dismiss(result)


class Dialog(ModalScreen[R], AnswersOnce[R]):
    """A modal dialog that answers once. (ModalScreen first: Textual's CSS type names follow the first
    base, and the dialogs' rules are written for ``ModalScreen``.)"""
