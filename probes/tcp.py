"""TCP probe: resolve (if the host is a name), open a TCP connection, close it.

Phases (seconds, :attr:`ProbeResult.phases`):

``resolve``  ``loop.getaddrinfo`` for a host name; absent for an IP literal (detected with a
             non-blocking ``getaddrinfo(..., AI_NUMERICHOST)``, which never does I/O).
``connect``  the TCP handshake(s): ``loop.sock_connect`` on each resolved address in turn until
             one accepts; the time of failed attempts counts too.

Both are recorded for failed probes as well (time spent until the failure), as long as the
phase started. The whole probe is bounded by ``spec.timeout`` (``asyncio.timeout``).

:func:`classify_os_error` maps an ``OSError`` to an error kind; :mod:`probes.http` uses it too.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from time import perf_counter

from probes.spec import ProbeContext, ProbeResult, TcpSpec

__all__ = ["classify_os_error", "one_line", "probe"]

_ERRNO_KINDS: dict[int, str] = {
    errno.ECONNREFUSED: "refused",
    errno.EHOSTUNREACH: "unreachable",
    errno.ENETUNREACH: "unreachable",
    errno.EHOSTDOWN: "unreachable",
    errno.ENETDOWN: "unreachable",
    errno.EADDRNOTAVAIL: "unreachable",
    errno.ECONNRESET: "reset",
    errno.ECONNABORTED: "reset",
    errno.EPIPE: "reset",
    errno.ETIMEDOUT: "timeout",
}


def classify_os_error(exc: BaseException | None) -> str:
    """The error kind for an ``OSError`` (``dns`` for ``socket.gaierror``), else ``error``."""
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, OSError) and exc.errno is not None:
        return _ERRNO_KINDS.get(exc.errno, "error")
    # Raised without an errno (e.g. aiohttp's "Cannot write to closing transport").
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "reset"
    return "error"


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _os_error_text(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


async def probe(spec: TcpSpec, ctx: ProbeContext) -> ProbeResult:
    """Connect to ``spec.host:spec.port`` and close again; never raises for the target's failure."""
    start = perf_counter()
    phases: dict[str, float] = {}
    host, port = spec.host, spec.port
    sock: socket.socket | None = None
    try:
        async with asyncio.timeout(spec.timeout):
            loop = asyncio.get_running_loop()
            try:  # an IP literal: numeric parsing only, no lookup, no resolve phase
                infos = socket.getaddrinfo(
                    host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
                )
            except socket.gaierror:
                t = perf_counter()
                try:
                    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                finally:
                    phases["resolve"] = perf_counter() - t
            t = perf_counter()
            first_error: OSError | None = None
            try:
                for family, type_, proto, _, address in infos:
                    sock = socket.socket(family, type_, proto)
                    sock.setblocking(False)
                    try:
                        await loop.sock_connect(sock, address)
                        break
                    except OSError as exc:
                        sock.close()
                        sock = None
                        first_error = first_error or exc
                else:
                    raise first_error or OSError("no address to connect to")
            finally:
                phases["connect"] = perf_counter() - t
    except TimeoutError:
        return _fail(start, phases, "timeout", f"no answer within {spec.timeout:g} s")
    except OSError as exc:
        kind = classify_os_error(exc)
        if kind == "dns":
            return _fail(start, phases, kind, one_line(f"cannot resolve {host}: {exc.strerror}"))
        return _fail(start, phases, kind, one_line(f"{host}:{port}: {_os_error_text(exc)}"))
    finally:
        if sock is not None:
            sock.close()
    return ProbeResult(ok=True, duration=perf_counter() - start, phases=phases)


def _fail(start: float, phases: dict[str, float], kind: str, message: str) -> ProbeResult:
    return ProbeResult(
        ok=False, duration=perf_counter() - start, error_kind=kind, error=message, phases=phases
    )
