"""Day summaries: a report that reads them gives exactly the figures of one that reads every row.

The pure part (sla.day_summaries, sla.stretch, sla.summarized_figures) against monitor_figures on
random rows, with days of 100 ms; then the SQLite part (uptimed.store.summaries and
Targets.prepare) on a real database against the row-by-row path of the same Targets.
"""

from __future__ import annotations

import dataclasses
import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uptimed.config import loads_config
from uptimed.core.intervals import normalize, subtract
from uptimed.core.sla import (
    DAY_MS,
    DaySummary,
    day_summaries,
    ineligible,
    monitor_figures,
    stretch,
    summarized_figures,
)
from uptimed.core.state import DOWN, UP, StateMachine, Thresholds
from uptimed.model.report import Window
from uptimed.render.json import report_json
from uptimed.service.history import History
from uptimed.service.report import build_report
from uptimed.service.targets import Targets
from uptimed.service.window import resolve_scope
from uptimed.store import Store, connect, summaries

DAY = 100  # ms: small days, so that random rows span several of them
CAUSES = [None, "timeout", "refused"]


def fetch(rows, a, b, after=-(2**62)):
    """The rows a report reads for [a, b): what report._ROWS_OVERLAPPING selects."""
    before = [r[0] for r in rows if r[0] <= a]
    floor = max([after, *before, 0])
    return [r for r in rows if floor <= r[0] < b and r[1] > a]


def report_rows(rows, spans):
    out, after = [], -(2**62)
    for a, b in spans:
        out += fetch(rows, a, b, after)
        after = b
    assert len({r[0] for r in out}) == len(out)  # each row read once
    return out


@st.composite
def db_rows(draw):
    """Rows as a table keyed by start holds them: mostly as the state machine writes them
    (sorted, touching or with gaps, long ones across days), sometimes overlapping or empty."""
    t = draw(st.sampled_from([0, 100, 200]) | st.integers(0, 150))
    rows = []
    for _ in range(draw(st.integers(0, 14))):
        t += draw(
            st.sampled_from([0, 0, 0, 1, 30, 250, -t % DAY])
        )  # the last: to the next midnight
        length = draw(
            st.sampled_from([1, 20, 99, 100, 101, 350, -t % DAY or DAY]) | st.integers(1, 400)
        )
        if draw(st.integers(0, 9)) == 0:
            length = draw(st.integers(-20, 0))  # an empty or reversed row
        rows.append(
            (t, t + length, draw(st.sampled_from([UP, DOWN])), draw(st.sampled_from(CAUSES)))
        )
        if draw(st.integers(0, 7)) == 0:
            t += max(length, 0) // 2  # the next row overlaps this one
        else:
            t += max(length, 1)
    return list({r[0]: r for r in rows}.values())  # one row per start, the last written wins


intervals = st.lists(st.tuples(st.integers(0, 2500), st.integers(1, 600)), max_size=4).map(
    lambda xs: normalize([(s, s + n) for s, n in xs])
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=db_rows(),
    runs=st.one_of(st.just([(-1000, 5000)]), intervals),
    degraded=st.one_of(st.just([]), intervals),
    maint=st.one_of(st.just([]), intervals),
    lo=st.integers(-50, 1500),
    length=st.integers(0, 2500),
    upto_days=st.integers(0, 30),
    now=st.integers(0, 3000),
    picks=st.lists(st.tuples(st.integers(0, 30), st.integers(1, 12)), max_size=2),
)
def test_summarized_figures_equal_row_by_row(
    rows, runs, degraded, maint, lo, length, upto_days, now, picks
):
    hi = lo + length
    window = (lo, hi)
    # summaries stop before "now" (see summaries.pending)
    upto = min(upto_days * DAY, now - now % DAY)
    rows = [r for r in rows if r[0] < now]  # rows are written up to now
    cover = subtract(normalize(runs), normalize(degraded))
    # Summaries of [0, upto), from the rows the writer reads for that range.
    summaries = {}
    if upto > 0:
        given_rows = fetch(rows, 0, upto) + [r for r in sorted(rows) if r[0] >= upto][:1]
        summaries = {d.day: d for d in day_summaries(given_rows, 0, upto, DAY)}
    # Stretches of summarized days anywhere (separate, not touching), in and around the window.
    spans = normalize([(d * DAY, min(d + n, upto_days) * DAY) for d, n in picks if d < upto_days])
    spans = [(a, b) for a, b in spans if all(d in summaries for d in range(a, b, DAY))]
    stretches = [stretch([summaries[d] for d in range(a, b, DAY)], a, b) for a, b in spans]

    reads = normalize(subtract([(lo - 1, hi + 1)], spans) + ineligible(spans, cover, maint, window))
    got = summarized_figures(report_rows(rows, reads), cover, maint, window, now, stretches)
    want = monitor_figures(rows, runs, maint, window, now, degraded=degraded)
    if got is None:  # only when a stretch's longest outage was read: check that it was
        assert stretches
        return
    assert got == dataclasses.replace(want, incidents=None)


def test_day_summaries_by_hand():
    rows = [
        (0, 50, UP),
        (50, 130, DOWN),  # crosses into day 100: carried
        (130, 150, UP),
        (150, 160, DOWN),
        (170, 180, DOWN),  # after a gap
        (180, 420, UP),  # across two midnights
    ]
    assert day_summaries(rows, 0, 400, DAY) == [
        DaySummary(0, 50, 50, 1, 0, 130, 80),
        DaySummary(100, 20 + 20, 30 + 10 + 10, 2, 10, None, None),
        DaySummary(200, 100, 0, 0, 0, None, None),
        DaySummary(300, 100, 0, 0, 0, None, None),
    ]
    # Over days 0 and 1 the carried outage lies inside; over day 0 alone it does not.
    days = day_summaries(rows, 0, 400, DAY)
    assert stretch(days, 0, 200)[2:] == (90, 100, 3, 80)
    assert stretch(days, 0, 100)[2:] == (50, 50, 0, 0)
    # A row overlapping the next one leaves the days it touches unsummarized.
    assert [d.day for d in day_summaries([(0, 250, UP), (180, 190, DOWN)], 0, 400, DAY)] == [300]
    with pytest.raises(ValueError, match="multiples"):
        day_summaries([], 5, 100, DAY)


# -- SQLite: the writer's summaries and Targets.prepare ---------------------------------------

REAL_DAY = DAY_MS
T0 = 1_790_000_000_000 - 1_790_000_000_000 % REAL_DAY  # a UTC midnight in 2026


def config_text(tmp_path, n):
    monitors = "\n".join(
        f'[[monitor]]\nid = "m{i}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n' for i in range(n)
    )
    return f"""
[daemon]
database = "{tmp_path / "u.db"}"

{monitors}

[[service]]
id = "s"
monitors = ["m0", "m1", "m2"]
rule = "any"

[[maintenance]]
id = "weekly"
monitors = ["m3"]
rrule = "FREQ=DAILY;INTERVAL=3;BYHOUR=5"
duration = "2h"
timezone = "Europe/Berlin"
"""


def random_history(
    rnd: random.Random, start: int, end: int
) -> list[tuple[int, int, int, int | None]]:
    rows, t, state = [], start + rnd.randrange(600_000), UP
    while t < end:
        length = (
            int(rnd.expovariate(1 / (3 * 3_600_000))) + 1
            if state == UP
            else rnd.randrange(5_000, 7_200_000)
        )
        if rnd.random() < 0.05:
            t += rnd.randrange(1, 4 * 3_600_000)  # a gap (the verdict expired)
        if rnd.random() < 0.1:
            length = (-t % REAL_DAY or REAL_DAY) + rnd.choice(
                [0, REAL_DAY]
            )  # to the next or second midnight
        rows.append((t, t + length, state, None if state == UP else rnd.choice([1, 2, 3])))
        t += length
        state = DOWN if state == UP else UP
    return rows


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Six monitors with 40 days of random history, two daemon runs, a degraded hour, an ad-hoc
    maintenance window; summarized by the writer's code."""
    tmp_path = tmp_path_factory.mktemp("daily")
    n = 6
    config = loads_config(config_text(tmp_path, n), "t.toml")
    store = Store(str(tmp_path / "u.db"))
    store.open()
    ids = store.register_monitors([(f"m{i}", "tcp", f"m{i}") for i in range(n)])
    conn = store._conn
    rnd = random.Random(7)
    end = T0 + 40 * REAL_DAY + 5 * 3_600_000
    restart = T0 + 17 * REAL_DAY + 43_210_123
    conn.execute(
        "INSERT INTO runs (started, ended, heartbeat, config_sha256) VALUES (?, ?, ?, 'a')",
        (T0, restart, restart),
    )
    conn.execute(
        "INSERT INTO runs (started, ended, heartbeat, config_sha256) VALUES (?, ?, ?, 'a')",
        (restart + 600_000, end, end),
    )
    conn.execute(
        "INSERT INTO degraded VALUES (?, ?, 2)",
        (T0 + 25 * REAL_DAY + 100, T0 + 25 * REAL_DAY + 3_600_100),
    )
    conn.execute(
        "INSERT INTO maintenance (target_kind, target, start, end, reason, created_by, created_at)"
        " VALUES ('monitor', 'm4', ?, ?, 'x', 'test', ?)",
        (T0 + 30 * REAL_DAY - 1000, T0 + 31 * REAL_DAY + 5, T0),
    )
    for key, mid in ids.items():
        rows = random_history(rnd, T0, end)
        if (
            key == "m5"
        ):  # overlapping rows (as after a degraded stretch): those days stay unsummarized
            s, e, _, _ = rows[40]
            rows.insert(41, (s + (e - s) // 2, e + 1000, DOWN, 1))
        conn.executemany(
            "INSERT OR REPLACE INTO timeline VALUES (?, ?, ?, ?, ?)", [(mid, *r) for r in rows]
        )
        last = rows[-1]
        conn.execute(
            "INSERT INTO monitor_state (monitor, state, streak, streak_start, last_ts, floor)"
            " VALUES (?, ?, 0, NULL, ?, 0)",
            (mid, last[2], min(last[1], end) - 1),
        )
    assert summaries.summarize_all(conn, end) > 6 * 35
    assert summaries.pending(conn, end) == []  # nothing left
    store._conn.close()
    os.close(store._lock_fd)  # and its lock, as a dead process would
    return config, tmp_path / "u.db", end


def test_prepare_matches_row_by_row(history):
    config, db, end = history
    conn = connect(str(db), readonly=True)
    rnd = random.Random(3)
    keys = [m.id for m in config.monitors]
    windows = [
        (T0 - REAL_DAY, end),
        (end - 30 * REAL_DAY, end),
        (T0 + 3 * REAL_DAY, T0 + 33 * REAL_DAY),
    ]
    windows += [
        (a, a + rnd.randrange(1, 20 * REAL_DAY))
        for a in (rnd.randrange(T0, end) for _ in range(12))
    ]
    used_summaries = 0
    for window in windows:
        data = History(conn, config, window[0] - 1, window[1] + 1, end)
        bulk = Targets(data)
        bulk.prepare(keys, window)
        used_summaries += len(bulk._pre)
        plain = Targets(data)
        for key in keys:
            got = bulk.figures("monitor", key, window, incidents=False)
            want = plain.figures("monitor", key, window)
            assert got == dataclasses.replace(want, incidents=None), (key, window)
    assert used_summaries > len(windows) * 4  # most monitors went through the summaries


def test_stretch_in_sql_is_stretch_in_python(history):
    config, db, end = history
    conn = connect(str(db), readonly=True)
    data = History(conn, config, T0, end, end)
    mids = sorted(data.ids.values())
    rnd = random.Random(5)
    spans = [(T0, T0 + 40 * REAL_DAY)] + [
        (a, a + rnd.randrange(1, 6) * REAL_DAY)
        for a in (T0 + rnd.randrange(35) * REAL_DAY for _ in range(30))
    ]
    summaries = {m: [] for m in mids}
    for m, *row in conn.execute("SELECT * FROM timeline_daily ORDER BY monitor, day"):
        summaries[m].append(DaySummary(*row))
    for span in spans:
        got = data.stretches(mids, span)
        for m in mids:
            days = [d for d in summaries[m] if span[0] <= d.day < span[1]]
            if days:
                assert got[m] == (*stretch(days, *span)[2:], len(days))
            else:
                assert m not in got


def test_report_formats_agree_with_and_without_incident_lists(history):
    config, db, end = history
    conn = connect(str(db), readonly=True)
    scope = resolve_scope(config)
    window = Window(end - 30 * REAL_DAY, end)
    full = report_json(build_report(conn, config, scope, window, end))
    short = report_json(build_report(conn, config, scope, window, end, incident_lists=False))
    for a, b in zip(
        full["monitors"] + full["services"], short["monitors"] + short["services"], strict=True
    ):
        assert a.pop("incidents") is not None and "incidents" not in b
        assert a == b
    assert full["slos"] == short["slos"]


def test_summaries_follow_the_final_point(tmp_path):
    """Days are summarized only once they end before the monitor's final point."""
    store = Store(str(tmp_path / "u.db"))
    store.open()
    (mid,) = store.register_monitors([("m", "tcp", "m")]).values()
    conn = store._conn
    conn.execute("INSERT INTO timeline VALUES (?, ?, ?, 1, NULL)", (mid, T0 + 5, T0 + 3 * REAL_DAY))
    # A pending run of failures began just before the end of day 2: day 1 is final, day 2 not.
    streak_start = T0 + 2 * REAL_DAY - 1
    conn.execute(
        "INSERT INTO monitor_state (monitor, state, streak, streak_start, last_ts, floor)"
        " VALUES (?, 1, 2, ?, ?, 0)",
        (mid, streak_start, T0 + 3 * REAL_DAY - 200_000),
    )
    assert summaries.pending(conn, T0 + 3 * REAL_DAY) == [(mid, T0, T0 + REAL_DAY)]
    summaries.summarize_all(conn, T0 + 3 * REAL_DAY)
    assert conn.execute("SELECT day, up_ms FROM timeline_daily").fetchall() == [(T0, REAL_DAY - 5)]
    assert conn.execute("SELECT since, upto FROM timeline_daily_state").fetchall() == [
        (T0, T0 + REAL_DAY)
    ]
    # The run was confirmed at streak_start... and then cleared: the final point moves on.
    conn.execute(
        "UPDATE monitor_state SET streak = 0, streak_start = NULL, last_ts = ?",
        (T0 + 3 * REAL_DAY - 1,),
    )
    assert summaries.pending(conn, T0 + 3 * REAL_DAY) == [(mid, T0 + REAL_DAY, T0 + 2 * REAL_DAY)]
    store._conn.close()
    os.close(store._lock_fd)  # and its lock, as a dead process would


def test_an_outage_under_way_holds_back_the_days_since_it_began(tmp_path):
    """A summary keeps where an outage that runs past its day ends: not known while it lasts."""
    store = Store(str(tmp_path / "u.db"))
    store.open()
    (mid,) = store.register_monitors([("m", "tcp", "m")]).values()
    conn = store._conn
    down_at = T0 + REAL_DAY + 3_600_000
    conn.execute("INSERT INTO timeline VALUES (?, ?, ?, 1, NULL)", (mid, T0 + 5, down_at))
    conn.execute("INSERT INTO timeline VALUES (?, ?, ?, 0, 1)", (mid, down_at, T0 + 3 * REAL_DAY))
    conn.execute(
        "INSERT INTO monitor_state"
        " (monitor, state, streak, last_ts, seg_start, seg_end, seg_state, floor)"
        " VALUES (?, 0, 0, ?, ?, ?, 0, 0)",
        (mid, T0 + 3 * REAL_DAY - 120_000, down_at, T0 + 3 * REAL_DAY),
    )
    assert summaries.pending(conn, T0 + 3 * REAL_DAY) == [(mid, T0, T0 + REAL_DAY)]
    store._conn.close()
    os.close(store._lock_fd)  # and its lock, as a dead process would


def test_summaries_written_as_the_daemon_goes_match_row_by_row(tmp_path):
    """The writer's cadence, simulated: the real state machine fed one probe a minute for nine
    days (outages, blips, thresholds, daemon stops, degraded time with forget(), ad-hoc
    maintenance), days summarized every ten minutes as they become final (an outage still under
    way across midnight included); then figures from the summaries over random windows must be
    those from every row."""
    hour, minute = 3_600_000, 60_000
    for seed in range(3):
        rnd = random.Random(seed)
        n, end = 4, T0 + 9 * REAL_DAY
        monitors = "".join(
            f'[[monitor]]\nid = "m{i}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'
            for i in range(n)
        )
        db = tmp_path / f"{seed}.db"
        config = loads_config(f'[daemon]\ndatabase = "{db}"\n{monitors}', "t.toml")
        store = Store(str(db))
        store.open()
        ids = store.register_monitors([(f"m{i}", "tcp", f"m{i}") for i in range(n)])
        conn = store._conn
        runs, t = [], T0
        while t < end:
            stop = min(end, t + rnd.randrange(6 * hour, 3 * REAL_DAY))
            runs.append((t, stop))
            t = stop + rnd.choice([5 * minute, 2 * hour, 20 * hour])
        for a, b in runs:
            conn.execute(
                "INSERT INTO runs (started, ended, heartbeat, config_sha256) VALUES (?, ?, ?, 'a')",
                (a, b, b),
            )
        degraded = [
            (a, a + rnd.randrange(10 * minute, 3 * hour))
            for a in (rnd.randrange(T0, end) for _ in range(2))
        ]
        conn.executemany("INSERT OR IGNORE INTO degraded VALUES (?, ?, 1)", degraded)
        for i in range(n):
            for a in (rnd.randrange(T0, end) for _ in range(2)):
                conn.execute(
                    "INSERT INTO maintenance"
                    " (target_kind, target, start, end, reason, created_by, created_at)"
                    " VALUES ('monitor', ?, ?, ?, 'x', 'test', ?)",
                    (f"m{i}", a, a + rnd.randrange(minute, 2 * REAL_DAY), T0),
                )
        machines = {
            i: StateMachine(
                Thresholds(rnd.choice([1, 2, 3]), rnd.choice([1, 2]), 2 * minute + 1000)
            )
            for i in range(n)
        }
        down = dict.fromkeys(range(n), False)
        was_degraded = False
        for ts in range(T0, end, minute):
            if not any(a <= ts < b for a, b in runs):
                continue
            now_degraded = any(a <= ts < b for a, b in degraded)
            if was_degraded and not now_degraded:
                for m in machines.values():
                    m.forget()
            was_degraded = now_degraded
            for i, m in machines.items():
                if rnd.random() < (0.003 if down[i] else 0.0005):
                    down[i] = not down[i]
                ok = (not down[i]) if rnd.random() > 0.02 else down[i]  # blips
                segments, _ = m.observe(ts, ok, None if ok else "timeout")
                conn.executemany(
                    "INSERT OR REPLACE INTO timeline VALUES (?, ?, ?, ?, ?)",
                    [
                        (ids[f"m{i}"], g.start, g.end, g.state, None if g.state else 1)
                        for g in segments
                    ],
                )
                s, g = m.snapshot(), m.segment
                conn.execute(
                    "INSERT OR REPLACE INTO monitor_state"
                    " (monitor, state, streak, streak_start, last_ts, floor, seg_start, seg_end,"
                    " seg_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (ids[f"m{i}"], s.state, s.streak, s.streak_start, s.last_ts, s.floor,
                     g and g.start, g and g.end, g and g.state),
                )  # fmt: skip
            if ts % (10 * minute) == 0:
                summaries.summarize_all(conn, ts)
        conn.close()
        ro = connect(str(db), readonly=True)
        keys = [f"m{i}" for i in range(n)]
        used = 0
        for _ in range(40):
            a = rnd.randrange(T0 - REAL_DAY, end)
            window = (a, min(end + REAL_DAY, a + rnd.randrange(hour, 6 * REAL_DAY)))
            data = History(ro, config, window[0] - 1, window[1] + 1, end)
            bulk, plain = Targets(data), Targets(data)
            bulk.prepare(keys, window)
            used += len(bulk._pre)
            for key in keys:
                want = dataclasses.replace(plain.figures("monitor", key, window), incidents=None)
                assert bulk.figures("monitor", key, window, incidents=False) == want, (
                    seed,
                    key,
                    window,
                )
        assert used > 40 * n // 2  # most came from summaries
