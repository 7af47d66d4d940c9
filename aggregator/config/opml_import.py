"""Adding the feeds of an OPML list to feeds.yaml, keeping the operator's comments and layout.

The import edits the YAML *text* of feeds.yaml, validates the whole new text as
loading would, and only then replaces the file atomically (a temporary file in
the same folder, then ``os.replace``). It lives at the edge because it reads and
writes the file with the pydantic models; reading the OPML is :mod:`aggregator.feeds.opml`.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from aggregator.config.models import FeedConfig, taxonomy_of
from aggregator.config.yamlfile import load_config, parse_config
from aggregator.errors import ConfigError
from aggregator.feeds.opml import OpmlFeed

__all__ = ["ImportReport", "import_into_config"]

_PATH_NOISE = {"feed", "feeds", "rss", "rss2", "atom", "index", "default", "posts", "xml"}
_MAX_NAME = 60


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import added to feeds.yaml (or would add, on a dry run) and what it left out."""

    added: tuple[tuple[str, str], ...]
    """(name, url) of each new feed, in OPML order."""
    skipped: tuple[tuple[str, str], ...]
    """(url, reason) of each outline left out."""
    written: bool
    """True when the file was replaced."""


def import_into_config(config_path: Path, opml: list[OpmlFeed], *, dry_run: bool = False) -> ImportReport:
    """Add the OPML feeds whose URL feeds.yaml lacks, keeping the file's comments and layout.

    New entries go after the last item of ``feeds:``, in the same indentation: named by the
    outline's ``name`` (aggregator's export) else a slug of its title, labelled by its ``label``
    else its title, with its ``language``, and its ``section_hint`` when feeds.yaml has that
    section. The file must be valid before, and the whole new text is validated before the file
    is replaced. ``dry_run`` writes nothing.
    """
    source = str(config_path)
    current = load_config(config_path)
    text = config_path.read_bytes().decode("utf-8")

    taken = {feed.name for feed in current.feeds}
    sections = set(taxonomy_of(current.sections).section_ids())
    known = {_url_key(feed.url): feed.name for feed in current.feeds}
    in_batch: set[str] = set()
    added: list[_Entry] = []
    skipped: list[tuple[str, str]] = []
    for item in opml:
        url = item.xml_url.strip()
        name = _unique(_name_for(item.name or item.title, url), taken)
        try:
            FeedConfig(name=name, url=url)
        except ValidationError:
            skipped.append((url, "not an absolute http(s) URL"))
            continue
        key = _url_key(url)
        if key in known:
            skipped.append((url, f"already in {config_path.name} as '{known[key]}'"))
            continue
        if key in in_batch:
            skipped.append((url, "listed twice in the OPML"))
            continue
        language = item.language
        if language:
            try:
                FeedConfig(name=name, url=url, language=language)
            except ValidationError:
                language = None
        taken.add(name)
        in_batch.add(key)
        # aggregator's export names the feed and carries its label, empty or not; another's has a title
        label = item.label or ("" if item.name or item.title == item.xml_url else item.title)
        hint = item.section_hint if item.section_hint in sections else None  # another list's: not ours
        added.append(_Entry(name, url, label, language, item.title, hint))

    if not added:
        return ImportReport(added=(), skipped=tuple(skipped), written=False)

    new_text = _insert_entries(text, source, added)
    try:
        parse_config(new_text, source=source)
    except ConfigError as exc:  # a layout this editor does not understand; never write a broken file
        raise ConfigError(
            source,
            [
                f"{source}: the import would make the file invalid, so nothing was written "
                "(add the feeds by hand):",
                *exc.problems,
            ],
        ) from None
    if not dry_run:
        _replace_atomically(config_path, new_text.encode("utf-8"))
    return ImportReport(
        added=tuple((entry.name, entry.url) for entry in added), skipped=tuple(skipped), written=not dry_run
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    url: str
    label: str
    language: str | None
    title: str
    section_hint: str | None = None


def _url_key(url: str) -> str:
    """Two spellings of one feed URL share a key: scheme, host case and a trailing slash do not count."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{port}{parts.path.rstrip('/')}{query}"


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:_MAX_NAME].strip("-")


def _name_for(title: str, url: str) -> str:
    """An ASCII slug of the title; for a title in another script, a slug of the URL's host and path."""
    decomposed = unicodedata.normalize("NFKD", title)
    if all(char.isascii() or not char.isalpha() for char in decomposed):
        slug = _slugify(decomposed.encode("ascii", "ignore").decode("ascii"))
        if slug:
            return slug
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:
        return "feed"
    segments = [re.sub(r"\.(xml|rss|atom|html?|php)$", "", segment) for segment in parts.path.split("/")]
    words = [host, *(segment for segment in segments if segment and segment.lower() not in _PATH_NOISE)]
    return _slugify("-".join(words)) or "feed"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"


def _scalar(value: str) -> str:
    """``value`` as a YAML scalar: plain when that reads back the same, else double-quoted."""
    try:
        plain = bool(value) and "#" not in value and yaml.safe_load(f"k: {value}") == {"k": value}
    except yaml.YAMLError:
        plain = False
    if plain:
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m[0]):02x}", escaped) + '"'


def _comment(value: str) -> str:
    return " ".join(value.split())


def _content_end(node: yaml.Node) -> int:
    """The index just past the last character of the node's content (block nodes end further on)."""
    if isinstance(node, yaml.MappingNode):
        return max((_content_end(v) for _, v in node.value), default=node.end_mark.index)
    if isinstance(node, yaml.SequenceNode) and not node.flow_style:
        return max((_content_end(item) for item in node.value), default=node.end_mark.index)
    return node.end_mark.index


def _line_end(text: str, index: int) -> int:
    """The index just past the line break of the line holding ``index``."""
    while index > 0 and text[index - 1] in " \t\r\n":
        index -= 1
    found = text.find("\n", index)
    return len(text) if found == -1 else found + 1


def _block(entries: list[_Entry], dash: int, key: int, newline: str) -> str:
    gap = " " * max(key - dash - 2, 0)
    pad = " " * dash
    keys = " " * max(key, dash + 2)
    lines = [f"{pad}# Imported from OPML: check each label, language and section_hint."]
    for entry in entries:
        if _comment(entry.title) and _comment(entry.title) != entry.name:
            lines.append(f"{pad}# {_comment(entry.title)}")
        lines.append(f"{pad}- {gap}name: {_scalar(entry.name)}")
        lines.append(f"{keys}url: {_scalar(entry.url)}")
        lines.append(f"{keys}label: {_scalar(entry.label)}")
        if entry.language:
            lines.append(f"{keys}language: {_scalar(entry.language)}")
        if entry.section_hint:
            lines.append(f"{keys}section_hint: {_scalar(entry.section_hint)}")
    return newline.join(lines) + newline


def _flow(entries: list[_Entry]) -> str:
    parts = []
    for entry in entries:
        fields = [
            f"name: {_scalar(entry.name)}",
            f"url: {_scalar(entry.url)}",
            f"label: {_scalar(entry.label)}",
        ]
        if entry.language:
            fields.append(f"language: {_scalar(entry.language)}")
        if entry.section_hint:
            fields.append(f"section_hint: {_scalar(entry.section_hint)}")
        parts.append("{" + ", ".join(fields) + "}")
    return ", ".join(parts)


def _insert_entries(text: str, source: str, entries: list[_Entry]) -> str:
    """``text`` with the entries appended to its ``feeds:`` sequence, everything else untouched."""
    newline = "\r\n" if "\r\n" in text else "\n"
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert isinstance(root, yaml.MappingNode)  # load_config accepted the file
    key_node, feeds = next((k, v) for k, v in reversed(root.value) if k.value == "feeds")
    dash = key_node.start_mark.column + 2
    if isinstance(feeds, yaml.SequenceNode) and feeds.flow_style and feeds.value:
        at = feeds.value[-1].end_mark.index  # flow nodes end right after their last character
        return text[:at] + ", " + _flow(entries) + text[at:]
    if isinstance(feeds, yaml.SequenceNode) and feeds.value:
        last = feeds.value[-1]
        key = last.start_mark.column if isinstance(last, yaml.MappingNode) else feeds.start_mark.column + 2
        at = _line_end(text, _content_end(last))
        block = _block(entries, feeds.start_mark.column, key, newline)
    elif isinstance(feeds, yaml.SequenceNode) or feeds.tag == "tag:yaml.org,2002:null":
        # "feeds: []" or "feeds:" with nothing: drop the value, start a block sequence below
        text = text[: feeds.start_mark.index] + text[feeds.end_mark.index :]
        at = _line_end(text, feeds.start_mark.index)
        block = _block(entries, dash, dash + 2, newline)
    else:
        raise ConfigError(
            source, [f"{source}:{key_node.start_mark.line + 1}: feeds: not a list (fix it first)"]
        )
    if at == len(text) and text and not text.endswith("\n"):
        block = newline + block
    return text[:at] + block + text[at:]


def _replace_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` (through a symlink), then rename it over."""
    target = path.resolve()
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, target.stat().st_mode & 0o7777)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
