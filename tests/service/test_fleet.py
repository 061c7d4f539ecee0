"""The fleet report's figures: the location quorum against a brute-force vote count at every
instant (hypothesis), and real SQLite files written through the real Store, read by the real
fleet report (``uptimed.service.fleet``) and compared with one database's report where they
must agree.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uptimed.config import loads_config
from uptimed.core import sla
from uptimed.core.intervals import Interval, normalize
from uptimed.core.quorum import effective_quorum, fleet_parts, known_span
from uptimed.core.state import DOWN, UP, Segment, Snapshot
from uptimed.model.config import Config
from uptimed.render.json import report_json
from uptimed.service import fleet
from uptimed.service.report import build_report
from uptimed.service.window import resolve_scope, resolve_window
from uptimed.store import Store, adhoc, connect

# -- the pure quorum against a brute-force vote count -----------------------------------------

N = 40  # time runs over [0, N); every boundary is an integer, so each unit is one category

cell = st.sampled_from([UP, DOWN, None])  # None: no row there


@st.composite
def location(draw: Any) -> tuple[list[tuple[int, int, int, str]], list[Interval]]:
    """One location's rows (runs of equal cells, none where a cell is None) and its cover."""
    cells = draw(st.lists(cell, min_size=N, max_size=N))
    rows: list[tuple[int, int, int, str]] = []
    for t, c in enumerate(cells):
        if c is None:
            continue
        if rows and rows[-1][1] == t and rows[-1][2] == c:
            rows[-1] = (rows[-1][0], t + 1, c, rows[-1][3])
        else:
            rows.append((t, t + 1, c, f"cause{t}"))
    covered = draw(st.lists(st.booleans(), min_size=N, max_size=N))
    cover = normalize([(t, t + 1) for t, c in enumerate(covered) if c])
    return rows, cover


def at(rows: list[tuple[int, int, int, str]], t: int) -> int | None:
    return next((r[2] for r in rows if r[0] <= t < r[1]), None)


def brute(
    locations: list[tuple[list[tuple[int, int, int, str]], list[Interval]]],
    k: int,
    maint: set[int],
    window: Interval,
) -> tuple[dict[str, int], list[tuple[int, int, int]]]:
    """Each unit's category by counting votes, and the incidents: stretches where the rows as
    written (no cover, no maintenance) reach the quorum, with their counted time."""
    q = max(1, min(k, len(locations)))
    counts = {"up": 0, "down": 0, "maintenance": 0, "unknown": 0}
    counted_down: set[int] = set()
    for t in range(*window):
        if t in maint:
            counts["maintenance"] += 1
            continue
        votes = [
            at(rows, t)
            for rows, cover in locations
            if any(a <= t < b for a, b in cover) and at(rows, t) is not None
        ]
        if not votes:
            counts["unknown"] += 1
        elif votes.count(DOWN) >= q:
            counts["down"] += 1
            counted_down.add(t)
        else:
            counts["up"] += 1
    raw_down = [
        sum(at(rows, t) == DOWN for rows, _ in locations) >= q
        and any(at(rows, t) is not None for rows, _ in locations)
        for t in range(N)
    ]
    incidents = []
    t = 0
    while t < N:
        if raw_down[t]:
            s = t
            while t < N and raw_down[t]:
                t += 1
            n = sum(1 for u in range(s, t) if u in counted_down)
            if n:
                incidents.append((s, t, n))
        else:
            t += 1
    return counts, incidents


@settings(max_examples=400, deadline=None)
@given(
    st.lists(location(), min_size=1, max_size=4),
    st.integers(1, 5),
    st.sets(st.integers(0, N - 1), max_size=10),
    st.integers(0, N - 1),
    st.integers(1, N),
)
def test_the_fleet_figures_are_the_vote_count_at_every_instant(
    locations: list[Any], k: int, maint: set[int], w0: int, length: int
) -> None:
    window = (w0, min(N, w0 + length))
    parts = [sla.monitor_parts(rows, cover) for rows, cover in locations]
    tl, downs, _ = fleet_parts(parts, k)
    m = normalize([(t, t + 1) for t in maint])
    found = sla.incidents(downs, sla.counted_down(tl, m, window), 10 * N)
    fig = sla.figures(tl, m, window, incidents=found)
    counts, incidents = brute(locations, k, maint, window)
    got = {"up": fig.up_ms, "down": fig.down_ms, "maintenance": fig.maintenance_ms}
    got["unknown"] = fig.unknown_ms
    assert got == counts
    assert [(i[0], i[1], i[3]) for i in found] == incidents
    # The cause: that of a location's DOWN row under way where the outage begins.
    for inc in found:
        assert inc[4] is not None and inc[4].startswith("cause")


@settings(max_examples=200, deadline=None)
@given(location(), st.integers(1, 4), st.integers(1, 5))
def test_locations_that_all_saw_the_same_have_the_figures_of_one(loc: Any, n: int, k: int) -> None:
    rows, cover = loc
    one = sla.monitor_parts(rows, cover)
    tl, downs, raw = fleet_parts([one] * n, k)
    for window in ((0, N), (5, 17)):
        a = sla.figures(one[0], [], window, incidents=sla.incidents(one[1], one[0].down, 99))
        b = sla.figures(tl, [], window, incidents=sla.incidents(downs, tl.down, 99))
        assert a == b


def test_the_quorum_is_capped_at_the_locations_that_hold_the_monitor() -> None:
    assert effective_quorum(3, 2) == 2 and effective_quorum(2, 5) == 2
    assert effective_quorum(1, 0) == 1
    with pytest.raises(ValueError):
        effective_quorum(0, 2)


def test_the_quorum_is_known_where_every_location_s_rows_were_read() -> None:
    # fra1's first row starts before the read, ams1's first after it (its earlier rows, if any,
    # end before the read: unknown there); fra1's last ends after, ams1's before its end (no
    # later row starts before 40; after 40 one may).
    assert known_span([[(5, 20), (20, 50)], [(12, 30)]], (10, 40)) == (10, 40)
    assert known_span([[(5, 20), (20, 50)], [(9, 45)]], (10, 40)) == (9, 45)
    assert known_span([[(5, 20)], [(8, 45)]], (10, 40)) == (8, 40)
    assert known_span([[(5, 20)], []], (10, 40)) == (10, 40)


# -- real databases -----------------------------------------------------------------------------

S = 1000
M = 60 * S
H = 60 * M

CONFIG = """
[daemon]
database = "{db}"
{shard}

[[monitor]]
id = "web"
kind = "tcp"
host = "127.0.0.1"
port = 9

[[monitor]]
id = "api"
kind = "tcp"
host = "127.0.0.1"
port = 9

[[monitor]]
id = "db"
kind = "tcp"
host = "127.0.0.1"
port = 9

[[service]]
id = "shop"
monitors = ["web", "api"]

[[service]]
id = "all3"
monitors = ["web", "api", "db"]
rule = "quorum"
quorum = 2

[[slo]]
id = "web-slo"
target = "web"
objective = 99.9
window = "1d"

[[slo]]
id = "shop-slo"
target = "shop"
objective = 99.5
window = "1d"
"""

Rows = dict[str, list[tuple[int, int, int] | tuple[int, int, int, str]]]


def write(
    path: Path,
    location: str | None,
    run: Interval,
    rows: Rows,
    *,
    shard: str | None = None,
    windows: tuple[tuple[str, str, int, int, str], ...] = (),
) -> None:
    """A database as a daemon at ``location`` leaves it after ``run``: written through the real
    Store (its schema, its run journal, its timeline writes), then closed cleanly."""
    clock = [run[0] / 1000]
    store = Store(str(path), wall=lambda: clock[0], flush_interval=0.01)
    store.open()
    ids = store.register_monitors([(m, "tcp", m) for m in rows])
    store.start(version="test", config_sha256="c0ffee", location=location, shard=shard)
    for key, segs in rows.items():
        if segs:
            store.record_state(ids[key], [Segment(*r) for r in segs], Snapshot())
    for kind, target, s, e, reason in windows:
        args = (kind, target, s, e, reason, "test", s)  # added when it began
        store.call(lambda conn, a=args: adhoc.add(conn, *a))
    deadline = time.monotonic() + 10
    while store.queue_depth and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    clock[0] = run[1] / 1000
    store.close()


def config_for(tmp_path: Path, shard: str = "", *, slos: bool = True) -> Config:
    text = CONFIG.format(db=tmp_path / "default.db", shard=shard)
    if not slos:  # an SLO makes the report read back over its burn windows (3 days)
        text = text.split("[[slo]]")[0]
    return loads_config(text, str(tmp_path / "c.toml"))


def fleet_report(
    config: Config, paths: list[Path], now: int, quorum: int, **window: str
) -> dict[str, Any]:
    scope = resolve_scope(config)
    with fleet.reading_all([str(p) for p in paths]) as dbs:
        rep = fleet.build_fleet_report(
            dbs, config, scope, resolve_window(now, **window), now, quorum
        )
    return report_json(rep)


def single_report(config: Config, path: Path, now: int, **window: str) -> dict[str, Any]:
    conn = connect(str(path), readonly=True)
    try:
        rep = build_report(conn, config, resolve_scope(config), resolve_window(now, **window), now)
    finally:
        conn.close()
    return report_json(rep)


def item(rep: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    return next(x for x in rep[kind] if x["id"] == key)


NOW = (int(time.time()) // 3600 - 1) * H  # whole hours: readable times
T = NOW - 4 * H


def two_locations(tmp_path: Path) -> tuple[Path, Path]:
    """fra1 sees web down for 10 minutes at T+1h (timeout) and api down at T+2h for 5; ams1
    sees web down at T+1h05 for 10 minutes (refused), never api. db: fra1 only."""
    fra1, ams1 = tmp_path / "fra1.db", tmp_path / "ams1.db"
    end = NOW + 5 * S  # the last verdict holds a little past now
    write(fra1, "fra1", (T, NOW), {
        "web": [(T, T + H, UP), (T + H, T + H + 10 * M, DOWN, "timeout"),
                (T + H + 10 * M, end, UP)],
        "api": [(T, T + 2 * H, UP), (T + 2 * H, T + 2 * H + 5 * M, DOWN, "refused"),
                (T + 2 * H + 5 * M, end, UP)],
        "db": [(T, end, UP)],
    })  # fmt: skip
    write(ams1, "ams1", (T, NOW), {
        "web": [(T, T + H + 5 * M, UP), (T + H + 5 * M, T + H + 15 * M, DOWN, "refused"),
                (T + H + 15 * M, end, UP)],
        "api": [(T, end, UP)],
    })  # fmt: skip
    return fra1, ams1


def test_two_locations_by_the_quorum(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    fra1, ams1 = two_locations(tmp_path)
    any_one = fleet_report(config, [fra1, ams1], NOW, 1, window="4h")
    web = item(any_one, "monitors", "web")
    assert web["down_seconds"] == 15 * 60  # either location: T+1h to T+1h15
    assert [(i["start"], i["cause"]) for i in web["incidents"]] == [(fleet_iso(T + H), "timeout")]
    assert item(any_one, "monitors", "api")["down_seconds"] == 5 * 60
    both = fleet_report(config, [fra1, ams1], NOW, 2, window="4h")
    web = item(both, "monitors", "web")
    assert web["down_seconds"] == 5 * 60  # both: T+1h05 to T+1h10
    # The cause: that of the first location's outage under way then (fra1's, given first).
    assert [(i["start"], i["cause"]) for i in web["incidents"]] == [
        (fleet_iso(T + H + 5 * M), "timeout")
    ]
    assert item(both, "monitors", "api")["down_seconds"] == 0
    assert item(both, "services", "shop")["down_seconds"] == 5 * 60
    assert item(both, "services", "shop")["incident_count"] == 1
    slo = next(s for s in both["slos"] if s["id"] == "web-slo")
    assert slo["met"] is False and slo["error_budget"]["consumed_seconds"] == 5 * 60
    # db is held by fra1 only: its figures are fra1's, as fra1's own report has them.
    alone = single_report(config, fra1, NOW, window="4h")
    assert item(both, "monitors", "db") == item(alone, "monitors", "db")
    assert "fleet" not in both  # the renderer is the one of every report (the CLI adds it)


def fleet_iso(t: int) -> str:
    from uptimed.core.times import iso

    return iso(t)


def test_identical_databases_give_the_figures_of_one(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    fra1, _ = two_locations(tmp_path)
    copy = tmp_path / "copy.db"
    rows: Rows = {
        "web": [(T, T + H, UP), (T + H, T + H + 10 * M, DOWN, "timeout"),
                (T + H + 10 * M, NOW + 5 * S, UP)],
        "api": [(T, T + 2 * H, UP), (T + 2 * H, T + 2 * H + 5 * M, DOWN, "refused"),
                (T + 2 * H + 5 * M, NOW + 5 * S, UP)],
        "db": [(T, NOW + 5 * S, UP)],
    }  # fmt: skip
    write(copy, "other", (T, NOW), rows)
    alone = single_report(config, fra1, NOW, window="4h")
    for k in (1, 2, 3):
        rep = fleet_report(config, [fra1, copy], NOW, k, window="4h")
        for kind in ("monitors", "services", "slos"):
            assert rep[kind] == alone[kind], (k, kind)


def test_an_outage_that_began_before_the_rows_read_begins_where_the_quorum_says(
    tmp_path: Path,
) -> None:
    """K=1: fra1 went down at T+1h and ams1's outage, which ended before the report's window,
    began at T: the fleet's outage began at T, though neither row overlapping the window says
    so. (The report reads rows out to where the outage began.)"""
    config = config_for(tmp_path, slos=False)
    fra1, ams1 = tmp_path / "fra1.db", tmp_path / "ams1.db"
    write(fra1, "fra1", (T, NOW), {"web": [(T, T + H, UP), (T + H, NOW - H, DOWN, "timeout"),
                                           (NOW - H, NOW + 5 * S, UP)]})  # fmt: skip
    write(ams1, "ams1", (T, NOW), {"web": [(T, T + 2 * H, DOWN, "refused"),
                                           (T + 2 * H, NOW + 5 * S, UP)]})  # fmt: skip
    rep = fleet_report(config, [fra1, ams1], NOW, 1, start=fleet_iso(T + 150 * M),
                       end=fleet_iso(NOW))  # fmt: skip
    (inc,) = item(rep, "monitors", "web")["incidents"]
    assert (inc["start"], inc["end"], inc["cause"]) == (fleet_iso(T), fleet_iso(NOW - H), "refused")
    assert inc["counted_seconds"] == 30 * 60  # T+2h30 to NOW-1h, inside the window
    # K=2: down only while both were, T+1h to T+2h: before the window, no incident in it.
    rep = fleet_report(config, [fra1, ams1], NOW, 2, start=fleet_iso(T + 150 * M),
                       end=fleet_iso(NOW))  # fmt: skip
    assert item(rep, "monitors", "web")["incidents"] == []


def test_a_service_outage_is_read_out_through_its_members_fleet_outages(tmp_path: Path) -> None:
    """K=1, the window from W0: web's fleet outage (fra1's) began at W0-10m, so shop's outage is
    read out before W0, where api's fleet outage (ams1's, W0-30m to W0-5m) joins it. fra1's api
    rows there have a gap (W0-25m to W0-20m): the quorum of api over what is read is known only
    from W0-20m, and api's outage must be read out further, or shop's would begin at W0-20m."""
    config = config_for(tmp_path, slos=False)
    fra1, ams1 = tmp_path / "fra1.db", tmp_path / "ams1.db"
    w0 = T + 3 * H
    write(fra1, "fra1", (T, NOW), {
        "web": [(T, w0 - 10 * M, UP), (w0 - 10 * M, w0 + 10 * M, DOWN, "timeout"),
                (w0 + 10 * M, NOW + 5 * S, UP)],
        "api": [(T, w0 - 25 * M, UP), (w0 - 20 * M, NOW + 5 * S, UP)],
    })  # fmt: skip
    write(ams1, "ams1", (T, NOW), {
        "web": [(T, NOW + 5 * S, UP)],
        "api": [(T, w0 - 30 * M, UP), (w0 - 30 * M, w0 - 5 * M, DOWN, "refused"),
                (w0 - 5 * M, NOW + 5 * S, UP)],
    })  # fmt: skip
    rep = fleet_report(config, [fra1, ams1], NOW, 1, start=fleet_iso(w0), end=fleet_iso(NOW))
    (inc,) = item(rep, "services", "shop")["incidents"]
    assert (inc["start"], inc["end"]) == (fleet_iso(w0 - 30 * M), fleet_iso(w0 + 10 * M))
    assert inc["duration_seconds"] == 40 * 60 and inc["counted_seconds"] == 10 * 60


def test_maintenance_added_to_one_database_covers_every_location(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    fra1, ams1 = tmp_path / "fra1.db", tmp_path / "ams1.db"
    win = ("monitor", "web", T + H, T + H + 30 * M, "switch swap")
    write(fra1, "fra1", (T, NOW), {"web": [(T, T + H, UP), (T + H, T + H + 10 * M, DOWN),
                                           (T + H + 10 * M, NOW + 5 * S, UP)]},
          windows=(win,))  # fmt: skip
    write(ams1, "ams1", (T, NOW), {"web": [(T, T + H + 5 * M, UP),
                                           (T + H + 5 * M, T + H + 40 * M, DOWN),
                                           (T + H + 40 * M, NOW + 5 * S, UP)]})  # fmt: skip
    rep = fleet_report(config, [fra1, ams1], NOW, 1, window="4h")
    web = item(rep, "monitors", "web")
    assert web["maintenance_seconds"] == 30 * 60
    assert web["down_seconds"] == 10 * 60  # ams1's outage after the window: T+1h30 to T+1h40
    (x,) = rep["exclusions"]
    assert x["id"] == "fra1:1" and x["reason"] == "switch swap"


def test_latency_and_runs_come_from_every_database(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    fra1, ams1 = two_locations(tmp_path)
    rep = fleet_report(config, [fra1, ams1], NOW, 1, window="4h")
    assert rep["config_versions"] == [
        {"sha256": "c0ffee", "from": fleet_iso(T), "to": fleet_iso(NOW)}
    ]


def test_what_each_database_holds_and_where_it_was_recorded(tmp_path: Path) -> None:
    fra1, ams1 = two_locations(tmp_path)
    bare = tmp_path / "lon1.db"
    write(bare, None, (T, NOW), {"web": []})
    with fleet.reading_all([str(fra1), str(ams1), str(bare)]) as dbs:
        got = [(d.location, d.shard, sorted(d.monitors)) for d, _ in dbs]
    assert got == [
        ("fra1", None, ["api", "db", "web"]),
        ("ams1", None, ["api", "web"]),
        ("lon1", None, ["web"]),  # no location recorded: the file's stem
    ]


def test_databases_that_cannot_be_one_fleet_are_refused_by_name(tmp_path: Path) -> None:
    fra1, ams1 = two_locations(tmp_path)
    again = tmp_path / "fra1-copy.db"
    write(again, "fra1", (T, NOW), {"api": [(T, NOW, UP)]})
    with pytest.raises(fleet.FleetError, match=r"fra1-copy.db .* location 'fra1' .* 'api'"):
        with fleet.reading_all([str(fra1), str(again)]):
            pass
    with pytest.raises(fleet.FleetError, match="given twice"):
        with fleet.reading_all([str(fra1), str(tmp_path / "." / "fra1.db")]):
            pass
    # Two locations in one database: its runs say both.
    moved = tmp_path / "moved.db"
    write(moved, "fra1", (T, T + H), {"web": [(T, T + H, UP)]})
    write(moved, "ams1", (T + H, NOW), {"web": [(T + H, NOW, UP)]})
    with pytest.raises(fleet.FleetError, match=r"moved.db .* \(ams1, fra1\)"):
        with fleet.reading_all([str(moved), str(ams1)]):
            pass
    # Alone it is read as always (one database, one report).
    with fleet.reading_all([str(moved)], check=False) as dbs:
        assert dbs[0][0].location == "ams1"
    # A location's two shards are one fleet.
    s1, s2 = tmp_path / "s1.db", tmp_path / "s2.db"
    write(s1, "fra1", (T, NOW), {"web": [(T, NOW, UP)]}, shard="1/2")
    write(s2, "fra1", (T, NOW), {"api": [(T, NOW, UP)]}, shard="2/2")
    with fleet.reading_all([str(s1), str(s2)]) as dbs:
        assert [d.shard for d, _ in dbs] == ["1/2", "2/2"]
        config = config_for(tmp_path)
        assert fleet.sharded(config, [d for d, _ in dbs])
        parts = fleet.partial(config, resolve_scope(config), [d for d, _ in dbs])
        assert [(p.kind, p.id, p.missing) for p in parts] == [("service", "all3", ("db",))]
