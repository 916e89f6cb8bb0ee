"""Tests of distlib.protocols.multipaxos (Paxos Made Simple §3 = PMS §3): handlers, the stable
leader's single phase 1, leader change with gap filling, and 500 seeded runs under random
faults."""

from __future__ import annotations

import pytest

from distlib import Simulation, Uniform
from distlib.check.consensus import check_agreement, check_paxos
from distlib.node import Send
from distlib.protocols.multipaxos import (
    NOOP,
    Accept,
    Accepted,
    CatchUp,
    Command,
    Heartbeat,
    KVClient,
    Learn,
    MultiPaxosNode,
    Prepare,
    Promise,
    Redirect,
    Reject,
    Reply,
    Request,
    Role,
)
from distlib.protocols.paxos import Ballot
from distlib.testing.broken import ValueIgnoringLeader
from distlib.testing.nemesis import Nemesis
from distlib.testing.unit import settle

SERVERS = ("n0", "n1", "n2")


def replica(name="n1", storage=None, cls=MultiPaxosNode):
    peers = tuple(n for n in SERVERS if n != name)
    node = cls().attach(id=name, peers=peers, storage={} if storage is None else storage)
    node.on_start()
    node.take_actions()
    return node


def sent(actions):
    return [(a.dst, a.msg) for a in actions if isinstance(a, Send)]


def cmd(seq, op=("put", ("x", 1)), client="c"):
    return Command(client, seq, op)


# --------------------------------------------------------------------------------------------
# Acceptor


def test_promise_covers_every_slot_from_first_on():
    """PMS §3: one Prepare covers all slots from ``first``; the promise reports what was
    accepted there (and nothing below)."""
    n1 = replica()
    n1.on_message("n0", Accept(Ballot(1, 0), 0, cmd(0)))
    n1.on_message("n0", Accept(Ballot(1, 0), 2, cmd(2)))
    n1.take_actions()
    n1.on_message("n2", Prepare(Ballot(2, 2), 1))
    assert sent(n1.take_actions()) == [
        ("n2", Promise(Ballot(2, 2), 1, ((2, Ballot(1, 0), cmd(2)),)))
    ]
    assert n1.storage["promised"] == Ballot(2, 2)


def test_acceptor_rejects_accepts_below_its_promise():
    """PMS §2.2 (P1a), per slot: no acceptance below the promise."""
    n1 = replica()
    n1.on_message("n2", Prepare(Ballot(2, 2), 0))
    n1.take_actions()
    n1.on_message("n0", Accept(Ballot(1, 0), 0, cmd(0)))
    assert sent(n1.take_actions()) == [("n0", Reject(Ballot(1, 0), Ballot(2, 2)))]
    assert n1.storage["accepted"] == {}


def test_accept_is_stored_before_the_reply():
    """PMS §2.5: an acceptance is in stable storage when Accepted leaves."""
    n1 = replica()
    n1.on_message("n0", Accept(Ballot(1, 0), 4, cmd(4)))
    assert sent(n1.take_actions()) == [("n0", Accepted(Ballot(1, 0), 4))]
    assert n1.storage["accepted"][4] == (Ballot(1, 0), cmd(4))


# --------------------------------------------------------------------------------------------
# Leader


def test_choose_value_per_slot():
    """PMS §2.2 (P2c) per slot, and PMS §3's no-op for a slot where nothing was accepted."""
    n0 = replica("n0")
    assert n0.choose_value(3, [(Ballot(1, 1), "a"), (Ballot(2, 2), "b")]) == "b"
    assert n0.choose_value(3, []) == NOOP
    assert replica("n0", cls=ValueIgnoringLeader).choose_value(3, [(Ballot(1, 1), "a")]) == NOOP


def test_new_leader_adopts_accepted_values_and_fills_gaps():
    """PMS §3: after phase 1 the leader re-proposes reported values and fills gaps with no-ops,
    then uses the next free slot for new commands."""
    n0 = replica("n0")
    n0.on_timer("election")
    prepares = sent(settle(n0))
    assert prepares == [("n1", Prepare(Ballot(1, 0), 0)), ("n2", Prepare(Ballot(1, 0), 0))]
    report = ((0, Ballot(0, 1), cmd(0)), (2, Ballot(0, 2), cmd(2)))
    n0.on_message("n1", Promise(Ballot(1, 0), 0, report))
    assert n0.role is Role.LEADER
    proposed = {m.slot: m.value for _, m in sent(settle(n0)) if isinstance(m, Accept)}
    assert proposed == {0: cmd(0), 1: NOOP, 2: cmd(2)}, proposed
    n0.on_message("client", Request(cmd(7)))
    (slot,) = {m.slot for _, m in sent(n0.take_actions()) if isinstance(m, Accept)}
    assert slot == 3


def test_leader_learns_on_a_majority_and_tells_everyone():
    """PMS §2.3: a majority of Accepted makes the value chosen; the leader spreads it."""
    n0 = replica("n0")
    n0.on_timer("election")
    settle(n0)
    n0.on_message("n1", Promise(Ballot(1, 0), 0))
    settle(n0)
    n0.on_message("client", Request(cmd(0)))
    settle(n0)
    assert 0 not in n0.chosen, "the leader's own acceptance alone is not a majority"
    n0.on_message("n2", Accepted(Ballot(1, 0), 0))
    out = sent(settle(n0))
    assert n0.chosen == {0: cmd(0)}
    assert ("n1", Learn(((0, cmd(0)),))) in out and ("n2", Learn(((0, cmd(0)),))) in out
    assert ("client", Reply(cmd(0), 0, "ok")) in out


def test_rejected_leader_steps_down():
    """A leader told of a higher promise stops leading (someone ran a newer phase 1)."""
    n0 = replica("n0")
    n0.on_timer("election")
    n0.on_message("n1", Promise(Ballot(1, 0), 0))
    n0.on_message("n2", Reject(Ballot(1, 0), Ballot(3, 2)))
    assert n0.role is Role.FOLLOWER


def test_follower_redirects_clients_and_catches_up():
    """A follower sends clients to the leader it knows and asks the leader for chosen values it
    missed."""
    n1 = replica()
    n1.on_message("n0", Heartbeat(Ballot(1, 0), 2))
    assert sent(n1.take_actions()) == [("n0", CatchUp(0))]
    n1.on_message("n0", Learn(((0, cmd(0)), (1, cmd(1, ("get", "x"))))))
    assert n1.applied == 2 and n1.kv == {"x": 1}
    n1.on_message("c", Request(cmd(5)))
    assert sent(n1.take_actions()) == [("c", Redirect(cmd(5), "n0"))]


def test_state_machine_executes_each_command_once():
    """PMS §3: a command chosen in two slots (a client retry) takes effect once."""
    n1 = replica()
    put = cmd(0, ("put", ("x", 1)))
    n1.on_message("n0", Learn(((0, put), (1, cmd(0, ("put", ("x", 2)), client="d")), (2, put))))
    assert n1.kv == {"x": 2}, "the retried put must not run again"
    assert n1.results[("c", 0)] == (0, "ok")


def test_restart_replays_the_chosen_log():
    """The chosen log is durable; the state machine is rebuilt from it on restart."""
    n1 = replica()
    n1.on_message("n0", Learn(((0, cmd(0)),)))
    again = replica(storage=n1.storage)
    assert again.kv == {"x": 1} and again.applied == 1


# --------------------------------------------------------------------------------------------
# Runs


OPS = [("put", ("x", 1)), ("get", "x"), ("put", ("y", 2)), ("put", ("x", 3)), ("get", "x")]


def cluster(seed, *, cls=MultiPaxosNode, trace=True, think=0.0, latency=None):
    sim = Simulation(seed=seed, latency=latency or Uniform(0.001, 0.01), trace=trace)
    sim.add_nodes(SERVERS, cls)
    sim.add_client("c0", lambda: KVClient(OPS, servers=SERVERS, think=think))
    sim.add_client("c1", lambda: KVClient(OPS[::-1], servers=SERVERS[::-1], think=think))
    return sim


def settled(sim) -> bool:
    """Both clients are done and every replica has applied the same prefix of the log."""
    nodes = sim.nodes
    if any(nodes[c] is None or not nodes[c].done for c in ("c0", "c1")):
        return False
    applied = [nodes[s].applied for s in SERVERS if nodes[s] is not None]
    return len(applied) == len(SERVERS) and min(applied) == max(applied)


def test_stable_leader_runs_phase_one_once():
    """PMS §3: with a stable leader, phase 1 happens once; each command then costs one Accept
    per other replica."""
    sim = cluster(2)
    assert sim.run(until=lambda: settled(sim), limit=5.0)
    counts = sim.trace.message_counts()
    leaders = [n for _, n, text, _ in sim.trace.notes() if text == "became leader"]
    assert len(leaders) == 1, f"expected one election, saw leaders {leaders}"
    assert counts["Prepare"] == len(SERVERS) - 1, dict(counts)
    slots = len(sim.storage(leaders[0])["chosen"])
    assert slots == 2 * len(OPS)
    assert counts["Accepted"] >= slots * (len(SERVERS) - 1)
    check_paxos(sim, allowed=[NOOP]).assert_ok()


def test_leader_resends_only_accepts_outstanding_for_a_heartbeat():
    """PMS §3: on a reliable network each command costs one Accept per other replica; the
    heartbeat re-sends only Accepts that went a whole heartbeat period without an answer."""
    sim = Simulation(seed=3, latency=Uniform(0.009, 0.011))
    sim.add_nodes(SERVERS, MultiPaxosNode)
    sim.run(until=0.5)
    sim.add_client("c0", lambda: KVClient(OPS, servers=SERVERS))
    assert sim.run(until=lambda: sim.nodes["c0"] is not None and sim.nodes["c0"].done, limit=5.0)
    chosen = len(sim.storage("n0")["chosen"])
    assert sim.trace.message_counts()["Accept"] == chosen * (len(SERVERS) - 1)


def test_client_history_matches_the_log():
    """Each reply is what executing the chosen log in slot order gives, so puts and gets are
    linearizable."""
    sim = cluster(4, think=0.01)
    assert sim.run(until=lambda: settled(sim), limit=5.0)
    log = sim.storage("n0")["chosen"]
    kv, expected = {}, {}
    for slot in sorted(log):
        c = log[slot]
        if isinstance(c, Command) and c.key not in expected:
            f, arg = c.op
            if f == "put":
                kv[arg[0]] = arg[1]
                expected[c.key] = "ok"
            else:
                expected[c.key] = kv.get(arg)
    for client in ("c0", "c1"):
        mine = [op for op in sim.history if op.client == client]
        for seq, op in enumerate(mine):  # a KVClient numbers its commands 0, 1, ...
            want = expected[(client, seq)]
            assert op.status == "ok" and op.output == want, f"{op}, but the log says {want!r}"


def test_leader_crash_hands_over_to_a_new_leader():
    """PMS §3: when the leader dies, another node's phase 1 takes over; chosen commands stay."""
    sim = cluster(6, think=0.05)
    assert sim.run(
        until=lambda: any(getattr(n, "role", None) is Role.LEADER for n in sim.nodes.values() if n),
        limit=2.0,
    )
    sim.run(duration=0.15)
    (old,) = [s for s in SERVERS if sim.nodes[s] and sim.nodes[s].role is Role.LEADER]
    before = dict(sim.storage(old)["chosen"])
    assert before, "nothing was chosen before the crash"
    sim.crash(old)
    assert sim.run(until=lambda: all(sim.nodes[c].done for c in ("c0", "c1")), limit=5.0), (
        "clients did not finish after the leader crashed"
    )
    leaders = [n for _, n, text, _ in sim.trace.notes() if text == "became leader"]
    assert leaders[-1] != old
    survivor = sim.storage(leaders[-1])["chosen"]
    assert all(survivor[s] == v for s, v in before.items()), "a chosen value changed"
    check_paxos(sim, allowed=[NOOP]).assert_ok()


def faulty_run(seed, *, cls=MultiPaxosNode, trace=True, crashes=3):
    sim = cluster(seed, cls=cls, trace=trace, think=0.1)
    nemesis = Nemesis(until=1.0, crashes=crashes)
    nemesis.install(sim)
    sim.run(until=nemesis.heal_time)
    live = sim.run(until=lambda: settled(sim), limit=nemesis.heal_time + 10.0)
    return sim, live


RUNS = 500


@pytest.fixture(scope="module")
def random_runs():
    return [(seed, *faulty_run(seed)) for seed in range(RUNS)]


def test_agreement_validity_and_learners_hold_under_random_faults(random_runs):
    """PMS §2.1 per slot over 500 seeded runs with random faults: one value per slot, every
    value a client command or a no-op, and all replicas' logs agree."""
    for seed, sim, _ in random_runs:
        result = check_paxos(sim, allowed=[NOOP])
        assert result.ok, f"seed {seed}: {result}"


def test_clients_finish_and_replicas_converge_after_healing(random_runs):
    """Liveness: after the faults stop, a stable leader emerges, every client operation
    completes and every replica applies the same log."""
    stuck = [seed for seed, _, live in random_runs if not live]
    assert not stuck, f"no progress after healing with seeds {stuck[:10]}"


def test_random_runs_change_leaders(random_runs):
    """The random runs exercise leader change (more than one leader in many runs)."""
    changes = sum(
        1
        for _, sim, _ in random_runs
        if len({n for _, n, text, _ in sim.trace.notes() if text == "became leader"}) > 1
    )
    assert changes > RUNS // 4, f"only {changes} of {RUNS} runs changed leader"


def test_checker_catches_the_value_ignoring_leader():
    """A leader that overwrites recovered slots with no-ops (PMS §2.2 P2c broken) is caught
    within 300 seeds."""
    for seed in range(300):
        sim, _ = faulty_run(seed, cls=ValueIgnoringLeader)
        if not check_agreement(sim).ok:
            return
    pytest.fail("ValueIgnoringLeader never broke agreement: the checker is blind")


def test_same_seed_same_run():
    """A faulty run is reproducible: the same seed gives the same trace."""
    a, _ = faulty_run(8)
    b, _ = faulty_run(8)
    assert a.trace.listing() == b.trace.listing()


def test_bad_configuration_is_refused():
    """A heartbeat slower than the election timeout is refused with a reason."""
    with pytest.raises(ValueError, match="heartbeat"):
        MultiPaxosNode(heartbeat=0.5, election_timeout=(0.1, 0.2))
    with pytest.raises(ValueError, match="servers"):
        KVClient([], servers=())
