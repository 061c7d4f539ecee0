"""Retention: raw results older than ``retention.raw``, and rollups and the outbox's delivered
or given-up notifications older than ``retention.rollup``, are deleted, every hour, a few
monitors per transaction so that the writer's batches never wait long behind a delete.
"""

from __future__ import annotations

import sqlite3
import time

from uptimed.store.db import transaction
from uptimed.store.monitors import monitor_ids

EVERY = 3600.0  # seconds between retention passes
CHUNK = 50  # monitors per retention transaction
FIRST_AFTER = 60.0  # seconds after the start: the first pass waits for start-up to settle


class Retention:
    """The retention passes, as the writer thread runs them (:meth:`step` on every pass).
    ``raw`` and ``rollup`` are the ages kept, in seconds; the daemon sets them."""

    def __init__(self, raw: float, rollup: float) -> None:
        self.raw = raw
        self.rollup = rollup
        self.due = time.monotonic() + FIRST_AFTER  # monotonic: when the next pass begins
        self._todo: list[int] = []  # monitors left in this pass
        self._cutoff = 0  # raw results before this (ms) go, fixed for the whole pass

    def step(self, conn: sqlite3.Connection, now: int) -> None:
        """Delete the old rows of the next few monitors, if a pass is due or under way."""
        if not self._todo:
            if time.monotonic() < self.due:
                return
            self.due = time.monotonic() + EVERY
            self._cutoff = now - int(self.raw * 1000)
            self._todo = monitor_ids(conn)
            with transaction(conn):  # delivered or given up: kept as long as the rollups
                conn.execute(
                    "DELETE FROM outbox WHERE state != 'pending' AND done < ?",
                    (now - int(self.rollup * 1000),),
                )
        chunk, self._todo = self._todo[:CHUNK], self._todo[CHUNK:]
        rollup_cutoff = now - int(self.rollup * 1000)
        with transaction(conn):
            conn.executemany(
                "DELETE FROM results WHERE monitor = ? AND ts < ?",
                [(m, self._cutoff) for m in chunk],
            )
            for table in ("rollup_hourly", "rollup_latency"):
                conn.executemany(
                    f"DELETE FROM {table} WHERE monitor = ? AND hour < ?",
                    [(m, rollup_cutoff) for m in chunk],
                )
