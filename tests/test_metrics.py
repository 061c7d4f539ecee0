"""The per-monitor collector: text rendering, the collector API, escaping, absent series."""

from __future__ import annotations

import shutil
import subprocess

from prometheus_client.openmetrics.exposition import generate_latest as openmetrics

from probes.spec import ProbeResult
from uptimed.config import loads_config
from uptimed.metrics import MonitorCollector, SelfMetrics
from uptimed.runner import LiveMonitor, thresholds
from uptimed.state import StateMachine
from uptimed.web import MetricsEndpoint

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
    mons = {m.id: LiveMonitor(m, i, StateMachine(thresholds(m))) for i, m in enumerate(cfg.monitors)}
    web, db = mons["web"], mons["db"]
    web.last = ProbeResult(False, 0.25, "http_status", "503", 503, {"connect": 0.001, "processing": 0.2})
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
    assert 'probe_http_status_code{monitor="web",env="prod",team="a \\"quoted\\" \\\\ team"} 503.0' in text
    assert 'probe_http_status_code{monitor="db"' not in text  # TCP monitors have no HTTP series
    assert 'uptimed_monitor_up{monitor="web",env="prod",team="a \\"quoted\\" \\\\ team"} 0.0' in text
    assert 'uptimed_monitor_up{monitor="new"' not in text  # no verdict yet: absent
    assert 'probe_success{monitor="new"' not in text
    assert 'uptimed_probes_total{monitor="web",env="prod",team="a \\"quoted\\" \\\\ team",result="failure"} 3.0' in text
    assert 'error_kind="timeout"} 1.0' in text
    families = {f.name: f for f in c.collect()}
    assert families["uptimed_probes"].type == "counter"
    samples = {(s.name, s.labels["monitor"], s.labels.get("result")): s.value for f in families.values() for s in f.samples}
    assert samples[("uptimed_probes_total", "web", "failure")] == 3
    assert samples[("probe_duration_seconds", "db", None)] == 0.002
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
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
    assert ctype.startswith("text/plain") and b"uptimed_build_info{" in text and b"probe_success{" in text
    om, ctype = ep.render("application/openmetrics-text; version=1.0.0", gzip_ok=False)
    assert ctype.startswith("application/openmetrics-text") and om.endswith(b"# EOF\n")
    assert b'uptimed_probes_total{env="prod",monitor="db",result="success",team=""} 7.0' in om and b"uptimed_schedule_lag_seconds_bucket" in om
    assert om == openmetrics(ep.full_registry)


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
    assert 'uptimed_probe_failures_total{monitor="db",env="prod",team="",error_kind="refused"} 1.0' in text
    del mons["web"]  # the only monitor with a "team" label goes (a reload): the layout changes
    text = c.render_text()
    assert 'probe_success{monitor="db",env="prod"} 0.0' in text and "team=" not in text
