"""An agreement's term and statement periods, and the credit its SLOs' tiers add up to.

Pure functions of the :class:`~uptimed.model.config.Agreement` and a clock. A term begins at
``effective_from``; with ``effective_until`` and a ``renewal`` it is renewed by one renewal unit
each time it would end before now (so the current term ends after now); without
``effective_until`` it is open-ended. Statements are issued per calendar ``reporting`` period in
the agreement's time zone, from the period that holds the term's start to the one that holds now
or the term's end; the first and last are cut to the term by the SLA engine
(:func:`uptimed.service.window.slo_window`), as any SLO's term cuts its periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from uptimed.core.times import calendar_period, to_ms, zone
from uptimed.model.config import Agreement

_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True, slots=True)
class Term:
    """The agreement's term as of ``now``: from ``effective_from`` (``start``) to the end of the
    renewal in force (``end``; None: open-ended), and when it renews next (None: it does not
    renew, or has ended). Removing ``renewal`` later ends it at ``effective_until`` again: to end
    a renewing agreement, set ``effective_until`` to when it ends."""

    start: int
    end: int | None
    next_renewal: int | None
    renewals: int  # how many times it was renewed by now


@dataclass(frozen=True, slots=True)
class Period:
    """One statement period: ``label`` names it as ``uptimed report --period KIND --at LABEL``
    does ("2026-11", "2026-Q4", "2026"). ``final``: it has ended (or the term has); its figures
    change only if maintenance is added for it afterwards or the configuration changes."""

    label: str
    kind: str
    start: int
    end: int
    final: bool


def _add(dt: datetime, unit: str, n: int) -> datetime:
    m = dt.month - 1 + _MONTHS[unit] * n
    year, month = dt.year + m // 12, m % 12 + 1
    # The 31st renews on the last day of a shorter month.
    for day in range(dt.day, 27, -1):
        try:
            return dt.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return dt.replace(year=year, month=month, day=min(dt.day, 28))


def term(a: Agreement, now: int) -> Term:
    tz = zone(a.timezone)
    start = a.effective_from.astimezone(tz)
    if a.effective_until is None:
        if a.renewal is None:
            return Term(to_ms(start), None, None, 0)
        n = 1
        while to_ms(_add(start, a.renewal, n)) <= now:
            n += 1
        return Term(to_ms(start), None, to_ms(_add(start, a.renewal, n)), n - 1)
    until = a.effective_until.astimezone(tz)
    if a.renewal is None:
        return Term(to_ms(start), to_ms(until), None, 0)
    n = 0
    while to_ms(_add(until, a.renewal, n)) <= now:
        n += 1
    end = to_ms(_add(until, a.renewal, n))
    return Term(to_ms(start), end, end, n)


def label(kind: str, start: int, tz_name: str) -> str:
    d = datetime.fromtimestamp(start / 1000, zone(tz_name)).date()
    if kind == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if kind == "quarter":
        return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"
    return f"{d.year:04d}"


def periods(a: Agreement, now: int) -> list[Period]:
    """The statement periods from the term's start to now (or to the term's end), oldest
    first; empty while the term has not begun."""
    t = term(a, now)
    tz = zone(a.timezone)
    stop = now if t.end is None else min(now, t.end)
    out: list[Period] = []
    at = datetime.fromtimestamp(t.start / 1000, tz).date().isoformat()
    while True:
        lo, hi = calendar_period(a.reporting, at, tz, now)
        if max(lo, t.start) >= stop:  # nothing of it in the term by now
            break
        final = hi <= now or (t.end is not None and t.end <= now)
        out.append(Period(label(a.reporting, lo, a.timezone), a.reporting, lo, hi, final))
        at = datetime.fromtimestamp(hi / 1000, tz).date().isoformat()
    return out


def capped(credits: list[Decimal], cap: Decimal | None) -> tuple[Decimal, bool]:
    """The credit of a period: the sum of its SLOs' tiers, at most ``cap`` (percent of the
    charge), and never more than the whole charge; and whether a cap cut it."""
    total = sum(credits, Decimal(0))
    limit = Decimal(100) if cap is None else min(cap, Decimal(100))
    if total > limit:
        return limit, True
    return total, False
