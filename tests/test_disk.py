"""Storage behaves like a disk: writes store copies, sync mode keeps only synced writes, torn
writes, and crash points (distlib.disk and its use by the simulation)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from distlib import Node, Simulation
from distlib.disk import CrashPoint, Disk, _common_prefix, durable_copy, write_log


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


# -- write_log: a list written as a log file is --------------------------------------------------


def _reference_prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def test_write_log_stores_what_a_whole_write_would_store():
    """After each write_log the disk holds a list equal to the one written, whatever changed:
    entries appended, the same list again, a tail cut off, an entry in the middle replaced, or
    everything replaced; each counts as one write, and the node's later appends stay off the
    disk until it writes again."""
    disk = Disk()
    log = [Record(0, "")]
    steps = [
        lambda: log.append(Record(1, "a")),
        lambda: log.extend([Record(1, "b"), Record(1, "c")]),
        lambda: None,
        lambda: log.__delitem__(slice(2, None)),
        lambda: log.__setitem__(1, Record(2, "x")),
        lambda: log.extend(Record(2, str(i)) for i in range(50)),
        lambda: log.__setitem__(slice(10, None), [Record(3, "y")]),
        lambda: log.__setitem__(slice(5, None), [Record(4, str(i)) for i in range(20)]),
        lambda: log.__setitem__(slice(0, None), [Record(9, "z")]),
        lambda: log.clear(),
    ]
    for i, change in enumerate(steps, 1):
        change()
        disk.write_log("log", log)
        assert disk["log"] == log and disk["log"] is not log
        assert disk.stats["writes"] == i
        log.append(Record(99, "unwritten"))
        assert disk["log"] == log[:-1], "an append after the write is not on disk"
        log.pop()


def test_write_log_agrees_with_a_plain_write_on_random_histories():
    """On random edits of a log (appends, cuts, replaced entries, entries equal but not the
    same object), write_log leaves the same stored list as disk[key] = list, and the part kept
    is the longest common prefix."""
    rng = random.Random(7)
    plain, logged = Disk(), Disk()
    log: list[Record] = []
    for _ in range(500):
        for _ in range(rng.randrange(1, 4)):  # a few edits between two writes
            move = rng.random()
            if move < 0.5:
                log.extend(
                    Record(rng.randrange(4), rng.choice("abc")) for _ in range(rng.randrange(4))
                )
            elif move < 0.7 and log:
                del log[rng.randrange(len(log)) :]
            elif move < 0.9 and log:
                i = rng.randrange(len(log))
                log[i] = Record(log[i].term, log[i].command)  # equal, not the same object
            elif log:
                log[rng.randrange(len(log))] = Record(9, "changed")
        stored = list(logged["log"]) if "log" in logged else []
        assert _common_prefix(stored, log) == _reference_prefix(stored, log)
        plain["log"] = log
        logged.write_log("log", log)
        assert logged["log"] == plain["log"] == log


def test_write_log_copies_entries_that_can_change():
    """Entries that can change are copied, as a write copies them: changing the node's entry
    afterwards does not change the disk; records that cannot change are shared."""
    disk = Disk()
    entry = Record(1, "a")
    log = [entry, [1, 2]]
    disk.write_log("log", log)
    log.append([3])
    disk.write_log("log", log)
    log[1].append(9)
    log[2].append(9)
    assert disk["log"] == [entry, [1, 2], [3]]
    assert disk["log"][0] is entry


def test_write_log_separates_the_node_list_from_the_one_it_read_at_boot():
    """A node that boots with the stored list as its log and writes it back gets a disk of its
    own: its later appends reach the disk only through the next write."""
    disk = Disk([("log", [Record(1, "a")])])
    log = disk["log"]  # what on_start does
    disk.write_log("log", log)
    log.append(Record(1, "b"))
    assert disk["log"] == [Record(1, "a")]
    disk.write_log("log", log)
    assert disk["log"] == [Record(1, "a"), Record(1, "b")]


def test_write_log_is_one_operation_for_crash_points_sync_mode_and_plain_mappings():
    """A crash point fires before a write_log as before a write (nothing of it is stored); in
    sync mode it is lost in a crash unless synced; on a plain dict it stores a copy."""
    disk = Disk()
    disk.write_log("log", [Record(1, "a")])
    disk.crash_at(1)
    with pytest.raises(CrashPoint):
        disk.write_log("log", [Record(1, "a"), Record(1, "b")])
    assert disk["log"] == [Record(1, "a")]
    synced = Disk(sync=True)
    synced.write_log("log", [Record(1, "a")])
    synced.sync()
    synced.write_log("log", [Record(1, "a"), Record(2, "b")])
    assert synced.crash() == ["log"]
    assert synced["log"] == [Record(1, "a")]
    plain: dict = {}
    log = [Record(1, "a")]
    write_log(plain, "log", log)
    log.append(Record(1, "b"))
    assert plain["log"] == [Record(1, "a")]
    write_log(synced, "log", log)
    assert synced["log"] == log
