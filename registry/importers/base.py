"""What every list parser shares: the result type, warnings, ids, sources and
record clean-up.

Parsers are pure: they read files and return record documents in the shape of
`schemas.EntitySchema`; they never touch the database or Flask.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyascii import anyascii

from registry.names import detect_script

Progress = Callable[[int, int | None], None]
Doc = dict[str, Any]

PROGRESS_EVERY = 1_000
MAX_ID = 128
_MAX_RECORD_KEY = 80  # leaves room for "<dataset>:" before and ":<designation>" after


@dataclass(frozen=True)
class ParseWarning:
    """A malformed row or record: where it is and what is wrong with it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class ImportFormatError(ValueError):
    """A file is not of the format asked for, or (strict mode) holds malformed rows."""

    def __init__(self, message: str, problems: Sequence[ParseWarning] = ()) -> None:
        self.problems = list(problems)
        if self.problems:
            shown = "\n".join(f"  {p}" for p in self.problems[:20])
            more = len(self.problems) - 20
            message = f"{message}\n{shown}" + (f"\n  ... and {more} more" if more > 0 else "")
        super().__init__(message)


@dataclass
class ParsedList:
    """One parsed official list: its files as sources, its records and what went wrong."""

    format: str
    dataset: str
    sources: list[Doc]
    records: list[Doc]
    snapshot_date: str | None
    warnings: list[ParseWarning] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


class Run:
    """The state of one parse: strictness, warnings, counters and progress."""

    def __init__(self, fmt: str, *, strict: bool, progress: Progress | None) -> None:
        self.format = fmt
        self.strict = strict
        self.progress = progress
        self.warnings: list[ParseWarning] = []
        self.stats: Counter[str] = Counter()
        self._done = 0
        self._total: int | None = None

    def warn(self, file: str, line: int | None, message: str, *, skipped: bool = True) -> None:
        """Record a malformed row; in strict mode the parse fails at the end with all of them."""
        self.warnings.append(ParseWarning(file, line, message))
        if skipped:
            self.stats["skipped"] += 1

    def expect(self, total: int | None) -> None:
        """Announce how many rows are coming (None when unknown, as for CSV)."""
        self._total = total

    def tick(self, rows: int = 1) -> None:
        before = self._done
        self._done += rows
        self.stats["rows"] += rows
        if self.progress and self._done // PROGRESS_EVERY != before // PROGRESS_EVERY:
            self.progress(self._done, self._total)

    def finish(self) -> None:
        if self.progress:
            self.progress(self._done, self._total if self._total is not None else self._done)


# --- files -----------------------------------------------------------------------------------


def expand_paths(paths: Iterable[Path | str], suffixes: tuple[str, ...]) -> list[Path]:
    """Files as given; a folder stands for its files with one of `suffixes`, in name order."""
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            out.extend(
                sorted(
                    p
                    for p in path.iterdir()
                    if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes
                )
            )
        elif path.is_file():
            out.append(path)
        else:
            raise ImportFormatError(f"{path}: no such file or folder.")
    if not out:
        raise ImportFormatError("No input files given.")
    return out


@dataclass
class InputFile:
    """A file read whole: its bytes, checksum and source document."""

    path: Path
    data: bytes
    sha256: str

    @classmethod
    def read(cls, path: Path) -> InputFile:
        data = path.read_bytes()
        return cls(path, data, hashlib.sha256(data).hexdigest())

    @property
    def name(self) -> str:
        return self.path.name

    def text(self, encoding: str) -> str:
        try:
            text = self.data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{self.name}: not {encoding} text (byte {exc.start}): is this the right file?"
            ) from None
        return text.removeprefix("\ufeff")

    def source(
        self,
        dataset: str,
        *,
        title: str,
        publisher: str,
        url: str,
        published: str | None = None,
        published_as_stated: str | None = None,
        notes: str | None = None,
        language: str = "en",
    ) -> Doc:
        """A SourceSchema-shaped document describing this file."""
        doc: Doc = {
            "id": make_id(f"{dataset}:{self.name}:{self.sha256[:12]}"),
            "kind": "official_list",
            "title": title,
            "publisher": publisher,
            "url": url,
            "language": language,
            "published": published,
            "published_as_stated": published_as_stated,
            "checksum": f"sha256:{self.sha256}",
            "size": len(self.data),
            "notes": f"File {self.name}." + (f" {notes}" if notes else ""),
        }
        return doc


# --- ids -------------------------------------------------------------------------------------

_NOT_ID = re.compile(r"[^a-z0-9._:-]+")
_DASHES = re.compile(r"-{2,}")
_FILE_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


_ID_SAFE = re.compile(r"^[a-z0-9][a-z0-9._:]*(?:-[a-z0-9._:]+)*$")


def slug(text: str) -> str:
    """Lower-case id text: ASCII, runs of other characters as one '-'."""
    if _ID_SAFE.match(text):
        return text.rstrip(".:_")
    ascii_text = text if text.isascii() else anyascii(text)
    out = _NOT_ID.sub("-", ascii_text.lower())
    return _DASHES.sub("-", out).strip("-.:_")


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{text[: limit - 9].rstrip('-.:_')}-{digest}"


def make_id(text: str) -> str:
    """A valid registry id from any text (over-long ids keep a hash of the rest)."""
    return _shorten(slug(text), MAX_ID) or hashlib.sha1(text.encode()).hexdigest()[:12]


def record_id(dataset: str, key: str) -> str:
    """`dataset:key`, lower-cased, stable for the same key."""
    return f"{dataset}:{_shorten(slug(key), _MAX_RECORD_KEY)}"


def designation_id(rid: str, short: str) -> str:
    return _shorten(f"{rid}:{slug(short)}", MAX_ID)


def date_from_name(name: str) -> str | None:
    """The ISO date a file name carries (`sdn_2024-02-23.csv`), if a valid one."""
    match = _FILE_DATE.search(name)
    return iso_date(*match.groups()) if match else None


# --- dates -----------------------------------------------------------------------------------

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def iso_date(year: str | int, month: str | int, day: str | int) -> str | None:
    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except (TypeError, ValueError):
        return None


_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
_DMY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def parse_iso(text: str | None) -> str | None:
    """`2012-12-31` (a time part may follow) -> `2012-12-31`; anything else -> None."""
    match = _ISO.match(text or "")
    return iso_date(*match.groups()) if match else None


def parse_dmy(text: str | None) -> str | None:
    """`22/02/2024` -> `2024-02-22`."""
    match = _DMY.match(text or "")
    return iso_date(match.group(3), match.group(2), match.group(1)) if match else None


def parse_us_short(month: str, day: str, year: str) -> str | None:
    """`2/27/24` -> `2024-02-27` (two-digit years: 50-99 are 19xx)."""
    y = int(year)
    if y < 100:
        y += 1900 if y >= 50 else 2000
    return iso_date(y, month, day)


# --- dates of birth --------------------------------------------------------------------------

# "circa 1952" is read as 1950/1954: a list that says circa does not know the year.
CIRCA_YEARS = 2
_MONTH_NAMES = {
    **_MONTHS,
    **{
        name: i
        for i, name in enumerate(
            (
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ),
            1,
        )
    },
    "sept": 9,
}
_ISO_PARTIAL = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2}) ([A-Za-z]{3,9})\.? ([0-9]{4})")
_MONTH_YEAR = re.compile(r"([A-Za-z]{3,9})\.? ([0-9]{4})")
_YEARS = re.compile(r"([0-9]{4}) ?- ?([0-9]{4})")
_RANGE = re.compile(r"(.+?) (?:to|-) (.+)")
_CIRCA = re.compile(r"(?:circa|approximately|approx\.|about|ca\.|c\.) ?(.+)", re.IGNORECASE)


def partial_date(
    year: str | int, month: str | int | None = None, day: str | int | None = None
) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD from what a list gives, None if not a date (a month
    without a valid day gives the month, a year without a valid month the year)."""
    try:
        y = int(year)
    except (TypeError, ValueError):
        return None
    if not 1000 <= y <= 2999:
        return None
    try:
        m = int(month) if month not in (None, "") else None
    except (TypeError, ValueError):
        m = None
    if m is None or not 1 <= m <= 12:
        return f"{y:04d}"
    if day not in (None, ""):
        full = iso_date(y, m, day)
        if full:
            return full
    return f"{y:04d}-{m:02d}"


def _one_date(text: str) -> str | None:
    """One partial date: 1962-03-05, 1962-03, 1962, 05 Mar 1962, Mar 1962, March 1962."""
    if match := _ISO_PARTIAL.fullmatch(text):
        date = partial_date(*match.groups())
        precision = len([g for g in match.groups() if g])
        return date if date and date.count("-") + 1 == precision else None
    if match := _DAY_MONTH_YEAR.fullmatch(text):
        month = _MONTH_NAMES.get(match[2].lower())
        return iso_date(match[3], month, match[1]) if month else None
    if match := _MONTH_YEAR.fullmatch(text):
        month = _MONTH_NAMES.get(match[1].lower())
        return partial_date(match[2], month) if month else None
    return None


def _span(start: str, end: str) -> str | None:
    if start == end:
        return start
    return f"{start}/{end}" if start[:4] <= end[:4] and start < end else None


def circa(year: int, last: int | None = None) -> str:
    """The range a list means by "circa YEAR" (or "circa YEAR-LAST")."""
    return f"{year - CIRCA_YEARS}/{(last or year) + CIRCA_YEARS}"


def birth_date(text: str | None) -> str | None:
    """A date of birth as a list writes it -> the registry's form (see
    schemas.fields.parse_birth_date): "10 Dec 1948" -> 1948-12-10, "Aug 1946" ->
    1946-08, "1951 to 1953" -> 1951/1953, "circa 1951" -> 1949/1953. None when it
    is none of these (the evidence row keeps the words)."""
    text = " ".join((text or "").split()).strip(" .;,")
    if not text:
        return None
    if match := _CIRCA.fullmatch(text):
        inner = match[1].strip(" .")
        if years := _YEARS.fullmatch(inner):
            return circa(int(years[1]), int(years[2])) if years[1] <= years[2] else None
        date = birth_date(inner)
        if date is None:
            return None
        first, _, last = date.partition("/")
        return circa(int(first[:4]), int((last or first)[:4]))
    if years := _YEARS.fullmatch(text):
        return _span(years[1], years[2])
    if match := _RANGE.fullmatch(text):
        start, end = _one_date(match[1].strip(" .")), _one_date(match[2].strip(" ."))
        return _span(start, end) if start and end else None
    return _one_date(text)


# --- names -----------------------------------------------------------------------------------

# Languages that a script alone tells; Cyrillic and Arabic are written in several.
_LANG_BY_SCRIPT = {
    "Hani": "zh",
    "Hang": "ko",
    "Jpan": "ja",
    "Grek": "el",
    "Hebr": "he",
    "Geor": "ka",
    "Armn": "hy",
    "Thai": "th",
}


def alias(name: str, kind: str = "aka", source: str | None = None) -> Doc | None:
    """A name document; non-Latin names become other_script with their language when the
    script tells it. Empty names give None."""
    name = " ".join(name.split())
    if not name:
        return None
    doc: Doc = {"name": name, "kind": kind}
    if not name.isascii():
        script = detect_script(name)
        if script and script not in ("Latn", "Zyyy"):
            doc["kind"] = "other_script"
            doc["script"] = script
            lang = _LANG_BY_SCRIPT.get(script)
            if lang:
                doc["lang"] = lang
    if source:
        doc["source"] = source
    return doc


# --- entity types ----------------------------------------------------------------------------

# Words that make a subject an organisation even when it also says "group" or "company".
_STRONG_ORG = re.compile(
    r"\b(ministry|army|brigades?|battalions?|front|movement|party|militia|navy|police|"
    r"guards?|forces|regiment|directorate|government|taliban|al-qaida|al-qa'ida|qaida|"
    r"hizballah|hezbollah|jihad|mujahidin|mujahideen|ansar|jamaat|jemaah|lashkar|tehrik|"
    r"hamas|isil|isis|da'esh|cartel|gang|clan)\b",
    re.IGNORECASE,
)
_COMPANY_WORDS = re.compile(
    r"(\b(ltd|limited|llc|llp|inc|incorporated|corp|corporation|co|company|companies|gmbh|ag|"
    r"sas|sarl|srl|bv|nv|plc|pte|pvt|sdn|bhd|jsc|ojsc|cjsc|pjsc|oao|ooo|zao|pao|ao|tov|fze|"
    r"fzc|fzco|dmcc|establishment|group|holdings?|trading|enterprises?|industries|industrial|"
    r"technology|technologies|electronics?|bank|airlines?|shipping|logistics|factory|plant|"
    r"kft|oy|spa|lda|ltda|sirketi|ticaret|anonim|mmc|uab|doo|kabushiki|shipyard|"
    r"refinery|petroleum|oil|gas|exchange|investments?|capital|partners)\b)|"
    r"(\b(l\.l\.c|s\.a|s\.r\.l|b\.v|n\.v|s\.p\.a|s\.a\.s|d\.o\.o|k\.k|a/s)\.?(\W|$))",
    re.IGNORECASE,
)
_ORG_WORDS = re.compile(
    r"\b(network|organi[sz]ation|foundation|charity|charitable|university|institute|academy|"
    r"committee|council|agency|administration|service|federation|association|society|union|"
    r"center|centre|commission|bureau|school|college|hospital|mosque|church|group)\b",
    re.IGNORECASE,
)


def entity_type(name: str, *, default: str = "company") -> str:
    """company or organisation for a subject a list calls an 'entity'; `default` when the
    name says neither (use "unknown" for lists that do not say entity or person)."""
    if _STRONG_ORG.search(name):
        return "organisation"
    if _COMPANY_WORDS.search(name):
        return "company"
    if _ORG_WORDS.search(name):
        return "organisation"
    return default


# --- records ---------------------------------------------------------------------------------

LIMITS = {"name": 500, "identifier": 200, "address": 2_000, "city": 200, "postal_code": 50}


def _drop_empty(doc: Doc) -> Doc:
    # every value in these documents is a string, a list, a dict or None: falsy = empty
    return {k: v for k, v in doc.items() if v}


def clean(doc: Doc) -> Doc:
    """Drop None, empty strings and empty lists from a record document, its addresses
    and designations (names, identifiers and evidence items are built without them;
    evidence rows are left as published)."""
    out = _drop_empty(doc)
    if "addresses" in out:
        out["addresses"] = [_drop_empty(item) for item in out["addresses"]]
    if "designations" in out:
        out["designations"] = [_drop_empty(d) for d in out["designations"]]
    return out


def clip(text: str | None, limit: int) -> str | None:
    """Text within a schema limit; longer text is cut at a word boundary with an ellipsis."""
    if text is None:
        return None
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def finish_record(doc: Doc, stats: Counter[str]) -> Doc:
    """Deduplicate names, identifiers and addresses, enforce schema limits, drop empties,
    and count what the record holds."""
    primary = doc["name"]
    names: list[Doc] = []
    seen_names = {primary}
    for item in doc.get("names") or []:
        if item is None:
            continue
        if item["name"] in seen_names:
            stats["duplicate_names"] += 1
            continue
        if len(item["name"]) > LIMITS["name"]:
            stats["names_too_long"] += 1
            continue
        seen_names.add(item["name"])
        names.append(item)
    doc["names"] = names

    identifiers: list[Doc] = []
    seen_ids: set[tuple[str, str, str | None]] = set()
    for item in doc.get("identifiers") or []:
        if item is None:
            continue
        value = item["value"].strip()
        if not value or len(value) > LIMITS["identifier"]:
            continue
        item["value"] = value
        key = (item["scheme"], value, item.get("country"))
        if key in seen_ids:
            continue
        seen_ids.add(key)
        identifiers.append(item)
    doc["identifiers"] = identifiers

    addresses: list[Doc] = []
    seen_addresses: set[str] = set()
    for item in doc.get("addresses") or []:
        if item is None or not item.get("full") or item["full"] in seen_addresses:
            continue
        seen_addresses.add(item["full"])
        item["full"] = clip(item["full"], LIMITS["address"])
        for part in ("city", "region", "street"):
            if item.get(part) and len(item[part]) > LIMITS["city"]:
                item[part] = None
        if item.get("postal_code") and len(item["postal_code"]) > LIMITS["postal_code"]:
            item["postal_code"] = None
        addresses.append(item)
    doc["addresses"] = addresses

    for part in ("birth_dates", "nationalities"):
        if doc.get(part):
            doc[part] = list(dict.fromkeys(doc[part]))
    doc = clean(doc)
    stats["records"] += 1
    stats["names"] += 1 + len(doc.get("names", ()))
    stats["aliases"] += len(doc.get("names", ()))
    stats["identifiers"] += len(doc.get("identifiers", ()))
    stats["addresses"] += len(doc.get("addresses", ()))
    stats["designations"] += len(doc.get("designations", ()))
    stats["birth_dates"] += len(doc.get("birth_dates", ()))
    stats["nationalities"] += len(doc.get("nationalities", ()))
    return doc


def single(values: Iterable[str | None]) -> str | None:
    """The one value of a collection when there is exactly one distinct (non-empty) value."""
    distinct = {v for v in values if v}
    return distinct.pop() if len(distinct) == 1 else None


def one_file(files: list[Path], format_name: str, what: str) -> InputFile:
    """The single file a format reads, or a clear error naming what it wants."""
    if len(files) != 1:
        raise ImportFormatError(f"{format_name} takes one {what} file; got {len(files)}.")
    return InputFile.read(files[0])


def load_json(file: InputFile, expected: str) -> Any:
    """The file's JSON, or an error naming the line and what was expected."""
    try:
        return json.loads(file.text("utf-8"))
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            f"{file.name}:{exc.lineno}: not JSON ({exc.msg}); expected {expected}."
        ) from None
