"""Webhook delivery against a real receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import tracemalloc
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.receiver import Receiver
from tests.support.targets import Target, blackhole_port, closed_port
from uptimed import __version__
from uptimed.model.config import Notifier
from uptimed.notify.message import Notification, payload
from uptimed.notify.webhook import MAX_RESPONSE_BYTES, Outcome, deliver_webhook, sign

TOKEN = "pathtok3n5ecret"
QUERY_TOKEN = "querytok3n5ecret"
HEADER_SECRET = "hdr5ecretvalue"
HMAC_SECRET = "hmac5ecretkey"
SECRETS = (TOKEN, QUERY_TOKEN, HEADER_SECRET, HMAC_SECRET)

NOTE = Notification(
    event="incident.opened",
    idempotency_key="inc-1:incident.opened:0",
    level=0,
    incident_id="inc-1",
    target="api",
    target_kind="monitor",
    severity="critical",
    state="down",
    started=1_767_323_045_000,
    confirmed=1_767_323_075_000,
    cause_kind="refused",
    cause="cannot connect to 10.0.0.1:443: Connection refused",
)
NOW = 1_767_323_080_000
BODY = json.dumps(payload(NOTE, NOW), separators=(",", ":")).encode()
KEY = NOTE.idempotency_key


def notifier(url: str, **kw: object) -> Notifier:
    return Notifier(id="ops", kind="webhook", url=url, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as r:
        yield r


async def test_delivers_the_payload_with_its_headers(
    session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    n = notifier(receiver.url + "/hooks/uptimed")
    out = await deliver_webhook(session, n, BODY, KEY)
    assert out == Outcome(ok=True, retry=False, detail="HTTP 200")
    assert len(receiver.received) == 1
    headers, body, path = receiver.received[0]
    assert path == "/hooks/uptimed"
    assert body == payload(NOTE, NOW)
    assert body["version"] == 1
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == KEY
    assert headers["User-Agent"] == f"uptimed/{__version__}"
    assert "X-Uptimed-Signature" not in headers  # no secret, no signature
    assert "X-Uptimed-Timestamp" not in headers


async def test_signature_verifies_with_hmac(
    session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    before = int(time.time())
    out = await deliver_webhook(session, notifier(receiver.url, secret=HMAC_SECRET), BODY, KEY)
    assert out.ok
    headers, body, _ = receiver.received[0]
    # What a receiver does (the module docstring), over the bytes as received:
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert raw == BODY
    expected = "sha256=" + hmac.new(HMAC_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, headers["X-Uptimed-Signature"])
    assert sign(HMAC_SECRET, BODY) == expected
    assert before <= int(headers["X-Uptimed-Timestamp"]) <= int(time.time())
    wrong = "sha256=" + hmac.new(b"other", raw, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(wrong, headers["X-Uptimed-Signature"])


async def test_custom_headers_are_sent_and_cannot_replace_ours(
    session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    headers = (
        ("Authorization", f"Bearer {HEADER_SECRET}"),
        ("X-Team", "ops"),
        ("content-type", "text/plain"),
        ("idempotency-key", "forged"),
    )
    out = await deliver_webhook(session, notifier(receiver.url, headers=headers), BODY, KEY)
    assert out.ok
    got, _, _ = receiver.received[0]
    assert got["Authorization"] == f"Bearer {HEADER_SECRET}"
    assert got["X-Team"] == "ops"
    assert got["Content-Type"] == "application/json"
    assert got["Idempotency-Key"] == KEY


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (500, True),
        (502, True),
        (503, True),
        (408, True),
        (425, True),
        (429, True),
        (404, False),
        (400, False),
        (401, False),
        (410, False),
        (302, False),
    ],
)
async def test_status_decides_whether_to_retry(
    session: aiohttp.ClientSession, receiver: Receiver, status: int, retry: bool
) -> None:
    receiver.status = status
    receiver.headers = {"Location": "/elsewhere"} if status == 302 else {}
    out = await deliver_webhook(session, notifier(receiver.url), BODY, KEY)
    assert not out.ok
    assert out.retry is retry
    assert out.detail.startswith(f"HTTP {status}")
    assert out.retry_after is None
    assert len(receiver.received) == 1  # a redirect is not followed


async def test_fail_next_then_success(session: aiohttp.ClientSession, receiver: Receiver) -> None:
    receiver.fail_next(2, status=503)
    n = notifier(receiver.url)
    outcomes = [await deliver_webhook(session, n, BODY, KEY) for _ in range(3)]
    assert [o.ok for o in outcomes] == [False, False, True]
    assert [h["Idempotency-Key"] for h, _, _ in receiver.received] == [KEY] * 3


@pytest.mark.parametrize(
    ("status", "value", "expected"),
    [
        (429, "120", 120.0),
        (503, " 2.5 ", 2.5),
        (429, "Wed, 21 Oct 2015 07:28:00 GMT", None),  # a date: not parsed
        (429, "-3", None),
        (429, "nan", None),
        (500, "30", None),  # only on 429 and 503
    ],
)
async def test_retry_after(
    session: aiohttp.ClientSession,
    receiver: Receiver,
    status: int,
    value: str,
    expected: float | None,
) -> None:
    receiver.status = status
    receiver.headers = {"Retry-After": value}
    out = await deliver_webhook(session, notifier(receiver.url), BODY, KEY)
    assert (out.ok, out.retry, out.detail) == (False, True, f"HTTP {status}")
    assert out.retry_after == expected


async def test_hanging_receiver_times_out(
    session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    receiver.hang = True
    start = time.monotonic()
    out = await deliver_webhook(session, notifier(receiver.url, timeout=0.5), BODY, KEY)
    elapsed = time.monotonic() - start
    assert out == Outcome(ok=False, retry=True, detail="timeout after 0.5s")
    assert 0.4 < elapsed < 1.5
    assert len(receiver.received) == 1


async def test_connect_that_hangs_times_out(session: aiohttp.ClientSession) -> None:
    with blackhole_port() as port:
        start = time.monotonic()
        n = notifier(f"http://127.0.0.1:{port}/", timeout=0.3)
        out = await deliver_webhook(session, n, BODY, KEY)
    assert out == Outcome(ok=False, retry=True, detail="timeout after 0.3s")
    assert time.monotonic() - start < 1.3


async def test_endless_response_body_is_not_read(
    session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    receiver.endless = True
    tracemalloc.start()
    try:
        start = time.monotonic()
        out = await deliver_webhook(session, notifier(receiver.url, timeout=5), BODY, KEY)
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out == Outcome(ok=True, retry=False, detail="HTTP 200")
    assert elapsed < 2  # it stopped reading: an unbounded read would last the whole timeout
    assert peak < 8 * 1024 * 1024
    assert receiver.streamed >= MAX_RESPONSE_BYTES  # the receiver did stream


async def test_endless_body_from_a_raw_target(
    session: aiohttp.ClientSession, target: Target
) -> None:
    for path in ("/endless", "/endless-eof"):
        out = await deliver_webhook(session, notifier(target.url(path), timeout=5), BODY, KEY)
        assert out.ok, path


async def test_connection_refused_is_retried(session: aiohttp.ClientSession) -> None:
    with closed_port() as port:
        out = await deliver_webhook(session, notifier(f"http://127.0.0.1:{port}/"), BODY, KEY)
    assert out == Outcome(ok=False, retry=True, detail="connection refused")


async def test_invalid_url_is_not_retried(session: aiohttp.ClientSession) -> None:
    out = await deliver_webhook(session, notifier(f"ftp://127.0.0.1/{TOKEN}"), BODY, KEY)
    assert (out.ok, out.retry) == (False, False)
    assert TOKEN not in out.detail


def _failure_urls(receiver: Receiver, target: Target, tls_target: Target, port: int) -> list[str]:
    host = receiver.url.removeprefix("http://")
    raw = [target.url(p) for p in ("/reset", "/close", "/garbage", "/bad-status", "/reflect")]
    return [
        f"{receiver.url}/{TOKEN}?token={QUERY_TOKEN}",  # statuses, timeouts (set per case)
        f"http://127.0.0.1:{port}/{TOKEN}?token={QUERY_TOKEN}",  # refused
        f"https://{host}/{TOKEN}?token={QUERY_TOKEN}",  # TLS to a plain HTTP server
        tls_target.url(f"/{TOKEN}?token={QUERY_TOKEN}"),  # self-signed certificate
        f"http://127.0.0.1:99999/{TOKEN}?token={QUERY_TOKEN}",  # an invalid port
        f"ftp://user:{TOKEN}@127.0.0.1/?token={QUERY_TOKEN}",  # not HTTP
        f"http://user:{TOKEN}@127.0.0.1:{port}/?token={QUERY_TOKEN}",  # userinfo, refused
        *(f"{u}?token={QUERY_TOKEN}&{TOKEN}=1" for u in raw),
    ]


async def test_no_failure_detail_reveals_the_url_headers_or_secret(
    session: aiohttp.ClientSession, receiver: Receiver, target: Target, tls_target: Target
) -> None:
    headers = (("Authorization", f"Bearer {HEADER_SECRET}"), ("X-Token", HEADER_SECRET))
    bad_headers = (("X-Bad", f"{HEADER_SECRET}\r\nInjected: {HEADER_SECRET}"),)
    outcomes: list[Outcome] = []

    async def attempt(url: str, hdrs: tuple[tuple[str, str], ...] = headers) -> None:
        n = notifier(url, headers=hdrs, secret=HMAC_SECRET, timeout=0.5)
        outcomes.append(await deliver_webhook(session, n, BODY, KEY))

    with closed_port() as port:
        urls = _failure_urls(receiver, target, tls_target, port)
        for status in (500, 404, 429, 302, 401):
            receiver.status = status
            receiver.headers = {"Location": f"/{TOKEN}", "Retry-After": "1"}
            await attempt(urls[0])
        receiver.status, receiver.headers = 200, {}
        for url in urls[1:]:
            await attempt(url)
        await attempt(urls[0], bad_headers)  # aiohttp refuses the header
        receiver.hang = True
        await attempt(urls[0])
    assert all(not o.ok for o in outcomes), outcomes
    assert len(outcomes) == 5 + len(urls) - 1 + 2
    for o in outcomes:
        for text in (*SECRETS, "127.0.0.1", "user", "token", "Bearer"):
            assert text not in o.detail, o
        assert len(o.detail) < 80, o
    kinds = {o.detail for o in outcomes}
    assert len(kinds) >= 8, kinds  # the failure modes are told apart


async def test_reply_with_broken_body_counts_by_status(
    session: aiohttp.ClientSession, target: Target
) -> None:
    for path in ("/truncated-length", "/truncated-chunked", "/reset-body"):
        out = await deliver_webhook(session, notifier(target.url(path)), BODY, KEY)
        assert out == Outcome(ok=True, retry=False, detail="HTTP 200"), path
