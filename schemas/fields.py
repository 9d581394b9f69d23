"""Custom marshmallow fields shared by the fixture and API schemas."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from marshmallow import ValidationError, fields, validate

_PARTIAL_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")

PRECISIONS = ("day", "month", "year")


def parse_partial_date(value: str) -> tuple[str, str]:
    """Check a date written as YYYY, YYYY-MM or YYYY-MM-DD; return (value, precision).

    Sources often state only a month ("last week", "June 2024"); recording the
    precision keeps us from inventing a day the document never gave.
    """
    match = _PARTIAL_DATE.fullmatch(value)
    if not match:
        raise ValueError("Not a date: use YYYY-MM-DD, YYYY-MM or YYYY.")
    year, month, day = match.groups()
    if month is None:
        return value, "year"
    if not 1 <= int(month) <= 12:
        raise ValueError("Not a date: month must be 01-12.")
    if day is None:
        return value, "month"
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ValueError(f"Not a date: {exc}.") from None
    return value, "day"


BIRTH_DATE_PRECISIONS = ("day", "month", "year", "range")


def parse_birth_date(value: str) -> tuple[str, str]:
    """Check a date of birth as the lists give one: a partial date (YYYY,
    YYYY-MM, YYYY-MM-DD) or a range "A/B" between two of them (ISO 8601
    interval; lists say "1951 to 1953" or "circa 1952"). Returns (value,
    precision), the precision of a range being "range"."""
    if "/" not in value:
        return parse_partial_date(value)
    start, _, end = value.partition("/")
    parse_partial_date(start)
    parse_partial_date(end)
    if date_bounds(start)[0] > date_bounds(end)[1]:
        raise ValueError("Not a date range: it starts after it ends.")
    return value, "range"


def date_bounds(value: str) -> tuple[str, str]:
    """First and last ISO day of a partial date ("2024-06" -> 2024-06-01, 2024-06-30)."""
    _, precision = parse_partial_date(value)
    if precision == "day":
        return value, value
    if precision == "month":
        year, month = (int(p) for p in value.split("-"))
        last = calendar.monthrange(year, month)[1]
        return f"{value}-01", f"{value}-{last:02d}"
    return f"{value}-01-01", f"{value}-12-31"


class PartialDate(fields.String):
    """An ISO date that may be given to the month or the year only."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own pattern
        "invalid_partial": "Not a date: use YYYY-MM-DD, YYYY-MM or YYYY.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parse_partial_date(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return text


class BirthDate(fields.String):
    """A date of birth: YYYY, YYYY-MM, YYYY-MM-DD, or a range 'A/B' of those."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own pattern
        "invalid_birth_date": "Not a date of birth: use YYYY-MM-DD, YYYY-MM, YYYY or A/B.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parse_birth_date(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return text


class Pattern(validate.Regexp):
    """A regular expression the whole value must match. marshmallow's Regexp uses
    re.match, where `$` also matches before a final newline: "GB\\n" passed
    `^[A-Z]{2}$`, was stored, and then hid the listing from jurisdiction=GB."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class WholeNumber(fields.Integer):
    """An integer that is one: marshmallow's Integer truncates 2.5 to 2."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own pattern
        "invalid": "Not a whole number.",
    }

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        if isinstance(value, str) and not re.fullmatch(r"[+-]?[0-9]{1,19}", value.strip()):
            raise self.make_error("invalid", input=value)
        number = super()._validated(value)
        if abs(number) > 2**63 - 1:
            raise self.make_error("invalid", input=value)
        return number


# Characters no text of the registry holds: NUL and the other C0 controls (tab
# and line breaks aside, where text may span lines) and DEL; they break terminals,
# CSV files and the C libraries a value passes through. (C1 controls stay: the
# official lists hold some, e.g. \x92 for an apostrophe in the CSL.)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile("[\t\n\r\u2028\u2029]")
# Bidirectional overrides (LRO, RLO) force characters to display in another
# order, so a name shows as another (Trojan Source). Embeddings, isolates and the
# marks that right-to-left text uses stay: the EU list has a PDF in an Arabic name.
_BIDI_OVERRIDE = re.compile("[\u202d\u202e]")
# Hangul fillers are letters to Unicode but show nothing.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def text_problem(value: str, *, multiline: bool = True) -> str | None:
    """Why a text cannot be stored, or None."""
    if _CONTROL.search(value):
        return "Control characters (such as NUL) are not allowed."
    if not multiline and _LINE_BREAK.search(value):
        return "Line breaks and tabs are not allowed here."
    return None


def name_problem(value: str) -> str | None:
    """Why a name (of an entity, or one to screen) cannot be used, or None: names
    must show at least one letter or digit, and nothing that disguises them."""
    problem = text_problem(value, multiline=False)
    if problem:
        return problem
    if _BIDI_OVERRIDE.search(value):
        return "Bidirectional override characters are not allowed in names."
    if not any(ch.isalnum() and ch not in _BLANK_LETTERS for ch in value):
        return "Give a name with at least one letter or digit."
    return None


class Text(fields.String):
    """A string without control characters (line breaks allowed unless multiline=False)."""

    def __init__(self, *, multiline: bool = True, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text, multiline=self.multiline)
        if problem:
            raise ValidationError(problem)
        return text


class Name(fields.String):
    """A name: one line, at least one letter or digit, no control or bidi override
    characters (a name of zero-width spaces, or one that displays as another, is
    no name)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = name_problem(text)
        if problem:
            raise ValidationError(problem)
        return text


class Upload(fields.Field):
    """A file part of a multipart/form-data body (werkzeug's FileStorage), not a
    plain form field of the same name."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not (hasattr(value, "save") and hasattr(value, "filename")):
            raise ValidationError("Send a file (a part with a filename), not a text field.")
        return value


class StrictDate(fields.Date):
    """A full ISO date (YYYY-MM-DD) whose message names the expected form."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own pattern
        "invalid": "Not a valid date: use YYYY-MM-DD.",
    }


class Instant(fields.String):
    """A point in time for as-of reads: YYYY-MM-DD (the end of that day, UTC) or
    an ISO 8601 date-time (UTC when no offset is given). Loads as the registry's
    timestamp form, YYYY-MM-DDTHH:MM:SS.ffffffZ."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own pattern
        "invalid_instant": "Not a date or date-time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            if len(text) == 10:
                moment = dt.datetime.combine(
                    dt.date.fromisoformat(text), dt.time.max, tzinfo=dt.UTC
                )
            else:
                moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=dt.UTC)
        except ValueError:
            raise self.make_error("invalid_instant") from None
        if moment.year < 1900:
            raise self.make_error("invalid_instant")
        try:
            # 9999-12-31T23:59:59-01:00 is past the last representable UTC instant.
            moment = moment.astimezone(dt.UTC)
        except OverflowError:
            raise self.make_error("invalid_instant") from None
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
