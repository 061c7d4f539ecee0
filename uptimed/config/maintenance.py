"""[[maintenance]]: windows in which monitors and services are under maintenance.

Rules: id (uptimed.config.ids) is required, and the window covers the monitors and/or services
it lists (at least one id in all). A window is either one-off, start and end (instants, see
uptimed.config.values; end after start), or recurring: an rrule or a cron expression (checked
by uptimed.core.recurrence, the one parser of both), a duration (more than 0, at most 31d) and
a timezone the rule's times are read in. reason is an optional text of up to 1000 characters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from uptimed.config import values
from uptimed.config.checker import Checker, Invalid, Table, echo
from uptimed.config.ids import id_list, ident
from uptimed.core.recurrence import CRON_EXAMPLE, RRULE_EXAMPLE, check_cron, check_rrule
from uptimed.model.config import Maintenance, Recurrence

MAX_MAINTENANCE_DURATION = 31 * 86400.0
MAX_REASON_CHARS = 1000

ONE_OFF_KEYS = ("start", "end")
RECURRENCE_KEYS = ("rrule", "cron", "duration", "timezone")
MAINTENANCE_KEYS = ("id", "monitors", "services", "reason", *ONE_OFF_KEYS, *RECURRENCE_KEYS)


def check_maintenance(c: Checker, tables: list[object]) -> list[Maintenance | None]:
    """Each [[maintenance]], None for one that is wrong."""
    seen: dict[str, int] = {}
    return [_window(c, i, raw, seen) for i, raw in enumerate(tables)]


def _window(c: Checker, i: int, raw: object, seen: dict[str, int]) -> Maintenance | None:
    base = f"maintenance[{i}]"
    if not isinstance(raw, dict):
        c.type_error(base, "a table", raw)
        return None
    n_errors = len(c.errors)
    mid = c.attempt(ident, raw, "maintenance", i, seen)
    p = f'{base} (id "{mid}")' if mid is not None else base
    c.unknown_keys(raw, p, MAINTENANCE_KEYS)
    covered: dict[str, tuple[str, ...] | None] = {}
    for key, kind in (("monitors", "monitor"), ("services", "service")):
        covered[key] = ()
        if key in raw:
            other = "service" if kind == "monitor" else "monitor"
            covered[key] = c.attempt(
                id_list,
                raw[key],
                f"{p}.{key}",
                {kind: c.ids[kind]},
                f"a {kind} id",
                allow_empty=True,
                misplaced={other: f': list it under "{other}s"'},
            )
    if not (raw.get("monitors") or raw.get("services") or None in covered.values()):
        c.error(p, 'covers nothing: list the ids it applies to in "monitors" and/or "services"')
    reason = None
    if "reason" in raw:
        reason = c.attempt(values.text, raw["reason"], f"{p}.reason", MAX_REASON_CHARS)
    start = end = recurrence = None
    one_off = [k for k in ONE_OFF_KEYS if k in raw]
    recurring = [k for k in RECURRENCE_KEYS if k in raw]
    if one_off and recurring:
        c.error(
            p,
            f'"{one_off[0]}" and "{recurring[0]}" cannot be combined: a window is either '
            "one-off (start and end) or recurring (rrule or cron, with duration and timezone)",
        )
    elif one_off:
        times = c.attempt(_one_off, raw, p)
        start, end = times if times is not None else (None, None)
    elif recurring:
        recurrence = c.attempt(_recurrence, raw, p)
    else:
        c.error(
            p,
            'missing a schedule: give "start" and "end" for a one-off window, or "rrule" or '
            '"cron" with "duration" and "timezone" for a recurring one',
        )
    monitors, services = covered["monitors"], covered["services"]
    if len(c.errors) > n_errors or mid is None or monitors is None or services is None:
        return None
    if recurrence is None and start is None:
        return None
    return Maintenance(
        id=mid,
        monitors=monitors,
        services=services,
        reason=reason,
        start=start,
        end=end,
        recurrence=recurrence,
    )


def _one_off(c: Checker, raw: Table, p: str) -> tuple[datetime, datetime]:
    got: dict[str, datetime | None] = {}
    for key in ONE_OFF_KEYS:
        if key not in raw:
            other = "end" if key == "start" else "start"
            c.error(p, f'missing required key "{key}" (a one-off window needs {other} and {key})')
            got[key] = None
        else:
            got[key] = c.attempt(values.instant, raw[key], f"{p}.{key}")
    start, end = got["start"], got["end"]
    if start is None or end is None:
        raise Invalid
    if not start < end:
        raise c.error(
            f"{p}.end",
            f"{values.show_instant(raw['end'])} is not after start "
            f"({values.show_instant(raw['start'])})",
        )
    return start, end


def _recurrence(c: Checker, raw: Table, p: str) -> Recurrence:
    n_errors = len(c.errors)
    tz = None
    if "timezone" not in raw:
        c.error(p, 'missing required key "timezone" (an IANA zone such as "Europe/Berlin")')
    else:
        tz = c.attempt(values.time_zone, raw["timezone"], f"{p}.timezone")
    rrule = cron = None
    if "rrule" in raw and "cron" in raw:
        c.error(p, 'give "rrule" or "cron", not both')
    elif "rrule" in raw:
        rrule = c.attempt(_rule, raw["rrule"], f"{p}.rrule", check_rrule, RRULE_EXAMPLE)
    elif "cron" in raw:
        cron = c.attempt(_rule, raw["cron"], f"{p}.cron", check_cron, CRON_EXAMPLE)
    else:
        c.error(
            p,
            f'missing "rrule" or "cron": when the window recurs (e.g. rrule = {RRULE_EXAMPLE} '
            f"or cron = {CRON_EXAMPLE})",
        )
    duration = None
    if "duration" not in raw:
        c.error(p, 'missing required key "duration" (how long each window lasts, e.g. "30m")')
    else:
        duration = c.attempt(values.positive_duration, raw["duration"], f"{p}.duration", "duration")
        if duration is not None and duration > MAX_MAINTENANCE_DURATION:
            c.error(
                f"{p}.duration",
                f"{echo(str(raw['duration']))} is too long: a maintenance window lasts at most 31d",
            )
    if len(c.errors) > n_errors or tz is None or duration is None:
        raise Invalid
    return Recurrence(rrule=rrule, cron=cron, duration=duration, timezone=tz)


def _rule(c: Checker, value: object, path: str, check: Callable[[str], str], example: str) -> str:
    """An rrule or cron text, as ``check`` (uptimed.core.recurrence) accepts it."""
    if not isinstance(value, str):
        raise c.type_error(path, f"a string such as {example}", value)
    try:
        return check(value)
    except ValueError as e:
        raise c.error(path, str(e)) from None
