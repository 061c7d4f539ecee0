"""Escalation: concrete fake-clock scenarios, then a property test against a brute-force
reference that steps a clock one second at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from uptimed.core.escalation import (
    ACKNOWLEDGED,
    ESCALATED,
    OPENED,
    REMINDER,
    RESOLVED,
    Due,
    IncidentTimes,
    due,
    next_due,
)
from uptimed.model.config import EscalationLevel, EscalationPolicy

S = 1000  # ms
M = 60 * S
T0 = 1_700_000_000_000  # an arbitrary epoch instant (ms)

TWO = EscalationPolicy(
    id="two",
    levels=(
        EscalationLevel(after=0, notify=("chat",)),
        EscalationLevel(after=15 * 60, notify=("chat", "pager")),
    ),
)


def inc(ack: int | None = None, res: int | None = None, start: int = T0) -> IncidentTimes:
    return IncidentTimes(key="x7", start=start, acknowledged=ack, resolved=res)


def events(items: list[Due]) -> list[tuple[str, int, tuple[str, ...], int]]:
    return [(d.event, d.level, d.notify, d.at - T0) for d in items]


def test_opened_then_escalated() -> None:
    assert events(due(inc(), TWO, T0 - 1)) == []
    assert events(due(inc(), TWO, T0)) == [(OPENED, 0, ("chat",), 0)]
    assert next_due(inc(), TWO, T0) == T0 + 15 * M
    got = due(inc(), TWO, T0 + 20 * M)
    assert events(got) == [(OPENED, 0, ("chat",), 0), (ESCALATED, 1, ("chat", "pager"), 15 * M)]
    assert [d.key for d in got] == ["x7:incident.opened:0", "x7:incident.escalated:1"]
    assert next_due(inc(), TWO, T0 + 20 * M) is None


def test_ack_before_level_1_stops_escalation_and_tells_level_0() -> None:
    i = inc(ack=T0 + 10 * M)
    got = due(i, TWO, T0 + 60 * M)
    assert events(got) == [(OPENED, 0, ("chat",), 0), (ACKNOWLEDGED, 0, ("chat",), 10 * M)]
    assert got[-1].key == "x7:incident.acknowledged:0"
    assert next_due(i, TWO, T0 + 10 * M) is None
    # Before the ack happened, the ack was the next thing due.
    assert next_due(i, TWO, T0 + 5 * M) == T0 + 10 * M


def test_ack_after_level_1_tells_the_union() -> None:
    i = inc(ack=T0 + 20 * M)
    assert events(due(i, TWO, T0 + 20 * M))[-1] == (ACKNOWLEDGED, 1, ("chat", "pager"), 20 * M)


def test_resolved_notified_or_not() -> None:
    i = inc(ack=T0 + 20 * M, res=T0 + 30 * M)
    assert events(due(i, TWO, T0 + 30 * M))[-1] == (RESOLVED, 1, ("chat", "pager"), 30 * M)
    quiet = EscalationPolicy(id="q", levels=TWO.levels, notify_resolved=False)
    assert [d.event for d in due(i, quiet, T0 + 30 * M)] == [OPENED, ESCALATED, ACKNOWLEDGED]
    # Resolved before level 1 and unacknowledged: only level 0's receivers hear of it.
    early = inc(res=T0 + 5 * M)
    assert events(due(early, TWO, T0 + 60 * M)) == [
        (OPENED, 0, ("chat",), 0),
        (RESOLVED, 0, ("chat",), 5 * M),
    ]
    # Resolved before anyone was told: nothing at all.
    assert (
        due(inc(res=T0 + 5 * M), EscalationPolicy(id="l", levels=TWO.levels[1:]), T0 + M * 60) == []
    )


def test_resolved_before_ack_suppresses_the_ack() -> None:
    i = inc(ack=T0 + 10 * M, res=T0 + 5 * M)
    assert [d.event for d in due(i, TWO, T0 + 60 * M)] == [OPENED, RESOLVED]
    same = inc(ack=T0 + 5 * M, res=T0 + 5 * M)
    assert [d.event for d in due(same, TWO, T0 + 60 * M)] == [OPENED, RESOLVED]


def test_first_level_after_zero_is_still_opened() -> None:
    p = EscalationPolicy(
        id="late",
        levels=(
            EscalationLevel(after=300, notify=("a", "b", "a")),
            EscalationLevel(after=600, notify=("c",)),
        ),
    )
    assert due(inc(), p, T0 + 299 * S) == []
    assert next_due(inc(), p, T0) == T0 + 5 * M
    got = due(inc(), p, T0 + 10 * M)
    assert events(got) == [(OPENED, 0, ("a", "b"), 5 * M), (ESCALATED, 1, ("c",), 10 * M)]
    # Acknowledged before the first level: nothing, not even the acknowledgement.
    assert due(inc(ack=T0 + M), p, T0 + 60 * M) == []
    assert next_due(inc(ack=T0 + M), p, T0) is None


REMIND = EscalationPolicy(id="r", levels=TWO.levels, repeat=5 * 60)


def test_reminders_skip_level_instants_and_go_to_everyone_told() -> None:
    got = due(inc(), REMIND, T0 + 12 * M)
    assert events(got)[-1] == (REMINDER, 0, ("chat",), 10 * M)
    assert got[-1].key == "x7:incident.reminder:2"
    # 15 m is level 1's instant: no reminder 3; the next is 4 at 20 m, to the union.
    assert next_due(inc(), REMIND, T0 + 12 * M) == T0 + 15 * M
    assert next_due(inc(), REMIND, T0 + 15 * M) == T0 + 20 * M
    got = due(inc(), REMIND, T0 + 16 * M)
    assert [d.event for d in got] == [OPENED, REMINDER, ESCALATED]
    assert got[1].key == "x7:incident.reminder:2"
    got = due(inc(), REMIND, T0 + 20 * M)
    assert events(got)[-1] == (REMINDER, 1, ("chat", "pager"), 20 * M)
    assert got[-1].key == "x7:incident.reminder:4"


def test_restart_much_later_returns_only_the_latest_reminder() -> None:
    now = T0 + 5 * 60 * M + 7 * S  # five hours on
    got = due(inc(), REMIND, now)
    assert [d.key for d in got] == [
        "x7:incident.opened:0",
        "x7:incident.escalated:1",
        "x7:incident.reminder:60",
    ]
    assert got[-1].at == T0 + 300 * M and got[-1].notify == ("chat", "pager")
    assert next_due(inc(), REMIND, now) == T0 + 305 * M


def test_reminder_before_the_first_level_is_not_sent() -> None:
    p = EscalationPolicy(id="p", levels=(EscalationLevel(after=600, notify=("a",)),), repeat=240)
    assert due(inc(), p, T0 + 9 * M) == []
    assert next_due(inc(), p, T0) == T0 + 10 * M
    assert next_due(inc(), p, T0 + 10 * M) == T0 + 12 * M
    assert events(due(inc(), p, T0 + 12 * M))[-1] == (REMINDER, 0, ("a",), 12 * M)


def test_ack_or_resolve_exactly_at_a_due_instant_wins() -> None:
    for i in (inc(ack=T0 + 15 * M), inc(res=T0 + 15 * M)):
        got = due(i, TWO, T0 + 60 * M)
        assert ESCALATED not in [d.event for d in got]
        assert got[-1].level == 0 and got[-1].notify == ("chat",) and got[-1].at == T0 + 15 * M
    # At the opening instant itself: nothing at all.
    assert due(inc(ack=T0), TWO, T0 + 60 * M) == []
    assert due(inc(res=T0), TWO, T0 + 60 * M) == []
    # At a reminder's instant: no reminder then.
    got = due(inc(ack=T0 + 10 * M), REMIND, T0 + 60 * M)
    assert [d.key for d in got] == [
        "x7:incident.opened:0",
        "x7:incident.reminder:1",
        "x7:incident.acknowledged:0",
    ]


def test_nonsense_times_do_not_crash() -> None:
    for i in (inc(ack=T0 - M), inc(res=T0 - M), inc(ack=T0 - 2 * M, res=T0 - M)):
        assert due(i, REMIND, T0 + 60 * M) == []
        assert next_due(i, REMIND, T0 - 5 * M) is None
    assert due(inc(), REMIND, 0) == []
    assert next_due(inc(), REMIND, 0) == T0


def test_acknowledged_and_resolved_have_nothing_next() -> None:
    assert next_due(inc(ack=T0 + M), REMIND, T0 + 2 * M) is None
    assert next_due(inc(res=T0 + M), REMIND, T0 + 2 * M) is None


# --- The property test --------------------------------------------------------------------


def reference(i: IncidentTimes, p: EscalationPolicy, horizon: int) -> list[Due]:
    """Step a clock one second at a time and send what each second brings, every reminder
    included: a straightforward rendering of the rules, written without escalation's helpers."""
    sent: list[Due] = []
    told: list[str] = []
    reached = -1
    acked = resolved = False
    for t in range(min(i.start, 0), horizon + S, S):
        stopped = (i.acknowledged is not None and i.acknowledged <= t) or (
            i.resolved is not None and i.resolved <= t
        )
        level_now = False
        for n, lv in enumerate(p.levels):
            if i.start + int(lv.after) * S == t:
                level_now = True
                if not stopped:
                    event = OPENED if reached < 0 else ESCALATED
                    notify = tuple(dict.fromkeys(lv.notify))
                    sent.append(Due(event, n, notify, t, f"{i.key}:{event}:{n}"))
                    reached = n
                    for x in lv.notify:
                        if x not in told:
                            told.append(x)
        if p.repeat is not None and t > i.start and (t - i.start) % (int(p.repeat) * S) == 0:
            n = (t - i.start) // (int(p.repeat) * S)
            if not stopped and not level_now and reached >= 0:
                sent.append(
                    Due(REMINDER, reached, tuple(told), t, f"{i.key}:incident.reminder:{n}")
                )
        if i.resolved == t and not resolved:
            resolved = True
            if p.notify_resolved and reached >= 0:
                sent.append(Due(RESOLVED, reached, tuple(told), t, f"{i.key}:{RESOLVED}:{reached}"))
        if i.acknowledged == t and not acked and not resolved and reached >= 0:
            acked = True
            sent.append(
                Due(ACKNOWLEDGED, reached, tuple(told), t, f"{i.key}:{ACKNOWLEDGED}:{reached}")
            )
    return sent


NAMES = st.lists(st.sampled_from("abcd"), min_size=1, max_size=3).map(tuple)


@st.composite
def cases(draw: st.DrawFn) -> tuple[IncidentTimes, EscalationPolicy]:
    afters = sorted(draw(st.sets(st.integers(0, 30), min_size=1, max_size=3)))
    levels = tuple(EscalationLevel(after=float(a), notify=draw(NAMES)) for a in afters)
    repeat = draw(st.none() | st.integers(1, 12).map(float))
    policy = EscalationPolicy(
        id="p", levels=levels, repeat=repeat, notify_resolved=draw(st.booleans())
    )
    start = draw(st.integers(0, 15)) * S
    maybe_time = st.none() | st.integers(0, 60).map(lambda s: s * S)
    return IncidentTimes("k", start, draw(maybe_time), draw(maybe_time)), policy


HORIZON = 80 * S
EVENT_RANK = {OPENED: 0, ESCALATED: 1, REMINDER: 2, ACKNOWLEDGED: 3, RESOLVED: 4}


@settings(max_examples=200, deadline=None)
@given(cases())
def test_matches_a_one_second_reference(case: tuple[IncidentTimes, EscalationPolicy]) -> None:
    i, p = case
    ref = reference(i, p, HORIZON)
    assert len({d.key for d in ref}) == len(ref)
    steps = range(0, HORIZON + S, S)
    seen: set[Due] = set()
    calls = {t: due(i, p, t) for t in steps}
    for t in steps:
        got = calls[t]
        # (b) never due before its time; each item once; ordered.
        assert all(d.at <= t for d in got)
        assert len({d.key for d in got}) == len(got)
        assert got == sorted(got, key=lambda d: (d.at, EVENT_RANK[d.event]))
        # What a call returns at any time, however rarely made: every non-reminder so far,
        # and of the reminders the latest only.
        so_far = [d for d in ref if d.at <= t]
        reminders = [d for d in so_far if d.event == REMINDER]
        assert [d for d in got if d.event != REMINDER] == [d for d in so_far if d.event != REMINDER]
        assert [d for d in got if d.event == REMINDER] == reminders[-1:]
        seen.update(got)
        # (c) next_due is the first later step at which due() has something new.
        keys = {d.key for d in got}
        grows = next((u for u in steps if u > t and {d.key for d in calls[u]} - keys), None)
        nd = next_due(i, p, t)
        if grows is None:
            assert nd is None or nd > HORIZON
        else:
            assert nd == grows
    # (a) called every second, due() sees everything the reference sends, reminders included.
    assert seen == set(ref)
