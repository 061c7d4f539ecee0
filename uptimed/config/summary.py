"""What ``uptimed check-config`` prints about a valid config: one screen, one row per topic."""

from __future__ import annotations

from collections import Counter

from uptimed.config.values import host_port, show_decimal
from uptimed.core.shard import plan, shard_text
from uptimed.core.times import format_duration, iso, to_ms
from uptimed.model.config import DEFAULT_MIN_COVERAGE, SLO, Agreement, Config

SUMMARY_SLOS = 10  # SLO lines shown
_MAX_TALLY = 8  # distinct durations shown in a row


def summarize(config: Config) -> str:
    """The one-screen summary printed by ``uptimed check-config``."""
    enabled = [m for m in config.monitors if m.enabled]
    disabled = len(config.monitors) - len(enabled)
    kinds = Counter(m.kind for m in enabled)
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    monitors = f"{len(enabled)} enabled" + (f" ({by_kind})" if by_kind else "")
    load = sum(1.0 / m.interval for m in enabled)
    load_text = f"{load:.2f}" if load == 0 or load >= 0.01 else f"{load:.2g}"
    d = config.daemon
    rows = [
        ("database", d.database),
        ("listen", host_port(d.listen_host, d.listen_port)),
        ("monitors", f"{monitors}, {disabled} disabled"),
        ("intervals", _tally([m.interval for m in enabled])),
        # the effective timeouts: a monitor's own, or the inherited one capped at interval / 2
        ("timeouts", _tally([m.timeout for m in enabled])),
        ("load", f"{load_text} probes/s"),
    ]
    rows += _fleet_rows(config)
    pending = config.unresolved_credentials
    if pending:
        more = f", ... {len(pending) - 5} more" if len(pending) > 5 else ""
        names = ", ".join(pending[:5]) + more
        are = "secrets are" if len(pending) > 1 else "secret is"
        text = f"{len(pending)} {are} read from systemd credentials when the daemon runs ({names})"
        rows.append(("secrets", text))
    if config.services:
        rules = Counter(s.rule for s in config.services)
        by_rule = ", ".join(f"{r} {n}" for r, n in sorted(rules.items()))
        rows.append(("services", f"{len(config.services)} ({by_rule})"))
    if config.slos:
        rows.append(("slos", str(len(config.slos))))
        rows += [("slo", _describe_slo(slo)) for slo in config.slos[:SUMMARY_SLOS]]
        if len(config.slos) > SUMMARY_SLOS:
            rows.append(("", f"... {len(config.slos) - SUMMARY_SLOS} more"))
    if config.maintenance:
        recurring = sum(1 for w in config.maintenance if w.recurrence is not None)
        one_off = len(config.maintenance) - recurring
        rows.append(
            ("maintenance", f"{len(config.maintenance)} ({recurring} recurring, {one_off} one-off)")
        )
    if config.notifiers:
        kinds = Counter(n.kind for n in config.notifiers)
        by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        rows.append(("notifiers", f"{len(config.notifiers)} ({by_kind})"))
    for policy in config.escalations:
        steps = ", then ".join(
            f"{', '.join(lv.notify)} after {format_duration(lv.after)}" for lv in policy.levels
        )
        rows.append(("escalation", f"{policy.id}: {steps}"))
    if config.customers:
        tokens = sum(len(customer.token_digests) for customer in config.customers)
        rows.append(("customers", f"{len(config.customers)} ({tokens} token{_s(tokens)})"))
    rows += [("agreement", _describe_agreement(a)) for a in config.agreements[:SUMMARY_SLOS]]
    if len(config.agreements) > SUMMARY_SLOS:
        rows.append(("", f"... {len(config.agreements) - SUMMARY_SLOS} more"))
    return "\n".join([f"{config.path}: OK"] + [f"  {k:<12}{v}" for k, v in rows])


def _fleet_rows(config: Config) -> list[tuple[str, str]]:
    """Location, shard and /metrics credentials, when set. A shard names the services and SLOs
    it does not evaluate: their members run on other shards."""
    d = config.daemon
    rows = []
    if d.location is not None:
        rows.append(
            (
                "location",
                f"{d.location} (the fleet counts a monitor down when {d.location_quorum} "
                f"location{'s see' if d.location_quorum > 1 else ' sees'} it down)",
            )
        )
    if d.shard is not None:
        p = plan(config)
        rows.append(
            ("shard", f"{shard_text(d.shard)}: runs {len(p.monitors)} of "
             f"{len(config.monitors)} monitors")
        )  # fmt: skip
        for kind, elsewhere in (("service", p.services_elsewhere), ("slo", p.slos_elsewhere)):
            for key, shards in list(elsewhere.items())[:SUMMARY_SLOS]:
                on = ", ".join(str(i) for i in shards)
                rows.append(
                    ("", f"{kind} {key}: not here (members on shard {on}): see the Prometheus "
                     "rules, or report over every shard's database")
                )  # fmt: skip
            if len(elsewhere) > SUMMARY_SLOS:
                rows.append(("", f"... {len(elsewhere) - SUMMARY_SLOS} more {kind}s"))
    auth = [
        *(["bearer token"] if d.metrics_token else []),
        *([f"basic auth (user {d.metrics_username})"] if d.metrics_username else []),
    ]
    if auth:
        rows.append(("/metrics", " or ".join(auth)))
    return rows


def _tally(durations: list[float]) -> str:
    """``10s x2, 1m30s x1``: how many of each duration, shortest first, at most 8 kinds."""
    counts = sorted(Counter(durations).items())
    shown = [f"{format_duration(d)} x{n}" for d, n in counts[:_MAX_TALLY]]
    if len(counts) > _MAX_TALLY:
        shown.append(f"... {len(counts) - _MAX_TALLY} more")
    return ", ".join(shown) or "-"


def _describe_slo(slo: SLO) -> str:
    """``web-availability: web >= 99.9% over 30d / month (Europe/Berlin), latency 99.0% < 300ms,
    3 credit tiers, service hours``."""
    over = [_show_window(slo.window)] if slo.window is not None else []
    if slo.period is not None:
        over.append(slo.period + (f" ({slo.timezone})" if slo.timezone != "UTC" else ""))
    text = f"{slo.id}: {slo.target} >= {slo.objective}% over {' / '.join(over)}"
    extras = []
    if slo.latency is not None:
        extras.append(
            f"latency {slo.latency.objective}% < {format_duration(slo.latency.threshold)}"
        )
    if slo.credits:
        extras.append(f"{len(slo.credits)} credit tier{'s' if len(slo.credits) > 1 else ''}")
    if slo.service_hours is not None:
        extras.append("service hours")
    if slo.min_coverage != DEFAULT_MIN_COVERAGE:
        extras.append(f"min coverage {show_decimal(slo.min_coverage)}%")
    return ", ".join([text, *extras])


def _describe_agreement(a: Agreement) -> str:
    """``acme-hosting: acme, slos web-availability, api-latency, from 2026-01-01T00:00:00Z
    until 2027-01-01T00:00:00Z (renews yearly), statements per month (Europe/Berlin)``."""
    slos = ", ".join(a.slos[:3]) + (f", ... {len(a.slos) - 3} more" if len(a.slos) > 3 else "")
    term = f"from {iso(to_ms(a.effective_from))}"
    if a.effective_until is not None:
        term += f" until {iso(to_ms(a.effective_until))}"
    if a.renewal is not None:
        term += f" (renews {_RENEWALS[a.renewal]})"
    zone = f" ({a.timezone})" if a.timezone != "UTC" else ""
    text = f"{a.id}: {a.customer}, slo{_s(len(a.slos))} {slos}, {term}, "
    text += f"statements per {a.reporting}{zone}"
    if a.credit_cap is not None:
        text += f", credits capped at {show_decimal(a.credit_cap)}%"
    return text


_RENEWALS = {"month": "monthly", "quarter": "quarterly", "year": "yearly"}


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _show_window(seconds: float) -> str:
    """A window in days when it is whole days ("30d", not "4w2d"), else as a duration."""
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)}d"
    return format_duration(seconds)
