"""A probe that fails because of our own bug is never the target's failure.

Through the real :class:`~uptimed.daemon.runner.Runner`, a real :class:`~uptimed.store.Store` on a
SQLite file, the real probes against loopback targets and the real report: an internal error
(a probe that raises, or a result of kind ``internal``) gives no verdict. Its time is unknown,
exactly as if the probe had not run; it is counted in ``uptimed_probe_internal_errors_total``
and logged once per monitor and distinct error. A real failure (a refused connection) is still
down. The clock is the test's: a step of it is a probe interval.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from probes.base import ERROR_KINDS, INTERNAL, ProbeContext, ProbeResult
from probes.http import HttpSpec, make_session
from probes.tcp import TcpSpec
from tests.support.targets import closed_port, serve_target
from uptimed.config import loads_config
from uptimed.core.state import DOWN, UP, StateMachine
from uptimed.daemon.runner import INTERNAL_LOG_LIMIT, LiveMonitor, Runner, thresholds
from uptimed.model.config import Config
from uptimed.render.json import report_json
from uptimed.service.report import build_report
from uptimed.service.window import resolve_scope, resolve_window
from uptimed.store import Store, connect
from uptimed.web.metrics import MonitorCollector

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, in seconds
INTERVAL = 10  # seconds; timeout 4 s, so max_gap is 24 s


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def config_text(db: Path, refused_port: int) -> str:
    text = f'[daemon]\ndatabase = "{db}"\n'
    for key in ("buggy", "refused", "badport"):
        text += f"""
[[monitor]]
id = "{key}"
kind = "tcp"
host = "127.0.0.1"
port = {refused_port}
interval = "{INTERVAL}s"
timeout = "4s"
failure_threshold = 1
"""
    return (
        text
        + f"""
[[monitor]]
id = "web"
kind = "http"
url = "http://127.0.0.1:{refused_port}/"
interval = "{INTERVAL}s"
timeout = "4s"
"""
    )


Script = dict[int, BaseException | None]  # second after T0 -> raise this, or None: succeed


def scripted(clock: Clock, script: Script) -> Callable[[Any, ProbeContext], Awaitable[ProbeResult]]:
    """A probe that succeeds, or raises what the script says for the current time."""

    async def probe(spec: Any, ctx: ProbeContext) -> ProbeResult:
        exc = script[int(clock.now - T0)]
        if exc is not None:
            raise exc
        return ProbeResult(True, 0.001)

    return probe


class World:
    """A runner over a real store, on the test's clock."""

    def __init__(self, tmp_path: Path, refused_port: int, ctx: ProbeContext | None = None) -> None:
        self.clock = Clock()
        self.db = tmp_path / "u.db"
        self.config: Config = loads_config(
            config_text(self.db, refused_port), str(tmp_path / "c.toml")
        )
        self.store = Store(str(self.db), wall=self.clock, flush_interval=0.02)
        self.store.open()
        ids = self.store.register_monitors([(m.id, m.kind, m.id) for m in self.config.monitors])
        self.collector = MonitorCollector(lambda: self.runner.monitors.values())
        self.runner = Runner(
            self.store,
            ctx or ProbeContext(),
            10,
            lambda lag: None,
            self.clock,
            self.collector.refresh,
        )
        for m in self.config.monitors:
            self.runner.monitors[m.id] = LiveMonitor(m, ids[m.id], StateMachine(thresholds(m)))
        self.store.start(version="test", config_sha256="x")

    def respec(self, key: str, spec: HttpSpec | TcpSpec) -> None:
        """Give a monitor a spec the config loader would refuse: what a bug of ours would build."""
        m = self.runner.monitors[key]
        m.reconfigure(dataclasses.replace(m.config, spec=spec))

    async def probe_all(self, at: int, *ids: str) -> None:
        self.clock.now = T0 + at
        for key in ids:
            await self.runner.run(key)

    def close(self, at: int) -> None:
        self.clock.now = T0 + at
        self.store.close()

    def read(self) -> sqlite3.Connection:
        return connect(str(self.db), readonly=True)

    def timeline(self, key: str) -> list[tuple[int, int, int]]:
        """``(start, end, state)`` rows in seconds after T0."""
        conn = self.read()
        try:
            rows = conn.execute(
                "SELECT t.start, t.end, t.state FROM timeline t JOIN monitors m ON m.id = t.monitor"
                " WHERE m.key = ? ORDER BY t.start",
                (key,),
            ).fetchall()
        finally:
            conn.close()
        base = int(T0 * 1000)
        return [((s - base) // 1000, (e - base) // 1000, st) for s, e, st in rows]

    def figures(self, key: str, end: int) -> dict[str, Any]:
        """The report's figures of a monitor over ``[T0, T0 + end)``."""
        conn = self.read()
        now = int((T0 + end) * 1000)
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + end))
        try:
            window = resolve_window(now, start="2026-01-01T00:00:00Z", end=iso)
            report = report_json(
                build_report(conn, self.config, resolve_scope(self.config), window, now)
            )
        finally:
            conn.close()
        item: dict[str, Any] = next(x for x in report["monitors"] if x["id"] == key)
        return item

    def stored_kinds(self, key: str) -> list[str | None]:
        conn = self.read()
        try:
            return [
                row[0]
                for row in conn.execute(
                    "SELECT e.name FROM results r JOIN monitors m ON m.id = r.monitor"
                    " LEFT JOIN error_kinds e ON e.id = r.error_kind WHERE m.key = ? ORDER BY r.ts",
                    (key,),
                )
            ]
        finally:
            conn.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    with closed_port() as port:
        yield port


def internal_lines(
    caplog: pytest.LogCaptureFixture, key: str, level: int = logging.ERROR
) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "uptimed"
        and r.levelno == level
        and r.getMessage().startswith((f"monitor {key} ", f"monitor {key}:"))
        and "internal error" in r.getMessage()
    ]


async def test_a_probe_that_raises_is_unknown_time_never_down(
    tmp_path: Path, refused_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="uptimed")
    w = World(tmp_path, refused_port)
    boom, other = ValueError("boom"), AttributeError("'NoneType' object has no attribute 'request'")
    # Up at 0; our bug from 10 to 60 (two distinct errors); up again from 70.
    script: Script = {
        0: None,
        10: boom,
        20: boom,
        30: boom,
        40: other,
        50: boom,
        60: other,
        70: None,
        80: None,
    }
    w.runner.monitors["buggy"].probe = scripted(w.clock, script)
    for t in sorted(script):
        await w.probe_all(t, "buggy", "refused")
    w.close(100)

    # The verdict of 0 holds its max_gap (24 s), as if the probes at 10 and 20 had not run;
    # then unknown until the real result at 70, which starts afresh: no DOWN row at all.
    assert w.timeline("buggy") == [(0, 24, UP), (70, 104, UP)]
    fig = w.figures("buggy", 100)
    assert fig["down_seconds"] == 0
    assert fig["up_seconds"] == 24 + 30  # [0, 24) and [70, 100)
    assert fig["unknown_seconds"] == 100 - 54
    # ... while a real failure (connection refused on a loopback port) is still down.
    assert [state for _, _, state in w.timeline("refused")] == [DOWN]
    assert w.figures("refused", 100)["down_seconds"] == 100

    # Stored as raw results of kind "internal" (the kind is in error_kinds from start-up).
    assert w.stored_kinds("buggy") == [None] + [INTERNAL] * 6 + [None, None]
    assert set(w.stored_kinds("refused")) == {"refused"}

    # Counted apart: neither a success nor a failure.
    buggy = w.runner.monitors["buggy"]
    assert (buggy.internal_errors, buggy.ok_total, buggy.failures) == (6, 3, {})
    text = w.collector.render_text()
    assert 'uptimed_probe_internal_errors_total{monitor="buggy"} 6.0' in text
    assert 'uptimed_probe_internal_errors_total{monitor="refused"} 0.0' in text
    assert 'uptimed_probes_total{monitor="buggy",result="failure"} 0.0' in text
    assert 'uptimed_probe_failures_total{monitor="refused",error_kind="refused"} 9.0' in text

    # One ERROR line per distinct error (type and message), a traceback at DEBUG with each.
    lines = internal_lines(caplog, "buggy")
    assert len(lines) == 2, lines
    assert "ValueError: boom" in lines[0] and "not the target's failure" in lines[0]
    assert "AttributeError: 'NoneType' object has no attribute 'request'" in lines[1]
    tracebacks = internal_lines(caplog, "buggy", logging.DEBUG)
    assert len(tracebacks) == 2 and "Traceback (most recent call last)" in tracebacks[0]
    assert not internal_lines(caplog, "refused")
    # The kept result holds no exception (nor its frames).
    assert buggy.last is not None and buggy.last.exception is None


async def test_an_internal_error_neither_grows_nor_breaks_a_pending_run(
    tmp_path: Path, refused_port: int
) -> None:
    """Failure threshold 3. Fail, fail, [bug], success: no outage (the bug is not a third
    failure). Fail, fail, [bug], fail: an outage from the first failure (the bug did not break
    the run). As if the bug's probes had not run."""
    w = World(tmp_path, refused_port)
    m = w.runner.monitors["buggy"]
    m.reconfigure(dataclasses.replace(m.config, failure_threshold=3))
    failing, buggy = (10, 20, 40, 50, 60), (25, 55)

    async def probe(spec: Any, ctx: ProbeContext) -> ProbeResult:
        t = int(w.clock.now - T0)
        if t in buggy:
            raise TypeError("a bug")
        if t in failing:
            return ProbeResult(False, 0.001, "refused", "refused")
        return ProbeResult(True, 0.001)

    m.probe = probe
    for t in (0, 10, 20, 25, 30, 40, 50, 55, 60, 70):
        await w.probe_all(t, "buggy")
    w.close(80)
    assert w.timeline("buggy") == [(0, 40, UP), (40, 70, DOWN), (70, 94, UP)]
    assert m.internal_errors == 2 and m.failures == {"refused": 5}


async def test_distinct_errors_are_logged_up_to_a_limit(
    tmp_path: Path, refused_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug whose message varies (a counter, an address) must not flood the log either."""
    w = World(tmp_path, refused_port)
    n = INTERNAL_LOG_LIMIT + 5
    script: Script = {i * INTERVAL: RuntimeError(f"attempt {i}") for i in range(n)}
    w.runner.monitors["buggy"].probe = scripted(w.clock, script)
    for t in sorted(script):
        await w.probe_all(t, "buggy")
    w.close(n * INTERVAL)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("monitor buggy")]
    assert len(lines) == INTERNAL_LOG_LIMIT + 1, lines
    assert "further ones are not logged" in lines[-1]
    assert w.runner.monitors["buggy"].internal_errors == n
    assert w.timeline("buggy") == []


async def test_the_aiohttp_authorization_error_through_the_runner(
    tmp_path: Path, refused_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The real HTTP probe, a loopback target: credentials in the URL and an Authorization
    header make aiohttp raise ValueError before sending anything. No verdict, no request."""
    session = make_session()
    try:
        async with serve_target() as target:
            w = World(tmp_path, refused_port, ProbeContext(http=session))
            url = target.url("/status/200").replace("://", "://user:hunter2@", 1)
            w.respec(
                "web",
                HttpSpec(url=url, timeout=2.0, headers=(("Authorization", "Bearer s3cr3t-token"),)),
            )
            for t in (0, 10, 20):
                await w.probe_all(t, "web")
            w.close(30)
            assert not target.requests and target.connections == 0
    finally:
        await session.close()
    assert w.timeline("web") == []
    assert w.stored_kinds("web") == [INTERNAL] * 3
    fig = w.figures("web", 30)
    assert (fig["up_seconds"], fig["down_seconds"], fig["unknown_seconds"]) == (0, 0, 30)
    web = w.runner.monitors["web"]
    assert web.internal_errors == 3 and web.last is not None
    assert (web.last.error or "").startswith("ValueError: Cannot combine AUTHORIZATION header")
    lines = internal_lines(caplog, "web")
    assert len(lines) == 1 and "hunter2" not in lines[0] and "s3cr3t-token" not in lines[0]


async def test_a_tcp_spec_the_socket_layer_refuses_is_internal(
    tmp_path: Path, refused_port: int
) -> None:
    """The real TCP probe raises for a port out of range (a spec the config should have
    refused; the socket layer would take it modulo 65536 and probe another port): the runner
    records it as internal, not as the target's failure."""
    w = World(tmp_path, refused_port)
    w.respec("badport", TcpSpec("127.0.0.1", 70000, 1.0))
    await w.probe_all(0, "badport")
    w.close(10)
    last = w.runner.monitors["badport"].last
    assert (
        last is not None
        and last.error_kind == INTERNAL
        and (last.error or "").startswith("ValueError: port")
    )
    assert w.timeline("badport") == []
    assert w.figures("badport", 10)["down_seconds"] == 0


def test_the_internal_kind_is_added_to_an_existing_database(tmp_path: Path) -> None:
    """A database made before the kind existed gets it at the next start (INSERT OR IGNORE)."""
    db = str(tmp_path / "u.db")
    s = Store(db)
    s.open()
    assert INTERNAL in ERROR_KINDS and INTERNAL in s.error_kind_ids
    assert s._conn is not None
    s._conn.execute("DELETE FROM error_kinds WHERE name = 'internal'")  # as an older daemon left it
    s.close()
    s = Store(db)
    s.open()
    try:
        assert INTERNAL in s.error_kind_ids
    finally:
        s.close()


EXHAUSTED = """
import asyncio, json, os, resource, sys
from probes.http import make_session, probe as http_probe
from probes.http import HttpSpec
from probes.base import ProbeContext
from probes.tcp import TcpSpec
from probes.tcp import probe as tcp_probe

async def main() -> None:
    port = int(sys.argv[1])
    session = make_session()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    fds = []
    try:
        while True:
            fds.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass
    try:
        tcp = await tcp_probe(TcpSpec("127.0.0.1", port, 2.0), ProbeContext())
        spec = HttpSpec(f"http://127.0.0.1:{port}/", 2.0)
        http = await http_probe(spec, ProbeContext(http=session))
    finally:
        for fd in fds:
            os.close(fd)
    await session.close()
    print(json.dumps([[r.error_kind, r.error] for r in (tcp, http)]))

asyncio.run(main())
"""


async def test_out_of_file_descriptors_is_internal_for_both_probes() -> None:
    """The real probes in a process that has used up its file descriptors, against a target
    that listens: the connection cannot even be tried, and that is not the target's failure."""
    import asyncio
    import json
    import os
    import sys

    async with serve_target() as target:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", EXHAUSTED, str(target.port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    (tcp_kind, tcp_error), (http_kind, http_error) = json.loads(out)
    assert tcp_kind == INTERNAL and "OSError" in tcp_error and "Too many open files" in tcp_error
    assert http_kind == INTERNAL and http_error.startswith(
        "ClientConnectorError: cannot connect to 127.0.0.1:"
    )
    assert "Too many open files" in http_error
    assert not target.requests
