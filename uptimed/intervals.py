"""Sets of integer instants as sorted lists of half-open intervals: the arithmetic of availability.

An :data:`Interval` ``(start, end)`` is the set of integers ``start <= t < end`` (milliseconds since
the epoch, in uptimed). A set of instants is represented *normalized*: a list of non-empty
intervals, sorted by start, pairwise disjoint and not touching (``a.end < b.start`` for
consecutive ``a``, ``b``), so that each set has exactly one representation and two sets are equal
exactly when their lists are.

* :func:`normalize` turns any iterable of intervals (unsorted, overlapping, touching, empty,
  reversed) into a normalized list; :func:`union` normalizes the concatenation of its inputs.
* :func:`intersect`, :func:`subtract`, :func:`clip`, :func:`measure` and :func:`overlap` require
  **normalized** inputs (the result of this module's functions always is) and return normalized
  lists. They are single linear merges (two pointers), plus a binary search in :func:`clip`.

Everything is pure and allocation-light: these run for every monitor of every report.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import itemgetter

Interval = tuple[int, int]

__all__ = ["Interval", "normalize", "union", "intersect", "subtract", "clip", "measure", "overlap"]

_end = itemgetter(1)


def normalize(ivs: Iterable[Interval]) -> list[Interval]:
    """The normalized form of any intervals: empty ones (``end <= start``) dropped, the rest
    sorted, overlapping **and touching** ones merged (``(0, 5)`` and ``(5, 9)`` give ``(0, 9)``)."""
    out: list[Interval] = []
    append = out.append
    cs = ce = 0
    have = False
    for s, e in sorted(ivs):
        if e <= s:
            continue
        if have and s <= ce:
            if e > ce:
                ce = e
            continue
        if have:
            append((cs, ce))
        cs, ce, have = s, e, True
    if have:
        append((cs, ce))
    return out


def union(*lists: Iterable[Interval]) -> list[Interval]:
    """The union of any number of interval lists (normalized or not), normalized. On normalized
    inputs the sort merges already-sorted runs, which is O(n log k) for k inputs."""
    return normalize(chain.from_iterable(lists))


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """``a ∩ b`` for normalized ``a`` and ``b``."""
    if not a or not b:
        return []
    if len(b) == 1:
        return clip(a, b[0][0], b[0][1])
    if len(a) == 1:
        return clip(b, a[0][0], a[0][1])
    out: list[Interval] = []
    append = out.append
    i = j = 0
    la, lb = len(a), len(b)
    as_, ae = a[0]
    bs, be = b[0]
    while True:
        s = as_ if as_ > bs else bs
        if ae < be:
            if s < ae:
                append((s, ae))
            i += 1
            if i == la:
                break
            as_, ae = a[i]
        else:
            if s < be:
                append((s, be))
            j += 1
            if j == lb:
                break
            bs, be = b[j]
    return out


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """``a − b`` for normalized ``a`` and ``b``."""
    if not a:
        return []
    if not b:
        return list(a)
    out: list[Interval] = []
    append = out.append
    j = 0
    lb = len(b)
    for s, e in a:
        while j < lb and b[j][1] <= s:  # b[j] lies wholly before this (and every later) piece
            j += 1
        cur = s
        k = j
        while k < lb:
            bs, be = b[k]
            if bs >= e:
                break
            if bs > cur:
                append((cur, bs))
            if be > cur:
                cur = be
            if be >= e:  # b[k] may also cover the next piece of a: do not step past it
                break
            k += 1
        if cur < e:
            append((cur, e))
    return out


def clip(a: Sequence[Interval], lo: int, hi: int) -> list[Interval]:
    """``a ∩ [lo, hi)`` for normalized ``a``: a binary search, then only the pieces inside."""
    if lo >= hi or not a:
        return []
    i = bisect_right(a, lo, key=_end)  # the first interval ending after lo
    out: list[Interval] = []
    append = out.append
    n = len(a)
    while i < n:
        s, e = a[i]
        if s >= hi:
            break
        if s < lo or e > hi:
            append((s if s > lo else lo, e if e < hi else hi))
        else:
            append(a[i])
        i += 1
    return out


def measure(a: Iterable[Interval]) -> int:
    """The number of instants in normalized ``a`` (the sum of its lengths)."""
    return sum([e - s for s, e in a])


def overlap(a: Sequence[Interval], b: Sequence[Interval]) -> int:
    """``measure(intersect(a, b))`` for normalized ``a`` and ``b``, without building the list."""
    if not a or not b:
        return 0
    total = 0
    i = j = 0
    la, lb = len(a), len(b)
    as_, ae = a[0]
    bs, be = b[0]
    while True:
        s = as_ if as_ > bs else bs
        if ae < be:
            if s < ae:
                total += ae - s
            i += 1
            if i == la:
                break
            as_, ae = a[i]
        else:
            if s < be:
                total += be - s
            j += 1
            if j == lb:
                break
            bs, be = b[j]
    return total
