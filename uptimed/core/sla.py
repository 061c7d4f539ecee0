"""The SLA engine: exact availability, incidents, services, SLOs, error budgets and credits.

Pure functions over interval sets (:mod:`uptimed.core.intervals`); no I/O, no clock. Times are
integer milliseconds since the epoch, intervals half-open ``(start, end)``. The rules are those of
docs/availability.md ("Availability: the exact rules"); this module is their one implementation.

How the pieces fit (for one monitor; :func:`monitor_figures` does all of it)::

    rows (timeline)  --monitor_timeline(rows, runs, degraded)-->  StateTimeline (up, down)
    StateTimeline + maintenance + window (+ outside_hours)  --counted_down-->  counted downtime
    down_segments(rows) + counted downtime + now  --incidents-->  [Incident]
    StateTimeline + maintenance + window + outside_hours + incidents  --figures-->  Figures
    Figures + objective + Policy + credit tiers  --evaluate-->  SLOEvaluation

Categories and precedence
-------------------------
Every instant of a window falls in exactly one category, decided in this order (the first that
holds wins):

1. **outside_hours** — outside the SLO's service hours (only when the caller passes them);
2. **maintenance** — inside a maintenance window of the target (for a service, also the time
   the service sweep found to be maintenance: no member could vote and one was in maintenance);
3. **down** / **up** — the confirmed state, inside a run of the daemon and not degraded;
4. **unknown** — everything else (daemon stopped, no verdict, own network down).

So ``up + down + maintenance + unknown + outside_hours == end - start`` exactly, always.
Maintenance wins over every state (docs/availability.md, section 3), and time outside service
hours is not "maintenance" even when a window covers it: it is not eligible at all, whatever the
policy.

Raw figures carry no policy. :func:`evaluate` applies a :class:`~uptimed.model.config.Policy`:
``unknown = "exclude" | "down" | "up"`` and ``maintenance = "exclude" | "up"``; outside-hours time
is never eligible. Verdicts (met, credit tier) are integer comparisons against the exact ratio
of the Decimal percent (``Decimal.as_integer_ratio``); exact values (attainment, budgets) are
:class:`fractions.Fraction`. Floats are only ever derived for display (availability, coverage,
burn rate), never compared to decide anything.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import compress
from operator import eq, itemgetter, le, lt, mul, not_, sub
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from uptimed.core.intervals import (
    Interval,
    clip,
    intersect,
    measure,
    normalize,
    overlap,
    subtract,
    union,
)
from uptimed.core.state import DOWN, UP
from uptimed.model.report import (
    ErrorBudget,
    Figures,
    Incident,
    LatencyAttainment,
    SLOEvaluation,
)

if TYPE_CHECKING:
    from uptimed.model.config import CreditTier, Policy

RULES = ("all", "any", "quorum")
UNKNOWN_POLICIES = ("exclude", "down", "up")
MAINTENANCE_POLICIES = ("exclude", "up")

_start = itemgetter(0)
_end = itemgetter(1)
_counted = itemgetter(3)

# Timeline rows as columns: starts, ends, states, causes (sequences of equal length).
_Columns = tuple[Sequence[int], Sequence[int], Sequence[int], Sequence[Any]]


# -- a monitor's timeline --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateTimeline:
    """Where a target's confirmed state is known: three disjoint normalized interval sets.
    Time in none of them is unknown. ``maintenance`` is empty for a monitor (its maintenance
    windows are applied by :func:`figures`); for a service it holds the time when no member
    could vote and at least one was in maintenance."""

    up: tuple[Interval, ...]
    down: tuple[Interval, ...]
    maintenance: tuple[Interval, ...] = ()


def _rows(segments: Iterable[Sequence[Any]]) -> _Columns:
    """Timeline rows ``(start, end, state[, cause])`` as columns of non-empty disjoint rows
    sorted by start.

    Rows are keyed by start in the database, and the state machine ends each row where the next
    one starts, so a well-formed timeline is only sorted. For robustness, a row is cut at the
    start of the next row (the later row wins, as a later write does), and of rows with the same
    start the last one given wins (the order of writes).

    The hot paths here and below work on whole columns with ``map``/``zip``/``compress`` (C
    loops) rather than Python loops over rows: a report runs them for every monitor."""
    rows = segments if isinstance(segments, list) else list(segments)
    if not rows:
        return [], [], [], []
    cols = list(zip(*rows, strict=False))  # as many columns as the shortest row has
    if len(cols) < 3:
        raise ValueError(f"timeline rows are (start, end, state[, cause]), not {rows[0]!r}")
    starts: Sequence[int] = cols[0]
    ends: Sequence[int] = cols[1]
    states: Sequence[int] = cols[2]
    n = len(rows)
    if states.count(UP) + states.count(DOWN) != n:
        bad = next(r for r in rows if r[2] != UP and r[2] != DOWN)
        raise ValueError(f"timeline row {tuple(bad)!r}: state must be {UP} (up) or {DOWN} (down)")
    if len(cols) > 3:
        causes: Sequence[Any] = cols[3]
    elif max(map(len, rows)) > 3:  # rows of mixed shapes
        causes = [r[3] if len(r) > 3 else None for r in rows]
    else:
        causes = [None] * n
    # Well-formed (each row non-empty and ending at or before the next one starts, hence sorted):
    # nothing to do. That is the normal case.
    if all(map(lt, starts, ends)) and all(map(le, ends, starts[1:])):
        return starts, ends, states, causes
    order = sorted(range(n), key=starts.__getitem__)  # stable: equal starts keep their order
    sorted_starts = [starts[i] for i in order]
    sorted_ends = [ends[i] for i in order]
    for i in range(n - 1):
        if sorted_starts[i + 1] < sorted_ends[i]:
            sorted_ends[i] = sorted_starts[i + 1]
    keep = list(map(lt, sorted_starts, sorted_ends))  # drop empty (and reversed) rows
    return (
        list(compress(sorted_starts, keep)),
        list(compress(sorted_ends, keep)),
        list(compress([states[i] for i in order], keep)),
        list(compress([causes[i] for i in order], keep)),
    )


def _timeline(cols: _Columns, cover: list[Interval]) -> StateTimeline:
    """The timeline of rows as columns, inside ``cover`` (normalized: ``∪runs − degraded``)."""
    starts, ends, states, _ = cols
    down_mask = list(map(not_, states))
    return StateTimeline(
        tuple(intersect(_one_state(starts, ends, states), cover)),
        tuple(intersect(_one_state(starts, ends, down_mask), cover)),
    )


def _one_state(starts: Sequence[int], ends: Sequence[int], mask: Iterable[Any]) -> list[Interval]:
    """The rows selected by ``mask`` as a normalized interval list. The rows are sorted and
    disjoint, so only touching rows of the same state may need merging (rarely)."""
    s = list(compress(starts, mask))
    e = list(compress(ends, mask))
    if all(map(lt, e, s[1:])):
        return list(zip(s, e, strict=True))
    return normalize(list(zip(s, e, strict=True)))


def _downs(cols: _Columns) -> list[tuple[int, int, Any]]:
    starts, ends, states, causes = cols
    return list(compress(zip(starts, ends, causes, strict=True), map(not_, states)))


def monitor_timeline(
    segments: Iterable[Sequence[Any]],
    runs: Iterable[Interval],
    degraded: Iterable[Interval] = (),
) -> StateTimeline:
    """A monitor's :class:`StateTimeline` from its timeline rows.

    ``segments``: rows ``(start, end, state)`` or ``(start, end, state, cause)``, state 1 up or
    0 down, in any order (overlapping rows: see :func:`_rows`). ``runs``: ``(started, ended)``
    of every daemon run (an open run ends at its heartbeat, or at ``now`` for the running
    daemon). ``degraded``: time the daemon's own network was down. A state holds only inside a
    run and outside degraded time: ``state ∩ ∪runs − degraded``.

    Runs and degraded time are the same for every monitor: a caller building many timelines may
    compute ``subtract(normalize(runs), normalize(degraded))`` once and pass it as ``runs``."""
    return _timeline(_rows(segments), _cover(runs, degraded))


def _cover(runs: Iterable[Interval], degraded: Iterable[Interval]) -> list[Interval]:
    degraded = normalize(list(degraded))
    return subtract(normalize(list(runs)), degraded) if degraded else normalize(list(runs))


def monitor_parts(
    segments: Iterable[Sequence[Any]], cover: Sequence[Interval]
) -> tuple[StateTimeline, list[tuple[int, int, Any]], StateTimeline]:
    """What a report needs of one monitor, from one pass over its rows: its timeline inside
    ``cover`` (normalized: ``∪runs − degraded``, as :func:`monitor_timeline` takes), its DOWN
    rows (:func:`down_segments`), and its rows as the state machine wrote them, without runs,
    degraded time or maintenance (where its outages begin and end, for
    :func:`service_outages`)."""
    cols = _rows(segments)
    starts, ends, states = (
        cast(list[int], cols[0]),
        cast(list[int], cols[1]),
        cols[2],
    )  # or tuples: read only
    raw = StateTimeline(
        tuple(_one_state(starts, ends, states)),
        tuple(_one_state(starts, ends, list(map(not_, states)))),
    )
    cover = cover if isinstance(cover, list) else list(cover)
    return (
        StateTimeline(tuple(intersect(raw.up, cover)), tuple(intersect(raw.down, cover))),
        _downs(cols),
        raw,
    )


def service_outages(
    members: Sequence[StateTimeline],
    member_maintenance: Sequence[Sequence[Interval]],
    rule: str,
    quorum: int | None = None,
) -> list[Interval]:
    """A service's confirmed outages, one per incident: from the first instant its rule holds
    to its recovery, over its members' rows as written (``members``: the raw timelines of
    :func:`monitor_parts`), as a monitor's outages are its DOWN rows whole.

    So a daemon restart inside an outage does not split it (a member's rows bridge a restart
    within its ``max_gap``, as its own incident does), and neither does maintenance: time when
    no member can vote and one is in maintenance (the service's maintenance) lies inside the
    outage, lowering only its counted time (see :func:`incidents`). A member in its own
    maintenance does not vote, as in :func:`service_timeline`: if the others say the service
    is up meanwhile, it is up, and that is a recovery. ``member_maintenance[i]``: normalized.

    The rules as in :func:`service_timeline`: ``"all"``: a voter down; ``"any"``: some voter
    down and none up; ``"quorum"``: at least ``quorum`` voters down."""
    if len(member_maintenance) != len(members):
        raise ValueError(f"{len(members)} members but {len(member_maintenance)} maintenance lists")
    mms = [normalize(mm) for mm in member_maintenance]
    down, _, _ = _rule(members, mms, rule, quorum)
    maint = union(*mms)
    if len(down) < 2 or not maint:
        return down
    # Consecutive stretches of downtime are one outage when the time between them is the
    # service's maintenance: all of it in some member's maintenance (normalized: one interval
    # must hold the gap), and no member voting there (its rows all inside its own maintenance).
    # Checking only the gaps spares computing where every member is up (what the sweep of
    # service_timeline needs, and this does not).
    maint_starts = [m[0] for m in maint]
    out = [down[0]]
    for a, b in down[1:]:
        gap = (out[-1][1], a)
        i = bisect_right(maint_starts, gap[0]) - 1
        if (
            i >= 0
            and maint[i][1] >= gap[1]
            and not any(
                subtract(clip(rows, *gap), mm)
                for tl, mm in zip(members, mms, strict=True)
                for rows in (tl.up, tl.down)
            )
        ):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _rule(
    members: Sequence[StateTimeline], mms: Sequence[list[Interval]], rule: str, quorum: int | None
) -> tuple[list[Interval], list[Interval], list[Interval] | None]:
    """Where a service's rule holds over its members' votes (a member in its maintenance
    ``mms[i]``, normalized, does not vote), where some member votes down, and where some votes
    up if that was needed (rule ``any``), else None."""
    v_down = _votes([tl.down for tl in members], mms)
    if rule == "all":
        return v_down, v_down, None
    if rule == "any":
        v_up = _votes([tl.up for tl in members], mms)
        return subtract(v_down, v_up), v_down, v_up
    if rule == "quorum" and quorum is not None and quorum >= 1:
        counted = [
            subtract(list(tl.down), mm) if mm else tl.down
            for tl, mm in zip(members, mms, strict=True)
        ]
        return _at_least(counted, quorum), v_down, None
    raise ValueError(f"no service rule {rule!r} with quorum {quorum!r}")


def _votes(states: Sequence[Sequence[Interval]], mms: Sequence[list[Interval]]) -> list[Interval]:
    """``∪ (states[i] − mms[i])``: where some member votes that state. Members under the same
    maintenance (a service's window covers them all) are taken off together."""
    groups: dict[tuple[Interval, ...], list[Sequence[Interval]]] = {}
    for ivs, mm in zip(states, mms, strict=True):
        groups.setdefault(tuple(mm), []).append(ivs)
    return union(*(subtract(union(*g), list(mm)) if mm else union(*g) for mm, g in groups.items()))


def _at_least(sets: Sequence[Sequence[Interval]], k: int) -> list[Interval]:
    """Where at least ``k`` of the normalized interval lists hold."""
    events = sorted(
        [(s, 1) for ivs in sets for s, _ in ivs] + [(e, -1) for ivs in sets for _, e in ivs]
    )
    out: list[Interval] = []
    n = start = 0
    for t, d in events:  # ends sort before starts at the same time: touching rows do not stack
        was = n >= k
        n += d
        if n >= k and not was:
            start = t
        elif was and n < k and t > start:
            if out and out[-1][1] == start:
                out[-1] = (out[-1][0], t)
            else:
                out.append((start, t))
    return out


def down_segments(segments: Iterable[Sequence[Any]]) -> list[tuple[int, int, Any]]:
    """The raw DOWN rows ``(start, end, cause)`` of a timeline (cut as in
    :func:`monitor_timeline`), for :func:`incidents`. Rows without a cause give ``None``."""
    return _downs(_rows(segments))


# -- incidents -------------------------------------------------------------------------------


def counted_down(
    tl: StateTimeline,
    maintenance: Sequence[Interval],
    window: Interval,
    outside_hours: Sequence[Interval] = (),
) -> list[Interval]:
    """The downtime that counts in ``window``: ``tl.down ∩ window − maintenance − outside_hours``
    (``maintenance`` and ``outside_hours`` in any form; they are normalized here)."""
    down = clip(tl.down, window[0], window[1])
    if not down:
        return down
    excluded = union(maintenance, outside_hours) if outside_hours else normalize(maintenance)
    return subtract(down, excluded) if excluded else down


def incidents(
    down_segments: Iterable[tuple[int, int, Any]], counted_down: Sequence[Interval], now: int
) -> list[Incident]:
    """The incidents of a window: one per DOWN row ``(start, end, cause)`` (see
    :func:`down_segments`; rows must not overlap) whose overlap with ``counted_down`` (normalized:
    see :func:`counted_down`) is positive. An outage wholly in maintenance, outside the window,
    or in unknown time is not an incident of the window.

    A row whose ``end`` lies after ``now`` is ongoing (its end is only the provisional end of
    the last verdict): its ``end`` is None and its duration runs to ``now``. Sorted by start."""
    if not counted_down:
        return []
    segs = sorted(down_segments, key=_start)
    causes = list(map(itemgetter(2), segs))
    return _incidents(list(map(_start, segs)), list(map(_end, segs)), causes, counted_down, now)


def _incidents(
    starts: list[int],
    ends: list[int],
    causes: list[Any],
    counted_down: Sequence[Interval],
    now: int,
) -> list[Incident]:
    """:func:`incidents` on columns of DOWN rows sorted by start."""
    if not counted_down:
        return []
    cd = counted_down if isinstance(counted_down, list) else list(counted_down)
    durations = list(map(sub, ends, starts))
    # A row counted whole is usually an interval of cd itself (cd ⊆ the rows, and the rows of
    # one state do not touch): one set lookup. Only the others are measured piece by piece.
    whole = list(map(eq, map(dict(cd).get, starts), ends))
    counted = list(map(mul, durations, whole))
    for i in compress(range(len(starts)), map(not_, whole)):
        counted[i] = measure(clip(cd, starts[i], ends[i]))
    out_ends: Sequence[int | None] = ends
    if ends and max(ends) > now:  # ongoing outages (only while the data reaches now)
        ongoing: list[int | None] = list(ends)
        for i, e in enumerate(ends):
            if e > now:
                ongoing[i] = None
                durations[i] = max(0, now - starts[i])
        out_ends = ongoing
    rows = zip(starts, out_ends, durations, counted, causes, strict=True)
    return list(compress(rows, counted))


# -- figures ---------------------------------------------------------------------------------


def figures(
    tl: StateTimeline,
    maintenance: Sequence[Interval],
    window: Interval,
    *,
    outside_hours: Sequence[Interval] = (),
    incidents: Sequence[Incident] = (),
) -> Figures:
    """Exact figures of ``tl`` over ``window`` (see the module doc for the precedence
    outside_hours > maintenance > state > unknown). ``maintenance`` and ``outside_hours`` may be
    in any form (they are normalized); ``tl`` must be normalized (as built by this module).
    ``incidents`` are taken as given (build them with :func:`incidents` for the same window)."""
    ws, we = window
    if we < ws:
        raise ValueError(f"window ends before it starts: {window!r}")
    outside = clip(normalize(outside_hours), ws, we) if outside_hours else []
    if tl.maintenance:
        maint = clip(union(maintenance, tl.maintenance), ws, we)
    else:
        maint = clip(normalize(maintenance), ws, we) if maintenance else []
    outside_ms = measure(outside)
    if outside and maint:
        excluded = union(outside, maint)
        maintenance_ms = measure(excluded) - outside_ms
    else:
        excluded = outside or maint
        maintenance_ms = measure(maint)
    up = clip(tl.up, ws, we)
    down = clip(tl.down, ws, we)
    up_ms = measure(up)
    down_ms = measure(down)
    if excluded:
        up_ms -= overlap(up, excluded)
        down_ms -= overlap(down, excluded)
    incs = tuple(incidents)
    counted = list(map(_counted, incs))
    return _figures(
        ws,
        we,
        up_ms,
        down_ms,
        maintenance_ms,
        outside_ms,
        incs,
        len(incs),
        sum(counted),
        max(counted, default=0),
    )


def _figures(
    start: int,
    end: int,
    up_ms: int,
    down_ms: int,
    maintenance_ms: int,
    outside_ms: int,
    incidents: tuple[Incident, ...] | None,
    count: int,
    total: int,
    longest: int,
) -> Figures:
    """:class:`Figures` with what derives from these: unknown time, ratios and means."""
    known = up_ms + down_ms
    eligible = end - start - maintenance_ms - outside_ms
    return Figures(
        start=start,
        end=end,
        up_ms=up_ms,
        down_ms=down_ms,
        maintenance_ms=maintenance_ms,
        unknown_ms=eligible - known,
        outside_hours_ms=outside_ms,
        availability=up_ms / known if known else None,
        coverage=known / eligible if eligible else None,
        incidents=incidents,
        incident_count=count,
        incident_total_ms=total,
        longest_incident_ms=longest,
        mttr_ms=total / count if count else None,
        mtbf_ms=up_ms / count if count else None,
    )


def accounting_many(
    tl: StateTimeline, maintenance: Sequence[Interval], windows: Sequence[Interval]
) -> list[tuple[int, int, int, int]]:
    """``(up_ms, down_ms, maintenance_ms, unknown_ms)`` of ``tl`` over each of ``windows`` (in
    any order, overlapping or not), exactly as :func:`figures` counts them: what 90 daily bars
    of a thousand targets need, in one pass over the timeline instead of one per window."""
    maint = union(maintenance, tl.maintenance) if tl.maintenance else normalize(maintenance)
    points = sorted({t for w in windows for t in w})
    up, down, mm = (
        dict(zip(points, _measure_below(ivs, points), strict=True))
        for ivs in (subtract(tl.up, maint), subtract(tl.down, maint), maint)
    )
    out = []
    for ws, we in windows:
        u, d, m = up[we] - up[ws], down[we] - down[ws], mm[we] - mm[ws]
        out.append((u, d, m, we - ws - u - d - m))
    return out


def _measure_below(ivs: Sequence[Interval], points: Sequence[int]) -> list[int]:
    """``|ivs ∩ (-inf, t)|`` for each of the sorted ``points``: one merge of both."""
    out = []
    done = 0  # the measure of the intervals wholly before the current point
    i, n = 0, len(ivs)
    for t in points:
        while i < n and ivs[i][1] <= t:
            done += ivs[i][1] - ivs[i][0]
            i += 1
        out.append(done + max(0, t - ivs[i][0]) if i < n else done)
    return out


def monitor_figures(
    segments: Iterable[Sequence[Any]],
    runs: Iterable[Interval],
    maintenance: Sequence[Interval],
    window: Interval,
    now: int,
    *,
    degraded: Iterable[Interval] = (),
    outside_hours: Sequence[Interval] = (),
) -> Figures:
    """Everything for one monitor: timeline rows, runs, degraded time, maintenance windows and
    service hours in; :class:`Figures` with incidents out."""
    cols = _rows(segments)
    tl = _timeline(cols, _cover(runs, degraded))
    maint = normalize(list(maintenance))
    outside = normalize(list(outside_hours))
    incs = _row_incidents(cols, counted_down(tl, maint, window, outside), now)
    return figures(tl, maint, window, outside_hours=outside, incidents=incs)


def _row_incidents(cols: _Columns, counted_down: Sequence[Interval], now: int) -> list[Incident]:
    """:func:`incidents` of the DOWN rows among timeline columns."""
    starts, ends, states, causes = cols
    mask = list(map(not_, states))
    return _incidents(
        list(compress(starts, mask)),
        list(compress(ends, mask)),
        list(compress(causes, mask)),
        counted_down,
        now,
    )


# -- day summaries ---------------------------------------------------------------------------

DAY_MS = 86_400_000


class DaySummary(NamedTuple):
    """A monitor's timeline rows summarized over one UTC day ``[day, day + day_ms)``, so that a
    report over many days reads one row per day instead of every timeline row. Raw state time
    only: runs, degraded time and maintenance are applied when a report uses it.

    ``up_ms`` / ``down_ms``: the rows' time in each state inside the day. ``outages``: DOWN rows
    starting in the day. ``longest_ms``: the longest DOWN row starting and ending in the day (0
    if none). ``carry_end`` / ``carry_ms``: the DOWN row starting in the day and ending after it
    (at most one: rows do not overlap), its end and duration; None if there is none."""

    day: int
    up_ms: int
    down_ms: int
    outages: int
    longest_ms: int
    carry_end: int | None
    carry_ms: int | None


def day_summaries(
    segments: Iterable[Sequence[Any]], start: int, end: int, day_ms: int = DAY_MS
) -> list[DaySummary]:
    """The :class:`DaySummary` of each day in ``[start, end)`` (multiples of ``day_ms``) from
    timeline rows, which must include every row overlapping ``[start, end)`` and the first row
    starting at or after ``end``. Days with no rows get a summary of zeros.

    A day touched by a row that overlaps the next one (which :func:`monitor_timeline` cuts at
    the next one's start; the state machine does not write such rows, but a database may hold
    them) gets no summary: a report reads that day's rows. So does every day a reversed or
    empty row touches.

    Call it only for days whose rows are final (see :func:`uptimed.store.summaries.pending`)."""
    if start % day_ms or end % day_ms:
        raise ValueError(f"days are multiples of {day_ms} ms: not [{start}, {end})")
    rows = sorted((r[0], r[1], r[2]) for r in segments)
    holes: set[int] = set()
    for i, (s, e, _) in enumerate(rows):
        if e <= s or (i + 1 < len(rows) and rows[i + 1][0] < e):
            holes.update(range(s - s % day_ms, max(s + 1, e), day_ms))
    starts, ends, states, _ = _rows(rows)
    days: dict[int, list[Any]] = {d: [0, 0, 0, 0, None, None] for d in range(start, end, day_ms)}
    for s, e, st in zip(starts, ends, states, strict=True):
        first = max(s, start)
        for d in range(first - first % day_ms, min(e, end), day_ms):
            acc = days[d]
            acc[0 if st == UP else 1] += min(e, d + day_ms) - max(s, d)
            if st == DOWN and d <= s:  # the row starts in this day
                acc[2] += 1
                if e <= d + day_ms:
                    acc[3] = max(acc[3], e - s)
                else:
                    acc[4], acc[5] = e, e - s
    return [DaySummary(d, *acc) for d, acc in days.items() if d not in holes]


class Stretch(NamedTuple):
    """Consecutive summarized days ``[start, end)`` of one monitor with their totals:
    ``up_ms``, ``down_ms``, ``outages`` (DOWN rows lying wholly inside) and ``longest_ms`` (the
    longest of those)."""

    start: int
    end: int
    up_ms: int
    down_ms: int
    outages: int
    longest_ms: int


def stretch(days: Sequence[DaySummary], start: int, end: int) -> Stretch:
    """The totals of the summaries of ``[start, end)`` (``days``: those of that range). A
    carried DOWN row counts when it ends inside the stretch. (``report`` computes the same in
    SQL.)"""
    inside = [d for d in days if start <= d.day < end]
    crossing = sum(1 for d in inside if d.carry_end is not None and d.carry_end > end)
    longest = [d.longest_ms for d in inside]
    longest += [
        d.carry_ms
        for d in inside
        if d.carry_ms is not None and d.carry_end is not None and d.carry_end <= end
    ]
    return Stretch(
        start,
        end,
        sum(d.up_ms for d in inside),
        sum(d.down_ms for d in inside),
        sum(d.outages for d in inside) - crossing,
        max(longest, default=0),
    )


def ineligible(
    stretches: Sequence[Interval],
    cover: Sequence[Interval],
    maintenance: Sequence[Interval],
    window: Interval,
) -> list[Interval]:
    """The time inside ``stretches`` that a summary counts but the figures must not: outside the
    window or ``cover``, or in maintenance. :func:`summarized_figures` needs the rows there."""
    eligible = subtract(clip(cover, *window), normalize(list(maintenance)))
    return subtract(normalize(list(stretches)), eligible)


def summarized_figures(
    segments: Iterable[Sequence[Any]],
    cover: Sequence[Interval],
    maintenance: Sequence[Interval],
    window: Interval,
    now: int,
    stretches: Sequence[Stretch],
    ineligible_time: Sequence[Interval] | None = None,
) -> Figures | None:
    """:func:`monitor_figures` over ``window``, with the rows inside ``stretches`` read as day
    summaries. ``cover``: ``∪runs − degraded``, normalized. The stretches may reach outside the
    window and cover any time (a restart, maintenance); they must lie before ``now``.

    ``segments``: every row overlapping ``[window start − 1, window end + 1)`` outside the
    stretches, or :func:`ineligible` time inside them (rows crossing a stretch's edge are among
    them). Every other row lies wholly inside one stretch, in eligible time: its whole time
    counts, and it is a whole incident if DOWN. The summaries' totals are corrected by the
    rows read for their ineligible time.

    The figures are those of :func:`monitor_figures` over all rows, except that ``incidents``
    is None: only their statistics are known. Returns None when they cannot be known: when the
    longest outage of a stretch might be one whose time is partly ineligible (then read every
    row of the monitor). ``ineligible_time``: :func:`ineligible` of the stretches, if the caller
    has it."""
    cols = _rows(segments)
    starts, ends, states, _ = cols
    raw_up = _one_state(starts, ends, states)
    raw_down = _one_state(starts, ends, list(map(not_, states)))
    cover = cover if isinstance(cover, list) else list(cover)
    tl = StateTimeline(
        tuple(intersect(raw_up, cover)), tuple(intersect(raw_down, cover))
    )  # as _timeline()
    maint = normalize(list(maintenance))
    spans = [(s.start, s.end) for s in stretches]
    bad = ineligible(spans, cover, maint, window) if ineligible_time is None else ineligible_time
    # The rows read are incidents as usual, their time in the stretches counted where eligible.
    edge = _row_incidents(cols, counted_down(tl, maint, window), now)
    rest = StateTimeline(tuple(subtract(tl.up, spans)), tuple(subtract(tl.down, spans)))
    f = figures(rest, maint, window, incidents=edge)
    up_in = sum(s.up_ms for s in stretches) - overlap(raw_up, bad)
    down_in = sum(s.down_ms for s in stretches) - overlap(raw_down, bad)
    # DOWN rows read that lie wholly inside a stretch are counted by its summary too.
    count = f.incident_count
    longest = f.longest_incident_ms
    for st in stretches:
        read = [
            e - s
            for s, e, state in zip(starts, ends, states, strict=True)
            if not state and st.start <= s and e <= st.end
        ]
        if read and max(read) >= st.longest_ms > 0:
            return (
                None  # the stretch's longest outage may be one of these: its true length is unknown
            )
        count += st.outages - len(read)
        longest = max(longest, st.longest_ms)
    total = f.incident_total_ms + sum(s.down_ms for s in stretches) - overlap(raw_down, spans)
    return _figures(
        f.start,
        f.end,
        f.up_ms + up_in,
        f.down_ms + down_in,
        f.maintenance_ms,
        0,
        None,
        count,
        total,
        longest,
    )


# -- services --------------------------------------------------------------------------------

Target = tuple[str, str]  # (kind, id): ("monitor", "web") or ("service", "shop")


def covered_targets(
    kind: str, key: str, members: Mapping[str, Sequence[str]]
) -> tuple[Target, ...]:
    """What a maintenance window named on the target ``(kind, key)`` covers: that target and,
    for a service, each of its member monitors (``members``: service id -> its monitor ids). The
    one rule for the report's figures and the daemon's maintenance state."""
    if kind == "service":
        return ((kind, key), *(("monitor", m) for m in members.get(key, ())))
    return ((kind, key),)


def service_timeline(
    members: Sequence[StateTimeline],
    member_maintenance: Sequence[Sequence[Interval]],
    rule: str,
    quorum: int | None = None,
) -> StateTimeline:
    """A service's timeline from its members', by interval set arithmetic over their votes.

    At each instant a member is in maintenance (its own windows ``member_maintenance[i]``, in any
    form, together with its timeline's ``maintenance``: these win over its state), else up, down,
    or unknown. Members in maintenance or unknown do not vote. With no voter the service is in
    maintenance if any member is, else unknown. Otherwise, with ``n_down`` of the voters down:
    ``"all"``: down when ``n_down >= 1``; ``"any"``: down when every voter is down;
    ``"quorum"``: down when ``n_down >= quorum``. Otherwise up."""
    if rule not in RULES:
        raise ValueError(f"service rule must be one of {', '.join(RULES)}, not {rule!r}")
    if rule == "quorum" and (quorum is None or quorum < 1):
        raise ValueError(f"rule 'quorum' needs quorum >= 1, not {quorum!r}")
    if len(member_maintenance) != len(members):
        raise ValueError(f"{len(members)} members but {len(member_maintenance)} maintenance lists")
    mms = [
        union(mm, tl.maintenance) if tl.maintenance else normalize(mm)
        for tl, mm in zip(members, member_maintenance, strict=True)
    ]
    down, v_down, v_up = _rule(members, mms, rule, quorum)
    if v_up is None:
        v_up = _votes([tl.up for tl in members], mms)
    voters = union(v_up, v_down)
    no_voter = union(*mms)
    if no_voter:
        no_voter = subtract(no_voter, voters)
    return StateTimeline(tuple(subtract(voters, down)), tuple(down), tuple(no_voter))


# -- SLOs ------------------------------------------------------------------------------------

#: The burn-rate windows of every SLO (the report, the API and /metrics), name -> length in ms.
BURN_WINDOWS: dict[str, int] = {
    "5m": 300_000, "30m": 1_800_000, "1h": 3_600_000, "2h": 7_200_000,
    "6h": 21_600_000, "24h": 86_400_000, "3d": 259_200_000,
}  # fmt: skip


def _check_policy(policy: Policy) -> None:
    if policy.unknown not in UNKNOWN_POLICIES:
        raise ValueError(
            f"policy.unknown must be one of {', '.join(UNKNOWN_POLICIES)}, not {policy.unknown!r}"
        )
    if policy.maintenance not in MAINTENANCE_POLICIES:
        raise ValueError(
            f"policy.maintenance must be one of {', '.join(MAINTENANCE_POLICIES)},"
            f" not {policy.maintenance!r}"
        )


def _percent(value: Any, what: str = "objective") -> tuple[int, int]:
    """An exact percent (Decimal, int or Fraction) as ``(p, q)``: the percent is ``p / q``, in
    [0, 100]. Floats are refused: a verdict must not depend on binary rounding."""
    if isinstance(value, float) or not hasattr(value, "as_integer_ratio"):
        raise TypeError(
            f"{what} must be an exact percent (Decimal, int or Fraction), not {value!r}"
        )
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{what} must be a percent in [0, 100], not {value}")
    p, q = value.as_integer_ratio()
    if not 0 <= p <= 100 * q:
        raise ValueError(f"{what} must be a percent in [0, 100], not {value}")
    return p, q


def good_bad(fig: Figures, policy: Policy) -> tuple[int, int]:
    """``(good_ms, bad_ms)`` of ``fig`` under ``policy``; eligible time is their sum.

    good = up (+ unknown if ``unknown == "up"``) (+ maintenance if ``maintenance == "up"``);
    bad = down (+ unknown if ``unknown == "down"``). Outside-hours time is never eligible."""
    _check_policy(policy)
    good = fig.up_ms
    bad = fig.down_ms
    if policy.unknown == "up":
        good += fig.unknown_ms
    elif policy.unknown == "down":
        bad += fig.unknown_ms
    if policy.maintenance == "up":
        good += fig.maintenance_ms
    return good, bad


def _tier(good: int, eligible: int, credits: Sequence[CreditTier]) -> CreditTier | None:
    """The credit tier reached by ``good / eligible`` (``eligible > 0``), in integers: a tier
    applies when ``good / eligible * 100 < below``; the applying one with the smallest wins."""
    best: CreditTier | None = None
    best_below: Fraction | None = None
    for tier in credits:
        bp, bq = _percent(tier.below, "credit tier 'below'")
        if good * 100 * bq < bp * eligible:
            below = Fraction(bp, bq)
            if best_below is None or below < best_below:
                best, best_below = tier, below
    return best


def credit_tier(attainment: Fraction | None, credits: Sequence[CreditTier]) -> CreditTier | None:
    """The credit tier reached by ``attainment`` (an exact ratio 0..1): among the tiers with
    ``attainment × 100 < below`` (strictly; ``below`` in percent), the one with the smallest
    ``below``. None when none applies or ``attainment`` is None."""
    if attainment is None:
        return None
    return _tier(attainment.numerator, attainment.denominator, credits)


def _burn(bad: int, eligible: int, p: int, q: int) -> float | None:
    """``(bad / eligible) / (1 − p / 100q)``, correctly rounded (int / int is)."""
    if not eligible:
        return None
    allowed = 100 * q - p  # (1 − objective) = allowed / 100q
    if not allowed:  # a 100 % objective has no budget: any bad time burns infinitely fast
        return float("inf") if bad else 0.0
    return (bad * 100 * q) / (eligible * allowed)


def evaluate(
    fig: Figures,
    objective: Decimal,
    policy: Policy,
    credits: Sequence[CreditTier] = (),
    min_coverage: Decimal | int = 0,
) -> SLOEvaluation:
    """An availability SLO (``objective`` in percent, e.g. ``Decimal("99.9")``) over the window
    of ``fig`` under ``policy``, with its error budget, burn rate and credit tier (``credits``:
    tiers with ``below`` in percent, in any order). All verdicts are integer comparisons; a
    fully eligible 30-day window at 99.9 % has a budget of exactly 2,592,000 ms (43 min 12 s).

    Below ``min_coverage`` (percent of the window outside maintenance and service hours that
    has a verdict; see :class:`Figures`) there is no verdict and no credit tier."""
    p, q = _percent(objective)
    cp, cq = _percent(min_coverage, "min_coverage")
    good, bad = good_bad(fig, policy)
    eligible = good + bad
    known = fig.up_ms + fig.down_ms
    coverable = known + fig.unknown_ms
    thin = coverable > 0 and known * 100 * cq < cp * coverable
    hq = 100 * q
    budget_num = eligible * (hq - p)  # total budget = budget_num / hq
    budget = ErrorBudget(
        total_ms=Fraction(budget_num, hq),
        consumed_ms=bad,
        remaining_ms=Fraction(budget_num - bad * hq, hq),
        remaining_ratio=Fraction(budget_num - bad * hq, budget_num) if budget_num else None,
    )
    met = good * hq >= p * eligible if eligible and not thin else None
    return SLOEvaluation(
        objective=objective,
        policy=policy,
        eligible_ms=eligible,
        good_ms=good,
        bad_ms=bad,
        attainment=Fraction(good, eligible) if eligible else None,
        met=met,
        budget=budget,
        burn_rate=_burn(bad, eligible, p, q),
        credit=_tier(good, eligible, credits) if met is not None else None,
        verdict="no data"
        if not eligible
        else "insufficient data"
        if thin
        else "met"
        if met
        else "missed",
    )


def burn_rate(fig: Figures, objective: Decimal, policy: Policy) -> float | None:
    """``(bad / eligible) / (1 − objective)`` over the window of ``fig``: 1.0 spends the budget
    exactly by the end of a window of the SLO's length. None when nothing is eligible; with a
    100 % objective, ``inf`` if there is any bad time, else 0.0."""
    p, q = _percent(objective)
    good, bad = good_bad(fig, policy)
    return _burn(bad, good + bad, p, q)


def latency_attainment(good: int, total: int, objective: Decimal) -> LatencyAttainment:
    """The latency SLI from counts the caller took from results or hourly rollups."""
    if not 0 <= good <= total:
        raise ValueError(f"need 0 <= good <= total, not good={good}, total={total}")
    p, q = _percent(objective)
    att = Fraction(good, total) if total else None
    return LatencyAttainment(
        good, total, objective, att, good * 100 * q >= p * total if total else None
    )
