"""Storage behaves like a disk: writes store copies, sync mode keeps only synced writes, torn
writes, and crash points (distlib.disk and its use by the simulation)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from distlib import Node, Simulation
from distlib.disk import CrashPoint, Disk, durable_copy


@dataclass(frozen=True)
class Record:
    term: int
    command: str


def test_a_write_stores_a_copy_and_later_changes_do_not_reach_the_disk():
    """A write stores the value as it is now: appending to the node's own list afterwards
    changes nothing on disk until the list is written again."""
    disk = Disk()
    log = [Record(1, "x")]
    disk["log"] = log
    log.append(Record(1, "y"))
    assert disk["log"] == [Record(1, "x")]
    disk["log"] = log
    assert disk["log"] == [Record(1, "x"), Record(1, "y")]
    nested = {"a": [1, 2]}
    disk["nested"] = nested
    nested["a"].append(3)
    assert disk["nested"] == {"a": [1, 2]}, "a copy goes as deep as the value can change"


def test_a_read_gives_the_stored_object_so_updates_in_place_are_writes():
    """storage["votes"][tx] = True changes what is stored, as an update in place would."""
    disk = Disk()
    disk.setdefault("votes", {})["t1"] = True
    assert disk["votes"] == {"t1": True}


def test_unchangeable_values_are_shared_not_copied():
    """Numbers, strings, frozen dataclasses and tuples of them need no copy."""
    entry, pair = Record(2, "z"), (1, "a")
    assert durable_copy(entry) is entry and durable_copy(pair) is pair
    assert durable_copy([entry])[0] is entry
    assert durable_copy(([1],))[0] is not durable_copy(([1],))[0]


def test_a_copy_reaches_every_element_that_can_change():
    """Whatever mix of element types a list, tuple or dict holds (one type or several), a later
    change to an element that can change does not reach the disk, and the elements that cannot
    change are shared, not copied."""
    entry = Record(1, "a")
    mixed, same, nested, mapping = [entry, entry, [1]], [[1], [2]], [entry, (1, [2])], {"x": [1]}
    disk = Disk()
    disk["mixed"], disk["same"], disk["nested"], disk["mapping"] = mixed, same, nested, mapping
    mixed[2].append(9)
    same[1].append(9)
    nested[1][1].append(9)
    mapping["x"].append(9)
    assert disk["mixed"] == [entry, entry, [1]] and disk["mixed"][0] is entry
    assert disk["same"] == [[1], [2]]
    assert disk["nested"] == [entry, (1, [2])] and disk["nested"][0] is entry
    assert disk["mapping"] == {"x": [1]}


def test_sync_mode_keeps_only_what_was_synced():
    """With sync=True a crash brings back the state of the last sync; later writes, and later
    updates in place, are lost and reported."""
    disk = Disk(sync=True)
    disk["term"] = 1
    disk["votes"] = {}
    disk.sync()
    disk["term"] = 2
    disk["votes"]["t1"] = True
    disk["extra"] = "x"
    lost = disk.crash()
    assert dict(disk) == {"term": 1, "votes": {}}
    assert lost == ["extra", "term"], lost
    assert disk.stats["lost"] == 2


def test_without_sync_mode_every_write_survives_a_crash():
    """The default disk: each write is durable at once."""
    disk = Disk()
    disk["term"] = 3
    assert disk.crash() == [] and disk["term"] == 3


def test_torn_writes_keep_part_of_a_batch():
    """torn=1: a crash keeps each unsynced write or not at random, so over seeds some crashes
    keep a part of the batch, neither all nor nothing."""
    outcomes = set()
    for seed in range(40):
        disk = Disk(sync=True, torn=1.0)
        disk["a"], disk["b"], disk["c"] = 1, 2, 3
        disk.crash(random.Random(seed))
        outcomes.add(tuple(sorted(disk)))
    assert len(outcomes) > 2 and any(0 < len(o) < 3 for o in outcomes), outcomes


def test_bad_disk_options_are_refused_with_their_names():
    with pytest.raises(ValueError, match="torn writes need sync=True"):
        Disk(torn=0.5)
    with pytest.raises(ValueError, match="durability"):
        Simulation(durability="fsync")
    with pytest.raises(ValueError, match="crash point"):
        Disk().crash_at(-1)


def test_a_crash_point_fires_before_the_nth_write():
    """crash_at(2): the first write happens, the second raises CrashPoint and is not stored."""
    disk = Disk()
    disk.crash_at(2)
    disk["a"] = 1
    with pytest.raises(CrashPoint):
        disk["b"] = 2
    assert dict(disk) == {"a": 1}
    disk["b"] = 2  # disarmed once fired
    assert disk["b"] == 2


class ReplyThenWrite(Node):
    """Sends its answer, then writes what the answer promised: a write too late."""

    def on_message(self, src, msg):
        self.send(src, ("promised", msg[1]))
        self.storage["promised"] = msg[1]


class Asker(Node):
    def on_start(self):
        if self.id == "asker":
            self.send("server", ("promise", 7))
        self.got = []

    def on_message(self, src, msg):
        self.got.append(msg)


def test_a_crash_point_catches_a_reply_sent_before_its_write():
    """A node crashed at its write has already sent its reply (what a handler did before the
    crash point happens), yet the disk holds no promise: the write came too late."""
    sim = Simulation(seed=1)
    sim.add_node("server", ReplyThenWrite)
    sim.add_node("asker", Asker)
    sim.run(until=0.0001)
    sim.storage("server").crash_at(1)
    sim.run(until=1.0)
    assert sim.node("asker", Asker).got == [("promised", 7)], "the reply left before the crash"
    assert not sim.is_up("server")
    assert "promised" not in sim.storage("server"), "the write after the reply never happened"
    crashes = sim.trace.filter(kind="crash")
    assert [e.detail for e in crashes] == [
        "crashed at a crash point, before the write of 'promised'"
    ]


class Counter(Node):
    def on_start(self):
        self.storage["boots"] = self.storage.get("boots", 0) + 1
        if self.storage["boots"] == 1:
            self.sync()
            self.storage["boots"] = 100  # written, never synced


def test_the_simulation_loses_unsynced_writes_in_a_crash_and_says_so():
    """durability="sync": after a crash the node sees its last synced state, and the trace
    names the writes lost."""
    sim = Simulation(seed=3, durability="sync")
    sim.add_node("n", Counter)
    sim.run(until=0.1)
    assert sim.storage("n")["boots"] == 100
    sim.crash("n")
    assert sim.storage("n")["boots"] == 1
    (crash,) = sim.trace.filter(kind="crash")
    assert "unsynced writes lost: boots" in crash.detail
