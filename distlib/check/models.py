"""Sequential specifications ("models") that the history checkers compare a run against.

A model says what one copy of the object, used by one client at a time, would answer. The
checkers in :mod:`distlib.check.linearizability` search for an order of a history's operations
that such a copy could have produced; the model is the only part that knows what a register or
a key-value map is.

Writing your own model
----------------------
Subclass :class:`Model` (only ``init`` and ``step`` are required; the base class gives the
others):

``init()``
    the state before the first operation. States must be hashable and compare by value (an
    int, a string, a tuple, a frozenset): the checker remembers which (operations done, state)
    pairs it has already explored.
``step(state, op)``
    apply one :class:`~distlib.history.Operation` to ``state`` and return ``(ok, new_state)``.
    ``ok`` is False when the object could not have answered ``op.output`` in that state. When
    ``op.status == "unknown"`` the answer was never seen: accept any output, and return the
    state as if the operation took effect (the checker itself considers "it never happened").
    ``step`` must not change ``state`` in place and must be deterministic.
``partition(ops)``
    split a list of operations into independent groups (for example one per key of a map),
    each of which can be checked on its own, returning a dict ``key -> list of operations``.
    A history is linearizable exactly when every group is (linearizability is compositional);
    the default keeps everything in one group. Sequential consistency is not compositional,
    so its checker never partitions.
``describe(state)``
    the state in words, for explanations of illegal histories.

For example, a counter with ``inc`` and ``get``::

    class Counter(Model):
        name = "counter"

        def init(self):
            return 0

        def step(self, state, op):
            if op.f == "inc":
                return True, state + 1
            if op.f == "get":
                return op.status == "unknown" or op.output == state, state
            raise ValueError(f"a counter has no operation {op.f!r}")

and ``check_linearizable(history, Counter())`` checks a history of ``inc`` and ``get``.

Three more methods are optional and only make checking faster; the defaults are always safe:

``read_only(op)``
    True when ``op`` leaves the state unchanged whenever it is legal (a read, a get). The
    checker places such operations as soon as they fit without trying alternatives. Saying
    True for an operation that can change the state gives wrong verdicts. Default: False.
``only_state(op)``
    for a read-only ``op`` that is legal in exactly one state (a read that returned 3), that
    state in a 1-tuple, ``(3,)``; otherwise None (the default). The checker then compares
    states instead of calling ``step``.
``for_part(key)``
    the model to check the part ``key`` of :meth:`Model.partition` with (default: the model
    itself). A map's part needs only its own key, and a smaller state is faster.

Three more let the checker prune with reachability (all three, or the defaults, which never
prune). ``reaches(state, target)`` is False only when no sequence of operations for which
``grows(op)`` is True leads from ``state`` to ``target``; ``sets(op)`` is, for an operation
whose legal steps always leave the same state (a write, a put), that state in a 1-tuple, else
None. A key's string value (appends only add at the end: ``target.startswith(state)``) and a
register (reads change nothing: ``state == target``) give them. A ``reaches`` that says False
wrongly gives wrong verdicts.

Operations of the models here (``input`` and ``output`` of each
:class:`~distlib.history.Operation`):

* :class:`Register`: ``read`` (output: the value), ``write`` (input: the value);
* :class:`CasRegister`: those two and ``cas`` (input ``(expected, new)``, output True when the
  swap happened, False when the register did not hold ``expected``);
* :class:`KeyValue`: ``get`` (input: key, output: value), ``put`` and ``append`` (input:
  ``(key, value)``); a missing key reads as the empty string;
* :class:`MultiRegister`: ``txn`` (input and output: a tuple of ``("read", name, value)`` and
  ``("write", name, value)`` micro-operations applied atomically).

Operations with status ``"fail"`` never reach a model: by the history's definition they did not
take effect.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, cast

from distlib.history import Operation

__all__ = ["CasRegister", "KeyValue", "Model", "MultiRegister", "Register"]


class Model:
    """Base class of sequential specifications: subclasses override ``init`` and ``step``."""

    #: A short name shown in results and explanations.
    name = "model"

    def init(self) -> Hashable:
        """The state before any operation."""
        raise NotImplementedError(f"{type(self).__name__} must define init()")

    def step(self, state: Any, op: Operation) -> tuple[bool, Any]:
        """Apply ``op`` to ``state``: ``(True, new_state)``, or ``(False, anything)`` if illegal."""
        raise NotImplementedError(f"{type(self).__name__} must define step(state, op)")

    def partition(self, ops: Sequence[Operation]) -> dict[Hashable, list[Operation]]:
        """Independent groups of operations; by default a single group keyed ``None``."""
        return {None: list(ops)}

    def describe(self, state: Any) -> str:
        """The state in words."""
        return repr(state)

    def read_only(self, op: Operation) -> bool:
        """True if ``op`` never changes the state when it is legal (default: False, always safe)."""
        return False

    def only_state(self, op: Operation) -> tuple[Any] | None:
        """``(state,)`` if the read-only ``op`` is legal in that state only, else None."""
        return None

    def grows(self, op: Operation) -> bool:
        """True if every legal step of ``op`` goes from a state to one that :meth:`reaches`
        (default: False, always safe)."""
        return False

    def sets(self, op: Operation) -> tuple[Any] | None:
        """``(state,)`` if ``op``, when legal, always leaves that state, whatever the state before
        (a write); else None (the default)."""
        return None

    def reaches(self, state: Any, target: Any) -> bool:
        """False only if no sequence of operations that :meth:`grows` leads from ``state`` to
        ``target`` (default: True, always safe)."""
        return True

    def for_part(self, key: Hashable) -> Model:
        """The model that checks the part ``key`` of :meth:`partition` (default: this one)."""
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _unknown_operation(model: Model, op: Operation, known: Iterable[str]) -> ValueError:
    names = ", ".join(repr(f) for f in known)
    return ValueError(
        f"the {model.name} model has no operation {op.f!r} (operation {op.id} by {op.client}); "
        f"it knows {names}"
    )


class Register(Model):
    """A single read/write register holding ``initial`` (default ``None``) at the start.

    ``read`` is legal when its output equals the register's value; ``write`` always succeeds.
    With ``wildcard_read=True`` a read that returned ``None`` tells nothing and matches any
    value (the convention of Knossos's histories, where ``nil`` marks a read without a value).
    """

    name = "register"
    _OPS: tuple[str, ...] = ("read", "write")

    def __init__(self, initial: Hashable = None, *, wildcard_read: bool = False) -> None:
        self.initial = initial
        self.wildcard_read = wildcard_read

    def init(self) -> Hashable:
        return self.initial

    def step(self, state: Any, op: Operation) -> tuple[bool, Any]:
        f = op.f
        if f == "read":
            if op.status == "unknown" or op.output == state:
                return True, state
            return op.output is None and self.wildcard_read, state
        if f == "write":
            return True, op.input
        raise _unknown_operation(self, op, self._OPS)

    def read_only(self, op: Operation) -> bool:
        return op.f == "read"

    def only_state(self, op: Operation) -> tuple[Any] | None:
        if op.f != "read" or op.status != "ok" or (op.output is None and self.wildcard_read):
            return None
        return (op.output,)

    def grows(self, op: Operation) -> bool:
        # Only operations that never change the register; reaches() is then equality.
        return self.read_only(op)

    def sets(self, op: Operation) -> tuple[Any] | None:
        if op.f == "write":
            return (op.input,)
        if op.f == "cas" and op.status == "ok" and op.output is True:
            return (op.input[1],)
        return None

    def reaches(self, state: Any, target: Any) -> bool:
        return bool(state == target)

    def describe(self, state: Any) -> str:
        return "the register is empty" if state is None else f"the register holds {state!r}"

    def __repr__(self) -> str:
        extra = ", wildcard_read=True" if self.wildcard_read else ""
        return f"{type(self).__name__}(initial={self.initial!r}{extra})"


class CasRegister(Register):
    """A register with compare-and-set: ``cas`` with input ``(expected, new)``.

    A cas whose output is True is legal only when the register holds ``expected``, and then
    stores ``new``; one whose output is False (the register said no) is legal only when the
    register does not hold ``expected``, and changes nothing. A cas of unknown outcome swaps
    when it can.
    """

    name = "cas-register"
    _OPS = ("read", "write", "cas")

    def step(self, state: Any, op: Operation) -> tuple[bool, Any]:
        if op.f != "cas":
            return Register.step(self, state, op)
        try:
            expected, new = op.input
        except (TypeError, ValueError):
            raise ValueError(
                f"cas needs input (expected, new), not {op.input!r} (operation {op.id})"
            ) from None
        if op.status == "unknown":
            return True, (new if state == expected else state)
        if op.output is True:
            return state == expected, new
        if op.output is False:
            return state != expected, state
        raise ValueError(
            f"cas output must be True or False, not {op.output!r} "
            f"(operation {op.id} by {op.client})"
        )

    def read_only(self, op: Operation) -> bool:
        # A cas that answered "no" changed nothing; one of unknown outcome may have swapped.
        return op.f == "read" or (op.f == "cas" and op.status == "ok" and op.output is False)


class KeyValue(Model):
    """A map from keys to strings; a key never written reads as ``""`` (Porcupine's kv model).

    ``get(key) -> value``, ``put((key, value))``, ``append((key, value))`` concatenating.
    The state is a sorted tuple of ``(key, value)`` pairs. Keys are independent, so
    :meth:`partition` checks each key's operations on their own.
    """

    name = "key-value"
    _OPS = ("get", "put", "append")

    def __init__(self, initial: Mapping[Hashable, str] | None = None) -> None:
        self.initial = tuple(sorted((initial or {}).items()))

    def init(self) -> Hashable:
        return self.initial

    @staticmethod
    def key_of(op: Operation) -> Hashable:
        """The key an operation touches."""
        if op.f == "get":
            return cast(Hashable, op.input)  # a get's input is its key
        try:
            key, _ = op.input
        except (TypeError, ValueError):
            raise ValueError(
                f"{op.f} needs input (key, value), not {op.input!r} (operation {op.id})"
            ) from None
        return cast(Hashable, key)

    def step(self, state: Any, op: Operation) -> tuple[bool, Any]:
        f = op.f
        if f == "get":
            key = op.input
            current = ""
            for k, v in state:
                if k == key:
                    current = v
                    break
            return op.status == "unknown" or op.output == current, state
        if f != "put" and f != "append":
            raise _unknown_operation(self, op, self._OPS)
        key = self.key_of(op)
        value = op.input[1]
        if not isinstance(value, str):
            raise ValueError(f"{f} needs a string value, not {value!r} (operation {op.id})")
        # The common case when checking key by key: a state with at most this one key.
        if not state:
            return True, ((key, value),)
        if len(state) == 1 and state[0][0] == key:
            return True, ((key, value if f == "put" else state[0][1] + value),)
        current = ""
        rest = []
        for k, v in state:
            if k == key:
                current = v
            else:
                rest.append((k, v))
        rest.append((key, value if f == "put" else current + value))
        try:
            rest.sort()
        except TypeError:  # keys of different types: any fixed order will do
            rest.sort(key=lambda kv: (type(kv[0]).__name__, repr(kv[0])))
        return True, tuple(rest)

    def read_only(self, op: Operation) -> bool:
        return op.f == "get"

    def partition(self, ops: Sequence[Operation]) -> dict[Hashable, list[Operation]]:
        groups: dict[Hashable, list[Operation]] = {}
        for op in ops:
            inp = op.input
            if op.f == "get":
                key = inp
            elif type(inp) is tuple and len(inp) == 2:
                key = inp[0]
            else:
                key = self.key_of(op)  # which explains what is wrong with the input
            group = groups.get(key)
            if group is None:
                groups[key] = [op]
            else:
                group.append(op)
        return groups

    def for_part(self, key: Hashable) -> Model:
        initial = ""
        for k, v in self.initial:
            if k == key:
                initial = v
        return _OneKey(key, initial)

    def describe(self, state: Any) -> str:
        if not state:
            return "every key is empty"
        return ", ".join(f"{k!r} holds {v!r}" for k, v in state)


class _OneKey(Model):
    """One key of a :class:`KeyValue` map, on its own: the state is the key's string."""

    name = "key-value"
    _OPS = ("get", "put", "append")

    def __init__(self, key: Hashable, initial: str = "") -> None:
        self.key = key
        self.initial = initial

    def init(self) -> Hashable:
        return self.initial

    def step(self, state: Any, op: Operation) -> tuple[bool, Any]:
        f = op.f
        if f == "get":
            return op.status == "unknown" or op.output == state, state
        if f != "put" and f != "append":
            raise _unknown_operation(self, op, self._OPS)
        value = op.input[1]
        if type(value) is not str:
            raise ValueError(f"{f} needs a string value, not {value!r} (operation {op.id})")
        return True, (value if f == "put" else state + value)

    def read_only(self, op: Operation) -> bool:
        return op.f == "get"

    def only_state(self, op: Operation) -> tuple[Any] | None:
        return (op.output,) if op.f == "get" and op.status == "ok" else None

    def grows(self, op: Operation) -> bool:
        return op.f == "get" or op.f == "append"

    def sets(self, op: Operation) -> tuple[Any] | None:
        return (op.input[1],) if op.f == "put" else None

    def reaches(self, state: Any, target: Any) -> bool:
        # Appends only add to the end of the value: a shorter or different start stays so.
        return bool(target.startswith(state))

    def describe(self, state: Any) -> str:
        return f"key {self.key!r} holds {state!r}"

    def __repr__(self) -> str:
        return f"KeyValue().for_part({self.key!r})"


class MultiRegister(Model):
    """Named registers read and written together in atomic transactions (``txn``).

    ``initial`` maps names to starting values. A transaction is a sequence of
    ``(kind, name, value)`` micro-operations, kind "read" or "write", applied in order; a read
    is legal when ``value`` is ``None`` (unknown) or equals the register. The operation's
    output holds the values the system reported (used when the status is "ok"), its input
    what was asked.
    """

    name = "multi-register"

    def __init__(self, initial: Mapping[Hashable, Hashable]) -> None:
        names: list[Any] = list(initial)  # comparable names (str in practice)
        self.names = tuple(sorted(names))
        self.initial = tuple(initial[n] for n in self.names)
        self._index = {n: i for i, n in enumerate(self.names)}

    def init(self) -> Hashable:
        return self.initial

    def step(self, state: Any, op: Operation) -> tuple[bool, Any]:
        if op.f != "txn":
            raise _unknown_operation(self, op, ("txn",))
        micro = op.output if op.status == "ok" and op.output is not None else op.input
        values = list(state)
        for kind, name, value in micro:
            if name not in self._index:
                raise ValueError(
                    f"operation {op.id} names register {name!r}, not one of {self.names}"
                )
            i = self._index[name]
            if kind == "write":
                values[i] = value
            elif kind == "read":
                if op.status == "ok" and value is not None and values[i] != value:
                    return False, state
            else:
                raise ValueError(
                    f"operation {op.id}: micro-operation {kind!r} is not read or write"
                )
        return True, tuple(values)

    def read_only(self, op: Operation) -> bool:
        return op.f == "txn" and all(kind == "read" for kind, _, _ in op.input)

    def describe(self, state: Any) -> str:
        return ", ".join(f"{n}={v!r}" for n, v in zip(self.names, state, strict=True))

    def __repr__(self) -> str:
        return f"MultiRegister({dict(zip(self.names, self.initial, strict=True))!r})"
