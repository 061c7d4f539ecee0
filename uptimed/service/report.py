"""Reports from the database (read-only): the whole report, or the part a front end asks for.

Reports read the database only, so they work while the daemon runs and after it stopped. One
request is read in one snapshot (:func:`uptimed.service.history.one_snapshot`) over the time
its scope needs: its window, and each SLO's window and burn windows
(:func:`uptimed.service.window.data_range`). A part asked for alone (the API's ``/services``,
``/slos``, ``/incidents``) reads that same time and is computed as the whole report computes
it, so that it holds the same figures; nothing else of the report is computed. Every figure
comes from the pure engine, :mod:`uptimed.core.sla`; the values are those of
:mod:`uptimed.model.report`, exact until :mod:`uptimed.render` shows them.

Maintenance windows on a service cover the service and each of its member monitors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from uptimed.core import response
from uptimed.core.intervals import Interval, union
from uptimed.core.sla import Target
from uptimed.core.times import iso
from uptimed.model.config import Config, Policy
from uptimed.model.report import (
    Handling,
    Incident,
    MonitorReport,
    Report,
    ResponseReport,
    Scope,
    ServiceReport,
    SloReport,
    Window,
)
from uptimed.service import slos
from uptimed.service.history import History, one_snapshot
from uptimed.service.targets import Targets
from uptimed.service.window import data_range, slo_window
from uptimed.store import incidents as incident_table

#: The policy of the figures of monitors and services (an SLO has its own).
DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class TargetIncident:
    """An incident of a monitor or a service, for a list across targets."""

    target_kind: str  # "monitor" | "service"
    target: str
    incident: Incident


class ReportReader:
    """The parts of one report (monitors, services, SLOs, incidents), each computed when asked
    for, from one :class:`~uptimed.service.targets.Targets` over the time the whole report
    reads: what the API's ``/services``, ``/slos``, ``/incidents`` answer with. Use it inside
    :func:`~uptimed.service.history.one_snapshot` (or :func:`~uptimed.service.history.reading`),
    so that every part sees one database."""

    def __init__(
        self,
        conn: sqlite3.Connection | None,
        config: Config,
        scope: Scope,
        window: Window,
        now: int,
        *,
        targets: Callable[[int, int], Targets] | None = None,
    ):
        """``targets``: the timelines over ``[lo, hi)`` (the time the report reads) from
        elsewhere than ``conn`` (the fleet report's, :mod:`uptimed.service.fleet`); then
        ``conn`` may be None."""
        start, end = window.start, min(window.end, now)
        if end < start:
            raise ValueError(
                f"the report window [{iso(start)}, {iso(end)}) has not begun at {iso(now)}"
            )
        self.conn, self.config, self.scope, self.window, self.now = conn, config, scope, window, now
        self.span: Interval = (start, end)
        self.slo_windows = {s.id: slo_window(s, now, window) for s in scope.slos}
        lo, hi = data_range([self.span], self.slo_windows.values())
        if targets is None:
            assert conn is not None, "a report reads a database or is given its timelines"
            self.targets = Targets(History(conn, config, lo, hi, now))
        else:
            self.targets = targets(lo, hi)
        self.history = self.targets.history
        self._members_loaded = False
        self._slos: tuple[SloReport, ...] | None = None
        #: What each SLO's figures are over, per target (see :func:`uptimed.service.slos.shown`)
        self._slo_shown: list[dict[Target, list[Interval]]] = []

    def _load_members(self) -> None:
        """Read the rows of the scope's services' members at once: the timelines built for a
        service serve its members' figures too."""
        if not self._members_loaded:
            services = self.targets.services
            keys = [m for key in self.scope.services for m in services[key].monitors]
            self.targets.load(keys)
            self._members_loaded = True

    def services(self, *, incident_lists: bool = True) -> tuple[ServiceReport, ...]:
        self._load_members()
        out = []
        for key in self.scope.services:
            svc = self.targets.services[key]
            fig = self.targets.figures("service", key, self.span, incidents=incident_lists)
            out.append(ServiceReport(key, svc.name, svc.rule, svc.quorum, svc.monitors, fig))
        return tuple(out)

    def monitors(self, *, incident_lists: bool = True) -> tuple[MonitorReport, ...]:
        """With ``incident_lists=False`` the monitors not built already (for a service) are
        read from their day summaries (:meth:`~uptimed.service.targets.Targets.prepare`)."""
        if not incident_lists:
            self.targets.prepare(self.scope.monitors, self.span)
        out = []
        for key in self.scope.monitors:
            m = self.config.monitor(key)
            fig = self.targets.figures("monitor", key, self.span, incidents=incident_lists)
            out.append(MonitorReport(key, m.name if m else key, fig))
        return tuple(out)

    def slos(self) -> tuple[SloReport, ...]:
        if self._slos is None:
            self._load_members()
            out = []
            for s in self.scope.slos:
                item, mine = slos.report(s, self.targets, self.slo_windows[s.id])
                self._slo_shown.append(mine)
                out.append(item)
            self._slos = tuple(out)
        return self._slos

    def report(self, *, incident_lists: bool = True) -> Report:
        """The whole report (see :func:`build_report`)."""
        # Services first: their members' timelines, built for them, serve the monitors too.
        services = self.services(incident_lists=incident_lists)
        monitors = self.monitors(incident_lists=incident_lists)
        slo_reports = self.slos()
        start, end = self.span
        shown: dict[Target, list[Interval]] = {}
        for kind, keys in (("monitor", self.scope.monitors), ("service", self.scope.services)):
            for key in keys:
                shown[(kind, key)] = [self.span] if end > start else []
        for mine in self._slo_shown:
            for t, ivs in mine.items():
                shown[t] = union(shown.get(t, []), ivs)
        return Report(
            start=start,
            end=end,
            full_end=self.window.full_end,
            generated_at=self.now,
            timezone=self.window.tz_name,
            policy=DEFAULT_POLICY,
            config_sha256=self.config.sha256,
            config_versions=self.history.config_versions,
            exclusions=self.history.maintenance.exclusions(shown),
            monitors=monitors,
            services=services,
            slos=slo_reports,
            response=self.response(),
        )

    def response(self) -> ResponseReport | None:
        """How the incidents that began in the window were acknowledged and resolved, against
        ``[response]`` (see :mod:`uptimed.core.response`)."""
        if not self.config.response or self.conn is None:
            return None
        found = incident_table.began(self.conn, *self.span)
        if found is None:
            return None
        wanted = {("monitor", k) for k in self.scope.monitors}
        wanted |= {("service", k) for k in self.scope.services}
        groups: dict[str, int | None] = {}  # a grouped incident takes its group's ack
        for i in found:
            if i.group_id is not None and i.group_id not in groups:
                group = incident_table.get(self.conn, i.group_id)
                groups[i.group_id] = None if group is None else group.ack_at
        handled = [
            Handling(
                i.id,
                i.target_kind,
                i.target,
                i.severity,
                i.start,
                i.confirmed,
                _earliest(i.ack_at, groups.get(i.group_id) if i.group_id else None),
                i.resolved,
            )  # fmt: skip
            for i in found
            if i.target_key in wanted
        ]
        return response.evaluate(handled, self.config.response, self.now)

    def incidents(self) -> list[TargetIncident]:
        """The incidents of the scope's monitors and services over the window, oldest first."""
        services = self.services()
        monitors = self.monitors()
        out = [
            TargetIncident("monitor", m.id, i) for m in monitors for i in m.figures.incidents or ()
        ]
        out += [
            TargetIncident("service", s.id, i) for s in services for i in s.figures.incidents or ()
        ]
        out.sort(key=lambda x: x.incident[0])  # by start
        return out


def _earliest(*times: int | None) -> int | None:
    return min((t for t in times if t is not None), default=None)


def build_report(
    conn: sqlite3.Connection,
    config: Config,
    scope: Scope,
    window: Window,
    now: int,
    *,
    incident_lists: bool = True,
) -> Report:
    """The report over ``window`` (see :class:`~uptimed.model.report.Window`: monitors and
    services over its time, SLOs over theirs, see :func:`~uptimed.service.window.slo_window`).
    Time after ``now`` is in no figure.

    ``incident_lists=False`` leaves out the incident lists of monitors and services (their
    counts and statistics stay; SLOs keep theirs): what every format but JSON shows. It lets
    monitors be read from day summaries, which makes a report of thousands of them fast."""
    with one_snapshot(conn):  # one view of a database the daemon may be writing
        return ReportReader(conn, config, scope, window, now).report(incident_lists=incident_lists)
