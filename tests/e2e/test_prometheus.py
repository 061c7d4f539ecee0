"""A real Prometheus scraping a real daemon, with the shipped rules and dashboard (issue 17, 3).

One scripted run (about a minute, shared by the tests of this module): a daemon at location
``lab`` probes three HTTP monitors every second on a loopback target whose answer per path the
script switches, and Debian's Prometheus (:mod:`tests.support.prometheus`) scrapes it every
second and evaluates the shipped rules every second:

* ``blip`` (failure_threshold 5): one 1.5 s blip, one or two failed probes, below the threshold;
* ``outage`` (failure_threshold 3): a ~10 s outage of 503s;
* ``maint`` (failure_threshold 1): down all along, inside a one-off maintenance window that
  covers the whole run. It has been down longer than ``outage`` whenever ``outage``'s alert
  fires, so its silence is the maintenance rule's doing, not too short an outage.

Service ``svc`` (rule all of blip and outage), SLO ``svc-slo`` on it. The script records what
the daemon (``/metrics``, ``uptimed status``, ``uptimed report``) and Prometheus (its query and
alerts API, and the ``ALERTS`` series it writes at every rule evaluation) said; the tests
assert on the record.

The recorded 1h availability against ``uptimed report --window 1h``: the error bound
-----------------------------------------------------------------------------------------
``uptimed:availability:ratio_rate1h = increase(up[1h]) / (increase(up[1h]) + increase(down[1h]))``
over the counters ``uptimed_up_seconds_total`` / ``uptimed_down_seconds_total``, which count
confirmed seconds only once final, at each SLA refresh (``REFRESH`` = 15 s). The run is shorter
than the hour, so the report's window holds the daemon's whole life: U and D, its up and down
seconds. With U_1, U_n (D_1, D_n) the first and last samples of the counters in the rule's
window, the differences are:

* before the first sample: U_1 (the first refresh, ~2 s after the start, may already count a
  second or two); D_1 = 0: the outage starts after Prometheus holds the counters (asserted);
* after the last sample: the report counts to its ``generated_at`` time g, the counters to the
  refresh's final point, no earlier than its evaluation time e minus a probe interval, a probe
  timeout and the writer's delay (``FINAL_LAG`` = 1 + 0.5 + 1 s); that time is all up (the
  outage ended before the refresh), so U = U_n + G with 0 <= G <= g - e + FINAL_LAG, and
  D = D_n exactly (asserted, to the millisecond);
* increase()'s extrapolation (Prometheus 2.x ``extrapolatedRate``): the raw delta is scaled by
  (S + s + t) / S, S the sampled interval (first to last sample), t the gap from the last
  sample to the evaluation (when under 1.1 average scrape intervals, else half an interval) and
  s the same at the start, except that it stops where the counter would reach 0: with
  D_1 = 0, s_d = 0, while s_u < 1.1 intervals. The two counters share their scrape timestamps
  (one scrape), so t is common and the ratio sees only f_u / f_d = (S + s_u + t) / (S + t), in
  [1, r], r = 1 + 1.1 x the average interval / S: the factors do not quite cancel. Each
  factor alone is in [1, 1 + 2.2 x the average interval / S].

So the recorded ratio is (U_n - U_1) f / ((U_n - U_1) f + D_n), f in [1, r], and the report's
is (U_n + G) / (U_n + G + D_n): the bound is the largest difference over those intervals
(:func:`ratio_bound`), about D (U_1 + G + U (r - 1)) / (U + D)^2. In this run (U ~ 40 s,
D ~ 11 s, U_1 ~ 2 s, G ~ 5 s with G_max ~ 6 s, S ~ 45 s) that is ~0.04, and the difference
measured ~0.03 (U_1 + G: up time the counters had not counted yet). The test compares right
after a refresh, so that G stays a few seconds rather than REFRESH. The same terms bound the
seconds: |increase(down) - D| <= D (2.2 intervals / S) and U - G_max - U_1 <= increase(up) <=
U (1 + 2.2 intervals / S).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp import web

from tests.support.daemon_proc import UPTIMED, DaemonProc, value
from tests.support.prometheus import (
    Prometheus,
    require_prometheus,
    shipped_rule_files,
)
from uptimed.web.sla_metrics import REFRESH

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "dashboards" / "uptimed.json"
BUILD = REPO / "dashboards" / "build.py"
LOCATION = "lab"
MONITORS = ("blip", "outage", "maint")
FINAL_LAG = 1.0 + 0.5 + 1.0  # probe interval + timeout + the writer's delay (WRITE_DELAY)
BLIP = 1.5  # seconds down: one or two probes at 1 s, under blip's failure_threshold of 5
OUTAGE = 10.0  # seconds down for outage (failure_threshold 3)


# -- the target, the config, the command line --------------------------------------------------


class Switch:
    """A loopback HTTP target: ``/<name>`` answers 200, or 503 while ``name`` is in ``down``.
    Every request is recorded as (wall time, name, status)."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.hits: list[tuple[float, str, int]] = []
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        name = request.path.strip("/")
        status = 503 if name in self.down else 200
        self.hits.append((time.time(), name, status))
        return web.Response(status=status, text=name)

    def failures(self, name: str, lo: float, hi: float) -> int:
        return sum(1 for t, n, s in self.hits if n == name and s != 200 and lo <= t <= hi)

    async def next_hit(self, name: str, timeout: float = 5) -> None:
        have = sum(1 for _, n, _ in self.hits if n == name)
        deadline = time.monotonic() + timeout
        while sum(1 for _, n, _ in self.hits if n == name) == have:
            assert time.monotonic() < deadline, f"no probe of /{name} in {timeout} s"
            await asyncio.sleep(0.01)

    async def __aenter__(self) -> Switch:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def iso(t: float) -> str:
    """Wall seconds as RFC 3339 UTC with milliseconds."""
    ms = round(t * 1000)
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{ms % 1000:03d}Z"
    )


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def monitors_toml(port: int, now: float) -> str:
    thresholds = {"blip": 5, "outage": 3, "maint": 1}
    text = "".join(
        f'[[monitor]]\nid = "{m}"\nkind = "http"\nurl = "http://127.0.0.1:{port}/{m}"\n'
        f"failure_threshold = {thresholds[m]}\n\n"
        for m in MONITORS
    )
    return text + (
        '[[service]]\nid = "svc"\nmonitors = ["blip", "outage"]\nrule = "all"\n\n'
        '[[slo]]\nid = "svc-slo"\ntarget = "svc"\nobjective = 99.0\nwindow = "1h"\n'
        "min_coverage = 0\n\n"
        '[[maintenance]]\nid = "mw"\nmonitors = ["maint"]\nreason = "the test"\n'
        f'start = "{iso(math.floor(now) - 3600)}"\nend = "{iso(math.floor(now) + 7200)}"\n'
    )


async def cli(*args: str) -> Any:
    """``uptimed ARGS --format json``, parsed. Asynchronous: the target answers on this loop,
    and a blocked loop would fail the daemon's probes."""
    proc = await asyncio.create_subprocess_exec(
        *UPTIMED, *args, "--format", "json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0 and not err, (args, proc.returncode, err.decode())
    return json.loads(out)


def load_build() -> ModuleType:
    """dashboards/build.py, by path (it is no package)."""
    spec = importlib.util.spec_from_file_location("uptimed_dashboard_build", BUILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_INTERVALS = {"__rate_interval": "1m", "__interval": "1s", "__range": "5m"}


def filled(expr: str, values: dict[str, str]) -> str:
    """``expr`` as Grafana sends it: the interval variables as in :data:`_INTERVALS`, each other
    ``$var`` / ``${var}`` / ``${var:fmt}`` as ``values[var]``, else ``.*`` (All)."""

    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return _INTERVALS.get(name) or values.get(name, ".*")

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", one, expr)


def by_monitor(rows: dict[tuple[str, ...], float]) -> dict[str, float]:
    return {k[0]: v for k, v in rows.items()}


def ratio_bound(
    u1: float, un: float, dn: float, g_max: float, r: float
) -> tuple[float, float, float, float]:
    """(lo, hi) of the recorded ratio and (lo, hi) of the report's, from the module
    docstring's terms: counters U_1, U_n, D_n; the report's extra up seconds G in [0, g_max];
    increase()'s factor ratio f_u / f_d in [1, r]."""
    a = un - u1
    prom_lo = a / (a + dn)
    prom_hi = a * r / (a * r + dn)
    rep_lo = un / (un + dn)
    rep_hi = (un + g_max) / (un + g_max + dn)
    return prom_lo, prom_hi, rep_lo, rep_hi


# -- the scripted run ------------------------------------------------------------------------------


async def scenario(tmp: Path) -> dict[str, Any]:
    rec: dict[str, Any] = {"blip_active": [], "service_active_before_outage": []}
    async with Switch() as target:
        target.down.add("maint")
        t0 = time.time()
        (tmp / "daemon").mkdir(parents=True)
        d = DaemonProc(
            tmp / "daemon", monitors_toml(target.port, t0), args=("--location", LOCATION)
        )
        async with Prometheus(tmp / "prometheus", [f"127.0.0.1:{d.port}"]) as p:
            rec["t0"] = t0
            async with d:
                await run_script(rec, target, d, p)
            rec["daemon_log"] = d.log.read_text()
    return rec


async def run_script(rec: dict[str, Any], target: Switch, d: DaemonProc, p: Prometheus) -> None:
    # Ready: every monitor's state and the SLA counters in Prometheus.
    async def ready() -> bool:
        up = await p.values("uptimed_monitor_up", "monitor")
        counters = await p.values('uptimed_up_seconds_total{monitor!=""}', "monitor")
        return len(up) == 3 and len(counters) == 3 and await p.targets_up()

    await p.wait_until(ready, 30, "the daemon's first states and SLA counters in Prometheus")
    await asyncio.sleep(1.5)  # maint's first failure and states settle
    rec["steady"] = await snapshot(d, p)

    # The blip: right after a probe of /blip, 503 for BLIP seconds. Watch the alerts from the
    # blip's start until well after its last failed probe could have counted (5 probes, a
    # scrape, an evaluation), and the service alert until the outage begins.
    await target.next_hit("blip")
    blip_at = time.time()
    target.down.add("blip")
    watch_until = blip_at + BLIP + 8
    while time.time() < watch_until:
        if time.time() >= blip_at + BLIP:
            target.down.discard("blip")
        for a in await p.alerts():
            labels = a["labels"]
            if labels.get("monitor") == "blip":
                rec["blip_active"].append(a)
            if labels.get("alertname") == "UptimedServiceDown":
                rec["service_active_before_outage"].append(a)
        await asyncio.sleep(0.2)
    target.down.discard("blip")
    rec["blip_window"] = (blip_at, blip_at + BLIP)
    rec["blip_failures"] = target.failures("blip", blip_at, blip_at + BLIP + 0.5)
    rec["blip_failures_prom"] = await p.value(
        'increase(uptimed_probes_total{monitor="blip",result="failure"}[30s])'
    )
    # D_1 = 0 in the module docstring: the down counter's first sample precedes the outage.
    rec["down_before_outage"] = await p.value('uptimed_down_seconds_total{monitor="outage"}')

    # The outage.
    await target.next_hit("outage")
    outage_at = time.time()
    target.down.add("outage")

    async def firing() -> list[dict[str, Any]]:
        return [a for a in await p.active("UptimedMonitorDown") if a["state"] == "firing"]

    fired = await p.wait_until(
        lambda: _firing_outage(p), 30, "UptimedMonitorDown firing for outage", every=0.2
    )
    rec["fired_after"] = time.time() - outage_at
    rec["fired"] = fired
    rec["firing"] = await firing()
    rec["down"] = await snapshot(d, p)
    await asyncio.sleep(max(0.0, outage_at + OUTAGE - time.time()))
    await target.next_hit("outage")
    recovered_at = time.time()
    target.down.discard("outage")
    rec["outage_window"] = (outage_at, recovered_at)

    # Resolved once the successes are confirmed (success_threshold 1).
    async def resolved() -> bool:
        return not await p.active("UptimedMonitorDown", monitor="outage")

    await p.wait_until(resolved, 15, "UptimedMonitorDown for outage to resolve")

    # A refresh at least REFRESH after the recovery: its final point is past the recovery, and
    # the up time since weighs the ratio down: the bound goes as D / (U + D)^2 (~0.03 with it,
    # ~0.07 without). Polled from before it can have happened, so seen within a scrape of
    # it, and by one evaluation of the rules after it: then compare at once, so that the
    # report's extra seconds G stay a few.
    async def fresh_refresh() -> float | None:
        e = await p.value("uptimed_sla_evaluated_timestamp_seconds")
        return e if e is not None and e > recovered_at + REFRESH else None

    await p.wait_until(fresh_refresh, 3 * REFRESH + 10, "an SLA refresh after the recovery")
    await asyncio.sleep(1.5)  # a rule evaluation (every 1 s) over the new sample
    rec["compare"] = await compare_1h(d, p)
    rec["availability"] = await availability_against_daemon(d, p)

    # The whole run is in Prometheus now (~60 s): every dashboard query, every rule's health,
    # and the ALERTS series over the run.
    rec["panels"] = await panel_results(p)
    rec["rules"] = await p.rules()
    start, end = rec["t0"], time.time()
    rec["alerts_history"] = {
        "blip": await p.query_range('ALERTS{monitor="blip"}', start, end),
        "maint": await p.query_range('ALERTS{monitor="maint"}', start, end),
        "outage_firing": await p.query_range(
            'ALERTS{alertname="UptimedMonitorDown",monitor="outage",alertstate="firing"}',
            start,
            end,
        ),
        "service_before_outage": await p.query_range(
            'ALERTS{alertname="UptimedServiceDown"}', start, outage_at
        ),
    }
    rec["maint_down_for"] = end - rec["t0"]


async def _firing_outage(p: Prometheus) -> list[dict[str, Any]]:
    return [
        a for a in await p.active("UptimedMonitorDown", monitor="outage") if a["state"] == "firing"
    ]


async def snapshot(d: DaemonProc, p: Prometheus) -> dict[str, Any]:
    """What the daemon and Prometheus say about each monitor, at one moment (the states are
    steady around it: taken well after any switch)."""
    metrics = await d.metrics()
    status = await cli("status", "-c", str(d.config))
    names = ("probe_success", "uptimed_monitor_up", "uptimed_maintenance_active")
    return {
        "daemon": {
            n: {m: value(metrics, n, monitor=m, location=LOCATION) for m in MONITORS} for n in names
        },
        "prometheus": {n: by_monitor(await p.values(n, "monitor")) for n in names},
        "status": {m["id"]: m["state"] for m in status["monitors"]},
        "labels": [r["metric"] for r in await p.query("probe_success")],
    }


async def compare_1h(d: DaemonProc, p: Prometheus) -> dict[str, Any]:
    """The recorded 1h availability of ``outage``, its inputs, and the report, together."""
    series = 'uptimed:availability:ratio_rate1h{monitor="outage"}'
    (last,) = await p.query(f"{series}[5s]")  # the newest evaluation, with its time
    t_e, recorded = last["values"][-1][0], float(last["values"][-1][1])
    ups = await p.query('uptimed_up_seconds_total{monitor="outage"}[1h]', at=t_e)
    downs = await p.query('uptimed_down_seconds_total{monitor="outage"}[1h]', at=t_e)
    report = await cli("report", "-c", str(d.config), "--window", "1h", "--monitor", "outage")
    (u_samples,), (d_samples,) = [r["values"] for r in ups], [r["values"] for r in downs]
    return {
        "t_e": t_e,
        "recorded": recorded,
        "recomputed": await p.value(
            'increase(uptimed_up_seconds_total{monitor="outage"}[1h])'
            ' / (increase(uptimed_up_seconds_total{monitor="outage"}[1h])'
            ' + increase(uptimed_down_seconds_total{monitor="outage"}[1h]))',
            at=t_e,
        ),
        "increase_up": await p.value(
            'increase(uptimed_up_seconds_total{monitor="outage"}[1h])', at=t_e
        ),
        "increase_down": await p.value(
            'increase(uptimed_down_seconds_total{monitor="outage"}[1h])', at=t_e
        ),
        "u": [(float(t), float(v)) for t, v in u_samples],
        "d": [(float(t), float(v)) for t, v in d_samples],
        "evaluated": await p.value("uptimed_sla_evaluated_timestamp_seconds", at=t_e),
        "report": report["monitors"][0],
        "generated_at": stamp(report["generated_at"]),
    }


async def availability_against_daemon(d: DaemonProc, p: Prometheus) -> dict[str, Any]:
    """Prometheus' latest SLA samples against the daemon's /metrics, read until they agree
    (they change only at a refresh, every 15 s: a scrape a second later has them), and the
    daemon's 1h ratio against a report over the refresh's own window."""
    names = ("uptimed_availability_ratio", "uptimed_up_seconds_total", "uptimed_down_seconds_total")

    async def read() -> dict[str, Any]:
        metrics = await d.metrics()
        out: dict[str, Any] = {}
        for n in names:
            prom = await p.values(n, "monitor", "service", "window")
            daemon = {
                k: value(
                    metrics,
                    n,
                    **{
                        lbl: v
                        for lbl, v in zip(("monitor", "service", "window"), k, strict=True)
                        if v
                    },
                )  # fmt: skip
                for k in prom
            }
            out[n] = (prom, daemon)
        out["evaluated"] = value(metrics, "uptimed_sla_evaluated_timestamp_seconds")
        return out

    got: dict[str, Any] = {}

    async def agree() -> bool:
        nonlocal got
        got = await read()
        return all(got[n][0] == got[n][1] and got[n][0] for n in names)

    deadline = time.monotonic() + 6
    while not await agree() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    e = got["evaluated"]
    window = await cli(
        "report", "-c", str(d.config), "--from", iso(e - 3600), "--to", iso(e),
        "--monitor", "outage", "--service", "svc",
    )  # fmt: skip
    return {"read": got, "report_at_refresh": window}


async def panel_results(p: Prometheus) -> dict[str, Any]:
    """Each dashboard query (title, refId, filled expr) -> how many series it returned, with
    the variables at All (``.*``) and at this run's real values; an instant query, and a range
    query over the last minute (what a time-series panel asks for) when that is empty."""
    if not DASHBOARD.exists() or not BUILD.exists():
        return {"missing": [str(x) for x in (DASHBOARD, BUILD) if not x.exists()]}
    build = load_build()
    queries = build.panel_queries(json.loads(DASHBOARD.read_text(encoding="utf-8")))
    selections = {
        "all": {},
        "real": {
            "job": "uptimed",
            "location": LOCATION,
            "monitor": "outage",
            "service": "svc",
            "slo": "svc-slo",
            "datasource": "prometheus",
        },  # fmt: skip
    }
    out: dict[str, Any] = {"count": len(queries), "empty": {}, "errors": {}}
    now = time.time()
    for name, values in selections.items():
        empty, errors = [], []
        for title, ref, expr in queries:
            q = filled(expr, values)
            try:
                n = len(await p.query(q)) or len(await p.query_range(q, now - 60, now, 1))
            except AssertionError as e:
                errors.append(f"{title} [{ref}]: {q}: {str(e).splitlines()[0]}")
                continue
            if n == 0:
                empty.append(f"{title} [{ref}]: {q}")
        out["empty"][name], out["errors"][name] = empty, errors
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_prometheus()
    assert shipped_rule_files(), "no rule files under dashboards/rules/"
    started = time.monotonic()
    rec = asyncio.run(scenario(tmp_path_factory.mktemp("prometheus")))
    rec["runtime"] = time.monotonic() - started
    yield rec


# -- the tests -------------------------------------------------------------------------------------


def test_probe_success_and_the_confirmed_state_are_what_the_daemon_shows(
    run: dict[str, Any],
) -> None:
    """probe_success, uptimed_monitor_up and uptimed_maintenance_active in Prometheus are the
    daemon's /metrics values and `uptimed status`'s states, all up and during the outage, with
    the location label on every series."""
    want = {
        "steady": {"probe_success": {"blip": 1.0, "outage": 1.0, "maint": 0.0},
                   "uptimed_monitor_up": {"blip": 1.0, "outage": 1.0, "maint": 0.0}},
        "down": {"probe_success": {"blip": 1.0, "outage": 0.0, "maint": 0.0},
                 "uptimed_monitor_up": {"blip": 1.0, "outage": 0.0, "maint": 0.0}},
    }  # fmt: skip
    for moment in ("steady", "down"):
        snap = run[moment]
        assert snap["prometheus"] == snap["daemon"], moment
        for name, values in want[moment].items():
            assert snap["prometheus"][name] == values, (moment, name)
        assert snap["prometheus"]["uptimed_maintenance_active"] == {
            "blip": 0.0, "outage": 0.0, "maint": 1.0
        }  # fmt: skip
        # uptimed_monitor_up is the state `uptimed status` shows (maintenance is separate).
        shown = {m: "up" if v == 1.0 else "down"
                 for m, v in snap["prometheus"]["uptimed_monitor_up"].items()}  # fmt: skip
        assert shown == snap["status"], moment
        assert all(lbl["location"] == LOCATION for lbl in snap["labels"]), snap["labels"]


def test_the_availability_series_hold_the_daemons_values(run: dict[str, Any]) -> None:
    """uptimed_availability_ratio and the up/down counters in Prometheus are the daemon's, to
    the last digit; and the daemon's 1h ratio is a report's over the same hour."""
    read = run["availability"]["read"]
    for name in ("uptimed_availability_ratio", "uptimed_up_seconds_total",
                 "uptimed_down_seconds_total"):  # fmt: skip
        prom, daemon = read[name]
        assert prom and prom == daemon, name
    ratios, _ = read["uptimed_availability_ratio"]
    assert ratios[("outage", "", "1h")] < 1.0  # the outage is in it
    report = run["availability"]["report_at_refresh"]
    figures = {m["id"]: m for m in report["monitors"] + report["services"]}
    # The refresh read the database at its evaluation time e, the report over [e-1h, e) a few
    # seconds later: results in flight at e (at most FINAL_LAG old) are in the report only, so
    # up to FINAL_LAG seconds may differ; in ratio terms D x FINAL_LAG / (U + D)^2 (~0.013).
    for key, kind in (("outage", "monitor"), ("svc", "service")):
        f = figures[key]
        slack = f["down_seconds"] * FINAL_LAG / (f["up_seconds"] + f["down_seconds"]) ** 2
        assert ratios[(key, "", "1h") if kind == "monitor" else ("", key, "1h")] == (
            pytest.approx(f["availability"], abs=slack + 1e-6)
        ), key


def test_a_blip_below_the_threshold_never_alerts(run: dict[str, Any]) -> None:
    """1-2 failed probes of blip (failure_threshold 5), seen by Prometheus, and no alert about
    blip pending or firing at any evaluation of the run, nor UptimedServiceDown before the
    outage."""
    assert 1 <= run["blip_failures"] <= 2, run["blip_failures"]
    assert run["blip_failures_prom"] >= 1  # Prometheus saw the failed probes
    assert run["blip_active"] == []
    assert run["service_active_before_outage"] == []
    assert run["alerts_history"]["blip"] == []
    assert run["alerts_history"]["service_before_outage"] == []


def test_an_outage_fires_monitor_down_and_maintenance_stays_silent(run: dict[str, Any]) -> None:
    """outage's 503s fire UptimedMonitorDown{monitor="outage"} (3 probes at 1 s, then a scrape
    and an evaluation: within a few seconds); maint, down longer, never alerts."""
    assert run["fired_after"] < 12, run["fired_after"]
    (alert,) = run["fired"]
    assert alert["labels"]["monitor"] == "outage"
    assert alert["labels"]["severity"] == "critical"
    assert {"summary", "description", "runbook"} <= set(alert["annotations"])
    assert {a["labels"]["monitor"] for a in run["firing"]} == {"outage"}
    assert run["alerts_history"]["outage_firing"]
    assert run["alerts_history"]["maint"] == []
    assert run["maint_down_for"] > run["outage_window"][1] - run["outage_window"][0]


def test_the_recorded_1h_availability_is_the_reports_within_the_stated_bound(
    run: dict[str, Any],
) -> None:
    """See the module docstring for the bound."""
    c = run["compare"]
    report = c["report"]
    up, down = report["up_seconds"], report["down_seconds"]
    u, dn = c["u"], c["d"]
    assert run["down_before_outage"] == 0.0
    assert dn[0][1] == 0.0  # D_1 = 0
    assert down >= OUTAGE - 1  # the whole outage is counted, backdated to its first failure
    assert dn[-1][1] == pytest.approx(down, abs=0.002)  # D = D_n: the counter is exact
    # The rule is the formula.
    assert c["recorded"] == pytest.approx(c["recomputed"], rel=1e-9)
    # The terms of the bound, measured.
    u1, un = u[0][1], u[-1][1]
    assert u1 <= 4.0, u  # the first refresh counted at most a few seconds
    s = u[-1][0] - u[0][0]
    interval = s / (len(u) - 1)  # the average scrape interval
    g_max = c["generated_at"] - c["evaluated"] + FINAL_LAG
    assert 0 <= up - un <= g_max, (up, un, g_max)  # the counters' lag is what is claimed
    assert abs(c["increase_down"] - down) <= down * 2.2 * interval / s + 0.002
    assert up - g_max - u1 <= c["increase_up"] <= up * (1 + 2.2 * interval / s)
    prom_lo, prom_hi, rep_lo, rep_hi = ratio_bound(u1, un, down, g_max, 1 + 1.1 * interval / s)
    bound = max(prom_hi - rep_lo, rep_hi - prom_lo)
    # A guard that the comparison means something (the outage moves the ratio by ~0.23); the
    # bound itself is computed above (~0.03 here, more if the report starts late under load).
    assert bound < 0.1, bound
    assert abs(c["recorded"] - report["availability"]) <= bound, (
        c["recorded"], report["availability"], bound
    )  # fmt: skip


def test_every_dashboard_panel_returns_data(run: dict[str, Any]) -> None:
    """Each query of dashboards/uptimed.json, with its variables at All and at real values,
    returns at least one series from this Prometheus after the ~60 s run."""
    panels = run["panels"]
    assert "missing" not in panels, panels
    assert panels["count"] > 10
    assert panels["errors"] == {"all": [], "real": []}
    assert panels["empty"] == {"all": [], "real": []}


def test_every_shipped_rule_evaluates_without_error(run: dict[str, Any]) -> None:
    bad = [(r["name"], r.get("lastError")) for r in run["rules"] if r.get("health") != "ok"]
    assert run["rules"] and bad == []
    assert "Traceback" not in run["daemon_log"]
