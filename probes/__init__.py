"""Probe implementations, one module per kind.

Every probe is ``async def probe(spec, ctx) -> ProbeResult``: it takes an immutable spec,
measures, and returns a result. It never raises for a target's failure; that is a result with
``ok=False`` and a classified ``error_kind`` (see :mod:`probes.base`).

This package never imports :mod:`uptimed`.
"""
