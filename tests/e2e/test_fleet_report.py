"""`uptimed report --database A --database B`: two daemons' databases, from two locations, read
as one fleet by the real CLI.

Each database is written by the real runner (the daemon's probe loop, its state machine and its
store) with scripted probe results on a stepped clock, as a daemon at that location would leave
it: fra1 sees ``web`` fail for a while (a network problem near fra1), ams1 never does; ``db`` is
up from both. So with ``--location-quorum 2`` the fleet saw no downtime, with 1 it saw fra1's
outage, exactly as fra1's own report has it. One database alone is reported byte for byte as
before.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from probes.base import ProbeContext, ProbeResult
from tests.support.daemon_proc import UPTIMED
from uptimed.cli import main
from uptimed.config import loads_config
from uptimed.core.shard import shard_of
from uptimed.core.state import StateMachine
from uptimed.core.times import iso
from uptimed.daemon.runner import LiveMonitor, Runner, thresholds
from uptimed.model.config import Config
from uptimed.render.report import FORMATS, render
from uptimed.service.report import build_report
from uptimed.service.window import resolve_scope, resolve_window
from uptimed.store import Store, connect

CONFIG = """
[daemon]
database = "{db}"
{extra}

[defaults]
interval = "10s"
timeout = "4s"

[[monitor]]
id = "web"
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
monitors = ["web", "db"]

[[slo]]
id = "web-slo"
target = "web"
objective = 99.9
window = "1d"
"""

T0 = 1_796_000_000  # seconds: a fixed past, so every report below is over finished time
STEPS = 40  # probes 10 s apart: 400 s of history
FAILING = range(10, 22)  # the steps at which fra1's probes of web fail


async def record(
    path: Path, config: Config, location: str, fails: range, shard: str | None = None
) -> None:
    """A database as a daemon at ``location`` leaves it: the real runner probes every monitor
    the config runs here every 10 s (scripted: web fails at the steps of ``fails``)."""
    clock = [float(T0)]
    store = Store(str(path), wall=lambda: clock[0], flush_interval=0.02)
    store.open()
    here = [m for m in config.monitors if shard is None or shard_of(m.id, 2) == int(shard[0])]
    ids = store.register_monitors([(m.id, m.kind, m.id) for m in here])
    monitors: dict[str, LiveMonitor] = {}
    runner = Runner(store, ProbeContext(), 10, lambda lag: None, lambda: clock[0], lambda m: None)
    step = [0]

    def scripted(key: str) -> Any:
        async def probe(spec: Any, ctx: ProbeContext) -> ProbeResult:
            if key == "web" and step[0] in fails:
                return ProbeResult(False, 4.0, "timeout", "timed out after 4 s")
            return ProbeResult(True, 0.01, phases={"connect": 0.001})

        return probe

    for m in here:
        monitors[m.id] = live = LiveMonitor(m, ids[m.id], StateMachine(thresholds(m)))
        live.probe = scripted(m.id)
    runner.monitors = monitors
    store.start(version="test", config_sha256="x", location=location, shard=shard)
    for i in range(STEPS):
        step[0] = i
        clock[0] = T0 + 10 * i
        for key in monitors:
            await runner.run(key)
    clock[0] = T0 + 10 * STEPS
    store.close()


WINDOW = ("--from", iso(T0 * 1000), "--to", iso((T0 + 10 * STEPS) * 1000))


@pytest.fixture
async def fleet(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The config file and the two databases, fra1's and ams1's."""
    fra1, ams1 = tmp_path / "fra1.db", tmp_path / "ams1.db"
    text = CONFIG.format(db=fra1, extra="")
    (tmp_path / "c.toml").write_text(text)
    config = loads_config(text, str(tmp_path / "c.toml"))
    await record(fra1, config, "fra1", FAILING)
    await record(ams1, config, "ams1", range(0))
    return tmp_path / "c.toml", fra1, ams1


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UPTIMED, *args], capture_output=True, text=True, timeout=60)


def report(config: Path, *args: str) -> dict[str, Any]:
    r = cli("report", "-c", str(config), *WINDOW, "--format", "json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def item(rep: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    return next(x for x in rep[kind] if x["id"] == key)


async def test_the_quorum_decides_whether_one_location_s_outage_is_the_fleet_s(fleet) -> None:
    config, fra1, ams1 = fleet
    dbs = ("--database", str(fra1), "--database", str(ams1))
    alone = report(config)  # the config's database: fra1's
    web_alone = item(alone, "monitors", "web")
    assert web_alone["down_seconds"] > 60 and web_alone["incident_count"] == 1  # the premise
    assert item(report(config, "--database", str(ams1)), "monitors", "web")["down_seconds"] == 0

    both = report(config, *dbs, "--location-quorum", "2")
    web = item(both, "monitors", "web")
    assert (web["down_seconds"], web["incident_count"], web["incidents"]) == (0, 0, [])
    assert item(both, "services", "shop")["down_seconds"] == 0
    assert item(both, "slos", "web-slo")["met"] is True
    # Either location voting: fra1's outage is the fleet's, to the millisecond.
    either = report(config, *dbs, "--location-quorum", "1")
    web = item(either, "monitors", "web")
    assert web["down_seconds"] == web_alone["down_seconds"]
    assert web["incidents"] == web_alone["incidents"]
    assert item(either, "services", "shop")["down_seconds"] == web_alone["down_seconds"]
    # The default quorum is the config's ([daemon].location_quorum, 1 unless set).
    assert item(report(config, *dbs), "monitors", "web")["down_seconds"] == web["down_seconds"]
    assert either["fleet"] == {
        "locations": [
            {"location": "fra1", "database": str(fra1), "shard": None, "monitors": 2},
            {"location": "ams1", "database": str(ams1), "shard": None, "monitors": 2},
        ],
        "location_quorum": 1,
    }
    assert "fleet" not in alone


async def test_the_table_names_the_locations_and_the_quorum(fleet) -> None:
    config, fra1, ams1 = fleet
    dbs = ("--database", str(fra1), "--database", str(ams1))
    r = cli("report", "-c", str(config), *WINDOW, *dbs, "--location-quorum", "2")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    web = next(line for line in r.stdout.splitlines() if line.startswith("web "))
    assert web.split()[1:2] == ["100.0000"] and " 0s " in web, web
    assert "FLEET (2 databases; a monitor is down when at least 2 of its locations" in r.stdout
    assert f"fra1      -             2  {fra1}" in r.stdout
    r = cli("report", "-c", str(config), *WINDOW, *dbs, "--location-quorum", "1")
    web = next(line for line in r.stdout.splitlines() if line.startswith("web "))
    assert web.split()[1] != "100.0000", web


def in_process(monkeypatch: pytest.MonkeyPatch, now: int, *args: str) -> tuple[int, str, str]:
    """``uptimed ARGS`` in this process, with the clock at ``now`` (ms)."""
    monkeypatch.setattr("uptimed.store.now_ms", lambda: now)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:
            code = int(e.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
async def test_one_database_is_reported_byte_for_byte_as_before(fleet, monkeypatch, fmt) -> None:
    config_path, fra1, _ = fleet
    now = (T0 + 10 * STEPS + 5) * 1000
    config = loads_config(config_path.read_text(), str(config_path))
    conn = connect(str(fra1), readonly=True)
    try:
        w = resolve_window(now, start=WINDOW[1], end=WINDOW[3])
        want = render(
            build_report(conn, config, resolve_scope(config), w, now,
                         incident_lists=fmt == "json"),
            fmt,
        )  # fmt: skip
    finally:
        conn.close()
    for extra in ((), ("--database", str(fra1)), ("--location-quorum", "2")):
        code, out, err = in_process(
            monkeypatch, now, "report", "-c", str(config_path), *WINDOW, "--format", fmt, *extra
        )
        assert (code, err) == (0, "") and out == want, extra


async def test_what_cannot_be_read_as_one_fleet_is_an_error(fleet, tmp_path) -> None:
    config, fra1, ams1 = fleet
    r = cli("report", "-c", str(config), "--database", str(fra1), "--database", "nosuch.db")
    assert r.returncode == 1 and "no database at nosuch.db" in r.stderr
    assert not (Path.cwd() / "nosuch.db").exists()
    r = cli("report", "-c", str(config), "--database", str(fra1), "--database", str(fra1))
    assert r.returncode == 1 and "is given twice" in r.stderr, r.stderr
    r = cli("report", "-c", str(config), "--location-quorum", "0")
    assert r.returncode == 2 and "--location-quorum: '0': give an integer >= 1" in r.stderr


async def test_a_sharded_fleet_leaves_out_what_it_cannot_compute_whole(tmp_path) -> None:
    # web and db fall on different shards of 2 (stable sha256): shop spans both.
    assert {shard_of("web", 2), shard_of("db", 2)} == {1, 2}
    text = CONFIG.format(db=tmp_path / "none.db", extra="")
    (tmp_path / "c.toml").write_text(text)
    config = loads_config(text, str(tmp_path / "c.toml"))
    shards = {i: tmp_path / f"fra1-{i}.db" for i in (1, 2)}
    for i, path in shards.items():
        await record(path, config, "fra1", FAILING, shard=f"{i}/2")
    web_shard = shards[shard_of("web", 2)]
    c = str(tmp_path / "c.toml")
    r = cli("report", "-c", c, *WINDOW, "--database", str(web_shard), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert "service 'shop': its member(s) 'db' are in none of the databases given" in r.stderr
    rep = json.loads(r.stdout)
    assert rep["services"] == [] and [s["id"] for s in rep["slos"]] == ["web-slo"]
    r = cli("report", "-c", c, *WINDOW, "--database", str(web_shard), "--service", "shop")
    assert r.returncode == 2 and "service 'shop'" in r.stderr and "other shards" in r.stderr
    # Both shards: the whole fleet, every service whole, and fra1's figures as they are.
    both = ("--database", str(shards[1]), "--database", str(shards[2]))
    r = cli("report", "-c", c, *WINDOW, *both, "--format", "json")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    rep = json.loads(r.stdout)
    assert [s["id"] for s in rep["services"]] == ["shop"]
    assert (
        item(rep, "services", "shop")["down_seconds"]
        == item(rep, "monitors", "web")["down_seconds"]
        > 60
    )
    assert sorted(x["shard"] for x in rep["fleet"]["locations"]) == ["1/2", "2/2"]
