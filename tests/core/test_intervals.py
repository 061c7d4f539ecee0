"""Interval arithmetic against sets of integers (hypothesis), plus the edges by hand."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from uptimed.core.intervals import clip, intersect, measure, normalize, overlap, subtract, union

# Raw intervals: any order, overlapping, touching, empty and reversed ones included.
raw_interval = st.tuples(st.integers(0, 60), st.integers(0, 60))
raw_list = st.lists(raw_interval, max_size=10)
normal_list = raw_list.map(normalize)


def as_set(ivs) -> set[int]:
    out: set[int] = set()
    for s, e in ivs:
        out.update(range(s, e))
    return out


def from_set(points: set[int]) -> list[tuple[int, int]]:
    """The normalized form of a set of integers, computed independently of the module."""
    out: list[list[int]] = []
    for x in sorted(points):
        if out and out[-1][1] == x:
            out[-1][1] = x + 1
        else:
            out.append([x, x + 1])
    return [(s, e) for s, e in out]


def assert_normalized(ivs) -> None:
    assert isinstance(ivs, list)
    for s, e in ivs:
        assert type(s) is int and type(e) is int
        assert s < e, ivs
    for (_, e1), (s2, _) in zip(ivs, ivs[1:], strict=False):
        assert e1 < s2, f"not sorted, overlapping or touching: {ivs}"


@settings(max_examples=400)
@given(raw_list)
def test_normalize(ivs):
    got = normalize(ivs)
    assert_normalized(got)
    assert got == from_set(as_set(ivs))  # the unique representation of the same set
    assert normalize(got) == got


@settings(max_examples=300)
@given(st.lists(raw_list, max_size=4))
def test_union(lists):
    got = union(*lists)
    assert_normalized(got)
    assert got == from_set(set().union(*(as_set(x) for x in lists)))


@settings(max_examples=400)
@given(normal_list, normal_list)
def test_intersect_and_overlap(a, b):
    got = intersect(a, b)
    assert_normalized(got)
    assert got == from_set(as_set(a) & as_set(b))
    assert overlap(a, b) == len(as_set(a) & as_set(b)) == overlap(b, a)


@settings(max_examples=400)
@given(normal_list, normal_list)
def test_subtract(a, b):
    got = subtract(a, b)
    assert_normalized(got)
    assert got == from_set(as_set(a) - as_set(b))


@settings(max_examples=300)
@given(normal_list, st.integers(-5, 65), st.integers(-5, 65))
def test_clip(a, lo, hi):
    got = clip(a, lo, hi)
    assert_normalized(got)
    assert got == from_set({x for x in as_set(a) if lo <= x < hi})


# Many short intervals against a few: the binary-search paths of intersect, subtract, overlap.
many = st.lists(st.tuples(st.integers(0, 400), st.integers(1, 12)), max_size=60).map(
    lambda xs: normalize([(s, s + n) for s, n in xs])
)
few = st.lists(st.tuples(st.integers(-10, 420), st.integers(-10, 420)), max_size=4).map(normalize)


@settings(max_examples=300)
@given(many, few)
def test_many_against_few(a, b):
    sa, sb = as_set(a), as_set(b)
    for x, y in ((a, b), (b, a)):
        got = intersect(x, y)
        assert_normalized(got)
        assert got == from_set(sa & sb)
        assert overlap(x, y) == len(sa & sb)
    for x, y, want in ((a, b, sa - sb), (b, a, sb - sa)):
        got = subtract(x, y)
        assert_normalized(got)
        assert got == from_set(want)


def test_inputs_may_be_tuples_or_generators():
    assert normalize(((0, 1), (1, 2))) == [(0, 2)]
    assert normalize([[0, 1], [3, 4]]) == [(0, 1), (3, 4)]  # lists in, tuples out
    assert normalize(iter([(3, 4), (0, 1)])) == [(0, 1), (3, 4)]
    assert measure(iter([(0, 2), (5, 6)])) == 3
    assert clip(((0, 10), (20, 30)), 5, 25) == [(5, 10), (20, 25)]


@given(normal_list)
def test_measure(a):
    assert measure(a) == len(as_set(a))


def test_edges():
    assert normalize([(0, 5), (5, 9)]) == [(0, 9)]  # touching merges
    assert normalize([(5, 5), (7, 3)]) == []  # empty and reversed are dropped
    assert normalize([(4, 6), (0, 10), (2, 3)]) == [(0, 10)]
    assert union() == []
    assert union([(0, 1)], [(1, 2)], [(5, 6)]) == [(0, 2), (5, 6)]
    assert intersect([(0, 10)], [(10, 20)]) == []  # half-open: no common instant
    assert intersect([(0, 5), (8, 12)], [(3, 9), (11, 30)]) == [(3, 5), (8, 9), (11, 12)]
    assert subtract([(0, 10)], [(2, 3), (5, 6)]) == [(0, 2), (3, 5), (6, 10)]
    assert subtract([(0, 4), (6, 10)], [(3, 7)]) == [(0, 3), (7, 10)]  # one b over two a
    assert subtract([(0, 10)], [(0, 10)]) == []
    assert clip([(0, 10), (20, 30)], 5, 25) == [(5, 10), (20, 25)]
    assert clip([(0, 10)], 10, 20) == []
    assert clip([(0, 10)], 5, 5) == []
    assert measure([]) == 0 and measure([(3, 10), (20, 21)]) == 8
    assert overlap([(0, 10), (20, 30)], [(5, 25)]) == 10
