"""[[service]]: monitors combined into one verdict.

Rules: id (uptimed.config.ids: unique among services, not a monitor's id) and monitors (ids of
monitors, at least one, each once) are required; name is the id when not given. rule is "all"
(down while any member is down; the default), "any" (down only while every member is down) or
"quorum", which needs quorum = k: down while at least k members are down (1 <= k <= members).
severity and escalation: as for monitors (uptimed.config.notifications). public and public_name:
see uptimed.config.customers (a public service without public_name is shown by its name).
"""

from __future__ import annotations

from uptimed.config import values
from uptimed.config.checker import Checker
from uptimed.config.customers import PUBLIC_KEYS, check_public
from uptimed.config.ids import id_list, ident
from uptimed.config.monitors import MAX_THRESHOLD, Defaults
from uptimed.config.notifications import PAGING_KEYS, paging
from uptimed.core.sla import RULES
from uptimed.model.config import Service

SERVICE_KEYS = ("id", "name", "monitors", "rule", "quorum", *PAGING_KEYS, *PUBLIC_KEYS)


def check_services(
    c: Checker, tables: list[object], seen: dict[str, int], defaults: Defaults
) -> list[Service | None]:
    """Each [[service]], None for one that is wrong; valid ids are recorded in ``seen``.
    ``defaults``: their severity and escalation policy."""
    return [_service(c, i, raw, seen, defaults) for i, raw in enumerate(tables)]


def _service(
    c: Checker, i: int, raw: object, seen: dict[str, int], defaults: Defaults
) -> Service | None:
    base = f"service[{i}]"
    if not isinstance(raw, dict):
        c.type_error(base, "a table", raw)
        return None
    n_errors = len(c.errors)
    sid = c.attempt(ident, raw, "service", i, seen, c.ids["monitor"])
    p = f'{base} (id "{sid}")' if sid is not None else base
    c.unknown_keys(raw, p, SERVICE_KEYS)
    name = sid
    if "name" in raw:
        name = c.attempt(values.name, raw["name"], f"{p}.name")
    monitors = None
    if "monitors" not in raw:
        c.error(p, 'missing required key "monitors" (the ids of its monitors)')
    else:
        monitors = c.attempt(
            id_list,
            raw["monitors"],
            f"{p}.monitors",
            {"monitor": c.ids["monitor"]},
            "a monitor id",
            misplaced={"service": "; a service is made of monitors only"},
        )
    rule: str | None = "all"
    if "rule" in raw:
        rule = c.attempt(values.choice, raw["rule"], f"{p}.rule", RULES, "a service rule")
    quorum = None
    if rule == "quorum":
        if "quorum" not in raw:
            c.error(
                p,
                'missing required key "quorum" (rule "quorum" needs k: the service is down '
                "when at least k of its monitors are down)",
            )
        else:
            quorum = c.attempt(values.integer, raw["quorum"], f"{p}.quorum", 1, MAX_THRESHOLD)
            if quorum is not None and monitors is not None and quorum > len(monitors):
                n = len(monitors)
                c.error(
                    f"{p}.quorum",
                    f"{quorum} is more than the service's {n} monitor{'s' if n > 1 else ''} "
                    f"(allowed: 1 to {n})",
                )
    elif "quorum" in raw and rule is not None:
        c.error(
            f"{p}.quorum",
            f'only applies with rule = "quorum" (this service\'s rule is "{rule}")',
        )
    severity, escalation, escalation_bad = paging(
        c, raw, p, defaults.severity, defaults.escalation, defaults.escalation_bad
    )
    shown = c.attempt(check_public, raw, p, "service", name)
    if (
        len(c.errors) > n_errors or sid is None or name is None or monitors is None
        or rule is None or severity is None or escalation_bad or shown is None
    ):  # fmt: skip
        return None
    public, public_name = shown
    return Service(
        id=sid, name=name, monitors=monitors, rule=rule, quorum=quorum, severity=severity,
        escalation=escalation, public=public, public_name=public_name,
    )  # fmt: skip
