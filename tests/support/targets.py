"""Hostile loopback targets for probe tests: a tiny HTTP/1.1 server that misbehaves on request.

Everything listens on 127.0.0.1 only. Use it as an async context manager::

    async with serve_target() as target:              # plain HTTP
        url = target.url("/status/503")
    async with serve_target(tls=cert) as target:      # HTTPS, cert from make_self_signed_cert()
        ...

or through the pytest fixtures in ``tests/conftest.py`` (``target``, ``tls_target``, ``tls_cert``).

The server is raw asyncio streams, not aiohttp.web, so that it can send what a real server never
would. The path picks the behaviour (``{n}`` and ``{s}`` are integers / float seconds):

======================  ===================================================================
``/status/{n}``         a complete reply with status ``n`` and a 5-byte body
``/redirect/{n}``       a chain: 302 to ``/redirect/{n-1}``, and ``/redirect/0`` answers 200
``/loop``               302 to itself, forever
``/goto?url=U``         302 to ``U`` (URL-encoded), e.g. to another target or host name
``/echo``               200 with a body listing the request: method, headers, then the body
``/cookie``             302 to ``/echo`` with a ``Set-Cookie`` header
``/reflect``            an invalid status line quoting the request's header lines back
``/slow-headers/{s}``   sleep ``s`` before the status line
``/slow-body/{s}``      headers with Content-Length 10, 5 bytes, sleep ``s``, 5 more bytes
``/reset``              read the request, then reset the connection (SO_LINGER 0 → RST)
``/close``              read the request, then close cleanly without any reply
``/garbage``            a few hundred bytes of binary garbage instead of a reply, then close
``/bad-status``         an unparsable status line (``HTTP/1.1 2OO OK``)
``/many-headers/{n}``   a 200 with ``n`` extra header lines
``/big-header/{n}``     a 200 with one header whose value is ``n`` bytes
``/endless``            a 200 with a chunked body that never ends
``/endless-eof``        a 200 with no length: the body is delimited by close, and never ends
``/big-length/{n}``     a 200 announcing Content-Length ``n``, then 1 KiB, then silence
``/truncated-chunked``  a chunked body whose first chunk is cut off by a close
``/truncated-length``   Content-Length 100, 10 bytes, then a close
``/reset-body``         a chunked body whose first chunk is cut off by a reset (RST)
======================  ===================================================================

``Target.requests`` records every request read (:class:`Request`: method, path, headers, body),
so a test can check what a client sent and how many attempts it made; ``Target.connections``
counts accepted TCP connections. ``serve_target(tls=..., tls_delay=s)`` waits ``s`` seconds after
the TCP accept before the TLS handshake, to tell the connect and TLS phases apart.

``closed_port()`` gives a port that refuses connections (bound, never listening);
``blackhole_port()`` one whose SYNs are dropped (listen backlog full), so connecting hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import subprocess
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

HOST = "127.0.0.1"
MAX_REQUEST_HEAD = 64 * 1024


@dataclass(frozen=True)
class Cert:
    """A self-signed certificate for ``localhost`` and ``127.0.0.1``."""

    certfile: Path
    keyfile: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certfile, self.keyfile)
        return ctx


def make_self_signed_cert(directory: Path) -> Cert:
    """Generate a short-lived EC self-signed certificate with the openssl CLI (fast: ~20 ms)."""
    cert = Cert(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-keyout",
            str(cert.keyfile),
            "-out",
            str(cert.certfile),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nobody else takes it), not listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()


@contextlib.contextmanager
def blackhole_port() -> Iterator[int]:
    """A loopback port where connecting hangs: it listens with a backlog of 0 that is already
    full of never-accepted connections, so Linux drops further SYNs."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        server.bind((HOST, 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(3):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            fillers.append(filler)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((HOST, port))
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class Target:
    """A running target; see the module docstring for the paths it understands."""

    port: int
    scheme: str
    requests: list[Request] = field(default_factory=list)
    connections: int = 0

    def url(self, path: str, host: str = HOST) -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


def _reply(
    status: int, headers: Sequence[tuple[str, str]] = (), body: bytes = b"", head: bool = False
) -> bytes:
    """A well-formed reply; ``head``: the reply to a HEAD request (the length, not the body)."""
    lines = [f"HTTP/1.1 {status} X"]
    lines += [f"{k}: {v}" for k, v in headers]
    if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head else body)


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    body = await reader.readexactly(length) if length else b""
    return method, target, headers, body  # type: ignore[return-value]


async def _respond(
    target: Target,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    request = await _read_request(reader)
    if request is None:
        return
    method, raw_path, headers, body = request
    parts = urlsplit(raw_path)
    path, query = parts.path, parse_qs(parts.query)
    target.requests.append(Request(method, path, headers, body))
    name, _, arg = path.lstrip("/").partition("/")
    w = writer.write

    if name == "status":
        w(_reply(int(arg), body=b"hello", head=method == "HEAD"))
    elif name == "redirect":
        n = int(arg)
        w(
            _reply(200, body=b"done")
            if n <= 0
            else _reply(302, [("Location", f"/redirect/{n - 1}")])
        )
    elif name == "loop":
        w(_reply(302, [("Location", "/loop")]))
    elif name == "goto":
        w(_reply(302, [("Location", unquote(query["url"][0]))]))
    elif name == "echo":
        listing = [method] + [f"{k}: {v}" for k, v in headers]
        w(_reply(200, body="\n".join(listing).encode() + b"\n\n" + body))
    elif name == "cookie":
        w(_reply(302, [("Set-Cookie", "session=s3cr3t; Path=/"), ("Location", "/echo")]))
    elif name == "reflect":
        quoted = " ".join(f"{k}: {v}" for k, v in headers)
        w(f"HTTP/1.1 2OO {quoted}\r\n\r\n".encode("latin-1"))
    elif name == "slow-headers":
        await asyncio.sleep(float(arg))
        w(_reply(200, body=b"late"))
    elif name == "slow-body":
        w(_reply(200, [("Content-Length", "10")]) + b"12345")
        await writer.drain()
        await asyncio.sleep(float(arg))
        w(b"67890")
    elif name == "reset":
        _reset(writer)
        return
    elif name == "close":
        pass
    elif name == "garbage":
        w(bytes(range(256)) + b"\x00\xff" * 64 + b"\r\n\r\n")
    elif name == "bad-status":
        w(b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n")
    elif name == "many-headers":
        w(_reply(200, [(f"X-H{i}", "v") for i in range(int(arg))], b"ok"))
    elif name == "big-header":
        w(_reply(200, [("X-Big", "a" * int(arg))], b"ok"))
    elif name in ("endless", "endless-eof"):
        chunked = name == "endless"
        w(
            b"HTTP/1.1 200 X\r\nConnection: close\r\n"
            + (b"Transfer-Encoding: chunked\r\n" if chunked else b"")
            + b"\r\n"
        )
        block = b"x" * 16384
        frame = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
        while True:  # until the client goes away (drain raises) or the target is torn down
            w(frame)
            await writer.drain()
    elif name == "big-length":
        w(_reply(200, [("Content-Length", arg)]) + b"x" * 1024)
        await writer.drain()
        await asyncio.sleep(3600)
    elif name == "truncated-chunked":
        w(b"HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n" + b"y" * 10)
    elif name == "reset-body":
        w(b"HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n" + b"y" * 10)
        await writer.drain()
        await asyncio.sleep(0.05)  # let the client see the headers before the reset
        _reset(writer)
        return
    elif name == "truncated-length":
        w(_reply(200, [("Content-Length", "100")]) + b"z" * 10)
    else:
        w(_reply(404, body=b"no such behaviour"))
    await writer.drain()


@contextlib.asynccontextmanager
async def serve_target(tls: Cert | None = None, tls_delay: float = 0.0) -> AsyncIterator[Target]:
    """Run a hostile target on 127.0.0.1 (a free port) for the duration of the block."""
    server_ctx = tls.server_context() if tls else None
    tasks: set[asyncio.Task[None]] = set()
    writers: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        target.connections += 1
        writers.add(writer)
        try:
            if server_ctx is not None:
                if tls_delay:
                    # Keep the ClientHello in the socket (not in our plain-text buffer) while
                    # we dawdle; start_tls resumes reading itself.
                    writer.transport.pause_reading()
                    await asyncio.sleep(tls_delay)
                await writer.start_tls(server_ctx)
            await _respond(target, reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # the client hung up or rejected our certificate: that is the point
        except asyncio.CancelledError:
            # Only the teardown below cancels handlers. Python 3.11's start_server calls
            # task.exception() on a finished handler, which raises for a cancelled task.
            pass
        finally:
            tasks.discard(asyncio.current_task())  # type: ignore[arg-type]
            writers.discard(writer)
            writer.transport.abort()

    server = await asyncio.start_server(handle, HOST, 0, limit=MAX_REQUEST_HEAD)
    target = Target(port=server.sockets[0].getsockname()[1], scheme="https" if tls else "http")
    try:
        yield target
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in list(writers):
            writer.transport.abort()
        await server.wait_closed()


__all__ = [
    "Cert",
    "Request",
    "Target",
    "blackhole_port",
    "closed_port",
    "make_self_signed_cert",
    "serve_target",
]
