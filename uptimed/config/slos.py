"""[[slo]]: objectives on a monitor or a service, their terms, credits and policy.

Rules:
  ids        uptimed.config.ids; target names a monitor or a service.
  percent    objective, latency.objective and credits[].below are TOML numbers in percent,
             kept as Decimal from the written text (99.9 -> Decimal("99.9"), via repr of the
             float); a value in (0, 1] reads as a ratio written by mistake and is an error
             that suggests the percent. credit is a number from 0 to 1000 (percent).
             min_coverage is a percent from 0 to 100 inclusive (default 90; 0: no minimum), by
             the same rules (0.9 is an error suggesting 90): below it an SLO's verdict is
             "insufficient data", never met, and no credit tier is claimed.
  window     a rolling window (a duration, at least 1s) and/or a calendar period (week, month,
             quarter, year), cut in the SLO's timezone (default UTC).
  term       effective_from and effective_until are instants (uptimed.config.values), from
             before until.
  latency    { threshold = duration > 0, objective = percent }.
  credits    tiers { below = percent, credit = percent of the charge }, each below once,
             sorted by below, highest first.
  policy     { unknown = "exclude" | "down" | "up", maintenance = "exclude" | "up" }.
  service_hours
             see uptimed.config.service_hours.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from uptimed.config import values
from uptimed.config.checker import Checker, Invalid, show_number
from uptimed.config.ids import ident, reference
from uptimed.config.service_hours import check_service_hours
from uptimed.core.sla import MAINTENANCE_POLICIES, UNKNOWN_POLICIES
from uptimed.core.times import PERIODS
from uptimed.model.config import (
    DEFAULT_MIN_COVERAGE,
    SLO,
    CreditTier,
    LatencyObjective,
    Policy,
)

MIN_SLO_WINDOW = 1.0
MAX_CREDIT = 1000

SLO_KEYS = (
    "id",
    "target",
    "objective",
    "window",
    "period",
    "timezone",
    "effective_from",
    "effective_until",
    "customer",
    "latency",
    "credits",
    "service_hours",
    "policy",
    "min_coverage",
)
LATENCY_KEYS = ("threshold", "objective")
CREDIT_KEYS = ("below", "credit")
POLICY_KEYS = ("unknown", "maintenance")


def check_slos(c: Checker, tables: list[object]) -> list[SLO | None]:
    """Each [[slo]], None for one that is wrong."""
    seen: dict[str, int] = {}
    return [_slo(c, i, raw, seen) for i, raw in enumerate(tables)]


def _slo(c: Checker, i: int, raw: object, seen: dict[str, int]) -> SLO | None:
    base = f"slo[{i}]"
    if not isinstance(raw, dict):
        c.type_error(base, "a table", raw)
        return None
    n_errors = len(c.errors)
    sid = c.attempt(ident, raw, "slo", i, seen)
    p = f'{base} (id "{sid}")' if sid is not None else base
    c.unknown_keys(raw, p, SLO_KEYS)
    target = None
    if "target" not in raw:
        c.error(p, 'missing required key "target" (a monitor or service id)')
    else:
        target = c.attempt(
            reference,
            raw["target"],
            f"{p}.target",
            {"monitor": c.ids["monitor"], "service": c.ids["service"]},
            "a monitor or service id",
        )
    objective = None
    if "objective" not in raw:
        c.error(p, 'missing required key "objective" (in percent, e.g. 99.9)')
    else:
        objective = c.attempt(_percent, raw["objective"], f"{p}.objective", "the objective")
    window = period = None
    if "window" in raw:
        window = c.attempt(
            values.duration_at_least, raw["window"], f"{p}.window", MIN_SLO_WINDOW, "window"
        )
    if "period" in raw:
        period = c.attempt(
            values.choice, raw["period"], f"{p}.period", PERIODS, "a calendar period"
        )
    if "window" not in raw and "period" not in raw:
        c.error(
            p,
            'missing "window" or "period": give a rolling window (e.g. window = "30d"), a '
            'calendar period (e.g. period = "month"), or both',
        )
    tz: str | None = "UTC"
    if "timezone" in raw:
        tz = c.attempt(values.time_zone, raw["timezone"], f"{p}.timezone")
    start = end = None
    if "effective_from" in raw:
        start = c.attempt(values.instant, raw["effective_from"], f"{p}.effective_from")
    if "effective_until" in raw:
        end = c.attempt(values.instant, raw["effective_until"], f"{p}.effective_until")
    if start is not None and end is not None and not start < end:
        c.error(
            f"{p}.effective_until",
            f"{values.show_instant(raw['effective_until'])} is not after effective_from "
            f"({values.show_instant(raw['effective_from'])})",
        )
    customer = None
    if "customer" in raw:
        customer = c.attempt(values.text, raw["customer"], f"{p}.customer")
    latency = None
    if "latency" in raw:
        latency = c.attempt(_latency, raw["latency"], f"{p}.latency")
    credits: tuple[CreditTier, ...] | None = ()
    if "credits" in raw:
        credits = c.attempt(_credits, raw["credits"], f"{p}.credits")
    hours = None
    if "service_hours" in raw:
        hours = c.attempt(check_service_hours, raw["service_hours"], f"{p}.service_hours", tz)
    policy: Policy | None = Policy()
    if "policy" in raw:
        policy = c.attempt(_policy, raw["policy"], f"{p}.policy")
    min_coverage: Decimal | None = DEFAULT_MIN_COVERAGE
    if "min_coverage" in raw:
        min_coverage = c.attempt(_min_coverage, raw["min_coverage"], f"{p}.min_coverage")
    if (
        len(c.errors) > n_errors
        or sid is None
        or target is None
        or objective is None
        or tz is None
        or credits is None
        or policy is None
        or min_coverage is None
    ):
        return None
    return SLO(
        id=sid,
        target=target,
        objective=objective,
        window=window,
        period=period,
        timezone=tz,
        effective_from=start,
        effective_until=end,
        customer=customer,
        latency=latency,
        credits=credits,
        service_hours=hours,
        policy=policy,
        min_coverage=min_coverage,
    )


def _number(c: Checker, value: object, path: str, wanted: str) -> Decimal:
    """A TOML integer or float as the Decimal of its written text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        if isinstance(value, str):
            bare = value.strip().removesuffix("%").strip()
            if re.fullmatch(r"[0-9]{1,20}(\.[0-9]{1,20})?", bare):
                hint = f" (write {bare} without quotes{' or %' if '%' in value else ''})"
        raise c.type_error(path, wanted, value, hint)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise c.error(path, f"{show_number(value)} is not a finite number")
        return Decimal(repr(value))
    return Decimal(value)


def _percent(
    c: Checker,
    value: object,
    path: str,
    what: str,
    *,
    up_to_100: bool = False,
    ratio_check: bool = True,
) -> Decimal:
    """A percentage in (0, 100), or (0, 100] with ``up_to_100``."""
    number = _number(c, value, path, "a number in percent such as 99.9")
    shown = _shown(value)
    if not (0 < number <= 100 if up_to_100 else 0 < number < 100):
        allowed = "more than 0, at most 100" if up_to_100 else "more than 0, less than 100"
        raise c.error(path, f"{shown} is out of range (allowed: {allowed}, in percent)")
    if ratio_check and number <= 1:
        fix = f"write {values.show_decimal(number * 100)}" if number < 1 else "e.g. 99.9, not 0.999"
        raise c.error(path, f"{shown} looks like a ratio: {what} is in percent ({fix})")
    return number


def _shown(number: object) -> str:
    """A number as written (``_number`` accepted it: an int or a float)."""
    assert isinstance(number, (int, float))
    return show_number(number)


def _min_coverage(c: Checker, value: object, path: str) -> Decimal:
    """The least coverage for a verdict: a percentage from 0 (no minimum) to 100 inclusive,
    the exact Decimal written; a value in (0, 1] is a ratio written by mistake."""
    number = _number(c, value, path, "a number in percent such as 90")
    shown = _shown(value)
    if not 0 <= number <= 100:
        raise c.error(
            path, f"{shown} is out of range (allowed: 0 to 100, in percent; 0 for no minimum)"
        )
    if 0 < number <= 1:
        fix = f"write {values.show_decimal(number * 100)}" if number < 1 else "e.g. 90, not 0.9"
        raise c.error(
            path, f"{shown} looks like a ratio: the minimum coverage is in percent ({fix})"
        )
    return abs(number) if number == 0 else number  # -0.0 is 0


def _latency(c: Checker, value: object, path: str) -> LatencyObjective:
    table = values.table(c, value, path, LATENCY_KEYS, '{ threshold = "300ms", objective = 99.0 }')
    threshold = objective = None
    if "threshold" not in table:
        c.error(path, 'missing required key "threshold" (a duration such as "300ms")')
    else:
        threshold = c.attempt(
            values.positive_duration, table["threshold"], f"{path}.threshold", "threshold"
        )
    if "objective" not in table:
        c.error(path, 'missing required key "objective" (in percent, e.g. 99.0)')
    else:
        objective = c.attempt(
            _percent, table["objective"], f"{path}.objective", "the latency objective"
        )
    if threshold is None or objective is None:
        raise Invalid
    return LatencyObjective(threshold=threshold, objective=objective)


def _credits(c: Checker, value: object, path: str) -> tuple[CreditTier, ...]:
    if not isinstance(value, list):
        raise c.type_error(
            path, "an array of tables such as [{ below = 99.9, credit = 10 }]", value
        )
    tiers: list[CreditTier] = []
    first: dict[Decimal, int] = {}
    n_errors = len(c.errors)
    for j, item in enumerate(value):
        ipath = f"{path}[{j}]"
        table = c.attempt(values.table, item, ipath, CREDIT_KEYS, "{ below = 99.9, credit = 10 }")
        if table is None:
            continue
        below = credit = None
        if "below" not in table:
            c.error(
                ipath,
                'missing required key "below" '
                "(the attainment, in percent, under which the tier applies)",
            )
        else:
            below = c.attempt(_percent, table["below"], f"{ipath}.below", "below", up_to_100=True)
        if "credit" not in table:
            c.error(ipath, 'missing required key "credit" (percent of the charge)')
        else:
            credit = c.attempt(
                _number, table["credit"], f"{ipath}.credit", "a number in percent such as 10"
            )
            if credit is not None and not 0 <= credit <= MAX_CREDIT:
                c.error(
                    f"{ipath}.credit",
                    f"{_shown(table['credit'])} is out of range "
                    f"(allowed: 0 to {MAX_CREDIT}, in percent)",
                )
                credit = None
        if below is not None:
            if below in first:
                c.error(
                    f"{ipath}.below",
                    f"{_shown(table['below'])} is used twice (first at "
                    f"credits[{first[below]}]): each tier needs its own threshold",
                )
            else:
                first[below] = j
        if below is not None and credit is not None:
            tiers.append(CreditTier(below=below, credit=credit))
    if len(c.errors) > n_errors:
        raise Invalid
    return tuple(sorted(tiers, key=lambda t: t.below, reverse=True))


def _policy(c: Checker, value: object, path: str) -> Policy:
    table = values.table(
        c, value, path, POLICY_KEYS, '{ unknown = "exclude", maintenance = "exclude" }'
    )
    unknown: str | None = "exclude"
    if "unknown" in table:
        unknown = c.attempt(
            values.choice,
            table["unknown"],
            f"{path}.unknown",
            UNKNOWN_POLICIES,
            "a policy for unknown time",
        )
    maintenance: str | None = "exclude"
    if "maintenance" in table:
        maintenance = c.attempt(
            values.choice,
            table["maintenance"],
            f"{path}.maintenance",
            MAINTENANCE_POLICIES,
            "a policy for maintenance time",
        )
    if unknown is None or maintenance is None:
        raise Invalid
    return Policy(unknown=unknown, maintenance=maintenance)
