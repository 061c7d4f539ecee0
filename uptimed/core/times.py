"""Times, zones, calendar periods and durations: the one place for each (pure, standard library).

Times given on the command line and in requests (:func:`parse_time`), calendar periods in a time
zone (:func:`calendar_period`), zone lookup (:func:`zone`), ISO text (:func:`iso`), and
durations: the one grammar used for every duration in uptimed (config file and CLI flags).

A duration is one or more ``<number><unit>`` parts with no spaces, for example ``30s``, ``5m``,
``1h30m``, ``0.5s``, ``250ms``, ``1w2d``:

- ``<number>`` is ASCII digits with an optional decimal part (``0.5``; not ``.5`` nor ``5.``);
  no sign, no exponent;
- ``<unit>`` is one of ``ms``, ``s``, ``m`` (minutes), ``h``, ``d`` (24 h), ``w`` (7 d), lower-case;
- parts go from the largest unit to the smallest, each unit at most once (``1h30m``, not
  ``30m1h`` nor ``1m1m``);
- a bare number (``30``) is not a duration: the unit is required;
- the total is at most 100 years (:data:`MAX_SECONDS`).

:func:`parse_duration` turns the text into seconds (a float, computed exactly and rounded once);
:func:`format_duration` writes seconds back in the shortest exact form of the same grammar, so
``parse_duration(format_duration(x)) == x`` (for configured values and messages about them; the
figures in reports are rounded for people by :func:`uptimed.render.report.human_duration`, whose
text is in this grammar too).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("week", "month", "quarter", "year")
TIME_EXAMPLES = "examples: 2026-10-01, 2026-10-01T08:00:00Z, 2026-10-01T10:00:00+02:00"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        raise ValueError(
            f'"{name}" is not an IANA time zone (examples: UTC, Europe/Berlin)'
        ) from None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds, exactly (``timestamp() * 1000`` in floats can land 1 ms early)."""
    return (dt - _EPOCH) // timedelta(milliseconds=1)


MIN_MS = to_ms(datetime(1, 1, 1, tzinfo=UTC))  # what iso() and reports can show
MAX_MS = to_ms(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC))


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
    lo, hi = (
        to_ms(datetime.combine(first, midnight, tz)),
        to_ms(datetime.combine(nxt, midnight, tz)),
    )
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
            f'"{at}" does not name a {kind}'
            f" (examples: {_AT_EXAMPLES[kind]}, or a date in it: 2026-10-15)"
        ) from None
    if kind not in _AT_FITS[names]:
        raise ValueError(
            f'"{at}" names a {names}, not a {kind}:'
            f" write {_AT_EXAMPLES[kind]}, or a date in the {kind}"
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


#: Longest accepted duration: 100 years of 365.25 days, in seconds.
MAX_SECONDS: float = 100 * 365.25 * 86400.0

#: Unit -> seconds, largest first (the order compound forms must follow).
_UNITS: dict[str, Fraction] = {
    "w": Fraction(7 * 86400),
    "d": Fraction(86400),
    "h": Fraction(3600),
    "m": Fraction(60),
    "s": Fraction(1),
    "ms": Fraction(1, 1000),
}
_RANK = {unit: rank for rank, unit in enumerate(_UNITS)}
# "ms" before "m" and "s" so that "1ms" reads as milliseconds.
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|w|d|h|m|s)")
_MILLIS_PER_UNIT = (
    ("w", 604_800_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
)
_MAX_TEXT = 100  # characters; far above any sensible duration, keeps the arithmetic cheap
_EXAMPLES = '(examples: "30s", "5m", "1h30m")'
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str, limit: int = 40) -> str:
    """``text`` in double quotes, safe on one line: escapes quotes, backslashes and anything not
    printable, and shortens long text with an ellipsis."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _not_a_duration(text: str, why: str = "") -> ValueError:
    why = f": {why}" if why else ""
    return ValueError(f"{quote(text)} is not a duration{why} {_EXAMPLES}")


def _hint(text: str) -> str:
    """A short reason for the commonest mistakes, or "" (the examples say the rest)."""
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return f'a unit is required, e.g. "{text}s"'
    if text[:1] in "+-":
        return "no sign allowed"
    if any(ch.isspace() for ch in text):
        return "no spaces allowed"
    if re.search(r"[0-9][eE][+-]?[0-9]", text):
        return "no exponent allowed"
    if re.search(r"(^|[^0-9])\.[0-9]", text):
        return 'a decimal needs a digit before the point, e.g. "0.5s"'
    if text != text.lower() and re.fullmatch(r"([0-9]+(\.[0-9]+)?(ms|w|d|h|m|s))+", text.lower()):
        return "units are lower-case"
    return ""


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (see the module docstring for the grammar).

    >>> parse_duration("1h30m")
    5400.0
    >>> parse_duration("250ms")
    0.25

    :raises ValueError: ``"5x" is not a duration (examples: "30s", "5m", "1h30m")``, or the
        duration is longer than 100 years.
    :raises TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"a duration must be a string, not {type(text).__name__}")
    if not text:
        raise _not_a_duration(text, "it is empty")
    if len(text) > _MAX_TEXT:
        raise _not_a_duration(text, f"longer than {_MAX_TEXT} characters")
    total = Fraction(0)
    pos = 0
    last_rank = -1
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise _not_a_duration(text, _hint(text))
        number, unit = match.groups()
        rank = _RANK[unit]
        if rank <= last_rank:
            raise _not_a_duration(
                text, "units must go from largest to smallest, each at most once (like 1h30m)"
            )
        last_rank = rank
        total += Fraction(number) * _UNITS[unit]
        pos = match.end()
    if total > MAX_SECONDS:
        raise ValueError(f"{quote(text)} is too long: durations are limited to 100 years")
    return float(total)


def format_duration(seconds: float) -> str:
    """``seconds`` in the shortest exact form of the duration grammar.

    >>> format_duration(90)
    '1m30s'
    >>> format_duration(0.5)
    '500ms'
    >>> format_duration(0)
    '0s'

    Whole units from weeks down to milliseconds, zero parts left out; a remainder below one
    millisecond becomes a decimal on the milliseconds (``0.0005`` -> ``"0.5ms"``).

    :raises ValueError: ``seconds`` is negative, NaN or infinite.
    :raises TypeError: ``seconds`` is not a number.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"seconds must be an int or a float, not {type(seconds).__name__}")
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise ValueError(f"cannot format {seconds!r} as a duration")
    if seconds < 0:
        raise ValueError(f"cannot format a negative duration ({seconds!r})")
    with localcontext() as ctx:
        ctx.prec = 1000  # exact for every float: repr() has at most 17 significant digits
        # For a float, repr() is the shortest decimal that reads back as the same float.
        value = Decimal(repr(seconds)) if isinstance(seconds, float) else Decimal(seconds)
        millis = value * 1000
        whole = int(millis)  # non-negative: int() floors
        fraction = millis - whole
        parts = []
        for unit, size in _MILLIS_PER_UNIT:
            count, whole = divmod(whole, size)
            if count:
                parts.append(f"{count}{unit}")
        if fraction:
            ms = format(whole + fraction, "f").rstrip("0").rstrip(".")
            parts.append(f"{ms}ms")
        elif whole:
            parts.append(f"{whole}ms")
    return "".join(parts) or "0s"
