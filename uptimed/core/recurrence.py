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
:func:`validate_recurrence`
    Raise ``ValueError`` (with a readable message) when a recurrence cannot be expanded.
:func:`check_rrule`, :func:`check_cron`
    The stricter rules for a rule a config file gives (what the loader reports, word for word).

This module is the only place that parses RRULEs and cron expressions: the config loader asks
:func:`check_rrule` and :func:`check_cron`, the expander uses the same anchor and parsers.

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
  (``0 0 30 2 *``) is rejected. Whether it fires is looked up from the same anchor, 1900-01-01
  (a cron field names no year, so which days match repeats; 50 years from either date agree).

What a config file may give (:func:`check_rrule`, :func:`check_cron`; each raises ``ValueError``
with the message the loader shows after the key path):

* rrule: an RRULE body (an ``"RRULE:"`` prefix is dropped) of at most :data:`MAX_RULE_CHARS`
  characters, on one line without spaces. dateutil reads it against the anchor as an *aware*
  time, so that it insists on an UNTIL in UTC (``...Z``) as RFC 5545 asks when DTSTART has a
  zone; its verdict does not depend on the date or the zone, only on the time (midnight) and
  that it is aware. No DTSTART, RDATE, EXDATE or COUNT (there is no first occurrence to count
  from), no FREQ=SECONDLY, INTERVAL >= 1, and the BYxxx numbers within RFC 5545 ranges (dateutil
  silently ignores BYMONTHDAY=0, say); numbered weekdays (1SU) only with MONTHLY or YEARLY.
* cron: exactly five fields as croniter reads them (no ``@daily``, no seconds or year field),
  which must fire at least once in 50 years (``"0 2 30 2 *"`` never does).

Everything either accepts, :func:`expand` takes (the expander alone also reads a local UNTIL).

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
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

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

from uptimed.core.intervals import Interval, normalize
from uptimed.core.times import quote, to_ms, zone
from uptimed.model.config import Maintenance, Recurrence, ServiceHours

__all__ = [
    "CRON_EXAMPLE",
    "MAX_RULE_CHARS",
    "RRULE_EXAMPLE",
    "check_cron",
    "check_rrule",
    "expand",
    "service_hours_outside",
    "validate_recurrence",
]

#: The anchor of every RRULE series (naive local: Monday, January 1st, 00:00:00), and where the
#: search for a cron expression's first day starts.
_ANCHOR = datetime(1900, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_DATE = date(1970, 1, 1)
_MS = timedelta(milliseconds=1)
_ONE_DAY = timedelta(days=1)
# How far local wall time can be from "UTC + any offset of the zone": the largest offset change
# in tzdata is a day (Pacific/Apia, 2011). Iteration bounds are widened by this much.
_MARGIN = timedelta(days=2)

#: The longest rrule or cron text a config may give.
MAX_RULE_CHARS = 1000
RRULE_EXAMPLE = '"FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"'
CRON_EXAMPLE = '"0 2 * * 0"'


# -- helpers -------------------------------------------------------------------------------------


def _aware_to_ms(dt: datetime) -> int:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"datetime {dt.isoformat()} has no time zone")
    return to_ms(dt)


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

#: RFC 5545 ranges of the numeric RRULE parts (dateutil checks some, ignores 0 in others).
_RRULE_RANGES: dict[str, tuple[int, int, bool]] = {  # name: (lo, hi, negatives allowed)
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYHOUR": (0, 23, False),
    "BYMINUTE": (0, 59, False),
    "BYSECOND": (0, 59, False),
    "BYSETPOS": (1, 366, True),
    "BYEASTER": (0, 366, True),
}
_NO_DTSTART = (
    "give only the rule's parts (FREQ=...;BYDAY=...), no DTSTART, RDATE or EXDATE: windows start "
    'at the times the rule names, in "timezone"'
)
_NO_COUNT = (
    "COUNT is not supported (there is no DTSTART to count from); end the rule with "
    "UNTIL=<UTC time>, e.g. UNTIL=20271231T235959Z"
)


def _without_prefix(text: str) -> str:
    return text[6:] if text[:6].upper() == "RRULE:" else text


def _parts(body: str) -> list[tuple[str, str]]:
    """The ``NAME=VALUE`` parts of an RRULE body in order, upper-cased and stripped; parts
    without a name are left out (dateutil has its say about them)."""
    out = []
    for part in body.upper().split(";"):
        name, _, value = part.partition("=")
        if name.strip():
            out.append((name.strip(), value.strip()))
    return out


def check_rrule(text: str) -> str:
    """The RRULE body of a config's ``rrule`` (the rules are in the module doc), or
    ``ValueError`` saying what is wrong, starting with the rule as written (quoted)."""
    shown = quote(text, 100)
    body = _without_prefix(text)
    if not body:
        raise ValueError(f"is empty: give a rule such as {RRULE_EXAMPLE}")
    if len(body) > MAX_RULE_CHARS:
        raise ValueError(f"{shown} is longer than {MAX_RULE_CHARS} characters")
    if "DTSTART" in body.upper() or ":" in body:
        raise ValueError(f"{shown}: {_NO_DTSTART}")
    if any(ch.isspace() or not ch.isprintable() for ch in body):
        raise ValueError(
            f"{shown}: write the rule on one line without spaces, e.g. {RRULE_EXAMPLE}"
        )
    parts: dict[str, str] = {}
    for name, value in _parts(body):
        if name in parts:
            raise ValueError(f"{shown}: {name} is given twice")
        parts[name] = value
        if name == "COUNT":
            raise ValueError(f"{shown}: {_NO_COUNT}")
        if name == "UNTIL" and not re.fullmatch(r"[0-9]{8}(T[0-9]{6}Z?)?", value):
            raise ValueError(f"{shown}: UNTIL must be a UTC time such as UNTIL=20271231T235959Z")
    try:
        rrulestr(body, dtstart=_ANCHOR.replace(tzinfo=UTC))
    except Exception as e:  # noqa: BLE001 - whatever dateutil raises is the user's answer
        said = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        hint = ""
        if "UNTIL" in said:
            hint = ' (write UNTIL in UTC with a "Z", e.g. UNTIL=20271231T235959Z)'
        elif "freq" in said and "FREQ" not in parts:
            hint = " (FREQ is required, e.g. FREQ=WEEKLY)"
        raise ValueError(
            f"{shown} is not a valid RRULE: dateutil says {quote(said, 200)}{hint}"
        ) from None
    problem = _rfc5545_problem(parts)
    if problem:
        raise ValueError(f"{shown}: {problem}")
    return body


def _rfc5545_problem(parts: dict[str, str]) -> str | None:
    """What dateutil accepts in an RRULE but RFC 5545 does not (and dateutil would mishandle
    later, e.g. ignore BYMONTHDAY=0 or fail on BYDAY=9SU), or None."""
    if parts.get("FREQ") == "SECONDLY":
        return "FREQ=SECONDLY is not supported: a maintenance window recurs at most every minute"
    try:
        if "INTERVAL" in parts and int(parts["INTERVAL"]) < 1:
            return f"INTERVAL={parts['INTERVAL']} must be at least 1"
        for name, (lo, hi, negative) in _RRULE_RANGES.items():
            for item in parts[name].split(",") if name in parts else ():
                n = int(item)
                if not (lo <= n <= hi or negative and -hi <= n <= -lo):
                    allowed = f"{lo} to {hi}" + (f" or -{hi} to -{max(lo, 1)}" if negative else "")
                    return f"{name}={item} is out of range (allowed: {allowed})"
        freq = parts.get("FREQ")
        for item in parts["BYDAY"].split(",") if "BYDAY" in parts else ():
            m = re.fullmatch(r"([+-]?[0-9]+)?([A-Z]{2})|([A-Z]{2})\(([+-]?[0-9]+)\)", item)
            ordinal = m and (m[1] or m[4])
            if not ordinal:
                continue
            if freq not in ("MONTHLY", "YEARLY"):
                return (
                    f"BYDAY={item}: a numbered weekday (like 1SU, -1FR) needs FREQ=MONTHLY or "
                    "FREQ=YEARLY"
                )
            most = 5 if freq == "MONTHLY" or "BYMONTH" in parts else 53
            if not 1 <= abs(int(ordinal)) <= most:
                return f"BYDAY={item}: the number must be 1 to {most} or -{most} to -1"
    except ValueError:
        return None  # dateutil read it; nothing more to say
    return None


def _rrule_body(text: str) -> str:
    body = _without_prefix(text.strip())
    if not body or any(c in body for c in ":\r\n"):
        raise ValueError(
            f"rrule {text!r}: expected one RRULE body, like FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"
        )
    return body


@functools.lru_cache(maxsize=256)
def _parse_rrule(text: str, timezone: str) -> rrule:
    """The rule anchored at :data:`_ANCHOR` (naive local), UNTIL made local, WKST MO by default."""
    body = _rrule_body(text)
    parts = dict(_parts(body))
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
    until = rule._until  # type: ignore[attr-defined]  # dateutil keeps the parsed UNTIL only here
    if "WKST" not in parts:
        rule = rule.replace(wkst=0)
    if until is not None and parts.get("UNTIL", "").endswith("Z"):
        local = _ms_to_local(_aware_to_ms(until.replace(tzinfo=UTC)), zone(timezone))
        rule = rule.replace(until=local)
    return rule


def _freq_interval(rule: rrule) -> tuple[int, int]:
    """The rule's FREQ (dateutil's number) and INTERVAL, which dateutil keeps private."""
    return rule._freq, rule._interval  # type: ignore[attr-defined]  # no public accessor


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
    return rule if k == 0 else rule.replace(dtstart=_period_start(_freq_interval(rule)[0], k))


def _rrule_local_starts(text: str, timezone: str, lo: datetime, hi: datetime) -> list[datetime]:
    """Local start times of the anchored series within ``[lo, hi]`` (naive)."""
    freq, interval = _freq_interval(_parse_rrule(text, timezone))
    # Start one whole INTERVAL period early: the first period of a series can be partial (WKST),
    # so only from the second one on is the shifted series the same as the anchored one.
    k = max(0, (_period_index(freq, lo) // interval - 1) * interval)
    return _shifted_rrule(text, timezone, k).between(lo, hi, inc=True)


# -- cron ----------------------------------------------------------------------------------------


# Days by plain sets: (months, days of month, days of week with 0 = Sunday, OR rule); None = any.
_DayFilter = tuple[frozenset[int] | None, frozenset[int] | None, frozenset[int] | None, bool]

_CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class _NeverFires(ValueError):
    """A cron expression that no day matches."""


def check_cron(text: str) -> str:
    """A config's ``cron`` as written (the rules are in the module doc), or ``ValueError``
    saying what is wrong, starting with the expression as written (quoted)."""
    shown = quote(text, 100)
    if len(text) > MAX_RULE_CHARS:
        raise ValueError(f"{shown} is longer than {MAX_RULE_CHARS} characters")
    if not text.isprintable():
        raise ValueError(f"{shown} contains a control character")
    fields = text.split()
    if len(fields) == 1 and fields[0].startswith("@"):
        alias = _CRON_ALIASES.get(fields[0].lower())
        fix = f' (write "{alias}")' if alias else ""
        raise ValueError(
            f"{shown}: give the five fields (minute hour day-of-month month day-of-week), "
            f"not a nickname{fix}"
        )
    if len(fields) != 5:
        raise ValueError(
            f"{shown} has {len(fields)} field{'s' if len(fields) != 1 else ''}; cron needs "
            f"five: minute hour day-of-month month day-of-week (e.g. {CRON_EXAMPLE})"
        )
    try:
        if not croniter.is_valid(text):
            croniter(text)  # raises with the reason
            raise ValueError("not a valid expression")
    except Exception as e:  # noqa: BLE001 - whatever croniter raises is the user's answer
        raise ValueError(
            f"{shown} is not a valid cron expression: croniter says {quote(str(e), 200)}"
        ) from None
    try:
        _parse_cron(text)
    except _NeverFires:
        raise ValueError(f"{shown} never fires (croniter found no date in 50 years)") from None
    return text


def _int_set(values: Sequence[int | str]) -> frozenset[int] | None:
    return None if list(values) == ["*"] else frozenset(int(v) for v in values)


def _times_of_day(values: Sequence[int | str], every: range) -> Sequence[int]:
    """The expanded minute or hour field: ``every`` for "*", else its numbers (these fields
    hold nothing else)."""
    return every if list(values) == ["*"] else [v for v in values if isinstance(v, int)]


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
    minutes = _times_of_day(expanded[0], range(60))
    hours = _times_of_day(expanded[1], range(24))
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
        croniter(day_expr, _ANCHOR, ret_type=datetime).get_next(datetime)
    except CroniterBadDateError as exc:
        raise _NeverFires(f"cron {expr!r}: never matches") from exc
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
    zone(rec.timezone)
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
    tz = zone(rec.timezone)
    lo = _ms_to_local(start_ms - dur, tz) - _MARGIN
    hi = _ms_to_local(end_ms, tz) + _MARGIN
    if rec.rrule is not None:
        starts = [_local_to_ms(t, tz) for t in _rrule_local_starts(rec.rrule, rec.timezone, lo, hi)]
    else:
        assert rec.cron is not None
        starts = _cron_starts(rec.cron, tz, lo, hi)
    first = start_ms - dur  # an occurrence overlaps the range iff first < s < end_ms
    return normalize((s, s + dur) for s in starts if first < s < end_ms)


def service_hours_outside(hours: ServiceHours, start_ms: int, end_ms: int) -> list[Interval]:
    """The parts of ``[start_ms, end_ms)`` outside the weekly service ``hours``: clipped to the
    range, sorted and merged (see the module doc for how a day's hours are placed)."""
    if end_ms <= start_ms:
        return []
    tz = zone(hours.timezone)
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
    for s, e in normalize(inside):
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
