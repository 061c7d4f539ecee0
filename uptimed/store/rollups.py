"""Hourly rollups of the raw results, which outlive them (``retention.rollup``, 400 days).

``rollup_hourly`` (m003): per monitor and hour, probes, failures and durations. Its ``fast``
column is no longer read (see schema m005) but still filled as before, against the smallest
threshold counted, for an older uptimed reading this database.

``rollup_latency`` (m005): the latency SLIs, per monitor, hour and threshold: successful probes
counted against the threshold, and those no slower than it. The daemon says which thresholds
each monitor needs (:attr:`LatencyTracker.wanted`: those of the SLOs on it, or on a service it
belongs to); the writer counts each one from the moment it first sees it, after counting the
raw results still kept against it (so a new SLO, or a threshold changed by a reload, has exact
counts from the oldest raw result on, not only from the reload). ``latency_tracked`` records
since when each threshold is counted.

Both are counted per batch (:class:`Rollups`) and written in the batch's transaction, with the
raw results they count.
"""

from __future__ import annotations

import sqlite3
import time

from uptimed.store.db import transaction

HOUR_MS = 3_600_000
BACKFILL_BUDGET = 0.25  # seconds per writer pass spent counting raw results for new thresholds


def threshold_us(seconds: float) -> int:
    """A latency threshold as the rollups key it: whole microseconds, rounded ("570ms" is 570000,
    where ``int(0.57 * 1e6)`` is 569999). The daemon and the report both use this."""
    return round(seconds * 1e6)


class LatencyTracker:
    """Which thresholds are counted for which monitor, as the writer thread keeps them (only it
    reads or writes them, but for :attr:`wanted`)."""

    def __init__(self) -> None:
        self._wanted: dict[int, tuple[int, ...]] | None = None  # see wanted
        self._seen: dict[int, tuple[int, ...]] | None = None  # the last one acted on
        #: monitor id -> thresholds (µs, ascending) counted now in rollup_latency:
        #: latency_tracked as the writer thread keeps it
        self.tracked: dict[int, tuple[int, ...]] = {}
        self._backfill_todo: list[int] = []  # monitors with wanted thresholds not counted yet
        #: thresholds that began with no raw result to count: counted since the first probe then
        self.since_first: dict[int, tuple[int, ...]] = {}

    @property
    def wanted(self) -> dict[int, tuple[int, ...]]:
        """Monitor id -> the latency thresholds (µs, see :func:`threshold_us`) to count for it.
        The daemon sets it at start and on each reload; the writer then stops counting the
        thresholds no longer listed and starts counting the new ones (first over the raw
        results kept, a few monitors per pass). Until it is set, the writer counts what it
        counted before (``latency_tracked``)."""
        return {} if self._wanted is None else self._wanted

    @wanted.setter
    def wanted(self, value: dict[int, tuple[int, ...]]) -> None:
        # One assignment of a new dict: the writer thread sees the old one or the new one.
        self._wanted = {mon: tuple(sorted(set(ths))) for mon, ths in value.items() if ths}

    def load(self, conn: sqlite3.Connection) -> None:
        """Read what was counted before (``latency_tracked``)."""
        tracked: dict[int, list[int]] = {}
        for mon, thr in conn.execute(
            "SELECT monitor, threshold_us FROM latency_tracked ORDER BY 1, 2"
        ):
            tracked.setdefault(mon, []).append(thr)
        self.tracked = {mon: tuple(ths) for mon, ths in tracked.items()}

    def step(self, conn: sqlite3.Connection, now: int) -> None:
        """Follow :attr:`wanted`: stop counting the thresholds no longer wanted, and start
        counting new ones, a monitor's in the transaction that first counts its raw results
        against them (see :func:`_backfill`), as many monitors per pass as fit in
        BACKFILL_BUDGET. Probes written before that transaction are in ``results`` and counted
        by it; later ones are counted by the batches: every probe is counted once, whatever the
        order of timestamps."""
        wanted = self._wanted
        if wanted is None:
            return
        if wanted is not self._seen:
            self._forget_unwanted(conn, wanted)
            self._backfill_todo = [
                m for m, ths in wanted.items() if not set(ths) <= set(self.tracked.get(m, ()))
            ]
            self._backfill_todo.reverse()  # taken from the end: in the order of the config
            self._seen = wanted
        todo = self._backfill_todo
        if not todo:
            return
        deadline = time.perf_counter() + BACKFILL_BUDGET
        started: list[tuple[int, tuple[int, ...], bool]] = []
        i = len(todo)
        with transaction(conn):  # as many monitors as fit in the budget, at least one
            while i and (not started or time.perf_counter() < deadline):
                i -= 1
                have = self.tracked.get(todo[i], ())
                new = tuple(t for t in wanted.get(todo[i], ()) if t not in have)
                if new:
                    started.append((todo[i], new, _backfill(conn, todo[i], new, now)))
        del todo[i:]  # only once committed
        for mon, new, counted in started:
            self.tracked[mon] = tuple(sorted((*self.tracked.get(mon, ()), *new)))
            if not counted:
                self.since_first[mon] = (*self.since_first.get(mon, ()), *new)

    def _forget_unwanted(
        self, conn: sqlite3.Connection, wanted: dict[int, tuple[int, ...]]
    ) -> None:
        gone = [
            (m, t) for m, ths in self.tracked.items() for t in ths if t not in wanted.get(m, ())
        ]
        if not gone:
            return
        with transaction(conn):
            conn.executemany(
                "DELETE FROM latency_tracked WHERE monitor = ? AND threshold_us = ?", gone
            )
        self.tracked = _keep(self.tracked, wanted)
        self.since_first = _keep(self.since_first, wanted)


def _keep(
    have: dict[int, tuple[int, ...]], wanted: dict[int, tuple[int, ...]]
) -> dict[int, tuple[int, ...]]:
    """``have`` with only the thresholds ``wanted`` (monitors left with none go)."""
    kept = {m: tuple(t for t in ths if t in wanted.get(m, ())) for m, ths in have.items()}
    return {m: ths for m, ths in kept.items() if ths}


class Rollups:
    """The rollup counts of one batch, written in its transaction (:meth:`write`), and once it
    committed, :meth:`committed`."""

    __slots__ = ("firsts", "hours", "latency", "tracker")

    def __init__(self, tracker: LatencyTracker) -> None:
        self.tracker = tracker
        #: (monitor, hour) -> [probes, failures, duration sum, min, max, fast]
        self.hours: dict[tuple[int, int], list[int]] = {}
        #: (monitor, hour, threshold) -> [ok, fast]
        self.latency: dict[tuple[int, int, int], list[int]] = {}
        #: monitor in tracker.since_first -> its earliest probe counted here
        self.firsts: dict[int, int] = {}

    def add(self, monitor: int, ts: int, ok: bool, duration_us: int) -> None:
        """Count one probe."""
        hour = ts - ts % HOUR_MS
        ths = self.tracker.tracked.get(monitor)
        # rollup_hourly.fast (no longer read, see schema m005): the smallest threshold, as before
        fast = 1 if ok and ths and duration_us <= ths[0] else 0
        h = self.hours.get((monitor, hour))
        if h is None:
            self.hours[(monitor, hour)] = [
                1,
                0 if ok else 1,
                duration_us,
                duration_us,
                duration_us,
                fast,
            ]
        else:
            h[0] += 1
            h[1] += 0 if ok else 1
            h[2] += duration_us
            h[3] = min(h[3], duration_us)
            h[4] = max(h[4], duration_us)
            h[5] += fast
        if ths and ok:
            since_first = self.tracker.since_first
            if since_first and monitor in since_first:
                self.firsts[monitor] = min(ts, self.firsts.get(monitor, ts))
            latency = self.latency
            for thr in ths:
                c = latency.get((monitor, hour, thr))
                if c is None:
                    latency[(monitor, hour, thr)] = [1, 1 if duration_us <= thr else 0]
                else:
                    c[0] += 1
                    c[1] += 1 if duration_us <= thr else 0

    def write(self, conn: sqlite3.Connection) -> None:
        """Add the counts to the tables, inside the batch's transaction."""
        conn.executemany(
            "INSERT INTO rollup_hourly VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (monitor, hour)"
            " DO UPDATE SET probes = probes + excluded.probes,"
            " failures = failures + excluded.failures,"
            " duration_sum_us = duration_sum_us + excluded.duration_sum_us,"
            " duration_min_us = min(duration_min_us, excluded.duration_min_us),"
            " duration_max_us = max(duration_max_us, excluded.duration_max_us),"
            " fast = fast + excluded.fast",
            [(mon, hour, *v) for (mon, hour), v in self.hours.items()],
        )
        if self.latency:
            conn.executemany(
                "INSERT INTO rollup_latency VALUES (?,?,?,?,?)"
                " ON CONFLICT (monitor, hour, threshold_us)"
                " DO UPDATE SET ok = ok + excluded.ok, fast = fast + excluded.fast",
                [
                    (mon, hour, thr, ok, fast)
                    for (mon, hour, thr), (ok, fast) in self.latency.items()
                ],
            )
        if self.firsts:
            since_first = self.tracker.since_first
            conn.executemany(
                "UPDATE latency_tracked SET since = min(since, ?)"
                " WHERE monitor = ? AND threshold_us = ?",
                [(ts, mon, thr) for mon, ts in self.firsts.items() for thr in since_first[mon]],
            )

    def committed(self) -> None:
        """The batch committed: the thresholds waiting for a first probe have had it."""
        for mon in self.firsts:
            del self.tracker.since_first[mon]


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
        f"SELECT ts - ts % {HOUR_MS} AS hour, count(*), {sums} FROM results"
        " WHERE monitor = ? AND ok GROUP BY hour",
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
