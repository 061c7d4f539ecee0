"""End to end: the real daemon as a subprocess against real loopback targets.

Times are generous: the machine running the tests may be slow and shared.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import time

import pytest
from aiohttp import web

from tests.daemon.test_systemd import NotifyListener
from tests.support.daemon_proc import UPTIMED, DaemonProc, value
from tests.support.targets import closed_port, serve_target


class Flip:
    """A target whose answer the test switches: 200 while up, 503 while down."""

    def __init__(self) -> None:
        self.up = True
        self.switched: list[tuple[float, bool]] = []

    def set(self, up: bool) -> None:
        self.up = up
        self.switched.append((time.time(), up))

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(text="ok") if self.up else web.Response(status=503, text="down")


async def serve_flip(flip: Flip) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_get("/{tail:.*}", flip.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


async def wait_for(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(step)
    return await predicate()


async def test_daemon_probes_records_serves_metrics_and_stops_cleanly(tmp_path):
    with closed_port() as refused:
        async with serve_target() as t:
            monitors = f"""
[[monitor]]
id = "ok"
kind = "http"
url = "{t.url("/status/200")}"
labels = {{ team = "web" }}
[[monitor]]
id = "err"
kind = "http"
url = "{t.url("/status/503")}"
[[monitor]]
id = "slow"
kind = "http"
url = "{t.url("/slow-headers/3")}"
[[monitor]]
id = "reset"
kind = "http"
url = "{t.url("/reset")}"
[[monitor]]
id = "refused"
kind = "tcp"
host = "127.0.0.1"
port = {refused}
[[monitor]]
id = "open"
kind = "tcp"
host = "127.0.0.1"
port = {t.port}
"""
            with NotifyListener(tmp_path) as notify:
                env = {**notify.env(), "WATCHDOG_USEC": "2000000"}
                async with DaemonProc(tmp_path, monitors, env=env) as d:

                    async def all_probed():
                        m = await d.metrics()
                        return (
                            m
                            if value(m, "uptimed_probes_total", monitor="slow", result="failure")
                            else None
                        )

                    m = await wait_for(all_probed, 10)
                    await asyncio.sleep(1.5)  # a few more rounds for the counters
                    m = await d.metrics()
                    for mon, want in {
                        "ok": 1,
                        "err": 0,
                        "slow": 0,
                        "reset": 0,
                        "refused": 0,
                        "open": 1,
                    }.items():
                        assert value(m, "probe_success", monitor=mon) == want, mon
                    assert value(m, "probe_success", monitor="ok", team="web") == 1
                    assert value(m, "probe_http_status_code", monitor="err") == 503
                    assert value(m, "probe_http_status_code", monitor="ok") == 200
                    assert (
                        value(m, "probe_http_duration_seconds", monitor="ok", phase="processing")
                        is not None
                    )
                    assert 0 < value(m, "probe_duration_seconds", monitor="ok") < 0.5
                    assert 0.4 < value(m, "probe_duration_seconds", monitor="slow") < 1.0
                    kinds = {
                        "err": "http_status",
                        "slow": "timeout",
                        "reset": "reset",
                        "refused": "refused",
                    }
                    for mon, kind in kinds.items():
                        assert (
                            value(m, "uptimed_probe_failures_total", monitor=mon, error_kind=kind)
                            >= 1
                        ), mon
                    assert value(m, "uptimed_monitor_up", monitor="ok") == 1
                    assert value(m, "uptimed_monitor_up", monitor="err") == 0
                    assert value(m, "uptimed_probes_total", monitor="ok", result="success") >= 2
                    assert "uptimed_schedule_lag_seconds_bucket" in m
                    assert "uptimed_build_info{" in m

                    if shutil.which("promtool"):
                        r = subprocess.run(
                            ["promtool", "check", "metrics"],
                            input=m,
                            capture_output=True,
                            text=True,
                        )
                        assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), (
                            r.stdout + r.stderr
                        )

                    status, body = await d.get("/healthz")
                    assert status == 200 and json.loads(body)["status"] == "ok"

                    msgs = notify.messages(timeout=2)
                    assert any("READY=1" in msg for msg in msgs)
                    await asyncio.sleep(1.2)
                    assert any("WATCHDOG=1" in msg for msg in notify.messages(timeout=1))

                    t0 = time.monotonic()
                    assert await d.stop() == 0
                    assert time.monotonic() - t0 < 5

    log = d.log.read_text()
    assert "Traceback" not in log
    assert "monitor err" in log and "is DOWN" in log
    assert d.sql("SELECT end_reason FROM runs") == [("stop",)]
    assert d.sql("PRAGMA journal_mode") == [("wal",)]
    ids = dict(d.sql("SELECT key, id FROM monitors"))
    states = dict(d.sql("SELECT monitor, state FROM timeline"))
    assert states[ids["ok"]] == 1 and states[ids["err"]] == 0 and states[ids["refused"]] == 0
    counts = dict(d.sql("SELECT monitor, count(*) FROM results GROUP BY monitor"))
    assert all(counts[ids[k]] >= 3 for k in ("ok", "err", "refused", "open")), counts

    r = subprocess.run(
        [*UPTIMED, "status", "-c", str(d.config), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["daemon"]["running"] is False and st["daemon"]["end_reason"] == "stop"
    by_id = {m["id"]: m for m in st["monitors"]}
    assert by_id["err"]["last_error_kind"] == "http_status"
    r = subprocess.run([*UPTIMED, "status", "-c", str(d.config)], capture_output=True, text=True)
    assert r.returncode == 0 and "refused" in r.stdout and "LAST ERROR" in r.stdout


async def test_outage_is_backdated_and_blips_below_threshold_are_not_downtime(tmp_path):
    flip = Flip()
    runner, port = await serve_flip(flip)
    try:
        monitors = f"""
[[monitor]]
id = "flip"
kind = "http"
url = "http://127.0.0.1:{port}/"
failure_threshold = 3
success_threshold = 2
"""
        async with DaemonProc(tmp_path, monitors) as d:
            await asyncio.sleep(2.5)
            flip.set(False)  # a blip: about one failed probe, below the threshold
            await asyncio.sleep(1.0)
            flip.set(True)
            await asyncio.sleep(2.5)
            assert d.sql("SELECT DISTINCT state FROM timeline") == [(1,)]
            flip.set(False)  # a real outage
            down_at = time.time()
            m = await wait_for(lambda: _metric(d, "uptimed_monitor_up", 0.0, monitor="flip"), 8)
            assert m, "never confirmed DOWN"
            await asyncio.sleep(1.5)
            flip.set(True)
            up_at = time.time()
            assert await wait_for(lambda: _metric(d, "uptimed_monitor_up", 1.0, monitor="flip"), 8)
            assert await d.stop() == 0
        ((start, end),) = d.sql("SELECT start, end FROM timeline WHERE state = 0")
        # Backdated to the first failed probe (within one interval of the switch), and ended at
        # the first success of the confirming run (within one interval of the switch back).
        assert down_at - 0.1 <= start / 1000 <= down_at + 1.2, start / 1000 - down_at
        assert up_at - 0.1 <= end / 1000 <= up_at + 1.2, end / 1000 - up_at
    finally:
        await runner.cleanup()


async def _metric(d: DaemonProc, name: str, want: float, **labels: str) -> bool:
    return value(await d.metrics(), name, **labels) == want


async def test_sighup_reload_keeps_state_and_phase_and_survives_a_bad_config(tmp_path):
    async with serve_target() as t:
        one = f'[[monitor]]\nid = "a"\nkind = "http"\nurl = "{t.url("/status/200")}"\n'
        two = one + f'[[monitor]]\nid = "b"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {t.port}\n'
        async with DaemonProc(tmp_path, one) as d:
            await asyncio.sleep(2.5)
            before = value(await d.metrics(), "uptimed_probes_total", monitor="a", result="success")
            d.write_config(two)
            d.send(signal.SIGHUP)
            m = await wait_for(lambda: _has(d, "probe_success", monitor="b"), 5)
            assert m
            after = value(await d.metrics(), "uptimed_probes_total", monitor="a", result="success")
            assert after >= before >= 1  # counters were kept, not reset

            d.config.write_text(d.config.read_text() + '\n[[monitor]]\nid = "c"\nkind = "htp"\n')
            d.send(signal.SIGHUP)
            assert await wait_for(
                lambda: _metric(d, "uptimed_config_reloads_total", 1.0, result="failure"), 5
            )
            await asyncio.sleep(1.2)
            m = await d.metrics()
            assert value(m, "probe_success", monitor="b") == 1  # the old config is still in force
            assert value(m, "probe_success", monitor="c") is None
            assert await d.stop() == 0
    log = d.log.read_text()
    assert "reload: 2 monitors (1 added, 0 removed, 0 changed)" in log
    assert "invalid" in log and "htp" in log and "Traceback" not in log
    # The phase of "a" did not move: its probes keep the same offset within the second.
    ((mid,),) = d.sql("SELECT id FROM monitors WHERE key = 'a'")
    offsets = [
        ts % 1000 for (ts,) in d.sql("SELECT ts FROM results WHERE monitor = ? ORDER BY ts", mid)
    ]
    assert max(offsets) - min(offsets) < 300, offsets
    runs = d.sql("SELECT end_reason FROM runs ORDER BY id")
    assert runs == [("reload",), ("stop",)]


async def _has(d: DaemonProc, name: str, **labels: str) -> bool:
    return value(await d.metrics(), name, **labels) is not None


async def test_kill_9_then_restart_resumes_the_timeline(tmp_path):
    async with serve_target() as t:
        monitors = f'[[monitor]]\nid = "down"\nkind = "http"\nurl = "{t.url("/status/500")}"\n'
        # max_gap = 2 x 4s + 1s = 9s: a restart within it continues the same outage (a start
        # takes a few seconds on a busy machine, and the first probe comes within an interval).
        defaults = 'interval = "4s"\ntimeout = "1s"\n'
        d = DaemonProc(tmp_path, monitors, defaults=defaults)
        async with d:
            await asyncio.sleep(4.5)
            await d.stop(signal.SIGKILL)
        assert d.sql("PRAGMA integrity_check") == [("ok",)]
        first = d.sql("SELECT start, state FROM timeline")
        assert len(first) == 1 and first[0][1] == 0
        async with d:
            await asyncio.sleep(4.5)
            assert await d.stop() == 0
    assert d.sql("SELECT start, state FROM timeline") == first  # the same outage, extended
    reasons = d.sql("SELECT end_reason FROM runs ORDER BY id")
    assert reasons == [("crash",), ("stop",)]
    assert "did not stop cleanly" in d.log.read_text()


@pytest.mark.parametrize(
    "text, needle",
    [
        (
            '[daemon]\nlisten = "127.0.0.1:1"\n'
            '[[monitor]]\nid = "a"\nkind = "tcp"\nhost = "x"\nport = 99999\n',
            "port",
        ),
        ("\xff\xfe", "UTF-8"),
        ("", "monitor"),
    ],
)
def test_cli_rejects_bad_configs_with_exit_2_and_no_traceback(tmp_path, text, needle):
    p = tmp_path / "bad.toml"
    p.write_bytes(text.encode("latin-1"))
    for cmd in ("check-config", "run", "status"):
        r = subprocess.run(
            [*UPTIMED, cmd, "-c", str(p)], capture_output=True, text=True, timeout=30
        )
        assert r.returncode == 2, (cmd, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and needle in r.stderr and str(p) in r.stderr


def test_cli_version_and_unusable_listen_address(tmp_path):
    r = subprocess.run([*UPTIMED, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("uptimed ")
    with closed_port() as busy_port:  # bound: listening on it fails
        c = tmp_path / "c.toml"
        c.write_text(
            f'[daemon]\ndatabase = "{tmp_path}/u.db"\nlisten = "127.0.0.1:{busy_port}"\n'
            '[[monitor]]\nid = "a"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'
        )
        r = subprocess.run(
            [*UPTIMED, "run", "-c", str(c)], capture_output=True, text=True, timeout=30
        )
    assert r.returncode == 1 and "cannot listen" in r.stderr and "Traceback" not in r.stderr, (
        r.stderr
    )


async def test_credentials_never_reach_logs_metrics_or_status(tmp_path):
    with closed_port() as refused:
        async with serve_target() as t:
            monitors = f"""
[[monitor]]
id = "userinfo"
kind = "http"
url = "http://admin:hunter2secret@127.0.0.1:{refused}/x?token=tok3n-value&page=1"
[[monitor]]
id = "header"
kind = "http"
url = "{t.url("/status/503")}"
headers = {{ Authorization = "Bearer b3arer-value" }}
"""
            async with DaemonProc(tmp_path, monitors) as d:
                m = await wait_for(lambda: _has(d, "uptimed_monitor_up", monitor="header"), 8)
                await asyncio.sleep(1.2)
                m = await d.metrics()
                assert await d.stop() == 0
    r = subprocess.run(
        [*UPTIMED, "status", "-c", str(d.config), "--format", "json"],
        capture_output=True,
        text=True,
    )
    everything = m + d.log.read_text() + r.stdout + r.stderr
    everything += repr(d.sql("SELECT * FROM results")) + repr(d.sql("SELECT * FROM monitor_state"))
    assert "is DOWN" in everything and "userinfo" in everything
    for secret in ("hunter2secret", "tok3n-value", "b3arer-value"):
        assert secret not in everything


async def test_concurrency_cap_delays_and_skipped_runs_are_counted(tmp_path):
    async with serve_target() as t:
        # One probe at a time, three monitors each holding it ~0.8 s per 1 s interval: runs
        # queue behind the cap, start late, and some come due while the last is still waiting.
        monitors = "".join(
            f'[[monitor]]\nid = "s{i}"\nkind = "http"\nurl = "{t.url("/slow-headers/5")}"\n'
            'interval = "1s"\ntimeout = "0.8s"\n'
            for i in range(3)
        )
        d = DaemonProc(tmp_path, monitors)
        d.config.write_text(
            d.config.read_text().replace("[defaults]", "max_concurrency = 1\n[defaults]")
        )
        async with d:
            await asyncio.sleep(5)
            m = await d.metrics()
            assert await d.stop() == 0
    assert value(m, "uptimed_probes_skipped_total") > 0
    late = value(m, "uptimed_schedule_lag_seconds_bucket", le="0.5")
    total = value(m, "uptimed_schedule_lag_seconds_count")
    assert total and late < total  # some probes started more than 0.5 s late
    timeouts = sum(
        value(m, "uptimed_probe_failures_total", monitor=f"s{i}", error_kind="timeout") or 0
        for i in range(3)
    )
    assert timeouts == total  # every probe that ran hit its timeout: none ran twice or in parallel
