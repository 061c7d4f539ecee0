"""TCP probe: resolve (if the host is a name), open a TCP connection, close it.

Phases (seconds, :attr:`ProbeResult.phases`):

``resolve``  ``loop.getaddrinfo`` for a host name; absent for an IP literal (detected with a
             non-blocking ``getaddrinfo(..., AI_NUMERICHOST)``, which never does I/O).
``connect``  the TCP handshake(s): ``loop.sock_connect`` on each resolved address in turn until
             one accepts; the time of failed attempts counts too.

Both are recorded for failed probes as well (time spent until the failure), as long as the
phase started. The whole probe is bounded by ``spec.timeout`` (``asyncio.timeout``).

:func:`classify_os_error` maps an ``OSError`` to an error kind; :mod:`probes.http` uses it too.
Errors of the daemon's own machine are no verdict on the target (error kind ``internal``, see
:mod:`probes.base`): out of file descriptors or memory (``EMFILE``, ``ENFILE``, ``ENOMEM``).
Not ``EAFNOSUPPORT`` (an IPv6 address on a host without IPv6) nor ``ENOBUFS``: the target
chooses its addresses (an AAAA-only name, a redirect to an IPv6 literal), and a target must
never be able to turn its outage into unknown time; they are ``error``. When a name resolves to
several addresses, a refusal or timeout from one of them wins over a local error on another. Exceptions other than ``OSError`` (a port
out of range, which ``getaddrinfo`` would silently take modulo 65536, or a host name IDNA cannot
encode) are not caught: a spec like that is a bug, which the daemon records as ``internal``.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from dataclasses import dataclass
from time import perf_counter

from probes.base import INTERNAL, ProbeContext, ProbeResult

__all__ = ["TCP_PHASES", "TcpSpec", "classify_os_error", "one_line", "probe"]

#: The TCP phases, in order (see the table above).
TCP_PHASES: tuple[str, ...] = ("resolve", "connect")


@dataclass(frozen=True, slots=True)
class TcpSpec:
    host: str
    port: int
    timeout: float


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
    # The daemon's own machine, not the target: nothing was sent, or nothing could be.
    errno.EMFILE: INTERNAL,
    errno.ENFILE: INTERNAL,
    errno.ENOMEM: INTERNAL,
}


def classify_os_error(exc: BaseException | None) -> str:
    """The error kind for an ``OSError`` (``dns`` for ``socket.gaierror``, ``internal`` for the
    daemon's own resources), else ``error``."""
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
    if not 0 < port < 65536:  # getaddrinfo takes it modulo 65536: another port would be probed
        raise ValueError(f"port {port} out of range 1-65535")
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
            first_error: OSError | None = None  # the first answer from the network
            local_error: OSError | None = None  # the first failure of this machine itself
            try:
                for family, type_, proto, _, address in infos:
                    try:
                        sock = socket.socket(family, type_, proto)
                        sock.setblocking(False)
                        await loop.sock_connect(sock, address)
                        break
                    except OSError as exc:
                        if sock is not None:
                            sock.close()
                            sock = None
                        # A refusal from one address says more about the target than an
                        # address family this host lacks (or a full fd table) says about it.
                        if classify_os_error(exc) == INTERNAL:
                            local_error = local_error or exc
                        else:
                            first_error = first_error or exc
                else:
                    raise first_error or local_error or OSError("no address to connect to")
            finally:
                phases["connect"] = perf_counter() - t
    except TimeoutError:
        return _fail(start, phases, "timeout", f"no answer within {spec.timeout:g} s")
    except OSError as exc:
        kind = classify_os_error(exc)
        if kind == "dns":
            return _fail(start, phases, kind, one_line(f"cannot resolve {host}: {exc.strerror}"))
        if kind == INTERNAL:  # the exception type, for the daemon's log and counter
            text = f"{type(exc).__name__}: {host}:{port}: {_os_error_text(exc)}"
            return _fail(start, phases, kind, one_line(text), exc)
        return _fail(start, phases, kind, one_line(f"{host}:{port}: {_os_error_text(exc)}"))
    finally:
        if sock is not None:
            sock.close()
    return ProbeResult(ok=True, duration=perf_counter() - start, phases=phases)


def _fail(
    start: float,
    phases: dict[str, float],
    kind: str,
    message: str,
    exception: BaseException | None = None,
) -> ProbeResult:
    return ProbeResult(
        ok=False,
        duration=perf_counter() - start,
        error_kind=kind,
        error=message,
        phases=phases,
        exception=exception,
    )
