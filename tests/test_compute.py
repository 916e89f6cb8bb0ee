"""Tests of distlib.compute's Pool, map and map_reduce on the serial and process backends.

The Dask backend is tested in test_compute_dask.py, speedup and cost model in
test_compute_speedup.py. Worker functions live at module level (importable by workers) unless a
test is about notebook functions, which are made on the fly and are not importable anywhere.
"""

from __future__ import annotations

import enum
import linecache
import multiprocessing
import operator
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import types
import uuid

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlib import compute

START_METHODS = ("fork", "spawn", "forkserver")


# -- worker functions ----------------------------------------------------------------------


def inc(x):
    return x + 1


def square(x):
    return x * x


def negate(x):
    return -x


def as_list(x):
    return [x]


def slow_inc(x):
    time.sleep(0.05)
    return x + 1


def exit_on_five(x):
    if x == 5:
        os._exit(3)
    return x


def lock_on_two(x):
    return threading.Lock() if x == 2 else x


def reciprocal(x):
    return 1 / x


def my_pid(_x):
    return os.getpid()


def same(x):
    return x


class Colour(enum.IntEnum):
    RED = 1


class FailOn:
    """A picklable function: applies fn, but raises ValueError on one value."""

    def __init__(self, fn, bad):
        self.fn = fn
        self.bad = bad

    def __call__(self, x):
        if x == self.bad:
            raise ValueError(f"refusing {x}")
        return self.fn(x)


class NeedsKeyword(Exception):
    """An exception that cannot be rebuilt from its args (pickle calls cls(*args))."""

    def __init__(self, *, detail):
        super().__init__(f"detail: {detail}")


def raise_needs_keyword(x):
    raise NeedsKeyword(detail=x)


# -- helpers -------------------------------------------------------------------------------


NOTEBOOK_CELL = """\
import math

class Point:
    def __init__(self, x):
        self.x = x

def helper(x):
    return x * x

def square_point(x):
    if x == 13:
        raise ValueError(f"unlucky {x}")
    return Point(helper(x) + math.floor(0.5))

OFFSET = 10
add_offset = lambda x: x + OFFSET
"""


def notebook_cell(source: str, *, as_main: bool) -> dict:
    """Run source the way a notebook cell runs: in __main__, or in a module nobody can import.

    Like IPython, the cell's source is put into linecache under a made-up filename.
    """
    filename = f"<cell-{uuid.uuid4().hex[:8]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    if as_main:
        namespace = {"__name__": "__main__"}
        exec(code, namespace)
        return namespace
    name = f"cell_module_{uuid.uuid4().hex[:8]}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(code, module.__dict__)
    del sys.modules[name]  # like a cell: the functions' module cannot be imported again
    return module.__dict__


def descendants() -> dict[int, str]:
    """Child processes of this test process (recursively), minus multiprocessing's helpers."""
    found = {}
    for child in psutil.Process().children(recursive=True):
        try:
            cmdline = " ".join(child.cmdline())
            if child.status() == psutil.STATUS_ZOMBIE:
                cmdline += " (zombie)"
        except psutil.NoSuchProcess:
            continue
        if "resource_tracker" in cmdline or "forkserver" in cmdline:
            continue  # one per interpreter, started on first use and meant to stay
        found[child.pid] = cmdline
    return found


def outcome(run):
    """What a call did: ("ok", value) or ("error", index, exception type name, item repr)."""
    try:
        return ("ok", run())
    except compute.TaskError as error:
        return ("error", error.index, error.exc_type, error.item)


@pytest.fixture(scope="module")
def pools():
    """Process pools with 2 workers, one per start method, created on first use."""
    made: dict[str, compute.Pool] = {}

    def get(method: str) -> compute.Pool:
        if method not in made:
            made[method] = compute.Pool("process", workers=2, start_method=method)
        return made[method]

    yield get
    for pool in made.values():
        pool.close()


@pytest.fixture(scope="module")
def serial():
    with compute.Pool("serial", workers=2) as pool:
        yield pool


# -- results, order and errors agree across backends ---------------------------------------

functions = st.sampled_from([inc, square, negate])
chunksizes = st.none() | st.integers(min_value=1, max_value=12)
int_lists = st.lists(st.integers(min_value=-1000, max_value=1000), max_size=60)
quick = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@quick
@given(items=int_lists, fn=functions, chunksize=chunksizes)
def test_map_returns_fn_of_each_item_in_input_order(pools, serial, items, fn, chunksize):
    """map returns [fn(x) for x in items] on the serial and process backends, in input order."""
    expected = [fn(x) for x in items]
    for pool in (serial, pools("fork")):
        got = pool.map(fn, items, chunksize=chunksize)
        assert got == expected, f"{pool.backend} map({fn.__name__}) gave {got}, want {expected}"


@quick
@given(data=st.data(), fn=functions, chunksize=chunksizes)
def test_map_reports_the_first_failing_item_on_every_backend(pools, serial, data, fn, chunksize):
    """A function failing on some items raises TaskError for the first one, on every backend."""
    items = data.draw(st.lists(st.integers(-50, 50), min_size=1, max_size=60))
    bad = data.draw(st.sampled_from(items))
    failing = FailOn(fn, bad)
    first = items.index(bad)
    want = ("error", first, "ValueError", repr(bad))
    for pool in (serial, pools("fork")):
        got = outcome(lambda p=pool: p.map(failing, items, chunksize=chunksize))
        assert got == want, f"{pool.backend}: got {got}, expected {want}"


@quick
@given(items=int_lists, fn=functions, chunksize=chunksizes)
def test_map_reduce_folds_in_input_order(pools, serial, items, fn, chunksize):
    """map_reduce with list concatenation returns the mapped items in input order."""
    expected = [fn(x) for x in items]
    for pool in (serial, pools("fork")):
        got = pool.map_reduce(
            lambda x, f=fn: [f(x)], operator.add, items, initial=[], chunksize=chunksize
        )
        assert got == expected, f"{pool.backend}: concatenation gave {got}, want {expected}"


def test_map_reduce_combines_each_chunk_before_the_final_reduce(pools):
    """Only one partial result per chunk reaches the reducer, which folds them in order."""
    seen = []

    def reducer(acc, partial):
        seen.append((acc, partial))
        return acc + partial

    total = pools("fork").map_reduce(square, reducer, range(10), combine=operator.add, chunksize=4)
    assert total == sum(x * x for x in range(10)), f"sum of squares was {total}"
    partials = [0 + 1 + 4 + 9, 16 + 25 + 36 + 49, 64 + 81]
    assert seen == [(partials[0], partials[1]), (partials[0] + partials[1], partials[2])], (
        f"the reducer should see one partial per chunk of 4, in order; it saw {seen}"
    )


def test_map_reduce_counts_words_with_counters(pools):
    """A word count: mapper makes a Counter per line, Counter addition combines and reduces."""
    from collections import Counter

    lines = ["a rose is a rose", "is a rose", "a"] * 5
    counts = pools("fork").map_reduce(
        lambda line: Counter(line.split()), operator.add, lines, chunksize=2
    )
    assert counts == Counter(" ".join(lines).split()), f"word counts were {counts}"


def test_map_reduce_of_no_items_returns_initial_or_says_what_is_missing(serial):
    """Empty input returns initial; without initial it is a ValueError that mentions initial."""
    assert serial.map_reduce(inc, operator.add, [], initial=0) == 0, "empty sum should be initial"
    with pytest.raises(ValueError, match="initial"):
        serial.map_reduce(inc, operator.add, [])


def test_map_reduce_names_a_failing_combiner(pools):
    """An exception in the combiner names the combiner and the item being folded in."""

    def picky_add(a, b):
        if b == 16:
            raise RuntimeError("no sixteen")
        return a + b

    with pytest.raises(compute.TaskError, match="combiner") as info:
        pools("fork").map_reduce(square, operator.add, range(8), combine=picky_add, chunksize=8)
    assert info.value.index == 4 and info.value.role == "combine", (
        f"the failure was at item 4 (4 * 4 == 16) in the combiner, got {info.value.index} in "
        f"{info.value.role}"
    )


@pytest.mark.parametrize("chunksize", [1, 100], ids=["alone", "together"])
def test_results_keep_their_exact_types(pools, chunksize):
    """Results come back with their own types (a bool stays a bool, a bytearray a bytearray)."""
    values = [1, True, None, 2**100, -1.5, 1j, "text", b"raw", bytearray(b"buf"), Colour.RED]
    values += [(1, 2), [3], {"k": 4}]
    got = pools("fork").map(same, values, chunksize=chunksize)
    assert got == values, f"values changed on the way: {got}"
    changed = [(v, g) for v, g in zip(values, got, strict=True) if type(v) is not type(g)]
    assert not changed, f"types changed on the way (sent, received): {changed}"


def test_map_accepts_a_generator(pools):
    """Items may be any iterable: a generator is read once, results keep its order."""
    got = pools("fork").map(inc, (x for x in range(25)))
    assert got == list(range(1, 26)), f"got {got}"


# -- chunking and progress -----------------------------------------------------------------


def test_default_chunking_gives_about_four_chunks_per_worker(pools):
    """By default 1000 items on 2 workers go out in 8 chunks of 125 (progress sees each one)."""
    assert compute.default_chunksize(1000, 2) == 125, "1000 items / (4 chunks x 2 workers)"
    calls = []
    pools("fork").map(inc, range(1000), progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 1000), f"progress should start at (0, 1000), started at {calls[0]}"
    dones = [done for done, _ in calls[1:]]
    assert len(dones) == 8, f"expected 8 chunk updates, got {len(dones)}: {dones}"
    assert sorted(dones) == dones and dones[-1] == 1000, f"progress went {dones}"


def test_explicit_chunksize_sets_the_number_of_chunks(serial):
    """chunksize=300 cuts 1000 items into 4 chunks (300, 300, 300, 100)."""
    calls = []
    serial.map(inc, range(1000), chunksize=300, progress=lambda d, t: calls.append(d))
    assert calls == [0, 300, 600, 900, 1000], f"progress after each chunk was {calls}"


def test_text_progress_writes_to_stdout_and_never_to_stderr(serial, capsys):
    """progress='text' draws a bar on stdout; progress=True off a terminal prints nothing."""
    serial.map(inc, range(100), progress="text")
    out, err = capsys.readouterr()
    assert "100%" in out and "100/100" in out, f"the text bar should end full, stdout was {out!r}"
    assert err == "", f"nothing may reach stderr (graded cells), got {err!r}"
    serial.map(inc, range(100), progress=True)
    out, err = capsys.readouterr()
    assert (out, err) == ("", ""), f"progress=True outside a terminal or notebook printed {out!r}"


def test_widget_progress_outside_a_notebook_keeps_stderr_clean(serial, capsys):
    """progress='widget' works without a notebook frontend and writes nothing to stderr."""
    assert serial.map(inc, range(10), progress="widget") == list(range(1, 11))
    assert capsys.readouterr().err == "", "the widget fallback wrote to stderr"


# -- notebook functions under every start method -------------------------------------------


@pytest.mark.parametrize("as_main", [True, False], ids=["in-__main__", "module-removed"])
@pytest.mark.parametrize("method", START_METHODS)
def test_notebook_functions_run_under_every_start_method(pools, method, as_main):
    """Functions, lambdas and classes defined in a notebook cell work with fork/spawn/forkserver."""
    cell = notebook_cell(NOTEBOOK_CELL, as_main=as_main)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        pickle.dumps(cell["square_point"])  # plain pickle cannot send it: the test means something
    pool = pools(method)
    points = pool.map(cell["square_point"], range(12), chunksize=5)
    assert [p.x for p in points] == [x * x for x in range(12)], "wrong values from the workers"
    assert all(type(p) is cell["Point"] for p in points), (
        "results should be instances of the notebook's own Point class"
    )
    assert pool.map(cell["add_offset"], [1, 2]) == [11, 12], "a lambda using a cell global"


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_notebook_function_errors_show_the_cell_source(pools, method):
    """A notebook function's traceback names the cell and its source line, not <dynamic-code>."""
    cell = notebook_cell(NOTEBOOK_CELL, as_main=True)
    with pytest.raises(compute.TaskError) as info:
        pools(method).map(cell["square_point"], range(20))
    error = info.value
    assert (error.index, error.item, error.exc_type) == (13, "13", "ValueError"), str(error)
    assert "<cell-" in error.traceback and 'raise ValueError(f"unlucky {x}")' in error.traceback, (
        f"the traceback should show the cell's line, got:\n{error.traceback}"
    )
    assert isinstance(error.__cause__, ValueError), "the original exception should be the cause"


# -- error reporting -----------------------------------------------------------------------


def test_task_error_names_index_item_and_original_traceback(pools):
    """A worker's exception comes back as TaskError with index, repr and the traceback text."""
    items = [3, 2, 1, 0, -1]
    with pytest.raises(compute.TaskError) as info:
        pools("spawn").map(reciprocal, items)
    error = info.value
    message = str(error)
    assert "reciprocal()" in message and "item 3" in message, message
    assert "ZeroDivisionError" in message and "return 1 / x" in error.traceback, message
    assert isinstance(error.__cause__, ZeroDivisionError), f"cause was {error.__cause__!r}"


def test_exception_that_cannot_be_rebuilt_is_still_reported(pools):
    """An exception the caller cannot unpickle still gives index, type name and traceback."""
    with pytest.raises(compute.TaskError) as info:
        pools("fork").map(raise_needs_keyword, ["a", "b"])
    error = info.value
    assert (error.index, error.exc_type) == (0, "NeedsKeyword"), str(error)
    assert "detail: a" in str(error), str(error)


def test_unpicklable_result_names_the_item(pools):
    """A result that cannot be sent back raises TaskError naming its item."""
    with pytest.raises(compute.TaskError, match="could not be pickled") as info:
        pools("fork").map(lock_on_two, range(5))
    assert info.value.index == 2, f"item 2 returned the lock, got index {info.value.index}"


def test_unpicklable_function_is_a_clear_type_error(pools):
    """A function that cannot be pickled (it holds a lock) raises TypeError saying so."""
    lock = threading.Lock()
    with pytest.raises(TypeError, match="cannot send"):
        pools("fork").map(lambda x: (lock, x), range(3))


def test_items_a_worker_cannot_import_are_reported(pools):
    """Items of a class the workers cannot import give a TaskError saying they did not arrive."""
    name = f"ghost_{uuid.uuid4().hex[:8]}"
    module = types.ModuleType(name)
    exec("class Ghost:\n    pass\n", module.__dict__)
    sys.modules[name] = module  # importable here (so pickled by reference), nowhere else
    try:
        items = [1, 2, module.Ghost()]
        with pytest.raises(compute.TaskError, match="could not unpickle items 0 to 2") as info:
            pools("spawn").map(inc, items, chunksize=3)
    finally:
        del sys.modules[name]
    assert info.value.role == "receive", f"role was {info.value.role}"


def test_bad_arguments_are_rejected_with_a_sentence():
    """Unknown backends, misplaced options and bad chunk sizes raise ValueError/TypeError."""
    with pytest.raises(ValueError, match="backend"):
        compute.Pool("threads")
    with pytest.raises(ValueError, match="start_method"):
        compute.Pool("serial", start_method="spawn")
    with pytest.raises(ValueError, match="start_method"):
        compute.Pool("process", workers=1, start_method="teleport")
    with pytest.raises(ValueError, match="address"):
        compute.Pool("process", address="tcp://localhost:8786")
    with pytest.raises(ValueError, match="workers"):
        compute.Pool("serial", workers=0)
    with compute.Pool("serial") as pool:
        with pytest.raises(ValueError, match="chunksize"):
            pool.map(inc, [1], chunksize=0)
        with pytest.raises(TypeError, match="fn must be a function"):
            pool.map(3, [1])
        with pytest.raises(ValueError, match="progress"):
            pool.map(inc, [1], progress="loud")
    with pytest.raises(ValueError, match="closed"):
        pool.map(inc, [1])


def test_worker_death_raises_worker_lost_and_the_pool_recovers():
    """A worker killed mid-chunk (os._exit) raises WorkerLost; the next call gets new workers."""
    before = descendants()
    with compute.Pool("process", workers=2, start_method="fork") as pool:
        with pytest.raises(compute.WorkerLost, match="items 4 to 7"):
            pool.map(exit_on_five, range(12), chunksize=4)
        assert pool.map(inc, range(12)) == list(range(1, 13)), "the pool should restart"
    left = set(descendants()) - set(before)
    assert not left, f"processes left behind: {left}"


# -- interrupts and clean shutdown ---------------------------------------------------------


@pytest.mark.parametrize("method", START_METHODS)
def test_sigint_during_map_stops_every_worker(method):
    """SIGINT while a pool runs raises KeyboardInterrupt and leaves no worker process behind."""
    compute.map(inc, [1, 2], workers=1, start_method=method)  # start multiprocessing's helpers
    before = descendants()
    pool = compute.Pool("process", workers=2, start_method=method)
    finished = []
    timers = []

    def interrupt_soon(done, total):
        if done and not timers:  # a chunk is back and the rest still runs: interrupt the wait
            timers.append(threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)))
            timers[0].start()

    try:
        with pytest.raises(KeyboardInterrupt):
            finished.append(pool.map(slow_inc, range(200), chunksize=2, progress=interrupt_soon))
        assert not finished, "the map finished before the interrupt: the test proved nothing"
        left = set(descendants()) - set(before)
        assert not left, f"worker processes survived the interrupt: {left}"
        assert pool.map(inc, [1, 2, 3]) == [2, 3, 4], "the pool should start new workers"
    finally:
        pool.close()
    left = set(descendants()) - set(before)
    assert not left, f"processes left after close(): {left}"


def test_keyboard_interrupt_raised_in_the_caller_stops_every_worker():
    """A KeyboardInterrupt raised in the caller's code during a map (here, in a progress
    callback) propagates and terminates the workers."""
    before = descendants()

    def interrupt(done, total):
        if done:
            raise KeyboardInterrupt

    with compute.Pool("process", workers=2) as pool:
        with pytest.raises(KeyboardInterrupt):
            pool.map(slow_inc, range(100), chunksize=2, progress=interrupt)
        left = set(descendants()) - set(before)
        assert not left, f"workers survived: {left}"


def test_workers_ignore_sigint_sent_to_them(pools):
    """Ctrl-C in a terminal reaches the workers too; they ignore it and the caller decides."""
    pool = pools("fork")
    pool.map(inc, range(4))
    workers = [p for p in multiprocessing.active_children() if p.name == "distlib-compute-worker"]
    assert workers, "expected the pool's worker processes among the active children"

    def poke(done, total):
        if done == 2:
            for p in workers:
                os.kill(p.pid, signal.SIGINT)

    got = pool.map(slow_inc, range(20), chunksize=2, progress=poke)
    assert got == list(range(1, 21)), f"the map should finish despite SIGINT to workers: {got}"


def test_closing_a_pool_leaves_no_processes():
    """A pool used as a context manager stops its workers on exit, under each start method."""
    before = descendants()
    for method in START_METHODS:
        with compute.Pool("process", workers=2, start_method=method) as pool:
            assert pool.map(inc, [1]) == [2]
    left = set(descendants()) - set(before)
    assert not left, f"processes left behind: {left}"


def test_module_level_map_uses_a_fresh_pool_each_time():
    """compute.map starts and stops its own pool: two calls see different worker processes."""
    first = set(compute.map(my_pid, range(4), workers=2, chunksize=1))
    second = set(compute.map(my_pid, range(4), workers=2, chunksize=1))
    assert os.getpid() not in first, "the work should run in worker processes"
    assert not first & second, f"worker pids were reused across calls: {first & second}"


CALLER = """
import multiprocessing, sys, time
from distlib import compute

def same(x):
    return x

if __name__ == "__main__":
    pool = compute.Pool("process", workers=3, start_method=sys.argv[1])
    pool.map(same, range(10))
    names = [p.pid for p in multiprocessing.active_children() if p.name == "distlib-compute-worker"]
    print(*names, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("method", START_METHODS)
def test_workers_exit_when_their_caller_is_killed(method):
    """If the caller dies without cleaning up (SIGKILL), its workers exit instead of lingering."""
    import subprocess

    package = os.path.dirname(os.path.dirname(os.path.abspath(compute.__file__)))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(package))  # the folder holding distlib/
    caller = subprocess.Popen(
        [sys.executable, "-c", CALLER, method], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        pids = [int(pid) for pid in caller.stdout.readline().split()]
    finally:
        caller.kill()
        caller.wait()
    assert len(pids) == 3, f"the caller should have reported 3 worker pids, got {pids}"

    def alive():
        out = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    out.append(pid)
            except psutil.NoSuchProcess:
                pass
        return out

    patience = time.monotonic() + 20  # a liveness bound, generous for a loaded machine
    while alive() and time.monotonic() < patience:
        time.sleep(0.05)
    survivors = alive()
    for pid in survivors:  # do not leave them running if the test fails
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"workers {survivors} outlived their killed caller"


def test_a_second_interrupt_waits_until_workers_are_gone():
    """Ctrl-C during the clean-up is held back, then delivered once the clean-up is over."""
    from distlib.compute._process import _interrupts_deferred

    reached = []
    with pytest.raises(KeyboardInterrupt), _interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # let the signal handler run inside the section
        reached.append("end of the clean-up")
    assert reached, "the interrupt cut the clean-up short"


def test_public_names_are_pinned():
    """distlib.compute exports exactly the documented names (a change here is an API change)."""
    assert sorted(compute.__all__) == [
        "BACKENDS",
        "ChunkRun",
        "CostModel",
        "Pool",
        "START_METHODS",
        "SpeedupReport",
        "TaskError",
        "WorkerLost",
        "amdahl_speedup",
        "default_chunksize",
        "fit_serial_fraction",
        "gustafson_speedup",
        "map",
        "map_reduce",
        "measure_speedup",
        "plot_speedup",
    ], f"compute.__all__ changed: {sorted(compute.__all__)}"
    for name in compute.__all__:
        assert hasattr(compute, name), f"compute.__all__ names {name}, which does not exist"


def test_pool_describes_itself(pools):
    """A pool reports its backend, worker count and start method, and says when it is closed."""
    pool = pools("spawn")
    assert (pool.backend, pool.workers, pool.start_method) == ("process", 2, "spawn")
    assert repr(pool) == "<Pool backend='process' workers=2 start_method='spawn'>", repr(pool)
    with compute.Pool("serial", workers=3) as serial:
        assert (serial.backend, serial.workers, serial.start_method) == ("serial", 3, None)
    assert serial.closed and "closed" in repr(serial), repr(serial)


HELPERS_LEFT = """
import multiprocessing, sys
import psutil
from distlib import compute

if __name__ == "__main__":
    mine = multiprocessing.get_context(sys.argv[1]).Pool(1)  # the program's own helpers
    mine.close()
    mine.join()
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    for method in ("spawn", "forkserver"):
        with compute.Pool("process", workers=2, start_method=method) as pool:
            pool.map(abs, [1, -2])
    now = {c.pid: c for c in psutil.Process().children(recursive=True)}
    left = [c for pid, c in now.items() if pid not in before]
    print(len(before & now.keys()), [" ".join(c.cmdline()) for c in left])
"""


@pytest.mark.parametrize("own", ["fork", "forkserver"])
def test_last_pool_closed_stops_the_helpers_it_started(tmp_path, own):
    """When the last pool closes, multiprocessing's helper processes that the pools started (a
    resource tracker, a fork server) are stopped: a Jupyter kernel would wait seconds for them
    at shutdown, as they ignore SIGTERM. Helpers the program started itself stay."""
    script = tmp_path / "helpers_left.py"
    script.write_text(HELPERS_LEFT)
    out = subprocess.run(
        [sys.executable, str(script), own], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    kept, left = out.stdout.strip().splitlines()[-1].split(" ", 1)
    assert left == "[]", f"helper processes still running after the last pool closed: {left}"
    if own == "forkserver":
        assert kept == "2", "the program's own fork server and resource tracker must survive"
