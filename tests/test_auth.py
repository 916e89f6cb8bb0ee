"""Tests for distlib.protocols.auth: keys, canonical encoding, tags, replay windows, nodes."""

from __future__ import annotations

import dataclasses

import pytest

from distlib.node import NodeContext, Note, Send
from distlib.protocols.auth import (
    AuthBank,
    AuthNode,
    AuthTeller,
    PlainBank,
    Reject,
    ReplayWindow,
    Signed,
    Verifier,
    derive_key,
    encode,
    keyring,
    limitations,
    seal,
    sign,
    transfer,
    verify,
)

K = derive_key(7, "a", "b")


# -- keys ----------------------------------------------------------------------------------


def test_pair_keys_are_shared_symmetric_and_distinct():
    """k(a,b) = k(b,a), 32 bytes; other pairs, single nodes and other seeds get other keys."""
    assert derive_key(7, "a", "b") == derive_key(7, "b", "a")
    assert len(K) == 32
    others = {derive_key(7, "a", "c"), derive_key(7, "a"), derive_key(8, "a", "b")}
    assert K not in others and len(others) == 3
    ring = keyring(7, "a", ["a", "b", "c"])
    assert set(ring) == {"b", "c"} and ring["b"] == K, "a node holds one key per other node"


# -- canonical encoding and tags ---------------------------------------------------------


def test_encoding_is_canonical():
    """Equal messages encode equally whatever the dictionary order."""
    assert encode("a", "b", 1, {"x": 1, "y": [1, 2]}) == encode("a", "b", 1, {"y": [1, 2], "x": 1})


def test_encoding_separates_fields():
    """Moving characters between fields changes the bytes (no concatenation ambiguity)."""
    assert encode("ab", "c", 1, None) != encode("a", "bc", 1, None)
    assert encode("a", "b", 12, "3") != encode("a", "b", 1, "23")


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({1: "x"}, TypeError),
        ({"s": {1, 2}}, TypeError),
        (float("nan"), ValueError),
        (b"raw", TypeError),
    ],
)
def test_payloads_must_be_json_data(payload, error):
    """Sets, bytes, non-string keys and NaN have no single encoding and are refused."""
    with pytest.raises(error, match="payload"):
        encode("a", "b", 1, payload)


def test_sign_then_verify():
    """RFC 2104: the tag verifies under the same key and message."""
    tag = sign(K, "a", "b", 3, {"amount": 10})
    assert len(tag) == 64 and verify(K, "a", "b", 3, {"amount": 10}, tag)


@pytest.mark.parametrize(
    "changed",
    [
        {"sender": "c"},
        {"receiver": "c"},
        {"seq": 4},
        {"payload": {"amount": 11}},
        {"tag": "0" * 64},
    ],
)
def test_any_change_breaks_the_tag(changed):
    """Changing sender, receiver, sequence number, payload or tag makes verification fail."""
    msg = seal(K, "a", "b", 3, {"amount": 10})
    bad = dataclasses.replace(msg, **changed)
    assert not verify(K, bad.sender, bad.receiver, bad.seq, bad.payload, bad.tag), f"{changed}"


def test_wrong_key_fails():
    """A tag made with another key (another pair, another seed) does not verify."""
    msg = seal(derive_key(8, "a", "b"), "a", "b", 1, "hi")
    assert not verify(K, "a", "b", 1, "hi", msg.tag)


# -- replay windows ------------------------------------------------------------------------


def test_replay_window_accepts_new_and_rejects_repeated_numbers():
    """RFC 4303 §3.4.3: each number is accepted once; reordering inside the window is fine."""
    w = ReplayWindow(8)
    for seq in (1, 3, 2, 5):
        assert w.check(seq) is None, f"fresh number {seq} refused"
        w.accept(seq)
    assert w.check(3) is Reject.REPLAY
    assert w.check(4) is None, "4 was never seen: it must be accepted late"


def test_replay_window_rejects_numbers_older_than_the_window():
    """After a jump, numbers more than `size` behind the highest can no longer be judged."""
    w = ReplayWindow(8)
    w.accept(1)
    w.accept(20)
    assert w.check(12) is Reject.TOO_OLD and w.check(13) is None
    assert w.check(20) is Reject.REPLAY


# -- verifier -----------------------------------------------------------------------------


def _verifier(me="b"):
    return Verifier(me, keyring(7, me, ["a", "b", "c"]))


def test_verifier_names_every_reason():
    """Each kind of bad message is refused with its own reason; a good one passes once."""
    v = _verifier()
    good = seal(K, "a", "b", 1, "x")
    assert v.check("a", "not signed") is Reject.MALFORMED
    assert v.check("a", seal(derive_key(7, "a", "c"), "a", "c", 1, "x")) is Reject.NOT_FOR_ME
    assert v.check("c", good) is Reject.SENDER_MISMATCH
    stranger = seal(derive_key(7, "z", "b"), "z", "b", 1, "x")
    assert v.check("z", stranger) is Reject.UNKNOWN_SENDER
    assert v.check("a", dataclasses.replace(good, payload="y")) is Reject.BAD_TAG
    assert v.check("a", good) is None
    assert v.check("a", good) is Reject.REPLAY


def test_forged_numbers_do_not_move_the_window():
    """A forged message with a huge sequence number is refused before it touches the window."""
    v = _verifier()
    forged = Signed("a", "b", 10_000, "x", "f" * 64)
    assert v.check("a", forged) is Reject.BAD_TAG
    assert v.check("a", seal(K, "a", "b", 1, "x")) is None, "the honest message 1 was blocked"


# -- nodes --------------------------------------------------------------------------------


class Echo(AuthNode):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.got = []

    def on_authentic(self, src, payload):
        self.got.append((src, payload))


def test_send_signed_numbers_messages_per_destination_and_survives_restart():
    """Sequence numbers count up per receiver and are never reused after a crash."""
    ctx = NodeContext(id="a", peers=("b", "c"))
    n = Echo(keys=keyring(7, "a", ["b", "c"])).attach(ctx)
    n.send_signed("b", "one")
    n.send_signed("b", "two")
    n.send_signed("c", "one")
    seqs = [(a.dst, a.msg.seq) for a in n.take_actions() if isinstance(a, Send)]
    assert seqs == [("b", 1), ("b", 2), ("c", 1)]
    restarted = Echo(keys=keyring(7, "a", ["b", "c"])).attach(ctx)  # same storage, new object
    restarted.send_signed("b", "three")
    assert restarted.take_actions()[0].msg.seq == 3, "a restarted sender reused a number"


def test_receiver_remembers_accepted_numbers_across_restart():
    """Replay windows live in storage: a restarted receiver still refuses an old message."""
    ctx = NodeContext(id="b", peers=("a",))
    msg = seal(K, "a", "b", 1, "pay")
    first = Echo(keys=keyring(7, "b", ["a"])).attach(ctx)
    first.on_message("a", msg)
    assert first.got == [("a", "pay")]
    again = Echo(keys=keyring(7, "b", ["a"])).attach(ctx)
    again.on_message("a", msg)
    assert again.got == [] and again.rejected[0][2] is Reject.REPLAY
    assert any(isinstance(x, Note) and x.text == "rejected" for x in again.take_actions())


def test_authenticated_bank_obeys_only_authentic_orders():
    """The bank moves money for a signed teller order and ignores a tampered copy of the next."""
    bank = AuthBank(balances={"alice": 100, "bob": 0}, keys=keyring(7, "bank", ["teller"]))
    bank.attach(id="bank", peers=("teller",))
    teller = AuthTeller(
        orders=[transfer(1, "alice", "bob", 10), transfer(2, "alice", "bob", 5)],
        keys=keyring(7, "teller", ["bank"]),
    ).attach(id="teller", peers=("bank",))
    teller.on_start()
    teller.on_timer("next")
    teller.on_timer("next")
    first, second = (a.msg for a in teller.take_actions() if isinstance(a, Send))
    bank.on_message("teller", first)
    bank.on_message("teller", dataclasses.replace(second, payload=transfer(2, "alice", "bob", 50)))
    assert bank.balances == {"alice": 90, "bob": 10}, f"balances {bank.balances}"
    assert [r for _, _, r in bank.rejected] == [Reject.BAD_TAG]


def test_plain_bank_refuses_non_tellers_but_cannot_tell_who_really_sent():
    """The plain bank checks the claimed source, which is all it has to go on."""
    bank = PlainBank(balances={"alice": 100, "bob": 0}).attach(id="bank", peers=("teller",))
    bank.on_message("mallory", transfer(1, "alice", "bob", 10))
    assert bank.balances["alice"] == 100, "a non-teller moved money"
    bank.on_message("teller", transfer(2, "alice", "bob", 10))
    assert bank.balances["alice"] == 90


def test_bad_configuration_is_refused():
    """Short keys, names with '|' and signing for a peer without a key are errors."""
    with pytest.raises(TypeError, match="16 bytes"):
        AuthNode(keys={"b": b"short"})
    with pytest.raises(ValueError, match=r"without '\|'"):
        derive_key(1, "a|b", "c")
    n = Echo(keys={}).attach(id="a", peers=("b",))
    with pytest.raises(ValueError, match="no key"):
        n.send_signed("b", "x")


# -- limits --------------------------------------------------------------------------------


def test_limitations_are_stated():
    """The module says plainly what HMAC does not protect against."""
    threats = limitations()
    for must in ("byzantine insider", "confidentiality", "traffic analysis", "denial of service"):
        assert must in threats, f"limitations() does not mention {must!r}"
    doc = limitations.__doc__
    assert "not encryption" in doc and "Byzantine" in doc
