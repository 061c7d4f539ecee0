"""Day summaries of the timeline (``timeline_daily``, schema m004): the SQL around the pure
arithmetic of :func:`uptimed.core.sla.day_summaries`.

A 30-day report of 10,000 monitors would otherwise read two million timeline rows. The writer
thread summarizes each monitor's days once their rows are final (:class:`Summaries`), and a
report reads one row per whole eligible day and timeline rows only for the rest (window edges,
restarts, maintenance).

A day can be summarized once it ends before the monitor's **final point** (its last probe, or
the first probe of a pending run: a run of failures or successes below the threshold, which the
state machine backdates to its first probe once confirmed; rows before that point never change)
and before the start of an outage still under way (a summary keeps the end of an outage that
runs past its day, and that end is not known yet).
"""

from __future__ import annotations

import sqlite3
import time

from uptimed.core.sla import DAY_MS, day_summaries
from uptimed.core.state import DOWN
from uptimed.store.db import transaction

EVERY = 600.0  # seconds between looks for days to summarize
CHUNK = 20  # monitors summarized per transaction (a backfill of 90 days: ~20k rows)
FIRST_AFTER = 5.0  # seconds after the start: the first look waits for start-up to settle


def final_points(conn: sqlite3.Connection, now: int) -> dict[int, int]:
    """Monitor id -> the time up to which its confirmed state can no longer change."""
    out = {}
    for mid, streak, streak_start, last_ts in conn.execute(
        "SELECT monitor, streak, streak_start, last_ts FROM monitor_state"
    ):
        if last_ts is not None:
            out[mid] = min(streak_start if streak and streak_start is not None else last_ts, now)
    return out


def pending(conn: sqlite3.Connection, now: int, day_ms: int = DAY_MS) -> list[tuple[int, int, int]]:
    """``(monitor, from, to)``: the days ``[from, to)`` each monitor has final but not yet
    summarized."""
    state = {m: upto for m, upto in conn.execute("SELECT monitor, upto FROM timeline_daily_state")}
    finals = final_points(conn, now)
    # An outage under way: its state is final, its end is not (and a summary keeps it).
    for mid, seg_start in conn.execute(
        "SELECT monitor, seg_start FROM monitor_state WHERE seg_state = ?", (DOWN,)
    ):
        if mid in finals and seg_start is not None:
            finals[mid] = min(finals[mid], seg_start)
    out = []
    for mid, final in finals.items():
        to = (final - 1) // day_ms * day_ms  # days that end strictly before the final point
        start = state.get(mid)
        if start is None:
            first = conn.execute(
                "SELECT min(start) FROM timeline WHERE monitor = ?", (mid,)
            ).fetchone()[0]
            if first is None:
                continue
            start = first // day_ms * day_ms
        if to > start:
            out.append((mid, start, to))
    return out


def summarize(
    conn: sqlite3.Connection, monitor: int, start: int, end: int, day_ms: int = DAY_MS
) -> int:
    """Write the summaries of the days ``[start, end)`` of one monitor and move its state to
    ``end``. Call it inside a transaction. Returns the number of days written."""
    rows = conn.execute(
        "SELECT start, end, state FROM timeline WHERE monitor = ?1 AND start < ?3 AND start >="
        " COALESCE((SELECT max(start) FROM timeline WHERE monitor = ?1 AND start <= ?2), 0)"
        " AND end > ?2",
        (monitor, start, end),
    ).fetchall()
    # The next row too: a row that reaches past `end` may be cut by it (see day_summaries).
    rows += conn.execute(
        "SELECT start, end, state FROM timeline WHERE monitor = ? AND start >= ?"
        " ORDER BY start LIMIT 1",
        (monitor, end),
    ).fetchall()
    days = day_summaries(rows, start, end, day_ms)
    conn.executemany(
        "INSERT OR REPLACE INTO timeline_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(monitor, *d) for d in days],
    )
    conn.execute(
        "INSERT INTO timeline_daily_state VALUES (?, ?, ?)"
        " ON CONFLICT (monitor) DO UPDATE SET upto = excluded.upto",
        (monitor, start, end),
    )
    return len(days)


def summarize_all(conn: sqlite3.Connection, now: int, day_ms: int = DAY_MS) -> int:
    """Summarize every pending day of every monitor in one transaction (for tests, benchmarks
    and tools; the daemon does it a few monitors at a time). Returns the days written."""
    with transaction(conn):
        return sum(summarize(conn, m, lo, hi, day_ms) for m, lo, hi in pending(conn, now, day_ms))


class Summaries:
    """The summary passes, as the writer thread runs them (:meth:`step` on every pass): every
    EVERY seconds, the days that became final, CHUNK monitors per transaction, so that after an
    upgrade months of history are summarized without holding up writes."""

    def __init__(self) -> None:
        self.due = time.monotonic() + FIRST_AFTER  # monotonic: when the next look begins
        self._todo: list[tuple[int, int, int]] = []

    def step(self, conn: sqlite3.Connection, now: int) -> None:
        if not self._todo:
            if time.monotonic() < self.due:
                return
            self.due = time.monotonic() + EVERY
            self._todo = pending(conn, now)
        chunk, self._todo = self._todo[:CHUNK], self._todo[CHUNK:]
        with transaction(conn):
            for monitor, start, end in chunk:
                summarize(conn, monitor, start, end)
