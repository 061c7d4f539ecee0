"""Render an availability report in each ``uptimed report --format``.

The input is the report dict, exactly what ``--format json`` prints; this module only formats it
(no I/O, standard library only)::

    text = render(report, "markdown")

- ``table``: what an operator reads in a terminal. Plain aligned text, no colours.
- ``json``: the report itself, ``json.dumps(indent=2)``.
- ``csv``: one row per monitor, service and SLO (column ``kind``), nested fields flattened, raw
  numbers (seconds and ratios), empty for null.
- ``markdown`` and ``html``: what a customer receives, the same content in both: per SLO the
  objective, attainment, verdict, error budget, service credit, incidents and the maintenance
  excluded; then every monitor and service; then the policy and config versions, so the report
  can be reproduced.

Numbers shown to people:

- a percentage is cut, never rounded up (99.99996 % shows as 99.9999 %, not 100.0000 %), with at
  least as many decimals as the objective it is compared with, so a missed objective never looks
  met; an overspent error budget says so ("overspent by 285 % (18m32s)"), never "-285 % left";
- a duration keeps its two largest units and is rounded to the nearest of the smaller one, after
  rounding, not before, so 328.999 s is ``5m29s``, 3599.6 s is ``1h00m`` and 59.96 s is
  ``1m00s``; below a minute it has three significant digits (``12.3s``);
- times in the Markdown and HTML reports are shown in the report's time zone (an SLO's section:
  the SLO's zone) at whole seconds (cut: a clock never shows a second that has not begun), and
  are never broken across lines.

An SLO's verdict is its ``verdict`` ("met", "missed", "insufficient data" when its coverage is
below its ``min_coverage``, "no data" when nothing was eligible), or, in a report without one,
its ``met``. Only a met or missed SLO can claim a service credit. The exact figures are in the
JSON and CSV.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, TypeAlias, TypeGuard
from zoneinfo import ZoneInfo

__all__ = ["FORMATS", "format_percent", "human_duration", "render"]

FORMATS = ("table", "json", "csv", "markdown", "html")

BURN_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "24h", "3d")

# C0 and C1 control characters (newlines, tabs, terminal escape sequences) never reach a
# terminal or a Markdown line: they become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def render(report: dict[str, Any], fmt: str) -> str:
    """``report`` (the ``--format json`` dict) as text in ``fmt``, ending with a newline.

    :raises ValueError: ``fmt`` is not one of :data:`FORMATS`; the message names it and them.
    """
    renderer = _RENDERERS.get(fmt) if isinstance(fmt, str) else None
    if renderer is None:
        raise ValueError(f"unknown report format {fmt!r} (allowed: {', '.join(FORMATS)})")
    return renderer(report)


# -- numbers for people --------------------------------------------------------------------------


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
            return _plain_decimal(short) + "s"
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


def _decimal(number: float) -> Decimal:
    # repr() is the shortest decimal that reads back as the float: 0.999 is 0.999, not 0.99899...
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


def _plain_decimal(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _number(value: Any) -> str:
    """A configured number as written: 95.0 -> "95", 99.9 -> "99.9"."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-" if value is None else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return _plain_decimal(_decimal(value))


def _objective_percent(ratio: float | None) -> str:
    """An objective exactly as configured: 0.999 -> "99.9 %", 0.9995 -> "99.95 %"."""
    if ratio is None:
        return "-"
    return _plain_decimal(_decimal(ratio) * 100) + " %"


def _attainment_places(objective: float | None, places: int) -> int:
    """Enough decimals that an attainment is never shown equal to an objective it missed."""
    if (
        isinstance(objective, (int, float))
        and not isinstance(objective, bool)
        and math.isfinite(objective)
    ):
        exponent = (_decimal(objective) * 100).normalize().as_tuple().exponent
        if isinstance(exponent, int):
            return max(places, -exponent)
    return places


def _burn(rate: Any) -> str:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        return "-"
    return f"{rate:.2f}"


def _text(value: Any) -> str:
    """Any value from the report as one line of text ("-" for null)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _CONTROL.sub(" ", str(value))


# -- reading the report --------------------------------------------------------------------------

# Inline text is a list of segments: a plain string, or (style, string) with style "strong",
# "met", "missed", "nodata" (shown strong) or "time" (one time, never broken across lines). Every
# string is escaped by the renderer, never by the builder.
Inline: TypeAlias = "list[str | tuple[str, str]]"
Block: TypeAlias = "tuple[Any, ...]"


def _plain(inline: Inline) -> str:
    """Inline text as plain text (for the table)."""
    return "".join(segment if isinstance(segment, str) else segment[1] for segment in inline)


def _items(report: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = report.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _span(start: Any, end: Any) -> str | None:
    """The length of ``[start, end)`` ("30d" when whole days, else a human duration), or None if
    either is unreadable."""
    a, b = _parse_time(start), _parse_time(end)
    if a is None or b is None:
        return None
    return _length_text((b - a).total_seconds())


def _zone(name: Any) -> tzinfo:
    """The IANA zone ``name``; UTC when it is missing or unknown (the times then say "UTC")."""
    return _named_zone(name) if isinstance(name, str) and name and name.isprintable() else UTC


@lru_cache(maxsize=64)
def _named_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return UTC


def _local_time(value: Any, zone: tzinfo) -> str | None:
    """An RFC 3339 time as ``2026-10-07 15:00:00 CEST`` in ``zone``, cut to the second, or None
    if it is unreadable."""
    when = _parse_time(value)
    if when is None:
        return None
    local = when.astimezone(zone).replace(microsecond=0)
    name = local.tzname() or local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {_CONTROL.sub(' ', name)}"


def _time(value: Any, zone: tzinfo, missing: str = "-") -> Inline:
    """A time from the report for the Markdown and HTML reports (see :func:`_local_time`); text
    that is not a time is shown as it is."""
    if value is None:
        return [missing]
    shown = _local_time(value, zone)
    return [("time", shown)] if shown is not None else [_text(value)]


def _range(start: Any, end: Any, zone: tzinfo) -> Inline:
    return [*_time(start, zone), " – ", *_time(end, zone)]


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip


def _period_name(start: Any, end: Any, zone: tzinfo) -> str | None:
    """``[start, end)`` by its calendar name in ``zone``: "December 2026", "Q4 2026", "2026",
    "week 2026-W49", "2026-12-02"; None when it is none of those."""
    a, b = _parse_time(start), _parse_time(end)
    if a is None or b is None:
        return None
    a, b = a.astimezone(zone), b.astimezone(zone)
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


def _length_text(seconds: Any) -> str:
    """A period's length: whole days as "31d", anything else as a human duration."""
    if (
        isinstance(seconds, (int, float))
        and not isinstance(seconds, bool)
        and math.isfinite(seconds)
    ):
        if seconds > 0 and seconds % 86400 == 0:
            return f"{int(seconds // 86400)}d"
        return human_duration(seconds)
    return "-"


def _seconds_between(start: Any, end: Any) -> float | None:
    a, b = _parse_time(start), _parse_time(end)
    return None if a is None or b is None else (b - a).total_seconds()


def _to_date(item: dict[str, Any], zone: tzinfo) -> Inline | None:
    """For a report or an SLO whose period has not ended (``to_date``): "December 2026 to date:
    1d01h of 31d elapsed (figures to 2026-12-02 01:00:00 UTC)"; None otherwise."""
    if item.get("to_date") is not True:
        return None
    start, period_end = item.get("from"), item.get("period_to")
    name = _period_name(start, period_end, zone)
    whole: Inline = [name] if name is not None else _range(start, period_end, zone)
    if name is None and period_end is None:
        whole = ["the period from ", *_time(start, zone)]
    elapsed = item.get("elapsed_seconds")
    if not isinstance(elapsed, (int, float)) or isinstance(elapsed, bool):
        elapsed = _seconds_between(start, item.get("to"))
    length = item.get("length_seconds")
    if not isinstance(length, (int, float)) or isinstance(length, bool):
        length = _seconds_between(start, period_end)
    progress = f": {human_duration(elapsed)} elapsed" if elapsed is not None else ""
    if elapsed is not None and length is not None:
        progress = f": {human_duration(elapsed)} of {_length_text(length)} elapsed"
    return [*whole, " to date", progress, " (figures to ", *_time(item.get("to"), zone), ")"]


#: Words for each error kind (probes.base.ERROR_KINDS), shown next to the kind itself.
_CAUSES: dict[str, str] = {
    "dns": "DNS lookup failed",
    "refused": "connection refused",
    "unreachable": "host unreachable",
    "timeout": "timed out",
    "reset": "connection reset",
    "tls": "TLS handshake or certificate failed",
    "http_status": "HTTP error status",
    "redirects": "too many redirects",
    "protocol": "invalid HTTP reply",
    "body_too_large": "response body too large",
    "error": "other error",
    "internal": "internal error of uptimed, not the target's",
}


def _cause_text(incident: dict[str, Any]) -> str:
    """An incident's cause in words with its error kind: "connection refused (refused)", "HTTP
    503 (http_status)" when the incident has its status code."""
    cause = incident.get("cause")
    if cause is None:
        return "-"
    words = _CAUSES.get(cause) if isinstance(cause, str) else None
    status = incident.get("status_code")
    if cause == "http_status" and isinstance(status, int) and not isinstance(status, bool):
        words = f"HTTP {status}"
    return f"{words} ({cause})" if words else _text(cause)


def _policy_text(policy: Any) -> str:
    policy = _dict(policy)
    unknown = policy.get("unknown", "exclude")
    maintenance = policy.get("maintenance", "exclude")
    unknown_text = {
        "exclude": "unknown time excluded",
        "down": "unknown time counted as down",
        "up": "unknown time counted as up",
    }.get(unknown, f"unknown time: {_text(unknown)}")
    maintenance_text = {"exclude": "maintenance excluded", "up": "maintenance counted as up"}.get(
        maintenance, f"maintenance: {_text(maintenance)}"
    )
    return f"{unknown_text}, {maintenance_text}"


def _policy_short(policy: Any) -> str:
    policy = _dict(policy)
    unknown, maintenance = policy.get("unknown", "exclude"), policy.get("maintenance", "exclude")
    return f"unknown={_text(unknown)}, maintenance={_text(maintenance)}"


def _evaluated_over(slo: dict[str, Any]) -> str:
    """What an SLO was evaluated over: "the rolling window 30d", "the calendar month", or "the
    report window" (neither ``window`` nor ``period`` is set: the report's own window)."""
    parts = []
    if slo.get("window"):
        parts.append("rolling window " + _text(slo["window"]))
    if slo.get("period"):
        parts.append("calendar " + _text(slo["period"]))
    return "the " + (" and the ".join(parts) if parts else "report window")


def _slo_basis(slo: dict[str, Any]) -> str:
    """The table's short form: "window 30d, Europe/Berlin", "report window, UTC"."""
    parts = []
    if slo.get("window"):
        parts.append("window " + _text(slo["window"]))
    if slo.get("period"):
        parts.append("period " + _text(slo["period"]))
    if not parts:
        parts.append("report window")
    if slo.get("timezone"):
        parts.append(_text(slo["timezone"]))
    return ", ".join(parts)


def _rule(service: dict[str, Any]) -> str:
    rule = service.get("rule")
    if rule == "quorum":
        members = service.get("monitors")
        of = f" of {len(members)}" if isinstance(members, list) else ""
        return f"quorum {_text(service.get('quorum'))}{of}"
    return _text(rule)


_VERDICTS = ("met", "missed", "insufficient data", "no data")


def _slo_verdict(slo: dict[str, Any]) -> str:
    """One of :data:`_VERDICTS` (from ``verdict``; from ``met`` in a report without one), or an
    unknown ``verdict`` as text, which is never shown as met."""
    verdict = slo.get("verdict")
    if verdict is None:
        met = slo.get("met")
        return "met" if met is True else "missed" if met is False else "no data"
    return verdict if verdict in _VERDICTS else _text(verdict)


def _judged(slo: dict[str, Any]) -> bool:
    """Met or missed: only then can an SLO claim a service credit."""
    return _slo_verdict(slo) in ("met", "missed")


def _verdict(met: Any) -> str:
    return "MET" if met is True else "MISSED" if met is False else "NO DATA"


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _coverage_text(slo: dict[str, Any]) -> str | None:
    """ "12.5 % of the eligible time has data (minimum 90 %)": cut to as many decimals as the
    minimum has, so a coverage below the minimum never shows as equal to it."""
    coverage, minimum = slo.get("coverage"), slo.get("min_coverage")
    if not _is_number(coverage):
        return None
    shown = (
        format_percent(coverage, _attainment_places(minimum, 1)) + " of the eligible time has data"
    )
    return shown + (f" (minimum {_objective_percent(minimum)})" if _is_number(minimum) else "")


def _why_no_verdict(slo: dict[str, Any]) -> str:
    """Why an SLO has no verdict: "insufficient data: coverage 12.5 % is below the 90 % minimum;
    no verdict and no service credit are claimed"."""
    verdict = _slo_verdict(slo)
    if verdict == "insufficient data":
        coverage, minimum = slo.get("coverage"), slo.get("min_coverage")
        if _is_number(coverage) and _is_number(minimum):
            shown = format_percent(coverage, _attainment_places(minimum, 1))
            why = f"coverage {shown} is below the {_objective_percent(minimum)} minimum"
        elif _is_number(minimum):
            why = f"coverage is below the {_objective_percent(minimum)} minimum"
        else:
            why = "too little of the eligible time has data"
    elif verdict == "no data" and isinstance(at := slo.get("from"), str) and at == slo.get("to"):
        # An empty window: the term or the period lies elsewhere (RFC 3339 in UTC compares as text).
        begins, ended = slo.get("effective_from"), slo.get("effective_until")
        if isinstance(begins, str) and begins >= at:
            why = f"the agreement's term begins {_text(begins)}"
        elif isinstance(ended, str) and ended <= at:
            why = f"the agreement's term ended {_text(ended)}"
        else:
            why = f"the period begins {_text(at)}"
    elif verdict == "no data":
        why = "none of the time evaluated was eligible"
    else:
        why = "the verdict is not one this version knows"
    return f"{verdict}: {why}; no verdict and no service credit are claimed"


def _credit_text(slo: dict[str, Any]) -> str:
    if not _judged(slo):
        return f"none claimed ({_slo_verdict(slo)})"
    credit = slo.get("credit")
    if isinstance(credit, dict):
        return (
            f"{_number(credit.get('credit'))} % (attainment below {_number(credit.get('below'))} %)"
        )
    return "none"


def _overspent_percent(ratio: float) -> str:
    """How far past its budget, ``ratio`` (> 0) as a percentage cut to whole percent from 10 %
    (8914.3 -> "8914 %"), to a tenth below, and "less than 0.1 %" below that, never "0 %"."""
    value = _decimal(ratio) * 100
    if value >= 10:
        return format(value.to_integral_value(rounding=ROUND_FLOOR), "f") + " %"
    if value >= Decimal("0.1"):
        return format(value.quantize(Decimal("0.1"), rounding=ROUND_FLOOR), "f") + " %"
    return "less than 0.1 %"


def _overspent(budget: dict[str, Any]) -> str | None:
    """ "overspent by 285 % (18m32s)" when the budget is overspent, else None."""
    ratio, remaining = budget.get("remaining_ratio"), budget.get("remaining_seconds")
    how_long = human_duration(-remaining) if _is_number(remaining) and remaining < 0 else None
    if _is_number(ratio) and ratio < 0:
        return f"overspent by {_overspent_percent(-ratio)}" + (f" ({how_long})" if how_long else "")
    if how_long is not None:  # no ratio (a budget of zero): the time alone
        return f"overspent by {how_long}"
    return None


def _budget_left(slo: dict[str, Any], places: int) -> str:
    budget = slo.get("error_budget")
    if not isinstance(budget, dict):
        return "-"
    overspent = _overspent(budget)
    if overspent is not None:
        return overspent
    ratio = format_percent(budget.get("remaining_ratio"), places)
    return f"{human_duration(budget.get('remaining_seconds'))} ({ratio})"


def _budget_remaining(budget: dict[str, Any]) -> str:
    overspent = _overspent(budget)
    if overspent is not None:
        return overspent
    ratio = format_percent(budget.get("remaining_ratio"), 3)
    return f"{human_duration(budget.get('remaining_seconds'))} left ({ratio})"


def _covers(exclusion: dict[str, Any]) -> str:
    parts = []
    for key in ("monitors", "services"):
        ids = exclusion.get(key)
        if isinstance(ids, list) and ids:
            parts.append(f"{key} {', '.join(_text(i) for i in ids)}")
    return "; ".join(parts) or "-"


def _exclusion_note(exclusion: dict[str, Any], zone: tzinfo | None = None) -> Inline:
    """How the window came about: "retroactive, added by alice at ...", "ad hoc", "config", and
    the other listed windows it overlaps ("overlaps #3"). Times in ``zone``, or as in the report
    when None (the table)."""
    if exclusion.get("retroactive"):
        note: Inline = ["retroactive"]
    elif exclusion.get("source") == "adhoc":
        note = ["ad hoc"]
    else:
        note = [_text(exclusion.get("source") or "config")]
    if exclusion.get("retroactive") or exclusion.get("source") == "adhoc":
        if exclusion.get("created_by") is not None:
            note.append(f", added by {_text(exclusion['created_by'])}")
        created = exclusion.get("created_at")
        if created is not None:
            note += [" at ", *(_time(created, zone) if zone is not None else [_text(created)])]
    overlaps = exclusion.get("overlaps")
    if isinstance(overlaps, list) and overlaps:
        note.append("; overlaps " + ", ".join(_exclusion_ref(i) for i in overlaps))
    return note


def _exclusion_ref(ident: Any) -> str:
    """A listed exclusion by id: "#3" for an ad-hoc window's number, a config window's id as is."""
    return f"#{ident}" if isinstance(ident, int) and not isinstance(ident, bool) else _text(ident)


def _slo_exclusions(report: dict[str, Any], slo: dict[str, Any]) -> list[dict[str, Any]]:
    """The exclusions that changed the SLO's figures: the report lists them per SLO (key
    ``exclusions``); for an older report dict, those that touch its target (for a service: it
    or a member) within its window."""
    if isinstance(slo.get("exclusions"), list):
        return [x for x in slo["exclusions"] if isinstance(x, dict)]
    target = slo.get("target")
    monitors: set[Any] = set()
    services: set[Any] = set()
    if slo.get("target_kind") == "service":
        services.add(target)
        for service in _items(report, "services"):
            if service.get("id") == target and isinstance(service.get("monitors"), list):
                monitors.update(m for m in service["monitors"] if isinstance(m, (str, int)))
    else:
        monitors.add(target)
    start, end = _parse_time(slo.get("from")), _parse_time(slo.get("to"))
    chosen = []
    for exclusion in _items(report, "exclusions"):
        covered = [m for m in exclusion.get("monitors") or [] if isinstance(m, (str, int))]
        covered_services = [s for s in exclusion.get("services") or [] if isinstance(s, (str, int))]
        if not (monitors.intersection(covered) or services.intersection(covered_services)):
            continue
        ex_start, ex_end = _parse_time(exclusion.get("start")), _parse_time(exclusion.get("end"))
        if start and end and ex_start and ex_end and (ex_end <= start or ex_start >= end):
            continue
        chosen.append(exclusion)
    return chosen


def _customers(report: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for slo in _items(report, "slos"):
        customer = slo.get("customer")
        if customer and str(customer) not in names:
            names.append(str(customer))
    return names


def _config_versions(report: dict[str, Any], zone: tzinfo | None = None) -> list[Inline]:
    """ "<sha256> (<from> to <to>)" per configuration in effect; times in ``zone``, or as in the
    report when None (the table)."""
    lines: list[Inline] = []
    for version in _items(report, "config_versions"):
        start, end = version.get("from"), version.get("to")
        if zone is None:
            span: Inline = [f"{_text(start)} to {_text(end)}"]
        else:
            span = [*_time(start, zone), " to ", *_time(end, zone)]
        lines.append([f"{_text(version.get('sha256'))} (", *span, ")"])
    return lines


def _latency_partial(latency: Any, zone: tzinfo | None) -> Inline | None:
    """ "latency counted from <time> only" when the latency SLI does not cover the whole window
    (``exact`` is false); None otherwise. Times in ``zone``, or as in the report when None."""
    if not isinstance(latency, dict) or latency.get("exact") is not False:
        return None
    since = latency.get("counted_from")
    if since is None:
        return ["latency counted over part of the window only"]
    return [
        "latency counted from ",
        *(_time(since, zone) if zone is not None else [_text(since)]),
        " only",
    ]


# -- table ---------------------------------------------------------------------------------------


def _text_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()
) -> list[str]:
    cells = [[_text(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    right = set(right)
    return [
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in cells
    ]


_TARGET_COLUMNS = (
    "AVAILABILITY",
    "COVERAGE",
    "UP",
    "DOWN",
    "MAINT",
    "UNKNOWN",
    "INCIDENTS",
    "MTTR",
)


def _target_cells(item: dict[str, Any]) -> list[str]:
    incidents = item.get("incident_count")
    if incidents is None and isinstance(item.get("incidents"), list):
        incidents = len(item["incidents"])
    return [
        format_percent(item.get("availability"), 4),
        format_percent(item.get("coverage"), 2),
        human_duration(item.get("up_seconds")),
        human_duration(item.get("down_seconds")),
        human_duration(item.get("maintenance_seconds")),
        human_duration(item.get("unknown_seconds")),
        _text(incidents),
        human_duration(item.get("mttr_seconds")),
    ]


def _render_table(report: dict[str, Any]) -> str:
    start, end = report.get("from"), report.get("to")
    span = _span(start, end)
    lines = [f"Availability report {_text(start)} to {_text(end)}" + (f" ({span})" if span else "")]
    zone = _zone(report.get("timezone"))
    header = [("timezone", _text(report.get("timezone", "UTC")))]
    to_date = _to_date(report, zone)
    if to_date is not None:
        header.append(("period", _plain(to_date)))
    header += [
        ("policy", _policy_short(report.get("policy"))),
        ("config", _text(report.get("config_sha256"))),
    ]
    versions = _config_versions(report)
    header += [("config versions" if i == 0 else "", _plain(v)) for i, v in enumerate(versions)]
    header.append(("generated", _text(report.get("generated_at"))))
    width = max(len(k) for k, _ in header) + 2
    lines += [(f"{k}:" if k else "").ljust(width) + v for k, v in header]

    monitors = _items(report, "monitors")
    lines += ["", f"MONITORS ({len(monitors)})"]
    lines += _text_table(
        ("ID", *_TARGET_COLUMNS),
        [(_text(m.get("id")), *_target_cells(m)) for m in monitors],
        right=range(1, 9),
    )

    services = _items(report, "services")
    lines += ["", f"SERVICES ({len(services)})"]
    lines += _text_table(
        ("ID", "RULE", *_TARGET_COLUMNS),
        [(_text(s.get("id")), _rule(s), *_target_cells(s)) for s in services],
        right=range(2, 10),
    )

    slos = _items(report, "slos")
    lines += ["", f"SLOS ({len(slos)})"]
    with_latency = any(isinstance(s.get("latency"), dict) for s in slos)
    columns = [
        "ID",
        "TARGET",
        "OBJECTIVE",
        "ATTAINMENT",
        "RESULT",
        "BUDGET LEFT",
        "BURN 1h",
        "CREDIT",
    ]
    if with_latency:
        columns.append("LATENCY")
    rows = []
    notes = []
    for slo in slos:
        places = _attainment_places(slo.get("objective"), 4)
        credit = slo.get("credit") if _judged(slo) else None
        row = [
            _text(slo.get("id")),
            _text(slo.get("target")),
            _objective_percent(slo.get("objective")),
            format_percent(slo.get("attainment"), places),
            _slo_verdict(slo).upper(),
            _budget_left(slo, 2),
            _burn(_dict(slo.get("burn_rates")).get("1h")),
            f"{_number(credit.get('credit'))} %"
            if isinstance(credit, dict)
            else "none"
            if _judged(slo)
            else "-",
        ]
        slo_id = _text(slo.get("id"))
        if not _judged(slo):
            notes.append(f"  {slo_id}: {_why_no_verdict(slo)}")
        if with_latency:
            latency = slo.get("latency")
            if isinstance(latency, dict):
                share = format_percent(latency.get("attainment"), 2)
                threshold = human_duration(latency.get("threshold_seconds"))
                row.append(f"{share} < {threshold} {_verdict(latency.get('met'))}")
            else:
                row.append("-")
        rows.append(row)
        if (slo.get("from"), slo.get("to")) != (start, end) and (slo.get("from") or slo.get("to")):
            notes.append(
                f"  {slo_id}: evaluated {_text(slo.get('from'))} to {_text(slo.get('to'))} ({_slo_basis(slo)})"
            )
        slo_to_date = _to_date(slo, _zone(slo.get("timezone") or report.get("timezone")))
        if slo_to_date is not None:
            notes.append(f"  {slo_id}: {_plain(slo_to_date)}")
        partial = _latency_partial(slo.get("latency"), None)
        if partial is not None:
            notes.append(f"  {slo_id}: {_plain(partial)}")
        if slo.get("policy") is not None and _dict(slo.get("policy")) != _dict(
            report.get("policy")
        ):
            notes.append(f"  {slo_id}: policy {_policy_short(slo.get('policy'))}")
    lines += _text_table(columns, rows, right=(2, 3, 6))
    lines += notes

    exclusions = _items(report, "exclusions")
    lines += ["", f"EXCLUSIONS APPLIED ({len(exclusions)})"]
    lines += _text_table(
        ("ID", "COVERS", "START", "END", "REASON", "SOURCE"),
        [
            (
                _text(x.get("id")),
                _covers(x),
                _text(x.get("start")),
                _text(x.get("end")),
                _text(x.get("reason")),
                _plain(_exclusion_note(x)),
            )
            for x in exclusions
        ],
    )
    return "\n".join(lines) + "\n"


# -- json and csv --------------------------------------------------------------------------------


def _render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2) + "\n"


_SHARED_COLUMNS = [
    "id", "name", "availability", "coverage", "up_seconds", "down_seconds", "maintenance_seconds",
    "unknown_seconds", "incidents", "incident_count", "incident_seconds", "longest_incident_seconds",
    "mttr_seconds", "mtbf_seconds",
]  # fmt: skip
_CSV_COLUMNS = [
    "kind", *_SHARED_COLUMNS, "rule", "quorum", "monitors",
    "target", "target_kind", "customer", "objective", "attainment", "verdict", "met", "min_coverage", "from", "to",
    "window", "period", "timezone", "to_date", "period_to", "elapsed_seconds", "length_seconds", "policy_unknown",
    "policy_maintenance", "eligible_seconds", "outside_hours_seconds",
    "error_budget_total_seconds", "error_budget_consumed_seconds", "error_budget_remaining_seconds",
    "error_budget_remaining_ratio", *(f"burn_rate_{w}" for w in BURN_WINDOWS), "credit_below", "credit_percent",
    "latency_threshold_seconds", "latency_objective", "latency_attainment", "latency_met", "latency_good",
    "latency_total", "latency_counted_from", "latency_exact",
]  # fmt: skip


_NESTED = frozenset({"policy", "error_budget", "burn_rates", "credit", "latency"})


def _flat_name(parent: str, key: str) -> str:
    if parent == "burn_rates":
        return f"burn_rate_{key}"
    if parent == "credit" and key == "credit":
        return "credit_percent"
    return f"{parent}_{key}"


def _flatten(item: dict[str, Any], kind: str) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": kind}
    for key, value in item.items():
        if key == "incidents" and isinstance(value, list):
            row[key] = len(value)
        elif value is None and key in _NESTED:
            continue  # no credit tier, no latency objective: their columns stay empty
        elif isinstance(value, dict):
            for sub, subvalue in value.items():
                row[_flat_name(key, str(sub))] = subvalue
        else:
            row[key] = value
    if "incidents" not in item and "incident_count" in item:  # counted, not listed
        row["incidents"] = item["incident_count"]
    return row


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, list) and all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        return " ".join(str(v) for v in value)  # a service's member ids
    return json.dumps(value)


def _render_csv(report: dict[str, Any]) -> str:
    rows = [
        _flatten(item, kind)
        for key, kind in (("monitors", "monitor"), ("services", "service"), ("slos", "slo"))
        for item in _items(report, key)
    ]
    columns = list(_CSV_COLUMNS)
    known = set(columns)
    for row in rows:  # anything the report has beyond the known fields, in first-seen order
        for name in row:
            if name not in known:
                known.add(name)
                columns.append(name)
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: CRLF, fields quoted when needed
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(name)) for name in columns])
    return out.getvalue()


# -- markdown and html: one document, two renderings ---------------------------------------------


def _verdict_inline(met: Any) -> Inline:
    if met is True:
        return [("met", "MET")]
    if met is False:
        return [("missed", "MISSED")]
    return ["no data"]


def _slo_result(slo: dict[str, Any]) -> Inline:
    """An SLO's verdict in words: MET, MISSED, or why there is none."""
    verdict = _slo_verdict(slo)
    if verdict == "met":
        return [("met", "MET")]
    if verdict == "missed":
        return [("missed", "MISSED")]
    label, _, why = _why_no_verdict(slo).partition(": ")
    return [("nodata", label.upper()), ": " + why]


def _incident_rows(incidents: Any, zone: tzinfo) -> list[list[Inline]]:
    rows: list[list[Inline]] = []
    for incident in incidents if isinstance(incidents, list) else []:
        if not isinstance(incident, dict):
            continue
        rows.append(
            [
                _time(incident.get("start"), zone),
                _time(incident.get("end"), zone, missing="ongoing"),
                [human_duration(incident.get("duration_seconds"))],
                [human_duration(incident.get("counted_seconds"))],
                [_cause_text(incident)],
            ]
        )
    return rows


def _exclusion_table(exclusions: list[dict[str, Any]], zone: tzinfo, *, covers: bool) -> Block:
    headers = [
        "Window",
        *(["Covers"] if covers else []),
        "Start",
        "End",
        "Duration",
        "Reason",
        "Note",
    ]
    rows: list[list[Inline]] = []
    for x in exclusions:
        covered: list[Inline] = [[_covers(x)]] if covers else []
        rows.append(
            [
                [_text(x.get("id"))],
                *covered,
                _time(x.get("start"), zone),
                _time(x.get("end"), zone),
                [_span(x.get("start"), x.get("end")) or "-"],
                [_text(x.get("reason"))],
                _exclusion_note(x, zone),
            ]
        )
    return ("table", headers, rows, {4 if covers else 3})


def _summary_table(items: list[dict[str, Any]], *, services: bool) -> Block:
    headers = ["ID", "Name", *(["Rule"] if services else []), "Availability", "Coverage", "Downtime",
               "Maintenance", "Unknown", "Incidents", "MTTR"]  # fmt: skip
    rows = []
    for item in items:
        incidents = item.get("incident_count")
        if incidents is None and isinstance(item.get("incidents"), list):
            incidents = len(item["incidents"])
        rows.append(
            [
                [_text(item.get("id"))],
                [_text(item.get("name"))],
                *([[_rule(item)]] if services else []),
                [format_percent(item.get("availability"), 3)],
                [format_percent(item.get("coverage"), 3)],
                [human_duration(item.get("down_seconds"))],
                [human_duration(item.get("maintenance_seconds"))],
                [human_duration(item.get("unknown_seconds"))],
                [_text(incidents)],
                [human_duration(item.get("mttr_seconds"))],
            ]
        )
    first = 3 if services else 2
    return ("table", headers, rows, set(range(first, len(headers))))


def _document(report: dict[str, Any]) -> tuple[str, list[Block]]:
    customers = _customers(report)
    title = "Availability report" + (
        " — " + ", ".join(_text(c) for c in customers) if customers else ""
    )
    start, end = report.get("from"), report.get("to")
    zone = _zone(report.get("timezone"))
    span = _span(start, end)
    period = _to_date(report, zone) or [*_range(start, end, zone), f" ({span})" if span else ""]
    blocks: list[Block] = [("h1", [title])]
    blocks.append(
        (
            "fields",
            [
                ("Period", period),
                ("Time zone", [_text(report.get("timezone", "UTC"))]),
                ("Generated", _time(report.get("generated_at"), zone)),
            ],
        )
    )
    names = {("monitor", m.get("id")): m.get("name") for m in _items(report, "monitors")}
    names.update({("service", s.get("id")): s.get("name") for s in _items(report, "services")})

    slos = _items(report, "slos")
    if not slos:
        blocks.append(("p", ["No service level objectives in this report."]))
    for slo in slos:
        blocks += _slo_blocks(report, slo, names)

    blocks.append(("h2", ["Monitors"]))
    monitors = _items(report, "monitors")
    blocks.append(_summary_table(monitors, services=False) if monitors else ("p", ["None."]))
    blocks.append(("h2", ["Services"]))
    services = _items(report, "services")
    blocks.append(_summary_table(services, services=True) if services else ("p", ["None."]))
    blocks.append(("h2", ["Maintenance and other exclusions applied"]))
    exclusions = _items(report, "exclusions")
    blocks.append(
        _exclusion_table(exclusions, zone, covers=True) if exclusions else ("p", ["None."])
    )

    footer: list[Inline] = [
        [f"Policy: {_policy_text(report.get('policy'))}."],
        [f"Configuration: sha256 {_text(report.get('config_sha256'))}."],
    ]
    versions = _config_versions(report, zone)
    if versions:
        joined: Inline = []
        for i, version in enumerate(versions):
            joined += (["; "] if i else []) + version
        footer.append(["Configuration versions in effect: ", *joined, "."])
    footer.append(["Generated by uptimed at ", *_time(report.get("generated_at"), zone), "."])
    blocks.append(("footer", footer))
    return title, blocks


def _slo_blocks(
    report: dict[str, Any], slo: dict[str, Any], names: dict[tuple[Any, Any], Any]
) -> list[Block]:
    """One SLO's section: its figures, incidents and the maintenance excluded, with times in the
    SLO's own time zone."""
    zone = _zone(slo.get("timezone") or report.get("timezone"))
    heading = f"SLO {_text(slo.get('id'))}"
    if slo.get("customer"):
        heading += f" — {_text(slo.get('customer'))}"
    blocks: list[Block] = [("h2", [heading])]
    kind = _text(slo.get("target_kind") or "target")
    name = names.get((slo.get("target_kind"), slo.get("target")))
    named = f" “{_text(name)}”" if name and name != slo.get("target") else ""
    target = f"{_text(slo.get('target'))} ({kind}{named})"
    evaluated: Inline = [
        f"over {_evaluated_over(slo)}, ",
        *_range(slo.get("from"), slo.get("to"), zone),
    ]
    if slo.get("timezone"):
        evaluated.append(f" (time zone {_text(slo['timezone'])})")
    places = _attainment_places(slo.get("objective"), 3)
    fields: list[tuple[str, Inline]] = [("Target", [target]), ("Evaluated", evaluated)]
    to_date = _to_date(slo, zone)
    if to_date is not None:
        fields.append(("To date", to_date))
    fields += [
        ("Objective", [_objective_percent(slo.get("objective"))]),
        ("Attainment", [format_percent(slo.get("attainment"), places)]),
        ("Result", _slo_result(slo)),
    ]
    coverage = _coverage_text(slo)
    if coverage is not None:
        fields.append(("Coverage", [coverage]))
    eligible = f"{human_duration(slo.get('eligible_seconds'))}"
    if slo.get("outside_hours_seconds"):
        eligible += f" ({human_duration(slo.get('outside_hours_seconds'))} outside service hours not counted)"
    fields.append(("Eligible time", [eligible]))
    budget = slo.get("error_budget")
    if isinstance(budget, dict):
        fields.append(
            (
                "Error budget",
                [
                    f"{human_duration(budget.get('total_seconds'))} total, "
                    f"{human_duration(budget.get('consumed_seconds'))} used, "
                    + _budget_remaining(budget)
                ],
            )
        )
    else:
        fields.append(("Error budget", ["-"]))
    credit_text = _credit_text(slo)
    claimed = _judged(slo) and isinstance(slo.get("credit"), dict)
    fields.append(("Service credit", [("strong", credit_text)] if claimed else [credit_text]))
    latency = slo.get("latency")
    if isinstance(latency, dict):
        share = (
            f"{format_percent(latency.get('attainment'), 3)} of {_text(latency.get('total'))} successful "
            f"probes faster than {human_duration(latency.get('threshold_seconds'))} (objective "
            f"{_objective_percent(latency.get('objective'))}): "
        )
        partial = _latency_partial(latency, zone)
        partial_text: Inline = ["; ", *partial] if partial else []
        fields.append(("Latency", [share, *_verdict_inline(latency.get("met")), *partial_text]))
    if slo.get("policy") is not None and _dict(slo.get("policy")) != _dict(report.get("policy")):
        fields.append(("Policy", [_policy_text(slo.get("policy"))]))
    blocks.append(("fields", fields))
    blocks.append(("h3", ["Incidents"]))
    incident_rows = _incident_rows(slo.get("incidents"), zone)
    if incident_rows:
        blocks.append(
            ("table", ["Start", "End", "Duration", "Counted", "Cause"], incident_rows, {2, 3})
        )
    else:
        blocks.append(("p", ["No incidents."]))
    blocks.append(("h3", ["Maintenance excluded"]))
    exclusions = _slo_exclusions(report, slo)
    blocks.append(
        _exclusion_table(exclusions, zone, covers=False) if exclusions else ("p", ["None."])
    )
    return blocks


# Markdown: CommonMark backslash escapes. Everything that could start markup (emphasis, code, links,
# raw HTML, entities, table cells) is escaped; "_" only where it could open or close emphasis, so
# ids like web_api stay as they are.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _md_escape(text: str) -> str:
    text = _MD_SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", text))
    return _MD_UNDERSCORE.sub(r"\\_", text)


def _md_inline(inline: Inline) -> str:
    out = []
    for segment in inline:
        if isinstance(segment, str):
            out.append(_md_escape(segment))
        elif segment[0] == "time":  # no-break spaces: a time is never split across lines
            out.append(_md_escape(segment[1]).replace(" ", "\u00a0"))
        else:
            out.append(f"**{_md_escape(segment[1])}**")
    return "".join(out)


def _render_markdown(report: dict[str, Any]) -> str:
    _, blocks = _document(report)
    parts = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            parts.append("#" * int(kind[1]) + " " + _md_inline(block[1]))
        elif kind == "p":
            parts.append(_md_inline(block[1]))
        elif kind == "fields":
            parts.append(
                "\n".join(f"- **{label}:** {_md_inline(value)}" for label, value in block[1])
            )
        elif kind == "table":
            _, headers, rows, right = block
            lines = ["| " + " | ".join(headers) + " |"]
            lines.append(
                "|"
                + "|".join(" ---: " if i in right else " --- " for i in range(len(headers)))
                + "|"
            )
            lines += ["| " + " | ".join(_md_inline(cell) for cell in row) + " |" for row in rows]
            parts.append("\n".join(lines))
        elif kind == "footer":
            parts.append("---")
            parts.extend(_md_inline(line) for line in block[1])
    return "\n\n".join(parts) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;background:#fff}
main{max-width:64rem;margin:2rem auto;padding:0 1.5rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.5rem}
h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
h3{font-size:1rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
thead th{background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content auto;gap:.25rem 1rem;margin:.5rem 0}
dt{font-weight:600}
dd{margin:0}
.met{color:#1a7f37}
.missed{color:#cf222e}
.nodata{color:#9a6700}
.time{white-space:nowrap}
footer{margin-top:2.5rem;border-top:1px solid #d0d7de;color:#59636e;font-size:.85rem}
footer p{margin:.3rem 0;overflow-wrap:anywhere}
@media print{main{margin:0;max-width:none}}
""".strip()


def _html_inline(inline: Inline) -> str:
    out = []
    for segment in inline:
        if isinstance(segment, str):
            out.append(html.escape(segment))
            continue
        style, text = segment
        if style == "time":
            out.append(f'<span class="time">{html.escape(text)}</span>')
        else:
            cls = f' class="{style}"' if style in ("met", "missed", "nodata") else ""
            out.append(f"<strong{cls}>{html.escape(text)}</strong>")
    return "".join(out)


def _render_html(report: dict[str, Any]) -> str:
    title, blocks = _document(report)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        # Nothing but the inline style may load or run, whatever ends up in the page.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="uptimed">',
        f"<title>{html.escape(title)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        "<main>",
    ]
    in_section = False
    for block in blocks:
        kind = block[0]
        if kind == "h2":
            if in_section:
                out.append("</section>")
            out.append("<section>")
            in_section = True
        elif kind == "footer" and in_section:
            out.append("</section>")
            in_section = False
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{_html_inline(block[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{_html_inline(block[1])}</p>")
        elif kind == "fields":
            out.append("<dl>")
            out += [
                f"<dt>{html.escape(label)}</dt><dd>{_html_inline(value)}</dd>"
                for label, value in block[1]
            ]
            out.append("</dl>")
        elif kind == "table":
            _, headers, rows, right = block
            num = [' class="num"' if i in right else "" for i in range(len(headers))]
            out.append("<table>")
            out.append(
                "<thead><tr>"
                + "".join(
                    f'<th scope="col"{num[i]}>{html.escape(h)}</th>' for i, h in enumerate(headers)
                )
                + "</tr></thead>"
            )
            out.append("<tbody>")
            out += [
                "<tr>"
                + "".join(f"<td{num[i]}>{_html_inline(cell)}</td>" for i, cell in enumerate(row))
                + "</tr>"
                for row in rows
            ]
            out.append("</tbody>")
            out.append("</table>")
        elif kind == "footer":
            out.append("<footer>")
            out += [f"<p>{_html_inline(line)}</p>" for line in block[1]]
            out.append("</footer>")
    if in_section:
        out.append("</section>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


_RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "table": _render_table,
    "json": _render_json,
    "csv": _render_csv,
    "markdown": _render_markdown,
    "html": _render_html,
}
