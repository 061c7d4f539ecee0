"""Incidents as people see them (``uptimed incidents``, ``uptimed incident show``, the API): the
report's incidents over a window, each with what the pager recorded of it (its id, severity,
acknowledgement, escalation level, notifications), and for one incident its SLA impact.

The list is the report's (:meth:`uptimed.service.report.ReportReader.incidents`), so it holds
exactly the incidents the report counts, with the same start, end and downtime; an incident the
daemon has not recorded (one older than incidents in uptimed, or not yet seen by the pager) has
no id and cannot be acknowledged.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction

from uptimed.errors import RequestError, escape
from uptimed.model.config import Config
from uptimed.model.report import Scope, Window
from uptimed.service.history import one_snapshot
from uptimed.service.report import ReportReader
from uptimed.store import incidents as table
from uptimed.store.incidents import Incident, Sent

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # a note may hold line breaks


@dataclass(frozen=True)
class SloImpact:
    """What one incident took of one SLO's error budget, over the SLO's current window."""

    slo: str
    downtime_ms: int  # the incident's downtime counted by the SLO (its hours, maintenance...)
    budget_ms: Fraction  # the SLO's whole error budget over that window
    share: Fraction | None  # downtime / budget (None: no budget)


@dataclass(frozen=True)
class IncidentView:
    target_kind: str
    target: str
    start: int
    end: int | None  # None: ongoing
    duration_ms: int
    counted_ms: int  # the downtime the SLA counts (maintenance and unknown time left out)
    cause_kind: str | None
    stored: Incident | None  # None: not recorded by the daemon
    notifications: tuple[Sent, ...] = ()
    slo_impact: tuple[SloImpact, ...] = ()

    @property
    def id(self) -> str | None:
        return None if self.stored is None else self.stored.id


def _scope(config: Config) -> Scope:
    return Scope(tuple(m.id for m in config.monitors), tuple(s.id for s in config.services), ())


def listing(
    conn: sqlite3.Connection,
    config: Config,
    window: Window,
    now: int,
    *,
    scope: Scope | None = None,
    open_only: bool = False,
) -> list[IncidentView]:
    """The incidents of ``scope`` (every monitor and service) over ``window``, oldest first."""
    with one_snapshot(conn):
        found = ReportReader(conn, config, scope or _scope(config), window, now).incidents()
        stored = {
            (i.target_kind, i.target, i.start): i
            for i in table.overlapping(conn, window.start, min(window.end, now) + 1)
        }
        views = []
        for t in found:
            start, end, duration, counted, cause = t.incident
            if open_only and end is not None:
                continue
            row = stored.get((t.target_kind, t.target, start))
            views.append(
                IncidentView(t.target_kind, t.target, start, end, duration, counted, cause, row)
            )
        sent = table.notifications(conn, [v.stored.id for v in views if v.stored is not None])
    return [
        v if v.stored is None else replace(v, notifications=tuple(sent[v.stored.id])) for v in views
    ]


def detail(conn: sqlite3.Connection, config: Config, incident_id: str, now: int) -> IncidentView:
    """One recorded incident with its notifications and SLA impact. Raises LookupError."""
    with one_snapshot(conn):
        row = table.get(conn, incident_id)
        if row is None:
            raise LookupError(f"no incident {incident_id!r}")
        window = Window(row.start, max(now, row.start + 1))
        scope = Scope(
            (row.target,) if row.target_kind == "monitor" else (),
            (row.target,) if row.target_kind == "service" else (),
            (),
        )
        known = {(row.target_kind, row.target)}
        ok = row.target in ({m.id for m in config.monitors} | {s.id for s in config.services})
        found = (
            [
                t
                for t in ReportReader(conn, config, scope, window, now).incidents()
                if (t.target_kind, t.target) in known and t.incident[0] == row.start
            ]
            if ok
            else []
        )
        if found:
            start, end, duration, counted, cause = found[0].incident
        else:  # the target left the config: what the pager recorded is all there is
            end = row.resolved
            duration = (end if end is not None else now) - row.start
            counted, cause = 0, row.cause_kind
        sent = tuple(table.notifications(conn, [row.id])[row.id])
        impact = _slo_impact(conn, config, row, now) if ok else ()
    return IncidentView(
        row.target_kind, row.target, row.start, end, duration, counted, cause, row, sent, impact
    )


def _slo_impact(
    conn: sqlite3.Connection, config: Config, row: Incident, now: int
) -> tuple[SloImpact, ...]:
    slos = tuple(s for s in config.slos if s.target == row.target)
    if not slos:
        return ()
    reader = ReportReader(conn, config, Scope((), (), slos), Window(now - 1, now, own=True), now)
    out = []
    for rep in reader.slos():
        if rep.target_kind != row.target_kind:
            continue
        mine = [i for i in rep.figures.incidents or () if i[0] == row.start]
        downtime = mine[0][3] if mine else 0
        total = rep.evaluation.budget.total_ms
        share = Fraction(downtime) / total if total else None
        out.append(SloImpact(rep.slo.id, downtime, total, share))
    return tuple(out)


ACK_FIELDS = ("by", "note")
MAX_BY, MAX_NOTE = 100, 2000


def ack_fields(body: Mapping[str, object]) -> tuple[str, str | None]:
    """``(by, note)`` of an acknowledgement request (the API's body, the CLI's options).
    Raises RequestError."""
    unknown = sorted(set(body) - set(ACK_FIELDS))
    if unknown:
        name = escape(repr(unknown[0]))
        raise RequestError("by", f"unknown field {name} (allowed: {{by}}, {{note}})")
    by = body.get("by")
    if not isinstance(by, str) or not by.strip():
        raise RequestError("by", "{by} is required: who acknowledges (a name)")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise RequestError("note", "{note} must be a string")
    for field, text, most in (("by", by, MAX_BY), ("note", note, MAX_NOTE)):
        if text is not None and (len(text) > most or _CONTROL.search(text)):
            raise RequestError(
                field, f"{{{field}}} must be at most {most} characters, without control characters"
            )
    return by.strip(), (note.strip() or None) if note is not None else None
