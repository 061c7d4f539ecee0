"""A real webhook receiver on 127.0.0.1 (aiohttp.web), for notification tests::

    async with Receiver() as r:
        url = r.url + "/hook"            # any path is accepted
        ...                              # POST to it
        await r.wait_for(1, timeout=5)
        headers, body, path = r.received[0]

``received`` holds, per request in arrival order, its headers (a plain dict: the last value of
a repeated name, names as sent), its body (parsed JSON, or the raw bytes if it is not JSON) and
its path with the query string (``request.path_qs``). A request is recorded as soon as its body
is read, before the behaviour below decides the reply.

Behaviour (settable at any time, read per request):

``r.status = 200``           the reply's status (empty body)
``r.fail_next(n, 500)``      the next ``n`` requests get that status instead
``r.headers = {...}``        extra reply headers (``Retry-After``...)
``r.hang = True``            never reply (until the receiver stops)
``r.endless = True``         reply 200 with a body that never ends (64 KiB chunks);
                             ``r.streamed`` counts the bytes written so far
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

from aiohttp import web

__all__ = ["Receiver"]

_CHUNK = b"x" * (64 * 1024)


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], Any, str]] = []
        self.status = 200
        self.headers: dict[str, str] = {}
        self.hang = False
        self.endless = False
        self.streamed = 0
        self.url = ""
        self._failures: list[int] = []
        self._arrived = asyncio.Event()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next ``n`` requests with ``status``."""
        self._failures.extend([status] * n)

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        """Wait until at least ``count`` requests were received (TimeoutError after
        ``timeout`` seconds)."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: Any
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        self.received.append((dict(request.headers), body, request.path_qs))
        self._arrived.set()
        if self.hang:
            await self._stopping.wait()
            raise web.HTTPServiceUnavailable()
        if self.endless:
            resp = web.StreamResponse(status=200, headers=self.headers)
            await resp.prepare(request)
            try:
                while not self._stopping.is_set():
                    await resp.write(_CHUNK)
                    self.streamed += len(_CHUNK)
            except (ConnectionError, RuntimeError):
                pass  # the client went away
            return resp
        status = self._failures.pop(0) if self._failures else self.status
        return web.Response(status=status, headers=self.headers)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
