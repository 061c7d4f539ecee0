"""Ad-hoc maintenance windows, stored in SQLite: added, listed and ended at run time.

The CLI (``uptimed maintenance``) and the API write here; a running daemon reads the table every
few seconds, so a new window takes effect without a restart. A window that starts in the past is
a retroactive exclusion (an outage the contract excuses): it needs a reason, and every report
lists it with who added it and when.

Ending a window that has not begun cancels it: its row stays (the audit trail: ``end`` equals
``start``, ``ended_early_at`` says when), but it excludes nothing and no list or report shows it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from uptimed.periods import iso
from uptimed.schema import migrate
from uptimed.store import connect


@dataclass(frozen=True)
class Window:
    id: int
    target_kind: str  # monitor | service
    target: str
    start: int  # ms
    end: int  # ms, exclusive
    reason: str | None
    created_by: str
    created_at: int
    ended_early_at: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "target_kind": self.target_kind, "target": self.target, "start": iso(self.start),
            "end": iso(self.end), "reason": self.reason, "created_by": self.created_by,
            "created_at": iso(self.created_at), "ended_early_at": iso(self.ended_early_at),
            "retroactive": is_retroactive(self.start, self.created_at, self.end),
            "cancelled": self.cancelled,
        }  # fmt: skip

    @property
    def cancelled(self) -> bool:
        """Ended before it began: it never excluded anything."""
        return self.end <= self.start


COLUMNS = "id, target_kind, target, start, end, reason, created_by, created_at, ended_early_at"
RETROACTIVE_SLACK = 60_000  # ms: a start a minute in the past is "now", not a retroactive exclusion


def is_retroactive(start: int, created_at: int, end: int | None = None) -> bool:
    """A window excludes time already recorded: it starts more than a minute before it was
    added, or it had already ended when it was added."""
    return start < created_at - RETROACTIVE_SLACK or (end is not None and end <= created_at)


def open_db(path: str) -> sqlite3.Connection:
    """A write connection for the CLI to the daemon's database, which must exist (raises
    :class:`~uptimed.store.NoDatabase`); migrates it, never touches runs."""
    conn = connect(path, create=False)
    db = Database(conn)
    db.enable_wal()
    migrate(db)
    return conn


def add(
    conn: sqlite3.Connection, target_kind: str, target: str, start: int, end: int, reason: str | None, by: str, now: int
) -> Window:
    if end <= start:
        raise ValueError("the window must end after it starts")
    if is_retroactive(start, now, end) and not (reason and reason.strip()):
        raise ValueError("a window that starts in the past excludes recorded time: give a --reason")
    cur = conn.execute(
        "INSERT INTO maintenance (target_kind, target, start, end, reason, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (target_kind, target, start, end, reason, by, now),
    )
    return get(conn, int(cur.lastrowid or 0))


def get(conn: sqlite3.Connection, window_id: int) -> Window:
    row = conn.execute(f"SELECT {COLUMNS} FROM maintenance WHERE id = ?", (window_id,)).fetchone()
    if row is None:
        raise LookupError(f"no maintenance window with id {window_id}")
    return Window(*row)


def windows(conn: sqlite3.Connection, since: int | None = None, *, cancelled: bool = False) -> list[Window]:
    """Windows that end after ``since`` (all of them with None), oldest first; with
    ``cancelled``, only the cancelled ones (the audit trail) instead."""
    kept = "end <= start" if cancelled else "end > start AND end > ?"
    args = () if cancelled else (since if since is not None else -(2**62),)
    rows = conn.execute(f"SELECT {COLUMNS} FROM maintenance WHERE {kept} ORDER BY start, id", args)
    return [Window(*r) for r in rows]


def end(conn: sqlite3.Connection, window_id: int, now: int) -> Window:
    """End a window now. One that has not begun is cancelled: it ends where it starts."""
    w = get(conn, window_id)
    if w.cancelled:
        raise ValueError(f"maintenance window {window_id} was cancelled at {iso(w.ended_early_at)}")
    if w.end <= now:
        raise ValueError(f"maintenance window {window_id} already ended at {iso(w.end)}")
    conn.execute(
        "UPDATE maintenance SET end = ?, ended_early_at = ? WHERE id = ?", (max(w.start, now), now, window_id)
    )
    return get(conn, window_id)


def active(conn: sqlite3.Connection, now: int) -> list[tuple[str, str]]:
    """(target_kind, target) of the windows in force at ``now``."""
    return conn.execute(
        "SELECT DISTINCT target_kind, target FROM maintenance WHERE start <= ? AND end > ?", (now, now)
    ).fetchall()
