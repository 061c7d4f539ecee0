"""[[maintenance]]: one-off and recurring windows; rrule and cron are checked by
uptimed.core.recurrence (uptimed.config.maintenance)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.config.documents import (
    MW,
    SERVICE,
    SL,
    SLO_TABLE,
    SVC,
    TWO,
    WEEKLY,
    edit,
    error,
    errors,
    load,
    once,
    weekly,
)
from uptimed.core import recurrence as maintenance_module
from uptimed.core.times import quote
from uptimed.model.config import (
    Maintenance,
    Recurrence,
)


def test_recurring_window() -> None:
    (w,) = load(weekly(reason='"OS patching"', services='["stack"]')).maintenance
    assert w == Maintenance(
        id="sunday",
        monitors=("web",),
        services=("stack",),
        reason="OS patching",
        start=None,
        end=None,
        recurrence=Recurrence(
            rrule="FREQ=WEEKLY;BYDAY=SU;BYHOUR=2",
            cron=None,
            duration=1800.0,
            timezone="Europe/Berlin",
        ),
    )


def test_cron_window() -> None:
    (w,) = load(weekly(rrule=None, cron='"0 2 * * 0"', timezone='"America/New_York"')).maintenance
    assert w.recurrence == Recurrence(
        rrule=None, cron="0 2 * * 0", duration=1800.0, timezone="America/New_York"
    )


def test_one_off_window_is_stored_in_utc() -> None:
    (w,) = load(once(reason='"upgrade"')).maintenance
    assert w == Maintenance(
        id="sunday",
        monitors=(),
        services=("stack",),
        reason="upgrade",
        start=datetime(2026, 10, 4, 0, 0, tzinfo=UTC),
        end=datetime(2026, 10, 4, 3, 0, tzinfo=UTC),
        recurrence=None,
    )
    assert w.start.tzinfo == UTC and w.end.tzinfo == UTC


@pytest.mark.parametrize(
    ("rule", "stored"),
    [
        ("FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"),
        ("RRULE:FREQ=DAILY;BYHOUR=3;BYMINUTE=30", "FREQ=DAILY;BYHOUR=3;BYMINUTE=30"),
        ("freq=monthly;byday=1sa;byhour=4", "freq=monthly;byday=1sa;byhour=4"),
        ("FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=22", "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=22"),
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;UNTIL=20271231T235959Z", None),
        ("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=23", None),
        ("FREQ=HOURLY;INTERVAL=6", None),
    ],
)
def test_rrule_forms(rule: str, stored: str | None) -> None:
    rec = load(weekly(rrule=f'"{rule}"')).maintenance[0].recurrence
    assert rec is not None and rec.rrule == (stored or rule)
    maintenance_module.validate_recurrence(rec)  # and the expander takes it


@pytest.mark.parametrize(
    "cron",
    [
        "0 2 * * 0",
        "30 1 * * sun",
        "0 2 * * 7",
        "*/15 3 * * mon-fri",
        "0 0 L * *",
        "0 4 1 */3 *",
        "0 2 29 2 *",
    ],
)
def test_cron_forms(cron: str) -> None:
    rec = load(weekly(rrule=None, cron=f'"{cron}"')).maintenance[0].recurrence
    assert rec is not None and rec.cron == cron
    maintenance_module.validate_recurrence(rec)


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [('"1ms"', 0.001), ('"30m"', 1800), ('"31d"', 31 * 86400), ('"4w3d"', 31 * 86400)],
)
def test_durations_of_windows(duration: str, seconds: float) -> None:
    assert load(weekly(duration=duration)).maintenance[0].recurrence.duration == seconds


def _dateutil_says(rule: str) -> str:
    """What dateutil says about ``rule`` (its wording differs between versions)."""
    from dateutil.rrule import rrulestr

    try:
        rrulestr(rule, dtstart=datetime(2000, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")))
    except ValueError as e:
        return quote(str(e), 200)
    except Exception as e:  # noqa: BLE001 - e.g. TypeError without FREQ
        return quote(f"{type(e).__name__}: {e}", 200)
    pytest.skip(f"this dateutil accepts {rule!r} (the loader's own range checks apply)")


def _croniter_says(expr: str) -> str:
    from croniter import croniter

    with pytest.raises(ValueError) as e:
        croniter(expr)
    return quote(str(e.value), 200)


@pytest.mark.parametrize(
    ("rule", "tail"),
    [
        ("FREQ=WEEKLY;BYDAY=XX", ""),
        ("FREQ=FORTNIGHTLY", ""),
        ("BYDAY=SU;BYHOUR=2", " (FREQ is required, e.g. FREQ=WEEKLY)"),
        ("FREQ=DAILY;BYHOUR=25", ""),
        ("FREQ=DAILY;FOO=1", ""),
        (
            "FREQ=DAILY;UNTIL=20271231T235959",
            ' (write UNTIL in UTC with a "Z", e.g. UNTIL=20271231T235959Z)',
        ),
        (
            "FREQ=DAILY;UNTIL=20271231",
            ' (write UNTIL in UTC with a "Z", e.g. UNTIL=20271231T235959Z)',
        ),
        ("FREQ=DAILY;;BYHOUR=1", ""),
    ],
)
def test_rrule_errors_quote_dateutil(rule: str, tail: str) -> None:
    said = _dateutil_says(rule)
    assert error(weekly(rrule=f'"{rule}"')) == (
        f'{MW}.rrule: "{rule}" is not a valid RRULE: dateutil says {said}{tail}'
    )


def test_rrule_error_wording_of_the_pinned_dateutil() -> None:
    import dateutil

    if not dateutil.__version__.startswith("4."):
        pytest.skip("message wording of python-dateutil 4")
    assert error(weekly(rrule='"FREQ=WEEKLY;BYDAY=XX"')) == (
        f'{MW}.rrule: "FREQ=WEEKLY;BYDAY=XX" is not a valid RRULE: dateutil says "invalid '
        "'BYDAY': XX\""
    )


NO_DTSTART = (
    "give only the rule's parts (FREQ=...;BYDAY=...), no DTSTART, RDATE or EXDATE: windows start "
    'at the times the rule names, in "timezone"'
)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            '"DTSTART:20260101T020000Z\\nRRULE:FREQ=WEEKLY"',
            f'"DTSTART:20260101T020000Z\\nRRULE:FREQ=WEEKLY": {NO_DTSTART}',
        ),
        (
            '"FREQ=WEEKLY;DTSTART=20260101T020000"',
            f'"FREQ=WEEKLY;DTSTART=20260101T020000": {NO_DTSTART}',
        ),
        ('"EXDATE:20260101T020000Z"', f'"EXDATE:20260101T020000Z": {NO_DTSTART}'),
        (
            '"FREQ=WEEKLY; BYDAY=SU"',
            '"FREQ=WEEKLY; BYDAY=SU": write the rule on one line without spaces, e.g. '
            '"FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"',
        ),
        ('""', 'is empty: give a rule such as "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"'),
        ('"RRULE:"', 'is empty: give a rule such as "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"'),
        ("1", 'expected a string such as "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", found integer 1'),
        (
            '"FREQ=DAILY;COUNT=5"',
            '"FREQ=DAILY;COUNT=5": COUNT is not supported (there is no DTSTART to count from); end '
            "the rule with UNTIL=<UTC time>, e.g. UNTIL=20271231T235959Z",
        ),
        (
            '"FREQ=DAILY;UNTIL=next-year"',
            '"FREQ=DAILY;UNTIL=next-year": UNTIL must be a UTC time such as UNTIL=20271231T235959Z',
        ),
        (
            '"FREQ=DAILY;UNTIL=20271231T235959EST"',
            '"FREQ=DAILY;UNTIL=20271231T235959EST": UNTIL must be a UTC time such as '
            "UNTIL=20271231T235959Z",
        ),
        ('"FREQ=DAILY;FREQ=WEEKLY"', '"FREQ=DAILY;FREQ=WEEKLY": FREQ is given twice'),
        ('"FREQ=DAILY;INTERVAL=0"', '"FREQ=DAILY;INTERVAL=0": INTERVAL=0 must be at least 1'),
        (
            '"FREQ=SECONDLY;INTERVAL=30"',
            '"FREQ=SECONDLY;INTERVAL=30": FREQ=SECONDLY is not supported: a maintenance window '
            "recurs at most every minute",
        ),
        ('"FREQ=DAILY;INTERVAL=-2"', '"FREQ=DAILY;INTERVAL=-2": INTERVAL=-2 must be at least 1'),
        (
            '"FREQ=MONTHLY;BYMONTHDAY=0"',
            '"FREQ=MONTHLY;BYMONTHDAY=0": BYMONTHDAY=0 is out of range (allowed: 1 to 31 or -31 to '
            "-1)",
        ),
        (
            '"FREQ=MONTHLY;BYMONTHDAY=32"',
            '"FREQ=MONTHLY;BYMONTHDAY=32": BYMONTHDAY=32 is out of range (allowed: 1 to 31 or -31 '
            "to -1)",
        ),
        (
            '"FREQ=YEARLY;BYMONTH=1,13"',
            '"FREQ=YEARLY;BYMONTH=1,13": BYMONTH=13 is out of range (allowed: 1 to 12)',
        ),
        (
            '"FREQ=YEARLY;BYWEEKNO=54"',
            '"FREQ=YEARLY;BYWEEKNO=54": BYWEEKNO=54 is out of range (allowed: 1 to 53 or -53 to '
            "-1)",
        ),
        (
            '"FREQ=YEARLY;BYYEARDAY=0"',
            '"FREQ=YEARLY;BYYEARDAY=0": BYYEARDAY=0 is out of range (allowed: 1 to 366 or -366 to '
            "-1)",
        ),
        (
            '"FREQ=WEEKLY;BYDAY=1SU"',
            '"FREQ=WEEKLY;BYDAY=1SU": BYDAY=1SU: a numbered weekday (like 1SU, -1FR) needs '
            "FREQ=MONTHLY or FREQ=YEARLY",
        ),
        (
            '"FREQ=MONTHLY;BYDAY=6SU"',
            '"FREQ=MONTHLY;BYDAY=6SU": BYDAY=6SU: the number must be 1 to 5 or -5 to -1',
        ),
        (
            '"FREQ=MONTHLY;BYDAY=SU(-9)"',
            '"FREQ=MONTHLY;BYDAY=SU(-9)": BYDAY=SU(-9): the number must be 1 to 5 or -5 to -1',
        ),
        (
            '"FREQ=YEARLY;BYDAY=54MO"',
            '"FREQ=YEARLY;BYDAY=54MO": BYDAY=54MO: the number must be 1 to 53 or -53 to -1',
        ),
    ],
)
def test_rrule_errors(rule: str, message: str) -> None:
    assert error(weekly(rrule=rule)) == f"{MW}.rrule: {message}"


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        (
            '"0 2 * *"',
            '"0 2 * *" has 4 fields; cron needs five: minute hour day-of-month month day-of-week '
            '(e.g. "0 2 * * 0")',
        ),
        (
            '"0 0 2 * * 0"',
            '"0 0 2 * * 0" has 6 fields; cron needs five: minute hour day-of-month month '
            'day-of-week (e.g. "0 2 * * 0")',
        ),
        (
            '""',
            '"" has 0 fields; cron needs five: minute hour day-of-month month day-of-week (e.g. "0 '
            '2 * * 0")',
        ),
        (
            '"@daily"',
            '"@daily": give the five fields (minute hour day-of-month month day-of-week), not a '
            'nickname (write "0 0 * * *")',
        ),
        (
            '"@reboot"',
            '"@reboot": give the five fields (minute hour day-of-month month day-of-week), not a '
            "nickname",
        ),
        ('"0 2 30 2 *"', '"0 2 30 2 *" never fires (croniter found no date in 50 years)'),
        ('"0 2 * * 0\\n"', '"0 2 * * 0\\n" contains a control character'),
        ("0", 'expected a string such as "0 2 * * 0", found integer 0'),
    ],
)
def test_cron_errors(cron: str, message: str) -> None:
    assert error(weekly(rrule=None, cron=cron)) == f"{MW}.cron: {message}"


@pytest.mark.parametrize(
    "cron", ["60 2 * * 0", "0 24 * * *", "*/0 * * * *", "0 2 * * 8", "H 2 * * 0", "0 2 * * 5L"]
)
def test_cron_errors_quote_croniter(cron: str) -> None:
    assert error(weekly(rrule=None, cron=f'"{cron}"')) == (
        f'{MW}.cron: "{cron}" is not a valid cron expression: croniter says {_croniter_says(cron)}'
    )


MIXED = (
    "cannot be combined: a window is either one-off (start and end) or recurring (rrule or cron, "
    "with duration and timezone)"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (weekly(start="2026-10-04T02:00:00Z"), f'{MW}: "start" and "rrule" {MIXED}'),
        (once(duration='"1h"'), f'{MW}: "start" and "duration" {MIXED}'),
        (once(start=None, cron='"0 2 * * 0"'), f'{MW}: "end" and "cron" {MIXED}'),
        (weekly(cron='"0 2 * * 0"'), f'{MW}: give "rrule" or "cron", not both'),
        (
            weekly(rrule=None),
            f'{MW}: missing "rrule" or "cron": when the window recurs (e.g. rrule = '
            '"FREQ=WEEKLY;BYDAY=SU;BYHOUR=2" or cron = "0 2 * * 0")',
        ),
        (
            weekly(duration=None),
            f'{MW}: missing required key "duration" (how long each window lasts, e.g. "30m")',
        ),
        (
            weekly(timezone=None),
            f'{MW}: missing required key "timezone" (an IANA zone such as "Europe/Berlin")',
        ),
        (weekly(duration='"0s"'), f'{MW}.duration: "0s": the duration must be greater than 0'),
        (
            weekly(duration='"32d"'),
            f'{MW}.duration: "32d" is too long: a maintenance window lasts at most 31d',
        ),
        (
            weekly(duration='"31d1ms"'),
            f'{MW}.duration: "31d1ms" is too long: a maintenance window lasts at most 31d',
        ),
        (
            weekly(duration="30"),
            f'{MW}.duration: expected a duration string such as "30s", found integer 30 (durations '
            'are strings with a unit: "30s")',
        ),
        (
            weekly(timezone='"Europe/Berlim"'),
            f'{MW}.timezone: "Europe/Berlim" is not an IANA time zone (did you mean '
            '"Europe/Berlin"?)',
        ),
        (
            once(end=None),
            f'{MW}: missing required key "end" (a one-off window needs start and end)',
        ),
        (
            once(start=None),
            f'{MW}: missing required key "start" (a one-off window needs end and start)',
        ),
        (
            once(start="2026-10-04T02:00:00"),
            f'{MW}.start: 2026-10-04T02:00:00 has no UTC offset: add "Z" for UTC or an offset such '
            'as "+02:00" (e.g. 2026-10-04T02:00:00Z)',
        ),
        (
            once(end='"2026-10-04T03:00:00"'),
            f'{MW}.end: "2026-10-04T03:00:00" has no UTC offset: add "Z" for UTC or an offset such '
            'as "+02:00" (e.g. "2026-10-04T03:00:00Z")',
        ),
        (
            once(end='"2026-10-04T00:00:00Z"'),
            f'{MW}.end: "2026-10-04T00:00:00Z" is not after start (2026-10-04T02:00:00+02:00)',
        ),
        (
            once(end="2026-10-03T23:00:00-01:00"),
            f"{MW}.end: 2026-10-03T23:00:00-01:00 is not after start (2026-10-04T02:00:00+02:00)",
        ),
        (
            TWO + SERVICE + '[[maintenance]]\nid = "sunday"\nmonitors = ["web"]\n',
            f'{MW}: missing a schedule: give "start" and "end" for a one-off window, or "rrule" or '
            '"cron" with "duration" and "timezone" for a recurring one',
        ),
        (
            weekly(monitors=None),
            f'{MW}: covers nothing: list the ids it applies to in "monitors" and/or "services"',
        ),
        (
            weekly(monitors="[]", services="[]"),
            f'{MW}: covers nothing: list the ids it applies to in "monitors" and/or "services"',
        ),
        (
            weekly(monitors='["wbe"]'),
            f'{MW}.monitors[0]: "wbe" is not a monitor id (did you mean "web"?)',
        ),
        (
            weekly(monitors='["stack"]'),
            f'{MW}.monitors[0]: "stack" is not a monitor id (it is a service: list it under '
            '"services")',
        ),
        (
            weekly(services='["web"]'),
            f'{MW}.services[0]: "web" is not a service id (it is a monitor: list it under '
            '"monitors")',
        ),
        (
            weekly(services='["stak"]'),
            f'{MW}.services[0]: "stak" is not a service id (did you mean "stack"?)',
        ),
        (
            weekly(services='["stack", "stack"]'),
            f'{MW}.services[1]: "stack" is listed twice (first at [0])',
        ),
        (
            weekly(monitors='["web", "web"]'),
            f'{MW}.monitors[1]: "web" is listed twice (first at [0])',
        ),
        (
            weekly(monitors='"web"'),
            f'{MW}.monitors: expected an array of monitor ids such as ["web", "db"], found string '
            '"web" (write ["web"])',
        ),
        (weekly(reason='""'), f"{MW}.reason: is empty (leave the key out instead)"),
        (weekly(reason="1"), f"{MW}.reason: expected a string, found integer 1"),
        (weekly(reson='"x"'), f'{MW}: unknown key "reson" (did you mean "reason"?)'),
        (
            weekly(until='"x"'),
            f'{MW}: unknown key "until" (allowed: id, monitors, services, reason, start, end, '
            "rrule, cron, duration, timezone)",
        ),
        (
            TWO + WEEKLY + WEEKLY,
            'c.toml: maintenance[1].id: "sunday" is used twice (first at maintenance[0])',
        ),
        (
            TWO + WEEKLY.replace('id = "sunday"\n', ""),
            'c.toml: maintenance[0]: missing required key "id"',
        ),
        (
            TWO + "[maintenance]\n",
            "c.toml: maintenance: expected an array of tables, found table (write [[maintenance]], "
            "not [maintenance])",
        ),
        (
            TWO + WEEKLY.replace('monitors = ["web"]', 'services = ["stack"]'),
            f'{MW}.services[0]: "stack" is not a service id (there are no services)',
        ),
    ],
)
def test_maintenance_errors(text: str, message: str) -> None:
    assert error(text) == message


def test_maintenance_lists_every_mistake() -> None:
    text = (
        TWO
        + SERVICE
        + edit(
            WEEKLY,
            {
                "monitors": '["wbe"]',
                "rrule": '"FREQ=DAILY;COUNT=2"',
                "duration": '"0s"',
                "timezone": '"Mars"',
            },
        )
    )
    assert errors(text) == [
        f'{MW}.monitors[0]: "wbe" is not a monitor id (did you mean "web"?)',
        f'{MW}.timezone: "Mars" is not an IANA time zone (examples: "UTC", "Europe/Berlin", '
        '"America/New_York")',
        f'{MW}.rrule: "FREQ=DAILY;COUNT=2": COUNT is not supported (there is no DTSTART to count '
        "from); end the rule with UNTIL=<UTC time>, e.g. UNTIL=20271231T235959Z",
        f'{MW}.duration: "0s": the duration must be greater than 0',
    ]


def test_sla_errors_are_all_listed_at_once() -> None:
    text = (
        '[daemon]\nconnectivity_check = ["tcp://x"]\n'
        + TWO
        + edit(SERVICE, {"rule": '"most"'})
        + edit(SLO_TABLE, {"objective": "100"})
        + edit(WEEKLY, {"duration": '"40d"'})
    )
    assert errors(text) == [
        'c.toml: daemon.connectivity_check[0]: "tcp://x": give a port from 1 to 65535 (e.g. '
        '"tcp://x:443")',
        f'{SVC}.rule: "most" is not a service rule (allowed: all, any, quorum)',
        f"{SL}.objective: 100 is out of range (allowed: more than 0, less than 100, in percent)",
        f'{MW}.duration: "40d" is too long: a maintenance window lasts at most 31d',
    ]
