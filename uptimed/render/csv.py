"""``--format csv``: the JSON (:mod:`uptimed.render.json`) flattened, one row per monitor,
service and SLO (column ``kind``): nested fields as ``<parent>_<field>`` columns, raw numbers
(seconds and ratios), empty for null, a list of incidents as their count. RFC 4180 (CRLF, fields
quoted when needed). A field the JSON has beyond the known columns gets a column of its own, in
the order first seen, so that nothing in the JSON is left out."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from uptimed.core.sla import BURN_WINDOWS
from uptimed.model.report import Report
from uptimed.render.json import report_json

_SHARED_COLUMNS = [
    "id", "name", "availability", "coverage", "up_seconds", "down_seconds", "maintenance_seconds",
    "unknown_seconds", "incidents", "incident_count", "incident_seconds",
    "longest_incident_seconds", "mttr_seconds", "mtbf_seconds",
]  # fmt: skip
COLUMNS = [
    "kind", *_SHARED_COLUMNS, "rule", "quorum", "monitors",
    "target", "target_kind", "customer", "objective", "attainment", "verdict", "met",
    "min_coverage", "from", "to", "window", "period", "timezone", "to_date", "period_to",
    "elapsed_seconds", "length_seconds", "policy_unknown", "policy_maintenance",
    "eligible_seconds", "outside_hours_seconds", "error_budget_total_seconds",
    "error_budget_consumed_seconds", "error_budget_remaining_seconds",
    "error_budget_remaining_ratio", *(f"burn_rate_{w}" for w in BURN_WINDOWS), "credit_below",
    "credit_percent", "latency_threshold_seconds", "latency_objective", "latency_attainment",
    "latency_met", "latency_good", "latency_total", "latency_counted_from", "latency_exact",
]  # fmt: skip

_NESTED = frozenset({"policy", "error_budget", "burn_rates", "credit", "latency"})


def render_csv(report: Report) -> str:
    return csv_of(report_json(report))


def csv_of(shape: dict[str, Any]) -> str:
    """The CSV of a report's JSON."""
    rows = [
        _flatten(item, kind)
        for key, kind in (("monitors", "monitor"), ("services", "service"), ("slos", "slo"))
        for item in shape.get(key, [])
    ]
    response = shape.get("response") or {}  # a row per severity: its counts and means
    rows += [
        _flatten({"id": s["severity"], **s}, "response") for s in response.get("severities", [])
    ]
    columns = list(COLUMNS)
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
        writer.writerow([_value(row.get(name)) for name in columns])
    return out.getvalue()


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


def _value(value: Any) -> str:
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
