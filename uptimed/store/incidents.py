"""Incidents as stored (table ``incidents``, schema m009): what the daemon's pager knows of each
of the report's outages, the quiet periods of flapping targets (``quiet``) and where the
pager's last pass read up to (``pager``).

An incident is keyed by ``(target_kind, target, start)``: the report's own outage, found again
at every pass. Its figures (end, downtime) stay the report's; the row adds what only the daemon
knows. The functions take a connection and do not commit: the caller's transaction decides.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields, replace
from typing import Any

#: Why an incident does not page.
GROUPED, FLAPPING = "grouped", "flapping"


@dataclass(frozen=True)
class Incident:
    """One row of ``incidents`` (see the schema, m009, for each column)."""

    id: str
    target_kind: str  # "monitor" | "service"
    target: str
    start: int  # ms, backdated as the report counts it
    confirmed: int  # ms
    severity: str
    escalation: str | None = None
    cause_kind: str | None = None
    cause: str | None = None
    notify_from: int | None = None
    quiet: str | None = None  # GROUPED | FLAPPING | None
    group_id: str | None = None
    level: int | None = None
    resolved: int | None = None
    ack_by: str | None = None
    ack_at: int | None = None
    ack_note: str | None = None

    @property
    def target_key(self) -> tuple[str, str]:
        return (self.target_kind, self.target)


COLUMNS = tuple(f.name for f in fields(Incident))
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM incidents"


def new_id() -> str:
    """A fresh incident id: random, so it says nothing of how many incidents there were."""
    return "inc-" + secrets.token_hex(5)


def _rows(cursor: Iterable[Any]) -> list[Incident]:
    return [Incident(*row) for row in cursor]


def insert(conn: sqlite3.Connection, incident: Incident) -> None:
    marks = ",".join("?" * len(COLUMNS))
    conn.execute(
        f"INSERT INTO incidents ({', '.join(COLUMNS)}) VALUES ({marks})", astuple(incident)
    )


def save(conn: sqlite3.Connection, incident: Incident) -> None:
    """Write a changed row back (by id)."""
    sets = ", ".join(f"{c} = ?" for c in COLUMNS[1:])
    conn.execute(f"UPDATE incidents SET {sets} WHERE id = ?", (*astuple(incident)[1:], incident.id))


def get(conn: sqlite3.Connection, incident_id: str) -> Incident | None:
    found = _rows(conn.execute(f"{_SELECT} WHERE id = ?", (incident_id,)))
    return found[0] if found else None


def unresolved(conn: sqlite3.Connection) -> list[Incident]:
    return _rows(conn.execute(f"{_SELECT} WHERE resolved IS NULL ORDER BY start"))


def active(conn: sqlite3.Connection, since: int) -> list[Incident]:
    """The unresolved incidents and those resolved at or after ``since``, oldest first."""
    return _rows(
        conn.execute(
            f"{_SELECT} WHERE resolved IS NULL OR resolved >= ? ORDER BY start, id", (since,)
        )
    )


def overlapping(conn: sqlite3.Connection, start: int, end: int) -> list[Incident]:
    """The incidents that began before ``end`` and were not resolved by ``start``."""
    return _rows(
        conn.execute(
            f"{_SELECT} WHERE start < ? AND (resolved IS NULL OR resolved > ?) ORDER BY start, id",
            (end, start),
        )
    )


def began(conn: sqlite3.Connection, start: int, end: int) -> list[Incident] | None:
    """The incidents that began in ``[start, end)``, oldest first; None when the database has
    no incident table (one written before schema version 9, read without migrating)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'incidents'").fetchone() is None:
        return None
    return _rows(
        conn.execute(f"{_SELECT} WHERE start >= ? AND start < ? ORDER BY start, id", (start, end))
    )


def changes(conn: sqlite3.Connection, target: tuple[str, str], since: int) -> int:
    """The target's state changes at or after ``since``: incidents begun, incidents resolved."""
    kind, key = target
    (n,) = conn.execute(
        "SELECT (SELECT count(*) FROM incidents WHERE target_kind = ?1 AND target = ?2"
        " AND start >= ?3) + (SELECT count(*) FROM incidents WHERE target_kind = ?1"
        " AND target = ?2 AND resolved >= ?3)",
        (kind, key, since),
    ).fetchone()
    return int(n)


def acknowledge(
    conn: sqlite3.Connection, incident_id: str, by: str, at: int, note: str | None
) -> Incident:
    """Record who acknowledged the incident. Raises LookupError for an unknown id and
    ValueError when it was acknowledged already (the first acknowledgement stands)."""
    found = get(conn, incident_id)
    if found is None:
        raise LookupError(f"no incident {incident_id!r}")
    if found.ack_at is not None:
        raise ValueError(f"incident {incident_id} was acknowledged already by {found.ack_by}")
    done = replace(found, ack_by=by, ack_at=at, ack_note=note)
    save(conn, done)
    return done


def quiet_until(conn: sqlite3.Connection, target: tuple[str, str]) -> int | None:
    row = conn.execute(
        "SELECT until FROM quiet WHERE target_kind = ? AND target = ?", target
    ).fetchone()
    return None if row is None else int(row[0])


def set_quiet(conn: sqlite3.Connection, target: tuple[str, str], until: int) -> None:
    conn.execute("INSERT OR REPLACE INTO quiet VALUES (?, ?, ?)", (*target, until))


def synced(conn: sqlite3.Connection) -> int | None:
    """Where the pager's last pass read up to (ms), None before the first one."""
    row = conn.execute("SELECT synced FROM pager WHERE id = 1").fetchone()
    return None if row is None else row[0]


def set_synced(conn: sqlite3.Connection, at: int) -> None:
    conn.execute("INSERT OR REPLACE INTO pager VALUES (1, ?)", (at,))


@dataclass(frozen=True)
class Sent:
    """One of an incident's notifications, as the outbox holds it (never its payload)."""

    notifier: str
    event: str
    key: str
    state: str  # pending | sent | dead
    attempts: int
    created: int
    done: int | None
    last_error: str | None


def notifications(conn: sqlite3.Connection, incident_ids: Iterable[str]) -> dict[str, list[Sent]]:
    """Incident id -> its notifications, oldest first."""
    wanted = list(incident_ids)
    out: dict[str, list[Sent]] = {i: [] for i in wanted}
    for i in range(0, len(wanted), 500):  # SQLite's variable limit
        chunk = wanted[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            "SELECT incident, notifier, event, key, state, attempts, created, done, last_error"
            f" FROM outbox WHERE incident IN ({marks}) ORDER BY id",
            chunk,
        ):
            out[row[0]].append(Sent(*row[1:]))
    return out
