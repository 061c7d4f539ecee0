"""Report windows: calendar periods in a time zone, --at forms, times on the command line, and
resolve_window (the CLI's and the API's window parameters).

Every expected instant is written out as epoch milliseconds (computed independently with GNU
``date -u -d ... +%s``), with the UTC instant next to it, so a wrong offset or a period cut at
the wrong midnight shows as a plain number mismatch.
"""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from uptimed.core.times import PERIODS, calendar_period, iso, parse_time, zone
from uptimed.errors import RequestError
from uptimed.service.window import resolve_window

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3_600_000
DAY = 24 * HOUR
NOW = 1_793_491_200_000  # 2026-11-01T00:00:00Z, for calls where "now" must not matter


# -- calendar periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, at, tz, start, end",
    [
        # Month ends: 31, 30 and 28/29-day months, and December into the next year.
        ("month", "2026-01", UTC, 1_767_225_600_000, 1_767_225_600_000 + 31 * DAY),  # 2026-01-01Z
        (
            "month",
            "2026-10",
            UTC,
            1_790_812_800_000,
            1_793_491_200_000,
        ),  # 2026-10-01Z .. 2026-11-01Z
        (
            "month",
            "2026-12",
            UTC,
            1_798_761_600_000 - 31 * DAY,
            1_798_761_600_000,
        ),  # .. 2027-01-01Z
        (
            "month",
            "2026-04-30",
            UTC,
            1_775_001_600_000,
            1_775_001_600_000 + 30 * DAY,
        ),  # 2026-04-01Z
        (
            "month",
            "2026-02-28",
            UTC,
            1_769_904_000_000,
            1_769_904_000_000 + 28 * DAY,
        ),  # 2026-02-01Z
        # The leap day: February 2028 has 29 days, in UTC and in Berlin.
        (
            "month",
            "2028-02",
            UTC,
            1_832_976_000_000,
            1_835_481_600_000,
        ),  # 2028-02-01Z .. 2028-03-01Z
        ("month", "2028-02-29", UTC, 1_832_976_000_000, 1_835_481_600_000),
        (
            "month",
            "2028-02-29",
            BERLIN,
            1_832_972_400_000,
            1_835_478_000_000,
        ),  # 01-31T23Z .. 02-29T23Z
        (
            "week",
            "2028-02-29",
            UTC,
            1_835_308_800_000,
            1_835_308_800_000 + 7 * DAY,
        ),  # Mon 2028-02-28Z
        ("year", "2028", UTC, 1_830_297_600_000, 1_861_920_000_000),  # 366 days
        # Quarters, and quarters spanning a DST change in a non-UTC zone.
        (
            "quarter",
            "2026-Q4",
            UTC,
            1_790_812_800_000,
            1_798_761_600_000,
        ),  # 2026-10-01Z .. 2027-01-01Z
        # Berlin Q1 2026: CET at the start, CEST (spring forward 2026-03-29) at the end: 90 d - 1 h.
        (
            "quarter",
            "2026-Q1",
            BERLIN,
            1_767_222_000_000,
            1_774_994_400_000,
        ),  # 2025-12-31T23Z .. 03-31T22Z
        # Berlin Q4 2026: CEST at the start, CET (fall back 2026-10-25) at the end: 92 d + 1 h.
        (
            "quarter",
            "2026-Q4",
            BERLIN,
            1_790_805_600_000,
            1_798_758_000_000,
        ),  # 09-30T22Z .. 12-31T23Z
        # New York Q1 2026: EST at the start, EDT (2026-03-08) at the end.
        (
            "quarter",
            "2026-Q1",
            NEW_YORK,
            1_767_243_600_000,
            1_775_016_000_000,
        ),  # 01-01T05Z .. 04-01T04Z
        # New York November 2026 starts on the fall-back day itself (2026-11-01, 02:00 EDT).
        (
            "month",
            "2026-11",
            NEW_YORK,
            1_793_505_600_000,
            1_796_101_200_000,
        ),  # 11-01T04Z .. 12-01T05Z
        ("year", "2026", BERLIN, 1_767_222_000_000, 1_798_758_000_000),
        ("year", "2026", NEW_YORK, 1_767_243_600_000, 1_798_779_600_000),
        # Weeks (ISO, Monday first), one of them 7 d + 1 h long (Berlin, fall back), one 7 d - 1 h
        # (New York, spring forward), and the 53rd ISO week of 2026, which ends in 2027.
        ("week", "2026-W43", UTC, 1_792_368_000_000, 1_792_972_800_000),  # 10-19Z .. 10-26Z
        (
            "week",
            "2026-W43",
            BERLIN,
            1_792_360_800_000,
            1_792_969_200_000,
        ),  # 10-18T22Z .. 10-25T23Z
        (
            "week",
            "2026-03-08",
            NEW_YORK,
            1_772_427_600_000,
            1_773_028_800_000,
        ),  # 03-02T05Z .. 03-09T04Z
        (
            "week",
            "2026-W53",
            UTC,
            1_798_416_000_000,
            1_799_020_800_000,
        ),  # 2026-12-28Z .. 2027-01-04Z
    ],
)
def test_calendar_period_boundaries(kind, at, tz, start, end):
    assert calendar_period(kind, at, tz, NOW) == (start, end)


def test_dst_periods_are_not_whole_days():
    lo, hi = calendar_period("quarter", "2026-Q1", BERLIN, NOW)
    assert hi - lo == 90 * DAY - HOUR
    lo, hi = calendar_period("quarter", "2026-Q4", BERLIN, NOW)
    assert hi - lo == 92 * DAY + HOUR
    lo, hi = calendar_period("week", "2026-W43", BERLIN, NOW)
    assert hi - lo == 7 * DAY + HOUR
    lo, hi = calendar_period("month", "2026-11", NEW_YORK, NOW)
    assert hi - lo == 30 * DAY + HOUR
    lo, hi = calendar_period("month", "2026-11", UTC, NOW)
    assert hi - lo == 30 * DAY


@pytest.mark.parametrize(
    "at, kinds",
    [
        ("2026-10", ("month", "quarter", "year")),
        (" 2026-10 ", ("month", "quarter", "year")),
        ("2026-Q4", ("quarter", "year")),
        ("2026-W43", ("week",)),
        ("2026", ("year",)),
        ("2026-10-15", PERIODS),
    ],
)
def test_at_forms_name_the_period_that_contains_them(at, kinds):
    """An --at form names the period of each kind that contains it (the same as its first day:
    2026-Q4 is 2026-10-01, 2026-W43 is Monday 2026-10-19, 2026 is 2026-01-01); a form that
    names a longer period (a year for a month) or one that does not nest in it (a week in a
    year: 2026-W01 begins in 2025) is an error, not a guess."""
    first_day = {"2026-10": "2026-10-01", "2026-Q4": "2026-10-01", "2026-W43": "2026-10-19",
                 "2026": "2026-01-01", "2026-10-15": "2026-10-15",
                 " 2026-10 ": "2026-10-01"}[at]  # fmt: skip
    for kind in PERIODS:
        if kind in kinds:
            assert calendar_period(kind, at, UTC, NOW) == calendar_period(
                kind, first_day, UTC, NOW
            ), kind
        else:
            with pytest.raises(ValueError, match=f"names a .*, not a {kind}"):
                calendar_period(kind, at, UTC, NOW)


def test_at_forms_exactly():
    assert calendar_period("month", "2026-10", UTC, NOW) == (1_790_812_800_000, 1_793_491_200_000)
    assert calendar_period("quarter", "2026-Q4", UTC, NOW) == (1_790_812_800_000, 1_798_761_600_000)
    assert calendar_period("week", "2026-W43", UTC, NOW) == (1_792_368_000_000, 1_792_972_800_000)
    assert calendar_period("year", "2026", UTC, NOW) == (1_767_225_600_000, 1_798_761_600_000)
    assert calendar_period("week", "2026-10-21", UTC, NOW) == (
        1_792_368_000_000,
        1_792_972_800_000,
    )  # a Wednesday
    assert calendar_period("quarter", "2026-11-30", UTC, NOW) == (
        1_790_812_800_000,
        1_798_761_600_000,
    )
    # A month or a quarter names the quarter or year it lies in.
    assert calendar_period("quarter", "2026-11", UTC, NOW) == (1_790_812_800_000, 1_798_761_600_000)
    assert calendar_period("year", "2026-Q4", UTC, NOW) == (1_767_225_600_000, 1_798_761_600_000)


def test_without_at_the_period_containing_now_in_the_zone():
    # 2026-10-31T23:30Z is still October in UTC and New York, but already November in Berlin.
    now = 1_793_491_200_000 - 30 * 60_000
    assert calendar_period("month", None, UTC, now) == (1_790_812_800_000, 1_793_491_200_000)
    assert calendar_period("month", None, BERLIN, now) == (
        1_793_487_600_000,
        1_796_079_600_000,
    )  # 10-31T23Z..
    assert calendar_period("month", None, NEW_YORK, now) == (
        1_790_827_200_000,
        1_793_505_600_000,
    )  # 10-01T04Z..
    assert calendar_period("year", None, UTC, now) == (1_767_225_600_000, 1_798_761_600_000)
    # A period's start is inside it, its end is not.
    monday = 1_792_360_800_000  # 2026-10-19T00:00 in Berlin
    assert calendar_period("week", None, BERLIN, monday) == (monday, 1_792_969_200_000)
    hi = 1_792_969_200_000
    assert calendar_period("week", None, BERLIN, hi)[0] == hi


@pytest.mark.parametrize(
    "kind, at, message",
    [
        ("decade", "2026", '"decade" is not a period (allowed: week, month, quarter, year)'),
        (
            "month",
            "2026-13",
            '"2026-13" does not name a month (examples: 2026-10, or a date in it: 2026-10-15)',
        ),
        ("quarter", "2026-Q5", '"2026-Q5" does not name a quarter'),
        ("week", "2025-W53", '"2025-W53" does not name a week'),  # 2025 has 52 ISO weeks
        ("week", "2026-W00", '"2026-W00" does not name a week'),
        ("month", "2026-02-30", '"2026-02-30" does not name a month'),
        ("year", "next year", '"next year" does not name a year'),
        ("month", "", '"" does not name a month'),
        ("month", "26-10", '"26-10" does not name a month'),
        # A form that names a longer period, or one that does not nest, is refused.
        (
            "month",
            "2026",
            '"2026" names a year, not a month: write 2026-10, or a date in the month',
        ),
        (
            "year",
            "2026-W01",
            '"2026-W01" names a week, not a year: write 2026, or a date in the year',
        ),
        ("week", "2026-10", '"2026-10" names a month, not a week'),
        ("month", "2026-Q4", '"2026-Q4" names a quarter, not a month'),
    ],
)
def test_calendar_period_errors(kind, at, message):
    with pytest.raises(ValueError) as e:
        calendar_period(kind, at, UTC, NOW)
    assert message in str(e.value)


@pytest.mark.parametrize("kind, at", [("week", "9999-12-31"), ("month", "9999-12"),
                                      ("quarter", "9999-Q4"), ("year", "9999")])  # fmt: skip
def test_periods_ending_past_the_calendar_are_value_errors(kind, at):
    """Not OverflowError (which the CLI and the API would not catch): `date + 7 days` overflowed."""
    with pytest.raises(ValueError) as e:
        calendar_period(kind, at, UTC, NOW)
    assert at in str(e.value)


def test_the_last_periods_that_fit_the_calendar():
    assert calendar_period("month", "9999-11", UTC, NOW) == (
        253_397_030_400_000,
        253_399_622_400_000,
    )
    assert (
        calendar_period("week", "9999-12-20", UTC, NOW)[1] == 253_399_622_400_000 + 26 * DAY
    )  # 9999-12-27


# -- parse_time, zone, iso -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, tz, want",
    [
        ("2026-10-01T08:00:00Z", UTC, 1_790_841_600_000),
        ("2026-10-01T08:00:00Z", BERLIN, 1_790_841_600_000),  # an explicit zone wins over tz
        ("2026-10-01T10:00:00+02:00", UTC, 1_790_841_600_000),
        ("2026-10-01T04:00:00-04:00", BERLIN, 1_790_841_600_000),
        ("2026-10-01T08:00:00+00:00", UTC, 1_790_841_600_000),
        ("2026-10-01t08:00:00z", UTC, 1_790_841_600_000),  # RFC 3339 allows lower case
        ("2026-10-01 08:00:00Z", UTC, 1_790_841_600_000),  # ... and a space
        ("2026-10-01T08:00:00.250Z", UTC, 1_790_841_600_250),
        ("2026-10-01T08:00Z", UTC, 1_790_841_600_000),
        ("  2026-10-01T08:00:00Z\n", UTC, 1_790_841_600_000),
        # A date is local midnight in tz.
        ("2026-10-01", UTC, 1_790_812_800_000),  # 2026-10-01T00:00Z
        ("2026-10-01", BERLIN, 1_790_805_600_000),  # 2026-09-30T22:00Z (CEST)
        ("2026-10-01", NEW_YORK, 1_790_827_200_000),  # 2026-10-01T04:00Z (EDT)
        ("2028-02-29", BERLIN, 1_835_391_600_000),  # 2028-02-28T23:00Z (CET)
        ("2026-03-29", BERLIN, 1_774_738_800_000),  # the spring-forward day: midnight is still CET
        ("2026-10-25", BERLIN, 1_792_879_200_000),  # the fall-back day: midnight is still CEST
    ],
)
def test_parse_time_forms(text, tz, want):
    assert parse_time(text, tz) == want


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "2026-10-01T08:00:00",
            '"2026-10-01T08:00:00" has no time zone: add Z or an offset (examples: 2026-10-01, ',
        ),
        ("2026-10-01 08:00", '"2026-10-01 08:00" has no time zone: add Z or an offset'),
        (
            "yesterday",
            '"yesterday" is not a time (examples: 2026-10-01, 2026-10-01T08:00:00Z,'
            " 2026-10-01T10:00:00+02:00)",
        ),
        ("2026-02-30", '"2026-02-30" is not a time'),
        ("2026-10-01T25:00:00Z", '"2026-10-01T25:00:00Z" is not a time'),
        ("1790841600000", '"1790841600000" is not a time'),
        ("", '"" is not a time'),
        ("2026-10-01T08:00:00+25:00", '"2026-10-01T08:00:00+25:00" is not a time'),
    ],
)
def test_parse_time_errors(text, message):
    with pytest.raises(ValueError) as e:
        parse_time(text, UTC)
    assert message in str(e.value)


def test_zone():
    assert zone("Europe/Berlin") == BERLIN
    for bad in ("Mars/Olympus_Mons", "", "../../etc/passwd", "/etc/localtime", "europe/berlin "):
        with pytest.raises(ValueError) as e:
            zone(bad)
        assert str(e.value) == f'"{bad}" is not an IANA time zone (examples: UTC, Europe/Berlin)'


def test_iso():
    assert iso(None) is None
    assert iso(0) == "1970-01-01T00:00:00Z"
    assert iso(1_790_841_600_000) == "2026-10-01T08:00:00Z"
    assert iso(1_790_841_600_250) == "2026-10-01T08:00:00.250Z"
    assert iso(1_790_841_600_001) == "2026-10-01T08:00:00.001Z"
    assert iso(1_835_391_600_000) == "2028-02-28T23:00:00Z"


@given(
    st.integers(min_value=-30_610_224_000_000, max_value=253_402_300_799_999)
)  # years 1000 .. 9999
def test_iso_and_parse_time_round_trip(ms):
    assert parse_time(iso(ms), UTC) == ms
    assert parse_time(iso(ms), BERLIN) == ms


def test_iso_pads_years_before_1000():
    assert iso(-30_610_224_000_001) == "0999-12-31T23:59:59.999Z"
    assert parse_time(iso(-30_610_224_000_001), UTC) == -30_610_224_000_001


def test_parse_time_does_not_lose_a_millisecond_to_float_truncation():
    """int(dt.timestamp() * 1000) landed 1 ms early for ~0.6 % of 1970 (and far-future) times."""
    assert parse_time("1970-01-25T08:59:41.513Z", UTC) == 2_105_981_513
    assert parse_time("1970-07-14T22:03:10.558Z", UTC) == 16_840_990_558


# -- resolve_window ------------------------------------------------------------------------------


def test_window_from_to():
    w = resolve_window(NOW, start="2026-10-01T08:00:00Z", end="2026-10-01T12:00:00+02:00")
    assert (w.start, w.end, w.tz_name, w.period) == (
        1_790_841_600_000,
        1_790_841_600_000 + 2 * HOUR,
        "UTC",
        None,
    )


def test_window_from_to_dates_are_midnights_in_the_timezone():
    w = resolve_window(NOW, start="2026-10-01", end="2026-10-02")
    assert (w.start, w.end, w.tz_name) == (1_790_812_800_000, 1_790_812_800_000 + DAY, "UTC")
    w = resolve_window(NOW, start="2026-10-01", end="2026-11-01", timezone="Europe/Berlin")
    # 2026-09-30T22:00Z .. 2026-10-31T23:00Z: October in Berlin, 31 days and the fall-back hour.
    assert (w.start, w.end, w.tz_name, w.period) == (
        1_790_805_600_000,
        1_793_487_600_000,
        "Europe/Berlin",
        None,
    )
    assert w.end - w.start == 31 * DAY + HOUR


def test_window_period():
    w = resolve_window(NOW, period="quarter", at="2026-Q4")  # under way: to date, ending now
    assert (w.start, w.end, w.full_end, w.tz_name) == (
        1_790_812_800_000,
        NOW,
        1_798_761_600_000,
        "UTC",
    )
    assert w.period == ("quarter", "2026-Q4")  # without --timezone each SLO cuts it in its own zone
    w = resolve_window(NOW, period="quarter", at="2026-Q4", timezone="Europe/Berlin")
    assert (w.start, w.full_end, w.tz_name, w.period) == (
        1_790_805_600_000,
        1_798_758_000_000,
        "Europe/Berlin",
        None,
    )
    w = resolve_window(NOW, period="quarter", at="2026-Q3")  # over: nothing to cut
    assert (w.start, w.end, w.full_end) == (1_782_864_000_000, 1_790_812_800_000, 1_790_812_800_000)
    w = resolve_window(NOW - 1, period="month")  # now = 2026-10-31T23:59:59.999Z: October
    assert (w.start, w.end, w.full_end, w.period) == (
        1_790_812_800_000,
        NOW - 1,
        NOW,
        ("month", None),
    )
    w = resolve_window(NOW - 1, period="month", timezone="Europe/Berlin")  # already November there
    assert (w.start, w.end, w.full_end) == (1_793_487_600_000, NOW - 1, 1_796_079_600_000)
    w = resolve_window(NOW, period="week", at="2026-W43", timezone="America/New_York")
    assert (w.start, w.end) == (
        1_792_368_000_000 + 4 * HOUR,
        1_792_972_800_000 + 4 * HOUR,
    )  # EDT all week


def test_window_rolling():
    w = resolve_window(NOW, window="30d")
    assert (w.start, w.end, w.period) == (NOW - 30 * DAY, NOW, None)
    assert resolve_window(NOW) == dataclasses.replace(
        w, own=True
    )  # the default: SLOs over their own
    assert not w.own
    w = resolve_window(NOW, window="1h30m", timezone="Europe/Berlin")
    assert (w.start, w.end, w.tz_name) == (NOW - 90 * 60_000, NOW, "Europe/Berlin")
    w = resolve_window(NOW, window="250ms")
    assert (w.start, w.end) == (NOW - 250, NOW)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"start": "2026-10-01"}, "--from and --to go together"),
        ({"end": "2026-10-01"}, "--from and --to go together"),
        (
            {"start": "2026-10-02", "end": "2026-10-01"},
            "--from (2026-10-02) must be before --to (2026-10-01)",
        ),
        (
            {"start": "2026-10-01", "end": "2026-10-01"},
            "--from (2026-10-01) must be before --to (2026-10-01)",
        ),
        (
            {"start": "2026-10-01T02:00:00+02:00", "end": "2026-10-01T00:00:00Z"},
            "must be before --to",
        ),
        (
            {"start": "yesterday", "end": "2026-10-01"},
            '--from: "yesterday" is not a time (examples: ',
        ),
        ({"start": "2026-10-01", "end": "soon"}, '--to: "soon" is not a time'),
        (
            {"start": "2026-10-01T00:00:00", "end": "2026-10-02"},
            '--from: "2026-10-01T00:00:00" has no time zone',
        ),
        (
            {"start": "2026-10-01", "end": "2026-10-02T00:00:00"},
            '--to: "2026-10-02T00:00:00" has no time zone',
        ),
        ({"at": "2026-10"}, "--at goes with --period"),
        ({"at": "2026-10", "window": "1d"}, "--at goes with --period"),
        ({"at": "2026-10", "start": "2026-10-01", "end": "2026-10-02"}, "--at goes with --period"),
        (
            {"period": "decade"},
            '--period/--at: "decade" is not a period (allowed: week, month, quarter, year)',
        ),
        ({"period": "month", "at": "2026-13"}, '--period/--at: "2026-13" does not name a month'),
        ({"period": "week", "at": "2026-Q9"}, '--period/--at: "2026-Q9" does not name a week'),
        ({"window": "30"}, '--window: "30" is not a duration'),
        ({"window": "3x"}, '--window: "3x" is not a duration'),
        ({"window": "1000000d"}, "--window: "),
        (
            {"window": "1d", "timezone": "Mars/Olympus"},
            '--timezone: "Mars/Olympus" is not an IANA time zone',
        ),
        (
            {"period": "month", "timezone": "Berlin"},
            '--timezone: "Berlin" is not an IANA time zone',
        ),
        (
            {"start": "2026-10-01", "end": "2026-10-02", "window": "1d"},
            "give one of --from/--to, --period, --window (got --from/--to and --window)",
        ),
        (
            {"period": "month", "window": "1d"},
            "give one of --from/--to, --period, --window (got --period and --window)",
        ),
        ({"start": "2026-10-01", "period": "month"}, "(got --from/--to and --period)"),
        # Time that has not happened is in no report.
        ({"period": "month", "at": "2026-12"}, "--period/--at: the month of 2026-12 has not begun"),
        ({"period": "year", "at": "2027"}, "has not begun (it starts 2027-01-01T00:00:00Z)"),
        (
            {"start": "2026-11-01T00:00:00Z", "end": "2026-12-01"},
            "--from (2026-11-01T00:00:00Z) is in the future",
        ),
        # Out of range once cut in the zone (year 0 or 10000 in UTC), not an OverflowError.
        (
            {"start": "0001-01-01", "end": "0001-01-02", "timezone": "Asia/Tokyo"},
            '--from: "0001-01-01" is out of range',
        ),
        (
            {"period": "year", "at": "0001", "timezone": "Asia/Tokyo"},
            '--period/--at: the year of "0001" in Asia/Tokyo',
        ),
        (
            {"period": "month", "at": "0001-01", "timezone": "Asia/Tokyo"},
            "reaches outside years 1 to 9999",
        ),
        # Before 1970 nothing was recorded, and zones and recurrences fall off the calendar there.
        ({"start": "0001-01-01", "end": "0001-01-02"}, "--from (0001-01-01) is before 1970"),
        ({"period": "year", "at": "0001"}, "--period/--at: the year of 0001 begins before 1970"),
        ({"start": "1969-12-31T23:59:59Z", "end": "1970-01-02"}, "before 1970"),
        ({"window": "30000d"}, "--window: 30000d reaches back before 1970"),
        # Empty values are refused as --from/--to are.
        ({"window": "0s"}, "--window: 0s is empty"),
        ({"window": "0ms"}, "--window: 0ms is empty"),
        ({"window": ""}, "--window: empty"),
        ({"start": "", "end": ""}, "--from: empty"),
        ({"period": "month", "at": " "}, "--at: empty"),
    ],
)
def test_window_errors_name_the_argument(kwargs, message):
    with pytest.raises(RequestError) as e:
        resolve_window(NOW, **kwargs)
    assert message in str(e.value)
    assert "\n" not in str(e.value)
