"""Clients: nodes that issue operations and record them in the run's history.

A :class:`Client` is an ordinary :class:`~distlib.node.Node` with two extra actions:
:meth:`Client.begin` records that an operation was invoked and :meth:`Client.end` records its
outcome. The runtime turns them into a :class:`~distlib.history.History` (``sim.history``) with
the simulated invoke and completion times, ready for the checkers in :mod:`distlib.check`.

:class:`Workload` is a ready-made client that runs a list of operations one after another,
with a timeout per operation; subclasses say how one operation is sent (:meth:`Workload.request`)
and recognise its reply (:meth:`Workload.on_reply`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from distlib.node import Complete, Invoke, Node

__all__ = ["Client", "Workload"]


class Client(Node):
    """A node that records the operations it performs into the run's history."""

    def __init__(self) -> None:
        super().__init__()
        self._next_op = 0
        self._open: dict[int, tuple[str, Any]] = {}

    def begin(self, f: str, input: Any = None) -> int:
        """Record the invocation of ``f(input)`` now; returns the operation's number."""
        if not isinstance(f, str) or not f:
            raise ValueError(f"{self.id}: an operation's name must be a non-empty string, not {f!r}")
        op = self._next_op
        self._next_op += 1
        self._open[op] = (f, input)
        self._actions.append(Invoke(op, f, input))
        return op

    def end(self, op: int, output: Any = None, status: str = "ok") -> None:
        """Record the outcome of operation ``op``: "ok", "fail" or "unknown" (timed out)."""
        if op not in self._open:
            raise ValueError(f"{self.id}: operation {op} is not open (finished twice?)")
        if status not in ("ok", "fail", "unknown"):
            raise ValueError(f"{self.id}: status must be 'ok', 'fail' or 'unknown', not {status!r}")
        del self._open[op]
        self._actions.append(Complete(op, output, status))

    @property
    def open_ops(self) -> dict[int, tuple[str, Any]]:
        """Operations begun and not yet ended: number -> (f, input)."""
        return dict(self._open)


class Workload(Client):
    """Runs ``ops`` (pairs ``(f, input)``) one at a time, each with a timeout.

    Subclasses implement :meth:`request` (send the operation somewhere) and call
    :meth:`finish` from ``on_message`` when the reply arrives. An operation that gets no reply
    within ``timeout`` seconds ends with status "unknown" and the next one starts.
    """

    def __init__(self, ops: Iterable[tuple[str, Any]], *, timeout: float = 1.0, think: float = 0.0):
        super().__init__()
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        if think < 0:
            raise ValueError(f"think time must not be negative, not {think}")
        self.todo = list(ops)
        self.timeout = timeout
        self.think = think
        self.current: int | None = None
        self.results: list[tuple[str, Any, Any, str]] = []

    def on_start(self) -> None:
        self.set_timer("next", self.think)

    def on_timer(self, name: str) -> None:
        if name == "next":
            self._start_next()
        elif name == "timeout" and self.current is not None:
            self.finish(None, status="unknown")

    def _start_next(self) -> None:
        if not self.todo or self.current is not None:
            return
        f, input = self.todo.pop(0)
        self.current = self.begin(f, input)
        self.set_timer("timeout", self.timeout)
        self.request(self.current, f, input)

    def finish(self, output: Any, status: str = "ok") -> None:
        """End the current operation and schedule the next one."""
        if self.current is None:
            return
        f, input = self._open[self.current]
        self.end(self.current, output, status)
        self.results.append((f, input, output, status))
        self.current = None
        self.cancel_timer("timeout")
        if self.todo:
            self.set_timer("next", self.think)

    @property
    def done(self) -> bool:
        """True when every operation has finished."""
        return not self.todo and self.current is None

    def request(self, op: int, f: str, input: Any) -> None:  # pragma: no cover - abstract
        """Send operation ``op`` (``f(input)``) to the system."""
        raise NotImplementedError(f"{type(self).__name__} must define request(op, f, input)")
