"""Timelines of monitors and services over a report's time, each built once, and their figures
(every figure from the pure engine, :mod:`uptimed.core.sla`).

A service's timeline comes from its members' by its rule; a monitor's figures over a long window
come from its day summaries where they can (:meth:`Targets.prepare`), which makes a report of
thousands of monitors fast.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from uptimed.core import sla
from uptimed.core.intervals import Interval, subtract, union
from uptimed.model.report import Figures
from uptimed.service.history import History
from uptimed.store.reads import Row

Downs = list[tuple[int, int, str | None]]  # DOWN rows (start, end, cause): one incident each


class Targets:
    """Timelines of monitors and services over the history's range, built once each."""

    def __init__(self, history: History):
        self.history = history
        self.services = {s.id: s for s in history.config.services}
        self._cache: dict[tuple[str, str], tuple[sla.StateTimeline, Downs]] = {}
        #: (monitor, window) -> figures without incident lists, computed in bulk by prepare()
        self._pre: dict[tuple[str, Interval], Figures] = {}
        self._rows: dict[str, list[Row]] = {}  # read by load(), not yet built into timelines
        #: Service members' rows as written (sla.monitor_parts), kept until their last service
        #: is built
        self._raw: dict[str, sla.StateTimeline] = {}
        self._uses = Counter(m for s in history.config.services for m in s.monitors)

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
        return tl, downs, union(self.history.maintenance.of(kind, key), list(tl.maintenance))

    def load(self, keys: Sequence[str]) -> None:
        """Read the timeline rows of many monitors at once, for the timelines built next."""
        ids = self.history.ids
        mids = [ids[k] for k in keys if k in ids and ("monitor", k) not in self._cache]
        rows = self.history.segments_many(mids, [(self.history.lo, self.history.hi)])
        self._rows.update((k, rows[ids[k]]) for k in keys if ids.get(k) in rows)

    def _monitor(self, key: str) -> tuple[sla.StateTimeline, Downs]:
        segs = self._rows.pop(key, None)
        if segs is None:
            segs = self.history.segments(key)
        tl, downs, raw = sla.monitor_parts(segs, self.history.cover)
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
        maint = [self.history.maintenance.of("monitor", m) for m in svc.monitors]
        tl = sla.service_timeline([m[0] for m in members], maint, svc.rule, svc.quorum)
        raw = [self._raw[m] for m in svc.monitors]
        outages = sla.service_outages(raw, maint, svc.rule, svc.quorum)
        # An outage that began before the rows read (or goes on past them, before now) may
        # begin earlier or end elsewhere once the other members' rows there are known: read
        # them out to it until it holds still. (Maintenance out there is not known: none.)
        lo, hi = self.history.lo, self.history.hi
        for _ in range(8):
            if not outages:
                break
            need_lo = min(lo, outages[0][0])
            need_hi = max(hi, outages[-1][1]) if hi < self.history.now else hi
            if (need_lo, need_hi) == (lo, hi):
                break
            spans = [x for x in ((need_lo, lo), (hi, need_hi)) if x[1] > x[0]]
            lo, hi = need_lo, need_hi
            ids = self.history.ids
            rows = self.history.segments_many([ids[m] for m in svc.monitors if m in ids], spans)
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
        ``incidents=False``: the days of the window from the day summaries
        (:mod:`uptimed.store.summaries`), the rest, and the rows the summaries must be corrected for
        (restarts, maintenance), from timeline rows, all read in bulk. The same figures as from
        every row, but a 30-day window reads a few rows per monitor instead of hundreds.
        Monitors whose timeline is built already (service members) are left to :meth:`figures`,
        and so are the few whose figures cannot come from summaries (see
        :func:`uptimed.core.sla.summarized_figures`)."""
        history = self.history
        lo, hi = window
        state = history.daily_state()
        # The stretch: the summarized days of the window, and a day at either edge if it lies
        # mostly inside (its part outside is read as rows and taken off).
        first = _round_day(lo)
        last = _round_day(hi)
        # stretch, ineligible time, the spans to read rows in
        Plan = tuple[tuple[Interval, ...], tuple[Interval, ...], tuple[Interval, ...]]
        plans: dict[tuple[int, tuple[Interval, ...]], Plan] = {}
        groups: dict[Plan, list[str]] = {}
        for key in keys:
            if ("monitor", key) in self._cache or key not in history.ids:
                continue
            upto = state.get(history.ids[key], (0, 0))[1]
            maint = tuple(history.maintenance.of("monitor", key))
            plan = plans.get((upto, maint))
            if plan is None:
                end = min(last, upto)
                spans = [(first, end)] if end > first else []
                bad = sla.ineligible(spans, history.cover, maint, window)
                reads = union(subtract([(lo - 1, hi + 1)], spans), bad)
                plan = plans[(upto, maint)] = (tuple(spans), tuple(bad), tuple(reads))
            groups.setdefault(plan, []).append(key)
        for (stretch, ineligible, to_read), group in groups.items():
            mids = [history.ids[k] for k in group]
            totals = history.stretches(mids, stretch[0]) if stretch else {}
            rows = history.segments_many(mids, to_read)
            for key, mid in zip(group, mids, strict=True):
                stretches = []
                if stretch:
                    (a, b), since = stretch[0], state[mid][0]
                    t = totals.get(mid, (0, 0, 0, 0, 0))
                    if t[4] != max(0, b - max(a, since)) // sla.DAY_MS:
                        continue  # a day without a summary (see daily): read it row by row
                    stretches = [sla.Stretch(a, b, *t[:4])]
                fig = sla.summarized_figures(
                    rows[mid],
                    history.cover,
                    history.maintenance.of("monitor", key),
                    window,
                    history.now,
                    stretches,
                    list(ineligible),
                )
                if fig is not None:
                    self._pre[(key, window)] = fig

    def prepare_each(self, windows: dict[str, Interval]) -> None:
        """Figures of many monitors, each over its own short window (what the metrics' counters
        advance by), for :meth:`accounting`: the rows of all of them in one read, no summaries.
        Windows that start an hour or more before the latest are left to :meth:`accounting`."""
        history, now = self.history, self.history.now
        todo = {
            k: w
            for k, w in windows.items()
            if ("monitor", k) not in self._cache and k in history.ids and w[1] > w[0]
        }
        if not todo:
            return
        hi = max(w[1] for w in todo.values())
        todo = {k: w for k, w in todo.items() if w[0] > hi - 3_600_000}
        if not todo:
            return
        lo = min(w[0] for w in todo.values())
        rows = history.segments_many([history.ids[k] for k in todo], [(lo - 1, hi + 1)])
        for key, w in todo.items():
            maint = history.maintenance.of("monitor", key)
            fig = sla.summarized_figures(rows[history.ids[key]], history.cover, maint, w, now, ())
            if fig is not None:  # always, without stretches
                self._pre[(key, w)] = fig

    def figures(
        self,
        kind: str,
        key: str,
        window: Interval,
        outside: Sequence[Interval] = (),
        *,
        incidents: bool = True,
    ) -> Figures:
        """Figures over ``window``. ``incidents=False`` leaves out the incident list
        (``incidents`` is None; the statistics stay), which lets monitors done by
        :meth:`prepare` come from its summaries."""
        if not incidents and kind == "monitor" and not outside:
            pre = self._pre.get((key, window))
            if pre is not None:
                return pre
        tl, downs, maint = self.timeline(kind, key)
        found = sla.incidents(downs, sla.counted_down(tl, maint, window, outside), self.history.now)
        fig = sla.figures(tl, maint, window, outside_hours=outside, incidents=found)
        return fig if incidents else replace(fig, incidents=None)

    def accounting(
        self, kind: str, key: str, window: Interval, outside: Sequence[Interval] = ()
    ) -> Figures:
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
    for downs, starts in zip(member_downs, member_starts, strict=True):
        i = bisect_right(starts, t) - 1
        if i >= 0 and t < downs[i][1]:
            return downs[i][2]
    return None
