"""Message authentication: HMAC-SHA256 tags, replay rejection, and a bank that needs both.

A network may be hostile: someone on the path can change a message, record it and play it again
later, or make up a message that claims to come from somebody else. This module defends against
exactly those three with two standard tools:

* **A message authentication code.** Every pair of nodes shares a secret key
  (:func:`derive_key`). The sender computes ``HMAC-SHA256(key, encoding)`` (RFC 2104; FIPS 180-4
  for SHA-256) over a canonical encoding of the whole message: sender, receiver, sequence number
  and payload (:func:`encode`). The receiver recomputes it and compares in constant time. Without
  the key nobody can produce a valid tag, so a changed message (*tampering*) or a made-up one
  (*forgery*) is rejected. Encoding the receiver stops a message for one node being accepted by
  another; encoding the sender stops a message being re-labelled.
* **Sequence numbers and a replay window.** A valid message played again still carries a valid
  tag, so each sender numbers its messages to each receiver 1, 2, 3, ... and the receiver keeps a
  sliding window of the numbers it has accepted (:class:`ReplayWindow`, the anti-replay window of
  IPsec, RFC 4303 §3.4.3): a number already seen, or one too old to be tracked, is a *replay*.
  Numbers may arrive out of order within the window, since honest networks reorder.

:class:`AuthNode` packages both: a :class:`~distlib.node.Node` base class whose
:meth:`~AuthNode.send_signed` numbers and tags a payload, and whose ``on_message`` checks every
:class:`Signed` message and calls :meth:`~AuthNode.on_authentic` only for those that pass. Its
counters and windows live in ``storage``, so a crash does not reopen the door to replays.

The demonstration protocol is a tiny bank: a teller orders transfers between accounts.
:class:`PlainBank` and :class:`PlainTeller` trust the network's word about who sent what;
:class:`AuthBank` and :class:`AuthTeller` sign and verify. The attacks themselves (a network that
tampers, replays and forges) live in :mod:`distlib.labs.lab08_resilience.adversary`.

What this does *not* protect against is as important; see :func:`limitations`.

Keys here are derived from a seed so that runs are reproducible. That is for teaching only: real
keys are random, kept secret, and distributed and rotated by a key-management system.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import math
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from distlib.node import Node

__all__ = [
    "AuthBank",
    "AuthNode",
    "AuthTeller",
    "PlainBank",
    "PlainTeller",
    "Reject",
    "ReplayWindow",
    "Signed",
    "Verifier",
    "derive_key",
    "encode",
    "keyring",
    "limitations",
    "seal",
    "sign",
    "transfer",
    "verify",
]

ENCODING_VERSION = "distlib-auth-v1"


# --------------------------------------------------------------------------------------------
# Keys.


def derive_key(seed: int | str, a: str, b: str | None = None) -> bytes:
    """A 32-byte key derived from ``seed``: shared by the pair ``{a, b}``, or node ``a``'s own.

    The pair key does not depend on the order of ``a`` and ``b``. Derivation is
    ``HMAC-SHA256(master, label)`` with ``master = SHA-256(seed)``, so each key reveals nothing
    about the others (the expand step of HKDF, RFC 5869, in one block). For reproducible
    teaching runs only: anyone who knows the seed knows every key.
    """
    if not isinstance(seed, int | str) or isinstance(seed, bool):
        raise TypeError(f"a key seed must be an int or a str, not {seed!r}")
    for name in (a, b):
        if name is not None and (not isinstance(name, str) or not name or "|" in name):
            raise ValueError(f"node names for keys must be non-empty strings without '|': {name!r}")
    master = hashlib.sha256(f"distlib-auth-master/{seed}".encode()).digest()
    label = f"node|{a}" if b is None else "pair|" + "|".join(sorted((a, b)))
    return hmac.new(master, label.encode(), hashlib.sha256).digest()


def keyring(seed: int | str, node: str, peers: Iterable[str]) -> dict[str, bytes]:
    """The keys ``node`` holds: one per peer, each shared only with that peer."""
    return {p: derive_key(seed, node, p) for p in peers if p != node}


# --------------------------------------------------------------------------------------------
# Canonical encoding, tags.


def _check_payload(value: Any, path: str = "payload") -> None:
    """Payloads are JSON data, so that they have exactly one encoding."""
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path} is {value}: only finite numbers can be signed")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_payload(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                raise TypeError(
                    f"{path} has the key {k!r}: dictionary keys must be strings, or 1 and '1' "
                    "would encode alike"
                )
            _check_payload(item, f"{path}[{k!r}]")
        return
    raise TypeError(
        f"{path} is a {type(value).__name__}; a signed payload must be JSON data (dict with "
        "string keys, list, str, int, float, bool or None)"
    )


def encode(sender: str, receiver: str, seq: int, payload: Any) -> bytes:
    """The exact bytes a tag covers: a JSON array of version, sender, receiver, seq, payload.

    Canonical: dictionary keys sorted, no spaces, UTF-8, so equal messages encode equally and any
    change to any field changes the bytes. A JSON array has unambiguous field boundaries (unlike
    plain concatenation, where ``("ab", "c")`` and ``("a", "bc")`` would collide). Tuples encode
    as lists.
    """
    if not isinstance(sender, str) or not isinstance(receiver, str):
        raise TypeError(f"sender and receiver must be node names, not {sender!r} and {receiver!r}")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError(f"a sequence number is an int from 1 up, not {seq!r}")
    _check_payload(payload)
    doc = [ENCODING_VERSION, sender, receiver, seq, payload]
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _check_key(key: Any) -> bytes:
    if not isinstance(key, bytes) or len(key) < 16:
        raise TypeError(f"a key must be at least 16 bytes (use derive_key), not {key!r}")
    return key


def sign(key: bytes, sender: str, receiver: str, seq: int, payload: Any) -> str:
    """The HMAC-SHA256 tag (hex) of a message under ``key`` (RFC 2104)."""
    data = encode(sender, receiver, seq, payload)
    return hmac.new(_check_key(key), data, hashlib.sha256).hexdigest()


def verify(key: bytes, sender: str, receiver: str, seq: int, payload: Any, tag: str) -> bool:
    """Whether ``tag`` is the right tag for this message under ``key``.

    The comparison takes the same time wherever the tags differ (``hmac.compare_digest``), so
    timing does not tell an attacker how much of a guessed tag was right. A message that cannot
    be encoded is simply not authentic.
    """
    try:
        expected = sign(key, sender, receiver, seq, payload)
    except (TypeError, ValueError):
        return False
    return isinstance(tag, str) and hmac.compare_digest(expected, tag)


@dataclass(frozen=True, slots=True)
class Signed:
    """An authenticated message: the ``seq``-th from ``sender`` to ``receiver``, with its tag."""

    sender: str
    receiver: str
    seq: int
    payload: Any
    tag: str


def seal(key: bytes, sender: str, receiver: str, seq: int, payload: Any) -> Signed:
    """Build the :class:`Signed` message carrying ``payload``."""
    return Signed(sender, receiver, seq, payload, sign(key, sender, receiver, seq, payload))


# --------------------------------------------------------------------------------------------
# Replay rejection.


class Reject(enum.Enum):
    """Why a message was refused."""

    MALFORMED = "not a signed message"
    NOT_FOR_ME = "addressed to another node"
    SENDER_MISMATCH = "claimed sender differs from the network source"
    UNKNOWN_SENDER = "no key shared with the claimed sender"
    BAD_TAG = "tag does not match (tampered or forged)"
    REPLAY = "sequence number already accepted (replay)"
    TOO_OLD = "sequence number too old for the replay window"


class ReplayWindow:
    """Which sequence numbers from one sender were accepted: the highest, and a bitmap behind it.

    RFC 4303 §3.4.3: a number above the highest is new (the window slides up); a number within
    ``size`` below the highest is new only if its bit is not yet set; anything older is rejected
    because the window can no longer tell. Call :meth:`check` before and :meth:`accept` only
    after the tag has been verified, so forged numbers cannot move the window.

    The state is two ints (``highest``, ``bitmap``), easy to keep in durable storage.
    """

    def __init__(self, size: int = 64, highest: int = 0, bitmap: int = 0) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"a replay window size must be a positive int, not {size!r}")
        self.size = size
        self.highest = highest
        self.bitmap = bitmap  # bit i set: highest - i was accepted

    def check(self, seq: int) -> Reject | None:
        """None if ``seq`` would be new; otherwise why it is refused."""
        if seq > self.highest:
            return None
        offset = self.highest - seq
        if offset >= self.size:
            return Reject.TOO_OLD
        if self.bitmap >> offset & 1:
            return Reject.REPLAY
        return None

    def accept(self, seq: int) -> None:
        """Record ``seq`` as received (call only after :meth:`check` returned None)."""
        if seq > self.highest:
            shift = seq - self.highest
            self.bitmap = (self.bitmap << shift | 1) & ((1 << self.size) - 1)
            self.highest = seq
        else:
            self.bitmap |= 1 << (self.highest - seq)


class Verifier:
    """Checks incoming :class:`Signed` messages for node ``me``; keeps one window per sender.

    ``keys`` maps each peer to the key shared with it. ``state`` is where the windows are kept
    (pass the node's ``storage`` so they survive a crash); by default a private dict.
    """

    def __init__(
        self,
        me: str,
        keys: Mapping[str, bytes],
        *,
        window: int = 64,
        state: MutableMapping[str, Any] | None = None,
    ) -> None:
        self.me = me
        self.keys = dict(keys)
        self.window = window
        self.state = {} if state is None else state
        self.state.setdefault("auth/windows", {})

    def check(self, src: str, msg: Any) -> Reject | None:
        """None if ``msg`` from ``src`` is authentic and new (and record it); else the reason."""
        if not isinstance(msg, Signed):
            return Reject.MALFORMED
        if msg.receiver != self.me:
            return Reject.NOT_FOR_ME
        if msg.sender != src:
            return Reject.SENDER_MISMATCH
        key = self.keys.get(msg.sender)
        if key is None:
            return Reject.UNKNOWN_SENDER
        if not isinstance(msg.seq, int) or isinstance(msg.seq, bool) or msg.seq < 1:
            return Reject.MALFORMED
        # RFC 2104: recompute the tag; only an authentic message may touch the window.
        if not verify(key, msg.sender, msg.receiver, msg.seq, msg.payload, msg.tag):
            return Reject.BAD_TAG
        windows = self.state["auth/windows"]
        highest, bitmap = windows.get(msg.sender, (0, 0))
        win = ReplayWindow(self.window, highest, bitmap)
        # RFC 4303 §3.4.3: duplicate or too-old sequence numbers are replays.
        reason = win.check(msg.seq)
        if reason is not None:
            return reason
        win.accept(msg.seq)
        windows[msg.sender] = (win.highest, win.bitmap)
        return None


# --------------------------------------------------------------------------------------------
# Nodes.


class AuthNode(Node):
    """A node whose messages are signed and whose incoming messages are verified.

    Subclasses send with :meth:`send_signed` and receive in :meth:`on_authentic`; every other
    message is refused, noted in the trace (``rejected``) and listed in ``self.rejected`` as
    ``(time, src, Reject)``. ``keys`` maps each peer to the key shared with it
    (:func:`keyring`).
    """

    def __init__(self, *, keys: Mapping[str, bytes], window: int = 64) -> None:
        super().__init__()
        for peer, key in keys.items():
            _check_key(key)
            if not isinstance(peer, str):
                raise TypeError(f"keys must be indexed by node name, not {peer!r}")
        self.keys = dict(keys)
        self.window = window
        self.rejected: list[tuple[float, str, Reject]] = []
        self._verifier: Verifier | None = None

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            self._verifier = Verifier(self.id, self.keys, window=self.window, state=self.storage)
        return self._verifier

    def send_signed(self, dst: str, payload: Any) -> Signed:
        """Number, tag and send ``payload`` to ``dst``; returns the message sent."""
        key = self.keys.get(dst)
        if key is None:
            raise ValueError(f"{self.id} shares no key with {dst!r}: cannot sign for it")
        counters = self.storage.setdefault("auth/next_seq", {})
        seq = counters.get(dst, 1)
        counters[dst] = seq + 1  # durable before the send: a restart never reuses a number
        msg = seal(key, self.id, dst, seq, payload)
        self.send(dst, msg)
        return msg

    def on_message(self, src: str, msg: Any) -> None:
        reason = self.verifier.check(src, msg)
        if reason is not None:
            self.rejected.append((self.now, src, reason))
            self.note("rejected", src=src, reason=reason.name)
            return
        self.on_authentic(src, msg.payload)

    def on_authentic(self, src: str, payload: Any) -> None:
        """Called with the payload of each authentic, new message (override)."""


def transfer(op_id: int, source: str, target: str, amount: int) -> dict[str, Any]:
    """The payload of a transfer order: move ``amount`` from account ``source`` to ``target``."""
    return {"type": "transfer", "id": op_id, "from": source, "to": target, "amount": amount}


class _Bank(Node):
    """The bank's rule, shared by both banks: tellers may move money between accounts.

    Mixed into a :class:`~distlib.node.Node` subclass (it uses ``self.note``).
    """

    def _setup(self, balances: Mapping[str, int], tellers: Iterable[str]) -> None:
        self.balances = dict(balances)
        self.tellers = frozenset(tellers)
        self.applied: list[dict[str, Any]] = []

    def _apply(self, src: str, order: Any) -> None:
        if src not in self.tellers:
            self.note("refused", src=src, why="not a teller")
            return
        if not isinstance(order, dict) or order.get("type") != "transfer":
            return
        source, target, amount = order.get("from"), order.get("to"), order.get("amount")
        if (
            not isinstance(source, str)
            or source not in self.balances
            or not isinstance(target, str)
            or not isinstance(amount, int)
            or amount <= 0
        ):
            self.note("refused", src=src, why="bad transfer")
            return
        self.balances[source] -= amount
        self.balances[target] = self.balances.get(target, 0) + amount
        self.applied.append(order)
        self.note("transfer", id=order.get("id"), source=source, target=target, amount=amount)


class PlainBank(_Bank, Node):
    """A bank that believes the network: a message whose source is a teller is obeyed."""

    def __init__(self, *, balances: Mapping[str, int], tellers: Iterable[str] = ("teller",)):
        Node.__init__(self)
        self._setup(balances, tellers)

    def on_message(self, src: str, msg: Any) -> None:
        self._apply(src, msg)


class AuthBank(_Bank, AuthNode):
    """The same bank behind authentication: only verified, new orders from tellers are obeyed."""

    def __init__(
        self,
        *,
        balances: Mapping[str, int],
        keys: Mapping[str, bytes],
        tellers: Iterable[str] = ("teller",),
        window: int = 64,
    ):
        AuthNode.__init__(self, keys=keys, window=window)
        self._setup(balances, tellers)

    def on_authentic(self, src: str, payload: Any) -> None:
        self._apply(src, payload)


class _Teller(Node):
    """Sends its transfer orders to the bank, one every ``every`` seconds (mixed into a Node)."""

    def _setup(self, orders: Iterable[dict[str, Any]], bank: str, every: float) -> None:
        if not every > 0:
            raise ValueError(f"a teller's interval must be positive, not {every!r}")
        self.orders = list(orders)
        self.bank = bank
        self.every = every
        self.sent = 0

    def on_start(self) -> None:
        if self.orders:
            self.set_timer("next", self.every)

    def on_timer(self, name: str) -> None:
        if name != "next" or self.sent >= len(self.orders):
            return
        self.deliver(self.orders[self.sent])
        self.sent += 1
        if self.sent < len(self.orders):
            self.set_timer("next", self.every)

    def deliver(self, order: dict[str, Any]) -> None:
        """Send one order to the bank (plainly or signed: the subclass decides)."""
        raise NotImplementedError


class PlainTeller(_Teller, Node):
    """A teller that sends its orders unprotected."""

    def __init__(self, *, orders: Iterable[dict[str, Any]], bank: str = "bank", every: float = 1.0):
        Node.__init__(self)
        self._setup(orders, bank, every)

    def deliver(self, order: dict[str, Any]) -> None:
        self.send(self.bank, order)


class AuthTeller(_Teller, AuthNode):
    """The same teller, signing every order with the key it shares with the bank."""

    def __init__(
        self,
        *,
        orders: Iterable[dict[str, Any]],
        keys: Mapping[str, bytes],
        bank: str = "bank",
        every: float = 1.0,
    ):
        AuthNode.__init__(self, keys=keys)
        self._setup(orders, bank, every)

    def deliver(self, order: dict[str, Any]) -> None:
        self.send_signed(self.bank, order)


# --------------------------------------------------------------------------------------------
# What it does not do.


def limitations() -> dict[str, str]:
    """What HMAC authentication with replay windows does NOT protect against.

    Returns a dict from threat to explanation. In short: it proves *who* sent a message and that
    it is *unchanged and new*; it says nothing about whether the sender is honest, hides nothing,
    and cannot make the network deliver.

    * A Byzantine node holding a valid key can sign any lie it likes; the tag only proves it
      came from that node. Tolerating lying nodes needs Byzantine fault-tolerant protocols (with
      3f + 1 replicas), not MACs.
    * Confidentiality: HMAC is not encryption. The payload travels in clear; anyone on the path
      reads every balance and amount. Use authenticated encryption (e.g. TLS, AES-GCM).
    * Traffic analysis: who talks to whom, when, how often and how much stays visible even with
      encryption.
    * Denial of service: an adversary can drop, delay or flood messages. Authentication turns
      tampering into loss (a bad message is discarded), it does not prevent loss. Verifying a
      flood of junk still costs CPU.
    * Delay within the window: a message held back and delivered later, but inside the replay
      window, is accepted; a MAC carries no notion of timeliness.
    * Key compromise: whoever steals a key is that node, for every message until the key is
      rotated. Keys derived from a public seed, as here, are for teaching only.
    * Lost replay state: a receiver that forgets its windows (no durable storage) accepts
      replays again; this module keeps them in ``storage`` for that reason.
    """
    return {
        "byzantine insider": (
            "a node with a valid key can sign false messages; the tag proves origin, not honesty"
        ),
        "confidentiality": "HMAC is not encryption: payloads are readable by anyone on the path",
        "traffic analysis": "senders, receivers, timing and sizes of messages remain visible",
        "denial of service": (
            "the adversary can still drop, delay or flood messages; rejection turns tampering "
            "into loss"
        ),
        "delay": "a message held back but delivered within the replay window is still accepted",
        "key compromise": "a stolen (or seed-derived) key lets its holder impersonate its owner",
        "lost replay state": "a receiver that forgets its windows accepts old messages again",
    }
