"""Delta screening: book records against just the entities that changed.

After a write (an import, a refresh, a hand edit) the data version log
(`registry.versions`) says which entities changed; a version too large to list
its ids (an import of a whole list) is read back from `history` by its instant
(every row of one write shares it). A small `NameIndex` of only those entities
(`screening.build_index(entity_ids=...)`, the same builder as the live index's
layers) is wrapped in an `IndexView` and handed to `screening.screen`, so each
record goes through exactly the code `/screen` runs: the same candidates, scores,
evidence, listings and decisions, restricted to the changed entities. A pair
scores the same in a small index as in the whole one (nothing in a name's score
depends on the rest of the index: see `screen_index`'s note on layers), which
`tests/test_monitoring.py` checks against `/screen`.

Most records match none of the changed entities, and most cannot even bring a
candidate: their names' retrieval plans, stored when they were loaded
(`words.py`), are checked against what each distinct key reaches in the small
index, and only the records that may have a candidate there (and records with
an identifier number, which `screen` also looks up by value) are read (the
service's `run_delta`). Those first go through the small index alone
(`candidates`: `NameIndex.screen` with the floor `screening.screen` would use,
one result), which is a superset test: a record that `screen` would match there
has a result. Only those go through `screen`. (Without stored plans, every
record takes that test, in worker processes for a large book.)

What makes a million records cheap: the words of a book repeat (a million names
hold a few hundred thousand distinct words), and most of a query's cost against
a small index is looking its words up (deletion neighbourhoods, phonetic keys,
similarity of each word found). The small index keeps every query word's hits
for the run (`NameIndex.keep_query_words`, instead of the live index's bound of
20,000 words, which a book's words would empty again and again), so each
distinct word is looked up once per process; and a name met again (same type,
country and floor) is answered from `may_match`'s memo. Both only remember what
the index answered, so the answers are those of an index without them.
`python -m bench.monitoring` measures it on a 1,000,000-record book.
"""

from __future__ import annotations

import io
import multiprocessing
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import sqlite_utils

from ..db import connect
from ..matching import NameIndex
from ..matching.evidence import MAX_RAISE_WITHOUT_IDENTIFIER
from ..screen_index import IndexView, Layer
from ..screening import IndexCache, ScreenOptions, build_index, screen
from ..versions import current_version

#: What book screening uses: /screen's defaults (threshold 0.8, ten matches).
OPTIONS = ScreenOptions()
#: Records read and screened per step.
CHUNK = 2_000
RECORD_FIELDS = ("id", "name", "type", "country", "dob", "nationality", "id_number")
_COLUMNS = ("book_id", *RECORD_FIELDS)


class FixedIndex(IndexCache):
    """An IndexCache that always answers with one view (screening.screen's `cache`)."""

    def __init__(self, view: IndexView) -> None:
        super().__init__(":memory:", settle=False)
        self._fixed = view
        self._may: dict[tuple[Any, ...], bool] = {}

    def view(self, db: sqlite_utils.Database, as_of: str | None = None) -> IndexView:
        return self._fixed

    def candidates(
        self, records: Sequence[dict[str, Any]], options: ScreenOptions = OPTIONS
    ) -> list[dict[str, Any]]:
        """The records `screen` could find a match for in this index (a superset)."""
        index = self._fixed.base.built.index
        return [r for r in records if may_match(index, r, options.floor, self._may)]

    @property
    def index(self) -> NameIndex:
        return self._fixed.base.built.index


def may_match(
    index: NameIndex,
    record: Mapping[str, Any],
    floor: float,
    seen: dict[tuple[Any, ...], bool] | None = None,
) -> bool:
    """Whether `screen` could match the record in `index`: it has an identifier
    number (looked up by value), or the index has a result at the floor `screen`
    asks it for (lower with a date of birth or nationality, which may lift a score).
    `seen` remembers the answer per (name, type, country, floor): a book holds the
    same name many times."""
    if record.get("id_number"):
        return True
    lift = MAX_RAISE_WITHOUT_IDENTIFIER if record.get("dob") or record.get("nationality") else 0.0
    key = (record["name"], record.get("type"), record.get("country"), lift)
    if seen is not None:
        known = seen.get(key)
        if known is not None:
            return known
    found = bool(
        index.screen(
            record["name"],
            entity_type=record.get("type"),
            country=record.get("country"),
            threshold=max(0.0, floor - lift),
            limit=1,
        )
    )
    if seen is not None:
        if len(seen) >= SEEN_MAX:
            seen.clear()
        seen[key] = found
    return found


#: Answers of `may_match` kept per run (names; about 200 bytes each).
SEEN_MAX = 1_000_000
#: Query words whose hits the small index keeps for a run (see
#: `NameIndex.keep_query_words`): a book's words repeat (a million generated names
#: hold about 220,000 distinct words), and a word's lookup costs several times
#: what the cached answer does. About 300 bytes a word.
WORDS_KEPT = 2_000_000
WORD_IDS_KEPT = 40_000_000


def keep_words(index: NameIndex) -> NameIndex:
    """The small index with a cache for every word of a book (see WORDS_KEPT)."""
    index.keep_query_words(WORDS_KEPT, WORD_IDS_KEPT)
    return index


# ------------------------------------------------------------ in worker processes
# A large book is tested against the small index in worker processes (spawned:
# the service's threads hold locks a fork would copy), each over a range of keys.
PARALLEL_MIN = 50_000  # records below which one process does it all
_WORKER_INDEX: NameIndex | None = None
_WORKER_SEEN: dict[tuple[Any, ...], bool] = {}


def _init_worker(index_bytes: bytes) -> None:
    global _WORKER_INDEX
    _WORKER_INDEX = keep_words(NameIndex.load(io.BytesIO(index_bytes)))


def _range_candidates(
    task: tuple[str, float, tuple[str, str], tuple[str, str] | None],
) -> list[tuple[str, str]]:
    db_path, floor, low, high = task
    index = _WORKER_INDEX
    assert index is not None
    db = connect(db_path)
    try:
        sql = (
            "SELECT book_id, id, name, type, country, dob, nationality, id_number FROM "
            "book_records WHERE (book_id, id) >= (?, ?)"
        )
        params: list[Any] = [*low]
        if high is not None:
            sql += " AND (book_id, id) < (?, ?)"
            params += [*high]
        out = []
        seen = _WORKER_SEEN
        for row in db.conn.execute(sql, params):
            record = dict(zip(_COLUMNS, row, strict=True))
            if may_match(index, record, floor, seen):
                out.append((row[0], row[1]))
        return out
    finally:
        db.close()


def parallel_candidates(
    db: sqlite_utils.Database,
    db_path: str,
    fixed: FixedIndex,
    workers: int,
    options: ScreenOptions = OPTIONS,
    step: int = 20_000,
) -> set[tuple[str, str]]:
    """The keys of every book record `may_match` in `fixed`, tested by `workers`
    processes over ranges of `step` records."""
    bounds: list[tuple[str, str]] = []
    for k, row in enumerate(db.conn.execute("SELECT book_id, id FROM book_records ORDER BY 1, 2")):
        if k % step == 0:
            bounds.append((row[0], row[1]))
    buffer = io.BytesIO()
    fixed.index.dump(buffer)
    tasks = [
        (db_path, options.floor, low, bounds[k + 1] if k + 1 < len(bounds) else None)
        for k, low in enumerate(bounds)
    ]
    found: set[tuple[str, str]] = set()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(buffer.getvalue(),),
    ) as pool:
        for keys in pool.map(_range_candidates, tasks):
            found.update(keys)
    return found


def changed_entities(db: sqlite_utils.Database, since: int, upto: int) -> set[str]:
    """Entities changed by the writes after version `since` up to `upto`."""
    ids: set[str] = set()
    rows = db.conn.execute(
        "SELECT version, at, listed FROM data_versions WHERE version > ? AND version <= ?",
        (since, upto),
    ).fetchall()
    for version, at, listed in rows:
        if listed:
            ids.update(
                r[0]
                for r in db.conn.execute(
                    "SELECT entity_id FROM data_changes WHERE version = ?", (version,)
                )
            )
        else:
            ids.update(
                r[0]
                for r in db.conn.execute(
                    "SELECT DISTINCT entity_id FROM history WHERE object_type = 'record' "
                    "AND at = ? AND entity_id IS NOT NULL",
                    (at,),
                )
            )
    return ids


def small_index(db: sqlite_utils.Database, entity_ids: Collection[str]) -> FixedIndex:
    """A screening index of just these entities, as they are in `db`'s snapshot."""
    version = current_version(db)
    built = build_index(db, entity_ids=entity_ids)
    built.version = version
    keep_words(built.index)
    return FixedIndex(IndexView.of(Layer(built, None, version)))


def as_query(record: dict[str, Any]) -> dict[str, Any]:
    return {field: record.get(field) for field in RECORD_FIELDS}


def screen_records(
    db: sqlite_utils.Database,
    cache: IndexCache,
    records: Sequence[dict[str, Any]],
    options: ScreenOptions = OPTIONS,
) -> list[dict[str, Any]]:
    """`screening.screen` of book records (results in their order)."""
    return screen(db, cache, [as_query(r) for r in records], options)


def records_by_key(
    db: sqlite_utils.Database, keys: Sequence[tuple[str, str]], chunk: int = CHUNK
) -> Iterator[list[dict[str, Any]]]:
    """The book records of these (book, record) keys, `chunk` at a time."""
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        out = []
        for book_id in sorted({b for b, _ in part}):
            ids = [r for b, r in part if b == book_id]
            for step in range(0, len(ids), 500):
                some = ids[step : step + 500]
                out += [
                    dict(zip(_COLUMNS, row, strict=True))
                    for row in db.conn.execute(
                        f"SELECT book_id, id, name, type, country, dob, nationality, id_number "
                        f"FROM book_records WHERE book_id = ? "
                        f"AND id IN ({','.join('?' * len(some))})",
                        [book_id, *some],
                    )
                ]
        if out:
            yield out


def book_records(
    db: sqlite_utils.Database, book_id: str | None = None, chunk: int = CHUNK
) -> Iterator[list[dict[str, Any]]]:
    """Every record of a book (or of all books), `chunk` at a time, by key."""
    after = ("", "")
    while True:
        where = "(book_id, id) > (?, ?)"
        params: list[Any] = [*after]
        if book_id is not None:
            where += " AND book_id = ?"
            params.append(book_id)
        rows = db.conn.execute(
            f"SELECT book_id, id, name, type, country, dob, nationality, id_number "
            f"FROM book_records WHERE {where} ORDER BY book_id, id LIMIT ?",
            [*params, chunk],
        ).fetchall()
        if not rows:
            return
        yield [
            dict(
                zip(
                    ("book_id", "id", "name", "type", "country", "dob", "nationality", "id_number"),
                    row,
                    strict=True,
                )
            )
            for row in rows
        ]
        after = (rows[-1][0], rows[-1][1])
