"""Reference protocols, written to be read: each is a pure :class:`distlib.node.Node` subclass."""

__all__ = [
    "auth",
    "balance",
    "clocks",
    "detectors",
    "hashing",
    "kvstore",
    "multipaxos",
    "paxos",
    "primary_backup",
    "quorum_replication",
    "raft",
    "twophase",
]
