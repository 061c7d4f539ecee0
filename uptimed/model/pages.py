"""The view-models of the public status page and the customer portal: the allow-list.

Pages, feeds, badges and their JSON are rendered from these values only, and these hold only
what a visitor (or a signed-in customer) may see: public names, figures, times, cause
*categories* (a probe's error kind, never its text), the reasons of maintenance windows. Never a
target's URL, host or port, an error message, a monitor's id or labels, or another customer's
data; references are opaque digests, not sequential ids. Times are ms since the epoch, durations
ms, ratios floats (for display; the figures behind them are the report's exact ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from uptimed.model.report import SloReport


def slug(public_name: str) -> str:
    """A public name in a URL (a badge's): lowercase, runs of anything but a-z and 0-9 as one
    "-". The config makes sure no two public targets share one."""
    return _SLUG_SEPARATORS.sub("-", public_name.lower()).strip("-")


_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")

#: The rolling windows a badge can show, in days.
BADGE_WINDOWS = {"1d": 1, "7d": 7, "30d": 30, "90d": 90}

#: A component's state as the page shows it.
STATES = ("up", "down", "maintenance", "unknown")


@dataclass(frozen=True, slots=True)
class DayBar:
    """One UTC day of a component (today: to now)."""

    day: int  # 00:00 UTC
    end: int
    up_ms: int
    down_ms: int
    maintenance_ms: int
    unknown_ms: int
    availability: float | None  # up / (up + down); None without a verdict all day
    incidents: int  # outages that began that day


@dataclass(frozen=True, slots=True)
class MonthUptime:
    label: str  # "2026-11"
    start: int
    end: int  # now, for the month under way
    availability: float | None
    to_date: bool
    #: (up + down) / (the month − maintenance): how much of it the availability stands on
    coverage: float | None = None


@dataclass(frozen=True, slots=True)
class Component:
    """A public service or monitor, by its public name."""

    slug: str  # of the public name: the badge's path
    name: str
    state: str  # one of STATES
    days: tuple[DayBar, ...]
    months: tuple[MonthUptime, ...]
    availability: float | None  # over the days shown
    #: availability over rolling windows ending now, by BADGE_WINDOWS label ("30d")
    rolling: tuple[tuple[str, float | None], ...] = ()
    coverage: float | None = None  # over the days shown, as the report's


@dataclass(frozen=True, slots=True)
class PublicIncident:
    ref: str  # an opaque digest
    component: str  # public name
    slug: str
    start: int
    end: int | None  # None: ongoing
    duration_ms: int
    cause: str | None  # the error kind of its first failure: a category


@dataclass(frozen=True, slots=True)
class PublicMaintenance:
    ref: str  # an opaque digest
    components: tuple[str, ...]  # public names
    start: int
    end: int
    reason: str | None
    active: bool
    #: when it was announced: an ad-hoc window's creation, a config window's start less the
    #: time the page looks ahead (when it first showed); stable, for the feed
    announced: int


@dataclass(frozen=True, slots=True)
class StatusPage:
    title: str
    generated_at: int
    state: str  # the worst of the components' (down > unknown > maintenance > up)
    components: tuple[Component, ...]
    incidents: tuple[PublicIncident, ...]  # newest first
    maintenance: tuple[PublicMaintenance, ...]  # active and upcoming, by start
    feed_ref: str = ""  # this installation's feed, as an opaque digest


# -- the customer portal ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outage:
    """An outage of a covered target in a period: counted is what the SLA counted of it."""

    component: str
    start: int
    end: int | None
    duration_ms: int
    counted_ms: int
    cause: str | None


@dataclass(frozen=True, slots=True)
class ExcludedWindow:
    """A maintenance window that was excluded from a period's figures."""

    components: tuple[str, ...]
    start: int
    end: int
    reason: str | None
    announced: bool  # added before it began (False: added afterwards)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One SLO of an agreement over one period."""

    slo: str  # "<public name> availability", unique in the agreement
    component: str
    objective: Decimal  # percent
    attainment: float | None  # 0..1
    verdict: str  # "met" | "missed" | "insufficient data" | "no data"
    budget_ms: float  # allowed downtime
    used_ms: int
    remaining_ms: float
    burnt: float | None  # share of the budget used (1 = all)
    maintenance_ms: int
    unknown_ms: int
    coverage: float | None
    min_coverage: Decimal
    incidents: int
    mttr_ms: float | None
    longest_ms: int
    credit: Decimal | None  # percent of the charge; None: not eligible
    credit_below: Decimal | None  # the tier's threshold (percent), with credit
    credit_rule: str  # "below 99.9 %: 10 % of the monthly charge", or why none applies
    policy_unknown: str
    policy_maintenance: str
    outages: tuple[Outage, ...]
    exclusions: tuple[ExcludedWindow, ...]


@dataclass(frozen=True, slots=True)
class LedgerPeriod:
    label: str
    kind: str
    start: int
    end: int  # where the period ends (cut to the term)
    figures_end: int  # where its figures end: now for a provisional period
    final: bool
    rows: tuple[LedgerRow, ...]
    credit: Decimal  # the period's total, capped
    capped: bool


@dataclass(frozen=True, slots=True)
class PolicyView:
    """How one SLO of an agreement counts what is neither plainly up nor down."""

    name: str
    unknown: str  # in words: "excluded", "counted as downtime", "counted as uptime"
    maintenance: str
    min_coverage: Decimal
    tiers: tuple[str, ...]  # "below 99.9 %: 10 % of the monthly charge", highest first


@dataclass(frozen=True, slots=True)
class AgreementView:
    id: str  # the agreement's id: the customer's own reference for it
    name: str
    customer: str  # the customer's name
    timezone: str
    reporting: str
    term_start: int
    term_end: int | None
    next_renewal: int | None
    renewals: int  # how many times the term was renewed by now
    renewal: str | None
    termination_notice_s: float | None
    provider_obligations: str
    customer_obligations: str
    credit_cap: Decimal | None
    slos: tuple[str, ...]  # the ledger rows' names
    policies: tuple[PolicyView, ...]
    periods: tuple[LedgerPeriod, ...]  # newest first


@dataclass(frozen=True, slots=True)
class Statement:
    """One period's statement of an agreement, as it is downloaded: the ledger period, and the
    report of each of its SLOs over it (in the agreement's order), of which the rendering keeps
    only the figures (:data:`uptimed.render.pages.STATEMENT_KEYS`)."""

    agreement: str  # the agreement's id
    timezone: str
    credit_cap: Decimal | None
    generated_at: int
    period: LedgerPeriod
    reports: tuple[SloReport, ...]
