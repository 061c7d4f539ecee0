"""/healthz: 200 while the scheduler and the writer keep up, 503 with reasons otherwise."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.support.daemon_proc import free_port
from uptimed.config import loads_config
from uptimed.daemon.app import Daemon


async def test_healthz_turns_503_with_a_reason_when_the_writer_dies(tmp_path):
    port = free_port()
    cfg = loads_config(
        f'[daemon]\ndatabase = "{tmp_path}/u.db"\nlisten = "127.0.0.1:{port}"\n'
        '[[monitor]]\nid = "a"\nkind = "tcp"\nhost = "127.0.0.1"\nport = '
        + str(port)
        + '\ninterval = "1s"\n'
    )
    daemon = Daemon(cfg)
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
