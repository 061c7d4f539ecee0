"""SQLite storage: one writer thread fed by a queue, readers on their own connections.

The event loop never waits on SQLite. Probe results go onto a queue with :meth:`Store.record`
(a non-blocking put); a single thread owns the only write connection, wakes every
``flush_interval`` seconds, and writes everything queued in transactions of at most
``max_batch`` items. A crash (even ``kill -9``) loses at most the batch being collected: WAL with
``synchronous=NORMAL`` keeps every committed transaction and never corrupts the file.

Writes that need an answer (registering monitors, splitting a run) go in as functions with
:meth:`Store.call` and return a :class:`concurrent.futures.Future`.

Each daemon process records a **run** (started, heartbeat, ended): time outside every run is
unknown. The heartbeat advances with every batch; a run left open by a crash is closed at its
last heartbeat when the next daemon opens the database.
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
from typing import Any

from sqlite_utils import Database

from probes.spec import ERROR_KINDS, ProbeResult
from uptimed import daily
from uptimed.schema import migrate
from uptimed.state import Segment, Snapshot

log = logging.getLogger(__name__)

PHASE_COLUMNS = ("resolve", "connect", "tls", "processing", "transfer")
HEARTBEAT_EVERY = 5.0  # seconds between heartbeats when nothing else is written
RETENTION_EVERY = 3600.0  # seconds between retention passes
RETENTION_CHUNK = 50  # monitors per retention transaction, so writes never wait long
SUMMARY_EVERY = 600.0  # seconds between looks for days to summarize (uptimed.daily)
SUMMARY_CHUNK = 20  # monitors summarized per transaction (a backfill of 90 days: ~20k rows)


def now_ms() -> int:
    return int(time.time() * 1000)


def connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        if not os.path.exists(path):
            raise FileNotFoundError(f"no database at {path} (has the daemon run with this config?)")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


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
        self.retention_raw = retention_raw
        self.retention_rollup = 400 * 86400.0
        #: monitor id -> latency threshold (µs) of an SLO on it: counted as `fast` in rollups
        self.latency_thresholds: dict[int, int] = {}
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.on_batch = on_batch
        self.run_id: int | None = None
        self.error_kind_ids: dict[str, int] = {}
        self.last_loop = time.monotonic()  # when the writer last finished a pass
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._retention_due = time.monotonic() + 60
        self._retention_todo: list[int] = []
        self._retention_cutoff = 0
        self._summary_due = time.monotonic() + 5
        self._summary_todo: list[tuple[int, int, int]] = []
        self._heartbeat_at = 0.0

    # -- start-up (synchronous, before the scheduler runs) ---------------------------------

    def open(self) -> int:
        """Create or migrate the database, close runs left open by a crash. Returns the schema
        version."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        conn = connect(self.path)
        self._conn = conn
        db = Database(conn)
        db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        version = migrate(db)
        with _transaction(conn):
            conn.executemany("INSERT OR IGNORE INTO error_kinds (name) VALUES (?)", [(k,) for k in ERROR_KINDS])
            crashed = conn.execute(
                "UPDATE runs SET ended = heartbeat, end_reason = 'crash' WHERE ended IS NULL"
            ).rowcount
        if crashed:
            log.warning("the last run did not stop cleanly: its time after its last heartbeat is unknown")
        self.error_kind_ids = dict(conn.execute("SELECT name, id FROM error_kinds"))
        return version

    def register_monitors(self, monitors: Iterable[tuple[str, str, str]]) -> dict[str, int]:
        """Make sure each ``(key, kind, name)`` has a row; returns key -> integer id.
        Synchronous: call it before :meth:`start`, or through :meth:`call` afterwards."""
        assert self._conn is not None
        with _transaction(self._conn):
            return _register(self._conn, list(monitors))

    def load_snapshots(self) -> dict[int, Snapshot]:
        assert self._conn is not None
        out = {}
        kinds = {v: k for k, v in self.error_kind_ids.items()}
        for row in self._conn.execute(
            "SELECT monitor, state, streak, streak_start, last_ts, seg_start, seg_end, seg_state, floor,"
            " seg_cause, streak_cause FROM monitor_state"
        ):
            seg = Segment(row[5], row[6], row[7], kinds.get(row[9])) if row[5] is not None else None
            out[row[0]] = Snapshot(row[1], row[2], row[3], row[4], seg, row[8], kinds.get(row[10]))
        return out

    def now_ms(self) -> int:
        return int(self.wall() * 1000)

    def start(self, *, version: str, config_sha256: str) -> None:
        """Record a new run and start the writer thread."""
        assert self._conn is not None
        t = self.now_ms()
        with _transaction(self._conn):
            self.run_id = self._conn.execute(
                "INSERT INTO runs (started, heartbeat, pid, version, config_sha256) VALUES (?, ?, ?, ?, ?)",
                (t, t, os.getpid(), version, config_sha256),
            ).lastrowid
        self._thread = threading.Thread(target=self._loop, name="uptimed-writer", daemon=True)
        self._thread.start()

    # -- from the event loop ---------------------------------------------------------------

    def record(self, monitor: int, ts: int, result: ProbeResult, segments: list[Segment], snap: Snapshot) -> None:
        """Queue one probe result with its timeline writes and the machine's new snapshot."""
        self._queue.put((monitor, ts, result, segments, snap))

    def record_state(self, monitor: int, segments: list[Segment], snap: Snapshot) -> None:
        """Queue timeline writes and the machine's new snapshot without a new result: a result
        judged after it was recorded (see :mod:`uptimed.connectivity`). The monitor's last
        result, kept with its state, is left as it is."""
        self._queue.put((monitor, segments, snap))

    def call(self, fn: Callable[[sqlite3.Connection], Any]) -> Future[Any]:
        """Run ``fn(conn)`` in the writer thread, inside the next batch's transaction (in a
        savepoint of its own). The future gets its return value or exception."""
        fut: Future[Any] = Future()
        self._queue.put((fn, fut))
        return fut

    def split_run(self, end_at: int, restart_at: int, reason: str, config_sha256: str | None = None) -> Future[Any]:
        """End the current run at ``end_at`` and start a new one at ``restart_at`` (with a new
        config hash, after a reload). Time between the two is unknown (a wall-clock jump)."""

        def split(conn: sqlite3.Connection) -> int:
            conn.execute(
                "UPDATE runs SET ended = ?, heartbeat = MAX(heartbeat, ?), end_reason = ? WHERE id = ?",
                (end_at, end_at, reason, self.run_id),
            )
            pid, version, sha = conn.execute(
                "SELECT pid, version, config_sha256 FROM runs WHERE id = ?", (self.run_id,)
            ).fetchone()
            self.run_id = conn.execute(
                "INSERT INTO runs (started, heartbeat, pid, version, config_sha256) VALUES (?, ?, ?, ?, ?)",
                (restart_at, restart_at, pid, version, config_sha256 or sha),
            ).lastrowid
            return self.run_id

        return self.call(split)

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
                t = self.now_ms()
                with _transaction(self._conn):
                    self._conn.execute(
                        "UPDATE runs SET ended = MAX(heartbeat, ?), heartbeat = MAX(heartbeat, ?),"
                        " end_reason = 'stop' WHERE id = ?",
                        (t, t, self.run_id),
                    )
            self._conn.execute("PRAGMA optimize")
            self._conn.close()
            self._conn = None

    # -- the writer thread -----------------------------------------------------------------

    def _loop(self) -> None:
        conn = self._conn
        assert conn is not None
        while True:
            stopping = self._stop.wait(self.flush_interval)
            try:
                while self._write_batch(conn):
                    pass
                if time.monotonic() >= self._heartbeat_at:
                    self._heartbeat(conn)
                self._retention_step(conn)
                self._summary_step(conn)
            except Exception:  # a bug or a full disk: keep going, the next pass retries
                log.exception("writer: batch failed")
                _rollback(conn)
            self.last_loop = time.monotonic()
            if stopping and self._queue.empty():
                return

    def _write_batch(self, conn: sqlite3.Connection) -> bool:
        """Write up to max_batch queued items in one transaction. Returns True if the queue
        may hold more."""
        items = []
        get = self._queue.get_nowait
        try:
            while len(items) < self.max_batch:
                items.append(get())
        except queue.Empty:
            pass
        if not items:
            return False
        t0 = time.perf_counter()
        ek = self.error_kind_ids
        rows = []
        segments: dict[tuple[int, int], tuple[int, int, int, int, int | None]] = {}
        snaps: dict[int, tuple[Any, ...]] = {}
        states: dict[int, tuple[Any, ...]] = {}  # snapshots without a result (record_state)
        calls = []
        hours: dict[tuple[int, int], list[int]] = {}
        thresholds = self.latency_thresholds
        for item in items:
            if len(item) != 5:
                if len(item) == 2:
                    calls.append(item)
                else:
                    self._state_only(item, segments, snaps, states)
                continue
            mon, ts, r, segs, snap = item
            ph = r.phases
            dur = int(r.duration * 1e6)
            h = hours.get((mon, ts - ts % 3_600_000))
            fast = 1 if r.ok and dur <= thresholds.get(mon, -1) else 0
            if h is None:
                hours[(mon, ts - ts % 3_600_000)] = [1, 0 if r.ok else 1, dur, dur, dur, fast]
            else:
                h[0] += 1
                h[1] += 0 if r.ok else 1
                h[2] += dur
                h[3] = min(h[3], dur)
                h[4] = max(h[4], dur)
                h[5] += fast
            kind = ek.get(r.error_kind) if r.error_kind else None
            rows.append(
                (
                    mon, ts, r.ok, dur, r.status_code, kind, r.error,
                    _us(ph.get("resolve")), _us(ph.get("connect")), _us(ph.get("tls")),
                    _us(ph.get("processing")), _us(ph.get("transfer")),
                )
            )  # fmt: skip
            for seg in segs:  # later writes of the same segment replace earlier ones
                segments[(mon, seg.start)] = (mon, seg.start, seg.end, seg.state, ek.get(seg.cause))
            s = snap.segment
            snaps[mon] = (
                mon, snap.state, snap.streak, snap.streak_start, snap.last_ts,
                s.start if s else None, s.end if s else None, s.state if s else None, snap.floor,
                r.ok, kind, r.error, ek.get(s.cause) if s else None, ek.get(snap.streak_cause),
            )  # fmt: skip
        done = []
        with _transaction(conn):
            if states:  # before the results' snapshots: where both are, those came later
                conn.executemany(_UPSERT_STATE, states.values())
            if rows or states:
                conn.executemany("INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
                conn.executemany("INSERT OR REPLACE INTO timeline VALUES (?,?,?,?,?)", segments.values())
                conn.executemany(
                    "INSERT OR REPLACE INTO monitor_state VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", snaps.values()
                )
                conn.executemany(
                    "INSERT INTO rollup_hourly VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (monitor, hour) DO UPDATE SET"
                    " probes = probes + excluded.probes, failures = failures + excluded.failures,"
                    " duration_sum_us = duration_sum_us + excluded.duration_sum_us,"
                    " duration_min_us = min(duration_min_us, excluded.duration_min_us),"
                    " duration_max_us = max(duration_max_us, excluded.duration_max_us),"
                    " fast = fast + excluded.fast",
                    [(mon, hour, *v) for (mon, hour), v in hours.items()],
                )
            for fn, fut in calls:
                done.append((fut, *_call_in_savepoint(conn, fn)))
            self._write_heartbeat(conn)
        for fut, ok, value in done:
            if fut.set_running_or_notify_cancel():
                fut.set_result(value) if ok else fut.set_exception(value)
        if self.on_batch is not None:
            self.on_batch(time.perf_counter() - t0, len(rows))
        return len(items) == self.max_batch

    def _state_only(
        self,
        item: tuple[int, list[Segment], Snapshot],
        segments: dict[tuple[int, int], tuple[int, int, int, int, int | None]],
        snaps: dict[int, tuple[Any, ...]],
        states: dict[int, tuple[Any, ...]],
    ) -> None:
        """One :meth:`record_state` item of a batch: its segments, and its snapshot merged with
        the monitor's last result if one came earlier in the batch, or kept apart otherwise."""
        ek = self.error_kind_ids
        mon, segs, snap = item
        for seg in segs:
            segments[(mon, seg.start)] = (mon, seg.start, seg.end, seg.state, ek.get(seg.cause or ""))
        s = snap.segment
        state = (
            snap.state, snap.streak, snap.streak_start, snap.last_ts,
            s.start if s else None, s.end if s else None, s.state if s else None, snap.floor,
        )  # fmt: skip
        causes = (ek.get(s.cause or "") if s else None, ek.get(snap.streak_cause or ""))
        old = snaps.get(mon)
        if old is not None:  # keep the last result's columns (last_ok, last_error_kind, last_error)
            snaps[mon] = (mon, *state, *old[9:12], *causes)
        else:
            states[mon] = (mon, *state, *causes)

    def _heartbeat(self, conn: sqlite3.Connection) -> None:
        with _transaction(conn):
            self._write_heartbeat(conn)

    def _write_heartbeat(self, conn: sqlite3.Connection) -> None:
        if self.run_id is not None:
            conn.execute("UPDATE runs SET heartbeat = MAX(heartbeat, ?) WHERE id = ?", (self.now_ms(), self.run_id))
        self._heartbeat_at = time.monotonic() + HEARTBEAT_EVERY

    def _retention_step(self, conn: sqlite3.Connection) -> None:
        """Delete raw results older than retention.raw and rollups older than retention.rollup, a few
        monitors per transaction."""
        if not self._retention_todo:
            if time.monotonic() < self._retention_due:
                return
            self._retention_due = time.monotonic() + RETENTION_EVERY
            self._retention_cutoff = self.now_ms() - int(self.retention_raw * 1000)
            self._retention_todo = [r[0] for r in conn.execute("SELECT id FROM monitors")]
        chunk, self._retention_todo = self._retention_todo[:RETENTION_CHUNK], self._retention_todo[RETENTION_CHUNK:]
        rollup_cutoff = self.now_ms() - int(self.retention_rollup * 1000)
        with _transaction(conn):
            conn.executemany(
                "DELETE FROM results WHERE monitor = ? AND ts < ?", [(m, self._retention_cutoff) for m in chunk]
            )
            conn.executemany(
                "DELETE FROM rollup_hourly WHERE monitor = ? AND hour < ?", [(m, rollup_cutoff) for m in chunk]
            )

    def _summary_step(self, conn: sqlite3.Connection) -> None:
        """Summarize the days that became final (see :mod:`uptimed.daily`), a few monitors per
        pass: after an upgrade, months of history are summarized without holding up writes."""
        if not self._summary_todo:
            if time.monotonic() < self._summary_due:
                return
            self._summary_due = time.monotonic() + SUMMARY_EVERY
            self._summary_todo = daily.pending(conn, self.now_ms())
        chunk, self._summary_todo = self._summary_todo[:SUMMARY_CHUNK], self._summary_todo[SUMMARY_CHUNK:]
        with _transaction(conn):
            for monitor, start, end in chunk:
                daily.summarize(conn, monitor, start, end)


#: A snapshot without a result: the state columns only, the last result's are left as they are.
_UPSERT_STATE = (
    "INSERT INTO monitor_state (monitor, state, streak, streak_start, last_ts, seg_start, seg_end, seg_state, floor,"
    " seg_cause, streak_cause) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (monitor) DO UPDATE SET"
    " state = excluded.state, streak = excluded.streak, streak_start = excluded.streak_start,"
    " last_ts = excluded.last_ts, seg_start = excluded.seg_start, seg_end = excluded.seg_end,"
    " seg_state = excluded.seg_state, floor = excluded.floor, seg_cause = excluded.seg_cause,"
    " streak_cause = excluded.streak_cause"
)


def _us(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1e6)


def _register(conn: sqlite3.Connection, monitors: list[tuple[str, str, str]]) -> dict[str, int]:
    t = now_ms()
    conn.executemany(
        "INSERT INTO monitors (key, kind, name, first_seen) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, name = excluded.name",
        [(key, kind, name, t) for key, kind, name in monitors],
    )
    wanted = {key for key, _, _ in monitors}
    return {key: mid for key, mid in conn.execute("SELECT key, id FROM monitors") if key in wanted}


def register_monitors(monitors: list[tuple[str, str, str]]) -> Callable[[sqlite3.Connection], dict[str, int]]:
    """A function for :meth:`Store.call` registering monitors from a running daemon."""
    return lambda conn: _register(conn, monitors)


def _call_in_savepoint(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], Any]) -> tuple[bool, Any]:
    conn.execute("SAVEPOINT call")
    try:
        value = fn(conn)
    except Exception as e:
        conn.execute("ROLLBACK TO call")
        conn.execute("RELEASE call")
        return False, e
    conn.execute("RELEASE call")
    return True, value


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")
