"""The JSON of a report and of its parts: what ``uptimed report --format json`` prints and the
API answers (``/report``, ``/services``, ``/slos``, ``/incidents``, ``/monitors/{id}``); and of
an ad-hoc maintenance window (``uptimed maintenance list --format json``, ``/maintenance``).

Times are RFC 3339 in UTC (:func:`uptimed.core.times.iso`), durations seconds, ratios 0..1, all
as JSON numbers (floats, derived here from the exact values, once); a configured number is
written as configured (100 stays 100, 95.0 stays 95.0). Nothing here computes a figure.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from uptimed.core.times import iso
from uptimed.model.config import ResponseObjective
from uptimed.model.report import (
    Exclusion,
    Figures,
    Incident,
    Latency,
    Miss,
    MonitorReport,
    Report,
    ResponseReport,
    ServiceReport,
    SloReport,
)

if TYPE_CHECKING:
    from uptimed.service.incident_views import IncidentView
    from uptimed.store.adhoc import Window as AdhocWindow


def seconds(ms: int | float | None) -> float | None:
    """Milliseconds as the JSON's seconds."""
    return None if ms is None else ms / 1000


def ratio(value: Fraction | None) -> float | None:
    """An exact ratio as the JSON's float (the nearest)."""
    return None if value is None else float(value)


def percent_ratio(percent: Decimal) -> float:
    """A configured percent as the JSON's ratio: 99.9 -> 0.999."""
    return float(percent / 100)


def configured_number(number: Decimal) -> float | int:
    """A configured number as it was written: 100 stays 100, 95.0 stays 95.0."""
    exponent = number.as_tuple().exponent
    return float(number) if isinstance(exponent, int) and exponent < 0 else int(number)


def render_json(report: Report) -> str:
    """The report as ``--format json`` prints it."""
    return dumps(report_json(report)) + "\n"


def dumps(value: Any) -> str:
    """JSON as uptimed writes it: indented by two."""
    return json.dumps(value, indent=2)


def report_json(report: Report) -> dict[str, Any]:
    now = report.generated_at
    return {
        "from": iso(report.start),
        "to": iso(report.end),
        **_to_date_json(report.start, report.end, report.full_end, now),
        "generated_at": iso(now),
        "timezone": report.timezone,
        "policy": {"unknown": report.policy.unknown, "maintenance": report.policy.maintenance},
        "config_sha256": report.config_sha256,
        "config_versions": [
            {"sha256": v.sha256, "from": iso(v.start), "to": iso(v.end)}
            for v in report.config_versions
        ],
        "exclusions": [exclusion_json(x) for x in report.exclusions],
        "monitors": [monitor_json(m) for m in report.monitors],
        "services": [service_json(s) for s in report.services],
        "slos": [slo_json(s, now) for s in report.slos],
        "response": None if report.response is None else response_json(report.response),
    }


def response_json(r: ResponseReport) -> dict[str, Any]:
    """The response and resolution objectives: per severity, and the misses."""
    none = ResponseObjective("", None, None)
    return {
        "severities": [
            {
                "severity": s.severity,
                "acknowledge_within_seconds": (s.objective or none).acknowledge,
                "resolve_within_seconds": (s.objective or none).resolve,
                "incidents": s.incidents,
                "acknowledged": s.acknowledged,
                "resolved": s.resolved,
                "mtta_seconds": seconds(s.mtta),
                "mttr_seconds": seconds(s.mttr),
                "missed_acknowledge": s.missed_acknowledge,
                "missed_resolve": s.missed_resolve,
            }
            for s in r.severities
        ],
        "missed": [miss_json(m) for m in r.missed],
    }


def miss_json(m: Miss) -> dict[str, Any]:
    h = m.incident
    return {
        "incident": h.id,
        "target": h.target,
        "target_kind": h.target_kind,
        "severity": h.severity,
        "objective": m.objective,
        "allowed_seconds": m.allowed / 1000,
        "took_seconds": seconds(m.took),
        "start": iso(h.start),
        "confirmed": iso(h.confirmed),
        "acknowledged": iso(h.acknowledged),
        "resolved": iso(h.resolved),
    }


def incident_json(i: Incident) -> dict[str, Any]:
    # A JSON report of thousands of monitors lists a million of these: unpacked once, no calls
    # but iso's (the same as seconds()).
    start, end, duration_ms, counted_ms, cause = i
    return {
        "start": iso(start),
        "end": iso(end),
        "duration_seconds": duration_ms / 1000,
        "counted_seconds": counted_ms / 1000,
        "cause": cause,
    }


def figures_json(f: Figures) -> dict[str, Any]:
    """A target's figures (its incident list only when the figures have it)."""
    return {
        "availability": f.availability,
        "coverage": f.coverage,
        "up_seconds": seconds(f.up_ms),
        "down_seconds": seconds(f.down_ms),
        "maintenance_seconds": seconds(f.maintenance_ms),
        "unknown_seconds": seconds(f.unknown_ms),
        **({} if f.incidents is None else {"incidents": list(map(incident_json, f.incidents))}),
        "incident_count": f.incident_count,
        "incident_seconds": seconds(f.incident_total_ms),
        "longest_incident_seconds": seconds(f.longest_incident_ms),
        "mttr_seconds": seconds(f.mttr_ms),
        "mtbf_seconds": seconds(f.mtbf_ms),
    }


def monitor_json(m: MonitorReport) -> dict[str, Any]:
    return {"id": m.id, "name": m.name, **figures_json(m.figures)}


def service_json(s: ServiceReport) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, **figures_json(s.figures), "rule": s.rule,
            "quorum": s.quorum, "monitors": list(s.monitors)}  # fmt: skip


def exclusion_json(x: Exclusion) -> dict[str, Any]:
    return {
        "id": x.id, "source": x.source, "reason": x.reason, "created_by": x.created_by,
        "created_at": iso(x.created_at), "retroactive": x.retroactive,
        "monitors": list(x.monitors), "services": list(x.services), "start": iso(x.start),
        "end": iso(x.end), "overlaps": list(x.overlaps),
    }  # fmt: skip


def slo_json(r: SloReport, now: int) -> dict[str, Any]:
    """An SLO's report; ``now``: when it was made (the report's ``generated_at``)."""
    s, w, fig, ev = r.slo, r.window, r.figures, r.evaluation
    budget = ev.budget
    return {
        "id": s.id,
        "target": s.target,
        "target_kind": r.target_kind,
        "customer": s.customer,
        "objective": percent_ratio(s.objective),
        "attainment": ratio(ev.attainment),
        "met": ev.met,
        "verdict": ev.verdict,
        "coverage": fig.coverage,
        "min_coverage": percent_ratio(s.min_coverage),
        "from": iso(w.start),
        "to": iso(w.end),
        **_to_date_json(w.start, w.end, w.start + w.length_ms, now),
        "basis": w.basis,
        # What was evaluated, so that a label never names a window that was not.
        "window": w.label if w.basis == "window" else None,
        "period": w.label if w.basis == "period" else None,
        "effective_from": iso(w.term_start),
        "effective_until": iso(w.term_end),
        "timezone": s.timezone,
        "policy": {"unknown": s.policy.unknown, "maintenance": s.policy.maintenance},
        "up_seconds": seconds(fig.up_ms),
        "down_seconds": seconds(fig.down_ms),
        "maintenance_seconds": seconds(fig.maintenance_ms),
        "unknown_seconds": seconds(fig.unknown_ms),
        "eligible_seconds": seconds(ev.eligible_ms),
        "outside_hours_seconds": seconds(fig.outside_hours_ms),
        "error_budget": {
            "total_seconds": seconds(float(budget.total_ms)),
            "consumed_seconds": seconds(budget.consumed_ms),
            "remaining_seconds": seconds(float(budget.remaining_ms)),
            "remaining_ratio": ratio(budget.remaining_ratio),
        },
        "burn_rates": dict(r.burn_rates),
        "credit": None
        if ev.credit is None
        else {
            "below": configured_number(ev.credit.below),
            "credit": configured_number(ev.credit.credit),
        },
        "latency": None if r.latency is None else latency_json(r.latency),
        "incidents": [incident_json(i) for i in fig.incidents or ()],
        "exclusions": [exclusion_json(x) for x in r.exclusions],
    }


def latency_json(lat: Latency) -> dict[str, Any]:
    a = lat.attainment
    return {
        "threshold_seconds": lat.threshold,
        "objective": percent_ratio(a.objective),
        "attainment": ratio(a.attainment),
        "met": a.met,
        "good": a.good,
        "total": a.total,
        "counted_from": iso(lat.counted_from),
        "exact": lat.exact,
    }


def _to_date_json(start: int, end: int, full_end: int, now: int) -> dict[str, Any]:
    """How much of the window or period asked for has passed (``to_date``: not all of it)."""
    return {
        "to_date": full_end > now,
        "period_to": iso(full_end),
        "elapsed_seconds": seconds(end - start),
        "length_seconds": seconds(full_end - start),
    }


def maintenance_json(w: AdhocWindow) -> dict[str, Any]:
    """An ad-hoc maintenance window."""
    return {
        "id": w.id, "target_kind": w.target_kind, "target": w.target, "start": iso(w.start),
        "end": iso(w.end), "reason": w.reason, "created_by": w.created_by,
        "created_at": iso(w.created_at), "ended_early_at": iso(w.ended_early_at),
        "retroactive": w.retroactive, "cancelled": w.cancelled,
    }  # fmt: skip


def incident_view_json(v: IncidentView, now: int, *, detail: bool = False) -> dict[str, Any]:
    """An incident of ``uptimed incidents --format json`` and the API (``detail``: with its
    notifications and SLA impact, as ``uptimed incident show`` and ``/incidents/{id}``).
    ``start``, ``end``, ``duration_seconds``, ``counted_seconds`` and ``cause`` are the report's;
    the rest is what the daemon recorded (None where it recorded nothing)."""
    inc = v.stored
    sent = [n for n in v.notifications if n.state == "sent"]
    out: dict[str, Any] = {
        "id": v.id,
        "target": v.target,
        "target_kind": v.target_kind,
        "severity": None if inc is None else inc.severity,
        "state": "open" if v.end is None else "resolved",
        "start": iso(v.start),
        "end": iso(v.end),
        "started": iso(v.start),
        "confirmed": None if inc is None else iso(inc.confirmed),
        "resolved": iso(v.end),
        "duration_seconds": v.duration_ms / 1000,
        "counted_seconds": v.counted_ms / 1000,
        "cause": v.cause_kind,
        "cause_message": None if inc is None else inc.cause,
        "acknowledged": None
        if inc is None or inc.ack_at is None
        else {"by": inc.ack_by, "at": iso(inc.ack_at), "note": inc.ack_note},
        "escalation": None if inc is None else inc.escalation,
        "level": None if inc is None else inc.level,
        "quiet": None if inc is None else inc.quiet,
        "notifications_sent": len(sent),
    }
    if detail:
        out["notifications"] = [
            {
                "notifier": n.notifier,
                "event": n.event,
                "idempotency_key": n.key,
                "state": n.state,
                "attempts": n.attempts,
                "created": iso(n.created),
                "done": iso(n.done),
                "last_error": n.last_error,
            }  # fmt: skip
            for n in v.notifications
        ]
        out["slo_impact"] = [
            {
                "slo": s.slo,
                "downtime_seconds": s.downtime_ms / 1000,
                "error_budget_seconds": float(s.budget_ms) / 1000,
                "error_budget_share": ratio(s.share),
            }
            for s in v.slo_impact
        ]
    return out
