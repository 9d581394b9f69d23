"""The screening index's lifecycle: built off the request path, swapped in whole,
patched after every write, and kept for past instants by data version.

Readers take the current `IndexView` (one attribute read) and use it for all
the names of their request; nothing they do waits for a build. A view is
immutable, in up to four layers, each a `NameIndex` built from one snapshot
of the registry (one data version) and answering for some entities:

- the *base*: the whole registry at some version (a full build: seconds);
- the *middle* layer: the entities changed since the base, as they were when it
  was built (rebuilt in the background when the top and tail layers hold more
  than `TOP_MAX`);
- the *top* layer: the entities changed since the middle one, as they were
  when it was built (rebuilt by a write while it holds at most `TAIL_MAX`, then
  by the background when the tail reaches `TAIL_MAX`);
- the *tail* layer: the entities changed since the top one, as they are now
  (rebuilt at every write once the top is past `TAIL_MAX`: the write's own few,
  whatever the size of the layers below).

An entity is answered for by the highest layer that has it; the layers below
ignore it. Changing the index means making a new view and swapping one
reference.

Catching up reads the data version log (`registry.versions`). A write through
this process's API catches up before its answer leaves (`catch_up`, from an
after-request hook), so the writer's next screening sees it. A write by another
process (a CLI import) is noticed by the version check every screening makes
(one read of the version in its snapshot): up to `TOP_MAX` changed entities are
patched in before it answers, so the answer agrees with the snapshot it reads
entities from; more are applied by a background thread. A version
that changed more than `BULK_IDS` entities (an import of a whole new list), or
a middle layer past `MID_MAX` entities, makes a background thread rebuild the
base while the old view goes on serving (`behind` says the view lacks a large
change meanwhile; small writes still come in on top).

Past instants (`as_of`) map to the data version in force then; one index per
version, built by the same background thread (one build at a time, the
current index first), at most `keep_past` kept. While the one asked for is
being built, or when too many are queued, `view` raises `IndexUnavailable`
(the API answers 503 with Retry-After).

Memory: nothing refers back to a view or an index (`NameIndex` has no
reference cycle), so a replaced one is freed as soon as the last request using
it ends, frozen by `gc.freeze` or not (see `_Settler` for why full builds are
frozen). A full build shares no object with the queries or with the index it
replaces (`analysis.Interner`), and once that one is freed the matcher's query
caches are emptied and free pages handed back to the system. What a full
rebuild still costs is fragmentation: the new index's objects fill holes in the
memory of the old one, which then cannot all go back; hence the layers, which
keep writes and small imports from ever needing one.

For later work: a layer is just a `NameIndex` built by `Builder` for some
entities, and answers are merged by score. Anything an index derives from its
whole vocabulary (the rarity of a word, say) must therefore come from the base
and be handed to the layers' builds, or the same name would score differently
in a small layer.

Snapshots (`index_snapshot`): with `snapshot=` a full build of the base is saved
next to the database, and the first base (or a later one, when another process
saved a newer one: `serve --workers`, a CLI run beside the service) is loaded
from it instead of built when it fits this code and registry and no large
change came after it; the view then catches up from `versions.changes_since`
exactly as after writes. `seed` hands over a base loaded before this process
was forked (`serve --workers`), its memory shared with the parent.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import math
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Collection, Container, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from . import index_snapshot
from .db import connect, utcnow
from .matching import Match, NameIndex, clear_caches
from .versions import (
    Changes,
    changes_since,
    current_version,
    pending,
    read_snapshot,
    version_at,
)

log = logging.getLogger(__name__)

# A version that changed more entities than this is applied by rebuilding the base.
BULK_IDS = 2_000
# Entities in the top layer beyond which it is folded into the middle one (in the
# background: the top grows past it meanwhile, up to TOP_HARD; see `catch_up`).
TOP_MAX = 32
# The largest top layer a write builds, as a multiple of TOP_MAX.
TOP_HARD = 2
# Entities changed since the middle layer up to which a write rebuilds the top
# layer whole; past it, a write builds a tail layer of what changed since the top
# only, and the background merges a tail of this many into the top.
TAIL_MAX = 8
# Entities in the middle layer beyond which the base is rebuilt.
MID_MAX = 5_000
# Past indexes waiting to be built; more is a 503.
PAST_QUEUE = 2
# Seconds a write's catch-up waits for a fold under way (see `catch_up`).
FOLD_WAIT = 10.0
# A background build of a layer (a fold, a merge) gives the interpreter lock up for
# PACE_SLEEP seconds every PACE_EVERY names while requests are in flight (see
# `IndexCache._paced`).
PACE_EVERY = 8
PACE_SLEEP = 0.001

_pace: ContextVar[Callable[[], None] | None] = ContextVar("index_build_pace", default=None)


def build_pace() -> Callable[[], None] | None:
    """What a build in this thread calls every `PACE_EVERY` names (None: nothing)."""
    return _pace.get()


class IndexUnavailable(Exception):
    """No index can answer yet (the first build, or a past one, is under way, or too
    many past ones are asked for at once): retry after `retry_after` seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


@dataclass(eq=False)
class BuiltIndex:
    """A name index built from the registry (all of it, or some entities)."""

    index: NameIndex
    active: frozenset[str]  # entities with a listing in force
    names: int
    seconds: float
    version: int = 0  # the data version it was built from (set by its builder)
    entities: int = 0


# build(db, as_of, entity_ids): screening.build_index, or a stand-in in tests.
Builder = Callable[[sqlite_utils.Database, str | None, Collection[str] | None], BuiltIndex]


class _Excluding:
    """Any entity but these (a lower layer, when no filter applies)."""

    __slots__ = ("_hidden",)

    def __init__(self, hidden: frozenset[str]) -> None:
        self._hidden = hidden

    def __contains__(self, entity_id: object) -> bool:
        return entity_id not in self._hidden


class _Within:
    """The entities a filter allows, but not these (a lower layer)."""

    __slots__ = ("_allowed", "_hidden")

    def __init__(self, allowed: Container[str], hidden: frozenset[str]) -> None:
        self._allowed = allowed
        self._hidden = hidden

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._allowed and entity_id not in self._hidden


@dataclass(frozen=True, eq=False)
class Layer:
    """An index built from one version of the registry, for some entities."""

    built: BuiltIndex
    ids: frozenset[str] | None  # the entities it answers for (None: all, the base)
    version: int  # the data version it was built from

    @property
    def entities(self) -> int:
        return self.built.entities if self.ids is None else len(self.ids)


# Per layer, the entity ids a query may match there (None: any).
Allowed = tuple[Container[str] | None, ...]


class _ViewActive:
    """The entities with a listing in force in a view, each as its highest layer
    says (a container, not a set: nothing iterates it, and making the union at
    every write would cost more than the write)."""

    __slots__ = ("_layers",)

    def __init__(self, layers: tuple[Layer, ...]) -> None:
        self._layers = layers

    def __contains__(self, entity_id: object) -> bool:
        for layer in reversed(self._layers):
            if layer.ids is None or entity_id in layer.ids:
                return entity_id in layer.built.active
        return False


@dataclass(frozen=True, eq=False)
class IndexView:
    """One immutable state of the screening index; see the module docstring."""

    base: Layer
    mid: Layer | None
    top: Layer | None
    version: int  # the data version this view has caught up with
    behind: bool  # a large change newer than the base is not in yet (base being rebuilt)
    # The entities with a listing in force (what screening allows by default).
    active: Container[str]
    built_at: float = field(default_factory=time.time)
    # The entities changed since the top layer, as they are now (a write's own
    # few: see `IndexCache.catch_up`); None: none.
    tail: Layer | None = None
    # Per layer (base, mid, top, tail that exist): the ids the layers above answer
    # for, and the active entities the layer may answer for by default. The base's
    # leave out the middle layer's ids only (made once per middle layer): the top
    # and tail layers' few are taken out of the base's answers instead (see `screen`).
    _hidden: tuple[frozenset[str], ...] = ()
    _active: tuple[frozenset[str], ...] = ()
    _upper: frozenset[str] = frozenset()  # the top and tail layers' ids

    @classmethod
    def of(
        cls,
        base: Layer,
        mid: Layer | None = None,
        top: Layer | None = None,
        version: int | None = None,
        behind: bool = False,
        previous: IndexView | None = None,
        tail: Layer | None = None,
    ) -> IndexView:
        """A view of these layers; `previous` (a view with the same base and middle
        layer) lends what depends on them only."""
        tail_ids = tail.ids or frozenset() if tail is not None else frozenset()
        top_ids = top.ids or frozenset() if top is not None else frozenset()
        upper = top_ids | tail_ids if tail_ids else top_ids
        mid_ids = mid.ids or frozenset() if mid is not None else frozenset()
        if previous is not None and previous.base is base and previous.mid is mid:
            base_active = previous._active[0]
        else:
            base_active = base.built.active - mid_ids if mid_ids else base.built.active
        hidden = [mid_ids | upper]
        actives = [base_active]
        if mid is not None:
            hidden.append(upper)
            actives.append(mid.built.active - upper if upper else mid.built.active)
        if top is not None:
            hidden.append(tail_ids)
            actives.append(top.built.active - tail_ids if tail_ids else top.built.active)
        if tail is not None:
            hidden.append(frozenset())
            actives.append(tail.built.active)
        layers = tuple(layer for layer in (base, mid, top, tail) if layer is not None)
        return cls(
            base=base,
            mid=mid,
            top=top,
            version=(tail or top or mid or base).version if version is None else version,
            behind=behind,
            active=_ViewActive(layers) if len(layers) > 1 else base.built.active,
            tail=tail,
            _hidden=tuple(hidden),
            _active=tuple(actives),
            _upper=upper,
        )

    @property
    def layers(self) -> tuple[Layer, ...]:
        return tuple(
            layer for layer in (self.base, self.mid, self.top, self.tail) if layer is not None
        )

    @property
    def names(self) -> int:
        """Names indexed, in every layer."""
        return sum(layer.built.names for layer in self.layers)

    @property
    def above_mid(self) -> int:
        """Entities answered for by the top and tail layers."""
        return len(self._upper)

    @property
    def changed(self) -> int:
        """Entities answered for above the base (changed since it was built)."""
        return len(self._hidden[0])

    def restrict(self, allowed: Container[str] | None) -> Allowed:
        """What `allowed` (from the registry's filters, `active` by default; None for
        any) means in each layer, which must not answer for the entities of the
        layers above."""
        if allowed is self.active:
            return self._active
        out: list[Container[str] | None] = []
        for hidden in self._hidden:
            if not hidden:
                out.append(allowed)
            elif allowed is None:
                out.append(_Excluding(hidden))
            else:
                out.append(_Within(allowed, hidden))
        return tuple(out)

    def screen(
        self,
        name: str,
        *,
        entity_type: str | None,
        country: str | None,
        threshold: float,
        limit: int,
        allowed: Allowed,
    ) -> list[Match]:
        """Best matches of every layer together, best first, `limit` at most."""
        top_ids = self._upper
        found: list[Match] = []
        for k, (layer, within) in enumerate(zip(self.layers, allowed, strict=True)):
            if k == 0 and top_ids:
                # The base may answer for entities of the top and tail layers (see _active):
                # ask for as many more, and drop them.
                more = layer.built.index.screen(
                    name,
                    entity_type=entity_type,
                    country=country,
                    threshold=threshold,
                    limit=limit + len(top_ids),
                    allowed_ids=within,
                )
                found += [m for m in more if m.entity_id not in top_ids]
                continue
            found += layer.built.index.screen(
                name,
                entity_type=entity_type,
                country=country,
                threshold=threshold,
                limit=limit,
                allowed_ids=within,
            )
        if len(allowed) > 1:
            found.sort(key=lambda m: (-m.score, m.entity_id))
        return found[:limit]

    def score_entities(
        self,
        name: str,
        entity_ids: Collection[str],
        *,
        entity_type: str | None,
        country: str | None,
        threshold: float,
        allowed: Allowed,
    ) -> list[Match]:
        """`NameIndex.score_entities` over the layers: each entity scored in the
        highest layer that has it. Best first."""
        top_ids = self._upper
        found: list[Match] = []
        for k, (layer, within) in enumerate(zip(self.layers, allowed, strict=True)):
            scored = layer.built.index.score_entities(
                name,
                entity_ids,
                entity_type=entity_type,
                country=country,
                threshold=threshold,
                allowed_ids=within,
            )
            if k == 0 and top_ids:
                scored = [m for m in scored if m.entity_id not in top_ids]
            found += scored
        if len(allowed) > 1:
            found.sort(key=lambda m: (-m.score, m.entity_id))
        return found


def _default_builder(
    db: sqlite_utils.Database, as_of: str | None, entity_ids: Collection[str] | None
) -> BuiltIndex:
    from .screening import build_index

    return build_index(db, as_of, entity_ids)


def _empty() -> BuiltIndex:
    return BuiltIndex(NameIndex(), frozenset(), 0, 0.0)


class _Settler:
    """Keeps a large build's objects out of the cyclic garbage collector's work.

    A built index is millions of objects; every full collection would walk them
    all while holding the interpreter lock (seconds, during which no request
    runs). `gc.freeze()` moves every object alive into a generation the
    collector ignores (reference counting still frees them), but everything
    alive then is frozen: garbage in reference cycles not yet collected (each
    request leaves some: marshmallow schemas, werkzeug requests) would stay
    forever. So while the build runs, about every `every` seconds, at a moment
    when no request is in flight (waiting at most `patience` for one), this
    collects (the little that is not frozen: the index made since the last
    time, and the requests' garbage) and freezes at once. Each pause is short,
    and nothing but the index (and the service's long-lived objects) is frozen,
    bar the objects of requests in flight when there was no quiet moment.
    """

    def __init__(
        self, idle: Callable[[], bool], every: float = 0.25, patience: float = 0.05
    ) -> None:
        self._idle = idle
        self._every = every
        self._patience = patience
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index-settle", daemon=True)

    def start(self) -> None:
        self._settle()  # what was garbage before the build
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._settle()  # the rest of the build

    def _run(self) -> None:
        while not self._done.wait(self._every):
            self._settle()

    def _settle(self) -> None:
        deadline = time.monotonic() + self._patience
        while not self._idle() and time.monotonic() < deadline:
            time.sleep(0.002)
        gc.collect()
        gc.freeze()


# A young collection every this many allocations. Each one stops every thread
# (about 10 ms of CPU each here); at 50,000 each stopped them for 100-170 ms of
# CPU, the worst of bench.live's screening tail (bench.live --trace).
GC_YOUNG = 5_000
# A middle-generation collection every this many young ones. The query caches'
# new entries pile up there until it runs: at 20 it walked up to 100,000 of them
# (30-75 ms of CPU, the slowest ordinary names of bench.screen_quality); at 3,
# 15-20 ms at most and fewer pauses over 15 ms (12 -> 2 in one run).
GC_MIDDLE = 3
# Long-lived objects not frozen beyond which they are frozen (see GcKeeper).
GC_FREEZE_ABOVE = 20_000


class GcKeeper:
    """Keeps a serving process's garbage collections short.

    The index is frozen (`_Settler`), but what is loaded or made later is not:
    data loaded at the first query that needs it (a Chinese query loads the
    pinyin dictionaries: 130,000 objects), the matcher's query caches, and the
    layers built after writes and imports (a fold of a 560-entity import: some
    60,000 objects). Each older-generation collection would walk it all again,
    45-100 ms of CPU, the whole service stopped.

    So at the end of a collection of generation 1 or 2, when more than `above`
    objects not frozen sit in the oldest generation, this freezes them, there
    and then, from the collector's own callback: they have just survived that
    collection (the walk is paid already), and freezing takes constant time.
    (It used to collect everything once more and then freeze, from a thread:
    that walk was the longest pause of bench.live's trace, 30-100 ms of CPU and
    0.3-0.8 s of wall time at load 10, once after the import and a few times
    as the caches filled.) What it freezes is what survived: long-lived data
    and, at worst, the objects of requests in flight at that moment, of which
    only those in reference cycles stay once the request ends (reference
    counting still frees the rest): measured in one process, 92 objects left
    frozen that were garbage after 5,000 screenings (two freezes)."""

    def __init__(self, above: int = GC_FREEZE_ABOVE) -> None:
        self._above = above
        self._started = False
        self.freezes = 0

    def start(self) -> None:
        gc.set_threshold(GC_YOUNG, GC_MIDDLE, 10)
        if not self._started:
            self._started = True
            gc.callbacks.append(self._callback)

    def stop(self) -> None:
        self._started = False
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        # (inside the collection that has just ended, holding the interpreter lock:
        # no other thread allocates between its end and the freeze)
        if phase != "stop" or info["generation"] < 1:
            return
        if len(gc.get_objects(2)) < self._above:
            return
        gc.freeze()
        self.freezes += 1  # (not logged here: a handler's lock inside the collector)


def _give_back_memory() -> None:
    """Return freed heap pages to the system (glibc keeps them otherwise)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class IndexCache:
    """The screening indexes of one database: the current view and a few past ones.

    `view` for readers; `start` to build the first one at start-up; `catch_up`
    after a write; `state` for /healthz, /readyz and /stats; `close` to stop.
    `build` (for tests) replaces `screening.build_index`.
    """

    def __init__(
        self,
        db_path: str | Path,
        *,
        busy_timeout_ms: int = 10_000,
        keep_past: int = 1,
        wait: float = 5.0,
        build: Builder | None = None,
        settle: bool = True,
        snapshot: str | Path | None = None,
    ) -> None:
        self._db_path = str(db_path)
        # Where the base index is saved after a full build and loaded from at
        # start (index_snapshot); None: never saved.
        self._snapshot = Path(snapshot) if snapshot is not None else None
        self._seed: BuiltIndex | None = None  # a base loaded before this process forked
        self._busy_timeout_ms = busy_timeout_ms
        self._keep_past = max(0, keep_past)
        self._wait = wait  # how long a reader waits for an index that is not there yet
        self._build = build or _default_builder
        self._settle = settle
        self._view: IndexView | None = None  # replaced whole, never changed
        self._lock = threading.Lock()  # guards what follows
        self._changed = threading.Condition(self._lock)
        self._apply_lock = threading.Lock()  # one catch-up (and swap) at a time
        self._apply_db: sqlite_utils.Database | None = None  # used under _apply_lock
        self._want_base = False
        self._want_catch_up = False
        self._want_fold = False
        self._want_merge = False
        self._folding = False
        self._past: OrderedDict[int, IndexView] = OrderedDict()
        self._past_wanted: OrderedDict[int, str | None] = OrderedDict()
        self._building: str | None = None  # what the builder thread is building
        self._building_since = 0.0
        self._base_from = -1  # version the base being built reads (-1: none)
        self._builder: threading.Thread | None = None
        self._applier: threading.Thread | None = None
        self._last_build: dict[str, Any] | None = None
        self._full_build_seconds = 0.0
        self._failure: str | None = None
        self._closed = False
        self._in_flight = 0
        self._gc_keeper: GcKeeper | None = None

    # ------------------------------------------------------------------ readers
    def view(self, db: sqlite_utils.Database, as_of: str | None = None) -> IndexView:
        """The index to screen with now (or as of a past instant). Raises
        IndexUnavailable when none is ready (after waiting a little for one)."""
        if as_of is not None and as_of >= utcnow():
            as_of = None  # the future looks like now
        current = self._view
        if as_of is None:
            if current is None:
                return self._wait_for_first()
            return self._up_to(db, current)
        version, at = version_at(db, as_of)
        if current is not None and version >= current.version:
            current = self._up_to(db, current)  # (the instant may be after its last write)
        if current is not None and version == current.version and not current.behind:
            return current  # nothing changed since that instant
        return self._past_view(version, at, as_of)

    def wait_ready(self, timeout: float | None = None) -> IndexView:
        """Block until the current index is ready (the command line's screening)."""
        self.start()
        with self._changed:
            self._changed.wait_for(lambda: self._view is not None or self._closed, timeout)
            if self._view is None:
                raise IndexUnavailable(self.not_ready_detail(), self.retry_after())
            return self._view

    def _up_to(self, db: sqlite_utils.Database, current: IndexView) -> IndexView:
        """The view for a reader whose snapshot `db` may hold writes the view lacks
        (another process's): a few changed entities are patched in now (a few
        milliseconds: the answer then agrees with the reader's snapshot), more are
        left to the background (the reader gets the view as it is)."""
        version = current_version(db)
        if version <= current.version:
            return current
        count, bulk = pending(db, current.version, max_ids=BULK_IDS)
        if bulk or count > TOP_MAX:
            self._schedule_catch_up()
            return current
        return self.catch_up(fold=False) or current

    def poll(self, db: sqlite_utils.Database) -> None:
        """Catch up in the background if another process changed the registry."""
        current = self._view
        if current is not None and current_version(db) != current.version:
            self._schedule_catch_up()

    def changed(self) -> None:
        """The registry changed outside a request of this app (a refresh thread, say):
        catch up in the background."""
        if self._view is not None:
            self._schedule_catch_up()

    def _wait_for_first(self) -> IndexView:
        self.start()
        with self._changed:
            self._changed.wait_for(lambda: self._view is not None, self._wait)
            view = self._view
        if view is None:
            raise IndexUnavailable(self.not_ready_detail(), self.retry_after())
        return view

    def not_ready_detail(self) -> str:
        if self._failure:
            return "The screening index could not be built; the failure has been logged."
        return "The screening index is being built; screening answers once it is ready."

    def _past_view(self, version: int, at: str | None, as_of: str) -> IndexView:
        with self._changed:
            found = self._past.get(version)
            queued = self._building == f"past:{version}" or version in self._past_wanted
            if found is None and not queued:
                if len(self._past_wanted) >= PAST_QUEUE:
                    raise IndexUnavailable(
                        "Indexes of other past instants are being built; try again shortly.",
                        self.retry_after(past=True),
                    )
                self._past_wanted[version] = at
                self._start_builder()
            if found is None:
                self._changed.wait_for(lambda: version in self._past, self._wait)
                found = self._past.get(version)
            if found is None:
                raise IndexUnavailable(
                    f"The index of the registry as of {as_of} (data version {version}) is "
                    "being built; try again shortly.",
                    self.retry_after(past=True),
                )
            self._past.move_to_end(version)
            return found

    def retry_after(self, past: bool = False) -> int:
        """Seconds until the build under way (and those queued, for a past one) end,
        estimated from the last full build (5 s before there was one)."""
        expected = self._full_build_seconds
        left = expected or 5.0
        if self._building and expected:
            left = max(1.0, expected - (time.monotonic() - self._building_since))
        if past:
            left += expected * len(self._past_wanted)
        return max(1, math.ceil(left))

    # ------------------------------------------------------------------ writers
    def seed(self, built: BuiltIndex) -> None:
        """Use `built` (a base at `built.version`, loaded by the process this one was
        forked from, its memory shared) for the first view instead of building or
        loading one; writes since its version are patched in as usual."""
        self._seed = built

    def start(self) -> None:
        """Build the current index in the background, if nothing has yet."""
        with self._lock:
            if self._view is None and not self._want_base and self._building != "base":
                self._want_base = True
                self._start_builder()

    def catch_up(self, fold: bool = True) -> IndexView | None:
        """Bring the current view up to the registry's data version: rebuild the tail
        layer for the entities changed since the top one (up to `TAIL_MAX`, or the
        top layer itself while it is as small: milliseconds), and leave larger work
        to the background. For the thread that has just committed a write, so that
        its next screening sees it.

        A write never builds more than a top layer (`TOP_HARD * TOP_MAX`
        entities at most), and, while the background keeps up, no more than
        `TAIL_MAX`. When the top and tail hold more than `TOP_MAX` the background
        folds them into a new middle layer (every entity changed since the base: 700
        after bench.live's import, 150-300 ms of CPU, which the writing thread
        used to spend before its answer left), while writes go on publishing
        views with a tail over the top until the fold is swapped in. After a
        change of more than `TOP_HARD * TOP_MAX` entities (another process's
        import), which a top layer would have to hold whole,
        the writer waits for the background's fold (which takes in its own write
        too), and only folds in its own thread if none ended within `FOLD_WAIT`.
        With `fold=False` (a reader) it never waits: it leaves larger work to the
        background and returns None, as it does when another thread is catching
        up (the reader answers from the view as it is, which the other thread is
        about to replace)."""
        if self._view is None:
            return None  # the first build will read it
        if not fold:
            if not self._apply_lock.acquire(blocking=False):
                self._schedule_catch_up()  # (in case the other thread stops short of it)
                return None
            try:
                return self._catch_up_locked("reader")
            finally:
                self._apply_lock.release()
        deadline = time.monotonic() + FOLD_WAIT
        while True:
            mode = "writer" if time.monotonic() < deadline else "fold"
            with self._apply_lock:
                seen = self._view
                view = self._catch_up_locked(mode)
            if view is not None or seen is None:
                return view
            # A large change: the background folds it; wait for the next view.
            if not self._wait_for_swap(seen, deadline - time.monotonic()):
                return self._view

    def _wait_for_swap(self, seen: IndexView, timeout: float) -> bool:
        """Wait until the view is no longer `seen`; False once closed."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._view is not seen or self._closed, max(0.0, timeout)
            )
            return not self._closed

    def _catch_up_locked(self, mode: str) -> IndexView | None:
        """`catch_up`'s work, holding _apply_lock. `mode`: "reader" (a top layer of
        at most `TOP_MAX` entities, else None and a fold in the background),
        "writer" (at most `TOP_HARD * TOP_MAX`, else None and a fold in the background),
        "fold" (the background, or a writer that waited long enough: folds here)."""
        db = self._apply_connection()
        current = self._view
        if current is None or current_version(db) == current.version:
            return current
        mid, behind = current.mid, current.behind
        count, bulk = pending(db, (mid or current.base).version, max_ids=BULK_IDS)
        limit = TOP_MAX if mode == "reader" else TOP_HARD * TOP_MAX
        if not bulk and count > TAIL_MAX and current.top is not None:
            # The top layer stays: a tail layer of what changed since it (the
            # write's own few), whatever the top's size.
            since_top, top_bulk = pending(db, current.top.version, max_ids=BULK_IDS)
            if not top_bulk and since_top <= limit:
                view = self._append(db, current.base, mid, current.top, behind)
                self._swap(view)
                return view
        if not bulk and count > limit:
            if mode != "fold":
                self._schedule_fold()
                return None
            with read_snapshot(db):
                started = time.perf_counter()
                changes = changes_since(db, current.base.version, max_ids=BULK_IDS)
                mid = self._layer(db, changes)
            behind = behind or changes.bulk
            self._note_fold(mid, time.perf_counter() - started, "in a catch-up")
        view = self._compose(db, current.base, mid, behind)  # (a fold when top > TOP_MAX)
        self._swap(view)
        return view

    def _apply_connection(self) -> sqlite_utils.Database:  # (holding _apply_lock)
        if self._apply_db is None:
            self._apply_db = connect(self._db_path, busy_timeout_ms=self._busy_timeout_ms)
        return self._apply_db

    def _layer(self, db: sqlite_utils.Database, changes: Changes) -> Layer | None:
        """A layer of the entities `changes` lists, as they are in `db`'s snapshot."""
        if not changes.entity_ids:
            return None
        built = self._build(db, None, changes.entity_ids)
        built.version = changes.version
        return Layer(built, changes.entity_ids, changes.version)

    def _compose(
        self, db: sqlite_utils.Database, base: Layer, mid: Layer | None, behind: bool
    ) -> IndexView:
        """`base` and `mid` with a new top layer: every entity changed since the
        newer of them. Schedules what the result needs in the background."""
        started = time.perf_counter()
        since = (mid or base).version
        with read_snapshot(db):
            changes = changes_since(db, since, max_ids=BULK_IDS)
            top = self._layer(db, changes)
        view = IndexView.of(
            base, mid, top, changes.version, behind or changes.bulk, previous=self._view
        )
        if changes.bulk:
            self._schedule_base(changes.last_bulk)  # a large change needs a new base
        elif view.behind or (mid is not None and mid.entities > MID_MAX):
            self._schedule_base(0)  # any rebuild under way will do
        if top is not None and top.entities > TOP_MAX:
            self._schedule_fold()
        if top is not None:
            log.info(
                "screening index: data version %d applied (%d changed entities, %d names, "
                "in %.3f s)%s",
                changes.version,
                top.entities,
                top.built.names,
                time.perf_counter() - started,
                "; a large change waits for the rebuild of the base" if view.behind else "",
            )
        return view

    def _append(
        self,
        db: sqlite_utils.Database,
        base: Layer,
        mid: Layer | None,
        top: Layer,
        behind: bool,
    ) -> IndexView:
        """These layers with a new tail layer: every entity changed since `top`.
        Schedules the tail's merge into the top, or the fold of both into the middle
        layer, in the background once they grow."""
        started = time.perf_counter()
        with read_snapshot(db):
            changes = changes_since(db, top.version, max_ids=BULK_IDS)
            tail = self._layer(db, changes)
        view = IndexView.of(
            base,
            mid,
            top,
            changes.version,
            behind or changes.bulk,
            previous=self._view,
            tail=tail,
        )
        if changes.bulk:
            self._schedule_base(changes.last_bulk)
        if view.above_mid > TOP_MAX:
            self._schedule_fold()
        elif tail is not None and tail.entities >= TAIL_MAX:
            self._schedule_merge()
        if tail is not None:
            log.info(
                "screening index: data version %d applied (%d changed entities, %d names, "
                "in %.3f s, a tail over a top layer of %d)",
                changes.version,
                tail.entities,
                tail.built.names,
                time.perf_counter() - started,
                top.entities,
            )
        return view

    def _swap(self, view: IndexView) -> None:
        with self._changed:
            self._view = view
            self._changed.notify_all()

    # --------------------------------------------------------- background work
    def _schedule_catch_up(self) -> None:
        with self._lock:
            if self._closed or self._want_catch_up:
                return
            self._want_catch_up = True
            self._start_applier()

    def _schedule_fold(self) -> None:
        with self._lock:
            if self._closed or self._want_fold or self._folding:
                return  # (a fold under way takes in what is there when it starts)
            self._want_fold = True
            self._start_applier()

    def _schedule_merge(self) -> None:
        with self._lock:
            if self._closed or self._want_merge:
                return
            self._want_merge = True
            self._start_applier()

    def _start_applier(self) -> None:  # (holding _lock)
        if self._applier is None:
            self._applier = threading.Thread(
                target=self._apply_loop, name="index-catch-up", daemon=True
            )
            self._applier.start()

    def _apply_loop(self) -> None:
        db: sqlite_utils.Database | None = None
        try:
            while True:
                with self._lock:
                    wanted = self._want_catch_up or self._want_fold or self._want_merge
                    if self._closed or not wanted:
                        self._applier = None
                        return
                    fold, self._want_fold = self._want_fold, False
                    merge = False
                    if not fold:
                        merge, self._want_merge = self._want_merge, False
                    if not (fold or merge):
                        self._want_catch_up = False
                try:
                    db = db or connect(self._db_path, busy_timeout_ms=self._busy_timeout_ms)
                    # Decided once a catch-up under way has ended (a writer that
                    # outwaited FOLD_WAIT folds what it finds itself: folding it
                    # here as well would build the same layer twice at once).
                    with self._apply_lock:
                        needed = self._fold_needed(db)
                    if needed:
                        # (another process's import: straight into the middle layer,
                        # not first into the top one that every write rebuilds)
                        self._fold(db)
                    elif merge:
                        self._merge(db)
                    else:
                        with self._apply_lock:
                            self._catch_up_locked("fold")
                except Exception:
                    log.exception("screening index: catching up failed")
                    time.sleep(0.5)
        finally:
            if db is not None:
                db.close()

    def _fold_needed(self, db: sqlite_utils.Database) -> bool:
        """More than `TOP_MAX` entities changed since the middle layer, in the
        registry or in the top layer. (Holding _apply_lock.)"""
        current = self._view
        if current is not None and current.above_mid > TOP_MAX:
            return True
        return self._pending(db) > TOP_MAX

    def _pending(self, db: sqlite_utils.Database) -> int:
        """Entities changed since the current view's middle layer (or base)."""
        current = self._view
        if current is None or current_version(db) == current.version:
            return 0
        with read_snapshot(db):
            since = (current.mid or current.base).version
            return len(changes_since(db, since, max_ids=BULK_IDS).entity_ids)

    def _merge(self, db: sqlite_utils.Database) -> None:
        """Rebuild the top layer with the tail in it (out of the lock: writes go on
        meanwhile, each with a tail of what changed since the new top)."""
        current = self._view
        if current is None or current.tail is None:
            return
        base, mid = current.base, current.mid
        started = time.perf_counter()
        with read_snapshot(db), self._paced():
            changes = changes_since(db, (mid or base).version, max_ids=BULK_IDS)
            if changes.bulk or len(changes.entity_ids) > TOP_HARD * TOP_MAX:
                return  # (a fold's work)
            top = self._layer(db, changes)
        if top is None:
            return
        seconds = time.perf_counter() - started
        with self._apply_lock:
            current = self._view
            if current is None or current.base is not base or current.mid is not mid:
                return  # folded meanwhile
            if current.top is not None and current.top.version >= top.version:
                return
            self._swap(self._append(self._apply_connection(), base, mid, top, current.behind))
        log.info(
            "screening index: tail merged into the top layer in the background: %d entities, "
            "%d names in %.3f s",
            top.entities,
            top.built.names,
            seconds,
        )

    def _fold(self, db: sqlite_utils.Database) -> None:
        """Rebuild the middle layer: every entity changed since the base (built out
        of the lock: writes go on meanwhile), then a top layer since it."""
        with self._lock:
            self._folding = True
        try:
            self._fold_now(db)
        finally:
            with self._changed:
                self._folding = False
                self._changed.notify_all()
        if self._settle:
            self._settle_fold()

    def _settle_fold(self) -> None:
        """Move the new middle layer's objects out of the cyclic collector's sight at
        once: `gc.freeze` takes constant time and walks nothing. (A generation-1
        collection used to walk them here first, to spare a request that walk: 40-56
        ms of CPU in bench.live's trace, every thread stopped meanwhile, up to 370 ms
        of wall time at load 9, and the writer's next screening among them.) What
        else is young at that moment, a request's garbage in reference cycles if one
        is in flight, is frozen with it and stays, as with `GcKeeper`'s freezes:
        a few dozen objects a fold."""
        gc.freeze()

    def _fold_now(self, db: sqlite_utils.Database) -> None:
        current = self._view
        if current is None:
            return
        base = current.base
        started = time.perf_counter()
        with read_snapshot(db), self._paced():
            changes = changes_since(db, base.version, max_ids=BULK_IDS)
            mid = self._layer(db, changes)
        seconds = time.perf_counter() - started
        with self._apply_lock:
            current = self._view
            if current is None or current.base is not base:
                return  # the base was rebuilt meanwhile
            if current.mid is not None and mid is not None and current.mid.version >= mid.version:
                return  # a write folded as much meanwhile
            self._swap(
                self._compose(self._apply_connection(), base, mid, current.behind or changes.bulk)
            )
        self._note_fold(mid, seconds, "in the background")

    def _note_fold(self, mid: Layer | None, seconds: float, how: str) -> None:
        log.info(
            "screening index: middle layer rebuilt %s: %d changed entities, %d names in %.2f s",
            how,
            mid.entities if mid else 0,
            mid.built.names if mid else 0,
            seconds,
        )

    def _schedule_base(self, version: int) -> None:
        """Rebuild the base unless a rebuild that reads `version` or later is under way."""
        with self._lock:
            if self._want_base or (self._building == "base" and self._base_from >= version):
                return
            self._want_base = True
            self._start_builder()

    def _start_builder(self) -> None:  # (holding _lock)
        if self._builder is None and not self._closed:
            self._builder = threading.Thread(
                target=self._build_loop, name="index-build", daemon=True
            )
            self._builder.start()

    def _build_loop(self) -> None:
        db = connect(self._db_path, busy_timeout_ms=self._busy_timeout_ms)
        try:
            while True:
                with self._lock:
                    past: tuple[int, str | None] | None = None
                    if self._closed:
                        job = None
                    elif self._want_base:
                        job, self._want_base = "base", False
                    elif self._past_wanted:
                        past = self._past_wanted.popitem(last=False)
                        job = f"past:{past[0]}"
                    else:
                        job = None
                    if job is None:
                        self._builder = None
                        self._building = None
                        return
                    self._building, self._building_since = job, time.monotonic()
                try:
                    if past is None:
                        self._build_base(db)
                    else:
                        self._build_past(db, *past)
                except Exception as exc:
                    log.exception("screening index: building %s failed", job)
                    with self._lock:
                        self._failure = f"{type(exc).__name__}"
                        if job == "base" and not self._closed:
                            self._want_base = self._view is None  # try the first one again
                    time.sleep(1.0)
                finally:
                    with self._changed:
                        self._building = None
                        self._base_from = -1
                        self._changed.notify_all()
        finally:
            db.close()

    def _build_base(self, db: sqlite_utils.Database) -> None:
        started = time.perf_counter()
        # Of several processes over one registry, one builds (and saves) at a time;
        # the others then load what it saved rather than build it again.
        locked = (
            index_snapshot.build_lock(self._snapshot)
            if self._snapshot is not None
            else contextlib.nullcontext()
        )
        with locked:
            with read_snapshot(db):
                version = current_version(db)
                with self._lock:
                    self._base_from = version
                built, source = self._ready_made_base(db)
                if built is None:
                    with self._settling():
                        built = self._build(db, None, None)
                    built.version = version
                at = index_snapshot.version_instant(db, built.version)
            self._note_build("current", built, built.version, time.perf_counter() - started, source)
            with self._apply_lock:
                replaced = self._view
                base = Layer(built, None, built.version)
                self._swap(self._compose(self._apply_connection(), base, None, False))
            # (also when closing: `registry screen` ends right after its names, and
            # its next run should start from this build)
            if source == "built" and self._snapshot is not None:
                try:
                    index_snapshot.save(self._snapshot, built, at)
                except Exception:  # the index serves; the next start builds again
                    log.exception("screening index: saving the snapshot failed")
        del built, base
        with self._lock:
            self._failure = None
        if replaced is not None:
            old = weakref.ref(replaced.base.built)
            del replaced
            self._release(old, "previous index")

    def _ready_made_base(self, db: sqlite_utils.Database) -> tuple[BuiltIndex | None, str]:
        """A base that needs no build: the one handed over by `seed` (loaded by a
        parent before it forked this process), or the saved snapshot, if either is
        newer than the current base and no large change came after it (that one
        would need a new base anyway). Inside the caller's read transaction."""
        seeded, self._seed = self._seed, None
        current = self._view
        floor = current.base.version if current is not None else -1

        def usable(version: int) -> bool:
            count, bulk = pending(db, version, max_ids=BULK_IDS)
            return version > floor and not bulk and count <= MID_MAX

        if seeded is not None and usable(seeded.version):
            return seeded, "preloaded"
        del seeded
        path = self._snapshot
        if path is None or not path.exists():
            return None, "built"
        try:
            header = index_snapshot.read_header(path)
            if not usable(header.data_version):
                log.info(
                    "screening index: the snapshot (data version %d) is older than a large "
                    "change or the index in use; building a new one",
                    header.data_version,
                )
                return None, "built"
            built, _ = index_snapshot.load(path, db, freeze=self._settle)
            return built, "snapshot"
        except index_snapshot.SnapshotRefused as exc:
            log.warning("screening index: snapshot %s not used: %s; building the index", path, exc)
            return None, "built"

    def _build_past(self, db: sqlite_utils.Database, version: int, at: str | None) -> None:
        started = time.perf_counter()
        if at is None:
            built = _empty()  # before the first write
        else:
            with read_snapshot(db), self._settling():
                built = self._build(db, at, None)
        built.version = version
        self._note_build(
            f"as of data version {version}", built, version, time.perf_counter() - started
        )
        evicted: list[IndexView] = []
        with self._changed:
            self._past[version] = IndexView.of(Layer(built, None, version))
            while len(self._past) > self._keep_past:
                evicted.append(self._past.popitem(last=False)[1])
            self._changed.notify_all()
        del built
        olds = [(weakref.ref(view.base.built), view.version) for view in evicted]
        del evicted
        for old, old_version in olds:
            self._release(old, f"index of data version {old_version}")

    def _note_build(
        self, what: str, built: BuiltIndex, version: int, seconds: float, source: str = "built"
    ) -> None:
        with self._lock:
            if source == "built":  # (what a rebuild, and so Retry-After, will take)
                self._full_build_seconds = seconds
            self._last_build = {
                "index": what,
                "data_version": version,
                "names": built.names,
                "seconds": round(seconds, 3),
                "source": source,  # built, snapshot (loaded from the file), preloaded
                "finished_at": utcnow(),
            }
        log.info(
            "screening index %s (%s): data version %d, %d names of %d entities in %.1f s",
            {"built": "built", "snapshot": "loaded from its snapshot"}.get(source, source),
            what,
            version,
            built.names,
            built.entities,
            seconds,
        )

    @contextlib.contextmanager
    def _settling(self) -> Iterator[None]:
        """During a full build, move what it has made so far out of the garbage
        collector's sight, a little at a time (see `_Settler`)."""
        if not self._settle:
            yield
            return
        settler = _Settler(self.idle)
        settler.start()
        try:
            yield
        finally:
            settler.stop()

    @contextlib.contextmanager
    def _paced(self) -> Iterator[None]:
        """The background's builds of layers give way to requests in flight: every
        `PACE_EVERY` names, while one is, the build sleeps `PACE_SLEEP` (giving the
        interpreter lock up). Without it a fold (150-300 ms of CPU after bench.live's
        import) held the lock for 5 ms at a time (`sys.getswitchinterval`) each time
        a request came back from its database or socket, and the writer's next
        screening, which comes right after the write that asked for the fold, was
        among them."""

        def pace() -> None:
            if not self.idle():
                time.sleep(PACE_SLEEP)

        token = _pace.set(pace)
        try:
            yield
        finally:
            _pace.reset(token)

    # Requests in flight (counted by the app; see api/screen.py): the settler
    # freezes at moments when there are none.
    def request_started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def request_ended(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def idle(self) -> bool:
        return self._in_flight <= 0

    def keep_gc_short(self) -> None:
        """For a serving process: short garbage collections (see `GcKeeper`)."""
        if self._gc_keeper is None:
            self._gc_keeper = GcKeeper()
            self._gc_keeper.start()

    def _release(
        self, ref: weakref.ReferenceType[BuiltIndex], what: str, timeout: float = 10.0
    ) -> None:
        """Wait for the last request using a replaced index to end, then hand the
        memory back to the system."""
        deadline = time.monotonic() + timeout
        while ref() is not None and time.monotonic() < deadline and not self._closed:
            time.sleep(0.05)
        if ref() is None:
            # Query caches filled while it served hold objects in its memory: let
            # them go too (they refill), then return the free pages to the system.
            dropped = clear_caches()
            _give_back_memory()
            log.info("screening index: %s freed (and %d cached query results)", what, dropped)
        else:
            log.warning("screening index: %s still referenced after %.0f s", what, timeout)

    # ------------------------------------------------------------------- state
    def state(self) -> dict[str, Any]:
        """What /healthz, /readyz and /stats say about the index."""
        view = self._view
        with self._lock:
            building = self._building
            pending = self._want_base
            last = dict(self._last_build) if self._last_build else None
            past = sorted(self._past)
            failure = self._failure
        out: dict[str, Any] = {
            "state": "ready" if view is not None else ("failed" if failure else "building"),
            "ready": view is not None,
            "data_version": view.version if view else None,
            "age_s": round(time.time() - view.built_at, 3) if view else None,
            "names": view.names if view else 0,
            "changed_entities": view.changed if view else 0,
            "layers": [
                {
                    "entities": layer.entities,
                    "names": layer.built.names,
                    "data_version": layer.version,
                }
                for layer in view.layers
            ]
            if view
            else [],
            "behind": bool(view.behind) if view else False,
            "building": building,
            "rebuild_pending": pending,
            "last_build": last,
            "past_versions": past,
        }
        return out

    def close(self) -> None:
        """Stop the background threads (after their current build) and let go."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            threads = [t for t in (self._builder, self._applier) if t is not None]
        if self._gc_keeper is not None:
            self._gc_keeper.stop()
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()
        with self._apply_lock:
            if self._apply_db is not None:
                self._apply_db.close()
                self._apply_db = None
