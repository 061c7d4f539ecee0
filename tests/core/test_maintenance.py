"""Maintenance windows and service hours: exact DST cases written out by hand, and hypothesis
cross-checks against slow references that are obviously right; and ad-hoc windows through
``uptimed maintenance`` (several targets at once, all or none; the JSON list)."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from uptimed.core.intervals import normalize
from uptimed.core.recurrence import (
    _cron_days,
    _parse_cron,
    expand,
    service_hours_outside,
    validate_recurrence,
)
from uptimed.model.config import Maintenance, Recurrence, ServiceHours

H = 3_600_000  # one hour in ms
M = 60_000
D = 24 * H
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
ANCHOR = date(1900, 1, 1)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    """An instant written in UTC, as epoch ms."""
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp()) * 1000


def one_off(start: int, end: int) -> Maintenance:
    return Maintenance(
        id="once",
        monitors=("web",),
        services=(),
        reason="upgrade",
        start=datetime.fromtimestamp(start / 1000, UTC),
        end=datetime.fromtimestamp(end / 1000, UTC),
        recurrence=None,
    )


def recurring(
    *, rrule: str | None = None, cron: str | None = None, duration: float = 3600, tz: str = "UTC"
) -> Maintenance:
    return Maintenance(
        id="weekly",
        monitors=("web",),
        services=(),
        reason=None,
        start=None,
        end=None,
        recurrence=Recurrence(rrule=rrule, cron=cron, duration=duration, timezone=tz),
    )


def clip(intervals: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    return [(max(s, lo), min(e, hi)) for s, e in intervals if s < hi and e > lo]


# -- normalize: how occurrences merge --------------------------------------------------------


def test_merge_basics() -> None:
    assert normalize([]) == []
    assert normalize([(5, 5), (7, 3)]) == []  # empty and reversed intervals are dropped
    assert normalize([(10, 20), (0, 5), (5, 8), (15, 30), (40, 50)]) == [(0, 8), (10, 30), (40, 50)]
    assert normalize([(0, 100), (10, 20)]) == [(0, 100)]


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=12))
def test_merge_matches_point_sets(ivs: list[tuple[int, int]]) -> None:
    out = normalize(ivs)
    points = {t for s, e in ivs for t in range(s, e)}
    assert {t for s, e in out for t in range(s, e)} == points
    assert all(s < e for s, e in out)
    assert all(
        a[1] < b[0] for a, b in zip(out, out[1:], strict=False)
    )  # sorted, disjoint, not touching


# -- one-off windows ----------------------------------------------------------------------------


def test_one_off_inside_outside_overlapping() -> None:
    w = one_off(utc(2026, 5, 1, 10), utc(2026, 5, 1, 12))
    day = (utc(2026, 5, 1), utc(2026, 5, 2))
    assert expand(w, *day) == [(utc(2026, 5, 1, 10), utc(2026, 5, 1, 12))]
    # overlapping either end: included whole, not clipped
    assert expand(w, utc(2026, 5, 1, 11), utc(2026, 5, 2)) == [
        (utc(2026, 5, 1, 10), utc(2026, 5, 1, 12))
    ]
    assert expand(w, utc(2026, 5, 1), utc(2026, 5, 1, 11)) == [
        (utc(2026, 5, 1, 10), utc(2026, 5, 1, 12))
    ]
    assert expand(w, utc(2026, 5, 1, 10, 30), utc(2026, 5, 1, 11)) == [
        (utc(2026, 5, 1, 10), utc(2026, 5, 1, 12))
    ]
    # outside; half-open: touching an end is not intersecting
    assert expand(w, utc(2026, 5, 2), utc(2026, 5, 3)) == []
    assert expand(w, utc(2026, 5, 1, 12), utc(2026, 5, 1, 13)) == []
    assert expand(w, utc(2026, 5, 1, 9), utc(2026, 5, 1, 10)) == []
    assert expand(w, utc(2026, 5, 1, 9), utc(2026, 5, 1, 10) + 1) == [
        (utc(2026, 5, 1, 10), utc(2026, 5, 1, 12))
    ]
    # empty range, empty window
    assert expand(w, utc(2026, 5, 1, 11), utc(2026, 5, 1, 11)) == []
    assert expand(one_off(utc(2026, 5, 1, 10), utc(2026, 5, 1, 10)), *day) == []


def test_one_off_with_offset_datetime() -> None:
    from datetime import timezone

    cest = timezone(timedelta(hours=2))
    w = Maintenance(
        "x",
        (),
        (),
        None,
        datetime(2026, 5, 1, 12, tzinfo=cest),
        datetime(2026, 5, 1, 13, tzinfo=cest),
        None,
    )
    assert expand(w, utc(2026, 5, 1), utc(2026, 5, 2)) == [
        (utc(2026, 5, 1, 10), utc(2026, 5, 1, 11))
    ]


# -- DST, by hand -------------------------------------------------------------------------------


def test_berlin_weekly_rrule_spring_forward() -> None:
    # 2026-03-29: clocks jump 02:00 CET -> 03:00 CEST. 02:00 does not exist; it is read with the
    # offset before the gap (+01:00), i.e. it becomes 03:00 CEST = 01:00Z.
    w = recurring(rrule="FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", duration=3600, tz="Europe/Berlin")
    assert expand(w, utc(2026, 3, 20), utc(2026, 4, 10)) == [
        (utc(2026, 3, 22, 1), utc(2026, 3, 22, 2)),  # 02:00-03:00 CET
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),  # "02:00" -> 03:00-04:00 CEST
        (utc(2026, 4, 5, 0), utc(2026, 4, 5, 1)),  # 02:00-03:00 CEST
    ]


def test_berlin_weekly_rrule_fall_back() -> None:
    # 2026-10-25: clocks go back 03:00 CEST -> 02:00 CET; 02:00 happens twice. The window starts
    # once, at the first 02:00 (CEST, 00:00Z), and lasts one real hour: it ends at 01:00Z, which
    # the wall clock shows as the second 02:00.
    w = recurring(rrule="FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", duration=3600, tz="Europe/Berlin")
    assert expand(w, utc(2026, 10, 17), utc(2026, 11, 7)) == [
        (utc(2026, 10, 18, 0), utc(2026, 10, 18, 1)),  # 02:00 CEST
        (utc(2026, 10, 25, 0), utc(2026, 10, 25, 1)),  # first 02:00 (CEST), once
        (utc(2026, 11, 1, 1), utc(2026, 11, 1, 2)),  # 02:00 CET
    ]
    # 2 real hours from the first 02:00 (00:00Z) end at 02:00Z = 03:00 CET, not at 04:00 wall time
    w2 = recurring(rrule="FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", duration=7200, tz="Europe/Berlin")
    assert expand(w2, utc(2026, 10, 25), utc(2026, 10, 26)) == [
        (utc(2026, 10, 25, 0), utc(2026, 10, 25, 2))
    ]


def test_berlin_cron_agrees_with_rrule() -> None:
    rr = recurring(rrule="FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", duration=3600, tz="Europe/Berlin")
    cr = recurring(cron="0 2 * * 0", duration=3600, tz="Europe/Berlin")
    for lo, hi in [(utc(2026, 3, 1), utc(2026, 4, 30)), (utc(2026, 10, 1), utc(2026, 11, 30))]:
        assert expand(rr, lo, hi) == expand(cr, lo, hi)


def test_new_york_cron_ambiguous_0130() -> None:
    # 2026-11-01: 02:00 EDT -> 01:00 EST; 01:30 happens twice. The window starts once, at the
    # first: 01:30 EDT = 05:30Z.
    w = recurring(cron="30 1 * * 0", duration=3600, tz="America/New_York")
    assert expand(w, utc(2026, 10, 24), utc(2026, 11, 14)) == [
        (utc(2026, 10, 25, 5, 30), utc(2026, 10, 25, 6, 30)),  # 01:30 EDT
        (
            utc(2026, 11, 1, 5, 30),
            utc(2026, 11, 1, 6, 30),
        ),  # first 01:30 (EDT), ends at the second 01:30
        (utc(2026, 11, 8, 6, 30), utc(2026, 11, 8, 7, 30)),  # 01:30 EST
    ]
    # 01:30 exists normally on the spring-forward day (the gap is 02:00-03:00)
    assert expand(w, utc(2026, 3, 1), utc(2026, 3, 16)) == [
        (utc(2026, 3, 1, 6, 30), utc(2026, 3, 1, 7, 30)),  # 01:30 EST
        (utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30)),  # 01:30 EST
        (utc(2026, 3, 15, 5, 30), utc(2026, 3, 15, 6, 30)),  # 01:30 EDT
    ]


def test_new_york_cron_missing_0230() -> None:
    # 2026-03-08: 02:00 EST -> 03:00 EDT; 02:30 does not exist and becomes 03:30 EDT = 07:30Z.
    w = recurring(cron="30 2 * * 0", duration=3600, tz="America/New_York")
    assert expand(w, utc(2026, 2, 28), utc(2026, 3, 21)) == [
        (utc(2026, 3, 1, 7, 30), utc(2026, 3, 1, 8, 30)),  # 02:30 EST
        (utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8, 30)),  # "02:30" -> 03:30 EDT
        (utc(2026, 3, 15, 6, 30), utc(2026, 3, 15, 7, 30)),  # 02:30 EDT
    ]
    # on the fall-back day 02:30 is plain EST (the repeated hour is 01:00-02:00)
    assert expand(w, utc(2026, 10, 24), utc(2026, 11, 8)) == [
        (utc(2026, 10, 25, 6, 30), utc(2026, 10, 25, 7, 30)),  # 02:30 EDT
        (utc(2026, 11, 1, 7, 30), utc(2026, 11, 1, 8, 30)),  # 02:30 EST
    ]


def test_lord_howe_half_hour_dst() -> None:
    # Lord Howe: +10:30 standard, +11:00 summer. 2026-10-04 02:00 -> 02:30 (30-minute gap):
    # 02:15 does not exist and becomes 02:45 (+11) = 15:45Z the day before.
    w = recurring(cron="15 2 * * *", duration=1800, tz="Australia/Lord_Howe")
    assert expand(w, utc(2026, 10, 2, 12), utc(2026, 10, 5, 12)) == [
        (utc(2026, 10, 2, 15, 45), utc(2026, 10, 2, 16, 15)),  # 10-03 02:15 +10:30
        (utc(2026, 10, 3, 15, 45), utc(2026, 10, 3, 16, 15)),  # 10-04 "02:15" -> 02:45 +11
        (utc(2026, 10, 4, 15, 15), utc(2026, 10, 4, 15, 45)),  # 10-05 02:15 +11
    ]
    # 2026-04-05 02:00 -> 01:30: 01:45 happens twice; once, at the first (+11) = 14:45Z on 04-04.
    w = recurring(rrule="FREQ=DAILY;BYHOUR=1;BYMINUTE=45", duration=1800, tz="Australia/Lord_Howe")
    assert expand(w, utc(2026, 4, 3, 12), utc(2026, 4, 6, 12)) == [
        (utc(2026, 4, 3, 14, 45), utc(2026, 4, 3, 15, 15)),  # 04-04 01:45 +11
        (utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)),  # 04-05 first 01:45 (+11)
        (utc(2026, 4, 5, 15, 15), utc(2026, 4, 5, 15, 45)),  # 04-06 01:45 +10:30
    ]


# -- shapes of series ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "window",
    [
        recurring(rrule="FREQ=DAILY;BYHOUR=3;BYMINUTE=30", duration=1800, tz="Europe/Berlin"),
        recurring(cron="30 3 * * *", duration=1800, tz="Europe/Berlin"),
    ],
)
def test_daily_across_a_month(window: Maintenance) -> None:
    # March 2026 in Berlin: 03:30 CET = 02:30Z until the 28th, 03:30 CEST = 01:30Z from the 29th
    got = expand(window, utc(2026, 3, 1), utc(2026, 4, 1))
    want = [(utc(2026, 3, d, 2, 30), utc(2026, 3, d, 3)) for d in range(1, 29)]
    want += [(utc(2026, 3, d, 1, 30), utc(2026, 3, d, 2)) for d in range(29, 32)]
    assert got == want


def test_occurrence_starting_before_the_range_is_included_whole() -> None:
    w = recurring(cron="0 23 * * *", duration=2 * 3600, tz="UTC")
    assert expand(w, utc(2026, 6, 2, 0, 30), utc(2026, 6, 2, 12)) == [
        (utc(2026, 6, 1, 23), utc(2026, 6, 2, 1))
    ]
    # a long window that began days before the range
    w = recurring(rrule="FREQ=WEEKLY;BYDAY=MO", duration=5 * 86400, tz="UTC")
    assert expand(w, utc(2026, 6, 5), utc(2026, 6, 6)) == [(utc(2026, 6, 1), utc(2026, 6, 6))]
    # ... and one that ended exactly at the range start is not
    assert expand(w, utc(2026, 6, 6), utc(2026, 6, 7)) == []


def test_overlapping_and_touching_occurrences_merge() -> None:
    hourly_90m = recurring(cron="0 * * * *", duration=90 * 60, tz="Europe/Berlin")
    assert expand(hourly_90m, utc(2026, 6, 1), utc(2026, 6, 2)) == [
        (utc(2026, 5, 31, 23), utc(2026, 6, 2, 0, 30))
    ]
    hourly_1h = recurring(cron="0 * * * *", duration=3600, tz="Europe/Berlin")
    assert expand(hourly_1h, utc(2026, 6, 1), utc(2026, 6, 2)) == [
        (utc(2026, 6, 1), utc(2026, 6, 2))
    ]
    daily_25h = recurring(rrule="FREQ=DAILY;BYHOUR=6", duration=25 * 3600, tz="UTC")
    assert expand(daily_25h, utc(2026, 6, 10), utc(2026, 6, 12)) == [
        (utc(2026, 6, 9, 6), utc(2026, 6, 12, 7))
    ]
    # across the fall-back night the hourly series has a real hour without a start (the repeated
    # wall-clock hour starts only once), so a 1h window leaves a hole there
    got = expand(hourly_1h, utc(2026, 10, 24, 22), utc(2026, 10, 25, 4))
    assert got == [
        (utc(2026, 10, 24, 22), utc(2026, 10, 25, 1)),
        (utc(2026, 10, 25, 2), utc(2026, 10, 25, 4)),
    ]


def test_rrule_defaults_come_from_the_1900_anchor() -> None:
    lo, hi = utc(2026, 1, 1), utc(2026, 3, 1)
    # FREQ=MONTHLY: the 1st at 00:00 local (Jan 1st IST is 2025-12-31 18:30Z, before the range)
    w = recurring(rrule="FREQ=MONTHLY", duration=60, tz="Asia/Kolkata")
    assert [s for s, _ in expand(w, lo, hi)] == [utc(2026, 1, 31, 18, 30), utc(2026, 2, 28, 18, 30)]
    # FREQ=WEEKLY: Mondays; INTERVAL=2 counts weeks from Monday 1900-01-01
    # (2026-01-12 is 6576 weeks on)
    w = recurring(rrule="FREQ=WEEKLY;INTERVAL=2", duration=60, tz="UTC")
    assert [s for s, _ in expand(w, lo, utc(2026, 2, 1))] == [utc(2026, 1, 12), utc(2026, 1, 26)]
    # FREQ=DAILY;INTERVAL=3: days since 1900-01-01 divisible by 3 (2026-01-12 is day 46032)
    w = recurring(rrule="FREQ=DAILY;INTERVAL=3;BYHOUR=4", duration=60, tz="UTC")
    assert [s for s, _ in expand(w, utc(2026, 1, 10), utc(2026, 1, 19))] == [
        utc(2026, 1, 12, 4),
        utc(2026, 1, 15, 4),
        utc(2026, 1, 18, 4),
    ]
    # FREQ=YEARLY;INTERVAL=3: January 1st of 1900 + 3k (2026 = 1900 + 126)
    w = recurring(rrule="FREQ=YEARLY;INTERVAL=3", duration=60, tz="UTC")
    assert [s for s, _ in expand(w, utc(2024, 1, 1), utc(2030, 1, 1))] == [
        utc(2026, 1, 1),
        utc(2029, 1, 1),
    ]
    # the RRULE: prefix and lower case are accepted
    w = recurring(rrule="RRULE:freq=weekly;byday=su;byhour=2", duration=3600, tz="Europe/Berlin")
    assert expand(w, utc(2026, 3, 28), utc(2026, 3, 30)) == [
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    ]


def test_rrule_until_local_and_utc() -> None:
    local = recurring(
        rrule="FREQ=DAILY;BYHOUR=12;UNTIL=20260603T120000", duration=60, tz="Europe/Berlin"
    )
    assert [s for s, _ in expand(local, utc(2026, 6, 1), utc(2026, 6, 10))] == [
        utc(2026, 6, 1, 10),
        utc(2026, 6, 2, 10),
        utc(2026, 6, 3, 10),
    ]
    # 10:00Z is 12:00 CEST: inclusive; 09:59Z is before the third occurrence
    z = recurring(
        rrule="FREQ=DAILY;BYHOUR=12;UNTIL=20260603T100000Z", duration=60, tz="Europe/Berlin"
    )
    assert len(expand(z, utc(2026, 6, 1), utc(2026, 6, 10))) == 3
    z = recurring(
        rrule="FREQ=DAILY;BYHOUR=12;UNTIL=20260603T095900Z", duration=60, tz="Europe/Berlin"
    )
    assert len(expand(z, utc(2026, 6, 1), utc(2026, 6, 10))) == 2


def test_cron_special_day_fields() -> None:
    last_day = recurring(cron="0 3 L * *", duration=60, tz="UTC")
    assert [s for s, _ in expand(last_day, utc(2026, 1, 15), utc(2026, 4, 15))] == [
        utc(2026, 1, 31, 3),
        utc(2026, 2, 28, 3),
        utc(2026, 3, 31, 3),
    ]
    first_monday = recurring(cron="0 3 * * 1#1", duration=60, tz="UTC")
    assert [s for s, _ in expand(first_monday, utc(2026, 1, 1), utc(2026, 4, 1))] == [
        utc(2026, 1, 5, 3),
        utc(2026, 2, 2, 3),
        utc(2026, 3, 2, 3),
    ]
    # day of month and day of week both restricted: either matches (cron's rule)
    either = recurring(cron="0 3 1 * mon", duration=60, tz="UTC")
    assert [s for s, _ in expand(either, utc(2026, 6, 1), utc(2026, 6, 16))] == [
        utc(2026, 6, 1, 3),
        utc(2026, 6, 8, 3),
        utc(2026, 6, 15, 3),
    ]


@pytest.mark.parametrize(
    ("rec", "message"),
    [
        (Recurrence("FREQ=DAILY;COUNT=3", None, 60, "UTC"), "COUNT"),
        (Recurrence("BYHOUR=2", None, 60, "UTC"), "FREQ"),
        (Recurrence("FREQ=SOMETIMES", None, 60, "UTC"), "FREQ"),
        (Recurrence("FREQ=DAILY;BYHOUR=25", None, 60, "UTC"), "rrule"),
        (Recurrence("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", None, 60, "UTC"), "RRULE body"),
        (Recurrence(None, "0 2 * *", 60, "UTC"), "5 fields"),
        (Recurrence(None, "0 2 * * * *", 60, "UTC"), "5 fields"),
        (Recurrence(None, "61 2 * * *", 60, "UTC"), "cron"),
        (Recurrence(None, "0 0 30 2 *", 60, "UTC"), "never"),
        (Recurrence(None, "0 2 * * 0", 60, "Mars/Olympus"), "time zone"),
        (Recurrence(None, "0 2 * * 0", 0, "UTC"), "duration"),
        (Recurrence(None, None, 60, "UTC"), "exactly one"),
        (Recurrence("FREQ=DAILY", "0 2 * * 0", 60, "UTC"), "exactly one"),
    ],
)
def test_invalid_recurrences(rec: Recurrence, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_recurrence(rec)
    w = Maintenance("bad", (), (), None, None, None, rec)
    with pytest.raises(ValueError):
        expand(w, utc(2026, 1, 1), utc(2026, 2, 1))


def test_window_without_times_or_recurrence() -> None:
    with pytest.raises(ValueError, match="neither"):
        expand(Maintenance("x", (), (), None, None, None, None), 0, 1)


# -- hypothesis: expand vs a reference that tests the rule day by day ---------------------------


def reference_expand(
    days_ok, hours: list[int], minutes: list[int], duration_ms: int, tz: str, lo: int, hi: int
) -> list[tuple[int, int]]:
    """Every local day from well before to well after the range; on days the rule selects, every
    listed wall time, localized by zoneinfo (fold=0), kept when [t, t + duration) meets [lo, hi)."""
    zone = ZoneInfo(tz)
    day = datetime.fromtimestamp((lo - duration_ms) / 1000, UTC).date() - timedelta(days=3)
    last = datetime.fromtimestamp(hi / 1000, UTC).date() + timedelta(days=3)
    occ = []
    while day <= last:
        if days_ok(day):
            for h in hours:
                for mi in minutes:
                    t = round(
                        datetime(day.year, day.month, day.day, h, mi, tzinfo=zone).timestamp()
                        * 1000
                    )
                    if max(t, lo) < min(t + duration_ms, hi):
                        occ.append((t, t + duration_ms))
        day += timedelta(days=1)
    return normalize(occ)


NEAR_DST = [
    utc(2026, 3, 8),
    utc(2026, 3, 29),
    utc(2026, 4, 5),
    utc(2026, 10, 4),
    utc(2026, 10, 25),
    utc(2026, 11, 1),
]


@st.composite
def ranges(draw: st.DrawFn, max_days: int) -> tuple[int, int]:
    if draw(st.booleans()):
        lo = draw(st.sampled_from(NEAR_DST)) + draw(st.integers(-4 * D, 2 * D))
    else:
        lo = draw(st.integers(utc(2024, 1, 1), utc(2027, 12, 31)))
    return lo, lo + draw(st.integers(0, max_days * D))


durations = st.one_of(st.integers(1, 180).map(lambda m: m * 60), st.integers(1, 4 * 86400))


@settings(max_examples=300, deadline=None)
@given(
    freq=st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]),
    interval=st.integers(1, 3),
    byday=st.sets(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), min_size=1),
    bymonthday=st.sets(st.integers(1, 31), min_size=1, max_size=3),
    hours=st.sets(st.integers(0, 23), min_size=1, max_size=3),
    minutes=st.sets(st.integers(0, 59), min_size=1, max_size=2),
    duration=durations,
    tz=st.sampled_from(ZONES),
    rng=ranges(max_days=70),
)
def test_rrule_matches_reference(
    freq: str,
    interval: int,
    byday: set[str],
    bymonthday: set[int],
    hours: set[int],
    minutes: set[int],
    duration: int,
    tz: str,
    rng: tuple[int, int],
) -> None:
    names = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    hs, ms = sorted(hours), sorted(minutes)
    by_hour, by_minute = ",".join(map(str, hs)), ",".join(map(str, ms))
    text = f"FREQ={freq};INTERVAL={interval};BYHOUR={by_hour};BYMINUTE={by_minute}"
    if freq == "DAILY":

        def days_ok(d: date) -> bool:
            return (d - ANCHOR).days % interval == 0
    elif freq == "WEEKLY":
        text += ";BYDAY=" + ",".join(sorted(byday))

        def days_ok(d: date) -> bool:
            return names[d.weekday()] in byday and ((d - ANCHOR).days // 7) % interval == 0
    else:
        text += ";BYMONTHDAY=" + ",".join(map(str, sorted(bymonthday)))

        def days_ok(d: date) -> bool:
            return d.day in bymonthday and ((d.year - 1900) * 12 + d.month - 1) % interval == 0

    lo, hi = rng
    got = expand(recurring(rrule=text, duration=duration, tz=tz), lo, hi)
    assert got == reference_expand(days_ok, hs, ms, duration * 1000, tz, lo, hi)


@settings(max_examples=300, deadline=None)
@given(
    dows=st.one_of(st.none(), st.sets(st.integers(0, 6), min_size=1)),
    hours=st.sets(st.integers(0, 23), min_size=1, max_size=3),
    minutes=st.sets(st.integers(0, 59), min_size=1, max_size=3),
    duration=durations,
    tz=st.sampled_from(ZONES),
    rng=ranges(max_days=20),
)
def test_cron_matches_reference(
    dows: set[int] | None,
    hours: set[int],
    minutes: set[int],
    duration: int,
    tz: str,
    rng: tuple[int, int],
) -> None:
    hs, ms = sorted(hours), sorted(minutes)
    dow_field = "*" if dows is None else ",".join(map(str, sorted(dows)))
    expr = f"{','.join(map(str, ms))} {','.join(map(str, hs))} * * {dow_field}"

    def days_ok(d: date) -> bool:  # cron counts 0 = Sunday
        return dows is None or (d.weekday() + 1) % 7 in dows

    lo, hi = rng
    got = expand(recurring(cron=expr, duration=duration, tz=tz), lo, hi)
    assert got == reference_expand(days_ok, hs, ms, duration * 1000, tz, lo, hi)


def test_every_five_minutes_across_dst() -> None:
    w = recurring(cron="*/5 * * * *", duration=60, tz="Europe/Berlin")
    lo, hi = utc(2026, 10, 24), utc(2026, 10, 27)
    got = expand(w, lo, hi)
    want = reference_expand(
        lambda d: True, list(range(24)), list(range(0, 60, 5)), 60_000, "Europe/Berlin", lo, hi
    )
    assert got == want
    # 3 days of 12 x 24 starts, less the 12 wall-clock starts of the repeated hour
    assert len(got) == 3 * 288 - 12


@st.composite
def range_split(draw: st.DrawFn) -> tuple[int, int, int]:
    lo, hi = draw(ranges(max_days=800))
    return lo, draw(st.integers(lo, hi)), hi


@settings(max_examples=150, deadline=None)
@given(
    text=st.sampled_from(
        [
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=SU;BYHOUR=2",
            "FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=WE,SU;BYSETPOS=1;BYHOUR=12",
            "FREQ=MONTHLY;INTERVAL=5;BYDAY=-1FR;BYHOUR=22",
            "FREQ=MONTHLY;BYMONTHDAY=31",
            "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29",
            "FREQ=DAILY;INTERVAL=9;BYHOUR=1,13",
            "FREQ=HOURLY;INTERVAL=7;BYMINUTE=10",
        ]
    ),
    duration=durations,
    tz=st.sampled_from(ZONES),
    split=range_split(),
)
def test_expansion_does_not_depend_on_the_range(
    text: str, duration: int, tz: str, split: tuple[int, int, int]
) -> None:
    """The series is anchored, not started at the range: expanding two halves gives the whole."""
    lo, mid, hi = split
    w = recurring(rrule=text, duration=duration, tz=tz)
    whole = clip(expand(w, lo, hi), lo, hi)
    halves = normalize(clip(expand(w, lo, mid), lo, mid) + clip(expand(w, mid, hi), mid, hi))
    assert whole == halves


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=WEEKLY;WKST=SU;BYDAY=WE,SU;BYSETPOS=1;BYHOUR=12",
        "FREQ=WEEKLY;INTERVAL=2;WKST=TH;BYDAY=MO,FR;BYSETPOS=-1;BYHOUR=9",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=18",
    ],
)
def test_shifted_series_equals_the_anchored_one(text: str) -> None:
    """The DTSTART shifted near the range (for speed) must not change the series, even where the
    first period of a series is partial (WKST) and BYSETPOS picks within it."""
    from dateutil.rrule import rrulestr

    slow = rrulestr(text, dtstart=datetime(1900, 1, 1)).between(
        datetime(2025, 12, 1), datetime(2026, 5, 1), inc=True
    )
    truth = [int(d.replace(tzinfo=UTC).timestamp()) * 1000 for d in slow]
    w = recurring(rrule=text, duration=60, tz="UTC")
    for first in range(
        utc(2026, 1, 1), utc(2026, 1, 15), 6 * H
    ):  # ranges starting all through a week
        got = [s for s, _ in expand(w, first, utc(2026, 4, 1))]
        assert got == [t for t in truth if first - 60_000 < t < utc(2026, 4, 1)]


@settings(max_examples=200, deadline=None)
@given(
    dom=st.sampled_from(["*", "1", "1,15", "*/2", "10-20", "31", "29", "5-9/2"]),
    month=st.sampled_from(["*", "2", "1-6", "*/3", "jan,jul"]),
    dow=st.sampled_from(["*", "0", "1-5", "sat,sun", "7", "*/2"]),
    first=st.dates(date(2023, 1, 1), date(2028, 12, 31)),
    span=st.integers(0, 400),
)
def test_cron_day_sets_agree_with_croniter(
    dom: str, month: str, dow: str, first: date, span: int
) -> None:
    expr = f"0 0 {dom} {month} {dow}"
    try:
        _, day_expr, day_filter = _parse_cron(expr)
    except ValueError:
        assume(False)
        raise
    assert day_filter is not None
    last = first + timedelta(days=span)
    assert list(_cron_days(day_expr, day_filter, first, last)) == list(
        _cron_days(day_expr, None, first, last)
    )


# -- service hours ------------------------------------------------------------------------------


BUSINESS = ServiceHours(days=(0, 1, 2, 3, 4), start=time(8), end=time(18), timezone="Europe/Berlin")


def test_service_hours_spring_forward_and_weekend() -> None:
    # Fri 2026-03-27 .. Tue 2026-03-31 (UTC); clocks go forward on Sunday 29th.
    got = service_hours_outside(BUSINESS, utc(2026, 3, 27), utc(2026, 3, 31))
    assert got == [
        (utc(2026, 3, 27, 0), utc(2026, 3, 27, 7)),  # until Fri 08:00 CET
        (utc(2026, 3, 27, 17), utc(2026, 3, 30, 6)),  # Fri 18:00 CET .. Mon 08:00 CEST
        (utc(2026, 3, 30, 16), utc(2026, 3, 31, 0)),  # Mon 18:00 CEST ..
    ]


def test_service_hours_fall_back() -> None:
    got = service_hours_outside(BUSINESS, utc(2026, 10, 23), utc(2026, 10, 27))
    assert got == [
        (utc(2026, 10, 23, 0), utc(2026, 10, 23, 6)),  # until Fri 08:00 CEST
        (utc(2026, 10, 23, 16), utc(2026, 10, 26, 7)),  # Fri 18:00 CEST .. Mon 08:00 CET
        (utc(2026, 10, 26, 17), utc(2026, 10, 27, 0)),  # Mon 18:00 CET ..
    ]


def test_service_hours_edges() -> None:
    # a range wholly inside the hours; a range starting and ending inside them
    assert service_hours_outside(BUSINESS, utc(2026, 6, 3, 9), utc(2026, 6, 3, 10)) == []
    assert service_hours_outside(BUSINESS, utc(2026, 6, 3, 9), utc(2026, 6, 4, 9)) == [
        (utc(2026, 6, 3, 16), utc(2026, 6, 4, 6)),
    ]
    assert service_hours_outside(BUSINESS, utc(2026, 6, 3), utc(2026, 6, 3)) == []
    # no days: everything is outside
    none = ServiceHours(days=(), start=time(8), end=time(18), timezone="UTC")
    assert service_hours_outside(none, 5, 500) == [(5, 500)]
    # end 00:00 is midnight at the end of the day; every day all day leaves nothing outside
    all_day = ServiceHours(
        days=tuple(range(7)), start=time(0), end=time(0), timezone="Europe/Berlin"
    )
    assert service_hours_outside(all_day, utc(2026, 3, 1), utc(2026, 11, 30)) == []
    evenings = ServiceHours(days=(5,), start=time(20), end=time(0), timezone="UTC")  # Saturday
    assert service_hours_outside(evenings, utc(2026, 6, 6), utc(2026, 6, 8)) == [
        (utc(2026, 6, 6), utc(2026, 6, 6, 20)),
        (utc(2026, 6, 7), utc(2026, 6, 8)),
    ]
    # overnight hours run into the next day, even into a day not listed
    nights = ServiceHours(days=(4,), start=time(22), end=time(6), timezone="UTC")  # Friday night
    assert service_hours_outside(nights, utc(2026, 6, 5), utc(2026, 6, 7)) == [
        (utc(2026, 6, 5), utc(2026, 6, 5, 22)),
        (utc(2026, 6, 6, 6), utc(2026, 6, 7)),
    ]
    # a whole local day on the spring-forward Sunday is 23 real hours
    sunday = ServiceHours(days=(6,), start=time(0), end=time(0), timezone="Europe/Berlin")
    assert service_hours_outside(sunday, utc(2026, 3, 28), utc(2026, 3, 30)) == [
        (utc(2026, 3, 28), utc(2026, 3, 28, 23)),
        (utc(2026, 3, 29, 22), utc(2026, 3, 30)),
    ]


def test_service_hours_starting_or_ending_inside_a_transition() -> None:
    # fall-back night: starts at the first 02:30 (CEST, 00:30Z), so the repeated 02:00-02:30 CET
    # (01:00Z-01:30Z) is inside; ends at 10:00 CET = 09:00Z
    h = ServiceHours(days=(6,), start=time(2, 30), end=time(10), timezone="Europe/Berlin")
    assert service_hours_outside(h, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)) == [
        (utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30)),
        (utc(2026, 10, 25, 9), utc(2026, 10, 25, 12)),
    ]
    # spring-forward night: 02:30 reads as 03:30 CEST (01:30Z), after 03:00 CEST (01:00Z): empty
    h = ServiceHours(days=(6,), start=time(2, 30), end=time(3), timezone="Europe/Berlin")
    assert service_hours_outside(h, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) == [
        (utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)),
    ]


def wall_clock_inside(hours: ServiceHours, t_ms: int) -> bool:
    """Is instant t inside the hours, read off the local wall clock?"""
    local = datetime.fromtimestamp(t_ms / 1000, ZoneInfo(hours.timezone))
    wall, today, yesterday = local.time(), local.weekday(), (local.weekday() - 1) % 7
    if hours.end > hours.start:
        return today in hours.days and hours.start <= wall < hours.end
    return (today in hours.days and wall >= hours.start) or (
        yesterday in hours.days and wall < hours.end
    )


# wall times away from the transitions of the zones used (01:00 < t < 03:00 local), where a wall
# clock reading and a real-time interval legitimately disagree
clock = (
    st.integers(0, 24 * 60 - 1)
    .filter(lambda m: not 60 < m < 180)
    .map(lambda m: time(m // 60, m % 60))
)


@settings(max_examples=120, deadline=None)
@given(
    days=st.sets(st.integers(0, 6)),
    start=clock,
    end=clock,
    tz=st.sampled_from(ZONES),
    rng=ranges(max_days=5),
)
def test_service_hours_match_minute_sampling(
    days: set[int], start: time, end: time, tz: str, rng: tuple[int, int]
) -> None:
    hours = ServiceHours(days=tuple(sorted(days)), start=start, end=end, timezone=tz)
    lo, hi = rng
    # every boundary falls on a whole UTC minute (zone offsets are whole half hours here), so
    # membership is constant on each minute cell; sample each cell once
    cells = []
    t = lo
    while t < hi:
        nxt = min(hi, (t // M + 1) * M)
        if not wall_clock_inside(hours, t):
            cells.append((t, nxt))
        t = nxt
    assert service_hours_outside(hours, lo, hi) == normalize(cells)


# -- the CLI: uptimed maintenance add | list ----------------------------------------------------

CLI_CONFIG = """
[daemon]
database = "{db}"

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
"""


@pytest.fixture
def cli_config(tmp_path: Path) -> str:
    """A config and its database (made as the daemon makes it: the CLI never creates one)."""
    from uptimed.store import Store

    db = tmp_path / "u.db"
    store = Store(str(db))
    store.open()
    store.close()
    config = tmp_path / "c.toml"
    config.write_text(CLI_CONFIG.format(db=db))
    return str(config)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from uptimed.cli import main

    try:
        code = main(list(argv))
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def listed(capsys: pytest.CaptureFixture[str], config: str) -> list[dict[str, Any]]:
    code, out, err = run_cli(
        capsys, "maintenance", "list", "-c", config, "--all", "--format", "json"
    )
    assert code == 0, err
    windows: list[dict[str, Any]] = json.loads(out)
    return windows


def test_maintenance_add_takes_several_targets(
    cli_config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "maintenance", "add", "-c", cli_config,
                             "--monitor", "web", "--service", "shop", "--monitor", "db",
                             "--for", "30m", "--reason", "upgrade", "--by", "alice")  # fmt: skip
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [re.sub(r"^maintenance window \d+: (\S+ \S+) from .*$", r"\1", x) for x in lines] == [
        "monitor web",
        "monitor db",
        "service shop",
    ]  # one line per window: monitors, then services, each in the order given
    ws = listed(capsys, cli_config)
    assert [(w["target_kind"], w["target"]) for w in ws] == [
        ("monitor", "web"),
        ("monitor", "db"),
        ("service", "shop"),
    ]
    assert {(w["start"], w["end"], w["reason"], w["created_by"]) for w in ws} == {
        (ws[0]["start"], ws[0]["end"], "upgrade", "alice")
    }
    for line, w in zip(lines, ws, strict=True):
        assert (
            line == f"maintenance window {w['id']}: {w['target_kind']} {w['target']} "
            f"from {w['start']} to {w['end']}"
        )
    # A target given twice is one window.
    code, out, _ = run_cli(capsys, "maintenance", "add", "-c", cli_config,
                           "--monitor", "web", "--monitor", "web", "--for", "1m")  # fmt: skip
    assert code == 0 and len(out.splitlines()) == 1


def test_maintenance_add_is_all_or_none(
    cli_config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "maintenance", "add", "-c", cli_config,
                             "--monitor", "web", "--service", "shop",
                             "--service", "nosuch", "--for", "30m")  # fmt: skip
    assert code == 2 and out == ""
    assert err == "uptimed maintenance: error: --service: no such id: nosuch (known: shop)\n"
    assert listed(capsys, cli_config) == []
    # A check that only the writing makes (a window in the past, here) refuses every target too.
    code, out, err = run_cli(capsys, "maintenance", "add", "-c", cli_config,
                             "--monitor", "web", "--monitor", "db",
                             "--start", "2020-01-01", "--end", "2020-01-02")  # fmt: skip
    assert code == 2 and out == "" and "give a --reason" in err
    assert listed(capsys, cli_config) == []


def test_add_all_writes_every_window_or_none(cli_config: str) -> None:
    """One transaction: a failure at the last target takes back the ones before."""
    from uptimed.config import load_config
    from uptimed.store import adhoc

    config = load_config(cli_config)
    conn = adhoc.open_db(config.daemon.database)
    try:
        now = 1_800_000_000_000
        req = adhoc.maintenance_request(
            config, {"monitor": ["web", "db"], "for": "1h"}, now, by="test"
        )
        conn.execute(
            "CREATE TEMP TRIGGER refuse_db BEFORE INSERT ON maintenance WHEN NEW.target = 'db'"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        with pytest.raises(sqlite3.IntegrityError):
            adhoc.add_all(conn, req, now)
        assert conn.execute("SELECT count(*) FROM maintenance").fetchone() == (0,)
        assert not conn.in_transaction
        conn.execute("DROP TRIGGER refuse_db")
        assert [(w.target, w.start, w.end) for w in adhoc.add_all(conn, req, now)] == [
            ("web", now, now + H),
            ("db", now, now + H),
        ]
    finally:
        conn.close()


def test_maintenance_list_json_ends_with_a_newline(
    cli_config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "maintenance", "list", "-c", cli_config, "--format", "json")
    assert code == 0 and out == "[]\n"
    assert (
        run_cli(capsys, "maintenance", "add", "-c", cli_config, "--monitor", "web", "--for", "5m")[
            0
        ]
        == 0
    )
    for extra in ((), ("--all",), ("--cancelled",)):
        code, out, _ = run_cli(
            capsys, "maintenance", "list", "-c", cli_config, "--format", "json", *extra
        )
        assert code == 0 and out.endswith("]\n") and not out.endswith("\n\n"), out
        assert len(json.loads(out)) == (0 if extra == ("--cancelled",) else 1)
