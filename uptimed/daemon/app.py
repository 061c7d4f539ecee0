"""The daemon: start-up, the probe schedule, reloads, clock watching, and a clean stop.

Order of start-up: open and migrate the database, register monitors and resume their state
machines, start the writer and the run record, listen on HTTP, schedule the probes, then tell
systemd READY=1. Stop (SIGTERM/SIGINT) is the reverse: no new probes, in-flight probes finish
(bounded by their timeouts), the writer flushes, the run is closed, exit 0.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.events import (  # type: ignore[import-untyped]  # APScheduler 3 has no types
    EVENT_JOB_MAX_INSTANCES,
    JobEvent,
)

from probes.base import ProbeContext
from probes.http import make_session
from uptimed import __version__
from uptimed.config import load_config
from uptimed.core.recurrence import expand
from uptimed.core.shard import plan, shard_text
from uptimed.core.sla import covered_targets
from uptimed.core.state import StateMachine
from uptimed.core.times import iso
from uptimed.daemon import systemd
from uptimed.daemon.connectivity import Check, Connectivity, Holdback
from uptimed.daemon.pager import Pager, Sender
from uptimed.daemon.runner import Held, LiveMonitor, Runner, thresholds
from uptimed.daemon.scheduler import every, make_scheduler, trigger
from uptimed.daemon.sla_worker import SlaWorker
from uptimed.errors import ConfigError, DatabaseLocked, StartupError
from uptimed.model.config import Config, DaemonConfig, Monitor
from uptimed.service.incidents import links
from uptimed.store import Store, adhoc, register_monitors, threshold_us
from uptimed.web.api import Api
from uptimed.web.app import MetricsEndpoint, make_app, make_pages_app
from uptimed.web.metrics import MonitorCollector, SelfMetrics
from uptimed.web.pages import Pages
from uptimed.web.server import WebServer
from uptimed.web.sla_metrics import REFRESH as SLA_REFRESH
from uptimed.web.sla_metrics import SlaMetrics

log = logging.getLogger("uptimed")

TICK = 1.0  # seconds between clock checks, heartbeats to systemd and health updates
CLOCK_JUMP = 1.0  # seconds of wall-clock vs monotonic disagreement that count as a jump
LATE = 5.0  # seconds: probes starting later than this make /healthz unhealthy


#: The maintenance windows in force, by name ("ad-hoc window 3", "window 'sunday'"): what each
#: covers, as (kind, id) pairs, and when it ends (ms).
ActiveWindows = dict[str, tuple[tuple[tuple[str, str], ...], int]]


class Daemon:
    def __init__(self, config: Config, wall: Callable[[], float] = time.time):
        self.config = config
        self.wall = wall  # the wall clock; tests step it to simulate NTP steps
        self.metrics = SelfMetrics()
        self.store = Store(
            config.daemon.database,
            retention_raw=config.retention.raw,
            on_batch=self.metrics.on_batch,
            wall=wall,
        )
        self.scheduler = make_scheduler()
        self.runner: Runner | None = None
        self._stopping = asyncio.Event()  # set by SIGTERM, SIGINT or the shutdown trigger
        self.last_tick = time.monotonic()
        self._lag_max = 0.0
        self.lag_recent = 0.0
        self._reloading: asyncio.Task[bool] | None = None
        #: Monitors a maintenance window (config or ad hoc) covers now; refreshed every few seconds.
        self.in_maintenance: frozenset[str] = frozenset()
        #: The same, as (kind, id) of every monitor and service covered (for the pager).
        self.maintenance_targets: frozenset[tuple[str, str]] = frozenset()
        self._maintenance_active: ActiveWindows = {}

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, shutdown_trigger: Callable[[], Awaitable[object]] | None = None) -> None:
        """Run until SIGTERM or SIGINT, or until ``shutdown_trigger()`` returns (tests pass an
        event's ``wait``), then stop cleanly."""
        cfg = self.config
        try:
            version = self.store.open()
            ids = self.store.register_monitors(_registered(cfg))
            snapshots = self.store.load_snapshots()
        except DatabaseLocked as e:
            raise StartupError(str(e)) from e
        except Exception as e:
            raise StartupError(f"cannot use database {cfg.daemon.database}: {e}") from e
        log.info("database %s (schema version %d)", cfg.daemon.database, version)

        session = make_session(cfg.daemon.max_concurrency)
        collector = MonitorCollector(
            lambda: runner.monitors.values(),
            lambda key: key in self.in_maintenance,
            cfg.daemon.location,
        )
        self.runner = runner = Runner(
            self.store,
            ProbeContext(http=session),
            cfg.daemon.max_concurrency,
            self._observe_lag,
            self.wall,
            collector.refresh,
            lambda m, tr: self.pager.transition(m, tr),
        )
        for m in _runs(cfg):
            if m.enabled:
                runner.monitors[m.id] = LiveMonitor(
                    m, ids[m.id], StateMachine(thresholds(m), snapshots.get(ids[m.id]))
                )

        self.sender = Sender(self.store, lambda: self.config, self.metrics)
        self.pager = Pager(
            self.store,
            lambda: self.config,
            lambda: runner.monitors,
            lambda: self.maintenance_targets,
            self.sender.poke,
            links(cfg.daemon),
        )
        self.sla = SlaMetrics(self.store.now_ms())
        endpoint = MetricsEndpoint(self.metrics, collector, self.sla, lambda: self.config)
        self.api = api = Api(
            lambda: self.config,
            lambda: runner.monitors,
            self.store,
            cfg.daemon.api_token,
            on_ack=self.sender.poke,
            links=links(cfg.daemon),
        )
        pages = Pages(lambda: self.config, self.store.now_ms)
        # The pages on a listener of their own when [portal] listen says so: that one can be
        # published without the API and /metrics.
        apart = cfg.portal.listen
        servers = [
            WebServer(
                make_app(endpoint, self.health, api, None if apart else pages),
                cfg.daemon.listen_host,
                cfg.daemon.listen_port,
            )
        ]
        if apart is not None:
            servers.append(WebServer(make_pages_app(pages), *apart))
        # Before the port answers: whoever sees /healthz may stop us, and a SIGTERM that came
        # while we start must end the run cleanly, not kill it with the default action.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        for i, server in enumerate(servers):
            try:
                await asyncio.to_thread(server.start)
            except OSError as e:
                for started in servers[:i]:
                    await asyncio.to_thread(started.stop)
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
                await session.close()
                self.store.close()
                raise StartupError(
                    f"cannot listen on {server.host}:{server.port}: {e.strerror or e}"
                ) from e

        self._configure_store(cfg, ids)
        shard = cfg.daemon.shard
        self.store.start(
            version=__version__,
            config_sha256=cfg.sha256,
            location=cfg.daemon.location,
            shard=None if shard is None else shard_text(shard),
        )
        self.metrics.queue_depth.set_function(lambda: self.store.queue_depth)
        self.metrics.in_flight.set_function(lambda: runner.in_flight)
        self.metrics.monitors.set_function(lambda: len(runner.monitors))
        self.scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES)
        if cfg.daemon.connectivity_check:  # before the first probe: results wait for the checks
            runner.gate = Holdback(self.store.now_ms())
        self.scheduler.start()
        for live in runner.monitors.values():
            self._schedule(live.config)
        # Everything built so far lives as long as the daemon: take it out of the cyclic GC's
        # view, or full collections of it pause the loop ~50 ms every few seconds at 10k monitors.
        gc.collect()
        gc.freeze()

        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        ticker = asyncio.create_task(self._tick())
        # Which monitors a window (config or ad hoc: `uptimed maintenance add` while we run)
        # covers now, every second, so that both take effect at once.
        watcher = asyncio.create_task(
            every(TICK, self._refresh_maintenance, "maintenance: cannot read the windows")
        )
        sla_task = asyncio.create_task(self._refresh_sla())
        paging = [asyncio.create_task(self.pager.run()), asyncio.create_task(self.sender.run())]
        canary_task = None
        if runner.gate is not None:
            canaries = Connectivity(
                cfg.daemon.connectivity_check, runner.ctx, self.store, runner.gate, self._degraded
            )
            canary_task = asyncio.create_task(canaries.run())
        log.info(
            "uptimed %s: %d monitors, listening on http://%s:%d/metrics",
            __version__, len(runner.monitors), cfg.daemon.listen_host, cfg.daemon.listen_port,
        )  # fmt: skip
        if apart is not None:
            log.info("status page and portal on http://%s:%d/status", *apart)
        systemd.notify("READY=1", f"STATUS=probing {len(runner.monitors)} monitors")

        trigger_task = None
        if shutdown_trigger is not None:
            trigger_task = asyncio.create_task(self._stop_after(shutdown_trigger))
        await self._stopping.wait()
        if trigger_task is not None:
            trigger_task.cancel()

        log.info("stopping: letting probes in flight finish")
        systemd.notify("STOPPING=1")
        self.scheduler.pause()
        longest = max((m.config.timeout for m in runner.monitors.values()), default=0.0)
        if not await runner.wait_idle(longest + 0.5):
            log.warning(
                "stopping: %d probes still running after their timeout; abandoning them",
                runner.in_flight,
            )
        self.scheduler.shutdown(wait=False)
        ticker.cancel()
        watcher.cancel()
        sla_task.cancel()
        for task in paging:  # what is pending stays in the outbox for the next start
            task.cancel()
        await asyncio.gather(*paging, return_exceptions=True)
        if canary_task is not None:
            canary_task.cancel()
            runner.stop_holding(self.store.now_ms())  # before the writer's last flush
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        await session.close()
        for server in servers:
            await asyncio.to_thread(server.stop)
        await asyncio.to_thread(self.store.close)
        log.info("stopped")

    async def _stop_after(self, trigger: Callable[[], Awaitable[object]]) -> None:
        await trigger()
        self._stopping.set()

    def _configure_store(self, cfg: Config, ids: dict[str, int]) -> None:
        """Retention, and the latency thresholds the rollups count each monitor's probes
        against: those of the SLOs on the monitor or on a service it belongs to, each one
        counted on its own (rollup_latency)."""
        self.store.retention.raw = cfg.retention.raw
        self.store.retention.rollup = cfg.retention.rollup
        members = {s.id: s.monitors for s in cfg.services}
        wanted: dict[int, set[int]] = {}
        for slo in cfg.slos:
            if slo.latency is None:
                continue
            for key in members.get(slo.target, (slo.target,)):
                if key in ids:
                    wanted.setdefault(ids[key], set()).add(threshold_us(slo.latency.threshold))
        self.store.latency_thresholds = {mid: tuple(sorted(us)) for mid, us in wanted.items()}

    def _schedule(self, m: Monitor) -> None:
        assert self.runner is not None
        self.scheduler.add_job(
            self.runner.run,
            trigger(m.id, m.interval),
            args=[m.id],
            id=m.id,
            name=m.id,
            replace_existing=True,
        )

    # -- health ----------------------------------------------------------------------------

    def _observe_lag(self, lag: float) -> None:
        self.metrics.schedule_lag.observe(lag)
        if lag > self._lag_max:
            self._lag_max = lag

    def _skipped(self, event: JobEvent) -> None:
        self.metrics.skipped.inc()
        log.debug("monitor %s: run skipped, the previous probe is still running", event.job_id)

    def health(self) -> tuple[bool, dict[str, Any]]:
        reasons = []
        mono = time.monotonic()
        if not self.scheduler.running:
            reasons.append("scheduler is not running")
        if mono - self.last_tick > 5 * TICK:
            reasons.append(f"event loop stalled: last tick {mono - self.last_tick:.1f}s ago")
        if not self.store.alive:
            reasons.append("writer thread is not running")
        elif mono - self.store.last_loop > 10:
            reasons.append(f"writer stuck: last pass {mono - self.store.last_loop:.1f}s ago")
        if self.store.queue_depth > 100_000:
            reasons.append(f"writer behind: {self.store.queue_depth} results queued")
        if self.lag_recent > LATE:
            reasons.append(f"probes start late: up to {self.lag_recent:.1f}s in the last 10s")
        detail = {
            "status": "unhealthy" if reasons else "ok",
            "reasons": reasons,
            "monitors": len(self.runner.monitors) if self.runner else 0,
            "in_flight": self.runner.in_flight if self.runner else 0,
            "writer_queue_depth": self.store.queue_depth,
        }
        return not reasons, detail

    async def _tick(self) -> None:
        """Every second: detect wall-clock jumps, feed the systemd watchdog, roll the lag window."""
        watchdog = systemd.watchdog_interval()
        last_wall, last_mono = self.wall(), time.monotonic()
        last_dog = 0.0
        ticks = 0
        while True:
            await asyncio.sleep(TICK)
            wall, mono = self.wall(), time.monotonic()
            self.last_tick = mono
            expected = last_wall + (mono - last_mono)
            if abs(wall - expected) > CLOCK_JUMP:
                self._clock_jumped(last_wall, wall, expected)
            last_wall, last_mono = wall, mono
            ticks += 1
            if ticks % 10 == 0:
                self.lag_recent, self._lag_max = self._lag_max, 0.0

            if watchdog and mono - last_dog >= watchdog / 2 and self.health()[0]:
                systemd.notify("WATCHDOG=1")
                last_dog = mono

    def _degraded(self, check: Check[Held]) -> None:
        """After every connectivity check: judge the held results it cleared, and when a
        degraded stretch ended, start every verdict afresh (see
        :mod:`uptimed.daemon.connectivity`)."""
        assert self.runner is not None
        self.runner.checked(check)
        self.metrics.degraded.set(0 if check.since is None else 1)

    async def _refresh_sla(self) -> None:
        """Keep the SLA series fresh, in a child process: scrapes only read the result."""
        worker = SlaWorker(self.sla)
        try:
            await self._refresh_sla_with(worker)
        finally:
            worker.close()

    async def _refresh_sla_with(self, worker: SlaWorker) -> None:
        await asyncio.sleep(2 * TICK)  # let the first results reach the database
        while True:
            t0 = time.monotonic()
            try:
                await worker.refresh(self.config, self.store.now_ms())
            except Exception:
                log.exception("SLA metrics: refresh failed")
            # On a large history a refresh takes seconds: never spend more than a quarter of a core.
            await asyncio.sleep(max(SLA_REFRESH, 3 * (time.monotonic() - t0)))

    async def _refresh_maintenance(self) -> None:
        """Which monitors are in maintenance now, from config windows and ad-hoc ones; log the
        windows that began or ended."""
        now = self.store.now_ms()
        adhoc_now = await asyncio.wrap_future(self.store.call(lambda conn: adhoc.active(conn, now)))
        members = {s.id: s.monitors for s in self.config.services}
        # window -> (what it covers, until when): logged when it begins and when it ends
        active: ActiveWindows = {}
        for aw in adhoc_now:
            active[f"ad-hoc window {aw.id}"] = (((aw.target_kind, aw.target),), aw.end)
        for w in self.config.maintenance:
            for start, end in expand(w, now, now + 1):
                if start <= now < end:
                    active[f"window {w.id!r}"] = (
                        tuple(
                            [("monitor", m) for m in w.monitors]
                            + [("service", s) for s in w.services]
                        ),
                        end,
                    )
        covered: set[tuple[str, str]] = set()
        for targets, _ in active.values():
            for kind, key in targets:
                covered.update(covered_targets(kind, key, members))
        self.maintenance_targets = frozenset(covered)
        self.in_maintenance = frozenset(k for of, k in covered if of == "monitor")
        self._log_maintenance(active)

    def _log_maintenance(self, active: ActiveWindows) -> None:
        before, self._maintenance_active = self._maintenance_active, active
        for name in before.keys() - active.keys():
            log.info("maintenance ended: %s", name)
        for name in active.keys() - before.keys():
            targets, end = active[name]
            shown = ", ".join(f"{kind} {key}" for kind, key in targets)
            log.info("maintenance began: %s on %s, until %s", name, shown, iso(end))

    def _clock_jumped(self, last_wall: float, wall: float, expected: float) -> None:
        """The wall clock was stepped. Time from the last good tick until the clock is past
        everything already counted is unknown: end the run there and start a new one."""
        assert self.runner is not None
        jump = wall - expected
        end_at = int(last_wall * 1000)
        restart_at = int(max(wall, expected) * 1000)
        log.warning(
            "wall clock jumped by %+.1fs: the time from %s to %s is unknown%s",
            jump, iso(end_at), iso(restart_at),
            "; probes stamped before then are stored but not counted" if jump < 0 else "",
        )  # fmt: skip
        self.metrics.clock_jumps.inc()
        self.store.split_run(end_at, restart_at, "clock_jump")
        for live in self.runner.monitors.values():
            live.machine.ignore_before(restart_at)
        for job in self.scheduler.get_jobs():  # APScheduler schedules by the wall clock
            m = self.runner.monitors.get(job.id)
            if m is not None:
                job.reschedule(trigger(m.config.id, m.config.interval))

    # -- reload ----------------------------------------------------------------------------

    def _on_sighup(self) -> None:
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.create_task(self.reload())

    async def reload(self) -> bool:
        """Re-read the config file. Unchanged monitors keep their state and phase; an invalid
        config is logged and the old one stays in force."""
        systemd.notify("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")
        try:
            return await self._reload()
        finally:
            systemd.notify("READY=1")

    async def _reload(self) -> bool:
        assert self.runner is not None
        runner = self.runner
        try:
            new = await asyncio.to_thread(load_config, self.config.path)
        except ConfigError as e:
            self.metrics.reloads.labels("failure").inc()
            log.error("reload: the new config is invalid; keeping the old one:\n%s", e)
            return False
        # Location and shard stay as the daemon started, even if given by `run --location` and
        # `--shard`, which a reloaded file does not hold: a daemon does not move or re-shard.
        new = dataclasses.replace(
            new,
            daemon=dataclasses.replace(
                new.daemon, shard=self.config.daemon.shard, location=self.config.daemon.location
            ),
        )
        # The API token is read again (a changed secret file takes effect now, the old token
        # stops working); the rest of [daemon] (database, listener...) waits for a restart.
        if new.daemon.api_token != self.api.token:
            self.api.token = new.daemon.api_token
            log.info(
                "reload: the API token changed%s",
                "" if new.daemon.api_token else "; write endpoints are off",
            )
        old_tokens = {d for c in self.config.customers for d in c.token_digests}
        if new.portal.listen != self.config.portal.listen:
            log.warning("reload: a change of [portal] listen takes effect at the next restart")
        if _credentials_from(new.daemon, None) != _credentials_from(self.config.daemon, None):
            log.warning("reload: changes to [daemon] take effect at the next restart")
        wanted = {m.id: m for m in _runs(new) if m.enabled}
        ids = await asyncio.wrap_future(self.store.call(register_monitors(_registered(new))))
        added = [m for k, m in wanted.items() if k not in runner.monitors]
        snapshots = {}
        if added:
            snapshots = await asyncio.wrap_future(
                self.store.call(lambda conn: self.store.load_snapshots())
            )
        removed = [k for k in runner.monitors if k not in wanted]
        for k in removed:
            self.scheduler.remove_job(k)
            del runner.monitors[k]
        changed = 0
        for k, m in wanted.items():
            live = runner.monitors.get(k)
            if live is None:
                mid = ids[k]
                runner.monitors[k] = LiveMonitor(
                    m, mid, StateMachine(thresholds(m), snapshots.get(mid))
                )
                self._schedule(m)
            elif live.config != m:
                changed += 1
                interval_changed = live.config.interval != m.interval
                live.reconfigure(m)
                if interval_changed:
                    self.scheduler.reschedule_job(k, trigger=trigger(k, m.interval))
        # The credentials take effect now (the /metrics endpoint reads them per request).
        daemon = _credentials_from(self.config.daemon, new.daemon)
        self.config = dataclasses.replace(
            new, daemon=daemon
        )  # the rest of [daemon] waits for a restart
        self._configure_store(new, ids)
        t = self.store.now_ms()
        self.store.split_run(t, t, "reload", config_sha256=new.sha256)
        gc.freeze()  # as at start-up: the new monitors live until the next reload
        self.metrics.reloads.labels("success").inc()
        log.info(
            "reload: %d monitors (%d added, %d removed, %d changed)",
            len(runner.monitors), len(added), len(removed), changed,
        )  # fmt: skip
        new_tokens = {d for c in new.customers for d in c.token_digests}
        if old_tokens != new_tokens:  # a rotation took effect: say so, with counts only
            log.info(
                "reload: portal tokens: %d added, %d removed (%d customers, %d tokens)",
                len(new_tokens - old_tokens), len(old_tokens - new_tokens),
                len(new.customers), len(new_tokens),
            )  # fmt: skip
        return True


def _credentials_from(daemon: DaemonConfig, source: DaemonConfig | None) -> DaemonConfig:
    """``daemon`` with the credentials (the API's and /metrics', the [daemon] options a reload
    applies at once) of ``source``; None: without any."""
    if source is None:
        source = DaemonConfig(database=daemon.database)
    return dataclasses.replace(
        daemon,
        api_token=source.api_token,
        metrics_token=source.metrics_token,
        metrics_username=source.metrics_username,
        metrics_password=source.metrics_password,
    )


def _runs(config: Config) -> list[Monitor]:
    """The monitors of this daemon's shard (all of them when it is not sharded)."""
    here = plan(config).monitors
    return [m for m in config.monitors if m.id in here]


def _registered(config: Config) -> list[tuple[str, str, str]]:
    """The monitors recorded in the database: only this shard's, so that its database says
    which monitors it ran (a fleet report reads that)."""
    return [(m.id, m.kind, m.name) for m in _runs(config)]
