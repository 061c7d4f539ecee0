"""Report windows: times given on the command line and calendar periods in a time zone (pure)."""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("week", "month", "quarter", "year")
TIME_EXAMPLES = "examples: 2026-10-01, 2026-10-01T08:00:00Z, 2026-10-01T10:00:00+02:00"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        raise ValueError(f'"{name}" is not an IANA time zone (examples: UTC, Europe/Berlin)') from None


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds, exactly (``timestamp() * 1000`` in floats can land 1 ms early)."""
    return (dt - _EPOCH) // timedelta(milliseconds=1)


MIN_MS = to_ms(datetime(1, 1, 1, tzinfo=timezone.utc))  # what iso() and reports can show
MAX_MS = to_ms(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc))


def parse_time(text: str, tz: ZoneInfo) -> int:
    """An RFC 3339 time with Z or an offset, or a date (midnight in ``tz``), as epoch ms."""
    s = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            dt = datetime.combine(date.fromisoformat(s), datetime.min.time(), tz)
        else:
            dt = datetime.fromisoformat(s.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f'"{text}" is not a time ({TIME_EXAMPLES})') from None
    if dt.tzinfo is None:
        raise ValueError(f'"{text}" has no time zone: add Z or an offset ({TIME_EXAMPLES})')
    ms = to_ms(dt)
    if not MIN_MS <= ms <= MAX_MS:  # midnight of 0001-01-01 east of UTC is in year 0
        raise ValueError(f'"{text}" is out of range (years 1 to 9999 in UTC)')
    return ms


def calendar_period(kind: str, at: str | None, tz: ZoneInfo, now_ms: int) -> tuple[int, int]:
    """``[start, end)`` of the calendar week/month/quarter/year named by ``at`` ("2026-W43",
    "2026-10", "2026-Q4", "2026"; a month also names its quarter and year, a quarter its year,
    and a date any period), in local time of ``tz``. Without ``at``: the period that contains
    now."""
    if kind not in PERIODS:
        raise ValueError(f'"{kind}" is not a period (allowed: {", ".join(PERIODS)})')
    day = _anchor_day(kind, at, tz, now_ms)
    try:
        first, nxt = _bounds(kind, day)
    except (OverflowError, ValueError):
        raise ValueError(f'the {kind} of "{at}" ends past the year 9999') from None
    midnight = datetime.min.time()
    lo, hi = to_ms(datetime.combine(first, midnight, tz)), to_ms(datetime.combine(nxt, midnight, tz))
    if lo < MIN_MS or hi > MAX_MS + 1:  # the first or last period, in a zone east or west of UTC
        raise ValueError(f'the {kind} of "{at}" in {tz.key} reaches outside years 1 to 9999 in UTC')
    return lo, hi


def _bounds(kind: str, day: date) -> tuple[date, date]:
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        nxt = first + timedelta(days=7)
    elif kind == "month":
        first = day.replace(day=1)
        nxt = _add_months(first, 1)
    elif kind == "quarter":
        first = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        nxt = _add_months(first, 3)
    else:
        first = day.replace(month=1, day=1)
        nxt = first.replace(year=first.year + 1)
    return first, nxt


# What each form of ``at`` names, and the periods it can pick: a period that contains it (a
# week does not nest in a month or a year, and a year holds twelve months: those are refused).
_AT_FITS = {
    "week": ("week",),
    "month": ("month", "quarter", "year"),
    "quarter": ("quarter", "year"),
    "year": ("year",),
    "date": PERIODS,
}


def _anchor_day(kind: str, at: str | None, tz: ZoneInfo, now_ms: int) -> date:
    if at is None:
        return datetime.fromtimestamp(now_ms / 1000, tz).date()
    s = at.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-W(\d{2})", s):
            names, day = "week", date.fromisocalendar(int(m[1]), int(m[2]), 1)
        elif m := re.fullmatch(r"(\d{4})-Q([1-4])", s):
            names, day = "quarter", date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1)
        elif m := re.fullmatch(r"(\d{4})-(\d{2})", s):
            names, day = "month", date(int(m[1]), int(m[2]), 1)
        elif re.fullmatch(r"\d{4}", s):
            names, day = "year", date(int(s), 1, 1)
        else:
            names, day = "date", date.fromisoformat(s)
    except ValueError:
        raise ValueError(
            f'"{at}" does not name a {kind} (examples: {_AT_EXAMPLES[kind]}, or a date in it: 2026-10-15)'
        ) from None
    if kind not in _AT_FITS[names]:
        raise ValueError(
            f'"{at}" names a {names}, not a {kind}: write {_AT_EXAMPLES[kind]}, or a date in the {kind}'
        )
    return day


_AT_EXAMPLES = {"week": "2026-W43", "month": "2026-10", "quarter": "2026-Q4", "year": "2026"}


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return d.replace(year=d.year + m // 12, month=m % 12 + 1)


def iso(ms: int | None) -> str | None:
    """RFC 3339 in UTC, with milliseconds when there are any. Reports call this millions of
    times, so the date part is cached per day and the time is built with integer arithmetic."""
    if ms is None:
        return None
    day, rest = divmod(ms, 86_400_000)
    secs, milli = divmod(rest, 1000)
    h, rem = divmod(secs, 3600)
    text = f"{_day_prefix(day)}{h:02d}:{rem // 60:02d}:{rem % 60:02d}"
    return f"{text}.{milli:03d}Z" if milli else text + "Z"


@lru_cache(maxsize=4096)
def _day_prefix(day: int) -> str:
    d = _EPOCH + timedelta(days=day)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T"  # strftime("%Y") does not pad years < 1000
