"""What every group of the facade shares: the wired application it works on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aggregator.app import App


class Part:
    """A group of the facade's operations over one :class:`~aggregator.app.App`.

    A method reads ``self.app.clock()`` once, opens one ``self.app.read()`` or
    ``self.app.write()`` unit of work (or runs one poll), and returns values
    from :mod:`aggregator.types`; nothing from SQLAlchemy or pydantic leaves it.
    """

    def __init__(self, app: App) -> None:
        self.app = app
