"""Problems in feeds.yaml in words: a path such as ``feeds[3].url``, and pydantic's errors as advice.

Each message says what is wrong and, in parentheses, what to do. Contains no
models of its own: :func:`describe` is given the model the error's path starts from.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        elif "[" in step:
            continue  # a pydantic validator name, not a key of the file
        elif re.fullmatch(r"[A-Za-z0-9_-]+", step):
            out += f".{step}" if out else step
        else:
            out += f"[{step!r}]"
    return out


_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list (lines starting with '- ')",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fields_at(root: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the model that ``loc`` points into, or [] when unknown."""
    current: Any = root
    for step in loc:
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(step, str):
            field = current.model_fields.get(step)
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is list and isinstance(step, int):
            current = typing.get_args(current)[0]
        else:
            return []
        while typing.get_origin(current) in (typing.Union, types.UnionType, Annotated):
            args = [arg for arg in typing.get_args(current) if arg is not type(None)]
            current = args[0]
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def describe(error: ErrorDetails, root: type[BaseModel]) -> str:
    """One pydantic error as '<what is wrong> (<what to do>)'."""
    kind = error["type"]
    loc = tuple(error["loc"])
    value = error.get("input")
    if kind == "missing":
        return "required field is missing (add it)"
    if kind == "extra_forbidden":
        known = _fields_at(root, loc[:-1])
        if not known:
            return "unknown field (remove it or check the spelling)"
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        advice = f"did you mean {close[0]!r}?" if close else "remove it or check the spelling;"
        return f"unknown field ({advice} known fields: {', '.join(known)})"
    if kind == "value_error":
        message = error["msg"].removeprefix("Value error, ")
        return message if message.endswith(")") else f"{message} (fix the value)"
    if kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
        keys = ", ".join(root.model_fields)
        return (
            f"the file must be a mapping with the keys {keys}, got {_show(value)} "
            "(start from the feeds.yaml shipped with aggregator)"
        )
    if kind in _EXPECTED:
        advice = "write a value" if value is None else "change the value"
        if kind == "string_type" and isinstance(value, bool):
            advice = "quote it: YAML reads yes/no/on/off as true/false"
        elif kind == "string_type" and isinstance(value, int | float):
            advice = "quote it"
        return f"expected {_EXPECTED[kind]}, got {_show(value)} ({advice})"
    if kind == "string_too_short":
        return "must not be empty (write a value)"
    message = error["msg"]
    message = message[0].lower() + message[1:] if message else kind
    message = message.removeprefix("input ")
    return f"{message}, got {_show(value)} (change the value)"
