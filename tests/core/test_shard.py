"""Shards (uptimed.core.shard): every monitor in exactly one shard, stable, and the plan names
what is whole here."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.config.documents import load
from uptimed.core.shard import plan, shard_of


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # load() writes the config file it reads


IDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.-", min_size=1, max_size=64)


@given(st.lists(IDS, unique=True, max_size=50), st.integers(1, 1000))
def test_every_monitor_is_in_exactly_one_shard(ids: list[str], count: int) -> None:
    for i in ids:
        assert 1 <= shard_of(i, count) <= count
        assert shard_of(i, count) == shard_of(i, count)


def test_the_hash_is_the_documented_one() -> None:
    """SHA-256 of the id, first 8 bytes big-endian, mod N, plus 1: any machine or version agrees
    (Python's own hash() is salted per process and would not)."""
    digest = hashlib.sha256(b"web").digest()
    assert shard_of("web", 7) == int.from_bytes(digest[:8], "big") % 7 + 1
    assert [shard_of(f"m{i}", 3) for i in range(6)] == [shard_of(f"m{i}", 3) for i in range(6)]


def test_shards_split_a_large_config_evenly() -> None:
    counts = [0, 0, 0]
    for i in range(3000):
        counts[shard_of(f"monitor-{i}", 3) - 1] += 1
    assert all(900 < n < 1100 for n in counts)


def _config(shard: str | None) -> str:
    daemon = f'[daemon]\nshard = "{shard}"\n' if shard else ""
    monitors = "".join(
        f'[[monitor]]\nid = "m{i}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {i + 1}\n'
        for i in range(12)
    )
    return (
        daemon + monitors + '[[service]]\nid = "all"\nmonitors = '
        + str([f"m{i}" for i in range(12)]).replace("'", '"') + "\n"
        + '[[slo]]\nid = "s-all"\ntarget = "all"\nobjective = 99.9\nwindow = "30d"\n'
        + '[[slo]]\nid = "s-m0"\ntarget = "m0"\nobjective = 99.9\nwindow = "30d"\n'
    )  # fmt: skip


def test_the_plans_of_all_shards_partition_the_monitors() -> None:
    whole = plan(load(_config(None)))
    assert whole.shard is None and len(whole.monitors) == 12
    assert whole.services == ("all",) and whole.slos == ("s-all", "s-m0")
    assert not whole.services_elsewhere and not whole.slos_elsewhere
    plans = [plan(load(_config(f"{i}/3"))) for i in (1, 2, 3)]
    assert sorted(m for p in plans for m in p.monitors) == sorted(whole.monitors)
    for i, p in enumerate(plans, 1):
        assert p.shard == (i, 3)
        assert all(shard_of(m, 3) == i for m in p.monitors)
        # The service spans every shard: no shard evaluates it, each says where the rest runs.
        assert p.services == () and set(p.services_elsewhere["all"]) == {1, 2, 3} - {i}
        # An SLO on one monitor is whole on that monitor's shard only.
        assert ("s-m0" in p.slos) == (shard_of("m0", 3) == i)
        assert ("s-m0" in p.slos_elsewhere) == (shard_of("m0", 3) != i)
