"""Durable storage that behaves like a disk: :class:`Disk`, what ``node.storage`` is in a runtime.

A node's ``storage`` survives its crashes; everything else in the node is lost. For that to mean
what it means on a real machine, storage must not share objects with the node's memory:

* **A write stores a copy.** ``storage["log"] = self.log`` writes the log *as it is now*; later
  appends to ``self.log`` do not reach the disk until the node writes it again. (A node that
  wrote its log once, at boot, and relied on the list staying shared, loses every later entry in
  a crash.) Values that cannot change (numbers, strings, tuples of them, frozen dataclasses) are
  stored as they are; lists, dicts and sets are copied, element by element where needed.
* **A read gives the stored object itself**, so ``storage["votes"][tx] = True`` changes what is
  stored, as an update in place on a disk would.
* **Durability.** By default every write is durable at once. With ``sync=True`` (per simulation:
  ``Simulation(durability="sync")``) writes reach the disk only at :meth:`Disk.sync`, as with
  ``fsync``: a crash brings back exactly what was stored at the last sync, and the writes since
  are lost. ``torn`` (a probability, sync mode only) makes a crash a *torn write*: each key
  written since the last sync survives or is lost on its own, so the disk can hold half of a
  batch of writes.
* **Crash points.** :meth:`Disk.crash_at` arms a fault: the disk raises :class:`CrashPoint` on
  its n-th write or sync from now, before performing it. The simulation then performs what the
  handler had already done (messages it sent before the write do leave) and crashes the node:
  the way to catch a node that replies before it writes.

:func:`durable_copy` is the copy a write makes. :func:`write_log` writes a list the way a server
writes its log file: only the entries that are not on disk yet (:meth:`Disk.write_log`). The disk
counts writes, syncs and lost writes (:attr:`Disk.stats`), for the fault coverage a run reports.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

__all__ = ["CrashPoint", "Disk", "durable_copy", "write_log"]


class CrashPoint(BaseException):
    """Raised by a disk at an armed crash point; the runtime crashes the node there.

    A ``BaseException`` (like ``KeyboardInterrupt``), so that a handler's ``except Exception``
    cannot swallow the crash. ``before`` says what did not happen: ``"sync"`` or the key of
    the write.
    """

    def __init__(self, before: str) -> None:
        super().__init__(f"crash point reached before {before}")
        self.before = before


#: Types whose values never change: stored without a copy.
_ATOMS: set[type] = {int, float, complex, str, bytes, bool, type(None), range, frozenset}
#: Types found to be immutable records (frozen dataclasses, named tuples), cached.
_RECORDS: dict[type, bool] = {}


def _shared(t: type) -> bool:
    """Whether values of type ``t`` may be stored without a copy."""
    if t in _ATOMS:
        return True
    known = _RECORDS.get(t)
    if known is None:
        params = getattr(t, "__dataclass_params__", None)
        is_tuple = issubclass(t, tuple) and t is not tuple  # a named tuple, such as a Ballot
        known = _RECORDS[t] = bool(params is not None and params.frozen) or is_tuple
    return known


def _all_shared(items: Iterable[Any]) -> bool:
    types = list(map(type, items))
    if types and types.count(types[0]) == len(types):  # one type (a log of entries): no set
        return _shared(types[0])
    return all(_shared(t) for t in set(types))


def durable_copy(value: Any) -> Any:
    """The value a write stores: ``value`` itself when it cannot change, else a copy.

    Lists, dicts, sets and tuples are copied as deep as they hold something that can change;
    frozen dataclasses and named tuples are treated as unchangeable records (their fields are
    not inspected); anything else is deep-copied.
    """
    t = type(value)
    if t in _ATOMS or _shared(t):
        return value
    if t is list:
        return list(value) if _all_shared(value) else [durable_copy(v) for v in value]
    if t is dict:
        if _all_shared(value.values()):
            return dict(value)
        return {k: durable_copy(v) for k, v in value.items()}
    if t is tuple:
        return value if _all_shared(value) else tuple(durable_copy(v) for v in value)
    if t is set:
        return set(value)
    return copy.deepcopy(value)


def _common_prefix(a: list[Any], b: list[Any]) -> int:
    """How many leading items the lists ``a`` and ``b`` have in common (by ``==``). Each
    comparison is of two slices, done in C (an item is first compared by identity, so the items
    of a log that were appended, not replaced, cost almost nothing); when the lists differ,
    halving finds where, comparing each item about once."""
    n, m = len(a), len(b)
    hi = n if n < m else m
    # Only the longer list is sliced (the common case, a log that grew, copies one list).
    if (a if n == hi else a[:hi]) == (b if m == hi else b[:hi]):
        return hi
    lo = 0  # a[:lo] == b[:lo] and a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def write_log(storage: MutableMapping[str, Any], key: str, entries: list[Any]) -> None:
    """Write the list ``entries`` under ``key`` as a log file is written: on a :class:`Disk`,
    only what is not stored yet (:meth:`Disk.write_log`); on any other mapping,
    ``storage[key] = list(entries)``."""
    if isinstance(storage, Disk):
        storage.write_log(key, entries)
    else:
        storage[key] = list(entries)


class Disk(MutableMapping[str, Any]):
    """A node's durable storage: a mapping whose writes store copies (see the module doc).

    ``sync``: writes are durable only at :meth:`sync`; ``torn``: in that mode, the probability
    that a crash tears the writes since the last sync (each then survives or not, at random).
    """

    __slots__ = ("_crash_in", "_live", "_synced", "_unsynced", "stats", "torn")

    def __init__(
        self, items: Iterable[tuple[str, Any]] = (), *, sync: bool = False, torn: float = 0.0
    ) -> None:
        if not 0.0 <= torn <= 1.0:
            raise ValueError(f"torn must be a probability in [0, 1], not {torn!r}")
        if torn and not sync:
            raise ValueError("torn writes need sync=True (without it every write is durable)")
        self._live: dict[str, Any] = {k: durable_copy(v) for k, v in items}
        self._synced: dict[str, Any] | None = durable_copy(self._live) if sync else None
        self._unsynced: set[str] = set()
        self._crash_in = 0  # > 0: raise CrashPoint when this many more operations are done
        self.torn = torn
        #: writes, syncs, and writes lost in crashes (unsynced) since the disk was made
        self.stats = {"writes": 0, "syncs": 0, "lost": 0}

    # -- the mapping ---------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._live[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if self._crash_in:
            self._operation(key)
        self._live[key] = value if type(value) in _ATOMS else durable_copy(value)
        self.stats["writes"] += 1
        if self._synced is not None:
            self._unsynced.add(key)

    def __delitem__(self, key: str) -> None:
        if self._crash_in:
            self._operation(key)
        del self._live[key]
        self.stats["writes"] += 1
        if self._synced is not None:
            self._unsynced.add(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._live)

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: object) -> bool:
        return key in self._live

    def write_log(self, key: str, entries: list[Any]) -> None:
        """Write the list ``entries`` under ``key`` as a server writes its log file: the entries
        already stored stay, a change cuts the stored list back to it, and the new entries are
        appended after.

        What is stored afterwards equals ``entries``, as after ``disk[key] = entries``, and it
        counts as one write (a crash point, a torn write or a sync treats it as one); but it
        costs what changed, not the whole list, so a node can write a long log before every
        reply. Stored entries are compared with the new ones by ``==``, so the entries must be
        values that are equal only when they are the same, such as frozen dataclass records
        (an equal entry already stored is kept as it is). The stored list is changed in
        place: a list read from the disk earlier changes with it.
        """
        if self._crash_in:
            self._operation(key)
        stored = self._live.get(key)
        if type(stored) is not list or type(entries) is not list or stored is entries:
            # Nothing to extend (or the node's list is the stored one, read at boot): a write.
            self._live[key] = durable_copy(entries)
        else:
            keep = _common_prefix(stored, entries)
            if keep < len(stored):
                del stored[keep:]
            if keep < len(entries):
                new = entries[keep:]
                stored += new if _all_shared(new) else [durable_copy(v) for v in new]
        self.stats["writes"] += 1
        if self._synced is not None:
            self._unsynced.add(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """The stored value of ``key``, writing ``default`` first if there is none. Returns the
        stored object (a copy of ``default``), so updates in place through it are stored."""
        if key not in self._live:
            self[key] = default
        return self._live[key]

    def __repr__(self) -> str:
        mode = "" if self._synced is None else f", sync=True, unsynced={sorted(self._unsynced)}"
        return f"Disk({self._live!r}{mode})"

    # -- durability ----------------------------------------------------------------------------

    @property
    def needs_sync(self) -> bool:
        """Whether writes wait for :meth:`sync` to be durable."""
        return self._synced is not None

    def sync(self) -> None:
        """Make everything stored durable (``fsync``). Without ``sync=True`` it only counts."""
        if self._crash_in:
            self._operation(None)
        self.stats["syncs"] += 1
        if self._synced is not None:
            self._synced = durable_copy(self._live)
            self._unsynced.clear()

    def crash(self, rng: random.Random | None = None) -> list[str]:
        """What a crash does to the disk: bring back the last synced state (sync mode; with
        ``torn``, a random part of the unsynced writes survives). Returns the keys whose last
        writes were lost. The runtime calls this; a node never does."""
        self._crash_in = 0
        if self._synced is None:
            return []
        lost = sorted(self._unsynced)
        if lost and self.torn and rng is not None and rng.random() < self.torn:
            kept = [k for k in lost if rng.random() < 0.5]
            for key in kept:
                if key in self._live:
                    self._synced[key] = durable_copy(self._live[key])
                else:
                    self._synced.pop(key, None)
            lost = [k for k in lost if k not in kept]
        self._live = durable_copy(self._synced)
        self._unsynced.clear()
        self.stats["lost"] += len(lost)
        return lost

    def crash_at(self, n: int) -> None:
        """Arm a crash point: the ``n``-th write or sync from now (1 = the next) raises
        :class:`CrashPoint` instead of happening. ``0`` disarms it."""
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"a crash point is a count of operations >= 0, not {n!r}")
        self._crash_in = n

    def _operation(self, key: str | None) -> None:
        self._crash_in -= 1
        if self._crash_in == 0:
            raise CrashPoint("sync" if key is None else f"the write of {key!r}")
