"""One path for every SLA figure: /metrics, the JSON API and ``uptimed report`` agree (issue 14).

A real daemon (``uptimed run``) probes three loopback targets for ~20 s:

* ``api`` (HTTP) answers 503 during ``FAIL`` (seconds after ``s0``, the whole second before the
  daemon starts), and is in the one-off config maintenance window ``mw`` during ``MW``, which
  covers the end of that outage: its counted downtime is ``[first failed probe, s0 + MW[0])``;
* ``web`` (HTTP) and ``db`` (TCP) are always up; the service ``shop`` is ``all`` of api and web
  (api in maintenance does not vote, web does: the service has no maintenance time).

SLOs (all with ``min_coverage = 0``: the daemon runs seconds of their windows):

* ``term``: api, rolling 1h window, agreement ``effective_from = s0 + TERM``, after the outage and
  the maintenance. Over its term it was always up: attainment 1.0, no downtime, budget untouched,
  burn 0 everywhere. A /metrics (or report) that used the plain 1h window would count the outage.
* ``monthly``: api, ``period = "month"`` in Europe/Berlin, ``policy = { unknown = "down" }``, credit
  tiers: the month before the daemon started counts against it (attainment near 0: the 100 %
  credit tier).
* ``lenient``: api, 2h window, ``policy = { unknown = "up", maintenance = "up" }``.
* ``svc``: the service shop, 1d window.
* ``latency``: api, 1d window, a latency objective (not on /metrics: API and CLI only).

Once a /metrics refresh has been computed after ``s0 + TERM`` (all failures, the maintenance and
the term's start lie before it), the test takes, as close together as it can, one scrape (the
series computed at ``T_m`` = ``uptimed_sla_evaluated_timestamp_seconds``), ``GET /api/v1/report``
and ``GET /api/v1/slos`` (``generated_at`` ``T_a``, ``T_s``) and ``uptimed report --format json``
(``T_c``), and compares every SLO in every pair of them.

Skew bounds. Two evaluations at ``t1`` and ``t2`` see the same database except for what happened
in between, and nothing changes state then (the outage and the maintenance ended seconds
before). With ``Δ = |t2 − t1|``:

* up and unknown seconds differ by at most ``δ = Δ + TAIL``. The window's end moves by Δ (a
  rolling window's start too, through time before the daemon started: unknown); and time after
  the run's last heartbeat (at most ``TAIL`` before ``now``: the writer stamps one with every
  batch, and probes come every second) is unknown at ``t1`` and up at ``t2``;
* down and maintenance seconds are equal (to the millisecond): both lie wholly before ``t1``;
* up + down + maintenance + unknown is exactly the evaluated window in each source: ``now −
  effective_from`` (term), ``now −`` the month's start (monthly), the window length (rolling);
* a ratio ``x / y`` whose terms move by at most ``dx`` and ``dy`` moves by at most
  ``(dx + |x / y| · dy) / min(y1, y2)`` (since ``x'/y' − x/y = ((x'−x)·y − x·(y'−y)) / (y·y')``).
  With good and bad time by the SLO's policy, eligible ``E = good + bad`` and ``k = 1 −
  objective``: attainment = good / E; remaining budget ratio = 1 − bad / (k·E), so it moves by
  the bound of bad / E over k; coverage = (up + down) / (window − maintenance), the denominator
  moving by at most Δ; burn rate = (bad_w / E_w) / k over each burn window w, whose up, down and
  maintenance are the SLO's (every burn window, 5m to 3d, holds the whole run; the term SLO's
  are cut to its term, i.e. equal its window) and whose unknown is the rest.

Every source is also checked against itself exactly: attainment, coverage, budget and each burn
rate recomputed from its own four figures. What makes /metrics using another window than the
report fail: the exact window sums, the exact down and maintenance seconds, and the term SLO's
attainment 1.0 and zero downtime in all three (the plain 1h window holds ~2.5 s of downtime).

Last, the daemon gets SIGTERM and ``uptimed report --from --to`` over a window wholly in the
past must still account for every second of each SLO's window.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from tests.support.daemon_proc import UPTIMED, DaemonProc

FAIL = (5, 10)  # api answers 503 (seconds after s0)
MW = (8, 12)  # the config maintenance window on api
TERM = 13  # the term SLO's effective_from
TAIL = 2.5  # s: the most the running daemon's last heartbeat lags now (see the docstring)
EPS = 0.0011  # s: figures are whole milliseconds
BURN = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600, "24h": 86400, "3d": 259200}
STATES = ("up", "down", "maintenance", "unknown")
BERLIN = ZoneInfo("Europe/Berlin")

# id -> (objective %, unknown policy, maintenance policy, window seconds or None)
SLOS: dict[str, tuple[str, str, str, int | None]] = {
    "term": ("99.0", "exclude", "exclude", 3600),
    "monthly": ("99.0", "down", "exclude", None),
    "lenient": ("95.0", "up", "up", 7200),
    "svc": ("99.0", "exclude", "exclude", 86400),
    "latency": ("99.0", "exclude", "exclude", 86400),
}
TARGETS = {"term": "api", "monthly": "api", "lenient": "api", "svc": "shop", "latency": "api"}


def iso(t: float) -> str:
    ms = round(t * 1000)
    text = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ms % 1000:03d}Z" if ms % 1000 else "Z")


def ms_of(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def month_start(t: float) -> float:
    local = datetime.fromtimestamp(t, BERLIN)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def config(port: int, s0: int) -> str:
    return f"""
[[monitor]]
id = "api"
kind = "http"
url = "http://127.0.0.1:{port}/api"

[[monitor]]
id = "web"
kind = "http"
url = "http://127.0.0.1:{port}/web"

[[monitor]]
id = "db"
kind = "tcp"
host = "127.0.0.1"
port = {port}

[[service]]
id = "shop"
monitors = ["api", "web"]
rule = "all"

[[slo]]
id = "term"
target = "api"
objective = 99.0
window = "1h"
effective_from = "{iso(s0 + TERM)}"
min_coverage = 0

[[slo]]
id = "monthly"
target = "api"
objective = 99.0
period = "month"
timezone = "Europe/Berlin"
policy = {{ unknown = "down" }}
credits = [
  {{ below = 99.9, credit = 10 }}, {{ below = 99.0, credit = 25 }}, {{ below = 50, credit = 100 }},
]
min_coverage = 0

[[slo]]
id = "lenient"
target = "api"
objective = 95.0
window = "2h"
policy = {{ unknown = "up", maintenance = "up" }}
min_coverage = 0

[[slo]]
id = "svc"
target = "shop"
objective = 99.0
window = "1d"
min_coverage = 0

[[slo]]
id = "latency"
target = "api"
objective = 99.0
window = "1d"
latency = {{ threshold = "1s", objective = 95.0 }}
min_coverage = 0

[[maintenance]]
id = "mw"
monitors = ["api"]
reason = "planned switch"
start = "{iso(s0 + MW[0])}"
end = "{iso(s0 + MW[1])}"
"""


# -- the three sources, as one shape ---------------------------------------------------------------


def parse_metrics(text: str) -> tuple[float, dict[str, dict[str, Any]]]:
    """(T_m, per SLO: its four figures, attainment, coverage, remaining ratio, burn rates)."""
    samples: list[tuple[str, dict[str, str], float]] = []
    for m in re.finditer(r"^(\w+)(?:\{([^}]*)\})? (\S+)$", text, re.MULTILINE):
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples.append((m.group(1), labels, float(m.group(3))))
    (t_m,) = [v for n, _, v in samples if n == "uptimed_sla_evaluated_timestamp_seconds"]
    out: dict[str, dict[str, Any]] = {}
    for name, labels, v in samples:
        if "slo" not in labels:
            continue
        assert labels["target"] == TARGETS[labels["slo"]], labels
        s = out.setdefault(
            labels["slo"],
            {
                "t": t_m,
                "burn": dict.fromkeys(BURN),
                "attainment": None,
                "coverage": None,
                "remaining": None,
            },
        )
        if name == "uptimed_slo_window_seconds":
            s[labels["state"]] = v
        elif name == "uptimed_slo_burn_rate":
            s["burn"][labels["window"]] = v
        elif name == "uptimed_slo_attainment_ratio":
            s["attainment"] = v
        elif name == "uptimed_slo_coverage_ratio":
            s["coverage"] = v
        elif name == "uptimed_slo_error_budget_remaining_ratio":
            s["remaining"] = v
        elif name == "uptimed_slo_objective_ratio":
            s["objective"] = v
    return t_m, out


def from_report(slos: list[dict[str, Any]], t: float) -> dict[str, dict[str, Any]]:
    out = {}
    for s in slos:
        out[s["id"]] = {
            "t": t,
            **{state: s[f"{state}_seconds"] for state in STATES},
            "attainment": s["attainment"],
            "coverage": s["coverage"],
            "remaining": s["error_budget"]["remaining_ratio"],
            "burn": s["burn_rates"],
            "objective": s["objective"],
        }
    return out


# -- the rules, recomputed ---------------------------------------------------------------------


def good_bad(f: dict[str, float], unknown: str, maintenance: str) -> tuple[float, float]:
    good = (
        f["up"]
        + (f["unknown"] if unknown == "up" else 0)
        + (f["maintenance"] if maintenance == "up" else 0)
    )
    return good, f["down"] + (f["unknown"] if unknown == "down" else 0)


def burn_categories(slo: str, f: dict[str, float], length: int) -> dict[str, float]:
    """The four figures over the burn window of ``length`` s (see the docstring)."""
    if slo == "term":
        return f
    known = f["up"] + f["down"] + f["maintenance"]
    return {**f, "unknown": length - known}


def check_itself(slo: str, f: dict[str, Any], where: str) -> None:
    """Attainment, coverage, budget and burn rates follow exactly from the four figures."""
    objective, unknown, maintenance, _ = SLOS[slo]
    k = 1 - Fraction(objective) / 100
    ms = {c: round(f[c] * 1000) for c in STATES}
    good, bad = good_bad(ms, unknown, maintenance)
    what = f"{where} {slo}"
    assert f["objective"] == float(Fraction(objective) / 100), what
    assert f["attainment"] == (float(Fraction(good, good + bad)) if good + bad else None), (what, f)
    window = sum(ms.values())
    cov = (
        Fraction(ms["up"] + ms["down"], window - ms["maintenance"])
        if window > ms["maintenance"]
        else None
    )
    assert close(f["coverage"], cov), (what, f)
    remaining = 1 - Fraction(bad) / (k * (good + bad)) if good + bad else None
    assert close(f["remaining"], remaining), (what, f)
    for name, length in BURN.items():
        g, b = good_bad(burn_categories(slo, ms, length * 1000), unknown, maintenance)
        assert close(f["burn"][name], Fraction(b, g + b) / k if g + b else None), (what, name, f)


def close(got: float | None, want: Fraction | None) -> bool:
    """``got`` is ``want`` as a float (to rounding: sources divide in different orders)."""
    if got is None or want is None:
        return got is None and want is None
    return math.isclose(got, float(want), rel_tol=1e-12, abs_tol=1e-15)


def ratio_bound(x: float, dx: float, y: float, dy: float, y_min: float) -> float:
    """How far ``x / y`` can move when ``x`` moves by ``dx`` and ``y`` by ``dy``."""
    return math.inf if y_min <= 0 else (dx + abs(x / y) * dy) / y_min


def compare(slo: str, a: dict[str, Any], b: dict[str, Any], names: str) -> None:
    """Two sources agree on ``slo`` within their skew (the bounds of the module docstring)."""
    objective, unknown, maintenance, _ = SLOS[slo]
    k = 1 - float(objective) / 100
    skew = abs(a["t"] - b["t"])
    d = {"up": skew + TAIL, "unknown": skew + TAIL, "down": EPS, "maintenance": EPS}
    what = f"{names} {slo} (skew {skew:.3f} s): {a} vs {b}"
    for c in STATES:
        assert abs(a[c] - b[c]) <= d[c], (c, what)

    dgood, dbad = good_bad(d, unknown, maintenance)
    ga, ba = good_bad(a, unknown, maintenance)
    gb, bb = good_bad(b, unknown, maintenance)
    e_min = min(ga + ba, gb + bb)
    if a["attainment"] is not None:
        tol = ratio_bound(ga, dgood, ga + ba, dgood + dbad, e_min)
        assert abs(a["attainment"] - b["attainment"]) <= tol + 1e-12, ("attainment", tol, what)
        tol = ratio_bound(ba, dbad, ga + ba, dgood + dbad, e_min) / k
        assert abs(a["remaining"] - b["remaining"]) <= tol + 1e-12, ("remaining", tol, what)
    else:
        assert b["attainment"] is None and a["remaining"] is None and b["remaining"] is None, what
    wa, wb = (sum(f[c] for c in STATES) - f["maintenance"] for f in (a, b))
    tol = ratio_bound(a["up"] + a["down"], d["up"] + d["down"], wa, skew + EPS, min(wa, wb))
    assert abs(a["coverage"] - b["coverage"]) <= tol + 1e-12, ("coverage", tol, what)
    for name, length in BURN.items():
        fa, fb = burn_categories(slo, a, length), burn_categories(slo, b, length)
        ga, ba = good_bad(fa, unknown, maintenance)
        gb, bb = good_bad(fb, unknown, maintenance)
        tol = ratio_bound(ba, dbad, ga + ba, dgood + dbad, min(ga + ba, gb + bb)) / k
        if a["burn"][name] is None or b["burn"][name] is None:
            assert a["burn"][name] is b["burn"][name] is None, ("burn", name, what)
        else:
            assert abs(a["burn"][name] - b["burn"][name]) <= tol + 1e-12, ("burn", name, tol, what)


def check_window(slo: str, s: dict[str, Any], now: int, s0: int) -> None:
    """The report JSON (of a report generated at ``now``, ms) says which window it evaluated,
    and it is the config's."""
    _, unknown, maintenance, length = SLOS[slo]
    frm, to = ms_of(s["from"]), ms_of(s["to"])
    # "to date": what was asked for goes on after now (the month; a rolling window ends at now).
    assert to == now and s["to_date"] is (slo == "monthly"), (slo, s)
    assert s["policy"] == {"unknown": unknown, "maintenance": maintenance}, (slo, s["policy"])
    assert s["target"] == TARGETS[slo] and s["target_kind"] == (
        "service" if slo == "svc" else "monitor"
    )
    if slo == "term":
        assert frm == (s0 + TERM) * 1000 and s["effective_from"] == iso(s0 + TERM), (slo, s)
        assert (s["basis"], s["window"], s["period"]) == ("window", "1h", None), (slo, s)
    elif slo == "monthly":
        assert frm == round(month_start(now / 1000) * 1000), (slo, s)
        assert (s["basis"], s["window"], s["period"], s["timezone"]) == (
            "period",
            None,
            "month",
            "Europe/Berlin",
        )
    else:
        assert length is not None and frm == now - length * 1000, (slo, s)
        assert s["basis"] == "window" and s["period"] is None and s["effective_from"] is None, (
            slo,
            s,
        )
        assert s["window"] == {3600: "1h", 7200: "2h", 86400: "1d"}[length], (slo, s)
    total = sum(s[f"{c}_seconds"] for c in STATES)
    assert total == pytest.approx((to - frm) / 1000, abs=1e-6), (slo, s)
    good, bad = good_bad({c: s[f"{c}_seconds"] for c in STATES}, unknown, maintenance)
    assert s["eligible_seconds"] == pytest.approx(good + bad, abs=1e-6), (slo, s)


# -- the run ---------------------------------------------------------------------------------------


async def serve(failing: set[str]) -> tuple[web.AppRunner, int]:
    async def handler(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.Response(status=503 if name in failing else 200, text=name)

    app = web.Application()
    app.router.add_get("/{name}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def cli(*args: str) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        *UPTIMED, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0 and not err, err.decode()
    return json.loads(out)


async def get_json(session: aiohttp.ClientSession, d: DaemonProc, path: str) -> Any:
    async with session.get(
        f"http://127.0.0.1:{d.port}{path}", timeout=aiohttp.ClientTimeout(total=20)
    ) as r:
        assert r.status == 200, (path, r.status, await r.text())
        return await r.json()


async def test_metrics_api_and_report_take_their_figures_from_one_place(tmp_path):
    failing: set[str] = set()
    target, port = await serve(failing)
    s0 = math.floor(time.time())
    if month_start(s0 + 60) > s0 - 60:
        pytest.skip(
            "a Berlin month begins within a minute of this run:"
            " the month SLO would not hold all of it"
        )
    defaults = 'interval = "1s"\ntimeout = "0.5s"\nfailure_threshold = 1\nsuccess_threshold = 1\n'
    d = DaemonProc(tmp_path, config(port, s0), defaults=defaults)
    t_start = time.monotonic()
    try:
        await d.start()
        assert time.time() < s0 + FAIL[0] - 1, "the daemon took too long to start"

        async def until(offset: float) -> None:
            await asyncio.sleep(max(0.0, s0 + offset - time.time()))

        await until(FAIL[0])
        failing.add("api")
        await until(FAIL[1])
        failing.discard("api")

        # A /metrics refresh computed after the outage, the maintenance and the term's start.
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 40
            while True:
                text = await d.metrics()
                if "uptimed_sla_evaluated_timestamp_seconds" in text:
                    t_m, metrics = parse_metrics(text)
                    if t_m >= s0 + TERM + 3:
                        break
                assert time.monotonic() < deadline, text
                await asyncio.sleep(0.1)
            # As close together as possible: the CLI (a subprocess) runs while the API answers.
            cli_task = asyncio.create_task(cli("report", "-c", str(d.config), "--format", "json"))
            api = await get_json(session, d, "/api/v1/report")
            api_slos = await get_json(session, d, "/api/v1/slos")
            rep = await cli_task
        t_a, t_c = ms_of(api["generated_at"]) / 1000, ms_of(rep["generated_at"]) / 1000
        print(
            f"T_m = s0 + {t_m - s0:.3f} s, T_a − T_m = {t_a - t_m:.3f} s,"
            f" T_c − T_m = {t_c - t_m:.3f} s"
        )

        # /api/v1/slos is a report's "slos" section: its now is where its SLOs' windows end.
        (t_s,) = {ms_of(s["to"]) / 1000 for s in api_slos}
        sources = {
            "/metrics": metrics,
            "/api/v1/report": from_report(api["slos"], t_a),
            "/api/v1/slos": from_report(api_slos, t_s),
            "report --format json": from_report(rep["slos"], t_c),
        }
        lags = ", ".join(
            f"{name} {figs['term']['unknown']:.3f} s" for name, figs in sources.items()
        )
        print(f"time after the last heartbeat (the term SLO's unknown seconds): {lags}")
        for name, figs in sources.items():
            assert set(figs) == set(SLOS), (name, set(figs))
            for slo, f in figs.items():
                check_itself(slo, f, name)

        # Which window each evaluated: exactly the config's, in the JSON and in the metrics' sums.
        for doc in (api, rep):
            assert doc["to"] == doc["generated_at"]  # the report's own window: the last 30 days
            for s in doc["slos"]:
                check_window(s["id"], s, ms_of(doc["generated_at"]), s0)
        for s in api_slos:
            check_window(s["id"], s, round(t_s * 1000), s0)
        for slo, f in metrics.items():
            length = SLOS[slo][3]
            start = {"term": s0 + TERM, "monthly": month_start(t_m)}.get(slo, t_m - (length or 0))
            assert sum(f[c] for c in STATES) == pytest.approx(t_m - start, abs=1e-6), (slo, f)

        # Every pair of sources agrees within its skew.
        names = list(sources)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                for slo in SLOS:
                    compare(slo, sources[a][slo], sources[b][slo], f"{a} vs {b}")

        # What the scenario makes of each SLO, the same in all of them.
        for name, figs in sources.items():
            term = figs["term"]
            assert term["down"] == 0 and term["maintenance"] == 0, (name, term)
            assert term["attainment"] == 1.0 and term["remaining"] == 1.0, (name, term)
            assert all(v == 0.0 for v in term["burn"].values()), (name, term)
            assert 0 <= term["unknown"] <= TAIL and term["up"] >= 2, (name, term)
            for slo in ("monthly", "lenient", "latency"):
                assert figs[slo]["maintenance"] == MW[1] - MW[0], (name, slo, figs[slo])
                # Down from the first 503 (a probe interval after FAIL[0] at most, and the test's
                # switch may be late on a busy machine) to the start of the maintenance.
                assert MW[0] - FAIL[0] - 1.6 <= figs[slo]["down"] <= MW[0] - FAIL[0] + 0.1, (
                    name,
                    slo,
                    figs[slo],
                )
            assert figs["svc"]["maintenance"] == 0  # web votes while api is in maintenance
            assert figs["svc"]["down"] == figs["latency"]["down"], (
                name,
                figs["svc"],
                figs["latency"],
            )
            assert figs["monthly"]["attainment"] < 0.5 and figs["monthly"]["coverage"] < 0.5, (
                name,
                figs["monthly"],
            )
            assert figs["lenient"]["attainment"] == pytest.approx(
                1 - figs["lenient"]["down"] / 7200, abs=1e-12
            )
        for doc in (api["slos"], api_slos, rep["slos"]):
            by = {s["id"]: s for s in doc}
            verdicts = {k: (s["met"], s["verdict"]) for k, s in by.items()}
            assert verdicts == {
                "term": (True, "met"), "monthly": (False, "missed"), "lenient": (True, "met"),
                "svc": (False, "missed"), "latency": (False, "missed"),
            }, verdicts  # fmt: skip
            assert by["monthly"]["credit"] == {"below": 50, "credit": 100}, by["monthly"]
            assert by["term"]["incidents"] == [] and by["term"]["exclusions"] == [], by["term"]
            for slo in ("monthly", "lenient", "latency"):
                assert [x["id"] for x in by[slo]["exclusions"]] == ["mw"], by[slo]["exclusions"]
                assert [i["cause"] for i in by[slo]["incidents"]] == ["http_status"], by[slo][
                    "incidents"
                ]
        # The latency SLI (API and CLI only): every success of api is far under 1 s.
        lat = [
            {s["id"]: s["latency"] for s in doc}["latency"]
            for doc in (api["slos"], api_slos, rep["slos"])
        ]
        for x in lat:
            assert x["threshold_seconds"] == 1.0 and x["objective"] == 0.95, x
            assert x["good"] == x["total"] >= 5 and x["attainment"] == 1.0 and x["met"] is True, x
        probes = 2 * abs(t_c - t_a) + 3  # api is probed once a second; the rollups lag a batch
        assert (
            abs(lat[0]["total"] - lat[2]["total"]) <= probes
            and abs(lat[0]["total"] - lat[1]["total"]) <= probes
        )
        assert {s["id"]: s["latency"] for s in api["slos"]}["term"] is None

        # The daemon stops; a report over a window wholly in the past, without it.
        assert await d.stop() == 0
        stopped = time.time()
    finally:
        await target.cleanup()
        if d.proc is not None and d.proc.returncode is None:
            d.proc.kill()
            await d.proc.wait()
    assert "Traceback" not in d.log.read_text()
    lo, hi = s0 - 5, math.ceil(stopped) + 1
    await asyncio.sleep(max(0.0, hi - time.time() + 0.05))
    past = await cli(
        "report", "-c", str(d.config), "--from", iso(lo), "--to", iso(hi), "--format", "json"
    )
    assert (past["from"], past["to"], past["to_date"]) == (iso(lo), iso(hi), False)
    by = {s["id"]: s for s in past["slos"]}
    assert set(by) == set(SLOS)
    running = {s["id"]: s for s in rep["slos"]}
    for slo, s in by.items():
        frm = max(lo, s0 + TERM) if slo == "term" else lo
        assert (s["basis"], ms_of(s["from"]), ms_of(s["to"])) == (
            "report",
            frm * 1000,
            hi * 1000,
        ), (slo, s)
        total = sum(s[f"{c}_seconds"] for c in STATES)
        assert total == pytest.approx(hi - frm, abs=1e-6), (slo, s)
        # The outage and the maintenance lie in this window too: the same seconds as while running.
        assert s["down_seconds"] == running[slo]["down_seconds"], (slo, s, running[slo])
        assert s["maintenance_seconds"] == running[slo]["maintenance_seconds"], (
            slo,
            s,
            running[slo],
        )
    assert by["term"]["attainment"] == 1.0 and by["term"]["down_seconds"] == 0
    assert time.monotonic() - t_start < 60
