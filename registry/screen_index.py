"""The screening index's lifecycle: built off the request path, swapped in whole,
patched after every write, and kept for past instants by data version.

Readers take the current `IndexView` (one attribute read) and use it for all
the names of their request; nothing they do waits for a build. A view is
immutable: a *base* index of the whole registry at some data version, a small
*overlay* index of the entities changed since (as they are now), the ids the
overlay hides in the base, and the entities with a listing in force. Changing
the index means making a new view and swapping one reference.

Catching up (`IndexCache.catch_up`) reads the data version log
(`registry.versions`): a few changed entities make a new overlay (rebuilt
from scratch for every entity changed since the base: copy-on-write, tens of
milliseconds), many (an import of a list) make a background thread rebuild the
base while the old view serves; an overlay that has grown past `COMPACT_AT`
entities is folded into a new base the same way. A write through this
process's API catches up before its answer leaves (`catch_up` from an
after-request hook), so the writer's next screening sees it; a write by
another process (a CLI import) is noticed by a version check that readers make
at most every `CHECK_INTERVAL` seconds and applied by a background thread.

Past instants (`as_of`) map to the data version in force then; one index per
version, built by the same background thread (one build at a time, the
current index first), at most `keep_past` kept. While the one asked for is
being built, or when too many are queued, `view` raises `IndexUnavailable`
(the API answers 503 with Retry-After).

Memory: nothing refers back to a view or an index (`NameIndex` has no
reference cycle), so a replaced one is freed as soon as the last request using
it ends, frozen by `gc.freeze` or not. After a full build the index's objects
are frozen out of the garbage collector's sight (a full collection over them
would stall every request for a second), having first collected what was
garbage; the memory of a replaced base is handed back to the system.
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
from collections.abc import Callable, Collection, Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from .db import connect, utcnow
from .matching import Match, NameIndex
from .versions import changes_since, current_version, read_snapshot, version_at

log = logging.getLogger(__name__)

# A write that changed more entities than this is applied by rebuilding the base.
OVERLAY_MAX_IDS = 1_000
# An overlay with more entities than this is folded into a new base (in the background).
COMPACT_AT = 200
# Readers compare the data version with their view's at most this often (seconds).
CHECK_INTERVAL = 0.1
# Past indexes waiting to be built; more is a 503.
PAST_QUEUE = 2


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
    """Any entity but these (the base's view when no filter applies)."""

    __slots__ = ("_hidden",)

    def __init__(self, hidden: frozenset[str]) -> None:
        self._hidden = hidden

    def __contains__(self, entity_id: object) -> bool:
        return entity_id not in self._hidden


@dataclass(frozen=True)
class Allowed:
    """Entity ids a query may match, for the base and for the overlay (None: any)."""

    base: Container[str] | None
    overlay: Container[str] | None


@dataclass(frozen=True, eq=False)
class IndexView:
    """One immutable state of the screening index; see the module docstring."""

    base: BuiltIndex
    overlay: BuiltIndex | None
    hidden: frozenset[str]  # entities changed since base.version: the overlay has them
    active: frozenset[str]  # entities with a listing in force, in this view
    version: int  # the data version this view has caught up with
    behind: bool  # a large change newer than the base is not in yet (base being rebuilt)
    built_at: float = field(default_factory=time.time)
    _base_active: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        base: BuiltIndex,
        overlay: BuiltIndex | None = None,
        hidden: frozenset[str] = frozenset(),
        version: int | None = None,
        behind: bool = False,
    ) -> IndexView:
        base_active = base.active - hidden if hidden else base.active
        active = base_active | overlay.active if overlay is not None else base_active
        return cls(
            base=base,
            overlay=overlay,
            hidden=hidden,
            active=active,
            version=base.version if version is None else version,
            behind=behind,
            _base_active=base_active,
        )

    @property
    def names(self) -> int:
        """Names indexed (in the base, and in the overlay)."""
        return self.base.names + (self.overlay.names if self.overlay else 0)

    def restrict(self, allowed: frozenset[str] | None) -> Allowed:
        """What `allowed` (from the registry's filters; None for any) means in the
        base, which must not answer for the entities the overlay holds."""
        if not self.hidden:
            return Allowed(allowed, allowed)
        if allowed is None:
            return Allowed(_Excluding(self.hidden), None)
        if allowed is self.active:
            return Allowed(self._base_active, allowed)
        return Allowed(allowed - self.hidden, allowed)

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
        """Best matches in base and overlay together, best first, `limit` at most."""
        found = self.base.index.screen(
            name,
            entity_type=entity_type,
            country=country,
            threshold=threshold,
            limit=limit,
            allowed_ids=allowed.base,
        )
        if self.overlay is None:
            return found
        found += self.overlay.index.screen(
            name,
            entity_type=entity_type,
            country=country,
            threshold=threshold,
            limit=limit,
            allowed_ids=allowed.overlay,
        )
        found.sort(key=lambda m: (-m.score, m.entity_id))
        return found[:limit]


def _default_builder(
    db: sqlite_utils.Database, as_of: str | None, entity_ids: Collection[str] | None
) -> BuiltIndex:
    from .screening import build_index

    return build_index(db, as_of, entity_ids)


def _empty() -> BuiltIndex:
    return BuiltIndex(NameIndex(), frozenset(), 0, 0.0)


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
    ) -> None:
        self._db_path = str(db_path)
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
        self._past: OrderedDict[int, IndexView] = OrderedDict()
        self._past_wanted: OrderedDict[int, str | None] = OrderedDict()
        self._building: str | None = None  # what the builder thread is building
        self._building_since = 0.0
        self._base_from = -1  # version the base being built reads (-1: none)
        self._builder: threading.Thread | None = None
        self._applier: threading.Thread | None = None
        self._last_check = 0.0
        self._last_build: dict[str, Any] | None = None
        self._full_build_seconds = 0.0
        self._failure: str | None = None
        self._closed = False

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
            self._check_version(db, current)
            return current
        version, at = version_at(db, as_of)
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

    def poll(self, db: sqlite_utils.Database) -> None:
        """Catch up in the background if another process changed the registry
        (checked at most every CHECK_INTERVAL seconds)."""
        current = self._view
        if current is not None:
            self._check_version(db, current)

    def _check_version(self, db: sqlite_utils.Database, current: IndexView) -> None:
        now = time.monotonic()
        if now - self._last_check < CHECK_INTERVAL:
            return
        self._last_check = now
        if current_version(db) != current.version:
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
        """Seconds until the build under way (and those queued, for a past one) end."""
        expected = self._full_build_seconds or 5.0
        left = expected
        if self._building:
            left = max(1.0, expected - (time.monotonic() - self._building_since))
        if past:
            left += expected * len(self._past_wanted)
        return max(1, math.ceil(left))

    # ------------------------------------------------------------------ writers
    def start(self) -> None:
        """Build the current index in the background, if nothing has yet."""
        with self._lock:
            if self._view is None and not self._want_base and self._building != "base":
                self._want_base = True
                self._start_builder()

    def catch_up(self) -> IndexView | None:
        """Bring the current view up to the registry's data version: patch a few
        changed entities now, start a background rebuild for many. For the thread
        that just committed a write, so that its next screening sees it."""
        if self._view is None:
            return None  # the first build will read it
        with self._apply_lock:
            db = self._apply_db
            if db is None:
                db = self._apply_db = connect(self._db_path, busy_timeout_ms=self._busy_timeout_ms)
            current = self._view
            if current is None or current_version(db) == current.version:
                return current
            view = self._patched(db, current.base)
            self._swap(view)
            return view

    def _patched(self, db: sqlite_utils.Database, base: BuiltIndex) -> IndexView:
        """`base` with an overlay of every entity changed since it was built."""
        with read_snapshot(db):
            changes = changes_since(db, base.version, max_ids=OVERLAY_MAX_IDS)
            overlay = None
            if changes.entity_ids:
                overlay = self._build(db, None, changes.entity_ids)
        view = IndexView.of(base, overlay, changes.entity_ids, changes.version, changes.bulk)
        if changes.bulk:
            self._schedule_base(changes.last_bulk)  # the import's data needs a new base
        elif len(changes.entity_ids) > COMPACT_AT:
            self._schedule_base(0)  # any rebuild under way will shrink the overlay
        if overlay is not None:
            log.info(
                "screening index: data version %d applied (%d changed entities, %d names, "
                "in %.3f s)%s",
                changes.version,
                len(changes.entity_ids),
                overlay.names,
                overlay.seconds,
                "; a large change waits for the rebuild" if changes.bulk else "",
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
            if self._applier is None:
                self._applier = threading.Thread(
                    target=self._apply_loop, name="index-catch-up", daemon=True
                )
                self._applier.start()

    def _apply_loop(self) -> None:
        while True:
            with self._lock:
                if self._closed or not self._want_catch_up:
                    self._applier = None
                    return
                self._want_catch_up = False
            try:
                self.catch_up()
            except Exception:
                log.exception("screening index: catching up failed")

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
        with read_snapshot(db):
            version = current_version(db)
            with self._lock:
                self._base_from = version
            built = self._build(db, None, None)
        built.version = version
        self._settled()
        self._note_build("current", built, version, time.perf_counter() - started)
        with self._apply_lock:
            replaced = self._view
            apply_db = self._apply_db
            if apply_db is None:
                apply_db = self._apply_db = connect(
                    self._db_path, busy_timeout_ms=self._busy_timeout_ms
                )
            self._swap(self._patched(apply_db, built))
        del built
        with self._lock:
            self._failure = None
        if replaced is not None:
            old = weakref.ref(replaced.base)
            del replaced
            self._release(old, "previous index")

    def _build_past(self, db: sqlite_utils.Database, version: int, at: str | None) -> None:
        started = time.perf_counter()
        if at is None:
            built = _empty()  # before the first write
        else:
            with read_snapshot(db):
                built = self._build(db, at, None)
        built.version = version
        self._settled()
        self._note_build(
            f"as of data version {version}", built, version, time.perf_counter() - started
        )
        evicted: list[IndexView] = []
        with self._changed:
            self._past[version] = IndexView.of(built)
            while len(self._past) > self._keep_past:
                evicted.append(self._past.popitem(last=False)[1])
            self._changed.notify_all()
        del built
        olds = [(weakref.ref(view.base), view.version) for view in evicted]
        del evicted
        for old, old_version in olds:
            self._release(old, f"index of data version {old_version}")

    def _note_build(self, what: str, built: BuiltIndex, version: int, seconds: float) -> None:
        with self._lock:
            self._full_build_seconds = seconds
            self._last_build = {
                "index": what,
                "data_version": version,
                "names": built.names,
                "seconds": round(seconds, 3),
                "finished_at": utcnow(),
            }
        log.info(
            "screening index built (%s): data version %d, %d names of %d entities in %.1f s",
            what,
            version,
            built.names,
            built.entities,
            seconds,
        )

    def _settled(self) -> None:
        """Collect what is garbage now, then freeze every object left (the new index
        with it) out of the collector's sight: otherwise its next full pass walks
        the index's millions of objects while every request waits. Frozen objects
        are still freed when nothing refers to them (see the module docstring)."""
        if self._settle:
            gc.collect()
            gc.freeze()

    def _release(
        self, ref: weakref.ReferenceType[BuiltIndex], what: str, timeout: float = 10.0
    ) -> None:
        """Wait for the last request using a replaced index to end, then hand the
        memory back to the system."""
        deadline = time.monotonic() + timeout
        while ref() is not None and time.monotonic() < deadline and not self._closed:
            time.sleep(0.05)
        if ref() is None:
            _give_back_memory()
            log.info("screening index: %s freed", what)
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
            "overlay_entities": len(view.hidden) if view else 0,
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
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()
        with self._apply_lock:
            if self._apply_db is not None:
                self._apply_db.close()
                self._apply_db = None
