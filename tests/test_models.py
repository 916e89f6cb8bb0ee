"""Tests for distlib.check.models: the sequential specifications the checkers use."""

from __future__ import annotations

import pytest

from distlib.check.models import CasRegister, KeyValue, Model, MultiRegister, Register
from distlib.history import Operation


def op(f, input=None, output=None, status="ok", client="c"):
    return Operation(0, client, f, input, 0.0, None if status == "unknown" else 1.0, output, status)


def test_register_reads_and_writes():
    """A register read is legal only with the current value; a write replaces it."""
    reg = Register()
    assert reg.init() is None
    assert reg.step(None, op("read", output=None)) == (True, None)
    assert reg.step(None, op("read", output=1))[0] is False
    assert reg.step(None, op("write", 5)) == (True, 5)
    assert reg.step(5, op("read", output=5)) == (True, 5)
    assert Register(initial=0).init() == 0


def test_register_unknown_read_and_wildcard():
    """A read of unknown outcome is always legal; with wildcard_read a read of None is too."""
    reg = Register()
    assert reg.step(3, op("read", status="unknown")) == (True, 3)
    assert reg.step(3, op("read", output=None))[0] is False
    knossos = Register(initial=0, wildcard_read=True)
    assert knossos.step(3, op("read", output=None)) == (True, 3)
    assert knossos.step(3, op("read", output=4))[0] is False


def test_register_rejects_unknown_operations():
    """An operation the model does not know is an error naming the known ones."""
    with pytest.raises(ValueError, match=r"no operation 'cas'.*'read', 'write'"):
        Register().step(None, op("cas", (1, 2), True))


def test_cas_register_semantics():
    """cas True needs the expected value and swaps; cas False needs another value and keeps it."""
    reg = CasRegister(initial=1)
    assert reg.step(1, op("cas", (1, 2), True)) == (True, 2)
    assert reg.step(3, op("cas", (1, 2), True))[0] is False
    assert reg.step(3, op("cas", (1, 2), False)) == (True, 3)
    assert reg.step(1, op("cas", (1, 2), False))[0] is False
    assert reg.step(1, op("cas", (1, 2), status="unknown")) == (True, 2)
    assert reg.step(3, op("cas", (1, 2), status="unknown")) == (True, 3)
    assert reg.step(3, op("write", 4)) == (True, 4)


def test_cas_register_checks_its_input():
    """A cas needs a pair and a True/False answer."""
    with pytest.raises(ValueError, match="expected, new"):
        CasRegister().step(None, op("cas", 5, True))
    with pytest.raises(ValueError, match="True or False"):
        CasRegister().step(None, op("cas", (1, 2), "yes"))


def test_read_only_operations():
    """Only operations that never change the state are declared read-only."""
    reg = CasRegister()
    assert reg.read_only(op("read", output=1))
    assert not reg.read_only(op("write", 1))
    assert reg.read_only(op("cas", (1, 2), False)), "a cas that said no changed nothing"
    assert not reg.read_only(op("cas", (1, 2), True))
    assert not reg.read_only(op("cas", (1, 2), status="unknown")), "it may have swapped"
    assert KeyValue().read_only(op("get", "k", ""))
    assert not KeyValue().read_only(op("append", ("k", "x")))
    assert Model().read_only(op("anything")) is False, "the default is the safe answer"


def test_read_only_is_honest_for_every_model():
    """A read-only operation leaves every state it is legal in unchanged."""
    cases = [
        (CasRegister(), [None, 0, 1, 2], [op("read", output=1), op("cas", (1, 2), False)]),
        (KeyValue(), [(), (("k", "a"),)], [op("get", "k", "a"), op("get", "k", "")]),
        (
            MultiRegister({"x": 0, "y": 0}),
            [(0, 0), (1, 0)],
            [op("txn", (("read", "x", None),), (("read", "x", 1),))],
        ),
    ]
    for model, states, ops in cases:
        for o in ops:
            assert model.read_only(o), f"{model!r}: {o} should be read-only"
            for s in states:
                legal, new = model.step(s, o)
                assert not legal or new == s, f"{model!r}: {o} changed {s!r} to {new!r}"


def test_only_state_names_the_one_legal_state():
    """only_state gives the single state a read-only operation is legal in, or None."""
    reg = Register()
    assert reg.only_state(op("read", output=3)) == (3,)
    assert reg.only_state(op("read", output=None)) == (None,), "an empty register is a state"
    assert Register(wildcard_read=True).only_state(op("read", output=None)) is None
    assert reg.only_state(op("write", 3)) is None
    assert CasRegister().only_state(op("cas", (1, 2), False)) is None, "legal in many states"
    part = KeyValue().for_part("k")
    assert part.only_state(op("get", "k", "ab")) == ("ab",)
    assert Model().only_state(op("read", output=1)) is None
    cases = [
        (Register(), [None, 0, 1, 3], op("read", output=3)),
        (Register(), [None, 0, 1, 3], op("read", output=None)),
        (part, ["", "a", "ab"], op("get", "k", "ab")),
    ]
    for model, states, o in cases:
        (only,) = model.only_state(o)
        for s in states:
            assert model.step(s, o)[0] == (s == only), f"{model!r}: {o} in state {s!r}"


def test_key_value_part_model():
    """A map's part for one key keeps just that key's string as its state."""
    kv = KeyValue({"k": "0", "other": "9"})
    assert kv.for_part("absent").init() == ""
    part = kv.for_part("k")
    assert part.init() == "0"
    assert part.step("0", op("append", ("k", "1"))) == (True, "01")
    assert part.step("01", op("put", ("k", "x"))) == (True, "x")
    assert part.step("x", op("get", "k", "x")) == (True, "x")
    assert part.step("x", op("get", "k", "y"))[0] is False
    assert part.read_only(op("get", "k", "x")) and not part.read_only(op("put", ("k", "x")))
    assert part.describe("x") == "key 'k' holds 'x'"
    with pytest.raises(ValueError, match="string value"):
        part.step("", op("append", ("k", 5)))
    with pytest.raises(ValueError, match="no operation 'cas'"):
        part.step("", op("cas", ("k", "x")))
    reg = Register()
    assert reg.for_part("x") is reg, "by default a part is checked with the model itself"


def test_key_value_semantics():
    """get returns the key's value ("" if never written), put sets it, append concatenates."""
    kv = KeyValue()
    s = kv.init()
    assert s == ()
    assert kv.step(s, op("get", "a", ""))[0]
    ok, s = kv.step(s, op("put", ("a", "x")))
    ok, s = kv.step(s, op("append", ("a", "y")))
    ok, s = kv.step(s, op("append", ("b", "z")))
    assert ok and s == (("a", "xy"), ("b", "z"))
    assert kv.step(s, op("get", "a", "xy")) == (True, s)
    assert kv.step(s, op("get", "a", "x"))[0] is False
    assert kv.step(s, op("get", "a", status="unknown"))[0]
    assert KeyValue({"a": "1"}).init() == (("a", "1"),)
    assert "'a' holds 'xy'" in kv.describe(s)
    assert kv.describe(()) == "every key is empty"


def test_key_value_partitions_by_key():
    """Operations are grouped by the key they touch."""
    ops = [op("put", ("a", "1")), op("get", "b", ""), op("append", ("a", "2"))]
    groups = KeyValue().partition(ops)
    assert set(groups) == {"a", "b"}
    assert groups["a"] == [ops[0], ops[2]]
    with pytest.raises(ValueError, match="key, value"):
        KeyValue().step((), op("put", "a"))


def test_default_partition_is_one_group():
    """A model that does not split keeps all operations together."""
    ops = [op("read", output=1), op("write", 2)]
    assert Register().partition(ops) == {None: ops}


def test_multi_register_transactions():
    """A transaction's reads must match (None matches anything) and its writes apply in order."""
    m = MultiRegister({"x": 0, "y": 0})
    assert m.init() == (0, 0)
    write = op(
        "txn", (("write", "x", 1), ("write", "y", 2)), (("write", "x", 1), ("write", "y", 2))
    )
    assert m.step((0, 0), write) == (True, (1, 2))
    read = op("txn", (("read", "x", None),), (("read", "x", 1),))
    assert m.step((1, 2), read) == (True, (1, 2))
    assert m.step((0, 2), read)[0] is False
    unknown = op("txn", (("read", "x", None), ("write", "y", 5)), status="unknown")
    assert m.step((0, 0), unknown) == (True, (0, 5))
    assert m.describe((1, 2)) == "x=1, y=2"
    with pytest.raises(ValueError, match="register 'z'"):
        m.step((0, 0), op("txn", (("read", "z", None),), (("read", "z", 1),)))


def test_describe_and_repr():
    """Models describe states in words and show their settings."""
    assert Register().describe(None) == "the register is empty"
    assert Register().describe(3) == "the register holds 3"
    assert repr(CasRegister(initial=0, wildcard_read=True)) == (
        "CasRegister(initial=0, wildcard_read=True)"
    )
    assert repr(MultiRegister({"x": 0})) == "MultiRegister({'x': 0})"


def test_base_model_must_be_completed():
    """The base class says which methods a model must define."""
    with pytest.raises(NotImplementedError, match="init"):
        Model().init()
    with pytest.raises(NotImplementedError, match="step"):
        Model().step(None, op("read"))
