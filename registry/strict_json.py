"""One strict JSON reader for every request body (and every cursor).

`json.loads` accepts what later fails or silently changes meaning: duplicate
keys (the last wins: `{"scope": "read", "scope": "admin"}` reads as admin), lone
surrogates (`"\\ud800"`, which fail later when encoded), nesting deep enough to
raise RecursionError, integers of thousands of digits, NaN and Infinity. This
reader refuses all of them, naming the field at fault, so the rest of the
service only ever sees JSON it can store and send back.

Pure: no Flask. The hooks `json.loads` calls cannot know where they are, so they
leave markers; one walk over the result then reports each with its path.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .problems import Problem

MAX_DEPTH = 64  # a fixture's evidence row is the deepest legitimate body, about 10
MAX_INT = 2**63 - 1  # what SQLite (and most JSON clients) hold exactly
MAX_PROBLEMS = 20
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONBodyError(ValueError):
    """The body is not JSON this service accepts; `problems` name where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class _Refused:
    """A value json.loads produced that the walk will refuse, with its reason."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _DuplicateKeys(dict[str, Any]):
    """An object that named some keys more than once."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    marked = _DuplicateKeys(out)
    seen: set[str] = set()
    marked.duplicates = []
    for key, _ in pairs:
        if key in seen and key not in marked.duplicates:
            marked.duplicates.append(key)
        seen.add(key)
    return marked


def _int(text: str) -> int | _Refused:
    # Length first: int() of more than 4,300 digits raises ValueError.
    value = int(text) if len(text.lstrip("-")) <= 19 else None
    if value is None or abs(value) > MAX_INT:
        digits = len(text.lstrip("-"))
        return _Refused(f"Integers must lie within ±{MAX_INT}; this one has {digits} digits.")
    return value


def _float(text: str) -> float | _Refused:
    value = float(text)
    if not math.isfinite(value):
        return _Refused("Numbers must be finite; this one overflows a 64-bit float.")
    return value


def _constant(name: str) -> _Refused:
    return _Refused(f"{name} is not JSON; send a finite number or null.")


def loads(data: bytes | str) -> Any:
    """Parse a request body; raises JSONBodyError naming every field at fault."""
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _error(f"The body is not UTF-8 (byte {exc.start}).", "") from None
    else:
        text = data
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except RecursionError:
        raise _error(f"JSON nested more than {MAX_DEPTH} levels deep.", "") from None
    except json.JSONDecodeError as exc:
        raise _error(
            f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).", ""
        ) from None
    problems = _check(value)
    if problems:
        raise JSONBodyError(problems)
    return value


def _error(message: str, path: str) -> JSONBodyError:
    return JSONBodyError([Problem(message, field=path or "body", location="json")])


def _check(value: Any) -> list[Problem]:
    """Walk the parsed value (iteratively: depth is what is being checked)."""
    problems: list[Problem] = []

    def refuse(message: str, path: str) -> None:
        problems.append(Problem(message, field=path or "body", location="json"))

    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack and len(problems) < MAX_PROBLEMS:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                refuse("A lone surrogate (\\ud800-\\udfff) is not a character.", path)
        elif isinstance(item, _Refused):
            refuse(item.message, path)
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                refuse(f"JSON nested more than {MAX_DEPTH} levels deep.", path)
                continue
            if isinstance(item, list):
                for index in range(len(item) - 1, -1, -1):
                    stack.append((item[index], f"{path}[{index}]", depth + 1))
                continue
            if isinstance(item, _DuplicateKeys):
                for key in item.duplicates:
                    if not _SURROGATE.search(key):
                        refuse(
                            f"Key {key[:100]!r} appears more than once; send each key once.",
                            _join(path, key),
                        )
            for key, child in reversed(item.items()):
                if _SURROGATE.search(key):
                    refuse("A lone surrogate (\\ud800-\\udfff) is not a character.", path)
                    continue
                stack.append((child, _join(path, key), depth + 1))
    return problems


def _join(path: str, key: str) -> str:
    key = key if len(key) <= 100 else key[:100] + "..."
    return f"{path}.{key}" if path else key
