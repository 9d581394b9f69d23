"""Evidence shown to a person: quoted words found inside their source document.

A quote matches its source's text verbatim but for runs of whitespace (the
loader checks exactly that), so the search here allows any whitespace between
the quote's words and returns character spans of the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# ISO 15924 codes the registry records for names, in words.
SCRIPTS = {
    "Latn": "Latin",
    "Cyrl": "Cyrillic",
    "Hani": "Chinese",
    "Hans": "Chinese (simplified)",
    "Hant": "Chinese (traditional)",
    "Arab": "Arabic",
    "Hebr": "Hebrew",
    "Grek": "Greek",
    "Hang": "Korean",
    "Kore": "Korean",
    "Jpan": "Japanese",
    "Hira": "Japanese (hiragana)",
    "Kana": "Japanese (katakana)",
    "Thai": "Thai",
    "Geor": "Georgian",
    "Armn": "Armenian",
    "Deva": "Devanagari",
    "Ethi": "Ethiopic",
    "Zyyy": "Common (digits and signs)",
}


def script_name(code: str | None) -> str:
    if not code:
        return "Unknown script"
    return SCRIPTS.get(code, code)


@dataclass(frozen=True)
class Piece:
    text: str
    marked: bool
    start: int = 0  # offset in the whole text (anchors on the document page)


def quote_pattern(quote: str) -> re.Pattern[str] | None:
    words = quote.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def quote_spans(text: str, quotes: Iterable[str]) -> list[tuple[int, int]]:
    """Where each quote stands in the text (first occurrence), merged and sorted."""
    spans = []
    for quote in quotes:
        pattern = quote_pattern(quote)
        found = pattern.search(text) if pattern else None
        if found:
            spans.append((found.start(), found.end()))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def marked_pieces(text: str, spans: list[tuple[int, int]]) -> list[Piece]:
    """The text cut into plain and marked pieces."""
    out, at = [], 0
    for start, end in spans:
        if start > at:
            out.append(Piece(text[at:start], False, at))
        out.append(Piece(text[start:end], True, start))
        at = end
    if at < len(text):
        out.append(Piece(text[at:], False, at))
    return out


def in_context(text: str, quote: str, around: int = 240) -> list[Piece] | None:
    """The quote marked inside the paragraph-sized stretch of text around it;
    None when the text does not hold it."""
    spans = quote_spans(text, [quote])
    if not spans:
        return None
    start, end = spans[0]
    lo = max(0, start - around)
    hi = min(len(text), end + around)
    # Cut at whitespace, so no word is shown halved.
    if lo > 0:
        space = text.find(" ", lo)
        lo = space + 1 if 0 <= space < start else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space > end else hi
    pieces = marked_pieces(text[lo:hi], [(start - lo, end - lo)])
    if lo > 0:
        pieces.insert(0, Piece("… ", False))
    if hi < len(text):
        pieces.append(Piece(" …", False))
    return pieces


def row_cells(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An official list row as published, field by field, for a table."""
    cells = []
    for key, value in row.items():
        if value is None or value == "" or value == []:
            shown = "—"
        elif isinstance(value, list):
            shown = "; ".join(str(v) for v in value)
        elif isinstance(value, dict):
            shown = "; ".join(f"{k}: {v}" for k, v in value.items())
        else:
            shown = str(value)
        cells.append((str(key), shown))
    return cells
