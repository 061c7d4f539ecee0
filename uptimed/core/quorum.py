"""The location quorum: one monitor seen from several places, as one fleet timeline.

Pure functions over the timelines of :mod:`uptimed.core.sla`; no I/O. Each location (a daemon
and its database) has a monitor's timeline inside its own cover (its runs less its degraded
time), its DOWN rows, and its rows as written (:func:`uptimed.core.sla.monitor_parts`). The fleet
combines them by the rule of a service with rule ``"quorum"`` over members
(:func:`uptimed.core.sla.service_timeline`): at each instant the locations with a verdict vote,
the fleet is down when at least ``k`` of them see the monitor down, up otherwise, and unknown when
none votes. The same maintenance covers every location (it is the monitor's, not a vantage
point's), so nobody votes inside it and it is applied afterwards by
:func:`uptimed.core.sla.figures`, exactly as for one location.

The fleet's outages (one incident each) are the same quorum over the rows as written, as one
location's outages are its DOWN rows whole: a restart of one daemon or maintenance does not split
them. So a fleet whose locations all saw the same has the figures of any one of them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from uptimed.core.intervals import Interval, clip
from uptimed.core.sla import StateTimeline, service_timeline

#: DOWN rows ``(start, end, cause)``: one incident each.
Downs = list[tuple[int, int, Any]]
#: What one location holds of a monitor: its timeline inside its cover, its DOWN rows, and its
#: rows as written (the three parts of :func:`uptimed.core.sla.monitor_parts`).
Parts = tuple[StateTimeline, Downs, StateTimeline]


def effective_quorum(k: int, locations: int) -> int:
    """The quorum over a monitor held by ``locations`` locations: ``k``, or all of them when
    fewer hold it (else a monitor held by fewer than ``k`` could never be down)."""
    if k < 1:
        raise ValueError(f"location quorum must be >= 1, not {k!r}")
    return max(1, min(k, locations))


def quorum_timeline(timelines: Sequence[StateTimeline], k: int) -> StateTimeline:
    """Where at least ``k`` of the voting ``timelines`` are down (down), where some vote and
    fewer are down (up): :func:`uptimed.core.sla.service_timeline` with rule ``"quorum"`` and no
    maintenance (it covers every location alike: see the module doc). None: unknown."""
    if not timelines:
        return StateTimeline((), ())
    tl = service_timeline(timelines, [()] * len(timelines), "quorum", k)
    return StateTimeline(tl.up, tl.down)


def fleet_parts(
    locations: Sequence[Parts], k: int, known: Interval | None = None
) -> tuple[StateTimeline, Downs, StateTimeline]:
    """A monitor's fleet parts (as :func:`uptimed.core.sla.monitor_parts` gives one location's)
    from its ``locations``' parts, with quorum ``k`` (capped: :func:`effective_quorum`).

    One location: its parts unchanged. Several: the quorum of their timelines, the quorum of
    their rows as written, and one DOWN row per stretch of the latter, with the cause of a
    location's DOWN row under way where it begins (the first location's that has one).
    ``known``: where every location's rows were read (:func:`known_span`); the quorum outside
    it is not known, so the result is cut to it."""
    if len(locations) == 1:
        return locations[0]
    q = effective_quorum(k, len(locations))
    tl = quorum_timeline([p[0] for p in locations], q)
    raw = quorum_timeline([p[2] for p in locations], q)
    if known is not None:
        lo, hi = known
        tl = StateTimeline(tuple(clip(tl.up, lo, hi)), tuple(clip(tl.down, lo, hi)))
        raw = StateTimeline(tuple(clip(raw.up, lo, hi)), tuple(clip(raw.down, lo, hi)))
    member_downs = [sorted(p[1], key=lambda d: (d[0], d[1])) for p in locations]
    starts = [[d[0] for d in downs] for downs in member_downs]
    downs = [(s, e, cause_at(s, member_downs, starts)) for s, e in raw.down]
    return tl, downs, raw


def cause_at(t: int, member_downs: Sequence[Downs], member_starts: Sequence[list[int]]) -> Any:
    """The cause of the first of ``member_downs`` (each sorted by start, not overlapping) with a
    DOWN row under way at ``t``; None if none has (one location's rows never overlap, so the
    only candidate is its last row starting at or before ``t``)."""
    for downs, starts in zip(member_downs, member_starts, strict=True):
        i = bisect_right(starts, t) - 1
        if i >= 0 and t < downs[i][1]:
            return downs[i][2]
    return None


def known_span(rows: Sequence[Sequence[Interval]], read: Interval) -> Interval:
    """Where the quorum of several locations is known from their rows read over ``read``.

    ``rows[i]``: ``(start, end)`` of every row of location ``i`` that overlaps ``read`` (rows
    never overlap; the first may start before it, the last end after it). Location ``i`` is
    known from ``min(read start, its first row's start)`` (no other row can reach into that
    time) to ``max(read end, its last row's end)``; the quorum where all of them are."""
    lo, hi = read
    out_lo, out_hi = lo, hi
    firsts = [min(r[0] for r in rs) for rs in rows if rs]
    lasts = [max(r[1] for r in rs) for rs in rows if rs]
    if len(firsts) == len(rows) and firsts:  # a location without rows is known over read only
        out_lo = max(min(lo, f) for f in firsts)
        out_hi = min(max(hi, e) for e in lasts)
    return out_lo, out_hi
