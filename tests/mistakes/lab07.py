"""Plausible wrong answers to Lab 7's exercises; each must lose points (tests/test_pipeline.py)."""

_VOTE = """from distlib.protocols.raft import RaftNode, RequestVoteReply


class VoteRaft(RaftNode):
    def handle_request_vote(self, msg):
        if msg.term < self.term:
            return RequestVoteReply(self.term, False)
        if self.voted_for not in (None, msg.candidate):
            return RequestVoteReply(self.term, False)
        up_to_date = msg.last_log_term > self.last_log_term or (
            msg.last_log_term == self.last_log_term and msg.last_log_index >= self.last_log_index
        )
        if not up_to_date:
            return RequestVoteReply(self.term, False)
        self.voted_for = msg.candidate
        self.reset_election_timer()
        return RequestVoteReply(self.term, True)
"""

_TIMEOUT = """from distlib.protocols.raft import split_vote_probability


def election_timeout_for(n, delay, target):
    if not 0 < target < 1:
        raise ValueError("target")
    ms = 1
    while split_vote_probability(n, ms / 1000, delay) > target:
        ms += 1
    return ms / 1000
"""

_APPEND = """from distlib.protocols.raft import AppendEntriesReply, RaftNode


class AppendRaft(RaftNode):
    def handle_append_entries(self, msg):
        if msg.term < self.term:
            return AppendEntriesReply(self.term, False)
        log = self.log
        prev = msg.prev_log_index
        if prev >= len(log):
            return AppendEntriesReply(self.term, False, conflict_index=len(log))
        if log[prev].term != msg.prev_log_term:
            term = log[prev].term
            first = prev
            while log[first - 1].term == term:
                first -= 1
            return AppendEntriesReply(self.term, False, conflict_term=term, conflict_index=first)
        index = prev
        for entry in msg.entries:
            index += 1
            if index < len(log):
                if log[index].term == entry.term:
                    continue
                del log[index:]
            log.append(entry)
        return AppendEntriesReply(self.term, True, match_index=prev + len(msg.entries))
"""

_COMMIT = """from distlib.protocols.raft import RaftNode


class CommitRaft(RaftNode):
    def advance_commit_index(self):
        matches = sorted([self.last_log_index, *self.match_index.values()], reverse=True)
        n = matches[self.majority - 1]
        if n > self.commit_index and self.log[n].term == self.term:
            self.commit_index = n
"""

MISTAKES = {
    "lab07_vote": [
        (
            "records the vote before checking the candidate's log",
            _VOTE.replace(
                "        up_to_date =",
                "        self.voted_for = msg.candidate\n        up_to_date =",
                1,
            ),
        ),
        (
            "a log of equal length is not up to date (> instead of >=)",
            _VOTE.replace(
                "msg.last_log_index >= self.last_log_index",
                "msg.last_log_index > self.last_log_index",
            ),
        ),
        (
            "the longer log wins, whatever its last term",
            _VOTE.replace(
                """        up_to_date = msg.last_log_term > self.last_log_term or (
            msg.last_log_term == self.last_log_term and msg.last_log_index >= self.last_log_index
        )""",
                """        up_to_date = msg.last_log_index >= self.last_log_index""",
            ),
        ),
        (
            "skips the up-to-date check: any candidate of the term gets the vote",
            _VOTE.replace(
                """        up_to_date = msg.last_log_term > self.last_log_term or (
            msg.last_log_term == self.last_log_term and msg.last_log_index >= self.last_log_index
        )""",
                """        up_to_date = True""",
            ),
        ),
        (
            "granting does not restart the election timer",
            _VOTE.replace("        self.reset_election_timer()\n", ""),
        ),
        (
            "votes for every up-to-date candidate in a term",
            _VOTE.replace(
                """        if self.voted_for not in (None, msg.candidate):
            return RequestVoteReply(self.term, False)
""",
                "",
            ),
        ),
    ],
    "lab07_timeout": [
        ("returns milliseconds, not seconds", _TIMEOUT.replace("return ms / 1000", "return ms")),
        ("searches in steps of 5 ms", _TIMEOUT.replace("ms += 1", "ms += 5")),
        (
            "no error for a target of 0 or 1",
            _TIMEOUT.replace(
                """    if not 0 < target < 1:
        raise ValueError("target")
""",
                "    target = min(max(target, 1e-3), 0.999)\n",
            ),
        ),
        (
            "one millisecond short: the last timeout that misses the target",
            _TIMEOUT.replace("return ms / 1000", "return (ms - 1) / 1000 if ms > 1 else ms / 1000"),
        ),
    ],
    "lab07_append": [
        (
            "overwrites a conflicting entry but keeps those after it",
            _APPEND.replace(
                """                del log[index:]
            log.append(entry)""",
                """                log[index] = entry
                continue
            log.append(entry)""",
            ),
        ),
        (
            "always truncates after prev_log_index",
            _APPEND.replace(
                """        index = prev
        for entry in msg.entries:""",
                """        del log[prev + 1:]
        index = prev
        for entry in msg.entries:""",
            ),
        ),
        (
            "the conflict hint names prev_log_index, not the first index of the term",
            _APPEND.replace(
                """            while log[first - 1].term == term:
                first -= 1
""",
                "",
            ),
        ),
        (
            "a log too short reports prev_log_index as the conflict",
            _APPEND.replace("conflict_index=len(log))", "conflict_index=prev)"),
        ),
        (
            "rejects a leader of its own term",
            _APPEND.replace("if msg.term < self.term:", "if msg.term <= self.term:"),
        ),
    ],
    "lab07_commit": [
        (
            "commits entries of earlier terms by counting replicas",
            _COMMIT.replace(" and self.log[n].term == self.term", ""),
        ),
        (
            "one replica short of a majority",
            _COMMIT.replace("n = matches[self.majority - 1]", "n = matches[self.majority - 2]"),
        ),
        ("lowers commit_index", _COMMIT.replace("if n > self.commit_index and", "if")),
        (
            "does not count the leader's own log",
            _COMMIT.replace(
                "[self.last_log_index, *self.match_index.values()]",
                "[*self.match_index.values(), 0]",
            ),
        ),
    ],
}

#: The test cells that judge an exercise, where they are not just "<exercise>_tests": the vote
#: and commit rules are also judged by searches over every interleaving.
TESTS = {
    "lab07_vote": ["lab07_vote_tests", "lab07_vote_search"],
    "lab07_commit": ["lab07_commit_tests", "lab07_commit_search"],
}
