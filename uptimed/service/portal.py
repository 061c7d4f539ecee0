"""A customer's agreements, period by period: the portal's ledger (:class:`AgreementView`) and
each period's statement (the JSON and CSV a customer downloads).

Each period is evaluated by the report engine, as ``uptimed report --period KIND --at LABEL``
evaluates the agreement's SLOs in the agreement's time zone, cut to its term
(:class:`~uptimed.service.report.ReportReader`, one per period, over timelines read once for
all of them). What leaves this module is allow-listed: the targets by their public names,
cause categories (error kinds), the reasons of the maintenance excluded; no ids of monitors,
services or windows, no error texts, nothing of another agreement.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from uptimed.core import agreements
from uptimed.core.times import to_ms
from uptimed.model.config import SLO, Agreement, Config, Customer
from uptimed.model.pages import (
    AgreementView,
    ExcludedWindow,
    LedgerPeriod,
    LedgerRow,
    Outage,
    PolicyView,
    Statement,
)
from uptimed.model.report import Exclusion, Scope, SloReport, Window
from uptimed.render.text import configured
from uptimed.service.history import History, one_snapshot
from uptimed.service.report import ReportReader
from uptimed.service.targets import Targets
from uptimed.service.window import data_range, slo_window

_ADJECTIVE = {"month": "monthly", "quarter": "quarterly", "year": "yearly"}


def public_name(config: Config, kind: str, key: str) -> str:
    """What a customer sees of a target: its public name (an agreement's targets have one)."""
    if kind == "service":
        found = next((s for s in config.services if s.id == key), None)
        name = found.public_name if found else None
    else:
        m = config.monitor(key)
        name = m.public_name if m else None
    return name or "a covered component"


def customer_agreements(config: Config, customer: Customer) -> list[Agreement]:
    return [a for a in config.agreements if a.customer == customer.id]


def _slos(config: Config, a: Agreement, term: agreements.Term) -> list[SLO]:
    """The agreement's SLOs as it evaluates them: in its time zone, within its term (and the
    SLO's own, where it has one)."""
    by_id = {s.id: s for s in config.slos}
    out = []
    for sid in a.slos:
        s = by_id[sid]
        start, end = term.start, term.end
        if s.effective_from is not None:
            start = max(start, to_ms(s.effective_from))
        if s.effective_until is not None:
            own = to_ms(s.effective_until)
            end = own if end is None else min(end, own)
        out.append(
            dataclasses.replace(
                s,
                timezone=a.timezone,
                effective_from=_aware(start),
                effective_until=None if end is None else _aware(end),
            )
        )
    return out


def _aware(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class _Periods:
    """The readers of an agreement's periods, over one set of timelines."""

    def __init__(self, conn: sqlite3.Connection, config: Config, a: Agreement, now: int):
        self.config, self.agreement, self.now = config, a, now
        self.term = agreements.term(a, now)
        self.slos = _slos(config, a, self.term)
        self.periods = agreements.periods(a, now)
        self.windows = {
            p.label: Window(p.start, min(p.end, now), a.timezone, (p.kind, p.label),
                            requested_end=p.end)
            for p in self.periods
        }  # fmt: skip
        lo, hi = data_range(
            [], [slo_window(s, now, w) for w in self.windows.values() for s in self.slos]
        )
        self._targets = Targets(History(conn, config, lo, hi, now))
        self.conn = conn

    def slo_reports(self, label: str) -> tuple[SloReport, ...]:
        scope = Scope((), (), tuple(self.slos))
        shared: Callable[[int, int], Targets] = lambda lo, hi: self._targets  # noqa: E731
        reader = ReportReader(
            self.conn, self.config, scope, self.windows[label], self.now, targets=shared
        )
        return reader.slos()

    def reason(self, x: Exclusion) -> str | None:
        """An excluded window's reason, also when the report withheld it for being named on
        another of the agreement's targets than the SLO's (the customer's own business)."""
        if x.reason is not None:
            return x.reason
        reason, named = self._targets.history.maintenance.named(x.source, x.id)
        mine = {(self._targets.kind(s.target), s.target) for s in self.slos}
        return reason if named and set(named) <= mine else None


def agreement_view(
    conn: sqlite3.Connection, config: Config, a: Agreement, now: int
) -> AgreementView:
    with one_snapshot(conn):
        ps = _Periods(conn, config, a, now)
        periods = [_period(config, a, p, ps.slo_reports(p.label), ps.reason) for p in ps.periods]
    customer = next(c for c in config.customers if c.id == a.customer)
    return AgreementView(
        id=a.id,
        name=a.name,
        customer=customer.name,
        timezone=a.timezone,
        reporting=a.reporting,
        term_start=ps.term.start,
        term_end=ps.term.end,
        next_renewal=ps.term.next_renewal,
        renewals=ps.term.renewals,
        renewal=a.renewal,
        termination_notice_s=a.termination_notice,
        provider_obligations=a.provider_obligations,
        customer_obligations=a.customer_obligations,
        credit_cap=a.credit_cap,
        slos=tuple(_slo_name(config, s) for s in ps.slos),
        policies=tuple(_policy(config, a, s) for s in ps.slos),
        periods=tuple(reversed(periods)),
    )


_COUNTED = {"exclude": "excluded", "down": "counted as downtime", "up": "counted as uptime"}


def _policy(config: Config, a: Agreement, s: SLO) -> PolicyView:
    charge = f"of the {_ADJECTIVE.get(a.reporting, a.reporting)} charge"
    return PolicyView(
        _slo_name(config, s),
        _COUNTED.get(s.policy.unknown, s.policy.unknown),
        _COUNTED.get(s.policy.maintenance, s.policy.maintenance),
        s.min_coverage,
        tuple(
            f"below {configured(t.below)} %: {configured(t.credit)} % {charge}" for t in s.credits
        ),
    )


def _slo_name(config: Config, s: SLO) -> str:
    kind = "service" if any(x.id == s.target for x in config.services) else "monitor"
    return f"{public_name(config, kind, s.target)} availability ≥ {configured(s.objective)} %"


def _period(
    config: Config,
    a: Agreement,
    p: agreements.Period,
    reports: tuple[SloReport, ...],
    reason: Callable[[Exclusion], str | None],
) -> LedgerPeriod:
    rows = tuple(_row(config, a, r, reason) for r in reports)
    total, was_capped = agreements.capped(
        [r.credit for r in rows if r.credit is not None], a.credit_cap
    )
    start = min((r.window.start for r in reports), default=p.start)
    end = max((r.window.start + r.window.length_ms for r in reports), default=p.end)
    figures_end = max((r.window.end for r in reports), default=p.start)
    return LedgerPeriod(p.label, p.kind, start, end, figures_end, p.final, rows, total, was_capped)


def _row(
    config: Config, a: Agreement, r: SloReport, reason: Callable[[Exclusion], str | None]
) -> LedgerRow:
    s, fig, ev = r.slo, r.figures, r.evaluation
    component = public_name(config, r.target_kind, s.target)
    budget = ev.budget
    burnt = None
    if budget.total_ms:
        burnt = float(budget.consumed_ms / budget.total_ms)
    credit = ev.credit.credit if ev.credit is not None else None
    return LedgerRow(
        slo=_slo_name(config, s),
        component=component,
        objective=s.objective,
        attainment=None if ev.attainment is None else float(ev.attainment),
        verdict=ev.verdict,
        budget_ms=float(budget.total_ms),
        used_ms=budget.consumed_ms,
        remaining_ms=float(budget.remaining_ms),
        burnt=burnt,
        maintenance_ms=fig.maintenance_ms,
        unknown_ms=fig.unknown_ms,
        coverage=fig.coverage,
        min_coverage=s.min_coverage,
        incidents=fig.incident_count,
        mttr_ms=fig.mttr_ms,
        longest_ms=fig.longest_incident_ms,
        credit=credit,
        credit_below=ev.credit.below if ev.credit is not None else None,
        credit_rule=_credit_rule(a, r),
        policy_unknown=s.policy.unknown,
        policy_maintenance=s.policy.maintenance,
        outages=tuple(
            Outage(component, start, end, duration, counted, cause)
            for start, end, duration, counted, cause in fig.incidents or ()
        ),
        exclusions=tuple(_excluded(config, x, reason(x)) for x in r.exclusions),
    )


def _excluded(config: Config, x: Exclusion, reason: str | None) -> ExcludedWindow:
    names = [public_name(config, "monitor", k) for k in x.monitors]
    names += [public_name(config, "service", k) for k in x.services]
    return ExcludedWindow(
        tuple(dict.fromkeys(names)), x.start, x.end, reason, announced=not x.retroactive
    )


def _credit_rule(a: Agreement, r: SloReport) -> str:
    """The rule that gave the period's credit, or why there is none."""
    ev, s = r.evaluation, r.slo
    charge = f"of the {_ADJECTIVE.get(a.reporting, a.reporting)} charge"
    if not s.credits:
        return "this SLO carries no service credit"
    if ev.verdict not in ("met", "missed"):
        return f"{ev.verdict}: no verdict, so no credit is claimed"
    if ev.credit is not None:
        return f"below {configured(ev.credit.below)} %: {configured(ev.credit.credit)} % {charge}"
    # Credits begin below the highest tier's threshold: not below it, no tier applies.
    begin = configured(max(t.below for t in s.credits))
    if ev.met:
        return f"objective met: no credit (credits begin below {begin} %)"
    return f"not below {begin} %: no credit tier applies"


def statements(
    conn: sqlite3.Connection, config: Config, a: Agreement, now: int, label: str | None = None
) -> list[Statement]:
    """The statement of each period (oldest first), or of the one named ``label`` (none: no
    such period)."""
    with one_snapshot(conn):
        ps = _Periods(conn, config, a, now)
        out = []
        for p in ps.periods:
            if label is None or p.label == label:
                reports = ps.slo_reports(p.label)
                period = _period(config, a, p, reports, ps.reason)
                out.append(Statement(a.id, a.timezone, a.credit_cap, now, period, reports))
        return out
