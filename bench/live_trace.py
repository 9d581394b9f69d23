"""`registry serve` with timestamps of what a request may wait for (bench.live --trace).

    python -m bench.live_trace TRACE.jsonl serve [registry serve options]

Runs the real command after hooking, from the outside (nothing of this is in the
service), and writes one JSON object a line to TRACE.jsonl, times from
`time.monotonic()` (the same clock as the benchmark's client on this machine):

- `req`: each request: when waitress queued its connection for a worker
  (`queued`), when the application started and ended with it (`start`, `end`),
  the CPU time its thread used meanwhile (`cpu`: wall minus this is time spent
  waiting for the interpreter lock or a core), method, path, `name`, status;
- `gc`: each garbage collection of more than 1 ms (generation, duration, the CPU
  time of the thread that ran it), and each freeze of `GcKeeper` made from the
  collector's callback (generation "freeze");
- `idx`: the index's work: `catch_up` (waiting for its lock, then the work),
  `compose` (a new top layer), `append` (a tail layer over the top one), `merge`
  (a tail merged into the top layer, in the background), `fold_now` (the middle
  layer), `settle_fold` (its objects frozen), `base` (a full build), `release`
  (freeing an old one).
"""

from __future__ import annotations

import atexit
import functools
import gc
import json
import sys
import threading
import time
from typing import Any

_out: Any = None
_lock = threading.Lock()
_local = threading.local()


def emit(**event: Any) -> None:
    line = json.dumps(event, separators=(",", ":"))
    with _lock:
        _out.write(line + "\n")


def _hook_gc() -> None:
    started: dict[str, float] = {}

    def callback(phase: str, info: dict[str, int]) -> None:
        now = time.monotonic()
        if phase == "start":
            started["t"], started["cpu"] = now, time.thread_time()
        elif "t" in started:
            seconds = now - started.pop("t")
            if seconds > 0.001:
                cpu = time.thread_time() - started["cpu"]
                emit(k="gc", t=now - seconds, d=seconds, gen=info["generation"], cpu=cpu)

    gc.callbacks.append(callback)


def _hook_waitress() -> None:
    from waitress.channel import HTTPChannel
    from waitress.task import ThreadedTaskDispatcher

    add_task = ThreadedTaskDispatcher.add_task
    service = HTTPChannel.service

    @functools.wraps(add_task)
    def traced_add_task(self: Any, task: Any) -> None:
        task._trace_queued = time.monotonic()
        add_task(self, task)

    @functools.wraps(service)
    def traced_service(self: Any) -> None:
        _local.queued = getattr(self, "_trace_queued", None)
        service(self)

    ThreadedTaskDispatcher.add_task = traced_add_task
    HTTPChannel.service = traced_service


def _hook_app() -> None:
    from flask import Flask

    wsgi_app = Flask.wsgi_app

    @functools.wraps(wsgi_app)
    def traced(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        start, cpu = time.monotonic(), time.thread_time()
        queued, _local.queued = getattr(_local, "queued", None), None
        status: list[str] = []

        def recording(s: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(s[:3])
            return start_response(s, headers, exc_info)

        body = wsgi_app(self, environ, recording)
        # (the answers here are not streamed: the body is made by now)
        from urllib.parse import parse_qs

        query = parse_qs(environ.get("QUERY_STRING", ""))
        emit(
            k="req",
            queued=queued,
            start=start,
            end=time.monotonic(),
            cpu=time.thread_time() - cpu,
            m=environ["REQUEST_METHOD"],
            p=environ["PATH_INFO"],
            name=(query.get("name") or [None])[0],
            s=status[0] if status else None,
            th=threading.get_ident(),
        )
        return body

    Flask.wsgi_app = traced  # type: ignore[method-assign]


def _hook_index() -> None:
    from registry import screen_index

    cache = screen_index.IndexCache

    def timed(name: str, method: Any, lock: str | None = None) -> Any:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            start, cpu = time.monotonic(), time.thread_time()
            try:
                return method(self, *args, **kwargs)
            finally:
                emit(
                    k="idx",
                    what=name,
                    start=start,
                    end=time.monotonic(),
                    cpu=time.thread_time() - cpu,
                    th=threading.get_ident(),
                )

        return wrapper

    for name in (
        "catch_up",
        "_fold_now",
        "_settle_fold",
        "_build_base",
        "_release",
        "_compose",
        "_append",
        "_merge",
        "_swap",
    ):
        if hasattr(cache, name):
            setattr(cache, name, timed(name.strip("_"), getattr(cache, name)))

    # GcKeeper's freezes, as pauses (gen "freeze"), whichever way it makes them.
    keeper = screen_index.GcKeeper
    keeper._callback = _freezes_traced(keeper._callback)  # type: ignore[method-assign]


def _freezes_traced(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any) -> Any:
        before, start, cpu = self.freezes, time.monotonic(), time.thread_time()
        try:
            return method(self, *args)
        finally:
            if self.freezes != before:
                emit(
                    k="gc",
                    t=start,
                    d=time.monotonic() - start,
                    gen="freeze",
                    cpu=time.thread_time() - cpu,
                )

    return wrapper


def main() -> None:
    global _out
    path, args = sys.argv[1], sys.argv[2:]
    _out = open(path, "w", buffering=1 << 16)  # noqa: SIM115 (closed at exit)
    atexit.register(_out.close)
    _hook_gc()
    _hook_waitress()
    _hook_app()
    _hook_index()

    def flush() -> None:
        while True:
            time.sleep(1.0)
            with _lock:
                _out.flush()

    threading.Thread(target=flush, daemon=True).start()
    from registry.cli import main as registry_main

    sys.argv = ["registry", *args]
    registry_main()


if __name__ == "__main__":
    main()
