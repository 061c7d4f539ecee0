"""The HTTP listener in a thread of its own, with its own event loop.

At 1,000 probes a second the probe loop is busy most of the time, and a request it serves waits
behind every callback ready before it: a scrape of 10,000 monitors took 0.8 to 1 s there, of
which rendering was a tenth (measured with ``bench/scrape.py``). Served from this thread's loop,
a request waits for nothing but the GIL, which Python hands over every few milliseconds.

What the handlers touch from here is read-only or thread-safe: the live monitors (copied with
``list()`` before being walked: a reload may add or remove some meanwhile), the metrics
collector (see :meth:`uptimed.web.metrics.MonitorCollector.refresh`), prometheus_client's
metrics (locked), and the store, whose writer thread takes work through a queue and answers
with :class:`concurrent.futures.Future` (awaited here with :func:`asyncio.wrap_future`).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

from aiohttp import web


class WebServer:
    """Serves ``app`` on ``host:port`` from a thread named ``uptimed-web``."""

    def __init__(self, app: web.Application, host: str, port: int, shutdown_timeout: float = 1.0):
        self.app = app
        self.host = host
        self.port = port
        self.shutdown_timeout = shutdown_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen, or raise the ``OSError`` that binding raised (the port is taken...). Blocks
        until the listener is up."""
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._serve, args=(started,), name="uptimed-web", daemon=True
        )
        self._thread.start()
        try:
            started.result()
        except BaseException:
            self._thread.join()
            raise

    def stop(self) -> None:
        """Finish the requests in progress (up to ``shutdown_timeout``), then stop. Blocks."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join()

    def _serve(self, started: Future[None]) -> None:
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=self.shutdown_timeout)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, self.host, self.port).start())
        except BaseException as e:
            loop.run_until_complete(runner.cleanup())
            loop.close()
            started.set_exception(e)
            return
        self._loop = loop
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
