"""Response and resolution objectives (:mod:`uptimed.core.response`): against a brute force
that walks every millisecond of small random incidents (hypothesis); then through a real SQLite
file, the report (a grouped incident takes its group's acknowledgement, the scope filters) and
every report format.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from uptimed.config import loads_config
from uptimed.core.response import evaluate
from uptimed.model.config import SEVERITIES, ResponseObjective
from uptimed.model.report import ACKNOWLEDGE, RESOLVE, Handling
from uptimed.model.report import Window as ReportWindow
from uptimed.render.report import FORMATS, render
from uptimed.service.report import build_report
from uptimed.service.window import resolve_scope
from uptimed.store import incidents as table
from uptimed.store.schema import migrate

# -- the pure function against a brute force ---------------------------------------------------

T = 40  # ms: every time lies in [0, T + 20], so that times often coincide


@st.composite
def handling(draw: Any, n: int) -> Handling:
    start = draw(st.integers(0, T - 1))
    confirmed = draw(st.integers(start, T))
    resolved = draw(st.none() | st.integers(confirmed, T + 20))
    acknowledged = draw(st.none() | st.integers(confirmed, T + 20))
    return Handling(
        f"inc-{n}", "monitor", f"m{n % 3}", draw(st.sampled_from(SEVERITIES)), start, confirmed,
        acknowledged, resolved,
    )  # fmt: skip


@st.composite
def incidents(draw: Any) -> list[Handling]:
    return [draw(handling(n)) for n in range(draw(st.integers(0, 6)))]


objective = st.builds(
    ResponseObjective,
    st.sampled_from(SEVERITIES),
    st.none() | st.integers(0, 25).map(lambda ms: ms / 1000),
    st.none() | st.integers(0, 25).map(lambda ms: ms / 1000),
)


def brute(hs: list[Handling], objectives: list[ResponseObjective], now: int) -> dict[str, Any]:
    """Per severity, by walking the milliseconds: an objective is missed when at some instant
    after its time ran out (and before ``now``) the incident still waited for it."""
    by = {o.severity: o for o in objectives}
    out: dict[str, Any] = {}
    for sev in SEVERITIES:
        mine = [h for h in hs if h.severity == sev and h.start <= now]
        if not mine and sev not in by:
            continue
        o = by.get(sev)
        acked, fixed, missed = [], [], []
        for h in mine:
            open_at = [h.resolved is None or t < h.resolved for t in range(T + 30)]
            ack = h.acknowledged
            # acknowledged while open: at the moment of the ack it had not resolved before it
            if ack is not None and ack <= now and (h.resolved is None or ack <= h.resolved):
                acked.append(sum(1 for t in range(h.confirmed, ack)))
            if h.resolved is not None and h.resolved <= now:
                fixed.append(sum(1 for t in range(h.start, h.resolved)))
            waiting_ack = [
                open_at[t]
                and (ack is None or t < ack or (h.resolved is not None and ack > h.resolved))
                for t in range(T + 30)
            ]
            if o is not None and o.acknowledge is not None:
                deadline = h.confirmed + round(o.acknowledge * 1000)
                if any(waiting_ack[t] for t in range(deadline, min(now, T + 30))):
                    missed.append((h.id, ACKNOWLEDGE))
            if o is not None and o.resolve is not None:
                deadline = h.start + round(o.resolve * 1000)
                if any(open_at[t] for t in range(deadline, min(now, T + 30))):
                    missed.append((h.id, RESOLVE))
        out[sev] = {
            "incidents": len(mine),
            "mtta": sum(acked) / len(acked) if acked else None,
            "mttr": sum(fixed) / len(fixed) if fixed else None,
            "missed": sorted(missed),
        }
    return out


@settings(max_examples=1500, deadline=None)
@given(incidents(), st.lists(objective, max_size=3, unique_by=lambda o: o.severity),
       st.integers(0, T + 10))  # fmt: skip
def test_against_walking_every_millisecond(
    hs: list[Handling], objectives: list[ResponseObjective], now: int
) -> None:
    got = evaluate(hs, objectives, now)
    want = brute(hs, objectives, now)
    assert [s.severity for s in got.severities] == list(want)  # most severe first
    for s in got.severities:
        w = want[s.severity]
        assert (s.incidents, s.mtta, s.mttr) == (w["incidents"], w["mtta"], w["mttr"])
        mine = sorted((m.incident.id, m.objective) for m in got.missed if
                      m.incident.severity == s.severity)  # fmt: skip
        assert mine == w["missed"]
        assert (s.missed_acknowledge, s.missed_resolve) == (
            sum(k == ACKNOWLEDGE for _, k in mine),
            sum(k == RESOLVE for _, k in mine),
        )
    for m in got.missed:  # what a miss says it took
        h = m.incident
        if m.objective == ACKNOWLEDGE:
            a = h.acknowledged
            answered = a is not None and a <= now and (h.resolved is None or a <= h.resolved)
            assert m.took == (a - h.confirmed if answered and a is not None else None)
        if m.objective == RESOLVE:
            assert m.took == (
                None if h.resolved is None or h.resolved > now else h.resolved - h.start
            )
            assert m.took is None or m.took > m.allowed


def test_the_edges() -> None:
    critical = [ResponseObjective("critical", 900.0, 4 * 3600.0)]
    h = Handling("i", "monitor", "db", "critical", 0, 60_000, 960_000, 4 * 3_600_000 + 60_000)
    # acknowledged exactly 15 minutes after the confirmation: met; resolved 4h + 1m after the
    # start: missed, having taken 4h01m
    r = evaluate([h], critical, 10 * 3_600_000)
    assert [(m.objective, m.took) for m in r.missed] == [(RESOLVE, 4 * 3_600_000 + 60_000)]
    assert r.severities[0].mtta == 900_000 and r.severities[0].mttr == 4 * 3_600_000 + 60_000
    # resolved before anyone acknowledged, within the 15 minutes: nothing to acknowledge
    quick = Handling("q", "monitor", "db", "critical", 0, 60_000, None, 300_000)
    assert evaluate([quick], critical, 10**9).missed == ()
    # acknowledged after it resolved: counts as never acknowledged
    late = Handling("l", "monitor", "db", "critical", 0, 60_000, 3_600_000, 2_000_000)
    r = evaluate([late], critical, 10**9)
    assert [(m.objective, m.took) for m in r.missed] == [(ACKNOWLEDGE, None)]
    assert r.severities[0].acknowledged == 0 and r.severities[0].mtta is None
    # still open: missed once its time ran out, not before
    ongoing = Handling("o", "monitor", "db", "critical", 0, 60_000, None, None)
    assert evaluate([ongoing], critical, 960_000).missed == ()
    assert [m.objective for m in evaluate([ongoing], critical, 960_001).missed] == [ACKNOWLEDGE]
    # a severity without objective and without incidents is not shown; one with either is
    r = evaluate([Handling("m", "service", "shop", "minor", 0, 0, None, 5)], critical, 10)
    assert [(s.severity, s.incidents, s.objective) for s in r.severities] == [
        ("critical", 0, critical[0]),
        ("minor", 1, None),
    ]


# -- through a database, the report and its formats ---------------------------------------------

CONFIG = """
[daemon]
database = "{db}"

[response]
critical = {{ acknowledge = "15m", resolve = "4h" }}
major = {{ resolve = "1d" }}

[[monitor]]
id = "db"
kind = "tcp"
host = "127.0.0.1"
port = 9
severity = "critical"

[[monitor]]
id = "web"
kind = "tcp"
host = "127.0.0.1"
port = 9

[[escalation]]
id = "group"
group = true
levels = [{{ after = "0s", notify = ["ops"] }}]

[[notifier]]
id = "ops"
kind = "webhook"
url = "http://127.0.0.1:9/hook"

[[service]]
id = "shop"
monitors = ["db", "web"]
escalation = "group"
severity = "critical"
"""

H = 3_600_000
DAY = 24 * H
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def database(tmp_path: Path, rows: list[table.Incident]) -> sqlite3.Connection:
    path = tmp_path / "u.db"
    migrate(sqlite_utils.Database(str(path)))
    conn = sqlite3.connect(path)
    with conn:
        for row in rows:
            table.insert(conn, row)
    return conn


def incident(ident: str, kind: str, target: str, severity: str, start: int, **kw: Any) -> Any:
    return table.Incident(ident, kind, target, start, kw.pop("confirmed", start), severity, **kw)


@pytest.fixture
def report_of(tmp_path: Path) -> Any:
    config = loads_config(CONFIG.format(db=tmp_path / "u.db"), str(tmp_path / "c.toml"))
    rows = [
        # the service's outage: acknowledged 20 minutes after its confirmation (missed)
        incident("inc-shop", "service", "shop", "critical", T0 + H, confirmed=T0 + H + 60_000,
                 ack_at=T0 + H + 21 * 60_000, ack_by="ann", resolved=T0 + 2 * H),
        # its member's, grouped under it: the group's acknowledgement is its own (missed too)
        incident("inc-db", "monitor", "db", "critical", T0 + H, confirmed=T0 + H + 60_000,
                 quiet="grouped",
                 group_id="inc-shop", resolved=T0 + 2 * H),
        # a major one that took 25 hours (missed), and one of the month before (not counted)
        incident("inc-web", "monitor", "web", "major", T0 + 3 * H, resolved=T0 + 28 * H),
        incident("inc-old", "monitor", "web", "major", T0 - DAY, resolved=T0 - DAY + H),
    ]  # fmt: skip
    conn = database(tmp_path, rows)

    def report(**scope: Any) -> Any:
        return build_report(
            conn, config, resolve_scope(config, **scope), ReportWindow(T0, T0 + 31 * DAY),
            T0 + 31 * DAY,
        )  # fmt: skip

    return report


def test_the_report_counts_the_incidents_that_began_in_it(report_of: Any) -> None:
    r = report_of().response
    assert r is not None
    by = {s.severity: s for s in r.severities}
    assert list(by) == ["critical", "major"]
    assert (by["critical"].incidents, by["critical"].mtta) == (2, 20 * 60_000)
    assert (by["critical"].missed_acknowledge, by["critical"].missed_resolve) == (2, 0)
    assert (by["major"].incidents, by["major"].mttr, by["major"].missed_resolve) == (1, 25 * H, 1)
    assert [(m.incident.id, m.objective) for m in r.missed] == [
        ("inc-db", ACKNOWLEDGE), ("inc-shop", ACKNOWLEDGE), ("inc-web", RESOLVE),
    ]  # fmt: skip
    # the scope: a report of web alone has web's incident only
    only_web = report_of(monitors=["web"]).response
    assert [m.incident.id for m in only_web.missed] == ["inc-web"]


def test_every_format_shows_it(report_of: Any) -> None:
    report = report_of()
    doc = json.loads(render(report, "json"))["response"]
    critical = doc["severities"][0]
    assert critical == {
        "severity": "critical", "acknowledge_within_seconds": 900.0,
        "resolve_within_seconds": 14400.0, "incidents": 2, "acknowledged": 2, "resolved": 2,
        "mtta_seconds": 1200.0, "mttr_seconds": 3600.0, "missed_acknowledge": 2,
        "missed_resolve": 0,
    }  # fmt: skip
    assert doc["missed"][2] == {
        "incident": "inc-web", "target": "web", "target_kind": "monitor", "severity": "major",
        "objective": "resolve", "allowed_seconds": 86400.0, "took_seconds": 90000.0,
        "start": "2026-01-01T03:00:00Z", "confirmed": "2026-01-01T03:00:00Z",
        "acknowledged": None, "resolved": "2026-01-02T04:00:00Z",
    }  # fmt: skip
    for fmt in FORMATS:
        out = render(report, fmt)
        if fmt == "csv":  # a row per severity
            row = next(ln for ln in out.splitlines() if ln.startswith("response,critical,"))
            # its counts in the monitors' columns where they share a name (incidents, MTTR)
            assert row.endswith(",critical,900.0,14400.0,2,2,1200.0,2,0"), row
            continue
        if fmt == "json":
            continue  # above
        for word in ("inc-shop", "inc-web", "20m00s", "1d01h", "15m00s"):
            assert word in out, (fmt, word)
        assert "inc-old" not in out, fmt


def test_without_objectives_or_incident_table_there_is_no_section(tmp_path: Path) -> None:
    text = CONFIG.split("[response]")[0] + CONFIG.split('resolve = "1d" }}', 1)[1]
    config = loads_config(text.format(db=tmp_path / "u.db"), str(tmp_path / "c.toml"))
    assert config.response == ()
    conn = database(tmp_path, [])
    report = build_report(conn, config, resolve_scope(config), ReportWindow(T0, T0 + H), T0 + H)
    assert report.response is None
    assert json.loads(render(report, "json"))["response"] is None
    assert "RESPONSE" not in render(report, "table")
