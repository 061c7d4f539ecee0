"""[[slo]] and its service hours (uptimed.config.slos, uptimed.config.service_hours)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from tests.config.documents import (
    SL,
    SLO_TABLE,
    TWO,
    error,
    load,
    slo,
)
from uptimed.config import summarize
from uptimed.model.config import (
    SLO,
    CreditTier,
    LatencyObjective,
    Policy,
    ServiceHours,
)


def test_slo_defaults() -> None:
    (s,) = load(slo()).slos
    assert s == SLO(
        id="avail",
        target="web",
        objective=Decimal("99.9"),
        window=30 * 86400.0,
        period=None,
        timezone="UTC",
        effective_from=None,
        effective_until=None,
        customer=None,
        latency=None,
        credits=(),
        service_hours=None,
        policy=Policy(unknown="exclude", maintenance="exclude"),
        min_coverage=Decimal(90),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90", "90"), ("0", "0"), ("0.0", "0.0"), ("-0.0", "0.0"), ("100", "100"), ("100.0", "100.0"),
     ("99.9", "99.9"), ("1.5", "1.5"), ("50", "50"), ("12.345", "12.345")],
)  # fmt: skip
def test_min_coverage_is_the_exact_decimal_written(text: str, expected: str) -> None:
    s = load(slo(min_coverage=text)).slos[0]
    assert isinstance(s.min_coverage, Decimal) and str(s.min_coverage) == expected
    assert s.min_coverage == Decimal(expected)


def test_min_coverage_other_than_the_default_is_in_the_summary() -> None:
    assert "min coverage" not in summarize(load(slo()))
    assert "min coverage" not in summarize(load(slo(min_coverage="90.0")))
    assert summarize(load(slo(min_coverage="50"))).endswith(
        "avail: web >= 99.9% over 30d, min coverage 50%"
    )
    assert summarize(load(slo(min_coverage="0"))).endswith(", min coverage 0%")


@pytest.mark.parametrize(
    "text", ["99.9", "99.99", "99.95", "99.999", "99.0", "95", "90.5", "12.34567", "99.9999999"]
)
def test_objective_is_the_exact_decimal_written(text: str) -> None:
    objective = load(slo(objective=text)).slos[0].objective
    assert isinstance(objective, Decimal)
    assert objective == Decimal(text) and str(objective) == text


def test_objective_is_not_the_binary_float() -> None:
    objective = load(slo(objective="99.9")).slos[0].objective
    assert objective == Decimal("99.9") != Decimal(99.9)  # noqa: RUF032 - 99.900000000000005...
    assert objective * 10 == 999


def test_slo_every_option() -> None:
    (s,) = load(
        slo(
            target='"stack"',
            objective="99.95",
            window='"7d"',
            period='"Quarter"',
            timezone='"Europe/Berlin"',
            effective_from="2026-01-01T00:00:00+01:00",
            effective_until='"2027-01-01T00:00:00Z"',
            customer='"ACME Corp"',
            latency='{ threshold = "300ms", objective = 99.0 }',
            credits=(
                "[{ below = 99.0, credit = 25 }, { below = 99.95, credit = 10 }, "
                "{ below = 95, credit = 100.5 }, { below = 100, credit = 0 }]"
            ),
            service_hours='{ days = "mon-fri", from = "08:00", to = "18:00" }',
            policy='{ unknown = "DOWN", maintenance = "up" }',
        )
    ).slos
    assert (s.target, s.objective, s.window, s.period) == (
        "stack",
        Decimal("99.95"),
        7 * 86400,
        "quarter",
    )
    assert s.timezone == "Europe/Berlin" and s.customer == "ACME Corp"
    assert s.effective_from == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert s.effective_until == datetime(2027, 1, 1, tzinfo=UTC)
    assert s.effective_from.utcoffset() == timedelta(0)
    assert s.latency == LatencyObjective(threshold=0.3, objective=Decimal("99.0"))
    assert s.credits == (  # sorted by below, descending
        CreditTier(below=Decimal(100), credit=Decimal(0)),
        CreditTier(below=Decimal("99.95"), credit=Decimal(10)),
        CreditTier(below=Decimal("99.0"), credit=Decimal(25)),
        CreditTier(below=Decimal(95), credit=Decimal("100.5")),
    )
    assert s.service_hours == ServiceHours(
        days=(0, 1, 2, 3, 4), start=time(8, 0), end=time(18, 0), timezone="Europe/Berlin"
    )  # the SLO's time zone when service_hours has none
    assert s.policy == Policy(unknown="down", maintenance="up")


def test_slo_window_and_period() -> None:
    s = load(slo(window=None, period='"month"')).slos[0]
    assert (s.window, s.period) == (None, "month")
    s = load(slo(period='"week"')).slos[0]
    assert (s.window, s.period) == (30 * 86400, "week")
    assert load(slo(window='"1s"')).slos[0].window == 1


def test_slo_target_can_be_a_service() -> None:
    assert load(slo(target='"stack"')).slos[0].target == "stack"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-04T02:00:00Z", datetime(2026, 10, 4, 2, 0, tzinfo=UTC)),
        ("2026-10-04T02:00:00+02:00", datetime(2026, 10, 4, 0, 0, tzinfo=UTC)),
        ("2026-10-04T02:00:00.5-05:30", datetime(2026, 10, 4, 7, 30, 0, 500000, tzinfo=UTC)),
        ('"2026-10-04T02:00:00Z"', datetime(2026, 10, 4, 2, 0, tzinfo=UTC)),
        ('"2026-10-04t02:00:00z"', datetime(2026, 10, 4, 2, 0, tzinfo=UTC)),
        ('"2026-10-04 02:00:00+02:00"', datetime(2026, 10, 4, 0, 0, tzinfo=UTC)),
        (
            '"2026-10-04T02:00:00.123456789-00:00"',
            datetime(2026, 10, 4, 2, 0, 0, 123456, tzinfo=UTC),
        ),
    ],
)
def test_instants_are_stored_in_utc(value: str, expected: datetime) -> None:
    s = load(slo(effective_from=value)).slos[0]
    assert s.effective_from == expected and s.effective_from.tzinfo == UTC


SLO_ERRORS = [
    ({"target": None}, f'{SL}: missing required key "target" (a monitor or service id)'),
    (
        {"target": '"stak"'},
        f'{SL}.target: "stak" is not a monitor or service id (did you mean "stack"?)',
    ),
    ({"target": '"zzz"'}, f'{SL}.target: "zzz" is not a monitor or service id'),
    ({"target": "1"}, f"{SL}.target: expected a string (a monitor or service id), found integer 1"),
    ({"objective": None}, f'{SL}: missing required key "objective" (in percent, e.g. 99.9)'),
    (
        {"objective": "100"},
        f"{SL}.objective: 100 is out of range (allowed: more than 0, less than 100, in percent)",
    ),
    (
        {"objective": "100.0"},
        f"{SL}.objective: 100.0 is out of range (allowed: more than 0, less than 100, in percent)",
    ),
    (
        {"objective": "0"},
        f"{SL}.objective: 0 is out of range (allowed: more than 0, less than 100, in percent)",
    ),
    (
        {"objective": "-99.9"},
        f"{SL}.objective: -99.9 is out of range (allowed: more than 0, less than 100, in percent)",
    ),
    (
        {"objective": "0.999"},
        f"{SL}.objective: 0.999 looks like a ratio: the objective is in percent (write 99.9)",
    ),
    (
        {"objective": "1"},
        f"{SL}.objective: 1 looks like a ratio: the objective is in percent (e.g. 99.9, not 0.999)",
    ),
    (
        {"objective": '"99.9"'},
        f'{SL}.objective: expected a number in percent such as 99.9, found string "99.9" (write '
        "99.9 without quotes)",
    ),
    (
        {"objective": '"99.9%"'},
        f'{SL}.objective: expected a number in percent such as 99.9, found string "99.9%" (write '
        "99.9 without quotes or %)",
    ),
    (
        {"objective": "true"},
        f"{SL}.objective: expected a number in percent such as 99.9, found boolean true",
    ),
    ({"objective": "nan"}, f"{SL}.objective: nan is not a finite number"),
    ({"objective": "inf"}, f"{SL}.objective: inf is not a finite number"),
    (
        {"window": None},
        f'{SL}: missing "window" or "period": give a rolling window (e.g. window = "30d"), a '
        'calendar period (e.g. period = "month"), or both',
    ),
    ({"window": '"500ms"'}, f'{SL}.window: "500ms" is below the minimum window of 1s'),
    (
        {"window": '"30 days"'},
        f'{SL}.window: "30 days" is not a duration: no spaces allowed (examples: "30s", "5m", '
        '"1h30m")',
    ),
    (
        {"period": '"monthly"'},
        f'{SL}.period: "monthly" is not a calendar period (allowed: week, month, quarter, year; '
        'did you mean "month"?)',
    ),
    (
        {"period": '"day"'},
        f'{SL}.period: "day" is not a calendar period (allowed: week, month, quarter, year)',
    ),
    (
        {"timezone": '"Europe/Berln"'},
        f'{SL}.timezone: "Europe/Berln" is not an IANA time zone (did you mean "Europe/Berlin"?)',
    ),
    (
        {"timezone": '"europe/berlin"'},
        f'{SL}.timezone: "europe/berlin" is not an IANA time zone (did you mean "Europe/Berlin"?)',
    ),
    (
        {"timezone": '"New York"'},
        f'{SL}.timezone: "New York" is not an IANA time zone (did you mean "America/New_York"?)',
    ),
    (
        {"timezone": '"+02:00"'},
        f'{SL}.timezone: "+02:00" is not an IANA time zone (use a zone name such as '
        '"Europe/Berlin" or "UTC", not an offset)',
    ),
    (
        {"timezone": '"CEST"'},
        f'{SL}.timezone: "CEST" is not an IANA time zone (an abbreviation is not a zone: use a '
        'name such as "Europe/Berlin")',
    ),
    ({"timezone": '"est"'}, f'{SL}.timezone: "est" is not an IANA time zone (did you mean "EST"?)'),
    (
        {"timezone": '"Qqqqq/Zzzz"'},
        f'{SL}.timezone: "Qqqqq/Zzzz" is not an IANA time zone (examples: "UTC", "Europe/Berlin", '
        '"America/New_York")',
    ),
    (
        {"timezone": '"../etc/passwd"'},
        f'{SL}.timezone: "../etc/passwd" is not an IANA time zone (examples: "UTC", '
        '"Europe/Berlin", "America/New_York")',
    ),
    (
        {"timezone": '""'},
        f'{SL}.timezone: "" is not an IANA time zone (examples: "UTC", "Europe/Berlin", '
        '"America/New_York")',
    ),
    (
        {"timezone": "1"},
        f'{SL}.timezone: expected a string (an IANA time zone such as "Europe/Berlin"), found '
        "integer 1",
    ),
    (
        {"effective_from": "2026-01-01T00:00:00"},
        f'{SL}.effective_from: 2026-01-01T00:00:00 has no UTC offset: add "Z" for UTC or an offset '
        'such as "+02:00" (e.g. 2026-01-01T00:00:00Z)',
    ),
    (
        {"effective_from": '"2026-01-01T00:00:00"'},
        f'{SL}.effective_from: "2026-01-01T00:00:00" has no UTC offset: add "Z" for UTC or an '
        'offset such as "+02:00" (e.g. "2026-01-01T00:00:00Z")',
    ),
    (
        {"effective_from": "2026-01-01"},
        f"{SL}.effective_from: expected a date-time with a UTC offset (examples: "
        "2026-10-04T02:00:00Z, "
        '"2026-10-04T02:00:00+02:00"), found date 2026-01-01 (add a time and offset: '
        "2026-01-01T00:00:00Z)",
    ),
    (
        {"effective_from": '"2026-01-01"'},
        f'{SL}.effective_from: "2026-01-01" is a date without a time: write "2026-01-01T00:00:00Z" '
        '(or with an offset such as "+02:00" instead of "Z")',
    ),
    (
        {"effective_from": '"next monday"'},
        f'{SL}.effective_from: "next monday" is not an RFC 3339 date-time (examples: '
        '2026-10-04T02:00:00Z, "2026-10-04T02:00:00+02:00")',
    ),
    (
        {"effective_from": '"2026-13-01T00:00:00Z"'},
        f'{SL}.effective_from: "2026-13-01T00:00:00Z" is not a valid date-time: month must be in '
        "1..12",
    ),
    (
        {"effective_from": '"2026-01-01T00:00:00+01:60"'},
        f'{SL}.effective_from: "2026-01-01T00:00:00+01:60" is not a valid date-time: offset '
        "minutes must be in 0..59",
    ),
    (
        {"effective_from": '"0001-01-01T00:00:00+01:00"'},
        f'{SL}.effective_from: "0001-01-01T00:00:00+01:00" is out of range (years 1 to 9999 in '
        "UTC)",
    ),
    (
        {"effective_from": "08:00:00"},
        f"{SL}.effective_from: expected a date-time with a UTC offset (examples: "
        "2026-10-04T02:00:00Z, "
        '"2026-10-04T02:00:00+02:00"), found time 08:00:00',
    ),
    (
        {
            "effective_from": '"2027-01-01T00:00:00Z"',
            "effective_until": "2027-01-01T01:00:00+01:00",
        },
        f"{SL}.effective_until: 2027-01-01T01:00:00+01:00 is not after effective_from "
        '("2027-01-01T00:00:00Z")',
    ),
    ({"customer": '""'}, f"{SL}.customer: is empty (leave the key out instead)"),
    ({"customer": "1"}, f"{SL}.customer: expected a string, found integer 1"),
    ({"customer": '"a\\u0007"'}, f'{SL}.customer: "a\\x07" contains a control character'),
    ({"custmer": '"x"'}, f'{SL}: unknown key "custmer" (did you mean "customer"?)'),
    ({"objetive": "99"}, f'{SL}: unknown key "objetive" (did you mean "objective"?)'),
    ({"name": '"x"'}, f'{SL}: unknown key "name"'),
    (
        {"latency": '"300ms"'},
        f'{SL}.latency: expected a table such as {{ threshold = "300ms", objective = 99.0 }}, '
        'found string "300ms"',
    ),
    (
        {"latency": "{ objective = 99.0 }"},
        f'{SL}.latency: missing required key "threshold" (a duration such as "300ms")',
    ),
    (
        {"latency": '{ threshold = "300ms" }'},
        f'{SL}.latency: missing required key "objective" (in percent, e.g. 99.0)',
    ),
    (
        {"latency": '{ threshold = "0ms", objective = 99.0 }'},
        f'{SL}.latency.threshold: "0ms": the threshold must be greater than 0',
    ),
    (
        {"latency": "{ threshold = 0.3, objective = 99.0 }"},
        f'{SL}.latency.threshold: expected a duration string such as "30s", found float 0.3 '
        '(durations are strings with a unit: "0.3s")',
    ),
    (
        {"latency": '{ threshold = "300ms", objective = 100 }'},
        f"{SL}.latency.objective: 100 is out of range (allowed: more than 0, less than 100, in "
        "percent)",
    ),
    (
        {"latency": '{ threshold = "300ms", objective = 0.99 }'},
        f"{SL}.latency.objective: 0.99 looks like a ratio: the latency objective is in percent "
        "(write 99)",
    ),
    (
        {"latency": '{ threshold = "300ms", objective = 99, thresold = "1s" }'},
        f'{SL}.latency: unknown key "thresold" (did you mean "threshold"?)',
    ),
    (
        {"credits": "{ below = 99.9, credit = 10 }"},
        f"{SL}.credits: expected an array of tables such as [{{ below = 99.9, credit = 10 }}], "
        "found table",
    ),
    (
        {"credits": "[10]"},
        f"{SL}.credits[0]: expected a table such as {{ below = 99.9, credit = 10 }}, found integer "
        "10",
    ),
    (
        {"credits": "[{ credit = 10 }]"},
        f'{SL}.credits[0]: missing required key "below" (the attainment, in percent, under which '
        "the tier applies)",
    ),
    (
        {"credits": "[{ below = 99.9 }]"},
        f'{SL}.credits[0]: missing required key "credit" (percent of the charge)',
    ),
    (
        {"credits": "[{ below = 0, credit = 10 }]"},
        f"{SL}.credits[0].below: 0 is out of range (allowed: more than 0, at most 100, in percent)",
    ),
    (
        {"credits": "[{ below = 100.5, credit = 10 }]"},
        f"{SL}.credits[0].below: 100.5 is out of range (allowed: more than 0, at most 100, in "
        "percent)",
    ),
    (
        {"credits": "[{ below = 0.95, credit = 10 }]"},
        f"{SL}.credits[0].below: 0.95 looks like a ratio: below is in percent (write 95)",
    ),
    (
        {"credits": "[{ below = 99.9, credit = -1 }]"},
        f"{SL}.credits[0].credit: -1 is out of range (allowed: 0 to 1000, in percent)",
    ),
    (
        {"credits": "[{ below = 99.9, credit = 1000.5 }]"},
        f"{SL}.credits[0].credit: 1000.5 is out of range (allowed: 0 to 1000, in percent)",
    ),
    (
        {"credits": '[{ below = 99.9, credit = "10%" }]'},
        f'{SL}.credits[0].credit: expected a number in percent such as 10, found string "10%" '
        "(write 10 without quotes or %)",
    ),
    (
        {
            "credits": "[{ below = 99, credit = 10 }, { below = 95, credit = 50 }, "
            "{ below = 99.0, credit = 25 }]"
        },
        f"{SL}.credits[2].below: 99.0 is used twice (first at credits[0]): each tier needs its own "
        "threshold",
    ),
    (
        {"credits": "[{ below = 99, credit = 10, refund = 1 }]"},
        f'{SL}.credits[0]: unknown key "refund" (allowed: below, credit)',
    ),
    (
        {"policy": '{ unknown = "exlude" }'},
        f'{SL}.policy.unknown: "exlude" is not a policy for unknown time (allowed: exclude, down, '
        'up; did you mean "exclude"?)',
    ),
    (
        {"policy": '{ maintenance = "down" }'},
        f'{SL}.policy.maintenance: "down" is not a policy for maintenance time (allowed: exclude, '
        "up)",
    ),
    (
        {"policy": '{ unknwon = "up" }'},
        f'{SL}.policy: unknown key "unknwon" (did you mean "unknown"?)',
    ),
    (
        {"policy": '"exclude"'},
        f'{SL}.policy: expected a table such as {{ unknown = "exclude", maintenance = "exclude" '
        '}, found string "exclude"',
    ),
    *(
        (
            {"min_coverage": text},
            f"{SL}.min_coverage: {text} is out of range (allowed: 0 to 100, in percent; 0 for no "
            "minimum)",
        )
        for text in ("100.5", "101", "-1", "-0.5")
    ),
    (
        {"min_coverage": "0.9"},
        f"{SL}.min_coverage: 0.9 looks like a ratio: the minimum coverage is in percent (write 90)",
    ),
    (
        {"min_coverage": "0.125"},
        f"{SL}.min_coverage: 0.125 looks like a ratio: the minimum coverage is in percent (write "
        "12.5)",
    ),
    (
        {"min_coverage": "1"},
        f"{SL}.min_coverage: 1 looks like a ratio: the minimum coverage is in percent (e.g. 90, "
        "not 0.9)",
    ),
    (
        {"min_coverage": '"90"'},
        f'{SL}.min_coverage: expected a number in percent such as 90, found string "90" (write 90 '
        "without quotes)",
    ),
    (
        {"min_coverage": '"90%"'},
        f'{SL}.min_coverage: expected a number in percent such as 90, found string "90%" (write 90 '
        "without quotes or %)",
    ),
    (
        {"min_coverage": "true"},
        f"{SL}.min_coverage: expected a number in percent such as 90, found boolean true",
    ),
    ({"min_coverage": "nan"}, f"{SL}.min_coverage: nan is not a finite number"),
    ({"min_coverage": "inf"}, f"{SL}.min_coverage: inf is not a finite number"),
    ({"min_coverge": "90"}, f'{SL}: unknown key "min_coverge" (did you mean "min_coverage"?)'),
]


@pytest.mark.parametrize(("options", "message"), SLO_ERRORS)
def test_slo_errors(options: dict[str, str | None], message: str) -> None:
    assert error(slo(**options)) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (TWO + SLO_TABLE + SLO_TABLE, 'c.toml: slo[1].id: "avail" is used twice (first at slo[0])'),
        (
            TWO + SLO_TABLE.replace('id = "avail"\n', ""),
            'c.toml: slo[0]: missing required key "id"',
        ),
        (
            TWO + '[slo]\nid = "x"\n',
            "c.toml: slo: expected an array of tables, found table (write [[slo]], not [slo])",
        ),
        (
            TWO + SLO_TABLE.replace('target = "web"', 'target = "stack"'),
            f'{SL}.target: "stack" is not a monitor or service id',
        ),
        (
            "monitor = 1\n" + SLO_TABLE,  # monitors unknown: any target passes, one error
            "c.toml: monitor: expected an array of tables ([[monitor]]), found integer 1",
        ),
    ],
)
def test_slo_table_errors(text: str, message: str) -> None:
    assert error(text) == message


def test_slo_ids_may_repeat_monitor_ids() -> None:
    """SLOs are their own namespace (the API lists them apart)."""
    assert load(slo(id='"web"')).slos[0].id == "web"


# service hours -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("mon,wed,fri", (0, 2, 4)),
        ("sat-sun", (5, 6)),
        ("sun", (6,)),
        ("mon-sun", (0, 1, 2, 3, 4, 5, 6)),
        ("Monday-Friday", (0, 1, 2, 3, 4)),
        ("fri, mon - wed", (0, 1, 2, 4)),
        ("SAT,sun", (5, 6)),
        ("thu-thu", (3,)),
    ],
)
def test_service_hours_days(days: str, expected: tuple[int, ...]) -> None:
    hours = load(slo(service_hours=f'{{ days = "{days}" }}')).slos[0].service_hours
    assert hours == ServiceHours(days=expected, start=time(0, 0), end=time(0, 0), timezone="UTC")


@pytest.mark.parametrize(
    ("table", "start", "end"),
    [
        ('from = "08:00", to = "18:00"', time(8, 0), time(18, 0)),
        ('from = "8:30", to = "24:00"', time(8, 30), time(0, 0)),  # 24:00: midnight at day end
        ('from = "00:00", to = "23:59"', time(0, 0), time(23, 59)),
        ('from = "22:00"', time(22, 0), time(0, 0)),
        ('to = "12:00"', time(0, 0), time(12, 0)),
    ],
)
def test_service_hours_times(table: str, start: time, end: time) -> None:
    hours = load(slo(service_hours=f"{{ {table} }}")).slos[0].service_hours
    assert hours is not None
    assert (hours.days, hours.start, hours.end) == ((0, 1, 2, 3, 4, 5, 6), start, end)


def test_service_hours_time_zone() -> None:
    own = '{ days = "mon-fri", timezone = "America/New_York" }'
    s = load(slo(timezone='"Europe/Berlin"', service_hours=own)).slos[0]
    assert (s.timezone, s.service_hours.timezone) == ("Europe/Berlin", "America/New_York")
    s = load(slo(timezone='"Asia/Tokyo"', service_hours='{ days = "mon" }')).slos[0]
    assert s.service_hours.timezone == "Asia/Tokyo"


SH = f"{SL}.service_hours"
DAY_EXAMPLES = '(examples: "mon-fri", "mon,wed,fri", "sat-sun")'


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "{}",
            f'{SH}: is empty: give days and/or hours, e.g. {{ days = "mon-fri", from = "08:00", to '
            '= "18:00" }',
        ),
        (
            '"mon-fri"',
            f'{SH}: expected a table such as {{ days = "mon-fri", from = "08:00", to = "18:00" }}, '
            'found string "mon-fri"',
        ),
        (
            '{ days = "mon-fryday" }',
            f'{SH}.days: "mon-fryday": "fryday" is not a day (use mon, tue, wed, thu, fri, sat, '
            'sun; did you mean "friday"?)',
        ),
        (
            '{ days = "weekdays" }',
            f'{SH}.days: "weekdays": "weekdays" is not a day (use mon, tue, wed, thu, fri, sat, '
            'sun; write "mon-fri")',
        ),
        (
            '{ days = "Weekend" }',
            f'{SH}.days: "Weekend": "Weekend" is not a day (use mon, tue, wed, thu, fri, sat, sun; '
            'write "sat-sun")',
        ),
        (
            '{ days = "thurs" }',
            f'{SH}.days: "thurs": "thurs" is not a day (use mon, tue, wed, thu, fri, sat, sun; did '
            'you mean "thursday"?)',
        ),
        (
            '{ days = "xyz" }',
            f'{SH}.days: "xyz": "xyz" is not a day (use mon, tue, wed, thu, fri, sat, sun)',
        ),
        (
            '{ days = "fri-mon" }',
            f'{SH}.days: "fri-mon": the range "fri-mon" runs backwards; weeks run mon to sun '
            '(write "fri-sun,mon-mon" to wrap past Sunday)',
        ),
        ('{ days = "mon-fri,fri" }', f'{SH}.days: "mon-fri,fri": fri is named twice'),
        ('{ days = "mon,,tue" }', f'{SH}.days: "mon,,tue" has an empty day name {DAY_EXAMPLES}'),
        (
            '{ days = "mon-tue-wed" }',
            f'{SH}.days: "mon-tue-wed": "mon-tue-wed" is not a day or a range like mon-fri',
        ),
        ('{ days = "" }', f"{SH}.days: is empty: name at least one day {DAY_EXAMPLES}"),
        (
            '{ days = ["mon", "tue"] }',
            f"{SH}.days: expected a string of days {DAY_EXAMPLES}, found array (write one string: "
            '"mon,tue")',
        ),
        (
            '{ from = "8am" }',
            f'{SH}.from: "8am" is not a time of day (allowed: "00:00" to "23:59")',
        ),
        (
            '{ from = "24:00" }',
            f'{SH}.from: "24:00" is not a time of day (allowed: "00:00" to "23:59")',
        ),
        (
            '{ to = "25:00" }',
            f'{SH}.to: "25:00" is not a time of day (allowed: "00:00" to "24:00")',
        ),
        (
            '{ to = "12:60" }',
            f'{SH}.to: "12:60" is not a time of day (allowed: "00:00" to "24:00")',
        ),
        (
            '{ from = "08:00", to = "00:00" }',
            f'{SH}.to: "00:00" is the start of the day: write "24:00" for its end',
        ),
        (
            '{ from = "18:00", to = "08:00" }',
            f'{SH}.to: "08:00" is not after from ("18:00"); hours cannot run past midnight (use '
            '"24:00" for the end of the day)',
        ),
        (
            '{ from = "08:00", to = "08:00" }',
            f'{SH}.to: "08:00" is not after from ("08:00"); hours cannot run past midnight (use '
            '"24:00" for the end of the day)',
        ),
        (
            "{ from = 08:00:00 }",
            f'{SH}.from: expected a "HH:MM" string, e.g. "08:00", found time 08:00:00 (write it as '
            'a string: "08:00")',
        ),
        (
            "{ to = 18 }",
            f'{SH}.to: expected a "HH:MM" string, e.g. "08:00" or "24:00", found integer 18',
        ),
        (
            '{ days = "mon", timezone = "Mars/Olympus" }',
            f'{SH}.timezone: "Mars/Olympus" is not an IANA time zone (examples: "UTC", '
            '"Europe/Berlin", "America/New_York")',
        ),
        (
            '{ days = "mon", start = "08:00" }',
            f'{SH}: unknown key "start" (allowed: days, from, to, timezone)',
        ),
    ],
)
def test_service_hours_errors(table: str, message: str) -> None:
    assert error(slo(service_hours=table)) == message
