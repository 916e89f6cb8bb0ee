"""The Raft safety checker as it was before its checks were made incremental (distlib/check/raft.py
at commit dd4fee7), kept verbatim below this paragraph as the reference that
tests/test_raft_checks.py runs side by side with the library's checker: at every step both must
fail with the same report, or both pass. Not part of the library; do not edit.

Its module docstring was:

Raft's safety properties, checked after every handler step of every server.

:class:`RaftSafety` is fed each server after each of its handlers (``new_incarnation`` when a
server starts or restarts, ``after`` after every step) and examines only what changed, so that
checking every step of a long run stays cheap. It needs of a server only what the paper's
Figure 2 names: ``term``, ``role``, ``voted_for`` (optional), ``log`` (element ``i`` the entry at
index ``i``, with ``term`` and ``command``; element 0 a placeholder), ``commit_index`` and
``applied`` (the ``(index, command)`` pairs this incarnation applied, in order).

The checks (Ongaro and Ousterhout, "In Search of an Understandable Consensus Algorithm", 2014):
at most one leader per term (Election Safety, §5.2); a server's term never decreases, and it
votes for at most one candidate per term, even across crashes (Figure 2); any two logs that hold
an entry with the same index and term hold the same command there and agree on the term before
it, which by induction is Log Matching (§5.3); terms never decrease along a log; a leader never
rewrites its own log in its term (Leader Append-Only, Figure 3); ``commit_index`` never
decreases and never passes the end of the log; every newly committed index holds the entry
committed there before (State Machine Safety, §5.4.3); a new leader holds every entry committed
in an earlier term (Leader Completeness, §5.4); and every applied entry comes in order, with no
gap, is committed, and is the command every other server applied at that index.

A failed check raises what the caller's ``violation`` builds (the cluster harness,
:class:`distlib.testing.raft.RaftCluster`, builds a report with a trace excerpt). Judging a
finished run's client history is :mod:`distlib.check.linearizability`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RaftSafety"]


@dataclass(slots=True)
class _Watch:
    """What the checker remembers about one server (across its incarnations)."""

    name: str
    node: Any = None
    incarnation: int = 0
    term: int = 0
    leader_term: int = -1  # the term in which it was last seen leading
    shadow: Any = None  # a copy of its log as last checked
    commit: int = 0  # commit_index as last checked (this incarnation)
    napplied: int = 0  # how many of its applied entries are checked (this incarnation)
    last_applied: int = 0  # the index it applied last (this incarnation)
    voted: dict[int, Any] = field(default_factory=dict)  # term -> voted_for


_MISSING = object()


class RaftSafety:
    """Raft's safety properties, checked incrementally after every handler (see module doc).

    ``violation(prop, what, **details)`` builds the exception a failed check raises (the
    harness's report, with a trace excerpt); ``clock()`` is the current simulated time.
    """

    def __init__(self, violation: Callable[..., Exception], clock: Callable[[], float]) -> None:
        self.violation = violation
        self.clock = clock
        self.watches: dict[str, _Watch] = {}
        self.leaders: dict[int, str] = {}  # term -> the one leader of that term
        self.entries: dict[tuple[int, int], tuple[Any, int, str]] = {}  # (i, t) -> cmd, prev t
        self.committed: dict[int, tuple[int, Any, str, float, int]] = {}  # i -> t, cmd, who...
        self.commit_marks: dict[int, int] = {}  # commit term -> highest index committed in it
        self.max_commit_term = 0
        self.max_committed = 0
        self.applied_by: dict[int, dict[str, Any]] = {}  # index -> {server: command}

    def watch(self, name: str) -> _Watch:
        w = self.watches.get(name)
        if w is None:
            w = self.watches[name] = _Watch(name)
        return w

    def new_incarnation(self, name: str, node: Any) -> _Watch:
        w = self.watch(name)
        w.node = node
        w.incarnation += 1
        w.commit = w.napplied = w.last_applied = 0
        w.leader_term = -1
        return w

    def fail(self, prop: str, what: str, **kw: Any) -> None:
        raise self.violation(prop, what, **kw)

    # The hot path: runs after every handler.
    def after(self, w: _Watch) -> None:
        node = w.node
        term = node.term
        if term != w.term:
            if term < w.term:
                self.fail(
                    "currentTerm never decreases (Figure 2)",
                    f"{w.name}'s term went from {w.term} back to {term}"
                    + (" after a restart: is currentTerm persisted?" if w.incarnation > 1 else ""),
                    node=w.name,
                    term=term,
                )
            w.term = term
        voted = getattr(node, "voted_for", _MISSING)
        if voted is not None and voted is not _MISSING:
            before = w.voted.get(term)
            if before is None:
                w.voted[term] = voted
            elif before != voted:
                self.fail(
                    "one vote per term (§5.2)",
                    f"{w.name} voted for {before} and then for {voted} in term {term}"
                    + (
                        " (its vote did not survive a restart: is votedFor persisted?)"
                        if w.incarnation > 1
                        else ""
                    ),
                    node=w.name,
                    term=term,
                )
        role = node.role
        leading = w.leader_term == term  # it led this term at the last check already
        if role == "leader" and not leading:
            self._new_leader(w, node, term)
        log = node.log
        if log != w.shadow:
            self._log_changed(w, log, leading and role == "leader")
        commit = node.commit_index
        if commit != w.commit:
            self._commit_changed(w, log, commit, term)
        applied = node.applied
        if len(applied) != w.napplied:
            self._applied(w, applied, commit)

    def _new_leader(self, w: _Watch, node: Any, term: int) -> None:
        owner = self.leaders.get(term)
        if owner is not None and owner != w.name:
            self.fail(
                "Election Safety: at most one leader per term (§5.2)",
                f"{w.name} became leader of term {term}, which already has leader {owner}",
                node=w.name,
                term=term,
                expected=f"one leader in term {term} ({owner})",
                happened=f"{owner} and {w.name} both lead term {term}",
                focus=(w.name, owner),
            )
        self.leaders[term] = w.name
        w.leader_term = term
        # Leader Completeness: entries committed in earlier terms are in the new leader's log.
        need = self._committed_before(term)
        if need:
            ct, cmd, who, when, _ = self.committed[need]
            log = node.log
            have = log[need] if need < len(log) else None
            if have is None or have.term != ct or have.command != cmd:
                held = (
                    f"its log ends at index {len(log) - 1}"
                    if have is None
                    else f"it holds term {have.term}, command {have.command!r} there"
                )
                self.fail(
                    "Leader Completeness (§5.4, §5.4.1)",
                    f"{w.name} became leader of term {term} without an entry committed earlier",
                    node=w.name,
                    term=term,
                    index=need,
                    expected=f"index {need}: term {ct}, command {cmd!r} (committed by {who} "
                    f"at t={when:.6f})",
                    happened=held,
                    focus=(w.name, who),
                )

    def _committed_before(self, term: int) -> int:
        """The highest index first committed by a server in a term earlier than ``term``."""
        if term > self.max_commit_term:
            return self.max_committed
        return max((i for t, i in self.commit_marks.items() if t < term), default=0)

    def _log_changed(self, w: _Watch, log: Any, leading: bool) -> None:
        shadow = w.shadow
        start = 1
        if shadow is not None:
            m = min(len(shadow), len(log))
            if log[:m] == shadow[:m]:
                start = m
            else:
                start = next(i for i in range(m) if log[i] != shadow[i])
            if leading and start < len(shadow):
                self.fail(
                    "Leader Append-Only (Figure 3)",
                    f"leader {w.name} changed its own log at index {start} in its term",
                    node=w.name,
                    term=w.term,
                    index=start,
                    expected=f"entries 1..{len(shadow) - 1} stay as they were",
                    happened=f"the log now has {len(log) - 1} entries and differs at {start}",
                )
        entries = self.entries
        prev_term = log[start - 1].term if start >= 1 else 0
        for i in range(max(start, 1), len(log)):
            e = log[i]
            t = e.term
            if t < prev_term:
                self.fail(
                    "Log Matching: terms never decrease along a log (§5.3)",
                    f"{w.name}'s log has term {t} at index {i} after term {prev_term}",
                    node=w.name,
                    term=w.term,
                    index=i,
                )
            if t > w.term:
                self.fail(
                    "Log Matching (§5.3)",
                    f"{w.name} (in term {w.term}) holds an entry of a later term {t}",
                    node=w.name,
                    term=w.term,
                    index=i,
                )
            seen = entries.get((i, t))
            if seen is None:
                entries[(i, t)] = (e.command, prev_term, w.name)
            elif seen[0] != e.command or seen[1] != prev_term:
                cmd0, prev0, who = seen
                self.fail(
                    "Log Matching (§5.3)",
                    f"two logs hold different entries at index {i} with the same term {t}",
                    node=w.name,
                    term=w.term,
                    index=i,
                    expected=f"as in {who}'s log: command {cmd0!r}, term {prev0} at index {i - 1}",
                    happened=f"{w.name} holds command {e.command!r}, term {prev_term} at "
                    f"index {i - 1}",
                    focus=(w.name, who),
                )
            prev_term = t
        w.shadow = log[:]

    def _commit_changed(self, w: _Watch, log: Any, commit: int, term: int) -> None:
        if commit < w.commit:
            self.fail(
                "commitIndex never decreases (Figure 2)",
                f"{w.name}'s commit_index went from {w.commit} back to {commit}",
                node=w.name,
                term=term,
                index=commit,
            )
        if commit >= len(log):
            self.fail(
                "a server commits only entries it holds (§5.3)",
                f"{w.name}'s commit_index {commit} is past the end of its log",
                node=w.name,
                term=term,
                index=commit,
                expected=f"commit_index <= {len(log) - 1}",
                happened=f"commit_index = {commit}",
            )
        committed = self.committed
        now = self.clock()
        for i in range(w.commit + 1, commit + 1):
            e = log[i]
            known = committed.get(i)
            if known is None:
                committed[i] = (e.term, e.command, w.name, now, term)
                if self.commit_marks.get(term, 0) < i:
                    self.commit_marks[term] = i
                    self.max_commit_term = max(self.max_commit_term, term)
                    self.max_committed = max(self.max_committed, i)
            elif known[0] != e.term or known[1] != e.command:
                self.fail(
                    "State Machine Safety: a committed entry never changes (§5.4.3)",
                    f"{w.name} committed index {i} with a different entry than {known[2]} did",
                    node=w.name,
                    term=term,
                    index=i,
                    expected=f"term {known[0]}, command {known[1]!r} (committed by {known[2]} "
                    f"at t={known[3]:.6f})",
                    happened=f"term {e.term}, command {e.command!r}",
                    focus=(w.name, known[2]),
                )
        w.commit = commit

    def _applied(self, w: _Watch, applied: Any, commit: int) -> None:
        committed = self.committed
        applied_by = self.applied_by
        for item in applied[w.napplied :]:
            try:
                index, command = item
            except (TypeError, ValueError):
                self.fail(
                    "applied entries are (index, command) pairs",
                    f"{w.name} applied {item!r}",
                    node=w.name,
                )
            if index != w.last_applied + 1:
                self.fail(
                    "entries are applied in log order (Figure 2)",
                    f"{w.name} applied index {index} right after index {w.last_applied}",
                    node=w.name,
                    term=w.term,
                    index=index,
                    expected=f"index {w.last_applied + 1} next",
                    happened=f"index {index}",
                )
            if index > commit:
                self.fail(
                    "only committed entries are applied (Figure 2)",
                    f"{w.name} applied index {index} with commit_index {commit}",
                    node=w.name,
                    term=w.term,
                    index=index,
                )
            known = committed.get(index)
            if known is not None and known[1] != command:
                self.fail(
                    "State Machine Safety (§5.4.3)",
                    f"{w.name} applied a command other than the one committed at index {index}",
                    node=w.name,
                    term=w.term,
                    index=index,
                    expected=f"{known[1]!r} (committed by {known[2]})",
                    happened=f"{command!r}",
                    focus=(w.name, known[2]),
                )
            others = applied_by.get(index)
            if others is None:
                applied_by[index] = {w.name: command}
            else:
                for other, cmd in others.items():
                    if cmd != command:
                        self.fail(
                            "State Machine Safety (§5.4.3)",
                            f"{w.name} and {other} applied different commands at index {index}",
                            node=w.name,
                            term=w.term,
                            index=index,
                            expected=f"{cmd!r}, as {other} applied",
                            happened=f"{command!r}",
                            focus=(w.name, other),
                        )
                others[w.name] = command
            w.last_applied = index
        w.napplied = len(applied)
