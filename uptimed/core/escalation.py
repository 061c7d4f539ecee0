"""Escalation: which notifications of an incident are due, as a pure function of the incident's
times, its policy and the clock.

Nothing here reads a clock, a database or a socket, so the daemon, a restart and the tests all get
the same answer from the same three inputs; the caller writes what :func:`due` returns to its
outbox and drops the keys it has already sent. All times are epoch milliseconds; the policy's
durations are seconds (``after * 1000`` ms, rounded to the millisecond).

The rules (``stop`` is the earlier of the acknowledgement and the resolution, when either is set;
an instant ``t`` is *open* while there is no ``stop`` or ``t < stop``, so an acknowledgement or
a resolution exactly at a due instant wins and nothing is sent for that instant):

* **Levels.** Level ``i`` is due at ``start + levels[i].after`` if that instant is open. It goes
  to ``levels[i].notify`` (that level's own list; a later level usually repeats the earlier
  names). The first level sent (always level 0: ``after`` is increasing and an instant that is
  not open is followed by none that is) is ``incident.opened``, even if its ``after`` is more than
  0; the later ones are ``incident.escalated``.
* **Reminders** (``policy.repeat`` set). The n-th (n >= 1) is due at ``start + n * repeat`` if
  that instant is open, some level was reached strictly before it (a reminder to nobody is not
  sent) and no level falls on the same instant (that level's message says it). It goes to
  everyone told so far: the union of the levels reached, in first-named order. Only the
  **latest** due reminder is returned, never the backlog: a daemon restarted after a long stop
  sends one reminder, not fifty. Its key carries its ``n``, so the ones sent before stay
  deduplicated by key.
* **Acknowledged.** Due at the acknowledgement if some level was reached strictly before it and
  the incident was not resolved at or before it (a resolution says more; at the same instant
  only ``incident.resolved`` is sent). It goes to everyone told before the acknowledgement.
* **Resolved.** Due at the resolution if ``policy.notify_resolved`` and some level was reached
  strictly before it (before an earlier acknowledgement, since that stopped the levels). It goes
  to everyone told.

Every item's ``level`` is the highest level reached when it is sent; its ``notify`` names each
notifier once, in first-named order.

:func:`due` returns only items with ``at <= now``, each once, ordered by ``at`` then
``opened, escalated, reminder, acknowledged, resolved``. **Monotonic:** as long as an
acknowledgement or resolution, once known, is not dated before an earlier call's ``now``, a later
call returns a superset of the keys of an earlier one, except reminders (only the latest): the
caller drops keys it has already sent, and calling every time :func:`next_due` says (or more often)
sees every reminder. Times that make no sense (an acknowledgement or resolution before ``start``)
do not raise: the rules above simply send nothing that they do not allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from uptimed.model.config import EscalationPolicy

OPENED = "incident.opened"
ESCALATED = "incident.escalated"
REMINDER = "incident.reminder"
ACKNOWLEDGED = "incident.acknowledged"
RESOLVED = "incident.resolved"

#: The order of items that fall on the same instant.
EVENT_ORDER = (OPENED, ESCALATED, REMINDER, ACKNOWLEDGED, RESOLVED)
_RANK = {event: rank for rank, event in enumerate(EVENT_ORDER)}


@dataclass(frozen=True)
class IncidentTimes:
    """What escalation needs of an incident: its id and three instants (ms)."""

    key: str  # the incident's stable, non-sequential id (used in idempotency keys)
    #: When notifying may begin: the incident confirmed, or the end of the maintenance window or
    #: connectivity outage it began in (the caller decides).
    start: int
    acknowledged: int | None = None
    resolved: int | None = None


@dataclass(frozen=True)
class Due:
    """One notification that is due: what, to whom, since when, and the key that makes its
    delivery idempotent across retries and restarts."""

    event: str  # one of EVENT_ORDER
    level: int  # 0-based index of the highest level reached when it is sent
    notify: tuple[str, ...]  # notifier ids, each once, in first-named order
    at: int  # ms when it became due
    #: ``f"{incident}:{event}:{level}"``; the n-th reminder (n >= 1):
    #: ``f"{incident}:incident.reminder:{n}"``.
    key: str


def _stop(incident: IncidentTimes) -> int | None:
    """The first instant at which nothing more is sent by time alone."""
    times = [t for t in (incident.acknowledged, incident.resolved) if t is not None]
    return min(times) if times else None


def _open(t: int, stop: int | None) -> bool:
    return stop is None or t < stop


def _level_times(incident: IncidentTimes, policy: EscalationPolicy) -> list[int]:
    return [incident.start + round(level.after * 1000) for level in policy.levels]


def _period(policy: EscalationPolicy) -> int | None:
    """The reminder interval in ms; None: no reminders (a non-positive one would never end)."""
    if policy.repeat is None:
        return None
    period = round(policy.repeat * 1000)
    return period if period > 0 else None


def _union(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for group in groups for name in group))


def _reached(level_times: list[int], stop: int | None, before: int) -> int:
    """How many levels were sent strictly before ``before`` (they are a prefix)."""
    return sum(1 for t in level_times if t < before and _open(t, stop))


def _reminder_ok(r: int, level_times: list[int], stop: int | None) -> bool:
    return _open(r, stop) and r not in level_times and _reached(level_times, stop, r) > 0


def due(incident: IncidentTimes, policy: EscalationPolicy, now: int) -> list[Due]:
    """Every notification due at or before ``now`` (reminders: the latest only); see the module
    docstring for the rules. The caller drops the keys it has already sent."""
    stop = _stop(incident)
    times = _level_times(incident, policy)
    levels = policy.levels
    out: list[Due] = []

    def told(before: int) -> tuple[int, tuple[str, ...]] | None:
        n = _reached(times, stop, before)
        return (n - 1, _union(lv.notify for lv in levels[:n])) if n else None

    first = True
    for i, t in enumerate(times):
        if t <= now and _open(t, stop):
            event = OPENED if first else ESCALATED
            first = False
            notify = _union([levels[i].notify])
            out.append(Due(event, i, notify, t, f"{incident.key}:{event}:{i}"))

    period = _period(policy)
    if period is not None:
        last = now if stop is None else min(now, stop - 1)
        n = (last - incident.start) // period
        while n >= 1:
            r = incident.start + n * period
            if _reached(times, stop, r) == 0:
                break  # no earlier reminder has anyone to remind either
            if _reminder_ok(r, times, stop):
                level, notify = told(r) or (0, ())
                out.append(Due(REMINDER, level, notify, r, f"{incident.key}:{REMINDER}:{n}"))
                break
            n -= 1  # it fell on a level's instant: at most len(levels) of these

    ack, res = incident.acknowledged, incident.resolved
    if ack is not None and ack <= now and (res is None or res > ack):
        got = told(ack)
        if got is not None:
            level, notify = got
            out.append(
                Due(ACKNOWLEDGED, level, notify, ack, f"{incident.key}:{ACKNOWLEDGED}:{level}")
            )
    if res is not None and res <= now and policy.notify_resolved:
        got = told(res)
        if got is not None:
            level, notify = got
            out.append(Due(RESOLVED, level, notify, res, f"{incident.key}:{RESOLVED}:{level}"))

    out.sort(key=lambda d: (d.at, _RANK[d.event], d.level))
    return out


def next_due(incident: IncidentTimes, policy: EscalationPolicy, now: int) -> int | None:
    """The earliest instant after ``now`` at which :func:`due` returns something new: when the
    daemon should look again. None: nothing more becomes due by time alone (the incident is
    acknowledged or resolved, or no level or reminder remains); a new acknowledgement or
    resolution is an event the caller handles anyway. Times after ``now`` that are already set
    are honoured, so this is exact for any inputs."""
    stop = _stop(incident)
    times = _level_times(incident, policy)
    candidates = [t for t in times if t > now and _open(t, stop)]

    period = _period(policy)
    if period is not None and times:
        # The first reminder after now that also follows the first level. One that falls on a
        # level's instant is not sent, but that level is then a candidate at the same instant.
        n = max(1, (max(now, times[0]) - incident.start) // period + 1)
        r = incident.start + n * period
        if _reminder_ok(r, times, stop):
            candidates.append(r)

    ack, res = incident.acknowledged, incident.resolved
    if ack is not None and ack > now and (res is None or res > ack):
        if _reached(times, stop, ack):
            candidates.append(ack)
    if res is not None and res > now and policy.notify_resolved:
        if _reached(times, stop, res):
            candidates.append(res)
    return min(candidates) if candidates else None
