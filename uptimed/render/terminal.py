"""``--format table``: the report as an operator reads it in a terminal. Plain aligned text, no
colours; times in RFC 3339 (UTC), as the JSON has them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from uptimed.core.times import iso
from uptimed.model.report import ACKNOWLEDGE, RESOLVE, Figures, Report, ResponseReport, SloReport
from uptimed.render import phrases
from uptimed.render.json import ratio, seconds
from uptimed.render.table import text_table
from uptimed.render.text import (
    configured,
    format_percent,
    human_duration,
    length_text,
    places_for,
    plain,
    text,
    zone_or_utc,
)

_TARGET_COLUMNS = ("AVAILABILITY", "COVERAGE", "UP", "DOWN", "MAINT", "UNKNOWN", "INCIDENTS",
                   "MTTR")  # fmt: skip
_SLO_COLUMNS = ("ID", "TARGET", "OBJECTIVE", "ATTAINMENT", "RESULT", "BUDGET LEFT", "BURN 1h",
                "CREDIT")  # fmt: skip


def render_table(report: Report) -> str:
    start, end = report.start, report.end
    lines = [f"Availability report {iso(start)} to {iso(end)} ({length_text(end - start)})"]
    tz = zone_or_utc(report.timezone)
    header = [("timezone", text(report.timezone))]
    to_date = phrases.to_date(start, end, report.full_end, report.generated_at, tz)
    if to_date is not None:
        header.append(("period", plain(to_date)))
    header += [
        ("policy", phrases.policy_short(report.policy)),
        ("config", text(report.config_sha256)),
    ]
    versions = phrases.config_versions(report)
    header += [("config versions" if i == 0 else "", plain(v)) for i, v in enumerate(versions)]
    header.append(("generated", text(iso(report.generated_at))))
    width = max(len(k) for k, _ in header) + 2
    lines += [(f"{k}:" if k else "").ljust(width) + v for k, v in header]

    lines += ["", f"MONITORS ({len(report.monitors)})"]
    lines += _table(
        ("ID", *_TARGET_COLUMNS),
        [(text(m.id), *_target_cells(m.figures)) for m in report.monitors],
        right=range(1, 9),
    )

    lines += ["", f"SERVICES ({len(report.services)})"]
    lines += _table(
        ("ID", "RULE", *_TARGET_COLUMNS),
        [(text(s.id), phrases.rule(s), *_target_cells(s.figures)) for s in report.services],
        right=range(2, 10),
    )

    lines += ["", f"SLOS ({len(report.slos)})"]
    with_latency = any(r.latency is not None for r in report.slos)
    columns = [*_SLO_COLUMNS, *(["LATENCY"] if with_latency else [])]
    rows = []
    notes = []
    for r in report.slos:
        row, slo_notes = _slo_row(report, r, with_latency)
        rows.append(row)
        notes += slo_notes
    lines += _table(columns, rows, right=(2, 3, 6))
    lines += notes

    if report.response is not None:
        lines += _response_lines(report.response)

    lines += ["", f"EXCLUSIONS APPLIED ({len(report.exclusions)})"]
    lines += _table(
        ("ID", "COVERS", "START", "END", "REASON", "SOURCE"),
        [
            (
                text(x.id),
                phrases.covers(x),
                text(iso(x.start)),
                text(iso(x.end)),
                text(x.reason),
                plain(phrases.exclusion_note(x)),
            )
            for x in report.exclusions
        ],
    )
    return "\n".join(lines) + "\n"


def _response_lines(r: ResponseReport) -> list[str]:
    lines = ["", "RESPONSE AND RESOLUTION (incidents begun in the window)"]
    lines += _table(
        (
            "SEVERITY",
            "INCIDENTS",
            "ACK WITHIN",
            "MTTA",
            "ACK MISSED",
            "RESOLVE WITHIN",
            "MTTR",
            "RESOLVE MISSED",
        ),  # fmt: skip
        [
            (
                s.severity,
                str(s.incidents),
                phrases.objective_time(s.objective, ACKNOWLEDGE),
                human_duration(seconds(s.mtta)),
                str(s.missed_acknowledge),
                phrases.objective_time(s.objective, RESOLVE),
                human_duration(seconds(s.mttr)),
                str(s.missed_resolve),
            )
            for s in r.severities
        ],
        right=range(1, 8),
    )
    if r.missed:
        lines += ["", f"OBJECTIVES MISSED ({len(r.missed)})"]
        lines += _table(
            ("INCIDENT", "TARGET", "SEVERITY", "OBJECTIVE", "ALLOWED", "TOOK", "START"),
            [
                (
                    m.incident.id,
                    f"{m.incident.target_kind} {m.incident.target}",
                    m.incident.severity,
                    m.objective,
                    human_duration(m.allowed / 1000),
                    phrases.took(m),
                    text(iso(m.incident.start)),
                )
                for m in r.missed
            ],
            right=(4, 5),
        )
    return lines


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()
) -> list[str]:
    """:func:`~uptimed.render.table.text_table` with every cell one line of text."""
    return text_table(headers, [[text(c) for c in row] for row in rows], right)


def _target_cells(f: Figures) -> list[str]:
    return [
        format_percent(f.availability, 4),
        format_percent(f.coverage, 2),
        human_duration(seconds(f.up_ms)),
        human_duration(seconds(f.down_ms)),
        human_duration(seconds(f.maintenance_ms)),
        human_duration(seconds(f.unknown_ms)),
        text(f.incident_count),
        human_duration(seconds(f.mttr_ms)),
    ]


def _slo_row(report: Report, r: SloReport, with_latency: bool) -> tuple[list[str], list[str]]:
    """An SLO's row of the table, and the notes under the table about it."""
    s, ev, w = r.slo, r.evaluation, r.window
    judged = phrases.judged(r)
    credit = ev.credit if judged else None
    row = [
        text(s.id),
        text(s.target),
        configured(s.objective) + " %",
        format_percent(ratio(ev.attainment), places_for(s.objective, 4)),
        phrases.verdict(r).upper(),
        phrases.budget_left(ev.budget, 2),
        _burn(dict(r.burn_rates).get("1h")),
        f"{configured(credit.credit)} %" if credit is not None else "none" if judged else "-",
    ]
    if with_latency:
        if r.latency is not None:
            lat = r.latency.attainment
            share = format_percent(ratio(lat.attainment), 2)
            threshold = human_duration(r.latency.threshold)
            row.append(f"{share} < {threshold} {phrases.met_word(lat.met)}")
        else:
            row.append("-")
    slo_id = text(s.id)
    notes = []
    if not judged:
        notes.append(f"  {slo_id}: {phrases.why_no_verdict(r)}")
    if (w.start, w.end) != (report.start, report.end):
        evaluated = f"evaluated {iso(w.start)} to {iso(w.end)} ({phrases.slo_basis(r)})"
        notes.append(f"  {slo_id}: {evaluated}")
    tz = zone_or_utc(s.timezone or report.timezone)
    to_date = phrases.slo_to_date(r, report.generated_at, tz)
    if to_date is not None:
        notes.append(f"  {slo_id}: {plain(to_date)}")
    partial = phrases.latency_partial(r.latency, None)
    if partial is not None:
        notes.append(f"  {slo_id}: {plain(partial)}")
    if phrases.own_policy(r, report):
        notes.append(f"  {slo_id}: policy {phrases.policy_short(s.policy)}")
    return row, notes


def _burn(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2f}"
