"""Tests for distlib.check.linearizability: verdicts, orders, explanations and budgets.

The external test set is tests/data/linearizability, kept in the repository (Porcupine's and
Knossos's histories with the verdicts their own test suites assert); every history in it is
checked here.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
from conftest import linearizability_data
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from distlib.check import linearizability
from distlib.check.formats import load
from distlib.check.linearizability import (
    LINEARIZABLE,
    NOT_LINEARIZABLE,
    NOT_SEQUENTIALLY_CONSISTENT,
    SEQUENTIALLY_CONSISTENT,
    UNKNOWN,
    CheckResult,
    check_linearizable,
    check_sequential,
)
from distlib.check.models import CasRegister, KeyValue, Model, Register
from distlib.history import History, Operation


def _data_root() -> Path:
    return linearizability_data()


def _porcupine_cases() -> list[tuple[str, str, bool]]:
    root = _data_root() / "porcupine"
    with open(root / "verdicts.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        fmt = "jepsen-etcd" if row["file"].startswith("jepsen/") else "porcupine-kv"
        out.append((row["file"], fmt, row["linearizable"] == "true"))
    return out


def _knossos_cases() -> list[tuple[str, str, bool]]:
    root = _data_root() / "knossos"
    out = []
    for line in (root / "verdicts.csv").read_text().splitlines()[1:]:
        # The model column may itself hold a comma: the file is first, the verdict last.
        name, verdict = line.split(",")[0], line.split(",")[-1]
        out.append((name, "knossos-edn", verdict == "true"))
    return out


def _history(*rows: tuple) -> History:
    """Rows (client, f, input, call, ret, output[, status]) as a History."""
    ops = []
    for i, row in enumerate(rows):
        client, f, input, call, ret, output, *rest = row
        status = rest[0] if rest else ("ok" if ret is not None else "unknown")
        ops.append(Operation(i, client, f, input, call, ret, output, status))
    return History(ops)


def _assert_legal_order(history: History, model: Model, result: CheckResult) -> None:
    """The returned order must respect real time and replay on the model."""
    order = result.order
    assert order is not None, "a legal result must carry an order"
    done = {o.id for o in history if o.status == "ok"}
    assert done <= {o.id for o in order}, "every completed operation must be in the order"
    state = model.init()
    for op in order:
        ok, state = model.step(state, op)
        assert ok, f"the order replays illegally at {op}"
    # No operation may come after one that started after it returned.
    soonest = float("inf")  # the earliest return among the operations after position i
    for i in range(len(order) - 1, -1, -1):
        op = order[i]
        assert soonest >= op.call, f"{op} is placed after an operation that returned before it"
        soonest = min(soonest, op.end)


# ---------------------------------------------------------------------------------------------
# The external test set


def test_external_data_is_complete():
    """tests/data/linearizability holds the 108 Porcupine and 121 Knossos histories."""
    assert len(_porcupine_cases()) == 108, "porcupine/verdicts.csv should list 108 histories"
    assert len(_knossos_cases()) == 121, "knossos/verdicts.csv should list 121 histories"


@pytest.mark.parametrize(("name", "fmt", "legal"), _porcupine_cases(), ids=lambda x: str(x))
def test_porcupine_verdicts(name, fmt, legal):
    """Each Porcupine history gets the verdict Porcupine's tests assert."""
    loaded = load(_data_root() / "porcupine" / name, fmt)
    result = check_linearizable(loaded.history, loaded.model, max_steps=5_000_000)
    want = LINEARIZABLE if legal else NOT_LINEARIZABLE
    assert result.verdict == want, f"{name}: expected {want}, got {result.verdict}"
    if legal:
        _assert_legal_order(loaded.history, loaded.model, result)


@pytest.mark.parametrize(("name", "fmt", "legal"), _knossos_cases(), ids=lambda x: str(x))
def test_knossos_verdicts(name, fmt, legal):
    """Each Knossos history gets the verdict of the folder it sits in."""
    loaded = load(_data_root() / "knossos" / name, fmt)
    result = check_linearizable(loaded.history, loaded.model, max_steps=5_000_000)
    want = LINEARIZABLE if legal else NOT_LINEARIZABLE
    assert result.verdict == want, f"{name}: expected {want}, got {result.verdict}"
    if legal:
        _assert_legal_order(loaded.history, loaded.model, result)


def test_empty_etcd_log_is_linearizable():
    """The one empty etcd log (no verdict in the csv) is an empty, trivially legal history."""
    loaded = load(_data_root() / "porcupine" / "jepsen" / "etcd_095.log", "jepsen-etcd")
    assert len(loaded.history) == 0
    assert check_linearizable(loaded.history, loaded.model).verdict == LINEARIZABLE


# ---------------------------------------------------------------------------------------------
# Small histories with known answers


def test_sequential_history_is_linearizable():
    """Operations one after another, each read seeing the last write, are linearizable."""
    h = _history(
        ("a", "write", 1, 0, 1, None),
        ("b", "read", None, 2, 3, 1),
        ("a", "write", 2, 4, 5, None),
        ("b", "read", None, 6, 7, 2),
    )
    result = check_linearizable(h, Register())
    assert result.verdict == LINEARIZABLE and result.ok and result.decided
    assert [op.id for op in result.order] == [0, 1, 2, 3]


def test_stale_read_is_not_linearizable():
    """A read that starts after a write returned and still sees the old value is illegal."""
    h = _history(
        ("a", "write", 1, 0, 1, None),
        ("b", "read", None, 2, 3, None),
    )
    result = check_linearizable(h, Register())
    assert result.verdict == NOT_LINEARIZABLE and not result.ok
    assert result.culprit is h[1], f"the stale read should be named, not {result.culprit}"


def test_concurrent_read_may_see_either_value():
    """A read overlapping a write may return the old or the new value."""
    for seen in (None, 1):
        h = _history(("a", "write", 1, 0, 10, None), ("b", "read", None, 2, 3, seen))
        assert check_linearizable(h, Register()).ok, f"a read of {seen!r} should be legal"
    h = _history(("a", "write", 1, 0, 10, None), ("b", "read", None, 2, 3, 7))
    assert not check_linearizable(h, Register()).ok, "a read of a value never written is illegal"


def test_reads_cannot_flip_back():
    """Once a read saw the new value, a later read cannot see the old one (Herlihy & Wing)."""
    h = _history(
        ("a", "write", 1, 0, 10, None),
        ("b", "read", None, 1, 2, 1),
        ("c", "read", None, 3, 4, None),
    )
    assert check_linearizable(h, Register()).verdict == NOT_LINEARIZABLE


def test_unknown_write_may_take_effect_late_or_never():
    """An operation of unknown outcome may take effect any time after its call, or never."""
    late = _history(
        ("a", "write", 1, 0, None, None),
        ("b", "read", None, 5, 6, None),
        ("b", "read", None, 7, 8, 1),
    )
    result = check_linearizable(late, Register())
    assert result.ok, "the unknown write can take effect between the two reads"
    never = _history(("a", "write", 1, 0, None, None), ("b", "read", None, 5, 6, None))
    result = check_linearizable(never, Register())
    assert result.ok, "the unknown write may never have happened"
    assert [op.id for op in result.order] == [1], "it is left out of the order"
    before = _history(("b", "read", None, 0, 1, 1), ("a", "write", 1, 2, None, None))
    assert not check_linearizable(before, Register()).ok, "it cannot act before its call"


def test_failed_operations_are_ignored():
    """An operation with status "fail" did not take effect."""
    h = _history(
        ("a", "write", 1, 0, 1, None, "fail"),
        ("b", "read", None, 2, 3, None),
    )
    assert check_linearizable(h, Register()).ok
    h = _history(
        ("a", "write", 1, 0, 1, None, "fail"),
        ("b", "read", None, 2, 3, 1),
    )
    assert not check_linearizable(h, Register()).ok


def test_compare_and_set_answers_are_observations():
    """A cas answering False met another value; one answering True met the expected one."""
    ok_then_fail = _history(
        ("a", "write", 0, 0, 1, None),
        ("a", "cas", (0, 5), 2, 3, True),
        ("b", "cas", (0, 6), 4, 5, False),
        ("b", "read", None, 6, 7, 5),
    )
    assert check_linearizable(ok_then_fail, CasRegister()).ok
    wrong = _history(
        ("a", "write", 0, 0, 1, None),
        ("b", "cas", (0, 6), 2, 3, False),
    )
    assert not check_linearizable(wrong, CasRegister()).ok, "the register did hold 0"


def test_touching_intervals_are_concurrent():
    """An operation invoked at the instant another returns may be ordered before it."""
    h = _history(("a", "write", 1, 0, 5, None), ("b", "read", None, 5, 6, None))
    assert check_linearizable(h, Register()).ok


def test_keys_are_checked_separately():
    """A key-value history is split by key, and the failure names the key."""
    h = _history(
        ("a", "put", ("x", "1"), 0, 1, None),
        ("b", "put", ("y", "2"), 0, 1, None),
        ("c", "get", "x", 2, 3, "1"),
        ("c", "get", "y", 4, 5, "3"),
    )
    result = check_linearizable(h, KeyValue())
    assert result.verdict == NOT_LINEARIZABLE
    assert result.partitions == 2 and result.partition == "y"
    assert "'y'" in result.explanation
    whole = check_linearizable(h, KeyValue(), partition=False)
    assert whole.verdict == NOT_LINEARIZABLE and whole.partitions == 1


def test_merged_order_of_parts_is_legal():
    """The orders of separately checked keys merge into one legal order of the whole history."""
    h = _history(
        ("a", "put", ("x", "1"), 0, 4, None),
        ("b", "append", ("y", "2"), 1, 2, None),
        ("c", "get", "y", 3, 5, "2"),
        ("a", "get", "x", 5, 6, "1"),
        ("b", "append", ("x", "3"), 6, 9, None),
        ("c", "get", "x", 7, 8, "13"),
    )
    result = check_linearizable(h, KeyValue())
    assert result.ok and result.partitions == 2
    _assert_legal_order(h, KeyValue(), result)


def test_student_model_works_with_the_checker():
    """A model written as the models module documents (a counter) can be checked against."""

    class Counter(Model):
        name = "counter"

        def init(self):
            return 0

        def step(self, state, op):
            if op.f == "inc":
                return True, state + 1
            return op.status == "unknown" or op.output == state, state

    h = _history(
        ("a", "inc", None, 0, 3, None),
        ("b", "inc", None, 1, 2, None),
        ("c", "get", None, 4, 5, 2),
    )
    assert check_linearizable(h, Counter()).ok
    h.ops[2].output = 1
    result = check_linearizable(h, Counter())
    assert result.verdict == NOT_LINEARIZABLE and "counter" in result.explanation


def test_bare_class_with_init_and_step_is_enough():
    """A model needs only init and step; explanations then use its class name."""

    class Flag:
        def init(self):
            return False

        def step(self, state, op):
            if op.f == "set":
                return True, True
            return op.output == state, state

    h = _history(("a", "set", None, 0, 1, None), ("b", "get", None, 2, 3, False))
    result = check_linearizable(h, Flag())
    assert result.verdict == NOT_LINEARIZABLE
    assert "Flag model" in result.explanation and "the state is True" in result.explanation
    assert check_sequential(h, Flag()).ok


# ---------------------------------------------------------------------------------------------
# Sequential consistency


def test_stale_read_is_sequentially_consistent():
    """The classic gap: a stale read breaks real time but not per-client order (Lamport 1979)."""
    h = _history(
        ("a", "write", 1, 0, 1, None),
        ("b", "read", None, 2, 3, None),
    )
    assert check_linearizable(h, Register()).verdict == NOT_LINEARIZABLE
    result = check_sequential(h, Register())
    assert result.verdict == SEQUENTIALLY_CONSISTENT and result.ok
    assert [op.id for op in result.order] == [1, 0], "b's read goes before a's write"
    assert result.criterion == "sequential consistency"


def test_crossed_reads_are_not_sequentially_consistent():
    """Each client reading the other's write before its own cannot be put in one order."""
    h = _history(
        ("a", "write", 1, 0, 1, None),
        ("a", "read", None, 2, 3, 2),
        ("b", "write", 2, 0, 1, None),
        ("b", "read", None, 2, 3, 1),
    )
    result = check_sequential(h, Register())
    assert result.verdict == NOT_SEQUENTIALLY_CONSISTENT and not result.ok
    assert result.culprit is not None and result.culprit.f == "read"
    assert "client" in result.explanation


def test_sequential_keeps_client_order():
    """A client's own later write cannot be ordered before its earlier read."""
    h = _history(
        ("a", "read", None, 0, 1, 1),
        ("a", "write", 1, 2, 3, None),
    )
    assert check_sequential(h, Register()).verdict == NOT_SEQUENTIALLY_CONSISTENT


def test_linearizable_implies_sequentially_consistent_on_external_histories():
    """Every linearizable etcd history is also sequentially consistent."""
    root = _data_root() / "porcupine" / "jepsen"
    for name in ("etcd_002.log", "etcd_005.log", "etcd_018.log"):
        loaded = load(root / name, "jepsen-etcd")
        result = check_sequential(loaded.history, loaded.model)
        assert result.ok, f"{name} is linearizable, so it must be sequentially consistent"


# ---------------------------------------------------------------------------------------------
# Budgets and explanations


def test_tiny_budget_answers_unknown():
    """A step budget too small to decide gives "unknown", not a guess."""
    loaded = load(_data_root() / "porcupine" / "jepsen" / "etcd_002.log", "jepsen-etcd")
    result = check_linearizable(loaded.history, loaded.model, max_steps=10)
    assert result.verdict == UNKNOWN and not result.decided and not result.ok
    assert result.steps <= 200, f"the search should stop near its budget, used {result.steps}"
    assert "unknown" in result.explanation
    assert check_sequential(loaded.history, loaded.model, max_steps=5).verdict == UNKNOWN


def test_zero_budget_and_bad_budgets():
    """A zero budget decides nothing; negative budgets and timeouts are refused."""
    h = _history(("a", "write", 1, 0, 1, None))
    assert check_linearizable(h, Register(), max_steps=0).verdict == UNKNOWN
    with pytest.raises(ValueError, match="max_steps"):
        check_linearizable(h, Register(), max_steps=-1)
    with pytest.raises(ValueError, match="timeout"):
        check_linearizable(h, Register(), timeout=0)


def test_timeout_answers_unknown_on_a_hard_history():
    """A wall-clock timeout stops a search that would take long, with verdict unknown."""
    loaded = load(_data_root() / "porcupine" / "kv" / "c50-bad.txt", "porcupine-kv")
    hard = [op for op in loaded.history if KeyValue.key_of(op) == "0"]  # very hard to decide
    result = check_linearizable(hard, loaded.model, timeout=0.05, max_steps=None)
    assert result.verdict == UNKNOWN


def test_explanation_names_prefix_and_culprit():
    """An illegal history's explanation gives the longest legal start and the blocked operation."""
    h = _history(
        ("a", "write", 0, 0, 1, None),
        ("b", "read", None, 2, 4, 3),
        ("c", "write", 4, 3, 5, None),
        ("d", "read", None, 6, 7, 4),
    )
    result = check_linearizable(h, CasRegister(initial=0))
    assert result.verdict == NOT_LINEARIZABLE
    assert [op.id for op in result.prefix] == [0, 2], f"prefix was {result.prefix}"
    assert result.culprit is h[1]
    assert result.state == 4
    text = result.explanation
    assert "not linearizable" in text and "read() -> 3" in text and "holds 4" in text
    assert str(result) == text


def test_result_of_empty_history():
    """An empty history is linearizable with an empty order."""
    result = check_linearizable(History(), Register())
    assert result.ok and result.order == []


def test_bad_inputs_are_refused():
    """Histories that are not operations, and objects that are not models, are refused."""
    with pytest.raises(TypeError, match="Operation"):
        check_linearizable([("a", "read")], Register())
    with pytest.raises(TypeError, match="init"):
        check_linearizable(History(), object())
    op = Operation(0, "a", "read", None, 5.0, 1.0, None, "ok")
    with pytest.raises(ValueError, match="before its call"):
        check_linearizable([op], Register())

    class Listy(Register):
        def init(self):
            return []

    with pytest.raises(TypeError, match="not hashable"):
        check_linearizable(_history(("a", "write", 1, 0, 1, None)), Listy())

    class Listy2(Register):
        def step(self, state, op):
            return True, [op.input]

    with pytest.raises(TypeError, match="not hashable"):
        check_linearizable(_history(("a", "write", 1, 0, 1, None)), Listy2())
    with pytest.raises(ValueError, match="no operation 'delete'"):
        check_linearizable(_history(("a", "delete", 1, 0, 1, None)), Register())


# ---------------------------------------------------------------------------------------------
# A history recorded by a simulation


def test_simulated_register_histories():
    """A single-copy register server is linearizable; one that answers reads from a stale
    cache is caught."""
    from distlib import Simulation, Uniform
    from distlib.client import Workload
    from distlib.node import Node

    class Server(Node):
        def __init__(self, *, stale: bool = False) -> None:
            super().__init__()
            self.value = None
            self.cache = None
            self.stale = stale

        def on_message(self, src, msg):
            op, f, value = msg
            if f == "write":
                self.cache, self.value = self.value, value
                self.send(src, (op, None))
            else:
                self.send(src, (op, self.cache if self.stale else self.value))

    class Clerk(Workload):
        def request(self, op, f, input):
            self.send("server", (op, f, input))

        def on_message(self, src, msg):
            op, output = msg
            if op == self.current:
                self.finish(output)

    verdicts = {}
    for stale in (False, True):
        sim = Simulation(seed=7, latency=Uniform(0.01, 0.2))
        sim.add_node("server", lambda stale=stale: Server(stale=stale))
        sim.add_client("writer", lambda: Clerk([("write", v) for v in range(1, 7)], timeout=5.0))
        sim.add_client("reader", lambda: Clerk([("read", None)] * 6, timeout=5.0, think=1.0))
        sim.run()
        assert len(sim.history) == 12, sim.history.listing()
        verdicts[stale] = check_linearizable(sim.history, Register()).verdict
    assert verdicts[False] == LINEARIZABLE, "a single copy must be linearizable"
    assert verdicts[True] == NOT_LINEARIZABLE, "reads from a stale cache must be caught"


# ---------------------------------------------------------------------------------------------
# Property tests: histories of a correct register are linearizable; a corrupted read is not


@st.composite
def register_runs(draw):
    """A concurrent run against one correct register: (history, expected value per read)."""
    n_clients = draw(st.integers(1, 4))
    n_ops = draw(st.integers(1, 14))
    clock = dict.fromkeys(range(n_clients), 0)
    plans = []
    for _ in range(n_ops):
        c = draw(st.integers(0, n_clients - 1))
        call = clock[c] + draw(st.integers(0, 3))
        length = draw(st.integers(0, 6))
        point = call + draw(st.integers(0, length)) + draw(st.sampled_from([0.25, 0.5]))
        ret = call + length + 1
        clock[c] = ret + 1
        kind = draw(st.sampled_from(["read", "write", "read", "write", "write-unknown"]))
        happens = kind != "write-unknown" or draw(st.booleans())
        plans.append((point, c, kind, draw(st.integers(0, 3)), call, ret, happens))
    # Apply the operations at their points, in order, to one register.
    state = None
    ops = []
    for _point, c, kind, value, call, ret, happens in sorted(plans):
        if kind == "read":
            ops.append(Operation(0, f"c{c}", "read", None, call, ret, state, "ok"))
        elif kind == "write":
            state = value
            ops.append(Operation(0, f"c{c}", "write", value, call, ret, None, "ok"))
        else:
            if happens:
                state = value
            ops.append(Operation(0, f"c{c}", "write", value, call, None, None, "unknown"))
    ops.sort(key=lambda o: o.call)
    return History.from_ops(ops)


@given(register_runs())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_correct_register_histories_are_linearizable(history):
    """Any concurrent history of a correct register is linearizable (by construction)."""
    result = check_linearizable(history, Register())
    assert result.verdict == LINEARIZABLE, f"\n{history.listing()}\n{result.explanation}"
    _assert_legal_order(history, Register(), result)
    assert check_sequential(history, Register()).ok, "linearizable implies sequential"


def _determined_reads(history: History) -> list[tuple[Operation, object]]:
    """Reads whose value is forced by real time: no write overlaps them, and one completed
    write comes after every other write that precedes them."""
    writes = [o for o in history if o.f == "write"]
    out = []
    for r in history:
        if r.f != "read":
            continue
        if any(not w.precedes(r) and not r.precedes(w) for w in writes):
            continue  # some write is concurrent with it (or of unknown outcome and earlier)
        before = [w for w in writes if w.precedes(r)]
        if not before:
            out.append((r, None))
            continue
        last = [w for w in before if all(x is w or x.precedes(w) for x in before)]
        if last:
            out.append((r, last[0].input))
    return out


@given(register_runs(), st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_corrupted_determined_read_is_not_linearizable(history, data):
    """Changing the value of a read that no write overlaps makes the history illegal."""
    candidates = _determined_reads(history)
    assume(candidates)
    read, expected = data.draw(st.sampled_from(candidates))
    assert read.output == expected, "the generator and the analysis disagree"
    read.output = data.draw(st.sampled_from([v for v in (None, 0, 1, 2, 3, 9) if v != expected]))
    result = check_linearizable(history, Register())
    assert result.verdict == NOT_LINEARIZABLE, f"\n{history.listing()}"


# ---------------------------------------------------------------------------------------------
# Agreement with a brute-force search on small random histories


def _brute_force(history: History, model: Model, *, per_client: bool) -> bool:
    """Try every order (no memo, no shortcuts): the definition, slowly."""
    ops = [op for op in history if op.status != "fail"]

    def must_precede(a: Operation, b: Operation) -> bool:
        if a.status != "ok" or a is b:
            return False
        earlier = a.client == b.client and (a.call, a.id) < (b.call, b.id)
        if per_client:
            return earlier
        # Real time; a client's next operation invoked at the instant of its reply follows it.
        return a.ret < b.call or (earlier and a.ret == b.call)

    def search(placed: frozenset, state) -> bool:
        if all(op.status != "ok" or op.id in placed for op in ops):
            return True
        for op in ops:
            if op.id in placed:
                continue
            if any(must_precede(o, op) and o.id not in placed for o in ops):
                continue
            ok, new = model.step(state, op)
            if ok and search(placed | {op.id}, new):
                return True
        return False

    return search(frozenset(), model.init())


@st.composite
def random_cas_histories(draw):
    """Small histories of reads, writes and cas with arbitrary (often wrong) answers."""
    n_clients = draw(st.integers(1, 3))
    clock = dict.fromkeys(range(n_clients), 0)
    ops = []
    for _ in range(draw(st.integers(1, 6))):
        c = draw(st.integers(0, n_clients - 1))
        call = clock[c] + draw(st.integers(0, 2))
        ret = call + draw(st.integers(0, 4))
        clock[c] = ret
        f = draw(st.sampled_from(["read", "write", "cas"]))
        status = draw(st.sampled_from(["ok", "ok", "ok", "unknown", "fail"]))
        value = draw(st.integers(0, 2))
        if f == "read":
            args = (None, draw(st.sampled_from([None, 0, 1, 2])))
        elif f == "write":
            args = (value, None)
        else:
            args = ((value, draw(st.integers(0, 2))), draw(st.booleans()))
        ops.append(
            Operation(
                0,
                f"c{c}",
                f,
                args[0],
                float(call),
                None if status == "unknown" else float(ret),
                args[1] if status == "ok" else None,
                status,
            )
        )
    return History.from_ops(sorted(ops, key=lambda o: o.call))


@given(random_cas_histories())
@settings(max_examples=300, deadline=None)
def test_agrees_with_brute_force(history):
    """On small random histories both checkers give the verdicts of an exhaustive search."""
    model = CasRegister()
    want = _brute_force(history, model, per_client=False)
    got = check_linearizable(history, model)
    assert got.ok == want, f"\n{history.listing()}\nexpected {want}, got {got.verdict}"
    want = _brute_force(history, model, per_client=True)
    got = check_sequential(history, model)
    assert got.ok == want, f"\n{history.listing()}\nsequential: expected {want}, got {got.verdict}"


# ---------------------------------------------------------------------------------------------
# The reachability rule (Model.grows / sets / reaches) prunes; it must never change a verdict.


class _PlainKeyValue(KeyValue):
    """KeyValue whose parts give no reachability rule: the plain search, as before the rule."""

    def for_part(self, key):
        part = KeyValue.for_part(self, key)
        part.reaches = Model.reaches.__get__(part)  # the default: no rule
        return part


class _PlainCasRegister(CasRegister):
    """CasRegister without its reachability rule."""

    reaches = Model.reaches


@st.composite
def random_key_histories(draw):
    """Small histories of get, put and append on one or two keys, answers often wrong."""
    n_clients = draw(st.integers(1, 3))
    clock = dict.fromkeys(range(n_clients), 0)
    ops = []
    for i in range(draw(st.integers(1, 7))):
        c = draw(st.integers(0, n_clients - 1))
        call = clock[c] + draw(st.integers(0, 2))
        ret = call + draw(st.integers(0, 4))
        clock[c] = ret
        key = draw(st.sampled_from("ab"))
        f = draw(st.sampled_from(["get", "get", "put", "append"]))
        status = draw(st.sampled_from(["ok", "ok", "ok", "unknown", "fail"]))
        if f == "get":
            inp, out = key, draw(st.sampled_from(["", "x", "y", "xy", "yx", "xx"]))
        else:
            inp, out = (key, draw(st.sampled_from("xy"))), None
        ret_time = None if status == "unknown" else float(ret)
        ops.append(Operation(i, f"c{c}", f, inp, float(call), ret_time, out, status))
    return History.from_ops(sorted(ops, key=lambda o: o.call))


@given(random_key_histories(), random_cas_histories())
@settings(max_examples=300, deadline=None)
def test_reachability_rule_keeps_verdicts(kv, cas):
    """With the rule on from the first step (however small the part), random key-value and
    register histories, linearizable or not, get the verdicts of an exhaustive search."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(linearizability, "_PRUNE_SIZE", -1)
        for history, model in ((kv, KeyValue()), (cas, CasRegister())):
            want = _brute_force(history, model, per_client=False)
            got = check_linearizable(history, model)
            assert got.ok == want, f"\n{history.listing()}\nexpected {want}, got {got.verdict}"


def _generated(clients: int, ops: int, seed: int) -> History:
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from kv_histories import kv_history

    return load_text(kv_history(clients, 3, ops, seed))


def load_text(text: str) -> History:
    from distlib.check.formats import parse_porcupine_kv

    return parse_porcupine_kv("generated.txt", text=text).history


def _corrupt(history: History, seed: int) -> History:
    """The history with one get answering another value that some get saw."""
    import random

    rng = random.Random(seed)
    gets = [op for op in history if op.f == "get" and op.output]
    victim = rng.choice(gets)
    victim.output = rng.choice([g.output for g in gets if g.output != victim.output])
    return history


@pytest.mark.parametrize("seed", range(8))
def test_reachability_rule_keeps_verdicts_on_generated_histories(seed):
    """Generated key-value histories (5 clients, 3 keys, 150 operations), as recorded and with
    one get's answer changed: the checker with the rule gives the plain search's verdict (the
    recorded ones are linearizable)."""
    for corrupt in (False, True):
        history = _generated(5, 150, seed)
        if corrupt:
            history = _corrupt(history, seed)
        fast = check_linearizable(history, KeyValue(), max_steps=None)
        plain = check_linearizable(history, _PlainKeyValue(), max_steps=None)
        assert fast.verdict == plain.verdict, f"seed {seed}, corrupted {corrupt}"
        assert corrupt or fast.verdict == LINEARIZABLE


def test_a_wrong_reachability_rule_would_be_caught():
    """A model whose rule is wrong (it says no value can ever be reached) makes linearizable
    histories illegal, and the comparisons above notice: they are real checks."""

    class Wrong(KeyValue):
        def for_part(self, key):
            part = KeyValue.for_part(self, key)
            part.reaches = lambda state, target: False
            return part

    history = _generated(5, 150, 0)
    assert check_linearizable(history, KeyValue(), max_steps=None).verdict == LINEARIZABLE
    assert check_linearizable(history, Wrong(), max_steps=None).verdict == NOT_LINEARIZABLE


def test_long_histories_and_unknown_outcomes():
    """A long history (3,000 operations of one register, some of unknown outcome left open
    from the start) keeps its verdict and gives a legal order: the narrow placed sets work
    however far the search is from the first operation."""
    h = History()
    h.invoke("z", "write", 99, time=0)  # never returns: may take effect any time, or never
    for i in range(1500):
        w = h.invoke("a", "write", i, time=2 * i)
        h.complete(w, time=2 * i + 1)
        r = h.invoke("b", "read", time=2 * i + 1.5)
        h.complete(r, i, time=2 * i + 1.75)
    result = check_linearizable(h, Register())
    assert result.verdict == LINEARIZABLE
    assert [op.id for op in result.order if op.client != "z"] == list(range(1, 3001))
    h.ops[-1].output = 7  # the last read now sees an old value
    result = check_linearizable(h, Register())
    assert result.verdict == NOT_LINEARIZABLE and result.culprit is h.ops[-1]
    assert check_linearizable(h, _PlainCasRegister()).verdict == NOT_LINEARIZABLE
