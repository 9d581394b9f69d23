"""Whole customer books screened on Dask: `registry screen-book INPUT OUTPUT`.

A bank screens its whole book (millions of names) at night; one process at a
few thousand names per second takes hours. Dask (an existing distributed
engine) spreads it: the book (CSV or Parquet) is read in partitions, each
screened by a worker with the same `screening.screen` as `POST /screen` (the
columns name, id, type, country, dob, nationality, id_number), and each
partition's answer is written as its own file (`part-00007.parquet` or
`.csv`: the columns of `POST /screen`'s CSV answer), written to a temporary
name and renamed, so a file that is there is whole. A rerun with the same
input and options skips the partitions whose file is there: a crash costs
the partitions under way, not the run. `_screen_book.json` in OUTPUT records
the input, the options and the partitions; a rerun over another input is
refused.

The index goes to each worker once, by a worker plugin (`RegistryPlugin`),
never with a task: on a local cluster (no `--scheduler`) the plugin carries
the paths of the registry and of its index snapshot (`registry.index_snapshot`,
made current before the run); for a remote cluster it carries the files
themselves (a consistent copy of the registry and the snapshot), so workers on
other machines need no shared disk. Each worker loads the snapshot once, at
its first partition, and screens its partitions with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

log = logging.getLogger(__name__)
# dask's Parquet reader calls reset_index(inplace=True), which pandas 3.1 deprecates:
# a warning per partition that the user can do nothing about.
warnings.filterwarnings(
    "ignore", message="The inplace keyword in DataFrame.reset_index is deprecated"
)

MANIFEST = "_screen_book.json"
BATCH = 500  # names screened at once within a partition
FORMATS = ("parquet", "csv")


def input_format(path: Path) -> str:
    name = path.name.lower()
    if path.is_dir() or name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    raise ValueError(f"{path}: give a .csv or .parquet file (or a folder of Parquet files)")


@dataclass(frozen=True)
class BookReport:
    partitions: int
    skipped: int  # done by an earlier run
    screened: int  # names screened by this run
    names: int  # names in the book
    seconds: float
    output: Path
    files: list[Path] = field(default_factory=list)

    @property
    def names_per_s(self) -> float:
        return self.screened / self.seconds if self.seconds else 0.0


def part_path(output: Path, position: int, fmt: str) -> Path:
    return output / f"part-{position:05d}.{fmt}"


class _Screener:
    """What a worker screens with: a connection per thread and one index cache,
    made at the first partition it gets."""

    def __init__(self, db_path: Path, snapshot: Path | None) -> None:
        from .screening import IndexCache

        self.db_path = db_path
        self.cache = IndexCache(db_path, wait=24 * 3600, snapshot=snapshot)
        self._local = threading.local()
        self.cache.wait_ready()

    def db(self) -> Any:
        from .db import connect

        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.db_path)
        return db

    def close(self) -> None:
        self.cache.close()


class RegistryPlugin(WorkerPlugin):
    """A Dask worker plugin: the registry and its index, once per worker.

    `files` (for a remote cluster): the registry's and the snapshot's bytes,
    written into the worker's local directory at set-up."""

    name = "sanctions-registry"

    def __init__(
        self,
        db_path: str,
        snapshot: str | None,
        files: tuple[bytes, bytes | None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.snapshot = snapshot
        self.files = files
        self._screener: _Screener | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"db_path": self.db_path, "snapshot": self.snapshot, "files": self.files}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["db_path"], state["snapshot"], state["files"])  # type: ignore[misc]

    def setup(self, worker: Any) -> None:  # (in the worker)
        if self.files is not None:
            from .index_snapshot import snapshot_path

            folder = Path(worker.local_directory) / "registry"
            folder.mkdir(parents=True, exist_ok=True)
            db_path = folder / "registry.db"
            db_bytes, snapshot_bytes = self.files
            db_path.write_bytes(db_bytes)
            if snapshot_bytes is not None:
                snapshot_path(db_path).write_bytes(snapshot_bytes)
            self.db_path, self.snapshot = str(db_path), str(snapshot_path(db_path))
            self.files = None  # (let the bytes go)

    def teardown(self, worker: Any) -> None:
        if self._screener is not None:
            self._screener.close()

    def screener(self) -> _Screener:
        with self._lock:
            if self._screener is None:
                started = time.perf_counter()
                self._screener = _Screener(
                    Path(self.db_path), Path(self.snapshot) if self.snapshot else None
                )
                log.info("worker: index ready in %.1f s", time.perf_counter() - started)
            return self._screener


def screen_partition(
    frame: Any, position: int, offset: int, output: str, fmt: str, options: Any
) -> int:
    """Screen one partition (a pandas DataFrame of the query columns) on a worker
    and write its answer file atomically. Returns the names screened."""
    import pandas as pd
    from distributed import get_worker

    from .screen_csv import CSV_COLUMNS, csv_rows
    from .screening import screen

    plugin = get_worker().plugins[RegistryPlugin.name]
    assert isinstance(plugin, RegistryPlugin)
    screener = plugin.screener()
    db = screener.db()
    rows = [{key: _value(value) for key, value in rec.items()} for rec in frame.to_dict("records")]
    cells: list[list[str]] = []
    for start in range(0, len(rows), BATCH):
        results = screen(db, screener.cache, rows[start : start + BATCH], options)
        for result in results:
            result["index"] += offset + start
        cells += csv_rows(results)
    answer = pd.DataFrame(cells, columns=list(CSV_COLUMNS), dtype="string")
    target = part_path(Path(output), position, fmt)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        if fmt == "parquet":
            answer.to_parquet(tmp, index=False)
        else:
            answer.to_csv(tmp, index=False)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return len(rows)


def _value(value: Any) -> str | None:
    """A book's cell as a query field: text, None when empty or missing (a number,
    such as an id in a Parquet column of integers, as its text)."""
    import pandas as pd

    if isinstance(value, str):
        return value.strip() or None
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return None
    return str(value)


def _read(path: Path, fmt: str, blocksize: str | int) -> Any:
    import dask.dataframe as dd

    from .screening import QUERY_FIELDS

    if fmt == "csv":
        frame = dd.read_csv(
            str(path), dtype=str, blocksize=blocksize, keep_default_na=False, na_filter=False
        )
    else:
        frame = dd.read_parquet(str(path))
    columns = {c: str(c).strip().lower() for c in frame.columns}
    frame = frame.rename(columns=columns)
    if "name" not in columns.values():
        raise ValueError(f"{path}: the book needs a 'name' column")
    keep = [c for c in QUERY_FIELDS if c in columns.values()]
    return frame[keep]


def _fingerprint(path: Path) -> dict[str, Any]:
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        if file.is_file():
            stat = file.stat()
            digest.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return {"path": str(path.resolve()), "files": digest.hexdigest()[:32]}


def _check_manifest(output: Path, manifest: dict[str, Any]) -> None:
    """Refuse an OUTPUT holding the results of another input or options."""
    file = output / MANIFEST
    if file.exists():
        try:
            earlier = json.loads(file.read_text("utf-8"))
        except ValueError:
            earlier = None
        same = earlier is not None and all(
            earlier.get(key) == manifest[key] for key in ("input", "options", "format", "blocksize")
        )
        if not same:
            raise ValueError(
                f"{output} holds the results of another book or other options "
                f"({MANIFEST}); give another OUTPUT folder, or delete it to start over"
            )
    elif output.exists() and any(output.iterdir()):
        raise ValueError(f"{output} is not empty and is not the output of a screen-book run")


def _shipped_files(db_path: Path, snapshot: Path | None) -> tuple[bytes, bytes | None]:
    """A consistent copy of the registry (SQLite's backup: writers go on), and the
    snapshot, as bytes for the workers of a remote cluster."""
    with tempfile.TemporaryDirectory(prefix="registry-book-") as tmp:
        copy = Path(tmp) / "registry.db"
        source = sqlite3.connect(db_path)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        db_bytes = copy.read_bytes()
    snapshot_bytes = snapshot.read_bytes() if snapshot is not None and snapshot.exists() else None
    return db_bytes, snapshot_bytes


def prepare_index(db_path: Path, snapshot: Path) -> int:
    """Make sure the workers find a snapshot they can start from: one that fits and
    that no large change has overtaken (checked by its header alone), else the
    index is built here and saved. Returns the snapshot's data version."""
    from .db import connect
    from .index_snapshot import SnapshotRefused, check, read_header
    from .screen_index import BULK_IDS, MID_MAX, IndexCache
    from .versions import pending, read_snapshot

    db = connect(db_path)
    try:
        with read_snapshot(db):
            try:
                header = read_header(snapshot)
                check(header, db)
                count, bulk = pending(db, header.data_version, max_ids=BULK_IDS)
                if not bulk and count <= MID_MAX:
                    return header.data_version
            except SnapshotRefused as exc:
                log.info("screen-book: the index snapshot cannot be used (%s): building it", exc)
    finally:
        db.close()
    cache = IndexCache(db_path, wait=24 * 3600, settle=False, snapshot=snapshot)
    try:
        return cache.wait_ready().base.version
    finally:
        cache.close()


def screen_book(
    source: Path,
    output: Path,
    *,
    db_path: Path,
    snapshot: Path,
    options: Any,
    scheduler: str | None = None,
    workers: int | None = None,
    out_format: str | None = None,
    blocksize: str | int = "2MB",
    processes: bool = True,
    progress: Callable[[int, int, int, int], None] | None = None,
) -> BookReport:
    """Screen the book at `source` into files in `output`; see the module docstring.
    `progress(partitions_done, partitions, names_done, names)` after each one."""
    import dask
    from distributed import Client, LocalCluster, as_completed

    fmt = input_format(source)
    out_format = out_format or fmt
    if out_format not in FORMATS:
        raise ValueError(f"output format {out_format!r}: use parquet or csv")
    started = time.perf_counter()
    frame = _read(source, fmt, blocksize)
    manifest = {
        "input": _fingerprint(source),
        "options": json.loads(json.dumps(asdict(options), default=sorted)),
        "format": out_format,
        "blocksize": blocksize,
    }
    _check_manifest(output, manifest)
    output.mkdir(parents=True, exist_ok=True)
    snapshot_version = prepare_index(db_path, snapshot)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",  # (None still takes port 8787 for its HTTP server)
            # (its INFO lines drown the progress; and a worker freeing a large index
            # at exit outlasts the nanny's 4 s, which then ends it with a warning)
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        plugin = RegistryPlugin(str(db_path), str(snapshot))
    else:
        client = Client(scheduler)
        plugin = RegistryPlugin(str(db_path), None, _shipped_files(db_path, snapshot))
    try:
        client.register_plugin(plugin)
        # Where each partition starts in the book (query_index counts from the book's start).
        lengths = [int(n) for n in client.compute(frame.map_partitions(len)).result()]
        total = sum(lengths)
        offsets = [sum(lengths[:k]) for k in range(len(lengths))]
        manifest.update(
            partitions=len(lengths),
            names=total,
            snapshot_version=snapshot_version,
        )
        tmp = output / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2), "utf-8")
        os.replace(tmp, output / MANIFEST)
        parts: Sequence[Any] = frame.to_delayed()
        todo = [k for k in range(len(lengths)) if not part_path(output, k, out_format).exists()]
        skipped_names = sum(lengths[k] for k in range(len(lengths)) if k not in set(todo))
        futures = client.compute(
            [
                dask.delayed(screen_partition)(
                    parts[k], k, offsets[k], str(output), out_format, options
                )
                for k in todo
            ]
        )
        done = len(lengths) - len(todo)
        names_done = skipped_names
        if progress:
            progress(done, len(lengths), names_done, total)
        screened = 0
        for future in as_completed(futures):
            count = int(future.result())
            screened += count
            done += 1
            names_done += count
            if progress:
                progress(done, len(lengths), names_done, total)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return BookReport(
        partitions=len(lengths),
        skipped=len(lengths) - len(todo),
        screened=screened,
        names=total,
        seconds=time.perf_counter() - started,
        output=output,
        files=[part_path(output, k, out_format) for k in range(len(lengths))],
    )
