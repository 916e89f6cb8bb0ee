"""Consistent hashing: a ring of virtual nodes that decides which servers store a key.

Every server gets ``vnodes`` points (tokens) on a ring of 2**64 positions; a key is hashed onto the
ring and belongs to the first token at or after it, going clockwise (Karger et al., "Consistent
Hashing and Random Trees", STOC 1997; Dynamo, DeCandia et al. SOSP 2007 §4.2). Its *preference
list* is the first N distinct servers met clockwise: the replicas of the key (Dynamo §4.3).

Why a ring and not ``hash(key) % n``: when a server joins a ring of n, only the keys that now
fall on its tokens move, about 1/(n+1) of them, all to the newcomer; with ``% n`` nearly all keys
change server (n/(n+1) of them). Virtual nodes even out the load: with one token per server the
arcs, and so the loads, vary a lot; with v tokens per server the spread shrinks roughly like
1/sqrt(v). :func:`movement_on_join`, :func:`modulo_movement`, :func:`load_stats` and
:func:`balance_vs_vnodes` measure both facts.

Everything here is pure and deterministic: hashes come from :mod:`hashlib` (md5 by default), not
from Python's ``hash()``, which is salted per process. Replication on top of the ring lives in
:mod:`distlib.protocols.quorum_replication`.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "HashRing",
    "LoadStats",
    "balance_vs_vnodes",
    "load_stats",
    "modulo_movement",
    "moved_keys",
    "movement_on_join",
    "sample_keys",
    "stable_hash",
]

RING_SIZE = 2**64
ALGORITHMS = ("md5", "sha1", "sha256")


def stable_hash(key: str | bytes | int, *, algorithm: str = "md5") -> int:
    """A position on the ring, in ``[0, 2**64)``: the first 8 bytes of the key's digest.

    Strings are encoded as UTF-8 and integers written in decimal first, so ``stable_hash(7) ==
    stable_hash("7")``. The same key gives the same position in every process and on every
    machine (Python's built-in ``hash()`` does not).
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, not {algorithm!r}")
    if isinstance(key, bytes):
        data = key
    elif isinstance(key, str):
        data = key.encode("utf-8")
    elif isinstance(key, int) and not isinstance(key, bool):
        data = str(key).encode("ascii")
    else:
        raise TypeError(f"a ring key must be a str, bytes or int, not {type(key).__name__}")
    digest = hashlib.new(algorithm, data, usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big")


class HashRing:
    """A consistent-hashing ring with virtual nodes.

    >>> ring = HashRing(["a", "b", "c"], vnodes=64)
    >>> ring.lookup("user:42")                   # the server that owns the key
    'b'
    >>> ring.preference_list("user:42", 2)       # its first two distinct servers clockwise
    ['b', 'a']
    >>> ring.add_node("d")                       # about a quarter of the keys move, all to d

    ``vnodes`` is the default number of tokens per server; :meth:`add_node` can give one server
    more (a bigger machine) or fewer. Token ``i`` of server ``s`` sits at
    ``stable_hash(f"{s}#{i}")``.
    """

    def __init__(
        self, nodes: Iterable[str] = (), *, vnodes: int = 100, algorithm: str = "md5"
    ) -> None:
        if not isinstance(vnodes, int) or isinstance(vnodes, bool) or vnodes < 1:
            raise ValueError(f"vnodes must be a positive int, not {vnodes!r}")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, not {algorithm!r}")
        self.vnodes = vnodes
        self.algorithm = algorithm
        self._tokens: list[int] = []  # sorted positions
        self._owners: list[str] = []  # the server owning each position
        self._weights: dict[str, int] = {}
        for node in nodes:
            self.add_node(node)

    # -- membership --------------------------------------------------------------------------

    def hash(self, key: str | bytes | int) -> int:
        """The ring position of ``key`` (see :func:`stable_hash`)."""
        return stable_hash(key, algorithm=self.algorithm)

    def add_node(self, node: str, *, vnodes: int | None = None) -> None:
        """Put ``node`` on the ring with ``vnodes`` tokens (default: the ring's ``vnodes``)."""
        if not isinstance(node, str) or not node:
            raise TypeError(f"a server name must be a non-empty string, not {node!r}")
        if node in self._weights:
            raise ValueError(f"server {node!r} is already on the ring")
        count = self.vnodes if vnodes is None else vnodes
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"vnodes must be a positive int, not {count!r}")
        self._weights[node] = count
        pairs = list(zip(self._tokens, self._owners, strict=True))
        pairs += [(self.hash(f"{node}#{i}"), node) for i in range(count)]
        pairs.sort()  # equal positions (never seen in practice) are ordered by server name
        self._tokens = [t for t, _ in pairs]
        self._owners = [o for _, o in pairs]

    def remove_node(self, node: str) -> None:
        """Take ``node`` off the ring: its keys go to the next servers clockwise."""
        if node not in self._weights:
            raise ValueError(f"server {node!r} is not on the ring (servers: {self.nodes})")
        del self._weights[node]
        keep = [(t, o) for t, o in zip(self._tokens, self._owners, strict=True) if o != node]
        self._tokens = [t for t, _ in keep]
        self._owners = [o for _, o in keep]

    @property
    def nodes(self) -> tuple[str, ...]:
        """The servers on the ring, in the order they were added."""
        return tuple(self._weights)

    def tokens(self, node: str | None = None) -> list[int]:
        """The sorted token positions (of one server, or of all)."""
        if node is None:
            return list(self._tokens)
        return [t for t, o in zip(self._tokens, self._owners, strict=True) if o == node]

    def points(self) -> list[tuple[int, str]]:
        """Every token with its server, ``(position, server)``, in clockwise (sorted) order."""
        return list(zip(self._tokens, self._owners, strict=True))

    def __len__(self) -> int:
        return len(self._weights)

    def __contains__(self, node: object) -> bool:
        return node in self._weights

    def copy(self) -> HashRing:
        """An independent ring with the same servers and tokens."""
        other = HashRing(vnodes=self.vnodes, algorithm=self.algorithm)
        other._tokens = list(self._tokens)
        other._owners = list(self._owners)
        other._weights = dict(self._weights)
        return other

    def __repr__(self) -> str:
        return f"HashRing({list(self.nodes)!r}, vnodes={self.vnodes}, algorithm={self.algorithm!r})"

    # -- lookups -------------------------------------------------------------------------------

    def lookup(self, key: str | bytes | int) -> str:
        """The server that owns ``key``: the owner of the first token at or after its hash."""
        if not self._tokens:
            raise LookupError("the ring has no servers: add_node() first")
        # Karger et al. 1997 §4 / Dynamo §4.2: walk clockwise to the first token; wrap at the top.
        i = bisect.bisect_left(self._tokens, self.hash(key))
        return self._owners[i % len(self._tokens)]

    def preference_list(self, key: str | bytes | int, n: int) -> list[str]:
        """The first ``n`` distinct servers clockwise from ``key``: where its replicas live."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"a preference list needs n >= 1 servers, not {n!r}")
        if n > len(self._weights):
            raise ValueError(
                f"a preference list of {n} needs {n} servers; the ring has {len(self)}"
            )
        # Dynamo §4.3: skip tokens of servers already chosen, so the N replicas are distinct.
        start = bisect.bisect_left(self._tokens, self.hash(key))
        chosen: list[str] = []
        for step in range(len(self._tokens)):
            owner = self._owners[(start + step) % len(self._tokens)]
            if owner not in chosen:
                chosen.append(owner)
                if len(chosen) == n:
                    break
        return chosen

    def ownership(self) -> dict[str, float]:
        """The fraction of the ring each server owns (its share of uniformly spread keys)."""
        if not self._tokens:
            return {}
        share = dict.fromkeys(self._weights, 0)
        prev = self._tokens[-1] - RING_SIZE  # the arc before the first token wraps around
        for token, owner in zip(self._tokens, self._owners, strict=True):
            share[owner] += token - prev
            prev = token
        return {node: arc / RING_SIZE for node, arc in share.items()}


# --------------------------------------------------------------------------------------------
# Measurements


def sample_keys(count: int, *, prefix: str = "key-") -> list[str]:
    """``count`` distinct, deterministic keys: ``key-0``, ``key-1``, ..."""
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative int, not {count!r}")
    return [f"{prefix}{i}" for i in range(count)]


def moved_keys(
    before: HashRing, after: HashRing, keys: Iterable[str | bytes | int]
) -> list[str | bytes | int]:
    """The keys whose owner differs between two rings."""
    return [k for k in keys if before.lookup(k) != after.lookup(k)]


def movement_on_join(
    nodes: Sequence[str],
    new_node: str,
    *,
    keys: int = 10_000,
    vnodes: int = 100,
    algorithm: str = "md5",
) -> float:
    """The fraction of ``keys`` sample keys that change server when ``new_node`` joins ``nodes``.

    For a ring of n servers it comes out near 1/(n+1): the newcomer takes its fair share and
    nothing else moves.
    """
    before = HashRing(nodes, vnodes=vnodes, algorithm=algorithm)
    after = before.copy()
    after.add_node(new_node)
    sample = sample_keys(keys)
    return len(moved_keys(before, after, sample)) / len(sample) if sample else 0.0


def modulo_movement(n: int, *, keys: int = 10_000, algorithm: str = "md5") -> float:
    """The fraction of keys that move under ``hash(key) % n`` when an (n+1)-th server joins.

    The comparison point for consistent hashing: about n/(n+1) of the keys move.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive number of servers, not {n!r}")
    sample = sample_keys(keys)
    hashes = [stable_hash(k, algorithm=algorithm) for k in sample]
    moved = sum(1 for h in hashes if h % n != h % (n + 1))
    return moved / len(sample) if sample else 0.0


@dataclass(frozen=True, slots=True)
class LoadStats:
    """How evenly keys spread over servers.

    ``counts`` maps each server to its number of keys; ``max_over_mean`` is the busiest server's
    load relative to a perfect share (1.0 is perfect); ``cv`` is the coefficient of variation
    (standard deviation over mean) of the loads.
    """

    vnodes: int
    counts: dict[str, int]
    mean: float
    stdev: float
    max_over_mean: float
    min_over_mean: float

    @property
    def cv(self) -> float:
        return self.stdev / self.mean if self.mean else 0.0

    def __str__(self) -> str:
        return (
            f"vnodes={self.vnodes:4d}  max/mean={self.max_over_mean:.3f}  "
            f"min/mean={self.min_over_mean:.3f}  cv={self.cv:.3f}"
        )


def load_stats(ring: HashRing, keys: Iterable[str | bytes | int]) -> LoadStats:
    """Count how many of ``keys`` each server of ``ring`` owns, with summary statistics."""
    if not len(ring):
        raise ValueError("load_stats needs a ring with at least one server")
    counts = dict.fromkeys(ring.nodes, 0)
    counts.update(Counter(ring.lookup(k) for k in keys))
    loads = list(counts.values())
    mean = sum(loads) / len(loads)
    stdev = math.sqrt(sum((x - mean) ** 2 for x in loads) / len(loads))
    if mean == 0:
        return LoadStats(ring.vnodes, counts, 0.0, 0.0, 0.0, 0.0)
    return LoadStats(ring.vnodes, counts, mean, stdev, max(loads) / mean, min(loads) / mean)


def balance_vs_vnodes(
    nodes: Sequence[str],
    vnode_counts: Iterable[int] = (1, 4, 16, 64, 256),
    *,
    keys: int = 10_000,
    algorithm: str = "md5",
) -> list[LoadStats]:
    """Load statistics of the same servers and keys for each number of virtual nodes."""
    sample = sample_keys(keys)
    return [
        load_stats(HashRing(nodes, vnodes=v, algorithm=algorithm), sample) for v in vnode_counts
    ]
