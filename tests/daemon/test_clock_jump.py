"""A stepped wall clock (NTP step, VM resume) never becomes fake uptime or downtime.

The daemon runs in-process with a wall clock the test steps; probes hit a real loopback target.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

from tests.support.daemon_proc import free_port
from tests.support.targets import serve_target
from uptimed.config import loads_config
from uptimed.daemon.app import Daemon


class SteppedClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


async def run_with_step(tmp_path, step: float) -> tuple[sqlite3.Connection, float, float]:
    clock = SteppedClock()
    async with serve_target() as t:
        cfg = loads_config(
            f'[daemon]\ndatabase = "{tmp_path}/u.db"\nlisten = "127.0.0.1:{free_port()}"\n'
            f'[[monitor]]\nid = "a"\nkind = "http"\nurl = "{t.url("/status/200")}"\n'
            'interval = "1s"\ntimeout = "0.5s"\n'
        )
        daemon = Daemon(cfg, wall=clock)
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(shutdown_trigger=stop.wait))
        await asyncio.sleep(2.6)
        before = clock()
        clock.offset = step
        await asyncio.sleep(3.2)
        after = clock()
        stop.set()
        await asyncio.wait_for(task, 10)
    return sqlite3.connect(tmp_path / "u.db"), before, after


def covered(conn: sqlite3.Connection, lo: int, hi: int) -> int:
    """Milliseconds of [lo, hi) that a timeline segment and a run both cover."""
    total = 0
    for s, e in conn.execute("SELECT start, end FROM timeline"):
        for rs, re_ in conn.execute("SELECT started, ended FROM runs"):
            a, b = max(s, rs, lo), min(e, re_, hi)
            total += max(0, b - a)
    return total


async def test_forward_jump_is_unknown_time(tmp_path, caplog):
    conn, before, after = await run_with_step(tmp_path, 60.0)
    runs = conn.execute("SELECT started, ended, end_reason FROM runs ORDER BY id").fetchall()
    assert [r[2] for r in runs] == ["clock_jump", "stop"]
    (s1, e1, _), (s2, e2, _) = runs
    assert before * 1000 - 1500 <= e1 <= before * 1000 + 1100  # the last good tick before the step
    assert s2 >= before * 1000 + 60_000 - 100  # restarts after the skipped minute
    # The skipped minute counts neither up nor down, though one verdict spans it.
    assert covered(conn, e1, s2) == 0
    assert covered(conn, s2, e2) > 1000  # and probing went on after the step
    assert "wall clock jumped by +60" in caplog.text


async def test_backward_jump_counts_nothing_twice(tmp_path, caplog):
    conn, before, after = await run_with_step(tmp_path, -60.0)
    runs = conn.execute("SELECT started, ended, end_reason FROM runs ORDER BY id").fetchall()
    assert [r[2] for r in runs] == ["clock_jump", "stop"]
    (s1, e1, _), (s2, e2, _) = runs
    assert s2 >= e1  # the new run starts where the clock had already been: no overlap
    # Probes stamped in the repeated minute are stored but extend no verdict.
    last_ts = conn.execute("SELECT last_ts FROM monitor_state").fetchone()[0]
    assert last_ts <= e1 + 1000
    stamped_back = conn.execute(
        "SELECT count(*) FROM results WHERE ts < ?", (s1 + 500,)
    ).fetchone()[0]
    assert stamped_back >= 2
    assert covered(conn, e1 + 1000, s2 + 60_000) == 0
    assert "stored but not counted" in caplog.text
