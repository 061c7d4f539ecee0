"""The SLA series' refresh, in a child process of its own.

A refresh reads the database and computes every monitor's, service's and SLO's figures: at
10,000 monitors about 1.5 s of pure Python every 15 s. In a thread of the daemon it holds the GIL
against the event loop and the /metrics render, and a scrape that overlapped it took several
times as long (bench/scrape.py). In a process it runs on another core and takes nothing from
the probes or the scrapes. The child keeps the :class:`~uptimed.web.sla_metrics.SlaMetrics`
(its counters' running totals); the parent keeps only the texts it returns. The config is sent
when it changed (a reload), not at every refresh. A child that dies is replaced: its counters
start again from zero, which Prometheus reads as a counter reset.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from uptimed.model.config import Config
from uptimed.web.gzipped import Deflated
from uptimed.web.sla_metrics import SlaMetrics

#: The child's state: its SlaMetrics and the last config sent.
_child: tuple[SlaMetrics, Config] | None = None


def _refresh(
    started_ms: int, config: Config | None, now: int
) -> tuple[str, str, Deflated, Deflated]:
    """In the child: refresh with ``config`` (None: the one sent last); returns both texts and
    their deflated forms (compressed here, on the child's core)."""
    global _child
    if _child is None:
        assert config is not None, "the first call sends the config"
        _child = (SlaMetrics(started_ms), config)
    elif config is not None:
        _child = (_child[0], config)
    sla, cfg = _child
    sla.refresh(cfg, now)
    return sla.text, sla.openmetrics, sla.text_gz, sla.openmetrics_gz


def _watch_parent(parent: int) -> None:
    """In the child: exit when the daemon is gone (a kill -9 leaves no one to stop it)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="uptimed-sla-parent-watch", daemon=True).start()


class SlaWorker:
    """Refreshes ``sla``'s texts (what scrapes read) in the child process."""

    def __init__(self, sla: SlaMetrics):
        self.sla = sla
        self._pool: ProcessPoolExecutor | None = None
        self._sent: Config | None = None

    async def refresh(self, config: Config, now: int) -> None:
        if self._pool is None:
            # spawn: a clean child, not a fork of a process with threads and sockets.
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_watch_parent,
                initargs=(os.getpid(),),
            )
            self._sent = None
        send = None if config is self._sent else config
        loop = asyncio.get_running_loop()
        try:
            texts = await loop.run_in_executor(self._pool, _refresh, self.sla.started, send, now)
        except BrokenProcessPool:
            self.close()  # the next refresh starts a new child
            raise
        self._sent = config
        self.sla.set(*texts)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
