"""Probe results, the probe context and the error taxonomy: plain values, no I/O imports.

A result carries what every kind measures (``ok``, ``duration``, the error) and, by name, what
its kind measures besides: ``phases`` (seconds) and ``details`` (integers, such as the HTTP
status code). Each kind declares the names it may use (:class:`probes.Kind`), so that the
store, /metrics and the API handle a new kind without a case of their own.

Error kinds (``ProbeResult.error_kind``), the same for every probe kind:

================  ==========================================================================
``dns``           the host name did not resolve
``refused``       the TCP connection was refused (nothing listens on the port)
``unreachable``   no route to the host or network (EHOSTUNREACH, ENETUNREACH)
``timeout``       the probe did not finish within its timeout (any phase, redirects included)
``reset``         the peer reset or closed the connection before a complete reply
``tls``           TLS handshake or certificate verification failed
``http_status``   a complete HTTP reply whose status is not in ``expect_status``
``redirects``     more redirects than the limit, or a redirect to an unusable location
``protocol``      the reply is not valid HTTP (garbage bytes, oversized or too many headers)
``body_too_large``  the body is larger than ``max_body_bytes``
``error``         any other network failure (the message says what); a bug if it shows up often
``internal``      **not the target's failure**: a bug in uptimed or a library it uses, a spec
                  the HTTP client refuses before sending anything, or the daemon's own
                  resources (file descriptors, memory). It gives no verdict on the target: its
                  time counts as if the probe had not run (unknown once the last verdict's
                  ``max_gap`` is over), never as down. See :mod:`probes.http` for the rule.
================  ==========================================================================

Every kind but ``internal`` is a verdict on the target (a failure). A probe returns ``internal``
results itself where it can tell (:mod:`probes.http`), and the daemon turns any exception a
probe raises into one (a probe must not raise, so one that does has a bug).
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the type only: this module must not import aiohttp
    from aiohttp import ClientSession

ERROR_KINDS: tuple[str, ...] = (
    "dns",
    "refused",
    "unreachable",
    "timeout",
    "reset",
    "tls",
    "http_status",
    "redirects",
    "protocol",
    "body_too_large",
    "error",
    "internal",
)

#: The error kind of a result that is no verdict on the target (see the table above).
INTERNAL = "internal"

#: The error kind of an ``OSError`` by its errno (:func:`classify_os_error`).
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
    """``text`` on one line, at most ``limit`` characters: what an error message must be."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: The details of a result that has none (shared: a mapping nobody can change).
NO_DETAILS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe measured.

    ``duration`` is seconds on the probe's clock (:attr:`ProbeContext.clock`) from its start to
    its end. ``phases`` maps phase names (its kind's :attr:`probes.Kind.phases`) to seconds;
    phases that did not happen (no DNS for an IP literal, no TLS for plain HTTP) are absent.
    ``details`` maps detail names (its kind's :attr:`probes.Kind.details`, such as HTTP's
    ``status_code``) to integers; absent when not known (no reply, no status code).

    ``exception`` is set on :data:`INTERNAL` results only: the exception behind it, so that the
    caller can log its traceback. It keeps the exception's frames alive, so a caller that keeps
    results (or queues them) drops it first (``dataclasses.replace(r, exception=None)``).
    """

    ok: bool
    duration: float
    error_kind: str | None = None
    error: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    details: Mapping[str, int] = field(default_factory=lambda: NO_DETAILS)  # shared, read-only
    exception: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def internal(self) -> bool:
        """Whether this result is no verdict on the target (error kind :data:`INTERNAL`)."""
        return self.error_kind == INTERNAL


#: One address of a host name, as ``loop.getaddrinfo`` gives it:
#: ``(family, type, proto, canonname, sockaddr)``.
AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]

#: Looks up a host name for a TCP connection to ``port``: its addresses, in the order to try.
Resolve = Callable[[str, int], Awaitable[Sequence[AddrInfo]]]


async def system_resolve(host: str, port: int) -> Sequence[AddrInfo]:
    """The system's resolver (``getaddrinfo`` in the loop's thread pool), stream sockets."""
    return await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What probes share, owned by the caller.

    ``http``: the session made by :func:`probes.http.make_session` (one per process; HTTP
    probes need it, and name lookups of HTTP probes go through its own resolver). ``resolve``:
    name lookups of the probes that resolve names themselves (TCP). ``clock``: the monotonic
    clock every duration and phase is measured on, in seconds.
    """

    http: ClientSession | None = None
    resolve: Resolve = system_resolve
    clock: Callable[[], float] = perf_counter


#: Field metadata of a spec dataclass: how the field may hold secrets, for
#: :func:`uptimed.core.redact.secrets_of` (``field(metadata={SECRET: URL})``). Values that
#: hold references resolved by the config loader are secret whatever the field.
SECRET = "secret"
#: The field is a URL: its userinfo and the values of its secret-looking query parameters.
URL = "url"
#: The field is ``(name, value)`` header pairs: the values of credential headers.
HEADERS = "headers"
