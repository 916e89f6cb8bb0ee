"""multiprocessing's helper processes: started by the pools, stopped when the last pool closes.

Worker processes made with spawn or forkserver (and Dask's, which use spawn) make
``multiprocessing`` start helpers that outlive every pool: a *resource tracker*, and for
forkserver a *fork server*. Both ignore SIGTERM and SIGINT, so a Jupyter kernel that shuts down
waits for them for seconds before it kills them. :func:`acquire` is called when a pool starts
and :func:`release` when it closes: when the last open pool closes, the helpers that were not
running before the first one opened are stopped (the next pool that needs them starts them
again). Helpers the program started itself are left alone.
"""

from __future__ import annotations

import contextlib
import threading
from multiprocessing import forkserver, resource_tracker
from typing import Any

_lock = threading.Lock()
_open = 0  # pools open now
_before: frozenset[str] = frozenset()  # helpers running when the first of them opened

_HELPERS: dict[str, Any] = {
    "fork server": getattr(forkserver, "_forkserver", None),
    "resource tracker": getattr(resource_tracker, "_resource_tracker", None),
}


def running() -> frozenset[str]:
    """The helpers running now (by name)."""
    found = set()
    for name, helper in _HELPERS.items():
        if name == "fork server":
            alive = getattr(helper, "_forkserver_pid", None) is not None
        else:
            alive = getattr(helper, "_fd", None) is not None
        if alive:
            found.add(name)
    return frozenset(found)


def acquire() -> None:
    """A pool opens."""
    global _open, _before
    with _lock:
        if _open == 0:
            _before = running()
        _open += 1


def release() -> None:
    """A pool closed, its workers gone: stop the helpers it started if no other pool is open."""
    global _open
    with _lock:
        _open = max(0, _open - 1)
        if _open:
            return
        # The fork server first: the resource tracker outlives its last user.
        for name in ("fork server", "resource tracker"):
            if name in running() and name not in _before:
                stop = getattr(_HELPERS[name], "_stop", None)  # private, present since 3.8
                if stop is not None:
                    with contextlib.suppress(Exception):  # never fail a close over a helper
                        stop()
