"""The ``results`` row: phases and details by name, in a compact encoding."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from probes import KINDS
from probes.base import ProbeResult
from uptimed.core.state import Snapshot
from uptimed.store import Store
from uptimed.store.results import ResultReader, pack, unpack, unzigzag, zigzag

pairs = st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 2**64)), max_size=8)


@given(pairs)
def test_pack_and_unpack_round_trip(values: list[tuple[int, int]]) -> None:
    assert unpack(pack(values)) == values


@given(st.integers(-(2**63), 2**63))
def test_zigzag_round_trips_and_keeps_small_numbers_small(n: int) -> None:
    assert zigzag(n) >= 0 and unzigzag(zigzag(n)) == n
    assert zigzag(n) <= 2 * abs(n)


def test_the_encoding_is_compact() -> None:
    """Three HTTP phases of a loopback probe, and a status code: a byte per id, the values in
    as few bytes as their size needs."""
    assert pack([(2, 213), (4, 1200), (5, 43)]) == bytes([2, 0xD5, 0x01, 4, 0xB0, 0x09, 5, 43])
    assert len(pack([(1, zigzag(200))])) == 3


def test_phases_and_details_no_kind_declared_get_names_of_their_own(tmp_path: Path) -> None:
    """A name the store has not seen (a probe reporting a phase its kind does not declare, or
    a kind added since the database was made) gets an id when it is first written; negative
    details are kept."""
    declared = {p for k in KINDS.values() for p in k.phases}
    assert "handshake" not in declared
    s = Store(str(tmp_path / "u.db"), flush_interval=0.02)
    s.open()
    (mid,) = s.register_monitors([("a", "tcp", "a")]).values()
    s.start(version="t", config_sha256="x")
    r = ProbeResult(True, 0.25, phases={"connect": 0.001, "handshake": 0.2}, details={"days": -3})
    s.record(mid, 1000, r, [], Snapshot())
    s.record(mid, 2000, ProbeResult(True, 0.25, phases={"handshake": 0.1}), [], Snapshot())
    deadline = time.monotonic() + 5
    while s.queue_depth and time.monotonic() < deadline:
        time.sleep(0.01)
    s.close()
    c = sqlite3.connect(tmp_path / "u.db")
    rows = ResultReader(c).between(mid, 0, 3000)
    assert [(r.phases_us, r.details) for r in rows] == [
        ({"connect": 1000, "handshake": 200_000}, {"days": -3}),
        ({"handshake": 100_000}, {}),
    ]
    names = [n for (n,) in c.execute("SELECT name FROM phase_names ORDER BY id")]
    assert names[-1] == "handshake" and names.count("handshake") == 1
    assert set(names) == declared | {"handshake"}
