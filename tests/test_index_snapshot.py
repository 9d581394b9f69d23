"""The screening index saved next to the database: loaded at start when it fits,
caught up from the data version log, refused (and rebuilt) when it does not fit
this registry or this code, or is damaged."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry import index_snapshot
from registry.cli import main
from registry.db import open_registry
from registry.index_snapshot import SnapshotRefused, snapshot_path
from registry.keys import create_key
from registry.loader import load_paths
from registry.screen_index import IndexCache, IndexView

from .conftest import FIXTURES, client_with_key, make_app
from .test_api_errors import NEW_ENTITY
from .test_index_lifecycle import Builds

NAMES = ["Finder Technology", "Juhang Aviation", "Beijing Micropilot", "Dennex Enterprises"]


def answers(view: IndexView) -> list[list[tuple[str, float]]]:
    allowed = view.restrict(view.active)
    return [
        [
            (m.entity_id, round(m.score, 6))
            for m in view.screen(
                name, entity_type=None, country=None, threshold=0.5, limit=10, allowed=allowed
            )
        ]
        for name in NAMES
    ]


def open_cache(db_path: Path, builds: Builds) -> IndexCache:
    return IndexCache(db_path, build=builds, snapshot=snapshot_path(db_path), settle=False)


def ready(db_path: Path, builds: Builds) -> tuple[IndexView, str]:
    """A new cache's first view, and where its base came from."""
    cache = open_cache(db_path, builds)
    try:
        view = cache.wait_ready(60)
        # (close: the builder thread has finished, the snapshot saved)
        return view, cache.state()["last_build"]["source"]
    finally:
        cache.close()


@pytest.fixture
def saved(loaded_db_path: Path) -> Iterator[tuple[Path, list[list[tuple[str, float]]]]]:
    """A registry whose snapshot has been saved by a first build, and its answers."""
    builds = Builds()
    view, source = ready(loaded_db_path, builds)
    assert source == "built" and builds.full == 1
    assert snapshot_path(loaded_db_path).is_file()
    yield loaded_db_path, answers(view)


def test_a_saved_snapshot_is_loaded_instead_of_a_build(saved: tuple[Path, list]) -> None:
    db_path, expected = saved
    builds = Builds()
    view, source = ready(db_path, builds)
    assert source == "snapshot"
    assert builds.full == 0
    assert answers(view) == expected
    assert any(expected), "the fixture names are found at all"


def test_a_write_after_the_snapshot_is_visible(saved: tuple[Path, list]) -> None:
    db_path, _ = saved
    db = open_registry(db_path)
    try:
        key = create_key(db, "writer", "write")[1]
    finally:
        db.close()
    app = make_app(db_path, index_snapshot=False)
    client = client_with_key(app, key)
    entity = {**NEW_ENTITY, "name": "Quillfeather Snapshot Trading Ltd"}
    assert client.post("/entities", json=entity).status_code == 201
    builds = Builds()
    view, source = ready(db_path, builds)
    assert source == "snapshot" and builds.full == 0
    assert builds.partial == 1  # the written entity, patched in on top
    found = view.screen(
        "Quillfeather Snapshot Trading",
        entity_type=None,
        country=None,
        threshold=0.8,
        limit=5,
        allowed=view.restrict(view.active),
    )
    assert [m.matched_name for m in found] == ["Quillfeather Snapshot Trading Ltd"]


def test_a_snapshot_of_another_registry_is_not_used(
    saved: tuple[Path, list], tmp_path: Path
) -> None:
    db_path, expected = saved
    other = tmp_path / "other" / "registry.db"
    other.parent.mkdir()
    db = open_registry(other)
    try:
        load_paths(db, [FIXTURES])  # the same data version number, written at another instant
    finally:
        db.close()
    shutil.copy(snapshot_path(db_path), snapshot_path(other))
    db = open_registry(other)
    try:
        with pytest.raises(SnapshotRefused, match="another registry"):
            index_snapshot.load(snapshot_path(other), db)
    finally:
        db.close()
    builds = Builds()
    view, source = ready(other, builds)
    assert source == "built" and builds.full == 1
    assert answers(view) == expected


def test_a_snapshot_from_another_matcher_build_is_not_used(
    saved: tuple[Path, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path, expected = saved
    monkeypatch.setattr(index_snapshot, "_fingerprint", "another release")
    builds = Builds()
    view, source = ready(db_path, builds)
    assert source == "built" and builds.full == 1
    assert answers(view) == expected
    # ... and what it saved is this build's, which the next start loads.
    assert index_snapshot.read_header(snapshot_path(db_path)).fingerprint == "another release"
    monkeypatch.undo()
    builds = Builds()
    assert ready(db_path, builds)[1] == "built"


@pytest.mark.parametrize("damage", ["flip", "truncate", "trailer", "garbage"])
def test_a_damaged_snapshot_is_rebuilt_not_trusted(saved: tuple[Path, list], damage: str) -> None:
    db_path, expected = saved
    path = snapshot_path(db_path)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[index_snapshot.ALIGN + len(data) // 3] ^= 0xFF  # inside the pickled index
    elif damage == "truncate":
        del data[len(data) // 2 :]
    elif damage == "trailer":
        del data[-20:]
    else:
        data = bytearray(b"not a snapshot at all" * 300)
    path.write_bytes(bytes(data))
    db = open_registry(db_path)
    try:
        with pytest.raises(SnapshotRefused):
            index_snapshot.load(path, db)
    finally:
        db.close()
    builds = Builds()
    view, source = ready(db_path, builds)
    assert source == "built" and builds.full == 1
    assert answers(view) == expected
    # Saved again, whole: the next start loads it.
    builds = Builds()
    assert ready(db_path, builds)[1] == "snapshot" and builds.full == 0


def test_a_snapshot_older_than_a_large_change_is_not_used(
    saved: tuple[Path, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path, _ = saved
    db = open_registry(db_path)
    try:
        key = create_key(db, "writer", "write")[1]
    finally:
        db.close()
    client = client_with_key(make_app(db_path, index_snapshot=False), key)
    assert client.post("/entities", json=NEW_ENTITY).status_code == 201
    # A write of more entities than a layer takes: patching would cost more than a build.
    monkeypatch.setattr("registry.screen_index.BULK_IDS", 0)
    builds = Builds()
    view, source = ready(db_path, builds)
    assert source == "built" and builds.full == 1
    assert view.base.version == view.version


def test_the_save_is_atomic(saved: tuple[Path, list], monkeypatch: pytest.MonkeyPatch) -> None:
    """A save that fails half-way leaves the old snapshot whole, and no temporary file."""
    db_path, _ = saved
    path = snapshot_path(db_path)
    before = path.read_bytes()
    db = open_registry(db_path)
    try:
        built, _ = index_snapshot.load(path, db)

        def broken(*_args: object, **_kwargs: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(index_snapshot.pickle, "dump", broken)
        with pytest.raises(OSError, match="disk full"):
            index_snapshot.save(path, built, None)
    finally:
        db.close()
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_registry_screen_uses_the_snapshot(loaded_db_path: Path, tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text("name\nFinder Technology\nJuhang Aviation\n", "utf-8")
    env = {"REGISTRY_DB": str(loaded_db_path)}
    first = CliRunner().invoke(main, ["screen", str(names)], env=env)
    assert first.exit_code == 0, first.output
    path = snapshot_path(loaded_db_path)
    assert path.is_file()
    saved_at = path.stat().st_mtime_ns
    second = CliRunner().invoke(main, ["screen", str(names)], env=env)
    assert second.exit_code == 0, second.output
    assert path.stat().st_mtime_ns == saved_at  # loaded, not built and saved again
    assert second.stdout == first.stdout
    assert "finder-technology-ltd" in second.stdout


def test_a_process_waits_for_another_building_the_snapshot_then_loads_it(
    saved: tuple[Path, list],
) -> None:
    """What serve --workers and a CLI run beside the service rely on: while another
    process holds the build lock, this one waits, then loads what that one saved."""
    db_path, expected = saved
    path = snapshot_path(db_path)
    saved_copy = path.read_bytes()
    path.unlink()
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT)  # "another process" building
    fcntl.flock(fd, fcntl.LOCK_EX)
    builds = Builds()
    cache = open_cache(db_path, builds)
    try:
        cache.start()
        time.sleep(1.0)
        assert cache.state()["state"] == "building" and builds.full == 0  # waiting
        path.write_bytes(saved_copy)  # what the other one saved
        fcntl.flock(fd, fcntl.LOCK_UN)
        view = cache.wait_ready(60)
        assert cache.state()["last_build"]["source"] == "snapshot"
        assert builds.full == 0
        assert answers(view) == expected
    finally:
        os.close(fd)
        cache.close()


def test_a_bad_query_is_refused_without_waiting_for_the_index(loaded_db_path: Path) -> None:
    """Nothing to screen, nothing to wait for: a 400 at once while the first build runs."""
    builds = Builds()
    builds.hold_full.set()
    app = make_app(loaded_db_path)
    cache = app.extensions["registry_index"] = IndexCache(loaded_db_path, build=builds, wait=5.0)
    try:
        started = time.monotonic()
        bad = app.test_client().get("/screen", query_string={"name": "Kim", "dob": "1962-02-30"})
        assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "dob"
        assert time.monotonic() - started < 4  # not after the 5 s wait for the index
        good = app.test_client().get("/screen", query_string={"name": "Kim"})
        assert good.status_code == 503  # a valid one does wait, and is told to come back
    finally:
        builds.release.set()
        cache.close()


def test_a_process_starting_from_the_snapshot_screens_without_building_tables(
    saved: tuple[Path, list],
) -> None:
    # What the first screening of a process started from the snapshot must not do
    # (bench.cold_start): build the matcher's legal-form table, which imports
    # pypinyin's dictionaries (0.35 s of CPU); the snapshot carries it.
    db_path, _ = saved
    code = (
        "import sys\n"
        "from registry.db import open_registry\n"
        "from registry.index_snapshot import snapshot_path\n"
        "from registry.screen_index import IndexCache\n"
        "from registry.screening import ScreenOptions, screen\n"
        f"db_path = {str(db_path)!r}\n"
        "cache = IndexCache(db_path, snapshot=snapshot_path(db_path))\n"
        "db = open_registry(db_path)\n"
        "found = screen(db, cache, [{'name': 'Finder Technology Ltd'}], ScreenOptions())\n"
        "cache.close()\n"
        "print(cache.state()['last_build']['source'], found[0]['matches'][0]['entity_id'],"
        " 'pypinyin' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["snapshot", "finder-technology-ltd", "False"], done.stderr
