"""Running probes: what happens each time a monitor's job fires.

:class:`LiveMonitor` is one monitor's live state (config, state machine, last result, counters),
read by the metrics collector and the health check. :class:`Runner` runs a probe under the
global concurrency cap, feeds the result to the state machine, queues it for the store, and logs
confirmed state changes. This is the hot path: it does as little as it can per probe.

With connectivity checks (``[daemon] connectivity_check``), a result is stored at once but
judged by its state machine only once the next check says the daemon's own network was fine
(:class:`uptimed.daemon.connectivity.Holdback`; :meth:`Runner.checked` applies each check's
decision).

Each monitor's probe is its kind's (:data:`probes.KINDS`): the runner knows no kind by name.

**Internal errors** (error kind ``internal``, :data:`probes.base.INTERNAL`) are no verdict on
the target: a probe that raises (a bug: probes return the target's failures as results), or one
that says it failed because of us (:mod:`probes.http`, :mod:`probes.tcp`). Such a result is
stored as a raw result but never reaches the state machine (nor the connectivity gate), so its
time counts exactly as if the probe had not run: the last verdict holds until its ``max_gap``,
then the time is unknown, in the timeline and in every SLA figure. It is not counted in
``uptimed_probes_total`` nor ``uptimed_probe_failures_total`` but in
``uptimed_probe_internal_errors_total``, and logged at ERROR once per monitor and distinct
message (type and redacted text; at most :data:`INTERNAL_LOG_LIMIT` of them, so a bug that
varies its text cannot flood the log at one probe a second), with its traceback at DEBUG. The
traceback is scrubbed of the spec's secrets (:func:`uptimed.core.redact.secrets_of`) only: DEBUG
is for the operator's own eyes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import traceback
from collections.abc import Callable

from probes import KINDS, Kind, Probe
from probes.base import INTERNAL, ProbeContext, ProbeResult, one_line
from uptimed.core.redact import scrub, secrets_of
from uptimed.core.schedule import lateness
from uptimed.core.state import STATE_NAMES, StateMachine, Thresholds, Transition
from uptimed.core.times import iso
from uptimed.daemon.connectivity import Check, Holdback
from uptimed.model.config import Monitor
from uptimed.store import Store

log = logging.getLogger("uptimed")


#: A result held back until a connectivity check decides on it: (monitor, stamp, result).
Held = tuple["LiveMonitor", int, ProbeResult]

#: Distinct internal-error messages logged per monitor (see the module docstring).
INTERNAL_LOG_LIMIT = 8


def thresholds(m: Monitor) -> Thresholds:
    return Thresholds(m.failure_threshold, m.success_threshold, int(m.max_gap * 1000))


class LiveMonitor:
    __slots__ = (
        "config", "db_id", "machine", "kind", "probe", "secrets", "last", "ok_total", "failures",
        "internal_errors", "internal_logged", "gate",
    )  # fmt: skip

    def __init__(self, config: Monitor, db_id: int, machine: StateMachine):
        self.config = config
        self.db_id = db_id
        self.machine = machine
        self.kind: Kind = KINDS[config.kind]
        #: the kind's probe (tests put a scripted one here)
        self.probe: Probe = self.kind.probe
        self.secrets = secrets_of(config.spec)
        self.last: ProbeResult | None = None
        self.ok_total = 0
        #: failures by error kind (their sum is the failure count); internal errors are apart
        self.failures: dict[str, int] = {}
        #: results of kind internal: no verdict, neither a success nor a failure
        self.internal_errors = 0
        #: the internal-error messages logged already (at most INTERNAL_LOG_LIMIT + 1)
        self.internal_logged: set[str] = set()
        #: The runner's connectivity gate once it has probed this monitor (None without checks).
        self.gate: Holdback[Held] | None = None

    def reconfigure(self, config: Monitor) -> None:
        """Take a changed config, keeping state, counters and phase."""
        self.config = config
        self.kind = KINDS[config.kind]
        self.probe = self.kind.probe
        self.secrets = secrets_of(config.spec)
        self.machine.thresholds = thresholds(config)
        self.internal_logged = set()  # a changed spec may fix a bug or make a new one: say so again

    def confirmed_state(self, now_ms: int) -> int | None:
        """UP, DOWN, or None while there is no verdict (or the last one has expired).

        With connectivity checks, results wait for the next check: the verdict expires
        ``max_gap`` after its last probe counted from the time up to which results are cleared
        (the start of the last good check), not from now; and there is none while the daemon's
        own network is down."""
        m = self.machine
        gate = self.gate
        if gate is not None:
            cleared = gate.cleared
            if cleared is None:
                return None
            now_ms = min(now_ms, cleared)
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
        on_transition: Callable[[LiveMonitor, Transition], None] = lambda m, tr: None,
    ):
        self.store = store
        #: after a confirmed state change is queued for the store (the pager looks at once)
        self.on_transition = on_transition
        self.on_result = on_result  # the metrics collector formats the monitor's series
        self.wall = wall  # stamps results; injectable so that tests can step it
        self.ctx = ctx
        self.monitors: dict[str, LiveMonitor] = {}
        self.sem = asyncio.Semaphore(max_concurrency)
        self.observe_lag = observe_lag
        self.in_flight = 0
        #: With connectivity checks: what decides when results may feed the state machines.
        self.gate: Holdback[Held] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def run(self, monitor_id: str) -> None:
        """The job of one monitor (APScheduler calls it with the monitor's id)."""
        m = self.monitors.get(monitor_id)
        if m is None:
            return
        cfg = m.config
        gate = self.gate
        self.in_flight += 1
        self._idle.clear()
        try:
            async with self.sem:
                start = self.wall()
                # noted with the stamp, in the same step
                seq = 0 if gate is None else gate.started
                clock = self.ctx.clock
                t0 = clock()
                try:
                    result = await m.probe(cfg.spec, self.ctx)
                except Exception as e:  # noqa: BLE001 - a probe must not raise: one that does has a bug
                    result = internal_result(e, clock() - t0)
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()
        self.observe_lag(lateness(start, cfg.id, cfg.interval))
        if result.error and m.secrets:
            result = _scrubbed(result, m.secrets)
        ts = int(start * 1000)
        if result.error_kind == INTERNAL:
            # No verdict: the state machine (and the gate, which only feeds it) never sees it, so
            # that its time is exactly as if the probe had not run. The raw result is kept.
            m.last = result = note_internal(m, result)
            self.on_result(m)
            if gate is not None:
                m.gate = gate
            self.store.record(m.db_id, ts, result, [], m.machine.snapshot())
            return
        if result.ok:
            m.ok_total += 1
        else:
            kind = result.error_kind or "error"
            m.failures[kind] = m.failures.get(kind, 0) + 1
        m.last = result
        self.on_result(m)
        if gate is not None:
            m.gate = gate
            if gate.add(seq, (m, ts, result)) is not True:  # held, or dropped
                self.store.record(m.db_id, ts, result, [], m.machine.snapshot())
                return
        segments, transition = m.machine.observe(ts, result.ok, result.error_kind)
        self.store.record(m.db_id, ts, result, segments, m.machine.snapshot())
        if transition is not None:
            log_transition(cfg, transition, result)
            self.on_transition(m, transition)

    def checked(self, check: Check[Held]) -> None:
        """Apply what a connectivity check decided: judge the held results it cleared (they
        were stored already: only their timeline writes and snapshots are written now), and when
        a degraded stretch ended, interrupt every verdict over it."""
        for m, ts, result in check.judge:
            segments, transition = m.machine.observe(ts, result.ok, result.error_kind)
            self.store.record_state(m.db_id, segments, m.machine.snapshot())
            if transition is not None:
                log_transition(m.config, transition, result)
                self.on_transition(m, transition)
        if check.ended is not None:
            self.interrupt(*check.ended)

    def interrupt(self, start: int, end: int) -> None:
        """``[start, end)`` was unknown for every monitor (degraded): each verdict starts afresh,
        its open segment cut at ``start`` (see :meth:`StateMachine.interrupt`)."""
        for m in self.monitors.values():
            segments = m.machine.interrupt(start, end)
            self.store.record_state(m.db_id, segments, m.machine.snapshot())

    def stop_holding(self, at: int) -> None:
        """At stop: drop the results still held (why: see :mod:`uptimed.daemon.connectivity`), and
        if the network is down, end the degraded stretch here."""
        if self.gate is None:
            return
        dropped = self.gate.close()
        if dropped:
            log.info(
                "stopping: %d results not yet cleared by a connectivity check are not counted",
                dropped,
            )
        if self.gate.since is not None:
            self.interrupt(self.gate.since, at)

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no probe is in flight; False if they are still running after ``timeout``."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False


def log_transition(cfg: Monitor, tr: Transition, result: ProbeResult) -> None:
    since = iso(tr.at)
    was = STATE_NAMES[tr.previous]
    if result.ok:
        log.info("monitor %s (%s) is UP since %s (was %s)", cfg.id, cfg.target, since, was)
    else:
        log.info(
            "monitor %s (%s) is DOWN since %s (was %s): %s: %s",
            cfg.id, cfg.target, since, was, result.error_kind, result.error,
        )  # fmt: skip


def internal_result(exc: Exception, duration: float) -> ProbeResult:
    """The result of a probe that raised ``exc``: internal, with its type and text."""
    return ProbeResult(
        False,
        duration,
        INTERNAL,
        one_line(f"{type(exc).__name__}: {exc}".rstrip(": ")),
        exception=exc,
    )


def note_internal(m: LiveMonitor, result: ProbeResult) -> ProbeResult:
    """Count an internal result and log it if its message is new for the monitor (see the
    module docstring). Returns it without its exception: kept results must not hold frames."""
    m.internal_errors += 1
    exc = result.exception
    key = result.error or ""
    seen = m.internal_logged
    if key not in seen and len(seen) <= INTERNAL_LOG_LIMIT:
        seen.add(key)
        cfg = m.config
        if len(seen) > INTERNAL_LOG_LIMIT:
            log.error(
                "monitor %s: %d different internal errors; further ones are not logged"
                " (uptimed_probe_internal_errors_total counts them)",
                cfg.id, len(seen),
            )  # fmt: skip
        else:
            log.error(
                "monitor %s (%s): internal error, not the target's failure (no verdict: its time is"
                " unknown, never down): %s",
                cfg.id, cfg.target, result.error,
            )  # fmt: skip
            if exc is not None and log.isEnabledFor(logging.DEBUG):
                text = "".join(traceback.format_exception(exc)).rstrip()
                log.debug(
                    "monitor %s: traceback of the internal error:\n%s",
                    cfg.id,
                    scrub(text, m.secrets),
                )
    return dataclasses.replace(result, exception=None) if exc is not None else result


def _scrubbed(r: ProbeResult, secrets: tuple[str, ...]) -> ProbeResult:
    return dataclasses.replace(r, error=scrub(r.error or "", secrets))
