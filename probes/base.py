"""Probe results, the probe context and the error taxonomy: plain values, no I/O imports.

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
    "internal",
)

#: The error kind of a result that is no verdict on the target (see the table above).
INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe measured.

    ``duration`` is seconds on the monotonic clock from the probe's start to its end.
    ``phases`` maps phase names (:data:`probes.http.HTTP_PHASES` for HTTP) to seconds; phases that did not
    happen (no DNS for an IP literal, no TLS for plain HTTP) are absent.

    ``exception`` is set on :data:`INTERNAL` results only: the exception behind it, so that the
    caller can log its traceback. It keeps the exception's frames alive, so a caller that keeps
    results (or queues them) drops it first (``dataclasses.replace(r, exception=None)``).
    """

    ok: bool
    duration: float
    error_kind: str | None = None
    error: str | None = None
    status_code: int | None = None
    phases: dict[str, float] = field(default_factory=dict)
    exception: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def internal(self) -> bool:
        """Whether this result is no verdict on the target (error kind :data:`INTERNAL`)."""
        return self.error_kind == INTERNAL


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What probes share, owned by the caller.

    ``http`` is the session made by :func:`probes.http.make_session` (one per process); it is
    ``Any`` here so that this module does not import aiohttp.
    """

    http: Any = None
