"""Incidents and notifications in the daemon: the pager, which finds incidents and writes what is
due to the outbox, and the sender, which delivers the outbox.

:class:`Pager` runs :func:`uptimed.service.incidents.run_pass` on the writer's connection
(:meth:`uptimed.store.Store.call`): at once when a monitor's confirmed state changes (the call
is queued right after the result that changed it, so both are usually in one transaction),
every :data:`BUSY` seconds while a monitor is down or an incident open (services, maintenance
ending, acknowledgements from the CLI), when escalation says the next item is due, and every
:data:`IDLE` seconds otherwise.

:class:`Sender` delivers the outbox's due entries, at most one in flight per notifier, each in a
task of its own, so a slow or dead receiver holds up neither the probes nor the other
notifiers; apprise's blocking calls run in a thread pool of their own. Each outcome is written
back (:func:`uptimed.store.outbox.sent`, :func:`~uptimed.store.outbox.failed`, which retries with
backoff and gives up after :data:`uptimed.core.retry.MAX_ATTEMPTS`). A restart resumes every
pending entry; one delivered but not yet marked is delivered again, with the same idempotency
key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import aiohttp

from uptimed.core.state import DOWN, Transition
from uptimed.core.times import iso
from uptimed.model.config import Config, Notifier
from uptimed.notify.apprise_sender import deliver_apprise
from uptimed.notify.message import Notification, payload, render
from uptimed.notify.webhook import Outcome, deliver_webhook
from uptimed.render.text import human_duration
from uptimed.service.incidents import Links, PassResult, Target, run_pass
from uptimed.store import Store, outbox
from uptimed.store.db import connect

if TYPE_CHECKING:
    from uptimed.daemon.runner import LiveMonitor
    from uptimed.web.metrics import SelfMetrics

log = logging.getLogger("uptimed")

BUSY = 2.0  # seconds between passes while something is down or open
IDLE = 30.0  # seconds between passes otherwise
SEND_POLL = 2.0  # seconds between looks at the outbox when nothing pokes the sender


class Pager:
    def __init__(
        self,
        store: Store,
        config: Callable[[], Config],
        monitors: Callable[[], Mapping[str, LiveMonitor]],
        in_maintenance: Callable[[], Collection[Target]],
        on_enqueued: Callable[[], None],
        links: Links,
    ) -> None:
        self.store, self.config, self.monitors = store, config, monitors
        self.in_maintenance, self.on_enqueued, self.links = in_maintenance, on_enqueued, links
        # What the next pass looks at, taken when it begins in the writer thread.
        self._lock = threading.Lock()
        self._changed: set[str] = set()
        self._confirmed: dict[Target, int] = {}
        self._queued: Future[PassResult] | None = None  # a pass queued and not yet begun
        self._wake = asyncio.Event()
        self._wake.set()  # the first pass at once: outages under way at start
        self._rearm = asyncio.Event()  # a pass ended
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last: PassResult | None = None

    def transition(self, m: LiveMonitor, tr: Transition) -> None:
        """A monitor's confirmed state changed (the runner calls this right after queueing
        the change): queue a pass behind it, so that both are written in one transaction."""
        with self._lock:
            self._changed.add(m.config.id)
            if tr.state == DOWN:
                self._confirmed[("monitor", m.config.id)] = tr.confirmed_at
        self.submit()

    def poke(self) -> None:
        """Look again soon; safe from any thread (the API's acknowledgements)."""
        _set_from_any_thread(self._loop, self._wake)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while True:
            # A pass may end while we wait (one a transition queued): then when the next is
            # due changes, so wait again from then on.
            self._rearm.clear()
            woken = asyncio.ensure_future(self._wake.wait())
            rearmed = asyncio.ensure_future(self._rearm.wait())
            done, _ = await asyncio.wait(
                (woken, rearmed), timeout=self._timeout(), return_when=asyncio.FIRST_COMPLETED
            )
            woken.cancel()
            rearmed.cancel()
            if done == {rearmed}:
                continue
            self._wake.clear()
            try:
                await asyncio.wrap_future(self.submit())
            except Exception:  # a bug: logged by _finished; the next pass tries again
                pass

    def _timeout(self) -> float:
        busy = (self.last is not None and self.last.unresolved) or any(
            m.machine.state == DOWN for m in self.monitors().values()
        )
        timeout = BUSY if busy else IDLE
        if self.last is not None and self.last.wake_at is not None:
            timeout = min(timeout, max(0.0, (self.last.wake_at - self.store.now_ms()) / 1000))
        return timeout

    def submit(self) -> Future[PassResult]:
        """Queue a pass on the writer (or return the one queued and not yet begun: it will
        see everything noted until it begins)."""
        with self._lock:
            if self._queued is not None:
                return self._queued
            self._queued = fut = self.store.call(self._pass)
        loop = self._loop
        if loop is not None:
            fut.add_done_callback(lambda f: loop.call_soon_threadsafe(self._finished, f))
        return fut

    def _pass(self, conn: sqlite3.Connection) -> PassResult:
        """In the writer thread, inside its batch's transaction."""
        cfg = self.config()
        down = {k for k, m in list(self.monitors().items()) if m.machine.state == DOWN}
        with self._lock:
            self._queued = None
            changed, self._changed = self._changed | down, set()
            confirmed, self._confirmed = self._confirmed, {}
        targets: set[Target] = {("monitor", k) for k in changed}
        targets |= {("service", s.id) for s in cfg.services if changed.intersection(s.monitors)}
        now = self.store.now_ms()
        self.store.beat(conn)  # the run's known time must reach the state change just written
        return run_pass(
            conn, cfg, targets, now, confirmed=confirmed,
            in_maintenance=frozenset(self.in_maintenance()), links=self.links,
        )  # fmt: skip

    def _finished(self, fut: Future[PassResult]) -> None:
        """In the event loop, after a pass."""
        self._rearm.set()
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            log.error("pager: pass failed", exc_info=exc)
            return
        result = fut.result()
        for inc in result.opened:
            log.info(
                "incident %s opened: %s %s down since %s (%s)%s",
                inc.id, inc.target_kind, inc.target, iso(inc.start), inc.severity,
                f"; quiet: {inc.quiet}" if inc.quiet else "",
            )  # fmt: skip
        for inc in result.resolved:
            if inc.resolved is None:  # pragma: no cover - resolved by definition
                continue
            log.info(
                "incident %s resolved: %s %s down from %s to %s (%s)",
                inc.id, inc.target_kind, inc.target, iso(inc.start), iso(inc.resolved),
                human_duration((inc.resolved - inc.start) / 1000),
            )  # fmt: skip
        self.last = result
        if result.enqueued:
            self.on_enqueued()


class Sender:
    def __init__(
        self,
        store: Store,
        config: Callable[[], Config],
        metrics: SelfMetrics,
    ) -> None:
        self.store, self.config, self.metrics = store, config, metrics
        self._wake = asyncio.Event()
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._conn: sqlite3.Connection | None = None
        self._session: aiohttp.ClientSession | None = None
        #: apprise blocks: its calls get threads of their own, not the loop's default pool
        self._apprise = ThreadPoolExecutor(4, thread_name_prefix="uptimed-apprise")
        self._loop: asyncio.AbstractEventLoop | None = None

    def poke(self) -> None:
        """Look at the outbox now; safe from any thread (the API's acknowledgements)."""
        _set_from_any_thread(self._loop, self._wake)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._conn = connect(self.store.path)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        try:
            while True:
                try:
                    await self.send_due()
                except Exception:
                    log.exception("notifications: cannot read the outbox")
                try:
                    await asyncio.wait_for(self._wake.wait(), SEND_POLL)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            for t in self._tasks:
                t.cancel()
            await self._session.close()
            self._conn.close()
            self._apprise.shutdown(wait=False, cancel_futures=True)

    async def send_due(self) -> None:
        conn = self._conn
        assert conn is not None
        now = self.store.now_ms()
        busy = set(self._busy)
        # A thread cannot be cancelled: if we are (at shutdown), let the read end before run()'s
        # cleanup closes the connection it uses, or sqlite crashes the process.
        reading = asyncio.ensure_future(asyncio.to_thread(_read, conn, now, busy))
        try:
            found, pending = await asyncio.shield(reading)
        except asyncio.CancelledError:
            await asyncio.wait([reading])
            raise
        self.metrics.set_pending(pending, [n.id for n in self.config().notifiers])
        for d in found:
            if d.notifier in self._busy:
                continue  # one in flight per notifier: the next waits for this one
            self._busy.add(d.notifier)
            task = asyncio.create_task(self._deliver(d))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, d: outbox.Delivery) -> None:
        try:
            notifier = {n.id: n for n in self.config().notifiers}.get(d.notifier)
            if notifier is None:
                outcome = Outcome(False, False, "the notifier is no longer configured")
            else:
                outcome = await self._send(notifier, d)
            now = self.store.now_ms()
            if outcome.ok:
                fn: Callable[[sqlite3.Connection], str] = lambda c: _sent(c, d.id, now)  # noqa: E731
            else:
                fn = lambda c: outbox.failed(  # noqa: E731
                    c, d.id, now, outcome.detail, outcome.retry, outcome.retry_after
                )
            state = await asyncio.wrap_future(self.store.call(fn))
            result = "sent" if outcome.ok else ("dead" if state == outbox.DEAD else "failed")
            self.metrics.notifications.labels(d.notifier, result).inc()
            if result == "dead":
                log.error(
                    "notification %s to %s given up after %d attempts: %s",
                    d.event, d.notifier, d.attempts + 1, outcome.detail,
                )  # fmt: skip
            elif result == "failed":
                log.warning(
                    "notification %s to %s failed (attempt %d): %s; will retry",
                    d.event, d.notifier, d.attempts + 1, outcome.detail,
                )  # fmt: skip
        except Exception:
            log.exception("notifications: delivery to %s failed", d.notifier)
        finally:
            self._busy.discard(d.notifier)
            self._wake.set()  # the notifier's next entry may be due

    async def _send(self, notifier: Notifier, d: outbox.Delivery) -> Outcome:
        n = Notification(**json.loads(d.payload))
        now = self.store.now_ms()
        if notifier.kind == "webhook":
            assert self._session is not None
            body = json.dumps(payload(n, now)).encode()
            return await deliver_webhook(self._session, notifier, body, d.key)
        title, text = render(n, notifier.title, notifier.body, now)
        return await deliver_apprise(notifier, title, text, self._apprise)


def _sent(conn: sqlite3.Connection, delivery_id: int, now: int) -> str:
    outbox.sent(conn, delivery_id, now)
    return outbox.SENT


def _read(
    conn: sqlite3.Connection, now: int, busy: set[str]
) -> tuple[list[outbox.Delivery], dict[str, int]]:
    """The due entries, and the pending ones per notifier."""
    found = outbox.due(conn, now, busy=busy)
    pending = {
        notifier: n
        for notifier, n in conn.execute(
            "SELECT notifier, count(*) FROM outbox WHERE state = 'pending' GROUP BY notifier"
        )
    }
    conn.rollback()  # end the read transaction: the writer's later commits must be seen
    return found, pending


def _set_from_any_thread(loop: asyncio.AbstractEventLoop | None, event: asyncio.Event) -> None:
    if loop is None:  # not running yet: nobody waits
        event.set()
    else:
        loop.call_soon_threadsafe(event.set)
