"""What a report covers: its window and scope from a request, and the time each SLO is
evaluated over (the one rule for the report, the API and /metrics).

A request names its fields as the library does (``from``, ``to``, ``period``, ``at``,
``window``, ``timezone``, ``monitor``, ``service``, ``slo``); every error is a
:class:`~uptimed.errors.RequestError` naming the field at fault, which each front end says in its
own words (the CLI's ``--from``, the API's ``'from'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from uptimed.core.intervals import Interval
from uptimed.core.sla import BURN_WINDOWS
from uptimed.core.times import (
    PERIODS,
    calendar_period,
    format_duration,
    iso,
    parse_duration,
    to_ms,
    zone,
)
from uptimed.errors import RequestError, escape
from uptimed.model.config import SLO, Config
from uptimed.model.report import Scope, SloWindow, Window
from uptimed.store.adhoc import check_ids, field_time

DEFAULT_SLO_WINDOW = 30 * 86_400_000  # an SLO with neither a window nor a period
# Reports start in 1970 at the earliest: no daemon recorded anything before, and time zones,
# recurring windows and service hours near year 1 fall off the calendar.
EARLIEST = 0
NOTHING_EARLIER = "uptimed has recorded nothing earlier (give a time from 1970 on)"


def resolve_scope(
    config: Config,
    monitors: Sequence[str] = (),
    services: Sequence[str] = (),
    slos: Sequence[str] = (),
) -> Scope:
    """What a report covers. No filter: everything. A service brings its member monitors, an SLO
    its target. Unknown ids raise :class:`~uptimed.errors.RequestError` naming them (fields
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
    for key in list(want_s):
        want_m.update(svc[key].monitors)
    named = set(monitors) | set(services)
    chosen += [s for s in config.slos if s not in chosen and s.target in named]
    return Scope(
        tuple(m for m in mon_ids if m in want_m),
        tuple(key for key in svc if key in want_s),
        tuple(chosen),
    )


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
    :class:`~uptimed.errors.RequestError` naming them): ``from``/``to``, or ``period`` [``at``],
    or ``window`` (default 30d, with each SLO over its own window). Time after ``now`` is never
    part of it: a window that has not begun is an error, one under way ends at ``now``."""
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
        # "period" alone is at fault when it names no period (the CLI offers the choices).
        which = "at" if period in PERIODS else "period"
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


def slo_window(s: SLO, now: int, report: Window | None = None) -> SloWindow:
    """Where ``s`` is evaluated (the one rule for the report, the API and /metrics): over the
    report's window, or its calendar period in the SLO's zone, or (``report`` None or ``own``)
    the SLO's own rolling window or calendar period ending now; then cut to the term and now.

    :raises RequestError: the report's period cannot be cut in the SLO's zone (field
        ``period``; the calendar's words)."""
    label: str | None
    if report is not None and report.period is not None:
        try:
            lo, hi = calendar_period(report.period[0], report.period[1], zone(s.timezone), now)
        except ValueError as e:
            raise RequestError("period", escape(str(e))) from None
        basis, label = "period", report.period[0]
    elif report is not None and not report.own:
        lo, hi, basis, label = report.start, report.full_end, "report", None
    elif s.window:
        lo, hi, basis, label = now - int(s.window * 1000), now, "window", _window_text(s.window)
    elif s.period:
        lo, hi = calendar_period(s.period, None, zone(s.timezone), now)
        basis, label = "period", s.period
    else:
        lo, hi = now - DEFAULT_SLO_WINDOW, now
        basis, label = "window", _window_text(DEFAULT_SLO_WINDOW / 1000)
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


def data_range(spans: Iterable[Interval], slo_windows: Iterable[SloWindow]) -> Interval:
    """The time a report (or /metrics) must read: ``spans``, and each SLO's window and burn
    windows. Empty ones add nothing: an agreement that ended long ago must not make every
    report read years of rows."""
    wanted = [s for s in spans if s[1] > s[0]]
    for w in slo_windows:
        if w.end > w.start:
            wanted.append((w.start, w.end))
        longest = w.burn_window(max(BURN_WINDOWS.values()))
        if longest is not None:
            wanted.append(longest)
    if not wanted:
        return 0, 0
    return min(a for a, _ in wanted), max(b for _, b in wanted)


def _window_text(seconds: float) -> str:
    """ "30d" rather than "4w2d": windows are written in days."""
    return f"{int(seconds // 86400)}d" if seconds % 86400 == 0 else format_duration(seconds)
