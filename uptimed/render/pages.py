"""The status page and the customer portal as HTML (Jinja2 templates in ``templates/``), JSON
and CSV, from the view-models of :mod:`uptimed.model.pages` only.

Templates autoescape everything, and a missing value is an error, not an empty string
(``StrictUndefined``): a page never shows text from the config unescaped, nor half a figure.
The pages need no script: ``static/refresh.js`` only reloads the status page now and then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import jinja2
from markupsafe import Markup

from uptimed.core.times import iso, zone
from uptimed.model.pages import (
    AgreementView,
    DayBar,
    LedgerPeriod,
    LedgerRow,
    Statement,
    StatusPage,
)
from uptimed.render.csv import csv_of
from uptimed.render.json import configured_number, percent_ratio, slo_json
from uptimed.render.text import configured, format_percent, human_duration

#: What a visitor reads for a cause category (a probe's error kind).
CAUSES = {
    "dns": "name resolution failed",
    "refused": "connection refused",
    "unreachable": "network unreachable",
    "timeout": "timed out",
    "reset": "connection reset",
    "tls": "TLS failure",
    "http_status": "error status",
    "redirects": "too many redirects",
    "protocol": "protocol error",
    "body_too_large": "response too large",
}

#: The state's words and icon: never colour alone.
STATE_TEXT = {
    "up": ("Operational", "✓"),
    "down": ("Outage", "✕"),
    "maintenance": ("Maintenance", "⚙"),
    "unknown": ("No data", "?"),
}

VERDICT_TEXT = {
    "met": ("Met", "✓"),
    "missed": ("Missed", "✕"),
    "insufficient data": ("Insufficient data", "?"),
    "no data": ("No data", "?"),
}


def cause(kind: str | None) -> str:
    if kind is None:
        return "—"
    return CAUSES.get(kind, "failure")


def percent(ratio: float | None, places: int = 3) -> str:
    """A percentage whose sign never wraps away from its number."""
    return format_percent(ratio, places).replace(" ", "\u00a0")


def duration(ms: float | None) -> str:
    return "—" if ms is None else human_duration(ms / 1000)


def when_text(ms: int | None, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> str:
    if ms is None:
        return "—"
    d = datetime.fromtimestamp(ms / 1000, zone(tz))
    # A time of day says its zone ("UTC", "CET", "EST"); a date alone needs none.
    return d.strftime(fmt) + (f" {d.tzname()}" if "%H" in fmt else "")


def when(ms: int | None, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> Markup:
    """A time in a page: a ``<time>`` element (kept on one line by the style sheet)."""
    if ms is None:
        return Markup("—")
    return Markup('<time datetime="{}">{}</time>').format(iso(ms), when_text(ms, tz, fmt))


def notice(seconds: float | None) -> str:
    """A termination notice as a contract writes it: "30 days", "2 weeks" down to hours."""
    if seconds is None:
        return "—"
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n > 1 else ''}"
    return human_duration(seconds)


def decimal(d: Decimal | None) -> str:
    return "—" if d is None else configured(d)


def bar_class(d: DayBar) -> str:
    """A daily bar's class: its colour, from its figures (the bar's title and the table below
    it say the same in words)."""
    if d.availability is None:
        return "maintenance" if d.maintenance_ms else "unknown"
    if not d.down_ms:
        return "up"
    return "degraded" if d.availability >= 0.99 else "down"


@dataclass(frozen=True, slots=True)
class Bar:
    """One drawn bar: ``count`` days from day number ``first`` with the same class."""

    first: int
    count: int
    cls: str
    title: str


def bars(days: Sequence[DayBar]) -> list[Bar]:
    """The daily bars as drawn: a day with downtime, maintenance or missing data is a bar of its
    own with its figures in its title; runs of days without any (or wholly without data) are
    one bar, so that a page of a thousand healthy components stays small."""
    out: list[Bar] = []
    run: tuple[int, str, str] | None = None  # the plain run under way: first day, class, date
    for i, d in enumerate(days):
        cls = bar_class(d)
        day = when_text(d.day, fmt="%Y-%m-%d")
        plain = not d.maintenance_ms and (
            (cls == "up" and not d.unknown_ms) or (cls == "unknown" and not d.up_ms + d.down_ms)
        )
        if plain and run is not None and run[1] == cls:
            first, _, since = run
            out[-1] = Bar(first, i - first + 1, cls, f"{since} to {day}: {_RUN[cls]}")
        elif plain:
            run = (i, cls, day)
            out.append(Bar(i, 1, cls, f"{day}: {_RUN[cls]}"))
        else:
            run = None
            title = (
                f"{day}: {percent(d.availability)}, down {duration(d.down_ms)},"
                f" maintenance {duration(d.maintenance_ms)}, no data {duration(d.unknown_ms)}"
            )
            out.append(Bar(i, 1, cls, title))
    return out


_RUN = {"up": "no downtime", "unknown": "no data"}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("uptimed.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        cause=cause,
        notice=notice,
        percent=percent,
        duration=duration,
        when=when,
        decimal=decimal,
        iso=iso,
        bar_class=bar_class,
        bars=bars,
    )
    env.globals.update(STATE_TEXT=STATE_TEXT, VERDICT_TEXT=VERDICT_TEXT)
    return env


ENV = _env()


def render(template: str, **values: Any) -> str:
    return ENV.get_template(template).render(**values)


# -- JSON ----------------------------------------------------------------------------------------


def status_json(page: StatusPage) -> dict[str, Any]:
    """``/status.json``: what the page shows, field for field."""
    return {
        "title": page.title,
        "generated_at": iso(page.generated_at),
        "state": page.state,
        "components": [
            {
                "name": c.name,
                "slug": c.slug,
                "state": c.state,
                "availability": c.availability,
                "coverage": c.coverage,
                "rolling": dict(c.rolling),
                "days": [
                    {
                        "date": when_text(d.day, fmt="%Y-%m-%d"),
                        "availability": d.availability,
                        "up_seconds": d.up_ms / 1000,
                        "down_seconds": d.down_ms / 1000,
                        "maintenance_seconds": d.maintenance_ms / 1000,
                        "unknown_seconds": d.unknown_ms / 1000,
                        "incidents": d.incidents,
                    }
                    for d in c.days
                ],
                "months": [
                    {
                        "month": m.label,
                        "from": iso(m.start),
                        "to": iso(m.end),
                        "availability": m.availability,
                        "coverage": m.coverage,
                        "to_date": m.to_date,
                    }
                    for m in c.months
                ],
            }
            for c in page.components
        ],
        "incidents": [
            {
                "id": i.ref,
                "component": i.component,
                "start": iso(i.start),
                "end": iso(i.end),
                "duration_seconds": i.duration_ms / 1000,
                "cause": i.cause,
            }
            for i in page.incidents
        ],
        "maintenance": [
            {
                "id": m.ref,
                "components": list(m.components),
                "start": iso(m.start),
                "end": iso(m.end),
                "reason": m.reason,
                "active": m.active,
            }
            for m in page.maintenance
        ],
    }


def _row_json(r: LedgerRow) -> dict[str, Any]:
    """A ledger row under the names and units of ``uptimed report``'s SLO JSON (ratios 0..1,
    seconds, the credit tier as ``{below, credit}``)."""
    return {
        "slo": r.slo,
        "target": r.component,
        "objective": percent_ratio(r.objective),
        "attainment": r.attainment,
        "verdict": r.verdict,
        "coverage": r.coverage,
        "min_coverage": percent_ratio(r.min_coverage),
        "maintenance_seconds": r.maintenance_ms / 1000,
        "unknown_seconds": r.unknown_ms / 1000,
        "error_budget": {
            "total_seconds": r.budget_ms / 1000,
            "consumed_seconds": r.used_ms / 1000,
            "remaining_seconds": r.remaining_ms / 1000,
            "remaining_ratio": None if r.burnt is None else 1 - r.burnt,
        },
        "incident_count": r.incidents,
        "mttr_seconds": None if r.mttr_ms is None else r.mttr_ms / 1000,
        "longest_incident_seconds": r.longest_ms / 1000,
        "credit": None
        if r.credit is None or r.credit_below is None
        else {"below": configured_number(r.credit_below), "credit": configured_number(r.credit)},
        "credit_rule": r.credit_rule,
    }


def period_json(p: LedgerPeriod, cap: Decimal | None) -> dict[str, Any]:
    return {
        "period": p.label,
        "reporting": p.kind,
        "from": iso(p.start),
        "to": iso(p.figures_end),
        "final": p.final,
        "credit": {
            "total": float(p.credit),
            "cap": None if cap is None else float(cap),
            "capped": p.capped,
        },
        "slos": [_row_json(r) for r in p.rows],
    }


def agreement_json(a: AgreementView, *, periods: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "name": a.name,
        "customer": a.customer,
        "timezone": a.timezone,
        "reporting": a.reporting,
        "effective_from": iso(a.term_start),
        "term_end": iso(a.term_end),
        "renewal": a.renewal,
        "renewals": a.renewals,
        "next_renewal": iso(a.next_renewal),
        "termination_notice_seconds": a.termination_notice_s,
        "obligations": {"provider": a.provider_obligations, "customer": a.customer_obligations},
        "credit_cap": None if a.credit_cap is None else float(a.credit_cap),
        "slos": list(a.slos),
    }
    if periods:
        out["periods"] = [period_json(p, a.credit_cap) for p in a.periods]
    return out


#: The keys of ``uptimed report``'s SLO JSON that a statement keeps (the rest name internals).
STATEMENT_KEYS = (
    "target_kind", "objective", "attainment", "met", "verdict", "coverage", "min_coverage",
    "from", "to", "to_date", "period_to", "elapsed_seconds", "length_seconds", "basis", "window",
    "period", "effective_from", "effective_until", "timezone", "policy", "up_seconds",
    "down_seconds", "maintenance_seconds", "unknown_seconds", "eligible_seconds",
    "outside_hours_seconds", "error_budget", "burn_rates", "credit", "latency",
)  # fmt: skip


def statement_json(st: Statement) -> dict[str, Any]:
    """A period's statement: per SLO the figures of ``uptimed report``'s JSON under the same
    field names (its identifiers left out: the target by its public name), and the credit."""
    period = st.period
    slos = []
    for r, row in zip(st.reports, period.rows, strict=True):
        full = slo_json(r, st.generated_at)
        item: dict[str, Any] = {"slo": row.slo, "target": row.component}
        item |= {k: full[k] for k in STATEMENT_KEYS if k in full}
        item["credit_rule"] = row.credit_rule
        # the incident statistics, under the names the report gives a target's
        item["incident_count"] = row.incidents
        item["mttr_seconds"] = None if row.mttr_ms is None else row.mttr_ms / 1000
        item["longest_incident_seconds"] = row.longest_ms / 1000
        item["incidents"] = [
            {
                "start": iso(o.start),
                "end": iso(o.end),
                "duration_seconds": o.duration_ms / 1000,
                "counted_seconds": o.counted_ms / 1000,
                "cause": o.cause,
            }
            for o in row.outages
        ]
        item["exclusions"] = [
            {
                "targets": list(x.components),
                "start": iso(x.start),
                "end": iso(x.end),
                "reason": x.reason,
                "announced": x.announced,
            }
            for x in row.exclusions
        ]
        slos.append(item)
    return {
        "agreement": st.agreement,
        "period": period.label,
        "reporting": period.kind,
        "from": iso(period.start),
        "to": iso(period.figures_end),
        "final": period.final,
        "generated_at": iso(st.generated_at),
        "timezone": st.timezone,
        "credit": {
            "total": float(period.credit),
            "cap": None if st.credit_cap is None else float(st.credit_cap),
            "capped": period.capped,
        },
        "slos": slos,
    }


# -- CSV -----------------------------------------------------------------------------------------


def statement_csv(st: dict[str, Any]) -> str:
    """A period's statement as ``uptimed report --format csv`` writes SLOs (the same columns),
    each row with the statement's period and whether it is final."""
    return csv_of(
        {"slos": [{"period": st["period"], "final": st["final"], **s} for s in st["slos"]]}
    )
