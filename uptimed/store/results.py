"""The ``results`` table: a probe result as a row, and back.

One row per probe (schema m006)::

    monitor, ts, ok, duration_us, error_kind, error, phases, details

``phases`` and ``details`` hold what a result carries by name (:class:`probes.base.ProbeResult`),
whatever its kind, so that a new kind needs no migration: each is a BLOB of ``(id, value)``
pairs, the id from a name table (``phase_names``, ``detail_names``: :mod:`uptimed.store.names`),
or NULL when there is none. A phase's value is its duration in whole microseconds (truncated,
as ``duration_us``; never negative); a detail's is its integer.

The encoding (:func:`pack`, :func:`unpack`) is compact, as the table holds millions of rows:
each number is an unsigned LEB128 varint (7 bits a byte, the high bit set on all bytes but the
last; a detail is zigzag-mapped first, 0, -1, 1, -2 ... to 0, 1, 2, 3 ..., so that it may be
negative). Pairs keep the order the probe reported them in. Three HTTP phases take about ten
bytes, where the five columns of m001 took about as much for the same values. Changing the
encoding takes a migration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from probes import KINDS
from probes.base import ERROR_KINDS, ProbeResult
from uptimed.store.names import DETAIL_TABLE, ERROR_KIND_TABLE, PHASE_TABLE, Names, read_names

INSERT = "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

#: A row of ``results`` as the writer inserts it.
Row = tuple[int, int, bool, int, int | None, str | None, bytes | None, bytes | None]


def pack(pairs: Iterable[tuple[int, int]]) -> bytes:
    """``(id, value)`` pairs of non-negative integers as varints (see the module docstring)."""
    out = bytearray()
    for key, value in pairs:
        _put(out, key)
        _put(out, value)
    return bytes(out)


def unpack(blob: bytes) -> list[tuple[int, int]]:
    """The ``(id, value)`` pairs :func:`pack` wrote."""
    numbers = []
    n = shift = 0
    for byte in blob:
        n |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            numbers.append(n)
            n = shift = 0
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def zigzag(value: int) -> int:
    """A signed integer as a non-negative one: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ..."""
    return 2 * value if value >= 0 else -2 * value - 1


def unzigzag(n: int) -> int:
    return n >> 1 if not n & 1 else -(n >> 1) - 1


def _put(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


class ResultRows:
    """Probe results as rows of ``results``, with the ids of the name tables (a name seen for
    the first time gets its id at once, on the writer's connection). The writer thread's own:
    :meth:`load` before it starts."""

    __slots__ = ("details", "error_kinds", "phases")

    def __init__(self) -> None:
        self.error_kinds = Names(ERROR_KIND_TABLE)
        self.phases = Names(PHASE_TABLE)
        self.details = Names(DETAIL_TABLE)

    def load(self, conn: sqlite3.Connection) -> None:
        """Read the name tables, adding the names every kind declares."""
        self.error_kinds.load(conn, ERROR_KINDS)
        self.phases.load(conn, dict.fromkeys(p for k in KINDS.values() for p in k.phases))
        self.details.load(conn, dict.fromkeys(d for k in KINDS.values() for d in k.details))

    def row(
        self,
        conn: sqlite3.Connection,
        monitor: int,
        ts: int,
        r: ProbeResult,
        duration_us: int,
        error_kind: int | None,
    ) -> Row:
        """The row of one result (``duration_us`` and ``error_kind``'s id: the caller has them)."""
        phases = _encode(conn, self.phases, r.phases, True) if r.phases else None
        details = _encode(conn, self.details, r.details, False) if r.details else None
        return (monitor, ts, r.ok, duration_us, error_kind, r.error, phases, details)


def _encode(
    conn: sqlite3.Connection, names: Names, values: Mapping[str, float], seconds: bool
) -> bytes:
    """Named values as :func:`pack` writes them, with the ids of ``names`` (new names are
    added): seconds as whole microseconds (never negative), or integers zigzag-mapped. It runs
    for every probe, so the varints are written inline, into a list of ints (the fastest way
    in CPython: a third of the time of calls to :func:`_put` on a bytearray)."""
    ids = names.ids
    out: list[int] = []
    for name, value in values.items():
        key = ids.get(name)
        if key is None:
            key = names.add(conn, name)
        if seconds:
            n = int(value * 1e6)
            if n < 0:
                n = 0
        else:
            n = int(value)
            n = 2 * n if n >= 0 else -2 * n - 1  # zigzag
        while key > 0x7F:
            out.append((key & 0x7F) | 0x80)
            key >>= 7
        out.append(key)
        while n > 0x7F:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A row of ``results`` with its names: ``phases_us`` maps phase names to microseconds,
    ``details`` detail names to their values (each in the order the probe reported them)."""

    monitor: int
    ts: int
    ok: bool
    duration_us: int
    error_kind: str | None
    error: str | None
    phases_us: dict[str, int]
    details: dict[str, int]


class ResultReader:
    """Rows of ``results`` as :class:`StoredResult`, the names read once per reader."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.error_kinds = read_names(conn, ERROR_KIND_TABLE)
        self.phase_names = read_names(conn, PHASE_TABLE)
        self.detail_names = read_names(conn, DETAIL_TABLE)

    def between(self, monitor: int, start: int, end: int) -> list[StoredResult]:
        """The monitor's results stamped in ``[start, end)``, oldest first."""
        rows = self.conn.execute(
            "SELECT monitor, ts, ok, duration_us, error_kind, error, phases, details FROM results"
            " WHERE monitor = ? AND ts >= ? AND ts < ? ORDER BY ts",
            (monitor, start, end),
        )
        return [self.result(*row) for row in rows]

    def result(
        self,
        monitor: int,
        ts: int,
        ok: int,
        duration_us: int,
        error_kind: int | None,
        error: str | None,
        phases: bytes | None,
        details: bytes | None,
    ) -> StoredResult:
        """One row, its columns in the table's order."""
        return StoredResult(
            monitor,
            ts,
            bool(ok),
            duration_us,
            None if error_kind is None else self.error_kinds[error_kind],
            error,
            self.phases_us(phases),
            self.details_of(details),
        )

    def phases_us(self, blob: bytes | None) -> dict[str, int]:
        """A ``phases`` value: phase name -> microseconds."""
        names = self.phase_names
        return {names[key]: us for key, us in unpack(blob)} if blob else {}

    def details_of(self, blob: bytes | None) -> dict[str, int]:
        """A ``details`` value: detail name -> value."""
        names = self.detail_names
        return {names[key]: unzigzag(n) for key, n in unpack(blob)} if blob else {}
