"""Plausible wrong answers to Lab 6's exercises; each must lose points (tests/test_pipeline.py)."""

_ACCEPTOR = """class MyAcceptor(PaxosNode):
    def handle_prepare(self, msg):
        promised = self.storage.get("promised")
        if promised is not None and msg.ballot < promised:
            return Reject(msg.ballot, promised)
        self.storage["promised"] = msg.ballot
        accepted = self.storage.get("accepted")
        if accepted is None:
            return Promise(msg.ballot)
        return Promise(msg.ballot, accepted[0], accepted[1])

    def handle_accept(self, msg):
        promised = self.storage.get("promised")
        if promised is not None and msg.ballot < promised:
            return Reject(msg.ballot, promised)
        self.storage["promised"] = msg.ballot
        self.storage["accepted"] = (msg.ballot, msg.value)
        return Accepted(msg.ballot, msg.value)
"""

_CHOOSE = """class MyProposer(PaxosNode):
    def choose_value(self, promises):
{body}"""

_LEARNER = """class MyLearner(PaxosNode):
    def count_acceptance(self, src, msg):
{body}"""

MISTAKES = {
    "lab06_acceptor": [
        (
            "rejects a ballot equal to its promise (<= instead of <)",
            _ACCEPTOR.replace("msg.ballot < promised", "msg.ballot <= promised"),
        ),
        (
            "keeps its promise in memory, so a restart forgets it",
            _ACCEPTOR.replace(
                'self.storage.get("promised")', 'getattr(self, "promised", None)'
            ).replace('self.storage["promised"] = msg.ballot', "self.promised = msg.ballot"),
        ),
        (
            "accepting does not raise the promise",
            _ACCEPTOR.replace(
                """        self.storage["promised"] = msg.ballot
        self.storage["accepted"] = (msg.ballot, msg.value)""",
                """        self.storage["accepted"] = (msg.ballot, msg.value)""",
            ),
        ),
        (
            "a promise does not report what was accepted",
            _ACCEPTOR.replace(
                "return Promise(msg.ballot, accepted[0], accepted[1])",
                "return Promise(msg.ballot)",
            ),
        ),
        (
            "replies Accepted without storing the acceptance",
            _ACCEPTOR.replace(
                """        self.storage["accepted"] = (msg.ballot, msg.value)
""",
                "",
            ),
        ),
        (
            "a promise reports the accepted value under the new ballot",
            _ACCEPTOR.replace(
                "return Promise(msg.ballot, accepted[0], accepted[1])",
                "return Promise(msg.ballot, msg.ballot, accepted[1])",
            ),
        ),
        (
            "accepts whatever it is asked, whatever it promised",
            _ACCEPTOR.replace(
                """        promised = self.storage.get("promised")
        if promised is not None and msg.ballot < promised:
            return Reject(msg.ballot, promised)
        self.storage["promised"] = msg.ballot
        self.storage["accepted"]""",
                """        self.storage["accepted"]""",
            ),
        ),
    ],
    "lab06_ballot": [
        (
            "ignores the rounds heard of in rejections",
            """class MyBallots(PaxosNode):
    def next_ballot(self):
        round_ = self.storage["round"] + 1
        self.storage["round"] = round_
        return Ballot(round_, self.servers.index(self.id))
""",
        ),
        (
            "keeps the round in memory only",
            """class MyBallots(PaxosNode):
    def next_ballot(self):
        self.round_ = max(getattr(self, "round_", 0), self.highest_round_seen) + 1
        return Ballot(self.round_, self.servers.index(self.id))
""",
        ),
        (
            "every proposer uses index 0",
            """class MyBallots(PaxosNode):
    def next_ballot(self):
        round_ = max(self.storage["round"], self.highest_round_seen) + 1
        self.storage["round"] = round_
        return Ballot(round_, 0)
""",
        ),
        (
            "forgets the + 1: reuses the highest round",
            """class MyBallots(PaxosNode):
    def next_ballot(self):
        round_ = max(self.storage["round"], self.highest_round_seen, 1)
        self.storage["round"] = round_
        return Ballot(round_, self.servers.index(self.id))
""",
        ),
    ],
    "lab06_choose": [
        (
            "takes the first reported value",
            _CHOOSE.format(
                body="""        for p in promises:
            if p.accepted_ballot is not None:
                return p.accepted_value
        return self.value
"""
            ),
        ),
        (
            "takes the last reported value",
            _CHOOSE.format(
                body="""        value = self.value
        for p in promises:
            if p.accepted_ballot is not None:
                value = p.accepted_value
        return value
"""
            ),
        ),
        (
            "takes the value reported most often",
            _CHOOSE.format(
                body="""        from collections import Counter
        counts = Counter(p.accepted_value for p in promises if p.accepted_ballot is not None)
        return counts.most_common(1)[0][0] if counts else self.value
"""
            ),
        ),
        (
            "compares ballots by round only",
            _CHOOSE.format(
                body="""        best = None
        for p in promises:
            if p.accepted_ballot is not None and (
                best is None or p.accepted_ballot.round > best.accepted_ballot.round
            ):
                best = p
        return self.value if best is None else best.accepted_value
"""
            ),
        ),
        (
            "always proposes its own value",
            _CHOOSE.format(body="        return self.value\n"),
        ),
    ],
    "lab06_learner": [
        (
            "counts messages, so a duplicate counts twice",
            _LEARNER.format(
                body="""        key = (msg.ballot, msg.value)
        self.acceptances[key] = self.acceptances.get(key, 0) + 1
        if self.acceptances[key] >= self.majority:
            self.learn(msg.value, source="majority")
"""
            ),
        ),
        (
            "counts acceptors per value, whatever the ballot",
            _LEARNER.format(
                body="""        seen = self.acceptances.setdefault(msg.value, set())
        seen.add(src)
        if len(seen) >= self.majority:
            self.learn(msg.value, source="majority")
"""
            ),
        ),
        (
            "waits for more than a majority",
            _LEARNER.format(
                body="""        seen = self.acceptances.setdefault(msg.ballot, set())
        seen.add(src)
        if len(seen) > self.majority:
            self.learn(msg.value, source="majority")
"""
            ),
        ),
        (
            "learns the first value accepted anywhere",
            _LEARNER.format(
                body="""        self.learn(msg.value, source="majority")
"""
            ),
        ),
    ],
}

#: The test cells that judge an exercise, where they are not just "<exercise>_tests": the
#: acceptor is also judged by a search over every interleaving.
TESTS = {"lab06_acceptor": ["lab06_acceptor_tests", "lab06_acceptor_search"]}
