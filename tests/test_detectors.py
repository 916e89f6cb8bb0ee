"""Tests for distlib.protocols.detectors: φ, the two detectors and the heartbeat node."""

from __future__ import annotations

import itertools
import math

import pytest

from distlib import Constant, Simulation
from distlib.node import Note, Send, SetTimer
from distlib.protocols.detectors import (
    ArrivalWindow,
    FixedTimeout,
    Heartbeat,
    HeartbeatNode,
    PhiAccrual,
    elapsed_for_phi,
    p_later,
    phi,
)

# -- the formula ---------------------------------------------------------------------------


def test_phi_at_the_mean_is_log10_of_two():
    """Hayashibara et al. 2004 §IV: at the mean interval P_later = 1/2, so φ = log10 2."""
    assert phi(1.0, 1.0, 0.2) == pytest.approx(math.log10(2))


def test_phi_counts_orders_of_magnitude():
    """φ = 1 where a later heartbeat has probability 0.1 (1.2816 σ late); φ = 3 where 0.001."""
    assert phi(1.0 + 1.2815516 * 0.2, 1.0, 0.2) == pytest.approx(1.0, abs=1e-6)
    assert phi(1.0 + 3.0902323 * 0.2, 1.0, 0.2) == pytest.approx(3.0, abs=1e-6)
    assert p_later(1.0 + 1.2815516 * 0.2, 1.0, 0.2) == pytest.approx(0.1, abs=1e-7)


def test_phi_rises_as_the_heartbeat_is_late():
    """The longer the silence, the larger φ: strictly increasing in elapsed time."""
    values = [phi(t / 10, 1.0, 0.1) for t in range(0, 30)]
    assert all(a <= b for a, b in itertools.pairwise(values)), f"φ values {values}"
    late = values[5:]  # from half the mean on, float precision shows every step
    assert all(a < b for a, b in itertools.pairwise(late)), f"φ values {late}"
    assert values[0] == 0.0 and values[-1] > 8, f"φ from {values[0]} to {values[-1]}"
    assert phi(10.0, 1.0, 0.1) == math.inf, "φ should be infinite once P_later underflows"


def test_elapsed_for_phi_inverts_phi():
    """elapsed_for_phi(Φ) is the silence after which φ reaches Φ."""
    for threshold in (0.5, 1.0, 3.0, 8.0, 16.0):
        t = elapsed_for_phi(threshold, 1.0, 0.2)
        assert phi(t, 1.0, 0.2) == pytest.approx(threshold, rel=1e-6), f"Φ = {threshold}"


def test_formula_rejects_nonsense():
    """A zero standard deviation, a negative silence or threshold is an error, not a NaN."""
    with pytest.raises(ValueError, match="standard deviation"):
        phi(1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="negative"):
        phi(-1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="threshold"):
        elapsed_for_phi(0.0, 1.0, 0.1)


# -- detector objects ----------------------------------------------------------------------


def test_arrival_window_slides():
    """The window keeps only the newest samples; mean and std are over those."""
    w = ArrivalWindow(3)
    for x in (10.0, 1.0, 2.0, 3.0):
        w.add(x)
    assert len(w) == 3 and w.mean == pytest.approx(2.0)
    assert w.std == pytest.approx(math.sqrt(2 / 3))


def _fed(detector, times):
    for t in times:
        detector.heartbeat(t)
    return detector


def test_phi_detector_level_rises_and_crosses_its_threshold():
    """After regular heartbeats, φ grows with the silence and suspicion starts at threshold."""
    beats = [i + (0.05 if i % 2 else -0.05) for i in range(1, 41)]  # period 1 s, some jitter
    det = _fed(PhiAccrual(8.0), beats)
    last = beats[-1]
    levels = [det.level(last + d) for d in (0.2, 0.6, 1.0, 1.2, 1.4, 2.0)]
    assert all(a < b for a, b in itertools.pairwise(levels)), f"levels {levels}"
    assert not det.suspects(last + 1.0), "on time: should not suspect"
    assert det.suspects(last + 3.0), f"3 s of silence, φ = {det.level(last + 3.0):.1f}"
    assert det.deadline() == pytest.approx(last + elapsed_for_phi(8.0, *det.estimate()))


def test_phi_adapts_to_jitter():
    """The same lateness worries the detector less on a jittery stream than on a steady one."""
    steady = _fed(PhiAccrual(min_std=0.01), [float(i) for i in range(1, 51)])
    t, jittery_times = 0.0, []
    for i in range(50):
        t += 1.0 + (0.4 if i % 2 else -0.4)
        jittery_times.append(t)
    jittery = _fed(PhiAccrual(min_std=0.01), jittery_times)
    late = 1.5
    assert steady.level(50.0 + late) > jittery.level(jittery_times[-1] + late), (
        "a 1.5 s gap should be more suspicious when heartbeats are usually exactly 1 s apart"
    )


def test_phi_detector_floors_the_standard_deviation():
    """Perfectly regular heartbeats give a finite φ thanks to min_std."""
    det = _fed(PhiAccrual(8.0), [float(i) for i in range(20)])
    mean, std = det.estimate()
    assert mean == pytest.approx(1.0) and std == pytest.approx(0.1)
    assert math.isfinite(det.deadline())


def test_phi_detector_waits_for_data_unless_told_the_period():
    """With no samples there is no opinion, unless the expected interval is given."""
    assert PhiAccrual().deadline() is None
    det = _fed(PhiAccrual(expected_interval=1.0), [5.0])
    assert det.deadline() is not None and det.deadline() > 6.0
    assert _fed(PhiAccrual(), [5.0]).deadline() is None


def test_margin_delays_suspicion():
    """A margin is added to the mean: the deadline moves by exactly that much."""
    times = [i + 0.01 * (i % 3) for i in range(30)]
    plain = _fed(PhiAccrual(4.0), times)
    padded = _fed(PhiAccrual(4.0, margin=0.5), times)
    assert padded.deadline() - plain.deadline() == pytest.approx(0.5)


def test_fixed_timeout_suspects_after_the_timeout_and_trusts_again():
    """Silence longer than the timeout means suspicion; a heartbeat resets the clock."""
    det = FixedTimeout(2.0)
    assert not det.suspects(100.0), "no heartbeat yet: not monitoring"
    det.heartbeat(1.0)
    assert not det.suspects(2.9) and det.suspects(3.0)
    det.heartbeat(3.5)
    assert not det.suspects(5.0) and det.deadline() == 5.5


def test_detector_rejects_bad_configuration():
    """Non-positive timeouts, thresholds and windows are refused with a sentence."""
    for bad in (
        lambda: FixedTimeout(0),
        lambda: PhiAccrual(-1),
        lambda: PhiAccrual(window=0),
        lambda: PhiAccrual(margin=-1),
    ):
        with pytest.raises(ValueError):
            bad()
    det = FixedTimeout(1.0)
    det.heartbeat(5.0)
    with pytest.raises(ValueError, match="earlier"):
        det.heartbeat(4.0)


# -- the node, one message at a time -----------------------------------------------------


def test_node_sends_heartbeats_every_period():
    """On start and on each beat timer a numbered heartbeat goes to every peer."""
    n = HeartbeatNode(period=0.5).attach(id="a", peers=("b", "c"))
    n.on_start()
    acts = n.take_actions()
    assert Send("b", Heartbeat(1)) in acts and Send("c", Heartbeat(1)) in acts
    assert SetTimer("beat", 0.5) in acts
    n.on_timer("beat")
    assert Send("b", Heartbeat(2)) in n.take_actions()


def test_node_arms_a_timer_at_the_detector_deadline_and_suspects_when_it_fires():
    """Each heartbeat re-arms suspect:<peer> at the deadline; the timer firing means suspicion."""
    n = HeartbeatNode(detector=lambda: FixedTimeout(2.0), send_to=()).attach(id="q", peers=("p",))
    n.on_start()
    n.take_actions()
    n.context.now = 1.0
    n.on_message("p", Heartbeat(1))
    assert SetTimer("suspect:p", 2.0) in n.take_actions()
    n.context.now = 3.0
    n.on_timer("suspect:p")
    acts = n.take_actions()
    assert n.suspected == {"p"}
    assert any(isinstance(a, Note) and a.text == "suspect" for a in acts), f"no note in {acts}"
    n.context.now = 3.5
    n.on_message("p", Heartbeat(2))
    assert n.suspected == set() and [e[2] for e in n.log] == ["suspect", "trust"]


def test_node_ignores_duplicate_and_stale_heartbeats():
    """A duplicated or overtaken heartbeat does not count as a new sign of life."""
    n = HeartbeatNode(detector=lambda: FixedTimeout(2.0), send_to=()).attach(id="q", peers=("p",))
    n.on_start()
    n.context.now = 1.0
    n.on_message("p", Heartbeat(5))
    n.take_actions()
    n.context.now = 1.5
    n.on_message("p", Heartbeat(5))
    n.on_message("p", Heartbeat(4))
    assert n.take_actions() == [], "stale heartbeats re-armed the timer"
    assert n.detectors["p"].last == 1.0


# -- the node in a simulation -------------------------------------------------------------


def _run(detector, *, crash_at, until, period=1.0, loss=0.0, seed=0):
    sim = Simulation(seed=seed, latency=Constant(0.01), loss=loss, trace=False)
    sim.add_node("p", lambda: HeartbeatNode(period=period, watch=()))
    sim.add_node("q", lambda: HeartbeatNode(period=period, detector=detector, send_to=()))
    if crash_at is not None:
        sim.at(crash_at, sim.crash, "p")
    sim.run(until=until)
    return sim.node("q")


@pytest.mark.parametrize("crash_at", [20.0, 20.3, 20.999, 33.5])
def test_fixed_timeout_detects_a_crash_within_timeout_plus_period(crash_at):
    """A crashed node is suspected no later than timeout + period after the crash."""
    timeout, period = 2.0, 1.0
    q = _run(lambda: FixedTimeout(timeout), crash_at=crash_at, until=crash_at + 10, period=period)
    assert q.suspected == {"p"}, "the crash was never detected"
    detected = q.log[-1][0]
    assert crash_at <= detected <= crash_at + timeout + period, (
        f"crash at {crash_at}, suspected at {detected}: more than timeout + period later"
    )
    assert [what for _, _, what in q.log] == ["suspect"], f"false suspicions before: {q.log}"


def test_phi_detector_detects_a_crash_and_nothing_else_on_a_clean_network():
    """With no loss, φ accrual never suspects the live node and suspects the crashed one."""
    q = _run(lambda: PhiAccrual(8.0, expected_interval=1.0), crash_at=300.4, until=320.0)
    assert [what for _, _, what in q.log] == ["suspect"], f"suspicion log {q.log}"
    assert q.log[0][0] > 300.4, "suspected before the crash"


def test_lossy_network_causes_false_suspicions_with_a_tight_timeout():
    """A timeout barely above the period suspects a live node each time a heartbeat is lost."""
    q = _run(lambda: FixedTimeout(1.05), crash_at=None, until=600.0, loss=0.1, seed=3)
    suspicions = sum(what == "suspect" for _, _, what in q.log)
    assert suspicions > 10, f"only {suspicions} false suspicions with 10% loss"
    assert q.suspected in (set(), {"p"})
