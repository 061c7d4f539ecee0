"""Webhook delivery: one POST of a notification's JSON (:func:`uptimed.notify.message.payload`).

:func:`deliver_webhook` sends ``body`` as it is given (the caller serialises the payload once,
so every retry carries the same bytes and the same signature), with these headers:

``Content-Type``         ``application/json``
``User-Agent``           ``uptimed/<version>``
``Idempotency-Key``      the notification's key: the same on every retry; receivers dedupe on it
``X-Uptimed-Timestamp``  when a secret is set: this attempt's time, in whole Unix seconds
``X-Uptimed-Signature``  when a secret is set: ``sha256=`` and the lowercase hex
                         HMAC-SHA256 of the raw body, keyed with the secret (UTF-8)

plus the notifier's own ``headers`` (which cannot replace the ones above).

**Verifying a delivery** (receiver side)::

    import hashlib, hmac, json
    expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers["X-Uptimed-Signature"]):
        reject()
    event = json.loads(raw_body)     # only now: the signature covers the exact bytes

Compute the HMAC over the raw bytes received, before any JSON parsing. The signature covers the
body, and so its ``sent_at`` and ``idempotency_key``: to refuse replays, reject keys already
seen and bodies whose ``sent_at`` is too old. The timestamp header is not signed; it says when
this attempt (a retry, say) was made.

The attempt is bounded by ``notifier.timeout`` (connection, request, response; everything), and
at most 64 KiB of the response body is read (and thrown away: it only lets a short response
leave the connection reusable), so a receiver that streams forever costs neither memory nor
more than the timeout. Redirects are not followed (a redirect would carry the body and the
custom headers elsewhere): a 3xx is a failure.

**Outcomes.** A 2xx is delivered. Worth retrying: timeouts, connection and TLS errors, 408,
425, 429 and 5xx (with ``retry_after`` from a ``Retry-After`` header in seconds on 429 and
503). Not worth it: every other status, an invalid URL. :attr:`Outcome.detail` is built here
from the status or the exception's type and errno, never from an exception's text (aiohttp's
embed the URL), so it never holds the URL, a header value or the secret. Exceptions other than
network and protocol ones (``aiohttp.ClientError``, ``OSError``, a timeout) are bugs and raise.
"""

from __future__ import annotations

import asyncio
import errno as errno_codes
import hashlib
import hmac
import math
import os
import time
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDict

from uptimed import __version__
from uptimed.model.config import Notifier

__all__ = ["MAX_RESPONSE_BYTES", "USER_AGENT", "Outcome", "deliver_webhook", "sign"]

#: The most of a response body that is read.
MAX_RESPONSE_BYTES = 64 * 1024

USER_AGENT = f"uptimed/{__version__}"

#: Statuses worth retrying, besides 5xx.
_RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Outcome:
    """The result of one delivery attempt."""

    ok: bool
    retry: bool  # a failure worth trying again (always False when ok)
    detail: str  # short, and free of the URL, header values and secrets: "HTTP 500", "timeout"
    retry_after: float | None = None  # seconds the receiver asked to wait (429, 503)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Uptimed-Signature`` value of ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver_webhook(
    session: aiohttp.ClientSession, notifier: Notifier, body: bytes, key: str
) -> Outcome:
    """POST ``body`` (JSON) to ``notifier.url`` once, with ``key`` as its Idempotency-Key.

    Never raises for the receiver's or the network's failure: see the module docstring."""
    headers: CIMultiDict[str] = CIMultiDict(notifier.headers)
    headers["Content-Type"] = "application/json"
    headers["User-Agent"] = USER_AGENT
    headers["Idempotency-Key"] = key
    if notifier.secret is not None:
        headers["X-Uptimed-Timestamp"] = str(int(time.time()))
        headers["X-Uptimed-Signature"] = sign(notifier.secret, body)
    status: int | None = None
    retry_after: float | None = None
    try:
        async with asyncio.timeout(notifier.timeout):
            async with session.post(
                notifier.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                raise_for_status=False,
            ) as resp:
                status = resp.status
                retry_after = _retry_after(status, resp.headers.get("Retry-After"))
                await _drain(resp)
    except TimeoutError:
        if status is None:
            return Outcome(False, True, f"timeout after {notifier.timeout:g}s")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        if status is None:
            return _failure(exc)
        # The status line and headers came: the receiver answered; a broken body changes nothing.
    assert status is not None  # every path that leaves status None has returned
    return _by_status(status, retry_after)


async def _drain(resp: aiohttp.ClientResponse) -> None:
    """Read at most MAX_RESPONSE_BYTES of the body, and drop it."""
    left = MAX_RESPONSE_BYTES
    while left > 0:
        chunk = await resp.content.read(min(left, 16 * 1024))
        if not chunk:
            return
        left -= len(chunk)
    # More is coming: leaving the ``async with`` with the body unread closes the connection.


def _by_status(status: int, retry_after: float | None) -> Outcome:
    if 200 <= status <= 299:
        return Outcome(True, False, f"HTTP {status}")
    if 300 <= status <= 399:
        return Outcome(False, False, f"HTTP {status} (redirects are not followed)")
    retry = status in _RETRY_STATUSES or 500 <= status <= 599
    return Outcome(False, retry, f"HTTP {status}", retry_after if retry else None)


def _retry_after(status: int, value: str | None) -> float | None:
    """``Retry-After`` in seconds on a 429 or 503 (an HTTP-date is ignored: None)."""
    if status not in (429, 503) or value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _failure(exc: BaseException) -> Outcome:
    """An attempt that got no response, from the exception's type and errno only."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return Outcome(False, True, "cannot resolve the host name")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return Outcome(False, True, "TLS certificate rejected")
    if isinstance(exc, aiohttp.ClientSSLError):
        return Outcome(False, True, "TLS handshake failed")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Outcome(False, True, _os_reason(exc.os_error, "cannot connect"))
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return Outcome(False, True, "server closed the connection without a response")
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        return Outcome(False, False, "invalid webhook URL")
    if isinstance(exc, aiohttp.ClientResponseError):  # aiohttp's parser failed on the reply
        return Outcome(False, True, "invalid HTTP response")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return Outcome(False, True, "invalid or incomplete response")
    if isinstance(exc, OSError):  # ClientOSError included: resets while writing or reading
        return Outcome(False, True, _os_reason(exc, "connection error"))
    if isinstance(exc, aiohttp.ClientError):
        return Outcome(False, True, f"request failed ({type(exc).__name__})")
    # ValueError: aiohttp refused to build the request (a header it cannot send, say).
    return Outcome(False, False, f"request refused by the HTTP client ({type(exc).__name__})")


def _os_reason(exc: OSError | None, fallback: str) -> str:
    if exc is None or not exc.errno:
        return fallback
    if exc.errno == errno_codes.ECONNREFUSED:
        return "connection refused"
    return f"{fallback}: {os.strerror(exc.errno).lower()}"  # asyncio's own text has the address
