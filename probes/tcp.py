"""TCP probe: resolve (if the host is a name), open a TCP connection, close it.

Phases (seconds, :attr:`ProbeResult.phases`):

``resolve``  the name lookup (:attr:`ProbeContext.resolve`, the system's ``getaddrinfo`` unless
             the caller injects another) for a host name; absent for an IP literal (detected
             with a non-blocking ``getaddrinfo(..., AI_NUMERICHOST)``, which never does I/O).
``connect``  the TCP handshake(s): ``loop.sock_connect`` on each resolved address in turn until
             one accepts; the time of failed attempts counts too.

Both are recorded for failed probes as well (time spent until the failure), as long as the
phase started, on the probe's clock (:attr:`ProbeContext.clock`). The whole probe is bounded by
``spec.timeout`` (``asyncio.timeout``). A TCP result has no details.

:func:`probes.base.classify_os_error` maps an ``OSError`` to an error kind. Errors of the
daemon's own machine are no verdict on the target (error kind ``internal``, see
:mod:`probes.base`): out of file descriptors or memory (``EMFILE``, ``ENFILE``, ``ENOMEM``).
Not ``EAFNOSUPPORT`` (an IPv6 address on a host without IPv6) nor ``ENOBUFS``: the target
chooses its addresses (an AAAA-only name, a redirect to an IPv6 literal), and a target must
never be able to turn its outage into unknown time; they are ``error``. When a name resolves to
several addresses, a refusal or timeout from one of them wins over a local error on another.
Exceptions other than ``OSError`` (a port out of range, which ``getaddrinfo`` would silently
take modulo 65536, or a host name IDNA cannot encode) are not caught: a spec like that is a bug,
which the daemon records as ``internal``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from probes.base import INTERNAL, AddrInfo, ProbeContext, ProbeResult, classify_os_error, one_line

__all__ = ["TCP_PHASES", "TcpSpec", "probe"]

#: The TCP phases, in order (see the table above).
TCP_PHASES: tuple[str, ...] = ("resolve", "connect")


@dataclass(frozen=True, slots=True)
class TcpSpec:
    host: str
    port: int
    timeout: float


def _os_error_text(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


async def probe(spec: TcpSpec, ctx: ProbeContext) -> ProbeResult:
    """Connect to ``spec.host:spec.port`` and close again; never raises for the target's failure."""
    clock = ctx.clock
    start = clock()
    phases: dict[str, float] = {}
    host, port = spec.host, spec.port
    if not 0 < port < 65536:  # getaddrinfo takes it modulo 65536: another port would be probed
        raise ValueError(f"port {port} out of range 1-65535")
    sock: socket.socket | None = None
    try:
        async with asyncio.timeout(spec.timeout):
            loop = asyncio.get_running_loop()
            infos: Sequence[AddrInfo]
            try:  # an IP literal: numeric parsing only, no lookup, no resolve phase
                infos = socket.getaddrinfo(
                    host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
                )
            except socket.gaierror:
                t = clock()
                try:
                    infos = await ctx.resolve(host, port)
                finally:
                    phases["resolve"] = clock() - t
            t = clock()
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
                phases["connect"] = clock() - t
    except TimeoutError:
        return _fail(clock, start, phases, "timeout", f"no answer within {spec.timeout:g} s")
    except OSError as exc:
        kind = classify_os_error(exc)
        if kind == "dns":
            text = f"cannot resolve {host}: {exc.strerror}"
            return _fail(clock, start, phases, kind, one_line(text))
        if kind == INTERNAL:  # the exception type, for the daemon's log and counter
            text = f"{type(exc).__name__}: {host}:{port}: {_os_error_text(exc)}"
            return _fail(clock, start, phases, kind, one_line(text), exc)
        text = f"{host}:{port}: {_os_error_text(exc)}"
        return _fail(clock, start, phases, kind, one_line(text))
    finally:
        if sock is not None:
            sock.close()
    return ProbeResult(ok=True, duration=clock() - start, phases=phases)


def _fail(
    clock: Callable[[], float],
    start: float,
    phases: dict[str, float],
    kind: str,
    message: str,
    exception: BaseException | None = None,
) -> ProbeResult:
    return ProbeResult(
        ok=False,
        duration=clock() - start,
        error_kind=kind,
        error=message,
        phases=phases,
        exception=exception,
    )
