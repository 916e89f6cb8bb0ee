"""Plausible wrong answers to Lab 3's exercises; each must lose points (tests/test_pipeline.py)."""

_LAMPORT = """def lamport_times(events):
    clock, sent_at, out = {}, {}, []
    for node, kind, mid in events:
        if kind == "receive":
            clock[node] = max(clock.get(node, 0), sent_at[mid]) + 1
        else:
            clock[node] = clock.get(node, 0) + 1
            if kind == "send":
                sent_at[mid] = clock[node]
        out.append(clock[node])
    return out
"""

_COMPARE = """

def vc_compare(u, v):
    nodes = set(u) | set(v)
    le = all(u.get(n, 0) <= v.get(n, 0) for n in nodes)
    ge = all(u.get(n, 0) >= v.get(n, 0) for n in nodes)
    if le and ge:
        return "equal"
    if le:
        return "before"
    if ge:
        return "after"
    return "concurrent"
"""

_MERGE = """def vc_merge(u, v):
    merged = dict(u)
    for node, count in v.items():
        merged[node] = max(merged.get(node, 0), count)
    return merged
"""

_LEGAL = """from itertools import permutations


def legal(order):
    value = None
    for op in order:
        if op.f == "write":
            value = op.input
        elif op.output != value:
            return False
    return True


"""

_CLASSIFY = (
    _LEGAL
    + """def classify(history):
    ops = list(history)

    def exists(before):
        for order in permutations(ops):
            position = {id(op): i for i, op in enumerate(order)}
            if all(position[id(p)] < position[id(q)] for p in ops for q in ops if before(p, q)):
                if legal(order):
                    return True
        return False

    if exists(LINEAR):
        return "linearizable"
    if exists(SEQUENTIAL):
        return "sequential"
    return "neither"
"""
)
_LINEAR = "lambda p, q: p.precedes(q) or (p.client == q.client and p.call < q.call)"
_SEQUENTIAL = "lambda p, q: p.client == q.client and p.call < q.call"

_FIRST = """from distlib import Operation
from distlib.check import Register, check_linearizable, check_sequential


def first_violation(history):
    ops = [op for op in history if op.status != "fail"]
    for done in sorted((op for op in ops if op.status == "ok"), key=lambda o: (o.ret, o.id)):
        t = done.ret
        view = []
        for op in ops:
            if op.call > t:
                continue
            if op.status == "ok" and op.ret <= t:
                view.append(op)
            else:
                view.append(Operation(op.id, op.client, op.f, op.input, op.call, None, None,
                                      "unknown"))
        if not check_linearizable(view, Register()).ok:
            return done
    return None
"""

MISTAKES = {
    "lab03_lamport": [
        (
            "a receive takes the maximum but does not tick",
            _LAMPORT.replace(
                "max(clock.get(node, 0), sent_at[mid]) + 1", "max(clock.get(node, 0), sent_at[mid])"
            ),
        ),
        (
            "a receive ignores the sender's time",
            _LAMPORT.replace("max(clock.get(node, 0), sent_at[mid]) + 1", "clock.get(node, 0) + 1"),
        ),
        (
            "one clock for all nodes",
            """def lamport_times(events):
    clock, out = 0, []
    for node, kind, mid in events:
        clock += 1
        out.append(clock)
    return out
""",
        ),
        (
            "a duplicated message is not counted again",
            _LAMPORT.replace(
                '        if kind == "receive":\n',
                '        if kind == "receive" and (node, mid) in seen:\n'
                "            out.append(clock[node])\n"
                "            continue\n"
                '        if kind == "receive":\n'
                "            seen.add((node, mid))\n",
            ).replace(
                "clock, sent_at, out = {}, {}, []", "clock, sent_at, out, seen = {}, {}, [], set()"
            ),
        ),
    ],
    "lab03_vector": [
        (
            "merge updates its first argument and returns it",
            """def vc_merge(u, v):
    for node, count in v.items():
        u[node] = max(u.get(node, 0), count)
    return u
"""
            + _COMPARE,
        ),
        (
            "merge returns the other clock itself when it is at least as large",
            """def vc_merge(u, v):
    if all(v.get(n, 0) >= c for n, c in u.items()):
        return v
    merged = dict(u)
    for node, count in v.items():
        merged[node] = max(merged.get(node, 0), count)
    return merged
"""
            + _COMPARE,
        ),
        (
            "compare looks only at the first clock's entries",
            _MERGE + _COMPARE.replace("    nodes = set(u) | set(v)\n", "    nodes = set(u)\n"),
        ),
        (
            "compare calls equal clocks before",
            _MERGE
            + _COMPARE.replace(
                """    if le and ge:
        return "equal"
""",
                "",
            ),
        ),
        (
            "merge takes the minimum",
            _MERGE.replace("max(merged.get(node, 0), count)", "min(merged.get(node, 0), count)")
            + _COMPARE,
        ),
    ],
    "lab03_classify": [
        (
            "strict real-time order only: a client's next operation at the same instant floats",
            _CLASSIFY.replace("LINEAR", "lambda p, q: p.ret < q.call").replace(
                "SEQUENTIAL", _SEQUENTIAL
            ),
        ),
        (
            "touching intervals count as ordered",
            _CLASSIFY.replace("LINEAR", "lambda p, q: p.ret <= q.call and p is not q").replace(
                "SEQUENTIAL", _SEQUENTIAL
            ),
        ),
        (
            "sequential consistency is checked with no order at all",
            _CLASSIFY.replace("LINEAR", _LINEAR).replace("SEQUENTIAL", "lambda p, q: False"),
        ),
        (
            "a read of the empty register is always legal",
            _CLASSIFY.replace(
                "elif op.output != value:", "elif op.output is not None and op.output != value:"
            )
            .replace("LINEAR", _LINEAR)
            .replace("SEQUENTIAL", _SEQUENTIAL),
        ),
    ],
    "lab03_first_violation": [
        (
            "a failed write is kept as unknown",
            _FIRST.replace(
                'ops = [op for op in history if op.status != "fail"]', "ops = list(history)"
            ),
        ),
        (
            "operations still running are left out of the view",
            _FIRST.replace(
                """            else:
                view.append(Operation(op.id, op.client, op.f, op.input, op.call, None, None,
                                      "unknown"))
""",
                "",
            ),
        ),
        (
            "goes through the operations in the order they were invoked",
            _FIRST.replace("key=lambda o: (o.ret, o.id)", "key=lambda o: (o.call, o.id)"),
        ),
        (
            "returns the checker's culprit on the whole history",
            """from distlib import Operation
from distlib.check import Register, check_linearizable, check_sequential


def first_violation(history):
    verdict = check_linearizable(history, Register())
    return None if verdict.ok else verdict.culprit
""",
        ),
    ],
}
