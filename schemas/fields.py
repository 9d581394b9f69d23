"""Custom marshmallow fields shared by the fixture and API schemas."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from marshmallow import ValidationError, fields

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
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
