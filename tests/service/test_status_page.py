"""The public status page's view-model (uptimed.service.status_page) against ``uptimed report``:
real SQLite databases written as the daemon leaves them (its schema, runs, timeline rows,
maintenance), and every figure of the page checked to equal the report's for the same target
and window (the report is the reference). Also what the page must never show, the components'
states, the incident list and the maintenance announced; and random histories (hypothesis).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uptimed.config import loads_config
from uptimed.core.times import iso
from uptimed.model.config import Config
from uptimed.model.pages import StatusPage
from uptimed.model.report import Figures
from uptimed.service.report import build_report
from uptimed.service.status_page import status_page
from uptimed.service.window import resolve_scope, resolve_window
from uptimed.store import Store, adhoc, connect

S = 1000
M = 60 * S
H = 60 * M
D = 24 * H
UP, DOWN = 1, 0
NOW = 1_795_188_600_000  # 2026-11-20T15:30:00Z, a Friday
TODAY = NOW // D * D
FIRST = TODAY - 89 * D  # 2026-08-23T00:00:00Z: the first of the 90 bars
AUG1 = 1_785_542_400_000  # 2026-08-01T00:00:00Z
HEARTBEAT = NOW - 5 * S  # the daemon's last sign of life
LIVE_END = NOW + 20 * S  # a live row ends at the last probe + max_gap, after now


def utc(text: str) -> int:
    """ms of "2026-10-10T23:30" (UTC)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


assert utc("2026-08-01T00:00") == AUG1 and utc("2026-08-23T00:00") == FIRST


# -- databases -----------------------------------------------------------------------------------


class Db:
    """A database as a daemon leaves it: the real schema (made by the real Store), then runs,
    timeline rows, monitor state, raw results, incidents and ad-hoc windows written directly."""

    def __init__(self, path: Path, config: Config, template: Path | None = None):
        self.path, self.config = path, config
        if template is None:
            store = Store(str(path))
            store.open()
            store.register_monitors([(m.id, m.kind, m.name) for m in config.monitors])
            assert store._conn is not None and store._lock_fd is not None
            store._conn.close()
            os.close(store._lock_fd)  # and its lock, as a dead process would
        else:
            shutil.copyfile(template, path)
        self.conn = connect(str(path))
        self.ids = dict(self.conn.execute("SELECT key, id FROM monitors"))

    def run(self, start: int, end: int | None, heartbeat: int | None = None) -> Db:
        """A run of the daemon: ``end`` None while it runs (its heartbeat says until when)."""
        hb = end if heartbeat is None else heartbeat
        self.conn.execute(
            "INSERT INTO runs (started, ended, heartbeat, end_reason, config_sha256)"
            " VALUES (?, ?, ?, ?, 'c0ffee')",
            (start, end, hb, None if end is None else "stop"),
        )
        return self

    def cause(self, kind: str | None) -> int | None:
        if kind is None:
            return None
        self.conn.execute("INSERT OR IGNORE INTO error_kinds (name) VALUES (?)", (kind,))
        (cid,) = self.conn.execute("SELECT id FROM error_kinds WHERE name = ?", (kind,)).fetchone()
        return int(cid)

    def rows(
        self, key: str, rows: Sequence[tuple[int, int, int] | tuple[int, int, int, str]]
    ) -> Db:
        """Timeline rows ``(start, end, state[, cause])``; the monitor's saved state and one raw
        result per DOWN row carry an error text that no page may show."""
        mid = self.ids[key]
        for r in rows:
            cause = self.cause(r[3] if len(r) > 3 else ("timeout" if r[2] == DOWN else None))
            self.conn.execute(
                "INSERT OR REPLACE INTO timeline VALUES (?, ?, ?, ?, ?)",
                (mid, r[0], r[1], r[2], cause),
            )
            if r[2] == DOWN:
                self.conn.execute(
                    "INSERT OR REPLACE INTO results (monitor, ts, ok, duration_us, error_kind,"
                    " error) VALUES (?, ?, 0, 1000, ?, ?)",
                    (mid, r[0], cause, f"{ERROR_TEXT} at {r[0]}"),
                )
        if rows:
            last = rows[-1]
            self.conn.execute(
                "INSERT OR REPLACE INTO monitor_state (monitor, state, streak, streak_start,"
                " last_ts, floor, last_ok, last_error) VALUES (?, ?, 0, NULL, ?, 0, ?, ?)",
                (mid, last[2], last[1] - 20 * S, last[2], ERROR_TEXT),
            )
        return self

    def window(
        self, kind: str, key: str, start: int, end: int, reason: str, added: int
    ) -> adhoc.Window:
        return adhoc.add(self.conn, kind, key, start, end, reason, CREATED_BY, added)

    def degraded(self, start: int, end: int) -> Db:
        self.conn.execute("INSERT INTO degraded VALUES (?, ?, 1)", (start, end))
        return self

    def incident(self, kind: str, key: str, start: int) -> Db:
        """The incident table's row (its cause is the first failure's message: internal)."""
        self.conn.execute(
            "INSERT INTO incidents (id, target_kind, target, start, confirmed, severity,"
            " cause_kind, cause, ack_by, ack_note) VALUES (?, ?, ?, ?, ?, 'major', 'timeout',"
            " ?, ?, ?)",
            (f"inc-{start:x}", kind, key, start, start + 20 * S, ERROR_TEXT, CREATED_BY,
             ERROR_TEXT),
        )  # fmt: skip
        return self

    def commit(self) -> Db:
        self.conn.commit()
        return self


def series(start: int, end: int, outages: Sequence[tuple[int, int, str]]) -> list[tuple]:
    """UP rows from ``start`` to ``end`` with the DOWN rows ``outages`` (sorted) between."""
    out: list[tuple] = []
    t = start
    for s, e, cause in outages:
        if s > t:
            out.append((t, s, UP))
        out.append((s, e, DOWN, cause))
        t = e
    if end > t:
        out.append((t, end, UP))
    return out


# -- the report, the reference -------------------------------------------------------------------


def report_figures(conn: Any, config: Config, kind: str, key: str, lo: int, hi: int) -> Figures:
    """``uptimed report --monitor/--service KEY --from LO --to HI`` at NOW: the target's
    figures."""
    scope = resolve_scope(config, [key] if kind == "monitor" else [],
                          [key] if kind == "service" else [])  # fmt: skip
    rep = build_report(conn, config, scope, resolve_window(NOW, start=iso(lo), end=iso(hi)), NOW)
    items = rep.monitors if kind == "monitor" else rep.services
    return next(x.figures for x in items if x.id == key)


def counts(f: Figures) -> tuple[int, int, int, int]:
    return f.up_ms, f.down_ms, f.maintenance_ms, f.unknown_ms


@dataclass(frozen=True)
class Public:
    kind: str
    key: str
    name: str


def check_against_the_report(
    conn: Any, config: Config, page: StatusPage, public: Sequence[Public], days: Sequence[int]
) -> dict[str, list[Any]]:
    """Every figure of the page for ``public`` (in that order) equals the report's: the
    availability over [first day, now), the bars of ``days`` (00:00 UTC; others are left to the
    caller), the months. Returns each component's report incidents over [first day, now)."""
    assert [c.name for c in page.components] == [p.name for p in public]
    incidents: dict[str, list[Any]] = {}
    for p, comp in zip(public, page.components, strict=True):
        whole = report_figures(conn, config, p.kind, p.key, FIRST, NOW)
        assert comp.availability == whole.availability, p
        assert comp.coverage == whole.coverage, p  # always shown beside it
        incidents[p.name] = list(whole.incidents or ())
        assert len(comp.days) == 90
        assert [b.day for b in comp.days] == [FIRST + i * D for i in range(90)]
        assert [b.end for b in comp.days] == [FIRST + (i + 1) * D for i in range(89)] + [NOW]
        started = [i[0] // D * D for i in incidents[p.name]]
        by_day = {b.day: b for b in comp.days}
        for day in days:
            bar = by_day[day]
            f = report_figures(conn, config, p.kind, p.key, day, bar.end)
            got = (bar.up_ms, bar.down_ms, bar.maintenance_ms, bar.unknown_ms)
            assert got == counts(f), (p, iso(day))
            assert bar.availability == f.availability, (p, iso(day))
        assert [b.incidents for b in comp.days] == [started.count(b.day) for b in comp.days], p
        for m in comp.months:
            f = report_figures(conn, config, p.kind, p.key, m.start, m.end)
            assert m.availability == f.availability, (p, m.label)
            assert m.coverage == f.coverage, (p, m.label)
    return incidents


# -- a scripted history --------------------------------------------------------------------------

ERROR_TEXT = "ERRTEXT-xyzzy: connect to 10.99.88.77:5432 refused"
CREATED_BY = "operator-bob-secret"

SCRIPTED = """
[daemon]
database = "{db}"

[defaults]
interval = "10s"
timeout = "4s"

[[monitor]]
id = "web-int-7f3a"
name = "Web internal QWERTY"
kind = "http"
url = "http://secret-host-7f3a.internal.example:8443/health-zq9x"
labels = {{ team = "label-secret-team" }}
public_name = "Website"
public = true

[[monitor]]
id = "api-int-9c2b"
name = "API internal ASDFG"
kind = "tcp"
host = "10.99.88.77"
port = 5432
public_name = "Public API"
public = true

[[monitor]]
id = "db-hidden-5e1d"
name = "Hidden database ZXCVB"
kind = "tcp"
host = "db-hidden-host.internal"
port = 5432

[[monitor]]
id = "stage-hidden-3b"
name = "Staging box HJKL"
kind = "tcp"
host = "staging-host.internal"
port = 22
public = false
public_name = "Staging MNBVC"

[[service]]
id = "shop-int-svc"
name = "Shop internal POIUY"
monitors = ["web-int-7f3a", "api-int-9c2b"]
rule = "all"
public_name = "Online Shop"
public = true

[[service]]
id = "hidden-svc-8d"
name = "Hidden service LKJHG"
monitors = ["db-hidden-5e1d", "web-int-7f3a"]
rule = "all"

[[maintenance]]
id = "mw-cfg-id-4411"
services = ["shop-int-svc"]
reason = "Database migration"
start = "2026-09-05T02:00:00Z"
end = "2026-09-05T04:00:00Z"

[[maintenance]]
id = "mw-sunday-id-77"
monitors = ["web-int-7f3a"]
reason = "Weekly patching"
rrule = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=3"
duration = "30m"
timezone = "Europe/Berlin"

[[maintenance]]
id = "mw-hidden-id-99"
monitors = ["db-hidden-5e1d"]
reason = "SECRET-REASON-db-only"
start = "2026-11-21T01:00:00Z"
end = "2026-11-21T02:00:00Z"

[[maintenance]]
id = "mw-soon-id-12"
services = ["shop-int-svc"]
reason = "Network upgrade"
start = "2026-11-25T06:00:00Z"
end = "2026-11-25T07:00:00Z"

[[maintenance]]
id = "mw-late-id-13"
monitors = ["web-int-7f3a"]
reason = "Too far ahead"
start = "2026-12-20T06:00:00Z"
end = "2026-12-20T07:00:00Z"

[portal]
title = "ACME status"
"""

PUBLIC = [
    Public("service", "shop-int-svc", "Online Shop"),
    Public("monitor", "web-int-7f3a", "Website"),
    Public("monitor", "api-int-9c2b", "Public API"),
]
#: What the page must never show: ids, internal names, URLs, hosts, labels, error texts, the
#: non-public targets by any name, the windows' ids and authors, a hidden window's reason.
NEVER = [
    "web-int-7f3a", "api-int-9c2b", "db-hidden-5e1d", "stage-hidden-3b", "shop-int-svc",
    "hidden-svc-8d", "Web internal QWERTY", "API internal ASDFG", "Hidden database ZXCVB",
    "Staging box HJKL", "Staging MNBVC", "staging-mnbvc", "Shop internal POIUY",
    "Hidden service LKJHG", "secret-host-7f3a", "health-zq9x", "8443", "10.99.88.77",
    "db-hidden-host", "staging-host", "label-secret-team", "ERRTEXT", "xyzzy", CREATED_BY,
    "mw-cfg-id-4411", "mw-sunday-id-77", "mw-hidden-id-99", "mw-soon-id-12", "mw-late-id-13",
    "SECRET-REASON", "c0ffee",
]  # fmt: skip

RESTART = (utc("2026-10-15T12:00"), utc("2026-10-15T14:00"))  # the daemon was stopped


@dataclass
class Scripted:
    config: Config
    db: Db
    page: StatusPage


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scripted]:
    """Three months of history:

    * the daemon stopped from 12:00 to 14:00 on 2026-10-15 (unknown for every monitor), and its
      network was down 05:00-05:30 on 2026-11-12 (degraded: unknown too);
    * Website: down 12:00-13:00 on 2026-08-10 (before the bars, in the first month), 02:30-03:30
      on 2026-09-05 (inside the config window on the shop: excluded), 23:30 on 2026-10-10 to
      00:45 on 2026-10-11 (across midnight), 00:10-00:40 on 2026-10-20 (inside an ad-hoc window
      on the hidden service, which covers Website), 08:00-08:05 on 2026-11-18; weekly patching
      (a recurring config window, Sundays 03:00 Berlin) on it alone;
    * Public API: first probed on 2026-08-25 10:00 (unknown before), down 10:00-10:40 on
      2026-10-02 (covered by an ad-hoc window added the next day: retroactive), 23:50-00:20
      across the same midnight, 14:00-16:00 on 2026-11-03;
    * the hidden database: down on 2026-09-10; the Online Shop (rule all): down when either is.
    """
    tmp = tmp_path_factory.mktemp("status")
    config = loads_config(SCRIPTED.format(db=tmp / "u.db"), str(tmp / "c.toml"))
    db = Db(tmp / "u.db", config)
    db.run(utc("2026-07-01T00:00"), RESTART[0]).run(RESTART[1] + 3 * S, None, HEARTBEAT)
    db.degraded(utc("2026-11-12T05:00"), utc("2026-11-12T05:30"))
    begin = utc("2026-07-01T00:00")
    web = [
        (utc("2026-08-10T12:00"), utc("2026-08-10T13:00"), "http_status"),
        (utc("2026-09-05T02:30"), utc("2026-09-05T03:30"), "timeout"),
        (utc("2026-10-10T23:30"), utc("2026-10-11T00:45"), "http_status"),
        (utc("2026-10-20T00:10"), utc("2026-10-20T00:40"), "refused"),
        (utc("2026-11-18T08:00"), utc("2026-11-18T08:05"), "timeout"),
    ]
    api = [
        (utc("2026-10-02T10:00"), utc("2026-10-02T10:40"), "refused"),
        (utc("2026-10-10T23:50"), utc("2026-10-11T00:20"), "reset"),
        (utc("2026-11-03T14:00"), utc("2026-11-03T16:00"), "timeout"),
    ]
    dbm = [(utc("2026-09-10T01:00"), utc("2026-09-10T05:00"), "refused")]
    stop, back = RESTART[0] + 10 * S, RESTART[1] + 3 * S  # rows end at the last probe + gap
    for key, outages, first_probe in (
        ("web-int-7f3a", web, begin),
        ("api-int-9c2b", api, utc("2026-08-25T10:00")),
        ("db-hidden-5e1d", dbm, begin),
        ("stage-hidden-3b", [(utc("2026-11-19T01:00"), utc("2026-11-19T02:00"), "timeout")],
         begin),
    ):  # fmt: skip
        before = [o for o in outages if o[1] <= stop]
        after = [o for o in outages if o[0] >= back]
        db.rows(key, series(first_probe, stop, before) + series(back, LIVE_END, after))
        for s, _, _ in outages:
            db.incident("monitor", key, s)
    db.window(
        "monitor", "api-int-9c2b", utc("2026-10-02T09:55"), utc("2026-10-02T10:45"),
        "Provider fault, excused", utc("2026-10-03T09:00"),
    )  # fmt: skip
    db.window(
        "service", "hidden-svc-8d", utc("2026-10-20T00:00"), utc("2026-10-20T01:00"),
        "SECRET-REASON-hidden-service", utc("2026-10-19T12:00"),
    )  # fmt: skip
    # Maintenance now and to come: under way on Website; on the shop the day after tomorrow;
    # on the hidden service (covers Website, its reason withheld); one cancelled (ended before
    # it began); one on the hidden database only; one that ended an hour ago.
    db.window("monitor", "web-int-7f3a", NOW - 10 * M, NOW + 50 * M, "Certificate rollover",
              NOW - 20 * M)  # fmt: skip
    db.window("service", "shop-int-svc", NOW + 2 * D, NOW + 2 * D + H, "Payment provider switch",
              NOW - D)  # fmt: skip
    db.window("service", "hidden-svc-8d", NOW + 3 * D, NOW + 3 * D + H,
              "SECRET-REASON-future", NOW - D)  # fmt: skip
    cancelled = db.window("monitor", "api-int-9c2b", NOW + 4 * D, NOW + 4 * D + H, "Cancelled",
                          NOW - D)  # fmt: skip
    adhoc.end(db.conn, cancelled.id, NOW - H)
    db.window("monitor", "db-hidden-5e1d", NOW + D, NOW + D + H, "SECRET-REASON-db", NOW - D)
    db.window("monitor", "api-int-9c2b", NOW - 3 * H, NOW - H, "Finished", NOW - 4 * H)
    db.commit()
    ro = connect(str(db.path), readonly=True)
    try:
        yield Scripted(config, db, status_page(ro, config, NOW))
    finally:
        ro.close()


@pytest.fixture
def ro(scripted: Scripted) -> Iterator[Any]:
    conn = connect(str(scripted.db.path), readonly=True)
    try:
        yield conn
    finally:
        conn.close()


def test_every_figure_equals_the_report_s(scripted: Scripted, ro: Any) -> None:
    page = scripted.page
    days = [FIRST + i * D for i in range(90)]
    found = check_against_the_report(ro, scripted.config, page, PUBLIC, days)
    # The page's incidents: the public targets' incidents of the report over the 90 days.
    want = sorted(
        ((name, i[0], i[1], i[2], i[4]) for name, inc in found.items() for i in inc),
        key=lambda x: -x[1],
    )
    got = [(i.component, i.start, i.end, i.duration_ms, i.cause) for i in page.incidents]
    assert sorted(got) == sorted(want)
    assert [i.start for i in page.incidents] == sorted((i.start for i in page.incidents),
                                                       reverse=True)  # fmt: skip


def bar(page: StatusPage, name: str, day: str) -> Any:
    comp = next(c for c in page.components if c.name == name)
    return next(b for b in comp.days if b.day == utc(day + "T00:00"))


def test_the_scripted_history_shows_where_it_should(scripted: Scripted) -> None:
    """Not only equal to the report: the figures the script makes, so that the comparison
    cannot pass on an empty page."""
    page = scripted.page

    def web(day: str) -> Any:
        return bar(page, "Website", day)

    def shop(day: str) -> Any:
        return bar(page, "Online Shop", day)

    def api(day: str) -> Any:
        return bar(page, "Public API", day)

    # Across midnight: Website 30 min down on the 10th, 45 on the 11th; the shop the union.
    assert (web("2026-10-10").down_ms, web("2026-10-11").down_ms) == (30 * M, 45 * M)
    assert (api("2026-10-10").down_ms, api("2026-10-11").down_ms) == (10 * M, 20 * M)
    assert (shop("2026-10-10").down_ms, shop("2026-10-11").down_ms) == (30 * M, 45 * M)
    # One incident each, on the day it began.
    assert (web("2026-10-10").incidents, web("2026-10-11").incidents) == (1, 0)
    assert (shop("2026-10-10").incidents, shop("2026-10-11").incidents) == (1, 0)
    # The config window on the shop covers its members: Website's outage there is excluded.
    assert web("2026-09-05").maintenance_ms == 2 * H and web("2026-09-05").down_ms == 0
    assert shop("2026-09-05").maintenance_ms == 2 * H and shop("2026-09-05").incidents == 0
    # The retroactive ad-hoc window on the API.
    assert api("2026-10-02").maintenance_ms == 50 * M and api("2026-10-02").down_ms == 0
    # The ad-hoc window on the hidden service covers Website (and so the shop's vote).
    assert web("2026-10-20").maintenance_ms == H and web("2026-10-20").down_ms == 0
    # The restart: two hours (and the 3 s the new run took to start) unknown for everyone; the
    # degraded half hour too.
    for b in (web("2026-10-15"), api("2026-10-15"), shop("2026-10-15")):
        assert b.unknown_ms == 2 * H + 3 * S and b.down_ms == 0 and b.up_ms == D - 2 * H - 3 * S
    for b in (web("2026-11-12"), api("2026-11-12"), shop("2026-11-12")):
        assert b.unknown_ms == 30 * M
    # Sundays: Website's weekly 30 minutes (03:00 Berlin); the API alone votes for the shop.
    sunday = web("2026-11-15")
    assert sunday.maintenance_ms == 30 * M and sunday.up_ms == D - 30 * M
    assert shop("2026-11-15").maintenance_ms == 0 and shop("2026-11-15").up_ms == D
    # The API before its first probe: unknown; the shop votes by Website alone.
    assert api("2026-08-23").unknown_ms == D and api("2026-08-23").availability is None
    assert shop("2026-08-23").up_ms == D - 30 * M  # a Sunday: Website in maintenance 30 min
    # Today: to now.
    assert web("2026-11-20").end == NOW
    today = web("2026-11-20")
    assert today.up_ms + today.down_ms + today.maintenance_ms + today.unknown_ms == NOW - TODAY
    assert today.maintenance_ms == 10 * M  # the window under way
    # The months: August whole (its first bar is the 23rd), November to now.
    comp = next(c for c in page.components if c.name == "Website")
    assert [(m.label, m.start, m.end, m.to_date) for m in comp.months] == [
        ("2026-08", AUG1, utc("2026-09-01T00:00"), False),
        ("2026-09", utc("2026-09-01T00:00"), utc("2026-10-01T00:00"), False),
        ("2026-10", utc("2026-10-01T00:00"), utc("2026-11-01T00:00"), False),
        ("2026-11", utc("2026-11-01T00:00"), NOW, True),
    ]
    # August counts the outage of the 10th, which is before the first bar.
    assert comp.months[0].availability is not None and comp.months[0].availability < 1
    assert comp.availability is not None and comp.availability < 1
    assert page.title == "ACME status" and page.generated_at == NOW


def test_nothing_private_is_on_the_page(scripted: Scripted) -> None:
    text = repr(scripted.page)
    for secret in NEVER:
        assert secret not in text, secret
    assert {c.name for c in scripted.page.components} == {"Online Shop", "Website", "Public API"}
    assert {c.slug for c in scripted.page.components} == {"online-shop", "website", "public-api"}
    # The hidden database's outage, and the staging box's, are no incidents of the page.
    assert {i.component for i in scripted.page.incidents} <= {"Online Shop", "Website",
                                                              "Public API"}  # fmt: skip
    assert all(len(i.ref) >= 12 and not i.ref.isdigit() for i in scripted.page.incidents)


def test_the_maintenance_announced(scripted: Scripted) -> None:
    """Under way and to come (14 days) on public targets, by start; not the ended, cancelled,
    too distant ones, nor those on non-public targets only. A window on the hidden service
    covers Website: listed for it, its reason withheld (it is the hidden service's)."""
    got = [(m.components, m.start, m.end, m.reason, m.active) for m in scripted.page.maintenance]
    assert got == [
        (("Website",), NOW - 10 * M, NOW + 50 * M, "Certificate rollover", True),
        (("Website",), utc("2026-11-22T02:00"), utc("2026-11-22T02:30"), "Weekly patching",
         False),
        # on the service: its public members are in maintenance too
        (("Online Shop", "Website", "Public API"), NOW + 2 * D, NOW + 2 * D + H,
         "Payment provider switch", False),
        (("Website",), NOW + 3 * D, NOW + 3 * D + H, None, False),
        (("Online Shop", "Website", "Public API"), utc("2026-11-25T06:00"),
         utc("2026-11-25T07:00"), "Network upgrade", False),
        (("Website",), utc("2026-11-29T02:00"), utc("2026-11-29T02:30"), "Weekly patching",
         False),
    ]  # fmt: skip
    assert len({m.ref for m in scripted.page.maintenance}) == len(got)


# -- states --------------------------------------------------------------------------------------

STATES = """
[daemon]
database = "{db}"

[defaults]
interval = "10s"
timeout = "4s"

[[monitor]]
id = "m-up"
kind = "tcp"
host = "127.0.0.1"
port = 9
public_name = "Up one"
public = true

[[monitor]]
id = "m-down"
kind = "tcp"
host = "127.0.0.1"
port = 9
public_name = "Down one"
public = true

[[monitor]]
id = "m-maint"
kind = "tcp"
host = "127.0.0.1"
port = 9
public_name = "Maint one"
public = true

[[monitor]]
id = "m-new"
kind = "tcp"
host = "127.0.0.1"
port = 9
public_name = "New one"
public = true

[[monitor]]
id = "m-flappy"
kind = "tcp"
host = "127.0.0.1"
port = 9
public_name = "Flappy"
public = true

[[service]]
id = "svc"
monitors = ["m-up", "m-down"]
public_name = "Both"
public = true
"""


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Db]:
    tmp = tmp_path_factory.mktemp("states")
    config = loads_config(STATES.format(db=tmp / "u.db"), str(tmp / "c.toml"))
    db = Db(tmp / "u.db", config)
    start = NOW - 2 * D
    db.run(start, None, HEARTBEAT)
    db.rows("m-up", [(start, LIVE_END, UP)])
    db.rows("m-down", [(start, NOW - 10 * M, UP), (NOW - 10 * M, LIVE_END, DOWN, "timeout")])
    db.rows("m-maint", [(start, LIVE_END, UP)])
    db.window("monitor", "m-maint", NOW - 5 * M, NOW + H, "Disk swap", NOW - 6 * M)
    # 120 one-minute outages, one every ten minutes, over the last 20 hours.
    flaps = [(NOW - 20 * H + i * 10 * M, NOW - 20 * H + i * 10 * M + M, "refused")
             for i in range(120)]  # fmt: skip
    db.rows("m-flappy", series(start, LIVE_END, flaps))
    db.commit()
    return config, db


def page_at(config: Config, db: Db, now: int) -> StatusPage:
    ro = connect(str(db.path), readonly=True)
    try:
        return status_page(ro, config, now)
    finally:
        ro.close()


def test_the_states_now(states: tuple[Config, Db]) -> None:
    config, db = states
    page = page_at(config, db, NOW)
    got = {c.name: c.state for c in page.components}
    assert got == {
        "Both": "down", "Up one": "up", "Down one": "down", "Maint one": "maintenance",
        "New one": "unknown", "Flappy": "up",
    }  # fmt: skip
    assert page.state == "down"
    ongoing = [i for i in page.incidents if i.end is None]
    assert {(i.component, i.start, i.duration_ms) for i in ongoing} == {
        ("Down one", NOW - 10 * M, 10 * M), ("Both", NOW - 10 * M, 10 * M),
    }  # fmt: skip


def test_a_daemon_not_heard_of_for_a_minute_leaves_every_state_unknown(
    states: tuple[Config, Db],
) -> None:
    config, db = states
    page = page_at(config, db, HEARTBEAT + 60 * S)  # a minute: still known
    assert {c.name: c.state for c in page.components}["Up one"] == "up"
    page = page_at(config, db, HEARTBEAT + 60 * S + 1)
    got = {c.name: c.state for c in page.components}
    assert got == {
        "Both": "unknown", "Up one": "unknown", "Down one": "unknown",
        "Maint one": "maintenance", "New one": "unknown", "Flappy": "unknown",
    }  # fmt: skip
    assert page.state == "unknown"


def test_the_worst_state_is_the_page_s(tmp_path: Path) -> None:
    text = STATES.format(db=tmp_path / "u.db").split("[[service]]")[0]
    config = loads_config(text, str(tmp_path / "c.toml"))
    db = Db(tmp_path / "u.db", config)
    db.run(NOW - D, None, HEARTBEAT)
    for key in ("m-up", "m-down", "m-new", "m-flappy"):
        db.rows(key, [(NOW - D, LIVE_END, UP)])
    db.rows("m-maint", [(NOW - D, LIVE_END, UP)])
    db.commit()
    assert page_at(config, db, NOW).state == "up"
    db.window("monitor", "m-maint", NOW - 5 * M, NOW + H, "Disk swap", NOW - 6 * M)
    db.commit()
    assert page_at(config, db, NOW).state == "maintenance"


def test_incidents_newest_first_and_at_most_100(states: tuple[Config, Db]) -> None:
    config, db = states
    page = page_at(config, db, NOW)
    assert len(page.incidents) == 100
    starts = [i.start for i in page.incidents]
    assert starts == sorted(starts, reverse=True)
    ro = connect(str(db.path), readonly=True)
    try:
        everything = []
        for kind, key, name in (("service", "svc", "Both"), ("monitor", "m-up", "Up one"),
                                ("monitor", "m-down", "Down one"),
                                ("monitor", "m-flappy", "Flappy")):  # fmt: skip
            f = report_figures(ro, config, kind, key, FIRST, NOW)
            everything += [(i[0], name, i[1], i[2], i[4]) for i in f.incidents or ()]
    finally:
        ro.close()
    assert len(everything) == 122
    everything.sort(key=lambda x: -x[0])
    want = everything[:100]
    got = [(i.start, i.component, i.end, i.duration_ms, i.cause) for i in page.incidents]
    assert sorted(got) == sorted(want)
    assert len({i.ref for i in page.incidents}) == 100
    # The flappy monitor's bars count them on the days they began.
    flappy = next(c for c in page.components if c.name == "Flappy")
    assert sum(b.incidents for b in flappy.days) == 120


def test_a_month_that_ended_at_now_is_not_to_date(states: tuple[Config, Db]) -> None:
    config, db = states
    december = utc("2026-12-01T00:00")
    page = page_at(config, db, december)
    november = next(c for c in page.components if c.name == "Up one").months[-1]
    assert (november.label, november.end) == ("2026-11", december)
    assert november.to_date is False


# -- random histories ------------------------------------------------------------------------

RANDOM = """
[daemon]
database = "{db}"

[defaults]
interval = "10s"
timeout = "4s"

[[monitor]]
id = "a"
kind = "tcp"
host = "127.0.0.1"
port = 9
public_name = "Alpha"
public = true

[[monitor]]
id = "b"
kind = "tcp"
host = "127.0.0.1"
port = 9
public_name = "Beta"
public = true

[[service]]
id = "all"
monitors = ["a", "b"]
rule = "all"
public_name = "All of them"
public = true

[[service]]
id = "any"
monitors = ["a", "b"]
rule = "any"
public_name = "Any of them"
public = true

[[maintenance]]
id = "nightly"
monitors = ["b"]
reason = "Nightly"
cron = "30 1 * * *"
duration = "20m"
timezone = "Europe/Berlin"
"""
RANDOM_PUBLIC = [
    Public("service", "all", "All of them"),
    Public("service", "any", "Any of them"),
    Public("monitor", "a", "Alpha"),
    Public("monitor", "b", "Beta"),
]
SPAN = 4 * D  # random history in [NOW - SPAN, NOW]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config]:
    tmp = tmp_path_factory.mktemp("random")
    config = loads_config(RANDOM.format(db=tmp / "t.db"), str(tmp / "c.toml"))
    Db(tmp / "t.db", config).conn.close()
    return tmp, config


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    """Runs (one or two, the second maybe still running), rows per monitor (alternating
    states, random lengths, sometimes a gap), ad-hoc windows."""
    lo = NOW - SPAN + draw(st.integers(0, D)) // M * M
    cut = draw(st.one_of(st.none(), st.integers(lo + H, NOW - H)))
    runs: list[tuple[int, int | None, int]] = []
    stale = draw(st.booleans())
    hb = NOW - (draw(st.integers(61, 3 * 3600)) if stale else draw(st.integers(0, 59))) * S
    if cut is None:
        runs.append((lo, None, hb))
    else:
        back = cut + draw(st.integers(1, 6 * 60)) * M
        runs.append((lo, cut, cut))
        if back < hb:
            runs.append((back, None, hb))
    rows: dict[str, list[tuple]] = {}
    piece = st.tuples(st.integers(1, 16 * 60), st.integers(0, 59), st.sampled_from([0, 0, 7]))
    for key in ("a", "b"):
        t = lo + draw(st.integers(0, 3 * 60)) * M
        state = draw(st.sampled_from([UP, DOWN]))
        out: list[tuple] = []
        for mins, secs, gap in draw(st.lists(piece, max_size=12)):
            end = t + mins * M + secs * S
            if end >= NOW:
                break
            out.append((t, end, state, draw(st.sampled_from(["timeout", "refused"]))))
            t, state = end + gap * M, (DOWN if state == UP else UP) if not gap else state
        if t < NOW:  # the last verdict: still standing, or the monitor went quiet
            end = LIVE_END if draw(st.booleans()) else draw(st.integers(t + 1, NOW))
            out.append((t, end, state, "timeout"))
        rows[key] = out
    windows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    [("monitor", "a"), ("monitor", "b"), ("service", "all"), ("service", "any")]
                ),  # fmt: skip
                st.integers(-SPAN // M, D // M),
                st.integers(1, 8 * 60),
                st.booleans(),
            ),
            max_size=3,
        )
    )
    return {"runs": runs, "rows": rows, "windows": windows, "lo": lo}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories())
def test_random_histories_against_the_report(
    template: tuple[Path, Config], history: dict[str, Any]
) -> None:
    tmp, config = template
    path = tmp / "e.db"
    db = Db(path, config, template=tmp / "t.db")
    for start, end, hb in history["runs"]:
        db.run(start, end, hb)
    for key, rows in history["rows"].items():
        db.rows(key, rows)
    for (kind, key), offset, length, retro in history["windows"]:
        s = NOW + offset * M
        db.window(kind, key, s, s + length * M, "Random", s + (2 * H if retro else -H))
    db.commit()
    ro = connect(str(path), readonly=True)
    try:
        page = status_page(ro, config, NOW)
        days = [d for d in range(FIRST, TODAY + 1, D) if d + D > history["lo"]]
        check_against_the_report(ro, config, page, RANDOM_PUBLIC, days)
        for comp in page.components:  # before any run: no verdict (the nightly window is kept)
            for b in comp.days:
                if b.day + D <= history["lo"]:
                    assert (b.up_ms, b.down_ms, b.availability) == (0, 0, None), comp.name
                    assert b.unknown_ms + b.maintenance_ms == D, comp.name
        hb = max(r[2] for r in history["runs"])
        for comp in page.components:
            if comp.state != "maintenance" and NOW - hb > 60 * S:
                assert comp.state == "unknown", comp.name
    finally:
        ro.close()
        db.conn.close()
        path.unlink()
        for extra in ("-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)


def test_references_are_keyed_by_the_database(scripted: Scripted) -> None:
    """An incident's reference is no plain hash of what it is: without the database's own key
    no one can tell which target, or which numbered window, it stands for."""
    import hashlib

    from uptimed.service.status_page import ref

    for i in scripted.page.incidents:
        for kind in ("monitor", "service"):
            for guess in ("web", "api", "shop", "shop-int-svc", i.component):
                plain = hashlib.sha256(f"{kind}\x1f{guess}\x1f{i.start}".encode()).hexdigest()
                assert i.ref != plain[:16]
    assert ref(b"a" * 32, "service", "shop", 1) != ref(b"b" * 32, "service", "shop", 1)
    assert ref(b"a" * 32, "service", "shop", 1) == ref(b"a" * 32, "service", "shop", 1)
