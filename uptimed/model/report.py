"""The typed report: what ``uptimed report``, the API and /metrics are computed into.

Every value is exact until it is rendered: times are integer milliseconds since the epoch,
durations integer milliseconds, ratios :class:`~fractions.Fraction` (or the float the engine
derives once, for display, from two integers: ``availability``, ``coverage``), configured numbers
the :class:`~decimal.Decimal` of their written text. :mod:`uptimed.service` computes these once
(:func:`uptimed.service.report.build_report`, and the parts the API and /metrics ask for);
:mod:`uptimed.render` turns them into text (JSON seconds and ratios, RFC 3339 times, tables,
Markdown, HTML) and computes nothing.

What a report covers (:class:`Window`, :class:`Scope`, :class:`SloWindow`), the engine's figures
(:data:`Incident`, :class:`Figures`, :class:`SLOEvaluation`, :class:`LatencyAttainment`), and
the report of each target (:class:`MonitorReport`, :class:`ServiceReport`, :class:`SloReport`)
with the maintenance that changed it (:class:`Exclusion`), in one :class:`Report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from uptimed.model.config import SLO, CreditTier, Policy, ResponseObjective

Interval = tuple[int, int]  # [start, end) in ms, as uptimed.core.intervals has it

# -- what a report covers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """The monitors, services and SLOs a report covers, in config order."""

    monitors: tuple[str, ...]
    services: tuple[str, ...]
    slos: tuple[SLO, ...]


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class SloWindow:
    """The time an SLO is evaluated over: ``[start, end)``, the window or period asked for
    (``period_start``, ``period_end``) cut to the agreement's term (``term_start`` /
    ``term_end``) and to now; empty (``start == end``) when the period or the term has not
    begun, or the term ended before the period began. ``basis`` says what was asked for:
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


# -- the engine's figures (uptimed.core.sla computes them) ---------------------------------------


#: One confirmed outage: ``(start, end, duration_ms, counted_ms, cause)``, a DOWN timeline row,
#: whole (an outage that spans a daemon restart is one incident even though the time the daemon
#: was stopped is unknown).
#:
#: ``end`` is ``None`` while ongoing; ``duration_ms`` is ``end - start``, or ``now - start``
#: while ongoing. ``counted_ms`` is the part of it that counts as downtime in the window of the
#: figures it belongs to (inside the window and a run, not degraded, not in maintenance, not
#: outside service hours). ``cause``: the error kind of its first failed probe.
#:
#: A plain tuple, not a named one nor a dataclass: a 30-day report of 10,000 monitors holds a
#: million of them, and the garbage collector stops tracking a plain tuple of numbers and strings
#: (never an instance of a class), so that holding them costs its passes nothing.
Incident = tuple[int, "int | None", int, int, "str | None"]


@dataclass(frozen=True, slots=True)
class Figures:
    """The raw availability figures of one target over ``[start, end)`` (no policy applied).

    ``up_ms + down_ms + maintenance_ms + unknown_ms + outside_hours_ms == end - start``.
    ``availability = up / (up + down)`` (None when both are 0); ``coverage = (up + down) /
    (window − maintenance − outside_hours)`` (None when that is 0). Incident statistics use each
    incident's ``counted_ms``: ``incident_total_ms`` is their sum, ``longest_incident_ms`` their
    maximum (0 without incidents), ``mttr_ms`` their mean and ``mtbf_ms = up_ms / count`` (None
    without incidents). ``incidents`` is None when they were counted but not listed (see
    :func:`uptimed.core.sla.summarized_figures`)."""

    start: int
    end: int
    up_ms: int
    down_ms: int
    maintenance_ms: int
    unknown_ms: int
    outside_hours_ms: int
    availability: float | None
    coverage: float | None
    incidents: tuple[Incident, ...] | None
    incident_count: int
    incident_total_ms: int
    longest_incident_ms: int
    mttr_ms: float | None
    mtbf_ms: float | None

    @property
    def window_ms(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class ErrorBudget:
    """Exact, in milliseconds: ``total = (1 − objective) × eligible``, ``consumed = bad``,
    ``remaining = total − consumed`` (negative once overspent), ``remaining_ratio = 1 −
    consumed / total`` (None when the budget is 0)."""

    total_ms: Fraction
    consumed_ms: int
    remaining_ms: Fraction
    remaining_ratio: Fraction | None


@dataclass(frozen=True, slots=True)
class SLOEvaluation:
    """An availability SLO over one window. ``attainment`` is the exact ratio good / eligible
    (0..1; None when nothing is eligible). ``met`` is ``attainment >= objective`` (None without
    data). ``credit`` is the tier reached (None without data or when none applies).
    ``burn_rate`` is the burn rate over this same window (see
    :func:`uptimed.core.sla.burn_rate`).

    ``verdict``: ``"met"`` or ``"missed"``; ``"insufficient data"`` when the coverage is below
    the minimum (then ``met`` and ``credit`` are None: a verdict on thin data is no verdict);
    ``"no data"`` when nothing is eligible."""

    objective: Decimal
    policy: Policy
    eligible_ms: int
    good_ms: int
    bad_ms: int
    attainment: Fraction | None
    met: bool | None
    budget: ErrorBudget
    burn_rate: float | None
    credit: CreditTier | None
    verdict: str = "no data"

    @property
    def attainment_percent(self) -> Fraction | None:
        return None if self.attainment is None else self.attainment * 100


@dataclass(frozen=True, slots=True)
class LatencyAttainment:
    """A latency SLI: ``good`` of ``total`` successful probes were faster than the threshold.
    ``attainment`` is the exact ratio (None when ``total`` is 0), ``met`` is ``attainment >=
    objective`` (None when ``total`` is 0)."""

    good: int
    total: int
    objective: Decimal
    attainment: Fraction | None
    met: bool | None


# -- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonitorReport:
    id: str
    name: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class ServiceReport:
    id: str
    name: str
    rule: str  # "all" | "any" | "quorum"
    quorum: int | None
    monitors: tuple[str, ...]
    figures: Figures


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A maintenance window that changed a figure of the report (or of one SLO): one occurrence,
    cut to the time those figures are over, naming only the targets it changed there.

    ``id``: a config window's id, or an ad-hoc window's number. ``reason`` is None when the
    window names a target outside the report and is listed for what it covered in it (a shared
    member): the reason of another customer's window is not this report's to show.
    ``overlaps``: the ids of the other listed windows it overlaps on one of its targets."""

    id: int | str
    source: str  # "config" | "adhoc"
    reason: str | None
    created_by: str | None
    created_at: int | None
    retroactive: bool
    monitors: tuple[str, ...]
    services: tuple[str, ...]
    start: int
    end: int
    overlaps: tuple[int | str, ...]


@dataclass(frozen=True, slots=True)
class Latency:
    """An SLO's latency SLI over the hours that start in its window (``threshold``: seconds, as
    configured). ``counted_from``: since when every successful probe of the target is counted
    against this threshold (None while one of its monitors is not counted at all). ``exact``:
    counted, and no successful probe of those hours left out."""

    threshold: float
    attainment: LatencyAttainment
    counted_from: int | None
    exact: bool


@dataclass(frozen=True, slots=True)
class SloReport:
    """Everything shown of an SLO: its window, figures, evaluation, burn rates (in the order of
    :data:`uptimed.core.sla.BURN_WINDOWS`; None where nothing of that window lies in the term),
    latency SLI and the maintenance that changed its figures."""

    slo: SLO
    target_kind: str  # "monitor" | "service"
    window: SloWindow
    figures: Figures
    evaluation: SLOEvaluation
    burn_rates: tuple[tuple[str, float | None], ...]
    latency: Latency | None
    exclusions: tuple[Exclusion, ...]


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    """A configuration in effect over ``[start, end)`` (consecutive runs with one hash)."""

    sha256: str
    start: int
    end: int


# -- response and resolution objectives (uptimed.core.response) ---------------------------

ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class Handling:
    """One incident's times (ms), which the response objectives are measured on."""

    id: str
    target_kind: str
    target: str
    severity: str
    start: int  # backdated to the first failure, as the SLA counts the downtime
    confirmed: int
    acknowledged: int | None
    resolved: int | None

    @property
    def acknowledged_open(self) -> int | None:
        """The acknowledgement, if it came while the incident was open."""
        a, r = self.acknowledged, self.resolved
        return a if a is not None and (r is None or a <= r) else None


@dataclass(frozen=True, slots=True)
class Miss:
    """An objective an incident missed: ``took`` None when it was not done at all."""

    incident: Handling
    objective: str  # ACKNOWLEDGE | RESOLVE
    allowed: int  # ms
    took: int | None  # ms


@dataclass(frozen=True, slots=True)
class SeverityResponse:
    """One severity's incidents: how many, MTTA and MTTR (ms; None: none acknowledged or
    resolved) and the objectives they missed."""

    severity: str
    objective: ResponseObjective | None
    incidents: int
    acknowledged: int  # while open
    resolved: int
    mtta: float | None
    mttr: float | None
    missed_acknowledge: int
    missed_resolve: int


@dataclass(frozen=True, slots=True)
class ResponseReport:
    """Per severity (most severe first: those with an objective or an incident), and the
    misses by the incident's start."""

    severities: tuple[SeverityResponse, ...]
    missed: tuple[Miss, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """A whole report: monitors and services over ``[start, end)`` (``full_end``: where the
    window or period asked for ends, later than ``end`` while it is under way), SLOs over their
    own windows, the maintenance that changed any figure, and what reproduces it (policy,
    configuration versions)."""

    start: int
    end: int
    full_end: int
    generated_at: int
    timezone: str
    policy: Policy
    config_sha256: str
    config_versions: tuple[ConfigVersion, ...]
    exclusions: tuple[Exclusion, ...]
    monitors: tuple[MonitorReport, ...]
    services: tuple[ServiceReport, ...]
    slos: tuple[SloReport, ...]
    #: the response and resolution objectives, of the incidents that began in the window; None
    #: when the configuration has none (``[response]``) or the report reads no incident table
    response: ResponseReport | None = None
