"""Tests for distlib.labs.lab08_resilience: detectors across networks, fail-over, queue tails."""

from __future__ import annotations

import math
from itertools import pairwise

import matplotlib
import pytest

from distlib import Constant
from distlib.labs.lab08_resilience import (
    NETWORKS,
    FailoverClient,
    FailoverReplica,
    NetworkCondition,
    Primary,
    Reply,
    Request,
    across_networks,
    adaptation,
    allowed_silences,
    detector_failover_run,
    failover_table,
    heartbeat_arrivals,
    networks_table,
    plot_adaptation,
    plot_failover,
    plot_networks,
    plot_queue_tail,
    queue_tail,
    steady_tradeoff,
    supermarket_tail,
)
from distlib.protocols.detectors import FixedTimeout, Heartbeat, PhiAccrual, elapsed_for_phi

matplotlib.use("Agg")

TIGHT = {"timeout 2.2 s": lambda: FixedTimeout(2.2)}
PHI = {"phi 3 + 1 s": lambda: PhiAccrual(3, expected_interval=1.0, margin=1.0)}
CALM = NetworkCondition("calm", Constant(0.01), 0.0)


def test_a_fixed_timeout_tuned_for_a_lan_fails_on_a_congested_path():
    """Chen et al. 2002 mistake rate: one timeout setting errs far more on a slower network."""
    rows = across_networks({**TIGHT, **PHI}, ["LAN", "congested"], duration=300, trials=2)
    rate = {(r.network, r.detector): r.quality.false_per_hour for r in rows}
    assert rate["congested", "timeout 2.2 s"] > 10 * max(1.0, rate["LAN", "timeout 2.2 s"]), rate
    assert rate["congested", "phi 3 + 1 s"] < rate["congested", "timeout 2.2 s"] / 5, rate
    detection = {(r.network, r.detector): r.quality.mean_detection for r in rows}
    assert detection["congested", "phi 3 + 1 s"] > detection["LAN", "phi 3 + 1 s"], (
        f"φ should wait longer on the congested path: {detection}"
    )


def test_networks_table_lists_every_pair():
    """The table has a line per (network, detector) measured."""
    rows = across_networks(TIGHT, [CALM, "LAN"], duration=60, trials=1)
    text = networks_table(rows)
    assert len(text.splitlines()) == 3 and "calm" in text and "LAN" in text, text


def test_allowed_silences_of_a_fixed_timeout_and_of_phi():
    """A timeout tolerates its timeout; φ tolerates mean + σ·z (Hayashibara et al. 2004 §IV)."""
    arrivals = [float(t) for t in range(10)]
    fixed = allowed_silences(FixedTimeout(2.5), arrivals)
    assert [a for _, a in fixed] == [2.5] * 9 and [t for t, _ in fixed] == arrivals[1:]
    phi = allowed_silences(PhiAccrual(8, min_std=0.1), arrivals)
    assert [a for _, a in phi[:2]] == [math.inf, math.inf], "too little data: nothing tolerated"
    assert phi[-1][1] == pytest.approx(elapsed_for_phi(8, 1.0, 0.1)), phi[-1]


def test_heartbeat_arrivals_are_seeded_and_follow_the_period():
    """Arrivals increase, number about one per period, and repeat for the same seed."""
    a = heartbeat_arrivals(before="LAN", after="WAN", change_at=50, duration=100, seed=3)
    assert a == heartbeat_arrivals(before="LAN", after="WAN", change_at=50, duration=100, seed=3)
    assert all(x < y for x, y in pairwise(a)), "arrivals must increase"
    assert 95 <= len(a) <= 100, f"about 100 heartbeats in 100 s at 1% loss, got {len(a)}"


def test_phi_adapts_to_a_network_change_and_a_timeout_does_not():
    """After the change φ tolerates longer silences and errs less than the LAN-tuned timeout."""
    arrivals = heartbeat_arrivals(change_at=300, duration=900, seed=0)
    by = {r.detector: r for r in adaptation({**TIGHT, **PHI}, arrivals, change_at=300)}
    phi, fixed = by["phi 3 + 1 s"], by["timeout 2.2 s"]
    assert phi.tolerated_after > phi.tolerated_before + 0.5, (
        phi.tolerated_before,
        phi.tolerated_after,
    )
    assert fixed.tolerated_after == pytest.approx(fixed.tolerated_before) == pytest.approx(2.2)
    assert fixed.false_after > phi.false_after + 5, (fixed.false_after, phi.false_after)


def test_failover_on_a_calm_network_has_one_outage_and_no_false_takeover():
    """The backup takes over about one timeout after the crash; no mistakes before it."""
    run = detector_failover_run(
        lambda: FixedTimeout(2.0), network=CALM, crash_at=60, after=10, seed=1
    )
    assert run.false_takeovers == 0 and run.two_primaries == 0
    # The last heartbeat arrived at most one period before the crash.
    assert 1.0 <= run.outage <= 2.0 + 3 * 0.01 + 0.1, f"outage {run.outage}"
    client = run.sim.node("client")
    assert client.primary == "b", "the client must have been told about the new primary"
    assert run.answered < run.requests, "requests sent to the dead primary go unanswered"


def test_false_takeovers_create_two_primaries_until_handed_back():
    """A too-short timeout on a congested path makes the backup take over from a live primary."""
    run = detector_failover_run(
        lambda: FixedTimeout(1.2), network="congested", crash_at=300, after=10, trace=True
    )
    assert run.false_takeovers > 0 and run.two_primaries > 0, run
    assert run.false_per_hour == pytest.approx(run.false_takeovers * 12)
    notes = [text for _, _, text, _ in run.sim.trace.notes()]
    assert notes.count("takeover") == run.false_takeovers + 1, "one takeover per suspicion"
    assert notes.count("hand back") == run.false_takeovers, "each false takeover is undone"


def test_replica_serves_only_while_primary():
    """A backup ignores requests; it answers them once it suspects the primary."""
    b = FailoverReplica(primary=False, partner="p", detector=lambda: FixedTimeout(1.0))
    b.attach(id="b", peers=("p", "client"))
    b.on_start()
    b.take_actions()
    b.on_message("p", Heartbeat(1))
    b.on_message("client", Request(1))
    assert not any(getattr(a, "msg", None) == Reply(1, "b") for a in b.take_actions())
    b.on_timer("suspect:p")
    sent = [a.msg for a in b.take_actions() if hasattr(a, "msg")]
    assert Primary("b") in sent, f"a takeover must be announced to clients: {sent}"
    b.on_message("client", Request(2))
    assert [a.msg for a in b.take_actions() if hasattr(a, "msg")] == [Reply(2, "b")]


def test_client_follows_the_announced_primary():
    """FailoverClient sends to whichever server was last announced as primary."""
    c = FailoverClient(primary="p", every=0.5).attach(id="client", peers=("p", "b"))
    c.on_message("b", Primary("b"))
    c.on_timer("request")
    assert [(a.dst, a.msg) for a in c.take_actions() if hasattr(a, "msg")] == [("b", Request(1))]


def test_failover_table_has_a_row_per_detector():
    """failover_table runs every setting and reports outage and mistakes."""
    text = failover_table({**TIGHT, **PHI}, network=CALM, crash_at=30, after=8, trials=1)
    assert len(text.splitlines()) == 3 and "outage" in text, text


def test_supermarket_tail_formula():
    """Mitzenmacher 2001: s_i = λ^i for d = 1 and λ^(2^i - 1) for d = 2."""
    assert supermarket_tail(0.9, 3, 1) == pytest.approx(0.9**3)
    assert supermarket_tail(0.9, 3, 2) == pytest.approx(0.9**7)
    assert supermarket_tail(0.5, 2, 3) == pytest.approx(0.5**4)
    assert supermarket_tail(0.7, 0, 2) == 1.0
    with pytest.raises(ValueError, match="load"):
        supermarket_tail(1.0, 2)


def test_two_choices_shorten_the_queue_tail():
    """Measured s_i starts at 1, never increases, and falls far faster with two choices."""
    rand = queue_tail("random", load=0.9, servers=20, requests=4000, max_i=6, seed=2)
    p2c = queue_tail("p2c", load=0.9, servers=20, requests=4000, max_i=6, seed=2)
    for tail in (rand, p2c):
        assert tail[0] == 1.0 and all(a >= b for a, b in pairwise(tail)), tail
    assert p2c[5] < rand[5] / 5, f"s_5: two choices {p2c[5]:.4f}, random {rand[5]:.4f}"


def test_steady_tradeoff_labels_three_families():
    """steady_tradeoff returns φ (paper), φ with margin and timeouts, labelled apart."""
    curves = steady_tradeoff((2, 8), (2, 3), duration=60, trials=1)
    assert [q.kind for q in curves].count("timeout") == 2
    assert len({q.kind for q in curves}) == 3 and len({q.label for q in curves}) == 6


def test_plots_draw_what_they_are_given():
    """Each plot returns a figure with the expected number of series."""
    rows = across_networks({**TIGHT, **PHI}, [CALM], duration=30, trials=1)
    fig = plot_networks(rows)
    assert len(fig.axes[0].containers) == 2
    arrivals = heartbeat_arrivals(change_at=50, duration=120, seed=1)
    results = adaptation({**TIGHT, **PHI}, arrivals, change_at=50)
    fig = plot_adaptation(results, arrivals, change_at=50)
    assert len(fig.axes[0].get_legend().get_texts()) == 3
    run = detector_failover_run(lambda: FixedTimeout(2.0), network=CALM, crash_at=20, after=5)
    assert plot_failover(run).axes[0].get_title() == "Fail-over seen by the client"
    fig = plot_queue_tail({"random": [1.0, 0.5, 0.2]}, load=0.5, theory={"random": 1})
    assert len(fig.axes[0].lines) == 2
    matplotlib.pyplot.close("all")


def test_bad_arguments_are_refused():
    """Unknown networks, empty detector sets and impossible change times say what is wrong."""
    with pytest.raises(ValueError, match="unknown network"):
        across_networks(TIGHT, ["moon"])
    with pytest.raises(TypeError, match="dict"):
        across_networks({}, ["LAN"])
    with pytest.raises(ValueError, match="change_at"):
        heartbeat_arrivals(change_at=500, duration=100)
    with pytest.raises(TypeError, match="Detector"):
        allowed_silences("timeout", [1.0, 2.0])
    with pytest.raises(TypeError, match="factory"):
        detector_failover_run(FixedTimeout(2.0))
    assert set(NETWORKS) == {"LAN", "WAN", "congested"}
