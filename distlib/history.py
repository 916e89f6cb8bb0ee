"""Histories: what clients asked for, when, and what they were told.

A history is the client-side record of a run: each operation has an invocation time (``call``)
and a completion time (``ret``). Checkers in :mod:`distlib.check` decide whether a history could
have come from a correct system; simulation clients (:class:`distlib.client.Client`) record one
as they run. This module only holds the data; it knows nothing about networks or checkers.

Status of an operation:

``"ok"``
    it completed, and ``output`` is what the client was told;
``"fail"``
    it definitely did not take effect (for example a rejected write);
``"unknown"``
    the client never learned the outcome (a timeout, a crash): it may or may not have taken
    effect, at any moment after ``call``. Its ``ret`` is ``None`` (open for ever).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["History", "Operation"]

STATUSES = ("ok", "fail", "unknown")


@dataclass(slots=True)
class Operation:
    """One client operation: ``f(input) -> output`` between ``call`` and ``ret``."""

    id: int
    client: str
    f: str
    input: Any = None
    call: float = 0.0
    ret: float | None = None
    output: Any = None
    status: str = "unknown"

    @property
    def end(self) -> float:
        """Completion time, or infinity for an operation that never returned."""
        return math.inf if self.ret is None else self.ret

    def precedes(self, other: Operation) -> bool:
        """True when this operation returned before ``other`` was invoked (real-time order).

        A client runs one operation at a time, so its next operation, even if invoked at the
        very instant the previous one returned, comes after it.
        """
        if self.ret is None:
            return False
        return self.ret < other.call or (self.ret == other.call and self.client == other.client)

    def __str__(self) -> str:
        ret = "..." if self.ret is None else f"{self.ret:.3f}"
        shown = f"{self.f}({self.input!r})" if self.input is not None else f"{self.f}()"
        out = {"ok": f" -> {self.output!r}", "fail": " -> FAIL", "unknown": " -> ?"}[self.status]
        return f"[{self.call:.3f}, {ret}] {self.client}: {shown}{out}"


@dataclass
class History:
    """An ordered collection of operations, built by recording invocations and completions."""

    ops: list[Operation] = field(default_factory=list)

    def invoke(self, client: str, f: str, input: Any = None, *, time: float) -> Operation:
        """Record that ``client`` invoked ``f(input)`` at ``time``; returns the open operation."""
        if not isinstance(f, str) or not f:
            raise ValueError(f"an operation's name must be a non-empty string, not {f!r}")
        op = Operation(id=len(self.ops), client=client, f=f, input=input, call=float(time))
        self.ops.append(op)
        return op

    def complete(
        self, op: Operation | int, output: Any = None, *, time: float, status: str = "ok"
    ) -> Operation:
        """Record the outcome of an open operation (``status`` is "ok", "fail" or "unknown")."""
        if isinstance(op, int):
            op = self.ops[op]
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        if op.status != "unknown" or op.ret is not None:
            raise ValueError(f"operation {op.id} ({op.f} by {op.client}) already completed")
        if time < op.call:
            raise ValueError(f"operation {op.id} completes at {time} before its call at {op.call}")
        op.status = status
        op.output = output
        op.ret = None if status == "unknown" else float(time)
        return op

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def __getitem__(self, i: int) -> Operation:
        return self.ops[i]

    @classmethod
    def from_ops(cls, ops: Iterable[Operation]) -> History:
        """A history over existing operations (renumbered in order)."""
        out = cls()
        for i, op in enumerate(ops):
            op.id = i
            out.ops.append(op)
        return out

    def completed(self) -> History:
        """Only the operations whose outcome is known (ok or fail)."""
        return History([op for op in self.ops if op.status != "unknown"])

    def listing(self) -> str:
        """One line per operation, in invocation order."""
        return "\n".join(str(op) for op in sorted(self.ops, key=lambda o: (o.call, o.id)))

    def __str__(self) -> str:
        return self.listing()
