"""Running probes: what happens each time a monitor's job fires.

:class:`LiveMonitor` is one monitor's live state (config, state machine, last result, counters),
read by the metrics collector and the health check. :class:`Runner` runs a probe under the
global concurrency cap, feeds the result to the state machine, queues it for the store, and logs
confirmed state changes. This is the hot path: it does as little as it can per probe.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from probes import http as http_probe
from probes import tcp as tcp_probe
from probes.spec import ProbeContext, ProbeResult
from uptimed.config import Monitor
from uptimed.redact import scrub, secrets_of
from uptimed.scheduler import lateness
from uptimed.state import STATE_NAMES, StateMachine, Thresholds, Transition
from uptimed.store import Store

log = logging.getLogger("uptimed")

PROBES: dict[str, Callable[[Any, ProbeContext], Awaitable[ProbeResult]]] = {
    "http": http_probe.probe,
    "tcp": tcp_probe.probe,
}


def thresholds(m: Monitor) -> Thresholds:
    return Thresholds(m.failure_threshold, m.success_threshold, int(m.max_gap * 1000))


class LiveMonitor:
    __slots__ = ("config", "db_id", "machine", "probe", "secrets", "last", "ok_total", "failures", "rendered")

    def __init__(self, config: Monitor, db_id: int, machine: StateMachine):
        self.config = config
        self.db_id = db_id
        self.machine = machine
        self.probe = PROBES[config.kind]
        self.secrets = secrets_of(config.spec)
        self.last: ProbeResult | None = None
        self.ok_total = 0
        #: failures by error kind (their sum is the failure count)
        self.failures: dict[str, int] = {}
        #: (label string, formatted series) kept by the metrics collector
        self.rendered: tuple[str, tuple[str, ...]] | None = None

    def reconfigure(self, config: Monitor) -> None:
        """Take a changed config, keeping state, counters and phase."""
        self.config = config
        self.probe = PROBES[config.kind]
        self.secrets = secrets_of(config.spec)
        self.machine.thresholds = thresholds(config)

    def confirmed_state(self, now_ms: int) -> int | None:
        """UP, DOWN, or None while there is no verdict (or the last one has expired)."""
        m = self.machine
        if m.state is None or m.last_ts is None or now_ms - m.last_ts > m.thresholds.max_gap_ms:
            return None
        return m.state


class Runner:
    def __init__(
        self,
        store: Store,
        ctx: ProbeContext,
        max_concurrency: int,
        observe_lag: Callable[[float], None],
        wall: Callable[[], float] = time.time,
        on_result: Callable[[LiveMonitor], None] = lambda m: None,
    ):
        self.store = store
        self.on_result = on_result  # the metrics collector formats the monitor's series
        self.wall = wall  # stamps results; injectable so that tests can step it
        self.ctx = ctx
        self.monitors: dict[str, LiveMonitor] = {}
        self.sem = asyncio.Semaphore(max_concurrency)
        self.observe_lag = observe_lag
        self.in_flight = 0
        #: While the daemon's own network is down (every connectivity canary fails), results are
        #: stored but do not feed the state machines: no outage is confirmed from them.
        self.degraded = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def run(self, monitor_id: str) -> None:
        """The job of one monitor (APScheduler calls it with the monitor's id)."""
        m = self.monitors.get(monitor_id)
        if m is None:
            return
        cfg = m.config
        self.in_flight += 1
        self._idle.clear()
        try:
            async with self.sem:
                start = self.wall()
                t0 = time.perf_counter()
                try:
                    result = await m.probe(cfg.spec, self.ctx)
                except Exception as e:  # a probe must not raise; if one does, it is our bug
                    log.exception("monitor %s: probe raised", cfg.id)
                    result = ProbeResult(False, time.perf_counter() - t0, "error", f"internal error: {type(e).__name__}")
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()
        self.observe_lag(lateness(start, cfg.id, cfg.interval))
        if result.error and m.secrets:
            result = _scrubbed(result, m.secrets)
        ts = int(start * 1000)
        if result.ok:
            m.ok_total += 1
        else:
            kind = result.error_kind or "error"
            m.failures[kind] = m.failures.get(kind, 0) + 1
        m.last = result
        self.on_result(m)
        if self.degraded:
            segments, transition = [], None
        else:
            segments, transition = m.machine.observe(ts, result.ok, result.error_kind)
        self.store.record(m.db_id, ts, result, segments, m.machine.snapshot())
        if transition is not None:
            log_transition(cfg, transition, result)

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no probe is in flight; False if they are still running after ``timeout``."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False


def log_transition(cfg: Monitor, tr: Transition, result: ProbeResult) -> None:
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(tr.at / 1000)) + f".{tr.at % 1000:03d}Z"
    was = STATE_NAMES[tr.previous]
    if result.ok:
        log.info("monitor %s (%s) is UP since %s (was %s)", cfg.id, cfg.target, since, was)
    else:
        log.info(
            "monitor %s (%s) is DOWN since %s (was %s): %s: %s",
            cfg.id, cfg.target, since, was, result.error_kind, result.error,
        )  # fmt: skip


def _scrubbed(r: ProbeResult, secrets: tuple[str, ...]) -> ProbeResult:
    return ProbeResult(r.ok, r.duration, r.error_kind, scrub(r.error or "", secrets), r.status_code, r.phases)
