"""The config loader: defaults, merges, every class of error (with its message), robustness,
the check-config summary, and URL redaction."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probes.spec import HttpSpec, TcpSpec
from uptimed import config as config_module
from uptimed.config import (
    RESERVED_LABELS,
    Config,
    ConfigError,
    load_config,
    loads_config,
    summarize,
)
from uptimed.redact import UNPARSABLE, redact_url, scrub, secrets_of

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"

HTTP = """
[[monitor]]
id = "web"
kind = "http"
url = "http://127.0.0.1:8080/health"
"""

TCP = """
[[monitor]]
id = "db"
kind = "tcp"
host = "127.0.0.1"
port = 5432
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty directory (so error lines start with "c.toml: ") with no systemd env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)


def load(text: str | bytes, name: str = "c.toml") -> Config:
    data = text.encode() if isinstance(text, str) else text
    Path(name).write_bytes(data)
    return load_config(name)


def errors(text: str | bytes, name: str = "c.toml") -> list[str]:
    with pytest.raises(ConfigError) as e:
        load(text, name)
    assert str(e.value) == "\n".join(e.value.errors)
    for line in e.value.errors:
        assert line.startswith(f"{name}: ")
        assert "\n" not in line and "internal error" not in line
    return e.value.errors


def error(text: str | bytes) -> str:
    """The one error ``text`` gives."""
    errs = errors(text)
    assert len(errs) == 1, errs
    return errs[0]


def _with(base: str, options: dict[str, str]) -> str:
    """``base`` with ``key = value`` lines (values are TOML) replacing or adding to its own."""
    lines = [line for line in base.split("\n") if line.split(" = ")[0] not in options]
    return "\n".join(lines) + "".join(f"{k} = {v}\n" for k, v in options.items())


def http(**options: str) -> str:
    """The http monitor "web", with ``options``."""
    return _with(HTTP, options)


def tcp(**options: str) -> str:
    """The tcp monitor "db", with ``options``."""
    return _with(TCP, options)


WEB = 'c.toml: monitor[0] (id "web")'
DB = 'c.toml: monitor[0] (id "db")'


# defaults ------------------------------------------------------------------------------------


def test_minimal_config_gets_every_default() -> None:
    c = load(HTTP)
    assert c.path == "c.toml"
    assert c.sha256 == hashlib.sha256(HTTP.encode()).hexdigest()
    assert c.daemon == config_module.DaemonConfig(
        database="./uptimed.db",
        listen_host="127.0.0.1",
        listen_port=9464,
        log_level="info",
        max_concurrency=500,
    )
    assert c.retention.raw == 14 * 86400
    (m,) = c.monitors
    assert (m.id, m.name, m.kind, m.enabled) == ("web", "web", "http", True)
    assert (m.interval, m.timeout) == (60.0, 10.0)
    assert (m.failure_threshold, m.success_threshold) == (1, 1)
    assert m.labels == ()
    assert m.target == "http://127.0.0.1:8080/health"
    assert m.max_gap == 130.0
    assert m.spec == HttpSpec(url="http://127.0.0.1:8080/health", timeout=10.0)
    assert m.spec.method == "GET" and m.spec.expect_status == ((200, 299),)
    assert m.spec.follow_redirects and m.spec.max_redirects == 10 and m.spec.verify_tls
    assert m.spec.max_body_bytes == 1024 * 1024 and m.spec.body is None and m.spec.headers == ()
    assert c.monitor("web") is m and c.monitor("nope") is None


def test_result_is_frozen() -> None:
    c = load(HTTP)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.monitors[0].interval = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.daemon.database = "x"  # type: ignore[misc]
    assert isinstance(c.monitors, tuple)


def test_tcp_monitor() -> None:
    c = load(TCP)
    (m,) = c.monitors
    assert m.kind == "tcp"
    assert m.spec == TcpSpec(host="127.0.0.1", port=5432, timeout=10.0)
    assert m.target == "127.0.0.1:5432"


@pytest.mark.parametrize(
    ("host", "spec_host", "target"),
    [
        ('"::1"', "::1", "[::1]:5432"),
        ('"[::1]"', "::1", "[::1]:5432"),
        ('"db.internal"', "db.internal", "db.internal:5432"),
        ('"localhost"', "localhost", "localhost:5432"),
        ('"bücher.example"', "bücher.example", "bücher.example:5432"),
    ],
)
def test_tcp_hosts(host: str, spec_host: str, target: str) -> None:
    m = load(TCP.replace('"127.0.0.1"', host)).monitors[0]
    assert (m.spec.host, m.target) == (spec_host, target)


def test_every_http_option() -> None:
    m = load(
        http(
            name='"Web front"',
            method='"post"',
            headers='{ Accept = "application/json", "X-Trace" = "1" }',
            body='"héllo"',
            expect_status='[200, "301", "2xx", "400-404", 204]',
            follow_redirects="false",
            max_body_bytes='"512KiB"',
            verify_tls="false",
            enabled="false",
            failure_threshold="3",
            success_threshold="2",
            interval='"30s"',
            timeout='"5s"',
        )
    ).monitors[0]
    assert m.name == "Web front" and not m.enabled
    assert (m.interval, m.timeout, m.failure_threshold, m.success_threshold) == (30, 5, 3, 2)
    assert m.spec == HttpSpec(
        url="http://127.0.0.1:8080/health",
        timeout=5.0,
        method="POST",
        headers=(("Accept", "application/json"), ("X-Trace", "1")),
        body="héllo".encode(),
        expect_status=((200, 299), (301, 301), (400, 404)),
        follow_redirects=False,
        max_redirects=10,
        max_body_bytes=512 * 1024,
        verify_tls=False,
    )


@pytest.mark.parametrize(
    ("value", "expect"),
    [("204", ((204, 204),)), ('"3xx"', ((300, 399),)), ('["2xx", "3xx"]', ((200, 399),))],
)
def test_expect_status_forms(value: str, expect: tuple[tuple[int, int], ...]) -> None:
    assert load(http(expect_status=value)).monitors[0].spec.expect_status == expect


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("1", 1),
        ("1024", 1024),
        ('"65536"', 65536),
        ('"512KiB"', 512 * 1024),
        ('"1MiB"', 1024 * 1024),
        ('"1MB"', 1_000_000),
        ('"1mb"', 1_000_000),
        ('"10kB"', 10_000),
        ('"1.5KiB"', 1536),
        ('"1GiB"', 1024**3),
        ('"100B"', 100),
    ],
)
def test_max_body_bytes_forms(value: str, size: int) -> None:
    assert load(http(max_body_bytes=value)).monitors[0].spec.max_body_bytes == size


# timeout and interval rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "interval", "timeout"),
    [
        (http(), 60, 10),  # built-in defaults
        (http(interval='"20s"'), 20, 10),
        (http(interval='"15s"'), 15, 7.5),  # built-in timeout: min(10s, interval / 2)
        (http(interval='"5s"'), 5, 2.5),
        (http(interval='"1s"'), 1, 0.5),
        ('[defaults]\ninterval = "4s"\n' + http(), 4, 2),
        ('[defaults]\ninterval = "4s"\n' + http(interval='"1m"'), 60, 10),
        ('[defaults]\ntimeout = "3s"\n' + http(interval='"10s"'), 10, 3),
        ('[defaults]\ntimeout = "3s"\n' + http(timeout='"1s"'), 60, 1),
        ('[defaults]\ninterval = "2m"\ntimeout = "30s"\n' + http(), 120, 30),
        (http(interval='"1h30m"', timeout='"0.5s"'), 5400, 0.5),
    ],
)
def test_interval_and_timeout_resolution(text: str, interval: float, timeout: float) -> None:
    m = load(text).monitors[0]
    assert (m.interval, m.timeout, m.spec.timeout) == (interval, timeout, timeout)


def test_own_timeout_not_shorter_than_interval() -> None:
    assert error(http(interval='"30s"', timeout='"30s"')) == (
        f"{WEB}.timeout: 30s must be shorter than the interval (30s)"
    )
    assert error('[defaults]\ninterval = "5s"\n' + http(timeout='"0.5m"')) == (
        f"{WEB}.timeout: 30s must be shorter than the interval (5s, from defaults.interval)"
    )
    assert error(http(timeout='"2m"')) == (
        f"{WEB}.timeout: 2m must be shorter than the interval (1m, the default)"
    )


@pytest.mark.parametrize(
    ("defaults", "interval", "timeout"),
    [
        ('timeout = "10s"', "5s", 2.5),  # the example config's explicit default changes nothing
        ('timeout = "10s"', "20s", 10),
        ('timeout = "45s"', "1m", 30),  # capped at half the interval
        ('timeout = "45s"', "2m", 45),
        ('interval = "10s"\ntimeout = "30s"', "10s", 5),  # never a clash between defaults
        ('interval = "10s"\ntimeout = "30s"', "5m", 30),
    ],
)
def test_inherited_timeout_is_capped_at_half_the_interval(
    defaults: str, interval: str, timeout: float
) -> None:
    m = load(f"[defaults]\n{defaults}\n" + http(interval=f'"{interval}"')).monitors[0]
    assert m.timeout == timeout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"interval": '"500ms"'}, '.interval: "500ms" is below the minimum interval of 1s'),
        ({"interval": '"0s"'}, '.interval: "0s" is below the minimum interval of 1s'),
        ({"timeout": '"0s"'}, '.timeout: "0s": the timeout must be greater than 0'),
        ({"timeout": '"0ms"'}, '.timeout: "0ms": the timeout must be greater than 0'),
    ],
)
def test_interval_and_timeout_bounds(options: dict[str, str], message: str) -> None:
    assert error(http(**options)) == WEB + message


# durations ------------------------------------------------------------------------------------


def test_bad_duration_message() -> None:
    assert error(http(interval='"5x"')) == (
        f'{WEB}.interval: "5x" is not a duration (examples: "30s", "5m", "1h30m")'
    )


def test_duration_index_without_id() -> None:
    text = HTTP + TCP + TCP.replace('"db"', '"db2"') + '[[monitor]]\ninterval = "5x"\n'
    errs = errors(text)
    assert (
        'c.toml: monitor[3].interval: "5x" is not a duration (examples: "30s", "5m", "1h30m")'
    ) in errs
    assert 'c.toml: monitor[3]: missing required key "id"' in errs


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "30",
            'expected a duration string such as "30s", found integer 30 (durations are '
            'strings with a unit: "30s")',
        ),
        (
            "1.5",
            'expected a duration string such as "30s", found float 1.5 (durations are '
            'strings with a unit: "1.5s")',
        ),
        ("1e308", 'expected a duration string such as "30s", found float 1e+308'),
        ("inf", 'expected a duration string such as "30s", found float inf'),
        ("nan", 'expected a duration string such as "30s", found float nan'),
        ("true", 'expected a duration string such as "30s", found boolean true'),
        (
            "1979-05-27T07:32:00",
            'expected a duration string such as "30s", found datetime 1979-05-27T07:32:00',
        ),
        (
            '"30"',
            '"30" is not a duration: a unit is required, e.g. "30s" (examples: "30s", '
            '"5m", "1h30m")',
        ),
        ('"99999999w"', '"99999999w" is too long: durations are limited to 100 years'),
        (
            '"1e308s"',
            '"1e308s" is not a duration: no exponent allowed (examples: "30s", "5m", "1h30m")',
        ),
    ],
)
def test_duration_values(value: str, message: str) -> None:
    assert error(http(interval=value)) == f"{WEB}.interval: {message}"


def test_retention() -> None:
    assert load('[retention]\nraw = "30d"\n' + HTTP).retention.raw == 30 * 86400
    assert load('[retention]\nraw = "1h"\n' + HTTP).retention.raw == 3600
    assert error('[retention]\nraw = "59m"\n' + HTTP) == (
        'c.toml: retention.raw: "59m" is below the minimum retention of 1h'
    )
    assert error("[retention]\nraw = 14\n" + HTTP).startswith(
        'c.toml: retention.raw: expected a duration string such as "30s", found integer 14'
    )


# [daemon] ------------------------------------------------------------------------------------


def test_daemon_options() -> None:
    c = load(
        '[daemon]\ndatabase = "data/u.db"\nlisten = "[::1]:9000"\nlog_level = "DEBUG"\n'
        "max_concurrency = 100000\n" + HTTP
    )
    assert c.daemon == config_module.DaemonConfig(
        database="data/u.db",
        listen_host="::1",
        listen_port=9000,
        log_level="debug",
        max_concurrency=100000,
    )


def test_state_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/uptimed")
    assert load(HTTP).daemon.database == "/var/lib/uptimed/uptimed.db"
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/uptimed:/var/lib/other")
    assert load(HTTP).daemon.database == "/var/lib/uptimed/uptimed.db"
    monkeypatch.setenv("STATE_DIRECTORY", "")
    assert load(HTTP).daemon.database == "./uptimed.db"
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/uptimed")
    written = '[daemon]\ndatabase = "./mine.db"\n' + HTTP
    assert load(written).daemon.database == "./mine.db"  # relative, kept as written


@pytest.mark.parametrize(
    ("listen", "host", "port"),
    [
        ("0.0.0.0:80", "0.0.0.0", 80),
        ("127.0.0.1:65535", "127.0.0.1", 65535),
        ("[::]:1", "::", 1),
        ("[::1]:9464", "::1", 9464),
        ("localhost:9464", "localhost", 9464),
    ],
)
def test_listen_valid(listen: str, host: str, port: int) -> None:
    d = load(f'[daemon]\nlisten = "{listen}"\n' + HTTP).daemon
    assert (d.listen_host, d.listen_port) == (host, port)


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        (
            '"127.0.0.1"',
            '"127.0.0.1" has no port (examples: "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464")',
        ),
        ('"::1:9464"', '"::1:9464": write IPv6 addresses in brackets, e.g. "[::1]:9464"'),
        ('"127.0.0.1:0"', '"127.0.0.1:0": the port must be a number from 1 to 65535'),
        ('"127.0.0.1:65536"', '"127.0.0.1:65536": the port must be a number from 1 to 65535'),
        ('"127.0.0.1:http"', '"127.0.0.1:http": the port must be a number from 1 to 65535'),
        (
            '":9464"',
            '":9464" has no host: use "0.0.0.0:9464" for every IPv4 interface, '
            '"[::]:9464" for every interface',
        ),
        (
            '"[::1]9464"',
            '"[::1]9464" is not HOST:PORT (examples: "127.0.0.1:9464", '
            '"[::1]:9464", "0.0.0.0:9464")',
        ),
        ('"[zz]:1"', '"[zz]:1": "zz" is not an IPv6 address'),
        ('"bad host!:1"', '"bad host!:1": host "bad host!" is not a valid host name or IP address'),
        ('"300.1.1.1:1"', '"300.1.1.1:1": host "300.1.1.1" is not a valid IPv4 address'),
        ("9464", 'expected a string "HOST:PORT", found integer 9464'),
    ],
)
def test_listen_invalid(listen: str, message: str) -> None:
    assert error(f"[daemon]\nlisten = {listen}\n" + HTTP) == f"c.toml: daemon.listen: {message}"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'log_level = "warn"',
            'daemon.log_level: "warn" is not a log level (allowed: debug, '
            'info, warning, error; did you mean "warning"?)',
        ),
        (
            'log_level = "verbose"',
            'daemon.log_level: "verbose" is not a log level (allowed: debug, info, warning, error)',
        ),
        (
            "log_level = 1",
            "daemon.log_level: expected a string (debug, info, warning, error), found integer 1",
        ),
        ("max_concurrency = 0", "daemon.max_concurrency: 0 is out of range (allowed: 1 to 100000)"),
        (
            "max_concurrency = 100001",
            "daemon.max_concurrency: 100001 is out of range (allowed: 1 to 100000)",
        ),
        (
            "max_concurrency = true",
            "daemon.max_concurrency: expected an integer from 1 to 100000, found boolean true",
        ),
        (
            'max_concurrency = "5"',
            'daemon.max_concurrency: expected an integer from 1 to 100000, found string "5"',
        ),
        (
            "max_concurrency = 500.0",
            "daemon.max_concurrency: expected an integer from 1 to 100000, found float 500.0",
        ),
        (
            "max_concurrency = 123456789012345678901234567890",
            "daemon.max_concurrency: 123456789012…(30 digits) is out of range (allowed: 1 to "
            "100000)",
        ),
        (
            'database = ""',
            'daemon.database: is empty: give a file path, e.g. "/var/lib/uptimed/uptimed.db"',
        ),
        ("database = 1", "daemon.database: expected a string (a file path), found integer 1"),
        ('database = "a\\u0000b"', 'daemon.database: "a\\x00b" contains a NUL character'),
    ],
)
def test_daemon_errors(line: str, message: str) -> None:
    assert error(f"[daemon]\n{line}\n" + HTTP) == f"c.toml: {message}"


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
            '[retention]\nrollup = "400d"\n' + HTTP,
            'c.toml: retention: unknown key "rollup" (allowed: raw)',
        ),
        (
            "[daemon]\nzzz = 1\n" + HTTP,
            'c.toml: daemon: unknown key "zzz" (allowed: database, listen, log_level, '
            "max_concurrency)",
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
    }


# ids and kinds ---------------------------------------------------------------------------------


def test_duplicate_ids() -> None:
    text = HTTP + TCP + TCP.replace('"db"', '"web"')
    assert error(text) == 'c.toml: monitor[2].id: "web" is used twice (first at monitor[0])'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"bad id!"', '"bad id!" is not a valid id: use letters, digits, "_", "." and "-"'),
        ('""', '"" is not a valid id: use letters, digits, "_", "." and "-"'),
        ('"a\\u0000b"', '"a\\x00b" is not a valid id: use letters, digits, "_", "." and "-"'),
        ('"' + "a" * 65 + '"', f'"{"a" * 59}…" is not a valid id: longer than 64 characters'),
        ("7", "expected a string, found integer 7"),
    ],
)
def test_bad_ids(value: str, message: str) -> None:
    text = HTTP.replace('id = "web"', f"id = {value}")
    assert error(text) == f"c.toml: monitor[0].id: {message}"


def test_valid_ids() -> None:
    for mid in ("a", "web-1.prod_x", "A" * 64, "0"):
        assert load(HTTP.replace('"web"', f'"{mid}"')).monitors[0].id == mid


def test_bad_kind() -> None:
    assert error(HTTP.replace('"http"', '"htp"')) == (
        f'{WEB}.kind: "htp" is not a kind (allowed: http, tcp; did you mean "http"?)'
    )
    assert error(HTTP.replace('"http"', '"icmp"')) == (
        f'{WEB}.kind: "icmp" is not a kind (allowed: http, tcp)'
    )
    assert error(HTTP.replace('"http"', "1")) == (
        f"{WEB}.kind: expected a string (http, tcp), found integer 1"
    )
    assert load(HTTP.replace('"http"', '"HTTP"')).monitors[0].kind == "http"


def test_missing_kind_suggests_one() -> None:
    assert error(HTTP.replace('kind = "http"\n', "")) == (
        f'{WEB}: missing required key "kind" (allowed: http, tcp; add kind = "http"?)'
    )
    assert error(TCP.replace('kind = "tcp"\n', "")) == (
        f'{DB}: missing required key "kind" (allowed: http, tcp; add kind = "tcp"?)'
    )


# http options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "HTTPS://EXAMPLE.COM/x?y=1#z",
        "http://127.0.0.1:8080/",
        "https://[::1]:8443/health",
        "http://例え.jp/",
        "http://user:pass@host.internal/",
        "http://under_score.local/",
    ],
)
def test_valid_urls(url: str) -> None:
    assert load(http(url=f'"{url}"')).monitors[0].spec.url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x/", '"ftp://x/": scheme "ftp" is not allowed (allowed: http, https)'),
        (
            "example.com/x",
            '"example.com/x" is not an absolute URL: it must start with "http://" or "https://"',
        ),
        ("http://", '"http://" has no host'),
        ("http:///path", '"http:///path" has no host'),
        (
            "http://exa mple.com/",
            '"http://exa%20mple.com/" contains a space or control character '
            "at position 10 (percent-encode it: a space is %20)",
        ),
        ("http://[::1/", '"http://[::1/" is not a valid URL (Invalid IPv6 URL)'),
        ("http://u:pw@[::1/?key=1", '"http://***@[::1/?…" is not a valid URL (Invalid IPv6 URL)'),
        ("http://h:99999/", '"http://h:99999/" is not a valid URL (Port out of range 0-65535)'),
        ("http://h:0/", '"http://h:0/": the port must be a number from 1 to 65535'),
        (
            "http://-bad-.com/",
            '"http://-bad-.com/": host "-bad-.com" is not a valid host name or IP address',
        ),
        ("http://999.1.1.1/", '"http://999.1.1.1/": host "999.1.1.1" is not a valid IPv4 address'),
        (
            "http://[fe80::zz]/",
            "\"http://[fe80::zz]/\" is not a valid URL ('fe80::zz' does not "
            "appear to be an IPv4 or IPv6 address)",
        ),
        ("http://a..b/", '"http://a..b/": host "a..b" is not a valid host name or IP address'),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    assert error(http(url=f'"{url}"')) == f"{WEB}.url: {message}"


def test_url_errors_never_echo_credentials() -> None:
    msg = error(http(url='"ftp://admin:hunter2@host/x?token=s3cret"'))
    assert "hunter2" not in msg and "s3cret" not in msg and "admin" not in msg
    assert msg == (
        f'{WEB}.url: "ftp://***:***@host/x?token=***": scheme "ftp" is not allowed '
        "(allowed: http, https)"
    )


def test_url_type_and_presence() -> None:
    assert error(http(url="1")) == (
        f'{WEB}.url: expected a string such as "https://example.com/health", found integer 1'
    )
    assert error(HTTP.replace('url = "http://127.0.0.1:8080/health"\n', "")) == (
        f'{WEB}: missing required key "url" (http monitors need one)'
    )


def test_target_is_redacted_but_spec_keeps_the_url() -> None:
    url = "https://bob:hunter2@example.com/x?api_key=abc&page=2"
    m = load(http(url=f'"{url}"')).monitors[0]
    assert m.spec.url == url
    assert m.target == "https://***:***@example.com/x?api_key=***&page=2"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": '"GE T"'}, '.method: "GE T" is not an HTTP method (examples: GET, HEAD, POST)'),
        ({"method": '""'}, '.method: "" is not an HTTP method (examples: GET, HEAD, POST)'),
        ({"method": "1"}, '.method: expected a string such as "GET", found integer 1'),
        (
            {"headers": '{ "X A" = "1" }'},
            '.headers."X A": "X A" is not a valid header name '
            "(letters, digits and !#$%&'*+-.^_`|~)",
        ),
        (
            {"headers": '{ A = "a\\r\\nB: c" }'},
            '.headers.A: "a\\r\\nB: c": header values cannot '
            "hold line breaks or control characters",
        ),
        ({"headers": "{ A = 1 }"}, ".headers.A: expected a string, found integer 1"),
        (
            {"headers": '{ Accept = "a", accept = "b" }'},
            '.headers.accept: "accept" repeats "Accept" (header names ignore case)',
        ),
        (
            {"headers": '["A: b"]'},
            ".headers: expected a table of header names to strings, found array",
        ),
        ({"body": "1"}, ".body: expected a string, found integer 1"),
        (
            {"follow_redirects": "1"},
            ".follow_redirects: expected a boolean (true or false), found integer 1",
        ),
        (
            {"verify_tls": '"no"'},
            '.verify_tls: expected a boolean (true or false), found string "no"',
        ),
        (
            {"expect_status": "600"},
            ".expect_status: 600 is not an HTTP status (allowed: 100 to 599)",
        ),
        (
            {"expect_status": "[200, 99]"},
            ".expect_status[1]: 99 is not an HTTP status (allowed: 100 to 599)",
        ),
        (
            {"expect_status": '["abc"]'},
            '.expect_status[0]: "abc" is not a status or range '
            '(examples: 200, "200-299", "2xx", "301")',
        ),
        (
            {"expect_status": '"6xx"'},
            '.expect_status: "6xx" is not a status or range '
            '(examples: 200, "200-299", "2xx", "301")',
        ),
        (
            {"expect_status": '"299-200"'},
            '.expect_status: "299-200": the range is backwards (write "200-299")',
        ),
        ({"expect_status": '"200-600"'}, '.expect_status: "200-600": statuses go from 100 to 599'),
        (
            {"expect_status": "[]"},
            ".expect_status: is empty: list at least one status "
            '(examples: 200, "200-299", "2xx", "301")',
        ),
        (
            {"expect_status": "[true]"},
            ".expect_status[0]: expected a status code or range "
            '(examples: 200, "200-299", "2xx", "301"), found '
            "boolean true",
        ),
        ({"max_body_bytes": "0"}, ".max_body_bytes: 0 is out of range (allowed: 1 byte to 1GiB)"),
        (
            {"max_body_bytes": '"2GiB"'},
            '.max_body_bytes: "2GiB" is out of range (allowed: 1 byte to 1GiB)',
        ),
        ({"max_body_bytes": '"1.5B"'}, '.max_body_bytes: "1.5B" is not a whole number of bytes'),
        (
            {"max_body_bytes": '"1 MiB"'},
            '.max_body_bytes: "1 MiB" is not a size (examples: 65536, "512KiB", "1MiB", "1MB")',
        ),
        (
            {"max_body_bytes": '"1XB"'},
            '.max_body_bytes: "1XB" is not a size (examples: 65536, "512KiB", "1MiB", "1MB")',
        ),
        (
            {"max_body_bytes": "1.5"},
            ".max_body_bytes: expected a number of bytes or a size "
            '(examples: 65536, "512KiB", "1MiB", "1MB"), found float 1.5',
        ),
    ],
)
def test_http_option_errors(options: dict[str, str], message: str) -> None:
    assert error(http(**options)) == WEB + message


# tcp options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": "0"}, ".port: 0 is out of range (allowed: 1 to 65535)"),
        ({"port": "70000"}, ".port: 70000 is out of range (allowed: 1 to 65535)"),
        (
            {"port": '"80"'},
            '.port: expected an integer from 1 to 65535, found string "80" '
            "(write 80 without quotes)",
        ),
        ({"port": '"http"'}, '.port: expected an integer from 1 to 65535, found string "http"'),
        ({"port": "true"}, ".port: expected an integer from 1 to 65535, found boolean true"),
        ({"host": '"db:5432"'}, '.host: "db:5432" includes a port: put it in "port"'),
        ({"host": '"[::1]:5432"'}, '.host: "[::1]:5432" includes a port: put it in "port"'),
        (
            {"host": '"tcp://db"'},
            '.host: "tcp://db" is a URL: give the bare host name or IP '
            'address (and the port in "port")',
        ),
        ({"host": '"bad host"'}, '.host: "bad host" is not a valid host name or IP address'),
        ({"host": '""'}, '.host: "" is empty'),
        ({"host": '"1.2.3.256"'}, '.host: "1.2.3.256" is not a valid IPv4 address'),
        ({"host": "[1]"}, ".host: expected a string (host name or IP address), found array"),
    ],
)
def test_tcp_option_errors(options: dict[str, str], message: str) -> None:
    assert error(tcp(**options)) == DB + message


def test_tcp_required_keys() -> None:
    assert errors('[[monitor]]\nid = "db"\nkind = "tcp"\n') == [
        f'{DB}: missing required key "host" (tcp monitors need one)',
        f'{DB}: missing required key "port" (tcp monitors need one)',
    ]


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

    monkeypatch.setattr(config_module, "open", refuse, raising=False)
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


# summary ----------------------------------------------------------------------------------------


def test_summary_exact() -> None:
    text = '[daemon]\ndatabase = "./uptimed.db"\n' + http(interval='"30s"') + tcp(interval='"30s"')
    Path("config.example.toml").write_text(text)
    assert summarize(load_config("config.example.toml")) == (
        "config.example.toml: OK\n"
        "  database    ./uptimed.db\n"
        "  listen      127.0.0.1:9464\n"
        "  monitors    2 enabled (http 1, tcp 1), 0 disabled\n"
        "  intervals   30s x2\n"
        "  load        0.07 probes/s"
    )


def test_summary_counts() -> None:
    text = (
        '[daemon]\nlisten = "[::1]:9000"\n'
        + http(interval='"1m30s"')
        + tcp(interval='"10s"')
        + TCP.replace('"db"', '"db2"')
        + 'interval = "10s"\n'
        + TCP.replace('"db"', '"db3"')
        + "enabled = false\n"
    )
    lines = summarize(load(text)).split("\n")
    assert lines[2] == "  listen      [::1]:9000"
    assert lines[3] == "  monitors    3 enabled (http 1, tcp 2), 1 disabled"
    assert lines[4] == "  intervals   10s x2, 1m30s x1"
    assert lines[5] == f"  load        {2 / 10 + 1 / 90:.2f} probes/s"


def test_summary_nothing_enabled() -> None:
    lines = summarize(load(http(enabled="false"))).split("\n")
    assert lines[3:] == [
        "  monitors    0 enabled, 1 disabled",
        "  intervals   -",
        "  load        0.00 probes/s",
    ]


def test_summary_small_load() -> None:
    assert summarize(load(http(interval='"1h"'))).endswith("load        0.00028 probes/s")


@pytest.mark.skipif(not EXAMPLE.exists(), reason="no config.example.toml yet")
def test_shipped_example_loads() -> None:
    c = load_config(EXAMPLE)
    assert c.monitors
    assert summarize(c).startswith(f"{EXAMPLE}: OK")


# redaction --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/x", "https://example.com/x"),
        ("https://bob:hunter2@example.com/", "https://***:***@example.com/"),
        ("https://bob@example.com/", "https://***@example.com/"),
        ("http://a:b@c@d:80/", "http://***:***@d:80/"),
        ("http://h/?token=abc&page=2", "http://h/?token=***&page=2"),
        ("http://h/?TOKEN=abc", "http://h/?TOKEN=***"),
        (
            "http://h/?key=1&apikey=2&api_key=3&secret=4&password=5&passwd=6&pass=7&auth=8&sig=9"
            "&signature=10&access_token=11&q=12",
            "http://h/?key=***&apikey=***&api_key=***&secret=***&password=***&passwd=***&pass=***"
            "&auth=***&sig=***&signature=***&access_token=***&q=12",
        ),
        (
            "http://h/?apiKey=1&X-Amz-Signature=2&client_secret=3&private_token=4",
            "http://h/?apiKey=***&X-Amz-Signature=***&client_secret=***&private_token=***",
        ),
        ("http://h/?%74oken=x", "http://h/?%74oken=***"),
        ("http://h/?a=1;sig=2", "http://h/?a=1;sig=***"),
        ("http://h/?bypass=1&keyboard=2&token=", "http://h/?bypass=1&keyboard=2&token="),
        ("http://h/#access_token=x&state=y", "http://h/#access_token=***&state=y"),
        ("http://h/#section", "http://h/#section"),
        ("http://h/a b\n\x1b[31m", "http://h/a%20b%0A%1B[31m"),
        ("not a url", "not%20a%20url"),
        ("", ""),
        ("http://[::1/", UNPARSABLE),
    ],
)
def test_redact_url(url: str, safe: str) -> None:
    assert redact_url(url) == safe


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=60) | st.from_regex(r"https?://[a-z:@\[\]]{0,12}/?\?[a-z_=&;]{0,20}"))
def test_redact_url_never_raises(url: str) -> None:
    safe = redact_url(url)
    assert isinstance(safe, str) and safe.isprintable()


def test_redact_url_non_string() -> None:
    assert redact_url(None) == UNPARSABLE  # type: ignore[arg-type]


def test_secrets_of_and_scrub() -> None:
    spec = HttpSpec(
        url="https://bob:p%40ssw0rd@h/x?token=abcd%2Fef&q=1",
        timeout=1.0,
        headers=(("Authorization", "Bearer tok123"), ("X-Api-Key", "kkkk"), ("Accept", "x/y")),
    )
    secrets = secrets_of(spec)
    assert set(secrets) == {
        "p%40ssw0rd",
        "p@ssw0rd",
        "abcd%2Fef",
        "abcd/ef",
        "Bearer tok123",
        "tok123",
        "kkkk",
    }
    text = "GET https://bob:p%40ssw0rd@h/x?token=abcd%2Fef: 401 (p@ssw0rd, tok123, x/y)"
    assert scrub(text, secrets) == "GET https://bob:***@h/x?token=***: 401 (***, ***, x/y)"
    assert secrets_of(TcpSpec("h", 1, 1.0)) == ()
    assert secrets_of(object()) == ()


# robustness (hypothesis) --------------------------------------------------------------------


def _toml_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return (
            "nan"
            if v != v
            else "inf"
            if v == float("inf")
            else "-inf"
            if v == -float("inf")
            else repr(v)
        )
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_string(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def _toml_document(doc: dict[str, Any]) -> str:
    return "".join(f"{_toml_string(k)} = {_toml_value(v)}\n" for k, v in doc.items())


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
]
KEYS = sorted(
    {
        *config_module.TOP_KEYS,
        *config_module.DAEMON_KEYS,
        *config_module.COMMON_MONITOR_KEYS,
        *config_module.KIND_KEYS["http"],
        *config_module.KIND_KEYS["tcp"],
        "raw",
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
_ids = st.from_regex(r"[A-Za-z0-9_.-]{1,8}", fullmatch=True) | values
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
        "retention": st.fixed_dictionaries({}, optional={"raw": _mostly("1h", "30d")}),
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
    return config


@settings(max_examples=250, deadline=None, database=None)
@given(documents)
def test_random_toml_documents_give_config_or_config_error(doc: dict[str, Any]) -> None:
    _check_outcome(_toml_document(doc))


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
@given(st.binary(max_size=100) | documents.map(lambda d: _toml_document(d).encode()))
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
        "interval": config_module.format_duration(interval),
        "timeout": config_module.format_duration(timeout_ms / 1000),
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
    config = _check_outcome(_toml_document({"monitor": mons}))
    assert config is not None
    for raw, m in zip(mons, config.monitors, strict=True):
        assert config_module.format_duration(m.interval) == raw["interval"]
        assert config_module.format_duration(m.timeout) == raw["timeout"]
        assert m.failure_threshold == raw["failure_threshold"]
        assert m.labels == tuple(sorted(raw["labels"].items()))
        assert m.kind == raw["kind"]
