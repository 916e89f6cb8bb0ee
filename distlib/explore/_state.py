"""States of the explorer and their canonical encoding.

A state is immutable once built: the explorer never runs a handler on a node object that a state
holds; it clones the node first. So states share every node, disk and message they did not
change, and a state's identity (:attr:`State.key`) is computed from per-node keys computed once.
"""

from __future__ import annotations

import copy
import enum
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from distlib.node import Node

__all__ = ["ExploreError", "Slot", "State", "Step", "canonical"]


class ExploreError(Exception):
    """The explorer cannot do what was asked: a node's state it cannot encode or copy, a node
    that behaves differently when the same step is taken twice, a bad configuration."""


_ATOMS = (int, float, complex, str, bytes, bool, type(None))


def canonical(value: Any, where: str = "value") -> Any:
    """A hashable, deterministic encoding of ``value``: equal for equal states whatever the
    insertion order of their dicts and sets. Raises :class:`ExploreError` naming ``where`` for
    values with no such encoding (generators, open files, functions, locks, ...)."""
    t = type(value)
    if t in _ATOMS:
        return value
    kind = _KINDS.get(t)
    if kind is None:
        kind = _KINDS[t] = _kind(t)
    if kind == "record":  # a frozen dataclass or named tuple: itself, if all it holds hashes
        try:
            hash(value)
            return value
        except TypeError:
            pass
    elif kind == "atom":
        return value
    if t is tuple or t is list:
        if all(type(v) in _ATOMS for v in value):
            return (t.__name__, *value)
        return (t.__name__, *(canonical(v, f"{where}[{i}]") for i, v in enumerate(value)))
    if t is dict or isinstance(value, Mapping):
        items = [
            (
                k if type(k) in _ATOMS else canonical(k, f"{where} key"),
                v if type(v) in _ATOMS else canonical(v, f"{where}[{k!r}]"),
            )
            for k, v in value.items()
        ]
        return ("dict", *_sorted(items))
    if t is set or t is frozenset:
        return ("set", *_sorted([canonical(v, f"{where} element") for v in value]))
    if is_dataclass(value) and not isinstance(value, type):
        return (
            t.__qualname__,
            *(canonical(getattr(value, f.name), f"{where}.{f.name}") for f in fields(value)),
        )
    if isinstance(value, tuple):  # a named tuple
        return (t.__qualname__, *(canonical(v, f"{where}[{i}]") for i, v in enumerate(value)))
    state = getattr(value, "__dict__", None)
    if state is not None and not callable(value):
        return (t.__qualname__, canonical(state, where))
    raise ExploreError(
        f"{where} is a {t.__name__} ({value!r:.60}), which the explorer cannot compare between "
        "states: keep plain data (numbers, strings, tuples, lists, dicts, sets, dataclasses) in "
        "a node's fields, or list the fields that matter in the class attribute explore_fields"
    )


#: How :func:`canonical` treats each type it has met: "atom" (an enum: itself), "record"
#: (frozen dataclass or named tuple: itself when hashable) or "other".
_KINDS: dict[type, str] = {}


def _kind(t: type) -> str:
    if issubclass(t, enum.Enum):
        return "atom"
    params = getattr(t, "__dataclass_params__", None)
    if (params is not None and params.frozen) or (issubclass(t, tuple) and t is not tuple):
        return "record"
    return "other"


def _sorted(items: list[Any]) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


#: Fields every node has that are the runtime's, not the protocol's.
_RUNTIME_FIELDS = frozenset({"_ctx", "_actions"})


def node_fields(node: Node) -> dict[str, Any]:
    """The fields of ``node`` that make up its state: ``explore_fields`` if the class declares
    them, else every field but the runtime's."""
    declared = getattr(type(node), "explore_fields", None)
    if declared is not None:
        return {name: getattr(node, name) for name in declared}
    return {k: v for k, v in vars(node).items() if k not in _RUNTIME_FIELDS}


def node_key(name: str, node: Node) -> Any:
    fields_ = node_fields(node)
    return (type(node).__qualname__, canonical(fields_, f"node {name!r}: field"))


def freeze(node: Node) -> bytes | None:
    """``node``'s fields pickled (its frozen copy), or None if they cannot be pickled."""
    cls = type(node)
    if not _PICKLES.get(cls, True):
        return None
    state = {k: v for k, v in vars(node).items() if k not in _RUNTIME_FIELDS}
    try:
        return pickle.dumps(state, pickle.HIGHEST_PROTOCOL)
    except Exception:
        _PICKLES[cls] = False
        return None


def thaw(cls: type[Node], frozen: bytes) -> Node:
    """A fresh node of class ``cls`` from its frozen fields."""
    new = cls.__new__(cls)
    new.__dict__.update(pickle.loads(frozen))
    new._ctx = None
    new._actions = []
    return new


_PICKLES: dict[type, bool] = {}


def clone(node: Node) -> Node:
    """A copy of ``node`` with none of its fields shared (its context is not copied)."""
    cls = type(node)
    state = {k: v for k, v in vars(node).items() if k not in _RUNTIME_FIELDS}
    new = cls.__new__(cls)
    if _PICKLES.get(cls, True):
        try:
            copied = pickle.loads(pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
            _PICKLES[cls] = True
        except Exception:
            _PICKLES[cls] = False
            copied = copy.deepcopy(state)
    else:
        copied = copy.deepcopy(state)
    new.__dict__.update(copied)
    new._ctx = None
    new._actions = []
    return new


@dataclass(frozen=True, slots=True)
class Step:
    """One step from a state: what happened, and where.

    ``kind`` is "deliver", "drop" or "duplicate" (of the message ``msg`` from ``src`` to
    ``node``), "timer" (``timer`` fires at ``node``, with ``payload``), "crash" or "restart"
    (of ``node``).
    """

    kind: str
    node: str
    src: str | None = None
    msg: Any = None
    timer: str | None = None
    payload: Any = None

    def __str__(self) -> str:
        if self.kind in ("deliver", "drop", "duplicate"):
            return f"{self.kind} {_short(self.msg)} {self.src} -> {self.node}"
        if self.kind == "timer":
            extra = "" if self.payload is None else f" ({_short(self.payload)})"
            return f"timer {self.timer!r} fires at {self.node}{extra}"
        return f"{self.kind} {self.node}"


def _short(value: Any, limit: int = 90) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class Timer:
    """An armed timer: its name, the number of its payload (or None), its due time."""

    name: str
    payload: int | None
    due: float


class Slot:
    """One node's part of a state: the node (None while down), its fields pickled (``frozen``:
    None when down or when they cannot be pickled), its number (``node_key``: the number of its
    canonical encoding, None when down), its storage (``disk``) and that storage's number
    (``disk_key``), in sync mode what the storage held at its last sync (``synced``, else
    None), and ``number``: the number of the pair (node_key, disk_key), which is what a
    state's key holds. A handler's outcome makes one slot that every state reached by that
    outcome shares, so taking a step replaces one slot, not five values."""

    __slots__ = ("disk", "disk_key", "frozen", "node", "node_key", "number", "synced")

    def __init__(
        self,
        node: Node | None,
        frozen: bytes | None,
        node_key: int | None,
        disk: dict[str, Any],
        disk_key: int,
        synced: dict[str, Any] | None,
        number: int,
    ) -> None:
        self.node = node
        self.frozen = frozen
        self.node_key = node_key
        self.disk = disk
        self.disk_key = disk_key
        self.synced = synced
        self.number = number


@dataclass(slots=True, eq=False)
class State:
    """Every node's state (``None`` while down) and storage, the armed timers, the messages in
    flight (a multiset: ``(src, dst, message number) -> count``), each node's logical clock, the
    facts a property records (``ghost``), and the fault budget spent so far.

    Each node's state and storage are held in its :class:`Slot` (``slots``; ``nodes``,
    ``disks``, ``node_keys``... are read from them), and the key holds each slot's number
    (``numbers``), so comparing two states is cheap."""

    slots: tuple[Slot, ...]
    numbers: tuple[int, ...]  # each slot's number
    timers: tuple[frozenset[Timer], ...]
    clocks: tuple[float, ...]
    #: (src, dst, message number) -> copies; with ``fifo``, (src, dst) -> the numbers in order
    network: dict[Any, Any]
    ghost: frozenset[Any]
    spent: tuple[int, int, int, tuple[int, ...]]  # drops, duplicates, crashes, timer firings
    incarnations: tuple[int, ...]
    depth: int = 0
    _key: Any = None
    _orbit: Any = None  # the key under symmetry, once the explorer computed it

    @property
    def nodes(self) -> tuple[Node | None, ...]:
        return tuple(s.node for s in self.slots)

    @property
    def frozen(self) -> tuple[bytes | None, ...]:
        """Each node's fields, pickled (None: down, or they cannot be)."""
        return tuple(s.frozen for s in self.slots)

    @property
    def node_keys(self) -> tuple[int | None, ...]:
        """Each node's number (None: down)."""
        return tuple(s.node_key for s in self.slots)

    @property
    def disks(self) -> tuple[dict[str, Any], ...]:
        return tuple(s.disk for s in self.slots)

    @property
    def disk_keys(self) -> tuple[int, ...]:
        return tuple(s.disk_key for s in self.slots)

    @property
    def synced(self) -> tuple[dict[str, Any], ...] | None:
        """With ``durability="sync"``: what each node's disk holds at its last sync (a crash
        brings it back); None when every write is durable at once."""
        if self.slots[0].synced is None:
            return None
        return tuple(s.synced for s in self.slots)  # type: ignore[misc]

    @property
    def key(self) -> Any:
        """The state's identity: equal keys, equal futures."""
        if self._key is None:
            net = frozenset(self.network.items())
            self._key = (
                self.numbers,
                self.timers,
                self.clocks,
                net,
                self.ghost,
                self.spent,
            )
        return self._key
