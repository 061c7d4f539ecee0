"""The pager's pass: find the report's incidents, record them, and write the notifications that
are due to the outbox, in one transaction.

**Incidents are the report's own.** A pass reads the report's incidents
(:meth:`uptimed.service.report.ReportReader.incidents`) of the targets that may have one (those
down now, those that changed state since the last pass, and those with an incident still open)
over the time since the last pass, and keys each one by where it begins. So an incident starts
where the SLA counts its downtime (backdated to the first failure), one outage is one incident
across restarts, an outage wholly inside maintenance or unknown time (the daemon's own network
down) is none, and one that began in maintenance becomes one, and pages, when the window ends
while it is still down.

**Who is told, and when,** is :func:`uptimed.core.escalation.due` of the incident's times (paging
began, acknowledged, resolved), its target's policy and the clock. Each item goes to the outbox
once per notifier, under the idempotency key ``"{incident}:{event}:{level}:{notifier}"``
(``INSERT OR IGNORE``): a second pass, or a pass after a restart, writes nothing twice. The pass
runs on the writer's connection (:meth:`uptimed.store.Store.call`), inside the batch that holds
the state change it follows, so a crash either keeps both or neither.

**Quiet when it should be.**

* While a target is in maintenance its incidents neither escalate nor remind (their end is
  still told).
* *Flapping:* when a new incident makes more than ``flap_changes`` state changes of its target
  within ``flap_window``, one ``monitor.flapping`` goes to the policy's first level, and the
  target's new incidents stay quiet for ``flap_quiet``; one still open when that ends pages then.
* *Grouping:* with ``group = true`` on a service's policy, a member's incident that opens while
  the service has one open is grouped under it and does not page; if the service recovers first,
  the member's incident pages then.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from uptimed.core.escalation import (
    ESCALATED,
    OPENED,
    REMINDER,
    RESOLVED,
    IncidentTimes,
    due,
    next_due,
)
from uptimed.model.config import Config, DaemonConfig, EscalationPolicy, Monitor, Service
from uptimed.model.report import Scope, Window
from uptimed.notify.message import FLAPPING, Notification
from uptimed.service.report import ReportReader
from uptimed.store import incidents as table
from uptimed.store import outbox
from uptimed.store.incidents import FLAPPING as QUIET_FLAPPING
from uptimed.store.incidents import GROUPED, Incident

Target = tuple[str, str]  # (target kind, config id)

#: The events that page someone (the others go to those they paged).
PAGES = (OPENED, ESCALATED, REMINDER)

#: How long after its resolution an incident is still planned (its last items are written at
#: the pass that sees the resolution; this only bounds the work after a long stop).
KEEP_PLANNING_MS = 86_400_000


@dataclass(frozen=True)
class Seen:
    """One of the report's incidents, as a pass found it."""

    target_kind: str
    target: str
    start: int
    end: int | None  # None: ongoing
    cause_kind: str | None
    after: str | None = None  # what the target was when it ended: "up" | "unknown"


@dataclass(frozen=True)
class PassResult:
    enqueued: int  # outbox entries written
    opened: tuple[Incident, ...]  # incidents first seen in this pass
    unresolved: tuple[Incident, ...]  # every incident still open after it
    wake_at: int | None  # ms: when a pass next has something due by time alone
    resolved: tuple[Incident, ...] = ()  # incidents open before this pass that it resolved


@dataclass(frozen=True)
class Links:
    """Where a message's links point: ``report`` is a format string with ``{id}``."""

    report: str | None = None
    dashboard: str | None = None


NO_LINKS = Links()


def links(daemon: DaemonConfig) -> Links:
    """Where the links in messages point, from ``[daemon] public_url`` and ``dashboard_url``."""
    report = None if daemon.public_url is None else daemon.public_url + "/api/v1/incidents/{id}"
    return Links(report, daemon.dashboard_url)


def find(
    conn: sqlite3.Connection, config: Config, targets: Collection[Target], since: int, now: int
) -> list[Seen]:
    """The report's incidents of ``targets`` over ``[since, now)``."""
    monitors = tuple(m.id for m in config.monitors if ("monitor", m.id) in targets)
    services = tuple(s.id for s in config.services if ("service", s.id) in targets)
    if not monitors and not services or now <= since:
        return []
    reader = ReportReader(conn, config, Scope(monitors, services, ()), Window(since, now), now)
    out = []
    for t in reader.incidents():
        start, end, _, _, cause_kind = t.incident
        after = None
        if end is not None:  # ended by a success, or by time with no verdict (unknown)
            up = reader.targets.timeline(t.target_kind, t.target)[0].up
            after = "up" if any(a <= end < b for a, b in up) else "unknown"
        out.append(Seen(t.target_kind, t.target, start, end, cause_kind, after))
    return out


def _first_error(conn: sqlite3.Connection, monitor: str, start: int) -> str | None:
    """The message of the monitor's first failure at or after ``start`` (already scrubbed)."""
    row = conn.execute(
        "SELECT r.error FROM results r JOIN monitors m ON m.id = r.monitor"
        " WHERE m.key = ? AND r.ts >= ? AND r.ok = 0 ORDER BY r.ts LIMIT 1",
        (monitor, start),
    ).fetchone()
    return None if row is None else row[0]


class _Pass:
    """The state of one pass (see :func:`run_pass`)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        config: Config,
        now: int,
        links: Links,
        in_maintenance: Collection[Target],
    ) -> None:
        self.conn, self.config, self.now, self.links = conn, config, now, links
        self.in_maintenance = in_maintenance
        self.policies = {p.id: p for p in config.escalations}
        self.notifiers = {n.id for n in config.notifiers}
        self.monitors: dict[str, Monitor] = {m.id: m for m in config.monitors}
        self.services: dict[str, Service] = {s.id: s for s in config.services}
        self.entries: list[outbox.Entry] = []
        #: keys already in the outbox: their payloads are not built again
        self.sent: set[str] = set()
        #: incident id -> the notifiers paged about it (opened, escalated, reminded) so far:
        #: those who hear of its acknowledgement and its end
        self.told: dict[str, set[str]] = {}
        #: incident id -> what its target was when it ended ("up" | "unknown")
        self.after: dict[str, str] = {}

    def load_sent(self, incidents: Iterable[str]) -> None:
        """What the outbox holds of ``incidents`` already."""
        for inc_id, sent in table.notifications(self.conn, incidents).items():
            self.sent.update(n.key for n in sent)
            self.told[inc_id] = {n.notifier for n in sent if n.event in PAGES}

    def target_config(self, target: Target) -> Monitor | Service | None:
        kind, key = target
        return self.monitors.get(key) if kind == "monitor" else self.services.get(key)

    def policy(self, incident: Incident) -> EscalationPolicy | None:
        return None if incident.escalation is None else self.policies.get(incident.escalation)

    # -- opening ---------------------------------------------------------------------------

    def open(self, seen: Seen, confirmed: int, open_services: Mapping[str, Incident]) -> Incident:
        target = (seen.target_kind, seen.target)
        cfg = self.target_config(target)
        assert cfg is not None  # find() reads configured targets only
        monitor = seen.target_kind == "monitor"
        cause = _first_error(self.conn, seen.target, seen.start) if monitor else None
        inc = Incident(
            id=table.new_id(),
            target_kind=seen.target_kind,
            target=seen.target,
            start=seen.start,
            confirmed=max(seen.start, min(confirmed, self.now)),
            severity=cfg.severity,
            escalation=cfg.escalation,
            cause_kind=seen.cause_kind,
            cause=cause,
            resolved=seen.end,
        )
        group = self._group_of(seen, open_services)
        table.insert(self.conn, inc)  # first: the flapping count includes this change
        if group is not None:
            inc = replace(inc, quiet=GROUPED, group_id=group.id)
        elif self._flapping(inc):
            inc = replace(inc, quiet=QUIET_FLAPPING)
        else:
            inc = replace(inc, notify_from=self.now)
        table.save(self.conn, inc)
        return inc

    def _group_of(self, seen: Seen, open_services: Mapping[str, Incident]) -> Incident | None:
        if seen.target_kind != "monitor":
            return None
        for s in self.config.services:
            inc = open_services.get(s.id)
            policy = None if s.escalation is None else self.policies.get(s.escalation)
            if inc is not None and policy is not None and policy.group:
                if seen.target in s.monitors:
                    return inc
        return None

    def _flapping(self, inc: Incident) -> bool:
        """Whether ``inc`` opens quiet because its target flaps (sending ``monitor.flapping``
        when a quiet period begins)."""
        policy = self.policy(inc)
        if policy is None:
            return False
        target = inc.target_key
        until = table.quiet_until(self.conn, target)
        if until is not None and until > self.now:
            return True
        window = round(policy.flap_window * 1000)
        if table.changes(self.conn, target, self.now - window) <= policy.flap_changes:
            return False
        table.set_quiet(self.conn, target, self.now + round(policy.flap_quiet * 1000))
        key = f"{inc.target_kind}:{inc.target}:{FLAPPING}:{self.now}"
        self._enqueue(inc, FLAPPING, 0, policy.levels[0].notify, key)
        return True

    # -- changes to known incidents --------------------------------------------------------

    def wake_quiet(self, inc: Incident, by_id: Mapping[str, Incident]) -> Incident:
        """An open quiet incident pages once the reason for its quiet is over."""
        if inc.resolved is not None or inc.quiet is None:
            return inc
        if inc.quiet == GROUPED:
            group = by_id.get(inc.group_id or "")
            if group is not None and group.resolved is None:
                return inc
        else:
            until = table.quiet_until(self.conn, inc.target_key)
            if until is not None and until > self.now:
                return inc
        return replace(inc, quiet=None, notify_from=self.now)

    # -- planning --------------------------------------------------------------------------

    def plan(self, inc: Incident) -> tuple[Incident, int | None]:
        """Write the incident's due items to the outbox; returns it with its level reached, and
        when it next has something due."""
        policy = self.policy(inc)
        if policy is None or inc.notify_from is None:
            return inc, None
        times = IncidentTimes(inc.id, inc.notify_from, inc.ack_at, inc.resolved)
        items = due(times, policy, self.now)
        held = inc.target_key in self.in_maintenance and inc.resolved is None
        stopped = inc.ack_at is not None or inc.resolved is not None
        if held or stopped:
            # Neither escalate nor remind during maintenance: what fell due in it is sent after,
            # unless the incident was acknowledged or resolved by then (nobody is paged about
            # what is over). Those already written stay written.
            items = [d for d in items if d.event not in (ESCALATED, REMINDER)]
        level = inc.level
        told = self.told.setdefault(inc.id, set())
        for d in items:
            if d.event in (OPENED, ESCALATED):
                level = d.level if level is None else max(level, d.level)
            if d.event in PAGES:
                told.update(n for n in d.notify if n in self.notifiers)
                self._enqueue(inc, d.event, d.level, d.notify, d.key)
            elif level is not None:  # acknowledged, resolved: to those told, at the level reached
                notify = [n for n in d.notify if n in told]
                self._enqueue(inc, d.event, level, notify, f"{inc.id}:{d.event}:{level}")
        return replace(inc, level=level), next_due(times, policy, self.now)

    def _enqueue(
        self, inc: Incident, event: str, level: int, notify: Iterable[str], key: str
    ) -> None:
        for notifier in notify:
            if notifier not in self.notifiers:
                continue  # removed from the config since: nobody to send it to
            full = f"{key}:{notifier}"
            if full in self.sent:
                continue
            n = notification(inc, event, level, full, self.links, self.after.get(inc.id, "up"))
            payload = json.dumps(dataclasses.asdict(n), separators=(",", ":"))
            self.entries.append(outbox.Entry(full, notifier, event, inc.id, payload, self.now))


def notification(
    inc: Incident, event: str, level: int, key: str, links: Links, after: str = "up"
) -> Notification:
    """The message of ``event`` about ``inc`` (``after``: what its target was when it ended)."""
    return Notification(
        event=event,
        idempotency_key=key,
        level=level,
        incident_id=inc.id,
        target=inc.target,
        target_kind=inc.target_kind,
        severity=inc.severity,
        state=after if event == RESOLVED else "down",
        started=inc.start,
        confirmed=inc.confirmed,
        resolved=inc.resolved if event == RESOLVED else None,
        acknowledged_by=inc.ack_by,
        cause_kind=inc.cause_kind,
        cause=inc.cause,
        report_url=None if links.report is None else links.report.format(id=inc.id),
        dashboard_url=links.dashboard,
    )


def run_pass(
    conn: sqlite3.Connection,
    config: Config,
    targets: Collection[Target],
    now: int,
    *,
    confirmed: Mapping[Target, int] | None = None,
    in_maintenance: Collection[Target] = (),
    links: Links = NO_LINKS,
    lookback_ms: int = 7 * 86_400_000,
) -> PassResult:
    """One pass of the pager at ``now`` over ``targets`` (and every target with an incident
    still open), inside the caller's transaction. ``confirmed``: when the daemon confirmed
    each target's current outage, where it knows (else the pass's ``now`` stands)."""
    p = _Pass(conn, config, now, links, in_maintenance)
    known = table.active(conn, now - KEEP_PLANNING_MS)
    synced = table.synced(conn)
    # The first pass ever (a new database, or one from before incidents) takes the outages under
    # way only: the history before it is the report's, not news to page about.
    since = now - 1000 if synced is None else max(min(synced, now - 1000), now - lookback_ms)
    open_rows = [i for i in known if i.resolved is None]
    for i in open_rows:
        since = min(since, i.start)
    wanted = set(targets) | {i.target_key for i in open_rows}
    seen = find(conn, config, wanted, since, now) if wanted else []

    by_key = {(i.target_kind, i.target, i.start): i for i in known}
    by_id = {i.id: i for i in known}
    opened: list[Incident] = []
    found_keys = set()
    # Services first: a member's incident found in the same pass may be grouped under one.
    seen.sort(key=lambda s: (s.target_kind != "service", s.start))
    open_services = {i.target: i for i in open_rows if i.target_kind == "service"}
    for s in seen:
        k = (s.target_kind, s.target, s.start)
        found_keys.add(k)
        inc = by_key.get(k)
        if inc is None:
            if synced is None and s.end is not None:
                continue  # ended before the first pass: history, not news
            if inc := _existing(conn, k):  # resolved long ago, read again after a long stop
                continue
            inc = p.open(s, (confirmed or {}).get((s.target_kind, s.target), now), open_services)
            opened.append(inc)
        elif inc.resolved is None and s.end is not None:
            inc = replace(inc, resolved=s.end)
            table.save(conn, inc)  # now: a flapping count later in this pass sees the change
        if s.after is not None:
            p.after[inc.id] = s.after
        by_key[k] = by_id[inc.id] = inc
        if inc.target_kind == "service":
            if inc.resolved is None:
                open_services[inc.target] = inc
            else:
                open_services.pop(inc.target, None)
    for i in open_rows:  # gone from the report: the target left the config, or its rows
        k = (i.target_kind, i.target, i.start)
        if k not in found_keys and by_key[k].resolved is None:
            by_key[k] = by_id[i.id] = replace(i, resolved=now)
            p.after[i.id] = "unknown"

    p.load_sent(by_id)
    wake: list[int] = []
    originals = {i.id: i for i in known}
    still_open = []
    for inc in list(by_id.values()):
        inc = p.wake_quiet(inc, by_id)
        inc, at = p.plan(inc)
        if at is not None:
            wake.append(at)
        if inc != originals.get(inc.id):
            table.save(conn, inc)
        if inc.resolved is None:
            still_open.append(inc)
    if any(i.quiet == QUIET_FLAPPING for i in still_open):
        wake += [u for i in still_open if (u := table.quiet_until(conn, i.target_key))]
    enqueued = outbox.enqueue(conn, p.entries, now)
    table.set_synced(conn, now)
    ended = tuple(by_id[i.id] for i in open_rows if by_id[i.id].resolved is not None)
    return PassResult(
        enqueued, tuple(opened), tuple(still_open), min(wake) if wake else None, ended
    )


def _existing(conn: sqlite3.Connection, key: tuple[str, str, int]) -> Incident | None:
    row = conn.execute(
        "SELECT id FROM incidents WHERE target_kind = ? AND target = ? AND start = ?", key
    ).fetchone()
    return None if row is None else table.get(conn, row[0])


def acknowledge(
    conn: sqlite3.Connection,
    config: Config,
    incident_id: str,
    by: str,
    note: str | None,
    now: int,
    links: Links = NO_LINKS,
) -> Incident:
    """Acknowledge an incident and write its ``incident.acknowledged`` items to the outbox, in
    the caller's transaction (the API's, through the writer; the CLI's, on its own
    connection). Raises LookupError (no such incident) or ValueError (acknowledged already)."""
    inc = table.acknowledge(conn, incident_id, by, now, note)
    p = _Pass(conn, config, now, links, ())
    p.load_sent([inc.id])
    inc, _ = p.plan(inc)
    table.save(conn, inc)
    outbox.enqueue(conn, p.entries, now)
    return inc
