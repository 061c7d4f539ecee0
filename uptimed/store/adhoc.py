"""Ad-hoc maintenance windows, stored in SQLite: added, listed and ended at run time.

The CLI (``uptimed maintenance``) and the API write here; a running daemon reads the table every
few seconds, so a new window takes effect without a restart. A window that starts in the past is
a retroactive exclusion (an outage the contract excuses): it needs a reason, and every report
lists it with who added it and when.

Ending a window that has not begun cancels it: its row stays (the audit trail: ``end`` equals
``start``, ``ended_early_at`` says when), but it excludes nothing and no list or report shows it.

A request for windows is validated here, once, for both front ends: :func:`maintenance_request`
takes the fields by the library's names (``monitor``, ``service``, ``for``, ``start``, ``end``,
``reason``, ``by``) and raises :class:`RequestError`, which names the field at fault so that the
CLI can say ``--for`` and the API ``'for'``. :func:`add_all` then writes one window per target in
one transaction. Report requests use the same error
(:func:`uptimed.service.window.resolve_window`).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from uptimed.core.times import iso, parse_duration, parse_time, quote, zone
from uptimed.errors import RequestError, escape
from uptimed.store import connect
from uptimed.store.schema import migrate

if TYPE_CHECKING:
    from uptimed.model.config import Config


_PLAIN = re.compile(r"[\w.:@/][\w.:@/-]*")  # an id shown as it is; anything else in quotes


def check_ids(field: str, asked: Iterable[str], known: Collection[str]) -> None:
    """RequestError naming the ids in ``asked`` that are not in ``known``, if any."""
    unknown = [a for a in asked if a not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        named = ", ".join(a if _PLAIN.fullmatch(a) else quote(a) for a in unknown)
        raise RequestError(
            field, f"{{{field}}}: no such id: {escape(named)} (known: {escape(listed)})"
        )


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

    @property
    def retroactive(self) -> bool:
        """It excludes time already recorded when it was added (see :func:`is_retroactive`)."""
        return is_retroactive(self.start, self.created_at, self.end)

    @property
    def cancelled(self) -> bool:
        """Ended before it began: it never excluded anything."""
        return self.end <= self.start


COLUMNS = "id, target_kind, target, start, end, reason, created_by, created_at, ended_early_at"
RETROACTIVE_SLACK = 60_000  # ms: a start a minute in the past is "now", not a retroactive exclusion
#: The fields of a request for maintenance windows (:func:`maintenance_request`).
MAINTENANCE_FIELDS = ("monitor", "service", "for", "start", "end", "reason", "by")
_EXAMPLES = {
    "for": ' (a duration, e.g. "30m")', "start": ' (a time, e.g. "2026-10-01T08:00:00Z")',
    "end": ' (a time, e.g. "2026-10-01T09:00:00Z")',
}  # fmt: skip


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


@dataclass(frozen=True)
class Request:
    """A valid request for maintenance: one window over ``[start, end)`` for each target."""

    #: (target_kind, id): monitors, then services, as asked, each once
    targets: tuple[tuple[str, str], ...]
    start: int
    end: int
    reason: str | None
    by: str


def maintenance_request(config: Config, fields: Mapping[str, Any], now: int, *, by: str) -> Request:
    """The one validation of a request for maintenance windows, the CLI's and the API's.

    ``fields`` by their names (:data:`MAINTENANCE_FIELDS`; absent or None: not given):
    ``monitor`` and ``service``, an id or a list of ids each (together at least one target, all
    of them known); ``for`` (a duration from ``now``) or ``start`` and ``end`` (times, a date
    being midnight UTC); ``reason`` (one line; blank is none), required for a window in the
    past; ``by`` (one line; blank or absent: the ``by`` argument). Raises :class:`RequestError`.
    """
    unknown = sorted(set(fields) - set(MAINTENANCE_FIELDS))
    if unknown:
        listed = ", ".join(f"{{{f}}}" for f in MAINTENANCE_FIELDS)
        named = escape(", ".join(quote(f) for f in unknown))
        raise RequestError(unknown[0], f"unknown field(s): {named} (known: {listed})")
    targets: dict[tuple[str, str], None] = {}  # ordered, each once
    for kind, known in (
        ("monitor", [m.id for m in config.monitors]),
        ("service", [s.id for s in config.services]),
    ):
        ids = _ids(kind, fields.get(kind))
        check_ids(kind, ids, known)
        targets.update(((kind, key), None) for key in ids)
    if not targets:
        raise RequestError(
            "monitor",
            "give at least one target: {monitor} or {service} (several of each if need be)",
        )
    duration, start_text, end_text = (_text(f, fields.get(f)) for f in ("for", "start", "end"))
    if duration is not None and (start_text is not None or end_text is not None):
        raise RequestError("for", "give {for}, or {start} and {end}, not both")
    if duration is not None:
        try:
            length = int(parse_duration(duration) * 1000)
        except ValueError as e:
            raise RequestError.of("for", e) from None
        if length < 1:
            raise RequestError(
                "for", f"{{for}}: {escape(duration)} is empty: a window must end after it starts"
            )
        start, end = now, now + length
    elif start_text is None and end_text is None:
        raise RequestError("for", "give {for} (a duration), or {start} and {end} (times)")
    elif start_text is None or end_text is None:
        raise RequestError(
            "start" if start_text is None else "end", "{start} and {end} go together"
        )
    else:
        start, end = field_time("start", start_text), field_time("end", end_text)
    reason = _line("reason", fields.get("reason"))
    check_window(start, end, reason, now)
    return Request(tuple(targets), start, end, reason, _line("by", fields.get("by")) or by)


def _ids(field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise RequestError(field, f"{{{field}}}: give an id or a list of ids (strings)")


def _text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestError(
            field, f"{{{field}}}: give text{_EXAMPLES.get(field, '')}, not {_kind(value)}"
        )
    if not value.strip():
        raise RequestError(field, f"{{{field}}}: empty (give a value or leave it out)")
    return value


def _kind(value: Any) -> str:
    """What a JSON value is, in a few words."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return escape(type(value).__name__)


def field_time(field: str, text: str, tz: Any = None) -> int:
    """A time field of a request (a date is midnight in ``tz``, UTC by default), in ms."""
    try:
        return parse_time(text, tz or zone("UTC"))
    except ValueError as e:
        raise RequestError.of(field, e) from None


def _line(field: str, value: Any) -> str | None:
    """One line of text, stripped; None for none or blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestError(field, f"{{{field}}}: give text, not {_kind(value)}")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise RequestError(
            field,
            f"{{{field}}}: one line of text, without control characters (a newline, a tab...)",
        )
    return value.strip() or None


def check_window(start: int, end: int, reason: str | None, now: int) -> None:
    """The rules of every window: it ends after it starts, not before 1970, and one in the
    past (:func:`is_retroactive`) says why (``reason``). Raises :class:`RequestError`."""
    if end <= start:
        raise RequestError(
            "end",
            f"{{end}} ({iso(end)}) is not after {{start}} ({iso(start)}):"
            " a window must end after it starts",
        )
    if start < 0:
        raise RequestError(
            "start",
            f"{{start}} ({iso(start)}) is before 1970: uptimed has recorded nothing earlier",
        )
    if is_retroactive(start, now, end) and not (reason and reason.strip()):
        raise RequestError(
            "reason", "a window that starts in the past excludes recorded time: give a {reason}"
        )


def add(
    conn: sqlite3.Connection,
    target_kind: str,
    target: str,
    start: int,
    end: int,
    reason: str | None,
    by: str,
    now: int,
) -> Window:
    """Add one window (checked by :func:`check_window`; the target is the caller's to check)."""
    check_window(start, end, reason, now)
    cur = conn.execute(
        "INSERT INTO maintenance (target_kind, target, start, end, reason, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (target_kind, target, start, end, reason, by, now),
    )
    return get(conn, int(cur.lastrowid or 0))


def add_all(conn: sqlite3.Connection, request: Request, now: int) -> list[Window]:
    """The windows of a :func:`maintenance_request`, one per target, in one transaction (a
    savepoint: inside the caller's transaction, or one of its own): all of them or none."""
    conn.execute("SAVEPOINT adhoc_add")
    try:
        out = [add(conn, kind, key, request.start, request.end, request.reason, request.by, now)
               for kind, key in request.targets]  # fmt: skip
    except BaseException:
        conn.execute("ROLLBACK TO adhoc_add")
        conn.execute("RELEASE adhoc_add")
        raise
    conn.execute("RELEASE adhoc_add")
    return out


def get(conn: sqlite3.Connection, window_id: int) -> Window:
    row = conn.execute(f"SELECT {COLUMNS} FROM maintenance WHERE id = ?", (window_id,)).fetchone()
    if row is None:
        raise LookupError(f"no maintenance window with id {window_id}")
    return Window(*row)


def windows(
    conn: sqlite3.Connection, since: int | None = None, *, cancelled: bool = False
) -> list[Window]:
    """Windows that end after ``since`` (all of them with None), oldest first; with
    ``cancelled``, only the cancelled ones (the audit trail) instead."""
    kept = "end <= start" if cancelled else "end > start AND end > ?"
    args = () if cancelled else (since if since is not None else -(2**62),)
    rows = conn.execute(f"SELECT {COLUMNS} FROM maintenance WHERE {kept} ORDER BY start, id", args)
    return [Window(*r) for r in rows]


def end(conn: sqlite3.Connection, window_id: int, now: int) -> Window:
    """End a window now. One that has not begun is cancelled: it ends where it starts.

    :raises LookupError: there is no window ``window_id``.
    :raises RequestError: it was cancelled, or it has ended (field ``id``)."""
    w = get(conn, window_id)
    if w.cancelled:
        raise RequestError(
            "id", f"maintenance window {window_id} was cancelled at {iso(w.ended_early_at)}"
        )
    if w.end <= now:
        raise RequestError("id", f"maintenance window {window_id} already ended at {iso(w.end)}")
    conn.execute(
        "UPDATE maintenance SET end = ?, ended_early_at = ? WHERE id = ?",
        (max(w.start, now), now, window_id),
    )
    return get(conn, window_id)


def active(conn: sqlite3.Connection, now: int) -> list[Window]:
    """The windows in force at ``now``."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM maintenance WHERE start <= ? AND end > ? ORDER BY id", (now, now)
    )
    return [Window(*r) for r in rows]
