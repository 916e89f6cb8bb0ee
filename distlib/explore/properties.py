"""Ready-made properties for the explorer, built on the library's checkers.

Invariants hold in every state; goals ("sometimes" properties) must be reachable. Each factory
returns a :class:`~distlib.explore.Property`; write your own with :func:`invariant` and
:func:`goal`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from distlib.check.consensus import check_agreement, check_learners_agree, check_twophase
from distlib.check.linearizability import NOT_LINEARIZABLE, check_linearizable
from distlib.check.models import Model
from distlib.explore._explorer import Property, View

__all__ = [
    "agreement",
    "atomicity",
    "chosen",
    "decided",
    "goal",
    "invariant",
    "leader_elected",
    "linearizable",
    "raft_safety",
]


def invariant(name: str, check: Callable[[View], Any], **options: Any) -> Property:
    """An invariant: ``check(view)`` returns None/"" (fine) or what is wrong."""
    return Property(name, check, "invariant", **options)


def goal(name: str, check: Callable[[View], Any], **options: Any) -> Property:
    """A goal: ``check(view)`` is true in a state that reaches it."""
    return Property(name, check, "goal", **options)


# -- consensus (Paxos, Multi-Paxos) ----------------------------------------------------------------


def agreement(acceptors: Iterable[str] | None = None) -> Property:
    """Paxos agreement (Paxos Made Simple §2.1): at most one value chosen (accepted by a majority
    in one ballot, counting every acceptance ever made), and learners never learn two values.
    Reads the acceptors' storage and the ``accepted`` and ``learned`` notes."""
    names = None if acceptors is None else tuple(acceptors)

    def check(view: View) -> str:
        for result in (
            check_agreement(view, acceptors=names),
            check_learners_agree(view, acceptors=names),
        ):
            if not result.ok:
                return f"{result.invariant}: {result.explanation}"
        return ""

    return invariant("Agreement", check, notes=frozenset({"accepted", "learned"}), reads="storage")


def chosen() -> Property:
    """Goal: some server has learned a value."""
    return goal(
        "a value is learned",
        lambda view: any(view.storage(n).get("learned") is not None for n in view.servers),
    )


# -- clients' histories ---------------------------------------------------------------------------


def linearizable(model: Model, *, max_steps: int = 100_000) -> Property:
    """Linearizability (Herlihy and Wing) of the clients' history against ``model`` (a
    :class:`~distlib.check.models.Register`, ``KeyValue``, ...), in every state: each operation
    seems to take effect at one instant between its invocation and its completion. The
    explorer keeps the invocations and completions that clients record
    (:class:`~distlib.client.Client`) in the order of their steps; an unfinished operation may
    have taken effect or not. ``max_steps`` bounds the checker's search per state (a history it
    cannot decide within it counts as fine)."""

    def check(view: View) -> str:
        history = view.history()
        if not len(history):
            return ""
        result = check_linearizable(history, model, max_steps=max_steps)
        if result.verdict == NOT_LINEARIZABLE:
            return f"not linearizable against {model!r}: {result.explanation}"
        return ""

    return invariant("Linearizability", check, history=True, reads="storage")


# -- two-phase commit ------------------------------------------------------------------------------


def atomicity() -> Property:
    """2PC atomicity and commit validity (BHG §7.2): no two nodes decide differently, and commit
    only if every participant voted yes. Reads storage and the ``decided``, ``vote`` and
    ``begin`` notes."""

    def check(view: View) -> str:
        result = check_twophase(view)
        return "" if result.ok else result.explanation

    return invariant(
        "Atomicity", check, notes=frozenset({"decided", "vote", "begin"}), reads="storage"
    )


def decided(node: str | None = None) -> Property:
    """Goal: ``node`` (default: every server) has decided some transaction."""

    def check(view: View) -> bool:
        names = view.servers if node is None else [node]
        return all(view.storage(n).get("decision") for n in names)

    return goal(f"{node or 'everyone'} decided", check)


# -- Raft ----------------------------------------------------------------------------------------


def _role(node: Any) -> str:
    role = getattr(node, "role", "")
    return str(getattr(role, "value", role)).lower()


def _committed(view: View) -> list[tuple[str, int, int, str, int]]:
    """Facts: every entry at or below some up server's commit index, as (index, term, command,
    the term of the server that holds it committed)."""
    facts = []
    for name in view.servers:
        node = view.nodes[name]
        if node is None:
            continue
        log = getattr(node, "log", None)
        commit = getattr(node, "commit_index", 0)
        if log is None:
            continue
        for index in range(1, min(commit, len(log) - 1) + 1):
            entry = log[index]
            facts.append(
                ("committed", index, entry.term, repr(entry.command), getattr(node, "term", 0))
            )
    return facts


def raft_safety() -> Property:
    """Raft's safety properties (Figure 3) on every state: Election Safety (one leader per term
    among the servers up), Log Matching (two logs with an entry of the same index and term agree
    up to it), State Machine Safety (no two different entries committed at one index, counting
    every commit ever seen) and Leader Completeness (§5.4: an entry committed in a term is in the
    log of every leader of a later term; "committed in a term" is the earliest term in which a
    server held it committed)."""

    def check(view: View) -> str:
        live: dict[str, Any] = {n: view.nodes[n] for n in view.servers if view.nodes[n] is not None}
        leaders: dict[int, str] = {}
        for name, node in sorted(live.items()):
            if _role(node) == "leader":
                term = node.term
                if term in leaders:
                    return f"Election Safety: {leaders[term]} and {name} both lead term {term}"
                leaders[term] = name
        names = sorted(live)
        for a_i, a in enumerate(names):
            log_a = live[a].log
            for b in names[a_i + 1 :]:
                log_b = live[b].log
                for index in range(min(len(log_a), len(log_b)) - 1, 0, -1):
                    if log_a[index].term == log_b[index].term:
                        if log_a[: index + 1] != log_b[: index + 1]:
                            return (
                                f"Log Matching: {a} and {b} hold entries of term "
                                f"{log_a[index].term} at index {index} but differ before it"
                            )
                        break
        committed: dict[int, tuple[int, str]] = {}
        first: dict[int, int] = {}  # index -> the earliest term in which it was held committed
        for fact in sorted(view.ghost, key=repr):
            if type(fact) is tuple and fact and fact[0] == "committed":
                _, index, term, command, when = fact
                other = committed.setdefault(index, (term, command))
                if other != (term, command):
                    return (
                        f"State Machine Safety: index {index} committed as {other[1]} "
                        f"(term {other[0]}) and as {command} (term {term})"
                    )
                first[index] = min(first.get(index, when), when)
        for term, leader in sorted(leaders.items()):
            log = live[leader].log
            for index, (eterm, command) in sorted(committed.items()):
                if first[index] < term and (
                    index >= len(log)
                    or (log[index].term, repr(log[index].command)) != (eterm, command)
                ):
                    return (
                        f"Leader Completeness: {leader} leads term {term} without the entry "
                        f"{command} (term {eterm}) committed at index {index} in term "
                        f"{first[index]}"
                    )
        return ""

    return invariant("Raft safety", check, record=_committed)


def leader_elected() -> Property:
    """Goal: some server leads."""
    return goal(
        "a leader is elected",
        lambda view: any(n is not None and _role(n) == "leader" for n in view.nodes.values()),
    )
