"""Tests for distlib.protocols.kvstore: clients, the two lab stores, and the stale-read check.

``linearizable`` below is a deliberately small brute-force checker (a Wing and Gong search with
memoisation, key by key) for the short register and key-value histories these tests produce;
the real checker lives in distlib.check.
"""

from __future__ import annotations

import pytest

from distlib import Uniform
from distlib.history import History, Operation
from distlib.protocols.kvstore import (
    ClientGet,
    ClientPut,
    ClientReply,
    KVClient,
    LazyReplicatedStore,
    RandomKVClient,
    SingleServerStore,
    stale_read_fraction,
    stale_reads,
    wire_request,
)
from distlib.testing.workloads import run_kv

# -- a tiny linearizability checker for small register / key-value histories -----------------


def _key(op: Operation):
    return None if op.f in ("read", "write") else op.input[0]


def linearizable(history, initial=None) -> bool:
    """True when every key's sub-history has a legal sequential order respecting real time.

    Failed operations never happened; reads of unknown outcome are dropped; writes of unknown
    outcome may take effect at any point after their invocation, or never.
    """
    keys: dict = {}
    for op in history:
        if op.status == "fail" or (op.status == "unknown" and op.f in ("read", "get")):
            continue
        keys.setdefault(_key(op), []).append(op)
    return all(_linearizable_key(ops, initial) for ops in keys.values())


def _linearizable_key(ops: list[Operation], initial) -> bool:
    n = len(ops)
    must = sum(1 << i for i, op in enumerate(ops) if op.status == "ok")
    before = [[j for j in range(n) if ops[j].precedes(ops[i])] for i in range(n)]
    seen = set()
    stack = [(0, initial)]
    while stack:
        done, state = stack.pop()
        if done & must == must:
            return True
        if (done, state) in seen:
            continue
        seen.add((done, state))
        for i in range(n):
            if done >> i & 1 or any(not done >> j & 1 for j in before[i]):
                continue  # already placed, or something that precedes it is not placed yet
            op = ops[i]
            if op.f in ("read", "get"):
                if op.output == state:
                    stack.append((done | 1 << i, state))
            else:
                stack.append((done | 1 << i, op.input if op.f == "write" else op.input[1]))
    return False


def _h(*ops: tuple) -> History:
    """A history from (client, f, input, call, ret, output, status) tuples."""
    out = History()
    for client, f, input, call, ret, output, *status in ops:
        op = out.invoke(client, f, input, time=call)
        out.complete(
            op, output, time=ret if ret is not None else call, status=status[0] if status else "ok"
        )
    return out


def test_checker_accepts_and_rejects_known_histories():
    """The test checker accepts a linearizable register history and rejects a stale read."""
    good = _h(
        ("a", "write", 1, 0, 2, None), ("b", "read", None, 1, 3, 1), ("b", "read", None, 4, 5, 1)
    )
    assert linearizable(good)
    bad = _h(
        ("a", "write", 1, 0, 1, None), ("a", "write", 2, 2, 3, None), ("b", "read", None, 4, 5, 1)
    )
    assert not linearizable(bad), "reading 1 after write(2) completed is not linearizable"
    unknown = _h(
        ("a", "write", 1, 0, 1, None),
        ("a", "write", 2, 2, None, None, "unknown"),
        ("b", "read", None, 4, 5, 2),
        ("b", "read", None, 6, 7, 2),
    )
    assert linearizable(unknown), "a write of unknown outcome may take effect later"
    flicker = _h(
        ("a", "write", 1, 0, 1, None),
        ("a", "write", 2, 2, 3, None),
        ("b", "read", None, 2.5, 2.6, 2),
        ("b", "read", None, 2.7, 2.8, 1),
    )
    assert not linearizable(flicker), "a value cannot come back after a newer one was read"


# -- wire format and client ------------------------------------------------------------------


def test_wire_request_translates_history_operations():
    """read/write use the register key; get/put take (key, value); anything else is refused."""
    assert wire_request("read", None) == ("get", "x", None)
    assert wire_request("write", 5) == ("put", "x", 5)
    assert wire_request("get", ("k", None)) == ("get", "k", None)
    assert wire_request("put", ("k", 3)) == ("put", "k", 3)
    with pytest.raises(ValueError, match=r"\(key, value\)"):
        wire_request("put", 3)
    with pytest.raises(ValueError, match="unknown operation"):
        wire_request("cas", (1, 2))


def test_client_refuses_bad_configuration():
    """A client without servers, with a bad choice rule or a bad operation says what is wrong."""
    with pytest.raises(ValueError, match="server names"):
        KVClient([], servers=[])
    with pytest.raises(ValueError, match="sticky"):
        KVClient([], servers=["s1"], choose="nearest")
    with pytest.raises(ValueError, match="unknown operation"):
        KVClient([("increment", 1)], servers=["s1"])
    with pytest.raises(ValueError, match="read_fraction"):
        RandomKVClient(3, servers=["s1"], read_fraction=2)


def test_client_follows_redirects_and_ignores_late_replies():
    """A redirect resends the same request to the named server; stale replies are ignored."""
    c = KVClient([("write", 7)], servers=["s1", "s2"]).attach(id="c1", peers=())
    c.on_start()
    c.take_actions()
    c.on_timer("next")
    sent = [a for a in c.take_actions() if type(a).__name__ == "Send"]
    assert sent[0].dst == "s1" and sent[0].msg == ClientPut(0, "x", 7)
    c.on_message("s1", ClientReply(0, False, redirect="s2", error="not primary"))
    sent = [a for a in c.take_actions() if type(a).__name__ == "Send"]
    assert [(a.dst, a.msg) for a in sent] == [("s2", ClientPut(0, "x", 7))], sent
    c.on_message("s1", ClientReply(99, True))
    assert c.current == 0, "a reply to another request must not finish the operation"
    c.on_message("s2", ClientReply(0, True))
    assert c.done and c.results == [("write", 7, None, "ok")]


# -- the two lab stores ------------------------------------------------------------------------


def test_single_server_applies_a_retried_request_once():
    """Herlihy and Wing 1990 §3: a retried write is answered from the cache, not re-applied."""
    s = SingleServerStore().attach(id="s1", peers=())
    s.on_start()
    s.on_message("c1", ClientPut(0, "x", 1))
    s.on_message("c2", ClientPut(0, "x", 2))
    s.on_message("c1", ClientPut(0, "x", 1))  # c1's retry of its first request
    s.take_actions()
    assert s.storage["data"]["x"] == 2, "the retry must not overwrite the later write"
    s.on_message("c1", ClientGet(1, "x"))
    (reply,) = [a.msg for a in s.take_actions()]
    assert reply == ClientReply(1, True, 2)


@pytest.mark.parametrize("seed", range(6))
def test_single_server_histories_are_linearizable(seed):
    """A single server gives linearizable histories, even with message loss and retries."""
    sim = run_kv(
        SingleServerStore,
        servers=["s1"],
        clients=3,
        ops=10,
        seed=seed,
        loss=0.1,
        retry=0.05,
        timeout=1.0,
        latency=Uniform(0.001, 0.02),
    )
    assert len(sim.history) == 30
    assert linearizable(sim.history), f"seed {seed}: not linearizable:\n{sim.history.listing()}"
    assert stale_reads(sim.history) == []


def test_single_server_with_keys_is_linearizable():
    """Key-value histories (get/put on several keys) from the single server are linearizable."""
    sim = run_kv(SingleServerStore, servers=["s1"], clients=3, ops=12, seed=1, keys=["a", "b"])
    ops = list(sim.history)
    assert {op.f for op in ops} == {"get", "put"} and all(len(op.input) == 2 for op in ops)
    assert linearizable(sim.history)


def test_lazy_replication_is_not_linearizable():
    """Asynchronous replication without coordination gives a non-linearizable history (seed 0)."""
    sim = run_kv(LazyReplicatedStore, clients=3, ops=10, seed=0)
    assert stale_reads(sim.history), "the lazy store should serve a stale read on seed 0"
    assert not linearizable(sim.history), f"expected a violation:\n{sim.history.listing()}"


def test_lazy_replication_fails_on_most_seeds():
    """The lazy store's histories are not linearizable on most seeds, not just one."""
    bad = [
        s
        for s in range(8)
        if not linearizable(run_kv(LazyReplicatedStore, clients=3, ops=8, seed=s).history)
    ]
    assert len(bad) >= 5, f"only seeds {bad} of 0-7 gave a violation"


# -- stale reads --------------------------------------------------------------------------------


def test_stale_reads_finds_an_old_value_and_the_initial_value():
    """A read missing a completed write is stale, whether it returns an older value or nothing."""
    h = _h(
        ("a", "write", 1, 0, 1, None),
        ("a", "write", 2, 2, 3, None),
        ("b", "read", None, 4, 5, 1),
        ("b", "read", None, 6, 7, 2),
    )
    assert [op.output for op in stale_reads(h)] == [1]
    assert stale_read_fraction(h) == 0.5
    first = _h(("a", "write", 1, 0, 1, None), ("b", "read", None, 2, 3, None))
    assert len(stale_reads(first)) == 1, "reading the initial value after a write is stale"


def test_stale_reads_allows_concurrent_and_unknown_writes():
    """A read overlapping a write may return either value; unknown writes are never W."""
    h = _h(
        ("a", "write", 1, 0, 1, None),
        ("a", "write", 2, 2, 5, None),
        ("b", "read", None, 3, 4, 1),
        ("a", "write", 3, 6, None, None, "unknown"),
        ("b", "read", None, 7, 8, 2),
    )
    assert stale_reads(h) == []


def test_same_instant_same_client_counts_as_before():
    """A client's next operation invoked at the instant of the last reply comes after it."""
    h = _h(
        ("a", "write", 1, 0, 1, None), ("a", "write", 2, 1, 2, None), ("a", "read", None, 2, 3, 1)
    )
    assert len(stale_reads(h)) == 1
    other = _h(
        ("a", "write", 1, 0, 1, None), ("a", "write", 2, 1, 2, None), ("b", "read", None, 2, 3, 1)
    )
    assert stale_reads(other) == [], "another client at the same instant is concurrent"


def test_stale_reads_needs_unique_values():
    """Writing the same value twice to a key is refused, naming the value."""
    h = _h(("a", "write", 1, 0, 1, None), ("b", "write", 1, 2, 3, None))
    with pytest.raises(ValueError, match="written twice"):
        stale_reads(h)
