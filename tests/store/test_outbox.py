"""The notification outbox (uptimed.store.outbox) on a real SQLite file, and its backoff."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from uptimed.core.retry import CAP, backoff
from uptimed.store import outbox
from uptimed.store.schema import migrate


def db(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "u.db", isolation_level=None)
    migrate(Database(conn))
    return conn


def entry(key: str, notifier: str = "ops", due: int = 1000) -> outbox.Entry:
    return outbox.Entry(key, notifier, "incident.opened", "inc1", '{"event": "x"}', due)


def test_an_entry_is_enqueued_once_per_key_even_after_a_restart(tmp_path: Path) -> None:
    conn = db(tmp_path)
    assert outbox.enqueue(conn, [entry("k1"), entry("k2")], now=1000) == 2
    conn.close()
    conn = db(tmp_path)  # a restart: the same planner pass runs again
    assert outbox.enqueue(conn, [entry("k1"), entry("k3")], now=2000) == 1
    assert outbox.known(conn, ["k1", "k3", "k9"]) == {"k1", "k3"}
    assert [d.key for d in outbox.due(conn, now=2000)] == ["k1", "k2", "k3"]


def test_due_skips_busy_notifiers_and_what_is_not_due_yet(tmp_path: Path) -> None:
    conn = db(tmp_path)
    outbox.enqueue(conn, [entry("a", "slow"), entry("b", "ops"), entry("c", due=5000)], now=0)
    assert [d.key for d in outbox.due(conn, now=1000, busy=["slow"])] == ["b"]
    assert [d.key for d in outbox.due(conn, now=5000)] == ["a", "b", "c"]


def test_failures_back_off_then_the_entry_dies_and_counts_say_so(tmp_path: Path) -> None:
    conn = db(tmp_path)
    outbox.enqueue(conn, [entry("k")], now=0)
    (d,) = outbox.due(conn, now=1000)
    state = outbox.failed(conn, d.id, now=1000, detail="HTTP 500", max_attempts=3, jitter=lambda: 0)
    assert state == outbox.PENDING
    assert outbox.due(conn, now=1000 + 2499) == []  # first retry: 5 s x 0.5
    (d,) = outbox.due(conn, now=1000 + 2500)
    assert d.attempts == 1
    assert outbox.failed(conn, d.id, now=3500, detail="HTTP 500", max_attempts=3) == "pending"
    (d,) = outbox.due(conn, now=10**9)
    assert outbox.failed(conn, d.id, now=4000, detail="timeout", max_attempts=3) == "dead"
    assert outbox.due(conn, now=10**9) == []
    assert outbox.counts(conn) == {("ops", "dead"): 1}
    row = conn.execute("SELECT attempts, last_error, done FROM outbox").fetchone()
    assert row == (3, "timeout", 4000)


def test_a_failure_not_worth_retrying_is_dead_at_once_and_sent_is_final(tmp_path: Path) -> None:
    conn = db(tmp_path)
    outbox.enqueue(conn, [entry("gone"), entry("ok")], now=0)
    gone, ok = outbox.due(conn, now=1000)
    assert outbox.failed(conn, gone.id, now=1000, detail="HTTP 404", retry=False) == "dead"
    outbox.sent(conn, ok.id, now=1200)
    assert outbox.due(conn, now=10**9) == []
    assert outbox.counts(conn) == {("ops", "dead"): 1, ("ops", "sent"): 1}


@given(
    attempt=st.integers(1, 200),
    jitter=st.floats(0, 1, exclude_max=True),
    retry_after=st.none() | st.floats(0, 10 * CAP),
)
def test_backoff_grows_stays_in_its_band_and_honours_retry_after(
    attempt: int, jitter: float, retry_after: float | None
) -> None:
    step = min(CAP, 5.0 * 2 ** (attempt - 1))
    wait = backoff(attempt, jitter, retry_after)
    assert step / 2 <= wait <= CAP
    if retry_after is None or retry_after <= step / 2:
        assert wait <= step  # at most step: a jitter just below 1 rounds up to it
    else:
        assert wait >= min(retry_after, CAP)
    assert backoff(attempt + 1, 0.0) >= backoff(attempt, 0.0)
