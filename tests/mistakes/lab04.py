"""Plausible wrong answers to Lab 4's exercises; each must lose points (tests/test_pipeline.py)."""

_PRIMARIES = """def primaries_at(trace, t):
    current = set()
    for e in trace:
        if e.time > t:
            break
        if e.kind == "note" and e.detail == "became primary":
            current.add(e.node)
        elif e.kind == "crash" or (e.kind == "note" and e.detail == "stepped down"):
            current.discard(e.node)
    return current
"""

_QUORUM = """from distlib.protocols.quorum_replication import QuorumNode, ReadReply, Version


class MyQuorumNode(QuorumNode):
    def read_quorum(self, replies):
        if len(replies) < self.r:
            return None
        return max(replies, key=lambda reply: reply.version)

    def next_version(self, newest):
        return Version(newest.version.counter + 1, self.id)
"""

_CHOOSE = """def choose_rw(n, f, favour="reads"):
    if n < 1 or f < 0 or favour not in ("reads", "writes"):
        raise ValueError("nonsense")
    if n < 2 * f + 1:
        raise ValueError("impossible")
    fast, slow = f + 1, n - f
    return (fast, slow) if favour == "reads" else (slow, fast)
"""

_RING = """import bisect

from distlib.protocols.hashing import HashRing, sample_keys


class MyRing(HashRing):
    def lookup(self, key):
        points = self.points()
        if not points:
            raise LookupError("the ring has no servers")
        positions = [position for position, _ in points]
        i = bisect.bisect_left(positions, self.hash(key))
        return points[i % len(points)][1]
"""

MISTAKES = {
    "lab04_primaries": [
        ("a crash does not end a primary", _PRIMARIES.replace('e.kind == "crash" or ', "")),
        (
            "stepping down does not end a primary",
            _PRIMARIES.replace(' or (e.kind == "note" and e.detail == "stepped down")', ""),
        ),
        ("events at exactly t are left out", _PRIMARIES.replace("e.time > t", "e.time >= t")),
        (
            "only the latest primary counts",
            _PRIMARIES.replace("current.add(e.node)", "current = {e.node}"),
        ),
    ],
    "lab04_quorum": [
        (
            "picks the reply with the largest value",
            _QUORUM.replace("key=lambda reply: reply.version", "key=lambda reply: reply.value"),
        ),
        (
            "waits for one reply too many",
            _QUORUM.replace("len(replies) < self.r", "len(replies) <= self.r"),
        ),
        (
            "answers with the first reply once R have come",
            _QUORUM.replace(
                "return max(replies, key=lambda reply: reply.version)", "return replies[0]"
            ),
        ),
        (
            "keeps the newest counter: only the node name differs",
            _QUORUM.replace("newest.version.counter + 1", "newest.version.counter"),
        ),
        (
            "copies the newest version's node instead of its own name",
            _QUORUM.replace("self.id)", "newest.version.node)"),
        ),
    ],
    "lab04_choose_rw": [
        (
            "always a majority on both sides",
            """def choose_rw(n, f, favour="reads"):
    if n < 1 or f < 0 or favour not in ("reads", "writes"):
        raise ValueError("nonsense")
    if n < 2 * f + 1:
        raise ValueError("impossible")
    return n // 2 + 1, n // 2 + 1
""",
        ),
        (
            "no error when too many replicas may be down",
            _CHOOSE.replace(
                """    if n < 2 * f + 1:
        raise ValueError("impossible")
""",
                "",
            ),
        ),
        (
            "favours the wrong side",
            _CHOOSE.replace('if favour == "reads" else', 'if favour == "writes" else'),
        ),
        (
            "writes to more replicas than stay up",
            _CHOOSE.replace("fast, slow = f + 1, n - f", "fast, slow = f, n - f + 1"),
        ),
    ],
    "lab04_ring": [
        (
            "a key on a token goes to the next one (bisect_right)",
            _RING.replace("bisect.bisect_left", "bisect.bisect_right"),
        ),
        (
            "takes the token before the key",
            _RING.replace("return points[i % len(points)][1]", "return points[i - 1][1]"),
        ),
        (
            "does not wrap past the last token",
            _RING.replace(
                "return points[i % len(points)][1]", "return points[min(i, len(points) - 1)][1]"
            ),
        ),
    ],
}
