"""The per-monitor collector: text rendering, the collector API, escaping, absent series."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families

from probes.base import INTERNAL, ProbeContext, ProbeResult
from uptimed.config import loads_config
from uptimed.core.state import StateMachine
from uptimed.daemon.runner import LiveMonitor, Runner, thresholds
from uptimed.store import Store
from uptimed.web.app import MetricsEndpoint
from uptimed.web.metrics import MonitorCollector, SelfMetrics
from uptimed.web.sla_metrics import ConfigSeries, SlaMetrics

CONFIG = """
[defaults]
labels = { env = "prod" }
[[monitor]]
id = "web"
kind = "http"
url = "http://127.0.0.1:9/"
labels = { team = 'a "quoted" \\ team' }
[[monitor]]
id = "db"
kind = "tcp"
host = "127.0.0.1"
port = 9
[[monitor]]
id = "new"
kind = "tcp"
host = "127.0.0.1"
port = 9
"""


def live_monitors(now_ms: int) -> dict[str, LiveMonitor]:
    cfg = loads_config(CONFIG)
    mons = {
        m.id: LiveMonitor(m, i, StateMachine(thresholds(m))) for i, m in enumerate(cfg.monitors)
    }
    web, db = mons["web"], mons["db"]
    web.last = ProbeResult(
        False,
        0.25,
        "http_status",
        "503",
        {"connect": 0.001, "processing": 0.2},
        {"status_code": 503},
    )
    web.failures = {"http_status": 2, "timeout": 1}
    web.ok_total = 5
    web.machine.observe(now_ms, False)
    db.last = ProbeResult(True, 0.002, phases={"connect": 0.002})
    db.ok_total = 7
    db.machine.observe(now_ms, True)
    return mons


def test_text_rendering_and_the_collector_agree_and_lint_clean():
    import time

    mons = live_monitors(int(time.time() * 1000))
    c = MonitorCollector(lambda: mons.values())
    text = c.render_text()
    assert 'probe_success{monitor="web",env="prod",team="a \\"quoted\\" \\\\ team"} 0.0' in text
    assert 'probe_success{monitor="db",env="prod",team=""} 1.0' in text
    assert (
        'probe_http_status_code{monitor="web",env="prod",team="a \\"quoted\\" \\\\ team"} 503.0'
        in text
    )
    assert 'probe_http_status_code{monitor="db"' not in text  # TCP monitors have no HTTP series
    assert (
        'uptimed_monitor_up{monitor="web",env="prod",team="a \\"quoted\\" \\\\ team"} 0.0' in text
    )
    assert 'uptimed_monitor_up{monitor="new"' not in text  # no verdict yet: absent
    assert 'probe_success{monitor="new"' not in text
    assert (
        'uptimed_probes_total{monitor="web",env="prod",team="a \\"quoted\\" \\\\ team",'
        'result="failure"} 3.0' in text
    )
    assert 'error_kind="timeout"} 1.0' in text
    families = {f.name: f for f in c.collect()}
    assert families["uptimed_probes"].type == "counter"
    samples = {
        (s.name, s.labels["monitor"], s.labels.get("result")): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("uptimed_probes_total", "web", "failure")] == 3
    assert samples[("probe_duration_seconds", "db", None)] == 0.002
    if shutil.which("promtool"):
        r = subprocess.run(
            ["promtool", "check", "metrics"], input=text, capture_output=True, text=True
        )
        assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


def test_a_verdict_older_than_max_gap_is_not_shown_as_the_confirmed_state():
    import time

    now = int(time.time() * 1000)
    mons = live_monitors(now - 10 * 60_000)  # last probes ten minutes ago; max_gap is 2m10s
    assert "uptimed_monitor_up{" not in MonitorCollector(lambda: mons.values()).render_text()


def test_openmetrics_and_text_endpoints_both_carry_monitors_and_self_metrics():
    import time

    mons = live_monitors(int(time.time() * 1000))
    ep = MetricsEndpoint(SelfMetrics(), MonitorCollector(lambda: mons.values()))
    text, ctype = ep.render("", gzip_ok=False)
    assert (
        ctype.startswith("text/plain")
        and b"uptimed_build_info{" in text
        and b"probe_success{" in text
    )
    om, ctype = ep.render("application/openmetrics-text; version=1.0.0", gzip_ok=False)
    assert ctype.startswith("application/openmetrics-text") and om.endswith(b"# EOF\n")
    assert (
        b'uptimed_probes_total{monitor="db",env="prod",team="",result="success"} 7.0' in om
        and b"uptimed_schedule_lag_seconds_bucket" in om
        and b"# TYPE uptimed_probes counter\n" in om  # OpenMetrics: the family without _total
    )
    # The fast rendering says what prometheus_client's own writer says, family by family.
    assert om_families(om) == om_families(openmetrics(ep.full_registry))
    # And the text format says the same.
    assert om_families(om) == text_families(text)


def om_families(body: bytes) -> dict[str, tuple[str, str, list[tuple[str, dict[str, str], float]]]]:
    """name -> (type, help, samples sorted) of an OpenMetrics body, parsed by prometheus_client's
    strict OpenMetrics parser (which refuses a body without # EOF, repeated families...)."""
    return {
        f.name: (f.type, f.documentation, sorted_samples(f.samples))
        for f in om_parse(body.decode())
    }


def text_families(
    body: bytes,
) -> dict[str, tuple[str, str, list[tuple[str, dict[str, str], float]]]]:
    return {
        f.name: (f.type, f.documentation, sorted_samples(f.samples))
        for f in text_string_to_metric_families(body.decode())
    }


def sorted_samples(samples: Any) -> list[tuple[str, dict[str, str], float]]:
    return sorted(
        ((s.name, s.labels, s.value) for s in samples), key=lambda x: (x[0], sorted(x[1].items()))
    )


def test_cached_lines_follow_new_results_and_label_changes():
    import time

    mons = live_monitors(int(time.time() * 1000))
    c = MonitorCollector(lambda: mons.values())
    c.render_text()
    db = mons["db"]
    db.last = ProbeResult(False, 0.5, "refused", "connection refused")
    db.failures = {"refused": 1}
    c.refresh(db)  # what the runner does after each probe
    text = c.render_text()
    assert 'probe_success{monitor="db",env="prod",team=""} 0.0' in text
    assert (
        'uptimed_probe_failures_total{monitor="db",env="prod",team="",error_kind="refused"} 1.0'
        in text
    )
    del mons["web"]  # the only monitor with a "team" label goes (a reload): the layout changes
    text = c.render_text()
    assert 'probe_success{monitor="db",env="prod"} 0.0' in text and "team=" not in text


def test_a_reload_or_a_probe_during_a_layout_change_never_leaves_stale_labels() -> None:
    import dataclasses
    import time

    mons = live_monitors(int(time.time() * 1000))
    c = MonitorCollector(lambda: mons.values())
    c.render_text()
    db = mons["db"]
    # A reload changes a label's value (the monitor's config is a new object): the next scrape
    # shows it, without waiting for the monitor's next probe.
    db.reconfigure(dataclasses.replace(db.config, labels=(("env", "staging"),)))
    assert 'probe_success{monitor="db",env="staging",team=""} 1.0' in c.render_text()
    # The only monitor with "team" goes; a probe of db is formatted (by the runner, in the event
    # loop's thread) before the next scrape has seen the new layout: that scrape does not keep
    # the old layout's labels for db.
    del mons["web"]
    c.refresh(db)
    text = c.render_text()
    assert 'probe_success{monitor="db",env="staging"} 1.0' in text and "team=" not in text
    assert 'uptimed_probes_total{monitor="db",env="staging",result="success"} 7.0' in text


def test_a_probe_that_ends_after_its_monitor_was_removed_leaves_no_series() -> None:
    import time

    mons = live_monitors(int(time.time() * 1000))
    c = MonitorCollector(lambda: mons.values())
    c.render_text()
    gone = mons.pop("db")  # a reload removes it while its probe is in flight
    c.render_text()
    gone.ok_total += 1
    c.refresh(gone)  # the probe ends: the runner formats it
    text = c.render_text()
    assert 'monitor="db"' not in text and 'monitor="web"' in text


def test_an_internal_error_leaves_no_probe_series_and_is_counted_apart() -> None:
    import time

    mons = live_monitors(int(time.time() * 1000))
    c = MonitorCollector(lambda: mons.values())
    db = mons["db"]
    db.last = ProbeResult(False, 0.001, INTERNAL, "ValueError: a bug")
    db.internal_errors = 4
    c.refresh(db)
    text = c.render_text()
    # No verdict: neither probe_success 0 (someone would be paged for our bug) nor a stale 1.
    assert (
        'probe_success{monitor="db"' not in text
        and 'probe_duration_seconds{monitor="db"' not in text
    )
    assert 'uptimed_probe_internal_errors_total{monitor="db",env="prod",team=""} 4.0' in text
    assert (
        'uptimed_probe_internal_errors_total{monitor="web",env="prod",'
        'team="a \\"quoted\\" \\\\ team"} 0.0' in text
    )
    assert 'uptimed_probes_total{monitor="db",env="prod",team="",result="failure"} 0.0' in text
    families = {f.name: f for f in c.collect()}
    assert families["uptimed_probe_internal_errors"].type == "counter"


# -- static labels on every per-monitor series -------------------------------------------------

LABELLED = """
[daemon]
database = "{db}"

[defaults]
interval = "10s"
timeout = "4s"

[[monitor]]
id = "shop"
kind = "tcp"
host = "127.0.0.1"
port = 9
labels = {{ env = "prod", team = "shop" }}

[[monitor]]
id = "search"
kind = "http"
url = "http://127.0.0.1:9/"
labels = {{ env = "staging", team = "search" }}

[[monitor]]
id = "bare"
kind = "tcp"
host = "127.0.0.1"
port = 9

[[service]]
id = "store"
monitors = ["shop", "search"]
rule = "all"

[[slo]]
id = "store-availability"
target = "store"
objective = 99.9
window = "30d"

[[slo]]
id = "shop-availability"
target = "shop"
objective = 99.5
window = "7d"
"""

#: The series names /metrics had before static labels came to the SLA series: none renamed.
SERIES = {
    "probe_success", "probe_duration_seconds", "probe_http_status_code",
    "probe_http_duration_seconds", "uptimed_monitor_up", "uptimed_probes_total",
    "uptimed_probe_failures_total", "uptimed_maintenance_active", "uptimed_availability_ratio",
    "uptimed_up_seconds_total", "uptimed_down_seconds_total",
    "uptimed_slo_objective_ratio", "uptimed_slo_attainment_ratio", "uptimed_slo_coverage_ratio",
    "uptimed_slo_window_seconds", "uptimed_slo_error_budget_remaining_ratio",
    "uptimed_slo_burn_rate",
    "uptimed_sla_evaluated_timestamp_seconds",
}  # fmt: skip


async def test_every_per_monitor_series_carries_the_monitors_static_labels(tmp_path: Path) -> None:
    """Probe series and SLA series alike: a real store filled by the real runner (shop up,
    search down with a bug in between, bare up), the SLA series refreshed from it, both
    collectors scraped through one registry."""
    import time

    t0 = float(int(time.time()) - 70)  # ends now: uptimed_monitor_up reads the real clock
    clock = [t0]
    db = tmp_path / "u.db"
    config = loads_config(LABELLED.format(db=db), str(tmp_path / "c.toml"))
    store = Store(str(db), wall=lambda: clock[0], flush_interval=0.02)
    store.open()
    ids = store.register_monitors([(m.id, m.kind, m.id) for m in config.monitors])
    monitors: dict[str, LiveMonitor] = {}
    collector = MonitorCollector(lambda: monitors.values())
    runner = Runner(
        store, ProbeContext(), 10, lambda lag: None, lambda: clock[0], collector.refresh
    )
    answers = {"shop": ProbeResult(True, 0.01), "bare": ProbeResult(True, 0.01)}

    def scripted(key: str) -> Any:
        async def probe(spec: Any, ctx: ProbeContext) -> ProbeResult:
            if key != "search":
                return answers[key]
            if int(clock[0] - t0) == 30:
                return ProbeResult(False, 0.01, INTERNAL, "TypeError: a bug")
            return ProbeResult(
                False,
                0.01,
                "http_status",
                "unexpected status 503",
                {"connect": 0.001},
                {"status_code": 503},
            )

        return probe

    for m in config.monitors:
        monitors[m.id] = live = LiveMonitor(m, ids[m.id], StateMachine(thresholds(m)))
        live.probe = scripted(m.id)
    runner.monitors = monitors
    store.start(version="test", config_sha256="x")
    for step in range(7):
        clock[0] = t0 + 10 * step
        for key in monitors:
            await runner.run(key)
    clock[0] = t0 + 70
    store.close()

    sla = SlaMetrics(int(t0 * 1000))
    sla.refresh(config, int(clock[0] * 1000))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    registry.register(ConfigSeries(lambda: config))
    registry.register(sla)
    text = generate_latest(registry).decode()

    static = {m.id: dict(m.labels) for m in config.monitors}
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    names = {s.name for s in samples}
    added = {
        "uptimed_probe_internal_errors_total", "uptimed_location_quorum", "uptimed_service_info",
        "uptimed_service_member_info",
    }  # fmt: skip
    assert names == SERIES | added, names ^ (SERIES | added)
    # uptimed_service_member_info names a monitor but is the service's (from the config alone).
    per_monitor = [
        s for s in samples if "monitor" in s.labels and s.name != "uptimed_service_member_info"
    ]
    assert {s.name for s in per_monitor} >= {
        "probe_success", "uptimed_availability_ratio", "uptimed_up_seconds_total",
        "uptimed_down_seconds_total", "uptimed_probe_internal_errors_total",
    }  # fmt: skip
    for s in per_monitor:
        own = static[s.labels["monitor"]]
        # The same names and values as probe_success: "" (Prometheus: absent) where it has none.
        assert (s.labels.get("env"), s.labels.get("team")) == (
            own.get("env", ""),
            own.get("team", ""),
        ), s
    # The same label set as the monitor's probe_success, apart from the series' own labels.
    success = {s.labels["monitor"]: s.labels for s in samples if s.name == "probe_success"}
    own_labels = {"window", "result", "error_kind", "phase"}
    for s in per_monitor:
        assert {k: v for k, v in s.labels.items() if k not in own_labels} == success[
            s.labels["monitor"]
        ], s
    # Service and SLO series carry no monitor's labels.
    for s in samples:
        if "service" in s.labels or "slo" in s.labels:
            assert "env" not in s.labels and "team" not in s.labels, s
            assert "monitor" not in s.labels or s.name == "uptimed_service_member_info", s
    # And the figures are the right ones: search was down all along but for the bug's probe.
    value = {(s.name, s.labels.get("monitor"), s.labels.get("window")): s.value for s in samples}
    assert value[("uptimed_availability_ratio", "shop", "1h")] == 1.0
    assert value[("uptimed_availability_ratio", "search", "1h")] == 0.0
    assert value[("uptimed_probe_internal_errors_total", "search", None)] == 1.0
    assert 'probe_success{env="staging",monitor="search",team="search"} 0.0' in text
