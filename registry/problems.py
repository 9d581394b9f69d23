"""Validation problems: one shape for every bad input, from a query string to a fixture file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, named precisely enough to fix it."""

    message: str
    field: str | None = None  # dotted path, e.g. entities[2].designations[0].listed_date
    location: str | None = None  # query, json, path, file ...
    file: str | None = None
    record: str | None = None  # e.g. entities[2] (id=finder-technology-ltd)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.record, self.field) if p)
        return f"{where}: {self.message}" if where else self.message


def flatten_messages(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested error messages as (dotted path, message) pairs."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix
            elif isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_messages(value, path))
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                out.extend(flatten_messages(item, prefix))
            else:
                out.append((prefix, str(item)))
    else:
        out.append((prefix, str(messages)))
    return out


class InputError(Exception):
    """Bad input; `status` is the HTTP status it maps to (400 invalid, 409 conflict)."""

    def __init__(
        self,
        problems: list[Problem],
        *,
        status: int = 400,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.problems = problems
        self.status = status
        self.title = title
        self.headers = headers or {}
        summary = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(summary + more)


def not_found(message: str, *, field: str = "id", location: str = "path") -> InputError:
    """A 404 naming what is missing."""
    return InputError(
        [Problem(message, field=field, location=location)], status=404, title="Not Found"
    )
