"""Build the uptimed Grafana dashboard: ``python dashboards/build.py`` writes ``uptimed.json``
next to this file; ``python dashboards/build.py --check`` exits 1 when that file is not what
this script builds (CI runs the same comparison as a test).

Plain dicts and a few helpers, standard library only: the JSON users import is what is written
here, readable next to the PromQL, and the test that compares it needs nothing installed.
(``grafana-foundation-sdk`` installs, but it is alpha, versioned per Grafana minor and hides
the JSON behind builders; it would add a dependency to prove the same thing.)

Every query filters on the dashboard's variables with regex matchers (``=~"$monitor"``): each
variable's "All" is ``.*``, which also matches a series without that label, so a single daemon
with no ``location`` label is matched too. Fleet-wide series (the quorum rules, the SLO rules)
have no ``location`` label: the location variable does not apply to them.

Other code loads this file by its path (``dashboards/`` is not a package)::

    spec = importlib.util.spec_from_file_location("build", "dashboards/build.py")

and uses :func:`dashboard`, :func:`panel_queries` and :func:`fill`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

Json = dict[str, Any]

OUT = Path(__file__).with_name("uptimed.json")
SCHEMA_VERSION = 39  # Grafana 10.4 / 11.x; newer Grafana migrates it on import
DS = {"type": "prometheus", "uid": "${datasource}"}

# Matchers, by what a family is keyed on. Every variable is a regex (see the module doc).
JOB = 'job=~"$job"'
DAEMON = f'{JOB},location=~"$location"'  # the self-metrics: one series per daemon
MONITOR = f'{DAEMON},monitor=~"$monitor"'  # per-monitor series, per location
FLEET_MONITOR = f'{JOB},monitor=~"$monitor"'  # quorum rules: no location, no instance
SERVICE = f'{DAEMON},service=~"$service"'
FLEET_SERVICE = f'{JOB},service=~"$service"'
SLO = f'{JOB},slo=~"$slo"'
SLO_HERE = f'{DAEMON},slo=~"$slo"'  # the daemon's own SLO series carry its location
# Counter-based series hold monitors and services in one family: "All" (.*) matches an empty
# label too, so each panel also says which half it wants.
ONLY_MONITORS = 'monitor!=""'
ONLY_SERVICES = 'service!=""'
RATE = "$__rate_interval"
# A 0-valued series for "no failure of any kind" (error_kind="none").
NO_FAILURE = 'label_replace(vector(0), "error_kind", "none", "", "")'

AVAILABILITY_WINDOWS = ("5m", "1h", "1d", "30d")


def s(metric: str, *matchers: str) -> str:
    """``metric{m1,m2}``: a selector."""
    return f"{metric}{{{','.join(matchers)}}}"


def rate(selector: str) -> str:
    return f"rate({selector}[{RATE}])"


# --- targets and field settings -------------------------------------------------------------


def target(expr: str, legend: str = "", ref: str = "A", *, instant: bool = False) -> Json:
    t: Json = {"datasource": DS, "refId": ref, "expr": expr, "legendFormat": legend or "__auto"}
    if instant:
        t |= {"instant": True, "range": False}
    return t


def targets(*queries: tuple[str, str]) -> list[Json]:
    """(expr, legend) pairs as targets A, B, C..."""
    return [target(e, leg, chr(ord("A") + i)) for i, (e, leg) in enumerate(queries)]


def steps(base: str, *more: tuple[float, str]) -> Json:
    """Absolute thresholds: ``base`` colour below the first value, then each (value, colour)."""
    return {
        "mode": "absolute",
        "steps": [{"color": base, "value": None}] + [{"color": c, "value": v} for v, c in more],
    }


def value_mappings(texts: Mapping[str, tuple[str, str]]) -> list[Json]:
    """One value mapping: value -> (text, colour)."""
    return [
        {
            "type": "value",
            "options": {
                v: {"text": text, "color": color, "index": i}
                for i, (v, (text, color)) in enumerate(texts.items())
            },
        }
    ]


def range_mappings(*ranges: tuple[float, float, str, str]) -> list[Json]:
    """Value ranges: (from, to, colour, text); an empty text shows the value itself."""
    out = []
    for i, (lo, hi, color, text) in enumerate(ranges):
        result: Json = {"color": color, "index": i} | ({"text": text} if text else {})
        out.append({"type": "range", "options": {"from": lo, "to": hi, "result": result}})
    return out


UP_DOWN = value_mappings({"1": ("UP", "green"), "0": ("DOWN", "red")})


# --- panels ---------------------------------------------------------------------------------


def panel(
    kind: str,
    title: str,
    description: str,
    queries: list[Json],
    *,
    w: int,
    h: int,
    unit: str = "short",
    thresholds: Json | None = None,
    mappings: list[Json] | None = None,
    custom: Json | None = None,
    options: Json | None = None,
    minmax: tuple[float | None, float | None] = (None, None),
    decimals: int | None = None,
) -> Json:
    """A panel without id nor position (:func:`layout` gives both); ``w`` and ``h`` in grid
    units (24 across)."""
    defaults: Json = {"unit": unit, "thresholds": thresholds or steps("green")}
    if mappings:
        defaults["mappings"] = mappings
    if minmax[0] is not None:
        defaults["min"] = minmax[0]
    if minmax[1] is not None:
        defaults["max"] = minmax[1]
    if decimals is not None:
        defaults["decimals"] = decimals
    if custom:
        defaults["custom"] = custom
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"h": h, "w": w, "x": 0, "y": 0},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options or {},
        "targets": queries,
    }


def stat(title: str, description: str, expr: str, thresholds: Json) -> Json:
    """A single number now (instant query): counts of the fleet overview."""
    return panel(
        "stat",
        title,
        description,
        [target(expr, title, instant=True)],
        w=4,
        h=4,
        thresholds=thresholds,
        options={
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "value",
        },
    )


def timeseries(
    title: str,
    description: str,
    queries: list[Json],
    *,
    unit: str,
    w: int = 12,
    h: int = 8,
    lines: Json | None = None,
    stack: bool = False,
    minmax: tuple[float | None, float | None] = (None, None),
) -> Json:
    """Lines over time; ``lines`` (thresholds) are drawn as dashed reference lines."""
    custom: Json = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}
    if lines:
        custom["thresholdsStyle"] = {"mode": "dashed"}
    if stack:
        custom |= {"stacking": {"mode": "normal", "group": "A"}, "fillOpacity": 60}
    return panel(
        "timeseries",
        title,
        description,
        queries,
        w=w,
        h=h,
        unit=unit,
        thresholds=lines,
        custom=custom,
        minmax=minmax,
        options={
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    )


def state_timeline(
    title: str, description: str, queries: list[Json], mappings: list[Json], *, w: int = 12
) -> Json:
    """One band per series, coloured by its value mappings."""
    return panel(
        "state-timeline",
        title,
        description,
        queries,
        w=w,
        h=8,
        mappings=mappings,
        thresholds=steps("text"),
        custom={"fillOpacity": 80, "lineWidth": 0},
        options={
            "mergeValues": True,
            "showValue": "auto",
            "alignValue": "left",
            "rowHeight": 0.9,
            "legend": {"showLegend": False},
        },
    )


def bars(
    title: str,
    description: str,
    queries: list[Json],
    *,
    unit: str,
    thresholds: Json,
    minmax: tuple[float | None, float | None] = (None, None),
    decimals: int | None = None,
    w: int = 12,
) -> Json:
    """A bar per series, its value now (instant queries)."""
    for t in queries:
        t |= {"instant": True, "range": False}
    return panel(
        "bargauge",
        title,
        description,
        queries,
        w=w,
        h=9,
        unit=unit,
        thresholds=thresholds,
        minmax=minmax,
        decimals=decimals,
        options={
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
            "valueMode": "color",
            "namePlacement": "left",
        },
    )


def row(title: str) -> Json:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


# Availability: red below 99 %, yellow below 99.9 %: defaults, as each SLO has its own
# objective (drawn by the timeseries panel "Availability (1h) against the objective").
AVAILABILITY = steps("red", (0.99, "yellow"), (0.999, "green"))
BUDGET = steps("red", (0.0, "orange"), (0.25, "yellow"), (0.5, "green"))
# The Google SRE workbook's burn factors for a 30-day budget: 14.4 over 1h (2 % of the
# budget), 6 over 6h (5 %), 1 over 3 days (10 %): the alert rules' thresholds.
BURN_LINES = steps("green", (1.0, "yellow"), (6.0, "orange"), (14.4, "red"))


# --- the sections ---------------------------------------------------------------------------


def fleet_overview() -> list[Json]:
    fleet_state = s("uptimed:monitor_up:quorum", FLEET_MONITOR)
    maintenance = f"max by (job, monitor) ({s('uptimed_maintenance_active', FLEET_MONITOR)})"
    return [
        stat(
            "Monitors up",
            "Monitors the fleet sees up now (uptimed:monitor_up:quorum == 1: fewer than k of "
            "their voting locations see them down).",
            f"count({fleet_state} == 1) or vector(0)",
            steps("green"),
        ),
        stat(
            "Monitors down",
            "Monitors the fleet sees down now: at least k of their voting locations confirm "
            "them down (thresholds applied, never a single probe).",
            f"count({fleet_state} == 0) or vector(0)",
            steps("green", (1, "red")),
        ),
        stat(
            "In maintenance",
            "Monitors inside a maintenance window now, and so without a fleet verdict (a "
            "location in maintenance does not vote). Their time counts neither up nor down.",
            # `unless`: the four counts stay disjoint even if one location alone is in
            # maintenance (the others still vote, so the monitor is up or down).
            f"count({maintenance} == 1 unless on (job, monitor) {fleet_state}) or vector(0)",
            steps("green", (1, "blue")),
        ),
        stat(
            "Unknown",
            "Monitors configured, not in maintenance, with no fleet verdict yet: no location "
            "has confirmed a state (just started, or every probe an internal error).",
            f"count({maintenance} == 0 unless on (job, monitor) {fleet_state}) or vector(0)",
            steps("green", (1, "orange")),
        ),
        stat(
            "Daemons reporting",
            "uptimed daemons Prometheus scrapes now (one series of uptimed_build_info each).",
            f"count({s('uptimed_build_info', JOB)}) or vector(0)",
            steps("red", (1, "green")),
        ),
        stat(
            "SLOs out of budget",
            "SLOs whose 30-day error budget (from the recording rules) is spent.",
            f"count({s('uptimed:slo_error_budget_remaining:ratio30d', SLO)} <= 0) or vector(0)",
            steps("green", (1, "red")),
        ),
    ]


def state() -> list[Json]:
    return [
        state_timeline(
            "Monitor state (fleet)",
            "Each monitor's confirmed state as the fleet sees it (uptimed:monitor_up:quorum): "
            "down when at least k locations confirm it down. Gaps: no location voted "
            "(unknown or maintenance).",
            targets((s("uptimed:monitor_up:quorum", FLEET_MONITOR), "{{monitor}}")),
            UP_DOWN,
            w=24,
        ),
        state_timeline(
            "Monitor state per location",
            "The confirmed state each daemon reports (uptimed_monitor_up), per location. It "
            "still shows the state during maintenance; it is absent while unknown.",
            targets((s("uptimed_monitor_up", MONITOR), "{{monitor}} {{location}}")),
            UP_DOWN,
        ),
        state_timeline(
            "Service state (fleet)",
            "Each service's state from its members' fleet states and its rule (all, any, "
            "quorum), uptimed:service_up:quorum. Members in maintenance or unknown do not vote.",
            targets((s("uptimed:service_up:quorum", FLEET_SERVICE), "{{service}}")),
            UP_DOWN,
        ),
        state_timeline(
            "Maintenance",
            "Whether a maintenance window covers the monitor (uptimed_maintenance_active), "
            "per location.",
            targets((s("uptimed_maintenance_active", MONITOR), "{{monitor}} {{location}}")),
            value_mappings({"0": ("none", "transparent"), "1": ("MAINTENANCE", "blue")}),
        ),
        timeseries(
            "Locations seeing each monitor down",
            "How many voting locations see each monitor down "
            "(uptimed:monitor_locations_down:count), against the quorum k "
            "(uptimed_location_quorum): at k or more the fleet counts it down.",
            targets(
                (s("uptimed:monitor_locations_down:count", FLEET_MONITOR), "{{monitor}}"),
                (f"max by (job) ({s('uptimed_location_quorum', JOB)})", "quorum k"),
            ),
            unit="short",
            minmax=(0, None),
        ),
    ]


def availability() -> list[Json]:
    def windows(metric: str, only: str, matchers: str, legend: str) -> list[Json]:
        return targets(
            *((s(f"{metric}{w}", matchers, only), f"{legend} {w}") for w in AVAILABILITY_WINDOWS)
        )

    rate_ = "uptimed:availability:ratio_rate"
    quorum = "uptimed:quorum_availability:ratio_avg"
    fleet_monitors = windows(quorum, ONLY_MONITORS, FLEET_MONITOR, "{{monitor}}")
    fleet_services = windows(quorum, ONLY_SERVICES, FLEET_SERVICE, "{{service}}")
    for i, t in enumerate(fleet_services):  # refIds after the monitors'
        t["refId"] = chr(ord("A") + len(fleet_monitors) + i)
    objective = f"max by (job, slo, target) ({s('uptimed_slo_objective_ratio', SLO)})"
    exact = 'window=~"1h|24h|7d|30d"'
    return [
        bars(
            "Availability by window: monitors",
            "Time up / (up + down) per monitor and location over 5m, 1h, 1d and 30d, from the "
            "daemon's up/down-seconds counters (uptimed:availability:ratio_rate*). Maintenance "
            "and unknown time count in neither.",
            windows(rate_, ONLY_MONITORS, MONITOR, "{{monitor}} {{location}}"),
            unit="percentunit",
            thresholds=AVAILABILITY,
            minmax=(0, 1),
            decimals=3,
        ),
        bars(
            "Availability by window: services",
            "The same for each service, from the service's own counters.",
            windows(rate_, ONLY_SERVICES, SERVICE, "{{service}} {{location}}"),
            unit="percentunit",
            thresholds=AVAILABILITY,
            minmax=(0, 1),
            decimals=3,
        ),
        bars(
            "Fleet availability (quorum) by window",
            "Share of rule evaluations with a fleet verdict that were up, per monitor and "
            "service (uptimed:quorum_availability:ratio_avg*): a location's own network "
            "trouble does not count against the target.",
            fleet_monitors + fleet_services,
            unit="percentunit",
            thresholds=AVAILABILITY,
            minmax=(0, 1),
            decimals=3,
        ),
        bars(
            "Exact availability (daemon)",
            "What `uptimed report` says, by interval arithmetic on the daemon's database "
            "(uptimed_availability_ratio), over 1h, 24h, 7d and 30d.",
            targets(
                (
                    s("uptimed_availability_ratio", MONITOR, ONLY_MONITORS, exact),
                    "{{monitor}} {{location}} {{window}}",
                ),
                (
                    s("uptimed_availability_ratio", SERVICE, ONLY_SERVICES, exact),
                    "{{service}} {{location}} {{window}}",
                ),
            ),
            unit="percentunit",
            thresholds=AVAILABILITY,
            minmax=(0, 1),
            decimals=3,
        ),
        timeseries(
            "Availability (1h) against the objective",
            "Rolling 1h availability of monitors and services (uptimed:availability:ratio_"
            "rate1h) with each SLO's objective (uptimed_slo_objective_ratio) as a line.",
            targets(
                (s(f"{rate_}1h", MONITOR, ONLY_MONITORS), "{{monitor}} {{location}}"),
                (s(f"{rate_}1h", SERVICE, ONLY_SERVICES), "{{service}} {{location}}"),
                (objective, "objective {{slo}} ({{target}})"),
            ),
            unit="percentunit",
            w=24,
            minmax=(None, 1),
        ),
    ]


def slos() -> list[Json]:
    def burn(*windows: str) -> list[Json]:
        return targets(
            *((s(f"uptimed:slo_burn_rate:rate{w}", SLO), f"{{{{slo}}}} {w}") for w in windows)
        )

    objective = f"max by (job, slo, target) ({s('uptimed_slo_objective_ratio', SLO)})"
    return [
        bars(
            "Error budget remaining (30d)",
            "Share of each SLO's 30-day error budget left, from the recording rules "
            "(uptimed:slo_error_budget_remaining:ratio30d): 1 - error ratio / (1 - objective). "
            "Below 0 the SLO is missed.",
            targets(
                (
                    s("uptimed:slo_error_budget_remaining:ratio30d", SLO),
                    "{{slo}} ({{target}})",
                )
            ),
            unit="percentunit",
            thresholds=BUDGET,
            minmax=(None, 1),
        ),
        bars(
            "Error budget remaining (daemon, exact)",
            "The daemon's exact figure over the SLO's own window "
            "(uptimed_slo_error_budget_remaining_ratio), where this daemon runs every member.",
            targets(
                (
                    s("uptimed_slo_error_budget_remaining_ratio", SLO_HERE),
                    "{{slo}} ({{target}}) {{location}}",
                )
            ),
            unit="percentunit",
            thresholds=BUDGET,
            minmax=(None, 1),
        ),
        timeseries(
            "Burn rate: long windows",
            "How fast each SLO spends its budget (1 = exactly the whole budget in 30 days) "
            "over 1h, 6h and 3d (uptimed:slo_burn_rate:rate*). Lines: 14.4 (page: 2 % of the "
            "budget in 1h), 6 (page: 5 % in 6h), 1 (ticket: 10 % in 3 days).",
            burn("1h", "6h", "3d"),
            unit="none",
            lines=BURN_LINES,
            minmax=(0, None),
        ),
        timeseries(
            "Burn rate: short windows",
            "The short windows the alerts pair with the long ones (5m with 1h, 30m with 6h, "
            "6h with 3d): an alert fires only while both are above the line, and stops as "
            "soon as the short one drops.",
            burn("5m", "30m", "6h"),
            unit="none",
            lines=BURN_LINES,
            minmax=(0, None),
        ),
        timeseries(
            "SLO attainment and coverage (daemon)",
            "Attainment over each SLO's window (uptimed_slo_attainment_ratio), against its "
            "objective, and coverage (uptimed_slo_coverage_ratio): the share of the window "
            "outside maintenance that has a verdict.",
            targets(
                (
                    s("uptimed_slo_attainment_ratio", SLO_HERE),
                    "attainment {{slo}} {{location}}",
                ),
                (objective, "objective {{slo}}"),
                (s("uptimed_slo_coverage_ratio", SLO_HERE), "coverage {{slo}} {{location}}"),
            ),
            unit="percentunit",
            w=24,
            minmax=(None, 1),
        ),
    ]


def probes() -> list[Json]:
    failures = s("uptimed_probes_total", MONITOR, 'result="failure"')
    every = s("uptimed_probes_total", MONITOR)
    return [
        timeseries(
            "Probe duration",
            "How long each monitor's last probe took (probe_duration_seconds), per location.",
            targets((s("probe_duration_seconds", MONITOR), "{{monitor}} {{location}}")),
            unit="s",
            minmax=(0, None),
        ),
        timeseries(
            "HTTP latency by phase",
            "The last HTTP probe's time by phase (probe_http_duration_seconds: resolve, "
            "connect, tls, processing, transfer), averaged over the selected monitors and "
            "stacked: pick one monitor to see its own.",
            targets(
                (
                    f"avg by (phase) ({s('probe_http_duration_seconds', MONITOR)})",
                    "{{phase}}",
                )
            ),
            unit="s",
            stack=True,
            minmax=(0, None),
        ),
        state_timeline(
            "HTTP status code",
            "The status code of each HTTP monitor's last reply (probe_http_status_code); "
            "0 means no reply at all (refused, timed out, TLS failed).",
            targets((s("probe_http_status_code", MONITOR), "{{monitor}} {{location}}")),
            range_mappings(
                (0, 99, "red", "no reply"),
                (100, 299, "green", ""),
                (300, 399, "blue", ""),
                (400, 499, "orange", ""),
                (500, 599, "red", ""),
            ),
        ),
        timeseries(
            "Failed probes by error kind",
            "Failed probes per second by classified error kind "
            "(uptimed_probe_failures_total{error_kind}): timeout, refused, dns, http_status... "
            'A single 0 line "none" while no selected monitor has failed yet.',
            targets(
                (
                    "sum by (monitor, location, error_kind) "
                    f"({rate(s('uptimed_probe_failures_total', MONITOR))}) "
                    # A kind's series exists only once such a failure happened: with none at
                    # all the rate is truly 0. `on ()` adds it only when nothing else is there.
                    f"or on () {NO_FAILURE}",
                    "{{monitor}} {{location}} {{error_kind}}",
                )
            ),
            unit="ops",
            minmax=(0, None),
        ),
        timeseries(
            "Failed probe share",
            "Share of probes that failed (uptimed_probes_total): blips below the failure "
            "threshold show here but never in the confirmed state.",
            targets(
                (
                    f"sum by (monitor, location) ({rate(failures)}) / "
                    f"sum by (monitor, location) ({rate(every)})",
                    "{{monitor}} {{location}}",
                )
            ),
            unit="percentunit",
            minmax=(0, 1),
        ),
    ]


def daemon_health() -> list[Json]:
    def quantiles(histogram: str) -> list[Json]:
        buckets = f"sum by (job, instance, location, le) ({rate(s(histogram, DAEMON))})"
        return targets(
            *(
                (f"histogram_quantile({q}, {buckets})", f"p{round(q * 100)} {{{{instance}}}}")
                for q in (0.5, 0.9, 0.99)
            )
        )

    by_daemon = "sum by (job, instance, location)"
    monitor_by_daemon = "sum by (job, instance, location, monitor)"
    here = s("uptimed_build_info", DAEMON)
    return [
        timeseries(
            "Schedule lag",
            "How late probes start against their due time, p50/p90/p99 "
            "(uptimed_schedule_lag_seconds). Lag means the daemon is overloaded (CPU, event "
            "loop) or its clock jumped.",
            quantiles("uptimed_schedule_lag_seconds_bucket"),
            unit="s",
            minmax=(0, None),
        ),
        timeseries(
            "Skipped probes",
            "Runs skipped because the monitor's previous probe was still running "
            "(uptimed_probes_skipped_total): a timeout near or above the interval.",
            targets(
                (
                    f"{by_daemon} ({rate(s('uptimed_probes_skipped_total', DAEMON))})",
                    "{{instance}} {{location}}",
                )
            ),
            unit="ops",
            minmax=(0, None),
        ),
        timeseries(
            "Writer queue and probes in flight",
            "Results waiting for the SQLite writer (uptimed_writer_queue_depth) and probes "
            "running now (uptimed_probes_in_flight). A queue that only grows: the disk or the "
            "database is stuck.",
            targets(
                (s("uptimed_writer_queue_depth", DAEMON), "queue {{instance}} {{location}}"),
                (s("uptimed_probes_in_flight", DAEMON), "in flight {{instance}} {{location}}"),
            ),
            unit="short",
            minmax=(0, None),
        ),
        timeseries(
            "Writer batch time",
            "Time to write one batch to SQLite, p50/p90/p99 (uptimed_writer_batch_seconds).",
            quantiles("uptimed_writer_batch_seconds_bucket"),
            unit="s",
            minmax=(0, None),
        ),
        timeseries(
            "Scrape duration",
            "How long Prometheus takes to scrape each daemon's /metrics "
            "(scrape_duration_seconds of the targets exporting uptimed_build_info). "
            "The line: 250 ms.",
            targets(
                (
                    f"{s('scrape_duration_seconds', JOB)} and on (job, instance) {here}",
                    "{{instance}}",
                )
            ),
            unit="s",
            lines=steps("green", (0.25, "red")),
            minmax=(0, None),
        ),
        state_timeline(
            "Connectivity",
            "DEGRADED while every connectivity canary fails (uptimed_connectivity_degraded): "
            "the daemon's own network is down, and it holds its verdicts back.",
            targets((s("uptimed_connectivity_degraded", DAEMON), "{{instance}} {{location}}")),
            value_mappings({"0": ("OK", "green"), "1": ("DEGRADED", "red")}),
        ),
        timeseries(
            "Internal errors and clock jumps",
            "Probes that failed because of uptimed itself (uptimed_probe_internal_errors_"
            "total: no verdict on the target) and wall-clock jumps (uptimed_clock_jumps_total).",
            targets(
                (
                    f"{monitor_by_daemon} "
                    f"({rate(s('uptimed_probe_internal_errors_total', MONITOR))})",
                    "internal {{monitor}} {{location}}",
                ),
                (
                    f"{by_daemon} ({rate(s('uptimed_clock_jumps_total', DAEMON))})",
                    "clock jumps {{instance}} {{location}}",
                ),
            ),
            unit="ops",
            minmax=(0, None),
        ),
        timeseries(
            "SLA series age",
            "Seconds since the daemon last computed its SLA series "
            "(time() - uptimed_sla_evaluated_timestamp_seconds); it refreshes every 15 s. "
            "The line: 1 minute.",
            targets(
                (
                    f"time() - {s('uptimed_sla_evaluated_timestamp_seconds', DAEMON)}",
                    "{{instance}} {{location}}",
                )
            ),
            unit="s",
            lines=steps("green", (60, "red")),
            minmax=(0, None),
        ),
    ]


SECTIONS = (
    ("Fleet overview", fleet_overview),
    ("State", state),
    ("Availability", availability),
    ("SLOs: error budget and burn rate", slos),
    ("Probes: latency, status codes, errors", probes),
    ("uptimed itself", daemon_health),
)


def layout(sections: Sequence[tuple[str, Sequence[Json]]]) -> list[Json]:
    """Rows and their panels, numbered from 1 and placed left to right, wrapping at 24."""
    out: list[Json] = []
    y = 0
    for title, panels in sections:
        out.append(row(title) | {"gridPos": {"h": 1, "w": 24, "x": 0, "y": y}})
        y += 1
        x = line_h = 0
        for p in panels:
            w, h = p["gridPos"]["w"], p["gridPos"]["h"]
            if x + w > 24:
                x, y, line_h = 0, y + line_h, 0
            p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
            x, line_h = x + w, max(line_h, h)
            out.append(p)
        y += line_h
    for i, p in enumerate(out, 1):
        p["id"] = i
    # Each panel's keys in one order (id first), so the JSON reads the same everywhere.
    return [{"id": p["id"], **{k: v for k, v in p.items() if k != "id"}} for p in out]


# --- variables ------------------------------------------------------------------------------


def query_variable(name: str, label: str, definition: str) -> Json:
    """Values from ``label_values(...)``, several at once or "All" (``.*``)."""
    return {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DS,
        "definition": definition,
        "query": {"query": definition, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,  # on time range change: monitors come and go with reloads
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "regex": "",
        "sort": 1,
        "hide": 0,
    }


def variables() -> list[Json]:
    return [
        {
            "type": "datasource",
            "name": "datasource",
            "label": "Data source",
            "query": "prometheus",
            "current": {},
            "options": [],
            "refresh": 1,
            "regex": "",
            "hide": 0,
        },
        query_variable("job", "Job", "label_values(uptimed_build_info, job)"),
        query_variable(
            "location", "Location", 'label_values(uptimed_build_info{job=~"$job"}, location)'
        ),
        query_variable(
            "monitor",
            "Monitor",
            'label_values(uptimed_maintenance_active{job=~"$job",location=~"$location"}, monitor)',
        ),
        query_variable(
            "service", "Service", 'label_values(uptimed_service_info{job=~"$job"}, service)'
        ),
        query_variable("slo", "SLO", 'label_values(uptimed_slo_objective_ratio{job=~"$job"}, slo)'),
    ]


def alert_annotations() -> list[Json]:
    return [
        {
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        },
        {
            "name": "uptimed alerts",
            "datasource": DS,
            "enable": True,
            "iconColor": "red",
            "expr": f'ALERTS{{alertstate="firing",alertname=~"Uptimed.*",{JOB}}}',
            "step": "1m",
            "titleFormat": "{{alertname}}",
            "textFormat": "{{monitor}}{{service}}{{slo}} {{severity}}",
            "tagKeys": "severity",
            "useValueForTime": False,
        },
    ]


def dashboard() -> Json:
    return {
        "id": None,
        "uid": "uptimed",
        "title": "uptimed",
        "description": "Uptime, availability SLOs and the health of uptimed daemons.",
        "tags": ["uptimed", "uptime", "slo"],
        "editable": True,
        "graphTooltip": 1,  # a shared crosshair across panels
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "1m",
        "timezone": "browser",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "links": [],
        "annotations": {"list": alert_annotations()},
        "templating": {"list": variables()},
        "panels": layout([(title, build()) for title, build in SECTIONS]),
    }


# --- for tests ------------------------------------------------------------------------------


def panel_queries(dash: Json) -> list[tuple[str, str, str]]:
    """(panel title, refId, expr) of every query of every panel, rows included (none here:
    rows are open, their panels at the top level)."""
    return [
        (p["title"], t["refId"], t["expr"])
        for p in _panels(dash["panels"])
        for t in p.get("targets", [])
        if "expr" in t
    ]


def _panels(panels: list[Json]) -> Iterator[Json]:
    for p in panels:
        yield p
        yield from _panels(p.get("panels", []))


_INTERVALS = "(?:rate_interval|interval|range)"
_RANGE_VARS = re.compile(rf"\$__{_INTERVALS}\b|\$\{{__{_INTERVALS}\}}")
_VARS = re.compile(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}")


def fill(expr: str, values: Mapping[str, str] | None = None, interval: str = "5m") -> str:
    """``expr`` as Grafana would send it: ``$__rate_interval`` and the like as ``interval``,
    each ``$variable`` as ``values[name]``, else its "All" value ``.*``. Values are regexes
    (the variables are only used in ``=~`` matchers): escape literal dots yourself."""
    expr = _RANGE_VARS.sub(interval, expr)
    given = values or {}
    return _VARS.sub(lambda m: given.get(m.group(1) or m.group(2), ".*"), expr)


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 when {OUT.name} differs from the build"
    )
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run python dashboards/build.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
