"""Probe specs, results and the error taxonomy: plain values, no I/O imports.

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
``error``         anything else (the message says what); a bug if it shows up often
================  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
)

#: The HTTP phases, in order. ``connect`` is the TCP handshake alone; ``tls`` is the TLS handshake.
HTTP_PHASES: tuple[str, ...] = ("resolve", "connect", "tls", "processing", "transfer")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe measured.

    ``duration`` is seconds on the monotonic clock from the probe's start to its end.
    ``phases`` maps phase names (:data:`HTTP_PHASES` for HTTP) to seconds; phases that did not
    happen (no DNS for an IP literal, no TLS for plain HTTP) are absent.
    """

    ok: bool
    duration: float
    error_kind: str | None = None
    error: str | None = None
    status_code: int | None = None
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HttpSpec:
    url: str
    timeout: float
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    #: Accepted status codes as inclusive ranges; the default is 2xx.
    expect_status: tuple[tuple[int, int], ...] = ((200, 299),)
    follow_redirects: bool = True
    max_redirects: int = 10
    max_body_bytes: int = 1024 * 1024
    verify_tls: bool = True


@dataclass(frozen=True, slots=True)
class TcpSpec:
    host: str
    port: int
    timeout: float


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What probes share, owned by the caller.

    ``http`` is the session made by :func:`probes.http.make_session` (one per process); it is
    ``Any`` here so that this module does not import aiohttp.
    """

    http: Any = None
