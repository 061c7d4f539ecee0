"""The pager's pass (:mod:`uptimed.service.incidents`) on real SQLite files.

Each test runs what the daemon runs, on a fake wall clock: results go through the real state
machine (:class:`uptimed.core.state.StateMachine`, thresholds from the config) into the real
:class:`uptimed.store.Store`, and each pass runs on the writer's connection inside its
transaction (``store.call``), after a heartbeat, as :class:`uptimed.daemon.pager.Pager` does.
The incidents table and the outbox (what would be sent: event, level, notifier, idempotency key,
payload) are read back with sqlite3, and incidents are compared with the report's own
(:func:`uptimed.service.report.build_report`). The pure escalation timing has its own tests
(tests/core/test_escalation.py); these check what the pass makes of it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pytest

from probes.base import ProbeResult
from uptimed.config import loads_config
from uptimed.core.state import DOWN, StateMachine, Transition
from uptimed.daemon.runner import thresholds
from uptimed.model.config import Config
from uptimed.model.report import Incident as Reported
from uptimed.service.incidents import Links, PassResult, Target, acknowledge, run_pass
from uptimed.service.report import build_report
from uptimed.service.window import resolve_scope, resolve_window
from uptimed.store import Store, adhoc, connect
from uptimed.store import incidents as table
from uptimed.store.incidents import Incident

S, M, H = 1000, 60_000, 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
STEP = M  # every monitor's interval: 60s, so max_gap is 130s
D = T0 + 10 * M  # web's first failure in most tests
C = D + 2 * M  # ... confirmed by the third (failure_threshold = 3)
WEB: Target = ("monitor", "web")
TOKEN, HEADER = "s3cretTOKEN", "h3aderSECRET"
R = TypeVar("R")
LINKS = Links("https://status.example/api/v1/incidents/{id}", "https://dash.example/")


def monitor(key: str, **options: str | int) -> str:
    """A ``[[monitor]]`` table probing a closed loopback port."""
    lines = [f'[[monitor]]\nid = "{key}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9']
    return "\n".join(lines + [f"{k} = {json.dumps(v)}" for k, v in options.items()]) + "\n"


BASE = f"""
[daemon]
database = "DB"

[defaults]
interval = "60s"
failure_threshold = 3
severity = "minor"
escalation = "standard"

{monitor("web")}
[[notifier]]
id = "ops"
kind = "webhook"
url = "http://127.0.0.1:9/hook?token={TOKEN}"
headers = {{ Authorization = "Bearer {HEADER}" }}

[[notifier]]
id = "lead"
kind = "webhook"
url = "http://127.0.0.1:9/lead"

[[escalation]]
id = "standard"
levels = [{{ after = "0s", notify = ["ops"] }}, {{ after = "15m", notify = ["ops", "lead"] }}]
repeat = "1h"

[[escalation]]
id = "no-end"
levels = [{{ after = "0s", notify = ["ops"] }}, {{ after = "15m", notify = ["ops", "lead"] }}]
notify_resolved = false

[[escalation]]
id = "flappy"
levels = [{{ after = "0s", notify = ["ops"] }}]
flap_changes = 2
flap_window = "15m"
flap_quiet = "30m"

[[escalation]]
id = "grouped"
levels = [{{ after = "0s", notify = ["lead"] }}]
group = true
"""


class Row(NamedTuple):
    key: str
    notifier: str
    event: str
    incident: str | None
    payload: dict[str, Any]
    state: str


class Daemon:
    """A daemon's writer and its monitors' state machines, on a fake wall clock (ms)."""

    def __init__(self, config: Config, at: int) -> None:
        self.config, self.path = config, config.daemon.database
        self.clock = at / 1000
        self.store = Store(self.path, wall=lambda: self.clock, flush_interval=0.002)
        self.store.open()
        self.ids = self.store.register_monitors([(m.id, m.kind, m.id) for m in config.monitors])
        snaps = self.store.load_snapshots()  # where a restarted daemon's machines resume
        self.machines = {
            m.id: StateMachine(thresholds(m), snaps.get(self.ids[m.id])) for m in config.monitors
        }
        self.confirmed: dict[Target, int] = {}
        self.store.start(version="test", config_sha256=config.sha256)

    def tick(self, at: int) -> None:
        self.clock = max(self.clock, at / 1000)

    def probe(self, key: str, ts: int, ok: bool) -> Transition | None:
        """One result, as the runner records it; a failure's message names its time."""
        self.tick(ts)
        kind, error = (None, None) if ok else ("timeout", f"no answer at {ts}")
        machine = self.machines[key]
        segments, tr = machine.observe(ts, ok, kind)
        result = ProbeResult(ok, 0.01, kind, error)
        self.store.record(self.ids[key], ts, result, segments, machine.snapshot())
        if tr is not None and tr.state == DOWN:
            self.confirmed[("monitor", key)] = tr.confirmed_at
        return tr

    def run(self, key: str, until: int, ok: bool) -> Transition | None:
        """Probe ``key`` every STEP after its last probe (from T0) up to ``until`` inclusive;
        returns the first transition."""
        last = self.machines[key].last_ts
        ts, first = (T0 if last is None else last + STEP), None
        while ts <= until:
            first = self.probe(key, ts, ok) or first
            ts += STEP
        return first

    def call(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        done: Future[R] = self.store.call(fn)  # run in the writer's next batch
        return done.result(timeout=10)

    def page(self, now: int, in_maintenance: Collection[Target] = ()) -> PassResult:
        """One pass at ``now`` over every target, in the writer's transaction."""
        self.tick(now)
        confirmed, self.confirmed = self.confirmed, {}
        targets = {("monitor", m.id) for m in self.config.monitors}
        targets |= {("service", s.id) for s in self.config.services}

        def one(conn: sqlite3.Connection) -> PassResult:
            self.store.beat(conn)
            return run_pass(
                conn, self.config, targets, now, confirmed=confirmed,
                in_maintenance=in_maintenance, links=LINKS,
            )  # fmt: skip

        return self.call(one)

    def ack(self, incident_id: str, by: str, note: str | None, now: int) -> Incident:
        self.tick(now)
        return self.call(lambda conn: acknowledge(conn, self.config, incident_id, by, note, now))

    def outbox(self) -> list[Row]:
        with closing(sqlite3.connect(self.path)) as conn:
            rows = conn.execute(
                "SELECT key, notifier, event, incident, payload, state FROM outbox ORDER BY id"
            ).fetchall()
        return [Row(k, n, e, i, json.loads(p), s) for k, n, e, i, p, s in rows]

    def incidents(self) -> list[Incident]:
        with closing(sqlite3.connect(self.path)) as conn:
            return table.active(conn, 0)

    def incident(self, target: str) -> Incident:
        (inc,) = [i for i in self.incidents() if i.target == target]
        return inc


Start = Callable[..., Daemon]


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Start]:
    """``daemons(extra_toml)`` starts a daemon (its first pass at ``at``) on a new database;
    ``daemons(config=..., at=...)`` restarts one. Whatever is left open is closed after."""
    opened: list[Daemon] = []

    def start(extra: str = "", *, at: int = T0, config: Config | None = None) -> Daemon:
        if config is None:
            text = BASE.replace("DB", str(tmp_path / "uptimed.db")) + extra
            config = loads_config(text, str(tmp_path / "uptimed.toml"))
        opened.append(Daemon(config, at))
        opened[-1].page(at)  # the first pass, at start
        return opened[-1]

    yield start
    for d in opened:
        if d.store.alive:
            d.store.close()


def told(event: str, level: int, *notifiers: str) -> list[tuple[str, int, str]]:
    return [(event, level, n) for n in notifiers]


def sent(rows: list[Row]) -> list[tuple[str, int, str]]:
    return [(r.event, r.payload["level"], r.notifier) for r in rows]


def reported(d: Daemon, now: int, key: str) -> list[Reported]:
    """The report's incidents of ``key`` over the day up to ``now``."""
    window = resolve_window(now, window="1d")
    with closing(connect(d.path, readonly=True)) as conn:
        rep = build_report(conn, d.config, resolve_scope(d.config), window, now)
    found = {m.id: m.figures for m in rep.monitors} | {s.id: s.figures for s in rep.services}
    return list(found[key].incidents or ())


def web_down(d: Daemon) -> None:
    """web up from T0, failing from D, confirmed at C; the pass that follows, at C."""
    d.run("web", D - STEP, True)
    tr = d.run("web", C, False)
    assert tr is not None and (tr.at, tr.confirmed_at) == (D, C)
    d.page(C)


# -- opening ------------------------------------------------------------------------------------


def test_an_outage_opens_one_backdated_incident_paging_level_0(daemons: Start) -> None:
    d = daemons(monitor("api", severity="critical"))
    d.run("api", C, True)
    d.run("web", D - STEP, True)
    d.run("web", C, False)
    d.page(C + 2 * S)  # a pass a little after the confirming probe
    inc = d.incident("web")
    (rep,) = reported(d, C + 2 * S, "web")
    assert (inc.start, rep[0], rep[1], rep[4]) == (D, D, None, "timeout")  # the report's start
    assert (inc.confirmed, inc.notify_from, inc.level, inc.resolved) == (C, C + 2 * S, 0, None)
    assert (inc.severity, inc.escalation) == ("minor", "standard")  # from [defaults]
    assert (inc.cause_kind, inc.cause) == ("timeout", f"no answer at {D}")  # the first one's
    (row,) = d.outbox()  # ops only: lead is not on level 0
    key = f"{inc.id}:incident.opened:0:ops"
    p = row.payload
    assert row == (key, "ops", "incident.opened", inc.id, p, "pending")
    assert (p["event"], p["idempotency_key"], p["level"]) == ("incident.opened", key, 0)
    assert (p["incident_id"], p["target"], p["target_kind"]) == (inc.id, "web", "monitor")
    assert (p["state"], p["started"], p["confirmed"], p["resolved"]) == ("down", D, C, None)
    assert (p["severity"], p["cause_kind"], p["cause"]) == ("minor", "timeout", inc.cause)
    assert p["report_url"] == f"https://status.example/api/v1/incidents/{inc.id}"
    d.run("web", C + 5 * M, False)
    d.run("api", C + 5 * M, False)
    d.page(C + 5 * M)  # a monitor's own severity wins over [defaults]
    assert d.incident("api").severity == "critical"
    assert [r.payload["severity"] for r in d.outbox()] == ["minor", "critical"]


def test_passes_write_nothing_twice_not_even_after_a_restart(daemons: Start) -> None:
    d = daemons()
    web_down(d)
    first, rows = d.incidents(), d.outbox()
    assert len(rows) == 1 and d.page(C).enqueued == 0  # the same pass again
    d.run("web", C + 10 * M, False)
    again = d.page(C + 10 * M)  # later, before the escalation is due
    assert (again.enqueued, again.opened, again.wake_at) == (0, (), C + 15 * M)
    d.tick(C + 10 * M + 5 * S)
    d.store.close()
    d = daemons(config=d.config, at=C + 10 * M + 30 * S)  # back within max_gap: first pass ran
    d.run("web", C + 14 * M, False)
    after = d.page(C + 14 * M)
    assert (after.enqueued, after.opened) == (0, ())
    assert d.incidents() == first and d.outbox() == rows
    assert [i[0] for i in reported(d, C + 14 * M, "web")] == [D]  # one outage
    d.run("web", C + 15 * M, False)
    assert d.page(C + 15 * M).enqueued == 2  # the escalation, on the first run's schedule


# -- escalation, acknowledgement, resolution ----------------------------------------------------


def test_levels_and_reminders_fall_due_by_the_clock(daemons: Start) -> None:
    d = daemons()
    web_down(d)
    (inc,) = d.incidents()

    def at(t: int) -> PassResult:
        d.run("web", t, False)
        return d.page(t)

    assert at(C + 15 * M - 1).enqueued == 0
    assert at(C + 15 * M).wake_at == C + H  # the first reminder
    assert sent(d.outbox()[1:]) == told("incident.escalated", 1, "ops", "lead")
    assert [r.key for r in d.outbox()[1:]] == [f"{inc.id}:incident.escalated:1:ops",
                                               f"{inc.id}:incident.escalated:1:lead"]  # fmt: skip
    assert d.incidents()[0].level == 1
    assert at(C + H - 1).enqueued == 0
    assert at(C + H).wake_at == C + 2 * H
    assert sent(d.outbox()[3:]) == told("incident.reminder", 1, "ops", "lead")
    assert d.outbox()[3].key == f"{inc.id}:incident.reminder:1:ops"
    result = at(C + 4 * H + 30 * M)  # after a long stop: the latest reminder, not the backlog
    assert (result.enqueued, result.wake_at) == (2, C + 5 * H)
    assert [r.key for r in d.outbox()[5:]] == [f"{inc.id}:incident.reminder:4:ops",
                                               f"{inc.id}:incident.reminder:4:lead"]  # fmt: skip


def test_an_acknowledgement_tells_everyone_told_and_stops_paging(daemons: Start) -> None:
    d = daemons()
    web_down(d)
    d.run("web", C + 15 * M, False)
    d.page(C + 15 * M)
    (inc,) = d.incidents()
    done = d.ack(inc.id, "alice", "on it", C + 20 * M)
    assert (done.ack_by, done.ack_at, done.ack_note) == ("alice", C + 20 * M, "on it")
    assert d.incidents() == [done]
    acks = d.outbox()[3:]
    assert sent(acks) == told("incident.acknowledged", 1, "ops", "lead")
    assert [r.payload["acknowledged_by"] for r in acks] == ["alice", "alice"]
    assert acks[0].key == f"{inc.id}:incident.acknowledged:1:ops"
    for t in (C + 20 * M, C + H, C + 3 * H):  # no reminder; nothing more due by time
        d.run("web", t, False)
        later = d.page(t)
        assert (later.enqueued, later.wake_at) == (0, None)
    with pytest.raises(ValueError, match="acknowledged already"):
        d.ack(inc.id, "bob", None, C + 3 * H)
    with pytest.raises(LookupError):
        d.ack("inc-0000000000", "bob", None, C + 3 * H)
    assert d.incidents() == [done] and len(d.outbox()) == 5


def test_recovery_resolves_at_the_report_s_end_telling_who_was_told(daemons: Start) -> None:
    d = daemons(monitor("api", escalation="no-end"))
    d.run("api", D - STEP, True)
    d.run("api", C, False)
    web_down(d)
    d.run("web", C + 15 * M, False)
    d.run("api", C + 15 * M, False)
    d.page(C + 15 * M)  # both escalated: ops and lead were told of each
    before = len(d.outbox())
    up = C + 16 * M  # the next probe of each
    assert d.run("web", up, True) is not None and d.run("api", up, True) is not None
    result = d.page(up + 30 * S)
    assert (result.unresolved, result.wake_at) == ((), None)
    assert [i[:2] for i in reported(d, up + 30 * S, "web")] == [(D, up)]
    web, api = d.incident("web"), d.incident("api")
    assert sorted(i.id for i in result.resolved) == sorted((web.id, api.id))  # logged so
    assert d.page(up + M).resolved == ()  # once
    assert web.resolved == api.resolved == up  # the first success, not the pass's time
    rows = d.outbox()[before:]
    assert sent(rows) == told("incident.resolved", 1, "ops", "lead")
    assert {r.incident for r in rows} == {web.id}  # api's policy: notify_resolved = false
    assert (rows[0].payload["state"], rows[0].payload["resolved"]) == ("up", up)
    assert d.page(up + H).enqueued == 0


def test_an_outage_that_becomes_unknown_is_not_told_as_up(daemons: Start) -> None:
    d = daemons()
    web_down(d)  # then no verdict (say internal errors): unknown from C + max_gap (130s)
    d.page(C + 5 * M)
    # it ends where the report ends it, and the message says the state is unknown, not up
    assert [(r.event, r.payload["state"]) for r in d.outbox()] == [
        ("incident.opened", "down"), ("incident.resolved", "unknown"),
    ]  # fmt: skip


# -- quiet: maintenance, flapping, grouping -----------------------------------------------------

SWAP = """
[[maintenance]]
id = "swap"
monitors = ["web"]
start = "2026-01-01T01:00:00Z"
end = "2026-01-01T02:00:00Z"
"""


def test_an_outage_inside_maintenance_pages_nobody(daemons: Start) -> None:
    d = daemons(SWAP)
    d.run("web", T0 + H + 9 * M, True)
    for t in range(T0 + H + 10 * M, T0 + H + 40 * M, 5 * M):  # down 01:10 to 01:40
        d.run("web", t, False)
        d.page(t, in_maintenance={WEB})
    for t in (T0 + H + 40 * M, T0 + 2 * H + 10 * M):
        d.run("web", t, True)
        d.page(t)
    assert reported(d, T0 + 2 * H + 10 * M, "web") == []
    assert d.incidents() == [] and d.outbox() == []


def test_an_outage_still_down_when_maintenance_ends_pages_then(daemons: Start) -> None:
    d = daemons()
    w0, w1 = T0 + H, T0 + 2 * H
    d.call(lambda conn: adhoc.add(conn, "monitor", "web", w0, w1, "upgrade", "test", T0))
    d.run("web", w1 - 11 * M, True)
    d.run("web", w1 - M, False)  # down from w1 - 10m
    assert d.page(w1 - M, in_maintenance={WEB}).opened == () and d.outbox() == []
    d.run("web", w1 + M, False)
    result = d.page(w1 + M)
    (inc,) = result.opened
    assert inc.start == w1 - 10 * M == reported(d, w1 + M, "web")[0][0]
    assert inc.notify_from == w1 + M and result.wake_at == w1 + 16 * M
    assert sent(d.outbox()) == told("incident.opened", 0, "ops")


def test_maintenance_holds_escalation_and_reminders_while_it_lasts(daemons: Start) -> None:
    d = daemons()
    web_down(d)
    w0, w1 = C + 10 * M, C + 70 * M
    d.call(lambda conn: adhoc.add(conn, "monitor", "web", w0, w1, None, "test", w0))
    for t in (C + 15 * M, C + H):  # the escalation and the first reminder fall due in it
        d.run("web", t, False)
        assert d.page(t, in_maintenance={WEB}).enqueued == 0
    assert d.incidents()[0].level == 0
    d.run("web", w1, False)
    d.page(w1)  # what fell due in it is sent after
    assert sent(d.outbox()[1:]) == told("incident.escalated", 1, "ops", "lead") + told(
        "incident.reminder", 1, "ops", "lead"
    )


def test_an_acknowledgement_in_maintenance_sends_no_held_escalation(daemons: Start) -> None:
    d = daemons()
    web_down(d)
    d.call(lambda conn: adhoc.add(conn, "monitor", "web", C + 10 * M, C + H, None, "test", C))
    d.run("web", C + 20 * M, False)
    assert d.page(C + 20 * M, in_maintenance={WEB}).enqueued == 0  # escalation held
    d.ack(d.incidents()[0].id, "alice", None, C + 25 * M)
    assert "incident.escalated" not in [r.event for r in d.outbox()]


FLAPPY = monitor("flap", failure_threshold=1, escalation="flappy")


def play(d: Daemon, key: str, start: int, pattern: str) -> PassResult:
    """``pattern``: one probe a STEP from ``start`` ("u" up, "d" down), each followed by a pass
    a second later (a pass at the very instant of a failure sees no downtime yet)."""
    result = None
    for i, c in enumerate(pattern):
        d.probe(key, start + i * STEP, c == "u")
        result = d.page(start + i * STEP + S)
    assert result is not None
    return result


def test_flapping_is_told_once_and_its_incidents_stay_quiet(daemons: Start) -> None:
    d = daemons(FLAPPY)
    play(d, "flap", T0, "uuuuu" + "du" + "du" + "d")  # incidents at 5m, 7m, 9m (open)
    a, b, c = sorted((i for i in d.incidents() if i.target == "flap"), key=lambda i: i.start)
    assert [i.start for i in (a, b, c)] == [T0 + 5 * M, T0 + 7 * M, T0 + 9 * M]
    assert (a.quiet, b.quiet, c.quiet) == (None, "flapping", "flapping")
    assert [(r.event, r.incident) for r in d.outbox()] == [
        ("incident.opened", a.id), ("incident.resolved", a.id), ("monitor.flapping", b.id),
    ]  # fmt: skip
    assert d.outbox()[2].key == f"monitor:flap:monitor.flapping:{T0 + 7 * M + S}:ops"
    result = play(d, "flap", T0 + 10 * M, "d" * 27)  # to 36m: still quiet
    assert result.wake_at == T0 + 37 * M + S and len(d.outbox()) == 3
    play(d, "flap", T0 + 37 * M, "d")  # the quiet ends at 37m1s: the open one pages then
    assert [(r.event, r.incident) for r in d.outbox()[3:]] == [("incident.opened", c.id)]


def test_flapping_does_not_depend_on_how_often_the_pager_looked(daemons: Start) -> None:
    d = daemons(FLAPPY)
    play(d, "flap", T0, "uuuuud")  # incident a opens at 5m
    d.probe("flap", T0 + 6 * M, True)  # a ends at 6m ...
    d.probe("flap", T0 + 7 * M, False)  # ... b begins at 7m: one pass sees both
    d.page(T0 + 7 * M + S)  # a begun, a ended, b begun: 3 changes > flap_changes
    events = [r.event for r in d.outbox()]
    # b is quiet: one flapping message instead of its incident.opened
    assert events.count("monitor.flapping") == 1 and events.count("incident.opened") == 1, events


SHOP = """
[[service]]
id = "shop"
monitors = ["web", "api"]
severity = "critical"
escalation = "grouped"
"""


def test_a_member_s_incident_is_grouped_under_its_service_s(daemons: Start) -> None:
    d = daemons(monitor("api") + SHOP)
    d.run("api", C, True)
    web_down(d)  # shop (rule "all") is down with it
    shop, web = d.incident("shop"), d.incident("web")
    assert (shop.target_kind, shop.start, shop.severity, shop.quiet) == (
        "service", D, "critical", None,
    )  # fmt: skip
    assert (web.quiet, web.group_id, web.notify_from) == ("grouped", shop.id, None)
    assert [(r.event, r.notifier, r.incident) for r in d.outbox()] == [
        ("incident.opened", "lead", shop.id)
    ]
    d.run("web", C + 20 * M, False)  # web's own policy would have escalated by now
    d.run("api", C + 20 * M, True)
    assert d.page(C + 20 * M).enqueued == 0
    d.run("web", C + 21 * M, True)
    d.run("api", C + 21 * M, True)
    d.page(C + 21 * M)
    assert [(r.event, r.incident) for r in d.outbox()] == [
        ("incident.opened", shop.id), ("incident.resolved", shop.id),
    ]  # fmt: skip
    assert d.incident("web").resolved == C + 21 * M


# -- secrets ------------------------------------------------------------------------------------


def test_notifier_secrets_are_never_written_to_the_database(daemons: Start, tmp_path: Path) -> None:
    d = daemons()
    ops = next(n for n in d.config.notifiers if n.id == "ops")
    assert TOKEN in ops.url and HEADER in dict(ops.headers)["Authorization"]  # they are in use
    web_down(d)
    d.run("web", C + 15 * M, False)
    d.page(C + 15 * M)
    d.ack(d.incidents()[0].id, "alice", "on it", C + 15 * M + 30 * S)
    d.run("web", C + 20 * M, True)
    d.page(C + 20 * M)
    assert len(d.outbox()) == 7  # opened, escalated x2, acknowledged x2, resolved x2
    with closing(sqlite3.connect(d.path)) as conn:
        text = repr(conn.execute("SELECT * FROM incidents").fetchall())
        text += repr(conn.execute("SELECT * FROM outbox").fetchall())
    d.store.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"incident.acknowledged" in blob  # the grep reads what was written
    for secret in (TOKEN, HEADER):
        assert secret not in text and secret.encode() not in blob
