"""Lab 2: Word count."""

from __future__ import annotations

import math
import pickle
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from distlib.labs.lab02_compute._common import _check_positive_int

__all__ = [
    "Traffic",
    "line_counts",
    "synthetic_corpus",
    "traffic",
    "words",
]

# A small vocabulary; words are drawn with Zipf weights (the r-th word about 1/r as often as the
# first), as in real text, so a few words are very common and most are rare.
_VOCABULARY_TEXT = (
    "the of a to and in is node message that it for each time on with as leader replica by "
    "network log be are from server client this write read not an or request term all at vote "
    "quorum one state majority commit it's clock crash data can when two copy other than "
    "timeout reply partition order only key value lock failure system value's never until "
    "before after every process worker chunk map reduce pool task result sum count word line "
    "machine latency throughput disk memory cpu core thread file graph"
)
_VOCABULARY = tuple(_VOCABULARY_TEXT.split())


def synthetic_corpus(lines: int = 1000, *, words_per_line: int = 12, seed: int = 0) -> list[str]:
    """``lines`` lines of seeded English-like text (capitalised sentences, some punctuation)."""
    _check_positive_int(lines, "lines")
    _check_positive_int(words_per_line, "words_per_line")
    rng = random.Random(seed)
    weights = [1.0 / rank for rank in range(1, len(_VOCABULARY) + 1)]
    out = []
    for _ in range(lines):
        chosen = rng.choices(_VOCABULARY, weights, k=words_per_line)
        if rng.random() < 0.3:
            cut = rng.randrange(1, words_per_line)
            chosen[cut - 1] += ","
        chosen[0] = chosen[0].capitalize()
        out.append(" ".join(chosen) + rng.choice(".!?."))
    return out


_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def words(line: str) -> list[str]:
    """The words of a line: lower-cased runs of letters, apostrophes inside a word kept.

    >>> words("It's the Leader's log, not the log.")
    ["it's", 'the', "leader's", 'log', 'not', 'the', 'log']
    """
    return _WORD.findall(line.lower())


def line_counts(line: str) -> dict[str, int]:
    """The mapper of word count: how often each word occurs in one line (a plain dict)."""
    counts: dict[str, int] = {}
    for word in words(line):
        counts[word] = counts.get(word, 0) + 1
    return counts


@dataclass(frozen=True, slots=True)
class Traffic:
    """Bytes that travel back to the caller for one map/reduce, with and without a combiner."""

    items: int
    chunks: int
    without_combine: int
    with_combine: int

    @property
    def ratio(self) -> float:
        """How many times fewer bytes travel when each chunk is combined on its worker."""
        return self.without_combine / self.with_combine if self.with_combine else math.inf

    def __str__(self) -> str:
        return (
            f"{self.items} items in {self.chunks} chunks: {self.without_combine:,} bytes back "
            f"without combining, {self.with_combine:,} with ({self.ratio:.0f} x fewer)"
        )


def traffic(
    mapper: Callable[[Any], Any],
    combine: Callable[[Any, Any], Any],
    items: Iterable[Any],
    *,
    chunksize: int,
) -> Traffic:
    """Pickled size of the replies of a chunked map/reduce, computed here in this process.

    Without a combiner every chunk sends back the list of its mapped values; with one it sends
    the single value its items fold into. (The mapped values are fresh for each fold, so an
    in-place combiner does not disturb the count.)
    """
    _check_positive_int(chunksize, "chunksize")
    items = list(items)
    plain = combined = chunks = 0
    for start in range(0, len(items), chunksize):
        chunk = items[start : start + chunksize]
        chunks += 1
        plain += len(pickle.dumps([mapper(x) for x in chunk], pickle.HIGHEST_PROTOCOL))
        acc = mapper(chunk[0])
        for x in chunk[1:]:
            acc = combine(acc, mapper(x))
        combined += len(pickle.dumps(acc, pickle.HIGHEST_PROTOCOL))
    return Traffic(len(items), chunks, plain, combined)
