"""Plausible wrong answers to Lab 2's exercises; each must lose points (tests/test_pipeline.py)."""

_SPLIT = """def split(items, parts):
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise ValueError("parts")
    items = list(items)
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        out.append(items[start:stop])
        start = stop
    return out


"""
_PSUM = """def partitioned_sum(numbers, parts, pool):
    partials = pool.map(sum, split(numbers, parts), chunksize=1)
    return sum(partials)
"""

_CHOOSE = """import math


def choose_chunksize(model, n_items, max_chunk=None):
    limit = n_items if max_chunk is None else min(max_chunk, n_items)
    candidates = set()
    rounds = math.ceil(n_items / (model.workers * limit))
    for k in range(rounds, rounds + 3):
        c = math.ceil(n_items / (k * model.workers))
        if 1 <= c <= limit:
            candidates.add(c)
    candidates.add(limit)
    return min(sorted(candidates), key=lambda c: model.predict(n_items, c))


"""
_BREAK = """def break_even_chunksize(model, n_items):
    loop = model.serial_time(n_items)
    for c in range(1, n_items + 1):
        if model.predict(n_items, c) < loop:
            return c
    return None
"""

_ESTIMATE = """import math


def estimate_serial_fraction(serial_time, times):
    num = den = 0.0
    for n, t in times.items():
        x, y = 1.0 / n, t / serial_time
        num += (1.0 - x) * (y - x)
        den += (1.0 - x) ** 2
    if den == 0.0:
        raise ValueError("need more than one worker")
    return min(1.0, max(0.0, num / den))


"""
_NEEDED = """def workers_needed(s, target):
    if not 0.0 <= s <= 1.0:
        raise ValueError("s")
    if not target > 0:
        raise ValueError("target")
    if target <= 1.0:
        return 1
    if s * target >= 1.0:
        return None
    n = 1
    while 1.0 / (s + (1.0 - s) / n) < target:
        n += 1
    return n
"""

MISTAKES = {
    "lab02_partitioned_sum": [
        (
            "the last parts get the extra items",
            _SPLIT.replace("(1 if i < extra else 0)", "(1 if i >= parts - extra else 0)") + _PSUM,
        ),
        (
            "fixed-size chunks: fewer parts than asked",
            """import math


def split(items, parts):
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise ValueError("parts")
    items = list(items)
    size = max(1, math.ceil(len(items) / parts))
    return [items[i:i + size] for i in range(0, len(items), size)]


"""
            + _PSUM,
        ),
        (
            "strided parts, not contiguous ones",
            """def split(items, parts):
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise ValueError("parts")
    items = list(items)
    return [items[i::parts] for i in range(parts)]


"""
            + _PSUM,
        ),
        (
            "one pool.map call per partition",
            _SPLIT
            + """def partitioned_sum(numbers, parts, pool):
    return sum(pool.map(sum, [part])[0] for part in split(numbers, parts))
""",
        ),
        (
            "no error for zero parts",
            _SPLIT.replace(
                """    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise ValueError("parts")
""",
                "    parts = max(parts, 1)\n",
            )
            + _PSUM,
        ),
    ],
    "lab02_word_count": [
        (
            "merges into the second argument",
            """def combine_counts(acc, counts):
    for word, n in acc.items():
        counts[word] = counts.get(word, 0) + n
    return counts
""",
        ),
        (
            "updates acc but returns nothing",
            """def combine_counts(acc, counts):
    for word, n in counts.items():
        acc[word] = acc.get(word, 0) + n
""",
        ),
        (
            "overwrites counts instead of adding",
            """def combine_counts(acc, counts):
    for word, n in counts.items():
        acc[word] = n
    return acc
""",
        ),
        (
            "forgets words that only the second argument has",
            """def combine_counts(acc, counts):
    for word in acc:
        acc[word] += counts.get(word, 0)
    return acc
""",
        ),
    ],
    "lab02_chunksize": [
        (
            "one chunk per worker, ignoring the limit",
            """import math


def choose_chunksize(model, n_items, max_chunk=None):
    return math.ceil(n_items / model.workers)


"""
            + _BREAK,
        ),
        (
            "the chunk that ties the loop counts as beating it",
            _CHOOSE
            + _BREAK.replace(
                "model.predict(n_items, c) < loop", "model.predict(n_items, c) <= loop"
            ),
        ),
        (
            "the break-even is the fastest chunk size, not the smallest that wins",
            _CHOOSE
            + """def break_even_chunksize(model, n_items):
    loop = model.serial_time(n_items)
    best = min(range(1, n_items + 1), key=lambda c: model.predict(n_items, c))
    return best if model.predict(n_items, best) < loop else None
""",
        ),
        (
            "the largest allowed chunk",
            """def choose_chunksize(model, n_items, max_chunk=None):
    return n_items if max_chunk is None else min(max_chunk, n_items)


"""
            + _BREAK,
        ),
    ],
    "lab02_serial_fraction": [
        (
            "speedups relative to the run on one worker",
            _ESTIMATE.replace(
                "    for n, t in times.items():\n        x, y = 1.0 / n, t / serial_time",
                "    base = times.get(1, serial_time)\n    for n, t in times.items():\n"
                "        x, y = 1.0 / n, t / base",
            )
            + _NEEDED,
        ),
        (
            "no clamping to [0, 1]",
            _ESTIMATE.replace("return min(1.0, max(0.0, num / den))", "return num / den") + _NEEDED,
        ),
        (
            "Karp-Flatt at the largest worker count only",
            """import math


def estimate_serial_fraction(serial_time, times):
    n = max(times)
    if n <= 1:
        raise ValueError("need more than one worker")
    x, y = 1.0 / n, times[n] / serial_time
    return min(1.0, max(0.0, (y - x) / (1.0 - x)))


"""
            + _NEEDED,
        ),
        (
            "one worker too few: stops below the target",
            _ESTIMATE + _NEEDED.replace("    return n\n", "    return n - 1 if n > 1 else n\n"),
        ),
        (
            "an unreachable target gives a huge number, not None",
            _ESTIMATE
            + _NEEDED.replace(
                """    if s * target >= 1.0:
        return None
    n = 1
    while 1.0 / (s + (1.0 - s) / n) < target:""",
                """    n = 1
    while n < 10_000 and 1.0 / (s + (1.0 - s) / n) < target:""",
            ),
        ),
    ],
}
