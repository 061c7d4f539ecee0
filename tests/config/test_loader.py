"""The loader as a whole: the file and its TOML, unknown keys, sections and types, several errors
at once, and robustness against any document (hypothesis)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.config.documents import (
    DB,
    HTTP,
    TCP,
    WEB,
    error,
    errors,
    http,
    load,
    tcp,
    toml_document,
)
from uptimed.config import load_config, loader, loads_config
from uptimed.config.daemon import DAEMON_KEYS
from uptimed.config.http import KEYS as HTTP_KEYS
from uptimed.config.loader import TOP_KEYS
from uptimed.config.maintenance import MAINTENANCE_KEYS
from uptimed.config.monitors import COMMON_MONITOR_KEYS
from uptimed.config.retention import RETENTION_KEYS
from uptimed.config.service_hours import SERVICE_HOURS_KEYS
from uptimed.config.services import SERVICE_KEYS
from uptimed.config.slos import CREDIT_KEYS, LATENCY_KEYS, POLICY_KEYS, SLO_KEYS
from uptimed.config.tcp import KEYS as TCP_KEYS
from uptimed.config.values import RESERVED_LABELS
from uptimed.core import recurrence as maintenance_module
from uptimed.core.times import format_duration
from uptimed.errors import ConfigError
from uptimed.model.config import Config

# unknown keys, sections, types -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (http(intervall='"5s"'), f'{WEB}: unknown key "intervall" (did you mean "interval"?)'),
        (http(Interval='"5s"'), f'{WEB}: unknown key "Interval" (did you mean "interval"?)'),
        (
            http(expected_status="200"),
            f'{WEB}: unknown key "expected_status" (did you mean "expect_status"?)',
        ),
        (http(zzz="1"), f'{WEB}: unknown key "zzz"'),
        ("monitors = 1\n" + HTTP, 'c.toml: unknown key "monitors" (did you mean "monitor"?)'),
        ("[deamon]\n" + HTTP, 'c.toml: unknown key "deamon" (did you mean "daemon"?)'),
        (
            '[daemon]\nlisn = "x"\n' + HTTP,
            'c.toml: daemon: unknown key "lisn" (did you mean "listen"?)',
        ),
        (
            '[defaults]\nintreval = "5s"\n' + HTTP,
            'c.toml: defaults: unknown key "intreval" (did you mean "interval"?)',
        ),
        (
            '[retention]\nrollups = "400d"\n' + HTTP,
            'c.toml: retention: unknown key "rollups" (did you mean "rollup"?)',
        ),
        (
            "[retention]\nzzz = 1\n" + HTTP,
            'c.toml: retention: unknown key "zzz" (allowed: raw, rollup)',
        ),
        (
            "[daemon]\nzzz = 1\n" + HTTP,
            'c.toml: daemon: unknown key "zzz"',  # too many keys to list them all
        ),
        (
            "[daemon]\napi_tokens = 1\n" + HTTP,
            'c.toml: daemon: unknown key "api_tokens" (did you mean "api_token"?)',
        ),
        ("[[services]]\n" + HTTP, 'c.toml: unknown key "services" (did you mean "service"?)'),
        ("[[slos]]\n" + HTTP, 'c.toml: unknown key "slos" (did you mean "slo"?)'),
        (
            "[[maintenances]]\n" + HTTP,
            'c.toml: unknown key "maintenances" (did you mean "maintenance"?)',
        ),
        (http(**{'"odd\\nkey"': "1"}), f'{WEB}: unknown key "odd\\nkey"'),
    ],
)
def test_unknown_keys(text: str, message: str) -> None:
    assert error(text) == message


def test_keys_of_the_other_kind() -> None:
    assert error(tcp(url='"http://x/"')) == (
        f'{DB}.url: "url" belongs to http monitors; this monitor is kind "tcp"'
    )
    assert errors(http(port="80", host='"x"')) == [
        f'{WEB}.port: "port" belongs to tcp monitors; this monitor is kind "http"',
        f'{WEB}.host: "host" belongs to tcp monitors; this monitor is kind "http"',
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("daemon = 1\n" + HTTP, "c.toml: daemon: expected a table ([daemon]), found integer 1"),
        (
            'defaults = "x"\n' + HTTP,
            'c.toml: defaults: expected a table ([defaults]), found string "x"',
        ),
        (
            "retention = []\n" + HTTP,
            "c.toml: retention: expected a table ([retention]), found array",
        ),
        (
            '[monitor]\nid = "a"\n',
            "c.toml: monitor: expected an array of tables, found table "
            "(write [[monitor]], not [monitor])",
        ),
        (
            'monitor = "a"\n',
            'c.toml: monitor: expected an array of tables ([[monitor]]), found string "a"',
        ),
        (
            http(enabled='"yes"'),
            f'{WEB}.enabled: expected a boolean (true or false), found string "yes"',
        ),
        (
            http(enabled='"true"'),
            f"{WEB}.enabled: expected a boolean (true or false), found "
            'string "true" (write true without quotes)',
        ),
        (http(name="5"), f"{WEB}.name: expected a string, found integer 5"),
        (http(name='""'), f"{WEB}.name: is empty (leave it out to use the id)"),
        (http(name='"a\\u001bb"'), f'{WEB}.name: "a\\x1bb" contains a control character'),
        (
            http(name='"' + "n" * 201 + '"'),
            f'{WEB}.name: "{"n" * 59}…" is longer than 200 characters',
        ),
        (
            http(failure_threshold="0"),
            f"{WEB}.failure_threshold: 0 is out of range (allowed: 1 to 1000)",
        ),
        (
            http(success_threshold="1001"),
            f"{WEB}.success_threshold: 1001 is out of range (allowed: 1 to 1000)",
        ),
        (
            http(failure_threshold="1e308"),
            f"{WEB}.failure_threshold: expected an integer from 1 to 1000, found float 1e+308",
        ),
        (
            http(failure_threshold="-inf"),
            f"{WEB}.failure_threshold: expected an integer from 1 to 1000, found float -inf",
        ),
        (
            http(success_threshold="99999999999999999999999999999999"),
            f"{WEB}.success_threshold: 999999999999…(32 digits) is out of range "
            "(allowed: 1 to 1000)",
        ),
        (
            http(success_threshold="-99999999999999999999999999999999"),
            f"{WEB}.success_threshold: -999999999999…(32 digits) is out of range "
            "(allowed: 1 to 1000)",
        ),
        (
            http(failure_threshold="[1]"),
            f"{WEB}.failure_threshold: expected an integer from 1 to 1000, found array",
        ),
        (
            http(failure_threshold="{a = 1}"),
            f"{WEB}.failure_threshold: expected an integer from 1 to 1000, found table",
        ),
        (
            http(failure_threshold="1979-05-27"),
            f"{WEB}.failure_threshold: expected an integer from 1 to 1000, found date 1979-05-27",
        ),
        (
            http(failure_threshold="07:32:00"),
            f"{WEB}.failure_threshold: expected an integer from 1 to 1000, found time 07:32:00",
        ),
        ("monitor = [1]\n", "c.toml: monitor[0]: expected a table, found integer 1"),
    ],
)
def test_type_and_range_errors(text: str, message: str) -> None:
    assert error(text) == message


def test_defaults_thresholds_and_labels_merge() -> None:
    text = (
        "[defaults]\nfailure_threshold = 3\nsuccess_threshold = 2\n"
        'labels = { team = "ops", env = "prod", tier = "" }\n'
        + http(labels='{ env = "dev", app = "shop" }')
        + tcp(labels='{ team = "" }', failure_threshold="5")
    )
    web, db = load(text).monitors
    assert (web.failure_threshold, web.success_threshold) == (3, 2)
    assert web.labels == (("app", "shop"), ("env", "dev"), ("team", "ops"))
    assert (db.failure_threshold, db.success_threshold) == (5, 2)
    assert db.labels == (("env", "prod"),)  # an empty value removes the default label


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            '{ "1x" = "a" }',
            '.labels.1x: "1x" is not a valid label name (letters, digits and '
            "_, not starting with a digit)",
        ),
        (
            '{ "a-b" = "a" }',
            '.labels.a-b: "a-b" is not a valid label name (letters, digits and '
            "_, not starting with a digit)",
        ),
        (
            '{ "é" = "a" }',
            '.labels."é": "é" is not a valid label name (letters, digits and '
            "_, not starting with a digit)",
        ),
        (
            '{ __name = "a" }',
            '.labels.__name: "__name": names starting with "__" are reserved by Prometheus',
        ),
        ("{ env = 3 }", '.labels.env: expected a string, found integer 3 (quote it: "3")'),
        ("{ env = true }", ".labels.env: expected a string, found boolean true"),
        (
            '"team=ops"',
            '.labels: expected a table of label names to strings, found string "team=ops"',
        ),
    ],
)
def test_label_errors(labels: str, message: str) -> None:
    assert error(http(labels=labels)) == WEB + message
    assert error(f"[defaults]\nlabels = {labels}\n" + HTTP) == ("c.toml: defaults" + message)


@pytest.mark.parametrize("name", sorted(RESERVED_LABELS))
def test_reserved_label_names(name: str) -> None:
    assert error(http(labels=f'{{ {name} = "x" }}')).startswith(
        f'{WEB}.labels.{name}: "{name}" is reserved by uptimed (reserved: error_kind, instance, '
    )


def test_reserved_set_is_the_documented_one() -> None:
    assert RESERVED_LABELS == {
        "monitor",
        "phase",
        "result",
        "error_kind",
        "window",
        "le",
        "quantile",
        "job",
        "instance",
        "service",
        "slo",
        "location",
        "target",
    }


# several errors at once, and the file itself -------------------------------------------------


def test_all_errors_are_listed_in_file_order() -> None:
    text = (
        '[daemon]\nlisten = "nope"\n'
        + http(interval='"5x"')
        + TCP.replace("5432", "0")
        + TCP.replace('"db"', '"web"')
    )
    assert errors(text) == [
        'c.toml: daemon.listen: "nope" has no port (examples: "127.0.0.1:9464", "[::1]:9464", '
        '"0.0.0.0:9464")',
        f'{WEB}.interval: "5x" is not a duration (examples: "30s", "5m", "1h30m")',
        f"{DB.replace('[0]', '[1]')}.port: 0 is out of range (allowed: 1 to 65535)",
        'c.toml: monitor[2].id: "web" is used twice (first at monitor[0])',
    ]


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "# only a comment\n", '[daemon]\nlog_level = "info"\n', "monitor = []\n"],
)
def test_no_monitor(text: str) -> None:
    assert error(text) == "c.toml: no [[monitor]] defined"


def test_disabled_monitors_are_still_checked() -> None:
    assert error(http(enabled="false", interval='"5x"')).startswith(f"{WEB}.interval:")
    c = load(http(enabled="false"))
    assert not c.monitors[0].enabled


def test_invalid_utf8_names_the_byte_offset() -> None:
    data = b'[daemon]\ndatabase = "caf\xe9.db"\n' + HTTP.encode()
    assert error(data) == (
        "c.toml: not valid UTF-8 at byte offset 24 (line 2): the file must be UTF-8 encoded"
    )


def test_utf8_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + HTTP.encode()
    c = load(data)
    assert c.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[daemon\ndatabase = 1\n",
            "c.toml: line 1, column 8: TOML syntax error: Expected ']' "
            "at the end of a table declaration",
        ),
        (
            HTTP + 'id = "again"\n',
            "c.toml: line 6, column 13: TOML syntax error: Cannot overwrite a value",
        ),
        (
            '[daemon]\nlisten = "x\n',
            "c.toml: line 2, column 12: TOML syntax error: Illegal character '\\n'",
        ),
        (
            "a = " + "[" * 100_000 + "]" * 100_000,
            "c.toml: TOML syntax error: values nested too deeply",
        ),
        ("a = " + "1" * 5000, "c.toml: TOML syntax error: an integer with too many digits"),
        ('a = "\x7f"', "c.toml: line 1, column 6: TOML syntax error: Illegal character '\\x7f'"),
    ],
)
def test_toml_syntax_errors(text: str, message: str) -> None:
    assert error(text) == message


def test_missing_file() -> None:
    with pytest.raises(ConfigError) as e:
        load_config("nope.toml")
    assert e.value.errors == ["nope.toml: cannot read: no such file"]
    with pytest.raises(ConfigError) as e:
        load_config(Path("no/such/dir/c.toml"))
    assert e.value.errors == ["no/such/dir/c.toml: cannot read: no such file"]


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path)
    assert e.value.errors == [f"{tmp_path}: cannot read: is a directory, not a file"]


def test_unreadable_file(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("c.toml").write_text(HTTP)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(loader, "open", refuse, raising=False)
    with pytest.raises(ConfigError) as e:
        load_config("c.toml")
    assert e.value.errors == ["c.toml: cannot read: permission denied"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_for_real() -> None:
    Path("c.toml").write_text(HTTP)
    os.chmod("c.toml", 0)
    with pytest.raises(ConfigError) as e:
        load_config("c.toml")
    assert e.value.errors == ["c.toml: cannot read: permission denied"]


def test_odd_paths() -> None:
    with pytest.raises(ConfigError) as e:
        load_config("a\0b")
    assert e.value.errors[0].startswith('"a\\x00b": cannot read: ')
    os.symlink("c.toml", "loop.toml")
    os.replace("loop.toml", "c.toml")  # c.toml -> itself
    with pytest.raises(ConfigError, match="^c.toml: cannot read: "):
        load_config("c.toml")


def test_control_characters_in_values_stay_on_one_line() -> None:
    msg = error(http(interval='"1s\\n\\u001b[2J\\u202e"'))
    assert msg == (
        f'{WEB}.interval: "1s\\n\\x1b[2J\\u202e" is not a duration: no spaces allowed '
        '(examples: "30s", "5m", "1h30m")'
    )


def test_loads_config_from_text() -> None:
    c = loads_config(HTTP, "inline")
    assert c.path == "inline" and c.monitors[0].id == "web"
    with pytest.raises(ConfigError, match='^inline: monitor\\[0\\] \\(id "web"\\)\\.interval'):
        loads_config(http(interval='"x"'), "inline")


def test_acceptance_cases() -> None:
    """The cases the foundation acceptance check feeds to ``uptimed check-config``."""
    base = (
        '[daemon]\ndatabase = "x.db"\n[[monitor]]\nid = "a"\nkind = "http"\n'
        'url = "http://127.0.0.1:9/"\n'
    )
    assert "intervall" in error(base + 'intervall = "5s"\n')
    dup = '[[monitor]]\nid = "a"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'
    assert "twice" in error(base + dup)
    assert "interval" in error(base + 'interval = "5x"\n')
    assert "htp" in error(base.replace('"http"', '"htp"'))
    assert "line" in error("[daemon\ndatabase = 1\n")


# robustness (hypothesis) --------------------------------------------------------------------

PLAUSIBLE = [
    "30s",
    "1s",
    "500ms",
    "5x",
    "1h30m",
    "0s",
    "99999999w",
    "http",
    "tcp",
    "htp",
    "HTTP",
    "http://127.0.0.1:9/",
    "https://u:p@h.example/?token=1",
    "ftp://x/",
    "http://[::1]:80/",
    "127.0.0.1",
    "::1",
    "[::1]",
    "db:1",
    "127.0.0.1:9464",
    "[::1]:9464",
    ":1",
    "2xx",
    "200-299",
    "1MiB",
    "512KiB",
    "1.5B",
    "GET",
    "post",
    "info",
    "warn",
    "",
    " ",
    "\x00",
    "\u202e",
    "a" * 70,
    "./u.db",
    "web",
    "a",
    "é",
    "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2",
    "FREQ=DAILY;INTERVAL=0",
    "FREQ=MONTHLY;BYDAY=9SU",
    "FREQ=DAILY;UNTIL=20270101",
    "RRULE:FREQ=HOURLY",
    "0 2 * * 0",
    "0 2 30 2 *",
    "@daily",
    "H 2 * * *",
    "Europe/Berlin",
    "Europe/Berln",
    "UTC",
    "CEST",
    "../x",
    "mon-fri",
    "fri-mon",
    "08:00",
    "24:00",
    "00:00",
    "2026-10-04T02:00:00Z",
    "2026-10-04T02:00:00",
    "0001-01-01T00:00:00+01:00",
    "tcp://127.0.0.1:9",
    "tcp://[::1]:0",
    "exclude",
    "quorum",
    "month",
]
KEYS = sorted(
    {
        *TOP_KEYS,
        *DAEMON_KEYS,
        *COMMON_MONITOR_KEYS,
        *HTTP_KEYS,
        *TCP_KEYS,
        *SERVICE_KEYS,
        *SLO_KEYS,
        *MAINTENANCE_KEYS,
        *LATENCY_KEYS,
        *CREDIT_KEYS,
        *SERVICE_HOURS_KEYS,
        *POLICY_KEYS,
        *RETENTION_KEYS,
        "intervall",
        "team",
        "__x",
        "monitor",
    }
)

scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-2, max_value=70000),
    st.sampled_from([10**400, -(10**30), 2**63]),
    st.floats(),
    st.sampled_from([1e308, -1e308, 5e-324, float("nan"), float("inf")]),
    st.text(max_size=12),
    st.sampled_from(PLAUSIBLE),
    st.just(datetime(1979, 5, 27, 7, 32)),
    st.datetimes(timezones=st.just(UTC) | st.just(timezone(timedelta(hours=-5)))),
    st.sampled_from([date(2026, 10, 4), time(8, 0), datetime(9999, 12, 31, 23, tzinfo=UTC)]),
)
keys = st.sampled_from(KEYS) | st.text(max_size=6)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
monitors = st.builds(
    lambda base, extra: {**base, **extra},
    st.fixed_dictionaries(
        {"id": st.sampled_from(["a", "b", "web"]) | st.text(max_size=5)},
        optional={
            "kind": st.sampled_from(["http", "tcp", "htp"]) | values,
            "url": st.sampled_from(["http://127.0.0.1:9/", "https://x.example/?sig=1"]) | values,
            "host": st.sampled_from(["127.0.0.1", "db.example", "::1"]) | values,
            "port": st.integers(0, 70000) | values,
            "interval": st.sampled_from(["1s", "30s", "500ms", "5x"]) | values,
            "timeout": st.sampled_from(["1s", "10s", "0s"]) | values,
        },
    ),
    st.just({}) | st.dictionaries(keys, values, max_size=2),
)
sections = st.just({}) | st.dictionaries(keys, values, max_size=4)
chaos_documents = st.fixed_dictionaries(
    {},
    optional={
        "daemon": sections | values,
        "defaults": sections | values,
        "retention": sections | values,
        "monitor": st.lists(monitors, max_size=4) | values,
        "service": st.lists(sections, max_size=2) | values,
        "slo": st.lists(sections, max_size=2) | values,
        "maintenance": st.lists(sections, max_size=2) | values,
        "extra": values,
    },
)


def _mostly(*choices: Any) -> st.SearchStrategy[Any]:
    """One of ``choices`` most of the time, anything now and then."""
    return st.sampled_from(choices) | st.sampled_from(choices) | st.sampled_from(choices) | values


label_tables = st.dictionaries(
    st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,6}", fullmatch=True) | st.sampled_from(["job", "__a"]),
    st.text(max_size=6),
    max_size=3,
)
_common = {
    "name": _mostly("Web", "é ü", "x" * 300),
    "enabled": _mostly(True, False),
    "interval": _mostly("1s", "30s", "1h30m", "0.5s", "1w"),
    "timeout": _mostly("500ms", "10s", "0.25s"),
    "failure_threshold": _mostly(1, 3, 1000),
    "success_threshold": _mostly(1, 2),
    "labels": label_tables | values,
}
_ids = (
    st.sampled_from(["web", "db", "a"])
    | st.from_regex(r"[A-Za-z0-9_.-]{1,8}", fullmatch=True)
    | values
)
_refs = st.sampled_from(["web", "db", "a", "stack", "edge", "wbe"]) | values
_ref_lists = st.lists(_refs, max_size=3) | values
_percents = _mostly(99.9, 99, 99.95, 0.999, 100, 95.0, "99.9")
plausible_services = st.fixed_dictionaries(
    {"id": _mostly("stack", "edge", "web"), "monitors": _ref_lists},
    optional={
        "name": _mostly("Stack"),
        "rule": _mostly("all", "any", "quorum", "QUORUM"),
        "quorum": _mostly(1, 2, 5),
    },
)
plausible_slos = st.fixed_dictionaries(
    {"id": _mostly("avail", "lat"), "target": _refs, "objective": _percents},
    optional={
        "window": _mostly("30d", "1h", "0s"),
        "period": _mostly("week", "month", "quarter", "year", "monthly"),
        "timezone": _mostly("UTC", "Europe/Berlin", "America/New_York", "Europe/Berln"),
        "effective_from": _mostly(
            datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01T00:00:00Z", datetime(2026, 1, 1)
        ),
        "effective_until": _mostly(datetime(2027, 1, 1, tzinfo=UTC), "2025-01-01T00:00:00+01:00"),
        "customer": _mostly("ACME"),
        "latency": st.fixed_dictionaries(
            {}, optional={"threshold": _mostly("300ms", "0s"), "objective": _percents}
        )
        | values,
        "credits": st.lists(
            st.fixed_dictionaries(
                {}, optional={"below": _percents, "credit": _mostly(0, 10, 25, 1001, 100.5)}
            )
            | values,
            max_size=4,
        )
        | values,
        "service_hours": st.fixed_dictionaries(
            {},
            optional={
                "days": _mostly("mon-fri", "sat-sun", "mon,wed,fri", "fri-mon", "mon-fri,fri"),
                "from": _mostly("08:00", "00:00", "18:00", "24:00"),
                "to": _mostly("18:00", "24:00", "00:00", "08:00"),
                "timezone": _mostly("Europe/Berlin", "UTC"),
            },
        )
        | values,
        "policy": st.fixed_dictionaries(
            {},
            optional={
                "unknown": _mostly("exclude", "down", "up"),
                "maintenance": _mostly("exclude", "up", "down"),
            },
        )
        | values,
    },
)
plausible_windows = st.fixed_dictionaries(
    {"id": _mostly("sunday", "once")},
    optional={
        "monitors": _ref_lists,
        "services": _ref_lists,
        "reason": _mostly("patching"),
        "start": _mostly(datetime(2026, 10, 4, 2, tzinfo=UTC), "2026-10-04T02:00:00+02:00"),
        "end": _mostly(datetime(2026, 10, 4, 3, tzinfo=UTC), "2026-10-04T00:00:00Z"),
        "rrule": _mostly(
            "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2",
            "FREQ=MONTHLY;BYDAY=-1SA;BYHOUR=23;BYMINUTE=30",
            "FREQ=DAILY;UNTIL=20271231T235959Z",
            "FREQ=DAILY;COUNT=3",
            "FREQ=YEARLY;BYMONTH=13",
        ),
        "cron": _mostly("0 2 * * 0", "*/15 3 * * mon-fri", "0 2 30 2 *", "0 2 * *"),
        "duration": _mostly("30m", "1h", "0s", "32d"),
        "timezone": _mostly("Europe/Berlin", "America/New_York", "UTC", "+01:00"),
    },
)
plausible_monitors = st.fixed_dictionaries(
    {
        "id": _ids,
        "kind": _mostly("http"),
        "url": _mostly("http://127.0.0.1:9/", "https://u:p@例え.jp/?sig=1", "http://[::1]:80/x"),
    },
    optional={
        **_common,
        "method": _mostly("GET", "post", "M-SEARCH"),
        "headers": st.dictionaries(st.sampled_from(["Accept", "X-Key", "a b"]), st.text(max_size=5))
        | values,
        "body": st.text(max_size=10) | values,
        "expect_status": _mostly([200], "2xx", ["200-299", 301], 204),
        "follow_redirects": _mostly(True, False),
        "max_body_bytes": _mostly(1, "1MiB", "512KiB", 2**30),
        "verify_tls": _mostly(True, False),
        "port": values,
    },
) | st.fixed_dictionaries(
    {
        "id": _ids,
        "kind": _mostly("tcp"),
        "host": _mostly("127.0.0.1", "::1", "[::1]", "db.example", "bücher.de"),
        "port": st.integers(1, 65535) | values,
    },
    optional={**_common, "url": values},
)
plausible_documents = st.fixed_dictionaries(
    {"monitor": st.lists(plausible_monitors, min_size=1, max_size=4)},
    optional={
        "daemon": st.fixed_dictionaries(
            {},
            optional={
                "database": _mostly("./u.db", "/var/lib/uptimed/u.db"),
                "listen": _mostly("127.0.0.1:9464", "[::1]:1", "localhost:65535"),
                "log_level": _mostly("debug", "INFO", "warning", "error"),
                "max_concurrency": st.integers(1, 100_000) | values,
                "api_token": _mostly(
                    "literal", "", "${env:UPTIMED_TEST_TOKEN}", "${credential:t}", "${x}", "$${"
                ),
                "api_token_file": _mostly("/etc/uptimed/token"),
                "connectivity_check": st.lists(
                    _mostly("tcp://127.0.0.1:9", "https://example.com/", "tcp://h", "udp://x:1"),
                    max_size=3,
                )
                | values,
            },
        ),
        "defaults": st.fixed_dictionaries(
            {},
            optional={
                "interval": _mostly("5s", "1m"),
                "timeout": _mostly("1s", "2s"),
                "failure_threshold": _mostly(2),
                "labels": label_tables | values,
            },
        ),
        "retention": st.fixed_dictionaries(
            {}, optional={"raw": _mostly("1h", "30d"), "rollup": _mostly("1d", "400d", "1h")}
        ),
        "service": st.lists(plausible_services, max_size=2),
        "slo": st.lists(plausible_slos, max_size=2),
        "maintenance": st.lists(plausible_windows, max_size=2),
    },
)
documents = chaos_documents | plausible_documents


def _check_outcome(data: bytes | str) -> Config | None:
    try:
        config = loads_config(data, "h.toml")
    except ConfigError as e:
        assert e.errors
        for line in e.errors:
            assert line.startswith("h.toml: ")
            assert "\n" not in line and "internal error" not in line, line
        return None
    assert config.monitors
    for m in config.monitors:
        assert 1 <= m.interval and 0 < m.timeout < m.interval
        assert m.spec.timeout == m.timeout
        assert 1 <= m.failure_threshold <= 1000 and 1 <= m.success_threshold <= 1000
        assert m.labels == tuple(sorted(m.labels))
    assert config.retention.rollup >= 86400
    _check_sla_invariants(config)
    return config


def _check_sla_invariants(config: Config) -> None:
    monitor_ids = {m.id for m in config.monitors}
    service_ids = {s.id for s in config.services}
    assert len(service_ids) == len(config.services) and not monitor_ids & service_ids
    for s in config.services:
        assert s.monitors and set(s.monitors) <= monitor_ids
        assert len(set(s.monitors)) == len(s.monitors)
        assert s.rule in ("all", "any", "quorum")
        assert (s.quorum is not None) == (s.rule == "quorum")
        assert s.quorum is None or 1 <= s.quorum <= len(s.monitors)
    assert len({s.id for s in config.slos}) == len(config.slos)
    for slo in config.slos:
        assert slo.target in monitor_ids | service_ids
        assert isinstance(slo.objective, Decimal) and 1 < slo.objective < 100
        assert slo.window is not None or slo.period is not None
        ZoneInfo(slo.timezone)
        for instant in (slo.effective_from, slo.effective_until):
            assert instant is None or instant.utcoffset() == timedelta(0)
        if slo.effective_from and slo.effective_until:
            assert slo.effective_from < slo.effective_until
        belows = [t.below for t in slo.credits]
        assert belows == sorted(set(belows), reverse=True)
        assert all(0 < t.below <= 100 and 0 <= t.credit <= 1000 for t in slo.credits)
        hours = slo.service_hours
        if hours is not None:
            assert hours.days == tuple(sorted(set(hours.days))) and set(hours.days) <= set(range(7))
            assert hours.end == time(0, 0) or hours.start < hours.end
            ZoneInfo(hours.timezone)
    assert len({w.id for w in config.maintenance}) == len(config.maintenance)
    for w in config.maintenance:
        assert w.monitors or w.services
        assert set(w.monitors) <= monitor_ids and set(w.services) <= service_ids
        if w.recurrence is None:
            assert w.start is not None and w.end is not None and w.start < w.end
            assert w.start.utcoffset() == timedelta(0) == w.end.utcoffset()
        else:
            assert w.start is None and w.end is None
            assert 0 < w.recurrence.duration <= 31 * 86400
            maintenance_module.validate_recurrence(w.recurrence)  # the expander takes it


@settings(max_examples=250, deadline=None, database=None)
@given(documents)
def test_random_toml_documents_give_config_or_config_error(doc: dict[str, Any]) -> None:
    _check_outcome(toml_document(doc))


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_config_or_config_error(data: bytes) -> None:
    _check_outcome(data)


VALID = (
    '[daemon]\nlisten = "127.0.0.1:9464"\n[defaults]\ninterval = "30s"\nlabels = { team = "x" }\n'
    + http(expect_status='["2xx", 301]', max_body_bytes='"1MiB"')
    + tcp()
)


@settings(max_examples=200, deadline=None, database=None)
@given(st.data())
def test_mutated_valid_documents_give_config_or_config_error(data: st.DataObject) -> None:
    text = bytearray(VALID.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = data.draw(st.sampled_from(list(b'"[]{}=.,#\n\\ 0x5s') + [0, 0xFF, 0xC3]))
        if op == "insert":
            text[pos:pos] = bytes([byte])
        elif pos < len(text):
            text[pos : pos + 1] = b"" if op == "delete" else bytes([byte])
    _check_outcome(bytes(text))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hyp") / "h.toml"


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.binary(max_size=100) | documents.map(lambda d: toml_document(d).encode()))
def test_files_on_disk_give_config_or_config_error(scratch: Path, data: bytes) -> None:
    scratch.write_bytes(data)
    try:
        load_config(scratch)
    except ConfigError as e:
        assert all(line.startswith(f"{scratch}: ") for line in e.errors)


@st.composite
def valid_monitors(draw: st.DrawFn) -> dict[str, Any]:
    interval = draw(st.integers(1, 7 * 86400))
    timeout_ms = draw(st.integers(1, interval * 1000 - 1))
    monitor: dict[str, Any] = {
        "interval": format_duration(interval),
        "timeout": format_duration(timeout_ms / 1000),
        "failure_threshold": draw(st.integers(1, 1000)),
        "labels": draw(
            st.dictionaries(
                st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
                    lambda k: k not in RESERVED_LABELS
                ),
                st.text(min_size=1, max_size=8),
                max_size=3,
            )
        ),
    }
    if draw(st.booleans()):
        monitor.update(kind="http", url=f"http://127.0.0.1:{draw(st.integers(1, 65535))}/")
    else:
        monitor.update(kind="tcp", host="localhost", port=draw(st.integers(1, 65535)))
    return monitor


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(valid_monitors(), min_size=1, max_size=5))
def test_valid_documents_load_with_their_values(mons: list[dict[str, Any]]) -> None:
    for i, m in enumerate(mons):
        m["id"] = f"m{i}"
    config = _check_outcome(toml_document({"monitor": mons}))
    assert config is not None
    for raw, m in zip(mons, config.monitors, strict=True):
        assert format_duration(m.interval) == raw["interval"]
        assert format_duration(m.timeout) == raw["timeout"]
        assert m.failure_threshold == raw["failure_threshold"]
        assert m.labels == tuple(sorted(raw["labels"].items()))
        assert m.kind == raw["kind"]


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
DAY_SPELLINGS = [("mon", "monday"), ("tue", "tuesday"), ("wed", "wednesday"), ("thu", "thursday"),
                 ("fri", "friday"), ("sat", "saturday"), ("sun", "sunday")]  # fmt: skip


@st.composite
def valid_sla_tables(draw: st.DrawFn) -> dict[str, Any]:
    """Monitors m0..m2, services and SLOs and windows over them, all valid."""
    monitors = [
        {"id": f"m{i}", "kind": "tcp", "host": "localhost", "port": 1 + i} for i in range(3)
    ]
    services = []
    for i in range(draw(st.integers(0, 2))):
        members = draw(st.lists(st.sampled_from(["m0", "m1", "m2"]), min_size=1, unique=True))
        service: dict[str, Any] = {"id": f"s{i}", "monitors": members}
        rule = draw(st.sampled_from(["all", "any", "quorum", None]))
        if rule is not None:
            service["rule"] = rule
        if rule == "quorum":
            service["quorum"] = draw(st.integers(1, len(members)))
        services.append(service)
    targets = ["m0", "m1", "m2"] + [s["id"] for s in services]
    percents = st.decimals(min_value="1.001", max_value="99.999", places=3)
    slos = []
    for i in range(draw(st.integers(0, 2))):
        slo: dict[str, Any] = {
            "id": f"o{i}",
            "target": draw(st.sampled_from(targets)),
            "objective": draw(percents),
            "timezone": draw(st.sampled_from(ZONES)),
        }
        window, period = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
        if window:
            slo["window"] = f"{draw(st.integers(1, 400))}d"
        if period:
            slo["period"] = draw(st.sampled_from(["week", "month", "quarter", "year"]))
        belows = draw(
            st.lists(
                st.decimals(min_value="1.01", max_value="100", places=2),
                unique_by=lambda d: d.normalize(),
                max_size=4,
            )
        )
        slo["credits"] = [{"below": b, "credit": draw(st.integers(0, 1000))} for b in belows]
        days = draw(st.lists(st.integers(0, 6), min_size=1, unique=True))
        start = draw(st.integers(0, 23 * 60 + 58))
        end = draw(st.integers(start + 1, 24 * 60))
        slo["service_hours"] = {
            "days": ",".join(draw(st.sampled_from(DAY_SPELLINGS[d])) for d in days),
            "from": f"{start // 60:02d}:{start % 60:02d}",
            "to": f"{end // 60:02d}:{end % 60:02d}",
        }
        slo["latency"] = {
            "threshold": f"{draw(st.integers(1, 5000))}ms",
            "objective": draw(percents),
        }
        slos.append(slo)
    windows = []
    for i in range(draw(st.integers(0, 2))):
        window: dict[str, Any] = {"id": f"w{i}", "monitors": [draw(st.sampled_from(["m0", "m1"]))]}
        if draw(st.booleans()):
            offset = timezone(timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60))))
            start_at = draw(
                st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
            )
            window["start"] = start_at.replace(tzinfo=offset)
            window["end"] = (start_at + timedelta(seconds=draw(st.integers(1, 10**7)))).replace(
                tzinfo=offset
            )
        else:
            window["timezone"] = draw(st.sampled_from(ZONES))
            window["duration"] = f"{draw(st.integers(1, 31 * 24 * 60))}m"
            if draw(st.booleans()):
                window["rrule"] = (
                    f"FREQ={draw(st.sampled_from(['DAILY', 'WEEKLY', 'MONTHLY']))};"
                    f"BYHOUR={draw(st.integers(0, 23))};BYMINUTE={draw(st.integers(0, 59))}"
                )
            else:
                window["cron"] = (
                    f"{draw(st.integers(0, 59))} {draw(st.integers(0, 23))} * * "
                    f"{draw(st.sampled_from(['*', '0', 'mon-fri', 'sat,sun']))}"
                )
        windows.append(window)
    return {"monitor": monitors, "service": services, "slo": slos, "maintenance": windows}


@settings(max_examples=60, deadline=None, database=None)
@given(valid_sla_tables())
def test_valid_sla_documents_load_with_their_values(doc: dict[str, Any]) -> None:
    config = _check_outcome(toml_document(doc))
    assert config is not None
    for raw, s in zip(doc["service"], config.services, strict=True):
        assert (s.id, s.name, s.monitors) == (raw["id"], raw["id"], tuple(raw["monitors"]))
        assert (s.rule, s.quorum) == (raw.get("rule", "all"), raw.get("quorum"))
    for raw, o in zip(doc["slo"], config.slos, strict=True):
        assert (
            o.objective == raw["objective"] and o.latency.objective == raw["latency"]["objective"]
        )
        assert o.period == raw.get("period") and o.timezone == raw["timezone"]
        assert o.window == (None if "window" not in raw else int(raw["window"][:-1]) * 86400)
        assert [(t.below, t.credit) for t in o.credits] == sorted(
            ((c["below"], c["credit"]) for c in raw["credits"]), reverse=True
        )
        hours = raw["service_hours"]
        assert o.service_hours.days == tuple(
            sorted(
                d
                for d, names in enumerate(DAY_SPELLINGS)
                for n in hours["days"].split(",")
                if n in names
            )
        )
        assert o.service_hours.start.strftime("%H:%M") == hours["from"]
        assert o.service_hours.end.strftime("%H:%M") == hours["to"].replace("24:00", "00:00")
        assert o.service_hours.timezone == raw["timezone"]
    for raw, w in zip(doc["maintenance"], config.maintenance, strict=True):
        if "start" in raw:
            assert (w.start, w.end) == (raw["start"], raw["end"])  # the same instants, in UTC
        else:
            rec = w.recurrence
            assert (rec.rrule, rec.cron) == (raw.get("rrule"), raw.get("cron"))
            assert (
                rec.duration == int(raw["duration"][:-1]) * 60 and rec.timezone == raw["timezone"]
            )
