"""The daemon's own connectivity: canary targets probed every few seconds.

While every canary fails, the problem is the monitoring box's own network, not the monitored
services: that time is recorded as **degraded** (table ``degraded``, with the run) and counts as
unknown for every monitor, and no result stamped in it feeds a state machine, so no outage is
confirmed, extended or started from it and no incident is opened. A broken uplink on the
monitoring box never charges a customer for an outage.

A degraded stretch starts at the last check where a canary still answered (the network may have
failed any time after it) and ends at the first check where one answers again: both are the
times the checks *started*. The whole stretch is unknown for every monitor. When it ends, every
verdict starts afresh, as for a new monitor, and no timeline row reaches across it: a segment
open before the stretch ends at the stretch's start at the latest
(:meth:`uptimed.core.state.StateMachine.interrupt`).

**Results wait for the next check.** Whether a result stamped at ``t`` lies in a degraded
stretch is only known once a check that *started after* ``t`` has completed: the network may
have broken just after the last good check, and the failing check that reveals it comes up to
one cadence later. So, with ``[daemon] connectivity_check`` set, each result is stored at once
(raw results, rollups and ``probe_*`` metrics are not delayed) but is held back from its state
machine (:class:`Holdback`) until the next check completes; then it is judged if that check and
the one before it were good, and dropped otherwise (it lies in a degraded stretch). A probe that
was in flight across a check is judged (or dropped) as soon as it completes. The confirmed
state (timeline, incidents, ``uptimed_monitor_up``, transitions in the log) therefore lags the
probe's start by at most one check cadence plus the checks' own durations: ``EVERY`` + 2 x
``TIMEOUT`` = 9 s at worst (a probe that starts just after a check starts waits for the whole
cadence; one that starts just before it, only for that check), about half a cadence on average.
Meanwhile ``uptimed_monitor_up`` keeps showing the last verdict (its ``max_gap`` is counted up to
the time results are cleared, not up to now) and shows none while the network is down. Without
``connectivity_check`` nothing is held and nothing is delayed.

Check *numbers* decide, not times: a probe notes the number of the last check started in the
same event-loop step as it stamps its start, so the order of stamps and checks is exact even if
the wall clock is stepped in between. Times only bound the stretches and the cuts.

At stop (SIGTERM), results still held are **dropped**, not judged as if the network were fine:
no check started after them will complete, so nothing says their time was not degraded, and
stops often come with network changes (a system shutdown takes the network down). The price is
at most one cadence of verdicts at the end of a run, which becomes unknown time; judging them
would instead let a broken uplink at the stop open incidents. The raw results are kept. A
stretch still open at the stop is closed there: verdicts are interrupted at its start, and the
next run starts afresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from probes import kind_of
from probes.base import ProbeContext, ProbeResult
from probes.http import HttpSpec
from probes.tcp import TcpSpec
from uptimed.core.redact import redact_url
from uptimed.core.times import iso
from uptimed.daemon.scheduler import every
from uptimed.store import Store

log = logging.getLogger("uptimed")

EVERY = 5.0  # seconds between checks
TIMEOUT = 2.0  # seconds per canary probe
VERDICT_DELAY = EVERY + 2 * TIMEOUT  # seconds: the longest a result waits for its check
KEEP = 720  # checks whose outcome is remembered (an hour): a result in flight longer is dropped

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Check(Generic[T]):
    """What one completed check decided (:meth:`Holdback.complete`).

    ``judge``: held results that may now feed their state machines, in the order they came;
    ``dropped``: how many held results were dropped (stamped in a degraded stretch). ``began``:
    a degraded stretch began with this check, at this time (the start of the last good check);
    ``ended``: one ended with it, ``(start, end)`` -- judge ``judge`` first, then interrupt
    every state machine over it. ``since``: the start of the stretch under way after this check,
    None when the network is fine."""

    ok: bool
    judge: list[T]
    dropped: int
    began: int | None
    ended: tuple[int, int] | None
    since: int | None


class Holdback(Generic[T]):
    """Which probe results may feed the state machines, from the outcomes of the connectivity
    checks: the pure part of this module (no clock, no I/O; times are only carried through).

    Checks are numbered in the order they start, one at a time (each starts after the previous
    one completed); number 0 stands for the start of the daemon, taken as a good check. A probe
    notes :attr:`started` (the number of the last check started before it) in the same step as
    it stamps its start, and hands its result to :meth:`add` with it. A result noted ``n`` was
    stamped between the starts of checks ``n`` and ``n + 1``, so it lies in a degraded stretch
    unless both were good (a stretch runs from the start of its last good check to the start of
    the first good one after it). It is held until check ``n + 1`` completes, then judged or
    dropped; if that check has already completed (the probe was in flight across it), the
    answer is immediate.

    Held results are kept by check number, so releasing them costs nothing per monitor, and
    results of one monitor (whose probes never overlap) come out in the order they went in."""

    __slots__ = ("_at", "_good_at", "_held", "_ok", "completed", "since", "started")

    def __init__(self, at: int) -> None:
        #: The number of the last check started / completed.
        self.started = 0
        self.completed = 0
        #: While degraded: the start of the stretch (the start of the last good check).
        self.since: int | None = None
        self._ok: dict[int, bool] = {0: True}
        self._held: dict[int, list[T]] = {}
        self._at = at  # the start of the latest check
        self._good_at = at  # the start of the latest good check

    @property
    def cleared(self) -> int | None:
        """The time up to which results are cleared (judged or dropped, but for probes still in
        flight): the start of the last good check; None while degraded."""
        return None if self.since is not None else self._good_at

    def begin(self, at: int) -> None:
        """A check starts at ``at``."""
        self.started = self.completed + 1
        self._at = at

    def add(self, seq: int, item: T) -> bool | None:
        """A result noted ``seq``: True to judge it now, False to drop it (it lies in a degraded
        stretch, or is older than the outcomes remembered), None if it is held."""
        if seq >= self.completed:  # check seq + 1 has not completed
            held = self._held.get(seq)
            if held is None:
                self._held[seq] = [item]
            else:
                held.append(item)
            return None
        return self._ok.get(seq, False) and self._ok.get(seq + 1, False)

    def complete(self, ok: bool) -> Check[T]:
        """The check begun last completed: ``ok`` if a canary answered."""
        n = self.completed = self.started
        self._ok[n] = ok
        self._ok.pop(n - KEEP, None)
        released = self._held.pop(n - 1, [])
        if ok and self._ok.get(n - 1, False):
            judge, dropped = released, 0
        else:
            judge, dropped = [], len(released)
        began = ended = None
        if ok:
            if self.since is not None:
                ended = (self.since, self._at)
                self.since = None
            self._good_at = self._at
        elif self.since is None:
            self.since = began = self._good_at
        return Check(ok, judge, dropped, began, ended, self.since)

    def close(self) -> int:
        """At stop: drop every held result (see the module's docstring); returns how many.
        :attr:`since` still says whether a stretch is under way."""
        dropped = sum(map(len, self._held.values()))
        self._held.clear()
        return dropped


def canary_spec(target: str) -> HttpSpec | TcpSpec:
    """``tcp://host:port`` or an http(s) URL (validated by the config loader); probed by the
    kind of its spec (:func:`probes.kind_of`)."""
    if target.startswith("tcp://"):
        parts = urlsplit(target)
        return TcpSpec(parts.hostname or "", parts.port or 0, TIMEOUT)
    return HttpSpec(target, TIMEOUT)


class Connectivity(Generic[T]):
    """The check loop: probes the canaries every ``EVERY`` seconds, tells ``gate`` (shared with
    the runner, which notes its check numbers and adds results to it) and records degraded time;
    ``on_check`` gets every check's :class:`Check`, at once, to apply it."""

    def __init__(
        self,
        canaries: tuple[str, ...],
        ctx: ProbeContext,
        store: Store,
        gate: Holdback[T],
        on_check: Callable[[Check[T]], None],
    ):
        self.canaries = canaries
        self.specs = [canary_spec(c) for c in canaries]
        self.probes = [kind_of(spec).probe for spec in self.specs]
        self.ctx = ctx
        self.store = store
        self.gate = gate
        self.on_check = on_check

    async def run(self) -> None:
        """Check every EVERY seconds: a loop that died would hold every result back for good."""
        await every(EVERY, self.check, "connectivity: check failed")

    async def check(self) -> None:
        now = self.store.now_ms()
        self.gate.begin(now)  # in the same step as the stamp: probes started from now on note it
        # A canary probe that raises (a bug: probes return failures) counts as failed. Cancelled
        # (at stop), the check never completes: the next one begins afresh.
        results = await asyncio.gather(
            *(probe(spec, self.ctx) for probe, spec in zip(self.probes, self.specs, strict=True)),
            return_exceptions=True,
        )
        check = self.gate.complete(any(isinstance(r, ProbeResult) and r.ok for r in results))
        self.on_check(check)
        if check.ended is not None:
            start, end = check.ended
            self.store.record_degraded(start, end)
            log.warning(
                "connectivity: a canary answers again; degraded from %s for %.0fs",
                iso(start), (end - start) / 1000,
            )  # fmt: skip
        elif check.began is not None:
            failures = ", ".join(
                f"{redact_url(c)}: {r.error_kind if isinstance(r, ProbeResult) else repr(r)}"
                for c, r in zip(self.canaries, results, strict=True)
            )
            log.warning(
                "connectivity: every canary fails (%s): this machine's network is down; time"
                " from %s is unknown for every monitor and no incidents are opened",
                failures, iso(check.began),
            )  # fmt: skip
        if check.since is not None:
            self.store.record_degraded(check.since, now)
