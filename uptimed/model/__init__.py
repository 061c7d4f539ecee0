"""Frozen values shared by every layer: :mod:`uptimed.model.config` (the validated
configuration) and :mod:`uptimed.model.report` (the typed report, exact until it is rendered).

Nothing here does I/O or imports from the rest of the package but :mod:`probes` specs.
"""
