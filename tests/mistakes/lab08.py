"""Plausible wrong answers to Lab 8's exercises; each must lose points (tests/test_pipeline.py)."""

_AT_LEAST = """import math


def at_least(k, n, a):
    if not isinstance(n, int) or n < 1 or not isinstance(k, int) or not 0 <= k <= n:
        raise ValueError("bad k or n")
    if not 0.0 <= a <= 1.0:
        raise ValueError("bad a")
    return math.fsum(math.comb(n, i) * a**i * (1 - a) ** (n - i) for i in range(k, n + 1))
"""

_PHI = """import math


def phi(elapsed, mean, std):
    if not std > 0:
        raise ValueError("std")
    if elapsed < 0:
        raise ValueError("elapsed")
    p_later = 0.5 * math.erfc((elapsed - mean) / (std * math.sqrt(2.0)))
    if p_later <= 0.0:
        return math.inf
    return max(0.0, -math.log10(p_later))
"""

_P2C = """def power_of_two(outstanding, rng):
    n = len(outstanding)
    if n == 1:
        return 0
    a, b = rng.sample(range(n), 2)
    return b if outstanding[b] < outstanding[a] else a
"""

_ACCEPT = """import hashlib
import hmac

from distlib.protocols.auth import Signed, encode


def accept(key, me, src, msg, seen):
    if not isinstance(msg, Signed) or msg.receiver != me or msg.sender != src:
        return False
    try:
        data = encode(msg.sender, msg.receiver, msg.seq, msg.payload)
    except (TypeError, ValueError):
        return False
    expected = hmac.new(key, data, hashlib.sha256).hexdigest()
    if not isinstance(msg.tag, str) or not hmac.compare_digest(expected, msg.tag):
        return False
    if msg.seq in seen:
        return False
    seen.add(msg.seq)
    return True
"""

MISTAKES = {
    "lab08_k_of_n": [
        (
            "sums from k + 1: more than k, not at least k",
            _AT_LEAST.replace("range(k, n + 1)", "range(k + 1, n + 1)"),
        ),
        (
            "exactly k instead of at least k",
            _AT_LEAST.replace("for i in range(k, n + 1)", "for i in (k,)"),
        ),
        (
            "no check of k and n",
            _AT_LEAST.replace(
                "    if not isinstance(n, int) or n < 1 or not isinstance(k, int)"
                " or not 0 <= k <= n:\n"
                '        raise ValueError("bad k or n")\n',
                "",
            ),
        ),
    ],
    "lab08_phi": [
        (
            "P_later as 1 - cdf, which rounds to 0 far in the tail",
            _PHI.replace(
                "p_later = 0.5 * math.erfc((elapsed - mean) / (std * math.sqrt(2.0)))",
                "from statistics import NormalDist\n"
                "    p_later = 1 - NormalDist(mean, std).cdf(elapsed)",
            ),
        ),
        (
            "natural logarithm instead of log10",
            _PHI.replace("math.log10(p_later)", "math.log(p_later)"),
        ),
        (
            "no error for a negative elapsed time",
            _PHI.replace(
                """    if elapsed < 0:
        raise ValueError("elapsed")
""",
                "",
            ),
        ),
        (
            "returns the probability, not its -log10",
            _PHI.replace("return max(0.0, -math.log10(p_later))", "return p_later"),
        ),
    ],
    "lab08_power_of_two": [
        (
            "a tie goes to the second sample",
            _P2C.replace("outstanding[b] < outstanding[a]", "outstanding[b] <= outstanding[a]"),
        ),
        (
            "samples with replacement",
            _P2C.replace(
                "a, b = rng.sample(range(n), 2)", "a, b = rng.randrange(n), rng.randrange(n)"
            ),
        ),
        (
            "picks the busier of the two",
            _P2C.replace("outstanding[b] < outstanding[a]", "outstanding[b] > outstanding[a]"),
        ),
        (
            "uses the global random module",
            _P2C.replace(
                "a, b = rng.sample(range(n), 2)",
                "import random\n    a, b = random.sample(range(n), 2)",
            ),
        ),
    ],
    "lab08_hmac_accept": [
        (
            "compares the tag with ==",
            _ACCEPT.replace("not hmac.compare_digest(expected, msg.tag)", "expected != msg.tag"),
        ),
        (
            "records the number before checking the tag",
            _ACCEPT.replace(
                """    expected = hmac.new(key, data, hashlib.sha256).hexdigest()
    if not isinstance(msg.tag, str) or not hmac.compare_digest(expected, msg.tag):
        return False
    if msg.seq in seen:
        return False
    seen.add(msg.seq)""",
                """    if msg.seq in seen:
        return False
    seen.add(msg.seq)
    expected = hmac.new(key, data, hashlib.sha256).hexdigest()
    if not isinstance(msg.tag, str) or not hmac.compare_digest(expected, msg.tag):
        return False""",
            ),
        ),
        (
            "no replay check",
            _ACCEPT.replace(
                """    if msg.seq in seen:
        return False
""",
                "",
            ),
        ),
        ("does not check the receiver", _ACCEPT.replace(" or msg.receiver != me", "")),
        (
            "signs only the payload",
            _ACCEPT.replace(
                "data = encode(msg.sender, msg.receiver, msg.seq, msg.payload)",
                "data = encode(msg.payload)",
            ),
        ),
    ],
}
