"""The screening index's lifecycle: built off the request path, patched after writes,
rebuilt in the background, past instants by data version, nothing kept when replaced."""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
import time
import weakref
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from registry import screen_index
from registry.cli import main
from registry.db import open_registry, utcnow
from registry.loader import load_paths
from registry.screen_index import BuiltIndex, IndexCache
from registry.screening import build_index
from registry.versions import changes_since, current_version

from .conftest import FIXTURES, client_with_key, make_app
from .test_api_errors import NEW_ENTITY

FINDER = "finder-technology-ltd"


class Builds:
    """screening.build_index, counted, with gates to hold full and past builds."""

    def __init__(self) -> None:
        self.full = 0
        self.partial = 0
        self.past: list[str] = []
        self.hold_full = threading.Event()  # set: full builds wait for `release`
        self.hold_past = threading.Event()
        self.hold_partial = 0  # >0: partial builds of at least this many entities wait too
        self.partial_sizes: list[int] = []
        self.partial_threads: list[tuple[int, int]] = []  # (thread ident, entities)
        self.partial_paced: list[bool] = []  # whether each gives way to requests
        self.release = threading.Event()
        self.started = threading.Event()  # a held build has begun

    def __call__(
        self, db: sqlite_utils.Database, as_of: str | None, ids: Collection[str] | None
    ) -> BuiltIndex:
        held = (
            (as_of is None and ids is None and self.hold_full.is_set())
            or (as_of is not None and self.hold_past.is_set())
            or (ids is not None and 0 < self.hold_partial <= len(ids))
        )
        if held:
            self.started.set()
            assert self.release.wait(30), "the test never released the build"
        if as_of is not None:
            self.past.append(as_of)
        elif ids is None:
            self.full += 1
        else:
            self.partial += 1
            self.partial_sizes.append(len(ids))
            self.partial_threads.append((threading.get_ident(), len(ids)))
            self.partial_paced.append(screen_index.build_pace() is not None)
        return build_index(db, as_of, ids)


def app_with(loaded_db_path: Path, builds: Builds, **options: object) -> Flask:
    app = make_app(loaded_db_path)
    app.extensions["registry_index"] = IndexCache(loaded_db_path, build=builds, **options)  # type: ignore[arg-type]
    return app


@pytest.fixture
def builds() -> Builds:
    return Builds()


@pytest.fixture
def writer(loaded_db_path: Path, builds: Builds, keys: dict[str, str]) -> Iterator[FlaskClient]:
    """A client with a write key on an app whose index builds are counted."""
    app = app_with(loaded_db_path, builds)
    yield client_with_key(app, keys["write"])
    app.extensions["registry_index"].close()


def found(client: FlaskClient, name: str, **params: str) -> list[str]:
    response = client.get("/screen", query_string={"name": name, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [m["entity_id"] for m in response.get_json()["matches"]]


def entity(name: str, designation: str) -> dict[str, object]:
    return {
        **NEW_ENTITY,
        "name": name,
        "designations": [{**NEW_ENTITY["designations"][0], "id": designation}],
    }


def test_a_write_through_the_api_is_screened_as_soon_as_it_answers(
    writer: FlaskClient, builds: Builds
) -> None:
    assert found(writer, "Finder Technology")[0] == FINDER
    created = writer.post("/entities", json=entity("Quetzal Lantern Holdings", "quetzal-1"))
    assert created.status_code == 201
    new_id = created.get_json()["id"]
    assert found(writer, "Quetzal Lantern Holdings") == [new_id]  # no wait, no retry
    renamed = writer.patch(f"/entities/{new_id}", json={"name": "Zanzibar Copper Mills"})
    assert renamed.status_code == 200
    assert found(writer, "Quetzal Lantern Holdings") == []
    assert found(writer, "Zanzibar Copper Mills") == [new_id]
    assert writer.delete(f"/entities/{FINDER}").status_code == 204
    assert FINDER not in found(writer, "Finder Technology")
    # Patched in: one full build at start, then small overlays only.
    assert builds.full == 1 and builds.partial == 3
    state = writer.get("/healthz").get_json()["index"]
    assert state["ready"] and state["changed_entities"] == 2
    assert [layer["entities"] for layer in state["layers"]][1:] == [2]  # base, then a top
    assert state["data_version"] == writer.get("/healthz").get_json()["generation"]


OPTION_SETS = [
    {"min_score": "0.5"},
    {"min_score": "0.5", "limit": "1"},
    {"jurisdiction": "GB", "min_score": "0.5"},
    {"include_delisted": "true", "min_score": "0.5"},
]


def same_answers(layered: FlaskClient, rebuilt: FlaskClient, names: list[str]) -> None:
    for name in names:
        for options in OPTION_SETS:
            query = {"name": name, **options}
            expected = rebuilt.get("/screen", query_string=query).get_json()["matches"]
            assert layered.get("/screen", query_string=query).get_json()["matches"] == expected, (
                name,
                options,
            )


@pytest.mark.parametrize(("top_max", "tail_max"), [(32, 8), (1, 8), (32, 1)])
def test_a_patched_index_answers_as_a_rebuilt_one(
    writer: FlaskClient,
    loaded_db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    top_max: int,
    tail_max: int,
) -> None:
    monkeypatch.setattr(screen_index, "TOP_MAX", top_max)  # (1: middle layers too)
    monkeypatch.setattr(screen_index, "TAIL_MAX", tail_max)  # (1: tail layers too)
    names = ["Finder Technology", "Juhang Aviation", "Beijing Micropilot", "Sigma Technology"]
    found(writer, names[0])
    writer.post("/entities", json=entity("Finder Technology Holdings", "finder-2"))
    writer.patch("/entities/sigma-technology-limited", json={"name": "Sigma Tech Group"})
    writer.delete("/entities/dennex-enterprises-limited")
    writer.patch(f"/entities/{FINDER}", json={"country": "RU"})
    fresh = client_with_key(make_app(loaded_db_path), None)
    same_answers(writer, fresh, [*names, "Sigma Tech Group", "Dennex Enterprises"])


def test_writes_fold_into_a_middle_layer_without_rebuilding_the_base(
    writer: FlaskClient, builds: Builds, loaded_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(screen_index, "TOP_MAX", 2)
    found(writer, "Finder Technology")
    created = []
    for n, word in enumerate(["Quetzal", "Zanzibar", "Orinoco", "Kilimanjaro", "Patagonia"]):
        response = writer.post("/entities", json=entity(f"{word} Lantern Holdings", f"q-{n}"))
        created.append((f"{word} Lantern Holdings", response.get_json()["id"]))
        assert found(writer, f"{word} Lantern Holdings") == [created[-1][1]]
    deadline = time.monotonic() + 10
    while len(writer.get("/healthz").get_json()["index"]["layers"]) < 3:
        assert time.monotonic() < deadline, "no middle layer"
        time.sleep(0.02)
    writer.delete(f"/entities/{created[0][1]}")
    assert builds.full == 1  # the base was never rebuilt
    layers = writer.get("/healthz").get_json()["index"]["layers"]
    assert sum(layer["entities"] for layer in layers[1:]) >= 5
    fresh = client_with_key(make_app(loaded_db_path), None)
    same_answers(writer, fresh, [name for name, _ in created])
    assert found(writer, created[0][0]) == []


def test_screening_during_a_slow_rebuild_answers_at_once_from_the_old_index(
    writer: FlaskClient, builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert found(writer, "Finder Technology")[0] == FINDER
    # Every write now counts as a large one (like an import): the base is rebuilt
    # in the background, and this rebuild is slow.
    monkeypatch.setattr(screen_index, "BULK_IDS", 0)
    builds.hold_full.set()
    created = writer.post("/entities", json=entity("Quetzal Lantern Holdings", "quetzal-1"))
    assert created.status_code == 201  # the write does not wait for the rebuild either
    assert builds.started.wait(10)
    started = time.monotonic()
    assert found(writer, "Finder Technology")[0] == FINDER  # the old index answers
    assert found(writer, "Quetzal Lantern Holdings") == []  # (without the new entity)
    assert time.monotonic() - started < 5  # not the 30 s the held build could take
    state = writer.get("/healthz").get_json()["index"]
    assert state["ready"] and state["behind"] and state["building"] == "base"
    builds.release.set()
    deadline = time.monotonic() + 10
    while not found(writer, "Quetzal Lantern Holdings"):
        assert time.monotonic() < deadline, "the rebuilt index never came in"
        time.sleep(0.02)
    assert builds.full == 2


def test_a_write_by_another_process_is_picked_up(
    writer: FlaskClient, loaded_db_path: Path, tmp_path: Path
) -> None:
    assert found(writer, "Finder Technology")[0] == FINDER
    fixture = tmp_path / "other.json"
    fixture.write_text(
        '{"dataset": "other", "entities": [{"id": "quetzal-lantern", "type": "company", '
        '"name": "Quetzal Lantern Holdings", "designations": [{"id": "q-1", "jurisdiction": '
        '"GB", "authority": "FCDO", "list": "UK Sanctions List", "evidence": [{"source": '
        '"seed-000", "quote": "including three Chinese companies"}]}]}]}'
    )
    result = CliRunner().invoke(main, ["load", str(fixture), "--db", str(loaded_db_path)])
    assert result.exit_code == 0, result.output
    deadline = time.monotonic() + 10
    while found(writer, "Quetzal Lantern Holdings") != ["quetzal-lantern"]:
        assert time.monotonic() < deadline, "the other process's write was never picked up"
        time.sleep(0.05)
    db = open_registry(loaded_db_path)
    try:
        state = writer.get("/stats").get_json()["index"]
        assert state["data_version"] == current_version(db)
    finally:
        db.close()


def load_by_another_process(
    db_path: Path,
    tmp_path: Path,
    words: Sequence[str] = ("Quetzal", "Zanzibar", "Orinoco", "Kilimanjaro"),
) -> list[str]:
    """`registry load` of companies named "<word> Lantern Holdings" into the
    registry, as another process would; the words their names start with."""
    entities = ", ".join(
        f'{{"id": "{w.lower()}-lantern", "type": "company", "name": "{w} Lantern Holdings", '
        f'"designations": [{{"id": "{w.lower()}-1", "jurisdiction": "GB", "authority": "FCDO", '
        '"list": "UK Sanctions List", "evidence": [{"source": "seed-000", '
        '"quote": "including three Chinese companies"}]}]}'
        for w in words
    )
    fixture = tmp_path / "other.json"
    fixture.write_text(f'{{"dataset": "other", "entities": [{entities}]}}')
    result = CliRunner().invoke(main, ["load", str(fixture), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    return list(words)


def test_a_write_after_a_large_change_by_another_process_folds_it_once(
    writer: FlaskClient, loaded_db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import by another process changed more than a top layer takes: the next
    write waits for the background to fold it (and the write) into the middle
    layer, and the following write's top layer holds that write only (before,
    every write rebuilt a top layer of the whole import until a background fold
    ended)."""
    monkeypatch.setattr(screen_index, "TOP_MAX", 2)
    assert found(writer, "Finder Technology")[0] == FINDER
    words = load_by_another_process(loaded_db_path, tmp_path)
    for word in ["Patagonia", "Atacama"]:
        response = writer.post("/entities", json=entity(f"{word} Lantern Holdings", word.lower()))
        assert response.status_code == 201
    # The load and the first write were folded into the middle layer; the second
    # is alone on top.
    layers = writer.get("/healthz").get_json()["index"]["layers"]
    assert [layer["entities"] for layer in layers[1:]] == [5, 1]
    for word in [*words, "Patagonia", "Atacama"]:
        assert len(found(writer, f"{word} Lantern Holdings")) == 1


def test_a_large_change_by_another_process_is_folded_once_in_the_background(
    writer: FlaskClient,
    builds: Builds,
    loaded_db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process's large change is folded into the middle layer once, by the
    background, while a write waits for it and a screening that notices the change
    leaves it to the background too (after bench.live's import, each fold ran
    twice at once, in the writing thread and in the background, 190 ms of CPU
    each); the write's own thread builds nothing of it."""
    monkeypatch.setattr(screen_index, "TOP_MAX", 2)
    assert found(writer, "Finder Technology")[0] == FINDER
    words = load_by_another_process(loaded_db_path, tmp_path)
    cache: IndexCache = writer.application.extensions["registry_index"]
    reader = writer.application.test_client()
    reader.environ_base.update(writer.environ_base)
    builds.hold_partial = len(words) + 1  # the fold: the load and the write
    statuses: list[int] = []
    write = threading.Thread(
        target=lambda: statuses.append(
            writer.post("/entities", json=entity("Patagonia Lantern Holdings", "p-1")).status_code
        )
    )
    write.start()
    assert builds.started.wait(10), "the fold never started"
    assert found(reader, "Finder Technology")[0] == FINDER  # (notices the load)
    time.sleep(0.3)  # (time for the background to start a fold of its own)
    builds.release.set()
    write.join(10)
    assert statuses == [201]
    deadline = time.monotonic() + 10
    while cache._applier is not None:
        assert time.monotonic() < deadline, "the background never ended"
        time.sleep(0.02)
    folds = [size for size in builds.partial_sizes if size > len(words)]
    assert folds == [len(words) + 1]
    assert write.ident not in [thread for thread, _ in builds.partial_threads]
    for word in words:
        assert found(reader, f"{word} Lantern Holdings") == [f"{word.lower()}-lantern"]
    assert len(found(reader, "Patagonia Lantern Holdings")) == 1


def background_idle(cache: IndexCache) -> None:
    deadline = time.monotonic() + 10
    while cache._applier is not None:
        assert time.monotonic() < deadline, "the background never ended"
        time.sleep(0.01)


def test_a_write_past_the_top_layers_limit_leaves_the_fold_to_the_background(
    writer: FlaskClient, builds: Builds, loaded_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write that takes the top layer past TOP_MAX builds that top layer only
    and answers; the middle layer (every entity changed since the base) is rebuilt
    by the background. (bench.live --trace: after the import, about every 25th
    write rebuilt a middle layer of 700 entities in its own thread before its
    answer left, 236-305 ms of CPU.) While that fold is under way, writes publish
    views with a top layer a little past the limit."""
    monkeypatch.setattr(screen_index, "TOP_MAX", 2)  # (TOP_HARD: tops of up to 4)
    assert found(writer, "Finder Technology")[0] == FINDER
    cache: IndexCache = writer.application.extensions["registry_index"]
    me = threading.get_ident()
    words = ["Quetzal", "Zanzibar", "Orinoco", "Kilimanjaro", "Patagonia", "Atacama"]
    words += ["Serengeti", "Okavango", "Kamchatka", "Tasmania"]
    created: list[tuple[str, str]] = []

    def write(n: int) -> None:
        name = f"{words[n]} Lantern Holdings"
        response = writer.post("/entities", json=entity(name, f"q-{n}"))
        assert response.status_code == 201
        created.append((name, response.get_json()["id"]))
        assert found(writer, name) == [created[-1][1]]  # screened as soon as it answers

    for n in range(8):
        write(n)
        background_idle(cache)
    mine = [size for thread, size in builds.partial_threads if thread == me]
    theirs = [size for thread, size in builds.partial_threads if thread != me]
    assert max(mine) == 3  # the top layer of the write that crossed the limit
    assert theirs == [3, 6]  # the folds: every entity changed since the base
    assert [layer["entities"] for layer in cache.state()["layers"][1:]] == [6, 2]

    builds.hold_partial = 9  # the next fold waits until released
    write(8)  # a top of 3 entities: the background folds 9 (and waits)
    assert builds.started.wait(10)
    write(9)  # the fold is under way: a top of 4, not a wait
    assert [layer["entities"] for layer in cache.state()["layers"][1:]] == [6, 4]
    builds.release.set()
    background_idle(cache)
    assert [layer["entities"] for layer in cache.state()["layers"][1:]] == [9, 1]
    assert max(size for thread, size in builds.partial_threads if thread == me) == 4
    assert builds.full == 1
    fresh = client_with_key(make_app(loaded_db_path), None)
    same_answers(writer, fresh, [name for name, _ in created])


PLACES = [
    "Quetzal", "Zanzibar", "Orinoco", "Kilimanjaro", "Patagonia", "Atacama", "Serengeti",
    "Okavango", "Kamchatka", "Tasmania", "Galapagos", "Svalbard", "Madagascar", "Tierra",
    "Yucatan", "Borneo", "Sumatra", "Andaman", "Lofoten", "Hokkaido",
]  # fmt: skip


def test_a_write_builds_only_what_it_changed_however_large_the_top_layer(
    writer: FlaskClient, builds: Builds, loaded_db_path: Path, tmp_path: Path
) -> None:
    """With many entities in the top layer (another process's load of 20), a write
    through the API builds a tail layer of the one entity it changed, not the whole
    top layer again (bench.live: every write rebuilt the top, up to 64 entities,
    40 ms of CPU); once the tail holds TAIL_MAX entities the background merges it
    into the top. Answers stay those of a fresh build."""
    assert found(writer, "Finder Technology")[0] == FINDER
    cache: IndexCache = writer.application.extensions["registry_index"]
    load_by_another_process(loaded_db_path, tmp_path, PLACES)
    assert found(writer, "Quetzal Lantern Holdings") == ["quetzal-lantern"]
    background_idle(cache)
    assert [layer["entities"] for layer in cache.state()["layers"][1:]] == [20]
    me = threading.get_ident()
    created: list[str] = []
    for n in range(screen_index.TAIL_MAX):
        before = len(builds.partial_threads)
        name = f"{PLACES[n]} Copper Mills"
        response = writer.post("/entities", json=entity(name, f"mill-{n}"))
        assert response.status_code == 201
        created.append(name)
        assert found(writer, name) == [response.get_json()["id"]]
        mine = [size for thread, size in builds.partial_threads[before:] if thread == me]
        assert mine == [n + 1]  # the tail: what changed since the top layer
        if n == 0:
            assert [layer["entities"] for layer in cache.state()["layers"][1:]] == [20, 1]
        background_idle(cache)
    # The tail reached TAIL_MAX: merged into the top by the background.
    assert [layer["entities"] for layer in cache.state()["layers"][1:]] == [28]
    assert builds.full == 1
    fresh = client_with_key(make_app(loaded_db_path), None)
    same_answers(writer, fresh, [*created[:3], "Quetzal Lantern Holdings", "Finder Technology"])


def write_three_past_a_small_top(
    writer: FlaskClient, monkeypatch: pytest.MonkeyPatch, *, idle_each: bool
) -> IndexCache:
    """Three API writes with TOP_MAX 2 (so that the background folds); the cache,
    its background idle after the last (or after each, `idle_each`)."""
    monkeypatch.setattr(screen_index, "TOP_MAX", 2)
    assert found(writer, "Finder Technology")[0] == FINDER
    cache: IndexCache = writer.application.extensions["registry_index"]
    for n, word in enumerate(["Quetzal", "Zanzibar", "Orinoco"]):
        name = f"{word} Lantern Holdings"
        assert writer.post("/entities", json=entity(name, f"q-{n}")).status_code == 201
        if idle_each:
            background_idle(cache)
    background_idle(cache)
    return cache


def test_a_background_fold_freezes_its_layer_without_walking_it(
    writer: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a fold, the new middle layer's objects are moved out of the cyclic
    collector's sight at once (`gc.freeze`, constant time), so that no collection
    walks them while requests wait (the generation-1 collection the fold thread
    made instead stopped every thread for 40-56 ms of CPU, up to 370 ms of wall
    time at load 9, in bench.live's trace)."""
    cache = write_three_past_a_small_top(writer, monkeypatch, idle_each=False)
    view = cache._view
    assert view is not None and view.mid is not None and view.mid.entities == 3
    mid = view.mid
    assert gc.is_tracked(mid)
    assert not any(o is mid for o in gc.get_objects())  # frozen: in no generation


def test_the_backgrounds_builds_give_way_to_requests_in_flight(
    writer: FlaskClient, builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fold or merge built by the background pauses every few names while a
    request is in flight, giving the interpreter lock up (a fold of 150-300 ms of
    CPU otherwise held it 5 ms at a time against every request, the writer's next
    screening among them); a write's own layer is not paced (its writer waits)."""
    cache = write_three_past_a_small_top(writer, monkeypatch, idle_each=True)
    me = threading.get_ident()
    paced = list(zip(builds.partial_threads, builds.partial_paced, strict=True))
    assert [p for (thread, _), p in paced if thread != me] == [True]  # the fold
    assert not any(p for (thread, _), p in paced if thread == me)
    monkeypatch.setattr(screen_index, "PACE_SLEEP", 0.05)
    with cache._paced():
        pace = screen_index.build_pace()
        assert pace is not None
        started = time.monotonic()
        pace()  # no request in flight: no pause
        assert time.monotonic() - started < 0.05
        cache.request_started()
        try:
            started = time.monotonic()
            pace()
            assert time.monotonic() - started >= 0.05
        finally:
            cache.request_ended()
    assert screen_index.build_pace() is None


def test_a_reader_never_waits_for_another_threads_catch_up(
    writer: FlaskClient, loaded_db_path: Path, tmp_path: Path
) -> None:
    assert found(writer, "Finder Technology")[0] == FINDER
    fixture = tmp_path / "other.json"
    fixture.write_text(
        '{"dataset": "other", "entities": [{"id": "quetzal-lantern", "type": "company", '
        '"name": "Quetzal Lantern Holdings", "designations": [{"id": "q-1", "jurisdiction": '
        '"GB", "authority": "FCDO", "list": "UK Sanctions List", "evidence": [{"source": '
        '"seed-000", "quote": "including three Chinese companies"}]}]}]}'
    )
    result = CliRunner().invoke(main, ["load", str(fixture), "--db", str(loaded_db_path)])
    assert result.exit_code == 0, result.output
    cache: IndexCache = writer.application.extensions["registry_index"]
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:  # another thread patching, or folding a large change: 8 s
        with cache._apply_lock:
            holding.set()
            done.wait(8)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    started = time.monotonic()
    assert found(writer, "Quetzal Lantern Holdings") == []  # the view as it was
    assert found(writer, "Finder Technology")[0] == FINDER
    assert time.monotonic() - started < 5
    done.set()
    holder.join()
    deadline = time.monotonic() + 10
    while found(writer, "Quetzal Lantern Holdings") != ["quetzal-lantern"]:
        assert time.monotonic() < deadline, "never caught up"
        time.sleep(0.05)


def test_the_version_log_lists_what_each_write_changed(loaded_db_path: Path) -> None:
    db = open_registry(loaded_db_path)
    try:
        before = current_version(db)
        load_paths(db, [FIXTURES])  # changes nothing: no new version
        assert current_version(db) == before
        from registry.editing import delete_entity

        delete_entity(db, FINDER, actor="test")
        changes = changes_since(db, before, max_ids=100)
        assert changes.version == before + 1 and changes.entity_ids == {FINDER}
        assert not changes.bulk
        assert changes_since(db, before, max_ids=0).bulk  # too many to patch: rebuild
    finally:
        db.close()


def test_as_of_instants_with_the_same_data_share_one_index(
    writer: FlaskClient, builds: Builds
) -> None:
    found(writer, "Finder Technology")
    first, second = utcnow(), utcnow()
    assert writer.delete("/entities/sigma-technology-limited").status_code == 204
    assert found(writer, "Sigma Technology", as_of=first) == ["sigma-technology-limited"]
    assert found(writer, "Sigma Technology", as_of=second) == ["sigma-technology-limited"]
    assert found(writer, "Sigma Technology") == []
    assert len(builds.past) == 1  # one index for both instants
    # An instant whose data is the current data needs no past index at all.
    assert found(writer, "Sigma Technology", as_of=utcnow()) == []
    assert found(writer, "Finder Technology", as_of=utcnow())[0] == FINDER
    assert len(builds.past) == 1


def test_a_past_index_being_built_answers_503_with_retry_after(
    loaded_db_path: Path, builds: Builds, keys: dict[str, str]
) -> None:
    app = app_with(loaded_db_path, builds, wait=0.0)
    client = client_with_key(app, keys["write"])
    try:
        assert client.get("/readyz").status_code in (200, 503)
        builds.hold_past.set()
        past = [utcnow()]
        for n in range(4):
            client.post("/entities", json=entity(f"Quetzal Lantern {n}", f"q-{n}"))
            past.append(utcnow())
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        busy = client.get("/screen", query_string={"name": "Finder", "as_of": past[0]})
        assert busy.status_code == 503, busy.get_data(as_text=True)
        assert busy.content_type == "application/problem+json"
        assert int(busy.headers["Retry-After"]) >= 1
        assert "being built" in busy.get_json()["detail"]
        assert builds.started.wait(10)
        # One build at a time, a short queue: beyond it, refused at once too.
        answers = [
            client.get("/screen", query_string={"name": "Finder", "as_of": t}) for t in past[1:4]
        ]
        assert [a.status_code for a in answers] == [503, 503, 503]
        assert "other past instants" in answers[-1].get_json()["detail"]
        builds.release.set()
        deadline = time.monotonic() + 10
        while (
            client.get("/screen", query_string={"name": "Finder", "as_of": past[0]}).status_code
            != 200
        ):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        builds.release.set()
        app.extensions["registry_index"].close()


def test_readyz_is_503_until_the_first_index_is_built(loaded_db_path: Path, builds: Builds) -> None:
    builds.hold_full.set()
    app = app_with(loaded_db_path, builds, wait=0.0)
    client = app.test_client()
    try:
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.content_type == "application/problem+json"
        assert int(not_ready.headers["Retry-After"]) >= 1
        health = client.get("/healthz")
        assert health.status_code == 200  # up, but not ready to screen
        assert health.get_json()["index"]["state"] == "building"
        assert builds.started.wait(10)
        assert client.get("/screen", query_string={"name": "Finder"}).status_code == 503
        builds.release.set()
        deadline = time.monotonic() + 10
        while (ready := client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        index = ready.get_json()["index"]
        assert (
            index["state"] == "ready" and index["names"] > 0 and index["last_build"]["seconds"] >= 0
        )
        assert client.get("/screen", query_string={"name": "Finder Technology"}).status_code == 200
    finally:
        builds.release.set()
        app.extensions["registry_index"].close()


def test_a_replaced_index_is_freed(loaded_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Frozen or not (gc.freeze after each build), an index nothing refers to is
    # freed by reference counting alone: it holds no reference cycle.
    monkeypatch.setattr(screen_index, "BULK_IDS", 0)  # every write rebuilds the base
    cache = IndexCache(loaded_db_path)
    db = open_registry(loaded_db_path)
    try:
        view = cache.wait_ready(30)
        for name in ["Finder Technology", "Juhang Aviation Tech", "Micro Pilot", "Sigma"]:
            view.screen(
                name,
                entity_type=None,
                country=None,
                threshold=0.5,
                limit=10,
                allowed=view.restrict(None),
            )  # fills the per-query caches
        old_index = view.base.built.index
        old_view = weakref.ref(view)
        old_built = weakref.ref(view.base.built)
        del view
        from registry.editing import delete_entity

        delete_entity(db, FINDER, actor="test")
        cache.catch_up()  # patches, and starts a rebuild of the base
        deadline = time.monotonic() + 20
        while old_built() is not None:  # until the new base is in and the old let go
            assert time.monotonic() < deadline, cache.state()
            time.sleep(0.02)
        assert old_view() is None
        assert cache.state()["data_version"] == current_version(db)
        # Nothing but this function refers to the old NameIndex: dropping it frees it.
        assert sys.getrefcount(old_index) == 2, gc.get_referrers(old_index)
    finally:
        cache.close()
        db.close()


def test_an_import_stands_when_another_writer_keeps_the_planner_statistics_waiting(
    loaded_db_path: Path,
) -> None:
    """After an import commits, refreshing the planner's statistics needs the write lock
    again; with a service writing meanwhile SQLite may refuse at once. The import has
    happened all the same (it used to be reported failed, then crash on its run id)."""
    from registry.db import connect
    from registry.imports import run_import

    db = connect(loaded_db_path, busy_timeout_ms=50)
    other = open_registry(loaded_db_path)

    def hold_the_lock(statement: str) -> None:
        if statement.startswith("PRAGMA optimize"):
            other.conn.execute("BEGIN IMMEDIATE")

    db.conn.set_trace_callback(hold_the_lock)
    try:
        sample = Path(__file__).parent / "samples" / "UK-Sanctions-List.csv"
        result = run_import(db, "uk-fcdo-csv", [sample])
    finally:
        db.conn.set_trace_callback(None)
        if other.conn.in_transaction:
            other.conn.execute("ROLLBACK")
        other.close()
        db.close()
    assert result.counts.added == 2
    check = open_registry(loaded_db_path)
    try:
        runs = check.conn.execute("SELECT status FROM import_runs").fetchall()
        assert runs == [("finished",)]
    finally:
        check.close()


def test_long_lived_objects_are_frozen_out_of_the_collectors_walks() -> None:
    """What a serving process loads or caches after its index (a dictionary loaded
    by the first query that needs it) is frozen once it has reached the oldest
    generation, so that older-generation collections stop walking it; and it is
    frozen at the end of the young collection that moved it there, without
    another collection walking it first (that walk was bench.live's longest
    pause)."""
    thresholds = gc.get_threshold()
    keeper = screen_index.GcKeeper(above=10_000)
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    keeper.start()
    enabled = gc.isenabled()
    gc.disable()  # (only the collections below)
    try:
        gc.collect()
        gc.callbacks.append(seen)
        loaded = {f"word {n}": [n] for n in range(20_000)}  # (tracked: 20,001 objects)
        frozen, freezes = gc.get_freeze_count(), keeper.freezes
        gc.collect(1)  # (a young collection, as the collector would make in time)
        assert keeper.freezes == freezes + 1
        assert gc.get_freeze_count() >= frozen + len(loaded)
        assert len(gc.get_objects(2)) < 10_000
        assert 2 not in collections, "walked by a full collection before it was frozen"
        gc.collect(1)  # (below the bound: nothing more frozen)
        assert keeper.freezes == freezes + 1
    finally:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(seen)
        keeper.stop()
        gc.set_threshold(*thresholds)
        if enabled:
            gc.enable()
