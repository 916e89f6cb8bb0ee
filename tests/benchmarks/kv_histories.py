"""Linearizable key-value histories generated from a seed, for the linearizability benchmarks.

A simulated key-value store in the manner of Porcupine's test data (tests/data/linearizability/
porcupine/kv): ``clients`` clients that are always busy (each invokes its next operation the
moment the previous one returns) send ``get``, ``put`` and ``append`` to ``keys`` keys, chosen
uniformly; 45% gets, 5% puts, 50% appends, the values ``"x <client> <n> y"``. Every operation
lasts a random time and takes effect at a random instant inside it; the store applies them in
the order of those instants, so the history is linearizable by construction.

The text is in the porcupine-kv format (one EDN map per event, in time order), which both
distlib (:func:`distlib.check.formats.parse_porcupine_kv`) and the Go driver of
compare_porcupine.py read, so both check the very same history. The same arguments always give
the same text.
"""

from __future__ import annotations

import random
from pathlib import Path


def kv_history(clients: int, keys: int, ops: int, seed: int = 1) -> str:
    """The text of a linearizable history of ``ops`` operations (see the module docstring)."""
    rng = random.Random(seed)
    # (call, effect, return, client, f, key, value) for each operation, client by client.
    planned = []
    for c in range(clients):
        t = rng.random()
        for n in range(ops // clients + (1 if c < ops % clients else 0)):
            r = rng.random()
            f = "get" if r < 0.45 else "put" if r < 0.50 else "append"
            key = str(rng.randrange(keys))
            value = None if f == "get" else f"x {c} {n} y"
            length = rng.lognormvariate(0.0, 2.0)
            call, ret = t, t + length
            planned.append([call, rng.uniform(call, ret), ret, c, f, key, value])
            t = ret + rng.uniform(0.0, 0.01)
    # The store applies the operations in the order they take effect; a get sees the value then.
    store: dict[str, str] = {}
    for op in sorted(planned, key=lambda p: p[1]):
        f, key = op[4], op[5]
        if f == "get":
            op.append(store.get(key, ""))
        else:
            store[key] = op[6] if f == "put" else store.get(key, "") + op[6]
            op.append(op[6])
    events = []
    for call, _, ret, c, f, key, value, answer in planned:
        # Keys and values are letters, digits and spaces: they need no escapes.
        shown = "nil" if value is None else f'"{value}"'
        head = f'{{:process {c}, :type :%s, :f :{f}, :key "{key}", :value '
        events.append((call, head % "invoke" + shown + "}"))
        events.append((ret, head % "ok" + f'"{answer}"' + "}"))
    events.sort(key=lambda e: e[0])
    return "".join(line + "\n" for _, line in events)


def write_kv_history(path: Path, clients: int, keys: int, ops: int, seed: int = 1) -> Path:
    """Write :func:`kv_history` to ``path`` (unless an identical file is already there)."""
    text = kv_history(clients, keys, ops, seed)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path
