"""Plausible wrong answers to Lab 1's exercises; each must lose points (tests/test_pipeline.py)."""

_SERIES = """def series_availability(avails):
    avails = list(avails)
    if not avails or any(not 0.0 <= a <= 1.0 for a in avails):
        raise ValueError("bad availabilities")
    total = 1.0
    for a in avails:
        total *= a
    return total
"""

_PARALLEL = """def parallel_availability(avails):
    avails = list(avails)
    if not avails or any(not 0.0 <= a <= 1.0 for a in avails):
        raise ValueError("bad availabilities")
    down = 1.0
    for a in avails:
        down *= 1.0 - a
    return 1.0 - down
"""

_CLIENT_HEAD = """class MyRetryClient(RetryClient):
    def on_message(self, src, msg):
        if self.req is None or msg.rid != self.req.rid:
            return
        self.end(self.op, msg.value)
        self.cancel_timer("timeout")
        self.next_request()

"""

MISTAKES = {
    "lab01_availability": [
        (
            "parallel multiplies the availabilities and takes the complement",
            _SERIES
            + """
def parallel_availability(avails):
    avails = list(avails)
    if not avails or any(not 0.0 <= a <= 1.0 for a in avails):
        raise ValueError("bad availabilities")
    total = 1.0
    for a in avails:
        total *= a
    return 1.0 - total
""",
        ),
        (
            "series is the weakest component",
            """def series_availability(avails):
    avails = list(avails)
    if not avails or any(not 0.0 <= a <= 1.0 for a in avails):
        raise ValueError("bad availabilities")
    return min(avails)
"""
            + _PARALLEL,
        ),
        (
            "parallel does not check its input",
            _SERIES
            + """
def parallel_availability(avails):
    down = 1.0
    for a in avails:
        down *= 1.0 - a
    return 1.0 - down
""",
        ),
    ],
    "lab01_replicas": [
        (
            "n = ceil(log(1 - target) / log(1 - a)), off by one where the quotient rounds up",
            """import math

def replicas_needed(a, target):
    if not 0.0 <= a <= 1.0 or not 0.0 <= target <= 1.0:
        raise ValueError("out of range")
    if target == 1.0 and a < 1.0 or a == 0.0 and target > 0.0:
        raise ValueError("unreachable")
    if a == 1.0 or target == 0.0:
        return 1
    return max(1, math.ceil(math.log(1 - target) / math.log(1 - a)))
""",
        ),
        (
            "strict comparison: a target met exactly asks for one replica more",
            """def replicas_needed(a, target):
    if not 0.0 <= a <= 1.0 or not 0.0 <= target <= 1.0:
        raise ValueError("out of range")
    if target == 1.0 and a < 1.0 or a == 0.0 and target > 0.0:
        raise ValueError("unreachable")
    n = 1
    while 1.0 - (1.0 - a) ** n <= target:
        n += 1
    return n
""",
        ),
        (
            "n = floor(log(1 - target) / log(1 - a)) + 1: one too many when the quotient is whole",
            """import math

def replicas_needed(a, target):
    if not 0.0 <= a <= 1.0 or not 0.0 <= target <= 1.0:
        raise ValueError("out of range")
    if target == 1.0 and a < 1.0 or a == 0.0 and target > 0.0:
        raise ValueError("unreachable")
    if a == 1.0 or target == 0.0:
        return 1
    return int(math.log(1 - target) / math.log(1 - a)) + 1
""",
        ),
        (
            "no error for a target that cannot be met (gives up after 100 replicas)",
            """def replicas_needed(a, target):
    n = 1
    while n < 100 and 1.0 - (1.0 - a) ** n < target - 1e-15:
        n += 1
    return n
""",
        ),
    ],
    "lab01_retry": [
        (
            "one attempt too many: retries while attempt < tries",
            _CLIENT_HEAD
            + """    def on_timer(self, name):
        if name != "timeout" or self.req is None:
            return
        if self.attempt < self.tries:
            self.attempt += 1
            self.try_once()
        else:
            self.end(self.op, None, "unknown")
            self.next_request()
""",
        ),
        (
            "never reports unknown: gives up silently and moves on",
            _CLIENT_HEAD
            + """    def on_timer(self, name):
        if name != "timeout" or self.req is None:
            return
        if self.attempt + 1 < self.tries:
            self.attempt += 1
            self.try_once()
        else:
            self.next_request()
""",
        ),
        (
            "reports a failed request as fail instead of unknown",
            _CLIENT_HEAD
            + """    def on_timer(self, name):
        if name != "timeout" or self.req is None:
            return
        if self.attempt + 1 < self.tries:
            self.attempt += 1
            self.try_once()
        else:
            self.end(self.op, None, "fail")
            self.next_request()
""",
        ),
        (
            "takes any reply, even a late one for an earlier request",
            """class MyRetryClient(RetryClient):
    def on_message(self, src, msg):
        if self.req is None:
            return
        self.end(self.op, msg.value)
        self.cancel_timer("timeout")
        self.next_request()

    def on_timer(self, name):
        if name != "timeout" or self.req is None:
            return
        if self.attempt + 1 < self.tries:
            self.attempt += 1
            self.try_once()
        else:
            self.end(self.op, None, "unknown")
            self.next_request()
""",
        ),
        (
            "never retries: one attempt, then unknown",
            _CLIENT_HEAD
            + """    def on_timer(self, name):
        if name != "timeout" or self.req is None:
            return
        self.end(self.op, None, "unknown")
        self.next_request()
""",
        ),
    ],
    "lab01_heartbeat": [
        (
            "stops checking after its first suspicion",
            """class MyMonitor(Monitor):
    def on_timer(self, name):
        for peer, heard in self.last_heard.items():
            if peer not in self.suspected and self.now - heard > self.timeout:
                self.suspected.add(peer)
                self.note("suspect", peer=peer)
                return
        self.set_timer("check", self.period)
""",
        ),
        (
            "suspects again at every check",
            """class MyMonitor(Monitor):
    def on_timer(self, name):
        for peer, heard in self.last_heard.items():
            if self.now - heard > self.timeout:
                self.suspected.add(peer)
                self.note("suspect", peer=peer)
        self.set_timer("check", self.period)
""",
        ),
        (
            "checks once and never again",
            """class MyMonitor(Monitor):
    def on_timer(self, name):
        for peer, heard in self.last_heard.items():
            if peer not in self.suspected and self.now - heard > self.timeout:
                self.suspected.add(peer)
                self.note("suspect", peer=peer)
""",
        ),
        (
            "compares with the period instead of the timeout",
            """class MyMonitor(Monitor):
    def on_timer(self, name):
        for peer, heard in self.last_heard.items():
            if peer not in self.suspected and self.now - heard > self.period:
                self.suspected.add(peer)
                self.note("suspect", peer=peer)
        self.set_timer("check", self.period)
""",
        ),
    ],
}
