"""End to end: an SLO's service hours and latency SLI, with the real daemon and loopback targets.

The daemon probes a fast and a slow HTTP target for a few seconds; then ``uptimed report`` must
(1) leave exactly the time outside an SLO's service hours (one minute of the day, in a zone
5 h 30 min ahead of UTC) out of it, and count inside them exactly what a report over that
minute counts, and (2) give the latency SLI the counts of the probes the database holds.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from tests.e2e.test_report_e2e import cli, iso
from tests.support.daemon_proc import DaemonProc

ZONE = ZoneInfo("Asia/Kolkata")  # UTC+05:30, no DST: the minute below is the same in both


async def serve(delay: float) -> tuple[web.AppRunner, int]:
    async def handler(_: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def slos(minute: datetime) -> str:
    local = minute.astimezone(ZONE)
    to = (
        "24:00"
        if (local.hour, local.minute) == (23, 59)
        else (local + timedelta(minutes=1)).strftime("%H:%M")
    )
    return f"""
[[slo]]
id = "hours"
target = "fast"
objective = 99.0
window = "1d"
service_hours = {{ days = "mon-sun", from = "{local:%H:%M}", to = "{to}", timezone = "{ZONE.key}" }}

[[slo]]
id = "fast-latency"
target = "fast"
objective = 99.0
window = "1d"
latency = {{ threshold = "300ms", objective = 99.0 }}

[[slo]]
id = "slow-latency"
target = "slow"
objective = 99.0
window = "1d"
latency = {{ threshold = "300ms", objective = 99.0 }}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("slo")

    async def script():
        fast, fast_port = await serve(0)
        slow, slow_port = await serve(0.4)
        minute = datetime.fromtimestamp(time.time() // 60 * 60, UTC)
        monitors = f"""
[[monitor]]
id = "fast"
kind = "http"
url = "http://127.0.0.1:{fast_port}/"

[[monitor]]
id = "slow"
kind = "http"
url = "http://127.0.0.1:{slow_port}/"
timeout = "0.9s"
{slos(minute)}"""
        d = DaemonProc(tmp_path, monitors)
        await d.start()
        await asyncio.sleep(6)
        assert await d.stop() == 0
        await fast.cleanup()
        await slow.cleanup()
        return d, minute.timestamp()

    d, minute = asyncio.run(script())
    assert "Traceback" not in d.log.read_text()
    return d, minute


def report(d: DaemonProc, lo: float, hi: float, *args: str) -> dict:
    out = cli(
        "report", "-c", str(d.config), "--from", iso(lo), "--to", iso(hi), "--format", "json", *args
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_time_outside_service_hours_is_not_eligible(run):
    d, minute = run
    lo, hi = minute - 60, minute + 120  # the service hours are [minute, minute + 60 s)
    slo = {s["id"]: s for s in report(d, lo, hi, "--slo", "hours")["slos"]}["hours"]
    # The report stops at now, which may be before hi.
    end = min(hi, datetime.fromisoformat(slo["to"].replace("Z", "+00:00")).timestamp())
    assert slo["outside_hours_seconds"] == pytest.approx(
        60 + max(0.0, end - minute - 60), abs=0.001
    )
    # Inside the hours, exactly what a report over that minute counts for the monitor.
    (inside,) = report(d, minute, minute + 60, "--monitor", "fast")["monitors"]
    assert slo["eligible_seconds"] == inside["up_seconds"] + inside["down_seconds"]
    assert slo["attainment"] == (1.0 if inside["up_seconds"] else None)
    # The daemon ran a few seconds of that minute, or none (when it started at its very end).
    assert 0 <= slo["eligible_seconds"] <= 7


def test_latency_sli_counts_the_probes_faster_than_the_threshold(run):
    d, minute = run
    hour = minute // 3600 * 3600  # the SLI reads hourly rollups of the hours inside the window
    rep = report(d, hour, hour + 7200, "--slo", "fast-latency", "--slo", "slow-latency")
    slos = {s["id"]: s["latency"] for s in rep["slos"]}
    db = sqlite3.connect(d.db)
    for key, fast in (("fast", True), ("slow", False)):
        (ok,) = db.execute(
            "SELECT count(*) FROM results r JOIN monitors m ON m.id = r.monitor"
            " WHERE m.key = ? AND r.ok",
            (key,),
        ).fetchone()
        (quick,) = db.execute(
            "SELECT count(*) FROM results r JOIN monitors m ON m.id = r.monitor"
            " WHERE m.key = ? AND r.ok AND r.duration_us <= 300000",
            (key,),
        ).fetchone()
        lat = slos[f"{key}-latency"]
        assert ok >= 4 and lat["total"] == ok, (key, lat)
        assert lat["good"] == quick == (ok if fast else 0), (key, lat)
        assert lat["threshold_seconds"] == 0.3 and lat["objective"] == 0.99
        assert lat["met"] is fast and lat["attainment"] == (1.0 if fast else 0.0)


def test_the_cli_table_shows_the_latency_verdicts(run):
    d, minute = run
    hour = minute // 3600 * 3600
    out = cli(
        "report",
        "-c",
        str(d.config),
        "--from",
        iso(hour),
        "--to",
        iso(hour + 7200),
        "--slo",
        "slow-latency",
    )
    assert out.returncode == 0, out.stderr
    (row,) = [line for line in out.stdout.splitlines() if line.startswith("slow-latency")]
    assert row.endswith("0.00 % < 0.3s MISSED"), row
