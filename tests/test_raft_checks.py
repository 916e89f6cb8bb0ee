"""The Raft safety checker (distlib.check.raft) against the checker it replaced.

The checker examines only what changed at each step (an appended suffix, newly committed or
applied entries, a changed role or term), so that graded cells can afford it after every step.
These tests run it side by side with the checker as it was before
(tests/raft_checker_before.py), on the deliberately broken Rafts of the library and the lab's
plausible wrong answers, and on servers that corrupt their own state in every way the checks
know of: at every step both checkers must pass, or both fail with the same report. The one
difference allowed is a violation only the new checker knows, that a server changed or removed
an entry it had committed in an earlier step (State Machine Safety within a server): the old
checker missed it or caught it later, under another name.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import distlib.testing.raft as harness
from distlib.check.raft import RaftSafety
from distlib.protocols.raft import Entry, RaftClient, RaftNode, Role
from distlib.testing import raft_scenarios as scenarios
from distlib.testing.broken import BootLogRaft, BrokenCommitRaft, BrokenVoteRaft, UnsyncedRaft
from distlib.testing.raft import RaftCluster, RaftViolation

HERE = Path(__file__).resolve().parent


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


Before = _load(HERE / "raft_checker_before.py", "raft_checker_before").RaftSafety
MISTAKES = _load(HERE / "mistakes" / "lab07.py", "lab07_mistakes").MISTAKES

#: What only the new checker reports: a server's own committed entry changed or removed.
NEW = "which it had committed"


class Disagreement(Exception):
    """The two checkers judged one step differently (not an AssertionError, so that no
    scenario mistakes it for a failed check)."""


class Differential(RaftSafety):
    """The library's checker, with the old one run on the same steps: both must agree."""

    def __init__(self, violation: Any, clock: Any) -> None:
        super().__init__(violation, clock)
        self.before = Before(violation, clock)
        self.steps = 0
        self.extra: list[RaftViolation] = []  # violations only the new checker reports

    def new_incarnation(self, name: str, node: Any) -> Any:
        self.before.new_incarnation(name, node)
        return super().new_incarnation(name, node)

    def observe(self, name: str, node: Any, event: str = "") -> None:
        self.steps += 1
        new = old = None
        try:
            super().observe(name, node, event)
        except RaftViolation as exc:
            new = exc
        w = self.before.watches.get(name)
        if w is not None and w.node is node:
            try:
                self.before.after(w)
            except RaftViolation as exc:
                old = exc
        if old is not None:
            if new is None or str(new) != str(old):
                raise Disagreement(
                    f"step {self.steps} ({name} {event}): the old checker reports\n{old}\n"
                    f"the new one {'nothing' if new is None else new}"
                )
        elif new is not None:
            if NEW not in str(new):
                raise Disagreement(f"step {self.steps}: only the new checker reports\n{new}")
            self.extra.append(new)
        if new is not None:
            raise new


@pytest.fixture
def differential(monkeypatch):
    """Every RaftCluster built in the test checks with :class:`Differential`; the checkers
    built are listed."""
    built: list[Differential] = []

    def make(violation, clock):
        built.append(Differential(violation, clock))
        return built[-1]

    monkeypatch.setattr(harness, "RaftSafety", make)
    return built


def _outcome(run, *args: Any, **options: Any) -> RaftViolation | None:
    """The violation ``run(*args, **options)`` raises, or None."""
    try:
        run(*args, **options)
    except RaftViolation as exc:
        return exc
    return None


# --------------------------------------------------------------------------------------------
# Broken Rafts and the lab's wrong answers, through the scenarios.


def _mistakes() -> list[tuple[str, Any]]:
    out = []
    for exercise in ("lab07_vote", "lab07_append", "lab07_commit"):
        for label, code in MISTAKES[exercise]:
            space: dict[str, Any] = {}
            exec(compile(code, f"<{exercise}: {label}>", "exec"), space)
            cls = next(v for k, v in space.items() if k.endswith("Raft") and k != "RaftNode")
            out.append((f"{exercise}: {label}", cls))
    return out


BROKEN = [
    ("BrokenVoteRaft", BrokenVoteRaft, {}),
    ("BrokenCommitRaft", BrokenCommitRaft, {}),
    ("BootLogRaft", BootLogRaft, {}),
    ("UnsyncedRaft", UnsyncedRaft, {"durability": "sync"}),
    *((label, cls, {}) for label, cls in _mistakes()),
]

#: The scenarios where the broken Rafts above fail (and a few where most pass).
CHOSEN = (
    "basic_agreement",
    "backup",
    "persist_all_crash",
    "persist_churn",
    "persist_vote",
    "stale_candidate",
    "figure8_scripted",
    "figure8",
    "rejoin_partitioned_leader",
    "churn",
)


@pytest.mark.parametrize(("label", "cls", "options"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_rafts_fail_at_the_same_step_with_the_same_report(differential, label, cls, options):
    """Each broken Raft, on the scenarios where such bugs show, fails under the new checker at
    the step and with the report of the old one (or passes under both)."""
    for name in CHOSEN:
        for seed in (1, 2):
            _outcome(scenarios.SCENARIOS[name], cls, seed=seed, **options)
    assert differential and all(d.steps for d in differential)


def test_the_broken_rafts_do_fail(differential):
    """The differential runs above do judge failures: the library's broken Rafts are caught."""
    caught = [
        _outcome(scenarios.stale_candidate, BrokenVoteRaft, seed=1),
        _outcome(scenarios.figure8_scripted, BrokenCommitRaft, seed=1),
    ]
    assert all(isinstance(exc, RaftViolation) for exc in caught), caught
    assert "Leader Completeness" in str(caught[0]) and "Leader Completeness" in str(caught[1])


# --------------------------------------------------------------------------------------------
# Servers that corrupt their own state once, in every way the checks know of.


@dataclass
class LooseEntry:
    """A log entry whose fields can change in place (not frozen, unlike the library's Entry)."""

    term: int
    command: Any


class LogList(list):
    """A list by another type: a log the checker treats as any sequence."""


class Mutant(RaftNode):
    """The reference Raft, except that server ``victim`` corrupts its state once, in the way
    ``kind`` names, in its first handler after ``after`` simulated seconds where it can."""

    def __init__(self, kind: str, victim: str, after: float, seed: int, flip: bool) -> None:
        super().__init__()
        self.kind, self.victim, self.after, self.flip = kind, victim, after, flip
        self.chance = random.Random(seed)
        self.done = False

    def on_message(self, src: str, msg: Any) -> None:
        self.commit_before = self.commit_index
        super().on_message(src, msg)
        self.maybe_corrupt()

    def on_timer(self, name: str) -> None:
        self.commit_before = self.commit_index
        super().on_timer(name)
        self.maybe_corrupt()

    def maybe_flip(self) -> None:
        """With ``flip``, the log changes between a list and a list subclass at random steps:
        the checker's general path for sequences other than lists, and the way between."""
        if self.flip and self.chance.random() < 0.3:
            self.log = list(self.log) if type(self.log) is LogList else LogList(self.log)

    def maybe_corrupt(self) -> None:
        self.maybe_flip()
        if self.done or self.id != self.victim or self.now < self.after:
            return
        self.done = bool(getattr(self, "corrupt_" + self.kind)())

    def _committed_index(self, lowest: int = 1) -> int | None:
        c = self.commit_index
        return self.chance.randint(lowest, c) if c >= lowest else None

    def corrupt_rewrite_committed_command(self) -> bool:
        """log[i] for a committed i, in the middle of the log: same term, another command."""
        i = self._committed_index()
        if i is None or i >= len(self.log) - 1:
            return False
        self.log[i] = Entry(self.log[i].term, ("evil", i))
        return True

    def corrupt_rewrite_committed_term(self) -> bool:
        """log[i] for a committed i, in the middle: the same command under the current term."""
        i = self._committed_index()
        if i is None or self.log[i].term == self.term:
            return False
        self.log[i] = Entry(self.term, self.log[i].command)
        return True

    def corrupt_restamp_committed(self) -> bool:
        """Committed entries and those after them put under the current term, which no server
        used at these indices (nothing disagrees: terms still rise along the log)."""
        i = self._committed_index()
        if i is None or self.log[-1].term >= self.term:
            return False
        self.log[i:] = [Entry(self.term, e.command) for e in self.log[i:]]
        return True

    def corrupt_truncate_committed(self) -> bool:
        """Committed entries removed (the commit index kept)."""
        i = self._committed_index()
        if i is None:
            return False
        del self.log[i:]
        return True

    def corrupt_truncate_committed_quietly(self) -> bool:
        """Committed entries removed by a follower in a step that does not move its commit
        index."""
        if self.role != Role.FOLLOWER or self.commit_index != self.commit_before:
            return False
        return self.corrupt_truncate_committed()

    def corrupt_truncate_and_reappend_other(self) -> bool:
        """Entries removed from a committed index on and others appended: same length."""
        i = self._committed_index()
        if i is None:
            return False
        tail = self.log[i:]
        del self.log[i:]
        self.log.extend(Entry(e.term, ("other", k)) for k, e in enumerate(tail))
        return True

    def corrupt_truncate_and_reappend_same(self) -> bool:
        """Entries removed and appended again, equal ones: no violation."""
        i = self._committed_index()
        if i is None:
            return False
        tail = [Entry(e.term, e.command) for e in self.log[i:]]
        del self.log[i:]
        self.log.extend(tail)
        return True

    def corrupt_commit_back(self) -> bool:
        if self.commit_index < 1:
            return False
        self.commit_index -= 1
        return True

    def corrupt_commit_past_end(self) -> bool:
        self.commit_index = len(self.log) + 1
        return True

    def corrupt_second_leader(self) -> bool:
        """A follower declares itself leader of a term that has a leader (two leaders)."""
        if self.role != Role.FOLLOWER or self.leader_id is None:
            return False
        self.role = Role.LEADER
        return True

    def corrupt_term_back(self) -> bool:
        if self.term < 1:
            return False
        self.term -= 1
        return True

    def corrupt_vote_twice(self) -> bool:
        if self.voted_for is None:
            return False
        self.voted_for = next(p for p in self.peers if p != self.voted_for)
        return True

    def corrupt_diverge(self) -> bool:
        """A follower appends an entry of its term that its leader never sent."""
        if self.role != Role.FOLLOWER or self.term < 1:
            return False
        self.log.append(Entry(self.term, ("rogue", self.id)))
        return True

    def corrupt_older_term_appended(self) -> bool:
        """An entry of an earlier term than the last one's appended (terms fall along the log)."""
        if self.log[-1].term < 1:
            return False
        self.log.append(Entry(self.log[-1].term - 1, "older"))
        return True

    def corrupt_future_entry(self) -> bool:
        self.log.append(Entry(self.term + 1, "from the future"))
        return True

    def corrupt_leader_rewrites_tail(self) -> bool:
        """A leader replaces its last entry (Leader Append-Only)."""
        if self.role != Role.LEADER or len(self.log) < 2:
            return False
        self.log[-1] = Entry(self.term, ("rewritten", len(self.log)))
        return True

    def corrupt_apply_gap(self) -> bool:
        last = self.applied[-1][0] if self.applied else 0
        self.applied.append((last + 2, "skipped one"))
        return True

    def corrupt_apply_uncommitted(self) -> bool:
        last = self.applied[-1][0] if self.applied else 0
        if last != self.commit_index:
            return False
        self.applied.append((last + 1, "not committed"))
        return True

    def corrupt_apply_other_command(self) -> bool:
        """Reapply the last applied index with another command (a duplicate, out of order)."""
        if not self.applied:
            return False
        index, _ = self.applied[-1]
        self.applied.append((index, "other"))
        return True

    def corrupt_loose_entry(self) -> bool:
        """A committed entry swapped for an equal one whose fields can change: no violation."""
        i = self._committed_index()
        if i is None:
            return False
        self.log[i] = LooseEntry(self.log[i].term, self.log[i].command)
        self.later = i
        self.kind = "loose_entry_changed"
        return False  # not done: it changes that entry's command in place next

    def corrupt_loose_entry_changed(self) -> bool:
        """The entry swapped in changes its command in place, the list untouched."""
        self.log[self.later].command = ("changed in place", self.later)
        return True


KINDS = sorted(name[len("corrupt_") :] for name in vars(Mutant) if name.startswith("corrupt_"))
KINDS.remove("loose_entry_changed")


def _mutant_run(kind: str, seed: int, victim: str, flip: bool = False) -> RaftCluster:
    """Three servers under a client's load for 4 s, ``victim`` corrupting itself once after
    1.5-2 s; for ``restamp_committed``, after the first leader crashed at 1 s (a second term).
    With ``flip``, every server's log changes type now and then (see :meth:`Mutant.maybe_flip`).
    """
    churn = kind == "restamp_committed"
    after = 1.0 if churn else 1.5 + seed / 7
    cluster = RaftCluster(lambda: Mutant(kind, victim, after, seed, flip), 3, seed=seed)
    commands = [f"c-{k}" for k in range(200)]
    cluster.sim.add_client("c1", lambda: RaftClient(commands, timeout=2.0, think=0.02))
    if churn:
        cluster.run(1.0)
        cluster.crash(next(iter(cluster.leaders())))
    cluster.run(4.0 - cluster.now)
    return cluster


@pytest.mark.parametrize("flip", [False, True], ids=["list", "flipping"])
@pytest.mark.parametrize("kind", KINDS)
def test_corruptions_are_caught_at_the_same_step_as_before(differential, kind, flip):
    """Each corruption, on a follower and on the leader of several runs, fails under the new
    checker at the step and with the report of the old one, unless only the new one catches
    it (a changed or removed entry the server had committed); also where logs change between a
    list and another sequence type now and then."""
    for seed in (1, 2, 3):
        for victim in ("s1", "s2", "s3"):
            _outcome(_mutant_run, kind, seed, victim, flip)


def _runs(differential, kind: str, seeds=(1, 2, 3)) -> list[tuple[RaftViolation | None, Any]]:
    out = []
    for seed in seeds:
        for victim in ("s1", "s2", "s3"):
            exc = _outcome(_mutant_run, kind, seed, victim)
            out.append((exc, differential[-1]))
    return out


def test_a_committed_entry_rewritten_in_the_middle_is_caught_as_before(differential):
    """§5.3, Figure 3: a server that rewrites the command of a committed entry in the middle of
    its log (same term) is caught at that step, as before: by Log Matching on a follower, by
    Leader Append-Only on the leader."""
    runs = _runs(differential, "rewrite_committed_command")
    caught = [exc for exc, _ in runs if exc is not None]
    assert len(caught) == len(runs), "every run makes the corruption"
    assert all(exc.property.startswith(("Log Matching", "Leader Append-Only")) for exc in caught), (
        caught
    )
    assert all(not d.extra for _, d in runs)


def test_committed_entries_put_under_another_term_are_caught(differential):
    """§5.4.3: a follower that puts its committed entries under its new term, which no server
    used at those indices (so no two logs disagree and terms still rise along its log), is
    caught at that step: only the new check sees it."""
    runs = _runs(differential, "restamp_committed")
    extra = [d.extra[0] for _, d in runs if d.extra]
    assert extra, "no run made the corruption"
    assert all("changed index" in str(exc) and NEW in str(exc) for exc in extra)
    assert all(exc.property.startswith("State Machine Safety") for exc in extra)


def test_truncated_committed_entries_are_caught_at_once(differential):
    """§5.4.3: a server that removes entries it committed is caught at that step: if its commit
    index moved in that step too, by the old check (now past the end of its log) or, on a
    leader, by Leader Append-Only; else by the new one, where the old checker waited until the
    commit index moved."""
    runs = _runs(differential, "truncate_committed")
    caught = [exc for exc, _ in runs if exc is not None]
    assert len(caught) == len(runs), "every run makes the corruption"
    assert all(
        "past the end" in str(exc) or exc.property.startswith("Leader Append-Only")
        for exc in caught
    ), caught
    quiet = [d.extra for _, d in _runs(differential, "truncate_committed_quietly")]
    assert any(quiet), "no run made the corruption"
    assert all("removed index" in str(extra[0]) for extra in quiet if extra)


def test_truncated_and_reappended_entries_are_caught_unless_equal(differential):
    """A server that truncates committed entries and appends as many others is caught at that
    step; appending equal entries again changes nothing and passes."""
    caught = [exc for exc, _ in _runs(differential, "truncate_and_reappend_other")]
    assert caught and all(exc is not None for exc in caught)
    same = [exc for exc, _ in _runs(differential, "truncate_and_reappend_same")]
    assert all(exc is None for exc in same), same


def test_two_leaders_in_one_term_are_caught(differential):
    """§5.2 Election Safety: a follower that declares itself leader of its leader's term."""
    caught = [exc for exc, _ in _runs(differential, "second_leader") if exc is not None]
    assert caught and all("Election Safety" in str(exc) for exc in caught), caught


def test_a_diverging_log_is_caught(differential):
    """§5.3 Log Matching: a follower that appends an entry its leader never sent, of its term,
    holds another command than the leader's log at that index and term."""
    caught = [exc for exc, _ in _runs(differential, "diverge") if exc is not None]
    assert caught and all("Log Matching" in str(exc) for exc in caught), caught


def test_an_entry_changed_in_place_is_caught(differential):
    """§5.4.3: an entry whose fields can change, changed in place once committed (the list
    itself untouched), is caught at that step; the old checker, which compared the list's
    items, never saw it."""
    runs = _runs(differential, "loose_entry")
    extra = [d.extra[0] for _, d in runs if d.extra]
    assert extra, "no run made the corruption"
    assert all("changed index" in str(exc) and "changed in place" in str(exc) for exc in extra)


def test_the_reference_passes_under_both_checkers(differential):
    """The reference Raft under load and in the churn scenarios: both checkers stay silent."""
    cluster = RaftCluster(RaftNode, 5, seed=4)
    for name in ("c1", "c2"):
        commands = [f"{name}-{k}" for k in range(300)]
        cluster.sim.add_client(name, lambda c=commands: RaftClient(c, timeout=2.0, think=0.01))
    cluster.run(10.0)
    scenarios.churn(seed=3)
    scenarios.persist_churn(seed=3)
    assert all(not d.extra for d in differential)
    assert max(cluster.node(n).commit_index for n in cluster.names) > 100
