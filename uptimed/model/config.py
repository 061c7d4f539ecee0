"""The validated configuration: frozen values that :mod:`uptimed.config` builds from a TOML
file. Everything downstream reads these, never the raw TOML (the rules each value obeys are
stated by the config module that checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as time_of_day
from decimal import Decimal
from functools import cached_property
from typing import TypeAlias

from probes.http import HttpSpec
from probes.tcp import TcpSpec

#: The spec of a monitor: one type per kind of :data:`probes.KINDS`.
ProbeSpec: TypeAlias = HttpSpec | TcpSpec

#: An SLO's least coverage (percent of eligible time with a verdict) when none is configured.
DEFAULT_MIN_COVERAGE = Decimal(90)


@dataclass(frozen=True)
class DaemonConfig:
    database: str  # an absolute path (see the rules for [daemon].database)
    listen_host: str = "127.0.0.1"
    listen_port: int = 9464
    log_level: str = "info"  # debug | info | warning | error
    max_concurrency: int = 500  # probes in flight at once (bounds open sockets)
    #: The bearer token for API writes, resolved from [daemon].api_token; None: write endpoints
    #: off (also when its reference was left unresolved by secrets="check" or "skip").
    api_token: str | None = field(default=None, repr=False)
    connectivity_check: tuple[str, ...] = ()  # "tcp://host:port" or "http(s)://..." canaries
    #: Where this daemon probes from: a ``location`` label on every series; None: no label.
    location: str | None = None
    #: (index, count), 1-based: run only the monitors of shard ``index`` of ``count``.
    shard: tuple[int, int] | None = None
    #: How many locations must see a monitor down for the fleet to count it down.
    location_quorum: int = 1
    #: /metrics credentials: a bearer token, and/or basic auth; none set: /metrics is open.
    metrics_token: str | None = field(default=None, repr=False)
    metrics_username: str | None = None
    metrics_password: str | None = field(default=None, repr=False)
    #: The links in notifications: this daemon's API as people reach it, and a dashboard.
    public_url: str | None = None
    dashboard_url: str | None = None


@dataclass(frozen=True)
class Monitor:
    id: str
    name: str
    kind: str  # a key of probes.KINDS: "http", "tcp"
    interval: float  # seconds, >= 1
    timeout: float  # seconds, < interval
    failure_threshold: int
    success_threshold: int
    labels: tuple[tuple[str, str], ...]  # [defaults].labels merged with the monitor's, sorted
    enabled: bool
    spec: ProbeSpec
    target: str  # what is probed, safe to log: URL with credentials redacted, or "host:port"
    severity: str = "major"  # of its incidents: one of SEVERITIES
    escalation: str | None = None  # the id of its EscalationPolicy; None: nobody is paged
    public: bool = False  # shown on the status page, as public_name (and nothing else of it)
    public_name: str | None = None  # set whenever public is true

    @property
    def max_gap(self) -> float:
        """How long one probe's verdict may stand without the next one (seconds)."""
        return 2 * self.interval + self.timeout


@dataclass(frozen=True)
class Retention:
    raw: float = 14 * 86400.0  # seconds
    rollup: float = 400 * 86400.0  # seconds: rollup_hourly rows


@dataclass(frozen=True)
class Recurrence:
    """A recurring maintenance window: occurrences of ``rrule`` (RFC 5545 RRULE body, e.g.
    "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", no DTSTART) or ``cron`` (5 fields), in local time of
    ``timezone``, each lasting ``duration`` seconds of real time."""

    rrule: str | None
    cron: str | None
    duration: float
    timezone: str  # IANA name, e.g. "Europe/Berlin"


@dataclass(frozen=True)
class Maintenance:
    """A maintenance window from the config: one-off (``start``/``end``) or recurring."""

    id: str
    monitors: tuple[str, ...]
    services: tuple[str, ...]
    reason: str | None
    start: datetime | None  # timezone-aware (UTC); set for one-off windows
    end: datetime | None
    recurrence: Recurrence | None


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    monitors: tuple[str, ...]
    rule: str  # "all" | "any" | "quorum"
    quorum: int | None  # k, for rule "quorum": down when at least k members are down
    severity: str = "major"
    escalation: str | None = None
    public: bool = False  # as for Monitor
    public_name: str | None = None  # set whenever public is true


@dataclass(frozen=True)
class Policy:
    """How time that is neither plainly up nor down counts toward attainment."""

    unknown: str = "exclude"  # "exclude" | "down" | "up"
    maintenance: str = "exclude"  # "exclude" | "up"


@dataclass(frozen=True)
class CreditTier:
    below: Decimal  # percent: applies when attainment < below
    credit: Decimal  # percent of the charge, as configured


@dataclass(frozen=True)
class LatencyObjective:
    threshold: float  # seconds
    objective: Decimal  # percent of successful probes faster than threshold


@dataclass(frozen=True)
class ServiceHours:
    """Weekly hours in which an SLO counts; time outside is not eligible."""

    days: tuple[int, ...]  # 0 = Monday ... 6 = Sunday
    start: time_of_day  # local wall time, inclusive
    end: time_of_day  # local wall time, exclusive; 00:00 means midnight at the end of the day
    timezone: str


@dataclass(frozen=True)
class SLO:
    id: str
    target: str  # a monitor id or a service id
    objective: Decimal  # percent, e.g. Decimal("99.9")
    window: float | None  # rolling window, seconds (e.g. 30 days)
    period: str | None  # calendar period: "week" | "month" | "quarter" | "year"
    timezone: str  # IANA; calendar periods and reports are cut in it (default "UTC")
    effective_from: datetime | None  # agreement term, aware
    effective_until: datetime | None
    customer: str | None
    latency: LatencyObjective | None
    credits: tuple[CreditTier, ...]  # sorted by ``below``, descending
    service_hours: ServiceHours | None
    policy: Policy
    #: Below this coverage (percent of eligible time with a verdict) the verdict is
    #: "insufficient data": never met, and no credit tier is claimed.
    min_coverage: Decimal = DEFAULT_MIN_COVERAGE


#: Incident severities, the most severe first.
SEVERITIES = ("critical", "major", "minor")


@dataclass(frozen=True)
class EscalationLevel:
    after: float  # seconds since notifying began (the incident confirmed), while unacknowledged
    notify: tuple[str, ...]  # notifier ids


@dataclass(frozen=True)
class EscalationPolicy:
    """``[[escalation]]``: who hears of an incident, and when."""

    id: str
    levels: tuple[EscalationLevel, ...]  # by ``after``, strictly increasing; at least one
    repeat: float | None = None  # seconds between reminders while open and unacknowledged
    notify_resolved: bool = True  # everyone told of the incident hears of its end
    group: bool = False  # a service's incident stands for its members' (they page once)
    #: Flapping: more than ``flap_changes`` state changes within ``flap_window`` seconds send one
    #: ``monitor.flapping`` and keep the target's new incidents quiet for ``flap_quiet`` seconds.
    flap_changes: int = 6
    flap_window: float = 900.0
    flap_quiet: float = 1800.0


@dataclass(frozen=True)
class Notifier:
    """``[[notifier]]``. ``url``, ``headers`` and ``secret`` may hold credentials: never
    logged, shown or stored in a readable column (their repr hides them)."""

    id: str
    kind: str  # "webhook" | "apprise"
    url: str = field(repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # webhook only
    secret: str | None = field(default=None, repr=False)  # webhook HMAC-SHA256 key
    timeout: float = 10.0  # seconds, per delivery attempt
    title: str | None = None  # message templates (uptimed.notify.message); None: the default
    body: str | None = None


@dataclass(frozen=True)
class ResponseObjective:
    """Per severity: how soon an incident must be acknowledged and resolved (seconds)."""

    severity: str
    acknowledge: float | None
    resolve: float | None


@dataclass(frozen=True)
class Customer:
    """``[[customer]]``: who signs in to the portal. Only digests of the tokens are kept."""

    id: str
    name: str
    contacts: tuple[str, ...]
    token_file: str  # as written in the config: read again at every load (SIGHUP rotates)
    token_digests: tuple[bytes, ...] = field(repr=False)  # SHA-256 of each token, at least one


#: How often an agreement issues a statement, and the units of its renewal.
REPORTING_PERIODS = ("month", "quarter", "year")


@dataclass(frozen=True)
class Agreement:
    """``[[agreement]]``: a promise to one customer, of some SLOs, over a term.

    The term begins at ``effective_from``. With ``effective_until`` it ends there, unless
    ``renewal`` renews it by that many calendar units each time it would end; without, it is
    open-ended (``renewal`` then only says when it renews). Statements are issued per
    ``reporting`` period, cut in ``timezone``."""

    id: str
    customer: str  # a Customer id
    name: str
    slos: tuple[str, ...]  # SLO ids, at least one, each once
    effective_from: datetime  # aware
    effective_until: datetime | None
    renewal: str | None  # one of REPORTING_PERIODS
    termination_notice: float | None  # seconds
    provider_obligations: str
    customer_obligations: str
    reporting: str  # one of REPORTING_PERIODS
    timezone: str  # IANA
    credit_cap: Decimal | None  # percent of the charge: the most one period's credits add up to


@dataclass(frozen=True)
class Portal:
    """``[portal]``: the public status page (/status) and the customers' portal (/portal/)."""

    title: str = "Service status"  # the pages' heading
    #: origins that may frame the pages (CSP frame-ancestors); none: no one may
    frame_ancestors: tuple[str, ...] = ()
    session_ttl: float = 8 * 3600.0  # seconds a portal sign-in lasts
    #: the sign-in cookie's Secure flag; None: set when the request came by HTTPS (directly,
    #: or per a proxy's X-Forwarded-Proto)
    secure_cookie: bool | None = None
    #: a listener of their own for the pages, which then are on it only: the one to publish
    #: (the daemon's listener also answers the API and /metrics); None: on the daemon's
    listen: tuple[str, int] | None = None


@dataclass(frozen=True)
class Config:
    path: str
    sha256: str  # of the file's bytes
    daemon: DaemonConfig
    monitors: tuple[Monitor, ...]
    retention: Retention
    services: tuple[Service, ...] = ()
    slos: tuple[SLO, ...] = ()
    maintenance: tuple[Maintenance, ...] = ()
    notifiers: tuple[Notifier, ...] = ()
    escalations: tuple[EscalationPolicy, ...] = ()
    response: tuple[ResponseObjective, ...] = ()  # by severity, most severe first
    customers: tuple[Customer, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    portal: Portal = field(default_factory=lambda: Portal())
    #: secrets="check" only: names of the ${credential:NAME} references left unresolved because
    #: $CREDENTIALS_DIRECTORY is not set (sorted, each once); the daemon reads them at its start.
    unresolved_credentials: tuple[str, ...] = ()

    def monitor(self, monitor_id: str) -> Monitor | None:
        return self._monitors_by_id.get(monitor_id)

    @cached_property
    def _monitors_by_id(self) -> dict[str, Monitor]:
        return {m.id: m for m in self.monitors}
