"""Name tables: small integer ids for the names rows repeat (``error_kinds``, ``phase_names``,
``detail_names``), so that a row stores one or two bytes where the name would take ten.

Ids are the database's own: the same name has the same id in every row of one database, and
possibly another in another database. A name is never deleted, so an id never changes meaning.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

#: The name tables (each ``(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)``).
ERROR_KIND_TABLE = "error_kinds"
PHASE_TABLE = "phase_names"
DETAIL_TABLE = "detail_names"


class Names:
    """One name table as the writer sees it: name -> id, loaded once, extended when a name is
    first written (a phase a probe reports that its kind did not declare, say)."""

    __slots__ = ("ids", "table")

    def __init__(self, table: str) -> None:
        self.table = table
        self.ids: dict[str, int] = {}

    def load(self, conn: sqlite3.Connection, names: Iterable[str] = ()) -> None:
        """Add ``names`` to the table where they are missing, and read every id."""
        conn.executemany(
            f"INSERT OR IGNORE INTO {self.table} (name) VALUES (?)", [(n,) for n in names]
        )
        self.ids = dict(conn.execute(f"SELECT name, id FROM {self.table}"))

    def add(self, conn: sqlite3.Connection, name: str) -> int:
        """The id of ``name``, adding it to the table if it is new."""
        known = self.ids.get(name)
        if known is not None:
            return known
        conn.execute(f"INSERT OR IGNORE INTO {self.table} (name) VALUES (?)", (name,))
        (new,) = conn.execute(f"SELECT id FROM {self.table} WHERE name = ?", (name,)).fetchone()
        self.ids = {**self.ids, name: new}  # a new dict: readers of the old one see it whole
        return int(new)


def read_names(conn: sqlite3.Connection, table: str) -> dict[int, str]:
    """id -> name of one name table, for readers."""
    return dict(conn.execute(f"SELECT id, name FROM {table}"))
