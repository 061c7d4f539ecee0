"""Apprise delivery, for real: json:// to a loopback receiver, mailto:// to a loopback SMTP
server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.receiver import Receiver
from uptimed.model.config import Notifier
from uptimed.notify.apprise_sender import APPRISE_LOGGER, SILENCED_LOGGERS, deliver_apprise
from uptimed.notify.message import Notification, render
from uptimed.notify.webhook import Outcome

TOKEN = "apprisetok3n5ecret"
PASSWORD = "smtp5ecretpass"

NOTE = Notification(
    event="incident.opened",
    idempotency_key="inc-9:incident.opened:0",
    level=0,
    incident_id="inc-9",
    target="db",
    target_kind="monitor",
    severity="critical",
    state="down",
    started=1_767_323_045_000,
    confirmed=1_767_323_075_000,
    cause_kind="refused",
    cause="cannot connect to db:5432: <Connection refused> *now*",
)
TITLE, BODY = render(NOTE, None, None, 1_767_326_895_000)


def notifier(url: str, timeout: float = 5.0) -> Notifier:
    return Notifier(id="ops", kind="apprise", url=url, timeout=timeout)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as r:
        yield r


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        ok = auth_data.login == b"alerts" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 / 535


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        authenticator=box.authenticate,
        auth_require_tls=False,  # plain SMTP on loopback, AUTH allowed
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


async def test_json_url_reaches_the_receiver(receiver: Receiver) -> None:
    url = receiver.url.replace("http://", "json://") + f"/hooks/{TOKEN}"
    out = await deliver_apprise(notifier(url), TITLE, BODY)
    assert out == Outcome(ok=True, retry=False, detail="sent")
    assert len(receiver.received) == 1
    _, body, path = receiver.received[0]
    assert path == f"/hooks/{TOKEN}"
    assert body["title"] == TITLE == "[critical] db is down"
    assert body["message"] == BODY
    assert body["message"].startswith("db (monitor) is down since 2026-01-02 03:04:05 UTC.")


async def test_mailto_delivers_one_mail_with_the_title_as_subject(mailbox: Mailbox) -> None:
    url = (
        f"mailto://alerts:{PASSWORD}@127.0.0.1:{mailbox.port}"
        "?smtp=127.0.0.1&mode=insecure&from=uptimed@example.com&to=oncall@example.com"
    )
    out = await deliver_apprise(notifier(url), TITLE, BODY)
    assert out == Outcome(ok=True, retry=False, detail="sent")
    assert mailbox.logins == [(b"alerts", PASSWORD.encode())]
    assert len(mailbox.messages) == 1
    msg = mailbox.messages[0]
    assert msg["Subject"] == TITLE
    assert mailbox.envelopes == [("uptimed@example.com", ["oncall@example.com"])]
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None
    content = text.get_content().replace("\r\n", "\n").strip()
    assert content == BODY  # as plain text: line breaks and "<" kept
    assert "\n" in BODY and "<Connection refused>" in BODY


async def test_mailto_with_a_wrong_password_fails_without_saying_it(mailbox: Mailbox) -> None:
    url = (
        f"mailto://alerts:wrong{PASSWORD}@127.0.0.1:{mailbox.port}"
        "?smtp=127.0.0.1&mode=insecure&from=uptimed@example.com&to=oncall@example.com"
    )
    out = await deliver_apprise(notifier(url), TITLE, BODY)
    assert out == Outcome(ok=False, retry=True, detail="apprise could not deliver")
    assert PASSWORD not in out.detail
    assert mailbox.messages == []


@pytest.mark.parametrize("url", ["nosuchservice://host/x", "json://", f"not a url {TOKEN}"])
async def test_a_url_apprise_refuses_is_not_retried(url: str) -> None:
    out = await deliver_apprise(notifier(url), TITLE, BODY)
    assert out == Outcome(ok=False, retry=False, detail="apprise refused the URL")


async def test_a_failing_receiver_is_retried(receiver: Receiver) -> None:
    receiver.status = 500
    url = receiver.url.replace("http://", "json://") + f"/{TOKEN}"
    out = await deliver_apprise(notifier(url), TITLE, BODY)
    assert out == Outcome(ok=False, retry=True, detail="apprise could not deliver")
    assert len(receiver.received) == 1


async def test_a_hanging_receiver_times_out(receiver: Receiver) -> None:
    receiver.hang = True
    url = receiver.url.replace("http://", "json://") + f"/{TOKEN}"
    start = time.monotonic()
    out = await deliver_apprise(notifier(url, timeout=0.5), TITLE, BODY)
    assert out == Outcome(ok=False, retry=True, detail="timeout after 0.5s")
    assert time.monotonic() - start < 1.5


async def test_nothing_of_apprise_reaches_our_logs(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.status = 500
    url = receiver.url.replace("http://", "json://") + f"/{TOKEN}?token={TOKEN}"
    caplog.set_level(logging.DEBUG)  # the root logger and its handler: everything
    assert (await deliver_apprise(notifier(url), TITLE, BODY)).retry
    level = APPRISE_LOGGER.level
    APPRISE_LOGGER.setLevel(logging.DEBUG)  # should something lower the level: the filter
    try:
        assert not (await deliver_apprise(notifier(url), TITLE, BODY)).ok
    finally:
        APPRISE_LOGGER.setLevel(level)
    assert len(receiver.received) == 2
    assert [r for r in caplog.records if r.name.split(".")[0] in SILENCED_LOGGERS] == []
    assert TOKEN not in caplog.text
