"""The confirmed state as stored: ``timeline`` rows and each monitor's ``monitor_state`` (the
snapshot its state machine resumes from, with its last result).

A timeline row is keyed by ``(monitor, start)``: writing a segment again replaces it, which is
all that backdating needs (:mod:`uptimed.core.state`). Causes are error kinds' ids.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from uptimed.core.state import Segment, Snapshot

#: A snapshot with the monitor's last result (14 columns, the table's order).
_UPSERT_WITH_RESULT = "INSERT OR REPLACE INTO monitor_state VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"

#: A snapshot without a result: the state columns only, the last result's are left as they are.
_UPSERT_STATE = (
    "INSERT INTO monitor_state (monitor, state, streak, streak_start, last_ts, seg_start,"
    " seg_end, seg_state, floor, seg_cause, streak_cause) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT (monitor) DO UPDATE SET state = excluded.state, streak = excluded.streak,"
    " streak_start = excluded.streak_start, last_ts = excluded.last_ts,"
    " seg_start = excluded.seg_start, seg_end = excluded.seg_end,"
    " seg_state = excluded.seg_state, floor = excluded.floor, seg_cause = excluded.seg_cause,"
    " streak_cause = excluded.streak_cause"
)

_UPSERT_SEGMENT = "INSERT OR REPLACE INTO timeline VALUES (?,?,?,?,?)"


class StateWrites:
    """The timeline rows and snapshots of one batch: a segment written twice, or a monitor's
    snapshot, is written once, as it was last. ``causes``: error kind -> id."""

    __slots__ = ("causes", "segments", "snapshots", "states")

    def __init__(self, causes: dict[str, int]) -> None:
        self.causes = causes
        self.segments: dict[tuple[int, int], tuple[int, int, int, int, int | None]] = {}
        #: monitor -> its monitor_state row with a result (the table's 14 columns)
        self.snapshots: dict[int, tuple[Any, ...]] = {}
        #: monitor -> its state columns without a result (record_state)
        self.states: dict[int, tuple[Any, ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.segments or self.snapshots or self.states)

    def with_result(
        self,
        monitor: int,
        segments: list[Segment],
        snap: Snapshot,
        ok: bool,
        error_kind: int | None,
        error: str | None,
    ) -> None:
        """A result's timeline writes and its machine's snapshot after it."""
        self._segments(monitor, segments)
        state, causes = self._state(snap)
        self.snapshots[monitor] = (monitor, *state, ok, error_kind, error, *causes)

    def without_result(self, monitor: int, segments: list[Segment], snap: Snapshot) -> None:
        """Timeline writes and a snapshot without a new result (a result judged after it was
        recorded): merged with the monitor's last result if one came earlier in the batch,
        kept apart otherwise (its last result's columns are left as they are)."""
        self._segments(monitor, segments)
        state, causes = self._state(snap)
        old = self.snapshots.get(monitor)
        if old is not None:  # keep the last result's columns (last_ok, last_error_kind, last_error)
            self.snapshots[monitor] = (monitor, *state, *old[9:12], *causes)
        else:
            self.states[monitor] = (monitor, *state, *causes)

    def _segments(self, monitor: int, segments: list[Segment]) -> None:
        ek = self.causes
        rows = self.segments
        for seg in segments:  # later writes of the same segment replace earlier ones
            rows[(monitor, seg.start)] = (
                monitor, seg.start, seg.end, seg.state, ek.get(seg.cause or ""),
            )  # fmt: skip

    def _state(self, snap: Snapshot) -> tuple[tuple[Any, ...], tuple[int | None, int | None]]:
        """A snapshot's state columns, and its causes' (``seg_cause``, ``streak_cause``)."""
        ek = self.causes
        s = snap.segment
        state = (
            snap.state, snap.streak, snap.streak_start, snap.last_ts,
            s.start if s else None, s.end if s else None, s.state if s else None, snap.floor,
        )  # fmt: skip
        return state, (ek.get(s.cause or "") if s else None, ek.get(snap.streak_cause or ""))

    def write(self, conn: sqlite3.Connection) -> None:
        """Write them, inside the batch's transaction."""
        if self.states:  # before the results' snapshots: where both are, those came later
            conn.executemany(_UPSERT_STATE, self.states.values())
        conn.executemany(_UPSERT_SEGMENT, self.segments.values())
        conn.executemany(_UPSERT_WITH_RESULT, self.snapshots.values())


def load_snapshots(conn: sqlite3.Connection, causes: dict[int, str]) -> dict[int, Snapshot]:
    """Monitor id -> the snapshot its state machine resumes from (``causes``: id -> error kind)."""
    out = {}
    for row in conn.execute(
        "SELECT monitor, state, streak, streak_start, last_ts, seg_start, seg_end, seg_state,"
        " floor, seg_cause, streak_cause FROM monitor_state"
    ):
        seg = Segment(row[5], row[6], row[7], causes.get(row[9])) if row[5] is not None else None
        out[row[0]] = Snapshot(row[1], row[2], row[3], row[4], seg, row[8], causes.get(row[10]))
    return out
