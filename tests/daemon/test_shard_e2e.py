"""End to end: a sharded daemon with a location (uptimed run --shard I/N --location NAME) probes
only its shard's monitors, records only them, and its runs say where they were recorded."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.support.daemon_proc import DaemonProc
from tests.support.targets import serve_target
from uptimed.core.shard import shard_of


async def test_a_shard_runs_and_records_only_its_monitors(tmp_path: Path) -> None:
    async with serve_target() as t:
        monitors = "".join(
            f'[[monitor]]\nid = "m{i}"\nkind = "http"\nurl = "{t.url("/")}"\n' for i in range(10)
        )
        mine = sorted(f"m{i}" for i in range(10) if shard_of(f"m{i}", 2) == 2)
        assert 0 < len(mine) < 10  # the test is only worth something if the shard is a part
        async with DaemonProc(
            tmp_path, monitors, args=("--shard", "2/2", "--location", "fra1")
        ) as d:
            await asyncio.sleep(2.5)
            text = await d.metrics()
            assert await d.stop() == 0
    probed = sorted(set(re.findall(r'^probe_success\{monitor="([^"]+)"', text, re.M)))
    assert probed == mine
    assert sorted(k for (k,) in d.sql("SELECT key FROM monitors")) == mine
    assert d.sql("SELECT DISTINCT location, shard FROM runs") == [("fra1", "2/2")]
    probed_ids = {
        k
        for (k,) in d.sql(
            "SELECT DISTINCT m.key FROM results r JOIN monitors m ON m.id = r.monitor"
        )
    }
    assert probed_ids == set(mine)
