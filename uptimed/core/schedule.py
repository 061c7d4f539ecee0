"""Phases: when each monitor's probe is due, and how late a run is (pure).

A monitor's phase is a stable hash of its id modulo its interval (CRC-32, not ``hash()``, which
is salted per process), rounded to 10 ms slots: monitors with the same interval spread over the
whole interval, a restart keeps every phase, and monitors that share a slot share one scheduler
wake-up (APScheduler's cost is per wake-up, not per job, as measured).
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

SLOT = 0.01  # seconds: the resolution of phases
ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
ANCHOR_TS = ANCHOR.timestamp()


def phase_offset(monitor_id: str, interval: float) -> float:
    """Seconds after each interval boundary (counted from 2000-01-01 UTC) at which the monitor
    runs; stable across restarts and machines."""
    slots = max(1, round(interval / SLOT))
    return (zlib.crc32(monitor_id.encode()) % slots) * SLOT


def lateness(now: float, monitor_id: str, interval: float) -> float:
    """How late a run starting at wall time ``now`` is, against the slot it was due in."""
    late = (now - ANCHOR_TS - phase_offset(monitor_id, interval)) % interval
    # A run that fires a hair early lands at the end of the previous slot: it is on time.
    return 0.0 if late > interval - 0.005 else late
