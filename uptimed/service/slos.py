"""An SLO's figures, computed the same way for the report, the API and /metrics: its window
(:func:`uptimed.service.window.slo_window`), figures over the eligible time, evaluation, burn
rates, latency SLI, and the time whose maintenance can change them."""

from __future__ import annotations

from dataclasses import dataclass

from uptimed.core import sla
from uptimed.core.intervals import Interval, subtract
from uptimed.core.recurrence import service_hours_outside
from uptimed.core.sla import Target
from uptimed.model.config import SLO
from uptimed.model.report import Figures, Latency, SLOEvaluation, SloReport, SloWindow
from uptimed.service.targets import Targets
from uptimed.store import threshold_us


@dataclass(frozen=True, slots=True)
class SloResult:
    """What /metrics shows of an SLO, and the report besides its latency and exclusions: its
    window, figures, evaluation and burn rates (each over a window of that length ending where
    the evaluation ends, cut to the agreement's term; in the order of
    :data:`uptimed.core.sla.BURN_WINDOWS`)."""

    window: SloWindow
    figures: Figures
    evaluation: SLOEvaluation
    burn_rates: tuple[tuple[str, float | None], ...]


def evaluate(s: SLO, targets: Targets, window: SloWindow) -> SloResult:
    """An SLO over ``window`` (from :func:`uptimed.service.window.slo_window`)."""
    kind = targets.kind(s.target)

    def outside(lo: int, hi: int) -> list[Interval]:
        return service_hours_outside(s.service_hours, lo, hi) if s.service_hours else []

    span = (window.start, window.end)
    fig = targets.figures(kind, s.target, span, outside(*span))
    ev = sla.evaluate(fig, s.objective, s.policy, s.credits, s.min_coverage)
    burn: list[tuple[str, float | None]] = []
    for name, length in sla.BURN_WINDOWS.items():
        w = window.burn_window(length)
        if w is None:
            burn.append((name, None))
        else:
            accounting = targets.accounting(kind, s.target, w, outside(*w))
            burn.append((name, sla.burn_rate(accounting, s.objective, s.policy)))
    return SloResult(window, fig, ev, tuple(burn))


def report(
    s: SLO, targets: Targets, window: SloWindow
) -> tuple[SloReport, dict[Target, list[Interval]]]:
    """The report of an SLO over ``window``, and the time its figures are over per target whose
    maintenance can change them (:func:`shown`), for the exclusions of a report that holds it."""
    result = evaluate(s, targets, window)
    mine = shown(s, targets, window)
    out = SloReport(
        slo=s,
        target_kind=targets.kind(s.target),
        window=window,
        figures=result.figures,
        evaluation=result.evaluation,
        burn_rates=result.burn_rates,
        latency=latency(s, targets, (window.start, window.end)),
        exclusions=targets.history.maintenance.exclusions(mine),
    )
    return out, mine


def shown(s: SLO, targets: Targets, w: SloWindow) -> dict[Target, list[Interval]]:
    """The time an SLO's figures are over, per target whose maintenance can change them (a
    service's members too): its window, less the time outside its service hours."""
    eligible = [(w.start, w.end)] if w.end > w.start else []
    if s.service_hours and eligible:
        eligible = subtract(eligible, service_hours_outside(s.service_hours, w.start, w.end))
    kind = targets.kind(s.target)
    keys = [(kind, s.target)]
    if kind == "service":
        keys += [("monitor", m) for m in targets.services[s.target].monitors]
    return {k: eligible for k in keys}


def latency(s: SLO, targets: Targets, window: Interval) -> Latency | None:
    """The latency SLI from the rollups of the SLO's own threshold: hours that start inside the
    window, over the target's monitors (see :func:`uptimed.store.reads.latency_counts`).
    ``exact`` is also true when there were no probes before the counting began (a new
    monitor)."""
    if s.latency is None:
        return None
    svc = targets.services.get(s.target)
    good, total, since, exact = targets.history.latency_counts(
        svc.monitors if svc else (s.target,), threshold_us(s.latency.threshold), window
    )
    lat = sla.latency_attainment(good, total, s.latency.objective)
    return Latency(s.latency.threshold, lat, since, exact)
