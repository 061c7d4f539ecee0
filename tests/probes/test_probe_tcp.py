"""The TCP probe against real loopback listeners."""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
import socket

import pytest

from probes.base import (
    ERROR_KINDS,
    INTERNAL,
    AddrInfo,
    ProbeContext,
    ProbeResult,
    classify_os_error,
)
from probes.tcp import TcpSpec, probe
from tests.support.targets import Target, blackhole_port, closed_port

SLACK = 0.25
CTX = ProbeContext()


async def run(host: str, port: int, timeout: float = 2.0) -> ProbeResult:
    """Probe ``host:port`` and check the invariants every result must satisfy."""
    result = await probe(TcpSpec(host=host, port=port, timeout=timeout), CTX)
    assert result.ok == (result.error_kind is None)
    assert not result.details  # a TCP result has none
    if result.ok:
        assert result.error is None
    else:
        assert result.error_kind in ERROR_KINDS
        assert result.error and "\n" not in result.error
    assert (result.exception is not None) == (result.error_kind == INTERNAL)
    assert set(result.phases) <= {"resolve", "connect"}
    assert all(v >= 0 for v in result.phases.values())
    assert sum(result.phases.values()) <= result.duration + 1e-6
    assert 0 <= result.duration <= timeout + SLACK
    return result


async def test_ok_ip_literal(target: Target) -> None:
    r = await run("127.0.0.1", target.port)
    assert r.ok and set(r.phases) == {"connect"} and r.phases["connect"] > 0
    await asyncio.sleep(0.05)
    assert target.connections == 1


async def test_ok_by_name(target: Target) -> None:
    r = await run("localhost", target.port)
    assert r.ok and set(r.phases) == {"resolve", "connect"}


async def test_connection_is_closed_again() -> None:
    closed = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if await reader.read(1) == b"":  # EOF: the probe closed its end
            closed.set()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        r = await run("127.0.0.1", server.sockets[0].getsockname()[1])
        assert r.ok
        await asyncio.wait_for(closed.wait(), 1)
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
async def test_ipv6_literal() -> None:
    try:
        server = await asyncio.start_server(lambda r, w: w.close(), "::1", 0)
    except OSError:
        pytest.skip("::1 is not configured")
    try:
        r = await run("::1", server.sockets[0].getsockname()[1])
        assert r.ok and set(r.phases) == {"connect"}
    finally:
        server.close()
        await server.wait_closed()


async def test_refused() -> None:
    with closed_port() as port:
        r = await run("127.0.0.1", port)
    assert (r.error_kind, set(r.phases)) == ("refused", {"connect"})
    assert str(port) in (r.error or "")


async def test_refused_by_name() -> None:
    with closed_port() as port:
        r = await run("localhost", port)
    assert r.error_kind == "refused" and set(r.phases) == {"resolve", "connect"}


async def test_dns_failure() -> None:
    r = await run("no-such-host.invalid", 80)
    assert r.error_kind in ("dns", "timeout")
    assert "resolve" in r.phases and "connect" not in r.phases


async def test_timeout() -> None:
    with blackhole_port() as port:
        r = await run("127.0.0.1", port, timeout=0.3)
    assert r.error_kind == "timeout"
    assert r.duration >= 0.3 and r.phases["connect"] >= 0.25


async def test_cancellation_propagates() -> None:
    with blackhole_port() as port:
        task = asyncio.create_task(probe(TcpSpec(host="127.0.0.1", port=port, timeout=5), CTX))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_names_are_looked_up_by_the_contexts_resolver(target: Target) -> None:
    """``ctx.resolve`` answers for host names (not for IP literals); its addresses are tried in
    turn until one accepts."""
    asked: list[tuple[str, int]] = []

    async def resolve(host: str, port: int) -> list[AddrInfo]:
        asked.append((host, port))
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", refused)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", target.port)),
        ]

    ctx = ProbeContext(resolve=resolve)
    with closed_port() as refused:
        r = await probe(TcpSpec("db.example.test", 5432, 2.0), ctx)
        assert r.ok and set(r.phases) == {"resolve", "connect"}
        assert (await probe(TcpSpec("127.0.0.1", target.port, 2.0), ctx)).ok
    assert asked == [("db.example.test", 5432)]


async def test_times_come_from_the_contexts_clock(target: Target) -> None:
    ticks = itertools.count(0.0, 1.0)
    r = await probe(TcpSpec("127.0.0.1", target.port, 2.0), ProbeContext(clock=lambda: next(ticks)))
    assert r.ok and r.phases == {"connect": 1.0} and r.duration == 3.0


def test_classify_os_error() -> None:
    assert classify_os_error(ConnectionRefusedError(errno.ECONNREFUSED, "x")) == "refused"
    assert classify_os_error(OSError(errno.EHOSTUNREACH, "x")) == "unreachable"
    assert classify_os_error(OSError(errno.ENETUNREACH, "x")) == "unreachable"
    assert classify_os_error(ConnectionResetError(errno.ECONNRESET, "x")) == "reset"
    assert classify_os_error(socket.gaierror(socket.EAI_NONAME, "x")) == "dns"
    assert classify_os_error(ConnectionResetError("Cannot write to closing transport")) == "reset"
    assert classify_os_error(OSError("no errno")) == "error"
    assert classify_os_error(ValueError()) == "error"


def test_the_daemons_own_resources_are_internal_not_the_targets() -> None:
    """Out of file descriptors or memory: not the target."""
    for code in (errno.EMFILE, errno.ENFILE, errno.ENOMEM):
        assert classify_os_error(OSError(code, os.strerror(code))) == INTERNAL, errno.errorcode[
            code
        ]
    # The target picks its address family (an AAAA-only name, a redirect to an IPv6 literal):
    # on a host without IPv6 that is the target's failure, or it could hide an outage.
    for code in (errno.EAFNOSUPPORT, errno.ENOBUFS):
        assert classify_os_error(OSError(code, os.strerror(code))) == "error", errno.errorcode[code]


async def test_a_port_out_of_range_is_a_bug_not_another_port() -> None:
    """getaddrinfo would take 70000 as 4464 and probe that: the probe raises instead (a bug in
    the spec, which the daemon records as internal)."""
    with pytest.raises(ValueError, match="out of range"):
        await probe(TcpSpec(host="127.0.0.1", port=70000, timeout=1.0), CTX)
