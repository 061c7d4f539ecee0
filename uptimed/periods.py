"""Report windows: times given on the command line and calendar periods in a time zone (pure)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("week", "month", "quarter", "year")
TIME_EXAMPLES = "examples: 2026-10-01, 2026-10-01T08:00:00Z, 2026-10-01T10:00:00+02:00"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'"{name}" is not an IANA time zone (examples: UTC, Europe/Berlin)') from None


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def parse_time(text: str, tz: ZoneInfo) -> int:
    """An RFC 3339 time with Z or an offset, or a date (midnight in ``tz``), as epoch ms."""
    s = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            return to_ms(datetime.combine(date.fromisoformat(s), datetime.min.time(), tz))
        dt = datetime.fromisoformat(s.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f'"{text}" is not a time ({TIME_EXAMPLES})') from None
    if dt.tzinfo is None:
        raise ValueError(f'"{text}" has no time zone: add Z or an offset ({TIME_EXAMPLES})')
    return to_ms(dt)


def calendar_period(kind: str, at: str | None, tz: ZoneInfo, now_ms: int) -> tuple[int, int]:
    """``[start, end)`` of the calendar week/month/quarter/year named by ``at`` ("2026-W43",
    "2026-10", "2026-Q4", "2026"; a date also works for any kind), in local time of ``tz``.
    Without ``at``: the period that contains now."""
    if kind not in PERIODS:
        raise ValueError(f'"{kind}" is not a period (allowed: {", ".join(PERIODS)})')
    day = _anchor_day(kind, at, tz, now_ms)
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
    midnight = datetime.min.time()
    return to_ms(datetime.combine(first, midnight, tz)), to_ms(datetime.combine(nxt, midnight, tz))


def _anchor_day(kind: str, at: str | None, tz: ZoneInfo, now_ms: int) -> date:
    if at is None:
        return datetime.fromtimestamp(now_ms / 1000, tz).date()
    s = at.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-W(\d{2})", s):
            return date.fromisocalendar(int(m[1]), int(m[2]), 1)
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", s):
            return date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1)
        if m := re.fullmatch(r"(\d{4})-(\d{2})", s):
            return date(int(m[1]), int(m[2]), 1)
        if re.fullmatch(r"\d{4}", s):
            return date(int(s), 1, 1)
        return date.fromisoformat(s)
    except ValueError:
        pass
    raise ValueError(f'"{at}" does not name a {kind} (examples: 2026-W43, 2026-10, 2026-Q4, 2026, 2026-10-15)')


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return d.replace(year=d.year + m // 12, month=m % 12 + 1)


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    dt = datetime.fromtimestamp(ms / 1000, timezone.utc)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if ms % 1000:
        text += f".{ms % 1000:03d}"
    return text + "Z"
