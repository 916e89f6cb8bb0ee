"""Tests for Lab 8's adversary (distlib.labs.lab08_resilience.adversary): the hostile network
and the attacks on the bank."""

from __future__ import annotations

import pytest

from distlib import Constant, Node
from distlib.labs.lab08_resilience.adversary import (
    ATTACKS,
    AdversarialSimulation,
    attack_table,
    run_attack,
)
from distlib.protocols.auth import AuthBank
from distlib.sim.simulation import SimulationError


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_breaks_the_unauthenticated_bank(attack):
    """Tampering, replay and forgery each make the plain bank carry out an order never given."""
    out = run_attack(attack, authenticated=False)
    assert out.succeeded, f"{attack} had no effect on the plain bank: {out.balances}"
    assert out.balances != out.honest


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_rejected_by_the_authenticated_bank(attack):
    """RFC 2104 tags and RFC 4303 §3.4.3 windows: no forged, changed or repeated order is obeyed."""
    out = run_attack(attack, authenticated=True)
    assert not out.succeeded, f"{attack} got the authenticated bank to obey {out.bogus}"
    assert out.rejected, f"{attack}: the authenticated bank refused nothing"
    assert out.balances["mallory"] == 0, "mallory got money"


def test_replay_and_forgery_leave_the_authenticated_bank_as_if_nothing_happened():
    """Refused extra messages change nothing: the balances equal the honest run's."""
    for attack in ("replay", "forge"):
        out = run_attack(attack, authenticated=True)
        assert out.balances == out.honest and not out.lost, f"{attack}: {out}"


def test_tampering_turns_into_loss():
    """A tampered order is refused, hence lost: authentication does not stop denial of service."""
    out = run_attack("tamper", authenticated=True)
    assert [o["id"] for o in out.lost] == [1], f"lost orders {out.lost}"


def test_honest_runs_agree():
    """Without an adversary both banks end with the same balances and nothing is refused."""
    plain = run_attack(None, authenticated=False)
    signed = run_attack(None, authenticated=True)
    assert plain.balances == signed.balances == plain.honest
    assert not signed.rejected and not signed.bogus and not signed.lost


def test_attack_table_summarises_every_attack():
    """The table shows each attack succeeding against the plain bank and refused by the other."""
    text = attack_table()
    assert text.count("SUCCEEDED") == len(ATTACKS), text
    assert text.count("rejected") == len(ATTACKS), text


class Sink(Node):
    def __init__(self):
        super().__init__()
        self.got = []

    def on_message(self, src, msg):
        self.got.append((src, msg))


class Talker(Node):
    def on_start(self):
        self.send("sink", "hello")


def test_adversary_records_rewrites_and_injects():
    """Messages are captured, a matching one is rewritten, and injections appear in the trace."""
    sim = AdversarialSimulation(seed=1, latency=Constant(0.1))
    sim.add_node("sink", Sink)
    sim.add_node("talker", Talker)
    sim.adversary.tamper(lambda s, d, m: m == "hello", lambda m: "HELLO")
    sim.at(1.0, sim.inject, "talker", "sink", "forged")
    sim.run(until=2.0)
    assert sim.node("sink").got == [("talker", "HELLO"), ("talker", "forged")]
    assert [c.msg for c in sim.adversary.captured] == ["hello"], "only honest sends are captured"
    notes = [e.detail for e in sim.trace.filter("net")]
    assert any("rewrites" in d for d in notes) and any("forges" in d for d in notes), notes


def test_replaying_nothing_is_an_error():
    """Asking to replay a message the adversary never saw fails with a clear message."""
    sim = AdversarialSimulation(seed=1)
    sim.add_node("sink", Sink)
    sim.replay(lambda s, d, m: True, at=1.0)
    with pytest.raises(SimulationError, match="recorded 0"):
        sim.run(until=2.0)


def test_attacks_are_seeded():
    """The same seed gives the same outcome, rejection times included."""
    assert run_attack("replay", authenticated=True, seed=4) == run_attack(
        "replay", authenticated=True, seed=4
    )


class TrustingBank(AuthBank):
    """A bank that skips the checks: it obeys any signed-looking message."""

    def on_message(self, src, msg):
        self.on_authentic(src, msg.payload)


def test_a_replacement_bank_faces_the_same_attacks():
    """bank= runs the attacks against another bank; one that skips the checks is fooled."""
    for attack in ATTACKS:
        out = run_attack(attack, authenticated=True, bank=TrustingBank)
        assert out.succeeded, f"{attack} should fool a bank that checks nothing: {out.balances}"
    out = run_attack("replay", authenticated=True, bank=AuthBank)
    assert out == run_attack("replay", authenticated=True), "bank=AuthBank is the default"
    with pytest.raises(ValueError, match="authenticated=True"):
        run_attack("replay", authenticated=False, bank=TrustingBank)
