"""Shared loaders and a seeded variant generator for the benchmarks.

Data paths default to ``../shared/data`` next to the repository root, so the
benches work from any clone that has ../shared beside it.
"""

from __future__ import annotations

import csv
import gc
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from registry.matching import NameIndex

from .paths import SHARED_DATA

DATA = SHARED_DATA
OFAC_JSON = DATA / "ofac_sdn_kindrat86" / "ofac-sdn.json"
UK_NAMES = DATA / "uk_covyr" / "subject_names.csv"
UK_SUBJECTS = DATA / "uk_covyr" / "subjects.csv"
EU_UN_JSON = DATA / "eu_un_pakote" / "all.json"

OFAC_TYPES = {
    "individual": "person",
    "entity": "organization",
    "vessel": "vessel",
    "aircraft": "aircraft",
}
UK_TYPES = {"individual": "person", "entity": "organization", "ship": "vessel"}


@dataclass(frozen=True)
class Listed:
    entity_id: str
    name: str
    name_kind: str
    entity_type: str


def load_ofac(path: Path = OFAC_JSON) -> list[Listed]:
    entries = json.loads(path.read_text(encoding="utf-8"))["entries"]
    out = []
    for rec in entries:
        etype = OFAC_TYPES.get(rec.get("type", ""), "unknown")
        uid = str(rec["uid"])
        out.append(Listed(uid, rec["name"], "primary", etype))
        out.extend(Listed(uid, alt, "alias", etype) for alt in rec.get("alternateNames") or [])
    return out


def build_index(listed: list[Listed]) -> NameIndex:
    index = NameIndex()
    with index.bulk():
        for item in listed:
            index.add(
                item.entity_id, item.name, name_kind=item.name_kind, entity_type=item.entity_type
            )
    return index


class CollectorClock:
    """CPU seconds spent in the garbage collector since the clock started (a
    callback around each collection), to tell a name's own work from a pause the
    collector took while that name was screened."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._since = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._since = time.process_time()
        else:
            self.seconds += time.process_time() - self._since

    def stop(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)


def hold_as_served() -> Callable[[], None]:
    """Hold what is alive now (the built index, the benchmark's own lists) as a
    serving process holds its index, and run the collector as it does
    (`registry.screen_index.GcKeeper`: young collections every GC_YOUNG
    allocations, survivors frozen once they pass GC_FREEZE_ABOVE). Without the
    keeper, the query caches and the benchmark's data pile up in the oldest
    generation and each full collection over them (100-400 ms of CPU) lands on
    some name's time: not what a served name pays. Returns the undo."""
    from registry.screen_index import GcKeeper

    gc.collect()
    gc.freeze()
    keeper = GcKeeper()
    keeper.start()
    threshold = gc.get_threshold()

    def undo() -> None:
        keeper.stop()
        gc.set_threshold(*threshold)
        gc.unfreeze()
        gc.collect()

    return undo


def load_uk(names: Path = UK_NAMES, subjects: Path = UK_SUBJECTS) -> list[Listed]:
    """UK sanctions list names (Latin script only in this extract)."""
    with subjects.open(newline="", encoding="utf-8") as fh:
        types = {
            r["unique_id"]: UK_TYPES.get(r["subject_type"], "unknown") for r in csv.DictReader(fh)
        }
    out = []
    with names.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = (row.get("full_name") or "").strip()
            if name:
                uid = row["unique_id"]
                out.append(Listed(uid, name, row["name_type"], types.get(uid, "unknown")))
    return out


EU_UN_TYPES = {"individual": "person", "entity": "organization", "vessel": "vessel"}


def load_eu_un(path: Path = EU_UN_JSON) -> list[Listed]:
    """EU and UN consolidated list names (primary names and aliases)."""
    out = []
    for k, rec in enumerate(json.loads(path.read_text(encoding="utf-8"))["entities"]):
        etype = EU_UN_TYPES.get(rec.get("type", ""), "unknown")
        uid = f"eu-un-{rec.get('source_id') or k}-{k}"
        if rec.get("name"):
            out.append(Listed(uid, rec["name"], "primary", etype))
        out.extend(Listed(uid, alt, "alias", etype) for alt in rec.get("aliases") or [] if alt)
    return out


def large_list(n: int, seed: int = 1) -> list[Listed]:
    """`n` names for build and load timings: the OFAC SDN, UK and EU/UN lists, then
    (seeded) variants of their names as further entities, as when one person is
    listed several times under different spellings."""
    base = load_ofac() + load_uk() + load_eu_un()
    out = base[:n]
    rng = random.Random(seed)
    k = 0
    while len(out) < n:
        item = rng.choice(base)
        name = make_variant(rng, item, rng.choice(VARIANT_KINDS))
        out.append(Listed(f"variant-{k}", name, "primary", item.entity_type))
        k += 1
    return out


def uk_person_parts(names: Path = UK_NAMES, subjects: Path = UK_SUBJECTS) -> list[tuple[str, str]]:
    """(first given name, family name) of UK-listed people, for synthetic recombination."""
    with subjects.open(newline="", encoding="utf-8") as fh:
        people = {r["unique_id"] for r in csv.DictReader(fh) if r["subject_type"] == "individual"}
    out = []
    with names.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["unique_id"] in people and row["name_1"] and row["name_6"]:
                out.append((row["name_1"].strip(), row["name_6"].strip()))
    return out


# --- variants ---------------------------------------------------------------

_CYRILLIC = {
    "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и", "k": "к",
    "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "u": "у",
    "f": "ф", "h": "х", "c": "к", "y": "ы", "j": "й", "w": "в", "x": "кс", "q": "к",
}  # fmt: skip
_DIGRAPHS = {"sh": "ш", "ch": "ч", "zh": "ж", "kh": "х", "ts": "ц", "ya": "я", "yu": "ю"}
_LOOKALIKE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
_LEGAL_SWAPS = [
    ("LIMITED", "LTD"), ("LTD", "LIMITED"), ("CO., LTD.", "COMPANY LIMITED"),
    ("COMPANY LIMITED", "CO LTD"), ("LLC", "LIMITED LIABILITY COMPANY"),
    ("LIMITED LIABILITY COMPANY", "LLC"), ("JSC", "JOINT STOCK COMPANY"),
    ("JOINT STOCK COMPANY", "JSC"), ("CORPORATION", "CORP"), ("INC", "INCORPORATED"),
    ("OOO", "LLC"), ("GMBH", "GESELLSCHAFT MIT BESCHRANKTER HAFTUNG"),
]  # fmt: skip
_FORMS = ["LTD", "LIMITED", "LLC", "CO., LTD.", "JSC", "INC", "GMBH", "S.A."]
_TITLES = ["Mr", "Dr", "Sheikh", "General", "Haji"]


def _typo(rng: random.Random, text: str) -> str:
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 5]
    if not long_words:
        return text
    i = rng.choice(long_words)
    w = words[i]
    k = rng.randrange(1, len(w) - 1)
    op = rng.randrange(4)
    if op == 0:
        w = w[:k] + w[k + 1 :]
    elif op == 1:
        w = w[:k] + rng.choice("aeiourstnl") + w[k:]
    elif op == 2:
        w = w[:k] + rng.choice("aeiourstnl") + w[k + 1 :]
    else:
        w = w[: k - 1] + w[k] + w[k - 1] + w[k + 1 :]
    words[i] = w
    return " ".join(words)


def _reorder(rng: random.Random, text: str, person: bool) -> str:
    if "," in text and person:
        head, tail = text.split(",", 1)
        return f"{tail.strip()} {head.strip()}"
    words = text.replace(",", "").split()
    if len(words) < 2:
        return text
    if person:
        return " ".join(words[-1:] + words[:-1])
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _legal(rng: random.Random, text: str) -> str:
    upper = text.upper()
    for old, new in _LEGAL_SWAPS:
        if upper.endswith(" " + old) or upper.endswith("," + old):
            return text[: len(text) - len(old)] + new
    return f"{text} {rng.choice(_FORMS)}"


def _to_cyrillic(text: str) -> str:
    out = []
    low = text.lower()
    i = 0
    while i < len(low):
        pair = low[i : i + 2]
        if pair in _DIGRAPHS:
            out.append(_DIGRAPHS[pair])
            i += 2
            continue
        out.append(_CYRILLIC.get(low[i], low[i]))
        i += 1
    return "".join(out)


def _lookalike(rng: random.Random, text: str) -> str:
    chars = list(text)
    spots = [i for i, c in enumerate(chars) if c.lower() in _LOOKALIKE]
    for i in rng.sample(spots, min(len(spots), rng.randint(1, 3))):
        c = chars[i]
        sub = _LOOKALIKE[c.lower()]
        chars[i] = sub.upper() if c.isupper() else sub
    return "".join(chars)


VARIANT_KINDS = (
    "typo", "reorder", "legal_form", "case", "transliteration", "lookalike", "zero_width",
    "title", "typo+reorder",
)  # fmt: skip


def make_variant(rng: random.Random, item: Listed, kind: str) -> str:
    person = item.entity_type == "person"
    text = item.name
    if kind == "typo":
        return _typo(rng, text)
    if kind == "reorder":
        return _reorder(rng, text, person)
    if kind == "legal_form":
        return _legal(rng, text) if not person else _reorder(rng, text, person)
    if kind == "case":
        return rng.choice([text.lower(), text.upper(), text.title()])
    if kind == "transliteration":
        return _to_cyrillic(text.replace(",", "")) if person else _lookalike(rng, text)
    if kind == "lookalike":
        return _lookalike(rng, text)
    if kind == "zero_width":
        k = rng.randrange(1, max(2, len(text)))
        return text[:k] + rng.choice(["\u200b", "\u200d", "\u00ad", "\ufeff"]) + text[k:]
    if kind == "title":
        return f"{rng.choice(_TITLES)} {text}" if person else _legal(rng, text)
    return _reorder(rng, _typo(rng, text), person)


def variants(rng: random.Random, listed: list[Listed], n: int) -> Iterator[tuple[str, Listed, str]]:
    """n seeded (query, source, kind) variants of listed names (at least 2 words)."""
    pool = [x for x in listed if len(x.name.split()) >= 2]
    for _ in range(n):
        item = rng.choice(pool)
        kind = rng.choice(VARIANT_KINDS)
        yield make_variant(rng, item, kind), item, kind
