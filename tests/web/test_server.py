"""The listener's own thread: it serves, stops cleanly, and a taken port is an OSError."""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest
from aiohttp import web

from tests.support.daemon_proc import free_port
from uptimed.web.server import WebServer


def hello_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=threading.current_thread().name)

    app = web.Application()
    app.router.add_get("/", hello)
    return app


def test_serves_from_its_own_thread_and_stops() -> None:
    port = free_port()
    server = WebServer(hello_app(), "127.0.0.1", port)
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.read() == b"uptimed-web"
    finally:
        server.stop()
    assert not any(t.name == "uptimed-web" for t in threading.enumerate())
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_a_taken_port_raises_the_bind_error_in_the_caller() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = WebServer(hello_app(), "127.0.0.1", taken.getsockname()[1])
        with pytest.raises(OSError):
            server.start()
    assert not any(t.name == "uptimed-web" for t in threading.enumerate())
    server.stop()  # harmless after a failed start
