"""Prometheus metrics: per-monitor series from a custom collector, plus self-metrics.

Per-monitor series follow blackbox_exporter where the meaning is the same (``probe_success``,
``probe_duration_seconds``, and each kind's own gauges as its :class:`probes.Kind` names them:
for HTTP ``probe_http_status_code`` and ``probe_http_duration_seconds{phase}``), each with a
``monitor`` label and the configured static labels. The values are read from the live monitors
at scrape time; nothing is updated per probe except plain attributes.

Every per-monitor series (here and in :mod:`uptimed.web.sla_metrics`) carries the static label
*names* of all monitors (:func:`static_label_names`), a monitor lacking one with the value ``""``
(which Prometheus treats as absent), so that a family has one label layout: see
:func:`monitor_labels`. With ``[daemon] location`` set, every series of /metrics (these, the SLA
and config series, the self-metrics) also carries ``location="<name>"``, last: the fleet's
recording rules aggregate ``without (instance, location)``.

An internal error (error kind ``internal``: no verdict on the target, see
:mod:`uptimed.daemon.runner`) leaves no ``probe_*`` series until the next real result, as
``uptimed_monitor_up`` leaves none while unknown: ``probe_success 0`` would page someone about
a target that may be fine. It is
counted in ``uptimed_probe_internal_errors_total``, not in ``uptimed_probes_total``.

:class:`MonitorCollector` is a prometheus_client custom collector (``collect()`` yields metric
families), which is what OpenMetrics scrapes and tests use. For the classic text format, which
Prometheus scrapes by default, it also renders itself directly: prometheus_client formats every
sample's label set afresh, which measured 445 ms for 70,000 samples here. See
:class:`MonitorCollector` for how a scrape stays fast. OpenMetrics, which Prometheus asks for
first, is rendered the same way (:meth:`MonitorCollector.render` with ``openmetrics=True``): the
sample lines of both formats are the same, only a counter's family name in HELP and TYPE differs
(:func:`header`).
"""

from __future__ import annotations

import operator
import platform
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

from probes import KINDS
from probes.base import INTERNAL
from uptimed import __version__
from uptimed.daemon.runner import LiveMonitor
from uptimed.model.config import Monitor

#: The kinds' own gauges (:attr:`probes.Kind.gauges`), each once, in the order of the kinds.
_KIND_FAMILIES = tuple(
    {g.name: (g.name, "gauge", g.help) for kind in KINDS.values() for g in kind.gauges}.values()
)

#: (name as exposed, type, help), in the order they are rendered.
FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("probe_success", "gauge", "Whether the last probe succeeded (1) or failed (0)."),
    ("probe_duration_seconds", "gauge", "How long the last probe took, in seconds."),
    *_KIND_FAMILIES,
    (
        "uptimed_monitor_up",
        "gauge",
        "Confirmed state after thresholds: 1 up, 0 down; absent while unknown.",
    ),
    (
        "uptimed_probes_total",
        "counter",
        "Probes that gave a verdict, by result (success or failure).",
    ),
    ("uptimed_probe_failures_total", "counter", "Failed probes by classified error kind."),
    (
        "uptimed_probe_internal_errors_total",
        "counter",
        "Probes that failed because of uptimed itself (a bug, a refused spec, its own resources):"
        " no verdict.",
    ),
    (
        "uptimed_maintenance_active",
        "gauge",
        "Whether a maintenance window covers the monitor now (1) or not (0).",
    ),
)


class MonitorCollector:
    """The per-monitor series of the live monitors.

    Each monitor's lines are formatted once per probe (:meth:`refresh`, called by the runner)
    into one dict per family (monitor id -> its lines), so that a scrape of 10,000 monitors
    joins each family's dict in C: a Python loop over the monitors at every scrape took
    ~40 ms, which on a busy daemon competes with the probe loop for the GIL. Only the two
    families that change with the time (``uptimed_monitor_up``, which a verdict older than
    ``max_gap`` leaves, and ``uptimed_maintenance_active``) are picked per scrape, from lines
    formatted in advance for both values. A scrape that finds the monitors or their configs
    changed (a reload) formats everything again first.
    :meth:`render` writes the text format (or OpenMetrics); :meth:`collect` (the
    prometheus_client collector API) parses that text, so both always say the same.

    ``location`` is the daemon's ``[daemon] location``: part of every cached label string, so
    it costs a scrape nothing. It is fixed for the collector's life, as for the daemon's (a
    reload keeps the location the daemon started with).
    """

    def __init__(
        self,
        monitors: Callable[[], Iterable[LiveMonitor]],
        in_maintenance: Callable[[str], bool] = lambda monitor_id: False,
        location: str | None = None,
    ):
        self.monitors = monitors
        self.in_maintenance = in_maintenance
        self.location = location
        #: The configs the lines below were formatted for, in order: a scrape that finds other
        #: ones (by identity) formats everything again.
        self._configs: list[Monitor] = []
        #: monitor id -> (its config, its label string), for the configs above
        self._label_cache: dict[str, tuple[Monitor, str]] = {}
        #: One dict per cached family (FAMILIES without the two timed ones, in order): monitor
        #: id -> its lines in that family, "" for none.
        self._columns: list[dict[str, str]] = [{} for _ in _SLOT]
        #: (monitor, its uptimed_monitor_up line for DOWN and for UP, its
        #: uptimed_maintenance_active line for 0 and for 1)
        self._timed: list[tuple[LiveMonitor, tuple[str, str], tuple[str, str]]] = []
        # refresh() runs in the probe loop's thread and a scrape in the web server's: this
        # keeps a probe's lines from landing in columns a scrape is replacing.
        self._write = threading.Lock()
        self._scrape = threading.Lock()  # one scrape at a time checks and rebuilds

    def describe(self) -> list[Metric]:
        return []  # no fixed set of series: don't let the registry call collect() at register time

    def collect(self) -> Iterator[Metric]:
        yield from text_string_to_metric_families(self.render_text())

    def refresh(self, m: LiveMonitor) -> None:
        """Format a monitor's series after its probe. A monitor the columns were not built for
        (new, or reconfigured by a reload) waits for the next scrape, which rebuilds them."""
        config = m.config
        with self._write:
            cached = self._label_cache.get(config.id)
            if cached is None or cached[0] is not config:
                return
            for column, line in zip(self._columns, _lines(m, cached[1]), strict=True):
                column[config.id] = line

    def render_text(self) -> str:
        """The Prometheus text format 0.0.4."""
        return self.render(openmetrics=False)

    def render(self, openmetrics: bool) -> str:
        """The text format 0.0.4, or OpenMetrics 1.0 (without the final ``# EOF``: the endpoint
        adds it after the other parts)."""
        mons = list(self.monitors())
        with self._scrape:
            configs = [m.config for m in mons]
            old = self._configs
            if len(configs) != len(old) or not all(map(operator.is_, configs, old)):
                self._rebuild(mons, configs)
            columns, timed = self._columns, self._timed
        now = int(time.time() * 1000)
        in_maintenance = self.in_maintenance
        up = "".join(
            [lines[s] for m, lines, _ in timed if (s := m.confirmed_state(now)) is not None]
        )
        maintenance = "".join([lines[in_maintenance(m.config.id)] for m, _, lines in timed])
        texts = iter(["".join(column.values()) for column in columns])
        out = []
        for i, (name, kind, doc) in enumerate(FAMILIES):
            if i == UP_FAMILY:
                text = up
            elif i == MAINTENANCE_FAMILY:
                text = maintenance
            else:
                text = next(texts)
            if text:
                out.append(header(name, kind, doc, openmetrics))
                out.append(text)
        return "".join(out)

    def _rebuild(self, mons: list[LiveMonitor], configs: list[Monitor]) -> None:
        """Format every monitor's lines for the current layout: the static label names of all
        the monitors (:func:`static_label_names`)."""
        extra = static_label_names(c.labels for c in configs)
        columns: list[dict[str, str]] = [{} for _ in _SLOT]
        timed = []
        with self._write:
            self._label_cache = {}
            for m in mons:
                key = m.config.id
                lbl = monitor_labels(key, m.config.labels, extra, self.location)
                self._label_cache[key] = (m.config, lbl)
                for column, line in zip(columns, _lines(m, lbl), strict=True):
                    column[key] = line
                up = f"uptimed_monitor_up{{{lbl}}}"
                maintenance = f"uptimed_maintenance_active{{{lbl}}}"
                timed.append(
                    (
                        m,
                        (f"{up} 0.0\n", f"{up} 1.0\n"),
                        (f"{maintenance} 0.0\n", f"{maintenance} 1.0\n"),
                    )
                )
            self._columns, self._timed, self._configs = columns, timed, configs


def header(name: str, kind: str, doc: str, openmetrics: bool) -> str:
    """A family's HELP and TYPE lines. OpenMetrics names a counter's family without the
    ``_total`` its sample keeps (``# TYPE uptimed_probes counter``, ``uptimed_probes_total``);
    the text format 0.0.4 names it as the sample. ``doc`` holds no backslash nor quote, which
    the two formats would escape differently."""
    if openmetrics and kind == "counter":
        name = name.removesuffix("_total")
    return f"# HELP {name} {doc}\n# TYPE {name} {kind}\n"


def number(v: float) -> str:
    """A sample value as both formats write it: ``repr`` of the float, but infinities and NaN
    as OpenMetrics spells them (a 100 % objective's burn rate is +Inf; ``repr`` gives "inf",
    which an OpenMetrics parser refuses)."""
    if v != v:
        return "NaN"
    if v in (_INF, -_INF):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


_INF = float("inf")


def static_label_names(label_sets: Iterable[Iterable[tuple[str, str]]]) -> tuple[str, ...]:
    """The static label names of all the monitors (their ``config.labels``), sorted: the ones
    every per-monitor series carries."""
    return tuple(sorted({k for labels in label_sets for k, _ in labels}))


def monitor_labels(
    monitor_id: str,
    labels: Iterable[tuple[str, str]],
    extra: tuple[str, ...],
    location: str | None = None,
) -> str:
    """``monitor="id",env="prod",team=""``: a per-monitor series' labels, without braces. Each name
    in ``extra`` (:func:`static_label_names`) is there, with ``""`` where the monitor lacks it;
    then ``location="..."`` when given. The config refuses a static label named ``location``
    (a reserved name); should one come here anyway, the daemon's location wins, as two labels of
    one name would make the whole scrape fail."""
    static = dict(labels)
    parts = [f'monitor="{escape_label(monitor_id)}"'] + [
        f'{k}="{escape_label(static.get(k, ""))}"'
        for k in extra
        if location is None or k != "location"
    ]
    if location is not None:
        parts.append(f'location="{escape_label(location)}"')
    return ",".join(parts)


def location_label(location: str | None) -> str:
    """``location="fra1"`` (no braces), or "" without a location: for series with no other
    label."""
    return "" if location is None else f'location="{escape_label(location)}"'


_NAMES = [name for name, _, _ in FAMILIES]
UP_FAMILY = _NAMES.index("uptimed_monitor_up")  # these two change with time: computed at scrape
MAINTENANCE_FAMILY = _NAMES.index("uptimed_maintenance_active")  # time; the others are cached
#: family name -> its place in a monitor's cached lines (FAMILIES without the two above)
_SLOT = {
    name: i
    for i, name in enumerate(
        n for i, n in enumerate(_NAMES) if i not in (UP_FAMILY, MAINTENANCE_FAMILY)
    )
}
_SUCCESS, _DURATION, _PROBES, _FAILURES, _INTERNAL = (
    _SLOT[name]
    for name in (
        "probe_success", "probe_duration_seconds", "uptimed_probes_total",
        "uptimed_probe_failures_total", "uptimed_probe_internal_errors_total",
    )
)  # fmt: skip


def _lines(m: LiveMonitor, lbl: str) -> tuple[str, ...]:
    """A monitor's lines for every family but uptimed_monitor_up and uptimed_maintenance_active,
    in FAMILIES order: its kind's gauges from its last result (a detail it lacks is 0)."""
    last = m.last
    out = [""] * len(_SLOT)
    if last is not None and last.error_kind != INTERNAL:  # an internal error: no probe_*
        out[_SUCCESS] = f"probe_success{{{lbl}}} {'1.0' if last.ok else '0.0'}\n"
        out[_DURATION] = f"probe_duration_seconds{{{lbl}}} {last.duration!r}\n"
        kind = m.kind
        for detail, gauge in kind.detail_gauges:
            out[_SLOT[gauge.name]] = f"{gauge.name}{{{lbl}}} {last.details.get(detail) or 0}.0\n"
        phase = kind.phase_gauge
        if phase is not None:
            out[_SLOT[phase.name]] = "".join(
                f'{phase.name}{{{lbl},phase="{k}"}} {v!r}\n' for k, v in last.phases.items()
            )
    failed = sum(m.failures.values())
    out[_PROBES] = (
        f'uptimed_probes_total{{{lbl},result="success"}} {m.ok_total}.0\n'
        f'uptimed_probes_total{{{lbl},result="failure"}} {failed}.0\n'
    )
    out[_FAILURES] = "".join(
        f'uptimed_probe_failures_total{{{lbl},error_kind="{k}"}} {n}.0\n'
        for k, n in sorted(m.failures.items())
    )
    # Always there, from 0: an alert on its increase() then fires on the very first one.
    out[_INTERNAL] = f"uptimed_probe_internal_errors_total{{{lbl}}} {m.internal_errors}.0\n"
    return tuple(out)


def escape_label(v: str) -> str:
    """A label value escaped for the text exposition format."""
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


NOTIFICATION_RESULTS = ("sent", "failed", "dead")


class SelfMetrics:
    """The daemon's own health: scheduling lag, skipped runs, the writer, build info."""

    def __init__(self) -> None:
        # The *_created series double counter cardinality for nothing.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client: untyped
        self.schedule_lag = Histogram(
            "uptimed_schedule_lag_seconds",
            "How late probes start against their due time.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=None,
        )
        self.skipped = Counter(
            "uptimed_probes_skipped",
            "Runs skipped because the monitor's previous probe was still running.",
            registry=None,
        )
        self.clock_jumps = Counter(
            "uptimed_clock_jumps",
            "Wall-clock jumps of more than a second (NTP steps, VM resumes).",
            registry=None,
        )
        self.writer_batch = Histogram(
            "uptimed_writer_batch_seconds",
            "Time to write one batch to SQLite.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=None,
        )
        self.writer_rows = Counter(
            "uptimed_writer_rows", "Probe results written to SQLite.", registry=None
        )
        self.queue_depth = Gauge(
            "uptimed_writer_queue_depth", "Items waiting for the writer.", registry=None
        )
        self.in_flight = Gauge("uptimed_probes_in_flight", "Probes running now.", registry=None)
        self.monitors = Gauge("uptimed_monitors", "Monitors configured and enabled.", registry=None)
        self.degraded = Gauge(
            "uptimed_connectivity_degraded",
            "1 while every connectivity canary fails: the daemon's own network is down.",
            registry=None,
        )
        self.reloads = Counter(
            "uptimed_config_reloads",
            "Config reloads (SIGHUP) by result.",
            ["result"],
            registry=None,
        )
        self.notifications = Counter(
            "uptimed_notifications",
            "Notification delivery attempts by notifier and result: sent, failed (will be"
            " retried) or dead (given up).",
            ["notifier", "result"],
            registry=None,
        )
        self.notifications_pending = Gauge(
            "uptimed_notifications_pending",
            "Notifications waiting in the outbox to be delivered, by notifier.",
            ["notifier"],
            registry=None,
        )
        build = Gauge(
            "uptimed_build_info",
            "Build information; always 1.",
            ["version", "python"],
            registry=None,
        )
        build.labels(__version__, platform.python_version()).set(1)
        self.all = [
            self.schedule_lag, self.skipped, self.clock_jumps, self.writer_batch, self.writer_rows,
            self.queue_depth, self.in_flight, self.monitors, self.reloads, self.degraded,
            self.notifications, self.notifications_pending, build,
        ]  # fmt: skip

    def register(self, registry: CollectorRegistry) -> None:
        for metric in self.all:
            registry.register(metric)

    def set_pending(self, pending: Mapping[str, int], notifiers: Iterable[str]) -> None:
        """The outbox's pending entries per notifier (0 for each configured one without). A
        configured notifier's counters are exported at 0 from the start, so that ``increase()``
        sees its first delivery given up (a series born at 1 shows no increase)."""
        for notifier in notifiers:
            for result in NOTIFICATION_RESULTS:
                self.notifications.labels(notifier, result)
        for notifier in set(notifiers) | set(pending):
            self.notifications_pending.labels(notifier).set(pending.get(notifier, 0))

    def on_batch(self, seconds: float, rows: int) -> None:
        self.writer_batch.observe(seconds)
        self.writer_rows.inc(rows)


class Located:
    """A collector: the metrics of ``registry`` (the self-metrics), each sample with a
    ``location`` label added at collect time. prometheus_client has no constant labels; this
    costs a few dozen dict copies per scrape and leaves the metrics themselves as they are."""

    def __init__(self, registry: CollectorRegistry, location: str):
        self.registry = registry
        self.location = location

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        for m in self.registry.collect():
            out = Metric(m.name, m.documentation, m.type, m.unit)
            out.samples = [
                s._replace(labels={**s.labels, "location": self.location}) for s in m.samples
            ]
            yield out


def self_registry(self_metrics: SelfMetrics, location: str | None) -> CollectorRegistry:
    """A registry of the self-metrics as /metrics shows them: with the location label when the
    daemon has one."""
    registry = CollectorRegistry(auto_describe=False)
    self_metrics.register(registry)
    if location is None:
        return registry
    located = CollectorRegistry(auto_describe=False)
    located.register(Located(registry, location))
    return located
