"""Tests for distlib.sim.simulation: faults, crashes, determinism, run modes and bad input."""

from __future__ import annotations

import pytest
from conftest import Echo

from distlib import Constant, Exponential, Node, NodeError, Simulation, SimulationError, Uniform
from distlib.client import Workload


class Sink(Node):
    """Records every delivery; sends a numbered burst to ``target`` at start."""

    def __init__(self, *, target: str | None = None, count: int = 0) -> None:
        super().__init__()
        self.target = target
        self.count = count
        self.got: list = []

    def on_start(self) -> None:
        for i in range(self.count):
            self.send(self.target, i)

    def on_message(self, src, msg) -> None:
        self.got.append((src, msg))


def two_nodes(count: int = 200, seed: int = 0, **net) -> Simulation:
    sim = Simulation(seed=seed, **net)
    sim.add_node("a", lambda: Sink(target="b", count=count))
    sim.add_node("b", Sink)
    return sim


def test_reliable_network_delivers_everything():
    """With no faults configured every message is delivered exactly once."""
    sim = two_nodes()
    sim.run()
    assert sorted(m for _, m in sim.node("b").got) == list(range(200))
    assert sim.stats["delivered"] == 200 and sim.stats["dropped"] == 0


def test_loss_drops_about_the_configured_fraction():
    """loss=0.3 drops roughly 30% of messages, each drop traced with reason 'loss'."""
    sim = two_nodes(count=2000, loss=0.3)
    sim.run()
    drops = sim.trace.filter("drop")
    assert 0.25 < len(drops) / 2000 < 0.35, f"dropped {len(drops)} of 2000 with loss=0.3"
    assert {e.detail for e in drops} == {"loss"}
    assert len(sim.node("b").got) == 2000 - len(drops)


def test_duplication_delivers_copies():
    """duplicate=0.5 delivers some messages twice, and each duplication is traced."""
    sim = two_nodes(count=400, duplicate=0.5)
    sim.run()
    dups = len(sim.trace.filter("dup"))
    assert 150 < dups < 250, f"{dups} duplicates of 400 with duplicate=0.5"
    assert len(sim.node("b").got) == 400 + dups


def test_constant_latency_is_fifo_and_reorder_breaks_it():
    """Constant latency keeps a link in order; reorder=0.2 makes later messages overtake."""
    sim = two_nodes(latency=Constant(0.01))
    sim.run()
    assert [m for _, m in sim.node("b").got] == list(range(200))
    sim = two_nodes(latency=Constant(0.01), reorder=0.2, reorder_delay=Uniform(0.2, 2.2))
    sim.run()
    got = [m for _, m in sim.node("b").got]
    assert sorted(got) == list(range(200)) and got != list(range(200))


@pytest.mark.parametrize(
    ("latency", "low", "high"),
    [
        (Constant(0.05), 0.05, 0.05),
        (Uniform(0.01, 0.03), 0.01, 0.03),
        (Exponential(0.02, minimum=0.005), 0.005, 1.0),
    ],
)
def test_latency_distributions_bound_delivery_times(latency, low, high):
    """Every delivery time lies within the latency distribution's support."""
    sim = two_nodes(latency=latency)
    sim.run()
    times = [e.time for e in sim.trace.filter("deliver")]
    assert min(times) >= low - 1e-12 and max(times) <= high + 1e-12


def test_exponential_latency_mean_is_about_right():
    """Exponential(mean, minimum) delays average minimum + mean."""
    sim = two_nodes(count=3000, latency=Exponential(0.02, minimum=0.01))
    sim.run()
    times = [e.time for e in sim.trace.filter("deliver")]
    assert abs(sum(times) / len(times) - 0.03) < 0.003


def test_per_link_override_applies_to_one_link_only():
    """set_link() changes one link's behaviour and leaves the others at the defaults."""
    sim = Simulation(seed=1, latency=Constant(0.01))
    sim.add_node("a", lambda: Sink(target="b", count=50))
    sim.add_node("c", lambda: Sink(target="b", count=50))
    sim.add_node("b", Sink)
    sim.network.set_link("a", "b", loss=1.0)
    sim.run()
    senders = {src for src, _ in sim.node("b").got}
    assert senders == {"c"}, f"only c's messages should arrive, got {senders}"


def test_partition_blocks_across_groups_and_heal_restores():
    """A partition drops messages between groups (reason 'partition'); heal() ends it."""
    sim = Simulation(seed=2, latency=Constant(0.01))
    sim.add_nodes(["a", "b", "c"], lambda: Echo(chatty=True))
    sim.partition(["a"], ["b", "c"])
    sim.run(until=1.0)
    drops = sim.trace.filter("drop")
    assert drops and all(e.detail == "partition" for e in drops)
    assert all("a" in (e.node, e.peer) for e in drops), "only links to and from a are cut"
    assert not any(src in ("b", "c") for src, _ in sim.node("a").pongs)
    sim.heal()
    sim.run(until=2.0)
    assert any(src == "b" for src, _ in sim.node("a").pongs), "after heal a hears from b again"


def test_unnamed_servers_form_their_own_group():
    """Servers a partition does not name form one more group together."""
    sim = Simulation(seed=2, latency=Constant(0.01))
    sim.add_nodes(["a", "b", "c", "d"], lambda: Echo(chatty=True))
    sim.partition(["a", "b"])
    sim.run(until=1.0)
    talk = {(e.node, e.peer) for e in sim.trace.filter("deliver")}
    assert ("c", "d") in talk and ("a", "b") in talk
    assert not talk & {("a", "c"), ("c", "a"), ("b", "d")}


def test_one_way_cut():
    """cut(a, b) blocks a -> b only; b -> a still works."""
    sim = Simulation(seed=3, latency=Constant(0.01))
    sim.add_nodes(["a", "b"], lambda: Echo(chatty=True))
    sim.cut("a", "b")
    sim.run(until=1.0)
    delivered = {(e.node, e.peer) for e in sim.trace.filter("deliver")}
    assert ("b", "a") in delivered and ("a", "b") not in delivered
    assert {e.detail for e in sim.trace.filter("drop")} == {"cut"}


def test_isolate_and_reconnect():
    """isolate(n) cuts n off both ways until reconnect(n)."""
    sim = Simulation(seed=3, latency=Constant(0.01))
    sim.add_nodes(["a", "b", "c"], lambda: Echo(chatty=True))
    sim.isolate("c")
    sim.run(until=1.0)
    assert not sim.trace.filter("deliver", node="c").events
    sim.reconnect("c")
    sim.run(until=2.0)
    assert sim.trace.filter("deliver", node="c", since=1.0).events


def test_message_in_flight_is_dropped_when_partition_starts():
    """A message already in flight when a partition begins is dropped on arrival."""
    sim = Simulation(seed=0, latency=Constant(1.0))
    sim.add_node("a", lambda: Sink(target="b", count=1))
    sim.add_node("b", Sink)
    sim.at(0.5, sim.partition, ["a"], ["b"])
    sim.run()
    assert sim.node("b").got == []
    assert sim.trace.filter("drop")[0].detail == "partition"


def test_crash_loses_volatile_state_and_timers_but_keeps_storage():
    """After crash and restart a node is a fresh object with its old storage and no old timers."""
    sim = Simulation(seed=4, latency=Constant(0.01))
    sim.add_nodes(["a", "b"], lambda: Echo(chatty=True, period=0.1))
    sim.run(until=0.55)
    old = sim.node("a")
    assert old.sent == 5
    sim.crash("a")
    assert sim.nodes["a"] is None and not sim.is_up("a")
    sim.run(until=1.0)
    assert not sim.trace.filter("timer", node="a", since=0.56).events, "timers die with a crash"
    sim.restart("a")
    new = sim.node("a")
    assert new is not old and new.sent == 0, "volatile fields start afresh"
    assert sim.storage("a")["boots"] == 2, "storage survives the crash"
    sim.run(until=1.25)
    assert new.sent == 2


def test_messages_to_a_down_node_are_dropped():
    """A message that arrives while its destination is down is dropped with reason 'node down'."""
    sim = Simulation(seed=0, latency=Constant(0.5))
    sim.add_node("a", lambda: Sink(target="b", count=3))
    sim.add_node("b", Sink)
    sim.at(0.1, sim.crash, "b")
    sim.run()
    assert [e.detail for e in sim.trace.filter("drop")] == ["node down"] * 3


def test_timer_cancel_and_replace():
    """cancel_timer() stops a timer; setting a timer again replaces the pending one."""

    class T(Node):
        def on_start(self):
            self.set_timer("x", 1.0)
            self.set_timer("x", 2.0)
            self.set_timer("y", 0.5)
            self.set_timer("z", 0.7)

        def on_timer(self, name):
            if name == "y":
                self.cancel_timer("z")

    sim = Simulation()
    sim.add_node("t", T)
    sim.run()
    fired = [(e.time, e.detail) for e in sim.trace.filter("timer")]
    assert fired == [(0.5, "y"), (2.0, "x")]


def test_run_until_predicate_and_duration():
    """run(until=predicate) stops as soon as it holds; run(duration=d) advances d seconds."""
    sim = Simulation(seed=5, latency=Constant(0.01))
    sim.add_nodes(["a", "b"], lambda: Echo(chatty=True))
    assert sim.run(until=lambda: len(sim.node("a").pongs) >= 3, limit=10.0)
    assert len(sim.node("a").pongs) == 3
    t = sim.now
    sim.run(duration=0.5)
    assert sim.now == pytest.approx(t + 0.5)
    assert not sim.run(until=lambda: False, limit=sim.now + 1.0), "an unmet predicate is False"


def test_run_without_until_refuses_a_system_that_never_quiesces():
    """run() on a system with periodic timers raises a clear error instead of hanging."""
    sim = Simulation()
    sim.add_nodes(["a", "b"], lambda: Echo(chatty=True))
    with pytest.raises(SimulationError, match="did not quiesce"):
        sim.run(limit=5.0)


def test_raw_simpy_processes_share_the_clock():
    """sim.env runs ordinary simpy processes alongside the nodes."""
    sim = Simulation()
    seen = []

    def proc(env):
        yield env.timeout(1.5)
        seen.append(env.now)

    sim.env.process(proc(sim.env))
    sim.run()
    assert seen == [1.5]


def test_a_scheduled_call_runs_on_simpys_clock():
    """A call scheduled with sim.at runs when simpy's clock reads its time, so a simpy process it
    starts runs from that moment, even while node events fill the runtime's own queue."""
    sim = Simulation(seed=1)
    sim.add_nodes(["a", "b"], lambda: Echo(chatty=True, period=0.03))
    seen = []

    def proc(env):
        seen.append(env.now)
        yield env.timeout(0.5)
        seen.append((env.now, sim.now))

    sim.at(1.25, lambda: sim.env.process(proc(sim.env)))
    sim.run(until=3.0)
    assert seen == [1.25, (1.75, 1.75)]
    assert sim.env.now == sim.now == 3.0


def test_simpys_clock_lands_exactly_where_a_difference_cannot_reach():
    """simpy moves its clock by a difference, now + (t - now), which from t=0.0332191624007808
    lands a rounding step off 0.10526440604795097 whatever t is: a call due there still sees
    simpy's clock read exactly the simulation's time, and the run goes on."""
    sim = Simulation(seed=1)
    seen = []
    sim.at(0.10526440604795097, lambda: seen.append((sim.env.now, sim.now)))
    sim.run(until=0.0332191624007808)  # simpy's clock is set here, then left behind
    sim.run(until=1.0)
    assert seen == [(0.10526440604795097, 0.10526440604795097)]
    assert sim.env.now == sim.now == 1.0


def test_node_events_and_simpy_events_interleave_in_time_order():
    """The runtime's events and raw simpy events happen in time order, whichever queue holds
    them; a simpy process that pokes a node with sim.call sees the node's state of that time."""
    sim = Simulation(seed=2, latency=Constant(0.1))
    sim.add_nodes(["a", "b"], lambda: Echo(chatty=True, period=0.26))
    log = []

    def poll(env):
        for _ in range(8):
            yield env.timeout(0.3)
            log.append((env.now, sim.now, sim.node("a").sent))

    sim.env.process(poll(sim.env))
    sim.run(until=2.5)
    # "a" pings at 0.26, 0.52, 0.78, ...: at t = 0.3 k it has pinged floor(0.3 k / 0.26) times.
    assert [sent for _, _, sent in log] == [int(0.3 * k / 0.26) for k in range(1, 9)]
    assert all(env_now == now for env_now, now, _ in log)


def test_a_simpy_process_started_by_an_observer_is_refused():
    """simpy's clock is set for calls made with sim.at/after, not for observers: a simpy process
    an observer starts would run in the past, so the run stops and says where to start it."""
    sim = Simulation(seed=1)
    sim.add_nodes(["a", "b"], lambda: Echo(chatty=True))

    def proc(env):
        yield env.timeout(0.0)

    def observer(name, node, event):
        if sim.now > 0.5:
            sim.env.process(proc(sim.env))

    sim.observe(observer)
    with pytest.raises(SimulationError, match="start simpy processes there"):
        sim.run(until=2.0)


def test_running_simpy_alone_is_refused():
    """sim.env.run() does not see the runtime's queue: a later sim.run() says so instead of
    running nodes in the past."""
    sim = Simulation(seed=1)
    sim.add_node("a", Echo)
    sim.env.timeout(1.0)
    sim.env.run(until=2.0)
    with pytest.raises(SimulationError, match=r"sim.env.run\(\)"):
        sim.run(until=3.0)


class Recorder(Node):
    """Node "a" writes its ticks to storage and pings "b" on each; "b" writes what it hears."""

    def on_start(self) -> None:
        if self.id == "a":
            self.set_timer("tick", 0.1)

    def on_timer(self, name: str) -> None:
        self.storage["ticks"] = self.storage.get("ticks", 0) + 1
        self.send("b", "ping")
        self.set_timer("tick", 0.1)

    def on_message(self, src: str, msg: str) -> None:
        self.storage["heard"] = self.storage.get("heard", 0) + 1


@pytest.mark.parametrize(("victim", "kind"), [("a", "timer"), ("b", "deliver")])
def test_run_until_stops_at_the_event_whose_crash_point_fired(victim, kind):
    """A crash point that fires inside a handler (a timer's or a message's) crashes the node at
    that event, and run(until=predicate) stops right after it: the predicate is checked after
    every event, a crash included."""
    sim = Simulation(seed=1, latency=Constant(0.01))
    sim.add_nodes(["a", "b"], Recorder)
    sim.storage(victim).crash_at(5)
    sim.run(until=0.05)  # both are up
    assert sim.run(until=lambda: not sim.is_up(victim), limit=10.0)
    last, crash = sim.trace[-2], sim.trace[-1]
    assert (crash.kind, crash.node) == ("crash", victim) and "crash point" in crash.detail
    assert (last.kind, last.time) == (kind, sim.now)
    assert (last.node if kind == "timer" else last.peer) == victim


def test_clients_record_a_history():
    """A Workload client's operations land in sim.history with call and return times."""

    class Store(Node):
        def __init__(self):
            super().__init__()
            self.value = None

        def on_message(self, src, msg):
            kind, arg = msg
            if kind == "write":
                self.value = arg
                self.send(src, ("ok", None))
            else:
                self.send(src, ("ok", self.value))

    class KV(Workload):
        def request(self, op, f, input):
            self.send("s", (f, input))

        def on_message(self, src, msg):
            self.finish(msg[1])

    sim = Simulation(seed=1, latency=Constant(0.01))
    sim.add_node("s", Store)
    sim.add_client("c", lambda: KV([("write", 1), ("read", None), ("write", 2), ("read", None)]))
    sim.run()
    ops = list(sim.history)
    assert [(o.f, o.input, o.output, o.status) for o in ops] == [
        ("write", 1, None, "ok"),
        ("read", None, 1, "ok"),
        ("write", 2, None, "ok"),
        ("read", None, 2, "ok"),
    ]
    assert all(o.ret == pytest.approx(o.call + 0.02) for o in ops)
    assert sim.servers == ["s"] and sim.node("s").peers == ()


def test_client_timeout_records_unknown_outcome():
    """An operation with no reply before its timeout ends with status 'unknown'."""

    class KV(Workload):
        def request(self, op, f, input):
            self.send("s", (f, input))

        def on_message(self, src, msg):
            self.finish(msg)

    sim = Simulation()
    sim.add_node("s", Node)
    sim.add_client("c", lambda: KV([("read", None)], timeout=0.3))
    sim.run()
    (op,) = sim.history
    assert op.status == "unknown" and op.ret is None


# -- bad input ----------------------------------------------------------------------------


def test_send_to_unknown_node_names_it():
    """Sending to a node that does not exist raises an error naming sender and destination."""
    sim = Simulation()
    sim.add_node("a", lambda: Sink(target="zz", count=1))
    with pytest.raises(SimulationError, match="'a' sent int to unknown node 'zz'"):
        sim.run()


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_loss_probability_outside_unit_interval(value):
    """A loss probability outside [0, 1] is refused, naming the parameter."""
    with pytest.raises(ValueError, match=r"loss must be a probability in \[0, 1\]"):
        Simulation(loss=value)
    sim = Simulation()
    with pytest.raises(ValueError, match="loss must be a probability"):
        sim.network.configure(loss=value)


def test_negative_delays_are_refused():
    """Negative latencies and negative scheduling delays are refused with a clear message."""
    with pytest.raises(ValueError, match="must not be negative"):
        Constant(-1)
    with pytest.raises(ValueError, match="low <= high"):
        Uniform(0.5, 0.1)
    sim = Simulation()
    with pytest.raises(SimulationError, match="negative delay"):
        sim.after(-1.0, print)


def test_partition_naming_unknown_nodes():
    """A partition that names an unknown node is refused, listing the known ones."""
    sim = Simulation()
    sim.add_nodes(["a", "b"], Sink)
    with pytest.raises(
        SimulationError, match=r"partition names unknown node\(s\) 'x'.*known: a, b"
    ):
        sim.partition(["a"], ["x"])
    with pytest.raises(SimulationError, match="two groups"):
        sim.partition(["a"], ["a", "b"])


def test_timer_name_not_a_string_inside_a_simulation():
    """A handler setting a timer with a non-string name fails naming the node and handler."""

    class Bad(Node):
        def on_start(self):
            self.set_timer(42, 1.0)

    sim = Simulation()
    sim.add_node("n1", Bad)
    with pytest.raises(NodeError, match=r"node 'n1' raised TypeError.*timer name must be a string"):
        sim.run()


def test_handler_exception_is_traced_with_node_and_event():
    """A raising handler becomes a NodeError; the trace's error event names node and message."""

    class Fragile(Node):
        def on_message(self, src, msg):
            raise ZeroDivisionError("boom")

    sim = Simulation(latency=Constant(0.25))
    sim.add_node("a", lambda: Sink(target="b", count=1))
    sim.add_node("b", Fragile)
    with pytest.raises(NodeError) as info:
        sim.run()
    assert info.value.node == "b" and info.value.event == "on_message"
    assert info.value.time == pytest.approx(0.25)
    (err,) = sim.trace.filter("error")
    assert err.node == "b" and "on_message('a', 0) raised ZeroDivisionError: boom" in err.detail


def test_crash_and_restart_misuse():
    """Crashing a down node or restarting an up one is an error naming the node."""
    sim = Simulation()
    sim.add_node("a", Sink)
    sim.run()
    with pytest.raises(SimulationError, match="'a' is up"):
        sim.restart("a")
    sim.crash("a")
    with pytest.raises(SimulationError, match="'a' is already down"):
        sim.crash("a")
    with pytest.raises(SimulationError, match="unknown node 'q'"):
        sim.crash("q")


def test_duplicate_node_names_and_bad_factories():
    """Two nodes with one name, or a factory that does not build a Node, are refused."""
    sim = Simulation()
    sim.add_node("a", Sink)
    with pytest.raises(SimulationError, match="already a node called 'a'"):
        sim.add_node("a", Sink)
    sim.add_node("b", lambda: "not a node")
    with pytest.raises(SimulationError, match="factory returned 'not a node'"):
        sim.run()


def test_run_until_in_the_past():
    """Running until a time already passed is an error, not a silent no-op."""
    sim = Simulation()
    sim.run(until=2.0)
    with pytest.raises(SimulationError, match="already t=2"):
        sim.run(until=1.0)


def test_interceptor_can_drop_and_rewrite_and_inject_bypasses_it():
    """The interceptor sees every send: None drops (traced), a new value is delivered instead;
    inject() forges a message the receiver cannot tell apart."""
    sim = two_nodes(count=4, latency=Constant(0.01))
    sim.interceptor = lambda src, dst, msg: None if msg == 0 else (msg * 10 if msg == 1 else msg)
    sim.after(0.5, sim.inject, "a", "b", 99)
    sim.run()
    assert [m for _, m in sim.node("b").got] == [10, 2, 3, 99]
    assert [e.detail for e in sim.trace.filter("drop")] == ["intercepted"]
    nets = [e.detail for e in sim.trace.filter("net")]
    assert any("rewrites" in d for d in nets) and any("injected int a->b" in d for d in nets)
    with pytest.raises(SimulationError, match="inject names unknown node"):
        sim.inject("a", "nobody", 1)


def test_call_runs_a_function_as_a_handler():
    """sim.call() runs code inside a node now: its sends go out at once, errors are NodeErrors."""
    sim = two_nodes(count=0, latency=Constant(0.01))
    sim.run(until=1.0)
    a = sim.node("a")
    assert sim.call("a", lambda: a.send("b", "hi") or 7) == 7
    sim.run(until=1.5)
    assert sim.node("b").got == [("a", "hi")]
    with pytest.raises(NodeError, match="node 'a' raised KeyError"):
        sim.call("a", lambda: {}["x"])
    sim.crash("a")
    with pytest.raises(SimulationError, match="'a' is down"):
        sim.call("a", print)


# -- the runtime contract: self-delivery, timer payloads, observers, explicit network arguments --


class Selfish(Node):
    """Sends itself ``count`` numbered messages at start and records what arrives."""

    def __init__(self, count: int = 5) -> None:
        super().__init__()
        self.count = count
        self.got: list = []

    def on_start(self) -> None:
        for i in range(self.count):
            self.send(self.id, i)

    def on_message(self, src, msg) -> None:
        self.got.append((src, msg, self.now))


def test_a_message_to_oneself_is_delivered_by_the_runtime():
    """A node's message to itself is never lost, partitioned or delayed: it arrives, in order,
    at the time it was sent, after the handler that sent it."""
    sim = Simulation(seed=3, loss=1.0, latency=Constant(0.5))
    sim.add_node("a", Selfish)
    sim.add_node("b", Selfish)
    sim.isolate("a")
    sim.partition(["a"], ["b"])
    sim.run()
    assert sim.node("a").got == [("a", i, 0.0) for i in range(5)]
    assert sim.stats["dropped"] == 0
    kinds = [e.kind for e in sim.trace.events if e.involves("a")]
    assert kinds.index("deliver") > kinds.index("send")


def test_a_message_to_oneself_dies_with_the_node_that_sent_it():
    """A self-message pending when its sender crashes is not delivered to the restarted node."""

    sim = Simulation(seed=1)
    sim.add_node("a", lambda: Selfish(count=0))
    sim.at(1.0, lambda: sim.call("a", sim.node("a").send, "a", "before crash"))
    sim.at(1.0, sim.crash, "a")
    sim.at(1.0, sim.restart, "a")
    sim.run()
    assert sim.node("a").got == []
    assert any(e.kind == "drop" and e.detail == "node restarted" for e in sim.trace.events)


class Payloads(Node):
    def __init__(self) -> None:
        super().__init__()
        self.fired: list = []

    def on_start(self) -> None:
        self.set_timer("retry tx1", 1.0, payload=("prepare", "tx1"))
        self.set_timer("retry tx2", 2.0, payload=("prepare", "tx2"))
        self.set_timer("plain", 3.0)
        self.set_timer("retry tx2", 2.5, payload=("commit", "tx2"))  # replaces, by name

    def on_timer(self, name, payload=None) -> None:
        self.fired.append((self.now, name, payload))


def test_timers_carry_their_payload_and_are_named_for_replacement():
    """A timer's payload comes back to on_timer; a timer without one fires on_timer(name); the
    name alone identifies a timer for replacement."""
    sim = Simulation()
    sim.add_node("a", Payloads)
    sim.run()
    assert sim.node("a").fired == [
        (1.0, "retry tx1", ("prepare", "tx1")),
        (2.5, "retry tx2", ("commit", "tx2")),
        (3.0, "plain", None),
    ]


def test_an_observer_sees_every_handler_step_after_its_actions():
    """The observer is called once per handler step (start, message, timer, call) with the node
    as the step left it, its sends already in flight."""
    sim = Simulation(seed=2, latency=Constant(0.1))
    sim.add_node("a", lambda: Sink(target="b", count=3))
    sim.add_node("b", Sink)
    seen: list = []

    @sim.observe
    def watch(name, node, event):
        seen.append((sim.now, name, event, len(node.got), sim.stats["sent"]))

    sim.run()
    sim.call("b", lambda: None)
    assert seen[:2] == [(0.0, "a", "on_start", 0, 3), (0.0, "b", "on_start", 0, 3)]
    assert [s[3] for s in seen if s[1] == "b" and s[2] == "on_message"] == [1, 2, 3]
    assert seen[-1][1:3] == ("b", "call")
    sim.unobserve(watch)
    sim.call("b", lambda: None)
    assert len(seen) == 6


def test_an_observer_that_raises_stops_the_run_with_its_own_exception():
    """A checker observing the run reports a violation as itself, not as a node's error."""

    class Verdict(AssertionError):
        pass

    sim = two_nodes(count=10)

    def check(name, node, event):
        if name == "b" and len(node.got) == 4:
            raise Verdict("b got four")

    sim.observe(check)
    with pytest.raises(Verdict, match="b got four"):
        sim.run()
    with pytest.raises(TypeError, match="observer must be callable"):
        sim.observe("not a function")


def test_network_arguments_are_explicit():
    """A misspelt network argument is refused by the Simulation itself, naming the argument."""
    with pytest.raises(TypeError, match=r"Simulation.__init__.*'los'"):
        Simulation(los=0.1)
    sim = Simulation(loss=0.5)
    with pytest.raises(TypeError, match="'los'"):
        sim.network.configure(los=0.2)
    sim.network.configure(loss=0.2)
    sim.network.set_link("a", "b", latency=0.3)
    assert sim.network.default.loss == 0.2
    assert sim.network.link("b", "a").latency.mean == 0.3


def test_the_runtime_uses_only_simpys_public_api():
    """No private simpy field (env._queue, env._now, event._value) is read: a simpy release may
    rename them."""
    import inspect
    import re

    import distlib.sim.simulation as simulation

    source = inspect.getsource(simulation)
    assert not re.findall(r"\b(?:env|ev|event|self\.env)\._[a-z]\w*", source)


def test_node_of_a_kind_is_typed_and_checked():
    """sim.node(name, Kind) returns the node when it is a Kind, and otherwise names what it is."""
    sim = Simulation(seed=1)
    sim.add_node("a", Echo)
    sim.run(until=0.1)
    assert isinstance(sim.node("a", Echo), Echo)
    with pytest.raises(SimulationError, match="node 'a' is a Echo, not a Workload"):
        sim.node("a", Workload)


class Ticker(Node):
    """Sets a 1 s timer again and again, noting what its own clock read at each tick."""

    def on_start(self):
        self.readings = []
        self.set_timer("tick", 1.0)

    def on_timer(self, name):
        self.readings.append(self.now)
        self.set_timer("tick", 1.0)


def test_each_node_has_its_own_clock_and_its_timers_fire_by_it():
    """A node's clock may run fast (rate) or leap (jump): the node reads it as self.now and its
    timers fire by it; the other nodes and simulated time are untouched, and it is traced."""
    sim = Simulation(seed=1)
    sim.add_node("fast", Ticker)
    sim.add_node("true", Ticker)
    sim.set_clock("fast", rate=2.0)
    sim.run(until=2.1)
    fast, true = sim.node("fast", Ticker), sim.node("true", Ticker)
    assert len(fast.readings) == 4 and len(true.readings) == 2, "a 2x clock ticks twice as often"
    assert fast.readings == pytest.approx([1.0, 2.0, 3.0, 4.0]), "it reads its own time"
    assert true.readings == pytest.approx([1.0, 2.0])
    sim.set_clock("true", jump=-0.5)
    assert sim.clock("true") == pytest.approx(1.6) and sim.now == pytest.approx(2.1)
    sim.run(until=3.05)
    assert true.readings[-1] == pytest.approx(2.5), (
        "after the jump back, its clock reads 0.5 s less"
    )
    assert [e.detail for e in sim.trace.filter(kind="clock")] == [
        "clock rate 2",
        "clock rate 1, jumped -0.5 s",
    ]
    with pytest.raises(ValueError, match="positive"):
        sim.set_clock("fast", rate=0)
    with pytest.raises(SimulationError, match="unknown node 'nobody'"):
        sim.set_clock("nobody", rate=1.1)


def test_a_handler_error_points_at_the_line_that_raised_and_hides_the_runtime():
    """A NodeError names node, handler and time, then the line of the student's code that
    raised (not a frame of the library or simpy), and keeps the whole chain one attribute away;
    IPython shows the short form (its _render_traceback_ hook)."""

    class Careless(Node):
        def on_start(self):
            self.seen = {}

        def on_message(self, src, msg):
            self.seen[msg] += 1  # the bug: no entry yet

    sim = Simulation(seed=1)
    sim.add_nodes(["a", "b"], Careless)
    sim.inject("a", "b", "ping")
    with pytest.raises(NodeError) as info:
        sim.run()
    err = info.value
    assert err.node == "b" and err.event == "on_message"
    where = err.your_line()
    assert where is not None and "test_simulation.py" in where and "self.seen[msg] += 1" in where
    shown = "\n".join(err._render_traceback_())
    assert "node 'b' raised KeyError" in shown and "in your code:" in shown
    assert "simpy/" not in shown and "distlib/sim/" not in shown, shown
    assert "distlib/sim/simulation.py" in err.full_traceback and "KeyError" in err.full_traceback


def test_a_notebook_shows_a_handler_error_in_a_few_lines():
    """In a real kernel, the error of a handler defined in a cell is a few lines naming the
    cell's line, not screens of runtime frames."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    cell = (
        "from distlib import Node, Simulation\n"
        "class Careless(Node):\n"
        "    def on_message(self, src, msg):\n"
        "        return {}[msg]\n"
        "sim = Simulation(seed=1)\n"
        "sim.add_nodes(['a', 'b'], Careless)\n"
        "sim.inject('a', 'b', 'ping')\n"
        "sim.run()\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    NotebookClient(nb, timeout=60, allow_errors=True).execute()
    (out,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    text = "\n".join(out.traceback)
    assert out.ename == "NodeError" and len(out.traceback) <= 4, text
    assert "in your code: a notebook cell, line 4, in on_message" in text, text
    assert "simpy" not in text, text
