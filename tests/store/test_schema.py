"""Migrations: a database of every earlier schema version opens with the current store, its
data kept row by row."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from probes.base import ProbeResult
from uptimed.core.state import DOWN, UP, Segment, Snapshot
from uptimed.store import Store
from uptimed.store.results import ResultReader, StoredResult
from uptimed.store.schema import migrations

T = 1_700_000_000_000

# Rows as schema version 1 (m001) had them.
V1_MONITORS = [(1, "web", "http", "Web", T - 5000), (2, "db", "tcp", "DB", T - 4000)]
V1_ERROR_KINDS = [(1, "dns"), (2, "refused"), (3, "timeout"), (4, "http_status")]
# monitor, ts, ok, duration_us, status, error_kind, error, resolve_us .. transfer_us
V1_RESULTS: list[tuple[Any, ...]] = [
    (1, T, 1, 1234, 200, None, None, None, 150, None, 900, 80),
    (1, T + 10_000, 0, 250_000, 503, 4, "unexpected status 503", 2100, 300, 4500, 200_000, None),
    (1, T + 20_000, 0, 2_000_000, None, 3, "no complete reply within 2 s", None, 2_000_000, None,
     None, None),
    (1, T + 30_000, 1, 16_000_000_000, 299, None, None, 1, 2, 3, 4, 5),  # 4.4 hours: big varints
    (2, T + 1, 1, 321, None, None, None, None, 300, None, None, None),
    (2, T + 10_001, 0, 12, None, 2, "127.0.0.1:9: Connection refused", 7, 5, None, None, None),
    (2, T + 20_001, 1, 0, None, None, None, None, None, None, None, None),  # no phase at all
]  # fmt: skip
V1_TIMELINE = [
    (1, T, T + 10_000, UP),
    (1, T + 10_000, T + 50_000, DOWN),
    (2, T + 1, T + 40_001, UP),
]
# id, started, ended, heartbeat, end_reason, pid, version, config_sha256
V1_RUNS = [
    (1, T - 9000, T - 6000, T - 6000, "stop", 10, "0.1", "aa"),
    (2, T - 5000, None, T + 30_000, None, 11, "0.1", "bb"),  # left open: closed as crashed
]
# monitor, state, streak, streak_start, last_ts, seg_start, seg_end, seg_state, floor,
# last_ok, last_error_kind, last_error
V1_MONITOR_STATE = [
    (1, DOWN, 1, T + 30_000, T + 30_000, T + 10_000, T + 50_000, DOWN, 0, 1, None, None),
    (2, UP, 0, None, T + 20_001, T + 1, T + 40_001, UP, T - 1, 1, None, None),
]
PHASES = ("resolve", "connect", "tls", "processing", "transfer")


def v1_database(path: Path) -> None:
    db = Database(path)
    migrations.apply(db, stop_before="m002_sla")
    conn = db.conn
    conn.executemany("INSERT INTO monitors VALUES (?, ?, ?, ?, ?)", V1_MONITORS)
    conn.executemany("INSERT INTO error_kinds VALUES (?, ?)", V1_ERROR_KINDS)
    conn.executemany("INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", V1_RESULTS)
    conn.executemany("INSERT INTO timeline VALUES (?, ?, ?, ?)", V1_TIMELINE)
    conn.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", V1_RUNS)
    conn.executemany("INSERT INTO monitor_state VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", V1_MONITOR_STATE)
    conn.commit()
    db.close()


def expected(row: tuple[Any, ...]) -> StoredResult:
    """A v1 results row as the current schema keeps it."""
    monitor, ts, ok, duration, status, kind, error, *phases = row
    return StoredResult(
        monitor=monitor,
        ts=ts,
        ok=bool(ok),
        duration_us=duration,
        error_kind=None if kind is None else dict(V1_ERROR_KINDS)[kind],
        error=error,
        phases_us={p: v for p, v in zip(PHASES, phases, strict=True) if v is not None},
        details={} if status is None else {"status_code": status},
    )


def test_a_version_1_database_keeps_every_row_through_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "u.db"
    v1_database(path)
    s = Store(str(path))
    assert s.open() == len(migrations.applied(Database(sqlite3.connect(path)))) == 10
    snapshots = s.load_snapshots()
    s.close()

    c = sqlite3.connect(path)
    assert c.execute("PRAGMA user_version").fetchone() == (10,)
    assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert c.execute("SELECT * FROM monitors ORDER BY id").fetchall() == V1_MONITORS
    # The kinds keep their ids; the ones added since come after them.
    kinds = c.execute("SELECT id, name FROM error_kinds ORDER BY id").fetchall()
    assert kinds[: len(V1_ERROR_KINDS)] == V1_ERROR_KINDS and ("internal" in dict(kinds).values())
    # Every result, with its status as a detail and its phases by name.
    reader = ResultReader(c)
    stored = reader.between(1, 0, 2 * T) + reader.between(2, 0, 2 * T)
    assert stored == [expected(row) for row in V1_RESULTS]
    assert c.execute("SELECT count(*) FROM results").fetchone() == (len(V1_RESULTS),)
    assert c.execute("SELECT * FROM timeline ORDER BY monitor, start").fetchall() == [
        (*row, None) for row in V1_TIMELINE
    ]
    runs = c.execute("SELECT * FROM runs ORDER BY id").fetchall()
    # Runs from before locations were recorded (m007): NULL location and shard.
    assert runs[0] == (*V1_RUNS[0], None, None)
    assert runs[1] == (2, T - 5000, T + 30_000, T + 30_000, "crash", 11, "0.1", "bb", None, None)
    assert c.execute("SELECT * FROM monitor_state ORDER BY monitor").fetchall() == [
        (*row, None, None) for row in V1_MONITOR_STATE
    ]
    assert snapshots == {
        1: Snapshot(DOWN, 1, T + 30_000, T + 30_000, Segment(T + 10_000, T + 50_000, DOWN), 0),
        2: Snapshot(UP, 0, None, T + 20_001, Segment(T + 1, T + 40_001, UP), T - 1),
    }
    for empty in ("maintenance", "degraded", "rollup_hourly", "timeline_daily", "rollup_latency"):
        assert c.execute(f"SELECT count(*) FROM {empty}").fetchone() == (0,), empty
    assert "results_m001" not in {
        name for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }


def test_a_migrated_database_takes_new_results_beside_the_old(tmp_path: Path) -> None:
    path = tmp_path / "u.db"
    v1_database(path)
    s = Store(str(path), flush_interval=0.02)
    s.open()
    ids = s.register_monitors([("web", "http", "Web")])
    assert ids == {"web": 1}
    s.start(version="t", config_sha256="x")
    new = ProbeResult(
        False, 0.5, "http_status", "unexpected status 500", {"tls": 0.002}, {"status_code": 500}
    )
    s.record(1, T + 40_000, new, [], Snapshot())
    s.close()
    rows = ResultReader(sqlite3.connect(path)).between(1, T + 30_000, T + 50_000)
    assert rows == [
        expected(V1_RESULTS[3]),
        StoredResult(
            1, T + 40_000, False, 500_000, "http_status", "unexpected status 500",
            {"tls": 2000}, {"status_code": 500},
        ),
    ]  # fmt: skip
