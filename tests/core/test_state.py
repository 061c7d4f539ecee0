"""The state machine and its timeline against a brute-force reference (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from probes.base import INTERNAL
from uptimed.core.state import DOWN, UP, Segment, StateMachine, Thresholds

GAP = 25  # max_gap for interval 10, timeout 5


def reference_states(probes: list[tuple[int, bool]], f: int, s: int, gap: int) -> dict[int, int]:
    """The confirmed state at every integer time, straight from the rules: verdicts per probe
    (with backdating done by index), then each instant takes the verdict of the last probe at or
    before it if that probe is less than ``gap`` old."""
    verdict: list[int] = []
    chain_start = 0
    state = UP
    run = 0
    for i, (t, ok) in enumerate(probes):
        if i and t - probes[i - 1][0] > gap:  # coverage broke: start afresh, counting as UP
            chain_start, state, run = i, UP, 0
        verdict.append(state)
        if (state == UP) != ok:
            run += 1
            need = f if state == UP else s
            if run == need:
                state = DOWN if state == UP else UP
                first = i - need + 1
                for j in range(max(first, chain_start), i + 1):  # backdate to the run's start
                    verdict[j] = state
                run = 0
        else:
            run = 0
    out: dict[int, int] = {}
    if not probes:
        return out
    for x in range(probes[0][0], probes[-1][0] + gap + 3):
        last = max((i for i, (t, _) in enumerate(probes) if t <= x), default=None)
        if last is not None and x < probes[last][0] + gap:
            out[x] = verdict[last]
    return out


def sample(segments: dict[int, Segment]) -> dict[int, int]:
    out: dict[int, int] = {}
    for seg in segments.values():
        for x in range(seg.start, seg.end):
            assert x not in out, (
                f"segments overlap at {x}: {sorted(segments.values(), key=lambda s: s.start)}"
            )
            out[x] = seg.state
    return out


def run_machine(probes, f, s, split=None):
    """Feed the probes, storing writes the way the database does (upsert keyed by start).
    With ``split``, the machine is rebuilt from its snapshot half-way, as after a restart."""
    th = Thresholds(f, s, GAP)
    m = StateMachine(th)
    stored: dict[int, Segment] = {}
    transitions = []
    for i, (t, ok) in enumerate(probes):
        if split is not None and i == split:
            m = StateMachine(th, m.snapshot())
        writes, tr = m.observe(t, ok)
        for seg in writes:
            stored[seg.start] = seg
        if tr:
            transitions.append(tr)
    return stored, transitions, m


probe_lists = st.lists(
    st.tuples(st.sampled_from([0, 1, 3, 10, 10, 10, 11, 24, 25, 26, 60]), st.booleans()),
    min_size=1,
    max_size=40,
).map(lambda steps: _absolute(steps))


def _absolute(steps):
    t, out = 1000, []
    for dt, ok in steps:
        t += dt
        out.append((t, ok))
    return out


@settings(max_examples=400, deadline=None)
@given(probe_lists, st.integers(1, 4), st.integers(1, 4))
def test_timeline_matches_reference(probes, f, s):
    stored, _, _ = run_machine(probes, f, s)
    assert sample(stored) == reference_states(probes, f, s, GAP)


@settings(max_examples=300, deadline=None)
@given(probe_lists, st.integers(1, 4), st.integers(1, 4), st.data())
def test_resume_from_snapshot_changes_nothing(probes, f, s, data):
    split = data.draw(st.integers(0, len(probes)))
    assert run_machine(probes, f, s, split)[0] == run_machine(probes, f, s)[0]


@settings(max_examples=300, deadline=None)
@given(probe_lists, st.integers(1, 4), st.integers(1, 4))
def test_transitions_alternate_and_match_segments(probes, f, s):
    stored, transitions, m = run_machine(probes, f, s)
    starts = {seg.start: seg.state for seg in stored.values()}
    for i, tr in enumerate(transitions):
        assert tr.state != tr.previous
        assert tr.at <= tr.confirmed_at
        later_same_start = any(t.at == tr.at for t in transitions[i + 1 :])
        if not later_same_start:  # a zero-length state is overwritten by the next one
            assert starts.get(tr.at) == tr.state
    if transitions and m.state is not None:  # None: the verdict expired in a gap
        assert m.state == transitions[-1].state


def test_blips_below_threshold_are_not_downtime():
    stored, transitions, m = run_machine([(0, True), (10, False), (20, False), (30, True)], 3, 1)
    assert list(stored.values()) == [Segment(0, 30 + GAP, UP)]
    assert [t.state for t in transitions] == [UP]


def test_outage_is_backdated_to_first_failure_and_ends_at_first_success():
    probes = [(0, True), (10, False), (20, False), (30, False), (40, True), (50, True), (60, True)]
    stored, transitions, m = run_machine(probes, 3, 2)
    assert sorted(stored.values(), key=lambda s: s.start) == [
        Segment(0, 10, UP),
        Segment(10, 40, DOWN),
        Segment(40, 60 + GAP, UP),
    ]
    assert [(t.at, t.state, t.confirmed_at) for t in transitions] == [
        (0, UP, 0),
        (10, DOWN, 30),
        (40, UP, 50),
    ]


def test_new_monitor_counts_as_up_and_first_failures_can_confirm_down():
    stored, transitions, m = run_machine([(0, False), (10, False)], 2, 1)
    assert list(stored.values()) == [Segment(0, 10 + GAP, DOWN)]
    assert transitions[0].previous is None and transitions[0].state == DOWN


def test_gap_makes_time_unknown_and_resets_the_verdict():
    # DOWN, then a gap longer than max_gap: the next failure alone (threshold 2) is not DOWN.
    stored, transitions, m = run_machine([(0, False), (10, False), (100, False)], 2, 1)
    assert sorted(stored.values(), key=lambda s: s.start) == [
        Segment(0, 10 + GAP, DOWN),
        Segment(100, 100 + GAP, UP),
    ]
    assert m.state is None


def test_probes_before_the_floor_are_ignored_and_small_steps_back_are_clamped():
    m = StateMachine(Thresholds(1, 1, GAP))
    m.observe(100, True)
    m.ignore_before(105)
    assert m.observe(50, False) == ([], None)
    writes, tr = m.observe(103, False)  # after the floor would be 105: still ignored
    assert writes == [] and tr is None
    writes, tr = m.observe(110, False)
    assert tr is not None and tr.at == 110
    writes, tr = m.observe(105, True)  # stamped before the last probe: treated as at 110
    assert writes[-1].start == 110 and tr is not None and tr.at == 110


def test_an_outage_carries_the_error_kind_of_its_first_failure():
    m = StateMachine(Thresholds(3, 1, GAP))
    m.observe(0, True)
    m.observe(10, False, "timeout")
    m.observe(20, False, "refused")
    writes, tr = m.observe(30, False, "refused")
    assert writes[-1] == Segment(10, 30 + GAP, DOWN, "timeout")
    m = StateMachine(Thresholds(3, 1, GAP), m.snapshot())  # kept across a restart
    writes, _ = m.observe(40, False, "reset")
    assert writes == [Segment(10, 40 + GAP, DOWN, "timeout")]
    writes, _ = m.observe(50, True)
    assert writes[-1] == Segment(50, 50 + GAP, UP)


def test_after_forget_the_dropped_segment_ends_where_the_next_one_starts():
    """forget() (the daemon's own network was down) drops the verdict; the next probe may come
    before the old segment's provisional end: the old one is ended there, so rows never overlap."""
    m = StateMachine(Thresholds(1, 1, GAP))
    m.observe(0, False, "timeout")
    m.observe(10, False)  # DOWN [0, 10 + GAP)
    m.forget()
    assert 12 < 10 + GAP
    writes, transition = m.observe(12, True)
    assert writes == [Segment(0, 12, DOWN, "timeout"), Segment(12, 12 + GAP, UP, None)]
    assert transition is not None and transition.state == UP
    # Only once, and not when the verdict simply expired (the old segment ended before).
    assert m.observe(13, True)[0] == [Segment(12, 13 + GAP, UP, None)]
    m.forget()
    far = 13 + GAP + 5
    assert m.observe(far, False)[0] == [Segment(far, far + GAP, DOWN, None)]


def test_interrupt_cuts_the_open_segment_at_the_stretch_and_starts_afresh_after_it():
    """interrupt(start, end) (the daemon's own network was down over [start, end)): the open
    segment ends at ``start``, the verdict is dropped, probes stamped before ``end`` are ignored."""
    m = StateMachine(Thresholds(2, 1, GAP))
    m.observe(0, True)
    m.observe(10, False, "timeout")  # pending: one failure of two
    assert m.interrupt(15, 40) == [Segment(0, 15, UP)]
    assert m.state is None and m.streak == 0 and m.segment is None
    assert m.observe(30, False) == ([], None)  # in flight across the stretch: ignored
    writes, tr = m.observe(41, False)  # afresh: the failure before the stretch does not count
    assert writes == [Segment(41, 41 + GAP, UP)] and tr is None
    assert m.interrupt(41 + GAP + 5, 200) == []  # the verdict had expired before: nothing to cut


# -- internal errors: no verdict ------------------------------------------------------------------

steps_with_bugs = st.lists(
    st.tuples(
        st.sampled_from([0, 1, 3, 10, 10, 10, 11, 24, 25, 26, 60]),
        st.sampled_from(["ok", "fail", "fail", "internal"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(steps_with_bugs, st.integers(1, 4), st.integers(1, 4), st.data())
def test_an_internal_error_is_as_if_the_probe_had_not_run(
    steps: list[tuple[int, str]], f: int, s: int, data: st.DataObject
) -> None:
    """Results of kind ``internal`` (a bug of ours) interleaved anywhere, even after a restart
    from a snapshot: the same writes, transitions and state as without them, and the timeline
    of the reference fed only the real results."""
    th = Thresholds(f, s, GAP)
    split = data.draw(st.integers(0, len(steps)))
    with_bugs, without = StateMachine(th), StateMachine(th)
    stored: dict[int, Segment] = {}
    t, real = 1000, []
    for i, (dt, what) in enumerate(steps):
        t += dt
        if i == split:
            with_bugs = StateMachine(th, with_bugs.snapshot())
        got = with_bugs.observe(
            t, what == "ok", INTERNAL if what == "internal" else None if what == "ok" else "refused"
        )
        if what == "internal":
            assert got == ([], None)
            continue
        real.append((t, what == "ok"))
        assert got == without.observe(t, what == "ok", None if what == "ok" else "refused")
        for seg in got[0]:
            stored[seg.start] = seg
    assert with_bugs.snapshot() == without.snapshot()
    assert sample(stored) == (reference_states(real, f, s, GAP) if real else {})


def test_an_internal_error_first_gives_no_verdict_at_all() -> None:
    m = StateMachine(Thresholds(1, 1, GAP))
    assert m.observe(0, False, INTERNAL) == ([], None)
    assert m.state is None and m.last_ts is None and m.segment is None
    writes, tr = m.observe(10, False, "refused")  # the first real result, as for a new monitor
    assert writes == [Segment(10, 10 + GAP, DOWN, "refused")] and tr is not None
