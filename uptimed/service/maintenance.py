"""Ad-hoc maintenance windows for ``uptimed maintenance``: checked, then added, ended or listed
on the daemon's database.

A request is checked before the database is opened (a bad one touches nothing), by the one
validation the API shares (:func:`uptimed.store.adhoc.maintenance_request`). The database must
exist (:class:`~uptimed.errors.NoDatabase`): the command writes to the daemon's own file, which
a running daemon reads every few seconds, and never creates one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from uptimed.model.config import Config
from uptimed.store import adhoc
from uptimed.store.adhoc import Window


@contextmanager
def _database(config: Config) -> Iterator[sqlite3.Connection]:
    conn = adhoc.open_db(config.daemon.database)
    try:
        yield conn
    finally:
        conn.close()


def add(config: Config, fields: Mapping[str, Any], now: int, *, by: str) -> list[Window]:
    """One window per target of the request ``fields`` (all of them or none), added by ``by``
    unless the request says who. Raises :class:`~uptimed.errors.RequestError`."""
    request = adhoc.maintenance_request(config, fields, now, by=by)
    with _database(config) as conn:
        return adhoc.add_all(conn, request, now)


def end(config: Config, window_id: int, now: int) -> Window:
    """End a window now (cancel one not begun): see :func:`uptimed.store.adhoc.end`."""
    with _database(config) as conn:
        return adhoc.end(conn, window_id, now)


def windows(config: Config, now: int, *, everything: bool, cancelled: bool) -> list[Window]:
    """The windows that have not ended (``everything``: all of them), oldest first; with
    ``cancelled``, only those cancelled before they began (the audit trail)."""
    with _database(config) as conn:
        return adhoc.windows(conn, None if everything else now, cancelled=cancelled)
