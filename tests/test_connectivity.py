"""A broken uplink on the monitoring box never charges a customer for an outage.

Loopback canaries are switched off together with the monitored target: while every canary
fails, the time is unknown for every monitor and no incident is opened.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time

from daemon_proc import UPTIMED, DaemonProc, value
from test_daemon_e2e import Flip, serve_flip

from uptimed.periods import iso


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


async def test_time_while_every_canary_fails_is_unknown_and_opens_no_incident(tmp_path):
    flip, canary = Flip(), Canary()
    runner, port = await serve_flip(flip)
    try:
        monitors = f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "http://127.0.0.1:{port}/"\n'
        d = DaemonProc(tmp_path, monitors)
        d.config.write_text(
            d.config.read_text().replace(
                "[defaults]", f'connectivity_check = ["tcp://127.0.0.1:{canary.port}"]\n[defaults]'
            )
        )
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
            assert value(m, "uptimed_monitor_up", monitor="web") == 1
            t1 = time.time()
            assert await d.stop() == 0
    finally:
        await runner.cleanup()
        if canary.sock:
            canary.sock.close()
    log = d.log.read_text()
    assert "every canary fails" in log and "answers again" in log
    (start, end, run), = d.sql("SELECT start, end, run FROM degraded")
    assert start / 1000 <= flip.switched[0][0] and end / 1000 >= flip.switched[1][0]
    r = subprocess.run(
        [*UPTIMED, "report", "-c", str(d.config), "--from", iso(int(t0 * 1000)), "--to", iso(int(t1 * 1000)),
         "--format", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    web = json.loads(r.stdout)["monitors"][0]
    assert web["down_seconds"] == 0 and web["incidents"] == []
    assert web["unknown_seconds"] >= 8
