"""``aggregator triage``: the interactive triage screen (Textual), thin over the service facade.

- ``rows``: pure: the paged rows and marks (``QueueRows``) and a row's text;
- ``dialogs``: the modal dialogs (section picker, prompt, confirm, message, notes, filter, help);
- ``listing``: the queue's list widget (draws only the rows on screen, asks for their pages);
- ``article``: the article view;
- ``jobs``: database work in worker threads, and keys typed meanwhile waiting their turn;
- ``decide``: the decision keys, each a call of ``service.triage``;
- ``queue_screen``: the queue screen: the list, the status line, moving, searching, filtering;
- ``app``: ``TriageApp``, the application over a :class:`~aggregator.service.Service`.

Where the promote picker starts is :func:`aggregator.triage.sections.default_section`.
"""

from aggregator.triage.sections import default_section
from aggregator.tui.app import TriageApp

__all__ = ["TriageApp", "default_section"]
