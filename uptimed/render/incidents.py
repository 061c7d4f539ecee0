"""Incidents for ``uptimed incidents`` (a table or CSV; JSON is
:func:`uptimed.render.json.incident_view_json`) and ``uptimed incident show|ack``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from uptimed.core.times import iso
from uptimed.render.json import incident_view_json
from uptimed.render.table import text_table
from uptimed.render.text import format_percent, human_duration
from uptimed.service.incident_views import IncidentView

HEADERS = ("ID", "TARGET", "SEVERITY", "START", "END", "DOWNTIME", "CAUSE", "ACK", "LEVEL")


def _row(v: IncidentView) -> tuple[str, ...]:
    inc = v.stored
    ack = "" if inc is None or inc.ack_by is None else inc.ack_by
    level = "" if inc is None or inc.level is None else str(inc.level)
    if inc is not None and inc.quiet:
        level = inc.quiet
    return (
        v.id or "-",
        f"{v.target_kind} {v.target}",
        "" if inc is None else inc.severity,
        iso(v.start) or "",
        iso(v.end) or "ongoing",
        human_duration(v.counted_ms / 1000),
        v.cause_kind or "",
        ack,
        level,
    )


def incidents_table(views: Sequence[IncidentView]) -> str:
    if not views:
        return "no incidents"
    return "\n".join(text_table(HEADERS, [_row(v) for v in views]))


def incidents_csv(views: Sequence[IncidentView], now: int) -> str:
    """One row per incident: the JSON fields, the acknowledgement's flattened (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns: list[str] | None = None
    for v in views:
        item = incident_view_json(v, now)
        ack = item.pop("acknowledged") or {}
        item.update({f"acknowledged_{k}": ack.get(k) for k in ("by", "at", "note")})
        if columns is None:
            columns = list(item)
            writer.writerow(columns)
        writer.writerow(["" if item[c] is None else item[c] for c in columns])
    return out.getvalue()


def incident_text(v: IncidentView, now: int) -> str:
    """``uptimed incident show``: every field, its notifications and SLA impact."""
    inc = v.stored
    assert inc is not None  # show reads recorded incidents only
    lines = [
        f"incident {inc.id}: {v.target_kind} {v.target} ({inc.severity})",
        f"  started      {iso(v.start)}  (as the SLA counts it: the first failed probe)",
        f"  confirmed    {iso(inc.confirmed)}",
        f"  resolved     {iso(v.end) or 'no, ongoing'}",
        f"  downtime     {human_duration(v.counted_ms / 1000)} counted"
        f" of {human_duration(v.duration_ms / 1000)}",
        f"  cause        {v.cause_kind or '-'}{f': {inc.cause}' if inc.cause else ''}",
    ]
    if inc.ack_at is not None:
        note = f" ({inc.ack_note})" if inc.ack_note else ""
        lines.append(f"  acknowledged {iso(inc.ack_at)} by {inc.ack_by}{note}")
    else:
        lines.append("  acknowledged no")
    policy = inc.escalation or "none (nobody is paged)"
    reached = "-" if inc.level is None else str(inc.level)
    lines.append(f"  escalation   {policy}, level reached {reached}")
    if inc.quiet:
        lines.append(
            f"  quiet        {inc.quiet}{f' under {inc.group_id}' if inc.group_id else ''}"
        )
    for s in v.slo_impact:
        share = "no budget" if s.share is None else f"{format_percent(float(s.share), 2)} of"
        lines.append(
            f"  SLO {s.slo}: {human_duration(s.downtime_ms / 1000)} down, {share} its"
            f" error budget ({human_duration(float(s.budget_ms) / 1000)})"
        )
    if v.notifications:
        lines.append("notifications:")
        rows = [
            (
                n.event,
                n.notifier,
                n.state,
                str(n.attempts),
                iso(n.created) or "",
                iso(n.done) or "",
                n.last_error or "",
            )  # fmt: skip
            for n in v.notifications
        ]
        headers = ("EVENT", "NOTIFIER", "STATE", "TRIES", "CREATED", "DONE", "LAST ERROR")
        lines += ["  " + line for line in text_table(headers, rows)]
    else:
        lines.append("notifications: none")
    return "\n".join(lines)
