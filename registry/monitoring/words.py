"""Book words: what retrieval needs of each record's name, stored once at load.

Delta screening asks which of a book's records could match one of the few hundred
entities a write changed. Analysing every record's name for that (normalising,
tokens, keys) costs as much as the rest of the run together, and the answer for
most records is "none". So the analysis is done once, when a record is loaded
(it is screened then anyway): `NameIndex.query_plans` gives every retrieval key
`screen` looks up for the record's name and type, and which branch of
`_candidates` the record's threshold takes (a multi-word name whose words are
each too small a part of it needs two of its words in one listed name). The
distinct keys are stored once (`book_words`, by 64 bits of their hash: no lookup
to give a key its id), and per record its key ids and plans with the hash of its
fields (`book_record_words`): a
replaced record's row is stale and is recomputed. They depend only on the
matcher's code and the book screening floor: when either changes
(`words_build`), every stored key is dropped and recomputed.

At delta time each distinct key is looked up once in the small index of the
changed entities (`NameIndex.key_reach`: the names it retrieves; it leaves the
query caches alone). Records none of whose keys reaches a name are passed over
unread; the others' plans are evaluated against what their keys reach
(`NameIndex.plan_may_retrieve`), and only those that may have a candidate are
screened (`hit_records`), through exactly the `screen` of
`delta.screen_records`.

Why a record skipped this way cannot be matched by `screen` against the small
index (`tests/test_monitoring.py::test_book_words_skip_only_what_screen_cannot_match`
checks it name by name, and that a delta run gives the same alerts with and
without the skip):
- `screening.screen` finds matches by name only through the view's
  `NameIndex.screen`, and by identifier number through `score_entities`. Records
  with an identifier number are never skipped.
- `NameIndex.screen` scores only the candidates `_candidates` returns for each
  form of the name (`alternatives`) analysed under the schema of the record's
  type, and `_candidates` takes names only from the names of the comparable words
  (`_word(...).names` and `.dominant`), of the joined pairs (`qa.joins`) and of
  `_specials`: exactly the keys `query_plans` returns. If none of them reaches a
  name, the candidate set is empty and so is the answer. Otherwise the plan says
  which union `_candidates` takes (dominated names; any name of a distinctive
  word; or names shared by two words, or a repeated word's), decided by the
  analysed name and the threshold `screen` uses for the record (the floor, lower
  with a date of birth or nationality) alone; `plan_may_retrieve` says False only
  when that union is empty. Country and type filters only remove candidates.
- A record whose stored words are missing or stale (its hash differs), or that
  holds a key id two keys share (`collided`), is not skipped.
- Records that matched a changed entity before are screened anyway (the caller
  adds them: a match that is gone is a `removed` alert).
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from .. import matching
from ..db import immediate
from ..matching import NameIndex
from ..matching.evidence import MAX_RAISE_WITHOUT_IDENTIFIER
from .delta import OPTIONS

#: The layout of the stored keys (bump when it changes, or when `query_plans`'
#: meaning changes without a change of the matcher's sources).
FORMAT = 1
CHUNK = 2_000
_BUILD_KEY = "book_words_build"
_build: str | None = None
#: `query_plans` reads no index state; any instance answers.
_KEYS = NameIndex()

Key = tuple[str, str, str, str]
Plan = tuple[int, list[tuple[Key, bool, bool]], list[Key]]


def words_build() -> str:
    """What stored plans were computed by: the matcher's sources, the data files
    and libraries its analysis reads (transliteration, pinyin), the book screening
    floor and FORMAT."""
    global _build
    if _build is None:
        digest = hashlib.sha256(f"{FORMAT} {OPTIONS.floor!r}".encode())
        here = Path(matching.__file__).resolve().parent
        for source in [*sorted(here.glob("*.py")), *sorted((here.parent / "data").glob("*.json"))]:
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
        for package in ("anyascii", "pypinyin", "rapidfuzz"):
            try:
                digest.update(f"{package} {metadata.version(package)}".encode())
            except metadata.PackageNotFoundError:
                digest.update(f"{package} -".encode())
        _build = digest.hexdigest()[:32]
    return _build


def encode(key: Key) -> str:
    text = "\x1f".join(key)
    if text.count("\x1f") != 3:  # (a separator within a part: JSON)
        return "\x1e" + orjson.dumps(key).decode()
    return text


def decode(text: str) -> Key:
    if text.startswith("\x1e"):
        a, b, c, d = orjson.loads(text[1:])
        return (a, b, c, d)
    a, b, c, d = text.split("\x1f")
    return (a, b, c, d)


def word_id(text: str) -> int:
    """A key's id: 64 bits of its hash (no lookup to assign one; two keys with the
    same id are marked `collided`, and a record holding such an id is never
    passed over)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def threshold_of(record: Mapping[str, Any]) -> float:
    """The threshold `screening.screen` asks the index for this record (see may_match)."""
    lift = MAX_RAISE_WITHOUT_IDENTIFIER if record.get("dob") or record.get("nationality") else 0.0
    return max(0.0, OPTIONS.floor - lift)


def record_plans(record: Mapping[str, Any]) -> list[Plan]:
    """The retrieval plans of a record's name (as `screen` reads it)."""
    return _KEYS.query_plans(record["name"], record.get("type") or None, threshold_of(record))


def _plan_keys(plans: list[Plan]) -> set[str]:
    return {encode(k) for _, words, others in plans for k in [*(w[0] for w in words), *others]}


def _pack_plans(plans: list[Plan], ids: Mapping[str, int]) -> bytes:
    """[count, then per plan: mode, n, n (word id, distinctive, repeated), m, m ids]."""
    out = [len(plans)]
    for mode, words, others in plans:
        out.append(mode)
        out.append(len(words))
        for key, dist, rep in words:
            out += [ids[encode(key)], dist << 1 | rep]
        out.append(len(others))
        out += [ids[encode(key)] for key in others]
    return _pack(out, sort=False)


def _pack(ids: Iterable[int], sort: bool = True) -> bytes:
    packed = array("q", sorted(ids) if sort else ids)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def _unpack(blob: bytes) -> array[int]:
    ids = array("q", blob)
    if sys.byteorder != "little":
        ids.byteswap()
    return ids


def check_build(db: sqlite_utils.Database) -> None:
    """Inside a write transaction: drop every stored key if the matcher changed."""
    build = words_build()
    row = db.conn.execute("SELECT value FROM monitor_state WHERE key = ?", (_BUILD_KEY,)).fetchone()
    if row is not None and row[0] == build:
        return
    db.conn.execute("DELETE FROM book_record_words")
    db.conn.execute("DELETE FROM book_words")
    db.conn.execute(
        "INSERT INTO monitor_state (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (_BUILD_KEY, build),
    )


def _store_words(db: sqlite_utils.Database, keys: set[str]) -> dict[str, int]:
    ids = {key: word_id(key) for key in keys}
    db.conn.executemany(
        "INSERT INTO book_words (id, key) VALUES (?, ?) ON CONFLICT (id) DO UPDATE "
        "SET collided = 1 WHERE key != excluded.key",
        sorted((i, key) for key, i in ids.items()),  # (in id order: each page once)
    )
    return ids


def plan(records: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, list[Plan]]]:
    """(id, hash, plans) of records (each with its id, name, type, dob, nationality
    and hash): the analysis, done outside the write transaction."""
    return [(r["id"], r["hash"], record_plans(r)) for r in records]


def store(
    db: sqlite_utils.Database, book_id: str, planned: list[tuple[str, str, list[Plan]]]
) -> int:
    """Inside the caller's write transaction: the plans of records of a book (from
    `plan`); how many were stored."""
    check_build(db)
    keys = [_plan_keys(plans) for _, _, plans in planned]
    ids = _store_words(db, set().union(*keys))
    db.conn.executemany(
        "INSERT INTO book_record_words (book_id, record_id, hash, words, plans) "
        "VALUES (?,?,?,?,?) ON CONFLICT (book_id, record_id) DO UPDATE SET "
        "hash = excluded.hash, words = excluded.words, plans = excluded.plans",
        [
            (book_id, rid, digest, _pack(ids[k] for k in mine), _pack_plans(plans, ids))
            for (rid, digest, plans), mine in zip(planned, keys, strict=True)
        ],
    )
    return len(planned)


def ensure(db: sqlite_utils.Database, chunk: int = CHUNK) -> int:
    """Store the keys of every book record without current ones (loaded before
    this matcher, replaced since, or not screened yet); how many were computed."""
    with immediate(db):
        check_build(db)
    after = ("", "")
    done = 0
    while True:
        rows = db.conn.execute(
            "SELECT r.book_id, r.id, r.name, r.type, r.dob, r.nationality, r.hash "
            "FROM book_records r "
            "LEFT JOIN book_record_words w ON w.book_id = r.book_id AND w.record_id = r.id "
            "WHERE (r.book_id, r.id) > (?, ?) AND w.hash IS NOT r.hash "
            "ORDER BY r.book_id, r.id LIMIT ?",
            (*after, chunk),
        ).fetchall()
        if not rows:
            return done
        after = (rows[-1][0], rows[-1][1])
        by_book: dict[str, list[dict[str, Any]]] = {}
        for book_id, *fields in rows:
            by_book.setdefault(book_id, []).append(
                dict(zip(("id", "name", "type", "dob", "nationality", "hash"), fields, strict=True))
            )
        planned = {book_id: plan(records) for book_id, records in by_book.items()}
        with immediate(db):
            for book_id, some in planned.items():
                done += store(db, book_id, some)


class Reach:
    """What the stored keys reach in one index: per word key its names and whether
    it dominates one, and the other keys that reach a name (each looked up once)."""

    def __init__(self, db: sqlite_utils.Database, index: NameIndex) -> None:
        self.words: dict[int, tuple[set[int], bool]] = {}
        self.others: set[int] = set()  # (and the collided ids, which count as reaching)
        self.keys = 0
        for key_id, text, collided in db.conn.execute("SELECT id, key, collided FROM book_words"):
            self.keys += 1
            key = decode(text)
            names, dominates = index.key_reach(key)
            if collided:
                self.others.add(key_id)
            elif not names:
                continue
            elif key[0] == "w":
                self.words[key_id] = (names, dominates)
            else:
                self.others.add(key_id)
        self.any = self.words.keys() | self.others

    def may_retrieve(self, plans_blob: bytes) -> bool:
        """Whether any of a record's plans may give `screen` a candidate."""
        data = _unpack(plans_blob)
        words, others = self.words, self.others
        at = 1
        for _ in range(data[0]):
            mode, count = data[at], data[at + 1]
            at += 2
            reached: list[tuple[set[int] | None, bool, bool, bool]] = []
            collided = False
            for k in range(at, at + 2 * count, 2):
                key_id, code = data[k], data[k + 1]
                found = words.get(key_id)
                if found is not None:
                    reached.append((found[0], found[1], bool(code & 2), bool(code & 1)))
                elif key_id in others:
                    collided = True
            at += 2 * count
            if collided:
                return True
            count = data[at]
            other = any(o in others for o in data[at + 1 : at + 1 + count])
            at += 1 + count
            if NameIndex.plan_may_retrieve(mode, reached, other):
                return True
        return False


def hit_records(
    db: sqlite_utils.Database, index: NameIndex, reach: Reach | None = None
) -> tuple[set[tuple[str, str]], int]:
    """The (book, record) keys of the records `screen` could match in `index`:
    those whose plans may retrieve a candidate there, those with an identifier
    number, and those without current stored plans; with the number of records
    looked at."""
    if reach is None:
        reach = Reach(db, index)
    hits = reach.any
    out: set[tuple[str, str]] = set()
    seen = 0
    for book_id, record_id, id_number, words, plans in db.conn.execute(
        "SELECT r.book_id, r.id, r.id_number, w.words, w.plans FROM book_records r "
        "LEFT JOIN book_record_words w ON w.book_id = r.book_id AND w.record_id = r.id "
        "AND w.hash = r.hash"
    ):
        seen += 1
        if (
            words is None
            or id_number
            or (hits and not hits.isdisjoint(_unpack(words)) and reach.may_retrieve(plans))
        ):
            out.add((book_id, record_id))
    return out, seen
