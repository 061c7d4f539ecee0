"""An SLO's service_hours: the weekly hours in which it counts.

Rules: { days = "mon-fri", from = "08:00", to = "18:00", timezone = "Europe/Berlin" }, at least
one key. days: "mon-fri", "mon,wed,fri", "sat-sun", "mon-wed,fri": three-letter or full English
day names, any case, ranges not wrapping past Sunday, no day twice (default: every day). from
and to: "HH:MM" local wall times (default 00:00 and "24:00", the end of the day); to is after
from, as hours cannot run past midnight. timezone: the SLO's when not given.
"""

from __future__ import annotations

import difflib
import re
from datetime import time

from uptimed.config import values
from uptimed.config.checker import Checker, Invalid, echo
from uptimed.model.config import ServiceHours

SERVICE_HOURS_KEYS = ("days", "from", "to", "timezone")
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NAMES: dict[str, int] = {
    **{d: i for i, d in enumerate(DAYS)},
    **{d: i for i, d in enumerate(_FULL_DAYS)},
}
_HH_MM = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_MIDNIGHT = time(0, 0)


def check_service_hours(c: Checker, value: object, path: str, slo_tz: str | None) -> ServiceHours:
    """``slo_tz``: the SLO's time zone, None when that is wrong (already reported)."""
    example = '{ days = "mon-fri", from = "08:00", to = "18:00" }'
    table = values.table(c, value, path, SERVICE_HOURS_KEYS, example)
    if not table:
        raise c.error(path, f"is empty: give days and/or hours, e.g. {example}")
    days: tuple[int, ...] | None = tuple(range(7))
    if "days" in table:
        days = c.attempt(_days, table["days"], f"{path}.days")
    start: time | None = _MIDNIGHT
    if "from" in table:
        start = c.attempt(_clock, table["from"], f"{path}.from", end_of_day=False)
    end: time | None = _MIDNIGHT  # midnight at the end of the day
    if "to" in table:
        end = c.attempt(_clock, table["to"], f"{path}.to", end_of_day=True)
    if start is not None and end is not None and end != _MIDNIGHT and end <= start:
        shown_to = echo(str(table["to"])) if "to" in table else '"24:00"'
        c.error(
            f"{path}.to",
            f"{shown_to} is not after from ({echo(str(table.get('from', '00:00')))}); hours cannot "
            'run past midnight (use "24:00" for the end of the day)',
        )
        end = None
    tz = slo_tz
    if "timezone" in table:
        tz = c.attempt(values.time_zone, table["timezone"], f"{path}.timezone")
    if days is None or start is None or end is None or tz is None:
        raise Invalid
    return ServiceHours(days=days, start=start, end=end, timezone=tz)


def _days(c: Checker, value: object, path: str) -> tuple[int, ...]:
    examples = '(examples: "mon-fri", "mon,wed,fri", "sat-sun")'
    if not isinstance(value, str):
        hint = ""
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            hint = f' (write one string: "{",".join(value)}")'
        raise c.type_error(path, f"a string of days {examples}", value, hint)
    shown = echo(value)
    if not value.strip():
        raise c.error(path, f"is empty: name at least one day {examples}")
    out: list[int] = []
    for item in value.split(","):
        ends = [part.strip() for part in item.split("-")]
        numbers = []
        for name in ends:
            if name.lower() not in _DAY_NAMES:
                if not name:
                    raise c.error(path, f"{shown} has an empty day name {examples}")
                match = difflib.get_close_matches(
                    name[:20].lower(), list(_DAY_NAMES), n=1, cutoff=0.75
                )
                hint = f'; did you mean "{match[0]}"?' if match else ""
                if name.lower() in ("weekday", "weekdays", "weekend", "weekends"):
                    hint = f'; write "{"sat-sun" if "end" in name.lower() else "mon-fri"}"'
                raise c.error(
                    path, f"{shown}: {echo(name)} is not a day (use {', '.join(DAYS)}{hint})"
                )
            numbers.append(_DAY_NAMES[name.lower()])
        if len(numbers) > 2:
            raise c.error(
                path, f"{shown}: {echo(item.strip())} is not a day or a range like mon-fri"
            )
        lo, hi = numbers[0], numbers[-1]
        if lo > hi:
            raise c.error(
                path,
                f"{shown}: the range {echo(item.strip())} runs backwards; weeks run mon to sun "
                f'(write "{DAYS[lo]}-sun,mon-{DAYS[hi]}" to wrap past Sunday)',
            )
        for d in range(lo, hi + 1):
            if d in out:
                raise c.error(path, f"{shown}: {DAYS[d]} is named twice")
            out.append(d)
    return tuple(sorted(out))


def _clock(c: Checker, value: object, path: str, end_of_day: bool) -> time:
    wanted = '"HH:MM" string, e.g. "08:00"' + (' or "24:00"' if end_of_day else "")
    if not isinstance(value, str):
        hint = ""
        if isinstance(value, time):
            hint = f' (write it as a string: "{value.strftime("%H:%M")}")'
        raise c.type_error(path, f"a {wanted}", value, hint)
    m = _HH_MM.fullmatch(value)
    if m and end_of_day and int(m[1]) == 24 and int(m[2]) == 0:
        return _MIDNIGHT  # midnight at the end of the day (see ServiceHours)
    if m and end_of_day and int(m[1]) == 0 and int(m[2]) == 0:
        raise c.error(path, f'{echo(value)} is the start of the day: write "24:00" for its end')
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        last = "24:00" if end_of_day else "23:59"
        raise c.error(path, f'{echo(value)} is not a time of day (allowed: "00:00" to "{last}")')
    return time(int(m[1]), int(m[2]))
