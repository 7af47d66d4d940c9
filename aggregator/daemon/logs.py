"""The daemon's log: a line per feed poll, tick and job run; text on a terminal, JSON lines on request.

Every line is an event (``poll``, ``tick``, ``job``, ``reload``, ``stop``, ...)
with its fields (feed or job, outcome, seconds, ...), logged through
:func:`event`. Text from the world (a feed's error, a title) is data in both
formats: text lines pass through :func:`~aggregator.controls.show_controls`
(escape sequences printed, never run), JSON lines through
:func:`~aggregator.controls.json_dumps` (control characters as ``\\uXXXX``).

On a terminal, in text format, :class:`LiveLine` keeps a one-line summary at
the bottom of stderr (polled, new, failing, extraction queue), redrawn in place
after each log line; it is never drawn when stderr is not a terminal.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from aggregator.controls import json_dumps, show_controls

LogFormat = Literal["text", "json"]

#: The logger of the daemon's own events.
log = logging.getLogger("aggregator.daemon")

#: Loggers that report each feed stored and each page extracted: the daemon's own ``poll``
#: lines say the same, so they speak only from ``-v`` on.
_CHATTY = ("aggregator.feeds.poll", "aggregator.articles.pages")
#: Libraries that log every request or job start at INFO: heard only with ``-vv``.
_LIBRARIES = ("apscheduler", "httpx", "httpcore")


def event(level: int, name: str, message: str, *args: Any, **fields: Any) -> None:
    """Log ``message % args`` as event ``name`` with ``fields`` (plain JSON values) for the JSON lines."""
    log.log(level, message, *args, extra={"event": name, "fields": fields})


class TextFormatter(logging.Formatter):
    """``2026-01-05T08:00:00Z INFO message``, the whole line (a traceback too) with controls shown."""

    def format(self, record: logging.LogRecord) -> str:
        return show_controls(f"{_timestamp(record)} {record.levelname} {super().format(record)}")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, event, message and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", "log"),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({key: value for key, value in fields.items() if key not in line})
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json_dumps(line, default=str)


def _timestamp(record: logging.LogRecord) -> str:
    return (
        datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class LiveLine(logging.StreamHandler):  # type: ignore[type-arg]
    """Log lines on a terminal with a live summary line under them, redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._summary = ""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            self.acquire()
            try:
                self.stream.write(f"\r\x1b[K{line}\n{self._summary}")
                self.stream.flush()
            finally:
                self.release()
        except Exception:
            self.handleError(record)

    def show(self, summary: str) -> None:
        """Draw ``summary`` (numbers only: no text from the world) in place of the last one."""
        self.acquire()
        try:
            self._summary = summary
            self.stream.write(f"\r\x1b[K{summary}")
            self.stream.flush()
        finally:
            self.release()

    def clear(self) -> None:
        """Take the summary line away (when the daemon ends), leaving the log as it was."""
        self.acquire()
        try:
            if self._summary:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            self._summary = ""
        finally:
            self.release()


def setup_logging(log_format: LogFormat, verbose: int, stream: TextIO | None = None) -> LiveLine | None:
    """Send the log to ``stream`` (stderr) as text or JSON lines; the live line when text goes to a terminal.

    ``verbose``: 0 the daemon's events, 1 every feed stored and page extracted too, 2 debug.
    """
    stream = stream if stream is not None else sys.stderr
    live = None
    handler: logging.Handler
    if log_format == "text" and stream.isatty():
        handler = live = LiveLine(stream)
    else:
        handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter("%(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose >= 2 else logging.INFO, handlers=[handler], force=True)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    for name in _LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    return live
