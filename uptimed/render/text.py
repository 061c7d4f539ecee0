"""Numbers, durations, times and words for people: what every human format of a report shares.

- a percentage is cut, never rounded up (99.99996 % shows as 99.9999 %, not 100.0000 %), with at
  least as many decimals as the objective it is compared with, so a missed objective never looks
  met (:func:`format_percent`, :func:`places_for`);
- a duration keeps its two largest units and is rounded to the nearest of the smaller one, after
  rounding, not before, so 328.999 s is ``5m29s``, 3599.6 s is ``1h00m`` and 59.96 s is
  ``1m00s``; below a minute it has three significant digits (``12.3s``) (:func:`human_duration`);
- a time is shown in a time zone at whole seconds (cut: a clock never shows a second that has
  not begun) (:func:`local_time`);
- any text from the config or the database is one line: C0 and C1 control characters (newlines,
  tabs, terminal escape sequences) become spaces (:func:`text`).

Measured figures are shown from the numbers the JSON has (:mod:`uptimed.render.json`), so that
a document and the JSON beside it agree to the digit; configured numbers from the Decimal of
their written text.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import TypeAlias

from uptimed.core.times import zone

# C0 and C1 control characters never reach a terminal or a Markdown line: they become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_MS = 86_400_000

# Inline text is a list of segments: a plain string, or (style, string) with style "strong",
# "met", "missed", "nodata" (shown strong) or "time" (one time, never broken across lines). Every
# string is escaped by the renderer, never by the builder.
Inline: TypeAlias = "list[str | tuple[str, str]]"


def plain(inline: Inline) -> str:
    """Inline text as plain text (for the table)."""
    return "".join(segment if isinstance(segment, str) else segment[1] for segment in inline)


def text(value: object) -> str:
    """A value as one line of text ("-" for None, "yes"/"no" for a bool)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _CONTROL.sub(" ", str(value))


# -- numbers --------------------------------------------------------------------------------------


def human_duration(seconds: float | None) -> str:
    """``seconds`` for people, in its two largest units, rounded to the nearest of the smaller.

    >>> [human_duration(s) for s in (0, 0.5, 12, 328.999, 2592, 3720, 183600, None)]
    ['0s', '0.5s', '12s', '5m29s', '43m12s', '1h02m', '2d03h', '-']

    Rounded first, then split, so a value never shows as ``59m60s``: 3599.6 s is ``1h00m``.
    Below a minute, three significant digits (``"0.25s"``, ``"12.3s"``, and 59.96 s is
    ``1m00s``). Halves round up, on the decimal the float reads as (129.5 s is ``2m10s``). A
    negative duration gets a leading ``-``; ``None`` (no data) is ``"-"``. The text is in the
    duration grammar of :mod:`uptimed.core.times`, so it parses back to the rounded value.

    :raises ValueError: ``seconds`` is NaN or infinite.
    """
    if seconds is None:
        return "-"
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"seconds must be a number, not {type(seconds).__name__}")
    if not math.isfinite(seconds):
        raise ValueError(f"cannot show {seconds!r} as a duration")
    if seconds < 0:
        return "-" + human_duration(-seconds)
    value = _decimal(seconds)
    if value < 60:
        if value == 0:
            return "0s"
        short = value.quantize(Decimal(1).scaleb(value.adjusted() - 2), rounding=ROUND_HALF_UP)
        if short < 60:  # 59.96 s rounds to 60.0: shown as 1m00s below
            return plain_decimal(short) + "s"
    for step, per, big, small, limit in _DURATION_UNITS:
        count = int((value / step).to_integral_value(rounding=ROUND_HALF_UP))
        if limit is None or count * step < limit:
            major, minor = divmod(count, per)
            return f"{major}{big}{minor:02d}{small}"
    raise AssertionError("unreachable: the last unit has no limit")


# (size of the smaller unit in seconds, smaller units per larger one, the larger and smaller
# unit's names, the first value that needs the next pair), smallest pair first.
_DURATION_UNITS: tuple[tuple[int, int, str, str, int | None], ...] = (
    (1, 60, "m", "s", 3600),
    (60, 60, "h", "m", 86400),
    (3600, 24, "d", "h", None),
)


def length_text(ms: int) -> str:
    """The length of a period: whole days as "31d", anything else as a human duration."""
    if ms > 0 and ms % DAY_MS == 0:
        return f"{ms // DAY_MS}d"
    return human_duration(ms / 1000)


def format_percent(ratio: float | None, places: int = 3) -> str:
    """A ratio (0..1) as a percentage with ``places`` decimals, cut toward minus infinity.

    >>> format_percent(0.9994212962962963, 4), format_percent(0.99999996, 4), format_percent(None)
    ('99.9421 %', '99.9999 %', '-')
    """
    if ratio is None:
        return "-"
    value = (_decimal(ratio) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)
    if value == 0:
        value = abs(value)  # never "-0.000 %"
    return f"{value} %"


def places_for(percent: Decimal, places: int) -> int:
    """Enough decimals that a figure is never shown equal to the configured ``percent`` it
    missed (99.95 needs two), and at least ``places``."""
    exponent = percent.normalize().as_tuple().exponent
    return max(places, -exponent) if isinstance(exponent, int) else places


def configured(number: Decimal) -> str:
    """A configured number as written, without trailing zeros: 95.0 -> "95", 99.9 -> "99.9"."""
    return plain_decimal(number)


def _decimal(number: float) -> Decimal:
    # repr() is the shortest decimal that reads back as the float: 0.999 is 0.999, not 0.99899...
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


def plain_decimal(value: Decimal) -> str:
    shown = format(value.normalize(), "f")
    return "0" if shown in ("-0", "") else shown


def overspent_percent(ratio: float) -> str:
    """How far past its budget, ``ratio`` (> 0) as a percentage cut to whole percent from 10 %
    (8914.3 -> "8914 %"), to a tenth below, and "less than 0.1 %" below that, never "0 %"."""
    value = _decimal(ratio) * 100
    if value >= 10:
        return format(value.to_integral_value(rounding=ROUND_FLOOR), "f") + " %"
    if value >= Decimal("0.1"):
        return format(value.quantize(Decimal("0.1"), rounding=ROUND_FLOOR), "f") + " %"
    return "less than 0.1 %"


# -- times ----------------------------------------------------------------------------------------


def zone_or_utc(name: str) -> tzinfo:
    """The IANA zone ``name``; UTC when it is unknown (the times then say "UTC")."""
    try:
        return zone(name)
    except ValueError:
        return UTC


def moment(ms: int, tz: tzinfo) -> datetime:
    """``ms`` as an aware time in ``tz``."""
    return (_EPOCH + timedelta(milliseconds=ms)).astimezone(tz)


def local_time(ms: int, tz: tzinfo) -> str:
    """``ms`` as ``2026-10-07 15:00:00 CEST`` in ``tz``, cut to the second."""
    local = moment(ms, tz).replace(microsecond=0)
    name = local.tzname() or local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {_CONTROL.sub(' ', name)}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip


def period_name(start: int, end: int, tz: tzinfo) -> str | None:
    """``[start, end)`` by its calendar name in ``tz``: "December 2026", "Q4 2026", "2026",
    "week 2026-W49", "2026-12-02"; None when it is none of those."""
    a, b = moment(start, tz), moment(end, tz)
    if (a.time(), b.time()) != (a.time().min, b.time().min):
        return None
    months = (b.year - a.year) * 12 + b.month - a.month
    if a.day == 1 and b.day == 1:
        if months == 12 and a.month == 1:
            return f"{a.year}"
        if months == 3 and a.month % 3 == 1:
            return f"Q{a.month // 3 + 1} {a.year}"
        if months == 1:
            return f"{_MONTHS[a.month - 1]} {a.year}"
    days = (b.date() - a.date()).days
    if days == 7 and a.weekday() == 0:
        year, week, _ = a.isocalendar()
        return f"week {year}-W{week:02d}"
    if days == 1:
        return f"{a:%Y-%m-%d}"
    return None
