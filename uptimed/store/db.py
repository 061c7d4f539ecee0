"""SQLite connections, transactions, and the lock that keeps one daemon per database.

Connections are autocommit (``isolation_level=None``): transactions are explicit,
``BEGIN IMMEDIATE`` ... ``COMMIT`` (:class:`transaction`), so a writer takes SQLite's write lock
when it begins and never has to upgrade a read lock half-way (which can fail with "database is
locked" however long the busy timeout).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
import urllib.parse
from types import TracebackType

from uptimed.errors import DatabaseLocked, NoDatabase

#: How long a statement waits for another connection's write lock before it fails (ms).
BUSY_TIMEOUT_MS = 5000


def now_ms() -> int:
    """The wall clock in integer milliseconds since the epoch: how times are stored."""
    return int(time.time() * 1000)


def connect(path: str, *, readonly: bool = False, create: bool = True) -> sqlite3.Connection:
    """A connection to the database at ``path``: read-only (``readonly``), or read-write,
    creating the file only with ``create`` (the daemon). Raises :class:`NoDatabase` when the
    file must exist and does not."""
    if readonly or not create:
        try:
            os.stat(path)
        except FileNotFoundError:
            raise NoDatabase(path) from None
        except PermissionError:  # e.g. systemd's private state directory, for a non-root user
            raise NoDatabase(
                path, "permission denied: run this as root, or as the daemon's user"
            ) from None
        uri = f"file:{urllib.parse.quote(path)}?mode={'ro' if readonly else 'rw'}"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


class transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def rollback(conn: sqlite3.Connection) -> None:
    """End the transaction left open by a failure, if there is one."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def lock_path(database: str) -> str:
    """Named after the real path, so that a symlink to the database cannot dodge the lock."""
    return os.path.realpath(database) + ".lock"


def lock_holder(database: str) -> int | None:
    """The pid written in the database's lock file (None: no lock file, or unreadable). It is
    only a record: whether that process still holds the lock is for :func:`take_lock` to find."""
    try:
        with open(lock_path(database), encoding="ascii") as f:
            text = f.read(32).strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def take_lock(database: str) -> int:
    """An exclusive flock on ``<database>.lock``; returns its file descriptor, which holds it
    until it is closed or the process ends (a crash or ``kill -9`` releases it, so a stale file
    never blocks a restart). Raises :class:`DatabaseLocked` when another process holds it.

    The daemon takes it before anything else: the run journal's crash recovery closes open
    runs, which is only right when no other daemon is writing them. The file records the
    holder's pid, for the refusal message. A lock file and not SQLite's own locking: SQLite
    locks per transaction, and the CLI and the API's readers must keep working beside the
    daemon. The file stays after release: unlinking it would race with a daemon that has just
    opened it."""
    fd = os.open(lock_path(database), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseLocked(database, lock_holder(database)) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd
