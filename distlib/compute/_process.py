"""A small process pool: one pipe per worker, chunks handed to whichever worker is free.

Why not ``multiprocessing.Pool`` or ``concurrent.futures``: this pool must stop cleanly when the
caller is interrupted (terminate every worker, leave no orphan), notice a worker that died
(``os._exit``, a segfault, the out-of-memory killer) instead of waiting forever, and send the
user's function once per worker per call. Owning the loop makes each of these a few lines.

What a worker runs is in :mod:`distlib.compute._worker`; chunking, ordering and error reporting
are the caller's business (:mod:`distlib.compute._pool`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import wait
from typing import Any

from distlib.compute import _helpers, _worker

START_METHODS = ("fork", "spawn", "forkserver")


def default_workers() -> int:
    """The number of CPUs this process may use (at least 1)."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        count = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS and Windows before 3.13
        count = os.cpu_count()
    return max(1, count or 1)


class WorkerLost(RuntimeError):
    """A worker process died while it ran a chunk (a crash, ``os._exit``, or the OOM killer)."""


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT back during a critical section (main thread only), then deliver it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    if previous is None:  # a handler installed outside Python: restore Python's default
        previous = signal.default_int_handler
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt


class _Worker:
    __slots__ = ("conn", "process", "tokens")

    def __init__(self, conn: Any, process: Any) -> None:
        self.conn = conn
        self.process = process
        self.tokens: set[str] = set()


class ProcessBackend:
    """Runs chunks on ``workers`` local processes created with one start method."""

    name = "process"

    def __init__(self, workers: int, start_method: str | None) -> None:
        if start_method is not None and start_method not in multiprocessing.get_all_start_methods():
            raise ValueError(
                f"start_method must be one of {multiprocessing.get_all_start_methods()} on this "
                f"platform (or None for the default), not {start_method!r}."
            )
        self.workers = workers
        self.context = multiprocessing.get_context(start_method)
        self.start_method = self.context.get_start_method()
        self._pool: list[_Worker] = []
        self._acquired = False  # counted as an open pool by _helpers

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker processes if they are not running (again, after an interrupt)."""
        if self._pool:
            return
        _helpers.acquire()
        self._acquired = True
        try:
            for _ in range(self.workers):
                parent_end, child_end = self.context.Pipe(duplex=True)
                inherited = parent_end if self.start_method == "fork" else None
                # typeshed types get_context(str) as BaseContext, which lacks Process; every
                # context it returns (fork, spawn, forkserver) has one.
                process = self.context.Process(  # type: ignore[attr-defined]
                    target=_worker.worker_main,
                    args=(child_end, inherited),
                    name="distlib-compute-worker",
                    daemon=True,  # multiprocessing terminates daemons when the caller exits
                )
                process.start()
                child_end.close()
                self._pool.append(_Worker(parent_end, process))
        except BaseException:
            self.terminate()
            raise

    def close(self) -> None:
        """Ask every worker to stop, wait a little, then make sure they are gone."""
        for w in self._pool:
            with contextlib.suppress(OSError):
                w.conn.send_bytes(b"")
        for w in self._pool:
            w.process.join(timeout=2)
        self.terminate()

    def terminate(self) -> None:
        """Stop every worker now (SIGTERM, then SIGKILL if needed) and reap them: no orphans.

        A second Ctrl-C during the clean-up is held back until the workers are gone.
        """
        with _interrupts_deferred():
            pool, self._pool = self._pool, []
            for w in pool:
                if w.process.is_alive():
                    w.process.terminate()
            for w in pool:
                w.process.join(timeout=2)
                if w.process.is_alive():
                    w.process.kill()
                    w.process.join()
                w.conn.close()
                w.process.close()
            if self._acquired:
                self._acquired = False
                _helpers.release()

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(w.process.pid for w in self._pool)

    # -- running a call ----------------------------------------------------------------------

    def run(self, job: Any) -> Iterator[tuple[int, bytes]]:
        """Yield (chunk index, reply bytes) as chunks finish, dispatching chunks in order.

        No chunk at or past ``job.cutoff`` is dispatched (the caller lowers it when a chunk
        fails); chunks already running are drained so the pool stays usable. Any exception here
        or in the caller while this runs (KeyboardInterrupt included) terminates the workers.
        """
        self.start()
        pending = deque(range(len(job.chunks)))
        idle = list(reversed(self._pool))
        busy: dict[Any, tuple[_Worker, int]] = {}

        def dispatch() -> None:
            while idle and pending and pending[0] < job.cutoff:
                w = idle.pop()
                index = pending.popleft()
                first = job.token not in w.tokens
                try:
                    w.conn.send_bytes(job.task(index, with_fn=first))
                except OSError:  # the worker died while idle
                    self._lost(w, index, job)
                w.tokens.add(job.token)
                busy[w.conn] = (w, index)

        try:
            while True:
                dispatch()
                if not busy:
                    return
                sentinels = {w.process.sentinel: w for w, _ in busy.values()}
                replies = []
                for ready in wait([*busy, *sentinels]):
                    if ready in busy:
                        w, index = busy[ready]
                        try:
                            replies.append((index, w.conn.recv_bytes()))  # w.conn is ready
                        except (EOFError, OSError):
                            self._lost(w, index, job)
                        del busy[ready]
                        idle.append(w)
                    elif sentinels[ready].conn in busy:
                        w = sentinels[ready]
                        if not w.conn.poll():  # died without answering
                            self._lost(w, busy[w.conn][1], job)
                dispatch()  # keep the workers busy while the caller decodes the replies
                yield from replies
        except BaseException:
            self.terminate()
            raise

    def _lost(self, w: _Worker, index: int, job: Any) -> None:
        w.process.join(timeout=1)
        start, stop = job.bounds(index)
        raise WorkerLost(
            f"worker process {w.process.pid} died (exit code {w.process.exitcode}) before it "
            f"returned items {start} to {stop - 1}. A crash in native code, os._exit() or "
            "running out of memory does this; so does a script that starts a pool under the "
            "spawn or forkserver start method without an `if __name__ == '__main__':` guard. "
            "The pool was stopped; the next call starts fresh workers."
        )
