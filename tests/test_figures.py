"""The course's pictures are readable: no text drawn over another in the space-time diagrams of
the labs' runs (messages' labels and notes move along their arrow, or above or below their
line, to a free place, or give way to a legend), and every one has a title."""

from __future__ import annotations

import itertools

import matplotlib
import pytest

matplotlib.use("Agg")


def overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of visible texts of ``fig``'s axes whose boxes overlap (by more than a pixel)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for ax in fig.axes:
        for text in ax.texts:
            if text.get_visible() and text.get_text().strip():
                box = text.get_window_extent(renderer).shrunk(0.97, 0.9)
                boxes.append((text.get_text(), box))
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]


def lab7_replication():
    from distlib.labs.lab07_raft import replication_run
    from distlib.views import spacetime

    run = replication_run(seed=1)
    return spacetime(run.window(), nodes=["client", "s1", "s2", "s3"], title="two commands")


def lab5_commit():
    from distlib import Uniform
    from distlib.labs.lab05_transactions import build_system
    from distlib.views import spacetime

    sim = build_system(n=2, seed=3, latency=Uniform(0.005, 0.015))
    sim.run(until=0.2)
    return spacetime(sim.trace, title="2PC")


def lab6_paxos():
    from distlib import Uniform
    from distlib.labs.lab06_paxos import cluster, decide
    from distlib.views import spacetime

    sim, nodes = cluster(n=3, values=["v0"], seed=2, latency=Uniform(0.005, 0.015))
    decide(sim, nodes)
    return spacetime(sim.trace, title="Paxos")


def explorer_counterexample():
    from distlib.labs.lab07_raft import commit_explorer
    from distlib.testing.broken import BrokenCommitRaft

    result = commit_explorer(BrokenCommitRaft).search()
    return result.replay().diagram()


@pytest.mark.parametrize(
    "draw", [lab7_replication, lab5_commit, lab6_paxos, explorer_counterexample]
)
def test_no_text_is_drawn_over_another(draw):
    """Every label and note of the diagram is readable: none overlaps another."""
    fig = draw()
    assert fig.axes[0].get_title(), "every figure has a title"
    found = overlaps(fig)
    assert not found, f"{draw.__name__}: overlapping texts {found[:5]}"


def test_the_check_sees_overlapping_labels():
    """The overlap check itself finds two labels drawn at one place."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "AppendEntries")
    ax.text(0.52, 0.5, "AppendEntriesReply")
    assert overlaps(fig)


def raft_roles():
    from distlib import Simulation, Uniform
    from distlib.protocols.raft import RaftNode
    from distlib.views.raft import raft_timeline

    sim = Simulation(seed=1, latency=Uniform(0.005, 0.02))
    sim.add_nodes(["s1", "s2", "s3", "s4", "s5"], RaftNode)
    sim.run(until=1.0)
    sim.crash(next(n for n in sim.names if getattr(sim.nodes[n], "role", None) == "leader"))
    sim.run(until=2.0)
    return raft_timeline(sim.trace, title="roles")


def lincheck_history():
    from distlib.check import Register, check_linearizable
    from distlib.labs.lab04_storage import failover_run
    from distlib.views.lincheck import timeline

    run = failover_run(seed=0, failover="naive", sync=False)
    verdict = check_linearizable(run.history, Register())
    return timeline(run.history, verdict, until=0.45, title="history")


def figure8_logs():
    from distlib.labs.lab07_raft import draw_logs, figure8_panels, replay
    from distlib.testing.broken import BrokenCommitRaft

    return draw_logs(
        figure8_panels(replay("figure8_scripted", BrokenCommitRaft, seed=1)), title="logs"
    )


@pytest.mark.parametrize("draw", [raft_roles, lincheck_history, figure8_logs])
def test_other_views_have_titles_and_readable_texts(draw):
    """Role timelines, history timelines and log panels: a title, and no text over another."""
    fig = draw()
    titles = [ax.get_title() for ax in fig.axes] + [
        fig._suptitle.get_text() if fig._suptitle else ""
    ]
    assert any(titles), "every figure has a title"
    found = overlaps(fig)
    assert not found, f"{draw.__name__}: overlapping texts {found[:5]}"


def lab5_blocking():
    from distlib.labs.lab05_transactions import blocking_run, plot_blocking

    return plot_blocking(blocking_run(down_for=1.0), title="blocking")


def lab6_acceptances():
    from distlib.labs.lab06_paxos import acceptance_diagram, promise_scenario

    return acceptance_diagram(promise_scenario(), title="acceptances")


def lab7_split_votes():
    from distlib.protocols.raft import split_vote_probability
    from distlib.views.raft import split_vote_plot

    delays = [0.05 * k for k in range(1, 9)]
    model = [split_vote_probability(5, 0.3, d) for d in delays]
    return split_vote_plot(delays, model, model, timeout=0.3, title="split votes")


@pytest.mark.parametrize("draw", [lab5_blocking, lab6_acceptances, lab7_split_votes])
def test_the_labs_own_plots_have_titles_and_readable_texts(draw):
    """Lab 5's blocking chart, Lab 6's acceptance diagram and Lab 7's split-vote plot: a
    title, and no text over another."""
    fig = draw()
    assert any([ax.get_title() for ax in fig.axes] + [fig.get_suptitle()]), "a title"
    found = overlaps(fig)
    assert not found, f"{draw.__name__}: overlapping texts {found[:5]}"
