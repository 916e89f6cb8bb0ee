"""Plausible wrong answers to Lab 5's exercises; each must lose points (tests/test_pipeline.py)."""

_PREPARE = """class MyParticipant(Participant):
    def handle_prepare(self, src, msg):
        tx = msg.tx
        if tx in self.storage["vote"]:
            return Vote(tx, self.storage["vote"][tx])
        yes = False if self.decision(tx) == "abort" else self.vote(tx, msg.writes)
        if yes:
            record = {"coordinator": src, "participants": msg.participants, "writes": msg.writes}
            self.save_prepared(tx, record)
        else:
            self.log_decision(tx, "abort")
        self.storage["vote"][tx] = yes
        self.note("vote", tx=tx, vote="yes" if yes else "no")
        return Vote(tx, yes)

"""

_COMMIT = """    def commit(self, tx):
        if self.decision(tx) is not None:
            return
        record = self.load_prepared(tx)
        for key, value in record["writes"]:
            self.storage["data"][key] = value
        self.log_decision(tx, "commit")
"""

MISTAKES = {
    "lab05_participant": [
        (
            "keeps the prepared record in memory, not in storage",
            _PREPARE.replace("self.save_prepared(tx, record)", "self.pending = {tx: record}")
            + """    def commit(self, tx):
        if self.decision(tx) is not None:
            return
        for key, value in self.pending[tx]["writes"]:
            self.storage["data"][key] = value
        self.log_decision(tx, "commit")
""",
        ),
        (
            "ignores a repeated Prepare instead of repeating its vote",
            _PREPARE.replace(
                """            return Vote(tx, self.storage["vote"][tx])""",
                "            return None",
            )
            + _COMMIT,
        ),
        (
            "votes yes on a transaction it has already aborted",
            _PREPARE.replace(
                'yes = False if self.decision(tx) == "abort" else self.vote(tx, msg.writes)',
                "yes = self.vote(tx, msg.writes)",
            )
            + _COMMIT,
        ),
        (
            "a no vote is not logged as an abort",
            _PREPARE.replace(
                """        else:
            self.log_decision(tx, "abort")
""",
                "",
            )
            + _COMMIT,
        ),
        (
            "answers a repeated Prepare with yes whatever it voted",
            _PREPARE.replace(
                """            return Vote(tx, self.storage["vote"][tx])""",
                """            return Vote(tx, True)""",
            )
            + _COMMIT,
        ),
        (
            "commit applies the writes but does not log the decision",
            _PREPARE + _COMMIT.replace('        self.log_decision(tx, "commit")\n', ""),
        ),
        (
            "votes again from scratch on a repeated Prepare (a restarted node may change its vote)",
            _PREPARE.replace(
                """        if tx in self.storage["vote"]:
            return Vote(tx, self.storage["vote"][tx])
""",
                "",
            )
            + _COMMIT,
        ),
    ],
    "lab05_decide": [
        (
            "a no from a node that is not a participant aborts",
            """class MyCoordinator(Coordinator):
    def decide(self, tx, votes, participants):
        if False in votes.values():
            return False
        if all(votes.get(p) is True for p in participants):
            return True
        return None
""",
        ),
        (
            "commits when every vote received so far is yes",
            """class MyCoordinator(Coordinator):
    def decide(self, tx, votes, participants):
        if any(v is False for v in votes.values()):
            return False
        if votes and all(votes.values()):
            return True
        return None
""",
        ),
        (
            "commits on a majority of yes votes",
            """class MyCoordinator(Coordinator):
    def decide(self, tx, votes, participants):
        yes = sum(1 for p in participants if votes.get(p) is True)
        if yes > len(participants) // 2:
            return True
        if any(votes.get(p) is False for p in participants):
            return False
        return None
""",
        ),
        (
            "aborts while votes are still missing",
            """class MyCoordinator(Coordinator):
    def decide(self, tx, votes, participants):
        return all(votes.get(p) is True for p in participants)
""",
        ),
    ],
    "lab05_cooperate": [
        (
            "guesses abort when it voted yes and knows nothing",
            """class CooperativeParticipant(Participant):
    def handle_decision_request(self, msg):
        tx = msg.tx
        decided = self.decision(tx)
        if decided is not None:
            return Decision(tx, decided == "commit")
        self.log_decision(tx, "abort")
        return Decision(tx, False)
""",
        ),
        (
            "says abort without logging it, so it can still vote yes later",
            """class CooperativeParticipant(Participant):
    def handle_decision_request(self, msg):
        tx = msg.tx
        decided = self.decision(tx)
        if decided is not None:
            return Decision(tx, decided == "commit")
        if tx not in self.storage["vote"]:
            return Decision(tx, False)
        return Uncertain(tx)
""",
        ),
        (
            "answers Uncertain whenever no decision is logged, even if it never voted",
            """class CooperativeParticipant(Participant):
    def handle_decision_request(self, msg):
        tx = msg.tx
        decided = self.decision(tx)
        if decided is not None:
            return Decision(tx, decided == "commit")
        return Uncertain(tx)
""",
        ),
        (
            "reports any known outcome as commit",
            """class CooperativeParticipant(Participant):
    def handle_decision_request(self, msg):
        tx = msg.tx
        decided = self.decision(tx)
        if decided is not None:
            return Decision(tx, True)
        if tx not in self.storage["vote"]:
            self.log_decision(tx, "abort")
            return Decision(tx, False)
        return Uncertain(tx)
""",
        ),
        (
            "answers nothing when it knows nothing (the asker waits for ever)",
            """class CooperativeParticipant(Participant):
    def handle_decision_request(self, msg):
        tx = msg.tx
        decided = self.decision(tx)
        if decided is not None:
            return Decision(tx, decided == "commit")
        if tx not in self.storage["vote"]:
            self.log_decision(tx, "abort")
            return Decision(tx, False)
        return None
""",
        ),
    ],
    "lab05_recover": [
        (
            "aborts every begun transaction, even one whose commit was logged",
            """class RecoveringCoordinator(Coordinator):
    def recover(self):
        for tx in list(self.storage["begin"]):
            if self.storage["decision"].get(tx) == "abort" or tx not in self.storage["decision"]:
                self.finish(tx, commit=False)
            else:
                self.storage["decision"][tx] = "abort"
                self.announce(tx)
""",
        ),
        (
            "re-sends logged decisions but leaves undecided transactions hanging",
            """class RecoveringCoordinator(Coordinator):
    def recover(self):
        for tx in list(self.storage["begin"]):
            if tx in self.storage["decision"]:
                self.announce(tx)
""",
        ),
        (
            "aborts undecided transactions but does not re-send logged decisions",
            """class RecoveringCoordinator(Coordinator):
    def recover(self):
        for tx in list(self.storage["begin"]):
            if tx not in self.storage["decision"]:
                self.finish(tx, commit=False)
""",
        ),
        (
            "commits the undecided transactions",
            """class RecoveringCoordinator(Coordinator):
    def recover(self):
        for tx in list(self.storage["begin"]):
            if tx in self.storage["decision"]:
                self.announce(tx)
            else:
                self.finish(tx, commit=True)
""",
        ),
    ],
}

#: The test cells that judge an exercise, where they are not just "<exercise>_tests": the
#: coordinator's rule is also judged by a search over every interleaving.
TESTS = {"lab05_decide": ["lab05_decide_tests", "lab05_decide_search"]}
