"""Readers for history files recorded by other tools, and a small EDN reader.

Three formats, each turned into a :class:`~distlib.history.History` plus the model its source
checks it against (:class:`Loaded`). Times are the positions of the events in the file (the
order is all that linearizability needs), starting at 0.

``jepsen-etcd``
    Jepsen's log of an etcd compare-and-set register, as kept in Porcupine's test data: one
    event per line, ``INFO jepsen.util - <process> <:type> <:f> <value>``. The register starts
    empty (``None``). A failed cas (``:fail :cas``) is an answer ("the register did not hold
    the expected value"), kept as an ``ok`` cas whose output is False. ``:fail :read
    :timed-out`` ends a read without a value (status "unknown"). ``:info`` lines end nothing:
    the operation stays open (status "unknown", for ever unless a later ``:ok`` or ``:fail``
    of the same process ends it; the process may also invoke a new one), as does anything
    still open at the end of the file.
``porcupine-kv``
    Porcupine's key-value histories: one EDN map per line with ``:process :type :f :key
    :value``; ``:f`` is ``:get``, ``:put`` or ``:append``, ``:type`` is ``:invoke`` or ``:ok``.
    Checked with :class:`~distlib.check.models.KeyValue` (missing keys read as ``""``).
``knossos-edn``
    Knossos's histories: one EDN list or vector of maps ``{:process :type :f :value ...}``.
    ``:nemesis`` entries are skipped. A ``:fail`` operation never happened (status "fail"), an
    ``:info`` one stays open for ever. Registers start at 0 and a read of ``nil`` matches any
    value (:class:`~distlib.check.models.CasRegister` with ``wildcard_read=True``); histories
    of ``:txn`` operations use :class:`~distlib.check.models.MultiRegister`.

A malformed file raises :class:`HistoryFormatError`, whose message names the file and line.
This module only reads; :mod:`distlib.check.linearizability` judges.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from distlib.check.models import CasRegister, KeyValue, Model, MultiRegister
from distlib.history import History, Operation

__all__ = [
    "FORMATS",
    "EdnError",
    "HistoryFormatError",
    "Keyword",
    "Loaded",
    "Symbol",
    "Tagged",
    "load",
    "parse_jepsen_etcd",
    "parse_knossos_edn",
    "parse_porcupine_kv",
    "read_edn",
    "read_edn_all",
]


class HistoryFormatError(ValueError):
    """A history file that cannot be read; ``str()`` names the file and line."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {problem}")


class EdnError(ValueError):
    """EDN text that cannot be read; ``line`` is where the problem is (1-based)."""

    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"line {line}: {problem}")


@dataclass(frozen=True, slots=True)
class Loaded:
    """A history read from a file, with the model its source checks it against."""

    history: History
    model: Model
    source: str
    format: str


# ---------------------------------------------------------------------------------------------
# EDN (https://github.com/edn-format/edn): enough of it for Jepsen and Knossos histories.


class Keyword(str):
    """An EDN keyword such as ``:read``; equal to its name without the colon (``"read"``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f":{self}"


class Symbol(str):
    """An EDN symbol such as ``foo/bar``; equal to its name."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Tagged:
    """A tagged EDN element ``#tag value`` that this reader does not interpret."""

    tag: str
    value: Any


class _EdnMap(dict[Any, Any]):
    """A dict that remembers the line where its ``{`` was."""

    __slots__ = ("line",)
    line: int


_TOKEN = re.compile(
    r"""
    (?:[\s,]+|;[^\n]*)*          # whitespace, commas and comments before the token
    (?:
      (?P<atom>[^\s,\[\](){}"#;\\][^\s,\[\](){}";]*)
    | (?P<open>\#\{|[\[({])
    | (?P<close>[\])}])
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<discard>\#_)
    | (?P<tag>\#[A-Za-z][^\s,\[\](){}"#;]*)
    | (?P<char>\\(?:newline|space|tab|return|formfeed|backspace|u[0-9A-Fa-f]{4}|\S))
    | (?P<end>\Z)
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_INT = re.compile(r"[+-]?\d+N?")
_FLOAT = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}
_CHARS = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r", "formfeed": "\f"}
_CLOSER = {"[": "]", "(": ")", "{": "}", "#{": "}"}


class _Lines:
    """Line numbers of positions in a text (computed only when needed)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] | None = None

    def __call__(self, pos: int) -> int:
        if self.starts is None:
            self.starts = [m.end() for m in re.finditer("\n", self.text)]
        return bisect.bisect_right(self.starts, pos) + 1


def _unescape(body: str, line: Callable[[], int]) -> str:
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        else:
            raise EdnError(line(), f"unknown escape \\{e} in a string")
    return "".join(out)


def _atom(text: str, line: Callable[[], int]) -> Any:
    if text == "nil":
        return None
    if text == "true":
        return True
    if text == "false":
        return False
    if text[0] == ":":
        if len(text) == 1:
            raise EdnError(line(), "a lone ':' is not a keyword")
        return Keyword(text[1:])
    c = text[0]
    if c.isdigit() or (c in "+-" and len(text) > 1 and text[1].isdigit()):
        if _INT.fullmatch(text):
            return int(text.rstrip("N"))
        if _FLOAT.fullmatch(text):
            return float(text.rstrip("M"))
        raise EdnError(line(), f"{text!r} is not a number")
    return Symbol(text)


def read_edn_all(text: str) -> list[Any]:
    """Every top-level EDN element of ``text``.

    Maps become dicts, vectors and lists tuples, sets frozensets, keywords :class:`Keyword`
    (a ``str``), symbols :class:`Symbol`, ``nil`` None, other tagged elements :class:`Tagged`.
    Raises :class:`EdnError` naming the line of a problem.
    """
    line_of = _Lines(text)
    atoms: dict[str, Any] = {}
    # Open collections, innermost last: [opener, items, position]. The outermost is the text
    # itself; "#_" and tags are pseudo-collections that wait for one element.
    frames: list[list[Any]] = [["", [], 0]]
    pos = 0
    match = _TOKEN.match
    while True:
        m = match(text, pos)
        if m is None:
            bad = text[pos:].lstrip(" \t\r\n,")
            raise EdnError(line_of(len(text) - len(bad)), f"unexpected {bad[:20]!r}")
        kind = m.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        start = m.start(kind)
        pos = m.end()
        if kind == "atom":
            token = m.group(kind)
            value = atoms.get(token, atoms)
            if value is atoms:
                value = atoms[token] = _atom(token, partial(line_of, start))
        elif kind == "open":
            frames.append([m.group(kind), [], start])
            continue
        elif kind == "close":
            token = m.group(kind)
            opener, items, where = frames[-1]
            if opener not in _CLOSER:
                if opener == "":
                    raise EdnError(line_of(start), f"unexpected {token!r} with nothing open")
                raise EdnError(line_of(start), f"{token!r} where an element was expected")
            if _CLOSER[opener] != token:
                raise EdnError(
                    line_of(start),
                    f"{token!r} closes the {opener!r} opened on line {line_of(where)}",
                )
            frames.pop()
            if opener == "{":
                if len(items) % 2:
                    raise EdnError(
                        line_of(where), "a map needs an even number of elements (key value pairs)"
                    )
                value = _EdnMap()
                value.line = line_of(where)
                for i in range(0, len(items), 2):
                    if items[i] in value:
                        raise EdnError(line_of(where), f"the map has the key {items[i]!r} twice")
                    value[items[i]] = items[i + 1]
            elif opener == "#{":
                value = frozenset(items)
            else:
                value = tuple(items)
        elif kind == "string":
            value = _unescape(m.group(kind)[1:-1], partial(line_of, start))
        elif kind == "discard":
            frames.append(["#_", None, start])
            continue
        elif kind == "tag":
            frames.append([m.group(kind), None, start])
            continue
        elif kind == "char":
            name = m.group(kind)[1:]
            if name in _CHARS:
                value = _CHARS[name]
            elif len(name) == 5 and name[0] == "u":
                value = chr(int(name[1:], 16))
            else:
                value = name
        else:  # the end of the text
            opener, _, where = frames[-1]
            if opener == "":
                elements: list[Any] = frames[0][1]
                return elements
            if opener in _CLOSER:
                raise EdnError(line_of(where), f"{opener!r} opened here is never closed")
            raise EdnError(line_of(where), "the text ends in the middle of an element")
        # An element is complete: hand it to the collection that waits for it.
        while True:
            frame = frames[-1]
            opener = frame[0]
            if opener == "#_":
                frames.pop()
                break
            if opener and opener[0] == "#" and opener != "#{":
                frames.pop()
                value = Tagged(opener[1:], value)
                continue
            frame[1].append(value)
            break


def read_edn(text: str) -> Any:
    """The single EDN element in ``text`` (an error if there are none or several)."""
    values = read_edn_all(text)
    if len(values) != 1:
        raise EdnError(1, f"expected one EDN element, found {len(values)}")
    return values[0]


# ---------------------------------------------------------------------------------------------
# Shared bookkeeping: which operation each process has open.


class _Recorder:
    """Builds a History from invoke/complete events, one open operation per process."""

    def __init__(self, source: str) -> None:
        self.source = source
        # The time of an event is its position among the file's events, counting from 0.
        self.ops: list[Operation] = []
        self.open: dict[Any, tuple[Operation, int | None]] = {}
        self.abandoned: set[Any] = set()  # processes whose open operation got an :info
        self.time = -1.0  # the caller adds 1 for each event it reads

    def invoke(self, line: int | None, process: Any, f: str, value: Any) -> Operation:
        if process in self.abandoned:
            # Its operation stays open for ever; the process starts a new one.
            self.abandoned.discard(process)
            self.open.pop(process, None)
        if process in self.open:
            op, where = self.open[process]
            raise HistoryFormatError(
                self.source,
                line,
                f"process {process} invokes {f} while its {op.f} from line {where} is still open",
            )
        op = Operation(id=len(self.ops), client=str(process), f=f, input=value, call=self.time)
        self.ops.append(op)
        self.open[process] = (op, line)
        return op

    def close(self, line: int | None, process: Any, f: str, kind: str) -> Operation:
        if process not in self.open:
            raise HistoryFormatError(
                self.source, line, f"process {process} completes {f} ({kind}) but never invoked it"
            )
        self.abandoned.discard(process)
        op, where = self.open.pop(process)
        if op.f != f:
            raise HistoryFormatError(
                self.source,
                line,
                f"process {process} completes {f} ({kind}) but invoked {op.f} on line {where}",
            )
        return op

    def finish(self, op: Operation, status: str, output: Any = None) -> None:
        op.status = status
        op.output = output
        op.ret = self.time if status != "unknown" else None

    def history(self) -> History:
        # Operations still open at the end never returned: they stay open for ever.
        return History(self.ops)


def _read_text(path: str | Path) -> tuple[str, str]:
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8"), str(p)
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such history file") from None
    except UnicodeDecodeError as e:
        raise HistoryFormatError(str(p), None, f"not UTF-8 text ({e.reason})") from None


# ---------------------------------------------------------------------------------------------
# jepsen-etcd

_ETCD_VALUE = re.compile(r"nil|-?\d+|\[(-?\d+) (-?\d+)\]|:timed-out")


def _etcd_value(text: str, source: str, line: int) -> Any:
    m = _ETCD_VALUE.fullmatch(text)
    if m is None:
        raise HistoryFormatError(source, line, f"cannot read the value {text!r}")
    if text == "nil":
        return None
    if text == ":timed-out":
        return Keyword("timed-out")
    if m.group(1) is not None:
        return (int(m.group(1)), int(m.group(2)))
    return int(text)


def parse_jepsen_etcd(path: str | Path, *, text: str | None = None) -> Loaded:
    """Read a Jepsen etcd log (``etcd_NNN.log``); see the module docstring for the meanings."""
    if text is None:
        text, source = _read_text(path)
    else:
        source = str(path)
    rec = _Recorder(source)
    for line_no, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        rec.time += 1
        if len(parts) < 7 or parts[1] != "jepsen.util" or parts[2] != "-":
            raise HistoryFormatError(
                source, line_no, "expected 'INFO jepsen.util - <process> <:type> <:f> <value>'"
            )
        process, kind, f = parts[3], parts[4], parts[5]
        value = _etcd_value(" ".join(parts[6:]), source, line_no)
        if f not in (":read", ":write", ":cas"):
            raise HistoryFormatError(source, line_no, f"unknown operation {f!r}")
        f = f[1:]
        if f == "cas" and kind != ":info" and not isinstance(value, tuple):
            raise HistoryFormatError(source, line_no, f"cas needs a value [A B], not {value!r}")
        if f == "write" and kind in (":invoke", ":ok") and not isinstance(value, int):
            raise HistoryFormatError(source, line_no, f"write needs a number, not {value!r}")
        if kind == ":invoke":
            rec.invoke(line_no, process, f, None if f == "read" else value)
        elif kind == ":ok":
            op = rec.close(line_no, process, f, "ok")
            if f == "read":
                if isinstance(value, Keyword):
                    raise HistoryFormatError(source, line_no, f"a read returned {value!r}")
                rec.finish(op, "ok", value)
            else:
                rec.finish(op, "ok", True if f == "cas" else None)
        elif kind == ":fail":
            op = rec.close(line_no, process, f, "fail")
            if f == "cas":
                rec.finish(op, "ok", False)  # the register answered "not the expected value"
            elif f == "read" and value == "timed-out":
                rec.finish(op, "unknown")
            else:
                raise HistoryFormatError(source, line_no, f"unexpected :fail of {f}")
        elif kind == ":info":
            if process not in rec.open:
                raise HistoryFormatError(source, line_no, f"process {process} has nothing open")
            # :info closes nothing: the operation stays open (for ever, unless a later ok or
            # fail of the same process closes it), and the process may invoke again.
            rec.abandoned.add(process)
        else:
            raise HistoryFormatError(source, line_no, f"unknown event type {kind!r}")
    return Loaded(rec.history(), CasRegister(initial=None), source, "jepsen-etcd")


# ---------------------------------------------------------------------------------------------
# porcupine-kv


def _field(m: dict[Any, Any], name: str, source: str, line: int | None) -> Any:
    try:
        return m[Keyword(name)]
    except KeyError:
        raise HistoryFormatError(source, line, f"the event has no :{name}") from None


def _without_collector(read: Callable[[str], list[Operation] | None], text: str) -> Any:
    """``read(text)`` with the cyclic garbage collector paused: the fast readers make many
    objects and no reference cycles, and collecting while they run only costs time (a quarter
    of it on a file of 100,000 operations)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        return read(text)
    finally:
        if was_on:
            gc.enable()


#: One event of a porcupine-kv file as Porcupine writes it, a whole line (see _fast_kv). (The
#: possessive ``*+`` never gives back what it matched: what follows cannot match it anyway, and
#: the engine keeps no backtracking state: 10% faster.)
_KV_LINE = re.compile(
    r'^\{:process (0|[1-9]\d*+), :type :(invoke|ok), :f :(get|put|append), :key "([^"\\\n]*+)", '
    r':value (nil|"[^"\\\n]*+")\}$',
    re.MULTILINE,
)


def _fast_kv(text: str) -> list[Operation] | None:
    """The operations of a porcupine-kv text in which every line is one event written the way
    Porcupine writes them (one regular expression matches them all), or None for any other
    text: blank lines, other spacing, escapes, and every mistake the general reader reports
    with its line. The result is the one the general reader gives."""
    events = _KV_LINE.findall(text)
    if len(events) != text.count("\n") + (not text.endswith("\n")):
        return None
    ops: list[Operation] = []
    open_: dict[str, Operation] = {}
    t = 0.0
    for process, kind, f, key, value in events:
        if kind == "invoke":
            if process in open_:
                return None
            if f == "get":
                op = Operation(len(ops), process, f, key, t)
            elif value == "nil":
                return None
            else:
                op = Operation(len(ops), process, f, (key, value[1:-1]), t)
            ops.append(op)
            open_[process] = op
        else:
            done = open_.pop(process, None)
            if done is None or done.f != f or value == "nil":
                return None
            if f == "get":
                if done.input != key:
                    return None
                done.output = value[1:-1]
            elif done.input[0] != key:
                return None
            done.status = "ok"
            done.ret = t
        t += 1.0
    return None if open_ else ops


def parse_porcupine_kv(path: str | Path, *, text: str | None = None) -> Loaded:
    """Read one of Porcupine's key-value histories (``cNN-ok.txt`` / ``cNN-bad.txt``)."""
    if text is None:
        text, source = _read_text(path)
    else:
        source = str(path)
    fast = _without_collector(_fast_kv, text)
    if fast is not None:
        return Loaded(History(fast), KeyValue(), source, "porcupine-kv")
    rec = _Recorder(source)
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        rec.time += 1
        try:
            event = read_edn(line)
        except EdnError as e:
            raise HistoryFormatError(source, line_no, e.problem) from None
        if not isinstance(event, dict):
            raise HistoryFormatError(source, line_no, "expected one EDN map {...} per line")
        process = _field(event, "process", source, line_no)
        kind = _field(event, "type", source, line_no)
        f = _field(event, "f", source, line_no)
        key = _field(event, "key", source, line_no)
        value = event.get(Keyword("value"))
        if f not in ("get", "put", "append") or not isinstance(f, Keyword):
            raise HistoryFormatError(source, line_no, f"unknown operation {f!r}")
        if f != "get" and not isinstance(value, str):
            raise HistoryFormatError(source, line_no, f"{f} needs a string :value, not {value!r}")
        if kind == "invoke":
            rec.invoke(line_no, process, str(f), key if f == "get" else (key, value))
        elif kind == "ok":
            op = rec.close(line_no, process, str(f), "ok")
            got = op.input if f == "get" else op.input[0]
            if got != key:
                raise HistoryFormatError(
                    source, line_no, f"the completion names key {key!r}, the invocation {got!r}"
                )
            if f == "get" and not isinstance(value, str):
                raise HistoryFormatError(source, line_no, f"get returned {value!r}, not a string")
            rec.finish(op, "ok", value if f == "get" else None)
        else:
            raise HistoryFormatError(source, line_no, f"unknown event type {kind!r}")
    for op, where in rec.open.values():
        raise HistoryFormatError(source, where, f"{op.f} by process {op.client} never completes")
    return Loaded(rec.history(), KeyValue(), source, "porcupine-kv")


# ---------------------------------------------------------------------------------------------
# knossos-edn


def _knossos_txn(value: Any, source: str, line: int | None) -> tuple[Any, ...]:
    if not isinstance(value, tuple):
        raise HistoryFormatError(
            source, line, f"a txn needs a vector of micro-operations, not {value!r}"
        )
    out = []
    for micro in value:
        if (
            not isinstance(micro, tuple)
            or len(micro) != 3
            or micro[0] not in ("read", "write")
            or not isinstance(micro[0], Keyword)
        ):
            raise HistoryFormatError(
                source, line, f"a micro-operation is [:read|:write name value], not {micro!r}"
            )
        out.append((str(micro[0]), str(micro[1]), micro[2]))
    return tuple(out)


# The maps of Knossos's register histories, in the two key orders its files use (all keys
# first, or :process last), each with four groups in the order (process, type, f, value) or
# (type, f, value, process). The nemesis's entries match too (process ":nemesis").
_KN_VALUE = r'(nil|-?\d++|\[-?\d++\s++-?\d++\]|"[^"\\]*+")'
_KN_PROCESS = r"(0|[1-9]\d*+|:nemesis)"
_KN_ERROR = r'(?:[\s,]+:error\s+(?:nil|:[\w-]+|"(?:[^"\\]|\\["\\])*"))?'
_KNOSSOS_FORMS = (
    (
        re.compile(
            r"\{:process\s++" + _KN_PROCESS + r"[\s,]++:type\s++:([\w-]++)[\s,]++:f\s++:([\w-]++)"
            r"[\s,]++:value\s++" + _KN_VALUE + r"\}"
        ),
        (0, 1, 2, 3),
    ),
    (
        re.compile(
            r"\{:type\s++:([\w-]++)[\s,]++:f\s++:([\w-]++)(?:[\s,]+:value\s++" + _KN_VALUE + r")?"
            r"[\s,]+:process\s++" + _KN_PROCESS + r"(?:[\s,]+:time\s++-?\d++)?" + _KN_ERROR + r"\}"
        ),
        (3, 0, 1, 2),
    ),
)
#: What may come between two maps: space, commas and comments.
_KN_BETWEEN = re.compile(r"(?:[\s,]+|;[^\n]*)*")
_KNOSSOS_KINDS = frozenset(("invoke", "ok", "fail", "info"))
_KNOSSOS_FS = frozenset(("read", "write", "cas"))
_NO_VALUE = object()


def _knossos_value(text: str) -> Any:
    if text == "nil":
        return None
    if text[0] == "[":
        a, b = text[1:-1].split()
        return (int(a), int(b))
    if text[0] == '"':
        return _NO_VALUE  # a string: not a register's value (the general reader decides)
    return int(text)


def _fast_knossos(text: str) -> list[Operation] | None:
    """The operations of a Knossos history of register operations (read, write, cas) written
    one flat map after another in one of the two usual key orders; None for any other text
    (transactions, other keys or values, and every mistake, which the general reader reports
    with its line). The result is the one the general reader gives.

    A regular expression splits the list into the maps' fields and what lies between them,
    which must be only space, commas and comments.
    """
    start = 0
    while True:  # comment lines and blank space before the list
        while start < len(text) and text[start] in " \t\r\n,":
            start += 1
        if not text.startswith(";", start):
            break
        start = text.find("\n", start)
        if start < 0:
            return None
    body = text[start:].rstrip(" \t\r\n,")
    if body[:1] + body[-1:] not in ("[]", "()"):
        return None
    body = body[1:-1]
    for form, order in _KNOSSOS_FORMS:
        pieces = form.split(body)
        between = pieces[0::5]
        if "".join(between).strip(" \t\r\n,") and not all(
            _KN_BETWEEN.fullmatch(b) for b in between
        ):
            continue
        columns = [pieces[1 + i :: 5] for i in order]
        break
    else:
        return None
    processes, kinds, fs, texts = columns
    times: Iterable[float] = itertools.count(0.0)  # an event's time is its position
    if ":nemesis" in processes:
        keep = [i for i, p in enumerate(processes) if p != ":nemesis"]
        times = [float(i) for i in keep]
        processes, kinds, fs, texts = ([c[i] for i in keep] for c in (processes, kinds, fs, texts))
    if not (_KNOSSOS_KINDS.issuperset(kinds) and _KNOSSOS_FS.issuperset(fs)):
        return None
    values = {v: _knossos_value(v) for v in set(texts)}
    if None in values or any(v is _NO_VALUE for v in values.values()):
        return None  # a map without a :value, or a string value
    ops: list[Operation] = []
    open_: dict[str, Operation] = {}
    for t, process, kind, f, v in zip(times, processes, kinds, fs, texts, strict=False):
        if f == "cas" and type(values[v]) is not tuple:
            return None
        if kind == "invoke":
            if process in open_:
                return None
            op = Operation(len(ops), process, f, None if f == "read" else values[v], t)
            ops.append(op)
            open_[process] = op
            continue
        done = open_.pop(process, None)
        if done is None or done.f != f:
            return None
        if kind == "ok":
            done.status = "ok"
            done.ret = t
            if f == "read":
                done.output = values[v]
            elif f == "cas":
                done.output = True
        elif kind == "fail":
            done.status = "fail"
            done.ret = t
    return ops


def parse_knossos_edn(path: str | Path, *, text: str | None = None) -> Loaded:
    """Read a Knossos history (one EDN list or vector of operation maps)."""
    if text is None:
        text, source = _read_text(path)
    else:
        source = str(path)
    fast = _without_collector(_fast_knossos, text)
    if fast is not None:
        return Loaded(
            History(fast), CasRegister(initial=0, wildcard_read=True), source, "knossos-edn"
        )
    try:
        values = read_edn_all(text)
    except EdnError as e:
        raise HistoryFormatError(source, e.line, e.problem) from None
    if len(values) != 1 or not isinstance(values[0], tuple):
        raise HistoryFormatError(source, 1, "expected one EDN list or vector of operation maps")
    rec = _Recorder(source)
    txn = False
    registers: set[str] = set()
    for event in values[0]:
        rec.time += 1
        line = getattr(event, "line", None)
        if not isinstance(event, dict):
            raise HistoryFormatError(source, line, f"expected an operation map, not {event!r}")
        process = _field(event, "process", source, line)
        if process == "nemesis":
            continue
        kind = _field(event, "type", source, line)
        f = _field(event, "f", source, line)
        value = _field(event, "value", source, line)
        if not isinstance(process, int) or isinstance(process, bool):
            raise HistoryFormatError(source, line, f"a :process is a number, not {process!r}")
        if f not in ("read", "write", "cas", "txn") or not isinstance(f, Keyword):
            raise HistoryFormatError(source, line, f"unknown operation {f!r}")
        f = str(f)
        if f == "txn":
            txn = True
            value = _knossos_txn(value, source, line)
            registers.update(name for _, name, _ in value)
        elif f == "cas" and not (isinstance(value, tuple) and len(value) == 2):
            raise HistoryFormatError(source, line, f"cas needs a value [old new], not {value!r}")
        if kind == "invoke":
            rec.invoke(line, process, f, None if f == "read" else value)
        elif kind in ("ok", "fail", "info"):
            op = rec.close(line, process, f, str(kind))
            if kind == "ok":
                if f == "read":
                    rec.finish(op, "ok", value)
                elif f == "cas":
                    rec.finish(op, "ok", True)
                elif f == "txn":
                    rec.finish(op, "ok", value)
                else:
                    rec.finish(op, "ok", None)
            elif kind == "fail":
                rec.finish(op, "fail", None)  # Knossos: a failed operation never happened
            else:
                rec.finish(op, "unknown")  # :info: it may take effect at any later time
        else:
            raise HistoryFormatError(source, line, f"unknown event type {kind!r}")
    ops = rec.ops
    if txn and any(op.f != "txn" for op in ops):
        raise HistoryFormatError(source, None, "a history mixes txn with register operations")
    model: Model
    if txn:
        model = MultiRegister(dict.fromkeys(sorted(registers), 0))
    else:
        model = CasRegister(initial=0, wildcard_read=True)
    return Loaded(History(ops), model, source, "knossos-edn")


#: Format name -> reader (each takes a path and returns :class:`Loaded`).
FORMATS: dict[str, Callable[..., Loaded]] = {
    "jepsen-etcd": parse_jepsen_etcd,
    "porcupine-kv": parse_porcupine_kv,
    "knossos-edn": parse_knossos_edn,
}


def load(path: str | Path, format: str) -> Loaded:
    """Read ``path`` in ``format`` (one of :data:`FORMATS`)."""
    if format not in FORMATS:
        raise ValueError(f"unknown history format {format!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[format](path)
