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

Latency SLIs are counted per threshold (``rollup_latency``, schema m005): the daemon sets
:attr:`Store.latency_thresholds`, and the writer counts each threshold from the moment it first
sees it, after counting the raw results still kept against it (so a new SLO, or a threshold
changed by a reload, has exact counts from the oldest raw result on, not only from the reload).
``latency_tracked`` records since when each threshold is counted.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

from sqlite_utils import Database

from probes.base import ERROR_KINDS, ProbeResult
from uptimed.core import daily
from uptimed.core.state import Segment, Snapshot
from uptimed.errors import DatabaseLocked, NoDatabase
from uptimed.store.schema import migrate

log = logging.getLogger(__name__)

PHASE_COLUMNS = ("resolve", "connect", "tls", "processing", "transfer")
HEARTBEAT_EVERY = 5.0  # seconds between heartbeats when nothing else is written
RETENTION_EVERY = 3600.0  # seconds between retention passes
RETENTION_CHUNK = 50  # monitors per retention transaction, so writes never wait long
SUMMARY_EVERY = 600.0  # seconds between looks for days to summarize (uptimed.core.daily)
SUMMARY_CHUNK = 20  # monitors summarized per transaction (a backfill of 90 days: ~20k rows)
BACKFILL_BUDGET = 0.25  # seconds per writer pass spent counting raw results for new thresholds
HOUR_MS = 3_600_000


def now_ms() -> int:
    return int(time.time() * 1000)


def threshold_us(seconds: float) -> int:
    """A latency threshold as the rollups key it: whole microseconds, rounded ("570ms" is 570000,
    where ``int(0.57 * 1e6)`` is 569999). The daemon and the report both use this."""
    return round(seconds * 1e6)


def lock_path(database: str) -> str:
    """Named after the real path, so that a symlink to the database cannot dodge the lock."""
    return os.path.realpath(database) + ".lock"


def lock_holder(database: str) -> int | None:
    """The pid written in the database's lock file (None: no lock file, or unreadable). It is
    only a record: whether that process still holds the lock is for :meth:`Store.open` to find."""
    try:
        with open(lock_path(database), encoding="ascii") as f:
            text = f.read(32).strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def connect(path: str, *, readonly: bool = False, create: bool = True) -> sqlite3.Connection:
    """A connection to the database at ``path``: read-only (``readonly``), or read-write,
    creating the file only with ``create`` (the daemon). Raises :class:`NoDatabase` when the
    file must exist and does not."""
    if readonly or not create:
        try:
            os.stat(path)
        except FileNotFoundError:
            raise NoDatabase(path) from None
        except PermissionError:  # e.g. systemd's private state directory, for a non-root user
            raise NoDatabase(
                path, "permission denied: run this as root, or as the daemon's user"
            ) from None
        uri = f"file:{urllib.parse.quote(path)}?mode={'ro' if readonly else 'rw'}"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
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
        self._latency: dict[int, tuple[int, ...]] | None = None  # wanted: see latency_thresholds
        self._latency_seen: dict[int, tuple[int, ...]] | None = (
            None  # the last one the writer acted on
        )
        #: monitor id -> thresholds (µs, ascending) counted now in rollup_latency: latency_tracked
        #: as the writer thread keeps it (only it reads or writes this)
        self._tracked: dict[int, tuple[int, ...]] = {}
        self._backfill_todo: list[int] = []  # monitors with wanted thresholds not counted yet
        #: thresholds that began with no raw result to count: counted since the first probe then
        self._since_first: dict[int, tuple[int, ...]] = {}
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
        self._lock_fd: int | None = None

    # -- start-up (synchronous, before the scheduler runs) ---------------------------------

    def open(self) -> int:
        """Take the database's lock, create or migrate it, close runs left open by a crash.
        Returns the schema version. Raises :class:`DatabaseLocked`, having changed nothing, when
        another daemon holds it."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._lock()
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
        with _transaction(conn):
            conn.executemany(
                "INSERT OR IGNORE INTO error_kinds (name) VALUES (?)", [(k,) for k in ERROR_KINDS]
            )
            crashed = conn.execute(
                "UPDATE runs SET ended = heartbeat, end_reason = 'crash' WHERE ended IS NULL"
            ).rowcount
        if crashed:
            log.warning(
                "the last run did not stop cleanly: its time after its last heartbeat is unknown"
            )
        self.error_kind_ids = dict(conn.execute("SELECT name, id FROM error_kinds"))
        tracked: dict[int, list[int]] = {}
        for mon, thr in conn.execute(
            "SELECT monitor, threshold_us FROM latency_tracked ORDER BY 1, 2"
        ):
            tracked.setdefault(mon, []).append(thr)
        self._tracked = {mon: tuple(ths) for mon, ths in tracked.items()}
        return version

    @property
    def latency_thresholds(self) -> dict[int, tuple[int, ...]]:
        """Monitor id -> the latency thresholds (µs, see :func:`threshold_us`) of the SLOs on it
        (on the monitor, or on a service it belongs to). The daemon sets it at start and on each
        reload; the writer then stops counting the thresholds no longer listed and starts
        counting the new ones (first over the raw results kept, a few monitors per pass). Until
        it is set, the writer counts what it counted before (``latency_tracked``)."""
        return {} if self._latency is None else self._latency

    @latency_thresholds.setter
    def latency_thresholds(self, value: dict[int, tuple[int, ...]]) -> None:
        # One assignment of a new dict: the writer thread sees the old one or the new one.
        self._latency = {mon: tuple(sorted(set(ths))) for mon, ths in value.items() if ths}

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

    def _lock(self) -> None:
        """An exclusive flock on ``<database>.lock``, held until :meth:`close` or the process
        ends (a crash or ``kill -9`` releases it, so a stale file never blocks a restart). It is
        taken before anything else: the run journal's crash recovery closes open runs, which is
        only right when no other daemon is writing them. The file records the holder's pid, for
        the refusal message. A lock file and not SQLite's own locking: SQLite locks per
        transaction, and the CLI and the API's readers must keep working beside the daemon."""
        fd = os.open(lock_path(self.path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseLocked(self.path, lock_holder(self.path)) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

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

    def record(
        self, monitor: int, ts: int, result: ProbeResult, segments: list[Segment], snap: Snapshot
    ) -> None:
        """Queue one probe result with its timeline writes and the machine's new snapshot."""
        self._queue.put((monitor, ts, result, segments, snap))

    def record_state(self, monitor: int, segments: list[Segment], snap: Snapshot) -> None:
        """Queue timeline writes and the machine's new snapshot without a new result: a result
        judged after it was recorded (see :mod:`uptimed.daemon.connectivity`). The monitor's last
        result, kept with its state, is left as it is."""
        self._queue.put((monitor, segments, snap))

    def call(self, fn: Callable[[sqlite3.Connection], Any]) -> Future[Any]:
        """Run ``fn(conn)`` in the writer thread, inside the next batch's transaction (in a
        savepoint of its own). The future gets its return value or exception."""
        fut: Future[Any] = Future()
        self._queue.put((fn, fut))
        return fut

    def split_run(
        self, end_at: int, restart_at: int, reason: str, config_sha256: str | None = None
    ) -> Future[Any]:
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
        self._release()

    def _release(self) -> None:
        """Close the database and release the lock (the lock file stays: unlinking it would
        race with a daemon that has just opened it)."""
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
                self._latency_step(conn)
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
        latency: dict[
            tuple[int, int, int], list[int]
        ] = {}  # (monitor, hour, threshold) -> [ok, fast]
        tracked = self._tracked
        since_first = self._since_first
        firsts: dict[int, int] = {}  # monitor in since_first -> its earliest probe counted here
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
            hour = ts - ts % HOUR_MS
            ths = tracked.get(mon)
            # rollup_hourly.fast (no longer read, see schema m005): the smallest threshold, as before
            fast = 1 if r.ok and ths and dur <= ths[0] else 0
            h = hours.get((mon, hour))
            if h is None:
                hours[(mon, hour)] = [1, 0 if r.ok else 1, dur, dur, dur, fast]
            else:
                h[0] += 1
                h[1] += 0 if r.ok else 1
                h[2] += dur
                h[3] = min(h[3], dur)
                h[4] = max(h[4], dur)
                h[5] += fast
            if ths and r.ok:
                if since_first and mon in since_first:
                    firsts[mon] = min(ts, firsts.get(mon, ts))
                for thr in ths:
                    c = latency.get((mon, hour, thr))
                    if c is None:
                        latency[(mon, hour, thr)] = [1, 1 if dur <= thr else 0]
                    else:
                        c[0] += 1
                        c[1] += 1 if dur <= thr else 0
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
                conn.executemany(
                    "INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO timeline VALUES (?,?,?,?,?)", segments.values()
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO monitor_state VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    snaps.values(),
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
                if latency:
                    conn.executemany(
                        "INSERT INTO rollup_latency VALUES (?,?,?,?,?) ON CONFLICT (monitor, hour, threshold_us)"
                        " DO UPDATE SET ok = ok + excluded.ok, fast = fast + excluded.fast",
                        [
                            (mon, hour, thr, ok, fast)
                            for (mon, hour, thr), (ok, fast) in latency.items()
                        ],
                    )
                if firsts:
                    conn.executemany(
                        "UPDATE latency_tracked SET since = min(since, ?) WHERE monitor = ? AND threshold_us = ?",
                        [(ts, mon, thr) for mon, ts in firsts.items() for thr in since_first[mon]],
                    )
            for fn, fut in calls:
                done.append((fut, *_call_in_savepoint(conn, fn)))
            self._write_heartbeat(conn)
        for mon in firsts:
            del since_first[mon]
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
            segments[(mon, seg.start)] = (
                mon,
                seg.start,
                seg.end,
                seg.state,
                ek.get(seg.cause or ""),
            )
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
            conn.execute(
                "UPDATE runs SET heartbeat = MAX(heartbeat, ?) WHERE id = ?",
                (self.now_ms(), self.run_id),
            )
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
        chunk, self._retention_todo = (
            self._retention_todo[:RETENTION_CHUNK],
            self._retention_todo[RETENTION_CHUNK:],
        )
        rollup_cutoff = self.now_ms() - int(self.retention_rollup * 1000)
        with _transaction(conn):
            conn.executemany(
                "DELETE FROM results WHERE monitor = ? AND ts < ?",
                [(m, self._retention_cutoff) for m in chunk],
            )
            conn.executemany(
                "DELETE FROM rollup_hourly WHERE monitor = ? AND hour < ?",
                [(m, rollup_cutoff) for m in chunk],
            )
            conn.executemany(
                "DELETE FROM rollup_latency WHERE monitor = ? AND hour < ?",
                [(m, rollup_cutoff) for m in chunk],
            )

    def _latency_step(self, conn: sqlite3.Connection) -> None:
        """Follow :attr:`latency_thresholds`: stop counting the thresholds no longer wanted, and
        start counting new ones, a monitor's in the transaction that first counts its raw
        results against them (see :func:`_backfill`), as many monitors per pass as fit in
        BACKFILL_BUDGET. Probes written before that transaction are in ``results`` and counted
        by it; later ones are counted by the batches: every probe is counted once, whatever the
        order of timestamps."""
        wanted = self._latency
        if wanted is None:
            return
        if wanted is not self._latency_seen:
            gone = [
                (m, t)
                for m, ths in self._tracked.items()
                for t in ths
                if t not in wanted.get(m, ())
            ]
            if gone:
                with _transaction(conn):
                    conn.executemany(
                        "DELETE FROM latency_tracked WHERE monitor = ? AND threshold_us = ?", gone
                    )
                kept = {
                    m: tuple(t for t in ths if t in wanted.get(m, ()))
                    for m, ths in self._tracked.items()
                }
                self._tracked = {m: ths for m, ths in kept.items() if ths}
                waiting = {
                    m: tuple(t for t in ths if t in wanted.get(m, ()))
                    for m, ths in self._since_first.items()
                }
                self._since_first = {m: ths for m, ths in waiting.items() if ths}
            self._backfill_todo = [
                m for m, ths in wanted.items() if not set(ths) <= set(self._tracked.get(m, ()))
            ]
            self._backfill_todo.reverse()  # taken from the end: in the order of the config
            self._latency_seen = wanted
        todo = self._backfill_todo
        if not todo:
            return
        deadline = time.perf_counter() + BACKFILL_BUDGET
        started: list[tuple[int, tuple[int, ...], bool]] = []
        i = len(todo)
        with _transaction(conn):  # as many monitors as fit in the budget, at least one
            while i and (not started or time.perf_counter() < deadline):
                i -= 1
                have = self._tracked.get(todo[i], ())
                new = tuple(t for t in wanted.get(todo[i], ()) if t not in have)
                if new:
                    started.append((todo[i], new, _backfill(conn, todo[i], new, self.now_ms())))
        del todo[i:]  # only once committed
        for mon, new, counted in started:
            self._tracked[mon] = tuple(sorted((*self._tracked.get(mon, ()), *new)))
            if not counted:
                self._since_first[mon] = (*self._since_first.get(mon, ()), *new)

    def _summary_step(self, conn: sqlite3.Connection) -> None:
        """Summarize the days that became final (see :mod:`uptimed.core.daily`), a few monitors per
        pass: after an upgrade, months of history are summarized without holding up writes."""
        if not self._summary_todo:
            if time.monotonic() < self._summary_due:
                return
            self._summary_due = time.monotonic() + SUMMARY_EVERY
            self._summary_todo = daily.pending(conn, self.now_ms())
        chunk, self._summary_todo = (
            self._summary_todo[:SUMMARY_CHUNK],
            self._summary_todo[SUMMARY_CHUNK:],
        )
        with _transaction(conn):
            for monitor, start, end in chunk:
                daily.summarize(conn, monitor, start, end)


def _backfill(
    conn: sqlite3.Connection, monitor: int, thresholds: tuple[int, ...], now: int
) -> bool:
    """Start counting ``thresholds`` for ``monitor``: count its raw results (every one still
    kept: retention deletes only the oldest) into rollup_latency, replacing rows of an earlier
    count from the first raw result's hour on, and record them in latency_tracked as counted
    since the first raw result. Returns False when there was none: they are counted since
    ``now``, or since the first probe the batches count next if it is earlier (a probe still
    queued: every probe after it is written later, so counted too)."""
    (first,) = conn.execute("SELECT min(ts) FROM results WHERE monitor = ?", (monitor,)).fetchone()
    since = now if first is None else min(first, now)
    sums = ", ".join("sum(duration_us <= ?)" for _ in thresholds)
    rows = conn.execute(
        f"SELECT ts - ts % {HOUR_MS} AS hour, count(*), {sums} FROM results WHERE monitor = ? AND ok GROUP BY hour",
        (*thresholds, monitor),
    ).fetchall()
    conn.executemany(
        "DELETE FROM rollup_latency WHERE monitor = ? AND hour >= ? AND threshold_us = ?",
        [(monitor, since - since % HOUR_MS, thr) for thr in thresholds],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO rollup_latency VALUES (?,?,?,?,?)",
        [
            (monitor, hour, thr, ok, fast)
            for hour, ok, *fast_counts in rows
            for thr, fast in zip(thresholds, fast_counts, strict=True)
        ],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO latency_tracked VALUES (?,?,?)",
        [(monitor, thr, since) for thr in thresholds],
    )
    return first is not None


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


def register_monitors(
    monitors: list[tuple[str, str, str]],
) -> Callable[[sqlite3.Connection], dict[str, int]]:
    """A function for :meth:`Store.call` registering monitors from a running daemon."""
    return lambda conn: _register(conn, monitors)


def _call_in_savepoint(
    conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], Any]
) -> tuple[bool, Any]:
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
