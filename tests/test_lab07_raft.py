"""Lab 7's experiment runners and probes (distlib.labs.lab07_raft)."""

from __future__ import annotations

import matplotlib
import pytest

from distlib.labs import lab07_raft as ex
from distlib.protocols.raft import (
    AppendEntries,
    RaftNode,
    RequestVote,
    RequestVoteReply,
    Role,
)
from distlib.testing.broken import BrokenCommitRaft, BrokenVoteRaft

matplotlib.use("Agg")


# --------------------------------------------------------------------------------------------
# check_exercise


class OwnVote(RaftNode):
    def handle_request_vote(self, msg):
        return RequestVoteReply(self.term, False)


class SuperVote(RaftNode):
    def handle_request_vote(self, msg):
        return super().handle_request_vote(msg)


class ReferenceVote(RaftNode):
    def handle_request_vote(self, msg):
        return RaftNode.handle_request_vote(self, msg)


class NoVote(RaftNode):
    pass


def test_check_exercise_accepts_a_method_of_the_class_itself():
    """A subclass that writes the exercise method itself passes the check."""
    ex.check_exercise(OwnVote, "handle_request_vote")


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (NoVote, "does not define handle_request_vote"),
        (SuperVote, "calls super()"),
        (ReferenceVote, "calls super() or RaftNode.handle_request_vote"),
    ],
)
def test_check_exercise_rejects_the_inherited_answer(cls, words):
    """Inheriting, or calling, the reference method is not an answer, and the message says so."""
    with pytest.raises(AssertionError, match=words.replace("(", r"\(").replace(")", r"\)")):
        ex.check_exercise(cls, "handle_request_vote")


def test_check_exercise_bad_arguments():
    """An unknown exercise or a class that is not a RaftNode is a clear error."""
    with pytest.raises(ValueError, match="not one of the exercises"):
        ex.check_exercise(OwnVote, "on_message")
    with pytest.raises(TypeError, match="subclass of RaftNode"):
        ex.check_exercise(int, "handle_request_vote")


# --------------------------------------------------------------------------------------------
# Probes


def test_follower_starts_in_the_given_state():
    """follower() builds a started follower with the given log, term and vote."""
    node = ex.follower(terms=[1, 1, 2], term=3, voted_for="s3")
    assert node.role is Role.FOLLOWER
    assert [e.term for e in node.log] == [0, 1, 1, 2]
    assert [e.command for e in node.log[1:]] == ["x1", "x2", "x3"]
    assert node.term == 3 and node.voted_for == "s3"
    assert node.take_actions() == [], "boot actions are discarded"


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"terms": [2, 1]}, "never decrease"),
        ({"terms": [0]}, "positive ints"),
        ({"terms": [1, 2], "term": 1}, "earlier than the last log term"),
        ({"terms": [1], "commands": ["a", "b"]}, "1 terms but 2 commands"),
    ],
)
def test_follower_rejects_impossible_states(kw, words):
    """A log whose terms decrease, or a term before the last log term, is refused (§5.3)."""
    with pytest.raises(ValueError, match=words):
        ex.follower(**kw)


def test_leader_has_just_won_the_next_term():
    """leader() gives a leader of the term after its last log term, matchIndex all 0 (Fig. 2)."""
    node = ex.leader(terms=[1, 2], peers=("s2", "s3", "s4"))
    assert node.role is Role.LEADER and node.term == 3
    assert node.match_index == {"s2": 0, "s3": 0, "s4": 0}
    assert node.next_index == {"s2": 3, "s3": 3, "s4": 3}


def test_ask_returns_the_one_reply():
    """ask() delivers a message and returns the reply sent back (§5.4.1 vote for an
    up-to-date candidate)."""
    node = ex.follower(terms=[1, 2])
    reply = ex.ask(node, RequestVote(3, "s2", 2, 2))
    assert reply == RequestVoteReply(3, True)
    assert node.voted_for == "s2"


def test_ask_complains_about_a_missing_reply():
    """A node that answers nothing is reported with what it sent."""

    class Mute(RaftNode):
        def on_message(self, src, msg):
            pass

    with pytest.raises(AssertionError, match="exactly one reply, but sent 0"):
        ex.ask(ex.follower(Mute), AppendEntries(1, "s2", 0, 0, (), 0))


# --------------------------------------------------------------------------------------------
# Runs


def test_replication_run_commits_both_commands_in_the_window():
    """§5.3, §8: the client's two commands are applied by all three servers within the window,
    and the window shows the client's requests and the leader's AppendEntries."""
    run = ex.replication_run(seed=1)
    for name in ("s1", "s2", "s3"):
        assert [c for _, c in run.sim.node(name).applied] == ["x=1", "y=2"], name
    window = run.window()
    types = {e.type for e in window if e.kind == "send"}
    assert {"ClientRequest", "AppendEntries", "AppendEntriesReply", "ClientReply"} <= types
    assert all(run.since <= e.time <= run.until for e in window)
    assert len(window) < 80, f"the window should be small enough to step through: {len(window)}"


def test_stale_leader_run_without_the_restriction_breaks_state_machine_safety():
    """§5.4.1: without the up-to-date check the stale server wins and the servers apply
    different commands at one index; with it, it never wins and they agree."""
    broken = ex.stale_leader_run(BrokenVoteRaft, seed=1)
    assert broken.second_leader == broken.stale
    assert broken.disagreements(), "BrokenVoteRaft should make the state machines disagree"
    ok = ex.stale_leader_run(RaftNode, seed=1)
    assert ok.second_leader not in (None, ok.stale)
    assert not ok.disagreements()
    assert all([c for _, c in applied] == [101, 102, 103, 104] for applied in ok.applied.values())
    labels = [label for label, _ in broken.panels()]
    assert labels[1] == f"{broken.stale} leads, 104 committed"


def test_replay_records_logs_and_keeps_the_violation():
    """§5.4.2, Figure 8: the replay of BrokenCommitRaft keeps the harness's report and shows A
    committed in step (c); RaftNode's replay passes and ends with A replaced by B."""
    broken = ex.replay("figure8_scripted", BrokenCommitRaft, seed=1)
    assert broken.violation is not None and "Leader Completeness" in str(broken.violation)
    panels = ex.figure8_panels(broken)
    assert [label[:3] for label, _ in panels] == ["(a)", "(b)", "(c)", "(d)"]
    c = panels[2][1]
    leader3 = max((s.term, n) for n, s in c.items() if s.role == "leader")[1]
    assert c[leader3].log[1][1] == "A" and c[leader3].commit_index >= 2, c[leader3]
    ok = ex.replay("figure8_scripted", RaftNode, seed=1)
    assert ok.violation is None
    panels = ex.figure8_panels(ok)
    assert len(panels) == 5
    c = panels[2][1]
    assert all(s.commit_index < 2 for s in c.values()), "A must not be committed in (c)"
    e = panels[4][1]
    assert all(s.log[1][1] == "B" for s in e.values() if s.up), e


def test_replay_is_deterministic():
    """Same scenario, class and seed: the same recorded states."""
    a = ex.replay("basic_agreement", RaftNode, seed=2)
    b = ex.replay("basic_agreement", RaftNode, seed=2)
    assert a.changes == b.changes and a.changes


def test_replay_bad_arguments():
    """An unknown scenario, or panels of another scenario, are clear errors."""
    with pytest.raises(ValueError, match="unknown scenario"):
        ex.replay("figure9")
    with pytest.raises(ValueError, match="expected a replay of figure8_scripted"):
        ex.figure8_panels(ex.replay("basic_agreement", seed=1))


def test_logs_at_marks_crashed_servers():
    """A server that crashed is shown down until it restarts."""
    r = ex.replay("figure8_scripted", RaftNode, seed=1)
    t_crash, what = r.moments()[3]
    crashed = [w.split()[1] for w in what.split("; ") if w.startswith("crash")]
    assert crashed and all(not r.logs_at(t_crash)[n].up for n in crashed)
    assert all(r.logs_at(t_crash - 1e-9)[n].up for n in crashed)


def test_format_and_draw_logs():
    """Logs print as a table (committed entries starred) and draw as a figure."""
    r = ex.replay("basic_agreement", RaftNode, seed=1)
    states = r.logs_at(r.end)
    text = ex.format_logs(states)
    assert text.splitlines()[0].split() == ["index", "1", "2", "3"]
    assert "100*" in text
    fig = ex.draw_logs([("end", states), ("start", r.logs_at(0.0))])
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    with pytest.raises(ValueError, match="at least one"):
        ex.draw_logs([])


# --------------------------------------------------------------------------------------------
# the graded searches


def _mistake(exercise: str, label: str) -> type:
    """The class a listed plausible wrong answer defines (tests/mistakes/lab07.py)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent / "mistakes" / "lab07.py"
    spec = importlib.util.spec_from_file_location("lab07_mistakes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (source,) = [code for name, code in module.MISTAKES[exercise] if name == label]
    namespace: dict = {}
    exec(source, namespace)
    return next(v for k, v in namespace.items() if k.endswith("Raft") and k != "RaftNode")


def test_commit_search_finds_the_figure8_bug_in_eleven_steps():
    """From Figure 8's logs (s1 in term 2), a leader that commits an earlier term's entry by
    counting replicas is caught by Leader Completeness after 11 steps, the shortest path; the
    reference rule passes every path of that length."""
    found = ex.commit_explorer(BrokenCommitRaft).search()
    assert found.verdict == "violated" and len(found.trace) == 11, str(found)
    assert "Leader Completeness" in found.violation, found.violation
    assert ex.commit_explorer(BrokenCommitRaft).search(max_depth=10).verdict != "violated"
    assert ex.search_commit_rule(RaftNode).verdict == "incomplete"
    wrong = _mistake("lab07_commit", "commits entries of earlier terms by counting replicas")
    assert ex.search_commit_rule(wrong).verdict == "violated"


def test_vote_search_finds_a_voter_without_the_up_to_date_check():
    """From empty logs, a voter that grants votes without the up-to-date check (§5.4.1) elects
    a leader without a committed entry within 11 steps; the reference rule passes them all."""
    assert ex.search_vote_rule(BrokenVoteRaft).verdict == "violated"
    assert ex.search_vote_rule(RaftNode).verdict == "incomplete"
