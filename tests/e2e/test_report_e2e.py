"""`uptimed report` end to end: the real daemon, real loopback targets with scripted outages, a
stop in the middle, and the report checked against the truth.

One scripted run (about 30 s, shared by the tests of this module) drives three HTTP monitors
against a loopback target whose answer per path the test switches:

* ``blippy`` (failure_threshold 3, success_threshold 2): two blips below the threshold (one and
  two failed probes), outage A (503s), and after the restart outage C (a 503, then resets);
* ``maint`` (thresholds 1): outage B (first a reset, then 503s), part of it inside the one-off
  config maintenance window ``mw``;
* ``steady``: always up (its name needs escaping in HTML and Markdown).

Services: ``svc-all`` (all of blippy, maint) and ``svc-q`` (quorum 2 of all three). SLOs with
credit tiers on both, on ``steady``, and one with an agreement that starts mid-run.

The daemon gets SIGTERM in the middle, stays down ~3 s, and restarts on the same config and
database. The truth is checked two ways:

1. exactly (to the millisecond), against an independent reference computed here from the raw
   probe results and run records in the database, following design.md "Availability: the
   exact rules" (per-millisecond categories, a brute-force service vote);
2. roughly (within a few seconds), against the wall-clock times at which the test switched the
   target and stopped the daemon, which do not depend on the database at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import json
import math
import socket
import sqlite3
import struct
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon_proc import UPTIMED, DaemonProc, value
from uptimed.cli import main

UNKNOWN, UP, DOWN, MAINT = 0, 1, 2, 3
MAX_GAP_MS = 2500  # 2 x interval 1 s + timeout 0.5 s


def iso(t: float) -> str:
    """Wall seconds as RFC 3339 UTC, milliseconds when not whole (as the report writes times)."""
    ms = round(t * 1000)
    text = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ms % 1000:03d}Z" if ms % 1000 else "Z")


def ms_of(text: str | None) -> int | None:
    if text is None:
        return None
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UPTIMED, *args], capture_output=True, text=True, timeout=timeout)


def cli_here(*args: str) -> subprocess.CompletedProcess[str]:
    """``uptimed ARGS`` in this process, for the many quick error cases (a subprocess each would
    cost ~0.4 s). Any exception but SystemExit propagates: for a user it would be a traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:
            code = e.code
    return subprocess.CompletedProcess(["uptimed", *args], code, out.getvalue(), err.getvalue())


# -- the target ----------------------------------------------------------------------------------


class Flip:
    """A loopback HTTP target (raw asyncio streams): each path answers as the test set it:
    ``"up"`` (200), ``"503"``, or ``"reset"`` (the connection is reset, no reply). Every request
    is recorded with its wall time and the answer it got."""

    def __init__(self) -> None:
        self.mode: dict[str, str] = defaultdict(lambda: "up")
        self.hits: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self.switches: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self.server: asyncio.Server | None = None
        self.port = 0

    def set(self, path: str, mode: str) -> float:
        t = time.time()
        self.mode[path] = mode
        self.switches[path].append((t, mode))
        return t

    async def next_hits(self, path: str, n: int = 1, timeout: float = 10) -> float:
        """Wait for ``n`` more requests on ``path``; the wall time of the last one."""
        want = len(self.hits[path]) + n
        deadline = time.monotonic() + timeout
        while len(self.hits[path]) < want:
            assert time.monotonic() < deadline, f"no probe of {path} for {timeout} s"
            await asyncio.sleep(0.01)
        return self.hits[path][want - 1][0]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            path = head.split(b" ", 2)[1].decode()
            mode = self.mode[path]
            self.hits[path].append((time.time(), mode))
            if mode == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            status = "200 OK" if mode == "up" else "503 Service Unavailable"
            body = b"ok" if mode == "up" else b"down"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            IndexError,
        ):
            pass
        finally:
            writer.transport.abort()

    async def __aenter__(self) -> Flip:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


# -- the scripted run ------------------------------------------------------------------------------


@dataclass(repr=False)
class Run:
    dir: Path
    config: Path
    db: Path
    s0: int  # whole wall seconds: offsets in the config are from here
    w0: int  # the report window, whole seconds
    w1: int = 0
    marks: dict[str, float] = field(default_factory=dict)  # wall times of what the test did
    hits: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)  # --from w0 --to w1 --format json
    running_report: dict[str, Any] = field(default_factory=dict)  # taken while the daemon ran
    running_window: tuple[str, str] = ("", "")
    ref: Reference | None = None

    def maintenance(self, **extra: list[tuple[int, int]]) -> dict[str, list[tuple[int, int]]]:
        """The maintenance the reference applies: the config window ``mw``, and ``extra``."""
        return {"maint": [((self.s0 + MW[0]) * 1000, (self.s0 + MW[1]) * 1000)], **extra}

    def args(self) -> tuple[str, ...]:
        return ("--from", iso(self.w0), "--to", iso(self.w1))


MONITORS = """
[[monitor]]
id = "blippy"
kind = "http"
url = "http://127.0.0.1:{port}/a"
failure_threshold = 3
success_threshold = 2

[[monitor]]
id = "maint"
kind = "http"
url = "http://127.0.0.1:{port}/b"

[[monitor]]
id = "steady"
name = 'Steady <site> & "co"'
kind = "http"
url = "http://127.0.0.1:{port}/c"

[[service]]
id = "svc-all"
name = "Shop"
monitors = ["blippy", "maint"]
rule = "all"

[[service]]
id = "svc-q"
monitors = ["blippy", "maint", "steady"]
rule = "quorum"
quorum = 2

[[slo]]
id = "slo-all"
min_coverage = 50  # the scenario stops the daemon for a while: coverage ~ 85 %
target = "svc-all"
objective = 99.9
window = "30d"
customer = "ACME Corp"
credits = [
  {{ below = 99.9, credit = 10 }},
  {{ below = 99.0, credit = 25 }},
  {{ below = 95.0, credit = 100 }},
]

[[slo]]
id = "slo-q"
min_coverage = 50
target = "svc-q"
objective = 80.0
window = "30d"
credits = [{{ below = 99.0, credit = 10 }}, {{ below = 80.0, credit = 50 }}]

[[slo]]
id = "slo-steady"
min_coverage = 50
target = "steady"
objective = 99.9
window = "30d"
credits = [{{ below = 99.9, credit = 10 }}]

[[slo]]
id = "slo-late"
min_coverage = 50
target = "svc-q"
objective = 99.0
window = "30d"
effective_from = "{late}"

[[maintenance]]
id = "mw"
monitors = ["maint"]
reason = "planned switch"
start = "{mw_start}"
end = "{mw_end}"
"""
MW = (12, 15)  # the config maintenance window, seconds after s0
LATE = 16  # slo-late's agreement starts here


async def _script(run: Run) -> None:
    s0 = run.s0
    marks = run.marks

    async def until(offset: float) -> None:
        await asyncio.sleep(max(0.0, s0 + offset - time.time()))

    async with Flip() as flip:
        text = MONITORS.format(
            port=flip.port, late=iso(s0 + LATE), mw_start=iso(s0 + MW[0]), mw_end=iso(s0 + MW[1])
        )
        d = DaemonProc(run.dir, text)
        run.config, run.db = d.config, d.db
        try:
            marks["start"] = time.time()
            await d.start()
            marks["ready"] = time.time()

            # Blip 1: exactly one failed probe (switch right after a probe, back after the next).
            await until(2.5)
            await flip.next_hits("/a")
            marks["blip1"] = flip.set("/a", "503")
            await flip.next_hits("/a")
            marks["blip1_end"] = flip.set("/a", "up")
            # Blip 2: exactly two failed probes, still below failure_threshold = 3.
            await until(4.5)
            await flip.next_hits("/a")
            marks["blip2"] = flip.set("/a", "503")
            await flip.next_hits("/a", 2)
            marks["blip2_end"] = flip.set("/a", "up")

            # Outage A on blippy (503s), overlapping outage B on maint (a reset, then 503s).
            await until(7.5)
            await flip.next_hits("/a")
            marks["A"] = flip.set("/a", "503")
            await until(9)
            await flip.next_hits("/b")
            marks["B"] = flip.set("/b", "reset")
            await flip.next_hits("/b")
            flip.set("/b", "503")
            await until(max(12, marks["A"] - s0 + 4.5))
            await flip.next_hits("/a")
            marks["A_end"] = flip.set("/a", "up")
            await until(16.5)  # B covers the maintenance window [12, 15)
            await flip.next_hits("/b")
            marks["B_end"] = flip.set("/b", "up")
            await flip.next_hits("/b")

            # The daemon stops (SIGTERM) and stays down ~3 s.
            marks["term"] = time.time()
            assert await d.stop() == 0
            marks["stopped"] = time.time()
            await asyncio.sleep(3)
            marks["restart"] = time.time()
            await d.start()
            marks["ready2"] = time.time()

            # Outage C on blippy: a 503 first, then resets (after a first success in this run).
            await flip.next_hits("/a")
            marks["C"] = flip.set("/a", "503")
            await flip.next_hits("/a")
            flip.set("/a", "reset")

            # Once outage C is confirmed and written (the writer flushes every 0.5 s), a report
            # while the daemon runs.
            deadline = time.monotonic() + 10
            query = ("SELECT count(*) FROM timeline t JOIN monitors m ON m.id = t.monitor"
                     " WHERE m.key = 'blippy' AND t.state = 0 AND t.start > ?")  # fmt: skip
            while d.sql(query, int(marks["C"] * 1000)) == [(0,)]:
                assert time.monotonic() < deadline, "outage C never confirmed"
                await asyncio.sleep(0.1)
            assert value(await d.metrics(), "uptimed_monitor_up", monitor="blippy") == 0
            run.running_window = (iso(run.w0), iso(math.floor(time.time())))  # not in the future
            r = await asyncio.to_thread(
                cli,
                "report",
                "-c",
                str(d.config),
                "--from",
                run.running_window[0],
                "--to",
                run.running_window[1],
                "--format",
                "json",
            )
            assert r.returncode == 0 and not r.stderr, r.stderr
            run.running_report = json.loads(r.stdout)

            await until(marks["C"] - s0 + 4.5)
            await flip.next_hits("/a")
            marks["C_end"] = flip.set("/a", "up")
            await flip.next_hits("/a", 2)
            marks["term2"] = time.time()
            assert await d.stop() == 0
            marks["stopped2"] = time.time()
        finally:
            run.hits = dict(flip.hits)
            if d.proc is not None and d.proc.returncode is None:
                d.proc.kill()
                await d.proc.wait()
    assert "Traceback" not in d.log.read_text()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    s0 = math.floor(time.time())  # before the daemon starts: the window sees its start
    r = Run(dir=tmp_path_factory.mktemp("e2e"), config=Path(), db=Path(), s0=s0, w0=s0)
    asyncio.run(_script(r))
    r.w1 = math.ceil(r.marks["stopped2"]) + 1
    time.sleep(max(0.0, r.w1 - time.time() + 0.05))  # a report stops at now: let the window pass
    out = cli("report", "-c", str(r.config), *r.args(), "--format", "json")
    assert out.returncode == 0 and not out.stderr, out.stderr
    r.report = json.loads(out.stdout)
    r.ref = Reference.from_db(r.db, r.w0 * 1000, r.w1 * 1000, r.maintenance())
    return r


# -- the reference ---------------------------------------------------------------------------------


THRESHOLDS = {"blippy": (3, 2), "maint": (1, 1), "steady": (1, 1)}
SERVICES = {
    "svc-all": (["blippy", "maint"], "all", None),
    "svc-q": (["blippy", "maint", "steady"], "quorum", 2),
}


def confirmed_segments(
    probes: list[tuple[int, bool, str | None]], failure: int, success: int
) -> list[tuple[int, int, int, str | None]]:
    """``(start, end, UP|DOWN, cause)`` of the confirmed state from raw probes, written from the
    rules (not from uptimed.core.state): each probe's verdict holds until the next probe, at most
    MAX_GAP_MS; after a longer gap the monitor starts afresh as if UP; a state changes after
    ``failure`` / ``success`` contradicting probes in a row, backdated to the first of them;
    a run broken before its threshold keeps the old state."""
    chains: list[list[tuple[int, bool, str | None]]] = []
    for p in probes:
        if chains and p[0] - chains[-1][-1][0] <= MAX_GAP_MS:
            chains[-1].append(p)
        else:
            chains.append([p])
    segments: list[tuple[int, int, int, str | None]] = []
    for chain in chains:
        labels: list[int] = []
        state, run_len = UP, 0
        for _, ok, _ in chain:
            if ok == (state == UP):
                labels += [state] * (run_len + 1)
                run_len = 0
                continue
            run_len += 1
            if run_len == (failure if state == UP else success):
                state = DOWN if state == UP else UP
                labels += [state] * run_len
                run_len = 0
        labels += [state] * run_len
        for i, (ts, _, kind) in enumerate(chain):
            end = chain[i + 1][0] if i + 1 < len(chain) else ts + MAX_GAP_MS
            if segments and segments[-1][2] == labels[i] and segments[-1][1] == ts:
                segments[-1] = (segments[-1][0], end, labels[i], segments[-1][3])
            else:
                segments.append((ts, end, labels[i], kind if labels[i] == DOWN else None))
    return segments


@dataclass(repr=False)
class Reference:
    lo: int
    hi: int
    runs: list[tuple[int, int]]
    segments: dict[str, list[tuple[int, int, int, str | None]]]
    maintenance: dict[str, list[tuple[int, int]]]
    probes: dict[str, list[tuple[int, bool, str | None]]]

    @classmethod
    def from_db(
        cls, db: Path, lo: int, hi: int, maintenance: dict[str, list[tuple[int, int]]]
    ) -> Reference:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            runs = c.execute("SELECT started, ended FROM runs ORDER BY started").fetchall()
            probes = {}
            for key in THRESHOLDS:
                probes[key] = [
                    (ts, bool(ok), kind)
                    for ts, ok, kind in c.execute(
                        "SELECT r.ts, r.ok, k.name FROM results r"
                        " JOIN monitors m ON m.id = r.monitor"
                        " LEFT JOIN error_kinds k ON k.id = r.error_kind"
                        " WHERE m.key = ? ORDER BY r.ts",
                        (key,),
                    )
                ]
        finally:
            c.close()
        segments = {k: confirmed_segments(p, *THRESHOLDS[k]) for k, p in probes.items()}
        return cls(lo, hi, runs, segments, maintenance, probes)

    def categories(self, key: str, lo: int | None = None, hi: int | None = None) -> bytearray:
        """One byte per millisecond of [lo, hi): UNKNOWN, UP, DOWN or MAINT."""
        lo = self.lo if lo is None else lo
        hi = self.hi if hi is None else hi
        out = bytearray(hi - lo)
        for s, e, state, _ in self.segments.get(key, []):
            for rs, re_ in self.runs:
                a, b = max(s, rs, lo), min(e, re_, hi)
                if a < b:
                    out[a - lo : b - lo] = bytes([state]) * (b - a)
        for s, e in self.maintenance.get(key, []):
            a, b = max(s, lo), min(e, hi)
            if a < b:
                out[a - lo : b - lo] = bytes([MAINT]) * (b - a)
        return out

    def service_categories(
        self, key: str, lo: int | None = None, hi: int | None = None
    ) -> bytearray:
        members, rule, quorum = SERVICES[key]
        out = bytearray()
        for cats in zip(*(self.categories(m, lo, hi) for m in members), strict=True):
            n_up, n_down = cats.count(UP), cats.count(DOWN)
            if not n_up + n_down:
                out.append(MAINT if MAINT in cats else UNKNOWN)
            elif rule == "all":
                out.append(DOWN if n_down else UP)
            elif rule == "any":
                out.append(DOWN if not n_up else UP)
            else:
                out.append(DOWN if n_down >= quorum else UP)
        return out

    def figures(self, key: str, lo: int | None = None, hi: int | None = None) -> dict[str, Any]:
        cats = (
            self.service_categories(key, lo, hi)
            if key in SERVICES
            else self.categories(key, lo, hi)
        )
        up, down, maint, unknown = (cats.count(c) for c in (UP, DOWN, MAINT, UNKNOWN))
        return {
            "up_seconds": up / 1000,
            "down_seconds": down / 1000,
            "maintenance_seconds": maint / 1000,
            "unknown_seconds": unknown / 1000,
            "availability": up / (up + down) if up + down else None,
            "coverage": (up + down) / (len(cats) - maint) if len(cats) - maint else None,
        }

    def service_outages(self, key: str) -> list[tuple[int, int]]:
        """A service's incidents: its rule over its members' confirmed states as written (no
        runs: a restart within max_gap does not split an outage), a member in its maintenance
        not voting; each run of down-or-maintenance milliseconds (maintenance: no voter, one in
        maintenance) that holds downtime counted in the window (DOWN milliseconds of
        :meth:`service_categories`) is one, from its first down millisecond to its last."""
        members, rule, quorum = SERVICES[key]
        hi = max([self.hi] + [s[1] for m in members for s in self.segments.get(m, [])])
        states = []
        for m in members:
            st = bytearray([UNKNOWN]) * (hi - self.lo)
            for s, e, state, _ in self.segments.get(m, []):
                a, b = max(s, self.lo), min(e, hi)
                if a < b:
                    st[a - self.lo : b - self.lo] = bytes([state]) * (b - a)
            for s, e in self.maintenance.get(m, []):
                a, b = max(s, self.lo), min(e, hi)
                if a < b:
                    st[a - self.lo : b - self.lo] = bytes([MAINT]) * (b - a)
            states.append(st)
        raw = []
        for cats in zip(*states, strict=True):
            n_up, n_down = cats.count(UP), cats.count(DOWN)
            voters = n_up + n_down
            down = voters and (
                n_down >= 1
                if rule == "all"
                else n_down == voters
                if rule == "any"
                else n_down >= quorum
            )
            raw.append(DOWN if down else MAINT if not voters and MAINT in cats else None)
        counted = self.service_categories(key)
        out, i = [], 0
        while i < len(raw):
            if raw[i] is None:
                i += 1
                continue
            j = i
            while j < len(raw) and raw[j] is not None:
                j += 1
            downs = [u for u in range(i, j) if raw[u] == DOWN]
            if downs and counted[i : min(j, len(counted))].count(DOWN):
                out.append((self.lo + downs[0], self.lo + downs[-1] + 1))
            i = j
        return out

    def incidents(self, key: str) -> list[dict[str, Any]]:
        """One per DOWN segment with counted downtime in the window (monitors only)."""
        cats = self.categories(key)
        out = []
        for s, e, state, cause in self.segments[key]:
            if state != DOWN:
                continue
            a, b = max(s, self.lo), min(e, self.hi)
            counted = cats[a - self.lo : b - self.lo].count(DOWN) if a < b else 0
            if counted:
                out.append({"start": s, "end": e, "duration_seconds": (e - s) / 1000,
                            "counted_seconds": counted / 1000, "cause": cause})  # fmt: skip
        return out


FIGURES = (
    "up_seconds",
    "down_seconds",
    "maintenance_seconds",
    "unknown_seconds",
    "availability",
    "coverage",
)


def ms_span(lo: float, hi: float) -> set[int]:
    """The milliseconds of [lo, hi) (wall seconds): wall-clock truths as sets."""
    return set(range(round(lo * 1000), round(hi * 1000)))


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in items}


def assert_figures(got: dict[str, Any], want: dict[str, Any], what: str) -> None:
    for k in FIGURES:
        if want[k] is None:
            assert got[k] is None, (what, k, got[k])
        else:
            assert got[k] == pytest.approx(want[k], abs=0.0015), (what, k, got[k], want[k])


# -- the tests -------------------------------------------------------------------------------------


def test_every_second_of_the_window_is_accounted_for(run):
    window = run.w1 - run.w0
    rep = run.report
    assert rep["from"] == iso(run.w0) and rep["to"] == iso(run.w1)
    assert [m["id"] for m in rep["monitors"]] == ["blippy", "maint", "steady"]
    assert [s["id"] for s in rep["services"]] == ["svc-all", "svc-q"]
    assert [s["id"] for s in rep["slos"]] == ["slo-all", "slo-q", "slo-steady", "slo-late"]
    assert rep["policy"] == {"unknown": "exclude", "maintenance": "exclude"}
    for item in rep["monitors"] + rep["services"]:
        total = sum(
            item[k]
            for k in ("up_seconds", "down_seconds", "maintenance_seconds", "unknown_seconds")
        )
        assert total == pytest.approx(window, abs=1e-6), item["id"]
        for k in ("availability", "coverage"):
            assert item[k] is None or 0 <= item[k] <= 1, (item["id"], k)


def test_monitor_figures_match_the_reference_exactly(run):
    ref = run.ref
    mons = by_id(run.report["monitors"])
    for key in THRESHOLDS:
        assert_figures(mons[key], ref.figures(key), key)


def test_monitor_figures_match_the_wall_clock_truth(run):
    m, mons = run.marks, by_id(run.report["monitors"])
    a_len, b_len, c_len = m["A_end"] - m["A"], m["B_end"] - m["B"], m["C_end"] - m["C"]
    # Each outage is counted from the first failed probe after the switch (within an interval)
    # to the first success after the switch back (within an interval).
    assert mons["blippy"]["down_seconds"] == pytest.approx(a_len + c_len, abs=2.5)
    assert mons["maint"]["down_seconds"] == pytest.approx(b_len - (MW[1] - MW[0]), abs=1.5)
    assert mons["maint"]["maintenance_seconds"] == MW[1] - MW[0]  # exactly: a config window
    assert mons["blippy"]["maintenance_seconds"] == 0 and mons["steady"]["maintenance_seconds"] == 0
    assert mons["steady"]["down_seconds"] == 0 and mons["steady"]["availability"] == 1.0
    # Unknown: before the first probe, the stop gap (>= 3 s), and after the final stop.
    gap = m["ready2"] - m["term"]
    unknown = (m["ready"] - run.w0) + gap + (run.w1 - m["term2"])
    for key in THRESHOLDS:
        u = mons[key]["unknown_seconds"]
        assert unknown - 3.5 <= u <= unknown + 3.5, (key, u, unknown)
        assert u >= 3 + (run.w1 - m["stopped2"]), (key, u)


def test_blips_below_the_threshold_are_not_downtime(run):
    m = run.marks
    failed = [t for t, mode in run.hits["/a"] if mode != "up"]
    assert len([t for t in failed if m["blip1"] <= t <= m["blip1_end"]]) == 1
    assert len([t for t in failed if m["blip2"] <= t <= m["blip2_end"]]) == 2
    # ... and the database has them as failed probes of blippy:
    blips = [p for p in run.ref.probes["blippy"] if not p[1] and p[0] / 1000 < m["A"]]
    assert len(blips) == 3 and all(kind == "http_status" for _, _, kind in blips)
    # Yet no downtime and no incident there.
    out = cli(
        "report",
        "-c",
        str(run.config),
        "--from",
        iso(m["blip1"]),
        "--to",
        iso(m["blip2_end"] + 0.5),
        "--monitor",
        "blippy",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    (b,) = json.loads(out.stdout)["monitors"]
    assert b["down_seconds"] == 0 and b["incidents"] == [] and b["availability"] == 1.0
    assert b["up_seconds"] == pytest.approx(m["blip2_end"] + 0.5 - m["blip1"], abs=0.01)


def test_outages_are_backdated_to_the_first_failure_and_end_at_the_first_success(run):
    m = run.marks
    incs = by_id(run.report["monitors"])["blippy"]["incidents"]
    assert len(incs) == 2  # A and C; the blips are none
    probes = run.ref.probes["blippy"]
    for inc, (down, up, cause) in zip(
        incs, (("A", "A_end", "http_status"), ("C", "C_end", "http_status")), strict=True
    ):
        start, end = ms_of(inc["start"]), ms_of(inc["end"])
        first_fail = next(ts for ts, ok, _ in probes if ts / 1000 > m[down] and not ok)
        first_ok = next(ts for ts, ok, _ in probes if ts / 1000 > m[up] and ok)
        confirmed = [ts for ts, ok, _ in probes if ts >= first_fail and not ok][
            2
        ]  # the third failure
        second_ok = next(ts for ts, ok, _ in probes if ts > first_ok and ok)
        assert start == first_fail and end == first_ok, (inc, first_fail, first_ok)
        assert m[down] < start / 1000 <= m[down] + 2.5  # the next probe after the switch
        assert m[up] < end / 1000 <= m[up] + 2.5
        assert start <= confirmed - 1000  # backdated, not counted from the confirmation
        assert end < second_ok  # not from the success that confirmed recovery
        assert inc["cause"] == cause  # the first failure's kind, though later ones were resets
        assert inc["duration_seconds"] == pytest.approx((end - start) / 1000, abs=1e-9)
        assert inc["counted_seconds"] == inc["duration_seconds"]


def test_incidents_match_the_reference(run):
    ref = run.ref
    mons = by_id(run.report["monitors"])
    for key in THRESHOLDS:
        got = mons[key]["incidents"]
        want = ref.incidents(key)
        assert [(ms_of(i["start"]), ms_of(i["end"]), i["cause"]) for i in got] == [
            (w["start"], w["end"], w["cause"]) for w in want
        ], key
        for g, w in zip(got, want, strict=True):
            assert g["counted_seconds"] == pytest.approx(w["counted_seconds"], abs=0.0015), key
            assert g["duration_seconds"] == pytest.approx(w["duration_seconds"], abs=0.0015), key
        assert mons[key]["incident_count"] == len(want)
        total = sum(w["counted_seconds"] for w in want)
        assert mons[key]["incident_seconds"] == pytest.approx(total, abs=0.002)
        if want:
            assert mons[key]["longest_incident_seconds"] == pytest.approx(
                max(w["counted_seconds"] for w in want), abs=0.0015
            )
            assert mons[key]["mttr_seconds"] == pytest.approx(total / len(want), abs=0.002)
            assert mons[key]["mtbf_seconds"] == pytest.approx(
                mons[key]["up_seconds"] / len(want), abs=0.002
            )
        else:
            assert mons[key]["mttr_seconds"] is None and mons[key]["mtbf_seconds"] is None
    # Outage B: its cause is the reset that began it; part of it is in maintenance, so it counts
    # for less than it lasted.
    (b,) = mons["maint"]["incidents"]
    assert b["cause"] == "reset"
    assert b["duration_seconds"] - b["counted_seconds"] == pytest.approx(MW[1] - MW[0], abs=0.0015)


def test_the_stop_gap_is_unknown(run):
    m = run.marks
    lo, hi = iso(m["stopped"]), iso(m["restart"])
    out = cli("report", "-c", str(run.config), "--from", lo, "--to", hi, "--format", "json")
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    length = (ms_of(hi) - ms_of(lo)) / 1000
    assert length >= 2.9
    for item in rep["monitors"] + rep["services"]:
        assert item["unknown_seconds"] == pytest.approx(length, abs=1e-6), item["id"]
        assert item["up_seconds"] == item["down_seconds"] == 0, item["id"]
        assert item["availability"] is None and item["coverage"] == 0.0, item["id"]
        assert item["incidents"] == []
    # The runs table has the gap too: two runs, the first stopped cleanly.
    c = sqlite3.connect(run.db)
    runs = c.execute("SELECT started, ended, end_reason FROM runs ORDER BY id").fetchall()
    c.close()
    assert [r[2] for r in runs] == ["stop", "stop"]
    assert runs[1][0] - runs[0][1] >= 3000


def test_maintenance_time_is_not_downtime(run):
    """Over exactly the config window, maint (down the whole time) has only maintenance."""
    lo, hi = iso(run.s0 + MW[0]), iso(run.s0 + MW[1])
    out = cli(
        "report",
        "-c",
        str(run.config),
        "--from",
        lo,
        "--to",
        hi,
        "--monitor",
        "maint",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    (m,) = rep["monitors"]
    assert m["maintenance_seconds"] == MW[1] - MW[0]
    assert m["down_seconds"] == m["up_seconds"] == m["unknown_seconds"] == 0
    assert m["availability"] is None and m["coverage"] is None  # nothing eligible
    assert m["incidents"] == []  # outage B is not an incident of this window
    assert [x["id"] for x in rep["exclusions"]] == ["mw"]


def test_service_figures_match_the_reference_and_the_rules(run):
    ref = run.ref
    svcs = by_id(run.report["services"])
    for key in SERVICES:
        assert_figures(svcs[key], ref.figures(key), key)
    m = run.marks
    a, b, c = (m["A"], m["A_end"]), (m["B"], m["B_end"]), (m["C"], m["C_end"])
    mw = ms_span(run.s0 + MW[0], run.s0 + MW[1])
    # all: down when blippy or maint is down; maint does not vote inside its maintenance window
    # (blippy decides alone there): A ∪ (B − mw) ∪ C.
    want_all = len(ms_span(*a) | (ms_span(*b) - mw) | ms_span(*c)) / 1000
    assert svcs["svc-all"]["down_seconds"] == pytest.approx(want_all, abs=3)
    assert svcs["svc-all"]["maintenance_seconds"] == 0  # a voter was always left
    # quorum 2 of 3: down only while blippy and maint were both down and voting: A ∩ B − mw.
    want_q = len(ms_span(*a) & ms_span(*b) - mw) / 1000
    assert svcs["svc-q"]["down_seconds"] == pytest.approx(want_q, abs=2)
    assert svcs["svc-q"]["down_seconds"] < svcs["svc-all"]["down_seconds"] - 5
    assert svcs["svc-all"]["rule"] == "all" and svcs["svc-all"]["quorum"] is None
    assert svcs["svc-q"]["rule"] == "quorum" and svcs["svc-q"]["quorum"] == 2
    assert svcs["svc-all"]["monitors"] == ["blippy", "maint"] and svcs["svc-all"]["name"] == "Shop"
    # A service's incidents: its own outages, one per confirmed outage, each with the cause of
    # the member outage that began it: A joined by B until maint's maintenance window, where
    # maint does not vote and blippy says up (a recovery of the service, as its figures say);
    # B after it; C.
    for key in SERVICES:
        incs = svcs[key]["incidents"]
        assert [(ms_of(i["start"]), ms_of(i["end"])) for i in incs] == ref.service_outages(key), key
        assert sum(i["counted_seconds"] for i in incs) == pytest.approx(
            svcs[key]["down_seconds"], abs=0.002
        )
    causes = [i["cause"] for i in svcs["svc-all"]["incidents"]]
    assert causes in (["http_status", "reset", "http_status"], ["http_status", "http_status"]), (
        causes
    )
    if len(causes) == 2:  # only if A outlasted the maintenance window on a slow machine
        assert m["A_end"] > run.s0 + MW[1] - 1.5


def test_slos_met_missed_budget_and_credit_tiers(run):
    slos = by_id(run.report["slos"])
    svcs, mons = by_id(run.report["services"]), by_id(run.report["monitors"])
    window = run.w1 - run.w0

    def check(slo: dict[str, Any], target: dict[str, Any], objective: float) -> None:
        assert slo["objective"] == objective
        up, down = target["up_seconds"], target["down_seconds"]
        assert slo["attainment"] == pytest.approx(up / (up + down), abs=1e-9)
        assert slo["met"] is (slo["attainment"] >= objective)
        assert slo["verdict"] == ("met" if slo["met"] else "missed") and slo["min_coverage"] == 0.5
        assert slo["coverage"] == pytest.approx(target["coverage"], abs=1e-9)
        assert slo["eligible_seconds"] == pytest.approx(up + down, abs=0.002)
        budget = slo["error_budget"]
        assert budget["total_seconds"] == pytest.approx((1 - objective) * (up + down), abs=0.002)
        assert budget["consumed_seconds"] == pytest.approx(down, abs=0.002)
        assert budget["remaining_seconds"] == pytest.approx(
            budget["total_seconds"] - down, abs=0.002
        )
        assert budget["remaining_ratio"] == pytest.approx(
            1 - down / budget["total_seconds"], rel=1e-6
        )
        # The scenario is far shorter than 5 minutes: every burn window sees all of it.
        want = (down / (up + down)) / (1 - objective)
        assert set(slo["burn_rates"]) == {"5m", "30m", "1h", "2h", "6h", "24h", "3d"}
        for name, rate in slo["burn_rates"].items():
            assert rate == pytest.approx(want, rel=1e-6), name

    check(slos["slo-all"], svcs["svc-all"], 0.999)
    assert slos["slo-all"]["met"] is False
    assert slos["slo-all"]["credit"] == {
        "below": 95.0,
        "credit": 100,
    }  # the tier with the smallest below
    assert (
        slos["slo-all"]["customer"] == "ACME Corp" and slos["slo-all"]["target_kind"] == "service"
    )
    assert slos["slo-all"]["from"] == iso(run.w0) and slos["slo-all"]["to"] == iso(run.w1)
    # Over the report's --from/--to, not the SLO's 30 days: the label says so.
    assert slos["slo-all"]["window"] is None and slos["slo-all"]["basis"] == "report"
    assert [i["start"] for i in slos["slo-all"]["incidents"]] == [
        i["start"] for i in svcs["svc-all"]["incidents"]
    ]

    check(slos["slo-q"], svcs["svc-q"], 0.8)
    assert slos["slo-q"]["met"] is True  # a few seconds of ~25 s down
    assert slos["slo-q"]["credit"] == {"below": 99.0, "credit": 10}  # below 99, not below 80

    check(slos["slo-steady"], mons["steady"], 0.999)
    assert slos["slo-steady"]["met"] is True and slos["slo-steady"]["credit"] is None
    assert slos["slo-steady"]["attainment"] == 1.0
    assert slos["slo-steady"]["error_budget"]["remaining_ratio"] == 1.0
    assert slos["slo-steady"]["target_kind"] == "monitor"

    # slo-late's agreement starts at s0 + LATE, after the overlap of A and B: svc-q is all up since.
    late = slos["slo-late"]
    assert late["from"] == iso(run.s0 + LATE) and late["to"] == iso(run.w1)
    assert late["attainment"] == 1.0 and late["met"] is True and late["credit"] is None
    want = run.ref.figures("svc-q", (run.s0 + LATE) * 1000, run.w1 * 1000)
    assert late["eligible_seconds"] == pytest.approx(
        want["up_seconds"] + want["down_seconds"], abs=0.002
    )
    assert late["eligible_seconds"] < window - LATE


def test_exclusions_and_config_versions(run):
    rep = run.report
    (mw,) = rep["exclusions"]
    assert mw == {
        "id": "mw",
        "source": "config",
        "monitors": ["maint"],
        "services": [],
        "start": iso(run.s0 + MW[0]),
        "end": iso(run.s0 + MW[1]),
        "reason": "planned switch",
        "created_by": None,
        "created_at": None,
        "retroactive": False,
        "overlaps": [],
    }
    sha = hashlib.sha256(run.config.read_bytes()).hexdigest()
    assert rep["config_sha256"] == sha
    (version,) = rep["config_versions"]  # both runs had the same config
    assert version["sha256"] == sha
    c = sqlite3.connect(run.db)
    (first, _), (_, last) = c.execute("SELECT started, ended FROM runs ORDER BY id").fetchall()
    c.close()
    assert ms_of(version["from"]) == first and ms_of(version["to"]) == last


def test_a_report_while_the_daemon_runs(run):
    rep = run.running_report
    lo, hi = run.running_window
    window = (ms_of(hi) - ms_of(lo)) / 1000
    assert rep["from"] == lo and rep["to"] == hi
    for item in rep["monitors"] + rep["services"]:
        total = sum(
            item[k]
            for k in ("up_seconds", "down_seconds", "maintenance_seconds", "unknown_seconds")
        )
        assert total == pytest.approx(window, abs=1e-6)
    blippy = by_id(rep["monitors"])["blippy"]
    assert len(blippy["incidents"]) == 2, blippy["incidents"]
    a, c = blippy["incidents"]
    assert a["end"] is not None and c["end"] is None  # outage C is under way: no end yet
    assert c["cause"] == "http_status"
    assert run.marks["C"] < ms_of(c["start"]) / 1000 <= run.marks["C"] + 2.5
    final = by_id(run.report["monitors"])["blippy"]["incidents"]
    assert c["start"] == final[1]["start"] and a == final[0]
    svc = by_id(rep["services"])["svc-all"]["incidents"][
        -1
    ]  # C, as a service outage: under way too
    assert svc["start"] == c["start"] and svc["end"] is None
    # What was over by then reads the same as in the final report: outage B on maint.
    running, final_maint = by_id(rep["monitors"])["maint"], by_id(run.report["monitors"])["maint"]
    assert running["incidents"] == final_maint["incidents"]
    assert running["down_seconds"] == final_maint["down_seconds"]
    assert running["maintenance_seconds"] == MW[1] - MW[0]
    (version,) = rep["config_versions"]
    assert version["sha256"] == run.report["config_sha256"]


def test_every_format_names_every_monitor_service_and_slo(run):
    ids = [
        "blippy",
        "maint",
        "steady",
        "svc-all",
        "svc-q",
        "slo-all",
        "slo-q",
        "slo-steady",
        "slo-late",
    ]
    outputs = {}
    for fmt in ("table", "csv", "markdown", "html"):
        out = cli("report", "-c", str(run.config), *run.args(), "--format", fmt)
        assert out.returncode == 0 and not out.stderr, (fmt, out.stderr)
        outputs[fmt] = out.stdout
        for i in ids:
            assert i in out.stdout, (fmt, i)
    # The same data: CSV rows carry the JSON's figures.
    rows = {(r["kind"], r["id"]): r for r in csv.DictReader(io.StringIO(outputs["csv"]))}
    assert set(rows) == {("monitor", m) for m in ("blippy", "maint", "steady")} | {
        ("service", s) for s in ("svc-all", "svc-q")} | {("slo", s) for s in ids[5:]}  # fmt: skip
    for item in run.report["monitors"]:
        row = rows[("monitor", item["id"])]
        for k in ("up_seconds", "down_seconds", "maintenance_seconds", "unknown_seconds"):
            assert float(row[k]) == item[k], (item["id"], k)
        assert int(row["incidents"]) == len(item["incidents"])
    assert (
        rows[("slo", "slo-all")]["met"] == "false"
        and rows[("slo", "slo-all")]["credit_percent"] == "100"
    )
    # What a customer receives: the customer, credits, the maintenance excluded; names escaped.
    for fmt in ("markdown", "html"):
        text = outputs[fmt]
        assert "ACME Corp" in text and "planned switch" in text, fmt
    assert "<site>" not in outputs["html"] and "&lt;site&gt;" in outputs["html"]
    assert outputs["html"].lstrip().lower().startswith(("<!doctype html", "<html"))
    rows_t = {
        line.split()[0]: line for line in outputs["table"].splitlines() if line.startswith("slo-")
    }
    assert "MISSED" in rows_t["slo-all"] and "100 %" in rows_t["slo-all"]
    assert " MET " in rows_t["slo-q"] and "10 %" in rows_t["slo-q"]
    assert " MET " in rows_t["slo-steady"]


def _copy(run: Run, tmp_path: Path) -> Path:
    """The run's database and config, copied: tests that write maintenance windows use these."""
    db = tmp_path / "copy.db"
    src, dst = sqlite3.connect(run.db), sqlite3.connect(db)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    config = tmp_path / "copy.toml"
    config.write_text(run.config.read_text().replace(str(run.db), str(db)))
    return config


def test_a_window_in_the_past_needs_a_reason(run, tmp_path):
    config = str(_copy(run, tmp_path))
    now = time.time()
    for start, end in ((now - 7200, now - 3600), (now - 3600, now + 3600)):
        out = cli(
            "maintenance",
            "add",
            "-c",
            config,
            "--monitor",
            "blippy",
            "--start",
            iso(start),
            "--end",
            iso(end),
        )
        assert out.returncode == 2 and out.stdout == ""
        assert "--reason" in out.stderr and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
        out = cli_here(
            "maintenance",
            "add",
            "-c",
            config,
            "--monitor",
            "blippy",
            "--start",
            iso(start),
            "--end",
            iso(end),
            "--reason",
            "   ",
        )
        assert out.returncode == 2 and "--reason" in out.stderr
    listed = cli_here("maintenance", "list", "-c", config, "--all", "--format", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []  # nothing was written


def test_a_window_that_ended_before_it_was_added_needs_a_reason(run, tmp_path):
    """Even when it starts within the minute of slack that makes a start "now"."""
    config = str(_copy(run, tmp_path))
    now = time.time()
    window = ("--monitor", "blippy", "--start", iso(now - 20), "--end", iso(now - 10))
    out = cli_here("maintenance", "add", "-c", config, *window)
    assert out.returncode == 2 and "--reason" in out.stderr
    out = cli_here("maintenance", "add", "-c", config, *window, "--reason", "excused")
    assert out.returncode == 0, out.stderr
    (w,) = json.loads(
        cli_here("maintenance", "list", "-c", config, "--all", "--format", "json").stdout
    )
    assert w["retroactive"] is True
    # A window that starts a few seconds ago and runs on is "now": no reason needed.
    out = cli_here(
        "maintenance",
        "add",
        "-c",
        config,
        "--monitor",
        "steady",
        "--start",
        iso(now - 5),
        "--end",
        iso(now + 600),
    )
    assert out.returncode == 0, out.stderr


def test_retroactive_maintenance_excludes_recorded_time_and_is_listed(run, tmp_path):
    """A window added after the fact, from before the run into the first second of outage A:
    everything it covers becomes maintenance, and the report says who excused it and when."""
    config = _copy(run, tmp_path)
    a_inc = by_id(run.report["monitors"])["blippy"]["incidents"][0]
    hi = ms_of(a_inc["start"]) + 1000
    lo = (math.floor(time.time()) - 90) * 1000  # over a minute ago: a retroactive window
    assert lo < run.w0 * 1000
    start, end = iso(lo / 1000), iso(hi / 1000)
    before = time.time()
    out = cli(
        "maintenance",
        "add",
        "-c",
        str(config),
        "--monitor",
        "blippy",
        "--start",
        start,
        "--end",
        end,
        "--reason",
        "excused by contract §4",
        "--by",
        "alice",
    )
    assert out.returncode == 0, out.stderr
    assert f"from {start} to {end}" in out.stdout

    after = cli("report", "-c", str(config), *run.args(), "--format", "json")
    assert after.returncode == 0, after.stderr
    rep = json.loads(after.stdout)
    old, new = by_id(run.report["monitors"])["blippy"], by_id(rep["monitors"])["blippy"]
    assert new["down_seconds"] == pytest.approx(old["down_seconds"] - 1, abs=1e-6)
    assert new["maintenance_seconds"] == pytest.approx((hi - run.w0 * 1000) / 1000, abs=1e-6)
    assert [i["start"] for i in new["incidents"]] == [i["start"] for i in old["incidents"]]
    assert new["incidents"][0]["counted_seconds"] == pytest.approx(
        a_inc["counted_seconds"] - 1, abs=1e-6
    )
    assert new["incidents"][0]["duration_seconds"] == a_inc["duration_seconds"]
    # The exact reference agrees, with the new window, for the monitor and both services.
    ref = Reference.from_db(
        run.db, run.w0 * 1000, run.w1 * 1000, run.maintenance(blippy=[(lo, hi)])
    )
    assert_figures(new, ref.figures("blippy"), "blippy")
    for key in SERVICES:
        assert_figures(by_id(rep["services"])[key], ref.figures(key), key)
    # svc-all before maint's first probe: blippy is in maintenance and maint has no verdict yet,
    # so no member votes and one is in maintenance: that time is the service's maintenance.
    first_maint_probe = run.ref.probes["maint"][0][0]
    svc = by_id(rep["services"])["svc-all"]
    assert svc["maintenance_seconds"] == pytest.approx(
        (first_maint_probe - run.w0 * 1000) / 1000, abs=1e-6
    )
    # Listed among the exclusions: retroactive, with who and when.
    adhoc = [x for x in rep["exclusions"] if x["source"] == "adhoc"]
    assert len(adhoc) == 1
    x = adhoc[0]
    # Listed as far as it changed the report: from the window's start.
    assert x["monitors"] == ["blippy"] and x["services"] == [] and x["end"] == end
    assert x["start"] == iso(max(lo, run.w0 * 1000) / 1000)
    assert (
        x["retroactive"] is True
        and x["created_by"] == "alice"
        and x["reason"] == "excused by contract §4"
    )
    assert before - 1 <= ms_of(x["created_at"]) / 1000 <= time.time() + 1
    assert [x["id"] for x in rep["exclusions"] if x["source"] == "config"] == ["mw"]
    listed = json.loads(
        cli("maintenance", "list", "-c", str(config), "--all", "--format", "json").stdout
    )
    assert [(w["retroactive"], w["created_by"]) for w in listed] == [(True, "alice")]
    assert "retroactive" in cli("maintenance", "list", "-c", str(config), "--all").stdout
    md = cli("report", "-c", str(config), *run.args(), "--format", "markdown")
    assert "excused by contract §4" in md.stdout and "alice" in md.stdout


def test_maintenance_add_list_end(run, tmp_path):
    config = _copy(run, tmp_path)
    c = str(config)
    out = cli(
        "maintenance", "add", "-c", c, "--monitor", "steady", "--for", "10m", "--reason", "deploy"
    )
    assert out.returncode == 0, out.stderr
    now = time.time()
    future = ("--start", iso(now + 3600), "--end", iso(now + 7200))
    out = cli_here(
        "maintenance", "add", "-c", c, "--service", "svc-q", *future
    )  # future: no reason needed
    assert out.returncode == 0, out.stderr
    listed = json.loads(cli_here("maintenance", "list", "-c", c, "--format", "json").stdout)
    assert [(w["target_kind"], w["target"]) for w in listed] == [
        ("monitor", "steady"),
        ("service", "svc-q"),
    ]
    active, upcoming = listed
    assert (
        active["retroactive"] is False
        and active["reason"] == "deploy"
        and active["ended_early_at"] is None
    )
    assert ms_of(active["end"]) - ms_of(active["start"]) == 600_000
    assert upcoming["reason"] is None and upcoming["start"] == future[1]
    table = cli_here("maintenance", "list", "-c", c).stdout
    assert "active" in table and "upcoming" in table and "svc-q" in table and "deploy" in table

    out = cli_here("maintenance", "end", "-c", c, str(active["id"]))
    assert out.returncode == 0 and f"maintenance window {active['id']} ended at" in out.stdout, (
        out.stderr
    )
    time.sleep(0.01)
    listed = json.loads(cli_here("maintenance", "list", "-c", c, "--format", "json").stdout)
    assert [w["id"] for w in listed] == [upcoming["id"]]
    everything = json.loads(
        cli_here("maintenance", "list", "-c", c, "--all", "--format", "json").stdout
    )
    ended = by_id(everything)[active["id"]]
    assert ended["ended_early_at"] is not None and ended["end"] == ended["ended_early_at"]
    # A future window ended early is cancelled: gone from every list, kept in the audit trail.
    out = cli_here("maintenance", "end", "-c", c, str(upcoming["id"]))
    assert out.returncode == 0 and "cancelled (it had not begun)" in out.stdout, out.stdout
    everything = by_id(
        json.loads(cli_here("maintenance", "list", "-c", c, "--all", "--format", "json").stdout)
    )
    assert upcoming["id"] not in everything
    assert upcoming["id"] not in by_id(
        json.loads(cli_here("maintenance", "list", "-c", c, "--format", "json").stdout)
    )
    audit = json.loads(
        cli_here("maintenance", "list", "-c", c, "--cancelled", "--format", "json").stdout
    )
    assert [(w["id"], w["cancelled"]) for w in audit] == [(upcoming["id"], True)]
    assert "cancelled" in cli_here("maintenance", "list", "-c", c, "--cancelled").stdout
    rep = json.loads(cli_here("report", "-c", c, "--format", "json").stdout)
    assert upcoming["id"] not in [x["id"] for x in rep["exclusions"]]

    cases = (
        (("end", "-c", c, str(active["id"])), "already ended"),
        (("end", "-c", c, str(upcoming["id"])), "was cancelled"),
        (("end", "-c", c, "999"), "999"),
        (("add", "-c", c, "--monitor", "nosuch", "--for", "1h"), "nosuch"),
        (("add", "-c", c, "--service", "nosuch", "--for", "1h"), "nosuch"),
        (("add", "-c", c, "--monitor", "steady"), "--for"),
        (("add", "-c", c, "--monitor", "steady", "--for", "1h", *future), "not both"),
        (("add", "-c", c, "--monitor", "steady", "--for", "30"), "--for"),
        (
            (
                "add",
                "-c",
                c,
                "--monitor",
                "steady",
                "--start",
                "2026-10-01T00:00:00",
                "--end",
                future[3],
            ),
            "--start",
        ),
        (
            ("add", "-c", c, "--monitor", "steady", "--start", future[3], "--end", future[1]),
            "end after it starts",
        ),
    )
    for args, needle in cases:
        out = cli_here("maintenance", *args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert needle in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1, (args, out.stderr)


BAD_REPORT_ARGS = {
    # Usage errors the report command finds itself: one line, naming the argument.
    ("--monitor", "nosuch"): ["--monitor", "nosuch"],
    ("--service", "nosuch"): ["--service", "nosuch"],
    ("--slo", "nosuch"): ["--slo", "nosuch"],
    ("--from", "2026-10-02", "--to", "2026-10-01"): ["--from", "--to"],
    ("--from", "2026-10-01"): ["--from", "--to"],
    ("--at", "2026-10"): ["--at", "--period"],
    ("--from", "yesterday-ish", "--to", "2026-10-01"): ["--from", "yesterday-ish"],
    ("--from", "2026-10-01", "--to", "2026-13-01"): ["--to", "2026-13-01"],
    ("--from", "2026-10-01T00:00:00", "--to", "2026-10-02"): ["--from", "time zone"],
    ("--period", "month", "--at", "2026-13"): ["--period", "2026-13"],
    ("--window", "3x"): ["--window", "3x"],
    ("--window", "1d", "--timezone", "Mars/Olympus"): ["--timezone", "Mars/Olympus"],
    ("--window", "1d", "--period", "month"): ["--window", "--period"],
    # Past the calendar: a week ending in year 10000, instants in years 0 and 10000 in UTC.
    ("--period", "week", "--at", "9999-12-31"): ["--period", "9999-12-31"],
    ("--from", "0001-01-01T00:00:00+05:00", "--to", "2000-01-01"): [
        "--from",
        "0001-01-01T00:00:00+05:00",
    ],
    ("--from", "2000-01-01", "--to", "9999-12-31T23:59:59-05:00"): [
        "--to",
        "9999-12-31T23:59:59-05:00",
    ],
    # Midnight of year 1 east of UTC is in year 0 (an OverflowError traceback before).
    ("--from", "0001-01-01", "--to", "0001-01-02", "--timezone", "Asia/Tokyo"): [
        "--from",
        "0001-01-01",
        "range",
    ],
    ("--period", "year", "--at", "0001", "--timezone", "Asia/Tokyo"): [
        "--period",
        "0001",
        "Asia/Tokyo",
    ],
    # Empty windows are refused alike; so is time that has not happened.
    ("--window", "0s"): ["--window", "0s", "empty"],
    ("--window", ""): ["--window", "empty"],
    ("--period", "year", "--at", "2999"): ["--period", "2999", "has not begun"],
    ("--from", "2999-01-01", "--to", "2999-02-01"): ["--from", "2999-01-01", "future"],
    ("--period", "year", "--at", "0001"): [
        "--period",
        "0001",
        "1970",
    ],  # expanding windows overflowed
    ("--from", "1960-01-01", "--to", "1960-01-02"): ["--from", "1960-01-01", "1970"],
}
BAD_CHOICES = {
    ("--format", "pdfx"): ["--format", "pdfx"],
    ("--period", "decade"): ["--period", "decade"],
}


@pytest.mark.parametrize("args", list(BAD_REPORT_ARGS), ids=" ".join)
def test_bad_report_arguments_get_one_clear_line_and_exit_2(run, args):
    out = cli_here("report", "-c", str(run.config), *args)
    assert out.returncode == 2, (args, out.stdout, out.stderr)
    assert out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("uptimed report: error: "), out.stderr
    for n in BAD_REPORT_ARGS[args]:
        assert n in lines[0], (n, lines[0])


@pytest.mark.parametrize("args", list(BAD_CHOICES), ids=" ".join)
def test_bad_choices_are_argparse_errors_naming_the_argument(run, args):
    out = cli_here("report", "-c", str(run.config), *args)
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    (error,) = [line for line in out.stderr.splitlines() if "error:" in line]
    for n in BAD_CHOICES[args]:
        assert n in error


def test_a_bad_argument_in_a_real_process(run):
    """What cli_here stands for: the real command's exit status and its one line on stderr."""
    out = cli("report", "-c", str(run.config), "--from", "2026-10-02", "--to", "2026-10-01")
    assert out.returncode == 2 and out.stdout == ""
    assert (
        out.stderr
        == "uptimed report: error: --from (2026-10-02) must be before --to (2026-10-01)\n"
    )


def test_maintenance_add_rejects_instants_beyond_the_calendar(run, tmp_path):
    config = str(_copy(run, tmp_path))
    out = cli(
        "maintenance",
        "add",
        "-c",
        config,
        "--monitor",
        "steady",
        "--start",
        "0001-01-01T00:00:00+05:00",
        "--end",
        "2000-01-01T00:00:00Z",
        "--reason",
        "typo",
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert (
        out.stderr.startswith("uptimed maintenance: error: --start: ")
        and len(out.stderr.splitlines()) == 1
    )
    listed = cli_here("maintenance", "list", "-c", config, "--all", "--format", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []  # nothing stored
