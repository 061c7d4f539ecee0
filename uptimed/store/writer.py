"""The store: one writer thread fed by a queue of typed messages; readers use connections of
their own (:func:`uptimed.store.db.connect`).

The event loop never waits on SQLite. Probe results go onto a queue with :meth:`Store.record`
(a non-blocking put); a single thread owns the only write connection, wakes every
``flush_interval`` seconds, and writes everything queued in transactions of at most
``max_batch`` messages. A crash (even ``kill -9``) loses at most the batch being collected: WAL
with ``synchronous=NORMAL`` keeps every committed transaction and never corrupts the file.

The queue carries three messages: :class:`RecordResult` (a probe result with its timeline
writes and snapshot), :class:`RecordState` (timeline writes and a snapshot without a result)
and :class:`Call` (a function to run on the write connection, whose answer comes back through
a :class:`concurrent.futures.Future`: registering monitors, splitting a run).

Besides the batches, each pass of the writer thread advances the heartbeat of the run
(:mod:`uptimed.store.runs`), the latency thresholds counted (:mod:`uptimed.store.rollups`),
retention (:mod:`uptimed.store.retention`) and day summaries (:mod:`uptimed.store.summaries`).
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, NamedTuple

from sqlite_utils import Database

from probes.base import ProbeResult
from uptimed.core.state import Segment, Snapshot
from uptimed.store import results, runs
from uptimed.store.db import connect, rollback, take_lock, transaction
from uptimed.store.monitors import register
from uptimed.store.retention import Retention
from uptimed.store.rollups import LatencyTracker, Rollups
from uptimed.store.schema import migrate
from uptimed.store.state import StateWrites, load_snapshots
from uptimed.store.summaries import Summaries

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 5.0  # seconds between heartbeats when nothing else is written


class RecordResult(NamedTuple):
    """A probe result, its timeline writes and its state machine's snapshot after it."""

    monitor: int
    ts: int
    result: ProbeResult
    segments: list[Segment]
    snapshot: Snapshot


class RecordState(NamedTuple):
    """Timeline writes and a snapshot without a new result (a result judged after it was
    recorded: see :mod:`uptimed.daemon.connectivity`)."""

    monitor: int
    segments: list[Segment]
    snapshot: Snapshot


class Call(NamedTuple):
    """``fn(conn)`` to run on the write connection; ``future`` gets its value or exception."""

    fn: Callable[[sqlite3.Connection], Any]
    future: Future[Any]


#: What the writer's queue carries.
Message = RecordResult | RecordState | Call


class Store:
    def __init__(
        self,
        path: str,
        *,
        retention_raw: float = 14 * 86400,
        flush_interval: float = 0.5,
        max_batch: int = 5000,
        on_batch: Callable[[float, int], None] | None = None,
        wall: Callable[[], float] = time.time,
    ):
        self.path = path
        self.wall = wall  # stamps runs and heartbeats; the daemon passes its own clock
        #: the ages kept (``raw``, ``rollup``, seconds): the daemon sets them from the config
        self.retention = Retention(retention_raw, 400 * 86400.0)
        self._latency = LatencyTracker()
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.on_batch = on_batch
        self.run_id: int | None = None
        self.last_loop = time.monotonic()  # when the writer last finished a pass
        self._rows = results.ResultRows()
        self.summaries = Summaries()  # the day summaries' passes
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._heartbeat_at = 0.0
        self._lock_fd: int | None = None

    # -- start-up (synchronous, before the scheduler runs) ---------------------------------

    def open(self) -> int:
        """Take the database's lock, create or migrate it, close runs left open by a crash.
        Returns the schema version. Raises :class:`uptimed.errors.DatabaseLocked`, having
        changed nothing, when another daemon holds it."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._lock_fd = take_lock(self.path)
        try:
            return self._open()
        except BaseException:
            self._release()
            raise

    def _open(self) -> int:
        conn = connect(self.path)
        self._conn = conn
        db = Database(conn)
        db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        version = migrate(db)
        with transaction(conn):
            self._rows.load(conn)
            crashed = runs.close_crashed(conn)
        if crashed:
            log.warning(
                "the last run did not stop cleanly: its time after its last heartbeat is unknown"
            )
        self._latency.load(conn)
        return version

    @property
    def latency_thresholds(self) -> dict[int, tuple[int, ...]]:
        """Monitor id -> the latency thresholds (µs, see :func:`uptimed.store.threshold_us`) of
        the SLOs on it (on the monitor, or on a service it belongs to), which the rollups count
        (see :attr:`uptimed.store.rollups.LatencyTracker.wanted`). The daemon sets it at start
        and on each reload."""
        return self._latency.wanted

    @latency_thresholds.setter
    def latency_thresholds(self, value: dict[int, tuple[int, ...]]) -> None:
        self._latency.wanted = value

    @property
    def error_kind_ids(self) -> dict[str, int]:
        """Error kind -> its id in the database (table ``error_kinds``)."""
        return self._rows.error_kinds.ids

    def register_monitors(self, monitors: Iterable[tuple[str, str, str]]) -> dict[str, int]:
        """Make sure each ``(key, kind, name)`` has a row; returns key -> integer id.
        Synchronous: call it before :meth:`start`, or through :meth:`call` afterwards
        (:func:`uptimed.store.monitors.register_monitors`)."""
        assert self._conn is not None
        with transaction(self._conn):
            return register(self._conn, monitors)

    def load_snapshots(self) -> dict[int, Snapshot]:
        """Monitor id -> the snapshot its state machine resumes from."""
        assert self._conn is not None
        causes = {v: k for k, v in self.error_kind_ids.items()}
        return load_snapshots(self._conn, causes)

    def now_ms(self) -> int:
        return int(self.wall() * 1000)

    def start(
        self,
        *,
        version: str,
        config_sha256: str,
        location: str | None = None,
        shard: str | None = None,
    ) -> None:
        """Record a new run (from ``location``, as ``shard``) and start the writer thread."""
        assert self._conn is not None
        with transaction(self._conn):
            self.run_id = runs.begin(
                self._conn, self.now_ms(), version, config_sha256, location, shard
            )
        self._thread = threading.Thread(target=self._loop, name="uptimed-writer", daemon=True)
        self._thread.start()

    # -- from the event loop ---------------------------------------------------------------

    def record(
        self, monitor: int, ts: int, result: ProbeResult, segments: list[Segment], snap: Snapshot
    ) -> None:
        """Queue one probe result with its timeline writes and the machine's new snapshot."""
        self._queue.put(RecordResult(monitor, ts, result, segments, snap))

    def record_state(self, monitor: int, segments: list[Segment], snap: Snapshot) -> None:
        """Queue timeline writes and the machine's new snapshot without a new result: a result
        judged after it was recorded (see :mod:`uptimed.daemon.connectivity`). The monitor's
        last result, kept with its state, is left as it is."""
        self._queue.put(RecordState(monitor, segments, snap))

    def call(self, fn: Callable[[sqlite3.Connection], Any]) -> Future[Any]:
        """Run ``fn(conn)`` in the writer thread, inside the next batch's transaction (in a
        savepoint of its own). The future gets its return value or exception."""
        fut: Future[Any] = Future()
        self._queue.put(Call(fn, fut))
        return fut

    def split_run(
        self, end_at: int, restart_at: int, reason: str, config_sha256: str | None = None
    ) -> Future[int]:
        """End the current run at ``end_at`` and start a new one at ``restart_at`` (with a new
        config hash, after a reload). Time between the two is unknown (a wall-clock jump)."""

        def split(conn: sqlite3.Connection) -> int:
            assert self.run_id is not None
            self.run_id = runs.split(conn, self.run_id, end_at, restart_at, reason, config_sha256)
            return self.run_id

        return self.call(split)

    def record_degraded(self, start: int, end: int) -> None:
        """``[start, end)`` was degraded (every connectivity canary failed), in this run."""
        run = self.run_id
        self.call(lambda conn: runs.record_degraded(conn, start, end, run))

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self, timeout: float = 10.0) -> None:
        """Flush everything queued, end the run cleanly and close the database."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout)
        if self._conn is not None:
            if self.run_id is not None:
                with transaction(self._conn):
                    runs.end(self._conn, self.run_id, self.now_ms())
            self._conn.execute("PRAGMA optimize")
        self._release()

    def _release(self) -> None:
        """Close the database and release the lock."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- the writer thread -----------------------------------------------------------------

    def _loop(self) -> None:
        conn = self._conn
        assert conn is not None
        while True:
            stopping = self._stop.wait(self.flush_interval)
            try:
                self._latency.step(conn, self.now_ms())
                while self._write_batch(conn):
                    pass
                if time.monotonic() >= self._heartbeat_at:
                    with transaction(conn):
                        self._write_heartbeat(conn)
                self.retention.step(conn, self.now_ms())
                self.summaries.step(conn, self.now_ms())
            except Exception:  # a bug or a full disk: keep going, the next pass retries
                log.exception("writer: batch failed")
                rollback(conn)
            self.last_loop = time.monotonic()
            if stopping and self._queue.empty():
                return

    def _write_batch(self, conn: sqlite3.Connection) -> bool:
        """Write up to max_batch queued messages in one transaction. Returns True if the queue
        may hold more."""
        items: list[Message] = []
        get = self._queue.get_nowait
        try:
            while len(items) < self.max_batch:
                items.append(get())
        except queue.Empty:
            pass
        if not items:
            return False
        t0 = time.perf_counter()
        encode = self._rows.row
        error_kinds = self._rows.error_kinds.ids
        rows: list[results.Row] = []
        state = StateWrites(error_kinds)
        rollups = Rollups(self._latency)
        calls: list[Call] = []
        for item in items:
            if isinstance(item, RecordResult):
                mon, ts, r, segments, snap = item
                dur = int(r.duration * 1e6)
                rollups.add(mon, ts, r.ok, dur)
                kind = error_kinds.get(r.error_kind) if r.error_kind else None
                rows.append(encode(conn, mon, ts, r, dur, kind))
                state.with_result(mon, segments, snap, r.ok, kind, r.error)
            elif isinstance(item, RecordState):
                state.without_result(*item)
            else:
                calls.append(item)
        done = []
        with transaction(conn):
            if rows or state:
                conn.executemany(results.INSERT, rows)
                state.write(conn)
                rollups.write(conn)
            for fn, fut in calls:
                done.append((fut, *_call_in_savepoint(conn, fn)))
            self._write_heartbeat(conn)
        rollups.committed()
        for fut, ok, value in done:
            if fut.set_running_or_notify_cancel():
                fut.set_result(value) if ok else fut.set_exception(value)
        if self.on_batch is not None:
            self.on_batch(time.perf_counter() - t0, len(rows))
        return len(items) == self.max_batch

    def beat(self, conn: sqlite3.Connection) -> None:
        """Advance the run's heartbeat now, from a :meth:`call`: what a reader of the write
        connection does before it asks the report about the moment just written (the run's
        known time ends at its heartbeat)."""
        self._write_heartbeat(conn)

    def _write_heartbeat(self, conn: sqlite3.Connection) -> None:
        if self.run_id is not None:
            runs.heartbeat(conn, self.run_id, self.now_ms())
        self._heartbeat_at = time.monotonic() + HEARTBEAT_EVERY


def _call_in_savepoint(
    conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], Any]
) -> tuple[bool, Any]:
    """``(True, fn(conn))``, or ``(False, its exception)`` with its writes rolled back."""
    conn.execute("SAVEPOINT call")
    try:
        value = fn(conn)
    except Exception as e:
        conn.execute("ROLLBACK TO call")
        conn.execute("RELEASE call")
        return False, e
    conn.execute("RELEASE call")
    return True, value
