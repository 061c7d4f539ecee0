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

The marks travel in a :class:`contextvars.ContextVar` holding a small mutable object: aiohttp
runs DNS and connection set-up inside the calling task (``session.request`` awaits
``connector.connect`` directly), so the connector sees the probe's context. This is cheap (a few
``perf_counter`` calls per probe), unlike ``TraceConfig``, which also cannot split TCP from TLS.

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
exception types, errnos and SSL reasons, never from the URL; the catch-all ``error`` path quotes
the exception text with the URL's userinfo and all header values blanked out.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from contextvars import ContextVar
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.connector import NEEDS_CLEANUP_CLOSED
from aiohttp.http_exceptions import ContentLengthError, HttpProcessingError

from probes.spec import HttpSpec, ProbeContext, ProbeResult
from probes.tcp import classify_os_error, one_line

__all__ = ["make_session", "probe"]


class _Marks:
    """Per-probe phase accumulators, filled in by the resolver and connector below."""

    __slots__ = ("resolve", "connect", "tls", "tcp_done")

    def __init__(self) -> None:
        self.resolve: float | None = None
        self.connect: float | None = None
        self.tls: float | None = None
        self.tcp_done = 0.0


_marks: ContextVar[_Marks | None] = ContextVar("probes_http_marks", default=None)


class _TimedResolver(AbstractResolver):
    """Wraps a resolver and adds the time spent in it to the current probe's ``resolve``."""

    def __init__(self, inner: AbstractResolver) -> None:
        self._inner = inner

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> Any:
        m = _marks.get()
        if m is None:
            return await self._inner.resolve(host, port, family)
        t = perf_counter()
        try:
            return await self._inner.resolve(host, port, family)
        finally:
            m.resolve = (m.resolve or 0.0) + (perf_counter() - t)

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

        def timed_factory() -> Any:
            # asyncio calls the protocol factory once the socket is connected, before TLS.
            m = _marks.get()
            if m is not None:
                m.tcp_done = perf_counter()
            return factory()

        self._factory = timed_factory

    async def _wrap_create_connection(self, *args: Any, **kwargs: Any) -> Any:
        m = _marks.get()
        if m is None:
            return await super()._wrap_create_connection(*args, **kwargs)
        m.tcp_done = 0.0
        t = perf_counter()
        try:
            return await super()._wrap_create_connection(*args, **kwargs)
        finally:
            end = perf_counter()
            tcp_done = m.tcp_done
            if kwargs.get("ssl") and tcp_done:
                m.connect = (m.connect or 0.0) + (tcp_done - t)
                m.tls = (m.tls or 0.0) + (end - tcp_done)
            else:
                m.connect = (m.connect or 0.0) + (end - t)


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
    )
    if "_retry_connection" not in aiohttp.ClientSession.ATTRS:  # pragma: no cover
        raise RuntimeError(
            f"probes.http: aiohttp {aiohttp.__version__} has no ClientSession._retry_connection"
        )
    session._retry_connection = False
    return session


async def probe(spec: HttpSpec, ctx: ProbeContext) -> ProbeResult:
    """Request ``spec.url`` and read the body; never raises for the target's failure."""
    request = ctx.http.request  # a missing session is a bug, not the target's failure: raise
    marks = _Marks()
    token = _marks.set(marks)
    start = perf_counter()
    headers_at = body_at = 0.0
    status: int | None = None
    kind: str | None = None
    message: str | None = None
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
                headers_at = perf_counter()
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
                    body_at = perf_counter()
    except TimeoutError:
        kind, message = "timeout", f"no complete reply within {spec.timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - every failure becomes a result; cancellation passes
        kind, message, exc_status = _classify(exc, spec)
        if exc_status is not None:  # a redirect limit: the last reply's headers were just parsed
            status = exc_status
    finally:
        _marks.reset(token)
    end = perf_counter()
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
    if kind is None:
        return ProbeResult(ok=True, duration=end - start, status_code=status, phases=phases)
    return ProbeResult(
        ok=False,
        duration=end - start,
        error_kind=kind,
        error=message,
        status_code=status,
        phases=phases,
    )


def _classify(exc: Exception, spec: HttpSpec) -> tuple[str, str, int | None]:
    """``(error_kind, message, status_code or None)`` for an exception raised by a request."""
    name = type(exc).__name__
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
        text = f"cannot connect to {exc.host}:{exc.port}: {_reason(exc.os_error)}"
        return classify_os_error(exc.os_error), one_line(text), None
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
    if isinstance(exc, ssl.SSLError):
        return "tls", one_line(f"TLS error: {_reason(exc)}"), None
    if isinstance(exc, OSError):  # includes ClientOSError (resets while reading or writing)
        return classify_os_error(exc), one_line(f"connection error: {_reason(exc)}"), None
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        return "error", f"invalid URL ({name})", None  # its text is the URL: not shown
    # Mostly a spec aiohttp refuses (bad method or header, userinfo and Authorization both set).
    return "error", one_line(f"{name}: {_redact(str(exc), spec)}"), None


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
    secrets = [value for _, value in spec.headers]
    try:
        parts = urlsplit(spec.url)
        secrets += [parts.username or "", parts.password or ""]
    except ValueError:
        secrets.append(spec.url)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def _parser_reason(exc: HttpProcessingError) -> str:
    # aiohttp wraps the parser's own error (BadStatusLine, LineTooLong, ...) as the cause. Its
    # message quotes the offending bytes, which a hostile server controls (and may have copied
    # from our request headers), so only the text before the first colon is kept.
    cause = exc.__cause__
    original = cause if isinstance(cause, HttpProcessingError) else exc
    text = str(original.message or "").split("\n", 1)[0].split(":", 1)[0].strip()
    return type(original).__name__ + (f" ({text})" if text else "")
