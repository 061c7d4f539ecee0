"""/healthz: 200 while the scheduler and the writer keep up, 503 with reasons otherwise."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from tests.support.daemon_proc import free_port
from uptimed.config import loads_config
from uptimed.daemon.app import Daemon
from uptimed.model.config import Config


def one_monitor(tmp_path: Path, port: int) -> Config:
    """A daemon listening on ``port``, with one TCP monitor: of its own listener."""
    return loads_config(
        f'[daemon]\ndatabase = "{tmp_path}/u.db"\nlisten = "127.0.0.1:{port}"\n'
        f'[[monitor]]\nid = "a"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {port}\n'
        'interval = "1s"\n'
    )


async def test_healthz_turns_503_with_a_reason_when_the_writer_dies(tmp_path):
    port = free_port()
    daemon = Daemon(one_monitor(tmp_path, port))
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(shutdown_trigger=stop.wait))
    try:
        async with aiohttp.ClientSession() as s:
            for _ in range(50):
                try:
                    async with s.get(f"http://127.0.0.1:{port}/healthz") as r:
                        first = (r.status, await r.json())
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            assert first[0] == 200 and first[1]["status"] == "ok"
            daemon.store._stop.set()  # the writer thread finishes its pass and exits
            await asyncio.to_thread(daemon.store._thread.join, 5)
            async with s.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 503
                body = json.loads(await r.text())
        assert body["status"] == "unhealthy" and body["reasons"] == ["writer thread is not running"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_the_listener_answers_while_the_probe_loop_is_stuck_and_says_so(tmp_path):
    """The listener has a thread and event loop of its own (uptimed.web.server): with the probe
    loop blocked, /metrics and /healthz still answer, and /healthz names the stall."""
    import time
    import urllib.error
    import urllib.request

    port = free_port()
    daemon = Daemon(one_monitor(tmp_path, port))
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(shutdown_trigger=stop.wait))

    def get(path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    try:
        for _ in range(50):
            try:
                if (await asyncio.to_thread(get, "/healthz"))[0] == 200:
                    break
            except OSError:
                await asyncio.sleep(0.1)
        answers: list[tuple[float, int, bytes]] = []

        def ask_while_blocked() -> None:
            time.sleep(5.5)  # the probe loop has been stuck for 5.5 s: past 5 ticks
            t0 = time.monotonic()
            for path in ("/metrics", "/healthz"):
                status, body = get(path)
                answers.append((time.monotonic() - t0, status, body))

        asker = asyncio.get_running_loop().run_in_executor(None, ask_while_blocked)
        time.sleep(9)  # block this loop, the daemon's probe loop: no await for 9 s
        await asker
        (_, metrics_status, metrics), (took, health_status, health) = answers
        assert took < 2.5, "both answered while the probe loop was still blocked"
        assert metrics_status == 200 and b"uptimed_build_info" in metrics
        assert health_status == 503
        assert json.loads(health)["reasons"][0].startswith("event loop stalled")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
