"""The HTTP probe against real loopback targets that misbehave on purpose (see targets.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import pytest

from probes.base import ERROR_KINDS, INTERNAL, ProbeContext, ProbeResult
from probes.http import HTTP_PHASES, STATUS_CODE, HttpSpec, make_session, probe
from tests.support.targets import (
    Cert,
    Target,
    blackhole_port,
    closed_port,
    serve_target,
)

SLACK = 0.25  # seconds a probe may overrun its timeout (loop scheduling on a busy CI box)


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    session = make_session()
    try:
        yield ProbeContext(http=session)
    finally:
        await session.close()


def status(result: ProbeResult) -> int | None:
    """The result's HTTP status code (its detail ``status_code``), None without one."""
    return result.details.get(STATUS_CODE)


async def run(ctx: ProbeContext, url: str, **kwargs: object) -> ProbeResult:
    """Probe ``url`` and check the invariants every result must satisfy."""
    spec = HttpSpec(url=url, **{"timeout": 3.0, **kwargs})  # type: ignore[arg-type]
    result = await probe(spec, ctx)
    assert result.ok == (result.error_kind is None)
    if result.ok:
        assert result.error is None
    else:
        assert result.error_kind in ERROR_KINDS
        assert result.error and "\n" not in result.error and len(result.error) <= 200
    # Only an internal result (no verdict on the target) carries its exception, for the log.
    assert (result.exception is not None) == result.internal == (result.error_kind == INTERNAL)
    assert set(result.phases) <= set(HTTP_PHASES)
    assert set(result.details) <= {STATUS_CODE}
    assert all(v >= 0 for v in result.phases.values()), result.phases
    assert 0 <= result.duration <= spec.timeout + SLACK
    # The phases partition (part of) the probe's time, so they can never add up to more.
    assert sum(result.phases.values()) <= result.duration + 1e-6, (result.phases, result.duration)
    return result


# --- success and status ------------------------------------------------------------------------


async def test_ok(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/status/200"))
    assert r.ok and status(r) == 200
    assert set(r.phases) == {"connect", "processing", "transfer"}  # IP literal, plain HTTP
    assert r.phases["connect"] > 0


async def test_unexpected_status(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/status/503"))
    assert (r.ok, r.error_kind, status(r)) == (False, "http_status", 503)
    assert "503" in (r.error or "")
    assert "processing" in r.phases and "transfer" not in r.phases  # the body is not read


async def test_expect_status_ranges(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/status/503"), expect_status=((200, 299), (500, 503)))
    assert r.ok and status(r) == 503
    r = await run(ctx, target.url("/status/200"), expect_status=((300, 399),))
    assert (r.error_kind, status(r)) == ("http_status", 200)


async def test_method_headers_and_body_are_sent(ctx: ProbeContext, target: Target) -> None:
    r = await run(
        ctx,
        target.url("/echo"),
        method="PUT",
        headers=(("X-Probe", "yes"), ("Authorization", "Bearer t0ken")),
        body=b"payload",
    )
    assert r.ok
    (request,) = target.requests
    assert (request.method, request.body) == ("PUT", b"payload")
    assert request.header("X-Probe") == "yes"
    assert request.header("Authorization") == "Bearer t0ken"


async def test_head_request(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/status/200"), method="HEAD")
    assert r.ok and status(r) == 200 and target.requests[0].method == "HEAD"


async def test_fresh_connection_per_probe_and_no_cookies(ctx: ProbeContext, target: Target) -> None:
    for _ in range(3):
        assert (await run(ctx, target.url("/status/200"))).ok
    assert target.connections == 3
    # A cookie set by one probe is not sent by the next one. (Within one redirect chain,
    # aiohttp 3.14 does not send it either, but 3.12 does, so that is not asserted.)
    # (By name: aiohttp's real CookieJar ignores cookies from IP addresses.)
    assert (await run(ctx, target.url("/cookie", host="localhost"))).ok
    assert (await run(ctx, target.url("/echo", host="localhost"))).ok
    assert [req.path for req in target.requests[-3:]] == ["/cookie", "/echo", "/echo"]
    assert target.requests[-1].header("Cookie") is None


# --- redirects -----------------------------------------------------------------------------------


async def test_redirect_chain_is_followed(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/redirect/3"))
    assert r.ok and status(r) == 200
    assert [req.path for req in target.requests] == [f"/redirect/{n}" for n in (3, 2, 1, 0)]
    assert target.connections == 4


async def test_max_redirects_is_the_most_allowed(ctx: ProbeContext, target: Target) -> None:
    assert (await run(ctx, target.url("/redirect/3"), max_redirects=3)).ok
    r = await run(ctx, target.url("/redirect/3"), max_redirects=2)
    assert (r.error_kind, status(r)) == ("redirects", 302)
    r = await run(ctx, target.url("/redirect/1"), max_redirects=0)
    assert r.error_kind == "redirects"


async def test_redirect_loop(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/loop"), max_redirects=5)
    assert (r.ok, r.error_kind, status(r)) == (False, "redirects", 302)
    assert len(target.requests) == 6  # the request and 5 redirects followed, then it gives up
    assert {"connect", "processing"} <= set(r.phases)


async def test_redirects_not_followed(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/redirect/1"), follow_redirects=False)
    assert (r.error_kind, status(r)) == ("http_status", 302)
    r = await run(
        ctx, target.url("/redirect/1"), follow_redirects=False, expect_status=((302, 302),)
    )
    assert r.ok and status(r) == 302
    assert len(target.requests) == 2


async def test_redirect_to_unusable_location(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/goto?url=ftp%3A%2F%2Fexample.invalid%2F"))
    assert r.error_kind == "redirects"


async def test_phases_sum_over_redirect_hops(ctx: ProbeContext, tls_cert: Cert) -> None:
    async with serve_target(tls=tls_cert, tls_delay=0.1) as t:
        r = await run(ctx, t.url("/redirect/2", host="localhost"), verify_tls=False)
    assert r.ok and t.connections == 3
    assert r.phases["tls"] >= 3 * 0.1  # three handshakes, each delayed by the server
    assert "resolve" in r.phases


# --- timeouts ------------------------------------------------------------------------------------


async def test_timeout_before_headers(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/slow-headers/10"), timeout=0.3)
    assert (r.error_kind, status(r)) == ("timeout", None)
    assert r.duration >= 0.3
    assert "connect" in r.phases and "processing" not in r.phases


async def test_timeout_mid_body(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/slow-body/10"), timeout=0.3)
    assert (r.error_kind, status(r)) == ("timeout", 200)
    assert r.duration >= 0.3
    assert r.phases["transfer"] >= 0.2


async def test_timeout_while_connecting(ctx: ProbeContext) -> None:
    with blackhole_port() as port:
        r = await run(ctx, f"http://127.0.0.1:{port}/", timeout=0.3)
    assert (r.error_kind, status(r)) == ("timeout", None)
    assert r.phases["connect"] >= 0.25


async def test_timeout_bounds_the_whole_redirect_chain(ctx: ProbeContext, target: Target) -> None:
    url = target.url("/goto?url=%2Fslow-headers%2F10")
    r = await run(ctx, url, timeout=0.3)
    assert r.error_kind == "timeout" and len(target.requests) == 2


async def test_cancellation_propagates(ctx: ProbeContext, target: Target) -> None:
    task = asyncio.create_task(probe(HttpSpec(url=target.url("/slow-headers/10"), timeout=5), ctx))
    while not target.requests:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The probe's marks were reset: a following probe measures from scratch.
    r = await run(ctx, target.url("/status/200"))
    assert r.ok and r.phases["connect"] < 0.5


# --- broken connections --------------------------------------------------------------------------


async def test_connection_reset(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/reset"))
    assert (r.error_kind, status(r)) == ("reset", None)
    assert target.connections == 1  # no silent retry


async def test_closed_without_reply(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/close"))
    assert (r.error_kind, status(r)) == ("reset", None)
    assert target.connections == 1  # no silent retry


async def test_connection_refused(ctx: ProbeContext) -> None:
    with closed_port() as port:
        r = await run(ctx, f"http://127.0.0.1:{port}/")
    assert (r.error_kind, status(r)) == ("refused", None)
    assert set(r.phases) == {"connect"}


async def test_dns_failure(ctx: ProbeContext) -> None:
    # .invalid never resolves (RFC 6761); a hanging resolver is bounded by the timeout.
    r = await run(ctx, "http://no-such-host.invalid/", timeout=2.0)
    assert r.error_kind in ("dns", "timeout")
    assert "resolve" in r.phases and "connect" not in r.phases
    if r.error_kind == "dns":
        assert "no-such-host.invalid" in (r.error or "")


async def test_truncated_bodies(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/truncated-chunked"))
    assert (r.error_kind, status(r)) == ("protocol", 200)
    r = await run(ctx, target.url("/truncated-length"))
    assert (r.error_kind, status(r)) == ("reset", 200)
    r = await run(ctx, target.url("/reset-body"))
    assert (r.error_kind, status(r)) == ("reset", 200)


# --- not HTTP ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/garbage", "/bad-status", "/many-headers/200", "/big-header/102400"]
)
async def test_invalid_http_is_protocol(ctx: ProbeContext, target: Target, path: str) -> None:
    r = await run(ctx, target.url(path))
    # aiohttp reports these with a made-up status 400; the probe must not.
    assert (r.ok, r.error_kind, status(r)) == (False, "protocol", None)
    assert "processing" not in r.phases


async def test_a_hundred_headers_are_fine(ctx: ProbeContext, target: Target) -> None:
    assert (await run(ctx, target.url("/many-headers/100"))).ok


# --- body size -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/endless", "/endless-eof"])
async def test_endless_body(ctx: ProbeContext, target: Target, path: str) -> None:
    r = await run(ctx, target.url(path), max_body_bytes=64 * 1024, timeout=5.0)
    assert (r.error_kind, status(r)) == ("body_too_large", 200)
    assert r.duration < 1.0
    assert "transfer" in r.phases


async def test_content_length_over_the_limit(ctx: ProbeContext, target: Target) -> None:
    # The target sends 1 KiB and then stalls: reading the body would end in a timeout.
    r = await run(ctx, target.url("/big-length/10000000"), max_body_bytes=1024 * 1024, timeout=5.0)
    assert (r.error_kind, status(r)) == ("body_too_large", 200)
    assert r.duration < 1.0


async def test_body_limit_is_inclusive(ctx: ProbeContext, target: Target) -> None:
    assert (await run(ctx, target.url("/status/200"), max_body_bytes=5)).ok  # "hello"
    r = await run(ctx, target.url("/status/200"), max_body_bytes=4)
    assert (r.error_kind, status(r)) == ("body_too_large", 200)


# --- TLS -----------------------------------------------------------------------------------------


async def test_tls_self_signed_rejected(ctx: ProbeContext, tls_target: Target) -> None:
    r = await run(ctx, tls_target.url("/status/200"))
    assert (r.error_kind, status(r)) == ("tls", None)
    assert set(r.phases) == {"connect", "tls"}
    assert not tls_target.requests


async def test_tls_unverified(ctx: ProbeContext, tls_target: Target) -> None:
    r = await run(ctx, tls_target.url("/status/200"), verify_tls=False)
    assert r.ok and status(r) == 200
    assert set(r.phases) == {"connect", "tls", "processing", "transfer"}
    assert r.phases["tls"] > 0 and r.phases["connect"] > 0


async def test_tls_by_name(ctx: ProbeContext, tls_target: Target) -> None:
    r = await run(ctx, tls_target.url("/status/200", host="localhost"), verify_tls=False)
    assert r.ok and set(r.phases) == set(HTTP_PHASES)


async def test_tls_handshake_not_counted_as_connect(ctx: ProbeContext, tls_cert: Cert) -> None:
    async with serve_target(tls=tls_cert, tls_delay=0.3) as t:
        r = await run(ctx, t.url("/status/200"), verify_tls=False)
    assert r.ok
    assert r.phases["tls"] >= 0.3
    assert r.phases["connect"] < 0.1
    assert r.phases["processing"] < 0.1


async def test_https_to_a_plain_text_server(ctx: ProbeContext) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        r = await run(ctx, f"https://127.0.0.1:{port}/", verify_tls=False)
    finally:
        server.close()
        await server.wait_closed()
    assert (r.error_kind, status(r)) == ("tls", None)


# --- phases --------------------------------------------------------------------------------------


async def test_resolve_phase_only_for_names(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/status/200", host="localhost"))
    assert r.ok and set(r.phases) == {"resolve", "connect", "processing", "transfer"}
    r = await run(ctx, target.url("/status/200"))
    assert "resolve" not in r.phases


async def test_processing_and_transfer(ctx: ProbeContext, target: Target) -> None:
    r = await run(ctx, target.url("/slow-headers/0.3"))
    assert r.ok and r.phases["processing"] >= 0.3 and r.phases["transfer"] < 0.1
    r = await run(ctx, target.url("/slow-body/0.3"))
    # The server waits 0.3 s between headers and body; the headers may reach us a little late
    # on a busy machine, which shortens the transfer we see by as much.
    assert r.ok and r.phases["transfer"] >= 0.25 and r.phases["processing"] < 0.1


async def test_concurrent_probes_keep_their_own_phases(ctx: ProbeContext, tls_cert: Cert) -> None:
    async with serve_target(tls=tls_cert, tls_delay=0.2) as slow, serve_target() as plain:
        tls_result, plain_result = await asyncio.gather(
            run(ctx, slow.url("/status/200"), verify_tls=False),
            run(ctx, plain.url("/slow-headers/0.1")),
        )
    assert tls_result.ok and plain_result.ok
    assert tls_result.phases["tls"] >= 0.2 and tls_result.phases["connect"] < 0.1
    assert "tls" not in plain_result.phases and plain_result.phases["connect"] < 0.1


# --- messages and misuse -------------------------------------------------------------------------


async def test_no_credentials_in_messages(
    ctx: ProbeContext, target: Target, tls_target: Target
) -> None:
    secret = "hunter2"
    with closed_port() as port:
        # Credentials in the URL's userinfo.
        urls = [
            target.url("/garbage"),
            target.url("/loop"),
            target.url("/goto?url=ftp%3A%2F%2Fuser%3Ahunter2%40example.invalid%2F"),
            tls_target.url("/status/200"),
            f"http://127.0.0.1:{port}/",
            "http://no-such-host.invalid/",
            "ftp://127.0.0.1/",
            "http://[::1/",
        ]
        results = [
            await run(ctx, url.replace("://", f"://user:{secret}@", 1), timeout=2.0) for url in urls
        ]
        # Credentials in headers, one target quoting them back in its (invalid) status line.
        auth = (("Authorization", f"Bearer {secret}"), ("X-Api-Key", secret))
        results += [await run(ctx, target.url("/reflect"), headers=auth)]
        results += [await run(ctx, target.url("/status/503"), headers=auth)]
    assert all(not r.ok for r in results)
    for r in results:
        assert secret not in (r.error or ""), r.error
    assert results[-2].error_kind == "protocol"


async def test_invalid_spec_is_internal_not_the_targets_failure(
    ctx: ProbeContext, target: Target
) -> None:
    """A spec aiohttp refuses before sending anything gives no verdict on the target."""
    for url in ("ftp://127.0.0.1/", "http:///nohost", "http://[::1/"):
        r = await run(ctx, url)
        assert (r.ok, r.error_kind) == (False, INTERNAL)
        assert "invalid URL" in (r.error or "") and "127.0.0.1" not in (r.error or "")
    r = await run(ctx, target.url("/status/200"), method="GE T")
    assert r.error_kind == INTERNAL and (r.error or "").startswith("ValueError: Method")
    r = await run(ctx, target.url("/status/200"), headers=(("X-Key", "hunter2\r\nX-Evil: 1"),))
    assert r.error_kind == INTERNAL and "hunter2" not in (r.error or "")
    assert isinstance(r.exception, ValueError)  # raised while the request was being written
    r = await run(ctx, target.url("/status/200"), headers=(("X-Count", 1),))  # a bug of ours
    assert r.error_kind == INTERNAL and (r.error or "").startswith("TypeError: ")
    r = await run(ctx, f"http://{'a' * 64}.example/")  # a label IDNA cannot encode
    assert r.error_kind == INTERNAL and (r.error or "").startswith("UnicodeError: ")
    assert not target.requests


async def test_authorization_with_credentials_in_the_url_is_internal(ctx: ProbeContext) -> None:
    """aiohttp's "Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded
    in URL" is raised before anything is sent: a spec of ours, not the target's failure."""
    async with serve_target() as t:
        url = t.url("/status/200").replace("://", "://user:hunter2@", 1)
        r = await run(ctx, url, headers=(("Authorization", "Bearer t0ken-secret"),))
        assert not t.requests and t.connections == 0
    assert (r.ok, r.error_kind) == (False, INTERNAL)
    assert (r.error or "").startswith("ValueError: Cannot combine AUTHORIZATION header"), r.error
    assert "hunter2" not in (r.error or "") and "t0ken-secret" not in (r.error or "")
    assert isinstance(r.exception, ValueError)


async def test_the_same_error_after_a_redirect_is_the_targets(ctx: ProbeContext) -> None:
    """aiohttp raises the same ValueError when a same-origin redirect adds credentials to the
    URL while we send Authorization: the target's redirect cannot be followed."""
    async with serve_target() as t:
        location = quote(t.url("/status/200").replace("://", "://user:hunter2@", 1), safe="")
        r = await run(ctx, t.url(f"/goto?url={location}"), headers=(("Authorization", "Bearer x"),))
        assert [q.path for q in t.requests] == ["/goto"]
    assert (r.ok, r.error_kind, r.exception) == (False, "redirects", None)
    assert "ValueError" in (r.error or "") and "hunter2" not in (r.error or "")


async def test_a_refused_connection_is_still_the_targets_failure(ctx: ProbeContext) -> None:
    with closed_port() as port:
        r = await run(ctx, f"http://127.0.0.1:{port}/")
    assert (r.error_kind, r.exception) == ("refused", None)


async def test_a_session_closed_under_the_probe_is_internal() -> None:
    session = make_session()
    await session.close()  # what happens to a probe still running at shutdown
    async with serve_target() as t:
        r = await run(ProbeContext(http=session), t.url("/status/200"))
    assert r.error_kind == INTERNAL and "closed" in (r.error or "")


async def test_missing_session_is_a_bug_not_a_result() -> None:
    with pytest.raises(RuntimeError, match="no HTTP session"):
        await probe(HttpSpec(url="http://127.0.0.1:1/", timeout=1), ProbeContext())


async def test_times_come_from_the_contexts_clock(ctx: ProbeContext, target: Target) -> None:
    """Every time is read from ``ctx.clock``: a clock that says 1000 s more at each reading
    gives phases and a duration counted in its readings."""
    ticks = itertools.count(0.0, 1000.0)
    r = await probe(
        HttpSpec(url=target.url("/status/200"), timeout=3.0),
        dataclasses.replace(ctx, clock=lambda: next(ticks)),
    )
    assert r.ok and status(r) == 200
    assert set(r.phases) == {"connect", "processing", "transfer"}
    assert all(v % 1000 == 0 for v in (*r.phases.values(), r.duration)), r
    assert r.duration >= 3000 and r.phases["connect"] >= 1000


async def test_make_session_configuration() -> None:
    session = make_session(max_connections=7)
    try:
        connector = session.connector
        assert isinstance(connector, aiohttp.TCPConnector)
        assert connector.force_close and not connector.use_dns_cache
        assert connector.limit == 7
        assert isinstance(session.cookie_jar, aiohttp.DummyCookieJar)
        assert session.timeout.total is None and session.timeout.sock_connect is None
    finally:
        await session.close()
