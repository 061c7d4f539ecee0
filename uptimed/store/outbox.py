"""The notification outbox: what must be delivered, what was, and what was given up.

Delivery is at least once. An entry is enqueued with its idempotency key (``INSERT OR IGNORE``:
enqueueing the same notification again, after a restart or from a second planner pass, is a
no-op), in the transaction of the state change that causes it. A sender takes the entries that
are due (:func:`due`), delivers them, and records the outcome: :func:`sent`, or :func:`failed`,
which schedules the next attempt with :func:`uptimed.core.retry.backoff` or, after
``max_attempts`` (or a failure not worth retrying), marks the entry dead. A crash between the
delivery and :func:`sent` delivers it again on restart, with the same key, which the receiver
uses to drop the duplicate.

The functions take a connection and do not commit: the caller's transaction decides.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from uptimed.core.retry import MAX_ATTEMPTS, backoff

PENDING, SENT, DEAD = "pending", "sent", "dead"
STATES = (PENDING, SENT, DEAD)


@dataclass(frozen=True)
class Entry:
    """A notification to enqueue."""

    key: str
    notifier: str
    event: str
    incident: str | None
    payload: str  # JSON
    due: int  # ms


@dataclass(frozen=True)
class Delivery:
    """A pending entry, as a sender takes it."""

    id: int
    key: str
    notifier: str
    event: str
    incident: str | None
    payload: str
    attempts: int  # made so far


def enqueue(conn: sqlite3.Connection, entries: Iterable[Entry], now: int) -> int:
    """Add the entries whose keys are new; returns how many were."""
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (key, notifier, event, incident, payload, created, due)"
        " VALUES (?,?,?,?,?,?,?)",
        [(e.key, e.notifier, e.event, e.incident, e.payload, now, e.due) for e in entries],
    )
    return conn.total_changes - before


def known(conn: sqlite3.Connection, keys: Iterable[str]) -> set[str]:
    """The keys among ``keys`` already in the outbox, in any state."""
    wanted = list(keys)
    found: set[str] = set()
    for i in range(0, len(wanted), 500):  # SQLite's variable limit
        chunk = wanted[i : i + 500]
        marks = ",".join("?" * len(chunk))
        found.update(
            k for (k,) in conn.execute(f"SELECT key FROM outbox WHERE key IN ({marks})", chunk)
        )
    return found


def due(
    conn: sqlite3.Connection, now: int, limit: int = 100, busy: Iterable[str] = ()
) -> list[Delivery]:
    """Pending entries due at ``now``, the oldest due first, skipping the notifiers in
    ``busy`` (those a sender is still delivering to: one slow receiver must not hold up the
    others, nor get a second connection from us)."""
    skip = list(busy)
    marks = ",".join("?" * len(skip))
    rows = conn.execute(
        "SELECT id, key, notifier, event, incident, payload, attempts FROM outbox"
        f" WHERE state = 'pending' AND due <= ? {f'AND notifier NOT IN ({marks})' if skip else ''}"
        " ORDER BY due, id LIMIT ?",
        [now, *skip, limit],
    )
    return [Delivery(*row) for row in rows]


def sent(conn: sqlite3.Connection, delivery_id: int, now: int) -> None:
    conn.execute(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, done = ?, last_error = NULL"
        " WHERE id = ?",
        (now, delivery_id),
    )


def failed(
    conn: sqlite3.Connection,
    delivery_id: int,
    now: int,
    detail: str,
    retry: bool = True,
    retry_after: float | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    jitter: Callable[[], float] = random.random,
) -> str:
    """Record a failed attempt; returns the entry's state after it (pending or dead)."""
    row = conn.execute("SELECT attempts FROM outbox WHERE id = ?", (delivery_id,)).fetchone()
    if row is None:
        return DEAD
    attempts = row[0] + 1
    if not retry or attempts >= max_attempts:
        conn.execute(
            "UPDATE outbox SET state = 'dead', attempts = ?, last_error = ?, done = ? WHERE id = ?",
            (attempts, detail, now, delivery_id),
        )
        return DEAD
    wait = backoff(attempts, jitter(), retry_after)
    conn.execute(
        "UPDATE outbox SET attempts = ?, last_error = ?, due = ? WHERE id = ?",
        (attempts, detail, now + int(wait * 1000), delivery_id),
    )
    return PENDING


def counts(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """(notifier, state) -> entries: for /metrics, ``uptimed status`` and the API."""
    return {
        (notifier, state): n
        for notifier, state, n in conn.execute(
            "SELECT notifier, state, count(*) FROM outbox GROUP BY notifier, state"
        )
    }
