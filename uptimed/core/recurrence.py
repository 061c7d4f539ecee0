"""Maintenance windows and service hours as exact UTC intervals (pure: no I/O, no clock reads).

All instants are integer milliseconds since the epoch (UTC); intervals are half-open
``(start, end)`` tuples of ints, i.e. ``[start, end)``.

Public functions
----------------
:func:`expand`
    The occurrences of a config ``[[maintenance]]`` window that intersect ``[start_ms, end_ms)``,
    sorted and merged, *not* clipped to the range (callers clip).
:func:`service_hours_outside`
    The parts of ``[start_ms, end_ms)`` that lie outside weekly service hours, clipped, merged.
:func:`merge`
    Sort intervals, drop empty ones, and merge those that overlap or touch.
:func:`validate_recurrence`
    Raise ``ValueError`` (with a readable message) when a recurrence cannot be expanded.

Recurrences
-----------
A recurring window has either an ``rrule`` (an RFC 5545 RRULE body such as
``"FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"``, optionally prefixed ``"RRULE:"``, without DTSTART) or a
five-field ``cron`` expression. Both produce *local wall-clock* start times in the recurrence's
IANA ``timezone``; each occurrence then lasts ``duration`` seconds of **real** (elapsed) time.

* RRULE: parsed by ``dateutil.rrule.rrulestr`` and iterated on naive local datetimes. The series
  is anchored at the fixed local datetime **1900-01-01 00:00:00** (a Monday, the first day of a
  month and of a year, at midnight), so the values a rule does not state are inherited from it:
  BYHOUR/BYMINUTE/BYSECOND default to 0, ``FREQ=WEEKLY`` without BYDAY means Mondays,
  ``FREQ=MONTHLY`` without BYMONTHDAY/BYDAY the 1st, ``FREQ=YEARLY`` January 1st, and
  ``INTERVAL=n`` counts periods from the anchor (``FREQ=WEEKLY;INTERVAL=2`` runs in the weeks
  whose Monday is an even number of weeks after 1900-01-01). WKST defaults to MO (never to the
  process-wide ``calendar.firstweekday()``). UNTIL may be local (``20261231T000000``) or UTC
  (``...Z``). COUNT is rejected: without a DTSTART it would count from the anchor. For speed,
  the iteration starts from a shifted DTSTART a whole number of INTERVAL periods after the anchor
  (and at least one period before the range), which yields exactly the anchored series.
* cron: ``croniter`` parses and expands the expression; its own DST handling is not relied upon.
  Each local day that the day fields select gets the expanded minute x hour times, and every time
  is then localized here. Days are selected with croniter's semantics (day of month and day of
  week OR-ed when both are restricted): from the expanded sets for plain fields, and by iterating
  croniter on naive dates for ``L``, ``#`` and ``W``. An expression that can never fire
  (``0 0 30 2 *``) is rejected.

DST (zoneinfo, ``fold=0`` semantics; verified by the tests):

* A local start time that does not exist (spring-forward gap) is read with the UTC offset in
  force *before* the gap, so it is shifted forward by the length of the gap: in Europe/Berlin,
  02:00 on 2026-03-29 becomes 03:00 CEST = 01:00Z; in America/New_York, 02:30 on 2026-03-08
  becomes 03:30 EDT = 07:30Z; in Australia/Lord_Howe (30-minute DST) 02:15 becomes 02:45.
* A local start time that happens twice (fall-back) happens **once**, at its first occurrence
  (the offset before the transition): Europe/Berlin 02:00 on 2026-10-25 is 02:00 CEST = 00:00Z;
  America/New_York 01:30 on 2026-11-01 is 01:30 EDT = 05:30Z.
* ``duration`` is real time: a 1 h window at 02:00 CEST on 2026-10-25 ends at 01:00Z, which the
  wall clock shows as the second 02:00 (CET).
* Local days whose UTC offset is the same at their start and at their end are treated as having
  a constant offset (no zone has two transitions in one day that cancel out).

Service hours
-------------
Each selected weekday ``d`` contributes the real-time interval from local ``d`` at ``start`` to the
first local ``end`` wall time after it: ``end = 00:00`` means midnight at the end of ``d``, and an
``end`` at or before ``start`` runs into the next day (``22:00``-``06:00`` is overnight,
``00:00``-``00:00`` a whole day). Both ends are local wall times converted with the same ``fold=0``
rules as above, each day afresh, so the hours are DST-correct (on a spring-forward day 08:00-18:00
lasts 10 real hours; 00:00-00:00 lasts 23). Only hours that start or end inside a DST transition
notice the rules: 02:30-10:00 on a fall-back night starts at the first 02:30 and so includes the
repeated 02:00-02:30; 02:30-03:00 on a spring-forward night (both ends read as 03:30 and 03:00
CEST) is empty.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter
from dateutil.rrule import (
    DAILY,
    HOURLY,
    MINUTELY,
    MONTHLY,
    SECONDLY,
    WEEKLY,
    YEARLY,
    rrule,
    rrulestr,
)

from uptimed.model.config import Maintenance, Recurrence, ServiceHours

__all__ = ["expand", "merge", "service_hours_outside", "validate_recurrence"]

Interval = tuple[int, int]

_ANCHOR = datetime(1900, 1, 1)  # naive local: Monday, January 1st, 00:00:00
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_DATE = date(1970, 1, 1)
_MS = timedelta(milliseconds=1)
_ONE_DAY = timedelta(days=1)
# How far local wall time can be from "UTC + any offset of the zone": the largest offset change
# in tzdata is a day (Pacific/Apia, 2011). Iteration bounds are widened by this much.
_MARGIN = timedelta(days=2)


# -- helpers -------------------------------------------------------------------------------------


def merge(intervals: Iterable[tuple[int, int]]) -> list[Interval]:
    """Sort ``[start, end)`` intervals, drop empty ones, and merge those that overlap or touch."""
    out: list[Interval] = []
    for s, e in sorted(iv for iv in intervals if iv[0] < iv[1]):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _aware_to_ms(dt: datetime) -> int:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"datetime {dt.isoformat()} has no time zone")
    return (dt - _EPOCH_UTC) // _MS


def _ms_to_local(ms: int, tz: tzinfo) -> datetime:
    """The naive local wall time at instant ``ms``."""
    return (_EPOCH_UTC + timedelta(milliseconds=ms)).astimezone(tz).replace(tzinfo=None)


def _local_to_ms(naive: datetime, tz: tzinfo) -> int:
    """The instant of naive local wall time ``naive`` read with ``fold=0`` (see module doc)."""
    offset = naive.replace(tzinfo=tz, fold=0).utcoffset()
    assert offset is not None
    return (naive - _EPOCH_NAIVE - offset) // _MS


def _duration_ms(rec: Recurrence) -> int:
    return round(rec.duration * 1000)


# -- RRULE ---------------------------------------------------------------------------------------


def _rrule_body(text: str) -> str:
    body = text.strip()
    if body[:6].upper() == "RRULE:":
        body = body[6:]
    if not body or any(c in body for c in ":\r\n"):
        raise ValueError(
            f"rrule {text!r}: expected one RRULE body, like FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"
        )
    return body


@functools.lru_cache(maxsize=256)
def _parse_rrule(text: str, timezone: str) -> rrule:
    """The rule anchored at :data:`_ANCHOR` (naive local), UNTIL made local, WKST MO by default."""
    body = _rrule_body(text)
    parts = {}
    for part in body.split(";"):
        name, _, value = part.partition("=")
        parts[name.strip().upper()] = value.strip()
    if "COUNT" in parts:
        raise ValueError(f"rrule {text!r}: COUNT is not supported (there is no DTSTART); use UNTIL")
    if "FREQ" not in parts:
        raise ValueError(f"rrule {text!r}: FREQ is missing")
    try:
        rule = rrulestr(body, dtstart=_ANCHOR, ignoretz=True)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ValueError(f"rrule {text!r}: {exc}") from exc
    if not isinstance(rule, rrule):  # pragma: no cover - a single RRULE line always is one
        raise ValueError(f"rrule {text!r}: expected a single RRULE")
    changes: dict[str, object] = {}
    if "WKST" not in parts:
        changes["wkst"] = 0
    until = rule._until  # noqa: SLF001 - dateutil keeps the parsed UNTIL only here
    if until is not None and parts.get("UNTIL", "").upper().endswith("Z"):
        changes["until"] = _ms_to_local(_aware_to_ms(until.replace(tzinfo=UTC)), _zone(timezone))
    if changes:
        rule = rule.replace(**changes)
    return rule


def _period_index(freq: int, when: datetime) -> int:
    """How many whole ``freq`` periods ``when`` lies after the anchor (negative before it)."""
    if freq == YEARLY:
        return when.year - _ANCHOR.year
    if freq == MONTHLY:
        return (when.year - _ANCHOR.year) * 12 + when.month - 1
    delta = when - _ANCHOR
    if freq == WEEKLY:
        return delta.days // 7
    if freq == DAILY:
        return delta.days
    if freq == HOURLY:
        return delta // timedelta(hours=1)
    if freq == MINUTELY:
        return delta // timedelta(minutes=1)
    assert freq == SECONDLY
    return delta // timedelta(seconds=1)


def _period_start(freq: int, k: int) -> datetime:
    if freq == YEARLY:
        return _ANCHOR.replace(year=_ANCHOR.year + k)
    if freq == MONTHLY:
        return _ANCHOR.replace(year=_ANCHOR.year + k // 12, month=k % 12 + 1)
    step = {
        WEEKLY: timedelta(weeks=1),
        DAILY: timedelta(days=1),
        HOURLY: timedelta(hours=1),
        MINUTELY: timedelta(minutes=1),
        SECONDLY: timedelta(seconds=1),
    }[freq]
    return _ANCHOR + k * step


@functools.lru_cache(maxsize=1024)
def _shifted_rrule(text: str, timezone: str, k: int) -> rrule:
    rule = _parse_rrule(text, timezone)
    return rule if k == 0 else rule.replace(dtstart=_period_start(rule._freq, k))  # noqa: SLF001


def _rrule_local_starts(text: str, timezone: str, lo: datetime, hi: datetime) -> list[datetime]:
    """Local start times of the anchored series within ``[lo, hi]`` (naive)."""
    rule = _parse_rrule(text, timezone)
    freq, interval = rule._freq, rule._interval  # noqa: SLF001
    # Start one whole INTERVAL period early: the first period of a series can be partial (WKST),
    # so only from the second one on is the shifted series the same as the anchored one.
    k = max(0, (_period_index(freq, lo) // interval - 1) * interval)
    return _shifted_rrule(text, timezone, k).between(lo, hi, inc=True)


# -- cron ----------------------------------------------------------------------------------------


# Days by plain sets: (months, days of month, days of week with 0 = Sunday, OR rule); None = any.
_DayFilter = tuple[frozenset[int] | None, frozenset[int] | None, frozenset[int] | None, bool]


def _int_set(values: list[int | str]) -> frozenset[int] | None:
    return None if values == ["*"] else frozenset(int(v) for v in values)


@functools.lru_cache(maxsize=256)
def _parse_cron(expr: str) -> tuple[tuple[int, ...], str, _DayFilter | None]:
    """(seconds after local midnight of each start, sorted; the day-only expression; its day
    filter as plain sets, or None when croniter must iterate the days: L, #, W)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"cron {expr!r}: expected 5 fields (minute hour day-of-month month day-of-week)"
        )
    try:
        expanded, nth = croniter.expand(expr)
    except CroniterError as exc:
        raise ValueError(f"cron {expr!r}: {exc}") from exc
    minutes = range(60) if expanded[0] == ["*"] else expanded[0]
    hours = range(24) if expanded[1] == ["*"] else expanded[1]
    seconds = tuple(sorted(h * 3600 + m * 60 for h in hours for m in minutes))
    day_expr = f"0 0 {fields[2]} {fields[3]} {fields[4]}"
    days = expanded[2:5]
    day_filter: _DayFilter | None = None
    plain = all(isinstance(v, int) for f in days if f != ["*"] for v in f)
    if plain and not nth and "w" not in fields[2].lower():
        doms, months, dows = (_int_set(f) for f in days)
        # croniter's rule: with both day of month and day of week restricted, either may match
        day_filter = (months, doms, dows, doms is not None and dows is not None)
    try:
        croniter(day_expr, datetime(2000, 1, 1), ret_type=datetime).get_next(datetime)
    except CroniterBadDateError as exc:
        raise ValueError(f"cron {expr!r}: never matches") from exc
    except CroniterError as exc:
        raise ValueError(f"cron {expr!r}: {exc}") from exc
    return seconds, day_expr, day_filter


def _day_matches(day_filter: _DayFilter, d: date) -> bool:
    months, doms, dows, day_or = day_filter
    if months is not None and d.month not in months:
        return False
    dom = doms is None or d.day in doms
    dow = dows is None or (d.weekday() + 1) % 7 in dows
    return (dom or dow) if day_or else (dom and dow)


def _cron_days(
    day_expr: str, day_filter: _DayFilter | None, first: date, last: date
) -> Iterator[date]:
    """The local days ``first`` .. ``last`` (inclusive) on which the cron expression fires."""
    if day_filter is not None:
        d = first
        while d <= last:
            if _day_matches(day_filter, d):
                yield d
            d += _ONE_DAY
        return
    before = datetime.combine(first, time()) - timedelta(seconds=1)
    it = croniter(day_expr, before, ret_type=datetime)
    while True:
        try:
            d = it.get_next(datetime).date()
        except CroniterBadDateError:
            return
        if d > last:
            return
        yield d


def _cron_starts(expr: str, tz: tzinfo, lo: datetime, hi: datetime) -> list[int]:
    """UTC starts (ms) of the cron occurrences on local days ``lo.date()`` .. ``hi.date()``."""
    seconds, day_expr, day_filter = _parse_cron(expr)
    out: list[int] = []
    for d in _cron_days(day_expr, day_filter, lo.date(), hi.date()):
        midnight = datetime.combine(d, time())
        off0 = midnight.replace(tzinfo=tz).utcoffset()
        off1 = (midnight + _ONE_DAY).replace(tzinfo=tz).utcoffset()
        if off0 == off1:  # one offset all day: plain integer arithmetic
            assert off0 is not None
            base = (d - _EPOCH_DATE).days * 86400 - off0 // timedelta(seconds=1)
            out.extend((base + s) * 1000 for s in seconds)
        else:  # the day of a transition: localize each start
            out.extend(_local_to_ms(midnight + timedelta(seconds=s), tz) for s in seconds)
    return out


# -- public --------------------------------------------------------------------------------------


def validate_recurrence(rec: Recurrence) -> None:
    """Raise ``ValueError`` when ``rec`` cannot be expanded (bad rule, zone or duration)."""
    if (rec.rrule is None) == (rec.cron is None):
        raise ValueError("a recurrence needs exactly one of rrule and cron")
    if not (math.isfinite(rec.duration) and rec.duration > 0):
        raise ValueError(f"duration must be positive, not {rec.duration!r}")
    _zone(rec.timezone)
    if rec.rrule is not None:
        _parse_rrule(rec.rrule, rec.timezone)
    else:
        assert rec.cron is not None
        _parse_cron(rec.cron)


def expand(window: Maintenance, start_ms: int, end_ms: int) -> list[Interval]:
    """The occurrences of ``window`` that intersect ``[start_ms, end_ms)``: sorted, merged where
    they overlap or touch, and not clipped to the range. Raises ``ValueError`` for a window that
    is neither one-off nor a valid recurrence."""
    if end_ms <= start_ms:
        return []
    rec = window.recurrence
    if rec is None:
        if window.start is None or window.end is None:
            raise ValueError(f"maintenance {window.id!r}: neither start/end nor a recurrence")
        s, e = _aware_to_ms(window.start), _aware_to_ms(window.end)
        return [(s, e)] if s < e and s < end_ms and e > start_ms else []
    validate_recurrence(rec)
    dur = _duration_ms(rec)
    if dur <= 0:
        return []
    tz = _zone(rec.timezone)
    lo = _ms_to_local(start_ms - dur, tz) - _MARGIN
    hi = _ms_to_local(end_ms, tz) + _MARGIN
    if rec.rrule is not None:
        starts = [_local_to_ms(t, tz) for t in _rrule_local_starts(rec.rrule, rec.timezone, lo, hi)]
    else:
        assert rec.cron is not None
        starts = _cron_starts(rec.cron, tz, lo, hi)
    first = start_ms - dur  # an occurrence overlaps the range iff first < s < end_ms
    return merge((s, s + dur) for s in starts if first < s < end_ms)


def service_hours_outside(hours: ServiceHours, start_ms: int, end_ms: int) -> list[Interval]:
    """The parts of ``[start_ms, end_ms)`` outside the weekly service ``hours``: clipped to the
    range, sorted and merged (see the module doc for how a day's hours are placed)."""
    if end_ms <= start_ms:
        return []
    tz = _zone(hours.timezone)
    days = frozenset(hours.days)
    overnight = hours.end <= hours.start  # also end 00:00: midnight at the end of the day
    inside: list[Interval] = []
    d = _ms_to_local(start_ms, tz).date() - _MARGIN
    last = _ms_to_local(end_ms, tz).date() + _MARGIN
    while d <= last:
        if d.weekday() in days:
            s = _local_to_ms(datetime.combine(d, hours.start), tz)
            e = _local_to_ms(datetime.combine(d + _ONE_DAY if overnight else d, hours.end), tz)
            inside.append((s, e))
        d += _ONE_DAY
    out: list[Interval] = []
    cursor = start_ms
    for s, e in merge(inside):
        if e <= cursor:
            continue
        if s >= end_ms:
            break
        if s > cursor:
            out.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end_ms:
        out.append((cursor, end_ms))
    return out
