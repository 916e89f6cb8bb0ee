"""Tests for distlib.labs.lab02_compute: scripts, word count, granularity, scaled speedup and the
simulated map/reduce sum."""

from __future__ import annotations

import math
import pickle
from collections import Counter

import matplotlib
import psutil
import pytest

from distlib import Constant, Uniform
from distlib.compute import CostModel, Pool, SpeedupReport
from distlib.labs.lab02_compute import (
    ARTICLE_SCRIPT,
    Granularity,
    Part,
    PartialSum,
    ScaledSpeedup,
    ScriptRun,
    SumCoordinator,
    SumWorker,
    article_script,
    calibrate,
    distributed_speedups,
    line_counts,
    measure_granularity,
    measure_scaled_speedup,
    plot_distributed,
    plot_granularity,
    plot_laws,
    predicted_makespan,
    run_script,
    simulate_sum,
    synthetic_corpus,
    traffic,
    words,
)
from distlib.node import Send, SetTimer

matplotlib.use("Agg")


# -- scripts ----------------------------------------------------------------------------------


def test_article_script_is_the_article_text_and_can_drop_its_guard():
    """The default script is the article's; guard=False moves the guarded block to top level."""
    assert article_script() == ARTICLE_SCRIPT
    unguarded = article_script(guard=False)
    assert "__main__" not in unguarded, unguarded
    assert "\npool = Pool(processes=4)\n" in unguarded, "the pool must be created at top level"
    compile(unguarded, "article.py", "exec")
    first = article_script(start_method="spawn").splitlines()[0]
    assert "set_start_method('spawn', force=True)" in first, first
    with pytest.raises(ValueError, match="start_method"):
        article_script(start_method="threads")


def test_the_article_script_runs_and_prints_the_mapped_list():
    """Run as a file under fork, the article's program prints [2, 3, 4, 5, 6] and nothing else."""
    run = run_script(article_script(start_method="fork"), timeout=60)
    assert not run.timed_out and run.returncode == 0, run.summary()
    assert run.stdout.strip() == "[2, 3, 4, 5, 6]", run.stdout
    assert run.stderr == "", run.stderr


def test_dev_mode_reports_the_pool_that_is_never_closed():
    """python -X dev warns that the article's pool is left running."""
    run = run_script(ARTICLE_SCRIPT, dev_mode=True, timeout=60)
    assert any(
        e.startswith("ResourceWarning: unclosed running multiprocessing pool") for e in run.errors
    ), run.stderr


@pytest.mark.slow
def test_an_unguarded_pool_under_spawn_hangs_and_is_killed():
    """Without the __main__ guard, spawn workers fail to bootstrap and the run never ends."""
    run = run_script(article_script(guard=False, start_method="spawn"), timeout=3)
    assert run.timed_out and run.returncode is None, run.summary()
    assert run.errors, "spawned workers should have reported RuntimeErrors on stderr"
    # (the last report may be cut off mid-line by the kill)
    assert all(e.startswith("RuntimeError") for e in run.errors), run.errors
    assert "bootstrapping phase" in run.errors[0], run.errors
    assert "still running after" in run.summary()


def test_a_timed_out_script_leaves_no_process_behind():
    """On timeout the script's whole process group is killed, grandchildren included."""
    src = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    run = run_script(src, timeout=1.0)
    assert run.timed_out, run.summary()
    pid = int(run.stdout.split()[0])
    try:
        process = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    process.wait(timeout=10)  # raises TimeoutExpired if the child survived the kill


def test_script_run_summary_names_each_kind_of_error_once():
    """errors() reads exception lines (multi-line messages too) and warnings from stderr."""
    stderr = (
        "Traceback (most recent call last):\n  File 'x.py'\nRuntimeError: \n"
        "        An attempt was made\n        too early.\n\n"
        "Traceback (most recent call last):\nRuntimeError: \n        An attempt was made\n"
        "        too early.\n"
        "/lib/pool.py:268: ResourceWarning: unclosed pool\n"
        "ValueError: bad\n"
    )
    run = ScriptRun(returncode=1, stdout="out\n", stderr=stderr, timed_out=False, seconds=0.5)
    assert run.errors == [
        "RuntimeError: An attempt was made too early.",
        "RuntimeError: An attempt was made too early.",
        "ResourceWarning: unclosed pool",
        "ValueError: bad",
    ], run.errors
    text = run.summary()
    assert "exit code 1" in text and "2 x RuntimeError: An attempt was made too early." in text
    assert "stderr: (empty)" in str(ScriptRun(0, "", "", False, 0.1))


def test_run_script_rejects_bad_arguments():
    """A non-string source or a negative timeout is a clear error."""
    with pytest.raises(TypeError, match="source"):
        run_script(b"print(1)")
    with pytest.raises(ValueError, match="timeout"):
        run_script("print(1)", timeout=-1)


# -- word count -------------------------------------------------------------------------------


def test_words_lowercases_and_keeps_inner_apostrophes():
    """words() splits on anything but letters, keeps "it's", drops punctuation."""
    assert words("It's the Leader's log, not THE log!") == [
        "it's",
        "the",
        "leader's",
        "log",
        "not",
        "the",
        "log",
    ]
    assert words("'quoted' -- 42 ...") == ["quoted"]
    assert line_counts("a b a, A.") == {"a": 3, "b": 1}


def test_synthetic_corpus_is_seeded_and_zipf_like():
    """Same seed, same text; the most common word is far more common than a rare one."""
    assert synthetic_corpus(50, seed=3) == synthetic_corpus(50, seed=3)
    assert synthetic_corpus(50, seed=3) != synthetic_corpus(50, seed=4)
    text = synthetic_corpus(500, words_per_line=10, seed=0)
    assert len(text) == 500 and all(len(words(line)) == 10 for line in text)
    counts = Counter(w for line in text for w in words(line))
    top = counts.most_common()
    assert top[0][0] == "the" and top[0][1] > 10 * top[-1][1], top[:3] + top[-3:]
    with pytest.raises(ValueError, match="lines"):
        synthetic_corpus(0)


def test_traffic_counts_fewer_bytes_with_a_combiner():
    """Combining per chunk sends one pickled dict per chunk instead of one per line."""

    def merge(a, b):
        out = dict(a)
        for k, v in b.items():
            out[k] = out.get(k, 0) + v
        return out

    text = synthetic_corpus(200, seed=2)
    t = traffic(line_counts, merge, text, chunksize=50)
    assert t.items == 200 and t.chunks == 4, t
    per_line = sum(
        len(pickle.dumps([line_counts(x) for x in text[i : i + 50]], pickle.HIGHEST_PROTOCOL))
        for i in range(0, 200, 50)
    )
    assert t.without_combine == per_line, (t.without_combine, per_line)
    assert t.with_combine < t.without_combine / 5, t
    assert traffic(line_counts, merge, text, chunksize=1).ratio == pytest.approx(1.0, rel=0.2)
    with pytest.raises(ValueError, match="chunksize"):
        traffic(line_counts, merge, text, chunksize=0)


# -- granularity ------------------------------------------------------------------------------


def test_calibrate_recovers_the_costs_of_exact_measurements():
    """Times generated by a CostModel give back its per_chunk and per_task."""
    truth = CostModel(per_item=2e-7, per_task=5e-7, per_chunk=8e-5, workers=2)
    sizes = (1, 3, 16, 100, 999, 2000, 4000)
    g = Granularity(
        n_items=4000,
        workers=2,
        loop_time=4000 * truth.per_item,
        chunksizes=sizes,
        times=tuple(truth.predict(4000, c) for c in sizes),
    )
    fitted = calibrate(g)
    assert fitted.workers == 2 and fitted.per_item == pytest.approx(truth.per_item)
    assert fitted.per_chunk == pytest.approx(truth.per_chunk, rel=1e-6), fitted
    assert fitted.per_task == pytest.approx(truth.per_task, rel=1e-6), fitted


def test_calibrate_never_returns_negative_costs():
    """Times that would fit a negative overhead are clamped to zero."""
    g = Granularity(100, 2, 1e-3, (1, 50, 100), (5e-4, 5e-4, 1e-3))
    fitted = calibrate(g)
    assert fitted.per_chunk >= 0 and fitted.per_task >= 0, fitted
    with pytest.raises(TypeError, match="Granularity"):
        calibrate(SpeedupReport(1.0, (2,), (0.5,)))


def test_measure_granularity_times_every_chunk_size():
    """One time per chunk size, positive, and a table that names each."""

    def inc(x):
        return x + 1

    with Pool("serial", workers=2) as pool:
        g = measure_granularity(inc, range(200), [1, 10, 200], pool=pool, repeat=1)
    assert g.n_items == 200 and g.workers == 2 and g.chunksizes == (1, 10, 200)
    assert len(g.times) == 3 and all(t > 0 for t in g.times) and g.loop_time > 0
    table = g.table()
    assert "200 items, 2 workers" in table and len(table.splitlines()) == 5, table
    plot_granularity(g, calibrate(g))


def test_measure_granularity_rejects_bad_input():
    """A closed pool, no chunk sizes, a zero chunk size or no items are clear errors."""
    pool = Pool("serial")
    with pytest.raises(ValueError, match="chunksizes"):
        measure_granularity(abs, [1], [], pool=pool)
    with pytest.raises(ValueError, match="chunk size"):
        measure_granularity(abs, [1], [0], pool=pool)
    with pytest.raises(ValueError, match="items"):
        measure_granularity(abs, [], [1], pool=pool)
    pool.close()
    with pytest.raises(ValueError, match="closed"):
        measure_granularity(abs, [1], [1], pool=pool)
    with pytest.raises(TypeError, match="Pool"):
        measure_granularity(abs, [1], [1], pool=None)


# -- scaled speedup ---------------------------------------------------------------------------


def test_scaled_speedup_fits_gustafsons_serial_fraction():
    """Gustafson's law S = s + (1 - s) N: exact speedups give back s by least squares."""
    s = 0.2
    workers = (1, 2, 4, 8)
    speedups = [s + (1 - s) * n for n in workers]
    report = ScaledSpeedup(workers, tuple(speedups), tuple(1.0 for _ in workers))
    assert report.speedups == pytest.approx(speedups)
    assert report.serial_fraction == pytest.approx(s)
    assert "Gustafson" in report.table()
    superlinear = ScaledSpeedup((1, 2), (1.0, 3.0), (1.0, 1.0))
    assert superlinear.serial_fraction == 0.0, "a speedup above N clamps s to 0"
    with pytest.raises(ValueError, match="more than one worker"):
        _ = ScaledSpeedup((1,), (1.0,), (1.0,)).serial_fraction
    with pytest.raises(ValueError, match="positive"):
        ScaledSpeedup((1, 2), (1.0, 0.0), (1.0, 1.0))


def test_measure_scaled_speedup_grows_the_job_with_the_workers():
    """N workers map N copies of the items; the serial time grows accordingly."""

    def work(x):
        return sum(i * x for i in range(3000))

    report = measure_scaled_speedup(work, range(20), workers=[1, 2], repeat=1)
    assert report.workers == (1, 2) and len(report.times) == 2
    assert all(t > 0 for t in (*report.serial_times, *report.times))
    strong = SpeedupReport(serial_time=1.0, workers=(1, 2), times=(1.1, 0.6))
    plot_laws(strong, report, up_to=8)
    with pytest.raises(ValueError, match="items_per_worker"):
        measure_scaled_speedup(work, [], workers=2)


# -- the simulated map/reduce sum -------------------------------------------------------------


@pytest.mark.parametrize(("n", "machines"), [(10_000, 1), (10_000, 4), (1003, 7), (5, 8)])
def test_simulated_sum_is_right_and_matches_the_formula(n, machines):
    """The coordinator gets the exact sum, at the time predicted_makespan computes."""
    run = simulate_sum(n, machines, per_item=5e-5, seed=1)
    assert run.total == n * (n - 1) // 2, run.total
    want = predicted_makespan(n, machines, per_item=5e-5)
    assert run.makespan == pytest.approx(want, rel=1e-9), (run.makespan, want)
    assert run.serial_time == pytest.approx(n * 5e-5)
    notes = [text for _, _, text, _ in run.sim.trace.notes()]
    assert notes == ["sum ready"], notes


def test_the_closed_form_holds_for_equal_parts():
    """T = N o + n b + 2L + (n/N) c + 2o when N divides n (no reply waits)."""
    n, machines, c, o, b, latency = 8000, 8, 1e-4, 2e-4, 1e-6, 3e-3
    want = machines * o + n * b + 2 * latency + n / machines * c + 2 * o
    got = predicted_makespan(
        n, machines, per_item=c, per_message=o, per_item_sent=b, latency=latency
    )
    assert got == pytest.approx(want, rel=1e-12), (got, want)


def test_cheap_tasks_never_gain_and_expensive_ones_do():
    """With shipping a number as costly as adding it, no machine count beats one machine."""
    counts = [1, 2, 4, 8, 16, 64]
    cheap = distributed_speedups(counts, 10_000, per_item=1e-6)
    assert all(r.speedup < 1 for r in cheap), [round(r.speedup, 2) for r in cheap]
    medium = distributed_speedups([*counts, 512], 10_000, per_item=5e-5)
    speedups = [r.speedup for r in medium]
    assert speedups[-1] < max(speedups) / 2, f"too many machines should cost time: {speedups}"
    expensive = distributed_speedups(counts, 10_000, per_item=1e-3)
    assert expensive[-1].speedup > 0.8 * 64, [r.speedup for r in expensive]
    assert all(r.sim is None for r in expensive), "sweeps keep no traces"
    plot_distributed({"cheap": cheap, "medium": medium}, title="t")


def test_shared_memory_costs_follow_the_ideal_line():
    """With no latency and no shipping, 64 machines give nearly 64 times the speed."""
    (shared,) = distributed_speedups(
        [64], 64_000, per_item=5e-5, per_message=1e-6, per_item_sent=0.0, latency=Constant(0.0)
    )
    assert shared.speedup > 60, shared.speedup


def test_same_seed_same_run_under_random_latency():
    """A simulated run with random latency is reproducible from its seed."""
    a = simulate_sum(1000, 5, per_item=1e-4, latency=Uniform(1e-3, 5e-3), seed=9)
    b = simulate_sum(1000, 5, per_item=1e-4, latency=Uniform(1e-3, 5e-3), seed=9)
    c = simulate_sum(1000, 5, per_item=1e-4, latency=Uniform(1e-3, 5e-3), seed=10)
    assert a.makespan == b.makespan and a.total == c.total
    assert a.makespan != c.makespan, "another seed should draw other delays"


def test_coordinator_and_worker_as_pure_nodes():
    """Without a runtime: parts leave one per_message + size * per_item_sent apart; a worker
    answers after its computing time; the last partial sum sets the done timer."""
    coord = SumCoordinator(range(10), ["w1", "w2", "w3"], per_message=1.0, per_item_sent=0.5)
    coord.attach(id="coord", peers=("w1", "w2", "w3"))
    coord.on_start()
    timers = [a for a in coord.take_actions() if isinstance(a, SetTimer)]
    assert [(t.name, t.delay) for t in timers] == [
        ("send 0", 3.0),
        ("send 1", 5.5),
        ("send 2", 8.0),
    ], timers
    coord.on_timer("send 1")
    (send,) = coord.take_actions()
    assert send == Send("w2", Part(1, (4, 5, 6))), send
    worker = SumWorker(per_item=0.25, per_message=1.0).attach(id="w2", peers=())
    worker.on_message("coord", Part(1, (4, 5, 6)))
    assert worker.take_actions() == [SetTimer("computed", 1.75)]
    worker.on_timer("computed")
    assert worker.take_actions() == [Send("coord", PartialSum(1, 15))]
    for i, total in enumerate((6, 15, 24)):
        coord.on_message(f"w{i + 1}", PartialSum(i, total))
    actions = coord.take_actions()
    assert coord.total == 45 and any(
        isinstance(a, SetTimer) and a.name == "done" for a in actions
    ), actions


def test_simulate_sum_rejects_bad_costs():
    """Zero machines, a negative cost or free additions are clear errors."""
    with pytest.raises(ValueError, match="machines"):
        simulate_sum(10, 0, per_item=1e-3)
    with pytest.raises(ValueError, match="per_message"):
        simulate_sum(10, 2, per_item=1e-3, per_message=-1)
    with pytest.raises(ValueError, match="per_item"):
        simulate_sum(10, 2, per_item=0)
    assert math.isfinite(predicted_makespan(10, 3, per_item=1e-3))
