"""The shipped Prometheus rules (dashboards/rules/*.yml), checked by the real promtool.

``promtool check rules`` must pass every rule file without a warning, and ``promtool test rules``
every unit-test file of dashboards/tests/ (they prove each alert fires when it should and stays
silent during maintenance, unknown time and blips; the quorum; services; burn-rate thresholds;
the figures). A few mutated copies of the rules must make those unit tests fail, so they are
known to bite. The rest reads the YAML: the recording rules the dashboard and the README rely
on exist under the brief's names, and every alert routes by ``severity`` and explains itself.

Only a missing promtool (Debian package ``prometheus``; CI installs it) skips the promtool tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "dashboards" / "rules"
UNIT_TESTS = ROOT / "dashboards" / "tests"
RULE_FILES = sorted(RULES.glob("*.yml"))
TEST_FILES = sorted(UNIT_TESTS.glob("*.yml"))
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not on PATH (Debian: apt-get install prometheus; CI installs it, .ci/run)",
)

#: The names the dashboard and the README use (issue 17's brief): the rules record exactly these.
RECORDED = (
    [f"uptimed:availability:ratio_rate{w}" for w in ("5m", "1h", "1d", "30d")]
    + [
        "uptimed:monitor_locations:count",
        "uptimed:monitor_locations_down:count",
        "uptimed:monitor_up:quorum",
        "uptimed:service_up:quorum",
    ]
    + [f"uptimed:quorum_availability:ratio_avg{w}" for w in ("5m", "1h", "1d", "30d")]
    + [
        f"uptimed:slo_error:ratio_rate{w}"
        for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
    ]
    + [f"uptimed:slo_burn_rate:rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")]
    + ["uptimed:slo_error_budget_remaining:ratio30d"]
)
ALERTS = (
    "UptimedMonitorDown",
    "UptimedServiceDown",
    "UptimedSLOFastBurn",
    "UptimedSLOSlowBurn",
    "UptimedErrorBudgetExhausted",
    "UptimedProbesSkipped",
    "UptimedScheduleLagHigh",
    "UptimedWriterQueueGrowing",
    "UptimedWriterStuck",
    "UptimedConnectivityDegraded",
    "UptimedAbsent",
)
SEVERITIES = {"critical", "warning", "info"}  # page, ticket, dashboard


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path}: not a YAML mapping"
    return doc


def groups() -> list[dict[str, Any]]:
    return [g for path in RULE_FILES for g in load(path).get("groups") or []]


def rules() -> list[dict[str, Any]]:
    return [r for g in groups() for r in g.get("rules") or []]


def alerts() -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for r in rules() if "alert" in r}


def seconds(duration: str) -> float:
    """A Prometheus duration such as "2m30s" in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(int(n) * units[u] for n, u in parts)


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, cwd=cwd, timeout=300, check=False
    )


def promtool_tests(runs: dict[str, Path]) -> dict[str, tuple[int, str]]:
    """``promtool test rules`` on each unit-test file of ``runs`` (key: its path), all at once
    (a few take seconds each): key -> (exit code, stdout + stderr)."""
    assert PROMTOOL is not None
    procs = {
        key: subprocess.Popen(
            [PROMTOOL, "test", "rules", path.name],
            cwd=path.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # promtool reports failures on stderr
            text=True,
        )
        for key, path in runs.items()
    }
    return {key: (p.wait(timeout=300), p.communicate()[0]) for key, p in procs.items()}


# -- promtool ---------------------------------------------------------------------------------


@needs_promtool
@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules_is_clean(path: Path) -> None:
    r = promtool("check", "rules", str(path))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "warning" not in out.lower(), out  # e.g. duplicate rules
    count = sum(len(g.get("rules") or []) for g in load(path)["groups"])
    assert f"SUCCESS: {count} rules found" in out, out


@pytest.fixture(scope="module")
def unit_test_runs() -> dict[str, tuple[int, str]]:
    return promtool_tests({p.name: p for p in TEST_FILES})


@needs_promtool
@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_promtool_unit_tests_pass(path: Path, unit_test_runs: dict[str, tuple[int, str]]) -> None:
    code, out = unit_test_runs[path.name]
    assert code == 0 and "SUCCESS" in out, out


#: (rule file, text, replacement, unit-test file, a word its failure report names): each a bug
#: the unit tests must catch.
MUTATIONS = [
    # alerting on a monitor in maintenance at one location
    (
        "uptimed-alerts.yml",
        "\n            unless on (job, monitor) uptimed_maintenance_active == 1",
        "",
        "quorum.test.yml",
        "UptimedMonitorDown",
    ),
    # a monitor down with k - 1 locations seeing it down
    (
        "uptimed-recording.yml",
        "uptimed:monitor_locations_down:count\n            < bool on (job) group_left ()",
        "uptimed:monitor_locations_down:count\n            <= bool on (job) group_left ()",
        "quorum.test.yml",
        "uptimed:monitor_up:quorum",
    ),
    # "any" down while one voter is still up
    (
        "uptimed-recording.yml",
        "uptimed:service_members_down:count < bool uptimed:service_members:count",
        "uptimed:service_members_down:count <= bool uptimed:service_members:count",
        "services.test.yml",
        "UptimedServiceDown",
    ),
    # paging below the 14.4x threshold
    (
        "uptimed-alerts.yml",
        "(uptimed:slo_burn_rate:rate1h > 14.4 and",
        "(uptimed:slo_burn_rate:rate1h > 13 and",
        "slo.test.yml",
        "UptimedSLOFastBurn",
    ),
    # counter resets taken as negative time
    (
        "uptimed-recording.yml",
        "increase(uptimed_up_seconds_total[5m])\n          /",
        "delta(uptimed_up_seconds_total[5m])\n          /",
        "availability.test.yml",
        "uptimed:availability:ratio_rate5m",
    ),
    # one notifier's deliveries taken for another's
    (
        "uptimed-alerts.yml",
        "unless on (job, instance, notifier)",
        "unless on (job, instance)",
        "notifications.test.yml",
        "UptimedNotificationsBacklog",
    ),
    # paging as soon as one scrape fails
    (
        "uptimed-alerts.yml",
        'absent(uptimed_build_info{job="uptimed"}) unless on () up{job="uptimed"} == 0\n'
        "        for: 2m",
        'absent(uptimed_build_info{job="uptimed"}) unless on () up{job="uptimed"} == 0\n'
        "        for: 0m",
        "daemon.test.yml",
        "UptimedAbsent",
    ),
]
MUTATION_IDS = [f"{m[3]}:{m[4]}" for m in MUTATIONS]
MUTATION_CASES = [(key, m[4]) for key, m in zip(MUTATION_IDS, MUTATIONS, strict=True)]


@pytest.fixture(scope="module")
def mutation_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Each mutation in a copy of dashboards/rules and dashboards/tests, and its unit-test file
    run on it."""
    runs = {}
    for key, (rule_file, text, replacement, unit_test, _) in zip(
        MUTATION_IDS, MUTATIONS, strict=True
    ):
        top = tmp_path_factory.mktemp("mutation")
        shutil.copytree(RULES, top / "rules")
        shutil.copytree(UNIT_TESTS, top / "tests")
        target = top / "rules" / rule_file
        source = target.read_text(encoding="utf-8")
        assert source.count(text) == 1, f"{rule_file} no longer holds {text!r}: update it"
        target.write_text(source.replace(text, replacement), encoding="utf-8")
        check = promtool("check", "rules", str(target))
        assert check.returncode == 0, check.stdout + check.stderr  # still valid rules
        runs[key] = top / "tests" / unit_test
    return promtool_tests(runs)


@needs_promtool
@pytest.mark.parametrize(("key", "named"), MUTATION_CASES)
def test_the_unit_tests_catch_a_broken_rule(
    key: str, named: str, mutation_runs: dict[str, tuple[int, str]]
) -> None:
    code, out = mutation_runs[key]
    assert code != 0, f"the unit tests pass with the mutated rule:\n{out}"
    assert "FAILED" in out and named in out, out


# -- the YAML ---------------------------------------------------------------------------------


def test_the_rule_and_unit_test_files() -> None:
    assert [p.name for p in RULE_FILES] == ["uptimed-alerts.yml", "uptimed-recording.yml"]
    assert TEST_FILES, "no promtool unit tests in dashboards/tests/"
    for path in TEST_FILES:
        assert "test" in path.name, path  # how the acceptance check tells them from rule files
        doc = load(path)
        # each loads both rule files: the alerts read the recorded series
        assert sorted(doc["rule_files"]) == [f"../rules/{p.name}" for p in RULE_FILES], path
        assert doc.get("tests"), path


def test_the_brief_recording_rules_are_recorded() -> None:
    recorded = {r["record"] for r in rules() if "record" in r}
    missing = [name for name in RECORDED if name not in recorded]
    assert not missing, missing
    # every name follows level:metric:operations, and stays in uptimed's namespace
    for name in recorded:
        assert re.fullmatch(r"uptimed:[a-z0-9_]+:[a-z0-9_]+", name), name


def test_every_alert_routes_and_explains_itself() -> None:
    found = alerts()
    assert set(ALERTS) <= set(found), sorted(set(ALERTS) - set(found))
    for name, rule in found.items():
        assert re.fullmatch(r"Uptimed[A-Za-z]+", name), name
        assert rule.get("labels", {}).get("severity") in SEVERITIES, name
        notes = rule.get("annotations", {})
        for key in ("summary", "description", "runbook"):
            assert isinstance(notes.get(key), str) and notes[key].strip(), (name, key)
        # the description gives the figure that fired it (UptimedAbsent's value is 0 or 1
        # always: up == 0, or absent(); its labels say which daemon)
        if name != "UptimedAbsent":
            assert "$value" in notes["description"], name
        assert "$labels" in notes["description"], name
        # the runbook names the README's section for the alert
        assert f"#alert-{name.lower()}" in notes["runbook"], name
    severities = {r["labels"]["severity"] for r in found.values()}
    assert severities == SEVERITIES, severities  # every route has an alert


def test_monitor_and_service_down_page_from_the_fleet_state() -> None:
    found = alerts()
    for name, state in (
        ("UptimedMonitorDown", "uptimed:monitor_up:quorum == 0"),
        ("UptimedServiceDown", "uptimed:service_up:quorum == 0"),
    ):
        expr = found[name]["expr"]
        assert state in expr, name
        # never a single probe, nor a single daemon's state
        assert "probe_success" not in expr and "uptimed_monitor_up" not in expr, name
        assert found[name]["labels"]["severity"] == "critical", name
    assert "uptimed_maintenance_active == 1" in found["UptimedMonitorDown"]["expr"]


def test_every_group_has_an_explicit_interval() -> None:
    # the end-to-end test rewrites the intervals of a copy; production keeps these
    for group in groups():
        assert "interval" in group, group["name"]
        interval = seconds(group["interval"])
        if group["name"] == "uptimed-fleet-chain":
            assert interval == 300, group["name"]  # its 5m windows tile the time
        elif group["name"] == "uptimed-fleet-long":
            # its series are read as instant vectors: below the 5m lookback, so they never
            # look absent between two evaluations
            assert 60 < interval < 300, group["name"]
        else:
            assert interval == 30, group["name"]


def test_every_alert_is_unit_tested_firing_and_silent() -> None:
    """Each alert has a promtool case where it fires (exact labels and annotations) and one
    where it must not."""
    firing: set[str] = set()
    silent: set[str] = set()
    for path in TEST_FILES:
        for case in load(path)["tests"]:
            for check in case.get("alert_rule_test") or []:
                (firing if check.get("exp_alerts") else silent).add(check["alertname"])
                for exp in check.get("exp_alerts") or []:
                    assert exp.get("exp_labels", {}).get("severity") in SEVERITIES, path
                    assert {"summary", "description", "runbook"} <= set(
                        exp.get("exp_annotations", {})
                    ), path
    names = set(alerts())
    assert names <= firing, sorted(names - firing)
    assert names <= silent, sorted(names - silent)


def test_unit_tests_fix_the_order_of_the_groups() -> None:
    """promtool evaluates the groups in a random order unless told (Prometheus runs them
    independently): every unit-test file names them all, recording groups first, so that a
    result never depends on the draw."""
    names = [g["name"] for g in groups()]
    recording = {g["name"] for g in groups() if all("record" in r for r in g["rules"])}
    for path in TEST_FILES:
        order = load(path).get("group_eval_order")
        assert order is not None and sorted(order) == sorted(names), path
        first = order[: len(recording)]
        assert set(first) == recording, (path, order)
