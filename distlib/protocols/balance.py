"""Load-balancing policies: which server should take the next request?

A policy looks at the servers' state, here the number of *outstanding* requests each one holds
(queued plus in service, as the dispatcher counts them: +1 when it sends a request, -1 when the
reply comes back), and returns the index of the server to use::

    policy = PowerOfTwoChoices()
    i = policy.choose([3, 0, 5, 2], rng)      # rng: a seeded random.Random

The policies, from least to most informed:

* :class:`RoundRobin`: servers in turn, ignoring their state;
* :class:`RandomChoice`: a uniformly random server, ignoring their state;
* :class:`PowerOfTwoChoices`: sample ``d`` (default 2) distinct servers at random and take the
  one with fewer outstanding requests (Mitzenmacher, "The Power of Two Choices in Randomized Load
  Balancing", 2001; Azar, Broder, Karlin and Upfal, "Balanced Allocations", 1994/1999);
* :class:`LeastOutstanding`: the server with the fewest outstanding requests (join the shortest
  queue), which needs every server's count on every request.

Each policy is pure: no clock, no I/O, randomness only from the ``rng`` it is given, and the
only state it keeps is its own (the round-robin position). The small functions
:func:`random_choice`, :func:`least_outstanding` and :func:`power_of_two_choices` are the rules
themselves; the classes wrap them behind one interface. Running them against traffic, and
measuring latency, is :mod:`distlib.labs.lab08_resilience.queueing`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

__all__ = [
    "POLICIES",
    "LeastOutstanding",
    "Policy",
    "PowerOfTwoChoices",
    "RandomChoice",
    "Rng",
    "RoundRobin",
    "least_outstanding",
    "make_policy",
    "power_of_two_choices",
    "random_choice",
]


class Rng(Protocol):
    """What a policy needs from its random number generator: a seeded ``random.Random`` fits."""

    def randrange(self, stop: int, /) -> int: ...

    def sample(self, population: Sequence[int], k: int) -> list[int]: ...


def _check_state(outstanding: Sequence[int]) -> int:
    if not isinstance(outstanding, Sequence) or isinstance(outstanding, str | bytes):
        raise TypeError(
            f"a policy needs a sequence of outstanding-request counts, one per server, "
            f"not {outstanding!r}"
        )
    if len(outstanding) == 0:
        raise ValueError("there are no servers to choose from")
    return len(outstanding)


def random_choice(outstanding: Sequence[int], rng: Rng) -> int:
    """Any server, uniformly at random (state is ignored)."""
    return rng.randrange(_check_state(outstanding))


def least_outstanding(outstanding: Sequence[int], rng: Rng) -> int:
    """The server with the fewest outstanding requests; ties broken uniformly at random.

    Breaking ties by lowest index instead would pile the light-load traffic onto server 0.
    """
    n = _check_state(outstanding)
    best = min(outstanding)
    tied = [i for i in range(n) if outstanding[i] == best]
    return tied[0] if len(tied) == 1 else tied[rng.randrange(len(tied))]


def power_of_two_choices(outstanding: Sequence[int], rng: Rng, d: int = 2) -> int:
    """Sample ``d`` distinct servers uniformly; pick the one with fewer outstanding requests.

    Ties go to the first one sampled, which is itself a random server. With ``d = 1`` this is
    :func:`random_choice`; with ``d`` = the number of servers it is :func:`least_outstanding`.
    """
    n = _check_state(outstanding)
    if not isinstance(d, int) or isinstance(d, bool) or d < 1:
        raise ValueError(f"d (the number of servers sampled) must be a positive int, not {d!r}")
    # Mitzenmacher 2001 (the supermarket model): d random choices, join the least loaded.
    sample = rng.sample(range(n), min(d, n))
    best = sample[0]
    for i in sample[1:]:
        if outstanding[i] < outstanding[best]:
            best = i
    return best


class Policy:
    """A load-balancing policy: ``choose(outstanding, rng) -> index of a server``.

    Subclasses override :meth:`choose`. ``name`` labels the policy in tables and plots.
    """

    name = "policy"

    def choose(self, outstanding: Sequence[int], rng: Rng) -> int:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RoundRobin(Policy):
    """Servers 0, 1, 2, ... in turn, whatever their state (the only policy that keeps state)."""

    name = "round robin"

    def __init__(self) -> None:
        self.next = 0

    def choose(self, outstanding: Sequence[int], rng: Rng) -> int:
        n = _check_state(outstanding)
        i = self.next % n
        self.next = i + 1
        return i


class RandomChoice(Policy):
    """A uniformly random server."""

    name = "random"

    def choose(self, outstanding: Sequence[int], rng: Rng) -> int:
        return random_choice(outstanding, rng)


class LeastOutstanding(Policy):
    """Join the shortest queue: the server with the fewest outstanding requests."""

    name = "least outstanding"

    def choose(self, outstanding: Sequence[int], rng: Rng) -> int:
        return least_outstanding(outstanding, rng)


class PowerOfTwoChoices(Policy):
    """The better of ``d`` random servers (``d = 2`` by default)."""

    def __init__(self, d: int = 2) -> None:
        if not isinstance(d, int) or isinstance(d, bool) or d < 1:
            raise ValueError(f"d (the number of servers sampled) must be a positive int, not {d!r}")
        self.d = d
        self.name = "power of two" if d == 2 else f"best of {d}"

    def choose(self, outstanding: Sequence[int], rng: Rng) -> int:
        return power_of_two_choices(outstanding, rng, self.d)

    def __repr__(self) -> str:
        return f"PowerOfTwoChoices(d={self.d})"


#: Policy factories by short name (a fresh object each time: round robin keeps state).
POLICIES: dict[str, Callable[[], Policy]] = {
    "round_robin": RoundRobin,
    "random": RandomChoice,
    "least_outstanding": LeastOutstanding,
    "p2c": PowerOfTwoChoices,
}


def make_policy(policy: str | Policy | Callable[[Sequence[int], Rng], int]) -> Policy:
    """A :class:`Policy` from a short name (see :data:`POLICIES`), a policy, or a plain function.

    A plain function ``f(outstanding, rng) -> index`` (the shape a student writes) is wrapped
    into a policy named after it.
    """
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, str):
        try:
            return POLICIES[policy]()
        except KeyError:
            known = ", ".join(POLICIES)
            raise ValueError(f"unknown policy {policy!r} (known: {known})") from None
    if isinstance(policy, type) and issubclass(policy, Policy):
        return policy()
    if callable(policy) and not isinstance(policy, type):
        return _FunctionPolicy(policy)
    raise TypeError(f"a policy is a name, a Policy or a function(outstanding, rng), not {policy!r}")


class _FunctionPolicy(Policy):
    """A plain ``f(outstanding, rng) -> index`` function used as a policy."""

    def __init__(self, fn: Callable[[Sequence[int], Rng], int]) -> None:
        self.fn = fn
        self.name = getattr(fn, "__name__", "custom").replace("_", " ")

    def choose(self, outstanding: Sequence[int], rng: Rng) -> int:
        i = self.fn(outstanding, rng)
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(outstanding):
            raise ValueError(
                f"policy {self.name!r} returned {i!r}; it must return a server index between 0 "
                f"and {len(outstanding) - 1}"
            )
        return i

    def __repr__(self) -> str:
        return f"<policy {self.name}>"
