"""Scheduling: one APScheduler job per monitor, each at a stable phase within its interval.

A monitor's phase is a stable hash of its id modulo its interval (CRC-32, not ``hash()``, which
is salted per process), rounded to 10 ms slots: monitors with the same interval spread over the
whole interval, a restart keeps every phase, and monitors that share a slot share one scheduler
wake-up (APScheduler's cost is per wake-up, not per job: dependencies.md §1).

Job options, and why:

* ``misfire_grace_time=None``: a late run still runs (APScheduler's default drops runs that
  start more than 1 s late, silently, which is how a busy loop would lose probes).
* ``coalesce=True``: a backlog of missed runs becomes one run, not a burst.
* ``max_instances=1``: a probe still running when its next run is due is never run twice in
  parallel; the due run is skipped and counted (EVENT_JOB_MAX_INSTANCES).
* No ``jitter``: APScheduler's IntervalTrigger computes the next run from the jittered one, so
  jitter makes the period drift.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

SLOT = 0.01  # seconds: the resolution of phases
ANCHOR = datetime(2000, 1, 1, tzinfo=timezone.utc)
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


def trigger(monitor_id: str, interval: float) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=interval,
        start_date=ANCHOR + timedelta(seconds=phase_offset(monitor_id, interval)),
        timezone=timezone.utc,
    )


def make_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(
        timezone=timezone.utc,
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
