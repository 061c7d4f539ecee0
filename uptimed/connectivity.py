"""The daemon's own connectivity: canary targets probed every few seconds.

While every canary fails, the problem is the monitoring box's own network, not the monitored
services: that time is recorded as **degraded** (table ``degraded``, with the run) and counts as
unknown for every monitor, and results during it do not feed the state machines, so no outage
is confirmed and no incident is opened. A broken uplink on the monitoring box never charges a
customer for an outage.

Degraded time starts at the last check where a canary still answered (the network may have
failed any time after it) and ends at the first check where one answers again.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from urllib.parse import urlsplit

from probes import http as http_probe
from probes import tcp as tcp_probe
from probes.spec import HttpSpec, ProbeContext, ProbeResult, TcpSpec
from uptimed.periods import iso
from uptimed.redact import redact_url
from uptimed.store import Store

log = logging.getLogger("uptimed")

EVERY = 5.0  # seconds between checks
TIMEOUT = 2.0  # seconds per canary probe


def canary_spec(target: str) -> HttpSpec | TcpSpec:
    """``tcp://host:port`` or an http(s) URL (validated by the config loader)."""
    if target.startswith("tcp://"):
        parts = urlsplit(target)
        return TcpSpec(parts.hostname or "", parts.port or 0, TIMEOUT)
    return HttpSpec(target, TIMEOUT)


async def _probe(spec: HttpSpec | TcpSpec, ctx: ProbeContext) -> ProbeResult:
    if isinstance(spec, TcpSpec):
        return await tcp_probe.probe(spec, ctx)
    return await http_probe.probe(spec, ctx)


class Connectivity:
    def __init__(
        self, canaries: tuple[str, ...], ctx: ProbeContext, store: Store, on_change: Callable[[bool], None]
    ):
        self.canaries = canaries
        self.specs = [canary_spec(c) for c in canaries]
        self.ctx = ctx
        self.store = store
        self.on_change = on_change  # called with True when degraded begins, False when it ends
        self.degraded_since: int | None = None

    async def run(self) -> None:
        last_ok = self.store.now_ms()
        while True:
            now = self.store.now_ms()
            results = await asyncio.gather(*(_probe(s, self.ctx) for s in self.specs))
            if any(r.ok for r in results):
                if self.degraded_since is not None:
                    self._record(self.degraded_since, now)
                    log.warning(
                        "connectivity: a canary answers again; degraded from %s for %.0fs",
                        _iso(self.degraded_since), (now - self.degraded_since) / 1000,
                    )  # fmt: skip
                    self.degraded_since = None
                    self.on_change(False)
                last_ok = now
            else:
                if self.degraded_since is None:
                    self.degraded_since = last_ok
                    failures = ", ".join(
                        f"{redact_url(c)}: {r.error_kind}" for c, r in zip(self.canaries, results)
                    )
                    log.warning(
                        "connectivity: every canary fails (%s): this machine's network is down; time from %s"
                        " is unknown for every monitor and no incidents are opened",
                        failures, _iso(last_ok),
                    )  # fmt: skip
                    self.on_change(True)
                self._record(self.degraded_since, now)
            await asyncio.sleep(EVERY)

    def _record(self, start: int, end: int) -> None:
        run = self.store.run_id

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT OR REPLACE INTO degraded (start, end, run) VALUES (?, ?, ?)", (start, end, run))

        self.store.call(write)


def _iso(ms: int) -> str:
    return iso(ms) or "?"
