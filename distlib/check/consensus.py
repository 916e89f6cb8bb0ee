"""Invariant checkers for atomic commitment (2PC) and consensus (Paxos, multi-Paxos).

Each ``check_*`` function judges one finished run and returns a :class:`InvariantResult`: true when
the invariant held, with an explanation a student can act on either way.
``result.assert_ok()`` raises :class:`InvariantViolation` (an ``AssertionError``) carrying the
same explanation, so ``check_agreement(sim).assert_ok()`` reads well in a test.

A checker reads a run through *records*, which it builds from any of:

* a :class:`distlib.Simulation` (the nodes' durable ``storage``, and the trace's notes when the
  trace is on);
* a :class:`distlib.Trace` (its notes only);
* a mapping ``{node: storage}``;
* ready-made :class:`TwoPhaseRecords` / :class:`ConsensusRecords`.

So a protocol written by someone else can be checked as long as it keeps the same durable layout
or notes the same events. The conventions:

Two-phase commit (see :mod:`distlib.protocols.twophase`)
    storage ``"decision"`` {tx: "commit"|"abort"}, ``"vote"`` {tx: bool} (participants),
    ``"begin"`` {tx: participants} (coordinator); notes ``decided`` (tx, outcome),
    ``vote`` (tx, vote "yes"/"no"), ``begin`` (tx, participants).
Paxos (see :mod:`distlib.protocols.paxos` and :mod:`distlib.protocols.multipaxos`)
    notes ``accepted`` (slot, ballot, value) by acceptors, ``learned`` (slot, value) by
    learners, ``propose`` (value) by whoever introduces a value; storage ``"learned"`` (a single
    value, slot 0) or ``"chosen"`` {slot: value} by learners, ``"accepted"`` (ballot, value) or
    {slot: (ballot, value)} by acceptors.

A value is *chosen* in a slot when a majority of the acceptors accepted it with the same ballot
(Paxos Made Simple §2.2). Only the trace holds every acceptance; storage holds each acceptor's
latest, so with the trace off the agreement check sees less (it never reports a false
violation, but it can miss one).

What this module leaves to others: running the system (:mod:`distlib.sim`) and injecting
faults (:mod:`distlib.testing.nemesis`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from distlib.quorum import majority

__all__ = [
    "ConsensusRecords",
    "InvariantResult",
    "InvariantViolation",
    "TwoPhaseRecords",
    "check_agreement",
    "check_atomicity",
    "check_commit_validity",
    "check_learners_agree",
    "check_paxos",
    "check_twophase",
    "check_validity",
    "consensus_records",
    "twophase_records",
]


# --------------------------------------------------------------------------------------------
# Results


class InvariantViolation(AssertionError):
    """An invariant did not hold; ``.result`` is the :class:`InvariantResult` with the details."""

    def __init__(self, result: InvariantResult) -> None:
        super().__init__(str(result))
        self.result = result


@dataclass(frozen=True, slots=True)
class InvariantResult:
    """The verdict of one checker: ``ok``, a readable ``explanation`` and the ``violations``."""

    invariant: str
    ok: bool
    explanation: str
    violations: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{self.invariant}: {'holds' if self.ok else 'VIOLATED'}. {self.explanation}"

    def assert_ok(self) -> InvariantResult:
        """Raise :class:`InvariantViolation` unless the invariant held; returns ``self``."""
        if not self.ok:
            raise InvariantViolation(self)
        return self


def _verdict(invariant: str, violations: list[str], fine: str, limit: int = 5) -> InvariantResult:
    if not violations:
        return InvariantResult(invariant, True, fine)
    shown = "; ".join(violations[:limit])
    more = f" (and {len(violations) - limit} more)" if len(violations) > limit else ""
    return InvariantResult(invariant, False, shown + more, tuple(violations))


def _combine(invariant: str, results: list[InvariantResult]) -> InvariantResult:
    bad = [r for r in results if not r.ok]
    if not bad:
        return InvariantResult(invariant, True, " ".join(str(r) for r in results))
    violations = tuple(v for r in bad for v in r.violations)
    return InvariantResult(invariant, False, " ".join(str(r) for r in bad), violations)


# --------------------------------------------------------------------------------------------
# Reading a run


def _sources(
    source: Any,
) -> tuple[dict[str, Mapping[str, Any]], list[tuple[str, str, dict[str, Any]]]]:
    """Split a source into ({node: storage}, [(node, note text, data)])."""
    storages: dict[str, Mapping[str, Any]] = {}
    notes: list[tuple[str, str, dict[str, Any]]] = []
    if hasattr(source, "storage") and hasattr(source, "servers") and hasattr(source, "trace"):
        for name in source.names:
            storages[name] = source.storage(name)
        trace = source.trace
    elif hasattr(source, "notes") and hasattr(source, "events"):
        trace = source
    elif isinstance(source, Mapping):
        storages = {str(k): v for k, v in source.items()}
        trace = None
    else:
        raise TypeError(
            f"a checker reads a Simulation, a Trace or a mapping {{node: storage}}, not "
            f"{type(source).__name__}"
        )
    if trace is not None:
        notes = [(node, text, data) for _, node, text, data in trace.notes()]
    return storages, notes


def _ordered(keys: Iterable[Any]) -> list[Any]:
    """Slots in their natural order when they compare, else by their repr."""
    keys = list(keys)
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=repr)


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a value (lists and dicts become tuples)."""
    try:
        hash(value)
        return value
    except TypeError:
        if isinstance(value, Mapping):
            return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
        if isinstance(value, Iterable):
            return tuple(_freeze(v) for v in value)
        return repr(value)


# --------------------------------------------------------------------------------------------
# Two-phase commit


@dataclass
class TwoPhaseRecords:
    """What a 2PC run left behind, per transaction.

    ``decisions[tx][node]``: the outcomes ``node`` decided (more than one is itself a bug);
    ``votes[tx][node]``: True/False; ``participants[tx]``: who took part (the coordinator's
    begin record).
    """

    decisions: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    votes: dict[str, dict[str, bool]] = field(default_factory=dict)
    participants: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add_decision(self, tx: str, node: str, outcome: str) -> None:
        seen = self.decisions.setdefault(tx, {}).setdefault(node, [])
        if outcome not in seen:
            seen.append(outcome)

    def add_vote(self, tx: str, node: str, yes: bool) -> None:
        votes = self.votes.setdefault(tx, {})
        # A node that once voted no keeps "no": a later yes would not undo it.
        votes[node] = yes and votes.get(node, True)


def twophase_records(source: Any) -> TwoPhaseRecords:
    """Collect decisions, votes and participant lists from storage and trace notes."""
    if isinstance(source, TwoPhaseRecords):
        return source
    storages, notes = _sources(source)
    rec = TwoPhaseRecords()
    for node, storage in storages.items():
        for tx, outcome in dict(storage.get("decision", {})).items():
            rec.add_decision(tx, node, outcome)
        for tx, yes in dict(storage.get("vote", {})).items():
            rec.add_vote(tx, node, bool(yes))
        for tx, parts in dict(storage.get("begin", {})).items():
            rec.participants[tx] = tuple(parts)
    for node, text, data in notes:
        tx = data.get("tx")
        if tx is None:
            continue
        if text == "decided" and "outcome" in data:
            rec.add_decision(tx, node, data["outcome"])
        elif text == "vote" and "vote" in data:
            rec.add_vote(tx, node, data["vote"] in ("yes", True))
        elif text == "begin" and "participants" in data:
            rec.participants[tx] = tuple(data["participants"])
    return rec


def check_atomicity(source: Any) -> InvariantResult:
    """2PC atomicity (Gray 1978; BHG §7.2 AC1): no two nodes decide differently on a transaction,
    and no node changes its decision."""
    rec = twophase_records(source)
    bad = []
    for tx in sorted(rec.decisions):
        by_node = rec.decisions[tx]
        for node, outcomes in sorted(by_node.items()):
            if len(outcomes) > 1:
                bad.append(f"{node} decided both {' and '.join(outcomes)} for {tx}")
        decided = {o for os in by_node.values() for o in os}
        if len(decided) > 1:
            who = ", ".join(f"{n}={'/'.join(os)}" for n, os in sorted(by_node.items()))
            bad.append(f"transaction {tx} was decided differently: {who}")
    n = len(rec.decisions)
    return _verdict("2PC atomicity", bad, f"Every node agreed on each of {n} transaction(s).")


def check_commit_validity(source: Any) -> InvariantResult:
    """2PC commit validity (BHG §7.2 AC3; Gray-Lamport §2): a transaction commits only if every
    participant voted yes."""
    rec = twophase_records(source)
    bad = []
    committed = 0
    for tx in sorted(rec.decisions):
        if not any("commit" in os for os in rec.decisions[tx].values()):
            continue
        committed += 1
        parts = rec.participants.get(tx)
        if parts is None:
            bad.append(f"transaction {tx} committed but no coordinator logged its participants")
            continue
        votes = rec.votes.get(tx, {})
        missing = [p for p in parts if p not in votes]
        against = [p for p in parts if votes.get(p) is False]
        deciders = sorted(n for n, os in rec.decisions[tx].items() if "commit" in os)
        if against:
            bad.append(
                f"transaction {tx} committed at {', '.join(deciders)} although "
                f"{', '.join(against)} voted no"
            )
        if missing:
            bad.append(
                f"transaction {tx} committed at {', '.join(deciders)} without a vote from "
                f"{', '.join(missing)}"
            )
    return _verdict(
        "2PC commit validity",
        bad,
        f"All {committed} committed transaction(s) had a yes vote from every participant.",
    )


def check_twophase(source: Any) -> InvariantResult:
    """Both 2PC invariants: atomicity and commit validity."""
    rec = twophase_records(source)
    return _combine("2PC", [check_atomicity(rec), check_commit_validity(rec)])


# --------------------------------------------------------------------------------------------
# Paxos


@dataclass
class ConsensusRecords:
    """What a consensus run left behind.

    ``acceptances``: (acceptor, slot, ballot, value) tuples; ``learned[slot][node]``: the values
    ``node`` learned in ``slot``; ``proposed``: values someone proposed; ``complete``: True when
    the acceptances come from the trace (every one of them), not only from storage.
    """

    acceptances: set[tuple[str, Any, Any, Any]] = field(default_factory=set)
    learned: dict[Any, dict[str, list[Any]]] = field(default_factory=dict)
    proposed: list[Any] = field(default_factory=list)
    acceptors: tuple[str, ...] = ()
    complete: bool = False

    def add_learned(self, slot: Any, node: str, value: Any) -> None:
        seen = self.learned.setdefault(slot, {}).setdefault(node, [])
        if value not in seen:
            seen.append(value)

    def chosen(
        self, quorum: int | None = None
    ) -> dict[Any, dict[Any, list[tuple[Any, list[Any]]]]]:
        """{slot: {value: [(ballot, acceptors), ...]}} for every (slot, ballot) with a quorum."""
        if quorum is None:
            quorum = self.quorum
        votes: dict[tuple[Any, Any], dict[Any, set[str]]] = defaultdict(lambda: defaultdict(set))
        originals: dict[Any, Any] = {}
        for acceptor, slot, ballot, value in sorted(self.acceptances, key=repr):
            votes[(slot, _freeze(ballot))][value].add(acceptor)
            originals[_freeze(ballot)] = ballot
        out: dict[Any, dict[Any, list[tuple[Any, list[Any]]]]] = {}
        for (slot, ballot), by_value in votes.items():
            for value, who in by_value.items():
                if len(who) >= quorum:
                    out.setdefault(slot, {}).setdefault(value, []).append(
                        (originals[ballot], sorted(who))
                    )
        return out

    @property
    def quorum(self) -> int:
        n = len(self.acceptors) or len({a for a, _, _, _ in self.acceptances})
        return majority(n)


def consensus_records(source: Any, *, acceptors: Iterable[str] | None = None) -> ConsensusRecords:
    """Collect acceptances, learned values and proposals from storage and trace notes.

    ``acceptors``: the acceptor names, which fix the majority (default: a simulation's servers,
    or else every node seen accepting).
    """
    if isinstance(source, ConsensusRecords):
        if acceptors is not None:
            source.acceptors = tuple(acceptors)
        return source
    storages, notes = _sources(source)
    rec = ConsensusRecords()
    if acceptors is not None:
        rec.acceptors = tuple(acceptors)
    elif hasattr(source, "servers"):
        rec.acceptors = tuple(source.servers)
    for node, storage in storages.items():
        if "learned" in storage and storage["learned"] is not None:
            rec.add_learned(0, node, _freeze(storage["learned"]))
        for slot, value in dict(storage.get("chosen", {})).items():
            rec.add_learned(slot, node, _freeze(value))
        accepted = storage.get("accepted")
        if isinstance(accepted, tuple) and len(accepted) == 2:
            rec.acceptances.add((node, 0, _freeze(accepted[0]), _freeze(accepted[1])))
        elif isinstance(accepted, Mapping):
            for slot, pair in accepted.items():
                rec.acceptances.add((node, slot, _freeze(pair[0]), _freeze(pair[1])))
    for node, text, data in notes:
        if text == "accepted" and "value" in data:
            rec.acceptances.add(
                (node, data.get("slot", 0), _freeze(data.get("ballot")), _freeze(data["value"]))
            )
            rec.complete = True
        elif text == "learned" and "value" in data:
            rec.add_learned(data.get("slot", 0), node, _freeze(data["value"]))
        elif text == "propose" and "value" in data:
            rec.proposed.append(_freeze(data["value"]))
    return rec


def check_agreement(source: Any, *, acceptors: Iterable[str] | None = None) -> InvariantResult:
    """Paxos agreement (Paxos Made Simple §2.1, safety): at most one value is chosen per slot,
    where chosen means accepted by a majority of acceptors with the same ballot."""
    rec = consensus_records(source, acceptors=acceptors)
    chosen = rec.chosen()
    bad = []
    for slot in _ordered(chosen):
        by_value = chosen[slot]
        if len(by_value) > 1:
            parts = []
            for value, ballots in by_value.items():
                ballot, who = ballots[0]
                parts.append(f"{value!r} at ballot {ballot} by {', '.join(who)}")
            bad.append(f"slot {slot}: two values were chosen: " + " and ".join(parts))
    note = "" if rec.complete else " (from storage only: turn the trace on to see every acceptance)"
    return _verdict(
        "Paxos agreement",
        bad,
        f"At most one value was chosen in each of {len(chosen)} slot(s), with "
        f"majorities of {rec.quorum}.{note}",
    )


def check_validity(
    source: Any,
    *,
    proposed: Collection[Any] | None = None,
    allowed: Iterable[Any] = (),
    acceptors: Iterable[str] | None = None,
) -> InvariantResult:
    """Paxos validity (Paxos Made Simple §2.1): only a value that was proposed can be chosen or
    learned. ``proposed``: the proposed values (default: the ``propose`` notes); ``allowed``:
    values any slot may hold besides (a multi-Paxos no-op)."""
    rec = consensus_records(source, acceptors=acceptors)
    pool = {_freeze(v) for v in (rec.proposed if proposed is None else proposed)}
    pool |= {_freeze(v) for v in allowed}
    if not pool and proposed is None:
        return InvariantResult(
            "Paxos validity",
            False,
            "No proposals are known: turn the trace on (proposers note "
            "'propose') or pass proposed=[...].",
        )
    bad = []
    for slot, by_value in rec.chosen().items():
        for value in by_value:
            if value not in pool:
                bad.append(f"slot {slot}: chosen value {value!r} was never proposed")
    for slot, by_node in rec.learned.items():
        for node, values in sorted(by_node.items()):
            for value in values:
                if value not in pool:
                    bad.append(f"slot {slot}: {node} learned {value!r}, which was never proposed")
    return _verdict(
        "Paxos validity", bad, f"Every chosen or learned value was among the {len(pool)} proposed."
    )


def check_learners_agree(source: Any, *, acceptors: Iterable[str] | None = None) -> InvariantResult:
    """Learners agree (Paxos Made Simple §2.3): all learners learn the same value in a slot, learn
    it once, and (when the trace shows every acceptance) learn only a chosen value."""
    rec = consensus_records(source, acceptors=acceptors)
    chosen = rec.chosen() if rec.complete else {}
    bad = []
    for slot in _ordered(rec.learned):
        by_node = rec.learned[slot]
        for node, values in sorted(by_node.items()):
            if len(values) > 1:
                bad.append(f"slot {slot}: {node} learned {values!r} (more than one value)")
            if rec.complete:
                for value in values:
                    if value not in chosen.get(slot, {}):
                        bad.append(
                            f"slot {slot}: {node} learned {value!r}, which no majority accepted"
                        )
        learned = {v for vs in by_node.values() for v in vs}
        if len(learned) > 1:
            who = ", ".join(f"{n}={vs[0]!r}" for n, vs in sorted(by_node.items()))
            bad.append(f"slot {slot}: learners disagree: {who}")
    learners = {n for by_node in rec.learned.values() for n in by_node}
    return _verdict(
        "Learners agree",
        bad,
        f"{len(learners)} learner(s) agree on every one of {len(rec.learned)} slot(s).",
    )


def check_paxos(
    source: Any,
    *,
    proposed: Collection[Any] | None = None,
    allowed: Iterable[Any] = (),
    acceptors: Iterable[str] | None = None,
) -> InvariantResult:
    """Agreement, validity and learner agreement together."""
    rec = consensus_records(source, acceptors=acceptors)
    return _combine(
        "Paxos",
        [
            check_agreement(rec),
            check_validity(rec, proposed=proposed, allowed=allowed),
            check_learners_agree(rec),
        ],
    )
