"""The customer portal's ledger and statements (uptimed.service.portal) over a scripted history
of eight months in Europe/Berlin: per period the verdicts, credit tiers and their rules, the cap,
provisional and final periods, the first period cut at the term's start, the exclusions'
announced flag; every statement's figures against ``uptimed report --period month --at LABEL
--timezone Europe/Berlin`` (the reference); and nothing internal or of another customer in the
view or the statements.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from uptimed.config import loads_config
from uptimed.core.times import iso
from uptimed.model.config import Agreement, Config
from uptimed.model.pages import AgreementView, LedgerPeriod, LedgerRow
from uptimed.render.json import slo_json
from uptimed.render.pages import STATEMENT_KEYS, statement_json
from uptimed.service.portal import agreement_view, statements
from uptimed.service.report import build_report
from uptimed.service.window import resolve_scope, resolve_window
from uptimed.store import Store, adhoc, connect

BERLIN = ZoneInfo("Europe/Berlin")
S = 1000
M = 60 * S
H = 60 * M
D = 24 * H
UP, DOWN = 1, 0


def at(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> int:
    """ms of a wall time in Berlin."""
    return int(datetime(y, m, d, h, minute, tzinfo=BERLIN).timestamp() * 1000)


NOW = at(2026, 11, 10, 13)  # 12:00 UTC
HEARTBEAT = NOW - 5 * S
LIVE_END = NOW + 20 * S
TERM_START = at(2026, 3, 15)  # mid-month, before DST begins (2026-03-29)
STOPPED = (at(2026, 8, 10), at(2026, 8, 14))  # the daemon was down four days

ERROR_TEXT = "ERRTEXT-xyzzy: connect to 10.99.88.77:5432 refused"
CREATED_BY = "operator-bob-secret"

CONFIG = """
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
id = "partner-mon-q1"
name = "Partner box WERTZ"
kind = "tcp"
host = "partner-host.internal"
port = 443
public_name = "Partner portal PPPP"
public = true

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

[[slo]]
id = "shop-avail-slo-k3"
target = "shop-int-svc"
objective = 99.95
period = "month"
timezone = "Europe/Berlin"
effective_from = 2026-03-15T00:00:00+01:00
customer = "ACME internal CUSTKEY"
credits = [
  {{ below = 99.9, credit = 10 }},
  {{ below = 99.0, credit = 25 }},
  {{ below = 95.0, credit = 50 }},
]

[[slo]]
id = "api-avail-slo-k4"
target = "api-int-9c2b"
objective = 99.5
period = "month"
timezone = "Europe/Berlin"
effective_from = 2026-03-15T00:00:00+01:00
credits = [{{ below = 99.5, credit = 15 }}, {{ below = 98.0, credit = 30 }}]

[[slo]]
id = "partner-slo-zz"
target = "partner-mon-q1"
objective = 99.0
period = "month"

[[maintenance]]
id = "mw-june-id-4411"
services = ["shop-int-svc"]
reason = "Database migration"
start = 2026-06-06T01:00:00+02:00
end = 2026-06-06T05:00:00+02:00

[[maintenance]]
id = "mw-partner-id-77"
monitors = ["partner-mon-q1"]
reason = "OTHER-CUSTOMER-REASON"
start = 2026-07-01T01:00:00+02:00
end = 2026-07-01T05:00:00+02:00

[[customer]]
id = "acme"
name = "ACME Corp"
token_file = "acme.tokens"

[[customer]]
id = "other-cust"
name = "Other Customer NAMEX"
token_file = "other.tokens"

[[agreement]]
id = "acme-hosting"
customer = "acme"
name = "ACME hosting agreement"
slos = ["shop-avail-slo-k3", "api-avail-slo-k4"]
effective_from = 2026-03-15T00:00:00+01:00
renewal = "year"
termination_notice = "90d"
obligations = {{ provider = "Runs the shop 24/7.", customer = "Reports incidents." }}
reporting = "month"
timezone = "Europe/Berlin"
credit_cap = 30

[[agreement]]
id = "other-agr-id"
customer = "other-cust"
name = "Other agreement ZZTOP"
slos = ["partner-slo-zz"]
effective_from = 2026-01-01T00:00:00Z
"""

#: Nothing of these may be in a view or a statement of ACME's agreement.
NEVER = [
    "web-int-7f3a", "api-int-9c2b", "db-hidden-5e1d", "partner-mon-q1", "shop-int-svc",
    "hidden-svc-8d", "Web internal QWERTY", "API internal ASDFG", "Hidden database ZXCVB",
    "Partner box WERTZ", "Partner portal PPPP", "Shop internal POIUY", "Hidden service LKJHG",
    "secret-host-7f3a", "health-zq9x", "8443", "10.99.88.77", "db-hidden-host", "partner-host",
    "label-secret-team", "ERRTEXT", "xyzzy", CREATED_BY, "shop-avail-slo-k3", "api-avail-slo-k4",
    "partner-slo-zz", "mw-june-id-4411", "mw-partner-id-77", "OTHER-CUSTOMER-REASON",
    "SECRET-REASON", "Other Customer NAMEX", "other-cust", "other-agr-id", "ZZTOP",
    "CUSTKEY", "c0ffee", "acme.tokens",
]  # fmt: skip


class Db:
    """A database as a daemon leaves it: the real schema (made by the real Store), then runs,
    timeline rows, monitor state, raw results, incidents and ad-hoc windows written directly."""

    def __init__(self, path: Path, config: Config):
        store = Store(str(path))
        store.open()
        self.ids = store.register_monitors([(m.id, m.kind, m.name) for m in config.monitors])
        assert store._conn is not None and store._lock_fd is not None
        store._conn.close()
        os.close(store._lock_fd)  # and its lock, as a dead process would
        self.path = path
        self.conn = connect(str(path))

    def run(self, start: int, end: int | None, heartbeat: int) -> None:
        self.conn.execute(
            "INSERT INTO runs (started, ended, heartbeat, end_reason, config_sha256)"
            " VALUES (?, ?, ?, ?, 'c0ffee')",
            (start, end, heartbeat, None if end is None else "stop"),
        )

    def rows(self, key: str, rows: Sequence[tuple]) -> None:
        """Timeline rows ``(start, end, state[, cause])``; the saved state, the raw results and
        the incident table carry an error text no customer may see."""
        mid = self.ids[key]
        for r in rows:
            cause = None
            if r[2] == DOWN:
                kind = r[3] if len(r) > 3 else "timeout"
                self.conn.execute("INSERT OR IGNORE INTO error_kinds (name) VALUES (?)", (kind,))
                (cause,) = self.conn.execute(
                    "SELECT id FROM error_kinds WHERE name = ?", (kind,)
                ).fetchone()
                self.conn.execute(
                    "INSERT INTO results (monitor, ts, ok, duration_us, error_kind, error)"
                    " VALUES (?, ?, 0, 1000, ?, ?)",
                    (mid, r[0], cause, ERROR_TEXT),
                )
                self.conn.execute(
                    "INSERT INTO incidents (id, target_kind, target, start, confirmed, severity,"
                    " cause_kind, cause, ack_by, ack_note) VALUES (?, 'monitor', ?, ?, ?, 'major',"
                    " ?, ?, ?, ?)",
                    (f"inc-{mid}-{r[0]:x}", key, r[0], r[0] + 20 * S, kind, ERROR_TEXT,
                     CREATED_BY, ERROR_TEXT),
                )  # fmt: skip
            self.conn.execute(
                "INSERT INTO timeline VALUES (?, ?, ?, ?, ?)", (mid, r[0], r[1], r[2], cause)
            )
        last = rows[-1]
        self.conn.execute(
            "INSERT INTO monitor_state (monitor, state, streak, streak_start, last_ts, floor,"
            " last_ok, last_error) VALUES (?, ?, 0, NULL, ?, 0, ?, ?)",
            (mid, last[2], last[1] - 20 * S, last[2], ERROR_TEXT),
        )

    def window(self, kind: str, key: str, start: int, end: int, reason: str, added: int) -> None:
        adhoc.add(self.conn, kind, key, start, end, reason, CREATED_BY, added)


def series(start: int, end: int, outages: Sequence[tuple[int, int, str]]) -> list[tuple]:
    """UP rows from ``start`` to ``end`` with the DOWN rows ``outages`` (sorted) between; cut
    where the daemon was stopped (rows end at the last probe + max_gap)."""
    out: list[tuple] = []
    t = start
    for s, e, cause in [*outages, (end, end, "")]:
        if s > t:
            out.append((t, s, UP))
        if e > s:
            out.append((s, e, DOWN, cause))
        t = max(t, e)
    cut: list[tuple] = []
    stop, back = STOPPED[0] + 10 * S, STOPPED[1] + 3 * S
    for r in out:
        if r[0] < stop:
            cut.append((r[0], min(r[1], stop), *r[2:]))
        if r[1] > back:
            cut.append((max(r[0], back), r[1], *r[2:]))
    return cut


# The outages (Berlin wall times), by the period they fall in:
WEB = [
    (at(2026, 3, 5, 8), at(2026, 3, 5, 18), "timeout"),  # before the term: never counted
    (at(2026, 4, 10, 9), at(2026, 4, 10, 10), "http_status"),  # April: 1 h
    (at(2026, 6, 6, 2), at(2026, 6, 6, 4), "timeout"),  # inside the config window
    (at(2026, 6, 25, 0, 10), at(2026, 6, 25, 0, 40), "refused"),  # inside the hidden window
    (at(2026, 7, 20, 12), at(2026, 7, 20, 12, 20), "timeout"),  # 20 min: met by a hair
    (at(2026, 8, 20, 10), at(2026, 8, 20, 12), "timeout"),  # August: thin data
    (at(2026, 9, 15, 10), at(2026, 9, 15, 10, 30), "timeout"),  # missed, no tier
    (at(2026, 10, 31, 23), at(2026, 11, 1, 1), "http_status"),  # across the month's end
]
API = [
    (at(2026, 5, 12, 8), at(2026, 5, 12, 18), "refused"),  # May: 10 h
    (at(2026, 6, 20, 10, 15), at(2026, 6, 20, 10, 45), "reset"),  # inside an announced window
    (at(2026, 7, 8, 9), at(2026, 7, 8, 9, 30), "timeout"),  # inside a retroactive window
    (at(2026, 10, 5, 6), at(2026, 10, 7, 8), "timeout"),  # October: 50 h
]


@dataclass
class World:
    config: Config
    agreement: Agreement
    db: Db

    def view(self, now: int = NOW) -> AgreementView:
        with self.reading() as ro:
            return agreement_view(ro, self.config, self.agreement, now)

    def statements(self, now: int = NOW, label: str | None = None) -> list[dict[str, Any]]:
        with self.reading() as ro:
            return [
                statement_json(st) for st in statements(ro, self.config, self.agreement, now, label)
            ]

    @contextmanager
    def reading(self) -> Iterator[Any]:
        ro = connect(str(self.db.path), readonly=True)
        try:
            yield ro
        finally:
            ro.close()

    def report_slo(self, sid: str, label: str, *, timezone: bool = True) -> dict[str, Any]:
        """``uptimed report --slo SID --period month --at LABEL [--timezone Europe/Berlin]``:
        the SLO's JSON."""
        tz = "Europe/Berlin" if timezone else None
        window = resolve_window(NOW, period="month", at=label, timezone=tz)
        with self.reading() as ro:
            rep = build_report(ro, self.config, resolve_scope(self.config, slos=[sid]), window, NOW)
        (r,) = rep.slos
        return slo_json(r, NOW)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("portal")
    (tmp / "acme.tokens").write_text("0123456789abcdef" * 4 + "\n")
    (tmp / "other.tokens").write_text("fedcba9876543210" * 4 + "\n")
    config = loads_config(CONFIG.format(db=tmp / "u.db"), str(tmp / "c.toml"))
    db = Db(tmp / "u.db", config)
    begin = at(2026, 3, 1)
    db.run(begin, STOPPED[0], STOPPED[0])
    db.run(STOPPED[1] + 3 * S, None, HEARTBEAT)
    db.rows("web-int-7f3a", series(begin, LIVE_END, WEB))
    db.rows("api-int-9c2b", series(begin, LIVE_END, API))
    db.rows("db-hidden-5e1d", series(begin, LIVE_END, []))
    db.rows("partner-mon-q1", series(begin, LIVE_END, [(at(2026, 7, 1, 2), at(2026, 7, 1, 3),
                                                         "timeout")]))  # fmt: skip
    # Announced: added the day before it began; retroactive: added the day after it ended.
    db.window("monitor", "api-int-9c2b", at(2026, 6, 20, 10), at(2026, 6, 20, 11),
              "Provider maintenance", at(2026, 6, 19, 9))  # fmt: skip
    db.window("service", "shop-int-svc", at(2026, 7, 8, 8, 50), at(2026, 7, 8, 9, 40),
              "Excused: carrier fault", at(2026, 7, 9, 9))  # fmt: skip
    # On the hidden service (covers Website, a member of the shop): its reason is not ACME's.
    db.window("service", "hidden-svc-8d", at(2026, 6, 25), at(2026, 6, 25, 1),
              "SECRET-REASON-hidden", at(2026, 6, 24))  # fmt: skip
    db.conn.commit()
    (agreement,) = [a for a in config.agreements if a.id == "acme-hosting"]
    return World(config, agreement, db)


@pytest.fixture(scope="module")
def view(world: World) -> AgreementView:
    return world.view()


@pytest.fixture(scope="module")
def all_statements(world: World) -> list[dict[str, Any]]:
    return world.statements()


LABELS = [f"2026-{m:02d}" for m in range(3, 12)]
SHOP = "Online Shop availability ≥ 99.95 %"
API_SLO = "Public API availability ≥ 99.5 %"


def period(view: AgreementView, label: str) -> LedgerPeriod:
    return next(p for p in view.periods if p.label == label)


def row(view: AgreementView, label: str, slo: str) -> LedgerRow:
    return next(r for r in period(view, label).rows if r.slo == slo)


# -- the ledger ----------------------------------------------------------------------------------


def test_the_agreement_itself(view: AgreementView) -> None:
    assert (view.id, view.name, view.customer) == (
        "acme-hosting", "ACME hosting agreement", "ACME Corp",
    )  # fmt: skip
    assert (view.timezone, view.reporting, view.renewal) == ("Europe/Berlin", "month", "year")
    assert view.term_start == TERM_START and view.term_end is None
    assert view.next_renewal == at(2027, 3, 15)
    assert view.termination_notice_s == 90 * 86400
    assert view.credit_cap == Decimal(30)
    assert view.slos == (SHOP, API_SLO)
    assert [p.name for p in view.policies] == [SHOP, API_SLO]
    assert view.policies[0].tiers == (
        "below 99.9 %: 10 % of the monthly charge",
        "below 99 %: 25 % of the monthly charge",
        "below 95 %: 50 % of the monthly charge",
    )
    assert view.policies[1].tiers == (
        "below 99.5 %: 15 % of the monthly charge",
        "below 98 %: 30 % of the monthly charge",
    )
    assert (view.policies[0].unknown, view.policies[0].maintenance) == ("excluded", "excluded")


def test_periods_newest_first_the_current_one_provisional(view: AgreementView) -> None:
    assert [p.label for p in view.periods] == LABELS[::-1]
    assert [p.final for p in view.periods] == [False] + [True] * 8
    current = view.periods[0]
    assert (current.start, current.end, current.figures_end) == (
        at(2026, 11, 1),
        at(2026, 12, 1),
        NOW,
    )
    for p in view.periods[1:]:
        assert p.figures_end == p.end
        assert [r.slo for r in p.rows] == [SHOP, API_SLO]


def test_the_first_period_is_cut_at_the_term_s_start(view: AgreementView) -> None:
    first = period(view, "2026-03")
    assert (first.start, first.end, first.figures_end) == (TERM_START, at(2026, 4, 1),
                                                            at(2026, 4, 1))  # fmt: skip
    shop = row(view, "2026-03", SHOP)
    # The ten hours down on the 5th were before the term: not counted, not listed.
    assert shop.used_ms == 0 and shop.outages == () and shop.verdict == "met"
    # 17 days less the hour DST took on the 29th.
    assert shop.budget_ms == pytest.approx((17 * D - H) * 0.0005)


def credits(view: AgreementView) -> dict[str, tuple[Any, ...]]:
    """label -> (shop verdict, shop credit, API verdict, API credit, total, capped)."""
    out = {}
    for p in view.periods:
        shop, api = row(view, p.label, SHOP), row(view, p.label, API_SLO)
        out[p.label] = (shop.verdict, shop.credit, api.verdict, api.credit, p.credit, p.capped)
    return out


def test_verdicts_credit_tiers_and_the_cap(view: AgreementView) -> None:
    ten, fifteen, thirty = Decimal(10), Decimal(15), Decimal(30)
    assert credits(view) == {
        "2026-03": ("met", None, "met", None, Decimal(0), False),
        "2026-04": ("missed", ten, "met", None, ten, False),  # 1 h of 720: 99.86 %
        # 10 h of 744 on the API (98.66 %): 25 % and 15 %, capped at 30.
        "2026-05": ("missed", Decimal(25), "missed", fifteen, thirty, True),
        "2026-06": ("met", None, "met", None, Decimal(0), False),  # excluded in maintenance
        "2026-07": ("met", None, "met", None, Decimal(0), False),  # 20 min of 22.3 allowed
        # Four days unknown: coverage 87 % < 90 %; no verdict, no credit, however down.
        "2026-08": ("insufficient data", None, "insufficient data", None, Decimal(0), False),
        "2026-09": ("missed", None, "met", None, Decimal(0), False),  # 99.93 %: above a tier
        # 50 h (and 1 h) of 745 (October has the hour DST gave back): 50 % and 30 %, capped.
        "2026-10": ("missed", Decimal(50), "missed", thirty, thirty, True),
        # 1 h in the 9 1/2 days so far: provisionally 10 %.
        "2026-11": ("missed", ten, "met", None, ten, False),
    }


def test_the_figures_behind_the_verdicts(view: AgreementView) -> None:
    may = row(view, "2026-05", API_SLO)
    assert may.used_ms == 10 * H and may.attainment == pytest.approx(734 / 744)
    assert may.budget_ms == pytest.approx(744 * H * 0.005)
    assert may.remaining_ms == pytest.approx(744 * H * 0.005 - 10 * H)
    assert may.burnt == pytest.approx(10 / (744 * 0.005))
    assert [(o.component, o.start, o.end, o.counted_ms, o.cause) for o in may.outages] == [
        ("Public API", at(2026, 5, 12, 8), at(2026, 5, 12, 18), 10 * H, "refused"),
    ]
    shop_may = row(view, "2026-05", SHOP)
    assert shop_may.component == "Online Shop" and shop_may.incidents == 1
    assert shop_may.outages[0].component == "Online Shop"
    august = row(view, "2026-08", SHOP)
    assert august.unknown_ms == 4 * D + 3 * S  # the run ended at the stop, began 3 s late
    assert august.coverage == pytest.approx((31 * D - august.unknown_ms) / (31 * D))
    assert august.min_coverage == Decimal(90)
    # Across the month's end: an hour in October, an hour in November, one outage each time.
    for label, counted in (("2026-10", H), ("2026-11", H)):
        (crossing,) = [o for o in row(view, label, SHOP).outages if o.cause == "http_status"]
        assert (crossing.start, crossing.end) == (at(2026, 10, 31, 23), at(2026, 11, 1, 1))
        assert crossing.duration_ms == 2 * H and crossing.counted_ms == counted
    # Maintenance lowers what an outage counts, never splits it: June counts nothing.
    june = row(view, "2026-06", SHOP)
    assert june.used_ms == 0 and june.maintenance_ms >= 4 * H


def test_the_credit_rules_say_why(view: AgreementView) -> None:
    rule = {(p.label, r.slo): r.credit_rule for p in view.periods for r in p.rows}
    assert rule[("2026-03", SHOP)] == "objective met: no credit (credits begin below 99.9 %)"
    assert rule[("2026-03", API_SLO)] == "objective met: no credit (credits begin below 99.5 %)"
    assert rule[("2026-04", SHOP)] == "below 99.9 %: 10 % of the monthly charge"
    assert rule[("2026-05", SHOP)] == "below 99 %: 25 % of the monthly charge"
    assert rule[("2026-05", API_SLO)] == "below 99.5 %: 15 % of the monthly charge"
    assert rule[("2026-10", SHOP)] == "below 95 %: 50 % of the monthly charge"
    assert rule[("2026-10", API_SLO)] == "below 98 %: 30 % of the monthly charge"
    assert rule[("2026-08", SHOP)] == "insufficient data: no verdict, so no credit is claimed"


def test_the_rule_of_a_miss_above_every_tier_names_where_credits_begin(
    view: AgreementView,
) -> None:
    sep = row(view, "2026-09", SHOP)
    assert sep.verdict == "missed" and sep.credit is None
    assert sep.credit_rule == "not below 99.9 %: no credit tier applies"


def test_exclusions_and_whether_they_were_announced(view: AgreementView) -> None:
    june = {(x.reason, x.announced, x.start, x.end, x.components)
            for x in row(view, "2026-06", SHOP).exclusions}  # fmt: skip
    assert ("Database migration", True, at(2026, 6, 6, 1), at(2026, 6, 6, 5),
            ("Online Shop",)) in june  # fmt: skip
    assert ("Provider maintenance", True, at(2026, 6, 20, 10), at(2026, 6, 20, 11),
            ("Public API",)) in june  # fmt: skip
    # The hidden service's window changed the shop's figures (through Website): listed by what
    # it covered, without its reason.
    hidden = [x for x in row(view, "2026-06", SHOP).exclusions if x.start == at(2026, 6, 25)]
    assert [(x.reason, x.components) for x in hidden] == [(None, ("Website",))]
    # The API's own SLO: its window, and the shop's (which covers it; the report, whose figures
    # these are, names a window on another target than the SLO's without its reason).
    api_june = [(x.start, x.announced, x.components)
                for x in row(view, "2026-06", API_SLO).exclusions]  # fmt: skip
    assert api_june == [
        (at(2026, 6, 6, 1), True, ("Public API",)),
        (at(2026, 6, 20, 10), True, ("Public API",)),
    ]
    assert row(view, "2026-06", API_SLO).exclusions[1].reason == "Provider maintenance"
    # The shop's window, named on another of the agreement's targets: its reason is shown (the
    # report's SLO figures withhold it); the hidden service's above stays withheld.
    assert row(view, "2026-06", API_SLO).exclusions[0].reason == "Database migration"
    july = [(x.reason, x.announced, x.components) for x in row(view, "2026-07", SHOP).exclusions]
    assert july == [("Excused: carrier fault", False, ("Online Shop",))]
    # A window on the shop covers its members: the API's figures too.
    api_july = [(x.start, x.announced) for x in row(view, "2026-07", API_SLO).exclusions]
    assert api_july == [(at(2026, 7, 8, 8, 50), False)]
    assert row(view, "2026-07", API_SLO).used_ms == 0
    assert row(view, "2026-04", SHOP).exclusions == ()


# -- statements against the report ---------------------------------------------------------------


def test_one_statement_per_period_oldest_first(
    world: World, all_statements: list[dict[str, Any]]
) -> None:
    assert [s["period"] for s in all_statements] == LABELS
    assert [s["final"] for s in all_statements] == [True] * 8 + [False]
    assert all(s["agreement"] == "acme-hosting" for s in all_statements)
    assert all(s["reporting"] == "month" and s["timezone"] == "Europe/Berlin"
               for s in all_statements)  # fmt: skip
    assert all_statements[0]["from"] == iso(TERM_START)
    assert all_statements[-1]["to"] == iso(NOW) and all_statements[-1]["generated_at"] == iso(NOW)
    may = all_statements[2]
    assert may["credit"] == {"total": 30.0, "cap": 30.0, "capped": True}
    assert world.statements(label="2026-05") == [may]
    assert world.statements(label="2026-02") == []


def test_every_statement_s_figures_are_the_report_s(
    world: World, all_statements: list[dict[str, Any]]
) -> None:
    checked = 0
    for st in all_statements:
        label = st["period"]
        for item, sid in zip(st["slos"], ("shop-avail-slo-k3", "api-avail-slo-k4"), strict=True):
            ref = world.report_slo(sid, label)
            keys = [k for k in STATEMENT_KEYS if k in ref]
            assert set(keys) <= set(item), (label, sid)
            # --timezone makes the report's window the period itself ("report" basis), so it
            # names no period; every figure is the same.
            for k in keys:
                if k not in WHAT_WAS_ASKED:
                    assert item[k] == ref[k], (label, sid, k)
            # Without --timezone (the SLO's own zone is the agreement's) every key is equal.
            own = world.report_slo(sid, label, timezone=False)
            assert {k: item[k] for k in keys} == {k: own[k] for k in keys}, (label, sid)
            assert item["incidents"] == [
                {k: i[k] for k in ("start", "end", "duration_seconds", "counted_seconds", "cause")}
                for i in ref["incidents"]
            ], (label, sid)
            assert [(x["start"], x["end"], x["announced"]) for x in item["exclusions"]] == [
                (x["start"], x["end"], not x["retroactive"]) for x in ref["exclusions"]
            ], (label, sid)
            # The report withholds the reason of a window named on another target than the
            # SLO's; the statement shows it when that target is the customer's too.
            for got, want in zip(item["exclusions"], ref["exclusions"], strict=True):
                if want["reason"] is None and got["reason"] is not None:
                    assert got["reason"] in AGREEMENT_REASONS, (label, sid, got)
                else:
                    assert got["reason"] == want["reason"], (label, sid, got)
            checked += 1
    assert checked == 2 * len(LABELS)


def test_the_statement_and_the_ledger_agree(
    view: AgreementView, all_statements: list[dict[str, Any]]
) -> None:
    for st in all_statements:
        p = period(view, st["period"])
        assert st["final"] == p.final
        assert st["from"] == iso(p.start) and st["to"] == iso(p.figures_end)
        assert st["credit"]["total"] == float(p.credit) and st["credit"]["capped"] == p.capped
        for item, r in zip(st["slos"], p.rows, strict=True):
            assert item["slo"] == r.slo and item["target"] == r.component
            assert item["verdict"] == r.verdict and item["attainment"] == r.attainment
            assert item["down_seconds"] == r.used_ms / 1000
            assert item["credit_rule"] == r.credit_rule
            credit = None if r.credit is None else float(r.credit)
            assert (item["credit"] or {}).get("credit") == credit


def test_the_current_period_to_date(world: World) -> None:
    """Later the same day the provisional period's figures have grown; the final ones have not."""
    later = NOW + 2 * H
    before, after = world.view(), world.view(later)
    assert period(after, "2026-11").figures_end == later
    assert row(after, "2026-11", SHOP).budget_ms == row(before, "2026-11", SHOP).budget_ms
    for label in LABELS[:-1]:
        assert period(after, label) == period(before, label)


# -- nothing internal, nothing of another customer -----------------------------------------------


def test_nothing_internal_in_the_view_or_the_statements(
    view: AgreementView, all_statements: list[dict[str, Any]]
) -> None:
    texts = {"view": repr(view), "statements": json.dumps(all_statements, ensure_ascii=False)}
    for where, text in texts.items():
        for secret in NEVER:
            assert secret not in text, (where, secret)
    for st in all_statements:
        for item in st["slos"]:
            assert "id" not in item and "customer" not in item
            assert item["target"] in ("Online Shop", "Public API")


def test_no_periods_before_the_term(world: World) -> None:
    earlier = at(2026, 2, 20)
    assert world.view(earlier).periods == ()
    assert world.statements(earlier) == []


def test_no_period_in_the_first_month_before_the_term_begins(world: World) -> None:
    earlier = at(2026, 3, 10)
    assert world.view(earlier).periods == ()
    assert world.statements(earlier) == []


# -- other terms and reporting periods -------------------------------------------------------


def variant(world: World, **changes: Any) -> World:
    """The same database under an agreement changed by ``changes``; its SLOs given the same
    term (as an SLO's own effective_from/effective_until), so the report can be compared."""
    a = replace(world.agreement, **changes)
    slos = tuple(
        replace(s, effective_from=a.effective_from, effective_until=a.effective_until)
        if s.id in a.slos else s
        for s in world.config.slos
    )  # fmt: skip
    config = replace(world.config, slos=slos, agreements=(a,))
    return World(config, a, world.db)


#: The reasons of the windows named on the agreement's own targets (the shop and the API).
AGREEMENT_REASONS = {"Database migration", "Provider maintenance", "Excused: carrier fault"}

#: What the report says was asked for: with --timezone, its own window, not the SLO's period.
WHAT_WAS_ASKED = ("basis", "period", "window")


def check_statements(w: World, kind: str) -> list[dict[str, Any]]:
    out = w.statements()
    for st in out:
        for item, sid in zip(st["slos"], w.agreement.slos, strict=True):
            window = resolve_window(NOW, period=kind, at=st["period"], timezone="Europe/Berlin")
            with w.reading() as ro:
                rep = build_report(ro, w.config, resolve_scope(w.config, slos=[sid]), window, NOW)
            ref = slo_json(rep.slos[0], NOW)
            for k in STATEMENT_KEYS:
                if k in ref and k not in WHAT_WAS_ASKED:
                    assert item[k] == ref[k], (st["period"], sid, k)
    return out


def test_a_term_that_ends_mid_period(world: World) -> None:
    """Ended on 2026-09-15 (not renewed): September is its last period, final, cut there; the
    outage on the 15th at 10:00 is after the term."""
    until = datetime(2026, 9, 15, tzinfo=BERLIN)
    w = variant(world, effective_until=until, renewal=None)
    view = w.view()
    assert view.term_end == at(2026, 9, 15) and view.next_renewal is None
    assert [p.label for p in view.periods] == LABELS[:7][::-1]
    last = view.periods[0]
    assert (last.start, last.end, last.figures_end, last.final) == (
        at(2026, 9, 1), at(2026, 9, 15), at(2026, 9, 15), True,
    )  # fmt: skip
    shop = row(view, "2026-09", SHOP)
    assert shop.used_ms == 0 and shop.verdict == "met" and shop.outages == ()
    assert shop.budget_ms == pytest.approx(14 * D * 0.0005)
    out = check_statements(w, "month")
    assert [s["period"] for s in out] == LABELS[:7] and out[-1]["to"] == iso(at(2026, 9, 15))
    assert all(s["final"] for s in out)


def test_quarterly_statements(world: World) -> None:
    w = variant(world, reporting="quarter")
    view = w.view()
    assert [p.label for p in view.periods] == ["2026-Q4", "2026-Q3", "2026-Q2", "2026-Q1"]
    assert [p.final for p in view.periods] == [False, True, True, True]
    q1 = period(view, "2026-Q1")
    assert (q1.start, q1.end) == (TERM_START, at(2026, 4, 1))
    assert view.policies[0].tiers[0] == "below 99.9 %: 10 % of the quarterly charge"
    # Q2: 1 h (April) and 10 h (May) of 2184 h: 99.50 %, below 99.9 and not below 99.
    q2 = row(view, "2026-Q2", SHOP)
    assert q2.used_ms == 11 * H and q2.credit == Decimal(10)
    assert q2.credit_rule == "below 99.9 %: 10 % of the quarterly charge"
    out = check_statements(w, "quarter")
    assert [s["period"] for s in out] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
