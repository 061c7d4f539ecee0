"""The Grafana dashboard (dashboards/uptimed.json), offline: it is what dashboards/build.py
builds; its structure is one Grafana imports (schema version, unique ids, panels that do not
overlap, a datasource and queries on every panel, variables that resolve); every PromQL
expression parses (promtool) and names only series the daemon exports (checked against a live
daemon's /metrics too), that the shipped rules record, or that Prometheus makes itself; the
queries whose meaning is subtle (the overview's four counts, the honest 0 of the error kinds,
"All" matching a daemon without location) are evaluated by promtool on synthetic series; the
README documents every panel.

That every panel's query returns data from a real Prometheus is the end-to-end test's job.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.support.daemon_proc import DaemonProc
from tests.support.targets import Target, closed_port

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
JSON_PATH = DASHBOARDS / "uptimed.json"


def load_build() -> ModuleType:
    """dashboards/build.py, by its path (dashboards/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "uptimed_dashboard_build", DASHBOARDS / "build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load_build()
DASH: dict[str, Any] = json.loads(JSON_PATH.read_text())

# The daemon's series (the issue-17 brief's metric contract), as sample names.
EXPORTED = frozenset(
    """
    probe_success probe_duration_seconds probe_http_status_code probe_http_duration_seconds
    uptimed_monitor_up uptimed_probes_total uptimed_probe_failures_total
    uptimed_probe_internal_errors_total uptimed_maintenance_active
    uptimed_availability_ratio uptimed_up_seconds_total uptimed_down_seconds_total
    uptimed_slo_objective_ratio uptimed_slo_attainment_ratio uptimed_slo_coverage_ratio
    uptimed_slo_window_seconds uptimed_slo_error_budget_remaining_ratio uptimed_slo_burn_rate
    uptimed_sla_evaluated_timestamp_seconds
    uptimed_schedule_lag_seconds_bucket uptimed_schedule_lag_seconds_sum
    uptimed_schedule_lag_seconds_count uptimed_probes_skipped_total uptimed_clock_jumps_total
    uptimed_writer_batch_seconds_bucket uptimed_writer_batch_seconds_sum
    uptimed_writer_batch_seconds_count uptimed_writer_rows_total uptimed_writer_queue_depth
    uptimed_probes_in_flight uptimed_monitors uptimed_connectivity_degraded
    uptimed_config_reloads_total uptimed_build_info
    uptimed_location_quorum uptimed_service_info uptimed_service_quorum
    uptimed_service_member_info uptimed_shard_info
    """.split()
)
# Only after something happened that the live daemon below does not do (a SIGHUP).
EXPORTED_LATER = frozenset({"uptimed_config_reloads_total"})
# Series Prometheus makes itself.
PROMETHEUS = frozenset({"up", "scrape_duration_seconds", "ALERTS"})
# The recording rules' names as the brief fixes them: used until dashboards/rules/ exists.
BRIEF_RECORDED = frozenset(
    [f"uptimed:availability:ratio_rate{w}" for w in ("5m", "1h", "1d", "30d")]
    + [f"uptimed:quorum_availability:ratio_avg{w}" for w in ("5m", "1h", "1d", "30d")]
    + [f"uptimed:slo_error:ratio_rate{w}" for w in "5m 30m 1h 2h 6h 1d 3d 30d".split()]
    + [f"uptimed:slo_burn_rate:rate{w}" for w in "5m 30m 1h 2h 6h 1d 3d".split()]
    + [
        "uptimed:monitor_locations:count",
        "uptimed:monitor_locations_down:count",
        "uptimed:monitor_up:quorum",
        "uptimed:service_up:quorum",
        "uptimed:slo_error_budget_remaining:ratio30d",
    ]
)
VARIABLES = {"datasource", "job", "location", "monitor", "service", "slo"}
GRAFANA_VARS = re.compile(r"\$\{?__\w+\}?")  # $__rate_interval, ${__range}...
USER_VARS = re.compile(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}")


def recorded_names() -> frozenset[str]:
    """What the shipped rules record (dashboards/rules/*.yml), or the brief's list before they
    exist."""
    files = sorted((DASHBOARDS / "rules").glob("*.y*ml"))
    files = [f for f in files if "test" not in f.name]
    if not files:
        return BRIEF_RECORDED
    return frozenset(
        rule["record"]
        for f in files
        for group in (yaml.safe_load(f.read_text()) or {}).get("groups", [])
        for rule in group.get("rules", [])
        if "record" in rule
    )


def walk_exprs(node: Any) -> Iterator[str]:
    """Every ``expr`` anywhere in the JSON (panels, annotations), as the acceptance check
    finds them: independent of build.panel_queries."""
    if isinstance(node, dict):
        if isinstance(node.get("expr"), str):
            yield node["expr"]
        for v in node.values():
            yield from walk_exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_exprs(v)


def all_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


PANELS = list(all_panels(DASH["panels"]))
NON_ROWS = [p for p in PANELS if p["type"] != "row"]
EXPRS = list(walk_exprs(DASH))
_KEYWORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
    "group_right", "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions (a
    name followed by ``(``), keywords, label names (in ``{}`` or grouping clauses), strings or
    durations."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.:])[A-Za-z_:][\w:]*", e):
        rest = e[m.end() :].lstrip()
        if m.group() not in _KEYWORDS and not rest.startswith("("):
            names.add(m.group())
    return names


def test_metric_names_helper() -> None:
    """The extractor finds selectors and nothing else (else the name test proves nothing)."""
    expr = (
        'sum by (monitor, le) (rate(a_total{x="b:c",y=~"$v"}[5m] offset 1h)) / on (job) '
        "group_left (team) b:rec:ratio > bool 0.5 or vector(0) unless time() - c_seconds"
    )
    assert metric_names(expr) == {"a_total", "b:rec:ratio", "c_seconds"}


# --- the JSON is the build ------------------------------------------------------------------


def test_committed_json_is_the_build() -> None:
    assert JSON_PATH.read_text() == build.render(), "run: python dashboards/build.py"


def test_check_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--check fails on a stale file and passes once the file is rebuilt."""
    out = tmp_path / "uptimed.json"
    monkeypatch.setattr(build, "OUT", out)
    assert build.main(["--check"]) == 1  # missing
    out.write_text(build.render().replace('"uptimed"', '"edited"', 1))
    assert build.main(["--check"]) == 1  # edited by hand
    assert build.main([]) == 0
    assert build.main(["--check"]) == 0
    assert out.read_text() == JSON_PATH.read_text()


def test_check_flag_from_the_command_line() -> None:
    r = subprocess.run(
        [sys.executable, str(DASHBOARDS / "build.py"), "--check"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


def test_panel_queries_lists_every_panel_query() -> None:
    queries = build.panel_queries(DASH)
    assert {e for _, _, e in queries} == {t["expr"] for p in NON_ROWS for t in p["targets"]}, (
        "panel_queries misses a query"
    )
    assert len(queries) == sum(len(p["targets"]) for p in NON_ROWS)
    titles = {title for title, _, _ in queries}
    assert titles == {p["title"] for p in NON_ROWS}


# --- structure ------------------------------------------------------------------------------


def test_dashboard_fields() -> None:
    assert isinstance(DASH["schemaVersion"], int) and DASH["schemaVersion"] >= 39
    assert DASH["id"] is None  # importable: Grafana gives it an id
    assert DASH["uid"] == "uptimed" and DASH["title"]
    assert DASH["time"]["from"].startswith("now-")


def test_panel_ids_are_unique() -> None:
    ids = [p["id"] for p in PANELS]
    assert all(isinstance(i, int) and i > 0 for i in ids)
    assert len(ids) == len(set(ids))


def test_every_panel_queries_the_datasource_variable() -> None:
    ds = {"type": "prometheus", "uid": "${datasource}"}
    assert len(NON_ROWS) >= 25
    for p in NON_ROWS:
        assert p["datasource"] == ds, p["title"]
        assert p["targets"], p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["datasource"] == ds, p["title"]
            assert isinstance(t["expr"], str) and t["expr"].strip(), p["title"]
            assert re.fullmatch(r"[A-Z]", t["refId"]), p["title"]
        assert p["description"], p["title"]
    titles = [p["title"] for p in NON_ROWS]
    assert len(titles) == len(set(titles)), "two panels of one title: panel_queries is ambiguous"


def test_grid_is_sane_and_nothing_overlaps() -> None:
    boxes = []
    for p in PANELS:
        g = p["gridPos"]
        assert set(g) == {"h", "w", "x", "y"}, p["title"]
        assert all(isinstance(v, int) for v in g.values()), p["title"]
        assert g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["y"] >= 0, p["title"]
        assert g["x"] + g["w"] <= 24, p["title"]
        boxes.append((p["title"], g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]))
    for i, (a, ax0, ay0, ax1, ay1) in enumerate(boxes):
        for b, bx0, by0, bx1, by1 in boxes[i + 1 :]:
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a, b)


def test_rows_group_the_panels_below_them() -> None:
    """Open rows: their panels follow them at the top level, below the row and above the next."""
    rows = [p for p in DASH["panels"] if p["type"] == "row"]
    assert len(rows) >= 5
    assert DASH["panels"][0]["type"] == "row"
    for r in rows:
        assert r["collapsed"] is False and r["panels"] == [] and r["gridPos"]["w"] == 24
    row_y = None
    for p in DASH["panels"]:
        if p["type"] == "row":
            assert row_y is None or p["gridPos"]["y"] > row_y
            row_y = p["gridPos"]["y"]
        else:
            assert row_y is not None and p["gridPos"]["y"] > row_y, p["title"]


def test_units_are_fixed() -> None:
    """Ratios in percentunit, seconds in s: whatever Prometheus returns, never auto."""
    for p in NON_ROWS:
        unit = p["fieldConfig"]["defaults"]["unit"]
        assert unit in {"percentunit", "s", "short", "ops", "none"}, p["title"]
        names = set().union(*(metric_names(t["expr"]) for t in p["targets"]))
        ratios = {n for n in names if re.search(r"[_:]ratio", n)}
        if p["type"] == "stat":  # the overview counts monitors, daemons, SLOs
            assert unit == "short", p["title"]
        elif ratios and ratios == names or "uptimed_probes_total" in names:
            assert unit == "percentunit", p["title"]
        if names and all(n.endswith(("_seconds", "_seconds_bucket")) for n in names):
            assert unit == "s", p["title"]
        if "burn_rate" in " ".join(names):
            assert unit == "none", p["title"]


def test_the_issue_s_panels_are_there() -> None:
    """Every family the issue asks the dashboard to show is queried by some panel."""
    used = set().union(*(metric_names(e) for e in EXPRS))
    for name in (
        "uptimed:monitor_up:quorum", "uptimed_maintenance_active", "uptimed_monitor_up",
        "uptimed:availability:ratio_rate5m", "uptimed:availability:ratio_rate1h",
        "uptimed:availability:ratio_rate1d", "uptimed:availability:ratio_rate30d",
        "uptimed_slo_objective_ratio", "uptimed:slo_error_budget_remaining:ratio30d",
        "uptimed_slo_error_budget_remaining_ratio", "uptimed:slo_burn_rate:rate1h",
        "probe_http_duration_seconds", "probe_duration_seconds", "probe_http_status_code",
        "uptimed_probe_failures_total", "uptimed_schedule_lag_seconds_bucket",
        "uptimed_probes_skipped_total", "uptimed_writer_queue_depth",
        "uptimed_writer_batch_seconds_bucket", "scrape_duration_seconds",
        "uptimed_connectivity_degraded", "uptimed_probe_internal_errors_total",
    ):  # fmt: skip
        assert name in used, name
    timelines = [p for p in NON_ROWS if p["type"] == "state-timeline"]
    up_down = [p for p in timelines if "uptimed:monitor_up:quorum" in json.dumps(p["targets"])]
    (mapping,) = up_down[0]["fieldConfig"]["defaults"]["mappings"]
    assert mapping["options"]["1"]["text"] == "UP" and mapping["options"]["1"]["color"] == "green"
    assert mapping["options"]["0"]["text"] == "DOWN" and mapping["options"]["0"]["color"] == "red"
    burn = [p for p in NON_ROWS if "burn_rate" in json.dumps(p["targets"])]
    for p in burn:
        lines = {s["value"] for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"]}
        assert {1.0, 6.0, 14.4} <= lines, p["title"]
        assert p["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] != "off"
    stats = [p for p in NON_ROWS if p["type"] == "stat"]
    assert {"Monitors up", "Monitors down", "In maintenance", "Unknown"} <= {
        p["title"] for p in stats
    }


def test_the_readme_documents_every_panel_and_variable() -> None:
    """README.md's "Grafana dashboard" section has a table row for every panel (what it shows,
    what to do when it is red) and one for every variable."""
    text = (ROOT / "README.md").read_text()
    start = text.index("### Grafana dashboard")
    ends = [text.find("\n## ", start), text.find("\n### ", start + 1), len(text)]
    end = min(i for i in ends if i > 0)
    section = text[start:end]
    for p in NON_ROWS:
        assert f"\n| {p['title']} |" in section, f"README: no row for panel {p['title']!r}"
    for v in DASH["templating"]["list"]:
        assert f"\n| {v['label']} |" in section, f"README: no row for variable {v['label']!r}"


# --- variables ------------------------------------------------------------------------------

TEMPLATING = {v["name"]: v for v in DASH["templating"]["list"]}


def test_variables() -> None:
    assert set(TEMPLATING) == VARIABLES
    ds = TEMPLATING["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    for name in VARIABLES - {"datasource"}:
        v = TEMPLATING[name]
        assert v["type"] == "query", name
        assert v["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, name
        # "All" is .*: it matches a series without the label, e.g. a daemon with no location.
        assert v["includeAll"] is True and v["multi"] is True and v["allValue"] == ".*", name
        m = re.fullmatch(r"label_values\((\w+)(\{[^}]*\})?, *(\w+)\)", v["definition"])
        assert m, v["definition"]
        assert m.group(1) in EXPORTED and m.group(3) == name, name
        assert v["query"]["query"] == v["definition"], name
    # Each selector variable lists a family every monitor, service or SLO has.
    assert "uptimed_maintenance_active" in TEMPLATING["monitor"]["definition"]
    assert "uptimed_service_info" in TEMPLATING["service"]["definition"]
    assert "uptimed_slo_objective_ratio" in TEMPLATING["slo"]["definition"]


def _texts_using_variables() -> list[str]:
    return EXPRS + [v["definition"] for v in TEMPLATING.values() if "definition" in v]


def test_every_variable_used_is_defined_and_used_as_a_regex() -> None:
    used: set[str] = set()
    for text in _texts_using_variables():
        rest = GRAFANA_VARS.sub("", text)
        for m in USER_VARS.finditer(rest):
            name = m.group(1) or m.group(2)
            used.add(name)
            assert name in TEMPLATING, (name, text)
            # only inside a regex matcher: "All" (.*) and several values (a|b) then both work
            assert rest[: m.start()].endswith('=~"') and rest[m.end()] == '"', text
    assert used == VARIABLES - {"datasource"}, "a variable nothing uses"
    for text in EXPRS:
        for m in GRAFANA_VARS.finditer(text):
            assert m.group() in {"$__rate_interval", "$__interval", "$__range"}, text


def test_fill() -> None:
    e = 'rate(x{job=~"$job",a=~"${monitor}"}[$__rate_interval]) ${__range}'
    assert build.fill(e) == 'rate(x{job=~".*",a=~".*"}[5m]) 5m'
    assert build.fill(e, {"monitor": "a|b"}, "1m") == 'rate(x{job=~".*",a=~"a|b"}[1m]) 1m'


# --- PromQL ---------------------------------------------------------------------------------


def substituted(expr: str, values: dict[str, str] | None = None) -> str:
    """``expr`` with Grafana's variables replaced, independently of build.fill: the interval
    variables by 5m, each other ``$var`` by ``values[var]``, else by its "All" value ``.*``."""
    expr = re.sub(r"\$\{?__(?:rate_interval|interval|range)\}?", "5m", expr)
    given = values or {}
    return re.sub(
        r"\$\{(\w+)(?::\w+)?\}|\$(\w+)",
        lambda m: given.get(m.group(1) or m.group(2), ".*"),
        expr,
    )


def promtool_check(tmp_path: Path, exprs: list[str]) -> subprocess.CompletedProcess[str]:
    """``promtool check rules`` on ``exprs`` as recording rules (JSON is YAML)."""
    rules = [{"record": f"dashboard:expr{i}", "expr": e} for i, e in enumerate(exprs)]
    path = tmp_path / "dashboard.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    promtool = shutil.which("promtool")
    assert promtool is not None
    return subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_every_expression_parses(tmp_path: Path) -> None:
    assert len(EXPRS) >= 40
    r = promtool_check(tmp_path, [substituted(e) for e in EXPRS])
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(EXPRS)} rules found" in r.stdout, r.stdout
    # the check can fail: a broken expression is refused
    r = promtool_check(tmp_path, ["sum by (monitor (probe_success)"])
    assert r.returncode != 0


def query(title: str, ref: str = "A") -> str:
    (expr,) = [e for t, r, e in build.panel_queries(DASH) if (t, r) == (title, ref)]
    return expr


def series(name: str, value: str, **labels: str) -> dict[str, str]:
    """An input series of a promtool unit test: ``value`` repeated for 10 minutes."""
    text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{text}}}", "values": f"{value}x10"}


def evaluated(
    tmp_path: Path, inputs: list[dict[str, str]], expect: list[tuple[str, list[Any]]]
) -> subprocess.CompletedProcess[str]:
    """``promtool test rules`` (no rule file): each (expr, samples) of ``expect`` evaluated at
    5m over the ``inputs`` series, every sample given as (labels, value)."""
    cases = [
        {
            "expr": expr,
            "eval_time": "5m",
            "exp_samples": [{"labels": labels, "value": v} for labels, v in samples],
        }
        for expr, samples in expect
    ]
    doc = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": inputs, "promql_expr_test": cases}],
    }
    path = tmp_path / "dashboard.test.yml"
    path.write_text(json.dumps(doc))  # JSON is YAML
    return subprocess.run(
        ["promtool", "test", "rules", path.name], capture_output=True, text=True, cwd=tmp_path
    )


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_fleet_overview_counts_add_up(tmp_path: Path) -> None:
    """Evaluated by Prometheus' own engine (promtool), the overview's four counts split the
    configured monitors with none counted twice: two daemons (fra1, ams1), a monitor up, one
    down, one in maintenance everywhere, one with no verdict, and one in maintenance at fra1
    only, which ams1 still votes on (so it is up, not in maintenance)."""
    job = {"job": "uptimed"}
    where = [{"instance": "a:9", "location": "fra1"}, {"instance": "b:9", "location": "ams1"}]
    maintenance = {"up": ("0", "0"), "down": ("0", "0"), "maint": ("1", "1")}
    maintenance |= {"unknown": ("0", "0"), "partial": ("1", "0")}
    inputs = [
        series("uptimed_maintenance_active", flags[i], **job, **where[i], monitor=m)
        for m, flags in maintenance.items()
        for i in (0, 1)
    ]
    inputs += [
        series("uptimed:monitor_up:quorum", v, **job, monitor=m)
        for m, v in {"up": "1", "down": "0", "partial": "1"}.items()
    ]
    inputs += [series("uptimed_build_info", "1", **job, **w, version="1") for w in where]
    inputs += [
        series("uptimed:slo_error_budget_remaining:ratio30d", v, **job, slo=slo, target="up")
        for slo, v in {"spent": "-0.25", "fine": "0.5", "just": "0"}.items()
    ]
    counts = {
        "Monitors up": 2,
        "Monitors down": 1,
        "In maintenance": 1,
        "Unknown": 1,
        "Daemons reporting": 2,
        "SLOs out of budget": 2,
    }
    expect = [(substituted(query(t)), [("{}", n)]) for t, n in counts.items()]
    r = evaluated(tmp_path, inputs, expect)
    assert r.returncode == 0, r.stdout + r.stderr
    # and the check can fail: a wrong count is caught
    r = evaluated(tmp_path, inputs, [(substituted(query("Monitors up")), [("{}", 3)])])
    assert r.returncode != 0


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_zero_series_only_when_nothing_happened(tmp_path: Path) -> None:
    """Failures by error kind: a single 0 series "none" while no failure was ever counted (the
    family is absent then), and only the real series once there are failures."""
    panel = "Failed probes by error kind"
    expr = substituted(query(panel))
    labels = {"job": "uptimed", "instance": "a:9", "monitor": "m"}
    quiet = [series("probe_success", "1", **labels)]
    r = evaluated(tmp_path, quiet, [(expr, [('{error_kind="none"}', 0)])])
    assert r.returncode == 0, r.stdout + r.stderr
    failing = [
        {
            "series": 'uptimed_probe_failures_total{job="uptimed",instance="a:9",monitor="m",'
            'error_kind="timeout"}',
            "values": "0+60x10",  # one failure a second
        }
    ]
    r = evaluated(tmp_path, failing, [(expr, [('{monitor="m",error_kind="timeout"}', 1)])])
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_all_matches_a_daemon_without_location(tmp_path: Path) -> None:
    """A single daemon without [daemon].location has no location label: "All" (.*) still
    selects its series, and a chosen location does not."""
    inputs = [series("uptimed_monitor_up", "1", job="uptimed", instance="a:9", monitor="m")]
    expr = query("Monitor state per location")
    want = '{__name__="uptimed_monitor_up",job="uptimed",instance="a:9",monitor="m"}'
    r = evaluated(tmp_path, inputs, [(substituted(expr), [(want, 1)])])
    assert r.returncode == 0, r.stdout + r.stderr
    r = evaluated(tmp_path, inputs, [(substituted(expr, {"location": "fra1"}), [])])
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_metric_is_exported_recorded_or_prometheus_s() -> None:
    recorded = recorded_names()
    allowed = EXPORTED | recorded | PROMETHEUS
    for e in EXPRS:
        names = metric_names(e)
        assert names, e
        assert names <= allowed, (names - allowed, e)
        # the acceptance check's own reading of names agrees
        loose = set(re.findall(r"\b((?:probe|uptimed)_[a-z_]+|[a-z_]+:[a-z_:0-9]+)\b", e))
        assert loose <= allowed, (loose - allowed, e)


def test_recorded_names_exist_in_the_rules_when_shipped() -> None:
    """Once dashboards/rules/ exists, the dashboard's recorded names are names it records
    (the brief's list is only the stand-in before)."""
    used = {n for e in EXPRS for n in metric_names(e) if ":" in n}
    assert used <= BRIEF_RECORDED, used - BRIEF_RECORDED
    assert used <= recorded_names(), used - recorded_names()


# --- against a live daemon ------------------------------------------------------------------


def sample_names(metrics: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^([A-Za-z_:][\w:]*)[{ ]", metrics, re.M)}


async def test_exported_names_are_what_a_live_daemon_exports(
    tmp_path: Path, target: Target
) -> None:
    """The contract constant and the dashboard's names, against a real daemon's /metrics: one
    monitor up, one refused (failures by error kind), a quorum service, an SLO, a location and
    a shard (1/1: every monitor), so that every family the dashboard uses is there."""
    with closed_port() as refused:
        monitors = f"""
[[monitor]]
id = "ok"
kind = "http"
url = "{target.url("/status/200")}"

[[monitor]]
id = "down"
kind = "http"
url = "http://127.0.0.1:{refused}/"

[[service]]
id = "site"
monitors = ["ok", "down"]
rule = "quorum"
quorum = 2

[[slo]]
id = "site-availability"
target = "site"
objective = 99.0
window = "1h"
"""
        daemon = DaemonProc(tmp_path, monitors, args=("--location", "lab", "--shard", "1/1"))
        async with daemon as d:
            want = {"uptimed_slo_error_budget_remaining_ratio", "uptimed_probe_failures_total"}
            deadline = time.monotonic() + 20
            while True:
                metrics = await d.metrics()
                names = sample_names(metrics)
                if want <= names and "uptimed_slo_burn_rate" in names:
                    break
                assert time.monotonic() < deadline, f"no SLA series: {sorted(names)}"
                await asyncio.sleep(0.5)
    assert EXPORTED - EXPORTED_LATER <= names, EXPORTED - EXPORTED_LATER - names
    uptimed = {n for n in names if n.startswith(("uptimed_", "probe_"))}
    assert uptimed <= EXPORTED, f"exported but not in the contract: {uptimed - EXPORTED}"
    used = {n for e in EXPRS for n in metric_names(e)} - PROMETHEUS
    exported_used = {n for n in used if ":" not in n}
    assert exported_used <= names, exported_used - names
    # the labels the variables list are on the families they list them from
    for name in VARIABLES - {"datasource", "job"}:  # job: Prometheus adds it
        m = re.fullmatch(
            r"label_values\((\w+)(\{[^}]*\})?, *(\w+)\)", TEMPLATING[name]["definition"]
        )
        assert m
        assert re.search(rf'^{m.group(1)}{{[^}}]*\b{m.group(3)}="[^"]+"', metrics, re.M), name
    # with a location, the self-metrics carry it too (the daemon-health panels filter on it)
    assert re.search(r'^uptimed_writer_queue_depth\{[^}]*location="lab"', metrics, re.M)
