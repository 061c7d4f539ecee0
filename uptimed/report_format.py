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

Numbers shown to people are never rounded up: a percentage is cut (99.99996 % shows as
99.9999 %, not 100.0000 %), so a missed objective never looks met; durations keep their two
largest units (``1h02m`` is at least 1 h 2 m and less than 1 h 3 m). The exact figures are in the
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
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, TypeAlias

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
    """``seconds`` for people, in its two largest units, cut (not rounded) below them.

    >>> [human_duration(s) for s in (0, 0.5, 12, 2592, 3720, 183600, None)]
    ['0s', '0.5s', '12s', '43m12s', '1h02m', '2d03h', '-']

    Below a minute, three significant digits (``"0.25s"``, ``"12.3s"``); a negative duration (an
    overspent error budget) gets a leading ``-``; ``None`` (no data) is ``"-"``.

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
    if seconds < 60:
        short = Decimal(f"{seconds:.3g}")
        if short < 60:  # 59.96 s shows as 1m00s below
            return _plain_decimal(short) + "s"
    total = max(60, int(round(seconds, 3)))  # to the millisecond first: 3599.9999999 is 1h00m
    if total < 3600:
        minutes, secs = divmod(total, 60)
        return f"{minutes}m{secs:02d}s"
    if total < 86400:
        hours, rest = divmod(total, 3600)
        return f"{hours}h{rest // 60:02d}m"
    days, rest = divmod(total, 86400)
    return f"{days}d{rest // 3600:02d}h"


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
    if isinstance(objective, (int, float)) and not isinstance(objective, bool) and math.isfinite(objective):
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
    """The length of ``[start, end)`` as a human duration, or None if either is unreadable."""
    a, b = _parse_time(start), _parse_time(end)
    if a is None or b is None:
        return None
    return human_duration((b - a).total_seconds())


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


def _slo_basis(slo: dict[str, Any], *, long: bool) -> str:
    """How an SLO's window was chosen: "rolling window 30d, time zone Europe/Berlin"."""
    parts = []
    if slo.get("window"):
        parts.append(("rolling window " if long else "window ") + _text(slo["window"]))
    if slo.get("period"):
        parts.append(("calendar " if long else "period ") + _text(slo["period"]))
    if slo.get("timezone"):
        parts.append(("time zone " if long else "") + _text(slo["timezone"]))
    return ", ".join(parts)


def _rule(service: dict[str, Any]) -> str:
    rule = service.get("rule")
    if rule == "quorum":
        members = service.get("monitors")
        of = f" of {len(members)}" if isinstance(members, list) else ""
        return f"quorum {_text(service.get('quorum'))}{of}"
    return _text(rule)


def _verdict(met: Any) -> str:
    return "MET" if met is True else "MISSED" if met is False else "NO DATA"


def _credit_text(slo: dict[str, Any]) -> str:
    credit = slo.get("credit")
    if isinstance(credit, dict):
        return f"{_number(credit.get('credit'))} % (attainment below {_number(credit.get('below'))} %)"
    return "-" if slo.get("met") is None else "none"


def _budget_left(slo: dict[str, Any], places: int) -> str:
    budget = slo.get("error_budget")
    if not isinstance(budget, dict):
        return "-"
    ratio = format_percent(budget.get("remaining_ratio"), places)
    return f"{human_duration(budget.get('remaining_seconds'))} ({ratio})"


def _budget_remaining(budget: dict[str, Any]) -> str:
    remaining = budget.get("remaining_seconds")
    ratio = format_percent(budget.get("remaining_ratio"), 3)
    if isinstance(remaining, (int, float)) and remaining < 0:
        return f"overspent by {human_duration(-remaining)} ({ratio} left)"
    return f"{human_duration(remaining)} left ({ratio})"


def _covers(exclusion: dict[str, Any]) -> str:
    parts = []
    for key in ("monitors", "services"):
        ids = exclusion.get(key)
        if isinstance(ids, list) and ids:
            parts.append(f"{key} {', '.join(_text(i) for i in ids)}")
    return "; ".join(parts) or "-"


def _exclusion_note(exclusion: dict[str, Any]) -> str:
    """How the window came about: "retroactive, added by alice at ...", "ad hoc", "config"."""
    if exclusion.get("retroactive"):
        note = "retroactive"
    elif exclusion.get("source") == "adhoc":
        note = "ad hoc"
    else:
        return _text(exclusion.get("source") or "config")
    if exclusion.get("created_by") is not None:
        note += f", added by {_text(exclusion['created_by'])}"
    if exclusion.get("created_at") is not None:
        note += f" at {_text(exclusion['created_at'])}"
    return note


def _slo_exclusions(report: dict[str, Any], slo: dict[str, Any]) -> list[dict[str, Any]]:
    """The exclusions that touch an SLO's target (for a service: it or a member) within its window."""
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


def _config_versions(report: dict[str, Any]) -> list[str]:
    lines = []
    for version in _items(report, "config_versions"):
        lines.append(f"{_text(version.get('sha256'))} ({_text(version.get('from'))} to {_text(version.get('to'))})")
    return lines


# -- table ---------------------------------------------------------------------------------------


def _text_table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> list[str]:
    cells = [[_text(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    right = set(right)
    return [
        "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
        for row in cells
    ]


_TARGET_COLUMNS = ("AVAILABILITY", "COVERAGE", "UP", "DOWN", "MAINT", "UNKNOWN", "INCIDENTS", "MTTR")


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
    header = [
        ("timezone", _text(report.get("timezone", "UTC"))),
        ("policy", _policy_short(report.get("policy"))),
        ("config", _text(report.get("config_sha256"))),
    ]
    header += [("config versions" if i == 0 else "", v) for i, v in enumerate(_config_versions(report))]
    header.append(("generated", _text(report.get("generated_at"))))
    width = max(len(k) for k, _ in header) + 2
    lines += [(f"{k}:" if k else "").ljust(width) + v for k, v in header]

    monitors = _items(report, "monitors")
    lines += ["", f"MONITORS ({len(monitors)})"]
    lines += _text_table(
        ("ID", *_TARGET_COLUMNS), [(_text(m.get("id")), *_target_cells(m)) for m in monitors], right=range(1, 9)
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
    columns = ["ID", "TARGET", "OBJECTIVE", "ATTAINMENT", "RESULT", "BUDGET LEFT", "BURN 1h", "CREDIT"]
    if with_latency:
        columns.append("LATENCY")
    rows = []
    notes = []
    for slo in slos:
        places = _attainment_places(slo.get("objective"), 4)
        credit = slo.get("credit")
        row = [
            _text(slo.get("id")),
            _text(slo.get("target")),
            _objective_percent(slo.get("objective")),
            format_percent(slo.get("attainment"), places),
            _verdict(slo.get("met")),
            _budget_left(slo, 2),
            _burn(_dict(slo.get("burn_rates")).get("1h")),
            f"{_number(credit.get('credit'))} %" if isinstance(credit, dict) else _credit_text(slo),
        ]
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
            how = _slo_basis(slo, long=False)
            notes.append(
                f"  {_text(slo.get('id'))}: evaluated {_text(slo.get('from'))} to {_text(slo.get('to'))}"
                + (f" ({how})" if how else "")
            )
        if slo.get("policy") is not None and _dict(slo.get("policy")) != _dict(report.get("policy")):
            notes.append(f"  {_text(slo.get('id'))}: policy {_policy_short(slo.get('policy'))}")
    lines += _text_table(columns, rows, right=(2, 3, 6))
    lines += notes

    exclusions = _items(report, "exclusions")
    lines += ["", f"EXCLUSIONS APPLIED ({len(exclusions)})"]
    lines += _text_table(
        ("ID", "COVERS", "START", "END", "REASON", "SOURCE"),
        [
            (_text(x.get("id")), _covers(x), _text(x.get("start")), _text(x.get("end")), _text(x.get("reason")),
             _exclusion_note(x))
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
    "target", "target_kind", "customer", "objective", "attainment", "met", "from", "to", "window", "period",
    "timezone", "policy_unknown", "policy_maintenance", "eligible_seconds", "outside_hours_seconds",
    "error_budget_total_seconds", "error_budget_consumed_seconds", "error_budget_remaining_seconds",
    "error_budget_remaining_ratio", *(f"burn_rate_{w}" for w in BURN_WINDOWS), "credit_below", "credit_percent",
    "latency_threshold_seconds", "latency_objective", "latency_attainment", "latency_met", "latency_good",
    "latency_total",
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
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
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

# Inline text is a list of segments: a plain string, or (style, string) with style
# "strong", "met" or "missed". Every string is escaped by the renderer, never by the builder.
Inline: TypeAlias = "list[str | tuple[str, str]]"
Block: TypeAlias = "tuple[Any, ...]"


def _verdict_inline(met: Any) -> Inline:
    if met is True:
        return [("met", "MET")]
    if met is False:
        return [("missed", "MISSED")]
    return ["no data"]


def _incident_rows(incidents: Any) -> list[list[Inline]]:
    rows = []
    for incident in incidents if isinstance(incidents, list) else []:
        if not isinstance(incident, dict):
            continue
        end = incident.get("end")
        rows.append(
            [
                [_text(incident.get("start"))],
                [_text(end) if end is not None else "ongoing"],
                [human_duration(incident.get("duration_seconds"))],
                [human_duration(incident.get("counted_seconds"))],
                [_text(incident.get("cause"))],
            ]
        )
    return rows


def _exclusion_table(exclusions: list[dict[str, Any]], *, covers: bool) -> Block:
    headers = ["Window", *(["Covers"] if covers else []), "Start", "End", "Duration", "Reason", "Note"]
    rows = []
    for x in exclusions:
        rows.append(
            [
                [_text(x.get("id"))],
                *([[_covers(x)]] if covers else []),
                [_text(x.get("start"))],
                [_text(x.get("end"))],
                [_span(x.get("start"), x.get("end")) or "-"],
                [_text(x.get("reason"))],
                [_exclusion_note(x)],
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
    title = "Availability report" + (" — " + ", ".join(_text(c) for c in customers) if customers else "")
    start, end = report.get("from"), report.get("to")
    span = _span(start, end)
    blocks: list[Block] = [("h1", [title])]
    blocks.append(
        (
            "fields",
            [
                ("Period", [f"{_text(start)} – {_text(end)}" + (f" ({span})" if span else "")]),
                ("Time zone", [_text(report.get("timezone", "UTC"))]),
                ("Generated", [_text(report.get("generated_at"))]),
            ],
        )
    )
    names = {("monitor", m.get("id")): m.get("name") for m in _items(report, "monitors")}
    names.update({("service", s.get("id")): s.get("name") for s in _items(report, "services")})

    slos = _items(report, "slos")
    if not slos:
        blocks.append(("p", ["No service level objectives in this report."]))
    for slo in slos:
        heading = f"SLO {_text(slo.get('id'))}"
        if slo.get("customer"):
            heading += f" — {_text(slo.get('customer'))}"
        blocks.append(("h2", [heading]))
        kind = _text(slo.get("target_kind") or "target")
        name = names.get((slo.get("target_kind"), slo.get("target")))
        named = f" “{_text(name)}”" if name and name != slo.get("target") else ""
        target = f"{_text(slo.get('target'))} ({kind}{named})"
        how = _slo_basis(slo, long=True)
        places = _attainment_places(slo.get("objective"), 3)
        fields: list[tuple[str, Inline]] = [
            ("Target", [target]),
            ("Evaluated over", [f"{_text(slo.get('from'))} – {_text(slo.get('to'))}" + (f" ({how})" if how else "")]),
            ("Objective", [_objective_percent(slo.get("objective"))]),
            ("Attainment", [format_percent(slo.get("attainment"), places)]),
            ("Result", _verdict_inline(slo.get("met"))),
        ]
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
        credit = slo.get("credit")
        credit_text = _credit_text(slo)
        fields.append(("Service credit", [("strong", credit_text)] if isinstance(credit, dict) else [credit_text]))
        latency = slo.get("latency")
        if isinstance(latency, dict):
            fields.append(
                (
                    "Latency",
                    [
                        f"{format_percent(latency.get('attainment'), 3)} of {_text(latency.get('total'))} successful "
                        f"probes faster than {human_duration(latency.get('threshold_seconds'))} (objective "
                        f"{_objective_percent(latency.get('objective'))}): ",
                        *_verdict_inline(latency.get("met")),
                    ],
                )
            )
        if slo.get("policy") is not None and _dict(slo.get("policy")) != _dict(report.get("policy")):
            fields.append(("Policy", [_policy_text(slo.get("policy"))]))
        blocks.append(("fields", fields))
        blocks.append(("h3", ["Incidents"]))
        incident_rows = _incident_rows(slo.get("incidents"))
        if incident_rows:
            blocks.append(("table", ["Start", "End", "Duration", "Counted", "Cause"], incident_rows, {2, 3}))
        else:
            blocks.append(("p", ["No incidents."]))
        blocks.append(("h3", ["Maintenance excluded"]))
        exclusions = _slo_exclusions(report, slo)
        blocks.append(_exclusion_table(exclusions, covers=False) if exclusions else ("p", ["None."]))

    blocks.append(("h2", ["Monitors"]))
    monitors = _items(report, "monitors")
    blocks.append(_summary_table(monitors, services=False) if monitors else ("p", ["None."]))
    blocks.append(("h2", ["Services"]))
    services = _items(report, "services")
    blocks.append(_summary_table(services, services=True) if services else ("p", ["None."]))
    blocks.append(("h2", ["Maintenance and other exclusions applied"]))
    exclusions = _items(report, "exclusions")
    blocks.append(_exclusion_table(exclusions, covers=True) if exclusions else ("p", ["None."]))

    footer: list[Inline] = [
        [f"Policy: {_policy_text(report.get('policy'))}."],
        [f"Configuration: sha256 {_text(report.get('config_sha256'))}."],
    ]
    versions = _config_versions(report)
    if versions:
        footer.append([f"Configuration versions in effect: {'; '.join(versions)}."])
    footer.append([f"Generated by uptimed at {_text(report.get('generated_at'))}."])
    blocks.append(("footer", footer))
    return title, blocks


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
        if isinstance(segment, tuple):
            out.append(f"**{_md_escape(segment[1])}**")
        else:
            out.append(_md_escape(segment))
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
            parts.append("\n".join(f"- **{label}:** {_md_inline(value)}" for label, value in block[1]))
        elif kind == "table":
            _, headers, rows, right = block
            lines = ["| " + " | ".join(headers) + " |"]
            lines.append("|" + "|".join(" ---: " if i in right else " --- " for i in range(len(headers))) + "|")
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
footer{margin-top:2.5rem;border-top:1px solid #d0d7de;color:#59636e;font-size:.85rem}
footer p{margin:.3rem 0;overflow-wrap:anywhere}
@media print{main{margin:0;max-width:none}}
""".strip()


def _html_inline(inline: Inline) -> str:
    out = []
    for segment in inline:
        if isinstance(segment, tuple):
            style, text = segment
            cls = f' class="{style}"' if style in ("met", "missed") else ""
            out.append(f"<strong{cls}>{html.escape(text)}</strong>")
        else:
            out.append(html.escape(segment))
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
            out += [f"<dt>{html.escape(label)}</dt><dd>{_html_inline(value)}</dd>" for label, value in block[1]]
            out.append("</dl>")
        elif kind == "table":
            _, headers, rows, right = block
            num = [' class="num"' if i in right else "" for i in range(len(headers))]
            out.append("<table>")
            out.append(
                "<thead><tr>"
                + "".join(f'<th scope="col"{num[i]}>{html.escape(h)}</th>' for i, h in enumerate(headers))
                + "</tr></thead>"
            )
            out.append("<tbody>")
            out += [
                "<tr>" + "".join(f"<td{num[i]}>{_html_inline(cell)}</td>" for i, cell in enumerate(row)) + "</tr>"
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
