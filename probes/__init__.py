"""Probe implementations, one module per kind, and the registry of kinds.

Every probe is ``async def probe(spec, ctx) -> ProbeResult``: it takes an immutable spec,
measures, and returns a result. It never raises for a target's failure; that is a result with
``ok=False`` and a classified ``error_kind`` (see :mod:`probes.base`).

:data:`KINDS` is the one place that lists the kinds: a new kind is a module here (its spec, its
probe, its phases) and one entry below; the daemon dispatches through this table and the config
loader keeps one module of keys per kind (:mod:`uptimed.config`).

This package never imports :mod:`uptimed`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from probes import http, tcp
from probes.base import ProbeContext, ProbeResult

__all__ = ["KINDS", "Kind", "ProbeContext", "ProbeResult"]


@dataclass(frozen=True)
class Kind:
    """One probe kind: its name (``kind = "..."`` in the config), the type of its spec, its
    probe function, and the names of the phases its results may carry, in order."""

    name: str
    spec: type[Any]
    probe: Callable[[Any, ProbeContext], Awaitable[ProbeResult]]
    phases: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("http", http.HttpSpec, http.probe, http.HTTP_PHASES),
        Kind("tcp", tcp.TcpSpec, tcp.probe, tcp.TCP_PHASES),
    )
}
