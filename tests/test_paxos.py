"""Tests of distlib.protocols.paxos (single-decree Paxos, "Paxos Made Simple" = PMS): handlers
one message at a time, message counts, duelling proposers, and 500 seeded runs under random
faults."""

from __future__ import annotations

import random

import pytest

from distlib import Simulation, Uniform
from distlib.check.consensus import check_agreement, check_paxos
from distlib.node import Send, SetTimer
from distlib.protocols.paxos import (
    Accept,
    Accepted,
    Ballot,
    Chosen,
    PaxosNode,
    Phase,
    Prepare,
    Promise,
    Reject,
    WhatWasChosen,
)
from distlib.testing.broken import ForgetfulAcceptor, PromiseBreakingAcceptor, ValueIgnoringProposer
from distlib.testing.nemesis import Nemesis
from distlib.testing.unit import settle

NAMES = ("a", "b", "c")


def node(name="b", cls=PaxosNode, storage=None, **config):
    peers = tuple(n for n in NAMES if n != name)
    n = cls(**config).attach(id=name, peers=peers, storage={} if storage is None else storage)
    n.on_start()
    n.take_actions()
    return n


def sent(actions):
    return [(a.dst, a.msg) for a in actions if isinstance(a, Send)]


def deliver_own(node):
    """Every message ``node`` sent to others once its messages to itself are delivered."""
    return sent(settle(node))


# --------------------------------------------------------------------------------------------
# Acceptor


def test_acceptor_promises_a_higher_ballot_and_stores_it_first():
    """PMS §2.2 phase 1b and §2.5: the promise is in stable storage when the reply leaves."""
    b = node()
    b.on_message("a", Prepare(Ballot(1, 0)))
    assert sent(b.take_actions()) == [("a", Promise(Ballot(1, 0)))]
    assert b.storage["promised"] == Ballot(1, 0)


def test_acceptor_rejects_a_lower_ballot_naming_its_promise():
    """PMS §2.2 (P1a) and §2.4: a prepare below the promise is refused, with a hint."""
    b = node()
    b.on_message("c", Prepare(Ballot(2, 2)))
    b.take_actions()
    b.on_message("a", Prepare(Ballot(1, 0)))
    assert sent(b.take_actions()) == [("a", Reject(Ballot(1, 0), Ballot(2, 2)))]
    assert b.storage["promised"] == Ballot(2, 2), "a rejected prepare must not lower the promise"


def test_promise_reports_the_accepted_proposal():
    """PMS §2.2 phase 1b: the promise carries the highest-numbered proposal accepted."""
    b = node()
    b.on_message("a", Accept(Ballot(1, 0), "x"))
    b.take_actions()
    b.on_message("c", Prepare(Ballot(2, 2)))
    assert sent(b.take_actions()) == [("c", Promise(Ballot(2, 2), Ballot(1, 0), "x"))]


def test_acceptor_accepts_stores_and_tells_every_learner():
    """PMS §2.2 phase 2b and §2.3: accept, store (§2.5), then send Accepted to the learners,
    itself included (a colocated learner's copy is delivered by the runtime)."""
    b = node()
    b.on_message("a", Prepare(Ballot(1, 0)))
    b.take_actions()
    b.on_message("a", Accept(Ballot(1, 0), "x"))
    out = sent(b.take_actions())
    assert b.storage["accepted"] == (Ballot(1, 0), "x")
    assert sorted(dst for dst, _ in out) == ["a", "b", "c"], f"Accepted went to {out}"
    assert all(msg == Accepted(Ballot(1, 0), "x") for _, msg in out)


def test_acceptor_refuses_an_accept_below_its_promise():
    """PMS §2.2 (P1a): no acceptance of a proposal numbered below the promise."""
    b = node()
    b.on_message("c", Prepare(Ballot(2, 2)))
    b.take_actions()
    b.on_message("a", Accept(Ballot(1, 0), "x"))
    assert sent(b.take_actions()) == [("a", Reject(Ballot(1, 0), Ballot(2, 2)))]
    assert b.storage.get("accepted") is None


def test_acceptor_that_is_not_a_learner_still_answers_the_proposer():
    """PMS §2.3: Accepted goes to the learners, and to the proposer so it can stop."""
    b = node(learners=("c",))
    b.on_message("a", Accept(Ballot(1, 0), "x"))
    assert sorted(dst for dst, _ in sent(b.take_actions())) == ["a", "c"]


def test_forgetful_acceptor_forgets_its_promise_in_a_crash():
    """The broken ForgetfulAcceptor keeps its promise in memory: after a restart it accepts a
    proposal below the promise it made (violating PMS §2.5)."""
    b = node(cls=ForgetfulAcceptor)
    b.on_message("c", Prepare(Ballot(2, 2)))
    again = node(cls=ForgetfulAcceptor, storage=b.storage)
    again.on_message("a", Accept(Ballot(1, 0), "x"))
    assert not any(isinstance(m, Reject) for _, m in sent(again.take_actions()))


def test_promise_breaking_acceptor_accepts_below_its_promise():
    """The broken PromiseBreakingAcceptor ignores its promise when accepting (PMS §2.2 P1a)."""
    b = node(cls=PromiseBreakingAcceptor)
    b.on_message("c", Prepare(Ballot(2, 2)))
    b.on_message("a", Accept(Ballot(1, 0), "x"))
    assert b.storage["accepted"] == (Ballot(1, 0), "x")


# --------------------------------------------------------------------------------------------
# Proposer


def test_proposer_sends_prepare_with_a_unique_stored_ballot():
    """PMS §2.5: the proposal number is (round, index), and the round is stored before use."""
    a = PaxosNode(value="v").attach(id="a", peers=("b", "c"))
    a.on_start()
    assert SetTimer("proposer", 0.0) in a.take_actions()
    a.on_timer("proposer")
    out = sent(a.take_actions())
    assert out == [
        ("a", Prepare(Ballot(1, 0))),
        ("b", Prepare(Ballot(1, 0))),
        ("c", Prepare(Ballot(1, 0))),
    ], out
    assert a.storage["round"] == 1
    a.on_message("a", Prepare(Ballot(1, 0)))  # the runtime delivers the message to itself
    assert a.storage["promised"] == Ballot(1, 0), "the proposer's own acceptor promised"
    c = PaxosNode(value="w").attach(id="c", peers=("a", "b"))
    c.on_start()
    c.on_timer("proposer")
    assert c.ballot == Ballot(1, 2) and c.ballot != a.ballot


def test_restarted_proposer_never_reuses_a_round():
    """PMS §2.5: after a crash a proposer's next number is higher than any it used."""
    a = PaxosNode(value="v").attach(id="a", peers=("b", "c"))
    a.on_start()
    a.on_timer("proposer")
    again = PaxosNode(value="v").attach(id="a", peers=("b", "c"), storage=a.storage)
    again.on_start()
    again.on_timer("proposer")
    assert again.ballot == Ballot(2, 0), f"expected round 2 after a restart, got {again.ballot}"


def test_choose_value_takes_the_highest_numbered_accepted():
    """PMS §2.2 (P2c): the value of the highest-numbered accepted proposal among the promises."""
    a = node("a", value="mine")
    promises = [
        Promise(Ballot(5, 0), Ballot(2, 1), "old"),
        Promise(Ballot(5, 0), Ballot(3, 2), "newer"),
        Promise(Ballot(5, 0)),
    ]
    assert a.choose_value(promises) == "newer"
    assert a.choose_value([Promise(Ballot(5, 0)), Promise(Ballot(5, 0))]) == "mine"
    assert node("a", cls=ValueIgnoringProposer, value="mine").choose_value(promises) == "mine"


def test_majority_of_promises_starts_phase_two():
    """PMS §2.2 phase 2a: with promises from a majority, the proposer sends Accept."""
    a = PaxosNode(value="v").attach(id="a", peers=("b", "c"))
    a.on_start()
    a.on_timer("proposer")
    deliver_own(a)
    assert a.phase is Phase.PREPARING, "one promise (its own) is not a majority of three"
    a.on_message("b", Promise(Ballot(1, 0), Ballot(0, 1), "earlier"))
    out = [(dst, m) for dst, m in sent(a.take_actions()) if isinstance(m, Accept)]
    assert a.phase is Phase.ACCEPTING
    assert out == [(x, Accept(Ballot(1, 0), "earlier")) for x in ("a", "b", "c")]


def test_rejected_proposer_backs_off_for_a_random_time():
    """PMS §2.4: duelling proposers back off randomly; the delay is drawn from self.rng."""
    delays = set()
    for seed in range(5):
        a = PaxosNode(value="v", backoff=0.02).attach(
            id="a", peers=("b", "c"), rng=random.Random(seed)
        )
        a.on_start()
        a.on_timer("proposer")
        a.take_actions()
        a.on_message("b", Reject(Ballot(1, 0), Ballot(3, 1)))
        (timer,) = [x for x in a.take_actions() if isinstance(x, SetTimer)]
        assert a.phase is Phase.BACKING_OFF
        assert 0 <= timer.delay <= 0.04, f"back-off {timer.delay} exceeds its ceiling"
        delays.add(timer.delay)
        a.on_timer("proposer")
        assert a.ballot == Ballot(4, 0), "the retry must use a round above the one it saw"
    assert len(delays) == 5, "the back-off did not vary with the seed"


# --------------------------------------------------------------------------------------------
# Learner


def test_learner_learns_on_a_majority_with_the_same_ballot():
    """PMS §2.3: a value is learned when a majority of acceptors accepted the same proposal."""
    c = node("c")
    c.on_message("a", Accepted(Ballot(1, 0), "x"))
    c.on_message("b", Accepted(Ballot(2, 1), "x"))
    assert c.learned is None, "two acceptances of different ballots are not a majority"
    c.on_message("b", Accepted(Ballot(1, 0), "x"))
    assert c.learned == "x" and c.storage["learned"] == "x"


def test_learner_counts_a_duplicated_acceptance_once():
    """PMS §2.3: a majority of distinct acceptors; a duplicated Accepted is not a second one."""
    c = node("c")
    c.on_message("a", Accepted(Ballot(1, 0), "x"))
    c.on_message("a", Accepted(Ballot(1, 0), "x"))
    assert c.learned is None, "one acceptor, delivered twice, is not a majority of three"


def test_next_ballot_jumps_above_rounds_heard_of():
    """PMS §2.5: a new proposal number exceeds every round used or heard of, and is stored."""
    b = node("b", value="v")
    b.highest_round_seen = 4
    assert b.next_ballot() == Ballot(5, 1)
    assert b.storage["round"] == 5


def test_learner_asks_and_is_answered():
    """PMS §2.3: a learner that has not learned asks; one that has learned tells."""
    c = PaxosNode(ask_every=0.3).attach(id="c", peers=("a", "b"))
    c.on_start()
    assert any(isinstance(x, SetTimer) and x.name == "ask" for x in c.take_actions())
    c.on_timer("ask")
    assert sent(c.take_actions()) == [("a", WhatWasChosen()), ("b", WhatWasChosen())]
    a = node("a", storage={"learned": "x"})
    a.on_message("c", WhatWasChosen())
    assert sent(a.take_actions()) == [("c", Chosen("x"))]
    c.on_message("a", Chosen("x"))
    assert c.learned == "x"


# --------------------------------------------------------------------------------------------
# Runs


def cluster(seed, *, n=3, proposers=2, cls=PaxosNode, trace=True, latency=None, spread=0.0, **disk):
    """n acceptor-learner nodes; the first ``proposers`` also propose, each starting at a random
    time in [0, spread) (so that, under a nemesis, faults hit the protocol mid-way); ``disk``
    is the simulation's durability options."""
    sim = Simulation(seed=seed, latency=latency or Uniform(0.001, 0.01), trace=trace, **disk)
    names = [f"n{i}" for i in range(n)]
    starts = random.Random(seed).sample(range(1000), n)
    for i, name in enumerate(names):
        value = f"v{i}" if i < proposers else None
        delay = spread * starts[i] / 1000
        sim.add_node(name, lambda v=value, d=delay: cls(value=v, start_delay=d))
    return sim, names


def everyone_learned(sim, names):
    return all(sim.storage(n).get("learned") is not None for n in names)


@pytest.mark.parametrize("n", [3, 5])
def test_message_count_of_one_fault_free_decision(n):
    """PMS §2.2-2.3 with n acceptor-learner nodes and one colocated proposer: (n-1) Prepare,
    (n-1) Promise, (n-1) Accept and n(n-1) Accepted messages, (n-1)(n+3) in all (local
    deliveries to the proposer's own node use no network)."""
    sim, names = cluster(1, n=n, proposers=1)
    sim.run()
    counts = sim.trace.message_counts()
    assert everyone_learned(sim, names)
    assert counts == {
        "Prepare": n - 1,
        "Promise": n - 1,
        "Accept": n - 1,
        "Accepted": n * (n - 1),
    }, f"unexpected messages: {dict(counts)}"
    assert sim.stats["sent"] == (n - 1) * (n + 3)


def test_duelling_proposers_decide_thanks_to_random_back_off():
    """PMS §2.4: two proposers starting together can pre-empt each other; with randomized
    back-off they still decide, on every seed, and some seeds need several rounds."""
    rounds = []
    for seed in range(100):
        sim, names = cluster(seed, proposers=2)
        assert sim.run(until=lambda s=sim, ns=names: everyone_learned(s, ns), limit=5.0), (
            f"seed {seed}: two proposers never decided"
        )
        check_paxos(sim).assert_ok()
        rounds.append(max(sim.storage(n)["round"] for n in names))
    assert max(rounds) > 1, "no seed showed a duel: the test does not exercise back-off"


def faulty_run(
    seed, *, cls=PaxosNode, proposers=2, crashes=3, until=0.5, trace=True, spread=0.4, **disk
):
    sim, names = cluster(seed, proposers=proposers, cls=cls, trace=trace, spread=spread, **disk)
    nemesis = Nemesis(until=until, crashes=crashes)
    nemesis.install(sim)
    sim.run(until=nemesis.heal_time)
    live = sim.run(until=lambda: everyone_learned(sim, names), limit=nemesis.heal_time + 5.0)
    return sim, live


RUNS = 500


@pytest.fixture(scope="module")
def random_runs():
    return [(seed, *faulty_run(seed)) for seed in range(RUNS)]


def test_agreement_validity_and_learners_hold_under_random_faults(random_runs):
    """PMS §2.1 safety over 500 seeded runs (3 acceptors, 2 proposers, loss, duplication,
    reordering, partitions, crashes): one value chosen, it was proposed, learners agree."""
    for seed, sim, _ in random_runs:
        result = check_paxos(sim)
        assert result.ok, f"seed {seed}: {result}"


def test_every_learner_learns_after_healing(random_runs):
    """Liveness: once faults stop, the proposers' back-off lets a value be chosen and every
    learner learns it (PMS §2.4)."""
    stuck = [seed for seed, _, live in random_runs if not live]
    assert not stuck, f"no decision after healing with seeds {stuck[:10]}"


def test_one_proposer_decides_after_healing():
    """Liveness with a single proposer (PMS §2.4, a distinguished proposer): always decides."""
    for seed in range(50):
        _, live = faulty_run(seed, proposers=1, crashes=4, trace=False)
        assert live, f"seed {seed}: one proposer did not decide after healing"


def find_violation(cls, **kw):
    """The first seed (of 300) on which ``cls`` breaks agreement, with duelling proposers."""
    for seed in range(300):
        sim, _ = faulty_run(seed, cls=cls, spread=0.0, **kw)
        if not check_agreement(sim).ok:
            return seed
    return None


def test_checker_catches_the_forgetful_acceptor():
    """An acceptor keeping promises in memory (PMS §2.5 broken) lets two values be chosen; the
    agreement checker finds it within 300 seeds."""
    assert find_violation(ForgetfulAcceptor, crashes=6) is not None


def test_checker_catches_the_promise_breaking_acceptor():
    """An acceptor ignoring its promise (PMS §2.2 P1a broken) is caught within 300 seeds."""
    assert find_violation(PromiseBreakingAcceptor) is not None


def test_checker_catches_the_value_ignoring_proposer():
    """A proposer ignoring accepted values (PMS §2.2 P2c broken) is caught within 300 seeds."""
    assert find_violation(ValueIgnoringProposer) is not None


def test_same_seed_same_run():
    """A faulty run is reproducible: the same seed gives the same trace."""
    a, _ = faulty_run(5)
    b, _ = faulty_run(5)
    assert a.trace.listing() == b.trace.listing()


def test_bad_configuration_is_refused():
    """Configuration errors say what is wrong."""
    with pytest.raises(ValueError, match="timeout"):
        PaxosNode(timeout=0)
    with pytest.raises(ValueError, match="acceptor"):
        PaxosNode(acceptors=())


def test_acceptor_rules_return_their_reply_and_send_nothing():
    """PMS §2.2 P1a, as pure rules: handle_prepare and handle_accept return the Promise, Accepted
    or Reject (storing first) and leave sending to on_prepare and on_accept."""
    from distlib.testing.unit import boot

    a = boot(PaxosNode, "a", peers=("b", "c"))
    a.take_actions()
    low, high = Ballot(1, 0), Ballot(2, 1)
    assert a.handle_prepare(Prepare(high)) == Promise(high)
    assert a.storage["promised"] == high
    assert a.handle_prepare(Prepare(low)) == Reject(low, high)
    assert a.handle_accept(Accept(high, "x")) == Accepted(high, "x")
    assert a.storage["accepted"] == (high, "x")
    assert a.handle_accept(Accept(low, "y")) == Reject(low, high)
    assert a.handle_prepare(Prepare(Ballot(3, 0))) == Promise(Ballot(3, 0), high, "x")
    assert not [x for x in a.take_actions() if isinstance(x, Send)], "a rule must not send"


class UnsyncedPaxos(PaxosNode):
    """WRONG on purpose: writes its promises and acceptances but never syncs them."""

    def sync(self):
        pass


def test_safety_holds_when_a_crash_keeps_only_synced_writes():
    """PMS §2.5 on a disk that keeps only what was synced (some crashes tear the unsynced
    writes): the reference, which syncs before every reply, stays safe over 100 faulty runs;
    a node that never syncs breaks agreement in some of the same runs."""
    for seed in range(100):
        sim, _ = faulty_run(seed, trace=True, durability="sync", torn=0.5)
        assert check_paxos(sim).ok, f"seed {seed}: {check_paxos(sim)}"
    broken = [
        seed
        for seed in range(100)
        if not check_paxos(faulty_run(seed, cls=UnsyncedPaxos, crashes=6, durability="sync")[0]).ok
    ]
    assert broken, "a Paxos that never syncs survived 100 crash-heavy runs on a syncing disk"
