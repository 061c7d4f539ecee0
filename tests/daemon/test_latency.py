"""Latency SLIs, each counted against its own threshold (issue 14).

Two SLOs on one monitor with thresholds of 0.5 s and 2 s must give probes of 0.6 s 0/5 and 5/5,
not the smaller threshold's count to both; a threshold added later (a reload) is counted from
the oldest raw result still kept, and the report says from when (``counted_from``) and whether
that covers the hours it counts (``exact``).

On real SQLite: the store's writer thread, or its passes run one by one here (deterministic);
reports through ``uptimed report`` (build_report) on databases the store wrote, configured by
the daemon's own code; a reload of the real daemon; and the rollups against a brute-force count
of random probes under random threshold sets (hypothesis).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import tempfile
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from probes.base import ProbeResult
from tests.e2e.test_report_e2e import cli_here, iso, ms_of
from tests.e2e.test_slo_e2e import serve
from tests.support.daemon_proc import DaemonProc
from uptimed.config import load_config
from uptimed.core.state import Snapshot
from uptimed.core.times import iso as iso_ms
from uptimed.daemon.app import Daemon
from uptimed.store import Store, rollups, threshold_us
from uptimed.store.reads import latency_counts

HOUR = 3_600_000
MIN = 60_000
T0 = 1_790_000_000_000 // HOUR * HOUR  # 2026-09-21 14:00 UTC: an hour, in the past


class Clock:
    """The store's wall clock, in whole seconds (exact as milliseconds)."""

    def __init__(self, ms: int):
        self.ms = ms

    def __call__(self) -> float:
        assert self.ms % 1000 == 0
        return self.ms / 1000


def result(ok: bool, us: int) -> ProbeResult:
    """A probe that lasted ``us`` µs as the writer stores it (``int(duration * 1e6)``)."""
    return ProbeResult(ok, (us + 0.5) / 1e6, None if ok else "timeout")


def open_store(path: Path, clock: Clock, **kw) -> Store:
    s = Store(str(path), flush_interval=0.05, wall=clock, **kw)
    s.open()
    return s


def writer_pass(s: Store) -> None:
    """One pass of the writer thread (Store._loop), run here."""
    assert s._conn is not None
    s._latency.step(s._conn, s.now_ms())
    while s._write_batch(s._conn):
        pass


def counting_half_a_second(db: Path, clock: Clock) -> tuple[Store, int]:
    """A store with one monitor ("a") whose probes are counted against 0.5 s from the writer's
    first pass on (run now, at ``clock``)."""
    s = open_store(db, clock)
    (mid,) = s.register_monitors([("a", "http", "a")]).values()
    s.latency_thresholds = {mid: (500_000,)}
    writer_pass(s)
    return s, mid


def expire_raw(s: Store, clock: Clock, before: int) -> None:
    """Raw retention, run now: results older than ``before`` go (rollups stay)."""
    assert s._conn is not None
    s.retention.raw = (clock.ms - before) / 1000
    s.retention.due = 0
    s.retention.step(s._conn, s.now_ms())


def latency_rows(db: Path) -> list[tuple[int, int, int, int, int]]:
    return (
        sqlite3.connect(db)
        .execute(
            "SELECT monitor, hour, threshold_us, ok, fast FROM rollup_latency"
            " ORDER BY monitor, hour, threshold_us"
        )
        .fetchall()
    )


def tracked(db: Path) -> dict[tuple[int, int], int]:
    return {
        (m, t): since
        for m, t, since in sqlite3.connect(db).execute("SELECT * FROM latency_tracked")
    }


# -- the store -----------------------------------------------------------------------------------


def test_each_threshold_counts_the_probes_against_itself(tmp_path):
    """The writer thread: 5 probes of 0.6 s are 0/5 against 0.5 s and 5/5 against 2 s."""
    db = tmp_path / "u.db"
    s = open_store(db, Clock(T0 - MIN))
    (mid,) = s.register_monitors([("a", "http", "a")]).values()
    s.latency_thresholds = {mid: (2_000_000, 500_000, 2_000_000)}  # any order, repeats
    assert s.latency_thresholds == {mid: (500_000, 2_000_000)}
    s.start(version="t", config_sha256="x")
    for i in range(5):
        s.record(mid, T0 + i * 10_000, result(True, 600_000), [], Snapshot())
    s.record(mid, T0 + 50_000, result(False, 100_000), [], Snapshot())  # failures count in neither
    s.close()
    assert latency_rows(db) == [(mid, T0, 500_000, 5, 0), (mid, T0, 2_000_000, 5, 5)]
    # Counted from the writer's first pass (nothing to count before it): a minute before the probes.
    assert tracked(db) == {(mid, 500_000): T0 - MIN, (mid, 2_000_000): T0 - MIN}
    conn = sqlite3.connect(db)
    assert latency_counts(conn, [mid], 500_000, (T0, T0 + HOUR)) == (0, 5, T0 - MIN, True)
    assert latency_counts(conn, [mid], 2_000_000, (T0, T0 + HOUR)) == (5, 5, T0 - MIN, True)
    # A threshold nobody counted: nothing, and not exact.
    assert latency_counts(conn, [mid], 1_000_000, (T0, T0 + HOUR)) == (0, 0, None, False)


def test_a_threshold_added_mid_hour_is_counted_from_then(tmp_path):
    """Added at 14:30 when no raw result of the hour is kept any more: its counts start at 14:30,
    and so does counted_from; the other threshold keeps its whole hour."""
    db = tmp_path / "u.db"
    clock = Clock(T0 - MIN)
    s, mid = counting_half_a_second(db, clock)
    for i in range(1, 6):
        s.record(mid, T0 + i * MIN, result(True, 600_000), [], Snapshot())
    writer_pass(s)
    clock.ms = T0 + 30 * MIN
    expire_raw(s, clock, T0 + 29 * MIN)
    assert s._conn.execute("SELECT count(*) FROM results").fetchone() == (0,)
    s.latency_thresholds = {mid: (500_000, 2_000_000)}  # a reload adds an SLO of 2 s
    writer_pass(s)
    for ts in [T0 + i * MIN for i in range(31, 36)] + [T0 + HOUR + MIN, T0 + HOUR + 2 * MIN]:
        s.record(mid, ts, result(True, 600_000), [], Snapshot())
    writer_pass(s)
    s.close()
    assert latency_rows(db) == [
        (mid, T0, 500_000, 10, 0), (mid, T0, 2_000_000, 5, 5),
        (mid, T0 + HOUR, 500_000, 2, 0), (mid, T0 + HOUR, 2_000_000, 2, 2),
    ]  # fmt: skip
    assert tracked(db) == {(mid, 500_000): T0 - MIN, (mid, 2_000_000): T0 + 30 * MIN}
    conn = sqlite3.connect(db)
    # Over both hours: 7 of the 12 probes counted against 2 s, consistently (7/7), not exact.
    assert latency_counts(conn, [mid], 2_000_000, (T0, T0 + 2 * HOUR)) == (
        7,
        7,
        T0 + 30 * MIN,
        False,
    )
    assert latency_counts(conn, [mid], 2_000_000, (T0 + HOUR, T0 + 2 * HOUR)) == (
        2,
        2,
        T0 + 30 * MIN,
        True,
    )
    assert latency_counts(conn, [mid], 500_000, (T0, T0 + 2 * HOUR)) == (0, 12, T0 - MIN, True)


def test_a_threshold_added_later_counts_the_raw_results_kept(tmp_path):
    """Added at 14:30 with the raw results from 14:03 on still kept: counted from 14:03."""
    db = tmp_path / "u.db"
    clock = Clock(T0 - MIN)
    s, mid = counting_half_a_second(db, clock)
    for i in range(1, 6):
        s.record(mid, T0 + i * MIN, result(True, 600_000 if i % 2 else 3_000_000), [], Snapshot())
    writer_pass(s)
    clock.ms = T0 + 30 * MIN
    expire_raw(s, clock, T0 + 3 * MIN)  # 14:01 and 14:02 go
    s.latency_thresholds = {mid: (500_000, 2_000_000)}
    s.record(mid, T0 + 31 * MIN, result(True, 600_000), [], Snapshot())  # queued before the pass
    writer_pass(s)
    s.close()
    # 14:03 (0.6 s), 14:04 (3 s), 14:05 (0.6 s) from the raw results, 14:31 from the batch.
    assert latency_rows(db) == [(mid, T0, 500_000, 6, 0), (mid, T0, 2_000_000, 4, 3)]
    assert tracked(db)[(mid, 2_000_000)] == T0 + 3 * MIN
    conn = sqlite3.connect(db)
    assert latency_counts(conn, [mid], 2_000_000, (T0, T0 + HOUR)) == (3, 4, T0 + 3 * MIN, False)


def test_a_threshold_dropped_and_added_again_counts_each_probe_once(tmp_path):
    db = tmp_path / "u.db"
    clock = Clock(T0 - MIN)
    s, mid = counting_half_a_second(db, clock)
    s.record(mid, T0 + MIN, result(True, 100_000), [], Snapshot())
    writer_pass(s)
    s.latency_thresholds = {}  # the SLO removed: no longer counted
    writer_pass(s)
    assert tracked(db) == {}
    s.record(mid, T0 + 2 * MIN, result(True, 100_000), [], Snapshot())
    writer_pass(s)
    clock.ms = T0 + 10 * MIN
    s.latency_thresholds = {mid: (500_000,)}  # and back: recounted from the raw results
    writer_pass(s)
    s.record(mid, T0 + 11 * MIN, result(True, 900_000), [], Snapshot())
    writer_pass(s)
    s.close()
    assert latency_rows(db) == [(mid, T0, 500_000, 3, 2)]
    assert tracked(db) == {(mid, 500_000): T0 + MIN}


def test_new_thresholds_start_a_few_monitors_per_pass_and_lose_no_probe(tmp_path, monkeypatch):
    """With no time budget, one monitor per writer pass: the others' probes written meanwhile
    are counted when their turn comes, from their raw results."""
    monkeypatch.setattr(rollups, "BACKFILL_BUDGET", 0.0)
    db = tmp_path / "u.db"
    clock = Clock(T0)
    s = open_store(db, clock)
    mids = list(s.register_monitors([(f"m{i}", "tcp", f"m{i}") for i in range(3)]).values())
    s.latency_thresholds = {m: (500_000,) for m in mids}
    for n in range(4):
        for m in mids:
            s.record(m, T0 + n * MIN + m, result(True, 100_000), [], Snapshot())
        clock.ms = T0 + (n + 1) * MIN
        writer_pass(s)
        assert len(tracked(db)) == min(n + 1, 3)
    s.close()
    assert latency_rows(db) == [(m, T0, 500_000, 4, 4) for m in mids]
    # The first from its first probe (queued at the first pass), the others from their first raw
    # result.
    assert tracked(db) == {(m, 500_000): T0 + m for m in mids}


def test_the_tracked_thresholds_survive_a_restart(tmp_path):
    """A daemon that starts again on the same config keeps counting, from the same time."""
    db = tmp_path / "u.db"
    clock = Clock(T0 - MIN)
    s, mid = counting_half_a_second(db, clock)
    s.record(mid, T0 + MIN, result(True, 100_000), [], Snapshot())
    writer_pass(s)
    s.close()
    clock.ms = T0 + 20 * MIN
    s = open_store(db, clock)
    s.record(
        mid, T0 + 21 * MIN, result(True, 100_000), [], Snapshot()
    )  # before the config is applied
    writer_pass(s)
    s.latency_thresholds = {mid: (500_000,)}
    writer_pass(s)
    s.close()
    assert latency_rows(db) == [(mid, T0, 500_000, 2, 2)]
    assert tracked(db) == {(mid, 500_000): T0 - MIN}


def test_a_database_not_migrated_yet_has_no_latency_counts(tmp_path):
    from sqlite_utils import Database

    from uptimed.store.schema import migrations

    db = Database(tmp_path / "u.db")
    migrations.apply(db, stop_before="m005_rollup_latency")
    db.close()
    conn = sqlite3.connect(f"file:{tmp_path / 'u.db'}?mode=ro", uri=True)
    assert latency_counts(conn, [1], 500_000, (T0, T0 + HOUR)) == (0, 0, None, False)


def test_thresholds_are_whole_microseconds_rounded():
    assert threshold_us(0.57) == 570_000  # int(0.57 * 1e6) is 569999
    assert threshold_us(0.3) == 300_000 and threshold_us(2.0) == 2_000_000


# -- reports -------------------------------------------------------------------------------------


MONITORS = """
[[monitor]]
id = "web"
kind = "http"
url = "http://127.0.0.1:9/"

[[monitor]]
id = "api"
kind = "http"
url = "http://127.0.0.1:9/api"

[[service]]
id = "site"
monitors = ["web", "api"]
rule = "all"
"""


def latency_slo(slo_id: str, target: str, threshold: str) -> str:
    return f"""
[[slo]]
id = "{slo_id}"
target = "{target}"
objective = 99.0
window = "1d"
latency = {{ threshold = "{threshold}", objective = 90.0 }}
"""


def test_a_report_counts_each_slo_against_its_own_threshold(tmp_path):
    """Two SLOs on one monitor (0.5 s, 2 s) and one of 1 s on a service of it and another
    monitor, configured by the daemon's own code; a reload adds one of 0.7 s after the raw
    results of the first probes are gone: the report says it is counted from the reload."""
    db = tmp_path / "u.db"
    head = f'[daemon]\ndatabase = "{db}"\n'
    slos = latency_slo("web-tight", "web", "500ms") + latency_slo("web-loose", "web", "2s")
    slos += latency_slo("site-latency", "site", "1s")
    before, after = tmp_path / "before.toml", tmp_path / "after.toml"
    before.write_text(head + MONITORS + slos)
    after.write_text(head + MONITORS + slos + latency_slo("web-late", "web", "700ms"))
    clock = Clock(T0 - MIN)
    daemon = Daemon(load_config(str(before)))
    daemon.store = s = open_store(db, clock)
    ids = s.register_monitors([("web", "http", "web"), ("api", "http", "api")])
    daemon._configure_store(daemon.config, ids)
    assert s.latency_thresholds == {
        ids["web"]: (500_000, 1_000_000, 2_000_000),
        ids["api"]: (1_000_000,),
    }
    writer_pass(s)

    def probes(minutes: range) -> None:
        for i in minutes:
            s.record(ids["web"], T0 + i * MIN, result(True, 600_000), [], Snapshot())
            s.record(ids["api"], T0 + i * MIN + 1000, result(True, 1_500_000), [], Snapshot())
        writer_pass(s)

    probes(range(1, 6))
    clock.ms = T0 + 30 * MIN
    expire_raw(s, clock, T0 + 29 * MIN)
    daemon._configure_store(load_config(str(after)), ids)  # what a reload does
    assert s.latency_thresholds[ids["web"]] == (500_000, 700_000, 1_000_000, 2_000_000)
    writer_pass(s)
    probes(range(31, 36))
    probes(range(61, 62))
    s.close()

    def report(lo: int, hi: int) -> dict[str, dict]:
        out = cli_here(
            "report",
            "-c",
            str(after),
            "--from",
            iso(lo / 1000),
            "--to",
            iso(hi / 1000),
            "--format",
            "json",
        )
        assert out.returncode == 0, out.stderr
        return {slo["id"]: slo["latency"] for slo in json.loads(out.stdout)["slos"]}

    first = report(T0, T0 + HOUR)
    start = iso_ms(T0 - MIN)
    assert first["web-tight"] == {
        "threshold_seconds": 0.5, "objective": 0.9, "attainment": 0.0, "met": False, "good": 0,
        "total": 10, "counted_from": start, "exact": True,
    }  # fmt: skip
    assert first["web-loose"] == {
        "threshold_seconds": 2.0, "objective": 0.9, "attainment": 1.0, "met": True, "good": 10,
        "total": 10, "counted_from": start, "exact": True,
    }  # fmt: skip
    # The service: web's 0.6 s probes are under 1 s, api's 1.5 s ones are not.
    assert (first["site-latency"]["good"], first["site-latency"]["total"]) == (10, 20)
    assert first["site-latency"]["counted_from"] == start and first["site-latency"]["exact"] is True
    late = first["web-late"]
    assert (late["good"], late["total"], late["exact"]) == (5, 5, False)
    assert late["counted_from"] == iso_ms(T0 + 30 * MIN)
    # The next hour is counted whole: exact.
    second = report(T0 + HOUR, T0 + 2 * HOUR)
    assert (
        second["web-late"]["good"],
        second["web-late"]["total"],
        second["web-late"]["exact"],
    ) == (1, 1, True)
    assert (second["web-tight"]["good"], second["web-tight"]["total"]) == (0, 1)


async def test_a_reload_of_the_daemon_counts_a_new_threshold_on_its_own(tmp_path):
    """The real daemon probes a target answering in 0.4 s under an SLO of 300 ms; a reload adds
    one of 2 s. The new one counts every probe as fast, from the first raw result on; the old
    one none of them."""
    target, port = await serve(0.4)
    monitor = (
        f'[[monitor]]\nid = "slow"\nkind = "http"\nurl = "http://127.0.0.1:{port}/"\n'
        'timeout = "0.9s"\n'
    )
    d = DaemonProc(tmp_path, monitor + latency_slo("tight", "slow", "300ms"))

    async def results(n: int) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if d.db.exists():
                with sqlite3.connect(d.db) as c:
                    if c.execute("SELECT count(*) FROM results WHERE ok").fetchone()[0] >= n:
                        return
            await asyncio.sleep(0.1)
        raise AssertionError(f"fewer than {n} results")

    try:
        await d.start()
        await results(3)
        d.write_config(
            monitor + latency_slo("tight", "slow", "300ms") + latency_slo("loose", "slow", "2s")
        )
        d.send(signal.SIGHUP)
        await results(6)
        assert await d.stop() == 0
    finally:
        if d.proc is not None and d.proc.returncode is None:
            await d.stop(signal.SIGKILL)
        await target.cleanup()
    assert "Traceback" not in d.log.read_text()
    c = sqlite3.connect(d.db)
    assert c.execute("SELECT count(*) FROM runs WHERE end_reason = 'reload'").fetchone() == (1,)
    n, first, first_ok = c.execute(
        "SELECT sum(ok), min(ts), min(CASE WHEN ok THEN ts END) FROM results"
    ).fetchone()
    hour = first // HOUR * HOUR
    out = cli_here(
        "report",
        "-c",
        str(d.config),
        "--from",
        iso(hour / 1000),
        "--to",
        iso(time.time()),
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    lat = {slo["id"]: slo["latency"] for slo in json.loads(out.stdout)["slos"]}
    assert (lat["tight"]["good"], lat["tight"]["total"]) == (0, n)
    assert (lat["loose"]["good"], lat["loose"]["total"]) == (n, n)
    assert lat["tight"]["exact"] is lat["loose"]["exact"] is True
    assert ms_of(lat["tight"]["counted_from"]) <= first_ok
    assert (
        ms_of(lat["loose"]["counted_from"]) == first
    )  # counted from the raw results, back to the first


# -- against a brute-force count -----------------------------------------------------------------

POOL = (1, 250_000, 500_000, 500_001, 2_000_000)
DURATIONS = (0, 1, 2, 249_999, 250_000, 500_000, 500_001, 500_002, 2_000_000, 2_000_001, 9_000_000)

GAPS = (
    1000,
    60_000,
    20 * MIN,
    HOUR,
    3 * HOUR,
)  # ms between one probe and the next (of either monitor)
probe = st.tuples(st.sampled_from(GAPS), st.booleans(), st.sampled_from(DURATIONS))  # (gap, ok, µs)
thresholds = st.frozensets(st.sampled_from(POOL))
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("probes"),
            st.sampled_from([0, 1]),  # which monitor
            st.lists(probe, min_size=1, max_size=6),
            st.booleans(),  # a writer pass after them, or they stay queued
        ),
        st.tuples(st.just("set"), st.tuples(thresholds, thresholds)),
        st.tuples(st.just("expire"), st.floats(0, 1)),  # where the cut falls among the raw results
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=120, deadline=None, database=None)
@given(steps)
def test_rollups_match_a_brute_force_count(script):
    """Random probes (durations at and around the thresholds), random threshold sets applied at
    random points, raw results expired at random points. The rule, checked by brute force over
    every probe written: a (monitor, threshold) counts the probes whose raw results were kept
    when it began to be counted, and every probe written after; ``since`` is the oldest of those
    raw results; every successful probe from ``since`` on is counted; the rollups from since's
    hour on hold exactly the counted probes; a report over hours from there counts them, and is
    exact when no successful probe of its hours was left out."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "u.db"
        clock = Clock(T0)
        s = open_store(db, clock)
        mids = list(s.register_monitors([("m0", "tcp", "m0"), ("m1", "tcp", "m1")]).values())
        t = T0
        queued: list[tuple[int, int, bool, int]] = []  # (monitor, ts, ok, µs)
        written: dict[int, list[tuple[int, bool, int]]] = {m: [] for m in mids}
        raw: dict[int, list[tuple[int, bool, int]]] = {m: [] for m in mids}
        wanted: dict[int, frozenset[int]] | None = None
        seen: dict[int, frozenset[int]] | None = None
        counted: dict[tuple[int, int], list[tuple[int, bool, int]]] = {}
        since: dict[tuple[int, int], int] = {}
        since_first: set[tuple[int, int]] = set()  # began with no raw result

        def run_pass() -> None:
            nonlocal seen
            clock.ms = t + 1000
            if wanted is not None and wanted is not seen:
                for pair in [p for p in counted if p[1] not in wanted[p[0]]]:
                    del counted[pair], since[pair]
                    since_first.discard(pair)
                for m in mids:
                    for thr in wanted[m]:
                        if (m, thr) not in counted:
                            counted[(m, thr)] = [p for p in raw[m] if p[1]]
                            since[(m, thr)] = min([p[0] for p in raw[m]], default=clock.ms)
                            if not raw[m]:
                                since_first.add((m, thr))
                seen = wanted
            firsts: dict[int, int] = {}
            for m, ts, ok, us in queued:
                written[m].append((ts, ok, us))
                raw[m].append((ts, ok, us))
                for (pm, _), probes in counted.items():
                    if pm == m and ok:
                        probes.append((ts, ok, us))
                        firsts[m] = min(ts, firsts.get(m, ts))
            for pair in [p for p in since_first if p[0] in firsts]:
                since[pair] = min(since[pair], firsts[pair[0]])
                since_first.discard(pair)
            queued.clear()
            writer_pass(s)

        for step in script:
            if step[0] == "probes":
                _, which, probes, then_pass = step
                for gap, ok, us in probes:
                    t += gap
                    s.record(mids[which], t, result(ok, us), [], Snapshot())
                    queued.append((mids[which], t, ok, us))
                if then_pass:
                    run_pass()
            elif step[0] == "set":
                wanted = {mids[0]: step[1][0], mids[1]: step[1][1]}
                s.latency_thresholds = {m: tuple(ths) for m, ths in wanted.items()}
                run_pass()
            else:
                run_pass()  # what is queued is written first
                kept = sorted(p[0] for m in mids for p in raw[m])
                i = int(step[1] * (len(kept) + 1))
                cut = kept[i] if i < len(kept) else clock.ms  # or all of them
                expire_raw(s, clock, cut)
                for m in mids:
                    raw[m] = [p for p in raw[m] if p[0] >= cut]
        run_pass()
        s.close()

        conn = sqlite3.connect(db)
        assert tracked(db) == since
        rows: dict[tuple[int, int], dict[int, tuple[int, int]]] = {}
        for m, hour, thr, ok, fast in latency_rows(db):
            assert 0 <= fast <= ok
            rows.setdefault((m, thr), {})[hour] = (ok, fast)
        for (m, thr), probes in counted.items():
            first_hour = since[(m, thr)] // HOUR * HOUR
            assert {p[0] for p in written[m] if p[1] and p[0] >= since[(m, thr)]} <= {
                p[0] for p in probes
            }
            want: dict[int, tuple[int, int]] = {}
            for ts, _, us in probes:
                ok, fast = want.get(ts // HOUR * HOUR, (0, 0))
                want[ts // HOUR * HOUR] = (ok + 1, fast + (us <= thr))
            got = {h: v for h, v in rows.get((m, thr), {}).items() if h >= first_hour}
            assert got == {h: v for h, v in want.items() if h >= first_hour}, (m, thr)
            counted_ts = {p[0] for p in probes}
            for lo in range(first_hour, t + HOUR, HOUR):
                for hi in (lo + HOUR, lo + 3 * HOUR, (t + 2 * HOUR) // HOUR * HOUR):
                    inside = [p for p in probes if lo <= p[0] < hi]
                    good, total, frm, exact = latency_counts(conn, [m], thr, (lo, hi))
                    assert (good, total, frm) == (
                        sum(us <= thr for _, _, us in inside),
                        len(inside),
                        since[(m, thr)],
                    )
                    missed = [
                        p for p in written[m] if p[1] and lo <= p[0] < hi and p[0] not in counted_ts
                    ]
                    assert exact == (not missed)
        # A threshold not counted now for a monitor gives no counting time.
        for m in mids:
            for thr in POOL:
                if (m, thr) not in counted:
                    assert latency_counts(conn, [m], thr, (T0, t + HOUR))[2:] == (None, False)
