"""Incidents and notifications end to end: the real daemon (a subprocess), a loopback target the
test switches between 200 and 503, and real webhook receivers (aiohttp) on 127.0.0.1.

What the README's "Incidents and notifications" promises, seen from outside: who is told, when
and with what payload; acknowledgement stops escalation; nothing is lost or doubled (under new
keys) across kill -9; maintenance pages nobody; a delivery the receiver refuses is dead and
shows; a hung receiver holds up neither the probes nor the other notifiers; apprise URLs get
the message; a flapping target sends one ``monitor.flapping``, not a storm of incidents.

Intervals are 1 s and escalation steps a few seconds; every wait polls against a deadline, and
the few fixed waits are for "nothing more happens" (bounded by the escalation/backoff times).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiosmtpd.controller import Controller

from tests.daemon.test_daemon_e2e import Flip, serve_flip
from tests.e2e.test_operator import cli
from tests.notify.test_apprise import PASSWORD, Mailbox
from tests.support.daemon_proc import DaemonProc, free_port, value
from tests.support.receiver import Receiver
from uptimed.notify.webhook import sign

TOKEN = "e2e-api-token"
PUBLIC = "https://uptime.example.com"
KEY = re.compile(r"^(inc-[0-9a-f]{10}):(incident\.[a-z]+):(\d+):([a-z]+)$")


@pytest.fixture
async def flip() -> AsyncIterator[tuple[Flip, int]]:
    """The monitored target: ``flip.set(False)`` makes it answer 503, ``set(True)`` 200."""
    f = Flip()
    runner, port = await serve_flip(f)
    try:
        yield f, port
    finally:
        await runner.cleanup()


def notifier(nid: str, url: str, extra: str = "", kind: str = "webhook") -> str:
    return f'[[notifier]]\nid = "{nid}"\nkind = "{kind}"\nurl = "{url}"\n{extra}'


def policy(levels: list[tuple[str, list[str]]], extra: str = "") -> str:
    items = ", ".join(f'{{ after = "{a}", notify = {json.dumps(n)} }}' for a, n in levels)
    return f'[[escalation]]\nid = "p"\nlevels = [{items}]\n{extra}'


def monitor(port: int, extra: str = "") -> str:
    return (
        f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "http://127.0.0.1:{port}/"\n'
        f'escalation = "p"\n{extra}'
    )


def daemon(tmp_path: Path, toml: str) -> DaemonProc:
    """A DaemonProc with an API token and a public URL in its ``[daemon]`` table."""
    d = DaemonProc(tmp_path, toml)
    extra = f'[daemon]\napi_token = "{TOKEN}"\npublic_url = "{PUBLIC}"\n'
    d.config.write_text(d.config.read_text().replace("[daemon]\n", extra, 1))
    return d


async def until(what: str, check: Callable[[], Any], timeout: float, step: float = 0.2) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy; fail after
    ``timeout`` seconds saying ``what`` never happened."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout}s still waiting for: {what}")
        await asyncio.sleep(step)


async def api(d: DaemonProc, path: str) -> Any:
    status, body = await d.get(path)
    assert status == 200, body
    return json.loads(body)


async def post(
    d: DaemonProc, path: str, body: object, token: str | None = TOKEN
) -> tuple[int, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as s:
        async with s.post(
            f"http://127.0.0.1:{d.port}{path}", json=body, headers=headers,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as r:  # fmt: skip
            return r.status, await r.json(content_type=None)


def state_is(d: DaemonProc, want: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await api(d, "/api/v1/monitors/web"))["state"] == want

    return check


async def uptimed(*args: str) -> str:
    """Run the CLI off the event loop (the receivers must keep answering meanwhile)."""
    r = await asyncio.to_thread(cli, *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


async def probe_count(d: DaemonProc) -> float:
    m = await d.metrics()
    return sum(
        value(m, "uptimed_probes_total", monitor="web", result=x) or 0
        for x in ("success", "failure")
    )


def bodies(r: Receiver) -> list[dict[str, Any]]:
    return [b for _, b, _ in r.received]


def events(r: Receiver) -> list[tuple[str, int, str]]:
    """(event, level, notifier) per webhook request received, in arrival order."""
    return [(b["event"], b["level"], b["idempotency_key"].rsplit(":", 1)[1]) for b in bodies(r)]


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def check_keys(r: Receiver) -> dict[str, list[dict[str, Any]]]:
    """Every request's Idempotency-Key header is its body's key; requests by key, each key
    naming its own event, level and notifier (the request path)."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for headers, body, path in r.received:
        key = body["idempotency_key"]
        assert headers["Idempotency-Key"] == key
        m = KEY.match(key)
        assert m, key
        assert m.groups() == (body["incident"]["id"], body["event"], str(body["level"]), path[1:])
        by_key.setdefault(key, []).append(body)
    return by_key


async def test_an_incident_is_told_escalated_acknowledged_and_resolved(
    tmp_path: Path, flip: tuple[Flip, int]
) -> None:
    f, port = flip
    secret = tmp_path / "webhook.key"
    secret.write_text("s3cret-signing-key\n")
    async with Receiver() as r:
        toml = (
            notifier("ops", f"{r.url}/ops", f'secret_file = "{secret}"\n')
            + notifier("lead", f"{r.url}/lead")
            + policy([("0s", ["ops"]), ("3s", ["ops", "lead"]), ("7s", ["ops", "lead"])],
                     'repeat = "1m"\n')
            + monitor(port, 'severity = "critical"\nfailure_threshold = 2\n')
        )  # fmt: skip
        async with daemon(tmp_path, toml) as d:
            await until("the monitor up", state_is(d, "up"), 10)
            f.set(False)
            await r.wait_for(1, timeout=10)
            headers, opened, path = r.received[0]
            inc = opened["incident"]
            iid = inc["id"]
            assert path == "/ops" and headers["Content-Type"] == "application/json"
            assert opened["version"] == 1 and opened["event"] == "incident.opened"
            assert opened["level"] == 0
            assert opened["idempotency_key"] == headers["Idempotency-Key"]
            assert opened["idempotency_key"] == f"{iid}:incident.opened:0:ops"
            assert re.fullmatch(r"inc-[0-9a-f]{10}", iid)
            assert {k: inc[k] for k in ("target", "target_kind", "severity", "state")} == {
                "target": "web", "target_kind": "monitor", "severity": "critical",
                "state": "down",
            }  # fmt: skip
            assert inc["resolved"] is None and inc["acknowledged_by"] is None
            assert inc["cause"] == {"kind": "http_status", "message": "unexpected status 503"}
            # failure_threshold 2: it started at the first failure, confirmed at the second.
            started, confirmed = epoch(inc["started"]), epoch(inc["confirmed"])
            assert f.switched[-1][0] - 0.1 <= started < confirmed <= epoch(opened["sent_at"])
            assert 0.5 <= confirmed - started <= 2.5
            assert opened["links"] == {"report": f"{PUBLIC}/api/v1/incidents/{iid}",
                                       "dashboard": None}  # fmt: skip

            await r.wait_for(3, timeout=10)  # level 1, 3 s after it was confirmed
            assert sorted(events(r)[1:]) == [
                ("incident.escalated", 1, "lead"),
                ("incident.escalated", 1, "ops"),
            ]
            for b in bodies(r)[1:]:
                assert b["incident"]["id"] == iid and b["incident"]["acknowledged_by"] is None
                assert epoch(b["sent_at"]) - confirmed >= 2.9

            assert (await post(d, f"/api/v1/incidents/{iid}/ack", {"by": "x"}, None))[0] == 401
            status, acked = await post(
                d, f"/api/v1/incidents/{iid}/ack", {"by": "alice", "note": "on it"}
            )
            assert status == 200, acked
            again = await post(d, f"/api/v1/incidents/{iid}/ack", {"by": "bob"})
            assert again[0] == 409, again
            await r.wait_for(5, timeout=10)
            assert sorted(events(r)[3:]) == [
                ("incident.acknowledged", 1, "lead"),
                ("incident.acknowledged", 1, "ops"),
            ]
            assert all(b["incident"]["acknowledged_by"] == "alice" for b in bodies(r)[3:])

            # Level 2 would be due 7 s after confirmation: acknowledged, it never comes.
            await asyncio.sleep(max(0.0, confirmed + 9.5 - time.time()))
            assert len(r.received) == 5, events(r)

            f.set(True)
            await r.wait_for(7, timeout=10)
            assert sorted(events(r)[5:]) == [
                ("incident.resolved", 1, "lead"),
                ("incident.resolved", 1, "ops"),
            ]
            for b in bodies(r)[5:]:
                i = b["incident"]
                assert i["state"] == "up" and i["acknowledged_by"] == "alice"
                assert i["resolved"] is not None and epoch(i["resolved"]) > confirmed
            by_key = check_keys(r)
            assert len(by_key) == 7 and len(r.received) == 7  # each once, none repeated
            for h, body, path in r.received:  # ops signs, with the file stripped of its "\n"
                raw = json.dumps(body).encode()  # the daemon's own serialisation
                assert int(h["Content-Length"]) == len(raw)
                if path == "/ops":
                    assert h["X-Uptimed-Signature"] == sign("s3cret-signing-key", raw)
                    assert abs(int(h["X-Uptimed-Timestamp"]) - epoch(body["sent_at"])) <= 2
                else:
                    assert "X-Uptimed-Signature" not in h and "X-Uptimed-Timestamp" not in h

            async def listed() -> list[dict[str, Any]] | None:  # once the last are marked
                found = await api(d, "/api/v1/incidents?window=1h")
                return found if found[-1]["notifications_sent"] == 7 else None

            found = await until("7 notifications sent in the API", listed, 5)
            assert [i["id"] for i in found] == [iid]
            one = found[0]
            assert one["state"] == "resolved" and one["severity"] == "critical"
            assert one["acknowledged"]["by"] == "alice" and one["acknowledged"]["note"] == "on it"
            assert one["level"] == 1 and one["quiet"] is None and one["escalation"] == "p"
            assert one["notifications_sent"] == 7
            detail = await api(d, f"/api/v1/incidents/{iid}")
            sent = {n["idempotency_key"]: n for n in detail["notifications"]}
            assert set(sent) == set(by_key)
            assert all(n["state"] == "sent" and n["attempts"] == 1 for n in sent.values())
            assert "https://" not in json.dumps(detail["notifications"])  # no notifier URL


async def test_every_notification_arrives_after_kill_9_and_duplicates_keep_their_key(
    tmp_path: Path, flip: tuple[Flip, int]
) -> None:
    f, port = flip
    async with Receiver() as slow, Receiver() as flaky:
        slow.hang = True  # the opening stays in flight: delivered, never marked
        flaky.status = 500  # every attempt fails: pending, retried with backoff
        toml = (
            notifier("slow", f"{slow.url}/slow", 'timeout = "60s"\n')
            + notifier("flaky", f"{flaky.url}/flaky")
            + policy([("0s", ["slow", "flaky"])]) + monitor(port)
        )  # fmt: skip
        d = daemon(tmp_path, toml)
        async with d:
            await until("the monitor up", state_is(d, "up"), 10)
            f.set(False)
            await slow.wait_for(1, timeout=10)
            await flaky.wait_for(1, timeout=10)
            await d.stop(signal.SIGKILL)
            ((iid,),) = d.sql("SELECT id FROM incidents")
            keys = {e: {f"{iid}:incident.{e}:0:{n}" for n in ("slow", "flaky")}
                    for e in ("opened", "acknowledged", "resolved")}  # fmt: skip
            assert dict(d.sql("SELECT key, state FROM outbox")) == dict.fromkeys(
                keys["opened"], "pending"
            )
            # Acknowledged with the CLI while the daemon is gone: into the outbox, for later.
            out = await uptimed("incident", "ack", iid, "-c", str(d.config), "--by", "carol")
            assert f"incident {iid} acknowledged by carol" in out
            assert len(d.sql("SELECT key FROM outbox WHERE state = 'pending'")) == 4

            slow.hang, flaky.status = False, 200
            f.set(True)
            await d.start()  # the same database and config
            every = keys["opened"] | keys["acknowledged"] | keys["resolved"]

            def all_sent() -> bool:
                return dict(d.sql("SELECT key, state FROM outbox")) == dict.fromkeys(every, "sent")

            await until("every delivery marked sent", all_sent, 30)
            assert d.sql("SELECT count(*) FROM incidents") == [(1,)]  # one outage, one incident
        for r, name in ((slow, "slow"), (flaky, "flaky")):
            by_key = check_keys(r)
            assert set(by_key) == {k for k in every if k.endswith(f":{name}")}, by_key
            for copies in by_key.values():  # a duplicate is the same notification
                assert len({(c["event"], c["level"], c["incident"]["id"]) for c in copies}) == 1
            assert all(
                c["incident"]["acknowledged_by"] == "carol"
                for k in by_key if "opened" not in k for c in by_key[k]
            )  # fmt: skip
        # The hung opening was sent again after the restart, under its first key, and then
        # the rest in order.
        assert [e for e, _, _ in events(slow)] == [
            "incident.opened", "incident.opened", "incident.acknowledged", "incident.resolved"
        ]  # fmt: skip


async def test_an_outage_in_maintenance_pages_nobody_until_the_window_ends(
    tmp_path: Path, flip: tuple[Flip, int]
) -> None:
    f, port = flip
    async with Receiver() as r:
        toml = notifier("ops", f"{r.url}/ops") + policy([("0s", ["ops"])]) + monitor(port)
        async with daemon(tmp_path, toml) as d:
            await until("the monitor up", state_is(d, "up"), 10)
            config = str(d.config)
            out = await uptimed("maintenance", "add", "-c", config, "--monitor", "web",
                                "--for", "60s", "--reason", "deploy", "--by", "test")  # fmt: skip
            window = re.search(r"maintenance window (\d+):", out)
            assert window, out

            async def covered() -> bool:
                return value(await d.metrics(), "uptimed_maintenance_active", monitor="web") == 1

            await until("the daemon sees the window", covered, 10)
            # An outage wholly inside the window: no incident, nothing in the outbox.
            f.set(False)
            await until("the monitor down", state_is(d, "down"), 10)
            await asyncio.sleep(2.5)  # the pager looks every 2 s while something is down
            f.set(True)
            await until("the monitor up", state_is(d, "up"), 10)
            await asyncio.sleep(2)
            assert r.received == []
            assert d.sql("SELECT count(*) FROM incidents") == [(0,)]
            assert d.sql("SELECT count(*) FROM outbox") == [(0,)]

            # One still down when the window ends pages then, not before.
            f.set(False)
            await until("the monitor down", state_is(d, "down"), 10)
            await asyncio.sleep(3)
            assert r.received == []
            await uptimed("maintenance", "end", "-c", config, window.group(1))
            ended = time.time()
            await r.wait_for(1, timeout=10)
            (_, opened, _), = r.received  # fmt: skip
            assert opened["event"] == "incident.opened" and opened["level"] == 0
            assert opened["incident"]["target"] == "web"
            # It started at the outage's first failure, but only what follows the window is
            # counted as downtime.
            went_down = f.switched[-1][0]
            assert went_down - 0.1 <= epoch(opened["incident"]["started"]) < ended
            (listed,) = await api(d, "/api/v1/incidents?window=1h")
            assert listed["id"] == opened["incident"]["id"] and listed["quiet"] is None
            assert listed["counted_seconds"] < listed["duration_seconds"] - 2
            check_keys(r)


async def test_a_refused_delivery_is_dead_and_shows_in_status_api_and_metrics(
    tmp_path: Path, flip: tuple[Flip, int]
) -> None:
    f, port = flip
    async with Receiver() as r:
        r.status = 400  # a 4xx other than 408/429: not worth retrying
        toml = notifier("ops", f"{r.url}/ops") + policy([("0s", ["ops"])]) + monitor(port)
        async with daemon(tmp_path, toml) as d:
            await until("the monitor up", state_is(d, "up"), 10)
            f.set(False)
            await r.wait_for(1, timeout=10)
            first = time.monotonic()
            await until("the delivery dead",
                        lambda: d.sql("SELECT state FROM outbox") == [("dead",)], 10)  # fmt: skip
            ((iid,),) = d.sql("SELECT id FROM incidents")

            st = json.loads(await uptimed("status", "-c", str(d.config), "--format", "json"))
            assert st["notifiers"] == [{"id": "ops", "pending": 0, "sent": 0, "dead": 1}]
            (dead,) = st["dead_notifications"]
            assert {k: dead[k] for k in ("notifier", "event", "incident", "attempts")} == {
                "notifier": "ops",
                "event": "incident.opened",
                "incident": iid,
                "attempts": 1,
            }
            assert dead["last_error"] == "HTTP 400" and dead["given_up"]
            table = await uptimed("status", "-c", str(d.config))
            assert "notifications given up" in table and "HTTP 400" in table

            m = await d.metrics()
            assert value(m, "uptimed_notifications_total", notifier="ops", result="dead") == 1
            assert value(m, "uptimed_notifications_total", notifier="ops", result="sent") == 0
            assert value(m, "uptimed_notifications_pending", notifier="ops") == 0
            (n,) = (await api(d, f"/api/v1/incidents/{iid}"))["notifications"]
            assert (n["state"], n["attempts"], n["last_error"]) == ("dead", 1, "HTTP 400")

            # Never tried again (a retry would come 2.5 to 5 s after the first attempt).
            await asyncio.sleep(max(0.0, first + 5.5 - time.monotonic()))
            assert len(r.received) == 1


async def test_a_hung_receiver_holds_up_neither_another_notifier_nor_the_probes(
    tmp_path: Path, flip: tuple[Flip, int]
) -> None:
    f, port = flip
    async with Receiver() as hung, Receiver() as fine:
        hung.hang = True
        toml = (
            notifier("a", f"{hung.url}/a", 'timeout = "60s"\n') + notifier("b", f"{fine.url}/b")
            + policy([("0s", ["a", "b"])]) + monitor(port)
        )  # fmt: skip
        async with daemon(tmp_path, toml) as d:
            await until("the monitor up", state_is(d, "up"), 10)
            f.set(False)
            await fine.wait_for(1, timeout=10)
            await hung.wait_for(1, timeout=10)
            probes = await probe_count(d)
            before = (await api(d, "/api/v1/monitors/web"))["last_probe"]
            f.set(True)
            back = time.monotonic()
            await fine.wait_for(2, timeout=10)  # B hears of the end while A still hangs
            assert time.monotonic() - back < 6
            assert [e for e, _, _ in events(fine)] == ["incident.opened", "incident.resolved"]

            async def probing() -> bool:
                return await probe_count(d) >= probes + 3

            await until("three more probes", probing, 8)
            live = await api(d, "/api/v1/monitors/web")
            assert live["state"] == "up" and live["last_probe"] > before
            # One delivery in flight per notifier: A got no second request meanwhile, and
            # both of its entries are still pending.
            assert len(hung.received) == 1
            m = await d.metrics()
            assert value(m, "uptimed_notifications_pending", notifier="a") == 2
            assert value(m, "uptimed_notifications_total", notifier="b", result="sent") == 2


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A loopback SMTP server (aiosmtpd) taking the login alerts / PASSWORD."""
    box = Mailbox(free_port())
    smtp = Controller(
        box, hostname="127.0.0.1", port=box.port, authenticator=box.authenticate,
        auth_require_tls=False,
    )  # fmt: skip
    smtp.start()
    try:
        yield box
    finally:
        smtp.stop()


async def test_apprise_json_and_mailto_urls_get_the_message(
    tmp_path: Path, flip: tuple[Flip, int], mailbox: Mailbox
) -> None:
    f, port = flip
    async with Receiver() as r:
        base = r.url.replace("http://", "json://")
        mailto = (
            f"mailto://alerts:{PASSWORD}@127.0.0.1:{mailbox.port}"
            "?smtp=127.0.0.1&mode=insecure&from=uptimed@example.com&to=oncall@example.com"
        )
        toml = (
            notifier("plain", f"{base}/plain", kind="apprise")
            + notifier("custom", f"{base}/custom", kind="apprise",
                       extra='title = "$event: $target L$level"\nbody = "cause=$cause"\n')
            + notifier("mail", mailto, kind="apprise")
            + policy([("0s", ["plain", "custom", "mail"])]) + monitor(port)
        )  # fmt: skip
        async with daemon(tmp_path, toml) as d:
            await until("the monitor up", state_is(d, "up"), 10)
            f.set(False)
            await r.wait_for(2, timeout=15)
            got = {path: body for _, body, path in r.received}
            assert set(got) == {"/plain", "/custom"}
            plain = got["/plain"]
            assert plain["title"] == "[major] web is down"
            assert plain["message"].startswith("web (monitor) is down since ")
            assert "Cause: unexpected status 503 (http_status)" in plain["message"]
            assert f"Report: {PUBLIC}/api/v1/incidents/inc-" in plain["message"]
            assert got["/custom"]["title"] == "incident.opened: web L0"
            assert got["/custom"]["message"] == "cause=unexpected status 503 (http_status)"
            await until("a mail", lambda: mailbox.messages, 10)
            (mail,) = mailbox.messages
            assert mail["Subject"] == "[major] web is down"
            assert mailbox.envelopes == [("uptimed@example.com", ["oncall@example.com"])]
            text = mail.get_body(preferencelist=("plain",))
            assert (
                text is not None
                and text.get_content().replace("\r\n", "\n").strip() == (plain["message"])
            )
            await until("all three marked sent",
                        lambda: d.sql("SELECT count(*) FROM outbox WHERE state = 'sent'")
                        == [(3,)], 5)  # fmt: skip
            assert PASSWORD not in d.log.read_text()


async def test_a_flapping_target_sends_one_flapping_message_not_an_incident_storm(
    tmp_path: Path, flip: tuple[Flip, int]
) -> None:
    f, port = flip
    async with Receiver() as r:
        toml = (
            notifier("ops", f"{r.url}/ops")
            + policy([("0s", ["ops"])], "flap_changes = 2\n") + monitor(port)
        )  # fmt: skip
        async with daemon(tmp_path, toml) as d:
            await until("the monitor up", state_is(d, "up"), 10)
            for n in (1, 2, 3):  # three outages: 5 changes within the window, more than 2
                f.set(False)
                await until(
                    f"incident {n} recorded",
                    lambda n=n: d.sql("SELECT count(*) FROM incidents") == [(n,)],
                    10,
                )
                f.set(True)
                await until(
                    f"incident {n} resolved",
                    lambda: (
                        d.sql("SELECT count(*) FROM incidents WHERE resolved IS NULL") == [(0,)]
                    ),
                    10,
                )
            await r.wait_for(3, timeout=10)
            await asyncio.sleep(2)  # anything more would come now (a pass every 2 s)
            rows = d.sql("SELECT id, quiet FROM incidents ORDER BY start")
            assert [q for _, q in rows] == [None, "flapping", "flapping"]
            got = [e for e, _, _ in events(r)]
            assert got.count("monitor.flapping") == 1, got
            assert got.count("incident.opened") == 1, got
            assert sorted(got) == ["incident.opened", "incident.resolved", "monitor.flapping"]
            flapping = next(b for b in bodies(r) if b["event"] == "monitor.flapping")
            assert flapping["incident"]["id"] == rows[1][0]
            assert flapping["incident"]["target"] == "web"
            assert all(h["Idempotency-Key"] == b["idempotency_key"] for h, b, _ in r.received)
            listed = await api(d, "/api/v1/incidents?window=1h")
            assert [i["quiet"] for i in listed] == [None, "flapping", "flapping"]
