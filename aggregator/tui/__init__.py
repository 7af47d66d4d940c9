"""``aggregator triage``: the interactive triage screen (Textual), thin over the store modules.

- ``rows``: pure: the paged rows and marks (``QueueRows``), a row's text, section labels,
  and ``default_section``, where the promote picker starts (a suggestion engine can replace it);
- ``dialogs``: the modal dialogs (section picker, prompt, confirm, message, notes, filter, help);
- ``listing``: the queue's list widget (draws only the rows on screen, asks for their pages);
- ``article``: the article view;
- ``app``: ``TriageApp``, the queue screen and its keys.
"""

from aggregator.tui.app import TriageApp
from aggregator.tui.rows import default_section

__all__ = ["TriageApp", "default_section"]
