"""The SLA refresh runs in a child process (uptimed.daemon.sla_worker): its series reach
/metrics, and the child goes with the daemon, even after kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from tests.support.daemon_proc import DaemonProc, value
from tests.support.targets import serve_target


def children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out |= {int(c) for c in f.read().split()}
    return out


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


async def test_the_sla_child_serves_the_series_and_dies_with_the_daemon(tmp_path: Path) -> None:
    async with serve_target() as t:
        monitors = f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "{t.url("/")}"\n'
        async with DaemonProc(tmp_path, monitors) as d:
            assert d.proc is not None
            for _ in range(100):
                if value(await d.metrics(), "uptimed_up_seconds_total", monitor="web") is not None:
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("no SLA series from the child")
            kids = children(d.proc.pid)
            assert kids, "the refresh should run in a child process"
            d.send(signal.SIGKILL)
            await d.proc.wait()
            for _ in range(50):
                if not any(alive(k) for k in kids):
                    break
                await asyncio.sleep(0.2)
            assert not any(alive(k) for k in kids), "a child outlived the daemon"
