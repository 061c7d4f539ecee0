"""Probe implementations, one module per kind, and the registry of kinds.

Every probe is ``async def probe(spec, ctx) -> ProbeResult``: it takes an immutable spec,
measures, and returns a result. It never raises for a target's failure; that is a result with
``ok=False`` and a classified ``error_kind`` (see :mod:`probes.base`).

:data:`KINDS` is the one place that lists the kinds. A new kind is a module here (its spec, its
probe, the names of its phases and details) and one entry below; the config loader keeps one
module of keys per kind (:mod:`uptimed.config`). Everything else reads this table: the daemon
dispatches probes through it, the store keeps phases and details by name (table ``results``:
no migration for a new kind), /metrics renders the gauges a kind names here, and the secrets a
spec holds are found from its fields' metadata (:data:`probes.base.SECRET`).

This package never imports :mod:`uptimed`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from probes import http, tcp
from probes.base import ProbeContext, ProbeResult

__all__ = ["KINDS", "Gauge", "Kind", "Probe", "ProbeContext", "ProbeResult", "kind_of"]

#: A probe function: ``await probe(spec, ctx)`` measures once (the spec is its kind's).
Probe = Callable[[Any, ProbeContext], Awaitable[ProbeResult]]


@dataclass(frozen=True)
class Gauge:
    """A Prometheus gauge of a monitor's last result: its name and help text."""

    name: str
    help: str


@dataclass(frozen=True)
class Kind:
    """One probe kind: its name (``kind = "..."`` in the config), the type of its spec, its
    probe function, and the names of the phases and details its results may carry, in order.

    ``detail_gauges`` and ``phase_gauge`` are its own series on /metrics, named as
    blackbox_exporter names them: one gauge per detail (0 when the last result lacks it), and
    one gauge with a ``phase`` label for the phases of the last result (none: not shown).
    """

    name: str
    spec: type[Any]
    probe: Probe
    phases: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    detail_gauges: tuple[tuple[str, Gauge], ...] = ()
    phase_gauge: Gauge | None = None

    @property
    def gauges(self) -> tuple[Gauge, ...]:
        """Its own gauges, in the order /metrics shows them: the details', then the phases'."""
        phases = () if self.phase_gauge is None else (self.phase_gauge,)
        return (*(gauge for _, gauge in self.detail_gauges), *phases)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "http",
            http.HttpSpec,
            http.probe,
            http.HTTP_PHASES,
            http.HTTP_DETAILS,
            detail_gauges=(
                (
                    http.STATUS_CODE,
                    Gauge(
                        "probe_http_status_code",
                        "HTTP status code of the last probe's reply (0 if none).",
                    ),
                ),
            ),
            phase_gauge=Gauge(
                "probe_http_duration_seconds",
                "Duration of each phase of the last HTTP probe, in seconds.",
            ),
        ),
        Kind("tcp", tcp.TcpSpec, tcp.probe, tcp.TCP_PHASES),
    )
}

_BY_SPEC: dict[type[Any], Kind] = {k.spec: k for k in KINDS.values()}


def kind_of(spec: object) -> Kind:
    """The kind whose spec type ``spec`` is (``KeyError`` for anything else)."""
    return _BY_SPEC[type(spec)]
