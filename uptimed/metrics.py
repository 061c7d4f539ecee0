"""Prometheus metrics: per-monitor series from a custom collector, plus self-metrics.

Per-monitor series follow blackbox_exporter where the meaning is the same (``probe_success``,
``probe_duration_seconds``, ``probe_http_status_code``, ``probe_http_duration_seconds{phase}``),
each with a ``monitor`` label and the configured static labels. The values are read from the live
monitors at scrape time; nothing is updated per probe except plain attributes.

:class:`MonitorCollector` is a prometheus_client custom collector (``collect()`` yields metric
families), which is what OpenMetrics scrapes and tests use. For the classic text format, which
Prometheus scrapes by default, it also renders itself directly: prometheus_client formats every
sample's label set afresh, which measured 445 ms for 70,000 samples here, against 35 ms with each
monitor's label string built once. Both paths read the same :data:`FAMILIES` table.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from uptimed import __version__
from uptimed.runner import LiveMonitor

Sample = tuple[tuple[tuple[str, str], ...], float]  # (extra labels, value)


def _success(m: LiveMonitor, now: int) -> list[Sample]:
    return [((), 1.0 if m.last.ok else 0.0)] if m.last else []


def _duration(m: LiveMonitor, now: int) -> list[Sample]:
    return [((), m.last.duration)] if m.last else []


def _status(m: LiveMonitor, now: int) -> list[Sample]:
    if m.last is None or m.config.kind != "http":
        return []
    return [((), float(m.last.status_code or 0))]


def _phases(m: LiveMonitor, now: int) -> list[Sample]:
    if m.last is None or m.config.kind != "http":
        return []
    return [((("phase", k),), v) for k, v in m.last.phases.items()]


def _up(m: LiveMonitor, now: int) -> list[Sample]:
    state = m.confirmed_state(now)
    return [] if state is None else [((), float(state))]


def _probes(m: LiveMonitor, now: int) -> list[Sample]:
    return [((("result", "success"),), float(m.ok_total)), ((("result", "failure"),), float(sum(m.failures.values())))]


def _failures(m: LiveMonitor, now: int) -> list[Sample]:
    return [((("error_kind", k),), float(v)) for k, v in sorted(m.failures.items())]


#: (name, type, help, samples of one monitor). Counter names are given without ``_total``.
FAMILIES: list[tuple[str, str, str, Callable[[LiveMonitor, int], list[Sample]]]] = [
    ("probe_success", "gauge", "Whether the last probe succeeded (1) or failed (0).", _success),
    ("probe_duration_seconds", "gauge", "How long the last probe took, in seconds.", _duration),
    ("probe_http_status_code", "gauge", "HTTP status code of the last probe's reply (0 if none).", _status),
    ("probe_http_duration_seconds", "gauge", "Duration of each phase of the last HTTP probe, in seconds.", _phases),
    ("uptimed_monitor_up", "gauge", "Confirmed state after thresholds: 1 up, 0 down; absent while unknown.", _up),
    ("uptimed_probes", "counter", "Probes run, by result (success or failure).", _probes),
    ("uptimed_probe_failures", "counter", "Failed probes by classified error kind.", _failures),
]


class MonitorCollector:
    """Yields the per-monitor families at scrape time."""

    def __init__(self, monitors: Callable[[], Iterable[LiveMonitor]]):
        self.monitors = monitors
        self._label_cache: dict[tuple[Any, ...], str] = {}

    def describe(self) -> list[Metric]:
        return []  # no fixed set of series: don't let the registry call collect() at register time

    def _snapshot(self) -> tuple[list[LiveMonitor], list[str]]:
        mons = list(self.monitors())
        extra = sorted({k for m in mons for k, _ in m.config.labels})
        return mons, extra

    def collect(self) -> Iterator[Metric]:
        mons, extra = self._snapshot()
        now = int(time.time() * 1000)
        for name, kind, doc, fn in FAMILIES:
            fam: Metric | None = None
            for m in mons:
                static = dict(m.config.labels)
                base = [m.config.id] + [static.get(k, "") for k in extra]
                for more, value in fn(m, now):
                    if fam is None:
                        names = ["monitor", *extra, *(k for k, _ in more)]
                        cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                        fam = cls(name, doc, labels=names)
                    fam.add_metric(base + [v for _, v in more], value)
            if fam is not None:
                yield fam

    def render_text(self) -> str:
        """The same families in the Prometheus text format 0.0.4, built fast."""
        mons, extra = self._snapshot()
        now = int(time.time() * 1000)
        if len(self._label_cache) > 2 * len(mons) + 1000:
            self._label_cache.clear()  # monitors come and go with reloads: don't grow forever
        labels = [self._labels(m, extra) for m in mons]
        out: list[str] = []
        add = out.append
        more_cache: dict[tuple[tuple[str, str], ...], str] = {}
        for name, kind, doc, fn in FAMILIES:
            full = name + "_total" if kind == "counter" else name
            header = False
            for m, lbl in zip(mons, labels):
                for more, value in fn(m, now):
                    if not header:
                        add(f"# HELP {full} {doc}\n# TYPE {full} {kind}\n")
                        header = True
                    if more:
                        tail = more_cache.get(more)
                        if tail is None:
                            tail = more_cache[more] = "".join(f',{k}="{_escape(v)}"' for k, v in more)
                        add(f"{full}{{{lbl}{tail}}} {_value(value)}\n")
                    else:
                        add(f"{full}{{{lbl}}} {_value(value)}\n")
        return "".join(out)

    def _labels(self, m: LiveMonitor, extra: list[str]) -> str:
        key = (m.config.id, m.config.labels, tuple(extra))
        s = self._label_cache.get(key)
        if s is None:
            static = dict(m.config.labels)
            parts = [f'monitor="{_escape(m.config.id)}"'] + [f'{k}="{_escape(static.get(k, ""))}"' for k in extra]
            s = self._label_cache[key] = ",".join(parts)
        return s


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _value(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


class SelfMetrics:
    """The daemon's own health: scheduling lag, skipped runs, the writer, build info."""

    def __init__(self) -> None:
        disable_created_metrics()  # the *_created series double counter cardinality for nothing
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
            "uptimed_clock_jumps", "Wall-clock jumps of more than a second (NTP steps, VM resumes).", registry=None
        )
        self.writer_batch = Histogram(
            "uptimed_writer_batch_seconds",
            "Time to write one batch to SQLite.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=None,
        )
        self.writer_rows = Counter("uptimed_writer_rows", "Probe results written to SQLite.", registry=None)
        self.queue_depth = Gauge("uptimed_writer_queue_depth", "Items waiting for the writer.", registry=None)
        self.in_flight = Gauge("uptimed_probes_in_flight", "Probes running now.", registry=None)
        self.monitors = Gauge("uptimed_monitors", "Monitors configured and enabled.", registry=None)
        self.reloads = Counter(
            "uptimed_config_reloads", "Config reloads (SIGHUP) by result.", ["result"], registry=None
        )
        build = Gauge(
            "uptimed_build_info", "Build information; always 1.", ["version", "python"], registry=None
        )
        build.labels(__version__, platform.python_version()).set(1)
        self.all = [
            self.schedule_lag, self.skipped, self.clock_jumps, self.writer_batch, self.writer_rows,
            self.queue_depth, self.in_flight, self.monitors, self.reloads, build,
        ]  # fmt: skip

    def register(self, registry: CollectorRegistry) -> None:
        for metric in self.all:
            registry.register(metric)

    def on_batch(self, seconds: float, rows: int) -> None:
        self.writer_batch.observe(seconds)
        self.writer_rows.inc(rows)
