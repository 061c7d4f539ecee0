"""The run journal (``runs``) and degraded time (``degraded``): when the daemon was there to see.

Each daemon process records a **run** (started, heartbeat, ended): time outside every run is
unknown. The heartbeat advances with every batch; a run left open by a crash is closed at its
last heartbeat when the next daemon opens the database. A wall-clock jump or a reload ends the
run and starts the next (:func:`split`). Time in ``degraded`` (every connectivity canary
failed: :mod:`uptimed.daemon.connectivity`) is unknown for every monitor, within its run.

Every function here runs on the writer's connection, inside a transaction the caller holds.
"""

from __future__ import annotations

import os
import sqlite3


def close_crashed(conn: sqlite3.Connection) -> int:
    """Close the runs left open (by a crash) at their last heartbeat; returns how many."""
    return conn.execute(
        "UPDATE runs SET ended = heartbeat, end_reason = 'crash' WHERE ended IS NULL"
    ).rowcount


def begin(
    conn: sqlite3.Connection,
    at: int,
    version: str,
    config_sha256: str,
    location: str | None = None,
    shard: str | None = None,
) -> int:
    """Record a run of this process starting at ``at``, from ``location`` ([daemon].location)
    as ``shard`` ("I/N"); returns its id."""
    return _insert(conn, at, (os.getpid(), version, config_sha256, location, shard))


def heartbeat(conn: sqlite3.Connection, run: int, at: int) -> None:
    """The run was alive at ``at`` (a heartbeat never goes back)."""
    conn.execute("UPDATE runs SET heartbeat = MAX(heartbeat, ?) WHERE id = ?", (at, run))


def split(
    conn: sqlite3.Connection,
    run: int,
    end_at: int,
    restart_at: int,
    reason: str,
    config_sha256: str | None,
) -> int:
    """End ``run`` at ``end_at`` for ``reason`` and start the next at ``restart_at``, of the
    same process and version, with ``config_sha256`` (None: the same config). Returns its id."""
    conn.execute(
        "UPDATE runs SET ended = ?, heartbeat = MAX(heartbeat, ?), end_reason = ? WHERE id = ?",
        (end_at, end_at, reason, run),
    )
    pid, version, sha, location, shard = conn.execute(
        "SELECT pid, version, config_sha256, location, shard FROM runs WHERE id = ?", (run,)
    ).fetchone()
    return _insert(conn, restart_at, (pid, version, config_sha256 or sha, location, shard))


def end(conn: sqlite3.Connection, run: int, at: int) -> None:
    """End ``run`` cleanly (a stop) at ``at``, or at its last heartbeat if that is later."""
    conn.execute(
        "UPDATE runs SET ended = MAX(heartbeat, ?), heartbeat = MAX(heartbeat, ?),"
        " end_reason = 'stop' WHERE id = ?",
        (at, at, run),
    )


def record_degraded(conn: sqlite3.Connection, start: int, end: int, run: int | None) -> None:
    """``[start, end)`` was degraded, in ``run``: a stretch is written again as it grows."""
    conn.execute(
        "INSERT OR REPLACE INTO degraded (start, end, run) VALUES (?, ?, ?)", (start, end, run)
    )


def _insert(conn: sqlite3.Connection, at: int, rest: tuple[object, ...]) -> int:
    """A run starting at ``at``; ``rest``: (pid, version, config_sha256, location, shard)."""
    run = conn.execute(
        "INSERT INTO runs (started, heartbeat, pid, version, config_sha256, location, shard)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, at, *rest),
    ).lastrowid
    assert run is not None  # an INSERT into a rowid table always has one
    return run
