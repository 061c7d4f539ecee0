"""sla.accounting_many against sla.figures, window by window, on random timelines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from uptimed.core import sla
from uptimed.core.intervals import Interval, normalize, subtract

times = st.integers(0, 1000)
spans = st.lists(st.tuples(times, times).map(sorted).map(tuple), max_size=8)


@st.composite
def timelines(draw: st.DrawFn) -> sla.StateTimeline:
    up = normalize([(a, b) for a, b in draw(spans) if a < b])
    down = subtract(normalize([(a, b) for a, b in draw(spans) if a < b]), up)
    rest = subtract(subtract(normalize([(a, b) for a, b in draw(spans) if a < b]), up), down)
    return sla.StateTimeline(tuple(up), tuple(down), tuple(rest if draw(st.booleans()) else ()))


@settings(max_examples=500)
@given(timelines(), spans, st.lists(st.tuples(times, times).map(sorted).map(tuple), max_size=6))
def test_each_window_as_figures_counts_it(
    tl: sla.StateTimeline, maint: list[Interval], windows: list[Interval]
) -> None:
    got = sla.accounting_many(tl, maint, windows)
    for (ws, we), row in zip(windows, got, strict=True):
        f = sla.figures(tl, maint, (ws, we))
        assert row == (f.up_ms, f.down_ms, f.maintenance_ms, f.unknown_ms)
