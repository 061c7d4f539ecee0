"""The store on real SQLite files: schema, batching, resume, retention, crash safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from probes.base import ProbeResult
from uptimed.core.state import DOWN, UP, Segment, Snapshot
from uptimed.errors import DatabaseLocked
from uptimed.store import Store, now_ms
from uptimed.store.results import ResultReader


def _open(path, **kw) -> Store:
    s = Store(str(path), flush_interval=0.05, **kw)
    s.open()
    return s


def test_schema_wal_and_version(tmp_path):
    s = _open(tmp_path / "u.db")
    s.close()
    c = sqlite3.connect(tmp_path / "u.db")
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA user_version").fetchone()[0] >= 1
    tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"results", "timeline", "runs", "monitors", "monitor_state", "error_kinds"} <= tables
    # Opening again applies nothing twice.
    s = _open(tmp_path / "u.db")
    s.close()


def test_results_timeline_and_snapshots_round_trip(tmp_path):
    s = _open(tmp_path / "u.db")
    ids = s.register_monitors([("web", "http", "Web"), ("db", "tcp", "db")])
    assert set(ids) == {"web", "db"}
    assert s.register_monitors([("web", "http", "Web site")]) == {"web": ids["web"]}  # stable ids
    s.start(version="t", config_sha256="abc")
    t = 1_700_000_000_000
    fail = ProbeResult(
        False,
        0.25,
        "http_status",
        "503 Service Unavailable",
        {"connect": 0.001},
        {"status_code": 503},
    )
    ok = ProbeResult(
        True, 0.01, phases={"connect": 0.0005, "processing": 0.002, "transfer": 0.0001}
    )
    s.record(
        ids["web"],
        t,
        ok,
        [Segment(t, t + 2500, UP)],
        Snapshot(UP, 0, None, t, Segment(t, t + 2500, UP)),
    )
    # The same segment written again with another end and state replaces the first (backdating).
    snap = Snapshot(DOWN, 0, None, t + 1000, Segment(t, t + 3500, DOWN))
    s.record(ids["web"], t + 1000, fail, [Segment(t, t + 3500, DOWN)], snap)
    deadline = time.time() + 5
    while s.queue_depth and time.time() < deadline:
        time.sleep(0.01)
    s.close()

    c = sqlite3.connect(tmp_path / "u.db")
    rows = ResultReader(c).between(ids["web"], t, t + 1001)
    assert [(r.ts, r.ok, r.duration_us, r.details, r.error, r.phases_us) for r in rows] == [
        (t, True, 10000, {}, None, {"connect": 500, "processing": 2000, "transfer": 100}),
        (
            t + 1000,
            False,
            250000,
            {"status_code": 503},
            "503 Service Unavailable",
            {"connect": 1000},
        ),
    ]
    assert rows[1].error_kind == "http_status"
    kind = c.execute(
        "SELECT e.name FROM results r JOIN error_kinds e ON e.id = r.error_kind"
    ).fetchone()[0]
    assert kind == "http_status"
    assert c.execute("SELECT start, end, state FROM timeline").fetchall() == [(t, t + 3500, DOWN)]
    run = c.execute("SELECT ended, end_reason, config_sha256 FROM runs").fetchone()
    assert run[0] is not None and run[1] == "stop" and run[2] == "abc"

    s = _open(tmp_path / "u.db")
    assert s.load_snapshots() == {ids["web"]: snap}
    s.close()


def test_a_run_left_open_is_closed_at_its_heartbeat(tmp_path):
    s = _open(tmp_path / "u.db")
    s.start(version="t", config_sha256="x")
    time.sleep(0.2)
    s._stop.set()
    s._thread.join()
    hb = sqlite3.connect(tmp_path / "u.db").execute("SELECT heartbeat FROM runs").fetchone()[0]
    s._conn.close()  # the process "dies" without closing its run
    os.close(s._lock_fd)  # and its lock, as a dead process would
    s = _open(tmp_path / "u.db")
    s.close()
    rows = (
        sqlite3.connect(tmp_path / "u.db")
        .execute("SELECT ended, end_reason FROM runs ORDER BY id")
        .fetchall()
    )
    assert rows == [(hb, "crash")]


def test_retention_deletes_only_old_results(tmp_path):
    s = _open(tmp_path / "u.db", retention_raw=3600)
    ids = s.register_monitors(
        [(f"m{i}", "tcp", f"m{i}") for i in range(120)]
    )  # more than one chunk
    s.start(version="t", config_sha256="x")
    now = now_ms()
    r = ProbeResult(True, 0.001)
    for mid in ids.values():
        s.record(mid, now - 7200_000, r, [], Snapshot())
        s.record(mid, now - 60_000, r, [], Snapshot())
    deadline = time.time() + 10
    c = sqlite3.connect(tmp_path / "u.db")
    # Every row on disk first: a retention pass that ran while some old rows were still queued
    # would leave those for the next pass, an hour later.
    while time.time() < deadline:
        if c.execute("SELECT count(*) FROM results").fetchone()[0] == 240:
            break
        time.sleep(0.05)
    s.retention.due = 0  # due now
    while time.time() < deadline:
        old = c.execute("SELECT count(*) FROM results WHERE ts < ?", (now - 3600_000,)).fetchone()[
            0
        ]
        total = c.execute("SELECT count(*) FROM results").fetchone()[0]
        if total and not old:
            break
        time.sleep(0.05)
    s.close()
    assert c.execute("SELECT count(*) FROM results").fetchone()[0] == 120


def test_a_call_that_fails_does_not_lose_the_batch(tmp_path):
    s = _open(tmp_path / "u.db")
    (mid,) = s.register_monitors([("a", "tcp", "a")]).values()
    s.start(version="t", config_sha256="x")
    s.record(mid, 1000, ProbeResult(True, 0.001), [], Snapshot())
    bad = s.call(lambda conn: conn.execute("INSERT INTO nowhere VALUES (1)"))
    good = s.call(lambda conn: conn.execute("SELECT count(*) FROM results").fetchone()[0])
    with pytest.raises(sqlite3.OperationalError):
        bad.result(5)
    assert good.result(5) == 1
    s.close()


WRITER = textwrap.dedent(
    """
    import sys, time
    from probes.base import ProbeResult
    from uptimed.core.state import Segment, Snapshot
    from uptimed.store import Store
    committed = 0
    def on_batch(seconds, rows):
        global committed
        committed += rows
        print(committed, flush=True)
    s = Store(sys.argv[1], flush_interval=0.01, max_batch=200, on_batch=on_batch)
    s.open()
    ids = s.register_monitors([(f"m{i}", "http", "m") for i in range(50)])
    s.start(version="t", config_sha256="x")
    r = ProbeResult(False, 0.01, "timeout", "timed out after 1s", {"connect": 0.001})
    t = int(time.time() * 1000)
    i = 0
    while True:
        for mid in ids.values():
            i += 1
            seg = Segment(t, t + i + 2500, 0)
            s.record(mid, t + i, r, [seg], Snapshot(0, 0, None, t + i, seg))
        time.sleep(0.001)
    """
)


@pytest.mark.parametrize("attempt", range(4))
def test_kill_9_never_corrupts_and_loses_at_most_the_last_batch(tmp_path, attempt):
    db = tmp_path / "u.db"
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
    committed = 0
    deadline = time.time() + 0.3 + attempt * 0.37
    while time.time() < deadline:
        line = p.stdout.readline()
        if line:
            committed = int(line)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    for line in p.stdout.read().split():  # batches reported just before the kill
        committed = int(line)
    p.stdout.close()
    assert committed > 0
    c = sqlite3.connect(db)
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = c.execute("SELECT count(*) FROM results").fetchone()[0]
    # Everything reported committed is there; at most one batch (200 rows) beyond it was in flight.
    assert committed <= stored <= committed + 200
    # The next open closes the killed run as crashed.
    s = _open(db)
    s.close()
    assert c.execute("SELECT end_reason FROM runs ORDER BY id").fetchall()[0] == ("crash",)


def test_a_database_from_an_older_version_is_migrated_forward(tmp_path):
    from sqlite_utils import Database

    from uptimed.store.schema import migrations

    db = Database(tmp_path / "u.db")
    migrations.apply(db, stop_before="m002_sla")
    db.execute("INSERT INTO timeline VALUES (1, 0, 10, 1)")
    db.close()
    s = _open(tmp_path / "u.db")
    s.close()
    c = sqlite3.connect(tmp_path / "u.db")
    assert c.execute("PRAGMA user_version").fetchone()[0] == 10
    assert c.execute("SELECT monitor, start, end, state, cause FROM timeline").fetchall() == [
        (1, 0, 10, 1, None)
    ]
    assert c.execute("SELECT count(*) FROM timeline_daily").fetchone() == (0,)
    assert c.execute("SELECT count(*) FROM rollup_latency").fetchone() == (0,)
    assert c.execute("SELECT count(*) FROM latency_tracked").fetchone() == (0,)


def test_the_writer_summarizes_the_days_that_became_final(tmp_path):
    day = 86_400_000
    s = _open(tmp_path / "u.db")
    (mid,) = s.register_monitors([("a", "http", "a")]).values()
    t0 = 1_790_000_000_000 // day * day
    s._conn.execute("INSERT INTO timeline VALUES (?, ?, ?, 1, NULL)", (mid, t0 + 5, t0 + 3 * day))
    s._conn.execute(
        "INSERT INTO monitor_state (monitor, state, streak, last_ts, floor) VALUES (?, 1, 0, ?, 0)",
        (mid, t0 + 2 * day + 7),
    )
    s.summaries.due = 0  # at once, not a few seconds after the start
    s.start(version="t", config_sha256="x")
    c = sqlite3.connect(tmp_path / "u.db")
    deadline = time.monotonic() + 10
    while (
        time.monotonic() < deadline
        and not c.execute("SELECT count(*) FROM timeline_daily").fetchone()[0]
    ):
        time.sleep(0.05)
    s.close()
    assert c.execute("SELECT day, up_ms, down_ms FROM timeline_daily").fetchall() == [
        (t0, day - 5, 0),
        (t0 + day, day, 0),
    ]
    assert c.execute("SELECT monitor, since, upto FROM timeline_daily_state").fetchall() == [
        (mid, t0, t0 + 2 * day)
    ]


def test_hourly_rollups_count_probes_failures_durations_and_fast_probes(tmp_path):
    s = _open(tmp_path / "u.db")
    (mid,) = s.register_monitors([("a", "http", "a")]).values()
    s.latency_thresholds = {mid: (300_000,)}  # 300 ms
    s.start(version="t", config_sha256="x")
    hour = 1_700_002_800_000  # a whole hour
    for ts, ok, dur in [
        (hour + 1, True, 0.1),
        (hour + 2, True, 0.4),
        (hour + 3, False, 0.05),
        (hour + 3_600_000, True, 0.2),
    ]:
        s.record(mid, ts, ProbeResult(ok, dur, None if ok else "timeout"), [], Snapshot())
    s.close()
    rows = (
        sqlite3.connect(tmp_path / "u.db")
        .execute(
            "SELECT hour, probes, failures, duration_sum_us, duration_min_us, duration_max_us, fast"
            " FROM rollup_hourly ORDER BY hour"
        )
        .fetchall()
    )
    assert rows == [
        (hour, 3, 1, 550_000, 50_000, 400_000, 1),
        (hour + 3_600_000, 1, 0, 200_000, 200_000, 200_000, 1),
    ]
    # The latency SLI per threshold: successful probes counted, and those no slower than it.
    rows = (
        sqlite3.connect(tmp_path / "u.db")
        .execute("SELECT hour, threshold_us, ok, fast FROM rollup_latency ORDER BY hour")
        .fetchall()
    )
    assert rows == [(hour, 300_000, 2, 1), (hour + 3_600_000, 300_000, 1, 1)]


def test_retention_deletes_old_latency_rollups_with_the_hourly_ones(tmp_path):
    s = _open(tmp_path / "u.db")
    (mid,) = s.register_monitors([("a", "http", "a")]).values()
    s.latency_thresholds = {mid: (300_000,)}
    s.retention.rollup = 86400.0
    now = now_ms()
    s.start(version="t", config_sha256="x")
    for ts in (now - 3 * 86_400_000, now - 60_000):
        s.record(mid, ts, ProbeResult(True, 0.1), [], Snapshot())
    s.call(lambda conn: None).result(5)
    s.retention.due = 0
    c = sqlite3.connect(tmp_path / "u.db")
    deadline = time.time() + 10
    while (
        time.time() < deadline
        and c.execute("SELECT count(*) FROM rollup_hourly").fetchone()[0] != 1
    ):
        time.sleep(0.05)
    s.close()
    assert c.execute("SELECT count(*) FROM rollup_hourly").fetchone()[0] == 1
    assert c.execute("SELECT hour FROM rollup_latency").fetchall() == [
        (now - 60_000 - (now - 60_000) % 3_600_000,)
    ]


def test_one_store_per_database_even_through_a_symlink(tmp_path):
    s = _open(tmp_path / "u.db")
    (tmp_path / "alias.db").symlink_to(tmp_path / "u.db")
    for path in (tmp_path / "u.db", tmp_path / "alias.db"):
        with pytest.raises(DatabaseLocked, match=f"pid {os.getpid()}"):
            _open(path)
    s.close()
    _open(tmp_path / "alias.db").close()  # released at close


def test_a_failed_open_holds_nothing(tmp_path):
    (tmp_path / "u.db").write_bytes(b"not a database at all" * 100)
    for _ in range(2):  # the second attempt fails the same way: not "locked" by the first
        with pytest.raises(sqlite3.DatabaseError) as e:
            _open(tmp_path / "u.db")
        assert not isinstance(e.value, DatabaseLocked)


def test_retention_deletes_old_delivered_notifications_never_pending_ones(tmp_path):
    from uptimed.store import outbox

    s = _open(tmp_path / "u.db")
    s.retention.rollup = 86400.0
    now = now_ms()
    old = now - 3 * 86_400_000

    def fill(conn: sqlite3.Connection) -> None:
        entries = [outbox.Entry(k, "hook", "incident.opened", "inc-1", "{}", old) for k in "abcd"]
        outbox.enqueue(conn, entries, old)
        ids = dict(conn.execute("SELECT key, id FROM outbox"))
        outbox.sent(conn, ids["a"], old)  # delivered long ago: goes
        outbox.failed(conn, ids["b"], old, "HTTP 400", retry=False)  # given up long ago: goes
        outbox.sent(conn, ids["c"], now)  # delivered now: stays; "d" is pending: stays

    s.start(version="t", config_sha256="x")
    s.call(fill).result(5)
    s.retention.due = 0
    c = sqlite3.connect(tmp_path / "u.db")
    deadline = time.time() + 10
    while time.time() < deadline and c.execute("SELECT count(*) FROM outbox").fetchone()[0] != 2:
        time.sleep(0.05)
    s.close()
    assert c.execute("SELECT key, state FROM outbox ORDER BY key").fetchall() == [
        ("c", "sent"), ("d", "pending"),
    ]  # fmt: skip
