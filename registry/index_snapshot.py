"""The screening index saved next to the database, so a process starts without
rebuilding it.

A snapshot is the base index (`BuiltIndex`: the whole registry at one data
version) in one file, by default `<database>.index`. Loading one and catching
up from the data version log (`versions.changes_since`) gives the same view
as a full build (`screen_index.IndexCache` does both), in the time it takes to
read the file instead of the 10-20 s of a build from SQLite.

The file, written to a temporary file in the same folder and renamed over the
old one (a reader sees the old file or the new one, never half of one):

    MAGIC (16 bytes)
    section bytes ...            (each starting at a multiple of 4096)
    trailer: JSON header
    length of the JSON (8 bytes, little-endian) + END_MAGIC (8 bytes)

The header says what the file holds and what it fits: the data version (and
the instant that version was written, so a snapshot of another database that
happens to be at the same version number is refused), the code fingerprint
(the matcher's sources, the build, the Python version: a new release never
loads an old layout), and each section's offset, length and SHA-256. A
section is hashed before it is unpickled, so a corrupt or truncated file is
refused (and rebuilt), never trusted.

Today the one layout is `pickle`: one section, the pickled `NameIndex`
(through its public pickling) with the entity ids in force and the matcher's
legal-form table (`legal_forms.phrase_table`: built, it costs the first
screening 0.35 s). What is unpickled at the load is what every query reads
(the posting lists and the rows estimates read, built back from flat arrays;
the retrieval keys are `FlatKeys`, a few byte strings read where they lie,
nothing per key to unpickle or hash); the listed names themselves (an
`AnalyzedName` each, most of the objects) stay pickled in chunks until a query
first scores one of them (`NameIndex._entry`), so a process answers its first
screening without unpickling them all (`python -m bench.cold_start`). The sections are
page-aligned and read through `mmap`, so a later compact layout (flat arrays
that can be used where they lie) can add its own `layout` and sections and be
mapped rather than copied; a loader that does not know a layout refuses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import json
import logging
import mmap
import os
import pickle
import platform
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from .db import utcnow
from .matching import legal_forms
from .versions import current_version

log = logging.getLogger(__name__)

MAGIC = b"REGISTRY-INDEX\n\x00"  # 16 bytes
END_MAGIC = b"\x00INDEX\n\x00"  # 8 bytes
FORMAT = 1  # of the file (magic, sections, trailer)
LAYOUT = "pickle"  # of the sections
ALIGN = 4096
SUFFIX = ".index"


def snapshot_path(db_path: str | Path) -> Path:
    """Where the snapshot of the registry at `db_path` lives."""
    return Path(f"{db_path}{SUFFIX}")


_fingerprint: str | None = None


def code_fingerprint() -> str:
    """What a snapshot must have been written by: the matcher's sources and the
    index builder's, whether the matcher is compiled, and the Python version."""
    global _fingerprint
    if _fingerprint is None:
        from . import matching, screening

        digest = hashlib.sha256()
        here = Path(matching.__file__).resolve().parent
        # (and the data files the matcher reads: the legal-form table is saved too)
        for source in [*sorted(here.glob("*.py")), *sorted(here.parent.glob("data/*.json"))]:
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
        digest.update(Path(screening.__file__).read_bytes())
        digest.update(str(matching.COMPILED).encode())
        digest.update(platform.python_version().encode())
        digest.update(str(FORMAT).encode())
        _fingerprint = digest.hexdigest()[:32]
    return _fingerprint


@dataclass(frozen=True)
class Header:
    data_version: int
    version_at: str | None  # when that data version was written (None: version 0)
    fingerprint: str
    layout: str
    names: int
    entities: int
    created_at: str
    sections: dict[str, tuple[int, int, str]]  # name -> (offset, length, sha256)

    def as_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "layout": self.layout,
                "data_version": self.data_version,
                "version_at": self.version_at,
                "fingerprint": self.fingerprint,
                "names": self.names,
                "entities": self.entities,
                "created_at": self.created_at,
                "sections": {k: list(v) for k, v in self.sections.items()},
            },
            sort_keys=True,
        ).encode()


class SnapshotRefused(Exception):
    """The snapshot file cannot be used (the reason says why)."""


def version_instant(db: sqlite_utils.Database, version: int) -> str | None:
    """When data version `version` was written (None for 0 or one not logged)."""
    row = db.conn.execute("SELECT at FROM data_versions WHERE version = ?", (version,)).fetchone()
    return str(row[0]) if row else None


class _HashingWriter:
    """A binary file that hashes what goes through it (pickle.dump's target)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.digest = hashlib.sha256()
        self.length = 0

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        self.length += view.nbytes
        return self._fh.write(view)


def save(path: str | Path, built: Any, version_at: str | None) -> Header:
    """Write `built` (a screening_index.BuiltIndex at `built.version`) as the
    snapshot at `path`, atomically. Returns what the header says."""
    path = Path(path)
    started = time.perf_counter()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # (mkstemp makes it 0600: the service and the CLI may differ)
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC)
            fh.write(b"\x00" * (ALIGN - len(MAGIC)))
            writer = _HashingWriter(fh)
            payload = {
                "index": built.index,
                "active": built.active,
                # (the first screening would build it: see legal_forms.phrase_table)
                "legal_forms": legal_forms.phrase_table(),
            }
            pickle.dump(payload, writer, protocol=pickle.HIGHEST_PROTOCOL)
            header = Header(
                data_version=built.version,
                version_at=version_at,
                fingerprint=code_fingerprint(),
                layout=LAYOUT,
                names=built.names,
                entities=built.entities,
                created_at=utcnow(),
                sections={"index": (ALIGN, writer.length, writer.digest.hexdigest())},
            )
            trailer = header.as_json()
            fh.write(trailer)
            fh.write(struct.pack("<Q", len(trailer)) + END_MAGIC)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):  # the rename itself, durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    log.info(
        "screening index snapshot saved: %s (data version %d, %d names, %.0f MB) in %.1f s",
        path,
        built.version,
        built.names,
        (ALIGN + writer.length) / 1e6,
        time.perf_counter() - started,
    )
    return header


def read_header(path: str | Path) -> Header:
    """The header of the snapshot at `path`; SnapshotRefused if it has none."""
    try:
        with open(path, "rb") as fh:
            return _header(fh)
    except OSError as exc:
        raise SnapshotRefused(f"cannot read it ({exc.strerror or exc})") from None


def _header(fh: IO[bytes]) -> Header:
    size = os.fstat(fh.fileno()).st_size
    if size < ALIGN + 16 or fh.read(len(MAGIC)) != MAGIC:
        raise SnapshotRefused("not a snapshot file (or truncated)")
    fh.seek(size - 16)
    tail = fh.read(16)
    if tail[8:] != END_MAGIC:
        raise SnapshotRefused("truncated (no trailer)")
    (trailer,) = struct.unpack("<Q", tail[:8])
    if trailer > size - ALIGN - 16:
        raise SnapshotRefused("truncated (trailer longer than the file)")
    fh.seek(size - 16 - trailer)
    try:
        raw = json.loads(fh.read(trailer))
        if raw["format"] != FORMAT:
            raise SnapshotRefused(f"file format {raw['format']}, this code reads {FORMAT}")
        sections = {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in raw["sections"].items()}
        header = Header(
            data_version=int(raw["data_version"]),
            version_at=raw["version_at"],
            fingerprint=str(raw["fingerprint"]),
            layout=str(raw["layout"]),
            names=int(raw["names"]),
            entities=int(raw["entities"]),
            created_at=str(raw["created_at"]),
            sections=sections,
        )
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise SnapshotRefused(f"unreadable header ({exc})") from None
    for name, (offset, length, _) in sections.items():
        if offset < ALIGN or offset + length > size - 16 - trailer:
            raise SnapshotRefused(f"section {name} lies outside the file (truncated?)")
    return header


def check(header: Header, db: sqlite_utils.Database) -> None:
    """SnapshotRefused unless the snapshot fits this code and `db` (read inside
    the caller's read transaction)."""
    if header.fingerprint != code_fingerprint():
        raise SnapshotRefused("written by another build of the matcher (or another release)")
    if header.layout != LAYOUT:
        raise SnapshotRefused(f"layout {header.layout!r}, this code reads {LAYOUT!r}")
    now = current_version(db)
    if header.data_version > now:
        raise SnapshotRefused(
            f"of data version {header.data_version}, newer than the registry's {now} "
            "(another registry, or one restored from a backup)"
        )
    if version_instant(db, header.data_version) != header.version_at:
        raise SnapshotRefused(
            f"data version {header.data_version} of another registry (written at "
            f"{header.version_at}, here at {version_instant(db, header.data_version)})"
        )


# CPU seconds of each stage of this process's last load (bench.cold_start prints them).
last_load: dict[str, float] = {}


def load(
    path: str | Path, db: sqlite_utils.Database, *, freeze: bool = False
) -> tuple[Any, Header]:
    """The BuiltIndex saved at `path` and its header, if it fits this code and
    `db` (call inside a read transaction); SnapshotRefused otherwise.

    `freeze`: move what was loaded out of the cyclic garbage collector's sight
    (`gc.freeze`, as a long-lived service does with its index)."""
    from .screen_index import BuiltIndex

    started = time.perf_counter()
    times: dict[str, float] = {}
    lap = time.process_time()

    def stage(name: str) -> None:
        nonlocal lap
        now = time.process_time()
        times[name] = now - lap
        lap = now

    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed below, after the map)
    except OSError as exc:
        raise SnapshotRefused(f"cannot read it ({exc.strerror or exc})") from None
    with fh:
        header = _header(fh)
        check(header, db)
        stage("header")
        offset, length, digest = header.sections["index"]
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)[offset : offset + length]
            try:
                if hashlib.sha256(view).hexdigest() != digest:
                    raise SnapshotRefused("corrupt (checksum differs)")
                stage("read_and_checksum")
                # Millions of new objects: with the collector running, its passes over
                # them took 60% of the load (4.2 s of CPU, not 1.7, with every list).
                with _collector_paused():
                    try:
                        payload = pickle.loads(view)
                    except Exception as exc:
                        raise SnapshotRefused(f"cannot be unpickled ({exc})") from None
                    if freeze:
                        gc.freeze()
                stage("unpickle")
            finally:
                view.release()
    index, active = payload["index"], payload["active"]
    legal_forms.use_phrase_table(payload["legal_forms"])
    built = BuiltIndex(
        index,
        frozenset(active),
        header.names,
        time.perf_counter() - started,
        version=header.data_version,
        entities=header.entities,
    )
    last_load.clear()
    last_load.update(times)
    log.info(
        "screening index snapshot loaded: %s (data version %d, %d names) in %.2f s (CPU: %s)",
        path,
        header.data_version,
        header.names,
        built.seconds,
        ", ".join(f"{name} {seconds:.3f} s" for name, seconds in times.items()),
    )
    return built, header


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_held: set[str] = set()  # snapshot paths whose build lock this process holds
_held_guard = threading.Lock()


@contextlib.contextmanager
def build_lock(path: str | Path) -> Iterator[None]:
    """Held while a process builds or saves the snapshot at `path`: of several
    processes over one registry (serve --workers, a CLI screening beside the
    service), one builds and the others wait, then load what it saved. Within
    one process (several apps over one file, as in tests) nobody waits: each
    builds, and the saves replace one another whole."""
    key = str(Path(path).resolve())
    with _held_guard:
        mine = key not in _held
        _held.add(key)
    if not mine:
        yield
        return
    try:
        try:
            fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            yield  # a read-only folder: no snapshot will be saved there either
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
    finally:
        with _held_guard:
            _held.discard(key)
