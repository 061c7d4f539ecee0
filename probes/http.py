"""HTTP probe: one request through a shared aiohttp session, on a fresh connection, timed by phase.

:func:`make_session` builds the one session every HTTP probe shares (call it inside the running
loop, close it at shutdown). It never reuses a connection (``force_close``) and never caches DNS,
so every probe exercises DNS, TCP and TLS for real; it has no cookie jar, no session timeout
(each probe bounds itself with ``asyncio.timeout(spec.timeout)``, DNS to last body byte and
redirects included), does not decompress (``max_body_bytes`` counts body bytes as they come off
the wire, after de-chunking), does not read proxies from the environment, and does not retry.

Phases (seconds, :attr:`ProbeResult.phases`; summed over redirect hops):

``resolve``     time in the resolver, measured by a wrapper around aiohttp's default resolver.
                aiohttp calls the resolver only for host names, so IP literals have no resolve.
``connect``     the TCP handshake alone: from the start of ``TCPConnector._wrap_create_connection``
                (which runs ``aiohappyeyeballs.start_connection``, then
                ``loop.create_connection(sock=..., ssl=...)``) to the moment asyncio calls the
                protocol factory, which it does once the socket is connected and before any TLS
                byte is sent. For plain HTTP it runs to the end of ``_wrap_create_connection``.
``tls``         HTTPS only: from that protocol-factory call to the end of
                ``_wrap_create_connection``, i.e. the TLS handshake (certificate check included).
``processing``  from the probe's start to the final response's headers being parsed, minus
                resolve, connect and TLS: sending the request and waiting for the server, plus
                whole intermediate redirect hops and the client's own (small) overhead.
``transfer``    from the headers being parsed to the last body byte read.

Phases are recorded for failed probes too, as far as they got (a refused connect has a
``connect``; a body that timed out has ``processing`` and ``transfer``).

Details (:attr:`ProbeResult.details`): ``status_code``, the status of the last reply whose
headers were read (with too many redirects, the last redirect's); absent without one.

Every time is read from the probe's clock (:attr:`ProbeContext.clock`). The marks travel in a
:class:`contextvars.ContextVar` holding a small mutable object (with that clock): aiohttp runs
DNS and connection set-up inside the calling task (``session.request`` awaits
``connector.connect`` directly), so the connector sees the probe's context. This is cheap (a few
clock readings per probe), unlike ``TraceConfig``, which also cannot split TCP from TLS.

Private aiohttp API relied on (aiohttp is pinned ``>=3.13.4,<4``; all of it is present from 3.12.0
to 3.14, and :class:`_TimedConnector` raises ``RuntimeError`` at construction if it is missing):

- ``TCPConnector._wrap_create_connection(*args, **kwargs)`` with the TLS context in ``ssl=``;
- ``TCPConnector._factory`` (the protocol factory) and ``TCPConnector._resolver``;
- ``ClientSession._retry_connection``: set to False, otherwise aiohttp repeats an idempotent
  request once when the server closes or resets the connection, even on a fresh connection,
  which doubles the load on a failing target and hides the first failure.

Error kinds come from aiohttp's exceptions: ``ClientConnectorDNSError`` → dns, certificate and
SSL errors → tls, ``ClientConnectorError``/``ClientOSError`` by errno (refused, unreachable,
reset), ``ServerDisconnectedError`` → reset, a parser error (aiohttp reports it as a
``ClientResponseError`` with a made-up status 400 whose cause is an ``HttpProcessingError``) →
protocol with no status, ``ClientPayloadError`` → reset if the body was cut short by a
Content-Length/EOF mismatch, protocol if the chunked framing was broken or cut,
``TooManyRedirects`` and unusable redirect locations → redirects. Messages are built here from
exception types, errnos and SSL reasons, never from the URL; the catch-all paths quote the
exception text with the URL's userinfo and all header values blanked out.

**Target failure or ours** (``internal``: no verdict, see :mod:`probes.base`). A probe must not
bill the target for a bug of ours, nor hide the target's failure as one. The rule:

- The target's failure: timeouts, and every network or protocol error: aiohttp's
  ``ClientError`` family (connection, DNS, TLS, disconnects, payload, parser, redirects), its
  parser's ``HttpProcessingError``, ``EOFError``, ``OSError`` and ``ssl.SSLError``; an
  unclassified one of these is ``error``.
- Ours, whatever the exception says: the session was closed under the probe (the daemon is
  stopping); the spec's own URL is unusable (``InvalidURL``, ``NonHttpUrlClientError``: the
  target was never contacted; the same exceptions for a redirect's location are the target's);
  an ``OSError`` of this machine's resources (:func:`probes.base.classify_os_error`); a
  ``ClientError`` that only wraps a non-network exception (aiohttp's "Failed to send bytes"
  around a ``TypeError`` from our body).
- ``ValueError`` (``UnicodeError`` included) depends on when it was raised. Before our request
  was fully sent it is ours: a spec aiohttp refuses while building or writing the request (a
  bad method, a header with CR/LF, a host name IDNA cannot encode, ``Authorization`` together
  with credentials in the URL: "Cannot combine AUTHORIZATION header with AUTH argument or
  credentials encoded in URL"). Once a reply has come, it is the reply's: while a reply is
  read, or the body, → protocol; between a redirect reply and the next request (aiohttp raises
  the same "Cannot combine" error for a same-origin redirect to a URL with credentials while we
  send ``Authorization``) → redirects. When is known from :class:`_Response` (see below).
- Everything else (``TypeError``, ``AttributeError``, ``AssertionError``, ``KeyError``,
  ``RuntimeError``, ...) is a bug in our code or aiohttp's, even if a reply triggered it: ours.

Internal results carry the exception (:attr:`ProbeResult.exception`) for the caller's log.
``ClientSession(response_class=_Response)`` counts the requests sent and the replies read per
probe: it overrides ``ClientResponse.start(connection)`` (public name, undocumented), which
aiohttp calls once per hop after the request is written and which returns once the reply's
status line and headers are parsed.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import ssl
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.client_proto import ResponseHandler
from aiohttp.connector import NEEDS_CLEANUP_CLOSED, Connection
from aiohttp.http_exceptions import ContentLengthError, HttpProcessingError

from probes.base import (
    HEADERS,
    INTERNAL,
    NO_DETAILS,
    SECRET,
    URL,
    ProbeContext,
    ProbeResult,
    classify_os_error,
    one_line,
)

__all__ = ["HTTP_DETAILS", "HTTP_PHASES", "STATUS_CODE", "HttpSpec", "make_session", "probe"]


#: The HTTP phases, in order. ``connect`` is the TCP handshake alone; ``tls`` is the TLS handshake.
HTTP_PHASES: tuple[str, ...] = ("resolve", "connect", "tls", "processing", "transfer")

#: The detail of an HTTP result: the status code of the last reply read (after redirects).
STATUS_CODE = "status_code"
HTTP_DETAILS: tuple[str, ...] = (STATUS_CODE,)


@dataclass(frozen=True, slots=True)
class HttpSpec:
    url: str = field(metadata={SECRET: URL})
    timeout: float
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = field(default=(), metadata={SECRET: HEADERS})
    body: bytes | None = None
    #: Accepted status codes as inclusive ranges; the default is 2xx.
    expect_status: tuple[tuple[int, int], ...] = ((200, 299),)
    follow_redirects: bool = True
    max_redirects: int = 10
    max_body_bytes: int = 1024 * 1024
    verify_tls: bool = True


class _Marks:
    """Per-probe phase accumulators, filled in by the resolver and connector below."""

    __slots__ = ("clock", "resolve", "connect", "tls", "tcp_done", "sent", "replies")

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.resolve: float | None = None
        self.connect: float | None = None
        self.tls: float | None = None
        self.tcp_done = 0.0
        #: Requests written and replies (status line and headers) read, over redirect hops:
        #: they tell an exception of ours from one the target's reply caused (see _stage).
        self.sent = 0
        self.replies = 0


_marks: ContextVar[_Marks | None] = ContextVar("probes_http_marks", default=None)


class _TimedResolver(AbstractResolver):
    """Wraps a resolver and adds the time spent in it to the current probe's ``resolve``."""

    def __init__(self, inner: AbstractResolver) -> None:
        self._inner = inner

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> Any:
        m = _marks.get()
        if m is None:
            return await self._inner.resolve(host, port, family)
        t = m.clock()
        try:
            return await self._inner.resolve(host, port, family)
        finally:
            m.resolve = (m.resolve or 0.0) + (m.clock() - t)

    async def close(self) -> None:
        await self._inner.close()


class _TimedConnector(aiohttp.TCPConnector):
    """A TCPConnector that times the TCP handshake and the TLS handshake separately."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        factory = getattr(self, "_factory", None)
        resolver = getattr(self, "_resolver", None)
        if not callable(factory) or not isinstance(resolver, AbstractResolver):
            raise RuntimeError(
                f"probes.http: aiohttp {aiohttp.__version__} has no TCPConnector._factory or "
                "._resolver; the phase timing needs updating for this version"
            )
        self._resolver = _TimedResolver(resolver)
        inner: Callable[[], ResponseHandler] = factory

        def timed_factory() -> ResponseHandler:
            # asyncio calls the protocol factory once the socket is connected, before TLS.
            m = _marks.get()
            if m is not None:
                m.tcp_done = m.clock()
            return inner()

        self._factory = functools.partial(timed_factory)  # aiohttp's own is a partial

    async def _wrap_create_connection(self, *args: Any, **kwargs: Any) -> Any:
        m = _marks.get()
        if m is None:
            return await super()._wrap_create_connection(*args, **kwargs)
        m.tcp_done = 0.0
        t = m.clock()
        try:
            return await super()._wrap_create_connection(*args, **kwargs)
        finally:
            end = m.clock()
            tcp_done = m.tcp_done
            if kwargs.get("ssl") and tcp_done:
                m.connect = (m.connect or 0.0) + (tcp_done - t)
                m.tls = (m.tls or 0.0) + (end - tcp_done)
            else:
                m.connect = (m.connect or 0.0) + (end - t)


class _Response(aiohttp.ClientResponse):
    """Counts, in the current probe's marks, the requests written and the replies read."""

    async def start(self, connection: Connection) -> aiohttp.ClientResponse:
        m = _marks.get()
        if m is None:
            return await super().start(connection)
        m.sent += 1  # aiohttp calls start() once the request is written
        resp = await super().start(connection)
        m.replies += 1
        return resp


if not hasattr(aiohttp.TCPConnector, "_wrap_create_connection"):  # pragma: no cover
    raise ImportError(
        f"probes.http: aiohttp {aiohttp.__version__} has no "
        "TCPConnector._wrap_create_connection; the phase timing needs updating for this version"
    )


def make_session(max_connections: int = 0) -> aiohttp.ClientSession:
    """The session shared by all HTTP probes; call inside the running loop, close at shutdown.

    :param max_connections: the most connections open at once (0: no limit); further probes
        wait for a free slot, and that wait counts against their timeout.
    """
    connector = _TimedConnector(
        force_close=True,
        use_dns_cache=False,
        limit=max_connections,
        enable_cleanup_closed=NEEDS_CLEANUP_CLOSED,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(),  # no limits: each probe has its own asyncio.timeout
        auto_decompress=False,
        trust_env=False,
        response_class=_Response,
    )
    if "_retry_connection" not in aiohttp.ClientSession.ATTRS:  # pragma: no cover
        raise RuntimeError(
            f"probes.http: aiohttp {aiohttp.__version__} has no ClientSession._retry_connection"
        )
    session._retry_connection = False
    return session


async def probe(spec: HttpSpec, ctx: ProbeContext) -> ProbeResult:
    """Request ``spec.url`` and read the body; never raises for the target's failure."""
    session = ctx.http
    if session is None:  # a bug, not the target's failure: raise (the daemon logs it)
        raise RuntimeError("probes.http: the probe context has no HTTP session (make_session)")
    request = session.request
    clock = ctx.clock
    marks = _Marks(clock)
    token = _marks.set(marks)
    start = clock()
    headers_at = body_at = 0.0
    status: int | None = None
    kind: str | None = None
    message: str | None = None
    internal: BaseException | None = None
    try:
        async with asyncio.timeout(spec.timeout):
            async with request(
                spec.method,
                spec.url,
                headers=spec.headers or None,
                data=spec.body,
                allow_redirects=spec.follow_redirects,
                # aiohttp fails on the max_redirects-th redirect (so follows one fewer), and
                # takes 0 as "no limit"; the spec means "fail when there are more than this".
                max_redirects=spec.max_redirects + 1,
                ssl=spec.verify_tls,
            ) as resp:
                headers_at = clock()
                status = resp.status
                for low, high in spec.expect_status:
                    if low <= status <= high:
                        break
                else:
                    kind, message = "http_status", f"unexpected status {status}"
                if kind is None:
                    limit = spec.max_body_bytes
                    length = resp.content_length
                    if length is not None and length > limit:
                        kind, message = "body_too_large", f"Content-Length {length} > {limit}"
                    else:
                        content = resp.content
                        size = 0
                        while chunk := await content.readany():
                            size += len(chunk)
                            if size > limit:
                                kind, message = "body_too_large", f"body > {limit} bytes"
                                break
                    body_at = clock()
    except TimeoutError:
        kind, message = "timeout", f"no complete reply within {spec.timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - every failure becomes a result; cancellation passes
        closed = bool(getattr(session, "closed", False))
        kind, message, exc_status = _classify(exc, spec, _stage(marks, headers_at), closed)
        if exc_status is not None:  # a redirect limit: the last reply's headers were just parsed
            status = exc_status
        if kind == INTERNAL:
            internal = exc
    finally:
        _marks.reset(token)
    end = clock()
    if status is not None and not headers_at:
        headers_at = end

    phases: dict[str, float] = {}
    spent = 0.0
    if marks.resolve is not None:
        phases["resolve"] = marks.resolve
        spent = marks.resolve
    if marks.connect is not None:
        phases["connect"] = marks.connect
        spent += marks.connect
    if marks.tls is not None:
        phases["tls"] = marks.tls
        spent += marks.tls
    if headers_at:
        phases["processing"] = max(headers_at - start - spent, 0.0)
        if kind not in ("http_status", "redirects"):  # the body was read, or failed being read
            phases["transfer"] = (body_at or end) - headers_at
    details = NO_DETAILS if status is None else {STATUS_CODE: status}
    if kind is None:
        return ProbeResult(ok=True, duration=end - start, phases=phases, details=details)
    return ProbeResult(
        ok=False,
        duration=end - start,
        error_kind=kind,
        error=message,
        phases=phases,
        details=details,
        exception=internal,
    )


# When an exception was raised, from the marks (see the module docstring, "Target failure or ours").
_REQUEST = "request"  # before our (first) request was fully written
_REPLY = "reply"  # while a reply's status line and headers were read, or the final body
_REDIRECT = "redirect"  # after a complete redirect reply, before the next reply


def _stage(marks: _Marks, headers_at: float) -> str:
    if marks.sent == 0:
        return _REQUEST
    if headers_at or marks.sent > marks.replies:
        return _REPLY
    return _REDIRECT


#: Exceptions a network or a peer causes: a ClientError wrapping anything else wraps our bug.
_NETWORK_ERRORS = (
    OSError,
    ssl.SSLError,
    aiohttp.ClientError,
    HttpProcessingError,
    TimeoutError,
    EOFError,
)


def _classify(
    exc: Exception, spec: HttpSpec, stage: str, closed: bool
) -> tuple[str, str, int | None]:
    """``(error_kind, message, status_code or None)`` for an exception raised by a request:
    ``stage`` says when (:func:`_stage`), ``closed`` whether the session was closed by then."""
    name = type(exc).__name__
    if closed:  # "Connector is closed", "Session is closed": the daemon is stopping
        return INTERNAL, f"{name}: the HTTP session was closed during the probe", None
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns", one_line(f"cannot resolve {exc.host}: {_reason(exc.os_error)}"), None
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        reason = getattr(cert_error, "verify_message", None) or _reason(cert_error)
        return "tls", one_line(f"certificate rejected by {exc.host}:{exc.port}: {reason}"), None
    if isinstance(exc, aiohttp.ClientSSLError):
        text = f"TLS failed with {exc.host}:{exc.port}: {_reason(exc.os_error)}"
        return "tls", one_line(text), None
    if isinstance(exc, aiohttp.ClientConnectorError):
        kind = classify_os_error(exc.os_error)
        text = f"cannot connect to {exc.host}:{exc.port}: {_reason(exc.os_error)}"
        if kind == INTERNAL:  # named, like every internal error, for the daemon's log
            text = f"{name}: {text}"
        return kind, one_line(text), None
    if isinstance(exc, aiohttp.TooManyRedirects):
        last = exc.history[-1].status if exc.history else None
        return "redirects", f"more than {spec.max_redirects} redirects", last
    if isinstance(exc, aiohttp.RedirectClientError):
        return "redirects", f"redirect to an unusable location ({name})", None
    if isinstance(exc, aiohttp.ClientResponseError):
        cause = exc.__cause__
        if isinstance(cause, HttpProcessingError):
            # aiohttp gives parser errors a made-up status (400): the reply had no valid status.
            return "protocol", one_line(f"invalid HTTP reply: {_parser_reason(cause)}"), None
        return "error", f"{name} (status {exc.status})", None
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "reset", "server closed the connection before a complete reply", None
    if isinstance(exc, aiohttp.ClientPayloadError):
        cause = exc.__cause__
        if "ConnectionResetError" in str(exc):  # aiohttp names the reset only in the text
            return "reset", "connection reset while reading the body", None
        if isinstance(cause, ContentLengthError):
            return "reset", "server closed the connection before the end of the body", None
        detail = type(cause).__name__ if cause is not None else name
        return "protocol", f"invalid or incomplete body ({detail})", None
    if isinstance(exc, HttpProcessingError):  # the parser's own error, should one escape unwrapped
        return "protocol", one_line(f"invalid HTTP reply: {_parser_reason(exc)}"), None
    if isinstance(exc, EOFError):  # asyncio.IncompleteReadError: the peer closed mid-read
        return "reset", "server closed the connection before a complete reply", None
    if isinstance(exc, ssl.SSLError):
        return "tls", one_line(f"TLS error: {_reason(exc)}"), None
    if isinstance(exc, OSError):  # includes ClientOSError (resets while reading or writing)
        kind = classify_os_error(exc)
        if kind == INTERNAL:
            return kind, one_line(f"{name}: {_reason(exc)}"), None
        return kind, one_line(f"connection error: {_reason(exc)}"), None
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        # The spec's own URL (a redirect's went to "redirects" above): never sent anywhere.
        return INTERNAL, f"{name}: invalid URL (not shown)", None  # its text is the URL
    text = one_line(f"{name}: {_redact(str(exc), spec)}")
    if isinstance(exc, aiohttp.ClientError):
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, _NETWORK_ERRORS):
            return INTERNAL, text, None  # e.g. "Failed to send bytes ...: TypeError(...)"
        return "error", text, None  # a network failure aiohttp gives no finer type
    if isinstance(exc, ValueError) and stage != _REQUEST:
        # Raised on data the target sent: its message may quote that data, so only its head.
        head = _head(str(exc))
        if stage == _REDIRECT:
            return "redirects", one_line(f"redirect that cannot be followed ({name}: {head})"), None
        return "protocol", one_line(f"invalid HTTP reply ({name}: {head})"), None
    # A spec aiohttp refuses before sending (bad method or header, userinfo and Authorization
    # both set), or a bug of ours or aiohttp's: no verdict on the target.
    return INTERNAL, text, None


def _reason(exc: BaseException | None) -> str:
    """A short, credential-free description of an OS or SSL error."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, socket.gaierror):
        return exc.strerror or f"getaddrinfo error {exc.errno}"
    if isinstance(exc, OSError):
        if exc.errno:
            return os.strerror(exc.errno)  # asyncio's own strerror may quote the address
        if exc.strerror:
            return exc.strerror
    return type(exc).__name__


def _redact(text: str, spec: HttpSpec) -> str:
    """``text`` without the spec's header values or URL userinfo (the error path only)."""
    # It runs on the error path, where the spec may be the bug: it must not raise itself.
    secrets = [value for _, value in spec.headers if isinstance(value, str)]
    try:
        parts = urlsplit(spec.url)
        secrets += [parts.username or "", parts.password or ""]
    except (ValueError, TypeError, AttributeError):
        secrets.append(spec.url if isinstance(spec.url, str) else "")
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def _head(text: str) -> str:
    """The first line of ``text`` up to its first colon: the part a peer does not control."""
    return text.split("\n", 1)[0].split(":", 1)[0].strip()


def _parser_reason(exc: HttpProcessingError) -> str:
    # aiohttp wraps the parser's own error (BadStatusLine, LineTooLong, ...) as the cause. Its
    # message quotes the offending bytes, which a hostile server controls (and may have copied
    # from our request headers), so only the text before the first colon is kept.
    cause = exc.__cause__
    original = cause if isinstance(cause, HttpProcessingError) else exc
    text = _head(str(original.message or ""))
    return type(original).__name__ + (f" ({text})" if text else "")
