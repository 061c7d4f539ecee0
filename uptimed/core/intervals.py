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
  lists. They are single linear merges (two pointers); when one side has few intervals (runs of
  the daemon, maintenance windows, a report window) they instead cut the other side with binary
  searches and list slices, which copies whole runs of intervals at C speed.

Everything is pure and allocation-light: these run for every monitor of every report.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import itemgetter, lt

Interval = tuple[int, int]

__all__ = ["Interval", "clip", "intersect", "measure", "normalize", "overlap", "subtract", "union"]

_start = itemgetter(0)
_end = itemgetter(1)
#: Use binary searches when the smaller side has at most 1/_FEW of the larger side's intervals.
_FEW = 8


def normalize(ivs: Iterable[Interval]) -> list[Interval]:
    """The normalized form of any intervals: empty ones (``end <= start``) dropped, the rest
    sorted, overlapping **and touching** ones merged (``(0, 5)`` and ``(5, 9)`` give ``(0, 9)``)."""
    if isinstance(ivs, (list, tuple)):
        if not ivs:
            return []
        starts = list(map(_start, ivs))
        ends = list(map(_end, ivs))
        if all(map(lt, starts, ends)) and all(map(lt, ends, starts[1:])):  # already normalized
            return list(zip(starts, ends, strict=True))
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
    if len(a) < len(b):
        a, b = b, a
    if len(b) * _FEW <= len(a):  # cut a at each interval of b
        out: list[Interval] = []
        for lo, hi in b:
            out += clip(a, lo, hi)
        return out
    out = []
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
    if len(b) * _FEW <= len(a):  # keep what lies in the gaps of b
        out: list[Interval] = []
        lo = a[0][0]
        for bs, be in b:
            if bs > lo:
                out += clip(a, lo, bs)
            lo = be
        out += clip(a, lo, a[-1][1])
        return out
    out = []
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
    """``a ∩ [lo, hi)`` for normalized ``a``: two binary searches and a slice."""
    if lo >= hi or not a:
        return []
    if lo <= a[0][0] and a[-1][1] <= hi:
        return list(a)
    i = bisect_right(a, lo, key=_end)  # the first interval ending after lo
    j = bisect_left(a, hi, key=_start)  # the first interval starting at or after hi
    if i >= j:
        return []
    out = list(a[i:j])
    s, e = out[0]
    if s < lo:
        out[0] = (lo, e)
    s, e = out[-1]
    if e > hi:
        out[-1] = (s, hi)
    return out


def measure(a: Iterable[Interval]) -> int:
    """The number of instants in normalized ``a`` (the sum of its lengths)."""
    if not isinstance(a, (list, tuple)):
        a = list(a)
    total: int = sum(map(_end, a)) - sum(map(_start, a))  # itemgetter is typed Any
    return total


def overlap(a: Sequence[Interval], b: Sequence[Interval]) -> int:
    """``measure(intersect(a, b))`` for normalized ``a`` and ``b``, without building the list."""
    if not a or not b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if len(b) * _FEW <= len(a):
        return measure(intersect(a, b))
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
