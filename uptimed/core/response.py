"""Response and resolution objectives: how soon each incident was acknowledged and resolved,
against ``[response]``, per severity (pure: times in ms, no clock but the one given).

* **Time to acknowledge** runs from the incident's confirmation (the first moment anyone could
  be told) to its acknowledgement. An acknowledgement after the incident resolved answered
  nothing: it is in no mean, and the incident counts as not acknowledged.
* **Time to resolve** runs from the incident's start, backdated to its first failure as the SLA
  counts its downtime, to its resolution.
* An objective is **missed** when the incident was still waiting for it when its time ran out:
  not acknowledged ``acknowledge`` after its confirmation while still open (one that resolved
  first needed no acknowledgement), or not resolved ``resolve`` after its start. Reaching the
  objective exactly meets it. An incident still open when its time ran out at ``now`` has
  missed already; one whose time has not run out is in no miss yet.
* MTTA and MTTR are the means over the incidents acknowledged (while open) and resolved.

An incident grouped under a service's incident (it paged nobody) takes the acknowledgement of
its group, which the caller passes as its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from uptimed.model.config import SEVERITIES, ResponseObjective
from uptimed.model.report import (
    ACKNOWLEDGE,
    RESOLVE,
    Handling,
    Miss,
    ResponseReport,
    SeverityResponse,
)


def _mean(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None


def misses(h: Handling, objective: ResponseObjective | None, now: int) -> list[Miss]:
    """The objectives ``h`` missed by ``now``."""
    out = []
    if objective is not None and objective.acknowledge is not None:
        allowed = round(objective.acknowledge * 1000)
        ack = h.acknowledged_open
        done = min(t for t in (ack, h.resolved, now) if t is not None)
        if done > h.confirmed + allowed:
            took = None if ack is None or ack > now else max(0, ack - h.confirmed)
            out.append(Miss(h, ACKNOWLEDGE, allowed, took))
    if objective is not None and objective.resolve is not None:
        allowed = round(objective.resolve * 1000)
        done = now if h.resolved is None else min(h.resolved, now)
        if done > h.start + allowed:
            took = None if h.resolved is None or h.resolved > now else h.resolved - h.start
            out.append(Miss(h, RESOLVE, allowed, took))
    return out


def evaluate(
    incidents: Iterable[Handling], objectives: Sequence[ResponseObjective], now: int
) -> ResponseReport:
    """Per severity, the incidents' MTTA and MTTR and the objectives they missed by ``now``
    (times after ``now`` are not known yet, and count as not done)."""
    by_severity = {o.severity: o for o in objectives}
    known = [h for h in incidents if h.start <= now]
    severities = []
    missed: list[Miss] = []
    for severity in SEVERITIES:
        mine = sorted((h for h in known if h.severity == severity), key=lambda h: h.start)
        objective = by_severity.get(severity)
        if not mine and objective is None:
            continue
        acks = [
            max(0, a - h.confirmed)
            for h in mine
            if (a := h.acknowledged_open) is not None and a <= now
        ]
        fixes = [h.resolved - h.start for h in mine if h.resolved is not None and h.resolved <= now]
        found = [m for h in mine for m in misses(h, objective, now)]
        missed += found
        severities.append(
            SeverityResponse(
                severity=severity,
                objective=objective,
                incidents=len(mine),
                acknowledged=len(acks),
                resolved=len(fixes),
                mtta=_mean(acks),
                mttr=_mean(fixes),
                missed_acknowledge=sum(m.objective == ACKNOWLEDGE for m in found),
                missed_resolve=sum(m.objective == RESOLVE for m in found),
            )
        )
    missed.sort(key=lambda m: (m.incident.start, m.incident.id, m.objective != ACKNOWLEDGE))
    return ResponseReport(tuple(severities), tuple(missed))
