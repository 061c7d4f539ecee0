"""The SLA engine against a brute-force reference that samples every millisecond (hypothesis),
and the edges of SLO verdicts, budgets, credits and incidents by hand."""

from __future__ import annotations

import random
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uptimed.core.intervals import normalize
from uptimed.core.sla import (
    StateTimeline,
    burn_rate,
    counted_down,
    credit_tier,
    down_segments,
    evaluate,
    figures,
    incidents,
    latency_attainment,
    monitor_figures,
    monitor_timeline,
    service_timeline,
)
from uptimed.core.state import DOWN, UP
from uptimed.model.config import CreditTier, Policy
from uptimed.model.report import Figures, Incident

LO, HI = -200, 4600  # every instant the random data and windows can touch
DAY = 86_400_000
CAUSES = [None, "timeout", "refused", "http_status"]

# -- the reference: one category per millisecond ---------------------------------------------

U, D, M, X, OUT = "up", "down", "maintenance", "unknown", "outside"


def paint(ivs) -> bytearray:
    """Membership of every instant of [LO, HI) in a raw interval list (reversed ones are empty)."""
    a = bytearray(HI - LO)
    for s, e in ivs:
        for t in range(max(s, LO), min(e, HI)):
            a[t - LO] = 1
    return a


def owners(rows) -> list[int | None]:
    """For each instant, the index of the row holding it: the row with the latest start at or
    before it (of equal starts, the last given), if the instant is before that row's end."""
    out: list[int | None] = []
    for t in range(LO, HI):
        best = None
        for i, r in enumerate(rows):
            if r[0] <= t and (best is None or r[0] >= rows[best][0]):
                best = i
        out.append(best if best is not None and t < rows[best][1] else None)
    return out


def monitor_reference(rows, runs, degraded, maint, outside, window):
    """Per instant of the window, the category; plus per instant the owning down row (or None)."""
    own = owners(rows)
    run = paint(runs)
    deg = paint(degraded)
    mnt = paint(maint)
    out = paint(outside)
    cats = []
    down_owner = []
    for t in range(window[0], window[1]):
        i = t - LO
        r = own[i]
        if out[i]:
            c = OUT
        elif mnt[i]:
            c = M
        elif r is not None and run[i] and not deg[i]:
            c = U if rows[r][2] == UP else D
        else:
            c = X
        cats.append(c)
        down_owner.append(r if c == D else None)
    return cats, down_owner, own, run, deg


def tally(cats) -> dict[str, int]:
    return {c: cats.count(c) for c in (U, D, M, X, OUT)}


def as_set(ivs) -> set[int]:
    out: set[int] = set()
    for s, e in ivs:
        out.update(range(s, e))
    return out


def assert_figures(fig: Figures, cats, window):
    n = tally(cats)
    assert (fig.start, fig.end) == window
    assert fig.up_ms == n[U]
    assert fig.down_ms == n[D]
    assert fig.maintenance_ms == n[M]
    assert fig.unknown_ms == n[X]
    assert fig.outside_hours_ms == n[OUT]
    assert (
        fig.up_ms + fig.down_ms + fig.maintenance_ms + fig.unknown_ms + fig.outside_hours_ms
        == len(cats)
    )
    known = n[U] + n[D]
    assert fig.availability == (n[U] / known if known else None)
    eligible = len(cats) - n[M] - n[OUT]
    assert fig.coverage == (known / eligible if eligible else None)


# -- the reference for SLO verdicts: integers and Fractions built independently ----------------


def exact_decimal(f: Fraction) -> Decimal | None:
    """``f`` as a Decimal if it has a finite decimal expansion (short enough), else None."""
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(f.numerator) / Decimal(f.denominator)
    return d if Fraction(d) == f else None


def reference_evaluation(cats, objective: Decimal, policy: Policy, credits):
    n = tally(cats)
    good = (
        n[U] + (n[X] if policy.unknown == "up" else 0) + (n[M] if policy.maintenance == "up" else 0)
    )
    bad = n[D] + (n[X] if policy.unknown == "down" else 0)
    eligible = good + bad
    p, q = objective.as_integer_ratio()  # objective percent = p / q
    if not eligible:
        return dict(
            eligible=0, good=0, bad=0, attainment=None, met=None, credit=None, total=0, burn=None
        )
    met = good * 100 * q >= p * eligible
    credit = None
    for tier in sorted(credits, key=lambda c: c.below):  # the smallest below that applies
        bp, bq = tier.below.as_integer_ratio()
        if good * 100 * bq < bp * eligible:
            credit = tier
            break
    total = Fraction(eligible * (100 * q - p), 100 * q)
    burn = None
    if total:
        burn = float(Fraction(bad, 1) / total)
    elif eligible:
        burn = float("inf") if bad else 0.0
    return dict(
        eligible=eligible,
        good=good,
        bad=bad,
        attainment=Fraction(good, eligible),
        met=met,
        credit=credit,
        total=total,
        burn=burn,
    )


def check_evaluation(fig, cats, data):
    """Draw an objective, policy and tiers (often placed exactly on the attainment, where a
    strict/non-strict mix-up would show) and compare :func:`evaluate` with the reference."""
    policy = Policy(
        unknown=data.draw(st.sampled_from(["exclude", "down", "up"])),
        maintenance=data.draw(st.sampled_from(["exclude", "up"])),
    )
    n = tally(cats)
    good = (
        n[U] + (n[X] if policy.unknown == "up" else 0) + (n[M] if policy.maintenance == "up" else 0)
    )
    eligible = good + n[D] + (n[X] if policy.unknown == "down" else 0)
    candidates = [Decimal("99.9"), Decimal("95"), Decimal("0"), Decimal("100")]
    on_the_edge = exact_decimal(Fraction(good * 100, eligible)) if eligible else None
    if on_the_edge is not None:
        candidates += [on_the_edge] * 4
    decimals = st.decimals(
        min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False
    )
    pick = st.one_of(st.sampled_from(candidates), decimals)
    objective = data.draw(pick)
    credits = [
        CreditTier(below=data.draw(pick), credit=Decimal(k))
        for k in range(data.draw(st.integers(0, 4)))
    ]
    ref = reference_evaluation(cats, objective, policy, credits)
    ev = evaluate(fig, objective, policy, credits)
    assert ev.eligible_ms == ref["eligible"]
    assert ev.bad_ms == ref["bad"]
    assert ev.good_ms == ref["good"]
    assert ev.attainment == ref["attainment"]
    assert ev.met == ref["met"]
    assert ev.credit == ref["credit"]
    assert ev.budget.total_ms == ref["total"]
    assert ev.budget.consumed_ms == ref["bad"]
    assert ev.budget.remaining_ms == ref["total"] - ref["bad"]
    if ref["total"]:
        assert ev.budget.remaining_ratio == 1 - Fraction(ref["bad"]) / ref["total"]
    else:
        assert ev.budget.remaining_ratio is None
    assert ev.burn_rate == ref["burn"]
    assert burn_rate(fig, objective, policy) == ref["burn"]
    assert ev.policy == policy and ev.objective == objective


# -- strategies --------------------------------------------------------------------------------

raw_intervals = st.lists(st.tuples(st.integers(-50, 2100), st.integers(-50, 2100)), max_size=5)


@st.composite
def wellformed_rows(draw):
    """Rows as the state machine writes them: sorted, disjoint, often touching (backdating)."""
    t = draw(st.integers(0, 200))
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        t += draw(st.sampled_from([0, 0, 1, 5, 37, 120]))
        length = draw(st.integers(1, 300))
        rows.append(
            (t, t + length, draw(st.sampled_from([UP, DOWN])), draw(st.sampled_from(CAUSES)))
        )
        t += length
    return rows


@st.composite
def messy_rows(draw):
    """Rows in any order, overlapping, with equal starts and empty rows (robustness)."""
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from([0, 100, 150]) | st.integers(0, 2000),  # equal starts are likely
                st.integers(0, 400),
                st.sampled_from([UP, DOWN]),
                st.sampled_from(CAUSES),
            ),
            max_size=10,
        ).map(lambda xs: [(s, s + n, state, c) for s, n, state, c in xs])
    )


@st.composite
def windows(draw):
    ws = draw(st.integers(-100, 2200))
    return ws, ws + draw(st.sampled_from([0, 1, 2200]) | st.integers(0, 2200))


# -- monitors ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=wellformed_rows() | messy_rows(),
    runs=st.one_of(st.just([(-1000, 5000)]), raw_intervals),
    degraded=raw_intervals,
    maint=raw_intervals,
    outside=st.one_of(st.just([]), raw_intervals),
    window=windows(),
    now=st.integers(0, 2600),
    data=st.data(),
)
def test_monitor_against_brute_force(rows, runs, degraded, maint, outside, window, now, data):
    cats, down_owner, own, run, deg = monitor_reference(
        rows, runs, degraded, maint, outside, window
    )

    # The timeline itself, over the whole domain.
    tl = monitor_timeline(rows, runs, degraded)
    for state, got in ((UP, tl.up), (DOWN, tl.down)):
        assert list(got) == normalize(got)
        want = {
            t
            for t in range(LO, HI)
            if own[t - LO] is not None
            and rows[own[t - LO]][2] == state
            and run[t - LO]
            and not deg[t - LO]
        }
        assert as_set(got) == want
    assert tl.maintenance == ()

    fig = monitor_figures(rows, runs, maint, window, now, degraded=degraded, outside_hours=outside)
    assert_figures(fig, cats, window)
    # The same through the separate steps.
    tl_w = monitor_timeline(rows, runs, degraded)
    incs = incidents(down_segments(rows), counted_down(tl_w, maint, window, outside), now)
    assert figures(tl_w, maint, window, outside_hours=outside, incidents=incs) == fig
    # Without equal starts, the order of the rows does not matter.
    if len({r[0] for r in rows}) == len(rows):
        shuffled = list(rows)
        random.Random(len(rows)).shuffle(shuffled)
        assert (
            monitor_figures(
                shuffled, runs, maint, window, now, degraded=degraded, outside_hours=outside
            )
            == fig
        )

    # Incidents: one per down row with counted time in the window.
    counted: dict[int, int] = {}
    for r in down_owner:
        if r is not None:
            counted[r] = counted.get(r, 0) + 1
    want_incidents: list[Incident] = []
    for r, ms in counted.items():
        start = rows[r][0]
        end = max(t for t in range(LO, HI) if own[t - LO] == r) + 1  # where the row really ends
        ongoing = end > now
        want_incidents.append(
            (  # start, end, duration, counted, cause
                start,
                None if ongoing else end,
                max(0, now - start) if ongoing else end - start,
                ms,
                rows[r][3],
            )
        )
    want_incidents.sort(key=lambda i: i[0])
    assert list(fig.incidents) == want_incidents
    assert fig.incident_count == len(want_incidents)
    assert fig.incident_total_ms == sum(counted.values()) == fig.down_ms
    assert fig.longest_incident_ms == max(counted.values(), default=0)
    if want_incidents:
        assert fig.mttr_ms == sum(counted.values()) / len(want_incidents)
        assert fig.mtbf_ms == fig.up_ms / len(want_incidents)
    else:
        assert fig.mttr_ms is None and fig.mtbf_ms is None

    check_evaluation(fig, cats, data)


# -- services ----------------------------------------------------------------------------------


@st.composite
def member(draw):
    """A member as per-piece categories: (timeline, category per instant as a dict)."""
    t = draw(st.integers(0, 300))
    pieces = {U: [], D: [], M: []}
    for _ in range(draw(st.integers(0, 8))):
        length = draw(st.integers(1, 250))
        cat = draw(st.sampled_from([U, D, X, U, D, M]))  # M: maintenance inside its own timeline
        if cat in pieces:
            pieces[cat].append((t, t + length))
        t += length
    tl = StateTimeline(
        tuple(normalize(pieces[U])), tuple(normalize(pieces[D])), tuple(normalize(pieces[M]))
    )
    return tl


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    members=st.lists(member(), max_size=4),
    data=st.data(),
    rule=st.sampled_from(["all", "any", "quorum"]),
    k=st.integers(1, 5),
    service_maint=raw_intervals,
    outside=st.one_of(st.just([]), raw_intervals),
    window=windows(),
)
def test_service_against_brute_force(members, data, rule, k, service_maint, outside, window):
    mms = [data.draw(raw_intervals) for _ in members]
    tl = service_timeline(members, mms, rule, k if rule == "quorum" else None)
    for part in (tl.up, tl.down, tl.maintenance):
        assert list(part) == normalize(part)

    sets = [
        (as_set(m.up), as_set(m.down), as_set(m.maintenance) | as_set(mm))
        for m, mm in zip(members, mms, strict=True)
    ]

    def service_at(t):
        votes = []
        in_maint = False
        for up, down, maint in sets:
            if t in maint:
                in_maint = True
            elif t in up:
                votes.append(U)
            elif t in down:
                votes.append(D)
        if not votes:
            return M if in_maint else X
        n_down = votes.count(D)
        if rule == "all":
            return D if n_down >= 1 else U
        if rule == "any":
            return D if n_down == len(votes) else U
        return D if n_down >= k else U

    want = {U: set(), D: set(), M: set()}
    for t in range(LO, HI):
        c = service_at(t)
        if c != X:
            want[c].add(t)
    assert as_set(tl.up) == want[U]
    assert as_set(tl.down) == want[D]
    assert as_set(tl.maintenance) == want[M]

    # Figures of the service: its own maintenance windows, plus the sweep's maintenance time.
    smaint, out = paint(service_maint), paint(outside)
    cats = []
    for t in range(*window):
        if out[t - LO]:
            cats.append(OUT)
        elif smaint[t - LO] or t in want[M]:
            cats.append(M)
        elif t in want[U]:
            cats.append(U)
        elif t in want[D]:
            cats.append(D)
        else:
            cats.append(X)
    fig = figures(tl, service_maint, window, outside_hours=outside)
    assert_figures(fig, cats, window)
    check_evaluation(fig, cats, data)


def test_service_rules_by_hand():
    a = StateTimeline(up=((0, 10),), down=((10, 20),))
    b = StateTimeline(up=((0, 15),), down=((15, 20),))
    c = StateTimeline(up=(), down=((0, 20),))
    none = [(), (), ()]
    assert service_timeline([a, b, c], none, "all") == StateTimeline((), ((0, 20),), ())
    assert service_timeline([a, b, c], none, "any") == StateTimeline(((0, 15),), ((15, 20),), ())
    assert service_timeline([a, b, c], none, "quorum", 2) == StateTimeline(
        ((0, 10),), ((10, 20),), ()
    )
    # c in maintenance throughout: it does not vote.
    assert service_timeline([a, b, c], [(), (), [(0, 20)]], "all") == StateTimeline(
        ((0, 10),), ((10, 20),), ()
    )
    # Nobody can vote: maintenance if anyone is in maintenance, else unknown.
    assert service_timeline([a, c], [[(0, 20)], [(0, 5)]], "all") == StateTimeline(
        (), ((5, 20),), ((0, 5),)
    )
    assert service_timeline([a, c], [[(0, 30)], [(0, 20)]], "any") == StateTimeline(
        (), (), ((0, 30),)
    )
    assert service_timeline([], [], "all") == StateTimeline((), (), ())
    # Quorum larger than the voters present: never down.
    assert service_timeline([c], [()], "quorum", 2) == StateTimeline(((0, 20),), (), ())


@pytest.mark.parametrize(
    "rule,quorum,members,mm",
    [
        ("most", None, [], []),
        ("quorum", None, [], []),
        ("quorum", 0, [], []),
        ("all", None, [StateTimeline((), ())], []),
    ],
)
def test_service_bad_arguments(rule, quorum, members, mm):
    with pytest.raises(ValueError):
        service_timeline(members, mm, rule, quorum)


# -- monitor edges -----------------------------------------------------------------------------

EXCLUDE = Policy()
WHOLE = [(-(10**15), 10**15)]  # one run covering everything


def test_timeline_runs_and_degraded_are_unknown():
    rows = [(0, 100, UP), (100, 200, DOWN, "timeout"), (200, 300, UP)]
    tl = monitor_timeline(rows, runs=[(0, 50), (150, 400)], degraded=[(250, 260)])
    assert tl == StateTimeline(up=((0, 50), (200, 250), (260, 300)), down=((150, 200),))
    fig = figures(tl, [], (0, 400))
    assert (fig.up_ms, fig.down_ms, fig.unknown_ms) == (140, 50, 210)
    with pytest.raises(ValueError, match="state"):
        monitor_timeline([(0, 10, 2)], WHOLE)


def test_row_shapes_and_iterables():
    rows = [(0, 100, UP), (100, 200, DOWN, "timeout"), [200, 300, UP, None]]
    fig = monitor_figures(iter(rows), iter([(0, 300)]), iter([]), (0, 300), now=1000)
    assert (fig.up_ms, fig.down_ms) == (200, 100)
    assert fig.incidents == ((100, 200, 100, 100, "timeout"),)
    assert down_segments([(0, 5, DOWN), (5, 9, UP)]) == [(0, 5, None)]
    assert monitor_timeline([], [(0, 10)]) == StateTimeline((), ())
    with pytest.raises(ValueError):
        monitor_timeline([(0, 10)], WHOLE)


def test_overlapping_rows_later_start_wins():
    # A stale row reaching past a newer one is cut where the newer one starts.
    tl = monitor_timeline([(50, 80, DOWN), (0, 100, UP)], WHOLE)
    assert tl == StateTimeline(up=((0, 50),), down=((50, 80),))
    # Equal starts: the last given wins (the later write).
    assert monitor_timeline([(0, 10, UP), (0, 20, DOWN)], WHOLE) == StateTimeline((), ((0, 20),))
    assert monitor_timeline([(0, 20, UP), (0, 10, DOWN)], WHOLE) == StateTimeline((), ((0, 10),))


def test_outage_across_a_restart_is_one_incident():
    rows = [(0, 1000, UP), (1000, 5000, DOWN, "refused"), (5000, 9000, UP)]
    runs = [(0, 3000), (3500, 10_000)]  # the daemon was stopped for 500 ms during the outage
    fig = monitor_figures(rows, runs, [], (0, 10_000), now=20_000)
    assert fig.down_ms == 3500 and fig.unknown_ms == 500 + 1000
    assert fig.incidents == ((1000, 5000, 4000, 3500, "refused"),)
    assert fig.mttr_ms == 3500 and fig.mtbf_ms == fig.up_ms == 5000
    assert fig.longest_incident_ms == 3500


def test_incidents_in_maintenance_or_outside_the_window_do_not_count():
    rows = [(0, 100, DOWN), (100, 200, UP), (200, 300, DOWN), (300, 400, UP), (400, 500, DOWN)]
    fig = monitor_figures(rows, WHOLE, [(0, 100), (250, 260)], (50, 450), now=1000)
    # (0, 100) wholly in maintenance; (200, 300) partly; (400, 500) partly outside the window.
    assert fig.incidents == ((200, 300, 100, 90, None), (400, 500, 100, 50, None))
    assert fig.incident_total_ms == fig.down_ms == 140
    assert fig.longest_incident_ms == 90
    assert fig.mttr_ms == 70


def test_ongoing_incident():
    rows = [(0, 100, UP), (100, 260, DOWN, "timeout")]  # the last verdict holds until 260
    fig = monitor_figures(rows, [(0, 250)], [], (0, 250), now=250)
    assert fig.incidents == ((100, None, 150, 150, "timeout"),)
    # Read after the verdict expired (the daemon stopped), the outage has ended.
    fig = monitor_figures(rows, [(0, 250)], [], (0, 250), now=300)
    assert fig.incidents == ((100, 260, 160, 150, "timeout"),)
    # Read exactly when it expires: ended (ends are exclusive).
    fig = monitor_figures(rows, [(0, 250)], [], (0, 250), now=260)
    assert fig.incidents == ((100, 260, 160, 150, "timeout"),)
    assert incidents([(0, 10, None)], [], now=5) == []
    # Rows given in any order; one ends exactly at now (ended), the next is under way.
    got = incidents([(10, 20, "b"), (0, 10, "a")], [(0, 20)], now=10)
    assert got == [(0, 10, 10, 10, "a"), (10, None, 0, 10, "b")]
    assert down_segments(rows) == [(100, 260, "timeout")]


def test_counted_down_excludes_maintenance_and_outside_hours():
    tl = StateTimeline(up=(), down=((0, 100),))
    assert counted_down(tl, [(10, 20)], (5, 95), [(30, 40), (15, 35)]) == [(5, 10), (40, 95)]


def test_window_without_data():
    fig = monitor_figures([], [], [], (0, DAY), now=DAY)
    assert (fig.up_ms, fig.down_ms, fig.unknown_ms) == (0, 0, DAY)
    assert fig.availability is None and fig.coverage == 0.0
    assert fig.incidents == () and fig.mttr_ms is None and fig.mtbf_ms is None
    ev = evaluate(fig, Decimal("99.9"), EXCLUDE, [CreditTier(Decimal("99.9"), Decimal(10))])
    assert ev.eligible_ms == 0 and ev.attainment is None and ev.met is None and ev.credit is None
    assert ev.budget.total_ms == 0 and ev.budget.remaining_ratio is None and ev.burn_rate is None
    assert burn_rate(fig, Decimal("99.9"), EXCLUDE) is None
    # Strict policies: unknown counts as down, or as up.
    ev = evaluate(
        fig, Decimal("99.9"), Policy(unknown="down"), [CreditTier(Decimal("95"), Decimal(100))]
    )
    assert (
        ev.attainment == 0
        and ev.met is False
        and ev.credit == CreditTier(Decimal("95"), Decimal(100))
    )
    assert ev.budget.consumed_ms == DAY and ev.budget.total_ms == Fraction(DAY, 1000)
    assert ev.burn_rate == 1000.0
    ev = evaluate(fig, Decimal("99.9"), Policy(unknown="up"))
    assert (
        ev.attainment == 1 and ev.met is True and ev.bad_ms == 0 and ev.budget.remaining_ratio == 1
    )


def test_window_all_maintenance_and_empty_window():
    fig = monitor_figures([(0, 100, DOWN)], WHOLE, [(-5, 200)], (0, 100), now=0)
    assert (
        fig.maintenance_ms == 100
        and fig.down_ms == 0
        and fig.coverage is None
        and fig.incidents == ()
    )
    ev = evaluate(fig, Decimal("99"), EXCLUDE)
    assert ev.attainment is None and ev.met is None
    ev = evaluate(fig, Decimal("99"), Policy(maintenance="up"))  # maintenance counts as good
    assert (ev.good_ms, ev.bad_ms, ev.attainment, ev.met) == (100, 0, 1, True)
    fig = figures(StateTimeline(((0, 10),), ()), [], (5, 5))
    assert fig.up_ms == fig.unknown_ms == 0 and fig.availability is None and fig.coverage is None
    with pytest.raises(ValueError):
        figures(StateTimeline((), ()), [], (10, 5))


def test_outside_hours_wins_over_maintenance():
    tl = StateTimeline(up=((0, 100),), down=((100, 200),))
    fig = figures(tl, [(50, 150)], (0, 200), outside_hours=[(0, 60), (180, 300)])
    # outside: 0-60, 180-200; maintenance: 60-150; up: none left; down: 150-180.
    assert (fig.outside_hours_ms, fig.maintenance_ms, fig.up_ms, fig.down_ms, fig.unknown_ms) == (
        80,
        90,
        0,
        30,
        0,
    )
    assert fig.coverage == 1.0 and fig.availability == 0.0
    # Outside hours are never eligible, whatever the policy.
    ev = evaluate(fig, Decimal("50"), Policy(unknown="up", maintenance="up"))
    assert ev.eligible_ms == 120 and ev.good_ms == 90


def test_maintenance_policy_up():
    tl = StateTimeline(up=((0, 900),), down=((900, 1000),))
    fig = figures(tl, [(800, 950)], (0, 1000))
    assert (fig.up_ms, fig.down_ms, fig.maintenance_ms) == (800, 50, 150)
    ev = evaluate(fig, Decimal("95"), EXCLUDE)
    assert ev.attainment == Fraction(800, 850) and ev.met is False  # 94.1 %
    ev = evaluate(fig, Decimal("95"), Policy(maintenance="up"))
    assert ev.attainment == Fraction(950, 1000) and ev.met is True  # exactly 95 %


def test_unknown_policies():
    tl = StateTimeline(up=((0, 600),), down=((600, 700),))  # 700..1000 unknown
    fig = figures(tl, [], (0, 1000))
    assert fig.unknown_ms == 300 and fig.coverage == 0.7
    results = {
        u: evaluate(fig, Decimal("80"), Policy(unknown=u)) for u in ("exclude", "down", "up")
    }
    assert results["exclude"].attainment == Fraction(6, 7) and results["exclude"].met is True
    assert results["down"].attainment == Fraction(6, 10) and results["down"].met is False
    assert results["down"].bad_ms == 400
    assert results["up"].attainment == Fraction(9, 10) and results["up"].met is True
    with pytest.raises(ValueError, match="unknown"):
        evaluate(fig, Decimal("80"), Policy(unknown="ignore"))
    with pytest.raises(ValueError, match="maintenance"):
        evaluate(fig, Decimal("80"), Policy(maintenance="down"))


# -- SLO edges ---------------------------------------------------------------------------------


def fig_with(up: int, down: int) -> Figures:
    return figures(
        StateTimeline(up=((0, up),) if up else (), down=((up, up + down),) if down else ()),
        [],
        (0, up + down),
    )


TIERS = [
    CreditTier(Decimal("95.0"), Decimal(100)),
    CreditTier(Decimal("99.9"), Decimal(10)),
    CreditTier(Decimal("99.0"), Decimal(25)),
]  # deliberately not in order


def test_exactly_at_the_objective_is_met_and_gets_no_credit():
    fig = fig_with(999_000, 1_000)  # exactly 99.9 %
    ev = evaluate(fig, Decimal("99.9"), EXCLUDE, [CreditTier(Decimal("99.9"), Decimal(10))])
    assert ev.attainment == Fraction(999, 1000) and ev.met is True and ev.credit is None
    assert ev.attainment_percent == Fraction(999, 10)
    assert ev.budget.remaining_ms == 0 and ev.budget.remaining_ratio == 0
    assert ev.burn_rate == 1.0
    # One millisecond more down: 99.8999... %
    fig = fig_with(999_000, 1_001)
    ev = evaluate(fig, Decimal("99.9"), EXCLUDE, [CreditTier(Decimal("99.9"), Decimal(10))])
    assert ev.met is False and ev.credit == CreditTier(Decimal("99.9"), Decimal(10))
    assert float(ev.attainment) == pytest.approx(
        0.998999, abs=1e-6
    )  # a float would round it to 99.9


@pytest.mark.parametrize(
    "good,total,tier",
    [
        (1000, 1000, None),
        (999, 1000, None),  # 99.9: not below 99.9
        (9_989_999, 10_000_000, Decimal("99.9")),  # 99.89999
        (990, 1000, Decimal("99.9")),  # 99.0 is not below 99.0
        (98_999, 100_000, Decimal("99.0")),  # 98.999
        (950, 1000, Decimal("99.0")),  # 95.0 is not below 95.0
        (94_999, 100_000, Decimal("95.0")),
        (0, 1000, Decimal("95.0")),
    ],
)
def test_three_credit_tiers_at_each_boundary(good, total, tier):
    ev = evaluate(fig_with(good, total - good), Decimal("99.9"), EXCLUDE, TIERS)
    assert (ev.credit.below if ev.credit else None) == tier
    assert credit_tier(Fraction(good, total), TIERS) == ev.credit
    assert credit_tier(None, TIERS) is None


def test_error_budget_of_30_days_at_99_9_is_43m12s():
    window = (0, 30 * DAY)
    fig = figures(StateTimeline(up=(window,), down=()), [], window)
    ev = evaluate(fig, Decimal("99.9"), EXCLUDE)
    assert ev.budget.total_ms == 2_592_000 == (43 * 60 + 12) * 1000
    assert ev.budget.remaining_ratio == 1 and ev.budget.consumed_ms == 0 and ev.burn_rate == 0.0
    # Half the budget spent.
    fig = figures(
        StateTimeline(up=((0, 30 * DAY - 1_296_000),), down=((30 * DAY - 1_296_000, 30 * DAY),)),
        [],
        window,
    )
    ev = evaluate(fig, Decimal("99.9"), EXCLUDE)
    assert ev.budget.total_ms == 2_592_000 and ev.budget.remaining_ms == 1_296_000
    assert ev.budget.remaining_ratio == Fraction(1, 2) and ev.met is True
    assert ev.burn_rate == 0.5
    # Overspent: the remaining budget goes negative.
    fig = figures(
        StateTimeline(up=((0, 30 * DAY - 3_000_000),), down=((30 * DAY - 3_000_000, 30 * DAY),)),
        [],
        window,
    )
    ev = evaluate(fig, Decimal("99.9"), EXCLUDE)
    assert ev.budget.remaining_ms == -408_000 and ev.budget.remaining_ratio == Fraction(-408, 2592)
    assert ev.met is False
    # Maintenance shrinks the eligible time, and with it the budget.
    fig = figures(StateTimeline(up=(window,), down=()), [(0, DAY)], window)
    assert evaluate(fig, Decimal("99.9"), EXCLUDE).budget.total_ms == 2_505_600


def test_burn_rate():
    hour = 3_600_000
    fig = fig_with(hour - 3_600, 3_600)  # 0.1 % of an hour down
    assert burn_rate(fig, Decimal("99.9"), EXCLUDE) == 1.0
    fig = fig_with(hour - 36_000, 36_000)
    assert burn_rate(fig, Decimal("99.9"), EXCLUDE) == 10.0
    assert burn_rate(fig, Decimal("99"), EXCLUDE) == 1.0
    assert burn_rate(fig, Decimal("100"), EXCLUDE) == float("inf")
    assert burn_rate(fig_with(10, 0), Decimal("100"), EXCLUDE) == 0.0
    ev = evaluate(fig_with(10, 0), Decimal("100"), EXCLUDE)
    assert ev.met is True and ev.budget.total_ms == 0 and ev.budget.remaining_ratio is None


def test_objective_must_be_an_exact_percent():
    fig = fig_with(10, 0)
    with pytest.raises(TypeError):
        evaluate(fig, 99.9, EXCLUDE)  # type: ignore[arg-type]
    for bad in (Decimal("-1"), Decimal("100.1")):
        with pytest.raises(ValueError):
            evaluate(fig, bad, EXCLUDE)
    assert evaluate(fig, 99, EXCLUDE).met is True  # an int percent is exact too


def test_latency_attainment():
    la = latency_attainment(990, 1000, Decimal("99.0"))
    assert la.attainment == Fraction(99, 100) and la.met is True
    assert latency_attainment(989, 1000, Decimal("99.0")).met is False
    assert latency_attainment(9_990_001, 10_000_000, Decimal("99.9")).met is True
    la = latency_attainment(0, 0, Decimal("99"))
    assert la.attainment is None and la.met is None
    with pytest.raises(ValueError):
        latency_attainment(5, 4, Decimal("99"))
    with pytest.raises(ValueError):
        latency_attainment(-1, 4, Decimal("99"))
