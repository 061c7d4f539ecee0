"""A broken uplink on the monitoring box never charges a customer for an outage.

Loopback canaries are switched off together with the monitored target: while every canary
fails, the time is unknown for every monitor and no incident is opened. Verdicts wait for the
next connectivity check (up to a cadence, see uptimed.daemon.connectivity), hence the waits below.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time

from tests.daemon.test_daemon_e2e import Flip, serve_flip, wait_for
from tests.support.daemon_proc import UPTIMED, DaemonProc, value
from tests.support.receiver import Receiver
from uptimed.core.times import iso


class Canary:
    """A TCP listener the test can take down and bring back on the same port."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.port = 0
        self.up()

    def up(self) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.sock, self.port = s, s.getsockname()[1]

    def down(self) -> None:
        assert self.sock is not None
        self.sock.close()
        self.sock = None


def with_canary(d: DaemonProc, port: int) -> DaemonProc:
    """``d`` with a connectivity check: the canary listening on ``port``."""
    d.config.write_text(
        d.config.read_text().replace(
            "[defaults]", f'connectivity_check = ["tcp://127.0.0.1:{port}"]\n[defaults]'
        )
    )
    return d


async def test_time_while_every_canary_fails_is_unknown_and_opens_no_incident(tmp_path):
    """... and pages nobody: no incident, no notification (issue 18)."""
    flip, canary = Flip(), Canary()
    runner, port = await serve_flip(flip)
    receiver = Receiver()
    await receiver.__aenter__()
    try:
        monitors = (
            f'[[notifier]]\nid = "hook"\nkind = "webhook"\nurl = "{receiver.url}/hook"\n'
            '[[escalation]]\nid = "ops"\nlevels = [{ after = "0s", notify = ["hook"] }]\n'
            f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "http://127.0.0.1:{port}/"\n'
            'escalation = "ops"\n'
        )
        d = with_canary(DaemonProc(tmp_path, monitors), canary.port)
        async with d:
            t0 = time.time()
            await asyncio.sleep(3)
            flip.set(False)  # the uplink breaks: the target and the canary fail together
            canary.down()
            await asyncio.sleep(8)
            m = await d.metrics()
            assert value(m, "uptimed_connectivity_degraded") == 1
            flip.set(True)
            canary.up()
            await asyncio.sleep(8)
            m = await d.metrics()
            assert value(m, "uptimed_connectivity_degraded") == 0

            async def up() -> bool:
                return value(await d.metrics(), "uptimed_monitor_up", monitor="web") == 1

            assert await wait_for(up, 10)  # the verdict, afresh, once the next check clears it
            t1 = time.time()
            assert await d.stop() == 0
    finally:
        await runner.cleanup()
        await receiver.__aexit__(None, None, None)
        if canary.sock:
            canary.sock.close()
    assert receiver.received == []
    assert d.sql("SELECT count(*) FROM incidents") == [(0,)]
    assert d.sql("SELECT count(*) FROM outbox") == [(0,)]
    log = d.log.read_text()
    assert "every canary fails" in log and "answers again" in log
    ((start, end, run),) = d.sql("SELECT start, end, run FROM degraded")
    assert start / 1000 <= flip.switched[0][0] and end / 1000 >= flip.switched[1][0]
    r = subprocess.run(
        [*UPTIMED, "report", "-c", str(d.config), "--from", iso(int(t0 * 1000)),
         "--to", iso(int(t1 * 1000)), "--format", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    web = json.loads(r.stdout)["monitors"][0]
    assert web["down_seconds"] == 0 and web["incidents"] == []
    assert web["unknown_seconds"] >= 8


class WatchedCanary:
    """A TCP canary that notes when the daemon checks it; taken down and brought back on the
    same port."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0
        self.checks: list[float] = []
        self.checked = asyncio.Event()

    async def up(self) -> None:
        self.server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self.server.sockets[0].getsockname()[1]

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.checks.append(time.time())
        self.checked.set()
        writer.close()

    def down(self) -> None:
        assert self.server is not None
        self.server.close()  # stops listening at once: the next check is refused
        self.server = None

    async def next_check(self, timeout: float = 10) -> float:
        self.checked.clear()
        await asyncio.wait_for(self.checked.wait(), timeout)
        return self.checks[-1]


async def test_an_uplink_break_right_after_a_good_check_is_no_outage(tmp_path):
    """Issue 14: the network breaks just after a good check and is back a few seconds later; a
    monitor with a max_gap longer than the checks' cadence (4 s interval, 3 s timeout: 11 s)
    fails in between. The failures stamped before the failing check are in the degraded stretch
    too: no DOWN time, no incident, and no verdict reaching across the stretch."""
    flip, canary = Flip(), WatchedCanary()
    await canary.up()
    runner, port = await serve_flip(flip)
    try:
        monitors = (
            f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "http://127.0.0.1:{port}/"\n'
            'interval = "4s"\ntimeout = "3s"\nfailure_threshold = 1\n'
        )
        d = with_canary(DaemonProc(tmp_path, monitors), canary.port)
        async with d:
            t0 = time.time()
            while await canary.next_check() < t0 + 6:  # the monitor has a verdict by then
                pass
            good = canary.checks[-1]
            canary.down()  # right after a good check: the uplink breaks
            flip.set(False)
            await asyncio.sleep(7)  # one failing check (5 s after the good one)
            await canary.up()
            flip.set(True)
            back = await canary.next_check()  # the first good check: the stretch ends
            await asyncio.sleep(12)  # verdicts afresh, cleared by the check after
            m = await d.metrics()
            assert value(m, "uptimed_monitor_up", monitor="web") == 1
            t1 = time.time()
            assert await d.stop() == 0
    finally:
        await runner.cleanup()
        if canary.server is not None:
            canary.server.close()
    ((start, end),) = d.sql("SELECT start, end FROM degraded")
    assert abs(start / 1000 - good) < 1 and abs(end / 1000 - back) < 1, (start, end, good, back)
    failed = [ts for (ts,) in d.sql("SELECT ts FROM results WHERE ok = 0")]
    assert failed and all(start <= ts < end for ts in failed), (failed, start, end)
    assert min(failed) / 1000 < good + 4.5  # one failed before the failing check noticed it
    assert d.sql("SELECT count(*) FROM timeline WHERE state = 0") == [(0,)]
    assert d.sql("SELECT count(*) FROM timeline WHERE start < ? AND end > ?", end, start) == [(0,)]
    r = await asyncio.to_thread(
        subprocess.run,
        [*UPTIMED, "report", "-c", str(d.config), "--from", iso(int(t0 * 1000)),
         "--to", iso(int(t1 * 1000)), "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    web = json.loads(r.stdout)["monitors"][0]
    assert web["down_seconds"] == 0 and web["incidents"] == []
    assert web["unknown_seconds"] >= 8
