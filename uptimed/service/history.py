"""What the database recorded over a report's time, read once: monitors' ids, the daemon's runs
and their configurations, the time its own network was down, and maintenance; timeline rows and
day summaries on demand (every query is :mod:`uptimed.store.reads`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from uptimed.core.intervals import Interval, normalize, subtract
from uptimed.model.config import Config
from uptimed.model.report import ConfigVersion
from uptimed.service.exclusions import Maintenance
from uptimed.store import connect, reads
from uptimed.store.reads import Row


@contextmanager
def reading(config: Config) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the config's database, read in one snapshot
    (:func:`one_snapshot`) and closed after. Raises :class:`~uptimed.errors.NoDatabase` where
    there is none: reading never creates one."""
    conn = connect(config.daemon.database, readonly=True)
    try:
        with one_snapshot(conn):
            yield conn
    finally:
        conn.close()


@contextmanager
def one_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Read inside one transaction, so that every statement of a report sees the same database
    while the daemon writes (in WAL mode a reader keeps its snapshot until it ends)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


class History:
    """Everything a report needs from the database for ``[lo, hi)`` (read in one snapshot:
    see :func:`one_snapshot`)."""

    def __init__(self, conn: sqlite3.Connection, config: Config, lo: int, hi: int, now: int):
        self.conn, self.config, self.lo, self.hi, self.now = conn, config, lo, hi, now
        self.ids = reads.monitor_ids(conn)
        runs = reads.runs(conn, lo, hi)
        self.runs = normalize((s, e) for s, e, _ in runs)
        versions: list[ConfigVersion] = []
        for s, e, sha in runs:
            if versions and versions[-1].sha256 == sha:
                versions[-1] = ConfigVersion(sha, versions[-1].start, e)
            else:
                versions.append(ConfigVersion(sha, s, e))
        self.config_versions = tuple(versions)
        self.degraded = normalize(reads.degraded(conn, lo, hi))
        #: Where a monitor's state counts: inside a run, and not while the daemon's network was
        #: down.
        self.cover = subtract(self.runs, self.degraded)
        self.maintenance = Maintenance(config, reads.maintenance(conn, lo, hi), lo, hi)
        self._daily_state: dict[int, tuple[int, int]] | None = None

    def segments(self, key: str) -> list[Row]:
        """Timeline rows of a monitor that overlap [lo, hi) (see :meth:`segments_many`)."""
        mid = self.ids.get(key)
        return [] if mid is None else self.segments_many([mid], [(self.lo, self.hi)])[mid]

    def segments_many(self, mids: Sequence[int], spans: Sequence[Interval]) -> dict[int, list[Row]]:
        """Timeline rows of many monitors (by integer id) that overlap any of ``spans``
        (:func:`uptimed.store.reads.segments_many`)."""
        return reads.segments_many(self.conn, mids, spans)

    def daily_state(self) -> dict[int, tuple[int, int]]:
        """Monitor id -> ``(since, upto)`` of its day summaries (see
        :mod:`uptimed.store.summaries`), read once."""
        if self._daily_state is None:
            self._daily_state = reads.daily_state(self.conn)
        return self._daily_state

    def latency_counts(
        self, keys: Sequence[str], threshold: int, window: Interval
    ) -> tuple[int, int, int | None, bool]:
        """The latency counts of the monitors ``keys`` (those the database has; each once)
        against ``threshold`` (µs) over ``window`` (:func:`uptimed.store.reads.latency_counts`)."""
        ids = sorted({self.ids[k] for k in keys if k in self.ids})
        return reads.latency_counts(self.conn, ids, threshold, window)

    def stretches(self, mids: Sequence[int], span: Interval) -> dict[int, tuple[int, ...]]:
        """Per monitor, the totals of its day summaries over ``span``
        (:func:`uptimed.store.reads.stretches`)."""
        return reads.stretches(self.conn, mids, span)
