"""Every query that reads the database for a report, the API, /metrics or ``uptimed status``.

Plain functions of a connection (read-only for the front ends, which open their own): rows in,
tuples out, no policy. What the rows mean is for :mod:`uptimed.service` and :mod:`uptimed.core`.
Tables a database from an earlier version may lack (the daemon migrates it when it starts) read
as empty.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence

from uptimed.core.intervals import Interval

#: A timeline row as reports read it: ``(start, end, state, cause, monitor id)``.
Row = tuple[int, int, int, "str | None", int]
#: An ad-hoc maintenance window as reports read it: ``(id, target_kind, target, start, end,
#: reason, created_by, created_at)``.
AdhocRow = tuple[int, str, str, int, int, "str | None", str, int]

CHUNK = 500  # monitors per bulk query: bounds the rows held at once

# The rows of the monitors in the JSON array ?1 that overlap [?2, ?3): the last one starting at
# or before ?2 (rows never overlap, so no earlier one can reach it) and those starting after;
# none starting before ?4 (the end of the previous span: those were read with it).
_ROWS_OVERLAPPING = (
    "SELECT t.start, t.end, t.state, k.name, t.monitor FROM json_each(?1) j JOIN timeline t"
    " ON t.monitor = j.value AND t.start < ?3 AND t.end > ?2 AND t.start >= max(?4,"
    " COALESCE((SELECT max(start) FROM timeline WHERE monitor = j.value AND start <= ?2), 0))"
    " LEFT JOIN error_kinds k ON k.id = t.cause"
)
# sla.stretch() of the day summaries in [?2, ?3), in SQL, and the number of days found.
_STRETCH = (
    "SELECT d.monitor, sum(d.up_ms), sum(d.down_ms),"
    " sum(d.outages) - coalesce(sum(d.carry_end > ?3), 0),"
    " max(max(d.longest_ms), max(CASE WHEN d.carry_end <= ?3 THEN d.carry_ms ELSE 0 END)),"
    " count(*)"
    " FROM json_each(?1) j JOIN timeline_daily d"
    " ON d.monitor = j.value AND d.day >= ?2 AND d.day < ?3"
    " GROUP BY d.monitor"
)


def monitor_ids(conn: sqlite3.Connection) -> dict[str, int]:
    """Monitor key (its config id) -> the integer id its rows carry."""
    return dict(conn.execute("SELECT key, id FROM monitors"))


def runs(conn: sqlite3.Connection, lo: int, hi: int) -> list[tuple[int, int, str]]:
    """``(started, ended or last heartbeat, config_sha256)`` of the daemon's runs that overlap
    ``[lo, hi)``, oldest first."""
    return conn.execute(
        "SELECT started, COALESCE(ended, heartbeat), config_sha256 FROM runs"
        " WHERE started < ? AND COALESCE(ended, heartbeat) > ? ORDER BY started",
        (hi, lo),
    ).fetchall()


def degraded(conn: sqlite3.Connection, lo: int, hi: int) -> list[Interval]:
    """The times the daemon's own network was down that overlap ``[lo, hi)``."""
    return conn.execute(
        "SELECT start, end FROM degraded WHERE start < ? AND end > ?", (hi, lo)
    ).fetchall()


def maintenance(conn: sqlite3.Connection, lo: int, hi: int) -> list[AdhocRow]:
    """The ad-hoc maintenance windows that overlap ``[lo, hi)`` (not the cancelled ones, which
    exclude nothing), by start."""
    return conn.execute(
        "SELECT id, target_kind, target, start, end, reason, created_by, created_at"
        " FROM maintenance WHERE start < ? AND end > ? AND end > start ORDER BY start",
        (hi, lo),
    ).fetchall()


def segments_many(
    conn: sqlite3.Connection, mids: Sequence[int], spans: Sequence[Interval]
) -> dict[int, list[Row]]:
    """Timeline rows ``(start, end, state, cause, monitor)`` of many monitors (by integer id)
    that overlap any of ``spans`` (sorted and disjoint), each row once. One query per span and
    chunk of monitors."""
    out: dict[int, list[Row]] = {m: [] for m in mids}
    each = list(out)  # each once: a monitor named twice would have its rows twice
    for i in range(0, len(each), CHUNK):
        ids = json.dumps(each[i : i + CHUNK])
        after = -(2**62)
        for a, b in spans:
            for row in conn.execute(_ROWS_OVERLAPPING, (ids, a, b, after)):
                out[row[4]].append(row)
            after = b
    return out


def daily_state(conn: sqlite3.Connection) -> dict[int, tuple[int, int]]:
    """Monitor id -> ``(since, upto)`` of its day summaries (see :mod:`uptimed.store.summaries`)."""
    try:
        rows = conn.execute("SELECT monitor, since, upto FROM timeline_daily_state").fetchall()
    except sqlite3.OperationalError:  # a database the daemon has not migrated yet
        rows = []
    return {m: (a, b) for m, a, b in rows}


def stretches(
    conn: sqlite3.Connection, mids: Sequence[int], span: Interval
) -> dict[int, tuple[int, ...]]:
    """Per monitor, the totals of its day summaries over ``span`` (as
    :func:`uptimed.core.sla.stretch` computes them) and the number of days found: ``(up, down,
    outages, longest, days)``. Monitors without a summary there are left out."""
    out: dict[int, tuple[int, ...]] = {}
    each = list(dict.fromkeys(mids))
    for i in range(0, len(each), CHUNK):
        ids = json.dumps(each[i : i + CHUNK])
        out.update((m, tuple(totals)) for m, *totals in conn.execute(_STRETCH, (ids, *span)))
    return out


def latency_counts(
    conn: sqlite3.Connection, ids: Sequence[int], threshold: int, window: Interval
) -> tuple[int, int, int | None, bool]:
    """(good, total, counted from, exact) of the monitors ``ids`` (each once) against
    ``threshold`` (µs) over the hours that start in ``window``: the probes faster than it and
    the successful probes (``rollup_latency``); since when every one of them is counted against
    it (the latest ``latency_tracked.since``; None while one of them is not counted at all); and
    whether no successful probe of those hours was left out (the hourly rollups count them
    all)."""
    if not ids:
        return 0, 0, None, False
    marks = ",".join("?" * len(ids))
    try:
        good, total = conn.execute(
            f"SELECT COALESCE(sum(fast), 0), COALESCE(sum(ok), 0) FROM rollup_latency"
            f" WHERE monitor IN ({marks}) AND hour >= ? AND hour < ? AND threshold_us = ?",
            (*ids, *window, threshold),
        ).fetchone()
        counted, since = conn.execute(
            f"SELECT count(*), max(since) FROM latency_tracked"
            f" WHERE monitor IN ({marks}) AND threshold_us = ?",
            (*ids, threshold),
        ).fetchone()
    except sqlite3.OperationalError:  # a database the daemon has not migrated yet: nothing counted
        return 0, 0, None, False
    (probed,) = conn.execute(
        f"SELECT COALESCE(sum(probes - failures), 0) FROM rollup_hourly"
        f" WHERE monitor IN ({marks}) AND hour >= ? AND hour < ?",
        (*ids, *window),
    ).fetchone()
    if counted < len(ids):
        return good, total, None, False
    return good, total, since, total == probed


def runs_newest_first(
    conn: sqlite3.Connection,
) -> Iterator[tuple[int, int | None, int, str | None, int | None]]:
    """``(started, ended, heartbeat, end_reason, pid)`` of every run, the newest first (read
    lazily: ``uptimed status`` walks back only over the runs of the last process)."""
    return conn.execute(
        "SELECT started, ended, heartbeat, end_reason, pid FROM runs ORDER BY id DESC"
    )


MonitorStateRow = tuple[
    "int | None", int, "int | None", "int | None", "int | None", "int | None", "str | None",
    "str | None",
]  # fmt: skip


def monitor_states(conn: sqlite3.Connection) -> dict[str, MonitorStateRow]:
    """Monitor key -> ``(state, streak, last_ts, seg_start, seg_state, last_ok, last error
    kind, last error)`` of the daemon's saved state machine."""
    return {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT m.key, s.state, s.streak, s.last_ts, s.seg_start, s.seg_state, s.last_ok,"
            " e.name, s.last_error FROM monitors m JOIN monitor_state s ON s.monitor = m.id"
            " LEFT JOIN error_kinds e ON e.id = s.last_error_kind"
        )
    }


def public_key(conn: sqlite3.Connection) -> bytes:
    """The key of the database's public references (schema m010)."""
    row = conn.execute("SELECT value FROM keys WHERE name = 'public_refs'").fetchone()
    if row is None:  # pragma: no cover - every migrated database has it
        raise LookupError("the database has no public_refs key")
    return bytes(row[0])
