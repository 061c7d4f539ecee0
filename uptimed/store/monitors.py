"""The ``monitors`` table: each monitor's integer id, which every other table uses.

A monitor is known by its id in the config (``key``); its integer id never changes, so that its
history stays its own across renames, kind changes and reloads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable

from uptimed.store.db import now_ms


def register(conn: sqlite3.Connection, monitors: Iterable[tuple[str, str, str]]) -> dict[str, int]:
    """Make sure each ``(key, kind, name)`` has a row (kind and name updated); returns
    key -> integer id. Run it inside a transaction."""
    monitors = list(monitors)
    t = now_ms()
    conn.executemany(
        "INSERT INTO monitors (key, kind, name, first_seen) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, name = excluded.name",
        [(key, kind, name, t) for key, kind, name in monitors],
    )
    wanted = {key for key, _, _ in monitors}
    return {key: mid for key, mid in conn.execute("SELECT key, id FROM monitors") if key in wanted}


def register_monitors(
    monitors: list[tuple[str, str, str]],
) -> Callable[[sqlite3.Connection], dict[str, int]]:
    """A function for :meth:`uptimed.store.Store.call` registering monitors from a running
    daemon (see :func:`register`)."""
    return lambda conn: register(conn, monitors)


def monitor_ids(conn: sqlite3.Connection) -> list[int]:
    """Every monitor's integer id."""
    return [mid for (mid,) in conn.execute("SELECT id FROM monitors")]
