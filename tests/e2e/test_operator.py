"""What an operator relies on: one daemon per database, a `status` that tells the truth, and
commands that find the daemon's database or say where they looked (never creating one).

Real daemons as subprocesses on loopback; times are generous (a shared 2-core machine).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import aiohttp

from tests.support.daemon_proc import UPTIMED, DaemonProc, free_port
from tests.support.targets import serve_target
from uptimed.render.status import describe_daemon


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*UPTIMED, *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def up_seconds(d: DaemonProc) -> float:
    r = cli("report", "-c", str(d.config), "--window", "1h", "--format", "json")
    assert r.returncode == 0, r.stderr
    return float(json.loads(r.stdout)["monitors"][0]["up_seconds"])


async def test_a_second_daemon_on_the_same_database_exits_1_and_changes_nothing(
    tmp_path: Path,
) -> None:
    async with serve_target() as t:
        monitors = f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "{t.url("/status/200")}"\n'
        async with DaemonProc(tmp_path, monitors) as first:
            await asyncio.sleep(2.5)
            runs = first.sql("SELECT id, started, ended, end_reason, pid FROM runs")
            assert len(runs) == 1 and runs[0][2] is None
            up_before = up_seconds(first)

            # The same config (its port is taken), then another port: both refused the same way.
            other = tmp_path / "other.toml"
            other.write_text(first.config.read_text().replace(str(first.port), str(free_port())))
            for config in (first.config, other):
                t0 = time.monotonic()
                r = await asyncio.to_thread(cli, "run", "-c", str(config))
                assert r.returncode == 1, r.stderr
                assert time.monotonic() - t0 < 20
                lines = r.stderr.strip().splitlines()
                assert len(lines) == 1, r.stderr
                assert (
                    f"another uptimed (pid {first.proc.pid}) is running on database {first.db}"
                    in lines[0]
                )
                assert "did not stop cleanly" not in r.stderr and "Traceback" not in r.stderr

            assert (
                first.sql("SELECT id, started, ended, end_reason, pid FROM runs") == runs
            )  # untouched
            await asyncio.sleep(3)  # the first one goes on counting, as before (no unknown time)
            assert up_seconds(first) > up_before + 2.5
            status, body = await first.get("/healthz")
            assert status == 200 and json.loads(body)["status"] == "ok"
            st = json.loads(cli("status", "-c", str(first.config), "--format", "json").stdout)
            assert st["daemon"]["state"] == "running" and st["daemon"]["pid"] == first.proc.pid
            assert await first.stop() == 0
        assert first.sql("SELECT end_reason, pid FROM runs") == [("stop", first.proc.pid)]

        # Once the first has stopped the lock is free: a new daemon starts, without a crash note.
        async with DaemonProc(tmp_path, monitors, port=first.port) as again:
            assert await again.stop() == 0
        assert "did not stop cleanly" not in again.log.read_text()


async def test_status_after_kill_9_and_after_a_reload(tmp_path: Path) -> None:
    async with serve_target() as t:
        monitors = f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "{t.url("/status/200")}"\n'
        d = DaemonProc(tmp_path, monitors)
        async with d:
            await asyncio.sleep(1.5)
            d.send(signal.SIGHUP)
            for _ in range(50):
                if len(d.sql("SELECT id FROM runs")) == 2:
                    break
                await asyncio.sleep(0.1)
            r = cli("status", "-c", str(d.config), "--format", "json")
            daemon = json.loads(r.stdout)["daemon"]
            (started,), (reloaded,) = d.sql("SELECT started FROM runs ORDER BY id")
            assert daemon["state"] == "running" and daemon["running"] is True
            assert daemon["started"] != daemon["config_loaded"]  # the process start, and the reload
            assert daemon["started"].startswith(
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started / 1000))
            )
            assert daemon["config_loaded"].startswith(
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(reloaded / 1000))
            )
            table = cli("status", "-c", str(d.config)).stdout
            assert f"running (pid {d.proc.pid}, since {daemon['started']}, config reloaded" in table
            await d.stop(signal.SIGKILL)

        # Just after kill -9 the heartbeat is fresh, but the process is gone; 40 s later (the
        # heartbeat moved back, as time would) status must not say running.
        c = sqlite3.connect(d.db)
        c.execute("UPDATE runs SET heartbeat = heartbeat - 40000 WHERE ended IS NULL")
        c.commit()
        c.close()
        st = json.loads(cli("status", "-c", str(d.config), "--format", "json").stdout)
        assert st["daemon"]["running"] is False and st["daemon"]["state"] == "gone"
        assert (
            st["daemon"]["process_alive"] is False and st["daemon"]["heartbeat_age_seconds"] >= 40
        )
        assert st["monitors"][0]["state"] == "unknown"
        table = cli("status", "-c", str(d.config)).stdout
        assert (
            "not running: last heartbeat 4" in table
            and f"the process (pid {d.proc.pid}) is gone" in table
        )


def test_a_reload_and_a_clock_jump_each_start_a_run_but_only_a_reload_loads_the_config() -> None:
    from uptimed.service.status import _starts

    # newest first: (started, ended, heartbeat, end_reason, pid)
    runs = [(50, None, 55, None, 7), (40, 50, 50, "clock_jump", 7), (30, 40, 40, "reload", 7),
            (10, 30, 30, "clock_jump", 7), (0, 10, 10, "stop", 6)]  # fmt: skip
    assert _starts(runs[0], iter(runs[1:])) == (
        10,
        40,
    )  # process start; the reload (a jump is none)
    assert _starts(runs[1], iter(runs[2:])) == (10, 40)  # begun by the reload
    assert _starts(runs[2], iter(runs[3:])) == (10, 10)  # begun by a jump: loaded at the start
    assert _starts(runs[3], iter(runs[4:])) == (10, 10)


def test_a_heartbeat_from_the_future_is_not_running() -> None:
    from uptimed.service.status import _daemon

    now = 1_000_000_000
    for heartbeat, state in (
        (now + 3_600_000, "gone"),
        (now + 5_000, "running"),
        (now - 5_000, "running"),
    ):
        d = _daemon(
            (now - 9_000_000, None, heartbeat, None, 2**22 + 12345),
            now - 9_000_000,
            now - 9_000_000,
            now,
        )
        assert d["state"] == state, heartbeat
    assert "in the future" in describe_daemon(
        d | {"state": "gone", "heartbeat_age_seconds": -3600.0}
    )


def test_describe_daemon_states() -> None:
    base = {
        "pid": 7,
        "started": "T0",
        "config_loaded": "T0",
        "heartbeat_age_seconds": 41.2,
        "process_alive": True,
    }
    assert (
        describe_daemon({**base, "state": "running"})
        == "running (pid 7, since T0, last heartbeat 41 s ago)"
    )
    assert describe_daemon({**base, "state": "stale"}).startswith(
        "stale: last heartbeat 41 s ago, though pid 7"
    )
    assert (
        describe_daemon({**base, "state": "gone"})
        == "not running: last heartbeat 41 s ago, the process (pid 7) is gone"
    )
    stopped = {**base, "state": "stopped", "ended": "T1", "end_reason": "stop"}
    assert describe_daemon(stopped) == "not running (last run ended T1: stop)"
    assert describe_daemon({"state": "never"}) == "has not run yet"


def test_a_long_error_is_cut_with_an_ellipsis() -> None:
    from uptimed.render.status import render_table

    status = {
        "daemon": {"state": "never"},
        "monitors": [
            {"id": "web", "state": "down", "pending": None, "last_known_state": "down",
             "enabled": True, "since": None, "last_probe": None,
             "last_error_kind": "http_status", "last_error": "x" * 100},
        ],
        "incidents": [], "notifiers": [], "dead_notifications": [],
    }  # fmt: skip
    row = render_table(status).splitlines()[-1]
    assert row.endswith("x…") and len(row.split("  ")[-1].strip()) == 60


def test_commands_other_than_run_never_create_a_database(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    config = tmp_path / "etc" / "c.toml"
    config.write_text('[[monitor]]\nid = "web"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n')
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    want = tmp_path / "etc" / "uptimed.db"  # beside the config: not in the working directory
    for args in (
        ["status"],
        ["report"],
        ["maintenance", "list"],
        ["maintenance", "end", "1"],
        ["maintenance", "add", "--monitor", "web", "--for", "1h"],
    ):
        r = cli(*args, "-c", str(config), cwd=elsewhere, env={"STATE_DIRECTORY": ""})
        assert r.returncode == 1, (args, r.stderr)
        assert f"no database at {want}" in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["c.toml", "cwd", "etc"]


def test_the_config_defaults_to_uptimed_config_then_etc(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[[monitor]]\nid = "web"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n')
    r = cli("check-config", env={"UPTIMED_CONFIG": str(config)})
    assert r.returncode == 0 and r.stdout.startswith(f"{config}: OK"), r.stderr
    env = {k: v for k, v in os.environ.items() if k != "UPTIMED_CONFIG"}
    r = subprocess.run(
        [*UPTIMED, "check-config"], check=False, capture_output=True, text=True, env=env, timeout=60
    )
    if not os.path.exists("/etc/uptimed/config.toml"):
        assert r.returncode == 2
        assert "/etc/uptimed/config.toml: cannot read: no such file" in r.stderr
        assert "-c FILE" in r.stderr


async def test_secrets_from_files_and_the_environment_reach_the_target_and_nothing_else(
    tmp_path: Path,
) -> None:
    """The API token, a URL password and a header value come from a file and the environment
    (the config holds only references); a changed token file takes effect at SIGHUP."""
    pw, header, tok1, tok2 = "p@ss/w:rd-71", "hdr-secret-93", "token-one-1111", "token-two-2222"
    (tmp_path / "pw").write_text(pw + "\n")
    (tmp_path / "token").write_text(tok1 + "\n")
    async with serve_target() as t:
        url = t.url("/status/200").replace("://", "://probe:${file:pw}@")
        monitors = (
            f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "{url}"\n'
            '[monitor.headers]\nX-Api-Key = "${env:UPTIMED_TEST_HEADER}"\n'
        )
        d = DaemonProc(tmp_path, monitors, env={"UPTIMED_TEST_HEADER": header})
        d.config.write_text(
            d.config.read_text().replace("[daemon]\n", '[daemon]\napi_token = "${file:token}"\n', 1)
        )
        async with d:
            await asyncio.sleep(2.5)
            seen = [r for r in t.requests if r.path == "/status/200"]
            assert seen and seen[-1].header("X-Api-Key") == header
            assert (
                seen[-1].header("Authorization")
                == "Basic " + base64.b64encode(f"probe:{pw}".encode()).decode()
            )

            async def post(token: str) -> int:
                async with (
                    aiohttp.ClientSession() as s,
                    s.post(
                        f"http://127.0.0.1:{d.port}/api/v1/maintenance",
                        json={"monitor": "web", "for": "1m"},
                        headers={"Authorization": f"Bearer {token}"},
                    ) as r,
                ):
                    return r.status

            assert await post(tok1) == 200 and await post(tok2) == 401
            (tmp_path / "token").write_text(tok2 + "\n")
            d.send(signal.SIGHUP)
            for _ in range(50):
                if "reload: the API token changed" in d.log.read_text():
                    break
                await asyncio.sleep(0.1)
            assert await post(tok1) == 401 and await post(tok2) == 200
            shown = (await d.metrics()) + (await d.get("/api/v1/monitors"))[1]
            shown += cli("status", "-c", str(d.config), "--format", "json").stdout
            shown += cli("check-config", "-c", str(d.config)).stdout
            assert await d.stop() == 0
    shown += d.log.read_text()
    for secret in (pw, header, tok1, tok2, "p%40ss"):
        assert secret not in shown, secret


async def test_the_log_says_when_a_maintenance_window_begins_and_ends(tmp_path: Path) -> None:
    def at(t: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    async with serve_target() as t:
        soon = time.time() + 3
        monitors = (
            f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "{t.url("/status/200")}"\n'
            f'[[maintenance]]\nid = "deploy"\nmonitors = ["web"]\n'
            f'start = "{at(soon)}"\nend = "{at(soon + 2)}"\n'
        )
        async with DaemonProc(tmp_path, monitors) as d:
            r = cli("maintenance", "add", "-c", str(d.config), "--monitor", "web", "--for", "2s")
            assert r.returncode == 0, r.stderr
            for _ in range(200):  # both end (the ad-hoc one may end last on a slow host)
                log = d.log.read_text()
                if all(f"maintenance ended: {n}" in log for n in ("window", "ad-hoc")):
                    break
                await asyncio.sleep(0.1)
            assert await d.stop() == 0
    lines = [
        ln.split(" INFO ", 1)[-1] for ln in d.log.read_text().splitlines() if "maintenance " in ln
    ]
    began = {ln.rsplit(", until ", 1)[0]: ln for ln in lines if "began" in ln}
    assert sorted(began) == [
        "maintenance began: ad-hoc window 1 on monitor web",
        "maintenance began: window 'deploy' on monitor web",
    ], lines
    assert began["maintenance began: window 'deploy' on monitor web"].endswith(
        f"until {at(soon + 2)}"
    )
    for name in ("ad-hoc window 1", "window 'deploy'"):  # each ends once, after it began
        ended = [i for i, ln in enumerate(lines) if ln == f"maintenance ended: {name}"]
        assert len(ended) == 1 and ended[0] > lines.index(
            began[f"maintenance began: {name} on monitor web"]
        )
    assert len(lines) == 4, lines


def test_a_time_zone_that_is_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[[monitor]]\nid = "web"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n')
    for tz in ("Europe", "x" * 300):
        r = cli("report", "-c", str(config), "--timezone", tz)
        assert (
            r.returncode == 2
            and "is not an IANA time zone" in r.stderr
            and "Traceback" not in r.stderr
        ), r.stderr
