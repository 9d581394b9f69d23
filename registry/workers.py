"""`registry serve --workers N`: N processes over one listening socket.

The CPU-bound part of the service (screening) holds Python's interpreter
lock, so one process uses about one core whatever its threads. A small
pre-fork supervisor (gunicorn's model, kept here so every process runs the
hardened waitress front door of `registry.server` rather than gunicorn's):

- the supervisor binds the socket, loads the screening index from its
  snapshot (or builds it and saves the snapshot) and moves it out of the
  garbage collector's sight (`gc.freeze`), then forks the workers: their
  copy of the index is the supervisor's pages, shared copy-on-write (reference
  counts still touch some of them; `bench.serve_workers` measures what stays
  shared);
- each worker runs waitress on the inherited socket (the kernel hands each
  connection to one of them) with its own `IndexCache` seeded with that index;
  a write through any worker bumps the registry's data version, and every
  worker patches it in at its next screening (the version check each one
  makes), so a write through one is seen through all;
- background jobs (the scheduled refresh) run in worker 0 only, once;
- a worker that dies is started again (in its slot, so worker 0 keeps the
  refresh); SIGTERM or SIGINT to the supervisor stops them all.

The supervisor starts no thread and opens no database connection it keeps
across a fork, so forking stays safe.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# A worker that dies sooner than this after its start is not started again at
# once (a crash loop would otherwise spin).
MIN_LIFETIME_S = 2.0


def bind(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """The listening socket every worker accepts from."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, socktype, proto, _, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def freeze() -> None:
    """Move everything alive now out of the cyclic collector's work, so that its
    collections in the workers neither stall them nor write to (and so unshare)
    the pages of the index they inherited."""
    gc.collect()
    gc.freeze()


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when the supervisor dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the supervisor died before that
        os._exit(0)


class Supervisor:
    """Forks `workers` processes running `run(slot)` and keeps them running."""

    def __init__(self, workers: int, run: Callable[[int], Any]) -> None:
        self.workers = workers
        self.run = run
        self.children: dict[int, tuple[int, float]] = {}  # pid -> (slot, started)
        self.stopping = False

    def _spawn(self, slot: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                _die_with_parent()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                self.run(slot)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                log.exception("worker %d failed", slot)
                code = 1
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        self.children[pid] = (slot, time.monotonic())
        log.info("worker %d started (pid %d)", slot, pid)

    def _stop(self, signum: int, _frame: Any) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def serve_forever(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for slot in range(self.workers):
            self._spawn(slot)
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            slot, started = self.children.pop(pid, (-1, 0.0))
            if slot < 0 or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            log.warning("worker %d (pid %d) ended (exit %d); starting it again", slot, pid, code)
            if time.monotonic() - started < MIN_LIFETIME_S:
                time.sleep(MIN_LIFETIME_S)
            if not self.stopping:
                self._spawn(slot)
        return 0
