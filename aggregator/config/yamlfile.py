"""Reading feeds.yaml: the bytes (size and kind checked), the YAML with every node's line, then pydantic.

:func:`load_config` reads the file with PyYAML's safe loader, keeps the composed node tree (every
node knows its line), validates the data with pydantic and turns every problem into one line a
person can act on, all of them at once, in one :class:`~aggregator.errors.ConfigError`::

    feeds.yaml:42: feeds[3].url: not an absolute http(s) URL: 'example.com/feed' (write ...)

Paths use 0-based list indices, as in Python: ``feeds[0]`` is the first feed.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from aggregator.config.checks import cross_problems
from aggregator.config.files import read_config_bytes
from aggregator.config.messages import Loc, describe, format_loc
from aggregator.config.models import SKIP_CROSS_CHECK, FeedsFile
from aggregator.errors import ConfigError

__all__ = ["load_config", "parse_config"]


# -- YAML with positions ------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """The safe loader, minus YAML 1.1's base-60 numbers (``time: 8:30`` stays the text "8:30")."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)

_MAX_NODES = 100_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _TooManyNodes(Exception):
    pass


def _duplicate_keys(root: yaml.Node) -> list[tuple[Loc, int, int]]:
    """(path, line, first line) of every key repeated in its mapping; aliases are followed, with a budget."""
    found: list[tuple[Loc, int, int]] = []
    budget = _MAX_NODES

    def walk(node: yaml.Node, path: Loc) -> None:
        nonlocal budget
        budget -= 1
        if budget < 0:
            raise _TooManyNodes
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG:
                    ident = (key.tag, key.value)
                    line = key.start_mark.line + 1
                    if ident in seen:
                        found.append(((*path, key.value), line, seen[ident]))
                    else:
                        seen[ident] = line
                    walk(value, (*path, key.value))
                else:
                    walk(value, path)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))

    walk(root, ())
    return found


def _line_of(root: yaml.Node, loc: Loc) -> int:
    """The line of the deepest node on ``loc`` that exists (a missing field: the mapping that lacks it)."""
    node = root
    line = root.start_mark.line + 1
    for step in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            match = None
            for key, value in node.value:  # the last one wins, as in the constructed data
                if isinstance(key, yaml.ScalarNode) and key.value == step:
                    match = (key, value)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


# -- loading -----------------------------------------------------------------------------


def load_config(path: Path) -> FeedsFile:
    """Read and validate feeds.yaml; raise ConfigError listing every problem, each naming file and line.

    Only a regular file or a pipe (``--config <(...)``) is read, and at most
    :data:`~aggregator.config.files.MAX_CONFIG_BYTES` of it: ``--config /dev/zero`` is refused at once.
    """
    return parse_config(read_config_bytes(path), source=str(path))


def parse_config(data: bytes | str, *, source: str = "feeds.yaml") -> FeedsFile:
    """Validate feeds.yaml given as bytes or text; ``source`` names it in the messages."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ConfigError(
                source, [f"{source}:{line}: the file is not valid UTF-8 (save it as UTF-8)"]
            ) from None
    else:
        text = data
    return _validate(text, source)


def _compose(text: str, source: str) -> tuple[yaml.Node, object, list[tuple[int, str]]]:
    """The node tree, the constructed data and the YAML-level problems (duplicate keys)."""

    def fail(line: int, message: str) -> ConfigError:
        return ConfigError(source, [f"{source}:{line}: {message}"])

    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
        if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == "tag:yaml.org,2002:null"):
            raise fail(1, "the file is empty (start from the feeds.yaml shipped with aggregator)")
        duplicates = _duplicate_keys(root)
        data = loader.construct_document(root)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise fail(
            line, f"invalid YAML: {exc.problem} (remove the tag; feeds.yaml takes plain values)"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "syntax error"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            what += f", {exc.context} that starts on line {exc.context_mark.line + 1}"
        elif exc.context:
            what += f", {exc.context}"
        column = f" near column {mark.column + 1}" if mark else ""
        advice = f"fix the syntax{column}: check the indentation, and quote values containing ': ' or ' #'"
        raise fail(line, f"invalid YAML: {what} ({advice})") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise fail(
            line, f"invalid YAML: the control character U+{code:04X} is not allowed (remove it)"
        ) from None
    except yaml.YAMLError as exc:
        raise fail(1, f"invalid YAML: {exc} (fix the syntax)") from None
    except _TooManyNodes:
        raise fail(1, f"the document expands to more than {_MAX_NODES} nodes (use fewer aliases)") from None
    except RecursionError:
        raise fail(1, "the document is nested too deeply (flatten it)") from None
    finally:
        if loader is not None:
            loader.dispose()
    problems = [
        (
            line,
            f"{source}:{line}: {format_loc(path)}: duplicate key (first at line {first}; YAML would keep "
            "only the last one, remove the other)",
        )
        for path, line, first in duplicates
    ]
    return root, data, problems


def _validate(text: str, source: str) -> FeedsFile:
    root, data, found = _compose(text, source)

    def place(loc: Loc, message: str) -> None:
        line = _line_of(root, loc)
        path = format_loc(loc)
        found.append((line, f"{source}:{line}: {path}: {message}" if path else f"{source}:{line}: {message}"))

    model: FeedsFile | None = None
    try:
        model = FeedsFile.model_validate(data, context={SKIP_CROSS_CHECK: True})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            place(tuple(error["loc"]), describe(error, FeedsFile))
    if isinstance(data, dict):
        for loc, message in cross_problems(
            data.get("sections"), data.get("feeds"), lambda loc: _line_of(root, loc)
        ):
            place(loc, message)
    if found or model is None:
        found.sort(key=lambda item: item[0])
        raise ConfigError(source, [message for _, message in found])
    return model
