"""Figures a customer can sign (issue 14): periods to date, agreement terms, an SLO's own window,
service incidents across restarts and maintenance, never-probed members, the exclusions listed,
verdicts on thin data. Real SQLite databases written as the daemon writes them, read by the real
report and /metrics code; the pure parts against brute-force references (hypothesis).
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uptimed.config import loads_config
from uptimed.core import sla, state
from uptimed.core.intervals import normalize
from uptimed.core.times import iso
from uptimed.errors import RequestError
from uptimed.model.config import Policy
from uptimed.model.report import Report
from uptimed.render.json import report_json
from uptimed.render.report import render
from uptimed.service.history import History
from uptimed.service.report import build_report
from uptimed.service.targets import Targets
from uptimed.service.window import data_range, resolve_scope, resolve_window, slo_window
from uptimed.store import Store, adhoc, connect
from uptimed.web.sla_metrics import SlaMetrics

T0 = 1_793_491_200_000  # 2026-11-01T00:00:00Z
S = 1000
M = 60 * S
H = 3_600_000
D = 24 * H
UP, DOWN = state.UP, state.DOWN


class World:
    """A database as a daemon leaves it: runs, timeline rows, monitor state, ad-hoc windows."""

    def __init__(
        self, tmp_path: Path, body: str, monitors: list[str], disabled: tuple[str, ...] = ()
    ):
        self.path = tmp_path / "u.db"
        self.text = f'[daemon]\ndatabase = "{self.path}"\n\n'
        for key in monitors:
            self.text += f'[[monitor]]\nid = "{key}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'
            self.text += 'interval = "10s"\n'
            self.text += f'timeout = "4s"\nenabled = {"false" if key in disabled else "true"}\n\n'
        self.text += body
        self.config = loads_config(self.text, "t.toml")
        store = Store(str(self.path))
        store.open()
        self.ids = store.register_monitors([(m.id, "tcp", m.id) for m in self.config.monitors])
        store._conn.close()
        os.close(store._lock_fd)  # and its lock, as a dead process would
        self.conn = connect(str(self.path))

    def run(self, start: int, end: int) -> World:
        self.conn.execute(
            "INSERT INTO runs (started, ended, heartbeat, config_sha256) VALUES (?, ?, ?, 'x')",
            (start, end, end),
        )
        return self

    def rows(self, key: str, *rows: tuple[int, int, int]) -> World:
        mid = self.ids[key]
        self.conn.executemany(
            "INSERT OR REPLACE INTO timeline VALUES (?, ?, ?, ?, NULL)",
            [(mid, s, e, st) for s, e, st in rows],
        )
        last_end = max(e for _, e, _ in rows)
        self.conn.execute(
            "INSERT OR REPLACE INTO monitor_state"
            " (monitor, state, streak, streak_start, last_ts, floor) VALUES (?, ?, 0, NULL, ?, 0)",
            (mid, rows[-1][2], last_end - 20 * S),
        )
        return self

    def window(self, kind: str, key: str, start: int, end: int, reason: str, at: int) -> int:
        return adhoc.add(self.conn, kind, key, start, end, reason, "test", at).id

    def report(
        self, now: int, *, monitors=(), services=(), slos=(), **window: str
    ) -> dict[str, Any]:
        """The report's JSON."""
        return report_json(self.model(now, monitors=monitors, services=services, slos=slos,
                                      **window))  # fmt: skip

    def model(self, now: int, *, monitors=(), services=(), slos=(), **window: str) -> Report:
        self.conn.commit()
        scope = resolve_scope(self.config, list(monitors), list(services), list(slos))
        ro = connect(str(self.path), readonly=True)
        try:
            return build_report(ro, self.config, scope, resolve_window(now, **window), now)
        finally:
            ro.close()

    def metrics(self, now: int, started: int) -> dict[str, float]:
        """/metrics' SLA series as {series: value}, from one refresh at ``now``."""
        self.conn.commit()
        ro = connect(str(self.path), readonly=True)
        try:
            text = SlaMetrics(started)._render(ro, self.config, now)
        finally:
            ro.close()
        return {m[1]: float(m[2]) for m in re.finditer(r"^(\S+\{.*\}) (\S+)$", text, re.MULTILINE)}


def slo_of(report: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in report["slos"] if s["id"] == sid)


def item(report: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    return next(x for x in report[kind] if x["id"] == key)


# -- 2. a period that is not over yet --------------------------------------------------------------


def test_a_period_under_way_is_evaluated_to_date(tmp_path):
    body = """[[slo]]
id = "strict"
target = "web"
objective = 99.9
period = "month"
policy = { unknown = "down" }
"""
    now = T0 + D + 5 * H
    w = World(tmp_path, body, ["web"]).run(T0, now).rows("web", (T0, now + 20 * S, UP))
    rep = w.report(now, period="month")
    s = slo_of(rep, "strict")
    # Old code: the whole month, 29 days of it in the future and counted down: 3.47 %, MISSED.
    assert s["attainment"] == 1.0 and s["verdict"] == "met" and s["met"] is True
    assert (s["from"], s["to"], s["to_date"]) == (iso(T0), iso(now), True)
    assert s["elapsed_seconds"] == (D + 5 * H) / S and s["length_seconds"] == 30 * D / S
    assert s["error_budget"]["remaining_ratio"] == 1.0
    assert s["error_budget"]["total_seconds"] == pytest.approx((D + 5 * H) / S * 0.001)
    # The windows end now, not at the end of the month: none is empty. (3d reaches back before
    # the daemon's first run, unknown and so bad under this policy.)
    assert all(r == 0.0 for name, r in s["burn_rates"].items() if name != "3d")
    assert s["burn_rates"]["3d"] == pytest.approx((3 * D - (D + 5 * H)) / (3 * D) / 0.001)
    assert (rep["to"], rep["to_date"], rep["period_to"]) == (iso(now), True, iso(T0 + 30 * D))
    m = item(rep, "monitors", "web")
    assert m["unknown_seconds"] == 0 and m["up_seconds"] == (D + 5 * H) / S


def test_a_to_in_the_future_stops_at_now_and_future_windows_are_not_applied(tmp_path):
    body = """[[maintenance]]
id = "next-week"
monitors = ["web"]
reason = "planned"
start = "2026-11-09T00:00:00Z"
end = "2026-11-09T02:00:00Z"
"""
    now = T0 + 2 * D
    w = World(tmp_path, body, ["web"]).run(T0, now).rows("web", (T0, now + 20 * S, UP))
    w.window("monitor", "web", now + H, now + 2 * H, "later", now - H)
    rep = w.report(now, start="2026-11-01", end="2026-12-01")
    assert (rep["to"], rep["to_date"], rep["elapsed_seconds"], rep["length_seconds"]) == (
        iso(now),
        True,
        2 * D / S,
        30 * D / S,
    )
    m = item(rep, "monitors", "web")
    assert (
        m["up_seconds"] + m["unknown_seconds"] + m["maintenance_seconds"] + m["down_seconds"]
        == 2 * D / S
    )
    assert m["maintenance_seconds"] == 0 and rep["exclusions"] == []


def test_a_period_that_has_not_begun_is_an_error():
    with pytest.raises(RequestError, match="the month of 2026-12 has not begun"):
        resolve_window(T0 + D, period="month", at="2026-12")


# -- 3. the agreement's term -----------------------------------------------------------------------


def test_time_before_the_term_is_in_no_figure_report_or_metrics(tmp_path):
    now = T0 + 10 * D
    body = f"""[[slo]]
id = "sla"
target = "web"
objective = 99.9
window = "30d"
effective_from = "{iso(T0 + 3 * D)}"
"""
    w = World(tmp_path, body, ["web"]).run(T0, now)
    w.rows(
        "web", (T0, T0 + 6 * H, UP), (T0 + 6 * H, T0 + 9 * H, DOWN), (T0 + 9 * H, now + 20 * S, UP)
    )
    s = slo_of(w.report(now), "sla")
    assert s["attainment"] == 1.0 and s["error_budget"]["remaining_ratio"] == 1.0
    assert s["from"] == iso(T0 + 3 * D) and s["effective_from"] == iso(T0 + 3 * D)
    got = w.metrics(now, T0)
    lbl = 'slo="sla",target="web"'
    # Old code: 99.583 % and -317 % on /metrics.
    assert got[f"uptimed_slo_attainment_ratio{{{lbl}}}"] == 1.0
    assert got[f"uptimed_slo_error_budget_remaining_ratio{{{lbl}}}"] == 1.0
    assert got[f'uptimed_slo_burn_rate{{{lbl},window="3d"}}'] == 0.0


def test_burn_rates_do_not_reach_back_before_the_term(tmp_path):
    now = T0 + 5 * D
    body = f"""[[slo]]
id = "sla"
target = "web"
objective = 99.9
window = "30d"
effective_from = "{iso(now - H)}"
"""
    w = World(tmp_path, body, ["web"]).run(T0, now)
    w.rows(
        "web",
        (T0, now - 2 * H, UP),
        (now - 2 * H, now - 2 * H + 10 * M, DOWN),
        (now - 2 * H + 10 * M, now + 20 * S, UP),
    )
    s = slo_of(w.report(now), "sla")
    assert s["burn_rates"]["2h"] == 0.0 and s["burn_rates"]["24h"] == 0.0  # old code: 83.3 and 6.9
    assert s["burn_rates"]["5m"] == 0.0


# -- 8. an SLO's own rolling window ----------------------------------------------------------------


def test_the_default_report_evaluates_an_slo_over_its_own_window(tmp_path):
    now = T0 + 25 * D
    body = """[[slo]]
id = "weekly"
target = "web"
objective = 99.9
window = "7d"
"""
    w = World(tmp_path, body, ["web"]).run(T0, now)
    w.rows(
        "web",
        (T0, T0 + 5 * D, UP),
        (T0 + 5 * D, T0 + 5 * D + 2 * H, DOWN),
        (T0 + 5 * D + 2 * H, now + 20 * S, UP),
    )
    rep = w.report(now)
    s = slo_of(rep, "weekly")
    assert (s["from"], s["to"], s["window"], s["basis"]) == (
        iso(now - 7 * D),
        iso(now),
        "7d",
        "window",
    )
    assert s["met"] is True and s["attainment"] == 1.0  # old code: over 30 days, MISSED
    assert (
        item(rep, "monitors", "web")["down_seconds"] == 2 * H / S
    )  # monitors: the report's 30 days
    got = w.metrics(now, T0)
    assert got['uptimed_slo_attainment_ratio{slo="weekly",target="web"}'] == s["attainment"]
    # With a window asked for, the SLO is evaluated over it, and not labelled "7d".
    s = slo_of(w.report(now, window="20d"), "weekly")
    assert (s["window"], s["basis"], s["met"]) == (None, "report", False)


# -- 5 and 10. one outage, one service incident ----------------------------------------------------


SERVICE = """[[service]]
id = "shop"
monitors = ["web"{more}]
rule = "{rule}"
"""


def test_a_restart_inside_an_outage_leaves_one_service_incident(tmp_path):
    now = T0 + H
    w = World(tmp_path, SERVICE.format(more="", rule="all"), ["web"])
    w.run(T0, T0 + 20 * M).run(T0 + 20 * M + 30 * S, now)
    # The state machine resumed from its snapshot: the DOWN row runs across the restart.
    w.rows(
        "web",
        (T0, T0 + 10 * M, UP),
        (T0 + 10 * M, T0 + 30 * M, DOWN),
        (T0 + 30 * M, now + 20 * S, UP),
    )
    rep = w.report(now, start=iso(T0), end=iso(now))
    mon, svc = item(rep, "monitors", "web"), item(rep, "services", "shop")
    assert mon["incident_count"] == 1
    assert svc["incident_count"] == 1  # old code: 2, and MTTR halved
    (inc,) = svc["incidents"]
    assert (inc["start"], inc["end"], inc["duration_seconds"]) == (
        iso(T0 + 10 * M),
        iso(T0 + 30 * M),
        20 * M / S,
    )
    assert inc["counted_seconds"] == svc["down_seconds"] == (20 * M - 30 * S) / S
    assert svc["mttr_seconds"] == mon["mttr_seconds"]
    assert svc["unknown_seconds"] == 30  # the stopped time itself stays unknown


def test_maintenance_inside_a_service_outage_lowers_it_and_never_splits_it(tmp_path):
    now = T0 + H
    w = World(tmp_path, SERVICE.format(more=', "db"', rule="all"), ["web", "db"]).run(T0, now)
    w.rows(
        "web",
        (T0, T0 + 10 * M, UP),
        (T0 + 10 * M, T0 + 13 * M + 30 * S, DOWN),
        (T0 + 13 * M + 30 * S, now + 20 * S, UP),
    )
    w.rows("db", (T0, now + 20 * S, UP))
    w.window("service", "shop", T0 + 11 * M, T0 + 11 * M + S, "a second", T0)
    rep = w.report(now, start=iso(T0), end=iso(now))
    for kind, key in (
        ("monitors", "web"),
        ("services", "shop"),
    ):  # a service window covers its members
        x = item(rep, kind, key)
        assert x["incident_count"] == 1, (kind, x["incidents"])  # old code: 2 for the service
        (inc,) = x["incidents"]
        assert inc["duration_seconds"] == 210 and inc["counted_seconds"] == 209
        assert x["mttr_seconds"] == 209


def test_a_members_own_window_splits_a_service_outage_only_where_the_service_is_up(tmp_path):
    """web is in its own maintenance for 30 s inside its outage: its incident stays one. It does
    not vote meanwhile: in "shop" (all of web and db) db says up, so shop recovered there (two
    incidents, as its own figures say); in "solo" (web alone) no member votes and one is in
    maintenance, the service's maintenance, which never splits an outage."""
    now = T0 + H
    body = (
        SERVICE.format(more=', "db"', rule="all")
        + '\n[[service]]\nid = "solo"\nmonitors = ["web"]\n'
    )
    w = World(tmp_path, body, ["web", "db"]).run(T0, now)
    w.rows(
        "web",
        (T0, T0 + 10 * M, UP),
        (T0 + 10 * M, T0 + 13 * M + 30 * S, DOWN),
        (T0 + 13 * M + 30 * S, now + 20 * S, UP),
    )
    w.rows("db", (T0, now + 20 * S, UP))
    w.window("monitor", "web", T0 + 12 * M, T0 + 12 * M + 30 * S, "half a minute", T0)
    rep = w.report(now, start=iso(T0), end=iso(now))
    (inc,) = item(rep, "monitors", "web")["incidents"]
    assert (inc["duration_seconds"], inc["counted_seconds"]) == (210, 180)
    (inc,) = item(rep, "services", "solo")["incidents"]
    assert (inc["duration_seconds"], inc["counted_seconds"]) == (210, 180)
    shop = item(rep, "services", "shop")
    assert [(i["duration_seconds"], i["counted_seconds"]) for i in shop["incidents"]] == [
        (120, 120),
        (60, 60),
    ]
    assert shop["maintenance_seconds"] == 0 and shop["down_seconds"] == 180


def test_a_service_outage_of_two_members_is_one_incident_from_the_first_failure(tmp_path):
    """rule any: down while both are down; one of them in maintenance does not vote."""
    now = T0 + H
    w = World(tmp_path, SERVICE.format(more=', "db"', rule="any"), ["web", "db"]).run(T0, now)
    w.rows(
        "web",
        (T0, T0 + 10 * M, UP),
        (T0 + 10 * M, T0 + 20 * M, DOWN),
        (T0 + 20 * M, now + 20 * S, UP),
    )
    w.rows(
        "db",
        (T0, T0 + 12 * M, UP),
        (T0 + 12 * M, T0 + 18 * M, DOWN),
        (T0 + 18 * M, now + 20 * S, UP),
    )
    w.window("monitor", "db", T0 + 14 * M, T0 + 15 * M, "db work", T0)
    svc = item(w.report(now, start=iso(T0), end=iso(now)), "services", "shop")
    (inc,) = svc["incidents"]
    assert (inc["start"], inc["end"]) == (iso(T0 + 12 * M), iso(T0 + 18 * M))
    # During db's maintenance only web votes, and it is down: that minute is down too.
    assert inc["counted_seconds"] == svc["down_seconds"] == 6 * M / S


# -- 6. a member that was never probed -------------------------------------------------------------


def test_service_counters_advance_with_a_member_never_probed(tmp_path):
    now = T0 + H
    body = SERVICE.format(more=', "new", "old"', rule="all")
    w = World(tmp_path, body, ["web", "new", "old"], disabled=("old",)).run(T0, now)
    w.rows(
        "web", (T0, T0 + 50 * M, UP), (T0 + 50 * M, now + 20 * S, DOWN)
    )  # its last probe: at now
    got = w.metrics(now, T0)
    svc = item(w.report(now, start=iso(T0), end=iso(now)), "services", "shop")
    assert (svc["up_seconds"], svc["down_seconds"]) == (3000, 600)
    # Old code: both 0, held back by the members without a verdict. The disabled one holds
    # nothing back; the one not probed yet only its first result's way to the database: its
    # timeout (4 s) and the writer's batch (1 s).
    assert got['uptimed_up_seconds_total{service="shop"}'] == 3000
    assert got['uptimed_down_seconds_total{service="shop"}'] == 600 - 5


# -- 7. the exclusions listed ----------------------------------------------------------------------


def test_exclusions_list_only_windows_that_changed_a_figure_of_the_report(tmp_path):
    now = T0 + 2 * D
    body = """[[maintenance]]
id = "other-nightly"
monitors = ["theirs"]
reason = "their nightly job"
rrule = "FREQ=DAILY;BYHOUR=3"
duration = "1h"
timezone = "UTC"

[[slo]]
id = "mine"
target = "mine"
objective = 99.9
window = "30d"
service_hours = { days = "mon-sun", from = "08:00", to = "18:00", timezone = "UTC" }
"""
    w = World(tmp_path, body, ["mine", "theirs"]).run(T0, now)
    w.rows("mine", (T0, now + 20 * S, UP)).rows("theirs", (T0, now + 20 * S, UP))
    secret = w.window(
        "monitor", "theirs", T0 + 5 * H, T0 + 6 * H, "emergency: their DB corrupted", now
    )
    night = w.window("monitor", "mine", T0 + 2 * H, T0 + 3 * H, "night work", now)
    day = w.window("monitor", "mine", T0 + 10 * H, T0 + 12 * H, "day work", now)
    overlap = w.window("monitor", "mine", T0 + 11 * H, T0 + 13 * H, "more day work", now)
    future = w.window("monitor", "mine", now + H, now + 2 * H, "planned", now - 10 * M)
    adhoc.end(w.conn, future, now - 5 * M)  # not begun: cancelled
    rep = w.report(now, monitors=["mine"])
    listed = {x["id"]: x for x in rep["exclusions"]}
    assert set(listed) == {night, day, overlap}  # not theirs, not the cancelled one
    assert "corrupted" not in str(rep) and "other-nightly" not in str(rep)
    assert listed[day]["overlaps"] == [overlap] and listed[overlap]["overlaps"] == [day]
    assert listed[night]["overlaps"] == []
    # The SLO's own list: only what excluded time inside its service hours.
    assert {x["id"] for x in slo_of(rep, "mine")["exclusions"]} == {day, overlap}
    for fmt in ("markdown", "html"):
        text = render(w.model(now, monitors=["mine"]), fmt)
        assert "corrupted" not in text and "their nightly job" not in text, fmt
        slo_part, listed_part = text.split("Maintenance and other exclusions applied")
        assert (
            "night work" not in slo_part and "day work" in slo_part and "night work" in listed_part
        ), fmt
    # A cancelled window is in no list, and its row stays (the audit trail).
    assert future not in [x.id for x in adhoc.windows(w.conn, None)]
    assert [x.id for x in adhoc.windows(w.conn, cancelled=True)] == [future]
    # theirs, reported: their windows, cut to the report
    rep = w.report(now, monitors=["theirs"])
    assert {x["id"] for x in rep["exclusions"]} == {secret, "other-nightly"}


def test_a_window_on_another_customers_service_is_listed_by_the_shared_member_only(tmp_path):
    now = T0 + D
    body = """[[service]]
id = "acme-svc"
monitors = ["acme-web", "shared"]

[[service]]
id = "globex-svc"
monitors = ["globex-web", "shared"]

[[slo]]
id = "acme-sla"
target = "acme-svc"
objective = 99.9
window = "1d"
"""
    w = World(tmp_path, body, ["acme-web", "globex-web", "shared"]).run(T0, now)
    for key in ("acme-web", "globex-web", "shared"):
        w.rows(key, (T0, now + 20 * S, UP))
    mid = w.window(
        "service", "globex-svc", T0 + H, T0 + 2 * H, "globex: migrating their billing DB", now
    )
    rep = w.report(now, slos=["acme-sla"])
    (x,) = rep["exclusions"]
    assert (x["id"], x["monitors"], x["services"], x["reason"]) == (mid, ["shared"], [], None)
    assert "globex" not in str(rep["exclusions"]) and "globex" not in str(rep["slos"])
    # Reported on globex's own service, it is theirs: named and with its reason.
    (x,) = w.report(now, services=["globex-svc"])["exclusions"]
    assert (x["services"], x["reason"]) == (["globex-svc"], "globex: migrating their billing DB")


# -- 11. no verdict on thin data -------------------------------------------------------------------


def test_thin_coverage_is_insufficient_data_never_met(tmp_path):
    now = T0 + 10 * D
    body = """[[slo]]
id = "sla"
target = "web"
objective = 99.9
window = "10d"
credits = [{ below = 99.9, credit = 10 }]
"""
    w = World(tmp_path, body, ["web"]).run(now - H, now).rows("web", (now - H, now + 20 * S, UP))
    s = slo_of(w.report(now), "sla")
    assert s["coverage"] == pytest.approx(1 / 240)
    assert (s["verdict"], s["met"], s["credit"], s["min_coverage"]) == (
        "insufficient data",
        None,
        None,
        0.9,
    )
    assert s["attainment"] == 1.0  # the figure stays; it is only not a verdict


def _fig(up: int, down: int, unknown: int) -> sla.Figures:
    tl = sla.StateTimeline(((0, up),) if up else (), ((up, up + down),) if down else ())
    return sla.figures(tl, (), (0, up + down + unknown))


@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 100))
def test_verdicts_against_the_coverage_minimum(up, down, unknown, minimum):
    ev = sla.evaluate(_fig(up, down, unknown), Decimal(99), Policy(), (), Decimal(minimum))
    known, total = up + down, up + down + unknown
    if not known:
        assert ev.verdict == "no data"
    elif known * 100 < minimum * total:
        assert ev.verdict == "insufficient data" and ev.met is None and ev.credit is None
    else:
        assert ev.verdict == ("met" if up * 100 >= 99 * known else "missed") and ev.met == (
            ev.verdict == "met"
        )


# -- hypothesis: services against a brute-force reference ------------------------------------------

SPAN = 400  # ms


@st.composite
def member_rows(draw):
    """Rows as the state machine writes them: sorted, touching or with gaps."""
    t, rows = draw(st.integers(0, 40)), []
    for _ in range(draw(st.integers(0, 6))):
        n = draw(st.integers(1, 120))
        rows.append((t, t + n, draw(st.sampled_from([UP, DOWN]))))
        t += n + draw(st.sampled_from([0, 0, 0, 5, 30]))
    return rows


spans = st.lists(st.tuples(st.integers(0, SPAN), st.integers(1, 80)), max_size=3).map(
    lambda xs: normalize([(s, s + n) for s, n in xs])
)


def _inside(t: int, ivs) -> bool:
    return any(a <= t < b for a, b in ivs)


def _state_at(rows, t):
    for s, e, st_ in rows:
        if s <= t < e:
            return st_
    return None


def _service_down(states, rule, k):
    voters = [x for x in states if x is not None]
    if not voters:
        return None
    n_down = voters.count(DOWN)
    return n_down >= 1 if rule == "all" else n_down == len(voters) if rule == "any" else n_down >= k


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    members=st.lists(member_rows(), min_size=1, max_size=3),
    gaps=spans,
    member_maint=st.lists(spans, min_size=3, max_size=3),
    service_maint=spans,
    rule=st.sampled_from(["all", "any", "quorum"]),
    k=st.integers(1, 3),
    window=st.tuples(st.integers(0, SPAN), st.integers(0, SPAN)).map(sorted),
)
def test_service_incidents_match_a_per_ms_reference(
    members, gaps, member_maint, service_maint, rule, k, window
):
    """One confirmed outage (the rule over the members' rows as written) is one incident,
    whatever restarts (gaps in the runs) and maintenance lie inside it; its counted time is
    the service's downtime inside it, in the window."""
    n = len(members)
    cover = _subtract_gaps((0, SPAN + 200), gaps)
    now = SPAN + 100
    parts = [sla.monitor_parts(rows, cover) for rows in members]
    mm = [normalize(list(member_maint[i]) + list(service_maint)) for i in range(n)]
    tl = sla.service_timeline([p[0] for p in parts], mm, rule, k)
    outages = sla.service_outages([p[2] for p in parts], mm, rule, k)
    maint = normalize(list(service_maint) + list(tl.maintenance))
    got = sla.incidents(
        [(s, e, None) for s, e in outages], sla.counted_down(tl, maint, tuple(window)), now
    )

    # Reference, one millisecond at a time. Over the rows as written (no runs), a member in
    # maintenance does not vote; an outage is a run of down-or-maintenance time (maintenance:
    # no voter, one in maintenance) holding downtime, from its first down instant to its last.
    raw_down = []
    for t in range(SPAN + 200):
        votes = [
            None if _inside(t, mm[i]) else _state_at(rows, t) for i, rows in enumerate(members)
        ]
        d = _service_down(votes, rule, k)
        in_maint = d is None and any(_inside(t, mm[i]) for i in range(n))
        raw_down.append("down" if d else "maint" if in_maint else None)
    counted = []
    for t in range(SPAN + 200):
        states = []
        for i, rows in enumerate(members):
            in_cover = _inside(t, cover)
            states.append(None if not in_cover or _inside(t, mm[i]) else _state_at(rows, t))
        d = _service_down(states, rule, k)
        counted.append(bool(d) and not _inside(t, service_maint) and window[0] <= t < window[1])
    want = []
    t = 0
    while t < len(raw_down):
        if raw_down[t]:
            s = t
            while t < len(raw_down) and raw_down[t]:
                t += 1
            downs = [u for u in range(s, t) if raw_down[u] == "down"]
            c = sum(counted[s:t])
            if downs and c:
                first, last = downs[0], downs[-1] + 1
                want.append(
                    (first, last if last <= now else None, c)
                )  # ongoing past now: no end yet
        else:
            t += 1
    # incidents: (start, end, duration_ms, counted_ms, cause)
    assert [(start, end, c) for start, end, _, c, _ in got] == want
    assert sum(i[3] for i in got) == sum(counted)  # every counted second is in an incident


def _subtract_gaps(run, gaps):
    out, t = [], run[0]
    for a, b in gaps:
        if a > t:
            out.append((t, a))
        t = max(t, b)
    if t < run[1]:
        out.append((t, run[1]))
    return out


# -- hypothesis: SLO windows, terms and periods to date --------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    now=st.integers(T0, T0 + 90 * D),
    kind=st.sampled_from(["window", "period", "report"]),
    term=st.tuples(
        st.none() | st.integers(T0 - 40 * D, T0 + 100 * D),
        st.none() | st.integers(T0 - 40 * D, T0 + 100 * D),
    ),
    length=st.integers(1, 40 * D),
)
def test_slo_windows_stay_inside_the_term_and_before_now(now, kind, term, length):
    lo_t, hi_t = term
    body = '[[slo]]\nid = "s"\ntarget = "m"\nobjective = 99\n'
    if kind == "window":
        body += f'window = "{length // S}s"\n' if length >= S else 'window = "1s"\n'
    else:
        body += 'period = "month"\n'
    if lo_t is not None:
        body += f'effective_from = "{iso(lo_t)}"\n'
    if hi_t is not None and (lo_t is None or hi_t > lo_t):
        body += f'effective_until = "{iso(hi_t)}"\n'
    text = (
        '[daemon]\ndatabase = "x.db"\n'
        '[[monitor]]\nid = "m"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n' + body
    )
    s = loads_config(text, "t.toml").slos[0]
    report = resolve_window(now, window="7d") if kind == "report" else None
    w = slo_window(s, now, report)
    term_end = None if s.effective_until is None else int(s.effective_until.timestamp() * 1000)
    begin = w.period_start if lo_t is None else max(w.period_start, lo_t)
    finish = min(w.period_end, now, now if term_end is None else term_end)
    if finish > begin:
        assert (w.start, w.end) == (begin, finish)
    else:  # nothing to evaluate: an empty window, never one that counts the future
        assert w.start == w.end and (w.end <= now or w.start == begin)
    assert w.to_date == (w.period_end > now and (term_end is None or term_end > now))
    for length_ms in sla_burn_lengths():
        bw = w.burn_window(length_ms)
        if bw is None:  # not begun, or no time of the term in it
            assert (
                w.period_start >= now
                or (lo_t is not None and lo_t >= min(w.period_end, now))
                or (term_end is not None and term_end <= min(w.period_end, now) - length_ms)
                or (lo_t is not None and term_end is not None and term_end <= lo_t)
            )
            continue
        a, b = bw
        assert a < b <= min(w.period_end, now) and b - a <= length_ms
        assert (lo_t is None or a >= lo_t) and (term_end is None or b <= term_end)


def sla_burn_lengths():
    from uptimed.core.sla import BURN_WINDOWS

    return BURN_WINDOWS.values()


def test_figures_of_a_window_to_date_equal_those_of_the_elapsed_part(tmp_path):
    """unknown = "down" over a month to date: nothing of the future is counted down."""
    now = T0 + 3 * D
    body = (
        '[[slo]]\nid = "s"\ntarget = "web"\nobjective = 99.9\nperiod = "month"\n'
        'policy = { unknown = "down" }\n'
    )
    w = World(tmp_path, body, ["web"]).run(T0 + D, now).rows("web", (T0 + D, now + 20 * S, UP))
    s = slo_of(w.report(now), "s")
    assert s["unknown_seconds"] == D / S and s["up_seconds"] == 2 * D / S
    assert s["attainment"] == pytest.approx(2 / 3)
    data = History(connect(str(w.path), readonly=True), w.config, T0, now, now)
    fig = Targets(data).figures("monitor", "web", (T0, now))
    assert (fig.up_ms, fig.unknown_ms) == (2 * D, D)


# -- from a review: terms that ended, periods not begun in an SLO's zone, outages at the edges ----


def test_an_agreement_that_ended_shows_no_burn_rates_and_reads_nothing_old(tmp_path):
    now = T0 + 60 * D
    body = f"""[[slo]]
id = "ended"
target = "web"
objective = 99.9
window = "30d"
effective_until = "{iso(T0 + 10 * D)}"
"""
    w = World(tmp_path, body, ["web"]).run(T0, now)
    w.rows(
        "web",
        (T0, T0 + 9 * D, UP),
        (T0 + 9 * D, T0 + 10 * D, DOWN),
        (T0 + 10 * D, now + 20 * S, UP),
    )
    s = slo_of(w.report(now), "ended")
    assert s["verdict"] == "no data" and s["from"] == s["to"]
    assert set(s["burn_rates"].values()) == {None}  # not the last rates, frozen for ever
    got = w.metrics(now, T0)
    assert not [k for k in got if k.startswith("uptimed_slo_burn_rate")]
    sw = slo_window(w.config.slos[0], now)
    assert data_range([(now - H, now)], [sw]) == (now - H, now)  # the old term is not read


def test_a_period_that_has_not_begun_in_the_slos_zone_is_empty(tmp_path):
    now = T0 + 30 * D + 2 * H  # 2026-12-01T02:00Z: December in UTC, still November in Los Angeles
    body = """[[slo]]
id = "la"
target = "web"
objective = 99.9
period = "month"
timezone = "America/Los_Angeles"
"""
    w = World(tmp_path, body, ["web"]).run(T0, now)
    w.rows(
        "web",
        (T0, T0 + 29 * D, UP),
        (T0 + 29 * D, T0 + 29 * D + H, DOWN),
        (T0 + 29 * D + H, now + 20 * S, UP),
    )
    s = slo_of(w.report(now, period="month", at="2026-12"), "la")
    start = T0 + 30 * D + 8 * H  # midnight in Los Angeles
    assert (s["from"], s["to"], s["verdict"]) == (iso(start), iso(start), "no data")
    assert set(s["burn_rates"].values()) == {None}  # November's outage is not December's burn
    assert s["length_seconds"] == 31 * D / S


def test_a_service_outage_across_the_window_start_keeps_its_true_start(tmp_path):
    now = T0 + D
    w = World(tmp_path, SERVICE.format(more=', "db"', rule="any"), ["web", "db"]).run(T0, now)
    w.rows(
        "web",
        (T0, T0 + 10 * H, UP),
        (T0 + 10 * H, T0 + 20 * H, DOWN),
        (T0 + 20 * H, now + 20 * S, UP),
    )
    w.rows(
        "db",
        (T0, T0 + 15 * H, UP),
        (T0 + 15 * H, T0 + 17 * H, DOWN),
        (T0 + 17 * H, now + 20 * S, UP),
    )
    for lo, hi in ((16 * H, 24 * H), (10 * H, 16 * H), (16 * H, 16 * H + 30 * M)):
        svc = item(w.report(now, start=iso(T0 + lo), end=iso(T0 + hi)), "services", "shop")
        (inc,) = svc["incidents"]
        assert (inc["start"], inc["end"]) == (iso(T0 + 15 * H), iso(T0 + 17 * H)), (lo, hi)
