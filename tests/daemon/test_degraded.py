"""Degraded stretches (the daemon's own network down) against the real runner, on a fake clock.

The runner, its :class:`~uptimed.daemon.connectivity.Holdback` and the state machines are the real
ones; probes are futures the test resolves, the store a dict of timeline rows, and connectivity
checks are driven by hand (begin / complete, as :class:`~uptimed.daemon.connectivity.Connectivity`
does). Times are milliseconds.

The rule: the whole stretch, from the start of the last good check to the start of the first
good one after it, is unknown for every monitor; no result stamped in it starts, confirms or
extends an outage; afterwards each verdict starts afresh and no row reaches across the stretch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from probes.base import ProbeContext, ProbeResult
from probes.tcp import TcpSpec
from tests.core.test_state import reference_states, sample
from uptimed.core.state import DOWN, UP, Segment, Snapshot, StateMachine, Thresholds, Transition
from uptimed.daemon.connectivity import KEEP, Holdback
from uptimed.daemon.runner import LiveMonitor, Runner
from uptimed.model.config import Monitor
from uptimed.store import Store


class FakeStore:
    """What the runner writes: raw results and timeline rows (upserts keyed by start)."""

    def __init__(self) -> None:
        self.results: list[tuple[int, int, bool]] = []
        self.rows: dict[int, dict[int, Segment]] = {}
        self.snapshots: dict[int, Snapshot] = {}

    def record(
        self, mon: int, ts: int, result: ProbeResult, segments: list[Segment], snap: Snapshot
    ) -> None:
        self.results.append((mon, ts, result.ok))
        self.record_state(mon, segments, snap)

    def record_state(self, mon: int, segments: list[Segment], snap: Snapshot) -> None:
        for seg in segments:
            self.rows.setdefault(mon, {})[seg.start] = seg
        self.snapshots[mon] = snap


@dataclass
class Sim:
    """A runner with monitors ``0..n-1`` (thresholds each), a fake clock and a hand-driven gate."""

    thresholds: list[Thresholds]
    start: int = 0
    clock: int = 0
    store: FakeStore = field(default_factory=FakeStore)
    pending: dict[int, asyncio.Future[ProbeResult]] = field(default_factory=dict)
    tasks: dict[int, asyncio.Task[None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.clock = self.start
        # +0.5 ms: the runner stamps int(wall * 1000), which must give the clock exactly.
        self.runner = Runner(
            self.store, ProbeContext(), 10, lambda lag: None, lambda: (self.clock + 0.5) / 1000
        )  # type: ignore[arg-type]
        self.runner.gate = self.gate = Holdback(self.start)
        for i, th in enumerate(self.thresholds):
            m = LiveMonitor(_monitor(f"m{i}"), i, StateMachine(th))
            m.probe = self._probe(i)
            self.runner.monitors[f"m{i}"] = m

    def _probe(self, i: int):
        async def probe(spec: object, ctx: object) -> ProbeResult:
            return await self.pending[i]

        return probe

    async def probe_starts(self, at: int, i: int) -> None:
        self.clock = at
        self.pending[i] = asyncio.get_running_loop().create_future()
        self.tasks[i] = asyncio.create_task(self.runner.run(f"m{i}"))
        await asyncio.sleep(0)  # the runner stamps the probe and notes the check number

    async def probe_ends(self, at: int, i: int, ok: bool) -> None:
        self.clock = at
        self.pending[i].set_result(ProbeResult(ok, 0.01, None if ok else "refused"))
        await self.tasks.pop(i)

    def check_begins(self, at: int) -> None:
        self.clock = at
        self.gate.begin(at)

    def check_ends(self, at: int, ok: bool) -> None:
        self.clock = at
        self.runner.checked(self.gate.complete(ok))

    def machine(self, i: int) -> StateMachine:
        return self.runner.monitors[f"m{i}"].machine

    def rows(self, i: int) -> list[Segment]:
        return sorted(self.store.rows.get(i, {}).values(), key=lambda s: s.start)


class Recording(StateMachine):
    """A state machine that notes the stamp of every result it is fed."""

    __slots__ = ("seen",)

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__(thresholds)
        self.seen: list[int] = []

    def observe(
        self, ts: int, ok: bool, cause: str | None = None
    ) -> tuple[list[Segment], Transition | None]:
        self.seen.append(ts)
        return super().observe(ts, ok, cause)


def _monitor(key: str) -> Monitor:
    return Monitor(
        key, key, "tcp", 3.0, 1.0, 1, 1, (), True, TcpSpec("127.0.0.1", 9, 1.0), "127.0.0.1:9"
    )


# -- the case of issue 14 ----------------------------------------------------------------------


async def test_an_uplink_break_just_after_a_good_check_is_unknown_and_no_outage():
    """Threshold 1, probes every 3 s, max_gap 7 s, checks every 5 s: good at 100 s, failing at
    105 s, good at 110 s; the probe at 101 s fails. No DOWN row, nothing across [100 s, 110 s)
    but a row ending at its start, and the verdict afresh from the first probe after 110 s."""
    s = 1000
    sim = Sim([Thresholds(1, 1, 7 * s)], start=90 * s)
    sim.runner.monitors["m0"].machine = machine = Recording(Thresholds(1, 1, 7 * s))
    checks = {95: True, 100: True, 105: False, 110: True, 115: True, 120: True}
    probes = {95: True, 98: True, 101: False, 104: True, 107: True, 111: True, 114: True, 117: True}
    events = sorted(
        [(t * s, 0, "begin", t) for t in checks]
        + [(t * s + 10, 2, "end", t) for t in checks]  # a check takes 10 ms
        + [(t * s, 1, "start", t) for t in probes]
        + [(t * s + 50, 1, "done", t) for t in probes]  # a probe 50 ms
    )
    judged_at: dict[int, int] = {}  # probe -> when it reached the state machine
    live = sim.runner.monitors["m0"]
    shown = {}  # uptimed_monitor_up: the confirmed state at a few times
    for at, _, what, t in events:
        for x in (99, 103, 104, 106, 109, 113, 116, 119):
            if x * s not in shown and at > x * s:
                shown[x * s] = live.confirmed_state(x * s)
        if what == "begin":
            sim.check_begins(at)
        elif what == "end":
            sim.check_ends(at, checks[t])
        elif what == "start":
            await sim.probe_starts(at, 0)
        else:
            await sim.probe_ends(at, 0, probes[t])
            assert sim.store.results[-1][1] == t * s  # every raw result is stored at once
        for ts in machine.seen[len(judged_at) :]:
            judged_at[ts] = at
        if at == 110 * s + 10:  # the stretch just ended: no verdict until a probe after it
            assert sim.machine(0).state is None
            assert sim.rows(0) == [Segment(95 * s, 100 * s, UP)]
    sim.runner.stop_holding(125 * s)
    assert sim.rows(0) == [Segment(95 * s, 100 * s, UP), Segment(111 * s, 117 * s + 7 * s, UP)]
    assert not any(r.state == DOWN for r in sim.rows(0))
    # Results in the stretch never reached the machine; the others did once the next check said
    # the network was fine: at most a cadence (plus the checks' own time) after they started.
    assert sorted(judged_at) == [95 * s, 98 * s, 111 * s, 114 * s, 117 * s]
    assert judged_at[111 * s] == 115 * s + 10 and judged_at[98 * s] == 100 * s + 10
    assert len(sim.store.results) == len(probes)
    # No verdict until the first probes are cleared (at 100 s); UP from them until the failing
    # check says otherwise; none in the stretch, nor after it until the first probe after it is
    # cleared by the check at 115 s.
    assert shown == {
        99 * s: None, 103 * s: UP, 104 * s: UP, 106 * s: None, 109 * s: None, 113 * s: None,
        116 * s: UP, 119 * s: UP,
    }  # fmt: skip


async def test_a_verdict_waiting_for_the_next_check_does_not_expire_meanwhile():
    """max_gap 2.5 s is shorter than the 5 s between checks: the confirmed state must still hold
    between checks (results are pending, not missing) and expire only if probes stop."""
    sim = Sim([Thresholds(1, 1, 2500)], start=0)
    live = sim.runner.monitors["m0"]
    events = sorted(
        [(t, 0, "begin") for t in range(5000, 40_000, 5000)]
        + [(t + 10, 2, "end") for t in range(5000, 40_000, 5000)]
        + [(t, 1, "start") for t in range(500, 20_000, 1000)]  # probes stop at 20 s
        + [(t + 20, 1, "done") for t in range(500, 20_000, 1000)]
    )
    states = {}
    for at, _, what in events:
        for x in range(0, 40_000, 100):
            if x not in states and at > x:
                states[x] = live.confirmed_state(x)
        if what == "begin":
            sim.check_begins(at)
        elif what == "end":
            sim.check_ends(at, True)
        elif what == "start":
            await sim.probe_starts(at, 0)
        else:
            await sim.probe_ends(at, 0, True)
    assert all(states[x] == UP for x in range(5100, 20_000, 100))
    assert states[30_000] is None  # the last probe, at 19.5 s, is cleared at 20 s: expired at 22 s


async def test_a_probe_in_flight_across_a_check_is_judged_when_it_ends():
    sim = Sim([Thresholds(1, 1, 30_000)], start=0)
    sim.check_begins(5000)
    sim.check_ends(5010, True)
    await sim.probe_starts(6000, 0)
    sim.check_begins(10_000)
    sim.check_ends(10_010, True)
    await sim.probe_ends(
        12_000, 0, False
    )  # started before a good check that completed: judged at once
    assert sim.rows(0) == [Segment(6000, 36_000, DOWN, "refused")]


async def test_a_probe_in_flight_across_a_whole_stretch_is_not_counted():
    sim = Sim([Thresholds(1, 1, 30_000)], start=0)
    await sim.probe_starts(1000, 0)
    await sim.probe_ends(1010, 0, True)
    await sim.probe_starts(
        4000, 0
    )  # in flight across the checks at 5 s (good), 10 s (bad), 15 s (good)
    for at, ok in ((5000, True), (10_000, False), (15_000, True)):
        sim.check_begins(at)
        sim.check_ends(at + 10, ok)
    await sim.probe_ends(16_000, 0, False)
    assert sim.rows(0) == [Segment(1000, 5000, UP)]  # cut at the stretch's start
    assert sim.machine(0).state is None and sim.machine(0).floor == 15_000


async def test_at_stop_held_results_are_dropped_and_an_open_stretch_is_closed():
    sim = Sim([Thresholds(1, 1, 30_000), Thresholds(1, 1, 30_000)], start=0)
    await sim.probe_starts(1000, 0)
    await sim.probe_ends(1010, 0, True)
    sim.check_begins(5000)
    sim.check_ends(5010, True)
    await sim.probe_starts(6000, 1)
    await sim.probe_ends(6010, 1, False)  # held: the network may already be down
    sim.runner.stop_holding(8000)
    assert sim.rows(0) == [Segment(1000, 31_000, UP)] and sim.rows(1) == []
    # Degraded at the stop: every verdict is cut at the stretch's start.
    sim = Sim([Thresholds(1, 1, 30_000)], start=0)
    await sim.probe_starts(1000, 0)
    await sim.probe_ends(1010, 0, True)
    for at, ok in ((5000, True), (10_000, False)):
        sim.check_begins(at)
        sim.check_ends(at + 10, ok)
    sim.runner.stop_holding(12_000)
    assert sim.rows(0) == [Segment(1000, 5000, UP)]
    assert sim.store.snapshots[0].state is None and sim.store.snapshots[0].floor == 12_000


def test_holdback_decides_by_check_numbers():
    gate: Holdback[str] = Holdback(0)
    assert gate.add(0, "a") is None  # before any check: held
    gate.begin(5)
    assert gate.add(1, "b") is None
    c = gate.complete(True)
    assert (c.judge, c.dropped, c.began, c.ended, c.since) == (["a"], 0, None, None, None)
    gate.begin(10)
    c = gate.complete(False)
    assert (c.judge, c.dropped, c.began, c.ended, c.since) == ([], 1, 5, None, 5)  # "b" was after 5
    assert gate.add(1, "late") is False  # stamped after the last good check: in the stretch
    assert gate.add(0, "older") is True  # stamped before it
    gate.begin(15)
    assert gate.add(3, "c") is None
    c = gate.complete(True)
    assert (c.judge, c.dropped, c.ended, c.since) == ([], 0, (5, 15), None)
    assert gate.add(2, "d") is False and gate.close() == 1
    for _ in range(KEEP + 2):
        gate.begin(20)
        gate.complete(True)
    assert gate.add(0, "ancient") is False  # outcomes that old are forgotten: not counted


# -- random timelines against a brute-force reference ------------------------------------------

C = 10  # ms between check starts


@st.composite
def scenarios(draw):
    n_checks = draw(st.integers(1, 25))
    checks = []  # (start, duration, ok), numbered from 1; 0 is the start at 0, good
    for k in range(1, n_checks + 1):
        checks.append((k * C, draw(st.integers(0, C - 1)), draw(st.booleans() | st.just(True))))
    end = (n_checks + 1) * C
    monitors = []
    for _ in range(draw(st.integers(1, 2))):
        th = Thresholds(
            draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.sampled_from([7, 12, 25, 40]))
        )
        probes, t = [], draw(st.integers(1, 6))
        while t < end - 1:
            dur = draw(st.sampled_from([0, 1, 2, 4, 14, 27]))  # some in flight across checks
            if t + dur + 1 >= end:
                break
            probes.append((t, dur, draw(st.booleans())))
            t += dur + 1 + draw(st.sampled_from([0, 2, 3, 6, 20]))
        monitors.append((th, probes))
    return checks, monitors, end


def stretches(checks: list[tuple[int, int, bool]]) -> list[tuple[int, float, float]]:
    """Degraded stretches from the check outcomes alone: ``(start, end, end noticed)``, from the
    start of the last good check before failing ones to the start of the next good one (and
    when that check completed); ``inf`` for a stretch still open at the end."""
    out: list[tuple[int, float, float]] = []
    last_good, since = 0, None
    for start, dur, ok in checks:
        if ok:
            if since is not None:
                out.append((since, start, start + dur))
                since = None
            last_good = start
        elif since is None:
            since = last_good
    if since is not None:
        out.append((since, float("inf"), float("inf")))
    return out


def reference(checks, probes, th: Thresholds, degraded) -> dict[int, int]:
    """The confirmed state at every instant, from the rules alone: results stamped in a stretch
    are left out, and so are those no check started after them has cleared by the end, and
    those still in flight when a stretch after their stamp was over (their machine had started
    afresh); between stretches, the brute-force reference of test_state, cut at the next
    stretch's start."""
    starts = [c for c, _, _ in checks]
    used = [
        (t, ok)
        for t, dur, ok in probes
        if not any(a <= t < b for a, b, _ in degraded)
        and any(c > t for c in starts)
        and not any(b > t and noticed < t + dur + 0.5 for _, b, noticed in degraded)
    ]
    out: dict[int, int] = {}
    bounds = [float("-inf")] + [x for a, b, _ in degraded for x in (a, b)] + [float("inf")]
    for lo, hi in zip(bounds[::2], bounds[1::2], strict=True):
        piece = [(t, ok) for t, ok in used if lo <= t < hi]
        for x, state in reference_states(piece, th.failure, th.success, th.max_gap_ms).items():
            if x < hi:
                out[x] = state
    return out


async def simulate(checks, monitors, end) -> Sim:
    sim = Sim([th for th, _ in monitors], start=0)
    events = []
    for start, dur, ok in checks:
        events += [(start, 0, "begin", 0, ok), (start + dur, 2, "end", 0, ok)]
    for i, (_, probes) in enumerate(monitors):
        for t, dur, ok in probes:  # ends at half ms: never at the same time as a check
            events += [(t, 1, "start", i, ok), (t + dur + 0.5, 1, "done", i, ok)]
    for at, _, what, i, ok in sorted(events):
        if what == "begin":
            sim.check_begins(at)
        elif what == "end":
            sim.check_ends(at, ok)
        elif what == "start":
            await sim.probe_starts(at, i)
        else:
            await sim.probe_ends(int(at), i, ok)
    sim.runner.stop_holding(end)
    return sim


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_degraded_stretches_against_reference(scenario):
    checks, monitors, end = scenario
    sim = asyncio.run(simulate(checks, monitors, end))
    degraded = stretches(checks)
    for i, (th, probes) in enumerate(monitors):
        rows = sim.rows(i)
        for a, b, _ in degraded:
            for r in rows:
                assert not (r.state == DOWN and a <= r.start < b), (
                    r,
                    (a, b),
                )  # no outage starts inside
                assert r.end <= a or r.start >= b, (r, (a, b))  # nothing reaches into it
        assert sample(sim.store.rows.get(i, {})) == reference(checks, probes, th, degraded)
    assert sum(len(p) for _, p in monitors) == len(sim.store.results)  # every result stored


# -- the store: timeline writes and snapshots without a result ----------------------------------


def test_store_record_state_keeps_the_last_result_and_orders_snapshots(tmp_path):
    path = str(tmp_path / "u.db")
    store = Store(path, flush_interval=0.05)
    store.open()
    ids = store.register_monitors([("a", "tcp", "a"), ("b", "tcp", "b"), ("c", "tcp", "c")])
    a, b, c = ids["a"], ids["b"], ids["c"]
    store.start(version="t", config_sha256="x")
    judged = Snapshot(UP, 0, None, 1000, Segment(1000, 2000, UP), 0)
    later = Snapshot(None, 0, None, 1000, None, 5000)
    newer = Snapshot(UP, 0, None, 3000, Segment(3000, 4000, UP), 0)
    # In one batch: a result, then its judgement (merged, the result's columns kept) ...
    store.record(a, 1000, ProbeResult(False, 0.1, "refused", "no"), [], Snapshot())
    store.record_state(a, [Segment(1000, 2000, DOWN, "refused")], judged)
    # ... a judgement, then a newer result (its snapshot wins) ...
    store.record_state(b, [Segment(500, 900, UP)], later)
    store.record(b, 3000, ProbeResult(True, 0.1), [Segment(3000, 4000, UP)], newer)
    # ... and a monitor never probed: a state row of its own, without a result.
    store.record_state(c, [], later)
    store.close()

    def read() -> tuple[dict[int, Snapshot], list[tuple[int, ...]], dict[int, tuple[object, ...]]]:
        s = Store(path)
        s.open()
        conn = s._conn
        assert conn is not None
        try:
            rows = conn.execute(
                "SELECT monitor, start, end, state FROM timeline ORDER BY monitor, start"
            ).fetchall()
            last = {
                r[0]: r[1:]
                for r in conn.execute("SELECT monitor, last_ok, last_error FROM monitor_state")
            }
            return s.load_snapshots(), rows, last
        finally:
            s.close()

    snaps, rows, last = read()
    assert (snaps[a], snaps[b], snaps[c]) == (judged, newer, later)
    assert rows == [(a, 1000, 2000, DOWN), (b, 500, 900, UP), (b, 3000, 4000, UP)]
    assert last == {a: (0, "no"), b: (1, None), c: (None, None)}
    store = Store(path, flush_interval=0.05)
    store.open()
    store.start(version="t", config_sha256="x")
    store.record_state(a, [], later)  # in a later batch: the last result stays
    store.close()
    snaps, _, last = read()
    assert snaps[a] == later and last[a] == (0, "no")
