"""/metrics for a fleet: the location label on every series, the config series, a shard's SLA
series, both exposition formats (strict OpenMetrics parser, promtool), and reloads.

The in-process tests fill a real store with the real runner (scripted probe results, a stepped
clock), refresh the real SLA series from it and render through the real endpoint; the reload
test runs the real daemon.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families

from probes.base import ProbeContext, ProbeResult
from tests.support.daemon_proc import DaemonProc, value
from uptimed.config import loads_config
from uptimed.core.shard import plan, shard_of
from uptimed.core.state import StateMachine
from uptimed.daemon.runner import LiveMonitor, Runner, thresholds
from uptimed.model.config import Config
from uptimed.store import Store
from uptimed.web.app import MetricsEndpoint, wants_openmetrics
from uptimed.web.metrics import MonitorCollector, SelfMetrics, monitor_labels, number
from uptimed.web.sla_metrics import ConfigSeries, SlaMetrics

OM = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

FLEET = """
[daemon]
database = "{db}"
location = "fra1"
location_quorum = 2
{shard}

[defaults]
interval = "10s"
timeout = "4s"

[[monitor]]
id = "shop"
kind = "tcp"
host = "127.0.0.1"
port = 9
labels = {{ env = "prod" }}

[[monitor]]
id = "search"
kind = "http"
url = "http://127.0.0.1:9/"

[[monitor]]
id = "cart"
kind = "tcp"
host = "127.0.0.1"
port = 9

[[monitor]]
id = "db"
kind = "tcp"
host = "127.0.0.1"
port = 9
labels = {{ team = "data" }}

[[monitor]]
id = "edge"
kind = "tcp"
host = "127.0.0.1"
port = 9

[[service]]
id = "store"
monitors = ["shop", "search"]
rule = "all"

[[service]]
id = "backend"
monitors = ["db", "edge"]
rule = "any"

[[service]]
id = "mixed"
monitors = ["shop", "db", "cart"]
rule = "quorum"
quorum = 2

[[slo]]
id = "store-slo"
target = "store"
objective = 99.9
window = "30d"

[[slo]]
id = "mixed-slo"
target = "mixed"
objective = 99.5
window = "7d"

[[slo]]
id = "db-slo"
target = "db"
objective = 99.0
window = "7d"

[[slo]]
id = "shop-slo"
target = "shop"
objective = 95.0
window = "1d"
"""

#: Where the monitors of FLEET fall with 2 shards (sha256 of the id: the same everywhere).
SHARD_2_OF_2 = {"shop", "search", "cart"}


def test_the_premise_the_fleet_config_is_split_across_both_shards() -> None:
    ids = ("shop", "search", "cart", "db", "edge")
    assert {i for i in ids if shard_of(i, 2) == 2} == SHARD_2_OF_2
    assert {i for i in ids if shard_of(i, 2) == 1} == {"db", "edge"}


async def scraped(
    tmp_path: Path, shard: str = "", step_results: int = 7
) -> tuple[Config, MetricsEndpoint]:
    """A real store filled by the real runner with the monitors this daemon runs (shard plan):
    shop and cart up, search down (HTTP 503), db and edge up; the SLA series refreshed from it;
    the endpoint over all of it as the daemon builds it."""
    t0 = float(int(time.time()) - 10 * step_results)
    clock = [t0]
    db = tmp_path / "u.db"
    config = loads_config(FLEET.format(db=db, shard=shard), str(tmp_path / "c.toml"))
    here = plan(config)
    runs = [m for m in config.monitors if here.runs(m.id)]
    store = Store(str(db), wall=lambda: clock[0], flush_interval=0.02)
    store.open()
    ids = store.register_monitors([(m.id, m.kind, m.id) for m in runs])
    monitors: dict[str, LiveMonitor] = {}
    collector = MonitorCollector(lambda: monitors.values(), location=config.daemon.location)
    runner = Runner(
        store, ProbeContext(), 10, lambda lag: None, lambda: clock[0], collector.refresh
    )

    def scripted(key: str) -> Any:
        async def probe(spec: Any, ctx: ProbeContext) -> ProbeResult:
            if key == "search":
                return ProbeResult(
                    False, 0.01, "http_status", "503", {"connect": 0.001}, {"status_code": 503}
                )
            return ProbeResult(True, 0.01, phases={"connect": 0.001})

        return probe

    for m in runs:
        monitors[m.id] = live = LiveMonitor(m, ids[m.id], StateMachine(thresholds(m)))
        live.probe = scripted(m.id)
    runner.monitors = monitors
    store.start(version="test", config_sha256="x", location="fra1", shard=shard or None)
    for step in range(step_results):
        clock[0] = t0 + 10 * step
        for key in monitors:
            await runner.run(key)
    clock[0] = t0 + 10 * step_results
    store.close()
    sla = SlaMetrics(int(t0 * 1000))
    sla.refresh(config, int(clock[0] * 1000))
    return config, MetricsEndpoint(SelfMetrics(), collector, sla, lambda: config)


Samples = list[tuple[str, dict[str, str], float]]


def text_samples(body: bytes) -> Samples:
    return [
        (s.name, s.labels, s.value)
        for f in text_string_to_metric_families(body.decode())
        for s in f.samples
    ]


def om_samples(body: bytes) -> Samples:
    """Parsed by prometheus_client's strict OpenMetrics parser: it refuses a body without
    ``# EOF``, a family given twice, a counter family named ``..._total``, "inf"..."""
    return [(s.name, s.labels, s.value) for f in om_parse(body.decode()) for s in f.samples]


def find(samples: Samples, name: str, **labels: str) -> list[float]:
    return [
        v for n, lb, v in samples if n == name and all(lb.get(k) == x for k, x in labels.items())
    ]


def promtool_clean(text: bytes) -> None:
    if not shutil.which("promtool"):
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    out = (r.stdout + r.stderr).decode()
    assert r.returncode == 0 and not out.strip(), out


async def test_location_on_every_series_in_both_formats(tmp_path: Path) -> None:
    config, ep = await scraped(tmp_path)
    text, ctype = ep.render("", gzip_ok=False)
    om, om_type = ep.render(OM, gzip_ok=False)
    assert ctype.startswith("text/plain") and om_type.startswith("application/openmetrics-text")
    assert om.endswith(b"\n# EOF\n") and om.count(b"# EOF") == 1
    for samples in (text_samples(text), om_samples(om)):
        names = {n for n, _, _ in samples}
        # Every kind of series is there: per monitor, SLA, config, self-metrics (a histogram).
        assert {
            "probe_success", "probe_http_status_code", "uptimed_monitor_up",
            "uptimed_probes_total", "uptimed_availability_ratio", "uptimed_up_seconds_total",
            "uptimed_slo_attainment_ratio", "uptimed_slo_burn_rate",
            "uptimed_sla_evaluated_timestamp_seconds", "uptimed_location_quorum",
            "uptimed_service_info", "uptimed_service_quorum", "uptimed_service_member_info",
            "uptimed_slo_objective_ratio", "uptimed_schedule_lag_seconds_bucket",
            "uptimed_build_info", "uptimed_monitors",
        } <= names, names  # fmt: skip
        unlabelled = [(n, lb) for n, lb, _ in samples if lb.get("location") != "fra1"]
        assert not unlabelled, unlabelled
    # The location comes last in the cached label string, after the static labels.
    assert b'probe_success{monitor="shop",env="prod",team="",location="fra1"} 1.0' in text
    assert b'uptimed_location_quorum{location="fra1"} 2' in text
    # The two formats carry the same samples (OpenMetrics names counter families without
    # _total; the samples are the same).
    assert sorted_samples(text_samples(text)) == sorted_samples(om_samples(om))
    promtool_clean(text)


def sorted_samples(samples: Samples) -> list[tuple[str, list[tuple[str, str]], float]]:
    return sorted((n, sorted(lb.items()), v) for n, lb, v in samples)


async def test_no_location_label_without_a_location(tmp_path: Path) -> None:
    config, ep = await scraped(tmp_path)
    bare = dataclasses.replace(config, daemon=dataclasses.replace(config.daemon, location=None))
    sla = SlaMetrics(0)
    sla.refresh(bare, int(time.time() * 1000))
    collector = MonitorCollector(ep.collector.monitors)
    plain = MetricsEndpoint(SelfMetrics(), collector, sla, lambda: bare)
    for body in (plain.render("", False)[0], plain.render(OM, False)[0]):
        assert b"location=" not in body
        assert b"uptimed_location_quorum 2" in body
        assert b"uptimed_sla_evaluated_timestamp_seconds " in body  # no empty braces either
        assert b"{}" not in body


async def test_config_series_are_exact(tmp_path: Path) -> None:
    config, ep = await scraped(tmp_path)
    s = om_samples(ep.render(OM, gzip_ok=False)[0])
    info = {(lb["service"], lb["rule"]) for n, lb, v in s if n == "uptimed_service_info" and v == 1}
    assert info == {("store", "all"), ("backend", "any"), ("mixed", "quorum")}
    assert [(lb["service"], v) for n, lb, v in s if n == "uptimed_service_quorum"] == [
        ("mixed", 2.0)
    ]
    members = {
        (lb["service"], lb["monitor"]) for n, lb, _ in s if n == "uptimed_service_member_info"
    }
    assert members == {
        ("store", "shop"), ("store", "search"), ("backend", "db"), ("backend", "edge"),
        ("mixed", "shop"), ("mixed", "db"), ("mixed", "cart"),
    }  # fmt: skip
    objective = {
        lb["slo"]: (lb["target"], v) for n, lb, v in s if n == "uptimed_slo_objective_ratio"
    }
    assert objective == {
        "store-slo": ("store", 0.999), "mixed-slo": ("mixed", 0.995), "db-slo": ("db", 0.99),
        "shop-slo": ("shop", 0.95),
    }  # fmt: skip
    assert find(s, "uptimed_location_quorum") == [2.0]
    assert not find(s, "uptimed_shard_info")  # not sharded: absent


async def test_a_shard_exports_only_what_is_whole_here(tmp_path: Path) -> None:
    config, ep = await scraped(tmp_path, shard='shard = "2/2"')
    here = plan(config)
    assert here.monitors == SHARD_2_OF_2 and here.services == ("store",)
    assert set(here.slos) == {"store-slo", "shop-slo"}
    text, _ = ep.render("", gzip_ok=False)
    om, _ = ep.render(OM, gzip_ok=False)
    for s in (text_samples(text), om_samples(om)):
        assert find(s, "uptimed_shard_info", shard="2/2") == [1.0]
        # Per-monitor and SLA series: only the monitors this shard runs.
        for name in ("probe_success", "uptimed_availability_ratio", "uptimed_up_seconds_total"):
            shown = {lb["monitor"] for n, lb, _ in s if n == name and "monitor" in lb}
            assert shown == SHARD_2_OF_2, (name, shown)
        # Services and SLOs: only those whose every member runs here, never a partial figure.
        for name in (
            "uptimed_availability_ratio", "uptimed_up_seconds_total", "uptimed_down_seconds_total",
        ):  # fmt: skip
            assert {lb["service"] for n, lb, _ in s if n == name and "service" in lb} == {
                "store"
            }, name
        for name in (
            "uptimed_slo_attainment_ratio", "uptimed_slo_coverage_ratio",
            "uptimed_slo_window_seconds", "uptimed_slo_error_budget_remaining_ratio",
            "uptimed_slo_burn_rate",
        ):  # fmt: skip
            assert {lb["slo"] for n, lb, _ in s if n == name} == {"store-slo", "shop-slo"}, name
        # The config series: every service and SLO, members only where this shard runs them.
        assert {lb["service"] for n, lb, _ in s if n == "uptimed_service_info"} == {
            "store", "backend", "mixed",
        }  # fmt: skip
        assert {lb["slo"] for n, lb, _ in s if n == "uptimed_slo_objective_ratio"} == {
            "store-slo", "mixed-slo", "db-slo", "shop-slo",
        }  # fmt: skip
        members = {
            (lb["service"], lb["monitor"]) for n, lb, _ in s if n == "uptimed_service_member_info"
        }
        assert members == {("store", "shop"), ("store", "search"), ("mixed", "shop"),
                           ("mixed", "cart")}  # fmt: skip
        # The figures are the right ones: search down all along, so the store ("all") is down.
        assert find(s, "uptimed_availability_ratio", service="store", window="1h") == [0.0]
        assert find(s, "uptimed_availability_ratio", monitor="shop", window="1h") == [1.0]
    promtool_clean(text)


def test_config_series_follow_a_new_config_and_only_then_are_rendered_anew(tmp_path: Path) -> None:
    first = loads_config(FLEET.format(db=tmp_path / "u.db", shard=""), str(tmp_path / "c.toml"))
    current = [first]
    series = ConfigSeries(lambda: current[0])
    text, om = series.texts()
    assert series.texts()[0] is text  # the same config: the same strings, nothing rendered
    assert 'uptimed_service_info{service="mixed",rule="quorum",location="fra1"} 1' in text
    # A reload: the daemon's self.config is a new object; "mixed" became an "any" service.
    second = dataclasses.replace(
        first,
        services=tuple(
            dataclasses.replace(s, rule="any", quorum=None) if s.id == "mixed" else s
            for s in first.services
        ),
    )
    current[0] = second
    text2, om2 = series.texts()
    assert 'uptimed_service_info{service="mixed",rule="any",location="fra1"} 1' in text2
    assert "uptimed_service_quorum" not in text2 and "uptimed_service_quorum" in text
    assert "# TYPE uptimed_service_info gauge" in om2


def test_a_static_location_label_never_doubles_the_daemons() -> None:
    # The config refuses a static label named "location"; were one to come through, the series
    # would carry one location label, the daemon's, not two (which would fail the whole scrape).
    lbl = monitor_labels(
        "web", (("location", "static"), ("team", "a")), ("location", "team"), "fra1"
    )
    assert lbl == 'monitor="web",team="a",location="fra1"'
    # Without a daemon location the static label is an ordinary one.
    assert (
        monitor_labels("web", (("location", "x"),), ("location",)) == 'monitor="web",location="x"'
    )


def test_values_that_openmetrics_spells_its_own_way() -> None:
    assert [number(v) for v in (0.5, 1e-05, float("inf"), float("-inf"))] == [
        "0.5", "1e-05", "+Inf", "-Inf",
    ]  # fmt: skip
    assert number(float("nan")) == "NaN"
    body = f"# TYPE x gauge\nx {number(float('inf'))}\n# EOF\n"
    assert [s.value for f in om_parse(body) for s in f.samples] == [float("inf")]


@pytest.mark.parametrize(
    ("accept", "om"),
    [
        ("", False),
        ("text/plain", False),
        ("application/openmetrics-text", True),
        # Prometheus 2.x's default
        (
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
            "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            True,
        ),  # fmt: skip
        ("application/openmetrics-text;q=0,text/plain", False),
        ("text/plain;q=0.9, application/openmetrics-text;q=0.5", False),
        ("application/openmetrics-text; q=0.2", True),
        ("*/*", False),
    ],
)
def test_content_negotiation(accept: str, om: bool) -> None:
    assert wants_openmetrics(accept) is om


# -- the real daemon: location on /metrics, and a reload ----------------------------------------

DAEMON_MONITORS = """
[[monitor]]
id = "a"
kind = "tcp"
host = "127.0.0.1"
port = {port}

[[monitor]]
id = "b"
kind = "tcp"
host = "127.0.0.1"
port = {port}

[[service]]
id = "pair"
monitors = ["a", "b"]
rule = "all"

[[slo]]
id = "pair-slo"
target = "pair"
objective = 99.0
window = "1d"
"""

RELOADED = """
[[service]]
id = "either"
monitors = ["a", "b"]
rule = "quorum"
quorum = 1

[[slo]]
id = "a-slo"
target = "a"
objective = 98.0
window = "1d"
"""


async def test_the_daemon_labels_every_series_and_a_reload_renews_the_config_series(
    tmp_path: Path,
) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monitors = DAEMON_MONITORS.format(port=port)
    try:
        async with DaemonProc(tmp_path, monitors, args=("--location", "ams-2")) as d:
            text = await wait_for(d, "uptimed_monitor_up")
            samples = text_samples(text.encode())
            assert [(n, lb) for n, lb, _ in samples if lb.get("location") != "ams-2"] == []
            assert value(text, "uptimed_service_info", service="pair", rule="all") == 1
            assert value(text, "uptimed_service_info", service="either") is None
            d.write_config(monitors + RELOADED)
            d.send(signal.SIGHUP)
            text = await wait_for(d, 'service="either"')
            assert value(text, "uptimed_service_info", service="either", rule="quorum") == 1
            assert value(text, "uptimed_service_quorum", service="either", location="ams-2") == 1
            members = {
                lb["monitor"]
                for n, lb, _ in text_samples(text.encode())
                if n == "uptimed_service_member_info" and lb["service"] == "either"
            }
            assert members == {"a", "b"}
            assert value(text, "uptimed_slo_objective_ratio", slo="a-slo", target="a") == 0.98
            # The location stays as the daemon started: the reloaded file does not hold it.
            assert [
                (n, lb) for n, lb, _ in text_samples(text.encode()) if "location" not in lb
            ] == []
            promtool_clean(text.encode())
    finally:
        server.close()


async def wait_for(d: DaemonProc, needle: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = await d.metrics()
        if needle in text:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not on /metrics after {timeout} s:\n{text[-3000:]}")
        await asyncio.sleep(0.2)
