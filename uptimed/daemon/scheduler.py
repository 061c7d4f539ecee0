"""Scheduling: one APScheduler job per monitor, each at a stable phase within its interval.

The phases come from :mod:`uptimed.core.schedule`.

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

from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from uptimed.core.schedule import ANCHOR, phase_offset


def trigger(monitor_id: str, interval: float) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=interval,
        start_date=ANCHOR + timedelta(seconds=phase_offset(monitor_id, interval)),
        timezone=UTC,
    )


def make_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
