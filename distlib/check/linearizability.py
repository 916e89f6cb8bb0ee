"""Linearizability and sequential consistency of histories.

A history is *linearizable* (Herlihy & Wing 1990) when every operation can be given one instant
between its invocation and its completion at which it takes effect, so that the operations,
in the order of those instants, are answered exactly as a single sequential copy of the object
(the *model*, :mod:`distlib.check.models`) would answer them. It is *sequentially consistent*
(Lamport 1979) when some order works that keeps each client's own operations in the order the
client issued them, whatever the real time.

How the search works
--------------------
The checker follows Wing & Gong's search (1993) with Lowe's memoization (2017), the approach
of the Porcupine checker:

* Invocation and completion events are sorted by time into a doubly linked list. An operation
  can be placed next (*linearized*) when its invocation comes before the first completion
  still in the list: every operation that finished before it started is already placed.
* The search tries those candidates depth first; it places one when the model accepts it,
  removes its two events from the list and goes on. When no candidate leads anywhere, the
  operation of the first completion left can no longer be placed, and the search backs up.
  Candidates are tried earliest completion first (the operation that must be placed soonest),
  except that one leading to a state a pending observer saw goes first; each is stepped
  through the model only when its turn comes.
* It remembers every (set of placed operations, model state) found to be a dead end:
  reaching the same pair again by another route cannot succeed. The set is kept as narrow as
  the history's concurrency, not as its length: the first returned operation not placed, and
  a bitset of those placed after it (every one of them was invoked before that operation
  returned). A step costs the same at the end of a history of 100,000 operations as at its
  start, and a pair is one small int.
* *Observers first.* Some operations never change the state when they are legal (a read, a
  cas that answered "no"); the model says which (``read_only``). When such a candidate is
  legal now, placing it now is always safe: if any order works, it still works with the
  observer moved to the front, since moving it changes no state along the way and nothing
  had to come before it. The search takes it without trying alternatives, which removes
  most of the branching that reads cause; if the pair after it is a known dead end, so is
  the pair before it.
* An operation whose outcome is unknown (status "unknown", ``ret`` None) may take effect at
  any time after its invocation, or never: the search is done once every operation that did
  return has been placed. Placing one where it changes nothing is never useful, so the search
  does not try that, and unknown observers are left out altogether. Operations with status
  "fail" did not take effect and are ignored.
* Two operations of the same client where one is invoked at the very instant the other
  returned (a simulation with no think time) are ordered as the client issued them; across
  clients, touching intervals are concurrent (:meth:`~distlib.history.Operation.precedes`).
* *P-compositionality* (Herlihy & Wing 1990, Theorem 1; Horn & Kroening 2015): a history is
  linearizable when each independent part is. The model's ``partition`` splits a map into one
  history per key. Parts are searched by turns, in slices that grow, smallest part first, and
  the first part found illegal ends the whole check.
* *Reachability* (optional, from the model: ``grows``, ``sets``, ``reaches``). A read that
  returned v must be placed before it returns, so the state must become v using operations
  invoked before then. Where every operation but a few (writes, puts) only grows the state
  (appends, reads: "abc" can grow into "abcd", never into "abd"), a state that cannot grow
  into v, with no write-like operation still to come in time that leaves a state which can,
  is a dead end at once, however the search would go on. The search checks this for the
  candidates and for the observer that returns soonest. It cuts short the wrong turns that
  otherwise cost an exponential number of orders (a history of 50 clients that took minutes
  is decided in a fraction of a second). A search starts using it at its first dead end; as
  it also shortens the longest legal start that an explanation shows, parts of 32 operations
  or fewer use it only once undecided after 1,000 steps.
* The time a depth-first search takes depends very much on the order it tries candidates
  in. A part still undecided after some 20,000 steps gets a second search that tries the
  most recently invoked candidate first; the two take turns and share their dead ends, and
  the first to decide answers.
* Model steps are memoized per operation (state -> next state) and states are numbered, so
  the inner loop works with small ints only; the cyclic garbage collector is paused during
  the check, which creates no reference cycles that outlive it. The longest legal start is
  recorded as a chain of pairs that shares the path's cells (no copy per new record).

A step budget (``max_steps``) and a wall-clock ``timeout`` stop the search with the verdict
"unknown" instead of running for ever: the problem is NP-complete (Gibbons & Korach 1997).

This module judges a history it is given; recording histories is :mod:`distlib.history`'s job,
reading other tools' files :mod:`distlib.check.formats`'s, drawing :mod:`distlib.views.lincheck`'s.
"""

from __future__ import annotations

import gc
import itertools
import operator
import time as _time
from collections.abc import Callable, Generator, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from distlib.check.models import Model
from distlib.history import History, Operation

__all__ = [
    "LINEARIZABLE",
    "NOT_LINEARIZABLE",
    "NOT_SEQUENTIALLY_CONSISTENT",
    "SEQUENTIALLY_CONSISTENT",
    "UNKNOWN",
    "CheckResult",
    "check_linearizable",
    "check_sequential",
]

LINEARIZABLE = "linearizable"
NOT_LINEARIZABLE = "not linearizable"
SEQUENTIALLY_CONSISTENT = "sequentially consistent"
NOT_SEQUENTIALLY_CONSISTENT = "not sequentially consistent"
UNKNOWN = "unknown"

#: Steps a part is searched before the next part gets its turn: the first turn, the longest.
_FIRST_SLICE = 1_000
_SLICE = 20_000
#: Steps after which a part that is still undecided gets a second search in another order.
_WIDEN_AFTER = 20_000
#: The searches of a part of more than _PRUNE_SIZE operations use the model's reachability
#: rule (``Model.reaches``, see _Reach) from their first dead end on (a search that never
#: backs up has no use for it); those of a smaller part only once it is still undecided after
#: _PRUNE_AFTER steps. The rule cuts dead ends short, and with them the longest legal start an
#: explanation shows: small histories, the ones people read, are explained from the plain
#: search.
_PRUNE_SIZE = 32
_PRUNE_AFTER = 1_000
#: Operations of a legal start shown in an explanation (the last ones).
_SHOWN = 10


@dataclass
class CheckResult:
    """What a checker concluded about a history.

    ``verdict``
        "linearizable", "not linearizable" or "unknown" (the budget ran out) for
        :func:`check_linearizable`; "sequentially consistent", "not sequentially consistent" or
        "unknown" for :func:`check_sequential`. :attr:`ok` is True only for a definite yes.
    ``order``
        when legal, an order of the operations that works. Operations of unknown outcome left
        out of it need not have taken effect.
    ``prefix``, ``state``, ``culprit``
        when illegal, the longest legal start the search found, the model's state after it,
        and the operation that could not come next (None if the search could not name one);
        ``partition`` is the key of the part that failed (for a model that splits histories;
        ``state`` is then the state of that part's model, ``model.for_part(key)``).
    ``steps``, ``elapsed``, ``operations``, ``partitions``
        model steps tried, seconds spent, operations that took part (those with status
        "fail" do not) and the number of independent parts checked.
    ``criterion``, ``model``, ``explanation``
        what was checked, against which model, and all the above in sentences.
    """

    verdict: str
    model: Model
    criterion: str = "linearizability"
    steps: int = 0
    elapsed: float = 0.0
    operations: int = 0
    order: list[Operation] | None = None
    prefix: list[Operation] = field(default_factory=list)
    state: Any = None
    culprit: Operation | None = None
    partition: Hashable = None
    partitions: int = 1
    explanation: str = ""

    @property
    def ok(self) -> bool:
        """True only for a definite yes ("linearizable" or "sequentially consistent")."""
        return self.verdict in (LINEARIZABLE, SEQUENTIALLY_CONSISTENT)

    @property
    def decided(self) -> bool:
        """False when the search ran out of budget ("unknown")."""
        return self.verdict != UNKNOWN

    def __str__(self) -> str:
        return self.explanation or self.verdict


class _Outcome:
    """The end of one part's search."""

    __slots__ = ("culprit", "legal", "order", "prefix", "state")

    def __init__(self, legal: bool, order: list[int], prefix: list[int], state: Any, culprit: int):
        self.legal = legal
        self.order = order
        self.prefix = prefix
        self.state = state
        self.culprit = culprit


def _check_hashable(model: Model, state: Any, where: str) -> None:
    try:
        hash(state)
    except TypeError:
        raise TypeError(
            f"the {getattr(model, 'name', type(model).__name__)} model's {where} gave the state "
            f"{state!r}, which is not hashable; use a tuple, frozenset or other immutable value"
        ) from None


#: A search over one part, run in slices: it yields the steps taken so far, is sent the size of
#: its next slice, and returns its step count when it has decided the part.
Search = Generator[int, int, int]


_CALL = operator.attrgetter("call")
_STATUS = operator.attrgetter("status")

#: A list of operations as nested pairs (last, chain of the ones before), None when empty.
_Chain = tuple[int, Any] | None


def _unchain(chain: _Chain) -> list[int]:
    out = []
    while chain is not None:
        out.append(chain[0])
        chain = chain[1]
    out.reverse()
    return out


#: States are numbered from 0; a memo key packs a state number into this many bits.
_STATE_BITS = 32


class _Part:
    """One independent part of a history, prepared for the search.

    The operations are kept in the order of their calls. Model states are numbered (the
    initial one is 0) and every model step is memoized per operation, so that the searches
    work with small ints only.
    """

    def __init__(self, key: Hashable, ops: list[Operation], model: Model) -> None:
        ops = sorted(ops, key=_CALL)
        read_only = getattr(model, "read_only", None)
        if read_only is None:
            observer = [False] * len(ops)
        else:
            observer = [bool(read_only(op)) for op in ops]
            if "unknown" in map(_STATUS, ops) and any(
                observer[k] and op.status == "unknown" for k, op in enumerate(ops)
            ):
                # An observer whose answer is unknown can never matter: leave it out.
                keep = [
                    k for k, op in enumerate(ops) if not (observer[k] and op.status == "unknown")
                ]
                ops = [ops[k] for k in keep]
                observer = [observer[k] for k in keep]
        self.observer = observer
        self.key = key
        self.model = model
        self.ops = ops
        self.n = len(ops)
        self.outcome: _Outcome | None = None
        init = model.init()
        _check_hashable(model, init, "init()")
        self.states: list[Any] = [init]
        self.number: dict[Any, int] = {init: 0}
        self.trans: list[dict[int, int]] = [{} for _ in ops]
        # Pairs (operations placed, state) known to lead nowhere, shared by the searches of
        # this part; see _linearizability_search for how a pair is packed into an int.
        self.dead: set[int] = set()
        # The longest legal start found: its length, the state after it, the operation that
        # could not follow it, and the start itself as a chain (last operation, chain of the
        # ones before) that shares its cells with the search's path: recording it costs O(1)
        # however long it is. A search keeps its record in local variables and writes it here
        # when it yields or ends.
        self.best_len = -1
        self.best_hs = 0
        self.best_culprit = -1
        self.best_chain: _Chain = None
        self.searches: list[Search] = []
        self.counts: list[int] = []
        self.layout: _Layout | None = None
        # For each observer legal in one state only (``model.only_state``), that state's
        # number; -1 for the other operations.
        self.sole = [-1] * self.n
        only = getattr(model, "only_state", None)
        if only is not None:
            for k, op in enumerate(ops):
                if observer[k] and op.status == "ok":
                    got = only(op)
                    if got is not None:
                        (state,) = got
                        self.sole[k] = self.numbered(state, op, "only_state")

    @property
    def steps(self) -> int:
        return sum(self.counts)

    def numbered(self, state: Any, op: Operation | None, where: str) -> int:
        """The number of ``state``, numbering it if it is new (``where`` names the model
        method that gave it, for the error about an unhashable state)."""
        try:
            num = self.number.get(state)
        except TypeError:
            _check_hashable(self.model, state, f"{where}({op})" if op is not None else where)
            raise
        if num is None:
            num = len(self.states)
            if num >> _STATE_BITS:  # memo keys hold a state number in _STATE_BITS bits
                raise MemoryError(f"more than 2**{_STATE_BITS} states in one part")
            self.number[state] = num
            self.states.append(state)
        return num

    def stepper(self) -> Callable[[int, int], int]:
        """A function (op k, state number) -> next state number, or -1 if illegal, that also
        fills in the memo ``trans``."""
        ops = self.ops
        step = self.model.step
        states = self.states
        number = self.number
        trans = self.trans
        numbered = self.numbered

        def advance(k: int, hs: int) -> int:
            ok, new = step(states[hs], ops[k])
            if not ok:
                nxt = -1
            else:
                try:
                    nxt = number[new]
                except (KeyError, TypeError):
                    nxt = numbered(new, ops[k], "step")
            trans[k][hs] = nxt
            return nxt

        return advance

    def add_search(self, search: Search) -> None:
        next(search)  # the search then waits for its first slice
        self.searches.append(search)
        self.counts.append(0)

    def run(self, size: int) -> None:
        """Search for about ``size`` more steps, shared among this part's searches."""
        share = max(1, size // len(self.searches))
        for i, search in enumerate(self.searches):
            try:
                self.counts[i] = search.send(share)
            except StopIteration as stop:
                self.counts[i] = stop.value
            if self.outcome is not None:
                return

    def finish(self, legal: bool, order: list[int], hs: int) -> None:
        if legal:
            self.outcome = _Outcome(True, order, [], self.states[hs], -1)
        else:
            self.outcome = _Outcome(
                False, [], _unchain(self.best_chain), self.states[self.best_hs], self.best_culprit
            )


class _Layout:
    """What both searches of a part need to know about its events, computed once.

    Invocations and completions are sorted by time into slots 1..E of a doubly linked list,
    with 0 its head and E+1 a tail that counts as a completion. A call at the very time
    another operation returns is concurrent with it (:meth:`Operation.precedes` is strict),
    so calls sort first. Only operations that returned ("ok") have a completion; the others
    may take effect at any time after their call.
    """

    def __init__(self, part: _Part) -> None:
        ops = part.ops
        n = part.n
        returning = [k for k, op in enumerate(ops) if op.status == "ok"]
        calls = [op.call for op in ops]
        rets = [float(ops[k].ret) for k in returning]  # type: ignore[arg-type]
        # Event i < n is the call of operation i, event n + j the return of returning[j]: a
        # stable sort by time alone puts calls before returns at the same instant.
        times: list[float] = calls + rets
        events = sorted(range(len(times)), key=times.__getitem__)
        self.size = size = len(events) + 2
        self.is_call = is_call = [False] * size
        self.ev_op = ev_op = [-1] * size
        self.call_slot = call_slot = [0] * n
        self.ret_slot = ret_slot = [-1] * n
        for slot, i in enumerate(events, 1):
            if i < n:
                ev_op[slot] = i
                is_call[slot] = True
                call_slot[i] = slot
            else:
                k = returning[i - n]
                ev_op[slot] = k
                ret_slot[k] = slot
        self.gate = None if set(rets).isdisjoint(calls) else _same_instant_gates(ops)
        # Operations that returned: their number among those in call order (``mid``); the
        # others (unknown outcome): -1, and a bit of their own (``ubit``).
        self.mid = mid = [-1] * n
        self.ubit = ubit = [0] * n
        returned = unknown = 0
        for k in range(n):
            if ret_slot[k] >= 0:
                mid[k] = returned
                returned += 1
            else:
                ubit[k] = 1 << unknown
                unknown += 1
        self.returned = returned
        self.unknown = unknown


def _same_instant_gates(ops: Sequence[Operation]) -> list[list[int]]:
    """For each operation (in call order), its client's earlier operations that returned at
    the very instant it was invoked (usually none; the layout skips this when no operation
    is invoked at an instant another returns).

    Across clients such a tie means "concurrent" (:meth:`Operation.precedes` is strict), but a
    client's own next operation was issued after the reply it got, at the same instant in a
    simulation with no think time: it must come after it.
    """
    gates: list[list[int]] = [[] for _ in ops]
    returned: dict[tuple[str, float], list[int]] = {}  # (client, instant) -> those returning
    for k, op in enumerate(ops):  # in call order
        gates[k] = returned.get((op.client, op.call), [])[:]
        if op.status == "ok":
            assert op.ret is not None  # an operation that returned has a return time
            returned.setdefault((op.client, op.ret), []).append(k)
    return gates


class _Reach:
    """The model's reachability rule (``Model.grows``, ``sets`` and ``reaches``) for a part.

    An observer ``g`` legal in one state ``w`` only must be placed before it returns, and
    every operation placed before it was invoked before that. If the state now cannot grow
    into ``w`` (``reaches`` is False), one of the operations that do not grow the state
    (``jumps``, in call order) must come first: one not placed yet, invoked before ``g``
    returns, and leaving a state from which ``w`` can grow (``lands``: the state it always
    leaves, from ``model.sets``, or -1 when that depends on the state before). With none
    such, the pair (placed, state) is a dead end however the search goes on.
    """

    def __init__(self, part: _Part, layout: _Layout) -> None:
        model = part.model
        reaches = model.reaches
        grows = model.grows
        sets = getattr(model, "sets", None)
        states = part.states
        memo: dict[int, bool] = {}

        def reach(hs: int, w: int) -> bool:
            key = hs << _STATE_BITS | w
            got = memo.get(key)
            if got is None:
                got = memo[key] = bool(reaches(states[hs], states[w]))
            return got

        self.reach = reach
        self.memo = memo  # (state << _STATE_BITS | target) -> reach(state, target)
        # An observer goes from a state to itself, which every state reaches: it grows.
        ops = part.ops
        observer = part.observer
        self.jumps = [k for k, op in enumerate(ops) if not observer[k] and not grows(op)]
        self.lands: list[int] = []
        for k in self.jumps:
            got = sets(ops[k]) if sets is not None else None
            self.lands.append(-1 if got is None else part.numbered(got[0], ops[k], "sets"))
        # The observers with one legal state, soonest returning first.
        ret_slot = layout.ret_slot
        self.watch = sorted(
            (k for k, w in enumerate(part.sole) if w >= 0), key=ret_slot.__getitem__
        )

    @staticmethod
    def of(part: _Part, layout: _Layout) -> _Reach | None:
        """The rule for ``part``, or None if its model does not give one."""
        reaches = getattr(part.model, "reaches", None)
        if reaches is None or getattr(reaches, "__func__", None) is Model.reaches:
            return None
        if getattr(part.model, "grows", None) is None:
            return None
        return _Reach(part, layout)

    def hopeless(
        self, w: int, returns: int, jump: int, is_placed: bytearray, call_slot: list[int]
    ) -> bool:
        """No operation of ``jumps`` from index ``jump`` on, not placed and invoked before
        slot ``returns``, leaves a state that can grow into ``w``."""
        jumps = self.jumps
        lands = self.lands
        reach = self.reach
        while jump < len(jumps) and call_slot[jumps[jump]] < returns:
            if not is_placed[jumps[jump]] and (lands[jump] < 0 or reach(lands[jump], w)):
                return False
            jump += 1
        return True


def _linearizability_search(part: _Part, order: str) -> Search:
    """One depth-first search of ``part``; ``order`` ranks the candidates at each branch.

    "deadline" tries first the candidate that must return soonest; "recent" the one invoked
    last. A generator: it receives a number of steps with ``send``, yields the steps done so
    far when they are used up, and returns (setting ``part.outcome``) when it has decided.

    The set of operations placed is kept small: operations that returned are numbered in call
    order, ``base`` is the first of them not placed (all before it are) and ``low`` holds the
    placed ones from ``base`` on, bit 0 for ``base`` itself; operations of unknown outcome
    have their own bits in ``unk``. Every operation placed after ``base`` was invoked before
    ``base`` returned, so ``low`` is as wide as the concurrency of the history, not as its
    length, and a step costs the same at the end of a long history as at its start. A pair
    (placed, state) is the int ``low, unk, state, base`` packed one after another.
    """
    budget = yield 0  # the set-up waits for the first slice: a part never searched costs none
    if part.layout is None:
        part.layout = _Layout(part)
    lay = part.layout
    size = lay.size
    tail = size - 1
    nxt = [*range(1, size), tail]
    prv = [0, *range(size - 1)]
    is_call = lay.is_call
    ev_op = lay.ev_op
    call_slot = lay.call_slot
    ret_slot = lay.ret_slot
    gate = lay.gate
    mid = lay.mid
    ubit = lay.ubit
    if order == "deadline":
        rank = [r if r >= 0 else size for r in ret_slot]
    elif order == "recent":
        rank = [-c for c in call_slot]
    else:
        raise ValueError(f"unknown search order {order!r}")
    ushift = lay.unknown + _STATE_BITS
    bshift = lay.returned.bit_length()
    observer = part.observer
    sole = part.sole
    trans = part.trans
    advance = part.stepper()
    dead = part.dead
    rule: _Reach | None = None
    reach: Callable[[int, int], bool] | None = None
    memo: dict[int, bool] = {}
    jumps: list[int] = []
    watch: list[int] = []
    is_placed = bytearray(part.n)

    def child_key(low: int, base: int, unk: int, hs: int, k: int) -> int:
        """The packed pair after also placing ``k``, with state ``hs``."""
        if mid[k] < 0:
            unk |= ubit[k]
        elif mid[k] == base:
            low |= 1
            t = (~low & (low + 1)).bit_length() - 1  # the placed run from base on
            low >>= t
            base += t
        else:
            low |= 1 << (mid[k] - base)
        return ((low << ushift | unk << _STATE_BITS | hs) << bshift) | base

    pending = lay.returned  # operations that returned and are not placed yet
    low = base = unk = 0
    hs = 0  # state number 0 is the initial state
    # With the reachability rule: the first operation of ``jumps`` not placed (all before it
    # are), and the first of ``watch`` not placed.
    jump = watched = 0
    # The path: for each placement, (operation, the search's variables before it, its siblings
    # still to try (None when the placement was forced), index of the next sibling).
    path: list[tuple[int, int, int, int, int, int, int, list[tuple[int, int]] | None, int]] = []
    chain: _Chain = None  # the operations of the path, as a chain
    # The longest legal start this search knows of (kept in locals, shared with the part's
    # other search at every yield).
    best_len, best_hs, culprit, best = part.best_len, part.best_hs, part.best_culprit, None
    steps = 0
    ruled = False  # whether the rule has been looked for (see _PRUNE_SIZE)

    while True:
        if steps >= budget:
            part.best_len, part.best_hs, part.best_culprit = best_len, best_hs, culprit
            part.best_chain = best
            budget = steps + (yield steps)
            if part.best_len > best_len:  # the other search went further
                best_len, best_hs, culprit = part.best_len, part.best_hs, part.best_culprit
                best = part.best_chain
            if not ruled and steps >= _PRUNE_AFTER:
                ruled = True
                rule = _Reach.of(part, lay)
                if rule is not None:
                    reach, memo, jumps, watch = rule.reach, rule.memo, rule.jumps, rule.watch
        if pending == 0:
            part.finish(True, [p[0] for p in path], hs)
            return steps
        depth = len(path)
        if depth > best_len:
            best_len, best_hs, culprit, best = depth, hs, -1, chain
        # Scan the candidates: invocations before the first completion still in the list.
        # Observers are tried at once (a legal one is placed without alternatives); the other
        # candidates are only collected, and stepped one by one when their turn comes.
        alts: list[tuple[int, int]] | None = []
        targets: list[int] = []
        forced = -1
        doomed = False
        e = nxt[0]
        if reach is not None:
            # The reachability rule for the observer that returns soonest.
            while watched < len(watch) and is_placed[watch[watched]]:
                watched += 1
            if watched < len(watch):
                k = watch[watched]
                w = sole[k]
                if w != hs:
                    grows = memo.get(hs << _STATE_BITS | w)
                    if grows is None:
                        grows = reach(hs, w)
                    if not grows and rule.hopeless(w, ret_slot[k], jump, is_placed, call_slot):  # type: ignore[union-attr]
                        doomed = True
                        e = tail
                        if depth == best_len and culprit < 0:
                            culprit = k
        while is_call[e]:
            k = ev_op[e]
            if gate is not None and any(not is_placed[j] for j in gate[k]):
                e = nxt[e]
                continue
            w = sole[k]
            if w >= 0:
                steps += 1
                if hs == w:
                    forced = k
                    break
                targets.append(w)
                if reach is not None:
                    grows = memo.get(hs << _STATE_BITS | w)
                    if grows is None:
                        grows = reach(hs, w)
                    if not grows and rule.hopeless(w, ret_slot[k], jump, is_placed, call_slot):  # type: ignore[union-attr]
                        doomed = True
                        break
                e = nxt[e]
                continue
            if observer[k]:
                steps += 1
                ns = trans[k].get(hs, -2)
                if ns == -2:
                    ns = advance(k, hs)
                if ns == hs:
                    forced = k
                    break
            else:
                alts.append((rank[k], k))  # type: ignore[union-attr]
            e = nxt[e]
        idx = 0
        k = -1
        ns = hs
        if doomed:
            alts = []
            if depth == best_len and culprit < 0:
                culprit = ev_op[e] if e != tail else -1
        elif forced >= 0:
            # Observers first: placing a legal observer now loses nothing.
            if dead and child_key(low, base, unk, hs, forced) in dead:
                alts = []  # and the pair it leads to is known to fail: back up
            else:
                k = forced
                alts = None
        else:
            if len(alts) > 1:  # type: ignore[arg-type]
                if targets:
                    # Candidates that lead to a state some pending observer saw go first.
                    for i, (r, k2) in enumerate(alts):  # type: ignore[arg-type]
                        ns = trans[k2].get(hs, -2)
                        if ns == -2:
                            ns = advance(k2, hs)
                        if ns in targets:
                            alts[i] = (r - size - size, k2)  # type: ignore[index]
                    ns = hs
                alts.sort()  # type: ignore[union-attr]
            if depth == best_len and culprit < 0:
                culprit = ev_op[e]
        while True:
            if alts is not None:
                # Try the next alternative that the model allows and that does not lead to a
                # known dead end. One of unknown outcome that would change nothing is never
                # useful: it may as well not take effect.
                k = -1
                while idx < len(alts):
                    k2 = alts[idx][1]
                    idx += 1
                    steps += 1
                    ns = trans[k2].get(hs, -2)
                    if ns == -2:
                        ns = advance(k2, hs)
                    if ns < 0 or (ns == hs and mid[k2] < 0):
                        continue
                    if dead:
                        # The pair it leads to, packed (see child_key).
                        m = mid[k2]
                        if m < 0:
                            key = (low << ushift | (unk | ubit[k2]) << _STATE_BITS | ns) << bshift
                            key |= base
                        elif m == base:
                            t = low | 1
                            b = (~t & (t + 1)).bit_length() - 1
                            key = ((t >> b) << ushift | unk << _STATE_BITS | ns) << bshift
                            key |= base + b
                        else:
                            t = low | 1 << (m - base)
                            key = ((t << ushift | unk << _STATE_BITS | ns) << bshift) | base
                        if key in dead:
                            continue
                    k = k2
                    break
            if k >= 0:
                path.append((k, low, base, unk, hs, jump, watched, alts, idx))
                c = call_slot[k]
                p, q = prv[c], nxt[c]
                nxt[p] = q
                prv[q] = p
                m = mid[k]
                if m >= 0:
                    r = ret_slot[k]
                    p, q = prv[r], nxt[r]
                    nxt[p] = q
                    prv[q] = p
                    pending -= 1
                    if m == base:
                        low |= 1
                        t = (~low & (low + 1)).bit_length() - 1
                        low >>= t
                        base += t
                    else:
                        low |= 1 << (m - base)
                else:
                    unk |= ubit[k]
                is_placed[k] = 1
                chain = (k, chain)
                if reach is not None:
                    while jump < len(jumps) and is_placed[jumps[jump]]:
                        jump += 1
                hs = ns
                break
            # Nothing left to try here: this pair is a dead end; back up one placement.
            dead.add(((low << ushift | unk << _STATE_BITS | hs) << bshift) | base)
            if not ruled and part.n > _PRUNE_SIZE:
                ruled = True
                rule = _Reach.of(part, lay)
                if rule is not None:
                    reach, memo, jumps, watch = rule.reach, rule.memo, rule.jumps, rule.watch
            if not path:
                part.best_len, part.best_hs, part.best_culprit = best_len, best_hs, culprit
                part.best_chain = best
                part.finish(False, [], hs)
                return steps
            k, low, base, unk, hs, jump, watched, alts, idx = path.pop()
            chain = chain[1]  # type: ignore[index]
            if mid[k] >= 0:
                r = ret_slot[k]
                nxt[prv[r]] = r
                prv[nxt[r]] = r
                pending += 1
            c = call_slot[k]
            nxt[prv[c]] = c
            prv[nxt[c]] = c
            is_placed[k] = 0
            if alts is None:
                alts = []  # a forced placement failed: so does the pair before it
                idx = 0


def _sequential_search(part: _Part) -> Search:
    """A depth-first search of ``part`` for an order that keeps each client's order.

    An operation must follow its client's earlier operations that returned; one of unknown
    outcome may take effect any time after those, or never, and orders nothing after it.
    Same protocol as :func:`_linearizability_search`; a pair (placed, state) is the int
    ``placed << 32 | state``.
    """
    ops = part.ops
    n = part.n
    pred = [0] * n
    done_before: dict[str, int] = {}
    must = 0
    for k, op in enumerate(ops):
        pred[k] = done_before.get(op.client, 0)
        if op.status == "ok":
            done_before[op.client] = pred[k] | (1 << k)
            must |= 1 << k
    observer = part.observer
    trans = part.trans
    advance = part.stepper()
    dead = part.dead
    placed = 0
    hs = 0
    path_op: list[int] = []
    path_hs: list[int] = []
    path_alts: list[list[tuple[int, int, int]] | None] = []
    path_idx: list[int] = []
    steps = 0
    chain: _Chain = None  # path_op as a chain
    budget = yield 0

    while True:
        if steps >= budget:
            budget = steps + (yield steps)
        if placed & must == must:
            part.finish(True, path_op[:], hs)
            return steps
        depth = len(path_op)
        if depth > part.best_len:
            part.best_len, part.best_hs, part.best_culprit = depth, hs, -1
            part.best_chain = chain
        alts: list[tuple[int, int, int]] | None = []
        forced = -1
        blocked = -1
        for k in range(n):
            if (placed >> k) & 1 or pred[k] & ~placed:
                continue
            known = trans[k].get(hs)
            ns = advance(k, hs) if known is None else known
            steps += 1
            if ns >= 0:
                if observer[k] and ns == hs:
                    forced = k
                    break
                if ns != hs or (must >> k) & 1:
                    alts.append((k, k, ns))  # type: ignore[union-attr]
            elif blocked < 0 and (must >> k) & 1:
                blocked = k
        idx = 0
        if forced >= 0:
            if (placed | (1 << forced)) << _STATE_BITS | hs in dead:
                alts = []
            else:
                k = forced
                alts = None
                ns = hs
        else:
            k = -1
            if depth == part.best_len and part.best_culprit < 0:
                part.best_culprit = blocked
        while True:
            if alts is not None:
                k = -1
                while idx < len(alts):
                    _, k2, ns = alts[idx]
                    idx += 1
                    if (placed | (1 << k2)) << _STATE_BITS | ns not in dead:
                        k = k2
                        break
            if k >= 0:
                path_op.append(k)
                path_hs.append(hs)
                path_alts.append(alts)
                path_idx.append(idx)
                placed |= 1 << k
                chain = (k, chain)
                hs = ns
                break
            dead.add(placed << _STATE_BITS | hs)
            if not path_op:
                part.finish(False, [], hs)
                return steps
            k = path_op.pop()
            hs = path_hs.pop()
            alts = path_alts.pop()
            idx = path_idx.pop()
            placed ^= 1 << k
            chain = chain[1]  # type: ignore[index]
            if alts is None:
                alts = []
                idx = 0


def _earliest_points(order: Sequence[Operation]) -> list[float]:
    """Instants at which the operations of a legal order can take effect, earliest first."""
    return list(itertools.accumulate(map(_CALL, order), max))


def _explain(result: CheckResult, model: Model) -> str:
    """The result in sentences a person can follow; ``model`` describes ``result.state``."""
    name = getattr(model, "name", type(model).__name__)
    describe = getattr(model, "describe", lambda state: f"the state is {state!r}")
    n = result.operations
    if result.verdict == UNKNOWN:
        return (
            f"unknown: the search stopped after {result.steps:,} steps and {result.elapsed:.2f} s "
            f"without deciding ({n} operations, {name} model); allow more steps or time."
        )
    if result.ok:
        placed = len(result.order or [])
        left = f"; {n - placed} of unknown outcome need not take effect" if placed < n else ""
        return (
            f"{result.verdict}: the {n} operations fit the {name} model in a legal order "
            f"(found in {result.steps:,} steps{left})."
        )
    rule = (
        "respecting real time"
        if result.criterion == "linearizability"
        else "keeping each client's own order"
    )
    where = "" if result.partitions == 1 else f" for key {result.partition!r}"
    lines = [f"{result.verdict}: no order of the operations{where} {rule} fits the {name} model."]
    k = len(result.prefix)
    if k:
        lines.append(f"The longest legal start found places {k} operation(s):")
        if k > _SHOWN:
            lines.append(f"  ... ({k - _SHOWN} before these)")
        lines.extend(f"  {op}" for op in result.prefix[-_SHOWN:])
        lines.append(f"after which {describe(result.state)}.")
    else:
        lines.append(f"No operation can even come first; at the start {describe(result.state)}.")
    c = result.culprit
    if c is not None:
        legal, _ = model.step(result.state, c)
        if result.criterion == "linearizability":
            lines.append(
                f"Then operation #{c.id}, {c}, must come (before everything that started after "
                "it returned), but "
                + (
                    "the model does not allow it in that state, and every operation that could "
                    "still go before it leads to a dead end."
                    if not legal
                    else "every way to go on from there leads to a dead end."
                )
            )
        else:
            lines.append(
                f"Then operation #{c.id}, {c}, client {c.client}'s next one, cannot come: "
                + (
                    "the model does not allow it in that state, and the other clients' next "
                    "operations lead to dead ends."
                    if not legal
                    else "every way to go on from there leads to a dead end."
                )
            )
    return "\n".join(lines)


def _ops_of(history: History | Iterable[Operation]) -> list[Operation]:
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise TypeError(f"expected a History or a list of Operations, not {type(history).__name__}")
    ops = list(history)
    for op in ops:
        if not isinstance(op, Operation):
            raise TypeError(f"a history holds Operation objects, not {type(op).__name__}")
        if op.status not in ("ok", "fail", "unknown"):
            raise ValueError(
                f"operation {op.id} has status {op.status!r}; expected 'ok', 'fail' or 'unknown'"
            )
        if op.status == "ok" and (op.ret is None or op.ret < op.call):
            raise ValueError(
                f"operation {op.id} is ok but returns at {op.ret}, before its call at {op.call}"
            )
    return ops


def _check_model(model: Model) -> None:
    for name in ("init", "step"):
        if not callable(getattr(model, name, None)):
            raise TypeError(
                f"the model must have a {name}() method (see distlib.check.models), "
                f"not {type(model).__name__}"
            )


def _run(
    parts: list[_Part],
    *,
    max_steps: int | None,
    timeout: float | None,
    started: float,
    widen: Callable[[_Part], Search] | None = None,
) -> tuple[str, _Part | None, int]:
    """Search the parts by turns, smallest first; stop at the first illegal one or when out of
    budget. ``widen`` makes a second search for a part that has not decided quickly."""
    if max_steps is not None and max_steps < 0:
        raise ValueError(f"max_steps must be a number of steps >= 0 or None, not {max_steps}")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, not {timeout}")
    active = sorted(parts, key=lambda p: p.n)
    total = 0
    turn = _FIRST_SLICE  # turns grow, so that a part that fails fast is found fast
    while active:
        still = []
        for part in active:
            size = turn if max_steps is None else min(turn, max_steps - total)
            if size <= 0 or (timeout is not None and _time.monotonic() - started > timeout):
                return UNKNOWN, None, total
            if widen is not None and len(part.searches) == 1 and part.steps >= _WIDEN_AFTER:
                part.add_search(widen(part))
            before = part.steps
            part.run(size)
            total += part.steps - before
            if part.outcome is None:
                still.append(part)
            elif not part.outcome.legal:
                return NOT_LINEARIZABLE, part, total
        active = still
        turn = min(2 * turn, _SLICE)
    return LINEARIZABLE, None, total


def check_linearizable(
    history: History | Iterable[Operation],
    model: Model,
    *,
    max_steps: int | None = 10_000_000,
    timeout: float | None = None,
    partition: bool = True,
) -> CheckResult:
    """Decide whether ``history`` is linearizable with respect to ``model``.

    ``max_steps`` bounds the number of model steps (None: no bound) and ``timeout`` the wall
    time in seconds; when either runs out first the verdict is "unknown". With
    ``partition=True`` a model that splits histories (``model.partition``) has each part
    checked on its own; ``False`` checks the history in one piece.
    """
    started = _time.monotonic()
    _check_model(model)
    live = [op for op in _ops_of(history) if op.status != "fail"]
    gc_was_on = gc.isenabled()
    gc.disable()  # the check makes no reference cycles; collecting would only slow it down
    try:
        return _check_linearizable(live, model, max_steps, timeout, partition, started)
    finally:
        if gc_was_on:
            gc.enable()


def _check_linearizable(
    live: list[Operation],
    model: Model,
    max_steps: int | None,
    timeout: float | None,
    partition: bool,
    started: float,
) -> CheckResult:
    if partition and hasattr(model, "partition"):
        groups = model.partition(live)
        for_part = getattr(model, "for_part", None)
        parts = [
            _Part(key, group, for_part(key) if for_part is not None else model)
            for key, group in groups.items()
        ]
    else:
        parts = [_Part(None, live, model)]
    for p in parts:
        p.add_search(_linearizability_search(p, "deadline"))
    verdict, bad, steps = _run(
        parts,
        max_steps=max_steps,
        timeout=timeout,
        started=started,
        widen=lambda p: _linearizability_search(p, "recent"),
    )
    for p in parts:
        p.searches.clear()  # a search refers to its part: no cycle is left behind
    result = CheckResult(verdict, model, steps=steps, operations=len(live), partitions=len(parts))
    if verdict == LINEARIZABLE:
        # Merge the parts' orders by the earliest instants at which their operations can act.
        if len(parts) == 1:
            only = parts[0]
            result.order = [only.ops[k] for k in only.outcome.order]  # type: ignore[union-attr]
            result.state = only.outcome.state  # type: ignore[union-attr]
        else:
            # Part after part, each in its order: a stable sort by instant alone keeps ties in
            # (part, position) order.
            ops: list[Operation] = []
            points: list[float] = []
            for p in parts:
                order = [p.ops[k] for k in p.outcome.order]  # type: ignore[union-attr]
                ops.extend(order)
                points.extend(_earliest_points(order))
            result.order = [ops[i] for i in sorted(range(len(ops)), key=points.__getitem__)]
    elif verdict == NOT_LINEARIZABLE:
        assert bad is not None and bad.outcome is not None
        _fill_failure(result, bad)
    result.elapsed = _time.monotonic() - started
    result.explanation = _explain(result, bad.model if bad is not None else model)
    return result


def check_sequential(
    history: History | Iterable[Operation],
    model: Model,
    *,
    max_steps: int | None = 10_000_000,
    timeout: float | None = None,
) -> CheckResult:
    """Decide whether ``history`` is sequentially consistent with respect to ``model``.

    Like :func:`check_linearizable`, but an order only has to keep each client's operations in
    the order that client issued them; real time between clients does not count. An operation
    of unknown outcome may take effect at any point after its client's earlier operations, or
    never. The history is never split: sequential consistency is not compositional.
    """
    started = _time.monotonic()
    _check_model(model)
    live = sorted(
        (op for op in _ops_of(history) if op.status != "fail"), key=lambda o: (o.call, o.id)
    )
    part = _Part(None, live, model)
    part.add_search(_sequential_search(part))
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        verdict, _, steps = _run([part], max_steps=max_steps, timeout=timeout, started=started)
    finally:
        if gc_was_on:
            gc.enable()
    verdict = {
        LINEARIZABLE: SEQUENTIALLY_CONSISTENT,
        NOT_LINEARIZABLE: NOT_SEQUENTIALLY_CONSISTENT,
    }.get(verdict, verdict)
    result = CheckResult(
        verdict, model, criterion="sequential consistency", steps=steps, operations=len(live)
    )
    out = part.outcome
    if verdict == SEQUENTIALLY_CONSISTENT and out is not None:
        result.order = [part.ops[k] for k in out.order]
        result.state = out.state
    elif verdict == NOT_SEQUENTIALLY_CONSISTENT:
        _fill_failure(result, part)
    result.elapsed = _time.monotonic() - started
    result.explanation = _explain(result, model)
    return result


def _fill_failure(result: CheckResult, part: _Part) -> None:
    out = part.outcome
    assert out is not None
    result.prefix = [part.ops[k] for k in out.prefix]
    result.state = out.state
    result.culprit = part.ops[out.culprit] if out.culprit >= 0 else None
    result.partition = part.key
