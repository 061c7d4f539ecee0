"""The pure core: the rules of availability (docs/availability.md) and the arithmetic under
them. Nothing here does I/O or reads a clock; callers pass the time in, so tests drive it with
a fake one. It imports only the standard library, dateutil/croniter, :mod:`uptimed.model` and
:mod:`probes.base`."""
