"""The confirmed state of one monitor and its timeline: the pure core of availability.

The rules (docs/availability.md, sections 1 and 2):

* A probe at time ``t`` gives a verdict that holds from ``t`` until the next probe, but at most
  ``max_gap`` past ``t``. Time not covered by any verdict is unknown.
* The monitor goes DOWN after ``failure`` consecutive failures and back UP after ``success``
  consecutive successes. A confirmed outage is backdated to its **first** failed probe and ends at
  the **first** success of the run that confirms recovery. Failures that never reach the threshold
  are not downtime.
* With no verdict yet (a new monitor, or after more than ``max_gap`` without a probe) the
  monitor counts toward its threshold as if UP: its first success makes it UP at once, and
  failures confirm DOWN exactly as from UP.
* A result of error kind ``internal`` (:data:`probes.base.INTERNAL`: the probe failed because of
  a bug of ours or the daemon's own resources) is no verdict: :meth:`StateMachine.observe`
  ignores it, exactly as if that probe had not run. The last verdict holds until its
  ``max_gap`` runs out and the time after is unknown; a pending run neither grows nor breaks;
  the next real result carries on as it would have without the internal one in between.

:class:`StateMachine` applies these rules one probe at a time and says which timeline segments
to write. A segment is keyed by ``(monitor, start)``: writing a segment with an existing start
replaces it, which is all that backdating needs (a confirmed outage either shortens the open
segment or, when the outage starts where the segment starts, replaces it).

Times are integer milliseconds since the epoch. Nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from probes.base import INTERNAL

UP = 1
DOWN = 0
STATE_NAMES = {UP: "up", DOWN: "down", None: "unknown"}


@dataclass(frozen=True, slots=True)
class Thresholds:
    failure: int
    success: int
    max_gap_ms: int


@dataclass(frozen=True, slots=True)
class Segment:
    """``[start, end)`` in the confirmed ``state`` (UP or DOWN). A DOWN segment carries the
    ``cause`` of the outage: the error kind of its first failed probe."""

    start: int
    end: int
    state: int
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """The confirmed state changed. ``at`` is when the new state began (backdated to the first
    probe of the confirming run); ``confirmed_at`` is the probe that confirmed it."""

    at: int
    state: int
    previous: int | None
    confirmed_at: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a :class:`StateMachine` needs to resume where it stopped (stored per monitor)."""

    state: int | None = None
    streak: int = 0
    streak_start: int | None = None
    last_ts: int | None = None
    segment: Segment | None = None
    floor: int = 0
    streak_cause: str | None = None


class StateMachine:
    """The confirmed state of one monitor, fed one probe at a time by :meth:`observe`."""

    __slots__ = (
        "thresholds", "state", "streak", "streak_start", "streak_cause", "last_ts", "segment",
        "floor", "_forgotten",
    )  # fmt: skip

    def __init__(self, thresholds: Thresholds, snapshot: Snapshot | None = None):
        self.thresholds = thresholds
        s = snapshot or Snapshot()
        #: Confirmed state: UP, DOWN, or None while there is no verdict.
        self.state: int | None = s.state
        #: Consecutive probes that contradict the confirmed state (a pending run) and the first one.
        self.streak = s.streak
        self.streak_start = s.streak_start
        self.streak_cause = s.streak_cause  # the error kind of the run's first failure
        self.last_ts = s.last_ts
        #: The newest segment as last written; its end is ``last_ts + max_gap``.
        self.segment: Segment | None = s.segment
        #: Probes stamped before this are ignored (the wall clock was stepped back past them).
        self.floor = s.floor
        #: The segment dropped by forget(): the next segment must not start inside it.
        self._forgotten: Segment | None = None

    def snapshot(self) -> Snapshot:
        return Snapshot(
            self.state,
            self.streak,
            self.streak_start,
            self.last_ts,
            self.segment,
            self.floor,
            self.streak_cause,
        )

    def ignore_before(self, ts: int) -> None:
        """Ignore probes stamped before ``ts``: after the wall clock is stepped back, times up to
        where it had already been were counted once and must not be counted again."""
        self.floor = max(self.floor, ts)

    def forget(self) -> None:
        """Drop the verdict after time that was unknown for another reason than a gap (the
        daemon's own network was down): the next probe starts afresh, as for a new monitor.
        The dropped segment is cut only where the next one starts; when the unknown stretch is
        known, :meth:`interrupt` cuts it at the stretch's start instead (what the daemon does)."""
        self._forgotten = self.segment or self._forgotten
        self._drop_verdict()

    def interrupt(self, start: int, end: int) -> list[Segment]:
        """Time ``[start, end)`` was unknown for another reason than a gap (the daemon's own
        network was down: see :mod:`uptimed.daemon.connectivity`). The verdict is dropped, so that
        the next probe starts afresh, as for a new monitor; the open segment ends at ``start`` at
        the latest (returned, to be written), so that no row reaches across the stretch; and probes
        stamped before ``end`` are ignored from now on (one still in flight across the stretch
        must not start a segment that reaches into it).

        The caller must not have fed this machine any probe stamped in ``[start, end)``."""
        seg = self.segment
        writes = (
            [Segment(seg.start, start, seg.state, seg.cause)]
            if seg and seg.start < start < seg.end
            else []
        )
        self._drop_verdict()
        self._forgotten = None  # the open segment is cut above: nothing to reconcile later
        self.floor = max(self.floor, end)
        return writes

    def observe(
        self, ts: int, ok: bool, cause: str | None = None
    ) -> tuple[list[Segment], Transition | None]:
        """Apply one probe result (``cause``: its error kind when it failed). Returns the segments
        to write (upserts keyed by start) and the transition of the confirmed state, if any.
        An ``internal`` result changes nothing and writes nothing (see the module docstring)."""
        if ts < self.floor or cause == INTERNAL:
            return [], None
        old, self._forgotten = self._forgotten, None
        writes, transition = self._observe(ts, ok, cause)
        if old is not None and writes and old.end > writes[0].start > old.start:
            # The segment forget() dropped reaches past where the new one starts: end it there,
            # so that timeline rows never overlap (reports and day summaries rely on it).
            writes.insert(0, Segment(old.start, writes[0].start, old.state, old.cause))
        return writes, transition

    def _observe(
        self, ts: int, ok: bool, cause: str | None
    ) -> tuple[list[Segment], Transition | None]:
        th = self.thresholds
        if self.last_ts is not None:
            if ts < self.last_ts:
                ts = self.last_ts  # a small undetected clock step back: keep time monotonic
            elif ts - self.last_ts > th.max_gap_ms:
                # The last verdict expired: the segment already ends at last_ts + max_gap, and
                # what comes next starts afresh, as for a new monitor.
                self._drop_verdict()
        self.last_ts = ts
        end = ts + th.max_gap_ms
        effective = DOWN if self.state == DOWN else UP  # no verdict counts as UP

        contradicts = ok if effective == DOWN else not ok
        if not contradicts:
            self.streak = 0
            self.streak_start = None
            self.streak_cause = None
            seg = self._extend(ts, end, effective, cause)
            transition = None
            if self.state is None:  # the first success makes it UP at once
                # ... and UP since the segment began: failures before it were below threshold.
                transition = Transition(seg.start, UP, None, ts)
                self.state = UP
            return [seg], transition

        if self.streak == 0:
            self.streak_start = ts
            self.streak_cause = None if ok else cause
        self.streak += 1
        need = th.success if effective == DOWN else th.failure
        if self.streak < need:  # pending: the time stays in the current state
            return [self._extend(ts, end, effective, cause)], None

        # Confirmed: the new state starts at the first probe of the run.
        new_state = UP if effective == DOWN else DOWN
        at = self.streak_start if self.streak_start is not None else ts
        writes: list[Segment] = []
        last = self.segment
        if last is not None and last.start < at:
            writes.append(Segment(last.start, at, last.state, last.cause))
        # Otherwise the run began where the segment began: the new segment replaces it.
        self.segment = Segment(at, end, new_state, self.streak_cause if new_state == DOWN else None)
        writes.append(self.segment)
        transition = Transition(at, new_state, self.state, ts)
        self.state = new_state
        self.streak = 0
        self.streak_start = None
        self.streak_cause = None
        return writes, transition

    def _drop_verdict(self) -> None:
        """No verdict any more, nor a pending run: the next probe starts afresh."""
        self.state = None
        self.streak = 0
        self.streak_start = None
        self.streak_cause = None
        self.segment = None

    def _extend(self, ts: int, end: int, state: int, cause: str | None) -> Segment:
        seg = self.segment
        if seg is None or seg.state != state:  # after a gap: a new segment (a new outage if DOWN)
            seg = Segment(ts, end, state, cause if state == DOWN else None)
        else:
            seg = Segment(seg.start, end, state, seg.cause)
        self.segment = seg
        return seg
