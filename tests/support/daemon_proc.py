"""Run the real daemon (``uptimed run``) as a subprocess, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import sys
from pathlib import Path

import aiohttp

UPTIMED = [sys.executable, "-m", "uptimed"]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class DaemonProc:
    """``async with DaemonProc(tmp_path, monitors_toml) as d``: a running daemon with its own
    database and listener in ``tmp_path``."""

    def __init__(
        self,
        tmp_path: Path,
        monitors: str,
        *,
        defaults: str = 'interval = "1s"\ntimeout = "0.5s"\n',
        env: dict[str, str] | None = None,
        port: int | None = None,
        args: tuple[str, ...] = (),
    ):
        self.dir = tmp_path
        self.port = port or free_port()
        self.db = tmp_path / "u.db"
        self.config = tmp_path / "c.toml"
        self.log = tmp_path / "daemon.log"
        self.env = env or {}
        self.args = args  # more arguments of `uptimed run`, e.g. ("--location", "fra1")
        self.write_config(monitors, defaults)
        self.proc: asyncio.subprocess.Process | None = None

    def write_config(
        self, monitors: str, defaults: str = 'interval = "1s"\ntimeout = "0.5s"\n'
    ) -> None:
        self.config.write_text(
            f'[daemon]\ndatabase = "{self.db}"\nlisten = "127.0.0.1:{self.port}"\n'
            f"[defaults]\n{defaults}\n{monitors}"
        )

    async def start(self) -> None:
        log = open(self.log, "ab")
        self.proc = await asyncio.create_subprocess_exec(
            *UPTIMED,
            "run",
            "-c",
            str(self.config),
            *self.args,
            stdout=log,
            stderr=log,
            env={**os.environ, **self.env},
        )
        log.close()
        for _ in range(100):
            if self.proc.returncode is not None:
                raise AssertionError(
                    f"daemon exited {self.proc.returncode}:\n{self.log.read_text()}"
                )
            try:
                await self.get("/healthz")
                return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        raise AssertionError(f"daemon did not listen:\n{self.log.read_text()}")

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as s:
            async with s.get(
                f"http://127.0.0.1:{self.port}{path}", timeout=aiohttp.ClientTimeout(total=5)
            ) as r:
                return r.status, await r.text()

    async def metrics(self) -> str:
        return (await self.get("/metrics"))[1]

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def sql(self, query: str, *args: object) -> list[tuple]:
        c = sqlite3.connect(self.db)
        try:
            return c.execute(query, args).fetchall()
        finally:
            c.close()

    async def __aenter__(self) -> DaemonProc:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


def value(metrics: str, name: str, **labels: str) -> float | None:
    """The value of the first sample of ``name`` whose labels include ``labels``."""
    for m in re.finditer(rf"^{re.escape(name)}(?:\{{([^}}]*)\}})? (\S+)$", metrics, re.M):
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            return float(m.group(2))
    return None
