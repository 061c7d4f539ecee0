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

With ``[daemon] shard`` set, a daemon runs only its shard's monitors
(:func:`uptimed.core.shard.plan`): it exports the series of those monitors, and those of the
services and SLOs whose every member runs here. A service or SLO with members on other shards
has none here (a partial figure would read as whole): Prometheus evaluates it from every shard's
series with the shipped rules.

:class:`ConfigSeries` holds the series that follow from the config alone (which services there
are and by what rule, their members here, every SLO's objective, the shard, the location quorum):
rendered once per config, so present from the first scrape and right again after a reload.

Every series carries ``location="<name>"`` when ``[daemon] location`` is set.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

from uptimed.core.shard import ShardPlan, plan, shard_text
from uptimed.daemon import connectivity
from uptimed.model.config import Config
from uptimed.model.report import Scope
from uptimed.service import slos
from uptimed.service.history import History, reading
from uptimed.service.targets import Targets
from uptimed.service.window import data_range, resolve_scope, slo_window
from uptimed.store import summaries
from uptimed.web.gzipped import Deflated, deflate
from uptimed.web.metrics import (
    escape_label,
    header,
    location_label,
    monitor_labels,
    number,
    static_label_names,
)

WINDOWS = {"1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000}
REFRESH = 15.0  # seconds between refreshes
WRITE_DELAY = 1.0  # seconds: a result reaches the database within this of its probe's end

HELP = {
    "uptimed_availability_ratio": (
        "gauge",
        "Availability up/(up+down) of a monitor or service over a rolling window, maintenance"
        " excluded. Sharded: only services whose every member runs on this daemon.",
    ),
    "uptimed_up_seconds_total": (
        "counter",
        "Seconds confirmed up, maintenance excluded, counted once final (monitor or service).",
    ),
    "uptimed_down_seconds_total": (
        "counter",
        "Seconds confirmed down, maintenance excluded, counted once final (monitor or service).",
    ),
    "uptimed_slo_attainment_ratio": (
        "gauge",
        "The SLO's attainment over its rolling window (or its period to date). Sharded: only"
        " SLOs whose every member runs on this daemon.",
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

#: The config-derived series of :class:`ConfigSeries`, in the order they are rendered.
CONFIG_HELP = {
    "uptimed_location_quorum": (
        "gauge",
        "How many locations must see a monitor down for the fleet to count it down"
        " ([daemon] location_quorum).",
    ),
    "uptimed_shard_info": (
        "gauge",
        "The shard this daemon runs, as index/count ([daemon] shard); always 1. Absent when"
        " not sharded.",
    ),
    "uptimed_service_info": (
        "gauge",
        "Every configured service with its rule (all, any or quorum); always 1.",
    ),
    "uptimed_service_quorum": (
        "gauge",
        "For a service with rule quorum: how many members down make it down.",
    ),
    "uptimed_service_member_info": (
        "gauge",
        "A service's member monitors that this daemon runs (its shard's, enabled); always 1.",
    ),
    "uptimed_slo_objective_ratio": (
        "gauge",
        "The SLO's objective as a ratio; every SLO, wherever its target is evaluated.",
    ),
}


class SlaMetrics:
    """The SLA series: :attr:`text` (text format 0.0.4) and :attr:`openmetrics` (the same
    samples in OpenMetrics, without ``# EOF``), both left by the last :meth:`refresh`."""

    def __init__(self, started_ms: int):
        self.text = ""
        self.openmetrics = ""
        #: The two texts deflated, for a gzipped scrape (uptimed.web.gzipped).
        self.text_gz = self.openmetrics_gz = deflate(b"")
        #: (kind, id) -> [up_ms, down_ms, counted up to (ms)]
        self._totals: dict[tuple[str, str], list[int]] = {}
        self.started = started_ms  # the daemon's start (ms): counting begins there
        self._plan: tuple[Config, ShardPlan] | None = None

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Metric]:
        """The prometheus_client collector API: the last text, parsed."""
        yield from text_string_to_metric_families(self.text)

    def refresh(self, config: Config, now: int) -> None:
        """Recompute every series (call it from a thread: it reads SQLite)."""
        with reading(config) as conn:
            text, om = self._render_both(conn, config, now)
        self.set(text, om, deflate(text.encode()), deflate(om.encode()))

    def set(self, text: str, om: str, text_gz: Deflated, om_gz: Deflated) -> None:
        """Each attribute in turn: a scrape reads one of them, never two."""
        self.text, self.openmetrics, self.text_gz, self.openmetrics_gz = text, om, text_gz, om_gz

    def _render(self, conn: sqlite3.Connection, config: Config, now: int) -> str:
        """The text format of the series at ``now`` (tests read it; see :meth:`refresh`)."""
        return self._render_both(conn, config, now)[0]

    def plan(self, config: Config) -> ShardPlan:
        """The shard plan of ``config``, computed once per config (a reload brings a new one)."""
        if self._plan is None or self._plan[0] is not config:
            self._plan = (config, plan(config))
        return self._plan[1]

    def _render_both(self, conn: sqlite3.Connection, config: Config, now: int) -> tuple[str, str]:
        full = resolve_scope(config)
        here = self.plan(config)
        # Sharded: this shard's monitors, and the services and SLOs whole here (all of them,
        # and the same scope as before, when not sharded).
        whole_services, whole_slos = set(here.services), set(here.slos)
        scope = Scope(
            tuple(k for k in full.monitors if here.runs(k)),
            tuple(k for k in full.services if k in whole_services),
            tuple(s for s in full.slos if s.id in whole_slos),
        )
        location = config.daemon.location
        loc = "" if location is None else "," + location_label(location)
        # The same windows as the report's default (uptimed.service.window.slo_window).
        slo_windows = {s.id: slo_window(s, now) for s in scope.slos}
        lo, _ = data_range(
            [(min(now - max(WINDOWS.values()), self.started), now)], slo_windows.values()
        )
        history = History(conn, config, lo, now, now)
        targets = Targets(history)
        by_id = summaries.final_points(conn, now)
        final = {key: by_id[mid] for key, mid in history.ids.items() if mid in by_id}
        # the running daemon's heartbeat
        covered_to = history.runs[-1][1] if history.runs else self.started
        services = {s.id: s for s in config.services}
        upto = {key: min(final.get(key, self.started), covered_to) for key in scope.monitors}
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
                    lbl = monitor_labels(key, static.get(key, ()), extra, location)
                else:
                    lbl = f'{kind}="{escape_label(key)}"{loc}'
                for name, length in WINDOWS.items():
                    fig = targets.accounting(kind, key, (now - length, now))
                    if fig.availability is not None:
                        lines["uptimed_availability_ratio"].append(
                            f'{lbl},window="{name}"}} {number(fig.availability)}'
                        )
                up, down = self._advance((kind, key), targets, upto[key])
                lines["uptimed_up_seconds_total"].append(f"{lbl}}} {up / 1000!r}")
                lines["uptimed_down_seconds_total"].append(f"{lbl}}} {down / 1000!r}")
        for s in scope.slos:
            lbl = f'slo="{escape_label(s.id)}",target="{escape_label(s.target)}"{loc}'
            result = slos.evaluate(s, targets, slo_windows[s.id])
            fig, ev = result.figures, result.evaluation
            if ev.attainment is not None:
                lines["uptimed_slo_attainment_ratio"].append(
                    f"{lbl}}} {number(float(ev.attainment))}"
                )
            if fig.coverage is not None:
                lines["uptimed_slo_coverage_ratio"].append(f"{lbl}}} {number(fig.coverage)}")
            if ev.budget.remaining_ratio is not None:
                lines["uptimed_slo_error_budget_remaining_ratio"].append(
                    f"{lbl}}} {number(float(ev.budget.remaining_ratio))}"
                )
            states = (("up", fig.up_ms), ("down", fig.down_ms),
                      ("maintenance", fig.maintenance_ms), ("unknown", fig.unknown_ms))  # fmt: skip
            for state, ms in states:
                lines["uptimed_slo_window_seconds"].append(f'{lbl},state="{state}"}} {ms / 1000!r}')
            for name, rate in result.burn_rates:
                if rate is not None:  # a 100 % objective's rate may be +Inf
                    lines["uptimed_slo_burn_rate"].append(f'{lbl},window="{name}"}} {number(rate)}')
        lines["uptimed_sla_evaluated_timestamp_seconds"].append(
            f"{location_label(location)}}} {now / 1000!r}"
        )
        return _both(HELP, lines)

    def _counted_to(self, key: tuple[str, str]) -> int:
        return self._totals[key][2] if key in self._totals else self.started

    def _advance(self, key: tuple[str, str], targets: Targets, upto: int) -> tuple[int, int]:
        totals = self._totals.setdefault(key, [0, 0, self.started])
        if upto > totals[2]:
            fig = targets.accounting(key[0], key[1], (totals[2], upto))
            totals[0] += fig.up_ms
            totals[1] += fig.down_ms
            totals[2] = upto
        return totals[0], totals[1]


def _both(helps: dict[str, tuple[str, str]], lines: dict[str, list[str]]) -> tuple[str, str]:
    """(text format 0.0.4, OpenMetrics without ``# EOF``) of ``lines``: name -> its samples,
    each as what follows ``name{`` (labels, ``}``, value; ``} value`` for none). Families without
    samples are left out."""
    text: list[str] = []
    om: list[str] = []
    for name, rows in lines.items():
        if rows:
            kind, doc = helps[name]
            # a row without labels ("} 1.5"): no empty braces
            body = "".join(
                f"{name}{{{row}\n" if row[0] != "}" else f"{name}{row[1:]}\n" for row in rows
            )
            text += (header(name, kind, doc, False), body)
            om += (header(name, kind, doc, True), body)
    return "".join(text), "".join(om)


class ConfigSeries:
    """The series that follow from the config alone (:data:`CONFIG_HELP`), rendered once per
    config: ``config`` is called at every scrape (the daemon passes ``lambda: self.config``,
    which a reload replaces), and a new config object renders them anew."""

    def __init__(self, config: Callable[[], Config]):
        self.config = config
        self._cached: tuple[Config, str, str] | None = None

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Metric]:
        """The prometheus_client collector API: the text, parsed."""
        yield from text_string_to_metric_families(self.texts()[0])

    def texts(self) -> tuple[str, str]:
        """(text format 0.0.4, OpenMetrics without ``# EOF``)."""
        config = self.config()
        if self._cached is None or self._cached[0] is not config:
            self._cached = (config, *self.render(config))
        return self._cached[1], self._cached[2]

    @staticmethod
    def render(config: Config) -> tuple[str, str]:
        d = config.daemon
        location = d.location
        loc = "" if location is None else "," + location_label(location)
        here = plan(config)
        lines: dict[str, list[str]] = {name: [] for name in CONFIG_HELP}
        lines["uptimed_location_quorum"].append(f"{location_label(location)}}} {d.location_quorum}")
        if d.shard is not None:
            lines["uptimed_shard_info"].append(f'shard="{shard_text(d.shard)}"{loc}}} 1')
        for svc in config.services:
            sid = f'service="{escape_label(svc.id)}"'
            lines["uptimed_service_info"].append(f'{sid},rule="{svc.rule}"{loc}}} 1')
            if svc.rule == "quorum" and svc.quorum is not None:
                lines["uptimed_service_quorum"].append(f"{sid}{loc}}} {svc.quorum}")
            for key in svc.monitors:
                m = config.monitor(key)
                if here.runs(key) and m is not None and m.enabled:
                    lines["uptimed_service_member_info"].append(
                        f'{sid},monitor="{escape_label(key)}"{loc}}} 1'
                    )
        for slo in config.slos:
            lbl = f'slo="{escape_label(slo.id)}",target="{escape_label(slo.target)}"{loc}'
            lines["uptimed_slo_objective_ratio"].append(
                f"{lbl}}} {number(float(slo.objective / 100))}"
            )
        return _both(CONFIG_HELP, lines)


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
