"""The sentences of a report that the table and the customer document share: verdicts, error
budgets, credits, policies, exclusions, periods to date.

An SLO's verdict is its evaluation's (``met``, ``missed``, ``insufficient data`` when its
coverage is below its minimum, ``no data`` when nothing was eligible); one this version does not
know is shown as it is and never as met. Only a met or missed SLO can claim a service credit.
"""

from __future__ import annotations

from datetime import tzinfo

from uptimed.core.times import iso
from uptimed.model.config import Policy, ResponseObjective
from uptimed.model.report import (
    ACKNOWLEDGE,
    ErrorBudget,
    Exclusion,
    Latency,
    Miss,
    Report,
    ServiceReport,
    SloReport,
)
from uptimed.render.json import ratio, seconds
from uptimed.render.text import (
    Inline,
    configured,
    format_percent,
    human_duration,
    length_text,
    local_time,
    overspent_percent,
    period_name,
    places_for,
    text,
)

VERDICTS = ("met", "missed", "insufficient data", "no data")


def time(ms: int | None, tz: tzinfo, missing: str = "-") -> Inline:
    """A time for the Markdown and HTML reports: in ``tz``, at whole seconds, never broken."""
    return [missing] if ms is None else [("time", local_time(ms, tz))]


def time_range(start: int, end: int, tz: tzinfo) -> Inline:
    return [*time(start, tz), " – ", *time(end, tz)]


def to_date(start: int, end: int, full_end: int, now: int, tz: tzinfo) -> Inline | None:
    """For a report or an SLO whose period has not ended at ``now``: "December 2026 to date:
    1d01h of 31d elapsed (figures to 2026-12-02 01:00:00 UTC)"; None otherwise. ``[start,
    end)``: the figures' time; ``full_end``: where the period ends."""
    if full_end <= now:
        return None
    name = period_name(start, full_end, tz)
    whole: Inline = [name] if name is not None else time_range(start, full_end, tz)
    elapsed = human_duration(seconds(end - start))
    progress = f": {elapsed} of {length_text(full_end - start)} elapsed"
    return [*whole, " to date", progress, " (figures to ", *time(end, tz), ")"]


def slo_to_date(r: SloReport, now: int, tz: tzinfo) -> Inline | None:
    w = r.window
    return to_date(w.start, w.end, w.start + w.length_ms, now, tz)


#: Words for each error kind (probes.base.ERROR_KINDS), shown next to the kind itself.
CAUSES: dict[str, str] = {
    "dns": "DNS lookup failed",
    "refused": "connection refused",
    "unreachable": "host unreachable",
    "timeout": "timed out",
    "reset": "connection reset",
    "tls": "TLS handshake or certificate failed",
    "http_status": "HTTP error status",
    "redirects": "too many redirects",
    "protocol": "invalid HTTP reply",
    "body_too_large": "response body too large",
    "error": "other error",
    "internal": "internal error of uptimed, not the target's",
}


def cause_text(cause: str | None) -> str:
    """An incident's cause in words with its error kind: "connection refused (refused)"."""
    if cause is None:
        return "-"
    words = CAUSES.get(cause)
    return f"{words} ({cause})" if words else text(cause)


def policy_text(policy: Policy) -> str:
    unknown_text = {
        "exclude": "unknown time excluded",
        "down": "unknown time counted as down",
        "up": "unknown time counted as up",
    }.get(policy.unknown, f"unknown time: {text(policy.unknown)}")
    maintenance_text = {"exclude": "maintenance excluded", "up": "maintenance counted as up"}.get(
        policy.maintenance, f"maintenance: {text(policy.maintenance)}"
    )
    return f"{unknown_text}, {maintenance_text}"


def policy_short(policy: Policy) -> str:
    return f"unknown={text(policy.unknown)}, maintenance={text(policy.maintenance)}"


def own_policy(r: SloReport, report: Report) -> bool:
    """The SLO counts time under another policy than the report's figures."""
    mine, theirs = r.slo.policy, report.policy
    return (mine.unknown, mine.maintenance) != (theirs.unknown, theirs.maintenance)


def evaluated_over(r: SloReport) -> str:
    """What an SLO was evaluated over: "the rolling window 30d", "the calendar month", or "the
    report window" (its own window or period was not asked for)."""
    w = r.window
    if w.basis == "window" and w.label:
        return "the rolling window " + text(w.label)
    if w.basis == "period" and w.label:
        return "the calendar " + text(w.label)
    return "the report window"


def slo_basis(r: SloReport) -> str:
    """The table's short form: "window 30d, Europe/Berlin", "report window, UTC"."""
    w = r.window
    if w.basis == "window" and w.label:
        parts = ["window " + text(w.label)]
    elif w.basis == "period" and w.label:
        parts = ["period " + text(w.label)]
    else:
        parts = ["report window"]
    if r.slo.timezone:
        parts.append(text(r.slo.timezone))
    return ", ".join(parts)


def rule(s: ServiceReport) -> str:
    if s.rule == "quorum":
        return f"quorum {text(s.quorum)} of {len(s.monitors)}"
    return text(s.rule)


def verdict(r: SloReport) -> str:
    """One of :data:`VERDICTS`, or an unknown verdict as text (never shown as met)."""
    v = r.evaluation.verdict
    return v if v in VERDICTS else text(v)


def judged(r: SloReport) -> bool:
    """Met or missed: only then can an SLO claim a service credit."""
    return verdict(r) in ("met", "missed")


def met_word(met: bool | None) -> str:
    return "MET" if met is True else "MISSED" if met is False else "NO DATA"


def coverage_text(r: SloReport) -> str | None:
    """ "12.5 % of the eligible time has data (minimum 90 %)": cut to as many decimals as the
    minimum has, so a coverage below the minimum never shows as equal to it."""
    coverage, minimum = r.figures.coverage, r.slo.min_coverage
    if coverage is None:
        return None
    shown = format_percent(coverage, places_for(minimum, 1))
    return f"{shown} of the eligible time has data (minimum {configured(minimum)} %)"


def why_no_verdict(r: SloReport) -> str:
    """Why an SLO has no verdict: "insufficient data: coverage 12.5 % is below the 90 % minimum;
    no verdict and no service credit are claimed"."""
    v, w = verdict(r), r.window
    minimum = f"{configured(r.slo.min_coverage)} %"
    if v == "insufficient data":
        coverage = r.figures.coverage
        if coverage is not None:
            shown = format_percent(coverage, places_for(r.slo.min_coverage, 1))
            why = f"coverage {shown} is below the {minimum} minimum"
        else:
            why = f"coverage is below the {minimum} minimum"
    elif v == "no data" and w.start == w.end:
        # An empty window: the term or the period lies elsewhere.
        if w.term_start is not None and w.term_start >= w.start:
            why = f"the agreement's term begins {iso(w.term_start)}"
        elif w.term_end is not None and w.term_end <= w.start:
            why = f"the agreement's term ended {iso(w.term_end)}"
        else:
            why = f"the period begins {iso(w.start)}"
    elif v == "no data":
        why = "none of the time evaluated was eligible"
    else:
        why = "the verdict is not one this version knows"
    return f"{v}: {why}; no verdict and no service credit are claimed"


def credit_text(r: SloReport) -> str:
    if not judged(r):
        return f"none claimed ({verdict(r)})"
    credit = r.evaluation.credit
    if credit is not None:
        return f"{configured(credit.credit)} % (attainment below {configured(credit.below)} %)"
    return "none"


def overspent(budget: ErrorBudget) -> str | None:
    """ "overspent by 285 % (18m32s)" when the budget is overspent, else None."""
    left, remaining = ratio(budget.remaining_ratio), seconds(float(budget.remaining_ms))
    how_long = human_duration(-remaining) if remaining is not None and remaining < 0 else None
    if left is not None and left < 0:
        return f"overspent by {overspent_percent(-left)}" + (f" ({how_long})" if how_long else "")
    if how_long is not None:  # no ratio (a budget of zero): the time alone
        return f"overspent by {how_long}"
    return None


def budget_left(budget: ErrorBudget, places: int) -> str:
    spent = overspent(budget)
    if spent is not None:
        return spent
    left = format_percent(ratio(budget.remaining_ratio), places)
    return f"{human_duration(seconds(float(budget.remaining_ms)))} ({left})"


def budget_remaining(budget: ErrorBudget) -> str:
    spent = overspent(budget)
    if spent is not None:
        return spent
    left = format_percent(ratio(budget.remaining_ratio), 3)
    return f"{human_duration(seconds(float(budget.remaining_ms)))} left ({left})"


def covers(x: Exclusion) -> str:
    parts = []
    for key, ids in (("monitors", x.monitors), ("services", x.services)):
        if ids:
            parts.append(f"{key} {', '.join(text(i) for i in ids)}")
    return "; ".join(parts) or "-"


def exclusion_note(x: Exclusion, tz: tzinfo | None = None) -> Inline:
    """How the window came about: "retroactive, added by alice at ...", "ad hoc", "config", and
    the other listed windows it overlaps ("overlaps #3"). Times in ``tz``, or in RFC 3339 when
    None (the table)."""
    if x.retroactive:
        note: Inline = ["retroactive"]
    elif x.source == "adhoc":
        note = ["ad hoc"]
    else:
        note = [text(x.source or "config")]
    if x.retroactive or x.source == "adhoc":
        if x.created_by is not None:
            note.append(f", added by {text(x.created_by)}")
        if x.created_at is not None:
            at = time(x.created_at, tz) if tz is not None else [text(iso(x.created_at))]
            note += [" at ", *at]
    if x.overlaps:
        note.append("; overlaps " + ", ".join(exclusion_ref(i) for i in x.overlaps))
    return note


def exclusion_ref(ident: int | str) -> str:
    """A listed exclusion by id: "#3" for an ad-hoc window's number, a config window's id as is."""
    return f"#{ident}" if isinstance(ident, int) else text(ident)


def customers(report: Report) -> list[str]:
    names: list[str] = []
    for r in report.slos:
        customer = r.slo.customer
        if customer and customer not in names:
            names.append(customer)
    return names


def config_versions(report: Report, tz: tzinfo | None = None) -> list[Inline]:
    """ "<sha256> (<from> to <to>)" per configuration in effect; times in ``tz``, or in RFC 3339
    when None (the table)."""
    lines: list[Inline] = []
    for v in report.config_versions:
        if tz is None:
            span: Inline = [f"{iso(v.start)} to {iso(v.end)}"]
        else:
            span = [*time(v.start, tz), " to ", *time(v.end, tz)]
        lines.append([f"{text(v.sha256)} (", *span, ")"])
    return lines


def latency_partial(lat: Latency | None, tz: tzinfo | None) -> Inline | None:
    """ "latency counted from <time> only" when the latency SLI does not cover the whole window
    (not ``exact``); None otherwise. Times in ``tz``, or in RFC 3339 when None."""
    if lat is None or lat.exact:
        return None
    if lat.counted_from is None:
        return ["latency counted over part of the window only"]
    since = time(lat.counted_from, tz) if tz is not None else [text(iso(lat.counted_from))]
    return ["latency counted from ", *since, " only"]


def objective_time(objective: ResponseObjective | None, which: str) -> str:
    """A response objective's time (``which``: acknowledge or resolve), "-" when none."""
    value = None if objective is None else getattr(objective, which)
    return "-" if value is None else human_duration(value)


def took(m: Miss) -> str:
    """How long a missed objective took, or that it was not done."""
    if m.took is not None:
        return human_duration(m.took / 1000)
    return "not acknowledged" if m.objective == ACKNOWLEDGE else "not resolved"
