"""Tests of distlib.compute's Dask backend: a private LocalCluster and a cluster by address.

One 2-worker LocalCluster (worker processes, so functions really travel) serves most tests;
it starts in a few seconds. Test helpers are repeated from test_compute.py on purpose, so this
module stands alone.
"""

from __future__ import annotations

import linecache
import operator
import subprocess
import sys
import uuid

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlib import compute

pytest.importorskip("distributed", reason="the Dask backend needs dask[distributed]")


def inc(x):
    return x + 1


def square(x):
    return x * x


class FailOn:
    """A picklable function: applies fn, but raises ValueError on one value."""

    def __init__(self, fn, bad):
        self.fn = fn
        self.bad = bad

    def __call__(self, x):
        if x == self.bad:
            raise ValueError(f"refusing {x}")
        return self.fn(x)


CELL = """\
class Box:
    def __init__(self, value):
        self.value = value

def boxed_cube(x):
    if x < 0:
        raise ArithmeticError(f"negative {x}")
    return Box(x ** 3)
"""


def notebook_cell(source: str) -> dict:
    """Run source as a notebook cell does: in __main__, with its lines in linecache only."""
    filename = f"<cell-{uuid.uuid4().hex[:8]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def descendants() -> set[int]:
    """Pids of this process's descendants, minus multiprocessing's resource tracker."""
    pids = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                pids.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return pids


@pytest.fixture(scope="module")
def dask_pool():
    with compute.Pool("dask", workers=2) as pool:
        yield pool


@pytest.fixture(scope="module")
def serial():
    with compute.Pool("serial", workers=2) as pool:
        yield pool


few = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@few
@given(
    items=st.lists(st.integers(-1000, 1000), max_size=40),
    fn=st.sampled_from([inc, square]),
    chunksize=st.none() | st.integers(1, 10),
)
def test_dask_map_agrees_with_serial(dask_pool, serial, items, fn, chunksize):
    """map on a Dask LocalCluster returns what the serial backend returns, in the same order."""
    want = serial.map(fn, items, chunksize=chunksize)
    got = dask_pool.map(fn, items, chunksize=chunksize)
    assert got == want, f"dask gave {got}, serial gave {want}"


@few
@given(data=st.data(), chunksize=st.none() | st.integers(1, 10))
def test_dask_reports_the_same_failing_item_as_serial(dask_pool, serial, data, chunksize):
    """A failing item is reported by Dask with the same index and type as by the serial run."""
    items = data.draw(st.lists(st.integers(-20, 20), min_size=1, max_size=40))
    failing = FailOn(square, data.draw(st.sampled_from(items)))
    outcomes = []
    for pool in (serial, dask_pool):
        with pytest.raises(compute.TaskError) as info:
            pool.map(failing, items, chunksize=chunksize)
        outcomes.append((info.value.index, info.value.item, info.value.exc_type))
    assert outcomes[0] == outcomes[1], f"serial reported {outcomes[0]}, dask {outcomes[1]}"


def test_dask_map_reduce_keeps_input_order(dask_pool):
    """map_reduce with concatenation on Dask returns the mapped items in input order."""
    got = dask_pool.map_reduce(lambda x: [x * 2], operator.add, range(30), chunksize=4)
    assert got == [x * 2 for x in range(30)], f"got {got}"


def test_dask_runs_notebook_functions_and_shows_their_source(dask_pool):
    """A notebook-defined function and class work on Dask workers; errors show the cell line."""
    cell = notebook_cell(CELL)
    boxes = dask_pool.map(cell["boxed_cube"], range(6))
    assert [b.value for b in boxes] == [x**3 for x in range(6)], "wrong cubes"
    assert all(type(b) is cell["Box"] for b in boxes), "results should be the cell's Box class"
    with pytest.raises(compute.TaskError) as info:
        dask_pool.map(cell["boxed_cube"], [1, 2, -3, 4])
    assert info.value.index == 2, f"item 2 (-3) failed, got index {info.value.index}"
    assert 'raise ArithmeticError(f"negative {x}")' in info.value.traceback, info.value.traceback


def test_interrupt_in_the_caller_cancels_and_keeps_the_pool_usable(dask_pool):
    """A KeyboardInterrupt in the caller during a Dask map propagates; the pool still works."""

    def interrupt(done, total):
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dask_pool.map(square, range(40), chunksize=2, progress=interrupt)
    assert dask_pool.map(inc, range(5)) == [1, 2, 3, 4, 5], "the pool should still work"


def test_existing_cluster_by_address_is_used_and_left_running():
    """backend='dask' with address= uses that scheduler and does not shut the cluster down."""
    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        with compute.Pool("dask", address=cluster.scheduler_address) as pool:
            assert pool.workers == 2, f"the cluster has 2 worker threads, pool saw {pool.workers}"
            assert pool.address == cluster.scheduler_address, f"wrong address {pool.address}"
            assert pool.map(square, range(10)) == [x * x for x in range(10)]
        with Client(cluster.scheduler_address) as client:  # still there after the pool closed
            assert client.submit(inc, 41).result() == 42, "the cluster should still run tasks"


def test_private_cluster_is_quiet_and_stops_its_processes(capfd):
    """A pool's own LocalCluster writes nothing to stderr and stops its processes on close."""
    before = descendants()
    with compute.Pool("dask", workers=1) as pool:
        assert pool.map(inc, [1, 2]) == [2, 3]
        assert descendants() - before, "a LocalCluster with processes should have started some"
    left = descendants() - before
    assert not left, f"processes left after close(): {left}"
    err = capfd.readouterr().err
    assert err == "", f"graded cells must not write to stderr; the cluster wrote:\n{err}"


LEFT_BEHIND = """
import psutil
from distlib import compute

if __name__ == "__main__":
    with compute.Pool("dask", workers=1) as pool:
        pool.map(abs, [1, -2])
    print([" ".join(c.cmdline()) for c in psutil.Process().children(recursive=True)])
"""


def test_closed_private_cluster_leaves_no_helper_process(tmp_path):
    """After a pool's own LocalCluster closes, the process has no child left, not even
    multiprocessing's resource tracker: a Jupyter kernel would wait seconds for it at shutdown
    (it ignores SIGTERM)."""
    script = tmp_path / "left_behind.py"
    script.write_text(LEFT_BEHIND)
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    left = out.stdout.strip().splitlines()[-1]
    assert left == "[]", f"processes still running after close(): {left}"


BARE_WORKER = """
import pickle, sys

class NoDistlib:
    def find_spec(self, name, path=None, target=None):
        if name == "distlib" or name.startswith("distlib."):
            raise ImportError("distlib is not installed on this worker")

sys.meta_path.insert(0, NoDistlib())
runner_bytes, task = pickle.loads(sys.stdin.buffer.read())
runner = pickle.loads(runner_bytes)
sys.stdout.buffer.write(runner(task))
"""


def test_remote_workers_do_not_need_distlib(dask_pool):
    """The code a Dask task runs is shipped by value: a worker without distlib can run it."""
    import pickle
    import subprocess
    import sys

    from distributed.protocol import pickle as dask_pickle

    from distlib.compute import _worker

    # As with an in-process cluster, this process has run a task with one of this module's
    # functions: nothing of it may travel with the code sent to other workers.
    _worker.run_task(_worker.encode_task("here", _worker.dumps_function(square), "map", 0, [2]))
    runner = dask_pickle.dumps(_worker.run_task)  # what Dask sends for each of our tasks
    fn = _worker.dumps_function(lambda x: x * 10)
    task = _worker.encode_task("t", fn, _worker.MAP, 0, [1, 2, 3])
    done = subprocess.run(
        [sys.executable, "-c", BARE_WORKER],
        input=pickle.dumps((runner, task)),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, f"the bare worker failed:\n{done.stderr.decode()}"
    reply = _worker.decode_reply(done.stdout)
    assert reply == ("ok", [10, 20, 30]), f"the bare worker replied {reply}"
