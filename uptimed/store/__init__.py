"""SQLite storage: every SQL statement uptimed runs is in this package.

The daemon writes through one thread (:class:`Store`, :mod:`uptimed.store.writer`) fed by a
queue of typed messages; the CLI, the API and /metrics read on connections of their own
(:func:`connect`). One module per concern:

==============  ============================================================================
``db``          connections, transactions, the lock that keeps one daemon per database
``schema``      the tables, as forward-only migrations
``writer``      :class:`Store`: the writer thread, its queue and its batches
``results``     the ``results`` table: a probe result as a row (phases and details by name)
``names``       the name tables (error kinds, phases, details)
``state``       the confirmed state: ``timeline`` rows and ``monitor_state`` snapshots
``monitors``    the ``monitors`` table: each monitor's integer id
``runs``        the run journal and degraded time
``rollups``     hourly and latency rollups, and the latency thresholds counted
``retention``   deleting what is older than the retention
``summaries``   day summaries of the timeline
``adhoc``       ad-hoc maintenance windows
==============  ============================================================================
"""

from __future__ import annotations

from uptimed.errors import NoDatabase
from uptimed.store.db import connect, lock_holder, lock_path, now_ms
from uptimed.store.monitors import register_monitors
from uptimed.store.rollups import threshold_us
from uptimed.store.writer import Store

__all__ = [
    "NoDatabase",
    "Store",
    "connect",
    "lock_holder",
    "lock_path",
    "now_ms",
    "register_monitors",
    "threshold_us",
]
