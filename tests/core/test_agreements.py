"""An agreement's term, renewals and statement periods (uptimed.core.agreements): fixed cases in
Europe/Berlin (DST, the 31st, leap days, a term that starts mid-month or ends), and the periods
against a calendar walked day by day (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from uptimed.core.agreements import Period, Term, capped, label, periods, term
from uptimed.model.config import Agreement

BERLIN = ZoneInfo("Europe/Berlin")
H = 3_600_000
D = 24 * H


def at(y: int, m: int, d: int, h: int = 0, minute: int = 0, tz: ZoneInfo = BERLIN) -> int:
    """ms of a local wall time."""
    return int(datetime(y, m, d, h, minute, tzinfo=tz).timestamp() * 1000)


def aware(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def agreement(
    start: int,
    until: int | None = None,
    *,
    renewal: str | None = None,
    reporting: str = "month",
    tz: str = "Europe/Berlin",
) -> Agreement:
    return Agreement(
        id="a1",
        customer="c1",
        name="An agreement",
        slos=("s1",),
        effective_from=aware(start),
        effective_until=None if until is None else aware(until),
        renewal=renewal,
        termination_notice=None,
        provider_obligations="",
        customer_obligations="",
        reporting=reporting,
        timezone=tz,
        credit_cap=None,
    )


# -- the term ----------------------------------------------------------------------------------


def test_an_open_ended_term_without_renewal() -> None:
    a = agreement(at(2026, 3, 15))
    for now in (at(2026, 3, 1), at(2026, 3, 15), at(2030, 1, 1)):
        assert term(a, now) == Term(at(2026, 3, 15), None, None, 0)


def test_a_term_with_an_end_and_no_renewal_ends_there_for_good() -> None:
    a = agreement(at(2026, 3, 15), at(2026, 9, 15, 12))
    for now in (at(2026, 4, 1), at(2026, 9, 15, 12) - 1, at(2026, 9, 15, 12), at(2028, 1, 1)):
        assert term(a, now) == Term(at(2026, 3, 15), at(2026, 9, 15, 12), None, 0)


def test_monthly_renewal_from_the_31st_keeps_the_31st_where_the_month_has_one() -> None:
    a = agreement(at(2025, 12, 1), at(2026, 1, 31), renewal="month")
    cases = [
        (at(2026, 1, 20), at(2026, 1, 31), 0),
        (at(2026, 1, 31) - 1, at(2026, 1, 31), 0),
        (at(2026, 1, 31), at(2026, 2, 28), 1),  # renewed at the instant it would end
        (at(2026, 2, 10), at(2026, 2, 28), 1),
        (at(2026, 3, 1), at(2026, 3, 31), 2),  # back on the 31st (not the 28th)
        (at(2026, 4, 5), at(2026, 4, 30), 3),
        (at(2026, 5, 30), at(2026, 5, 31), 4),
        (at(2026, 12, 31, 12), at(2027, 1, 31), 12),
    ]
    for now, end, renewals in cases:
        got = term(a, now)
        assert got == Term(at(2025, 12, 1), end, end, renewals), aware(now)
        assert got.end is not None and got.end > now  # the term in force ends after now


def test_monthly_renewal_into_a_leap_february() -> None:
    a = agreement(at(2027, 11, 1), at(2028, 1, 31), renewal="month")
    assert term(a, at(2028, 2, 2)).end == at(2028, 2, 29)
    assert term(a, at(2028, 3, 2)).end == at(2028, 3, 31)


def test_quarterly_renewal_from_the_31st() -> None:
    a = agreement(at(2026, 3, 1), at(2026, 8, 31), renewal="quarter")
    assert term(a, at(2026, 8, 1)) == Term(at(2026, 3, 1), at(2026, 8, 31), at(2026, 8, 31), 0)
    assert term(a, at(2026, 9, 1)).end == at(2026, 11, 30)
    assert term(a, at(2026, 12, 1)).end == at(2027, 2, 28)
    assert term(a, at(2027, 3, 1)) == Term(at(2026, 3, 1), at(2027, 5, 31), at(2027, 5, 31), 3)


def test_yearly_renewal_from_a_leap_day() -> None:
    a = agreement(at(2027, 3, 1), at(2028, 2, 29), renewal="year")
    assert term(a, at(2028, 2, 28)).end == at(2028, 2, 29)
    assert term(a, at(2028, 3, 1)) == Term(at(2027, 3, 1), at(2029, 2, 28), at(2029, 2, 28), 1)
    assert term(a, at(2031, 3, 1)).end == at(2032, 2, 29)  # a leap year again
    assert term(a, at(2031, 3, 1)).renewals == 4


def test_renewal_keeps_the_local_wall_time_across_dst() -> None:
    # 00:00 in Berlin is 23:00 UTC in winter and 22:00 UTC in summer.
    a = agreement(at(2026, 1, 1), at(2026, 3, 1), renewal="month")
    end = term(a, at(2026, 3, 10)).end
    assert end == at(2026, 4, 1) and aware(end) == datetime(2026, 3, 31, 22, tzinfo=UTC)


def test_an_open_ended_renewal_says_when_it_renews_next() -> None:
    a = agreement(at(2026, 1, 31), renewal="month")
    assert term(a, at(2026, 1, 1)) == Term(at(2026, 1, 31), None, at(2026, 2, 28), 0)
    assert term(a, at(2026, 2, 15)) == Term(at(2026, 1, 31), None, at(2026, 2, 28), 0)
    assert term(a, at(2026, 2, 28)) == Term(at(2026, 1, 31), None, at(2026, 3, 31), 1)
    assert term(a, at(2026, 3, 5)) == Term(at(2026, 1, 31), None, at(2026, 3, 31), 1)
    assert term(a, at(2026, 4, 1)) == Term(at(2026, 1, 31), None, at(2026, 4, 30), 2)
    y = agreement(at(2024, 2, 29), renewal="year")
    assert term(y, at(2024, 6, 1)) == Term(at(2024, 2, 29), None, at(2025, 2, 28), 0)
    assert term(y, at(2027, 6, 1)) == Term(at(2024, 2, 29), None, at(2028, 2, 29), 3)
    q = agreement(at(2026, 3, 29, 12), renewal="quarter")  # the day DST begins, at noon
    assert term(q, at(2026, 4, 1)).next_renewal == at(2026, 6, 29, 12)


# -- labels --------------------------------------------------------------------------------------


def test_labels_name_the_period_in_the_agreement_s_zone() -> None:
    march_berlin = at(2026, 3, 1)  # 2026-02-28T23:00Z
    assert label("month", march_berlin, "Europe/Berlin") == "2026-03"
    assert label("month", march_berlin, "UTC") == "2026-02"
    assert label("quarter", at(2026, 10, 1), "Europe/Berlin") == "2026-Q4"
    assert label("quarter", at(2026, 10, 1), "UTC") == "2026-Q3"
    assert label("quarter", at(2026, 4, 1), "Europe/Berlin") == "2026-Q2"
    assert label("year", at(2027, 1, 1), "Europe/Berlin") == "2027"
    assert label("year", at(2027, 1, 1), "UTC") == "2026"
    assert label("month", at(2026, 12, 1, tz=ZoneInfo("UTC")), "UTC") == "2026-12"


# -- periods -------------------------------------------------------------------------------------


def test_monthly_periods_in_berlin_across_both_dst_changes() -> None:
    a = agreement(at(2026, 3, 1))
    got = periods(a, at(2026, 11, 10, 12))
    assert [p.label for p in got] == [f"2026-{m:02d}" for m in range(3, 12)]
    assert all(p.kind == "month" for p in got)
    for p, m in zip(got, range(3, 12), strict=True):
        assert p.start == at(2026, m, 1)
        assert p.end == at(2026, m + 1, 1)
    by = {p.label: p for p in got}
    assert by["2026-03"].end - by["2026-03"].start == 31 * D - H  # 23-hour day on the 29th
    assert by["2026-10"].end - by["2026-10"].start == 31 * D + H  # 25-hour day on the 25th
    assert by["2026-04"].end - by["2026-04"].start == 30 * D
    assert [p.final for p in got] == [True] * 8 + [False]


def test_a_term_that_begins_mid_month_has_its_month_as_the_first_period() -> None:
    """The period is the calendar month; the SLA engine cuts its figures to the term."""
    a = agreement(at(2026, 3, 15, 9, 30))
    got = periods(a, at(2026, 5, 2))
    assert got == [
        Period("2026-03", "month", at(2026, 3, 1), at(2026, 4, 1), True),
        Period("2026-04", "month", at(2026, 4, 1), at(2026, 5, 1), True),
        Period("2026-05", "month", at(2026, 5, 1), at(2026, 6, 1), False),
    ]


def test_a_period_that_ends_at_now_is_final_and_the_next_has_not_begun() -> None:
    a = agreement(at(2026, 3, 15))
    got = periods(a, at(2026, 5, 1))
    assert [(p.label, p.final) for p in got] == [("2026-03", True), ("2026-04", True)]
    got = periods(a, at(2026, 5, 1) + 1)
    assert [(p.label, p.final) for p in got] == [
        ("2026-03", True), ("2026-04", True), ("2026-05", False),
    ]  # fmt: skip


def test_no_periods_before_the_term_begins() -> None:
    a = agreement(at(2026, 3, 15))
    assert periods(a, at(2026, 2, 10)) == []
    assert periods(a, at(2025, 12, 31)) == []


def test_no_periods_before_the_term_begins_in_its_first_month() -> None:
    a = agreement(at(2026, 3, 15))
    assert periods(a, at(2026, 3, 10)) == []
    assert periods(a, at(2026, 3, 15) - 1) == []


def test_periods_stop_at_the_term_s_end() -> None:
    # Ends at a month's start: that month is not a period.
    a = agreement(at(2026, 3, 15), at(2026, 6, 1))
    got = periods(a, at(2026, 9, 20))
    assert [(p.label, p.final) for p in got] == [
        ("2026-03", True), ("2026-04", True), ("2026-05", True),
    ]  # fmt: skip
    # Ends mid-month: the month is the last period, final once the term has ended.
    b = agreement(at(2026, 3, 15), at(2026, 6, 10, 12))
    got = periods(b, at(2026, 6, 20))
    assert [p.label for p in got] == ["2026-03", "2026-04", "2026-05", "2026-06"]
    assert got[-1] == Period("2026-06", "month", at(2026, 6, 1), at(2026, 7, 1), True)
    # Before its end the last month is under way: not final.
    got = periods(b, at(2026, 6, 5))
    assert got[-1] == Period("2026-06", "month", at(2026, 6, 1), at(2026, 7, 1), False)


def test_periods_go_on_through_renewals() -> None:
    a = agreement(at(2026, 1, 1), at(2026, 4, 1), renewal="quarter")
    got = periods(a, at(2026, 8, 15))
    assert [p.label for p in got] == [f"2026-{m:02d}" for m in range(1, 9)]
    assert [p.final for p in got] == [True] * 7 + [False]


def test_quarterly_and_yearly_periods() -> None:
    q = agreement(at(2026, 2, 10), reporting="quarter")
    got = periods(q, at(2026, 8, 1))
    assert got == [
        Period("2026-Q1", "quarter", at(2026, 1, 1), at(2026, 4, 1), True),
        Period("2026-Q2", "quarter", at(2026, 4, 1), at(2026, 7, 1), True),
        Period("2026-Q3", "quarter", at(2026, 7, 1), at(2026, 10, 1), False),
    ]
    y = agreement(at(2025, 6, 1), reporting="year")
    got = periods(y, at(2026, 2, 1))
    assert got == [
        Period("2025", "year", at(2025, 1, 1), at(2026, 1, 1), True),
        Period("2026", "year", at(2026, 1, 1), at(2027, 1, 1), False),
    ]


def test_periods_are_cut_in_the_agreement_s_zone() -> None:
    utc = ZoneInfo("UTC")
    # 2026-03-31T23:30Z is April in Berlin, March in UTC.
    start = at(2026, 3, 31, 23, 30, tz=utc)
    berlin = periods(agreement(start), at(2026, 4, 10, tz=utc))
    assert [p.label for p in berlin] == ["2026-04"]
    assert berlin[0].start == at(2026, 4, 1)
    in_utc = periods(agreement(start, tz="UTC"), at(2026, 4, 10, tz=utc))
    assert [p.label for p in in_utc] == ["2026-03", "2026-04"]
    assert in_utc[0].start == at(2026, 3, 1, tz=utc)


# -- against a calendar walked day by day --------------------------------------------------------


def _month_starts(lo: date, hi: date, step: int) -> list[date]:
    """First days of the calendar periods (``step`` months long) from the one holding ``lo``
    to the one holding ``hi``, by walking the calendar day by day."""
    out: list[date] = []
    d = lo
    while d <= hi:
        first = date(d.year, (d.month - 1) // step * step + 1, 1)
        if not out or out[-1] != first:
            out.append(first)
        d += timedelta(days=1)
    return out


instants = st.integers(at(2025, 1, 1), at(2029, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    instants,
    st.one_of(st.none(), st.integers(1, 800 * D)),
    st.sampled_from([None, "month", "quarter", "year"]),
    st.sampled_from(["month", "quarter", "year"]),
    st.integers(1, 1500 * D),
)
def test_periods_against_the_calendar(
    start: int, length: int | None, renewal: str | None, reporting: str, ahead: int
) -> None:
    until = None if length is None else start + length
    a = agreement(start, until, renewal=renewal, reporting=reporting)
    now = start + ahead
    t = term(a, now)
    assert t.start == start
    if until is None:
        assert t.end is None
    elif renewal is None:
        assert t.end == until and t.next_renewal is None
    else:
        assert t.end is not None and t.end > now and t.next_renewal == t.end
        assert t.end >= until
    got = periods(a, now)
    stop = now if t.end is None else min(now, t.end)
    step = {"month": 1, "quarter": 3, "year": 12}[reporting]
    first = datetime.fromtimestamp(start / 1000, BERLIN).date()
    last = datetime.fromtimestamp((stop - 1) / 1000, BERLIN).date()
    starts = _month_starts(first, last, step)
    assert [p.start for p in got] == [at(d.year, d.month, 1) for d in starts]
    for p, nxt in zip(got, got[1:], strict=False):
        assert p.end == nxt.start
    for p in got:
        assert p.kind == reporting
        assert p.label == label(reporting, p.start, "Europe/Berlin")
        assert p.start < stop
        assert p.final == (p.end <= now or (t.end is not None and t.end <= now))
    assert len({p.label for p in got}) == len(got)
    assert got[0].start <= start < got[0].end
    assert got[-1].end >= stop


# -- the credit cap ------------------------------------------------------------------------------


def test_capped() -> None:
    assert capped([], None) == (Decimal(0), False)
    assert capped([Decimal(10), Decimal(25)], None) == (Decimal(35), False)
    assert capped([Decimal(10), Decimal(25)], Decimal(30)) == (Decimal(30), True)
    assert capped([Decimal(10), Decimal(20)], Decimal(30)) == (Decimal(30), False)  # at the cap
    # Never more than the whole charge, cap or none.
    assert capped([Decimal(60), Decimal(60)], None) == (Decimal(100), True)
    assert capped([Decimal(100)], None) == (Decimal(100), False)
    assert capped([Decimal("2.5")], Decimal(30)) == (Decimal("2.5"), False)
    assert capped([Decimal("0.1"), Decimal("0.2")], Decimal("0.3")) == (Decimal("0.3"), False)
    assert capped([], Decimal(30)) == (Decimal(0), False)


def test_an_agreement_in_utc() -> None:
    utc = ZoneInfo("UTC")
    a = agreement(at(2026, 1, 1, tz=utc), tz="UTC")
    got = periods(a, at(2026, 2, 1, 0, 1, tz=utc))
    assert [(p.label, p.start, p.end, p.final) for p in got] == [
        ("2026-01", at(2026, 1, 1, tz=utc), at(2026, 2, 1, tz=utc), True),
        ("2026-02", at(2026, 2, 1, tz=utc), at(2026, 3, 1, tz=utc), False),
    ]
