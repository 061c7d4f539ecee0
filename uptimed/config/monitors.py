"""[defaults] and [[monitor]]: the keys every monitor has, and the table of kinds.

Rules. id (see uptimed.config.ids) and kind are required; kind is one of probes.KINDS, any case
(a missing kind is an error that suggests one from the keys given: url -> http, host or port ->
tcp). A monitor's own keys are then those of its kind (:data:`KIND_KEYS`): a key of another
kind is an error that says so ("url" on a tcp monitor); unknown keys get a suggestion. name is
the id when not given. Defaults, resolved per monitor:
  interval   the monitor's, else [defaults].interval, else 60s. At least 1s.
  timeout    the monitor's own timeout, used as written: it must be strictly shorter than
             the monitor's interval, else that is an error. A monitor without one gets
             [defaults].timeout (10s when not set), capped at half of its own interval:
             min(defaults.timeout or 10s, interval / 2). So "interval = 5s" alone gives a 2.5s
             timeout, with or without an explicit timeout = "10s" in [defaults], and an
             inherited timeout can never clash with an interval. (This is the rule
             config.example.toml states: "Default: 10s, or half the interval when shorter".)
  thresholds the monitor's, else [defaults], else 1 (at most 1000).
  labels     [defaults].labels, then the monitor's labels on top (same name: the monitor wins;
             an empty string value removes the label); sorted by name.
  severity, escalation  the monitor's, else [defaults]' (uptimed.config.notifications).
  public, public_name   the monitor's own only (not in [defaults]): see uptimed.config.customers
             (a public monitor needs public_name).

A new probe kind is one module of keys here (like uptimed.config.http: KEYS, REQUIRED and
build) and one entry in :data:`KIND_KEYS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import probes
from uptimed.config import http, tcp, values
from uptimed.config.checker import Checker, Table, echo, join, suggest
from uptimed.config.customers import PUBLIC_KEYS, check_public
from uptimed.config.ids import ident
from uptimed.config.notifications import DEFAULT_SEVERITY, PAGING_KEYS, paging
from uptimed.core.times import format_duration
from uptimed.model.config import Monitor, ProbeSpec

DEFAULT_INTERVAL = 60.0
DEFAULT_TIMEOUT = 10.0
MAX_THRESHOLD = 1000

DEFAULTS_KEYS = (
    "interval", "timeout", "failure_threshold", "success_threshold", "labels", *PAGING_KEYS,
)  # fmt: skip
COMMON_MONITOR_KEYS = ("id", "name", "kind", "enabled", *DEFAULTS_KEYS, *PUBLIC_KEYS)


@dataclass(frozen=True)
class KindKeys:
    """The config side of a probe kind: its keys, the ones it cannot do without, and what
    turns them into its spec and the monitor's target (raising Invalid when they are wrong)."""

    keys: tuple[str, ...]
    required: tuple[str, ...]
    build: Callable[[Checker, Table, str, float], tuple[ProbeSpec, str]]


#: The keys of each kind, in the order of probes.KINDS (the order messages list kinds in).
KIND_KEYS: dict[str, KindKeys] = {
    "http": KindKeys(http.KEYS, http.REQUIRED, http.build),
    "tcp": KindKeys(tcp.KEYS, tcp.REQUIRED, tcp.build),
}
if list(KIND_KEYS) != list(probes.KINDS):  # a kind without config keys, or keys without a kind
    raise RuntimeError(
        f"config kinds {list(KIND_KEYS)} differ from probes.KINDS {list(probes.KINDS)}"
    )
KINDS: tuple[str, ...] = tuple(KIND_KEYS)
_ANY_KIND_KEYS = tuple(key for kind in KIND_KEYS.values() for key in kind.keys)


@dataclass(frozen=True)
class Defaults:
    """[defaults] after checking. None marks a value that was wrong (its error is recorded):
    the monitors that would inherit it are dropped without an error of their own."""

    interval: float | None = DEFAULT_INTERVAL
    interval_written: bool = False
    timeout: float | None = None  # as written; None with timeout_bad False: not written
    timeout_bad: bool = False
    failure_threshold: int | None = 1
    success_threshold: int | None = 1
    labels: Mapping[str, str] | None = None
    severity: str | None = DEFAULT_SEVERITY
    escalation: str | None = None
    escalation_bad: bool = False


#: What monitors inherit from a [defaults] that is not a table (its error is recorded).
_UNUSABLE_DEFAULTS = Defaults(
    interval=None, timeout_bad=True, failure_threshold=None, success_threshold=None, labels=None,
    severity=None, escalation_bad=True,
)  # fmt: skip


def check_defaults(c: Checker, table: Table | None) -> Defaults:
    """[defaults]; ``table`` None: the section was not a table (already reported)."""
    if table is None:
        return _UNUSABLE_DEFAULTS
    own = {key: value for key, value in table.items() if key not in PUBLIC_KEYS}
    c.unknown_keys(own, "defaults", DEFAULTS_KEYS)
    for key in PUBLIC_KEYS:
        if key in table:
            c.error(
                f"defaults.{key}",
                "is not a default: set it in each [[monitor]] or [[service]] the status page shows",
            )
    interval: float | None = DEFAULT_INTERVAL
    if "interval" in table:
        interval = c.attempt(values.interval, table["interval"], "defaults.interval")
    timeout = None
    if "timeout" in table:
        timeout = c.attempt(values.timeout, table["timeout"], "defaults.timeout")
    thresholds: dict[str, int | None] = {"failure_threshold": 1, "success_threshold": 1}
    for key in thresholds:
        if key in table:
            thresholds[key] = c.attempt(
                values.integer, table[key], f"defaults.{key}", 1, MAX_THRESHOLD
            )
    labels: dict[str, str] | None = {}
    if "labels" in table:
        written = c.attempt(values.labels, table["labels"], "defaults.labels")
        labels = None if written is None else {k: v for k, v in written.items() if v}
    severity, escalation, escalation_bad = paging(c, table, "defaults", DEFAULT_SEVERITY, None)
    return Defaults(
        severity=severity,
        escalation=escalation,
        escalation_bad=escalation_bad,
        interval=interval,
        interval_written="interval" in table,
        timeout=timeout,
        timeout_bad="timeout" in table and timeout is None,
        failure_threshold=thresholds["failure_threshold"],
        success_threshold=thresholds["success_threshold"],
        labels=labels,
    )


def check_monitors(
    c: Checker, value: object, defaults: Defaults, seen: dict[str, int]
) -> list[Monitor | None] | None:
    """[[monitor]]: each monitor, None for one that is wrong; None when the array is."""
    if isinstance(value, dict):
        c.type_error("monitor", "an array of tables", value, " (write [[monitor]], not [monitor])")
        return None
    if not isinstance(value, list):
        c.type_error("monitor", "an array of tables ([[monitor]])", value)
        return None
    if not value:
        c.error("", "no [[monitor]] defined")
        return None
    return [_monitor(c, i, item, defaults, seen) for i, item in enumerate(value)]


def _monitor(
    c: Checker, i: int, raw: object, defaults: Defaults, seen: dict[str, int]
) -> Monitor | None:
    base = f"monitor[{i}]"
    if not isinstance(raw, dict):
        c.type_error(base, "a table", raw)
        return None
    n_errors = len(c.errors)

    # id and kind first: they name the monitor and decide which keys are allowed
    mid = c.attempt(ident, raw, "monitor", i, seen)
    p = f'{base} (id "{mid}")' if mid is not None else base
    kind = _kind(c, raw, p)
    _unknown_keys(c, raw, p, kind)

    name = mid
    if "name" in raw:
        name = c.attempt(values.name, raw["name"], f"{p}.name")
    enabled: bool | None = True
    if "enabled" in raw:
        enabled = c.attempt(values.boolean, raw["enabled"], f"{p}.enabled")
    interval, timeout = _timing(c, raw, p, defaults)
    failure = _threshold(c, raw, p, "failure_threshold", defaults.failure_threshold)
    success = _threshold(c, raw, p, "success_threshold", defaults.success_threshold)
    merged = _labels(c, raw, p, defaults)
    severity, escalation, escalation_bad = paging(
        c, raw, p, defaults.severity, defaults.escalation, defaults.escalation_bad
    )
    shown = c.attempt(check_public, raw, p, "monitor", name)
    built = None
    if kind is not None:
        # with its timeout wrong (reported), the spec is still checked, for its own errors
        spec_timeout = timeout if timeout is not None else 1.0
        built = c.attempt(KIND_KEYS[kind].build, raw, p, spec_timeout)

    if (
        len(c.errors) > n_errors
        or mid is None
        or kind is None
        or name is None
        or enabled is None
        or interval is None
        or timeout is None
        or failure is None
        or success is None
        or merged is None
        or built is None
        or severity is None
        or escalation_bad
        or shown is None
    ):
        return None
    spec, target = built
    public, public_name = shown
    return Monitor(
        id=mid,
        name=name,
        kind=kind,
        interval=interval,
        timeout=timeout,
        failure_threshold=failure,
        success_threshold=success,
        labels=tuple(sorted(merged.items())),
        enabled=enabled,
        spec=spec,
        target=target,
        severity=severity,
        escalation=escalation,
        public=public,
        public_name=public_name,
    )


def _kind(c: Checker, raw: Table, p: str) -> str | None:
    if "kind" in raw:
        return c.attempt(values.choice, raw["kind"], f"{p}.kind", KINDS, "a kind")
    guess = next((k for k, keys in KIND_KEYS.items() if any(r in raw for r in keys.required)), None)
    hint = f'; add kind = "{guess}"?' if guess else ""
    c.error(p, f'missing required key "kind" (allowed: {", ".join(KINDS)}{hint})')
    return None


def _unknown_keys(c: Checker, raw: Table, p: str, kind: str | None) -> None:
    """Keys neither common nor of the monitor's kind: a key of another kind says so."""
    allowed = COMMON_MONITOR_KEYS + (KIND_KEYS[kind].keys if kind else _ANY_KIND_KEYS)
    for key in raw:
        if key in allowed:
            continue
        owner = next((k for k, keys in KIND_KEYS.items() if key in keys.keys), None)
        if kind is not None and owner is not None and owner != kind:
            c.error(
                join(p, key), f'"{key}" belongs to {owner} monitors; this monitor is kind "{kind}"'
            )
        else:
            c.error(p, f"unknown key {echo(key)}{suggest(key, allowed)}")


def _timing(
    c: Checker, raw: Table, p: str, defaults: Defaults
) -> tuple[float | None, float | None]:
    """The monitor's interval and timeout (see the rules above); None: wrong, or inherited
    from a wrong default."""
    if "interval" in raw:
        interval = c.attempt(values.interval, raw["interval"], f"{p}.interval")
    else:
        interval = defaults.interval
    if "timeout" in raw:
        timeout = c.attempt(values.timeout, raw["timeout"], f"{p}.timeout")
        if interval is not None and timeout is not None and timeout >= interval:
            where = ""
            if "interval" not in raw:
                where = ", from defaults.interval" if defaults.interval_written else ", the default"
            c.error(
                f"{p}.timeout",
                f"{format_duration(timeout)} must be shorter than the interval "
                f"({format_duration(interval)}{where})",
            )
            timeout = None
        return interval, timeout
    if interval is None or defaults.timeout_bad:
        return interval, None
    inherited = DEFAULT_TIMEOUT if defaults.timeout is None else defaults.timeout
    return interval, min(inherited, interval / 2)


def _threshold(c: Checker, raw: Table, p: str, key: str, inherited: int | None) -> int | None:
    if key in raw:
        return c.attempt(values.integer, raw[key], f"{p}.{key}", 1, MAX_THRESHOLD)
    return inherited


def _labels(c: Checker, raw: Table, p: str, defaults: Defaults) -> dict[str, str] | None:
    merged = None if defaults.labels is None else dict(defaults.labels)
    if "labels" in raw:
        own = c.attempt(values.labels, raw["labels"], f"{p}.labels")
        if own is None or merged is None:
            return None
        for key, text in own.items():
            if text:
                merged[key] = text
            else:
                merged.pop(key, None)
    return merged
