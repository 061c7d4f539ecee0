"""Scheduling: one APScheduler job per monitor, each at a stable phase within its interval;
and the daemon's own loops (:func:`every`).

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

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta

# APScheduler 3 has no types (neither stubs nor py.typed).
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from uptimed.core.schedule import ANCHOR, phase_offset

log = logging.getLogger("uptimed")


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


async def every(seconds: float, step: Callable[[], Awaitable[None]], failed: str) -> None:
    """Run ``step`` every ``seconds`` (after it ends), until cancelled. An exception is logged
    with ``failed`` and the next run tries again: a loop that died would stop what it keeps up
    (the connectivity checks, the maintenance watch) for good."""
    while True:
        try:
            await step()
        except Exception:
            log.exception(failed)
        await asyncio.sleep(seconds)
