"""Tests for distlib.protocols.hashing: the ring, preference lists, movement and balance."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlib.protocols.hashing import (
    RING_SIZE,
    HashRing,
    balance_vs_vnodes,
    load_stats,
    modulo_movement,
    moved_keys,
    movement_on_join,
    sample_keys,
    stable_hash,
)

SERVERS = [f"s{i}" for i in range(6)]
KEYS = sample_keys(3000)


def _brute_force_owner(ring: HashRing, key: str) -> str:
    """The owner by definition: the smallest token >= hash(key), else the smallest token."""
    h = ring.hash(key)
    pairs = sorted((t, o) for o in ring.nodes for t in ring.tokens(o))
    after = [p for p in pairs if p[0] >= h]
    return (after or pairs)[0][1]


def test_stable_hash_is_deterministic_across_processes():
    """stable_hash gives the same position in a fresh interpreter (unlike the salted hash())."""
    code = "from distlib.protocols.hashing import stable_hash; print(stable_hash('k'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": ".", "PYTHONHASHSEED": "123"},
    )
    assert int(out.stdout) == stable_hash("k"), "the ring position of a key must not vary by run"
    assert 0 <= stable_hash("k") < RING_SIZE
    assert stable_hash(7) == stable_hash("7")
    with pytest.raises(TypeError, match="str, bytes or int"):
        stable_hash(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="algorithm"):
        stable_hash("k", algorithm="crc32")


@settings(max_examples=60)
@given(st.text(min_size=0, max_size=12))
def test_lookup_is_the_first_token_clockwise(key):
    """Karger et al. 1997 §4: a key belongs to the first token at or after its hash (wrapping)."""
    ring = HashRing(SERVERS[:4], vnodes=8)
    assert ring.lookup(key) == _brute_force_owner(ring, key), f"wrong owner for {key!r}"


def test_lookup_wraps_past_the_last_token():
    """A key hashed past the last token belongs to the owner of the first token."""
    ring = HashRing(["a", "b"], vnodes=3)
    last = ring.tokens()[-1]
    key = next(k for k in sample_keys(100_000) if ring.hash(k) > last)
    first_owner = _brute_force_owner(ring, key)
    assert ring.lookup(key) == first_owner, f"{key!r} above the last token should wrap around"


def test_points_pair_each_token_with_its_server_clockwise():
    """points() lists every token with its owner, sorted by position, after joins and leaves."""
    ring = HashRing(["a", "b", "c"], vnodes=5)
    ring.remove_node("b")
    ring.add_node("d", vnodes=2)
    points = ring.points()
    assert [t for t, _ in points] == ring.tokens(), "points must be in token (clockwise) order"
    for node in ring.nodes:
        mine = [t for t, owner in points if owner == node]
        assert mine == ring.tokens(node), f"{node}'s tokens differ from its points"
    assert len(points) == 5 + 5 + 2


def test_ring_is_deterministic():
    """Two rings built alike give the same owners and tokens."""
    a, b = HashRing(SERVERS, vnodes=20), HashRing(SERVERS, vnodes=20)
    assert a.tokens() == b.tokens()
    assert [a.lookup(k) for k in KEYS] == [b.lookup(k) for k in KEYS]


@given(st.text(max_size=10), st.integers(1, 6))
def test_preference_list_is_distinct_and_starts_at_the_owner(key, n):
    """Dynamo §4.3: a preference list has n distinct servers, the first being the key's owner."""
    ring = HashRing(SERVERS, vnodes=10)
    prefs = ring.preference_list(key, n)
    assert len(prefs) == n and len(set(prefs)) == n, f"preference list {prefs} is not distinct"
    assert prefs[0] == ring.lookup(key)
    assert prefs == ring.preference_list(key, 6)[:n], "shorter lists must be prefixes of longer"


def test_preference_list_refuses_more_than_the_servers():
    """Asking for more replicas than servers is an error that says so."""
    with pytest.raises(ValueError, match="needs 4 servers"):
        HashRing(["a", "b", "c"]).preference_list("k", 4)
    with pytest.raises(LookupError, match="no servers"):
        HashRing().lookup("k")


@pytest.mark.parametrize("n", [3, 5, 9])
def test_join_moves_about_one_over_n_plus_one(n):
    """Karger et al. 1997: when a server joins n, about 1/(n+1) of the keys move."""
    nodes = [f"n{i}" for i in range(n)]
    fraction = movement_on_join(nodes, "new", keys=4000)
    expected = 1 / (n + 1)
    assert abs(fraction - expected) < 0.35 * expected, (
        f"{fraction:.3f} of the keys moved when joining {n} servers; expected about {expected:.3f}"
    )
    assert modulo_movement(n, keys=4000) > 0.6, "hash % n should move most keys"


def test_keys_move_only_to_the_new_server_and_back_on_leave():
    """On a join, every moved key moves to the newcomer; removing it restores the old owners."""
    before = HashRing(SERVERS, vnodes=30)
    after = before.copy()
    after.add_node("new")
    moved = moved_keys(before, after, KEYS)
    assert moved, "some keys should move to the new server"
    wrong = [k for k in moved if after.lookup(k) != "new"]
    assert not wrong, f"keys moved between old servers: {wrong[:5]}"
    after.remove_node("new")
    assert moved_keys(before, after, KEYS) == [], "removing the newcomer must restore the owners"


def test_more_virtual_nodes_balance_better():
    """More virtual nodes per server give a more even spread of keys."""
    stats = balance_vs_vnodes(SERVERS, (1, 256), keys=3000)
    few, many = stats
    assert many.max_over_mean < few.max_over_mean, f"256 vnodes: {many}; 1 vnode: {few}"
    assert many.cv < 0.15, f"with 256 vnodes per server the load should be even: {many}"
    assert sum(many.counts.values()) == 3000


def test_ownership_sums_to_one_and_matches_loads():
    """The servers' arcs cover the ring, and key counts follow the arcs."""
    ring = HashRing(SERVERS, vnodes=50)
    share = ring.ownership()
    assert sum(share.values()) == pytest.approx(1.0)
    counts = load_stats(ring, KEYS).counts
    for node, fraction in share.items():
        assert counts[node] / len(KEYS) == pytest.approx(fraction, abs=0.04), (
            f"{node} owns {fraction:.3f} of the ring but {counts[node]} of {len(KEYS)} keys"
        )


def test_weights_and_membership_errors():
    """A server can get more tokens; duplicates, unknown servers and bad counts are refused."""
    ring = HashRing(["a", "b"], vnodes=10)
    ring.add_node("big", vnodes=40)
    assert len(ring.tokens("big")) == 40 and len(ring) == 3 and "big" in ring
    assert ring.ownership()["big"] > ring.ownership()["a"]
    with pytest.raises(ValueError, match="already"):
        ring.add_node("a")
    with pytest.raises(ValueError, match="not on the ring"):
        ring.remove_node("zzz")
    with pytest.raises(ValueError, match="vnodes"):
        HashRing(vnodes=0)
