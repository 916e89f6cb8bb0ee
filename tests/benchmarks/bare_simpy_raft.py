"""The anchor of ``raft_sim_speedup``: a bare Raft written straight on simpy, under the same load.

Run from the repository root: ``python tests/benchmarks/bare_simpy_raft.py [--repeat N]``.

bench_raft.py's loaded run (5 servers of :class:`distlib.protocols.raft.RaftNode`, 5 clients each
sending a command 0.1 s after its last one committed, 60 simulated seconds) is here rewritten as
plainly as Raft allows on raw simpy: one simpy timeout with a callback per message and per timer,
no trace, no storage (nothing written, nothing copied), no checks, no history, no notes; messages
are tuples. It keeps what makes the reference's message count: the same latency (uniform 1-10
ms), election timeouts (0.3-0.6 s, one pending timer per server whose deadline heartbeats push
back), heartbeats every 0.1 s, a zero-delay "replicate" timer per submitted command, up to 64
entries per AppendEntries, replies after every AppendEntries, a retry timer (0.25 s) and an
operation timeout (2 s) per client request, redirects to the leader.

Prints ``figure: bare_simpy_raft_speedup`` (simulated seconds per wall second, best of
``--repeat``), the reference's ``raft_sim_speedup`` measured in the same process, interleaved,
and ``figure: raft_vs_bare_simpy``, the reference's wall time over the bare one's. The bare
version is the floor of any runtime built on simpy for this load: the issue that set the target
``raft_sim_speedup >= 1000`` gave the anchor as "a bare simpy Raft at about 2,300x" on its
machine.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

import simpy
from simpy.events import Timeout

sys.path.insert(0, str(Path(__file__).resolve().parent))

DURATION = 60.0
THINK = 0.1
N_SERVERS = 5
N_CLIENTS = 5
LOW, HIGH = 0.001, 0.010  # the simulation's default latency, uniform
ELECTION = (0.3, 0.6)
HEARTBEAT = 0.1
MAX_ENTRIES = 64
RETRY = 0.25
OP_TIMEOUT = 2.0

FOLLOWER, CANDIDATE, LEADER = 0, 1, 2


class World:
    """The clock, the random numbers and the message delivery of one run."""

    def __init__(self, seed: int) -> None:
        self.env = simpy.Environment()
        self.rng = random.Random(seed)
        self.nodes: dict[str, Server | Client] = {}

    def send(self, src: str, dst: str, msg: tuple) -> None:
        node = self.nodes[dst]
        ev = Timeout(self.env, LOW + (HIGH - LOW) * self.rng.random())
        ev.callbacks.append(lambda _ev: node.receive(src, msg))

    def after(self, delay: float, fn, *args) -> None:
        ev = Timeout(self.env, delay)
        ev.callbacks.append(lambda _ev: fn(*args))


class Server:
    def __init__(self, world: World, name: str, peers: list[str]) -> None:
        self.w, self.name, self.peers = world, name, peers
        self.term = 0
        self.voted_for: str | None = None
        self.log: list[tuple[int, object]] = [(0, None)]
        self.commit = self.applied = 0
        self.role = FOLLOWER
        self.leader: str | None = None
        self.votes: set[str] = set()
        self.next: dict[str, int] = {}
        self.match: dict[str, int] = {}
        self.pending: dict[int, tuple[str, int]] = {}
        self.delay = self.deadline = 0.0
        self.armed = False
        self.replicating = False
        self.heartbeat_token = 0
        self.reset(redraw=True)

    # -- timers ------------------------------------------------------------------------------

    def reset(self, redraw: bool = False) -> None:
        if redraw:
            self.delay = self.w.rng.uniform(*ELECTION)
        self.deadline = self.w.env.now + self.delay
        if redraw or not self.armed:
            self.armed = True
            self.w.after(self.delay, self.election_timer)

    def election_timer(self) -> None:
        self.armed = False
        if self.role == LEADER:
            return
        now = self.w.env.now
        if now < self.deadline:
            self.armed = True
            self.w.after(self.deadline - now, self.election_timer)
            return
        self.term += 1
        self.role, self.voted_for, self.votes = CANDIDATE, self.name, {self.name}
        self.reset(redraw=True)
        last = len(self.log) - 1
        for p in self.peers:
            self.w.send(self.name, p, ("vote", self.term, self.name, last, self.log[last][0]))

    def heartbeat(self, token: int) -> None:
        if self.role == LEADER and token == self.heartbeat_token:
            self.broadcast()

    def replicate(self) -> None:
        self.replicating = False
        if self.role == LEADER:
            self.broadcast()

    def broadcast(self) -> None:
        for p in self.peers:
            self.send_entries(p)
        self.heartbeat_token += 1
        self.w.after(HEARTBEAT, self.heartbeat, self.heartbeat_token)

    def send_entries(self, p: str) -> None:
        start = self.next[p]
        entries = tuple(self.log[start : start + MAX_ENTRIES])
        prev = start - 1
        msg = ("append", self.term, self.name, prev, self.log[prev][0], entries, self.commit)
        self.w.send(self.name, p, msg)
        self.next[p] = start + len(entries)

    # -- messages ----------------------------------------------------------------------------

    def receive(self, src: str, msg: tuple) -> None:
        kind = msg[0]
        if kind == "request":
            self.on_request(src, msg)
            return
        term = msg[1]
        if term > self.term:
            self.term, self.voted_for, self.role = term, None, FOLLOWER
            self.reset(redraw=True)
        if kind == "append":
            self.on_append(src, msg)
        elif kind == "append_reply":
            self.on_append_reply(src, msg)
        elif kind == "vote":
            self.on_vote(src, msg)
        else:
            self.on_vote_reply(src, msg)

    def on_vote(self, src: str, msg: tuple) -> None:
        _, term, cand, last_index, last_term = msg
        my_last = len(self.log) - 1
        ok = (
            term == self.term
            and self.voted_for in (None, cand)
            and (last_term, last_index) >= (self.log[my_last][0], my_last)
        )
        if ok:
            self.voted_for = cand
            self.reset()
        self.w.send(self.name, src, ("vote_reply", self.term, ok))

    def on_vote_reply(self, src: str, msg: tuple) -> None:
        if self.role != CANDIDATE or msg[1] != self.term or not msg[2]:
            return
        self.votes.add(src)
        if len(self.votes) * 2 > N_SERVERS:
            self.role, self.leader = LEADER, self.name
            self.next = {p: len(self.log) for p in self.peers}
            self.match = {p: 0 for p in self.peers}
            self.broadcast()

    def on_append(self, src: str, msg: tuple) -> None:
        _, term, leader, prev, prev_term, entries, commit = msg
        if term < self.term:
            self.w.send(self.name, src, ("append_reply", self.term, False, 0, len(self.log)))
            return
        self.role, self.leader = FOLLOWER, leader
        self.reset()
        log = self.log
        if prev >= len(log) or log[prev][0] != prev_term:
            self.w.send(self.name, src, ("append_reply", self.term, False, 0, min(prev, len(log))))
            return
        index = prev
        for entry in entries:
            index += 1
            if index < len(log):
                if log[index][0] == entry[0]:
                    continue
                del log[index:]
            log.append(entry)
        match = prev + len(entries)
        if commit > self.commit:
            self.commit = min(commit, match)
            self.apply()
        self.w.send(self.name, src, ("append_reply", self.term, True, match, 0))

    def on_append_reply(self, src: str, msg: tuple) -> None:
        _, term, ok, match, hint = msg
        if self.role != LEADER or term != self.term:
            return
        if ok:
            if match > self.match[src]:
                self.match[src] = match
                matches = sorted([len(self.log) - 1, *self.match.values()], reverse=True)
                n = matches[N_SERVERS // 2]
                if n > self.commit and self.log[n][0] == self.term:
                    self.commit = n
                    self.apply()
            if self.next[src] <= self.match[src]:
                self.next[src] = self.match[src] + 1
            if self.next[src] < len(self.log):
                self.send_entries(src)
        else:
            self.next[src] = max(self.match[src] + 1, min(hint, len(self.log)), 1)
            self.send_entries(src)

    def apply(self) -> None:
        while self.applied < self.commit:
            self.applied += 1
            waiting = self.pending.pop(self.applied, None)
            if waiting is not None:
                client, seq = waiting
                self.w.send(self.name, client, ("reply", seq, True, self.applied, None))

    def on_request(self, src: str, msg: tuple) -> None:
        _, seq, command = msg
        if self.role != LEADER:
            self.w.send(self.name, src, ("reply", seq, False, 0, self.leader))
            return
        self.log.append((self.term, command))
        self.pending[len(self.log) - 1] = (src, seq)
        if not self.replicating:
            self.replicating = True
            self.w.after(0.0, self.replicate)


class Client:
    def __init__(self, world: World, name: str, servers: list[str]) -> None:
        self.w, self.name, self.servers = world, name, servers
        self.seq = 0
        self.current: int | None = None
        self.target: str | None = None
        self.committed = 0
        self.w.after(THINK, self.next_op)

    def next_op(self) -> None:
        self.seq += 1
        self.current = self.seq
        if self.target is None:
            self.target = self.w.rng.choice(self.servers)
        self.w.after(OP_TIMEOUT, self.timed_out, self.seq)
        self.request()

    def request(self) -> None:
        self.w.send(self.name, self.target, ("request", self.seq, f"{self.name}-{self.seq}"))
        self.w.after(RETRY, self.retry, self.seq, self.target)

    def retry(self, seq: int, target: str) -> None:
        if self.current == seq and self.target == target:
            i = self.servers.index(target)
            self.target = self.servers[(i + 1) % len(self.servers)]
            self.request()

    def timed_out(self, seq: int) -> None:
        if self.current == seq:
            self.current = None
            self.w.after(THINK, self.next_op)

    def receive(self, src: str, msg: tuple) -> None:
        _, seq, ok, _index, leader = msg
        if seq != self.current:
            return
        if ok:
            self.committed += 1
            self.current = None
            self.w.after(THINK, self.next_op)
        elif leader is not None and leader != src:
            self.target = leader
            self.request()


def bare_run(seed: int = 1) -> tuple[float, int]:
    """Wall seconds of 60 simulated seconds, and the commands committed."""
    world = World(seed)
    servers = [f"s{i}" for i in range(1, N_SERVERS + 1)]
    for name in servers:
        world.nodes[name] = Server(world, name, [p for p in servers if p != name])
    clients = [Client(world, f"c{i}", servers) for i in range(1, N_CLIENTS + 1)]
    for c in clients:
        world.nodes[c.name] = c
    gc.collect()
    start = time.perf_counter()
    world.env.run(until=DURATION)
    wall = time.perf_counter() - start
    commits = max(s.commit for s in world.nodes.values() if isinstance(s, Server))
    return wall, commits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (best is shown)")
    args = parser.parse_args()
    import bench_raft

    bare, ours = [], []
    for _ in range(args.repeat):
        wall, commits = bare_run()
        bare.append(wall)
        ours_wall, _, _, ours_commits = bench_raft.loaded_run()
        ours.append(ours_wall)
    print(f"  bare: {commits} commits in {DURATION:.0f} simulated s, {min(bare):.3f} wall s")
    print(f"  reference: {ours_commits} commits, {min(ours):.3f} wall s")
    print(f"figure: bare_simpy_raft_speedup = {DURATION / min(bare):.0f}")
    print(f"figure: raft_sim_speedup = {DURATION / min(ours):.0f}")
    print(f"figure: raft_vs_bare_simpy = {min(ours) / min(bare):.2f} x")


if __name__ == "__main__":
    main()
