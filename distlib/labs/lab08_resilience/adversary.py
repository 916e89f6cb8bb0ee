"""A hostile network: an adversary that reads, rewrites, replays and forges messages.

:class:`AdversarialSimulation` is a :class:`~distlib.sim.Simulation` with an :class:`Adversary`
on every link (the Dolev-Yao picture: the attacker *is* the network). Each message a node sends
passes through the adversary before the network model delays, loses or delivers it, so the
adversary can

* **record** it (``sim.adversary.captured``),
* **tamper** with it: rewrite it in flight with a rule added by :meth:`Adversary.tamper`,
* **replay** a recorded message later (:meth:`AdversarialSimulation.replay`),
* **forge** a message that claims any sender (:meth:`AdversarialSimulation.inject`).

Injected and replayed messages are marked in the trace with a ``net`` event
(``adversary: ...``) just before the ``send`` the receiver will see, so a reader of the trace can
tell the attack from honest traffic; the receiving node cannot.

:func:`run_attack` stages each attack against the small bank of :mod:`distlib.protocols.auth`,
unauthenticated and authenticated, and :func:`attack_table` summarises who wins.

It is built on the core's two hooks: ``sim.interceptor`` (called on every send before the
network model; it may rewrite or drop the message) and ``sim.inject`` (a message that claims any
sender, marked in the trace).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from distlib.protocols.auth import (
    AuthBank,
    AuthTeller,
    PlainBank,
    PlainTeller,
    Reject,
    Signed,
    _Teller,
    derive_key,
    keyring,
    sign,
    transfer,
)
from distlib.sim.network import Uniform
from distlib.sim.simulation import Simulation, SimulationError

__all__ = [
    "ATTACKS",
    "AdversarialSimulation",
    "Adversary",
    "AttackOutcome",
    "attack_table",
    "run_attack",
]

Match = Callable[[str, str, Any], bool]


@dataclass(frozen=True, slots=True)
class Captured:
    """A message the adversary saw: when, from whom, to whom, and what (before any rewrite)."""

    time: float
    src: str
    dst: str
    msg: Any


class Adversary:
    """Sees every message in flight and rewrites the ones its rules match."""

    def __init__(self) -> None:
        self.captured: list[Captured] = []
        self._rules: list[list[Any]] = []  # [match, change, remaining]
        self.tampered = 0

    def tamper(self, match: Match, change: Callable[[Any], Any], *, times: int = 1) -> None:
        """Rewrite the next ``times`` messages for which ``match(src, dst, msg)`` holds.

        ``change(msg)`` returns the message to deliver instead (``None`` drops it).
        """
        if not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive int, not {times!r}")
        self._rules.append([match, change, times])

    def intercept(self, now: float, src: str, dst: str, msg: Any) -> Any:
        """Called for every honest send: record it, apply the first matching rule."""
        self.captured.append(Captured(now, src, dst, msg))
        for rule in self._rules:
            match, change, remaining = rule
            if remaining > 0 and match(src, dst, msg):
                rule[2] -= 1
                self.tampered += 1
                return change(msg)
        return msg

    def find(self, match: Match) -> list[Captured]:
        """Recorded messages for which ``match(src, dst, msg)`` holds, oldest first."""
        return [c for c in self.captured if match(c.src, c.dst, c.msg)]


class AdversarialSimulation(Simulation):
    """A Simulation whose network belongs to an :class:`Adversary` (``sim.adversary``)."""

    def __init__(self, *, seed: int = 0, trace: bool = True, **network: Any) -> None:
        super().__init__(seed=seed, trace=trace, **network)
        self.adversary = Adversary()
        self.interceptor = lambda src, dst, msg: self.adversary.intercept(self.now, src, dst, msg)

    def inject(
        self, src: str, dst: str, msg: Any, *, what: str = "forges", reason: str | None = None
    ) -> None:
        """Send ``msg`` to ``dst`` now as if ``src`` had sent it (the receiver cannot tell).

        The trace marks it ``adversary: <what>``; ``reason`` (as in
        :meth:`Simulation.inject <distlib.sim.Simulation.inject>`) replaces that mark whole.
        """
        super().inject(src, dst, msg, reason=f"adversary: {what}" if reason is None else reason)

    def replay(self, match: Match, *, at: float, copies: int = 1, which: int = 0) -> None:
        """At time ``at``, send ``copies`` more copies of the ``which``-th recorded match.

        The message is looked up when ``at`` comes, so it may be one sent after this call.
        """

        def fire() -> None:
            found = self.adversary.find(match)
            if len(found) <= which:
                raise SimulationError(
                    f"the adversary has recorded {len(found)} matching message(s) by "
                    f"t={self.now:g}; cannot replay number {which}"
                )
            c = found[which]
            for _ in range(copies):
                self.inject(c.src, c.dst, c.msg, what="replays")

        self.at(at, fire)


# --------------------------------------------------------------------------------------------
# The attacks on the bank.

ATTACKS = ("tamper", "replay", "forge")

BALANCES = {"alice": 100, "bob": 50, "carol": 20, "mallory": 0}
ORDERS = (
    transfer(1, "alice", "bob", 10),
    transfer(2, "bob", "carol", 5),
    transfer(3, "carol", "alice", 1),
)


@dataclass(frozen=True, slots=True)
class AttackOutcome:
    """What happened to the bank under one attack.

    The attack *succeeded* if the bank carried out an order the teller never gave, or carried
    out a given order more often than it was given (``bogus``). An order the bank refused
    because it arrived damaged is ``lost``: authentication turns tampering into loss, and loss
    is a denial of service that authentication does not prevent.
    """

    attack: str | None
    authenticated: bool
    balances: dict[str, int]  # the bank's final balances
    honest: dict[str, int]  # the balances the same run reaches with no adversary
    bogus: tuple[dict[str, Any], ...]  # orders carried out that the teller did not give
    lost: tuple[dict[str, Any], ...]  # orders given that the bank did not carry out
    rejected: tuple[tuple[float, str, Reject], ...]  # what the authenticated bank refused

    @property
    def succeeded(self) -> bool:
        return bool(self.bogus)


def _key(order: Any) -> str:
    return json.dumps(order, sort_keys=True)


def _difference(a: list[Any], b: list[Any]) -> tuple[Any, ...]:
    """The items of ``a`` not matched one-for-one in ``b`` (multiset difference)."""
    left = Counter(_key(x) for x in b)
    out = []
    for x in a:
        k = _key(x)
        if left[k]:
            left[k] -= 1
        else:
            out.append(x)
    return tuple(out)


def _is_order(n: int) -> Match:
    def match(src: str, dst: str, msg: Any) -> bool:
        payload = msg.payload if isinstance(msg, Signed) else msg
        return src == "teller" and isinstance(payload, dict) and payload.get("id") == n

    return match


def _redirect(msg: Any) -> Any:
    """Send the money to mallory instead, and more of it."""
    if isinstance(msg, Signed):
        changed = dict(msg.payload, to="mallory", amount=90)
        return dataclasses.replace(msg, payload=changed)  # same tag: no key to make a new one
    return dict(msg, to="mallory", amount=90)


@runtime_checkable
class _BankState(Protocol):
    """What :func:`run_attack` reads from a bank: the library's banks, or a ``bank=`` one."""

    balances: dict[str, int]
    applied: list[dict[str, Any]]


def _bank_state(sim: Simulation) -> _BankState:
    """The node ``bank`` of ``sim``, checked to have ``balances`` and ``applied``."""
    bank = sim.node("bank")
    if not isinstance(bank, _BankState):
        raise SimulationError(
            f"the bank is a {type(bank).__name__}, which lacks balances or applied"
        )
    return bank


def _bank_sim(
    authenticated: bool, seed: int, key_seed: int | str, bank: Callable[..., Any] | None = None
) -> AdversarialSimulation:
    sim = AdversarialSimulation(seed=seed, latency=Uniform(0.01, 0.05))
    if authenticated:
        make = AuthBank if bank is None else bank
        sim.add_node(
            "bank", lambda: make(balances=BALANCES, keys=keyring(key_seed, "bank", ["teller"]))
        )
        sim.add_node(
            "teller", lambda: AuthTeller(orders=ORDERS, keys=keyring(key_seed, "teller", ["bank"]))
        )
    else:
        sim.add_node("bank", lambda: PlainBank(balances=BALANCES))
        sim.add_node("teller", lambda: PlainTeller(orders=ORDERS))
    return sim


def _stage(sim: AdversarialSimulation, attack: str | None, authenticated: bool) -> None:
    if attack == "tamper":
        # Rewrite order 1 in flight: alice pays mallory 90 instead of bob 10.
        sim.adversary.tamper(_is_order(1), _redirect)
    elif attack == "replay":
        # Record order 1 (alice pays bob 10) and play it three more times at t = 5.
        sim.replay(_is_order(1), at=5.0, copies=3)
    elif attack == "forge":
        # Make up an order "from the teller": alice pays mallory 50.
        order = transfer(99, "alice", "mallory", 50)
        forged: Signed | dict[str, Any]
        if authenticated:
            # The adversary lacks the teller-bank key; its best try is a key of its own.
            guess = derive_key("mallory's guess", "teller", "bank")
            forged = Signed("teller", "bank", 99, order, sign(guess, "teller", "bank", 99, order))
        else:
            forged = order
        sim.at(4.0, sim.inject, "teller", "bank", forged)
    elif attack is not None:
        raise ValueError(f"unknown attack {attack!r} (known: {', '.join(ATTACKS)})")


def run_attack(
    attack: str | None,
    *,
    authenticated: bool,
    seed: int = 0,
    key_seed: int | str = 0,
    bank: Callable[..., Any] | None = None,
) -> AttackOutcome:
    """Run the bank (teller sends three orders) under ``attack`` ("tamper", "replay", "forge",
    or None for an honest run) and report the final balances against the honest ones.

    ``bank`` replaces the authenticated bank: a factory called as ``bank(balances=...,
    keys=...)``, such as a subclass of :class:`~distlib.protocols.auth.AuthBank` with its own
    checks. It needs ``balances`` and ``applied`` like the banks here. The honest reference run
    always uses the library's bank, so a broken replacement cannot hide its mistakes.
    """
    if bank is not None and not authenticated:
        raise ValueError("bank= replaces the authenticated bank: pass authenticated=True with it")

    def run(which: str | None, make: Callable[..., Any] | None = None) -> AdversarialSimulation:
        sim = _bank_sim(authenticated, seed, key_seed, make)
        _stage(sim, which, authenticated)
        sim.run(until=10.0)
        return sim

    honest = _bank_state(run(None)).balances
    sim = run(attack, bank)
    state = _bank_state(sim)
    teller = sim.node("teller", _Teller)
    given = [dict(o) for o in teller.orders[: teller.sent]]
    return AttackOutcome(
        attack=attack,
        authenticated=authenticated,
        balances=dict(state.balances),
        honest=dict(honest),
        bogus=_difference(state.applied, given),
        lost=_difference(given, state.applied),
        rejected=tuple(getattr(state, "rejected", ())),
    )


def attack_table(*, seed: int = 0) -> str:
    """Each attack against the plain and the authenticated bank: who won, and why."""
    lines = [f"{'attack':<8}  {'plain bank':<52}  authenticated bank"]
    for attack in ATTACKS:
        cells = []
        for auth in (False, True):
            out = run_attack(attack, authenticated=auth, seed=seed)
            if out.succeeded:
                moved = {
                    k: v - out.honest[k] for k, v in out.balances.items() if v != out.honest[k]
                }
                cells.append(f"SUCCEEDED {moved}")
            else:
                reasons = ", ".join(sorted({r.name for _, _, r in out.rejected})) or "no effect"
                lost = f"; {len(out.lost)} order lost" if out.lost else ""
                cells.append(f"rejected ({reasons}){lost}")
        lines.append(f"{attack:<8}  {cells[0]:<52}  {cells[1]}")
    return "\n".join(lines)
