"""Tests for distlib.check.formats: the EDN reader and the three history file readers."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
from conftest import linearizability_data

from distlib.check import formats
from distlib.check.formats import (
    FORMATS,
    EdnError,
    HistoryFormatError,
    Keyword,
    Symbol,
    Tagged,
    load,
    parse_jepsen_etcd,
    parse_knossos_edn,
    parse_porcupine_kv,
    read_edn,
    read_edn_all,
)
from distlib.check.models import CasRegister, KeyValue, MultiRegister
from distlib.history import Operation


def _data_root() -> Path:
    return linearizability_data()


# ---------------------------------------------------------------------------------------------
# EDN


def test_edn_scalars():
    """nil, booleans, numbers, strings, keywords, symbols and characters read as Python values."""
    values = read_edn_all('nil true false 42 -7 12N 1.5 -2e3 "a\\"b\\n\\u0041" :read foo/bar \\x')
    assert values == [None, True, False, 42, -7, 12, 1.5, -2000.0, 'a"b\nA', "read", "foo/bar", "x"]
    assert isinstance(values[7], float)
    assert isinstance(values[9], Keyword) and repr(values[9]) == ":read"
    assert isinstance(values[10], Symbol)


def test_edn_collections():
    """Vectors and lists read as tuples, maps as dicts, sets as frozensets, nested freely."""
    value = read_edn('{:a [1 2 (3 4)], :b #{:x :y}, "k" {nil []}}')
    assert value == {"a": (1, 2, (3, 4)), "b": frozenset({"x", "y"}), "k": {None: ()}}
    assert value[Keyword("a")] == (1, 2, (3, 4)), "keywords and plain strings look the same up"


def test_edn_comments_commas_discard_and_tags():
    """Comments, commas and #_ are skipped; other tags are kept as Tagged."""
    text = """
    ; a comment
    [1, 2 #_ 3 4] ; trailing
    #inst "2024-01-01"
    """
    assert read_edn_all(text) == [(1, 2, 4), Tagged("inst", "2024-01-01")]


def test_edn_maps_remember_their_line():
    """Each map records the line where it starts (used in error messages)."""
    value = read_edn("[{:a 1}\n\n {:b 2}]")
    assert [m.line for m in value] == [1, 3]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[1 2", 1, "never closed"),
        ("[1\n 2)", 2, "closes"),
        ("\n\n)", 3, "nothing open"),
        ("{:a}", 1, "even number"),
        ("{:a 1 :a 2}", 1, "twice"),
        ("[1\n 2x]", 2, "not a number"),
        ('"abc', 1, "unexpected"),
        ('"\\q"', 1, "escape"),
        ("#_", 1, "ends"),
    ],
)
def test_edn_errors_name_the_line(text, line, words):
    """Malformed EDN raises EdnError with the line of the problem."""
    with pytest.raises(EdnError, match=words) as info:
        read_edn_all(text)
    assert info.value.line == line, f"{text!r}: reported line {info.value.line}"


def test_read_edn_wants_one_element():
    """read_edn refuses text with no element or with several."""
    with pytest.raises(EdnError, match="one EDN element, found 2"):
        read_edn("1 2")
    with pytest.raises(EdnError, match="found 0"):
        read_edn("  ; nothing")


# ---------------------------------------------------------------------------------------------
# jepsen-etcd

ETCD = """\
INFO  jepsen.util - 1\t:invoke\t:write\t3
INFO  jepsen.util - 2\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:ok\t:write\t3
INFO  jepsen.util - 2\t:ok\t:read\t3
INFO  jepsen.util - 3   :invoke :cas    [3 4]
INFO  jepsen.util - 3   :ok     :cas    [3 4]
INFO  jepsen.util - 2\t:invoke\t:cas\t[1 2]
INFO  jepsen.util - 2\t:fail\t:cas\t[1 2]
INFO  jepsen.util - 4\t:invoke\t:write\t0
INFO  jepsen.util - 4\t:info\t:write\t:timed-out
INFO  jepsen.util - 4\t:invoke\t:read\tnil
INFO  jepsen.util - 4\t:fail\t:read\t:timed-out
INFO  jepsen.util - 5\t:invoke\t:cas\t[0 1]
"""


def test_jepsen_etcd_semantics():
    """ok closes, a failed cas is an answer, a timed-out read is unknown, :info stays open."""
    loaded = parse_jepsen_etcd("etcd.log", text=ETCD)
    ops = loaded.history.ops
    assert isinstance(loaded.model, CasRegister) and loaded.model.initial is None
    assert loaded.format == "jepsen-etcd"
    shown = [(o.client, o.f, o.input, o.output, o.status) for o in ops]
    assert shown == [
        ("1", "write", 3, None, "ok"),
        ("2", "read", None, 3, "ok"),
        ("3", "cas", (3, 4), True, "ok"),
        ("2", "cas", (1, 2), False, "ok"),
        ("4", "write", 0, None, "unknown"),
        ("4", "read", None, None, "unknown"),
        ("5", "cas", (0, 1), None, "unknown"),
    ]
    assert [o.ret is None for o in ops] == [False] * 4 + [True] * 3
    assert (ops[0].call, ops[1].call, ops[0].ret, ops[1].ret) == (0, 1, 2, 3), "event order"


def test_jepsen_etcd_info_closes_nothing():
    """After :info the operation is still the process's: a later ok closes it."""
    text = (
        "INFO jepsen.util - 4 :invoke :write 0\n"
        "INFO jepsen.util - 4 :info :write :timed-out\n"
        "INFO jepsen.util - 4 :ok :write 0\n"
    )
    (write,) = parse_jepsen_etcd("x.log", text=text).history.ops
    assert (write.status, write.ret) == ("ok", 2.0), "times are the positions of the events"


def test_jepsen_etcd_reads_nil():
    """A read of nil means the register is empty."""
    text = "INFO jepsen.util - 0 :invoke :read nil\nINFO jepsen.util - 0 :ok :read nil\n"
    (read,) = parse_jepsen_etcd("x.log", text=text).history.ops
    assert read.output is None and read.status == "ok"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("INFO jepsen.util - 1 :invoke :write\n", 1, "expected 'INFO"),
        ("\nINFO jepsen.util - 1 :invoke :delete 3\n", 2, "unknown operation"),
        ("INFO jepsen.util - 1 :ok :write 3\n", 1, "never invoked"),
        (
            "INFO jepsen.util - 1 :invoke :write 3\nINFO jepsen.util - 1 :invoke :write 4\n",
            2,
            "open",
        ),
        ("INFO jepsen.util - 1 :invoke :write x\n", 1, "cannot read the value"),
        ("INFO jepsen.util - 1 :invoke :cas 3\n", 1, "cas needs"),
        ("INFO jepsen.util - 1 :invoke :write 3\nINFO jepsen.util - 1 :ok :read 3\n", 2, "invoked"),
        ("INFO jepsen.util - 1 :invoke :write 3\nINFO jepsen.util - 1 :done :write 3\n", 2, "type"),
    ],
)
def test_jepsen_etcd_errors_name_file_and_line(text, line, words):
    """A malformed etcd log names the file and the line."""
    with pytest.raises(HistoryFormatError, match=words) as info:
        parse_jepsen_etcd("bad.log", text=text)
    assert info.value.line == line
    assert str(info.value).startswith(f"bad.log, line {line}: ")


def test_etcd_logs_have_the_listed_operation_counts():
    """Every Porcupine history reads into as many operations as verdicts.csv says."""
    root = _data_root() / "porcupine"
    with open(root / "verdicts.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        fmt = "jepsen-etcd" if row["file"].startswith("jepsen/") else "porcupine-kv"
        loaded = load(root / row["file"], fmt)
        assert len(loaded.history) == int(row["operations"]), row["file"]


# ---------------------------------------------------------------------------------------------
# porcupine-kv

KV = """\
{:process 0, :type :invoke, :f :put, :key "a", :value "x"}
{:process 1, :type :invoke, :f :get, :key "a", :value nil}
{:process 0, :type :ok, :f :put, :key "a", :value "x"}
{:process 1, :type :ok, :f :get, :key "a", :value "x"}
{:process 1, :type :invoke, :f :append, :key "b", :value "y"}
{:process 1, :type :ok, :f :append, :key "b", :value "y"}
"""


def test_porcupine_kv_reads_operations():
    """Each line is an event; get returns the value, put and append take (key, value)."""
    loaded = parse_porcupine_kv("kv.txt", text=KV)
    assert isinstance(loaded.model, KeyValue)
    shown = [(o.client, o.f, o.input, o.output, o.status) for o in loaded.history]
    assert shown == [
        ("0", "put", ("a", "x"), None, "ok"),
        ("1", "get", "a", "x", "ok"),
        ("1", "append", ("b", "y"), None, "ok"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('{:process 0, :type :invoke, :f :get, :key "a"\n', 1, "never closed"),
        ("\n[1 2]\n", 2, "one EDN map"),
        ("{:process 0, :type :invoke, :f :get}\n", 1, "no :key"),
        ('{:process 0, :type :invoke, :f :cas, :key "a", :value "1"}\n', 1, "unknown operation"),
        ('{:process 0, :type :info, :f :get, :key "a", :value nil}\n', 1, "event type"),
        ('{:process 0, :type :invoke, :f :put, :key "a", :value 3}\n', 1, "string :value"),
        ('{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n', 1, "never completes"),
        (
            '{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n'
            '{:process 0, :type :ok, :f :get, :key "b", :value ""}\n',
            2,
            "key",
        ),
    ],
)
def test_porcupine_kv_errors_name_file_and_line(text, line, words):
    """A malformed kv history names the file and the line."""
    with pytest.raises(HistoryFormatError, match=words) as info:
        parse_porcupine_kv("kv.txt", text=text)
    assert info.value.line == line and "kv.txt" in str(info.value)


# ---------------------------------------------------------------------------------------------
# knossos-edn

KNOSSOS = """\
; a comment
({:process 0, :type :invoke, :f :write, :value 1}
 {:process :nemesis, :type :info, :f :start, :value nil}
 {:type :ok, :f :write, :value 1, :process 0, :time 5}
 {:process 1, :type :invoke, :f :cas, :value [1 2]}
 {:process 1, :type :fail, :f :cas, :value [1 2], :error :timeout}
 {:process 2, :type :invoke, :f :read, :value nil}
 {:process 2, :type :ok, :f :read, :value nil}
 {:process 3, :type :invoke, :f :cas, :value [1 3]}
 {:process 3, :type :info, :f :cas, :value [1 3]}
 {:process 4, :type :invoke, :f :cas, :value [1 4]}
 {:process 4, :type :ok, :f :cas, :value [1 4]}
 {:process 5, :type :invoke, :f :write, :value 9})
"""


def test_knossos_semantics():
    """Nemesis entries are skipped, :fail never happened, :info and unfinished ones stay open."""
    loaded = parse_knossos_edn("h.edn", text=KNOSSOS)
    model = loaded.model
    assert isinstance(model, CasRegister) and model.initial == 0 and model.wildcard_read
    shown = [(o.client, o.f, o.input, o.output, o.status) for o in loaded.history]
    assert shown == [
        ("0", "write", 1, None, "ok"),
        ("1", "cas", (1, 2), None, "fail"),
        ("2", "read", None, None, "ok"),
        ("3", "cas", (1, 3), None, "unknown"),
        ("4", "cas", (1, 4), True, "ok"),
        ("5", "write", 9, None, "unknown"),
    ]


def test_knossos_transactions_use_a_multi_register():
    """A history of :txn operations is checked against registers that all start at 0."""
    text = """[{:process 0, :type :invoke, :f :txn, :value [[:write :x 1] [:read :y nil]]}
               {:process 0, :type :ok, :f :txn, :value [[:write :x 1] [:read :y 0]]}]"""
    loaded = parse_knossos_edn("m.edn", text=text)
    assert isinstance(loaded.model, MultiRegister)
    assert loaded.model.init() == (0, 0) and loaded.model.names == ("x", "y")
    (op,) = loaded.history
    assert op.input == (("write", "x", 1), ("read", "y", None))
    assert op.output == (("write", "x", 1), ("read", "y", 0))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("{:process 0}", 1, "list or vector"),
        ("[{:process 0, :type :invoke, :f :read, :value nil}\n\n 5]", None, "operation map"),
        (
            "[{:process 0, :type :invoke, :f :read, :value nil}\n\n {:process 0, :f :read}]",
            3,
            "no :type",
        ),
        ("[\n{:process 0, :type :begin, :f :read, :value nil}]", 2, "event type"),
        ("[\n{:process 0, :type :ok, :f :read, :value 1}]", 2, "never invoked"),
        ("[\n{:process 0, :type :invoke, :f :cas, :value 1}]", 2, "cas needs"),
        ("[\n{:process 0, :type :invoke, :f :txn, :value [[:swap :x 1]]}]", 2, "micro"),
        ('[\n{:process "p", :type :invoke, :f :read, :value nil}]', 2, "number"),
        ("[{:process 0 :type}]", 1, "even number"),
    ],
)
def test_knossos_errors_name_file_and_line(text, line, words):
    """A malformed Knossos history names the file and, where it can, the line."""
    with pytest.raises(HistoryFormatError, match=words) as info:
        parse_knossos_edn("k.edn", text=text)
    assert info.value.line == line
    assert str(info.value).startswith("k.edn")


def test_every_knossos_file_reads():
    """All Knossos histories read, with the model their folder implies."""
    root = _data_root() / "knossos"
    files = sorted(root.rglob("*.edn"))
    assert len(files) == 121
    total = 0
    for path in files:
        loaded = load(path, "knossos-edn")
        total += len(loaded.history)  # one file holds nemesis entries only
        want = MultiRegister if "multi-register" in str(path) else CasRegister
        assert isinstance(loaded.model, want), path
    assert total > 20_000, f"only {total} operations read from the Knossos histories"


# ---------------------------------------------------------------------------------------------
# load


def test_load_dispatches_and_refuses_unknown_formats(tmp_path):
    """load reads each named format and names the choices for an unknown one."""
    assert set(FORMATS) == {"jepsen-etcd", "porcupine-kv", "knossos-edn"}
    path = tmp_path / "h.log"
    path.write_text(ETCD)
    assert load(path, "jepsen-etcd").source == str(path)
    with pytest.raises(ValueError, match="jepsen-etcd, porcupine-kv, knossos-edn"):
        load(path, "csv")


def test_missing_file_is_named(tmp_path):
    """A missing file raises FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match=r"nope\.edn"):
        load(tmp_path / "nope.edn", "knossos-edn")


def test_file_errors_name_the_path(tmp_path):
    """Errors from a real file carry its path and line."""
    path = tmp_path / "broken.log"
    path.write_text("INFO jepsen.util - 1 :invoke :write 3\ngarbage\n")
    with pytest.raises(HistoryFormatError, match=r"broken\.log, line 2: expected") as info:
        load(path, "jepsen-etcd")
    assert info.value.source == str(path)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(HistoryFormatError, match="UTF-8"):
        load(binary, "porcupine-kv")


# ---------------------------------------------------------------------------------------------
# The fast readers (one regular expression) and the general EDN reader must agree.


def _general(reader, text: str, monkeypatch):
    """What ``reader`` gives with its fast path switched off: (fields of every operation, model
    repr), or the message of the error it raises."""
    with monkeypatch.context() as m:
        m.setattr(formats, "_fast_kv", lambda text: None)
        m.setattr(formats, "_fast_knossos", lambda text: None)
        return _read(reader, text)


def _read(reader, text: str):
    try:
        loaded = reader("h.txt", text=text)
    except HistoryFormatError as e:
        return str(e)
    return [_fields(op) for op in loaded.history], repr(loaded.model)


def _fields(op: Operation) -> tuple:
    return (op.id, op.client, op.f, op.input, op.call, op.ret, op.output, op.status)


def _kv_texts() -> list[str]:
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from kv_histories import kv_history

    root = linearizability_data() / "porcupine" / "kv"
    return [p.read_text() for p in sorted(root.glob("*.txt"))] + [
        kv_history(clients, 3, 200, seed) for clients, seed in ((3, 1), (10, 2))
    ]


def _knossos_texts() -> list[str]:
    root = linearizability_data() / "knossos"
    return [p.read_text() for p in sorted(root.glob("*/*/*.edn"))]


def test_fast_readers_agree_with_the_general_reader(monkeypatch):
    """On every kv and Knossos file of the data and on generated kv histories, the fast readers
    give exactly the operations (every field, in order) and the model the general reader gives;
    and they do take the fast path on the usual files."""
    for reader, texts, fast in (
        (parse_porcupine_kv, _kv_texts(), formats._fast_kv),
        (parse_knossos_edn, _knossos_texts(), formats._fast_knossos),
    ):
        taken = 0
        for text in texts:
            assert _read(reader, text) == _general(reader, text, monkeypatch)
            taken += fast(text) is not None
        assert taken >= len(texts) - 2, f"{reader.__name__}: fast on {taken} of {len(texts)}"


def _mutations(text: str, seed: int) -> list[str]:
    """Small damages and variations of ``text``, of the kinds real files and mistakes have."""
    import random

    rng = random.Random(seed)
    lines = text.splitlines(keepends=True)
    out = []
    for _ in range(12):
        i = rng.randrange(len(lines))
        line = lines[i]
        kind = rng.randrange(8)
        if kind == 0:
            new = lines[:i] + lines[i + 1 :]  # an event lost
        elif kind == 1:
            new = [*lines[:i], line, line, *lines[i + 1 :]]  # an event twice
        elif kind == 2:
            new = [*lines[:i], " ; a comment\n", *lines[i:]]
        elif kind == 3:
            new = [*lines[:i], line.replace(", ", ",  ", 1), *lines[i + 1 :]]
        elif kind == 4:  # another word or value somewhere
            words = [":ok", ":invoke", ":fail", ":info", ":get", ":put", ":cas", ":read", "nil"]
            a, b = rng.sample(words, 2)
            new = [*lines[:i], line.replace(a, b, 1), *lines[i + 1 :]]
        elif kind == 5:
            new = [*lines[:i], line.replace("}", "} x", 1), *lines[i + 1 :]]
        elif kind == 6:
            new = [*lines[:i], line.replace('"', '"\\t', 1), *lines[i + 1 :]]
        else:
            j = rng.randrange(len(lines))
            new = lines[:]
            new[i], new[j] = new[j], new[i]  # two events swapped
        out.append("".join(new))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_fast_readers_agree_on_damaged_files(seed, monkeypatch):
    """Damaged and unusual files (lost, doubled or swapped events, comments, other spacing,
    other words, escapes): the fast readers give what the general reader gives, the same
    operations or the same error with its line, because they fall back to it on anything they
    do not expect."""
    kv = _kv_texts()[seed % 4]
    knossos = _knossos_texts()[seed * 17 % 121]
    for reader, text in ((parse_porcupine_kv, kv), (parse_knossos_edn, knossos)):
        for damaged in _mutations(text, seed):
            assert _read(reader, damaged) == _general(reader, damaged, monkeypatch), damaged[:300]


def test_a_wrong_fast_reader_would_be_caught(monkeypatch):
    """The comparison above fails for a fast reader that gets one field wrong (here: a get's
    value), so agreeing is a real check."""
    text = _kv_texts()[2]
    right = formats._fast_kv

    def wrong(text):
        ops = right(text)
        for op in ops or []:
            if op.f == "get":
                op.output += "!"
                break
        return ops

    monkeypatch.setattr(formats, "_fast_kv", wrong)
    assert _read(parse_porcupine_kv, text) != _general(parse_porcupine_kv, text, monkeypatch)
