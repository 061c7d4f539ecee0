"""SLA series for /metrics, computed in the background from the database.

A scrape never recomputes history: the daemon calls :meth:`SlaMetrics.refresh` in a thread every
``REFRESH`` seconds, and a scrape appends the text it left. Figures come from the same code as
``uptimed report`` (:class:`uptimed.service.targets.Targets`,
:func:`uptimed.service.slos.evaluate`), so Prometheus and the report agree.

``uptimed_up_seconds_total`` and ``uptimed_down_seconds_total`` only ever grow: each refresh
adds the time between the last point it counted and the newest point whose state is final. Time
is final up to a monitor's last probe, or up to the first probe of a pending run (a run of
failures below the threshold may still be backdated into an outage). Maintenance is excluded;
a window added retroactively changes reports, not what was already exported.

Per-monitor series carry the monitor's static labels exactly as ``probe_success`` does
(:func:`uptimed.web.metrics.monitor_labels`: every static label name of the config's monitors,
``""`` where a monitor lacks one), so that they join on them. Service and SLO series have none: they
are not a monitor's, and their members' labels may differ.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from uptimed.daemon import connectivity
from uptimed.model.config import Config
from uptimed.service import slos
from uptimed.service.history import History, reading
from uptimed.service.targets import Targets
from uptimed.service.window import data_range, resolve_scope, slo_window
from uptimed.store import summaries
from uptimed.web.metrics import escape_label, monitor_labels, static_label_names

WINDOWS = {"1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000}
REFRESH = 15.0  # seconds between refreshes
WRITE_DELAY = 1.0  # seconds: a result reaches the database within this of its probe's end

HELP = {
    "uptimed_availability_ratio": (
        "gauge",
        "Availability up/(up+down) over a rolling window, maintenance excluded.",
    ),
    "uptimed_up_seconds_total": (
        "counter",
        "Seconds confirmed up, maintenance excluded, once final.",
    ),
    "uptimed_down_seconds_total": (
        "counter",
        "Seconds confirmed down, maintenance excluded, once final.",
    ),
    "uptimed_slo_objective_ratio": ("gauge", "The SLO's objective as a ratio."),
    "uptimed_slo_attainment_ratio": (
        "gauge",
        "The SLO's attainment over its rolling window (or its period to date).",
    ),
    "uptimed_slo_coverage_ratio": (
        "gauge",
        "Share of the SLO's window outside maintenance with a verdict.",
    ),
    "uptimed_slo_window_seconds": (
        "gauge",
        "Seconds of the SLO's window (within its term, to now) by state.",
    ),
    "uptimed_slo_error_budget_remaining_ratio": ("gauge", "Share of the SLO's error budget left."),
    "uptimed_slo_burn_rate": ("gauge", "Error-budget burn rate over a window ending now."),
    "uptimed_sla_evaluated_timestamp_seconds": (
        "gauge",
        "The time up to which the SLA series were computed.",
    ),
}


class SlaMetrics:
    def __init__(self, started_ms: int):
        self.text = ""
        #: (kind, id) -> [up_ms, down_ms, counted up to (ms)]
        self._totals: dict[tuple[str, str], list[int]] = {}
        self._started = started_ms

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        """The prometheus_client collector API (for OpenMetrics): the last text, parsed."""
        yield from text_string_to_metric_families(self.text)

    def refresh(self, config: Config, now: int) -> None:
        """Recompute every series (call it from a thread: it reads SQLite)."""
        with reading(config) as conn:
            self.text = self._render(conn, config, now)

    def _render(self, conn: sqlite3.Connection, config: Config, now: int) -> str:
        scope = resolve_scope(config)
        # The same windows as the report's default (uptimed.service.window.slo_window).
        slo_windows = {s.id: slo_window(s, now) for s in scope.slos}
        lo, _ = data_range(
            [(min(now - max(WINDOWS.values()), self._started), now)], slo_windows.values()
        )
        history = History(conn, config, lo, now, now)
        targets = Targets(history)
        by_id = summaries.final_points(conn, now)
        final = {key: by_id[mid] for key, mid in history.ids.items() if mid in by_id}
        # the running daemon's heartbeat
        covered_to = history.runs[-1][1] if history.runs else self._started
        services = {s.id: s for s in config.services}
        upto = {key: min(final.get(key, self._started), covered_to) for key in scope.monitors}
        for key in scope.services:
            upto[key] = min(
                [
                    *(_member_final(config, m, final, now) for m in services[key].monitors),
                    covered_to,
                ]
            )
        # Read in bulk: service timelines (which serve their members too), then the other
        # monitors over each window, then over the time each counter advances by.
        targets.load([m for key in scope.services for m in services[key].monitors])
        for key in scope.services:
            targets.timeline("service", key)
        for length in WINDOWS.values():
            targets.prepare(scope.monitors, (now - length, now))
        advance = {k: (self._counted_to(("monitor", k)), upto[k]) for k in scope.monitors}
        targets.prepare_each({k: w for k, w in advance.items() if w[1] > w[0]})
        lines: dict[str, list[str]] = {name: [] for name in HELP}
        static = {m.id: m.labels for m in config.monitors}
        extra = static_label_names(static.get(key, ()) for key in scope.monitors)
        for kind, keys in (("monitor", scope.monitors), ("service", scope.services)):
            for key in keys:
                if kind == "monitor":  # the same labels as its probe_success
                    lbl = monitor_labels(key, static.get(key, ()), extra)
                else:
                    lbl = f'{kind}="{escape_label(key)}"'
                for name, length in WINDOWS.items():
                    fig = targets.accounting(kind, key, (now - length, now))
                    if fig.availability is not None:
                        lines["uptimed_availability_ratio"].append(
                            f'{lbl},window="{name}"}} {fig.availability!r}'
                        )
                up, down = self._advance((kind, key), targets, upto[key])
                lines["uptimed_up_seconds_total"].append(f"{lbl}}} {up / 1000!r}")
                lines["uptimed_down_seconds_total"].append(f"{lbl}}} {down / 1000!r}")
        for s in scope.slos:
            lbl = f'slo="{escape_label(s.id)}",target="{escape_label(s.target)}"'
            result = slos.evaluate(s, targets, slo_windows[s.id])
            fig, ev = result.figures, result.evaluation
            lines["uptimed_slo_objective_ratio"].append(f"{lbl}}} {float(s.objective / 100)!r}")
            if ev.attainment is not None:
                lines["uptimed_slo_attainment_ratio"].append(f"{lbl}}} {float(ev.attainment)!r}")
            if fig.coverage is not None:
                lines["uptimed_slo_coverage_ratio"].append(f"{lbl}}} {fig.coverage!r}")
            if ev.budget.remaining_ratio is not None:
                lines["uptimed_slo_error_budget_remaining_ratio"].append(
                    f"{lbl}}} {float(ev.budget.remaining_ratio)!r}"
                )
            states = (("up", fig.up_ms), ("down", fig.down_ms),
                      ("maintenance", fig.maintenance_ms), ("unknown", fig.unknown_ms))  # fmt: skip
            for state, ms in states:
                lines["uptimed_slo_window_seconds"].append(f'{lbl},state="{state}"}} {ms / 1000!r}')
            for name, rate in result.burn_rates:
                if rate is not None:
                    lines["uptimed_slo_burn_rate"].append(f'{lbl},window="{name}"}} {rate!r}')
        lines["uptimed_sla_evaluated_timestamp_seconds"].append(f"}} {now / 1000!r}")
        out = []
        for name, rows in lines.items():
            if rows:
                kind, doc = HELP[name]
                out.append(f"# HELP {name} {doc}\n# TYPE {name} {kind}\n")
                out.extend(f"{name}{{{row}\n" for row in rows)
        return "".join(out)

    def _counted_to(self, key: tuple[str, str]) -> int:
        return self._totals[key][2] if key in self._totals else self._started

    def _advance(self, key: tuple[str, str], targets: Targets, upto: int) -> tuple[int, int]:
        totals = self._totals.setdefault(key, [0, 0, self._started])
        if upto > totals[2]:
            fig = targets.accounting(key[0], key[1], (totals[2], upto))
            totals[0] += fig.up_ms
            totals[1] += fig.down_ms
            totals[2] = upto
        return totals[0], totals[1]


def _member_final(config: Config, key: str, final: dict[str, int], now: int) -> int:
    """Up to when a service member's state can no longer change. One not probed any more
    (disabled, removed) has no verdict to change: it does not vote, so it holds nothing back.
    One never probed yet does not vote either, but its first result may be under way: stamped
    when it began, written at most its timeout (plus the writer's batch, plus the wait for the
    next canary check) later."""
    m = config.monitor(key)
    if m is None or not m.enabled:
        return now
    if key in final:
        return final[key]
    delay = (
        m.timeout
        + WRITE_DELAY
        + (connectivity.VERDICT_DELAY if config.daemon.connectivity_check else 0.0)
    )
    return now - int(delay * 1000)
