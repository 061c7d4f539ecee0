"""Build an SLA report: read the database (read-only), apply the engine, return the JSON shape.

This module does the reading and the bookkeeping (which monitors, which maintenance, which
windows); every figure comes from the pure engine in :mod:`uptimed.core.sla`. Reports read the
database only, so they work while the daemon runs and after it stopped.

Maintenance windows on a service cover the service and each of its member monitors.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from uptimed.core import sla
from uptimed.core.intervals import Interval, clip, normalize, subtract, union
from uptimed.core.recurrence import expand, service_hours_outside
from uptimed.core.times import (
    PERIODS,
    calendar_period,
    format_duration,
    iso,
    parse_duration,
    to_ms,
    zone,
)
from uptimed.model.config import SLO, Config, Policy
from uptimed.store import adhoc
from uptimed.store.adhoc import RequestError, check_ids, escape, field_time

BURN_WINDOWS: dict[str, int] = {
    "5m": 300_000, "30m": 1_800_000, "1h": 3_600_000, "2h": 7_200_000,
    "6h": 21_600_000, "24h": 86_400_000, "3d": 259_200_000,
}  # fmt: skip
DEFAULT_POLICY = Policy()
DEFAULT_SLO_WINDOW = 30 * 86_400_000  # an SLO with neither a window nor a period
# Reports start in 1970 at the earliest: no daemon recorded anything before, and time zones,
# recurring windows and service hours near year 1 fall off the calendar.
EARLIEST = 0
NOTHING_EARLIER = "uptimed has recorded nothing earlier (give a time from 1970 on)"


@dataclass(frozen=True)
class Scope:
    monitors: tuple[str, ...]
    services: tuple[str, ...]
    slos: tuple[SLO, ...]


def resolve_scope(
    config: Config,
    monitors: Sequence[str] = (),
    services: Sequence[str] = (),
    slos: Sequence[str] = (),
) -> Scope:
    """What a report covers. No filter: everything. A service brings its member monitors, an SLO
    its target. Unknown ids raise :class:`~uptimed.store.adhoc.RequestError` naming them (fields
    ``monitor``, ``service``, ``slo``)."""
    mon_ids = {m.id: m for m in config.monitors}  # dicts: ordered, and fast to look up
    svc = {s.id: s for s in config.services}
    slo = {s.id: s for s in config.slos}
    for field, asked, known in (
        ("monitor", monitors, mon_ids),
        ("service", services, svc),
        ("slo", slos, slo),
    ):
        check_ids(field, asked, known)
    if not (monitors or services or slos):
        return Scope(tuple(mon_ids), tuple(svc), tuple(config.slos))
    want_m, want_s = set(monitors), set(services)
    chosen = [slo[i] for i in slos]
    for s in chosen:
        (want_s if s.target in svc else want_m).add(s.target)
    for s in list(want_s):
        want_m.update(svc[s].monitors)
    asked = set(monitors) | set(services)
    chosen += [s for s in config.slos if s not in chosen and s.target in asked]
    return Scope(
        tuple(m for m in mon_ids if m in want_m),
        tuple(s for s in svc if s in want_s),
        tuple(chosen),
    )


@dataclass(frozen=True)
class Window:
    """What a report covers: monitors and services over ``[start, end)``, which ends at now at
    the latest; ``requested_end`` is where the window or period asked for ends (later than
    ``end`` while it is under way: the report is "to date"). SLOs are evaluated, with ``period``
    (kind, at), over that calendar period in each SLO's own time zone; with ``own``, over their
    own window or period (what /metrics shows: the report's default); otherwise over this
    window."""

    start: int
    end: int
    tz_name: str = "UTC"
    period: tuple[str, str | None] | None = None
    own: bool = False
    requested_end: int | None = None

    @property
    def full_end(self) -> int:
        return self.end if self.requested_end is None else self.requested_end


def resolve_window(
    now: int,
    *,
    start: str | None = None,
    end: str | None = None,
    period: str | None = None,
    at: str | None = None,
    window: str | None = None,
    timezone: str | None = None,
) -> Window:
    """The report window from the CLI's or the API's parameters, by the names they share
    (``from``, ``to``, ``period``, ``at``, ``window``, ``timezone``; errors are
    :class:`~uptimed.store.adhoc.RequestError` naming them): ``from``/``to``, or ``period``
    [``at``], or ``window`` (default 30d, with each SLO over its own window). Time after
    ``now`` is never part of it: a window that has not begun is an error, one under way ends at
    ``now``."""
    try:
        tz = zone(timezone or "UTC")
    except ValueError as e:
        raise RequestError.of("timezone", e) from None
    given = {"from": start, "to": end, "period": period, "at": at, "window": window}
    for field, value in given.items():
        if value is not None and not value.strip():
            raise RequestError(field, f"{{{field}}}: empty (give a value or leave it out)")
    chosen = [
        f
        for f, v in (("{from}/{to}", start or end), ("{period}", period), ("{window}", window))
        if v
    ]
    if len(chosen) > 1:
        at_fault = "window" if window else "period"
        got = " and ".join(chosen)
        raise RequestError(
            at_fault, f"give one of {{from}}/{{to}}, {{period}}, {{window}} (got {got})"
        )
    if at and not period:
        raise RequestError("at", "{at} goes with {period}")
    if start or end:
        if not (start and end):
            raise RequestError("to" if start else "from", "{from} and {to} go together")
        lo, hi = field_time("from", start, tz), field_time("to", end, tz)
        lo_text, hi_text = escape(start), escape(end)
        if hi <= lo:
            raise RequestError("to", f"{{from}} ({lo_text}) must be before {{to}} ({hi_text})")
        if lo >= now:
            raise RequestError(
                "from",
                f"{{from}} ({lo_text}) is in the future: a report covers time that has passed",
            )
        if lo < EARLIEST:
            raise RequestError("from", f"{{from}} ({lo_text}) is before 1970: {NOTHING_EARLIER}")
        return Window(lo, min(hi, now), tz.key, requested_end=hi)
    if period:
        which = (
            "at" if period in PERIODS else "period"
        )  # "period" alone: not one (the CLI offers choices)
        try:
            lo, hi = calendar_period(period, at, tz, now)
        except ValueError as e:
            raise RequestError(which, f"{{period}}/{{at}}: {escape(str(e))}") from None
        p, a = escape(period), escape(str(at or iso(lo)))
        if lo >= now:
            raise RequestError(
                which, f"{{period}}/{{at}}: the {p} of {a} has not begun (it starts {iso(lo)})"
            )
        if lo < EARLIEST:
            raise RequestError(
                which, f"{{period}}/{{at}}: the {p} of {a} begins before 1970: {NOTHING_EARLIER}"
            )
        # With a time zone given, one zone for everything; without, each SLO uses its own.
        return Window(
            lo, min(hi, now), tz.key, None if timezone else (period, at), requested_end=hi
        )
    try:
        length = parse_duration(window or "30d")
    except ValueError as e:
        raise RequestError.of("window", e) from None
    w = escape(window or "30d")
    if length * 1000 < 1:
        raise RequestError(
            "window", f"{{window}}: {w} is empty (give a duration of at least 1s, e.g. 30d)"
        )
    if now - length * 1000 < EARLIEST:
        raise RequestError("window", f"{{window}}: {w} reaches back before 1970: {NOTHING_EARLIER}")
    return Window(now - int(length * 1000), now, tz.key, own=window is None)


@dataclass(frozen=True)
class SloWindow:
    """The time an SLO is evaluated over: ``[start, end)``, the window or period asked for
    (``period_start``, ``period_end``) cut to the agreement's term (``effective_from`` /
    ``effective_until``) and to now; empty (``start == end``) when the period or the term has
    not begun, or the term ended before the period began. ``basis`` says what was asked for:
    ``"window"`` (the SLO's rolling window), ``"period"`` (its calendar period) or ``"report"``
    (the report's window). ``to_date``: the period and the term go on after now, so the figures
    are to date. ``burn_end``: where burn-rate windows end (the end of the window asked for, or
    now if that is earlier); None while the period has not begun."""

    start: int
    end: int
    period_start: int
    period_end: int
    basis: str
    label: str | None  # "7d" for a rolling window, "month" for a period
    term_start: int | None
    term_end: int | None
    to_date: bool
    burn_end: int | None

    @property
    def length_ms(self) -> int:
        """The evaluated length of the whole period: within the term, including time to come."""
        end = self.period_end if self.term_end is None else min(self.period_end, self.term_end)
        return max(0, end - self.start)

    def burn_window(self, length_ms: int) -> Interval | None:
        """The burn-rate window of ``length_ms`` ending at ``burn_end``, cut to the term; None
        when nothing of it lies in the term (after the agreement ended, its budget burns no
        more: no rate, rather than the last one frozen)."""
        if self.burn_end is None:
            return None
        lo, hi = self.burn_end - length_ms, self.burn_end
        if self.term_start is not None:
            lo = max(lo, self.term_start)
        if self.term_end is not None:
            hi = min(hi, self.term_end)
        return (lo, hi) if lo < hi else None


def slo_window(s: SLO, now: int, report: Window | None = None) -> SloWindow:
    """Where ``s`` is evaluated (the one rule for the report, the API and /metrics): over the
    report's window, or its calendar period in the SLO's zone, or (``report`` None or ``own``)
    the SLO's own rolling window or calendar period ending now; then cut to the term and now."""
    label: str | None
    if report is not None and report.period is not None:
        lo, hi = calendar_period(report.period[0], report.period[1], zone(s.timezone), now)
        basis, label = "period", report.period[0]
    elif report is not None and not report.own:
        lo, hi, basis, label = report.start, report.full_end, "report", None
    elif s.window:
        lo, hi, basis, label = now - int(s.window * 1000), now, "window", _window_text(s.window)
    elif s.period:
        lo, hi = calendar_period(s.period, None, zone(s.timezone), now)
        basis, label = "period", s.period
    else:
        lo, hi, basis, label = (
            now - DEFAULT_SLO_WINDOW,
            now,
            "window",
            _window_text(DEFAULT_SLO_WINDOW / 1000),
        )
    term_start = None if s.effective_from is None else to_ms(s.effective_from)
    term_end = None if s.effective_until is None else to_ms(s.effective_until)
    begin = lo if term_start is None else max(lo, term_start)
    end = min(hi, now) if term_end is None else min(hi, now, term_end)
    if end <= begin:  # nothing to evaluate: placed where it begins, or where the term ended
        begin = end = begin if begin >= now else end
    to_date = hi > now and (term_end is None or term_end > now)
    return SloWindow(
        begin,
        end,
        lo,
        hi,
        basis,
        label,
        term_start,
        term_end,
        to_date,
        min(hi, now) if lo < now else None,
    )


class Data:
    """Everything a report needs from the database for ``[lo, hi)``."""

    def __init__(self, conn: sqlite3.Connection, config: Config, lo: int, hi: int, now: int):
        self.conn, self.config, self.lo, self.hi, self.now = conn, config, lo, hi, now
        self.ids = dict(conn.execute("SELECT key, id FROM monitors"))
        self.kinds = dict(conn.execute("SELECT id, name FROM error_kinds"))
        runs = conn.execute(
            "SELECT started, COALESCE(ended, heartbeat), config_sha256 FROM runs"
            " WHERE started < ? AND COALESCE(ended, heartbeat) > ? ORDER BY started",
            (hi, lo),
        ).fetchall()
        self.runs = normalize((s, e) for s, e, _ in runs)
        self.config_versions: list[dict[str, Any]] = []
        for s, e, sha in runs:
            if self.config_versions and self.config_versions[-1]["sha256"] == sha:
                self.config_versions[-1]["to"] = iso(e)
            else:
                self.config_versions.append({"sha256": sha, "from": iso(s), "to": iso(e)})
        self.degraded = normalize(
            conn.execute("SELECT start, end FROM degraded WHERE start < ? AND end > ?", (hi, lo))
        )
        #: Where a monitor's state counts: inside a run, and not while the daemon's network was down.
        self.cover = subtract(self.runs, self.degraded)
        self.adhoc = conn.execute(
            "SELECT id, target_kind, target, start, end, reason, created_by, created_at FROM maintenance"
            " WHERE start < ? AND end > ? AND end > start ORDER BY start",  # not the cancelled
            (hi, lo),
        ).fetchall()
        self._maint: dict[tuple[str, str], list[Interval]] = {}
        self._daily_state: dict[int, tuple[int, int]] | None = None
        #: Every maintenance window in [lo, hi): (what a listing says of it, the targets it
        #: names, each with the targets it covers, and its intervals).
        self._windows: list[
            tuple[dict[str, Any], list[tuple[str, str, list[tuple[str, str]]]], list[Interval]]
        ] = []
        #: covered target -> (window, named target) pairs that cover it
        self._covering: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._collect_maintenance()

    def _collect_maintenance(self) -> None:
        members = {s.id: s.monitors for s in self.config.services}

        def covers(kind: str, key: str) -> list[tuple[str, str]]:
            return [(kind, key)] + (
                [("monitor", m) for m in members.get(key, ())] if kind == "service" else []
            )

        def add(entry: dict[str, Any], named: list[tuple[str, str]], ivs: list[Interval]) -> None:
            targets = [(kind, key, covers(kind, key)) for kind, key in named]
            for i, (_, _, covered) in enumerate(targets):
                for t in covered:
                    self._maint[t] = union(self._maint.get(t, []), ivs)
                    self._covering.setdefault(t, []).append((len(self._windows), i))
            self._windows.append((entry, targets, ivs))

        for w in self.config.maintenance:
            ivs = expand(w, self.lo, self.hi)
            if ivs:
                entry = {"id": w.id, "source": "config", "reason": w.reason, "created_by": None, "created_at": None,
                         "retroactive": False}  # fmt: skip
                add(
                    entry,
                    [("monitor", m) for m in w.monitors] + [("service", x) for x in w.services],
                    ivs,
                )
        for mid, kind, key, s, e, reason, by, at in self.adhoc:
            entry = {"id": mid, "source": "adhoc", "reason": reason, "created_by": by, "created_at": iso(at),
                     "retroactive": adhoc.is_retroactive(s, at, e)}  # fmt: skip
            add(entry, [(kind, key)], [(s, e)])

    def exclusions(self, shown: dict[tuple[str, str], list[Interval]]) -> list[dict[str, Any]]:
        """The maintenance windows that changed a figure: those that cover a target of ``shown``
        (kind, key) -> the time its figures are over (normalized). Each occurrence is listed cut
        to that time and names only the targets it changed; ``overlaps`` lists the ids of the
        other listed windows it overlaps on one of them."""
        # (window, occurrence) -> named targets changed, targets hit, the pieces of time
        found: dict[tuple[int, int], tuple[set[int], set[tuple[str, str]], list[Interval]]] = {}
        for t, spans in shown.items():
            for w, target in self._covering.get(t, ()):
                for k, iv in enumerate(self._windows[w][2]):
                    pieces = clip(spans, *iv)
                    if pieces:
                        acc = found.setdefault((w, k), (set(), set(), []))
                        acc[0].add(target)
                        acc[1].add(t)
                        acc[2].extend(pieces)
        out: list[tuple[dict[str, Any], set[tuple[str, str]], Interval]] = []
        for (w, _), (named, hit, cut) in sorted(found.items()):
            entry, targets = self._windows[w][0], self._windows[w][1]
            changed: dict[tuple[str, str], None] = {}
            private = False
            for i in sorted(named):
                kind, key, covered = targets[i]
                if (kind, key) in shown:
                    changed[(kind, key)] = None
                else:  # a window on a target outside the report that covers one in it (a
                    # shared member): named by what it covered here, its reason withheld
                    changed.update((t, None) for t in covered if t in hit)
                    private = True
            lo, hi = min(a for a, _ in cut), max(b for _, b in cut)
            item = {**entry, "monitors": [k for kind, k in changed if kind == "monitor"],
                    "services": [k for kind, k in changed if kind == "service"], "start": iso(lo), "end": iso(hi)}  # fmt: skip
            if private:
                item["reason"] = None
            out.append((item, hit, (lo, hi)))
        out.sort(key=lambda x: x[2])
        overlaps: list[list[Any]] = [[] for _ in out]
        for i, (item, hit, (_, hi)) in enumerate(out):
            j = i + 1
            while j < len(out) and out[j][2][0] < hi:  # sorted by start: only these can overlap it
                other, hit2, _ = out[j]
                if other["id"] != item["id"] and hit & hit2:
                    overlaps[i].append(other["id"])
                    overlaps[j].append(item["id"])
                j += 1
        for (item, _, _), ids in zip(out, overlaps):
            item["overlaps"] = list(dict.fromkeys(ids))
        return [item for item, _, _ in out]

    def maintenance(self, kind: str, key: str) -> list[Interval]:
        return self._maint.get((kind, key), [])

    def segments(self, key: str) -> list[Row]:
        """Timeline rows of a monitor that overlap [lo, hi) (see :meth:`segments_many`)."""
        mid = self.ids.get(key)
        return [] if mid is None else self.segments_many([mid], [(self.lo, self.hi)])[mid]

    def segments_many(self, mids: Sequence[int], spans: Sequence[Interval]) -> dict[int, list[Row]]:
        """Timeline rows ``(start, end, state, cause, monitor)`` of many monitors (by integer id)
        that overlap any of ``spans`` (sorted and disjoint), each row once. One query per span
        and chunk of monitors."""
        out: dict[int, list[Row]] = {m: [] for m in mids}
        mids = list(out)  # each once: a monitor named twice would have its rows twice
        for i in range(0, len(mids), _CHUNK):
            ids = json.dumps(mids[i : i + _CHUNK])
            after = -(2**62)
            for a, b in spans:
                for row in self.conn.execute(_ROWS_OVERLAPPING, (ids, a, b, after)):
                    out[row[4]].append(row)
                after = b
        return out

    def daily_state(self) -> dict[int, tuple[int, int]]:
        """Monitor id -> ``(since, upto)`` of its day summaries (see :mod:`uptimed.core.daily`)."""
        if self._daily_state is None:
            try:
                rows = self.conn.execute(
                    "SELECT monitor, since, upto FROM timeline_daily_state"
                ).fetchall()
            except sqlite3.OperationalError:  # a database the daemon has not migrated yet
                rows = []
            self._daily_state = {m: (a, b) for m, a, b in rows}
        return self._daily_state

    def stretches(self, mids: Sequence[int], span: Interval) -> dict[int, tuple[int, ...]]:
        """Per monitor, the totals of its day summaries over ``span`` (as
        :func:`uptimed.core.sla.stretch` computes them) and the number of days found: ``(up, down,
        outages, longest, days)``. Monitors without a summary there are left out."""
        out: dict[int, tuple[int, ...]] = {}
        mids = list(dict.fromkeys(mids))
        for i in range(0, len(mids), _CHUNK):
            ids = json.dumps(mids[i : i + _CHUNK])
            out.update(
                (m, tuple(totals)) for m, *totals in self.conn.execute(_STRETCH, (ids, *span))
            )
        return out


Row = tuple[int, int, int, "str | None", int]
_CHUNK = 500  # monitors per bulk query: bounds the rows held at once
# The rows of the monitors in the JSON array ?1 that overlap [?2, ?3): the last one starting at
# or before ?2 (rows never overlap, so no earlier one can reach it) and those starting after;
# none starting before ?4 (the end of the previous span: those were read with it).
_ROWS_OVERLAPPING = (
    "SELECT t.start, t.end, t.state, k.name, t.monitor FROM json_each(?1) j JOIN timeline t"
    " ON t.monitor = j.value AND t.start < ?3 AND t.end > ?2 AND t.start >= max(?4,"
    " COALESCE((SELECT max(start) FROM timeline WHERE monitor = j.value AND start <= ?2), 0))"
    " LEFT JOIN error_kinds k ON k.id = t.cause"
)
# sla.stretch() of the day summaries in [?2, ?3), in SQL, and the number of days found.
_STRETCH = (
    "SELECT d.monitor, sum(d.up_ms), sum(d.down_ms), sum(d.outages) - coalesce(sum(d.carry_end > ?3), 0),"
    " max(max(d.longest_ms), max(CASE WHEN d.carry_end <= ?3 THEN d.carry_ms ELSE 0 END)), count(*)"
    " FROM json_each(?1) j JOIN timeline_daily d ON d.monitor = j.value AND d.day >= ?2 AND d.day < ?3"
    " GROUP BY d.monitor"
)


Downs = list[tuple[int, int, str | None]]  # DOWN rows (start, end, cause): one incident each


class Targets:
    """Timelines of monitors and services over the data's range, built once each."""

    def __init__(self, data: Data):
        self.data = data
        self.services = {s.id: s for s in data.config.services}
        self._cache: dict[tuple[str, str], tuple[sla.StateTimeline, Downs]] = {}
        #: (monitor, window) -> figures without incident lists, computed in bulk by prepare()
        self._pre: dict[tuple[str, Interval], sla.Figures] = {}
        self._rows: dict[str, list[Row]] = {}  # read by load(), not yet built into timelines
        #: Service members' rows as written (sla.monitor_parts), kept until their last service is built
        self._raw: dict[str, sla.StateTimeline] = {}
        self._uses = Counter(m for s in data.config.services for m in s.monitors)

    def kind(self, key: str) -> str:
        return "service" if key in self.services else "monitor"

    def timeline(self, kind: str, key: str) -> tuple[sla.StateTimeline, Downs, list[Interval]]:
        """The target's timeline, its DOWN rows, and its maintenance (its own windows, and for a
        service also the time when no member could vote and some were in maintenance)."""
        if (kind, key) not in self._cache:
            self._cache[(kind, key)] = (
                self._monitor(key) if kind == "monitor" else self._service(key)
            )
        tl, downs = self._cache[(kind, key)]
        return tl, downs, union(self.data.maintenance(kind, key), list(tl.maintenance))

    def load(self, keys: Sequence[str]) -> None:
        """Read the timeline rows of many monitors at once, for the timelines built next."""
        ids = self.data.ids
        mids = [ids[k] for k in keys if k in ids and ("monitor", k) not in self._cache]
        rows = self.data.segments_many(mids, [(self.data.lo, self.data.hi)])
        self._rows.update((k, rows[ids[k]]) for k in keys if ids.get(k) in rows)

    def _monitor(self, key: str) -> tuple[sla.StateTimeline, Downs]:
        segs = self._rows.pop(key, None)
        if segs is None:
            segs = self.data.segments(key)
        tl, downs, raw = sla.monitor_parts(segs, self.data.cover)
        if self._uses[key]:
            self._raw[key] = raw
        return tl, downs

    def _service(self, key: str) -> tuple[sla.StateTimeline, Downs]:
        """The service's timeline by its rule over its members' (maintenance and unknown time do
        not vote), and its outages: the same rule over its members' rows as written, with no
        maintenance and no gaps for restarts, as a monitor's outages are its DOWN rows whole. So
        one confirmed outage is one incident; maintenance and stopped time inside it only lower
        its counted time."""
        svc = self.services[key]
        members = [self.timeline("monitor", m) for m in svc.monitors]
        maint = [self.data.maintenance("monitor", m) for m in svc.monitors]
        tl = sla.service_timeline([m[0] for m in members], maint, svc.rule, svc.quorum)
        raw = [self._raw[m] for m in svc.monitors]
        outages = sla.service_outages(raw, maint, svc.rule, svc.quorum)
        # An outage that began before the rows read (or goes on past them, before now) may
        # begin earlier or end elsewhere once the other members' rows there are known: read
        # them out to it until it holds still. (Maintenance out there is not known: none.)
        lo, hi = self.data.lo, self.data.hi
        for _ in range(8):
            if not outages:
                break
            need_lo = min(lo, outages[0][0])
            need_hi = max(hi, outages[-1][1]) if hi < self.data.now else hi
            if (need_lo, need_hi) == (lo, hi):
                break
            spans = [x for x in ((need_lo, lo), (hi, need_hi)) if x[1] > x[0]]
            lo, hi = need_lo, need_hi
            ids = self.data.ids
            rows = self.data.segments_many([ids[m] for m in svc.monitors if m in ids], spans)
            for i, m in enumerate(svc.monitors):
                if m in ids and rows[ids[m]]:
                    more = sla.monitor_parts(rows[ids[m]], [])[2]
                    raw[i] = sla.StateTimeline(
                        tuple(union(raw[i].up, more.up)), tuple(union(raw[i].down, more.down))
                    )
            outages = sla.service_outages(raw, maint, svc.rule, svc.quorum)
        for m in svc.monitors:
            self._uses[m] -= 1
            if not self._uses[m]:
                self._raw.pop(m, None)
        member_downs = [sorted(m[1]) for m in members]
        member_starts = [[d[0] for d in downs] for downs in member_downs]
        return tl, [(s, e, _cause_at(s, member_downs, member_starts)) for s, e in outages]

    def prepare(self, keys: Sequence[str], window: Interval) -> None:
        """Compute the figures of many monitors over ``window`` at once, for :meth:`figures` with
        ``incidents=False``: the days of the window from the day summaries (:mod:`uptimed.core.daily`),
        the rest, and the rows the summaries must be corrected for (restarts, maintenance), from
        timeline rows, all read in bulk. The same figures as from every row, but a 30-day window
        reads a few rows per monitor instead of hundreds. Monitors whose timeline is built
        already (service members) are left to :meth:`figures`, and so are the few whose figures
        cannot come from summaries (see :func:`uptimed.core.sla.summarized_figures`)."""
        data = self.data
        lo, hi = window
        state = data.daily_state()
        # The stretch: the summarized days of the window, and a day at either edge if it lies
        # mostly inside (its part outside is read as rows and taken off).
        first = _round_day(lo)
        last = _round_day(hi)
        Plan = tuple[
            tuple[Interval, ...], tuple[Interval, ...], tuple[Interval, ...]
        ]  # stretch, ineligible, reads
        plans: dict[tuple[int, tuple[Interval, ...]], Plan] = {}
        groups: dict[Plan, list[str]] = {}
        for key in keys:
            if ("monitor", key) in self._cache or key not in data.ids:
                continue
            upto = state.get(data.ids[key], (0, 0))[1]
            maint = tuple(data.maintenance("monitor", key))
            plan = plans.get((upto, maint))
            if plan is None:
                end = min(last, upto)
                spans = [(first, end)] if end > first else []
                bad = sla.ineligible(spans, data.cover, maint, window)
                reads = union(subtract([(lo - 1, hi + 1)], spans), bad)
                plan = plans[(upto, maint)] = (tuple(spans), tuple(bad), tuple(reads))
            groups.setdefault(plan, []).append(key)
        for (spans, bad, reads), group in groups.items():
            mids = [data.ids[k] for k in group]
            totals = data.stretches(mids, spans[0]) if spans else {}
            rows = data.segments_many(mids, reads)
            for key, mid in zip(group, mids):
                stretches = []
                if spans:
                    (a, b), since = spans[0], state[mid][0]
                    t = totals.get(mid, (0, 0, 0, 0, 0))
                    if t[4] != max(0, b - max(a, since)) // sla.DAY_MS:
                        continue  # a day without a summary (see daily): read this monitor row by row
                    stretches = [sla.Stretch(a, b, *t[:4])]
                fig = sla.summarized_figures(
                    rows[mid],
                    data.cover,
                    data.maintenance("monitor", key),
                    window,
                    data.now,
                    stretches,
                    list(bad),
                )
                if fig is not None:
                    self._pre[(key, window)] = fig

    def prepare_each(self, windows: dict[str, Interval]) -> None:
        """Figures of many monitors, each over its own short window (what the metrics' counters
        advance by), for :meth:`accounting`: the rows of all of them in one read, no summaries.
        Windows that start an hour or more before the latest are left to :meth:`accounting`."""
        data = self.data
        todo = {
            k: w
            for k, w in windows.items()
            if ("monitor", k) not in self._cache and k in data.ids and w[1] > w[0]
        }
        if not todo:
            return
        hi = max(w[1] for w in todo.values())
        todo = {k: w for k, w in todo.items() if w[0] > hi - 3_600_000}
        if not todo:
            return
        lo = min(w[0] for w in todo.values())
        rows = data.segments_many([data.ids[k] for k in todo], [(lo - 1, hi + 1)])
        for key, w in todo.items():
            self._pre[(key, w)] = sla.summarized_figures(
                rows[data.ids[key]], data.cover, data.maintenance("monitor", key), w, data.now, ()
            )

    def figures(
        self,
        kind: str,
        key: str,
        window: Interval,
        outside: Sequence[Interval] = (),
        *,
        incidents: bool = True,
    ) -> sla.Figures:
        """Figures over ``window``. ``incidents=False`` leaves out the incident list
        (``incidents`` is None; the statistics stay), which lets monitors done by
        :meth:`prepare` come from its summaries."""
        if not incidents and kind == "monitor" and not outside:
            pre = self._pre.get((key, window))
            if pre is not None:
                return pre
        tl, downs, maint = self.timeline(kind, key)
        found = sla.incidents(downs, sla.counted_down(tl, maint, window, outside), self.data.now)
        fig = sla.figures(tl, maint, window, outside_hours=outside, incidents=found)
        return fig if incidents else dataclasses.replace(fig, incidents=None)

    def accounting(
        self, kind: str, key: str, window: Interval, outside: Sequence[Interval] = ()
    ) -> sla.Figures:
        """The time accounting over ``window`` (up, down, maintenance, unknown, outside hours):
        what burn rates and metrics need, at half the cost of :meth:`figures`. Read nothing else:
        the incident fields are empty, or filled when :meth:`prepare` computed them anyway."""
        if kind == "monitor" and not outside:
            pre = self._pre.get((key, window))
            if pre is not None:
                return pre
        tl, _, maint = self.timeline(kind, key)
        return sla.figures(tl, maint, window, outside_hours=outside)


def _round_day(t: int) -> int:
    """The UTC midnight nearest to ``t``."""
    return (t + sla.DAY_MS // 2) // sla.DAY_MS * sla.DAY_MS


def _cause_at(
    t: int, member_downs: Sequence[Downs], member_starts: Sequence[list[int]]
) -> str | None:
    """A service outage's cause: that of a member outage under way when it began (DOWN rows of a
    monitor never overlap, so the only candidate is the last one starting at or before ``t``)."""
    for downs, starts in zip(member_downs, member_starts):
        i = bisect_right(starts, t) - 1
        if i >= 0 and t < downs[i][1]:
            return downs[i][2]
    return None


def _seconds(ms: int | float | None) -> float | None:
    return None if ms is None else ms / 1000


def _incident_json(i: sla.Incident) -> dict[str, Any]:
    return {
        "start": iso(i.start),
        "end": iso(i.end),
        "duration_seconds": _seconds(i.duration_ms),
        "counted_seconds": _seconds(i.counted_ms),
        "cause": i.cause,
    }


def figures_json(f: sla.Figures) -> dict[str, Any]:
    return {
        "availability": f.availability,
        "coverage": f.coverage,
        "up_seconds": _seconds(f.up_ms),
        "down_seconds": _seconds(f.down_ms),
        "maintenance_seconds": _seconds(f.maintenance_ms),
        "unknown_seconds": _seconds(f.unknown_ms),
        **({} if f.incidents is None else {"incidents": [_incident_json(i) for i in f.incidents]}),
        "incident_count": f.incident_count,
        "incident_seconds": _seconds(f.incident_total_ms),
        "longest_incident_seconds": _seconds(f.longest_incident_ms),
        "mttr_seconds": _seconds(f.mttr_ms),
        "mtbf_seconds": _seconds(f.mtbf_ms),
    }


@contextmanager
def one_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Read inside one transaction, so that every statement of a report sees the same database
    while the daemon writes (in WAL mode a reader keeps its snapshot until it ends)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def build_report(
    conn: sqlite3.Connection,
    config: Config,
    scope: Scope,
    window: Window,
    now: int,
    *,
    incident_lists: bool = True,
) -> dict[str, Any]:
    """The report over ``window`` (see :class:`Window`: monitors and services over its time,
    SLOs over theirs, see :func:`slo_window`). Time after ``now`` is in no figure.

    ``incident_lists=False`` leaves out the incident lists of monitors and services (their
    counts and statistics stay; SLOs keep theirs): what every format but JSON shows. It lets
    monitors be read from day summaries, which makes a report of thousands of them fast."""
    start, end = window.start, min(window.end, now)
    if end < start:
        raise ValueError(
            f"the report window [{iso(start)}, {iso(end)}) has not begun at {iso(now)}"
        )
    with one_snapshot(conn):  # one view of a database the daemon may be writing
        slo_windows = {s.id: slo_window(s, now, window) for s in scope.slos}
        lo, hi = data_range([(start, end)], slo_windows.values())
        data = Data(conn, config, lo, hi, now)
        targets = Targets(data)
        span = (start, end)
        out_services = []  # first: members' timelines, built for their service, serve them too
        targets.load([m for key in scope.services for m in targets.services[key].monitors])
        for key in scope.services:
            svc = targets.services[key]
            fig = targets.figures("service", key, span, incidents=incident_lists)
            out_services.append(
                {"id": key, "name": svc.name, **figures_json(fig), "rule": svc.rule, "quorum": svc.quorum,
                 "monitors": list(svc.monitors)}
            )  # fmt: skip
        if not incident_lists:
            targets.prepare(scope.monitors, span)
        out_monitors = []
        for key in scope.monitors:
            m = config.monitor(key)
            fig = targets.figures("monitor", key, span, incidents=incident_lists)
            out_monitors.append({"id": key, "name": m.name if m else key, **figures_json(fig)})
        shown: dict[tuple[str, str], list[Interval]] = {}
        for kind, keys in (("monitor", scope.monitors), ("service", scope.services)):
            for key in keys:
                shown[(kind, key)] = [span] if end > start else []
        out_slos = []
        for s in scope.slos:
            result = slo_evaluation(s, targets, slo_windows[s.id])
            mine = _slo_shown(s, targets, result.window)
            for t, ivs in mine.items():
                shown[t] = union(shown.get(t, []), ivs)
            out_slos.append(slo_json(s, targets, result, data.exclusions(mine)))
        return {
            "from": iso(start),
            "to": iso(end),
            **_to_date_json(start, end, window.full_end, now),
            "generated_at": iso(now),
            "timezone": window.tz_name,
            "policy": {
                "unknown": DEFAULT_POLICY.unknown,
                "maintenance": DEFAULT_POLICY.maintenance,
            },
            "config_sha256": config.sha256,
            "config_versions": data.config_versions,
            "exclusions": data.exclusions(shown),
            "monitors": out_monitors,
            "services": out_services,
            "slos": out_slos,
        }


def data_range(spans: Iterable[Interval], slo_windows: Iterable[SloWindow]) -> Interval:
    """The time a report (or /metrics) must read: ``spans``, and each SLO's window and burn
    windows. Empty ones add nothing: an agreement that ended long ago must not make every
    report read years of rows."""
    spans = [s for s in spans if s[1] > s[0]]
    for w in slo_windows:
        if w.end > w.start:
            spans.append((w.start, w.end))
        longest = w.burn_window(max(BURN_WINDOWS.values()))
        if longest is not None:
            spans.append(longest)
    if not spans:
        return 0, 0
    return min(a for a, _ in spans), max(b for _, b in spans)


def _to_date_json(start: int, end: int, full_end: int, now: int) -> dict[str, Any]:
    """How much of the window or period asked for has passed (``to_date``: not all of it)."""
    return {
        "to_date": full_end > now,
        "period_to": iso(full_end),
        "elapsed_seconds": _seconds(end - start),
        "length_seconds": _seconds(full_end - start),
    }


def _slo_shown(s: SLO, targets: Targets, w: SloWindow) -> dict[tuple[str, str], list[Interval]]:
    """The time an SLO's figures are over, per target whose maintenance can change them (a
    service's members too): its window, less the time outside its service hours."""
    eligible = [(w.start, w.end)] if w.end > w.start else []
    if s.service_hours and eligible:
        eligible = subtract(eligible, service_hours_outside(s.service_hours, w.start, w.end))
    kind = targets.kind(s.target)
    keys = [(kind, s.target)]
    if kind == "service":
        keys += [("monitor", m) for m in targets.services[s.target].monitors]
    return {k: eligible for k in keys}


@dataclass(frozen=True)
class SLOResult:
    """Everything shown of an SLO, from one place (:func:`slo_evaluation`) for the report, the
    API and /metrics: its window, figures, evaluation and burn rates (each over a window of
    that length ending where the evaluation ends, cut to the agreement's term)."""

    window: SloWindow
    figures: sla.Figures
    evaluation: sla.SLOEvaluation
    burn_rates: dict[str, float | None]


def slo_evaluation(s: SLO, targets: Targets, window: SloWindow) -> SLOResult:
    """An SLO over ``window`` (from :func:`slo_window`)."""
    kind = targets.kind(s.target)

    def outside(lo: int, hi: int) -> list[Interval]:
        return service_hours_outside(s.service_hours, lo, hi) if s.service_hours else []

    span = (window.start, window.end)
    fig = targets.figures(kind, s.target, span, outside(*span))
    ev = sla.evaluate(fig, s.objective, s.policy, s.credits, s.min_coverage)
    burn: dict[str, float | None] = {}
    for name, length in BURN_WINDOWS.items():
        w = window.burn_window(length)
        burn[name] = (
            None
            if w is None
            else sla.burn_rate(
                targets.accounting(kind, s.target, w, outside(*w)), s.objective, s.policy
            )
        )
    return SLOResult(window, fig, ev, burn)


def slo_json(
    s: SLO, targets: Targets, result: SLOResult, exclusions: list[dict[str, Any]]
) -> dict[str, Any]:
    w, fig, ev = result.window, result.figures, result.evaluation
    return {
        "id": s.id,
        "target": s.target,
        "target_kind": targets.kind(s.target),
        "customer": s.customer,
        "objective": float(s.objective / 100),
        "attainment": None if ev.attainment is None else float(ev.attainment),
        "met": ev.met,
        "verdict": ev.verdict,
        "coverage": fig.coverage,
        "min_coverage": float(s.min_coverage / 100),
        "from": iso(w.start),
        "to": iso(w.end),
        **_to_date_json(w.start, w.end, w.start + w.length_ms, targets.data.now),
        "basis": w.basis,
        # What was evaluated, so that a label never names a window that was not.
        "window": w.label if w.basis == "window" else None,
        "period": w.label if w.basis == "period" else None,
        "effective_from": iso(w.term_start),
        "effective_until": iso(w.term_end),
        "timezone": s.timezone,
        "policy": {"unknown": s.policy.unknown, "maintenance": s.policy.maintenance},
        "up_seconds": _seconds(fig.up_ms),
        "down_seconds": _seconds(fig.down_ms),
        "maintenance_seconds": _seconds(fig.maintenance_ms),
        "unknown_seconds": _seconds(fig.unknown_ms),
        "eligible_seconds": _seconds(ev.eligible_ms),
        "outside_hours_seconds": _seconds(fig.outside_hours_ms),
        "error_budget": {
            "total_seconds": _seconds(float(ev.budget.total_ms)),
            "consumed_seconds": _seconds(ev.budget.consumed_ms),
            "remaining_seconds": _seconds(float(ev.budget.remaining_ms)),
            "remaining_ratio": None
            if ev.budget.remaining_ratio is None
            else float(ev.budget.remaining_ratio),
        },
        "burn_rates": result.burn_rates,
        "credit": None
        if ev.credit is None
        else {"below": _num(ev.credit.below), "credit": _num(ev.credit.credit)},
        "latency": _latency_json(s, targets, (w.start, w.end)),
        "incidents": [_incident_json(i) for i in fig.incidents or ()],
        "exclusions": exclusions,
    }


def _latency_json(s: SLO, targets: Targets, window: Interval) -> dict[str, Any] | None:
    """The latency SLI from the rollups of the SLO's own threshold (rollup_latency: hours that
    start inside the window, over the target's monitors). ``counted_from``: since when every
    successful probe of the target is counted against this threshold (the latest of its
    monitors'; null while one of them is not counted at all). ``exact``: counted, and no
    successful probe of those hours left out (the hourly rollups count every probe): true when
    ``counted_from`` is at or before the first hour counted, and also when there were no
    probes before it (a new monitor)."""
    if s.latency is None:
        return None
    from uptimed.store import threshold_us  # the one rounding, the writer's

    svc = targets.services.get(s.target)
    ids = sorted(
        {
            targets.data.ids[k]
            for k in (svc.monitors if svc else (s.target,))
            if k in targets.data.ids
        }
    )
    good, total, since, exact = _latency_counts(
        targets.data.conn, ids, threshold_us(s.latency.threshold), window
    )
    lat = sla.latency_attainment(good, total, s.latency.objective)
    return {
        "threshold_seconds": s.latency.threshold,
        "objective": float(s.latency.objective / 100),
        "attainment": None if lat.attainment is None else float(lat.attainment),
        "met": lat.met,
        "good": good,
        "total": total,
        "counted_from": None if since is None else iso(since),
        "exact": exact,
    }


def _latency_counts(
    conn: sqlite3.Connection, ids: Sequence[int], threshold: int, window: Interval
) -> tuple[int, int, int | None, bool]:
    """(good, total, counted from, exact) of the monitors ``ids`` (each once) against
    ``threshold`` (µs) over the hours that start in ``window``."""
    if not ids:
        return 0, 0, None, False
    marks = ",".join("?" * len(ids))
    try:
        good, total = conn.execute(
            f"SELECT COALESCE(sum(fast), 0), COALESCE(sum(ok), 0) FROM rollup_latency"
            f" WHERE monitor IN ({marks}) AND hour >= ? AND hour < ? AND threshold_us = ?",
            (*ids, *window, threshold),
        ).fetchone()
        counted, since = conn.execute(
            f"SELECT count(*), max(since) FROM latency_tracked WHERE monitor IN ({marks}) AND threshold_us = ?",
            (*ids, threshold),
        ).fetchone()
    except sqlite3.OperationalError:  # a database the daemon has not migrated yet: nothing counted
        return 0, 0, None, False
    (probed,) = conn.execute(
        f"SELECT COALESCE(sum(probes - failures), 0) FROM rollup_hourly"
        f" WHERE monitor IN ({marks}) AND hour >= ? AND hour < ?",
        (*ids, *window),
    ).fetchone()
    if counted < len(ids):
        return good, total, None, False
    return good, total, since, total == probed


def _window_text(seconds: float) -> str:
    """ "30d" rather than "4w2d": windows are written in days."""
    return f"{int(seconds // 86400)}d" if seconds % 86400 == 0 else format_duration(seconds)


def _num(d: Decimal) -> float | int:
    """A configured number as it was written: 100 stays 100, 95.0 stays 95.0."""
    exponent = d.as_tuple().exponent
    return float(d) if isinstance(exponent, int) and exponent < 0 else int(d)
