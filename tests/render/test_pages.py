"""The status page's daily bars as drawn (uptimed.render.pages.bars): runs of plain days merge,
anything with a figure to tell stays a bar of its own, and every day is drawn exactly once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from uptimed.core.sla import DAY_MS
from uptimed.model.pages import DayBar
from uptimed.render.pages import bar_class, bars

T0 = 1_790_000_000_000 // DAY_MS * DAY_MS


def day(i: int, up: int, down: int, mm: int, unknown: int) -> DayBar:
    total = up + down
    return DayBar(T0 + i * DAY_MS, T0 + (i + 1) * DAY_MS, up, down, mm, unknown,
                  up / total if total else None, 0)  # fmt: skip


kinds = st.sampled_from([(DAY_MS, 0, 0, 0), (DAY_MS - 60_000, 60_000, 0, 0),
                         (0, 0, 0, DAY_MS), (DAY_MS - 3_600_000, 0, 3_600_000, 0),
                         (0, 0, DAY_MS, 0), (DAY_MS - 5_000, 0, 0, 5_000)])  # fmt: skip


@given(st.lists(kinds, min_size=1, max_size=90))
def test_every_day_is_drawn_once_in_its_class(spec: list[tuple[int, int, int, int]]) -> None:
    days = [day(i, *k) for i, k in enumerate(spec)]
    drawn = bars(days)
    covered = [i for b in drawn for i in range(b.first, b.first + b.count)]
    assert covered == list(range(len(days)))
    for b in drawn:
        assert {bar_class(days[i]) for i in range(b.first, b.first + b.count)} == {b.cls}
        if b.count > 1:  # only days with nothing to tell merge
            assert all(not days[i].maintenance_ms and not days[i].down_ms
                       for i in range(b.first, b.first + b.count))  # fmt: skip
    plain = [b.title.endswith(("no downtime", "no data")) for b in drawn]
    for k in range(len(drawn) - 1):  # merged as far as they go
        assert not (plain[k] and plain[k + 1] and drawn[k].cls == drawn[k + 1].cls)


def test_a_run_says_where_it_begins_and_ends() -> None:
    days = [day(0, DAY_MS, 0, 0, 0), day(1, DAY_MS, 0, 0, 0), day(2, DAY_MS, 0, 0, 0)]
    days.append(day(3, DAY_MS - 60_000, 60_000, 0, 0))
    first, second = bars(days)
    assert (first.first, first.count, first.cls) == (0, 3, "up")
    assert first.title.endswith(": no downtime") and " to " in first.title
    assert (second.first, second.count, second.cls) == (3, 1, "degraded")
    assert "down 1m00s" in second.title
