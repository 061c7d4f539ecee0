"""The config loader: defaults, merges, every class of error (with its message), robustness,
the check-config summary, and URL redaction."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probes.base import ProbeContext
from probes.http import HttpSpec, make_session, probe
from probes.tcp import TcpSpec
from tests.support.targets import Target
from uptimed import config as config_module
from uptimed.config import RESERVED_LABELS, load_config, loads_config, summarize
from uptimed.core import recurrence as maintenance_module
from uptimed.core.redact import UNPARSABLE, SecretText, redact_url, scrub, secrets_of
from uptimed.core.times import quote
from uptimed.errors import ConfigError
from uptimed.model.config import (
    SLO,
    Config,
    CreditTier,
    LatencyObjective,
    Maintenance,
    Policy,
    Recurrence,
    Service,
    ServiceHours,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"

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
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


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
        database=os.path.abspath("uptimed.db"),  # beside c.toml, in the working directory
        listen_host="127.0.0.1",
        listen_port=9464,
        log_level="info",
        max_concurrency=500,
    )
    assert c.daemon.api_token is None and c.daemon.connectivity_check == ()
    assert c.unresolved_credentials == ()
    assert (c.retention.raw, c.retention.rollup) == (14 * 86400, 400 * 86400)
    assert (c.services, c.slos, c.maintenance) == ((), (), ())
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
        database=os.path.abspath("data/u.db"),
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
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/uptimed")
    written = '[daemon]\ndatabase = "/srv/mine.db"\n' + HTTP
    assert load(written).daemon.database == "/srv/mine.db"  # written: STATE_DIRECTORY ignored


def test_database_paths_are_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not to the working directory: the daemon under systemd runs in /, an admin's shell
    anywhere, and both must find one file."""
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.chdir("/")
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "c.toml"
    path.write_text('[daemon]\ndatabase = "./data/../u.db"\n' + HTTP)
    assert config_module.load_config(path).daemon.database == str(tmp_path / "etc" / "u.db")
    path.write_text(HTTP)  # not set: beside the config file
    assert config_module.load_config(path).daemon.database == str(tmp_path / "etc" / "uptimed.db")
    assert (
        config_module.default_database("/etc/uptimed/config.toml", {})
        == "/var/lib/uptimed/uptimed.db"
    )
    env = {"STATE_DIRECTORY": "/var/lib/uptimed"}
    assert (
        config_module.default_database("/etc/uptimed/config.toml", env)
        == "/var/lib/uptimed/uptimed.db"
    )
    assert config_module.default_database(
        "/opt/x/c.toml", {"STATE_DIRECTORY": "st"}
    ) == os.path.abspath("st/uptimed.db")


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
            '[retention]\nrollups = "400d"\n' + HTTP,
            'c.toml: retention: unknown key "rollups" (did you mean "rollup"?)',
        ),
        (
            "[retention]\nzzz = 1\n" + HTTP,
            'c.toml: retention: unknown key "zzz" (allowed: raw, rollup)',
        ),
        (
            "[daemon]\nzzz = 1\n" + HTTP,
            'c.toml: daemon: unknown key "zzz" (allowed: database, listen, log_level, '
            "max_concurrency, api_token, connectivity_check)",
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
    text = (
        '[daemon]\ndatabase = "/srv/uptimed.db"\n' + http(interval='"30s"') + tcp(interval='"30s"')
    )
    Path("config.example.toml").write_text(text)
    assert summarize(load_config("config.example.toml")) == (
        "config.example.toml: OK\n"
        "  database    /srv/uptimed.db\n"
        "  listen      127.0.0.1:9464\n"
        "  monitors    2 enabled (http 1, tcp 1), 0 disabled\n"
        "  intervals   30s x2\n"
        "  timeouts    10s x2\n"
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
    assert lines[5] == "  timeouts    5s x2, 10s x1"  # inherited 10s, capped at half of 10s
    assert lines[6] == f"  load        {2 / 10 + 1 / 90:.2f} probes/s"


def test_summary_nothing_enabled() -> None:
    lines = summarize(load(http(enabled="false"))).split("\n")
    assert lines[3:] == [
        "  monitors    0 enabled, 1 disabled",
        "  intervals   -",
        "  timeouts    -",
        "  load        0.00 probes/s",
    ]


def test_summary_timeouts_are_the_effective_ones() -> None:
    """Inherited timeouts are capped at half the interval; a monitor's own is shown as set."""
    text = (
        '[defaults]\ntimeout = "10s"\n'
        + http(interval='"5s"')  # inherits 10s, capped: 2.5s
        + TCP.replace('"db"', '"db5"')
        + 'interval = "5s"\n'  # the same: 2.5s
        + tcp(interval='"5s"', timeout='"3s"')  # its own: 3s, above half the interval
        + TCP.replace('"db"', '"slow"')
        + 'interval = "1m"\n'  # inherits 10s: no cap needed
        + TCP.replace('"db"', '"off"')
        + 'interval = "2s"\nenabled = false\n'  # not counted, like intervals
    )
    c = load(text)
    assert [m.timeout for m in c.monitors] == [2.5, 2.5, 3.0, 10.0, 1.0]
    lines = summarize(c).split("\n")
    assert lines[4] == "  intervals   5s x3, 1m x1"
    assert lines[5] == "  timeouts    2s500ms x2, 3s x1, 10s x1"


def test_summary_small_load() -> None:
    assert summarize(load(http(interval='"1h"'))).endswith("load        0.00028 probes/s")


@pytest.mark.skipif(not EXAMPLE.exists(), reason="no config.example.toml yet")
def test_shipped_example_loads() -> None:
    c = load_config(EXAMPLE)
    assert c.monitors
    assert summarize(c).startswith(f"{EXAMPLE}: OK")


@pytest.mark.skipif(not EXAMPLE.exists(), reason="no config.example.toml yet")
def test_shipped_example_documents_min_coverage() -> None:
    text = EXAMPLE.read_text()
    assert text.count("# min_coverage = 90\n") == 1
    assert all(s.min_coverage == Decimal(90) for s in load_config(EXAMPLE).slos)
    (first, *_) = load(text.replace("# min_coverage = 90\n", "min_coverage = 75.5\n")).slos
    assert first.min_coverage == Decimal("75.5")


# [daemon] api_token and connectivity_check, [retention] rollup ----------------------------------


def test_api_token_and_connectivity_check() -> None:
    Path("api-token").write_text("s3cr3t-token\n")
    d = load(
        '[daemon]\napi_token = "${file:api-token}"\n'
        'connectivity_check = ["tcp://192.0.2.1:53", "tcp://[::1]:9", "tcp://db.example:5432", '
        '"http://127.0.0.1:9/health", "https://example.com/"]\n' + HTTP
    ).daemon
    assert d.api_token == "s3cr3t-token"  # read, the newline stripped
    assert "s3cr3t" not in repr(d)
    assert d.connectivity_check == (
        "tcp://192.0.2.1:53",
        "tcp://[::1]:9",
        "tcp://db.example:5432",
        "http://127.0.0.1:9/health",
        "https://example.com/",
    )
    assert load("[daemon]\nconnectivity_check = []\n" + HTTP).daemon.connectivity_check == ()
    assert load('[daemon]\napi_token = "literal"\n' + HTTP).daemon.api_token == "literal"


CANARY_EXAMPLES = '(examples: "tcp://192.0.2.1:443", "https://example.com/")'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'api_token = ""',
            "daemon.api_token: is empty: give the token by reference "
            '(examples: "${credential:api-token}", "${file:/etc/uptimed/api-token}")',
        ),
        (
            "api_token = 1",
            'daemon.api_token: expected a string (examples: "${credential:api-token}", '
            '"${file:/etc/uptimed/api-token}"), found integer 1',
        ),
        (
            'api_token = "a\\nb"',
            "daemon.api_token: the token cannot hold a line break or control character",
        ),
        (
            'api_token = "${file:a\\u0000}"',
            'daemon.api_token: "${file:a\\x00}" contains a NUL character',
        ),
        (
            'connectivity_check = "tcp://h:1"',
            f"daemon.connectivity_check: expected an array of targets {CANARY_EXAMPLES}, found "
            'string "tcp://h:1" (write ["tcp://h:1"])',
        ),
        (
            'connectivity_check = "https://u:pw@h/"',
            f"daemon.connectivity_check: expected an array of targets {CANARY_EXAMPLES}, found "
            'string "https://***@h/" (write ["https://***@h/"])',
        ),
        (
            'connectivity_check = ["tcp://u:pw@h:1"]',
            'daemon.connectivity_check[0]: "tcp://***@h:1": a tcp check is only "tcp://HOST:PORT" '
            "(no user, path or query)",
        ),
        (
            "connectivity_check = [1]",
            f"daemon.connectivity_check[0]: expected a string {CANARY_EXAMPLES}, found integer 1",
        ),
        (
            'connectivity_check = ["tcp://192.0.2.1"]',
            'daemon.connectivity_check[0]: "tcp://192.0.2.1": give a port from 1 to 65535 '
            '(e.g. "tcp://192.0.2.1:443")',
        ),
        (
            'connectivity_check = ["tcp://::1"]',
            'daemon.connectivity_check[0]: "tcp://::1" is not HOST:PORT (Port could not be cast '
            "to integer value as ':1')",
        ),
        (
            'connectivity_check = ["tcp://[::1]:0"]',
            'daemon.connectivity_check[0]: "tcp://[::1]:0": give a port from 1 to 65535 '
            '(e.g. "tcp://[::1]:443")',
        ),
        (
            'connectivity_check = ["tcp://h:70000"]',
            'daemon.connectivity_check[0]: "tcp://h:70000" is not HOST:PORT (Port out of range '
            "0-65535)",
        ),
        (
            'connectivity_check = ["tcp://:53"]',
            'daemon.connectivity_check[0]: "tcp://:53" has no host (e.g. "tcp://192.0.2.1:443")',
        ),
        (
            'connectivity_check = ["tcp://h:53/x"]',
            'daemon.connectivity_check[0]: "tcp://h:53/x": a tcp check is only "tcp://HOST:PORT" '
            "(no user, path or query)",
        ),
        (
            'connectivity_check = ["tcp://bad host!:53"]',
            'daemon.connectivity_check[0]: "tcp://bad host!:53" contains a space or control '
            "character",
        ),
        (
            'connectivity_check = ["tcp://300.1.1.1:53"]',
            'daemon.connectivity_check[0]: "tcp://300.1.1.1:53": host "300.1.1.1" is not a '
            "valid IPv4 address",
        ),
        (
            'connectivity_check = ["192.0.2.1:53"]',
            'daemon.connectivity_check[0]: "192.0.2.1:53" is not a connectivity check: use '
            f'"tcp://HOST:PORT" or an http:// or https:// URL {CANARY_EXAMPLES}',
        ),
        (
            'connectivity_check = ["udp://192.0.2.1:53"]',
            'daemon.connectivity_check[0]: "udp://192.0.2.1:53" is not a connectivity check: use '
            f'"tcp://HOST:PORT" or an http:// or https:// URL {CANARY_EXAMPLES}',
        ),
        (
            'connectivity_check = ["https://u:secret@ex ample.com/"]',
            'daemon.connectivity_check[0]: "https://***:***@ex%20ample.com/" contains a space or '
            "control character at position 19 (percent-encode it: a space is %20)",
        ),
        (
            'connectivity_check = ["tcp://h:1", "tcp://h:1"]',
            'daemon.connectivity_check[1]: "tcp://h:1" is listed twice (first at [0])',
        ),
    ],
)
def test_daemon_sla_option_errors(line: str, message: str) -> None:
    assert error(f"[daemon]\n{line}\n" + HTTP) == f"c.toml: {message}"


def test_retention_rollup() -> None:
    assert load('[retention]\nrollup = "30d"\n' + HTTP).retention.rollup == 30 * 86400
    assert load('[retention]\nrollup = "1d"\n' + HTTP).retention.rollup == 86400
    assert error('[retention]\nrollup = "23h"\n' + HTTP) == (
        'c.toml: retention.rollup: "23h" is below the minimum rollup retention of 1d'
    )
    assert error("[retention]\nrollup = 400\n" + HTTP) == (
        'c.toml: retention.rollup: expected a duration string such as "30s", found integer 400 '
        '(durations are strings with a unit: "400s")'
    )


# [[service]] -----------------------------------------------------------------------------------

TWO = HTTP + TCP  # monitors "web" (http) and "db" (tcp)
SERVICE = '[[service]]\nid = "stack"\nmonitors = ["web", "db"]\n'
SVC = 'c.toml: service[0] (id "stack")'


def _edit(base: str, options: dict[str, str | None]) -> str:
    """``base`` with ``key = value`` lines replaced, added, or (value None) removed."""
    lines = [line for line in base.split("\n") if line.split(" = ")[0] not in options]
    return "\n".join(lines) + "".join(f"{k} = {v}\n" for k, v in options.items() if v is not None)


def service(**options: str | None) -> str:
    """Monitors "web" and "db" and the service "stack" over both, with ``options``."""
    return TWO + _edit(SERVICE, options)


def test_service_defaults() -> None:
    c = load(service())
    assert c.services == (
        Service(id="stack", name="stack", monitors=("web", "db"), rule="all", quorum=None),
    )


def test_service_options() -> None:
    s = load(service(name='"Web stack"', rule='"QUORUM"', quorum="2", monitors='["db", "web"]'))
    assert s.services[0] == Service(
        id="stack", name="Web stack", monitors=("db", "web"), rule="quorum", quorum=2
    )
    assert load(service(rule='"any"')).services[0].rule == "any"
    assert load(service(rule='"quorum"', quorum="1")).services[0].quorum == 1


def test_services_may_name_disabled_monitors_and_each_other_share_monitors() -> None:
    text = (
        http(enabled="false") + TCP + SERVICE + '[[service]]\nid = "db-only"\nmonitors = ["db"]\n'
    )
    c = load(text)
    assert [s.id for s in c.services] == ["stack", "db-only"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"monitors": None}, f'{SVC}: missing required key "monitors" (the ids of its monitors)'),
        ({"monitors": "[]"}, f"{SVC}.monitors: is empty: list at least one monitor id"),
        (
            {"monitors": '"web"'},
            f'{SVC}.monitors: expected an array of monitor ids such as ["web", "db"], found '
            'string "web" (write ["web"])',
        ),
        (
            {"monitors": '["web", "wbe"]'},
            f'{SVC}.monitors[1]: "wbe" is not a monitor id (did you mean "web"?)',
        ),
        (
            {"monitors": '["WEB"]'},
            f'{SVC}.monitors[0]: "WEB" is not a monitor id (did you mean "web"?)',
        ),
        ({"monitors": '["zzz"]'}, f'{SVC}.monitors[0]: "zzz" is not a monitor id'),
        (
            {"monitors": "[1]"},
            f"{SVC}.monitors[0]: expected a string (a monitor id), found integer 1",
        ),
        (
            {"monitors": '["web", "db", "web"]'},
            f'{SVC}.monitors[2]: "web" is listed twice (first at [0])',
        ),
        (
            {"rule": '"majority"'},
            f'{SVC}.rule: "majority" is not a service rule (allowed: all, any, quorum)',
        ),
        (
            {"rule": '"quorom"'},
            f'{SVC}.rule: "quorom" is not a service rule (allowed: all, any, quorum; did you mean '
            '"quorum"?)',
        ),
        ({"rule": "1"}, f"{SVC}.rule: expected a string (all, any, quorum), found integer 1"),
        (
            {"rule": '"quorum"'},
            f'{SVC}: missing required key "quorum" (rule "quorum" needs k: the service is down '
            "when at least k of its monitors are down)",
        ),
        (
            {"rule": '"quorum"', "quorum": "3"},
            f"{SVC}.quorum: 3 is more than the service's 2 monitors (allowed: 1 to 2)",
        ),
        (
            {"rule": '"quorum"', "quorum": "0"},
            f"{SVC}.quorum: 0 is out of range (allowed: 1 to 1000)",
        ),
        (
            {"rule": '"quorum"', "quorum": '"2"'},
            f'{SVC}.quorum: expected an integer from 1 to 1000, found string "2"',
        ),
        (
            {"quorum": "2"},
            f'{SVC}.quorum: only applies with rule = "quorum" (this service\'s rule is "all")',
        ),
        ({"name": '""'}, f"{SVC}.name: is empty (leave it out to use the id)"),
        ({"monitor": '["web"]'}, f'{SVC}: unknown key "monitor" (did you mean "monitors"?)'),
        (
            {"zzz": "1"},
            f'{SVC}: unknown key "zzz" (allowed: id, name, monitors, rule, quorum)',
        ),
    ],
)
def test_service_errors(options: dict[str, str | None], message: str) -> None:
    assert error(service(**options)) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            TWO + SERVICE.replace('"stack"', '"web"'),
            'c.toml: service[0].id: "web" is already the id of monitor[0]: SLO targets name '
            "monitors and services alike, so their ids must differ",
        ),
        (
            TWO + SERVICE + SERVICE,
            'c.toml: service[1].id: "stack" is used twice (first at service[0])',
        ),
        (
            TWO + SERVICE.replace('id = "stack"\n', ""),
            'c.toml: service[0]: missing required key "id"',
        ),
        (
            TWO + SERVICE.replace('"stack"', '"a b"'),
            'c.toml: service[0].id: "a b" is not a valid id: use letters, digits, "_", "." and "-"',
        ),
        (
            TWO + '[service]\nid = "x"\n',
            "c.toml: service: expected an array of tables, found table (write [[service]], not "
            "[service])",
        ),
        (
            "service = 1\n" + TWO,
            "c.toml: service: expected an array of tables ([[service]]), found integer 1",
        ),
        ("service = [1]\n" + TWO, "c.toml: service[0]: expected a table, found integer 1"),
        (
            TWO + SERVICE + '[[service]]\nid = "outer"\nmonitors = ["stack"]\n',
            'c.toml: service[1] (id "outer").monitors[0]: "stack" is not a monitor id (it is a '
            "service; a service is made of monitors only)",
        ),
    ],
)
def test_service_table_errors(text: str, message: str) -> None:
    assert error(text) == message


def test_a_broken_monitor_still_counts_for_references() -> None:
    """A monitor whose id is valid but whose other keys are not is one error, not two."""
    text = http(interval='"5x"') + TCP + SERVICE
    assert errors(text) == [
        f'{WEB}.interval: "5x" is not a duration (examples: "30s", "5m", "1h30m")'
    ]


def test_references_are_not_checked_when_the_monitors_are_malformed() -> None:
    assert errors("monitor = 1\n" + SERVICE) == [
        "c.toml: monitor: expected an array of tables ([[monitor]]), found integer 1"
    ]


# [[slo]] ---------------------------------------------------------------------------------------

SLO_TABLE = '[[slo]]\nid = "avail"\ntarget = "web"\nobjective = 99.9\nwindow = "30d"\n'
SL = 'c.toml: slo[0] (id "avail")'


def slo(**options: str | None) -> str:
    """Monitors "web" and "db", service "stack", and the SLO "avail" on "web", with ``options``."""
    return TWO + SERVICE + _edit(SLO_TABLE, options)


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
        f'{SL}.objective: expected a number in percent such as 99.9, found string "99.9" (write 99.9 without quotes)',
    ),
    (
        {"objective": '"99.9%"'},
        f'{SL}.objective: expected a number in percent such as 99.9, found string "99.9%" (write 99.9 without quotes or %)',
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
        f'{SL}.window: "30 days" is not a duration: no spaces allowed (examples: "30s", "5m", "1h30m")',
    ),
    (
        {"period": '"monthly"'},
        f'{SL}.period: "monthly" is not a calendar period (allowed: week, month, quarter, year; did you mean "month"?)',
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
        f'{SL}.timezone: "+02:00" is not an IANA time zone (use a zone name such as "Europe/Berlin" or "UTC", not an offset)',
    ),
    (
        {"timezone": '"CEST"'},
        f'{SL}.timezone: "CEST" is not an IANA time zone (an abbreviation is not a zone: use a name such as "Europe/Berlin")',
    ),
    ({"timezone": '"est"'}, f'{SL}.timezone: "est" is not an IANA time zone (did you mean "EST"?)'),
    (
        {"timezone": '"Qqqqq/Zzzz"'},
        f'{SL}.timezone: "Qqqqq/Zzzz" is not an IANA time zone (examples: "UTC", "Europe/Berlin", "America/New_York")',
    ),
    (
        {"timezone": '"../etc/passwd"'},
        f'{SL}.timezone: "../etc/passwd" is not an IANA time zone (examples: "UTC", "Europe/Berlin", "America/New_York")',
    ),
    (
        {"timezone": '""'},
        f'{SL}.timezone: "" is not an IANA time zone (examples: "UTC", "Europe/Berlin", "America/New_York")',
    ),
    (
        {"timezone": "1"},
        f'{SL}.timezone: expected a string (an IANA time zone such as "Europe/Berlin"), found integer 1',
    ),
    (
        {"effective_from": "2026-01-01T00:00:00"},
        f'{SL}.effective_from: 2026-01-01T00:00:00 has no UTC offset: add "Z" for UTC or an offset such as "+02:00" (e.g. 2026-01-01T00:00:00Z)',
    ),
    (
        {"effective_from": '"2026-01-01T00:00:00"'},
        f'{SL}.effective_from: "2026-01-01T00:00:00" has no UTC offset: add "Z" for UTC or an offset such as "+02:00" (e.g. "2026-01-01T00:00:00Z")',
    ),
    (
        {"effective_from": "2026-01-01"},
        f"{SL}.effective_from: expected a date-time with a UTC offset (examples: 2026-10-04T02:00:00Z, "
        '"2026-10-04T02:00:00+02:00"), found date 2026-01-01 (add a time and offset: 2026-01-01T00:00:00Z)',
    ),
    (
        {"effective_from": '"2026-01-01"'},
        f'{SL}.effective_from: "2026-01-01" is a date without a time: write "2026-01-01T00:00:00Z" (or with an offset such as "+02:00" instead of "Z")',
    ),
    (
        {"effective_from": '"next monday"'},
        f'{SL}.effective_from: "next monday" is not an RFC 3339 date-time (examples: 2026-10-04T02:00:00Z, "2026-10-04T02:00:00+02:00")',
    ),
    (
        {"effective_from": '"2026-13-01T00:00:00Z"'},
        f'{SL}.effective_from: "2026-13-01T00:00:00Z" is not a valid date-time: month must be in 1..12',
    ),
    (
        {"effective_from": '"2026-01-01T00:00:00+01:60"'},
        f'{SL}.effective_from: "2026-01-01T00:00:00+01:60" is not a valid date-time: offset minutes must be in 0..59',
    ),
    (
        {"effective_from": '"0001-01-01T00:00:00+01:00"'},
        f'{SL}.effective_from: "0001-01-01T00:00:00+01:00" is out of range (years 1 to 9999 in UTC)',
    ),
    (
        {"effective_from": "08:00:00"},
        f"{SL}.effective_from: expected a date-time with a UTC offset (examples: 2026-10-04T02:00:00Z, "
        '"2026-10-04T02:00:00+02:00"), found time 08:00:00',
    ),
    (
        {
            "effective_from": '"2027-01-01T00:00:00Z"',
            "effective_until": "2027-01-01T01:00:00+01:00",
        },
        f'{SL}.effective_until: 2027-01-01T01:00:00+01:00 is not after effective_from ("2027-01-01T00:00:00Z")',
    ),
    ({"customer": '""'}, f"{SL}.customer: is empty (leave the key out instead)"),
    ({"customer": "1"}, f"{SL}.customer: expected a string, found integer 1"),
    ({"customer": '"a\\u0007"'}, f'{SL}.customer: "a\\x07" contains a control character'),
    ({"custmer": '"x"'}, f'{SL}: unknown key "custmer" (did you mean "customer"?)'),
    ({"objetive": "99"}, f'{SL}: unknown key "objetive" (did you mean "objective"?)'),
    ({"name": '"x"'}, f'{SL}: unknown key "name"'),
    (
        {"latency": '"300ms"'},
        f'{SL}.latency: expected a table such as {{ threshold = "300ms", objective = 99.0 }}, found string "300ms"',
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
        f'{SL}.latency.threshold: expected a duration string such as "30s", found float 0.3 (durations are strings with a unit: "0.3s")',
    ),
    (
        {"latency": '{ threshold = "300ms", objective = 100 }'},
        f"{SL}.latency.objective: 100 is out of range (allowed: more than 0, less than 100, in percent)",
    ),
    (
        {"latency": '{ threshold = "300ms", objective = 0.99 }'},
        f"{SL}.latency.objective: 0.99 looks like a ratio: the latency objective is in percent (write 99)",
    ),
    (
        {"latency": '{ threshold = "300ms", objective = 99, thresold = "1s" }'},
        f'{SL}.latency: unknown key "thresold" (did you mean "threshold"?)',
    ),
    (
        {"credits": "{ below = 99.9, credit = 10 }"},
        f"{SL}.credits: expected an array of tables such as [{{ below = 99.9, credit = 10 }}], found table",
    ),
    (
        {"credits": "[10]"},
        f"{SL}.credits[0]: expected a table such as {{ below = 99.9, credit = 10 }}, found integer 10",
    ),
    (
        {"credits": "[{ credit = 10 }]"},
        f'{SL}.credits[0]: missing required key "below" (the attainment, in percent, under which the tier applies)',
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
        f"{SL}.credits[0].below: 100.5 is out of range (allowed: more than 0, at most 100, in percent)",
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
        f'{SL}.credits[0].credit: expected a number in percent such as 10, found string "10%" (write 10 without quotes or %)',
    ),
    (
        {
            "credits": "[{ below = 99, credit = 10 }, { below = 95, credit = 50 }, { below = 99.0, credit = 25 }]"
        },
        f"{SL}.credits[2].below: 99.0 is used twice (first at credits[0]): each tier needs its own threshold",
    ),
    (
        {"credits": "[{ below = 99, credit = 10, refund = 1 }]"},
        f'{SL}.credits[0]: unknown key "refund" (allowed: below, credit)',
    ),
    (
        {"policy": '{ unknown = "exlude" }'},
        f'{SL}.policy.unknown: "exlude" is not a policy for unknown time (allowed: exclude, down, up; did you mean "exclude"?)',
    ),
    (
        {"policy": '{ maintenance = "down" }'},
        f'{SL}.policy.maintenance: "down" is not a policy for maintenance time (allowed: exclude, up)',
    ),
    (
        {"policy": '{ unknwon = "up" }'},
        f'{SL}.policy: unknown key "unknwon" (did you mean "unknown"?)',
    ),
    (
        {"policy": '"exclude"'},
        f'{SL}.policy: expected a table such as {{ unknown = "exclude", maintenance = "exclude" }}, found string "exclude"',
    ),
    *(
        (
            {"min_coverage": text},
            f"{SL}.min_coverage: {text} is out of range (allowed: 0 to 100, in percent; 0 for no minimum)",
        )
        for text in ("100.5", "101", "-1", "-0.5")
    ),
    (
        {"min_coverage": "0.9"},
        f"{SL}.min_coverage: 0.9 looks like a ratio: the minimum coverage is in percent (write 90)",
    ),
    (
        {"min_coverage": "0.125"},
        f"{SL}.min_coverage: 0.125 looks like a ratio: the minimum coverage is in percent (write 12.5)",
    ),
    (
        {"min_coverage": "1"},
        f"{SL}.min_coverage: 1 looks like a ratio: the minimum coverage is in percent (e.g. 90, not 0.9)",
    ),
    (
        {"min_coverage": '"90"'},
        f'{SL}.min_coverage: expected a number in percent such as 90, found string "90" (write 90 without quotes)',
    ),
    (
        {"min_coverage": '"90%"'},
        f'{SL}.min_coverage: expected a number in percent such as 90, found string "90%" (write 90 without quotes or %)',
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
            f'{SH}: is empty: give days and/or hours, e.g. {{ days = "mon-fri", from = "08:00", to = "18:00" }}',
        ),
        (
            '"mon-fri"',
            f'{SH}: expected a table such as {{ days = "mon-fri", from = "08:00", to = "18:00" }}, found string "mon-fri"',
        ),
        (
            '{ days = "mon-fryday" }',
            f'{SH}.days: "mon-fryday": "fryday" is not a day (use mon, tue, wed, thu, fri, sat, sun; did you mean "friday"?)',
        ),
        (
            '{ days = "weekdays" }',
            f'{SH}.days: "weekdays": "weekdays" is not a day (use mon, tue, wed, thu, fri, sat, sun; write "mon-fri")',
        ),
        (
            '{ days = "Weekend" }',
            f'{SH}.days: "Weekend": "Weekend" is not a day (use mon, tue, wed, thu, fri, sat, sun; write "sat-sun")',
        ),
        (
            '{ days = "thurs" }',
            f'{SH}.days: "thurs": "thurs" is not a day (use mon, tue, wed, thu, fri, sat, sun; did you mean "thursday"?)',
        ),
        (
            '{ days = "xyz" }',
            f'{SH}.days: "xyz": "xyz" is not a day (use mon, tue, wed, thu, fri, sat, sun)',
        ),
        (
            '{ days = "fri-mon" }',
            f'{SH}.days: "fri-mon": the range "fri-mon" runs backwards; weeks run mon to sun (write "fri-sun,mon-mon" to wrap past Sunday)',
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
            f'{SH}.days: expected a string of days {DAY_EXAMPLES}, found array (write one string: "mon,tue")',
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
            f'{SH}.to: "08:00" is not after from ("18:00"); hours cannot run past midnight (use "24:00" for the end of the day)',
        ),
        (
            '{ from = "08:00", to = "08:00" }',
            f'{SH}.to: "08:00" is not after from ("08:00"); hours cannot run past midnight (use "24:00" for the end of the day)',
        ),
        (
            "{ from = 08:00:00 }",
            f'{SH}.from: expected a "HH:MM" string, e.g. "08:00", found time 08:00:00 (write it as a string: "08:00")',
        ),
        (
            "{ to = 18 }",
            f'{SH}.to: expected a "HH:MM" string, e.g. "08:00" or "24:00", found integer 18',
        ),
        (
            '{ days = "mon", timezone = "Mars/Olympus" }',
            f'{SH}.timezone: "Mars/Olympus" is not an IANA time zone (examples: "UTC", "Europe/Berlin", "America/New_York")',
        ),
        (
            '{ days = "mon", start = "08:00" }',
            f'{SH}: unknown key "start" (allowed: days, from, to, timezone)',
        ),
    ],
)
def test_service_hours_errors(table: str, message: str) -> None:
    assert error(slo(service_hours=table)) == message


# [[maintenance]] -------------------------------------------------------------------------------

WEEKLY = (
    '[[maintenance]]\nid = "sunday"\nmonitors = ["web"]\nrrule = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"\n'
    'duration = "30m"\ntimezone = "Europe/Berlin"\n'
)
ONCE = (
    '[[maintenance]]\nid = "sunday"\nservices = ["stack"]\nstart = 2026-10-04T02:00:00+02:00\n'
    'end = "2026-10-04T03:00:00Z"\n'
)
MW = 'c.toml: maintenance[0] (id "sunday")'


def weekly(**options: str | None) -> str:
    """Monitors "web" and "db", service "stack", and a recurring window, with ``options``."""
    return TWO + SERVICE + _edit(WEEKLY, options)


def once(**options: str | None) -> str:
    """Monitors "web" and "db", service "stack", and a one-off window, with ``options``."""
    return TWO + SERVICE + _edit(ONCE, options)


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
            '"FREQ=WEEKLY; BYDAY=SU": write the rule on one line without spaces, e.g. "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"',
        ),
        ('""', 'is empty: give a rule such as "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"'),
        ('"RRULE:"', 'is empty: give a rule such as "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"'),
        ("1", 'expected a string such as "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", found integer 1'),
        (
            '"FREQ=DAILY;COUNT=5"',
            '"FREQ=DAILY;COUNT=5": COUNT is not supported (there is no DTSTART to count from); end the rule with UNTIL=<UTC time>, e.g. UNTIL=20271231T235959Z',
        ),
        (
            '"FREQ=DAILY;UNTIL=next-year"',
            '"FREQ=DAILY;UNTIL=next-year": UNTIL must be a UTC time such as UNTIL=20271231T235959Z',
        ),
        (
            '"FREQ=DAILY;UNTIL=20271231T235959EST"',
            '"FREQ=DAILY;UNTIL=20271231T235959EST": UNTIL must be a UTC time such as UNTIL=20271231T235959Z',
        ),
        ('"FREQ=DAILY;FREQ=WEEKLY"', '"FREQ=DAILY;FREQ=WEEKLY": FREQ is given twice'),
        ('"FREQ=DAILY;INTERVAL=0"', '"FREQ=DAILY;INTERVAL=0": INTERVAL=0 must be at least 1'),
        (
            '"FREQ=SECONDLY;INTERVAL=30"',
            '"FREQ=SECONDLY;INTERVAL=30": FREQ=SECONDLY is not supported: a maintenance window recurs at most every minute',
        ),
        ('"FREQ=DAILY;INTERVAL=-2"', '"FREQ=DAILY;INTERVAL=-2": INTERVAL=-2 must be at least 1'),
        (
            '"FREQ=MONTHLY;BYMONTHDAY=0"',
            '"FREQ=MONTHLY;BYMONTHDAY=0": BYMONTHDAY=0 is out of range (allowed: 1 to 31 or -31 to -1)',
        ),
        (
            '"FREQ=MONTHLY;BYMONTHDAY=32"',
            '"FREQ=MONTHLY;BYMONTHDAY=32": BYMONTHDAY=32 is out of range (allowed: 1 to 31 or -31 to -1)',
        ),
        (
            '"FREQ=YEARLY;BYMONTH=1,13"',
            '"FREQ=YEARLY;BYMONTH=1,13": BYMONTH=13 is out of range (allowed: 1 to 12)',
        ),
        (
            '"FREQ=YEARLY;BYWEEKNO=54"',
            '"FREQ=YEARLY;BYWEEKNO=54": BYWEEKNO=54 is out of range (allowed: 1 to 53 or -53 to -1)',
        ),
        (
            '"FREQ=YEARLY;BYYEARDAY=0"',
            '"FREQ=YEARLY;BYYEARDAY=0": BYYEARDAY=0 is out of range (allowed: 1 to 366 or -366 to -1)',
        ),
        (
            '"FREQ=WEEKLY;BYDAY=1SU"',
            '"FREQ=WEEKLY;BYDAY=1SU": BYDAY=1SU: a numbered weekday (like 1SU, -1FR) needs FREQ=MONTHLY or FREQ=YEARLY',
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
            '"0 2 * *" has 4 fields; cron needs five: minute hour day-of-month month day-of-week (e.g. "0 2 * * 0")',
        ),
        (
            '"0 0 2 * * 0"',
            '"0 0 2 * * 0" has 6 fields; cron needs five: minute hour day-of-month month day-of-week (e.g. "0 2 * * 0")',
        ),
        (
            '""',
            '"" has 0 fields; cron needs five: minute hour day-of-month month day-of-week (e.g. "0 2 * * 0")',
        ),
        (
            '"@daily"',
            '"@daily": give the five fields (minute hour day-of-month month day-of-week), not a nickname (write "0 0 * * *")',
        ),
        (
            '"@reboot"',
            '"@reboot": give the five fields (minute hour day-of-month month day-of-week), not a nickname',
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
            f'{MW}.duration: expected a duration string such as "30s", found integer 30 (durations are strings with a unit: "30s")',
        ),
        (
            weekly(timezone='"Europe/Berlim"'),
            f'{MW}.timezone: "Europe/Berlim" is not an IANA time zone (did you mean "Europe/Berlin"?)',
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
            f'{MW}.start: 2026-10-04T02:00:00 has no UTC offset: add "Z" for UTC or an offset such as "+02:00" (e.g. 2026-10-04T02:00:00Z)',
        ),
        (
            once(end='"2026-10-04T03:00:00"'),
            f'{MW}.end: "2026-10-04T03:00:00" has no UTC offset: add "Z" for UTC or an offset such as "+02:00" (e.g. "2026-10-04T03:00:00Z")',
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
            f'{MW}.monitors[0]: "stack" is not a monitor id (it is a service: list it under "services")',
        ),
        (
            weekly(services='["web"]'),
            f'{MW}.services[0]: "web" is not a service id (it is a monitor: list it under "monitors")',
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
            f'{MW}.monitors: expected an array of monitor ids such as ["web", "db"], found string "web" (write ["web"])',
        ),
        (weekly(reason='""'), f"{MW}.reason: is empty (leave the key out instead)"),
        (weekly(reason="1"), f"{MW}.reason: expected a string, found integer 1"),
        (weekly(reson='"x"'), f'{MW}: unknown key "reson" (did you mean "reason"?)'),
        (weekly(until='"x"'), f'{MW}: unknown key "until"'),
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
            "c.toml: maintenance: expected an array of tables, found table (write [[maintenance]], not [maintenance])",
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
        + _edit(
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
        f'{MW}.timezone: "Mars" is not an IANA time zone (examples: "UTC", "Europe/Berlin", "America/New_York")',
        f'{MW}.rrule: "FREQ=DAILY;COUNT=2": COUNT is not supported (there is no DTSTART to count from); end the rule with UNTIL=<UTC time>, e.g. UNTIL=20271231T235959Z',
        f'{MW}.duration: "0s": the duration must be greater than 0',
    ]


def test_sla_errors_are_all_listed_at_once() -> None:
    text = (
        '[daemon]\nconnectivity_check = ["tcp://x"]\n'
        + TWO
        + _edit(SERVICE, {"rule": '"most"'})
        + _edit(SLO_TABLE, {"objective": "100"})
        + _edit(WEEKLY, {"duration": '"40d"'})
    )
    assert errors(text) == [
        'c.toml: daemon.connectivity_check[0]: "tcp://x": give a port from 1 to 65535 (e.g. "tcp://x:443")',
        f'{SVC}.rule: "most" is not a service rule (allowed: all, any, quorum)',
        f"{SL}.objective: 100 is out of range (allowed: more than 0, less than 100, in percent)",
        f'{MW}.duration: "40d" is too long: a maintenance window lasts at most 31d',
    ]


# summary of services, SLOs and maintenance -------------------------------------------------------


def test_summary_sla_lines() -> None:
    text = (
        TWO
        + _edit(SERVICE, {"rule": '"quorum"', "quorum": "1"})
        + '[[service]]\nid = "db-only"\nmonitors = ["db"]\n'
        + _edit(SLO_TABLE, {"target": '"stack"', "id": '"web-availability"', "period": '"month"'})
        + _edit(
            SLO_TABLE,
            {
                "id": '"latency"',
                "window": None,
                "period": '"quarter"',
                "timezone": '"Europe/Berlin"',
                "objective": "99",
                "latency": '{ threshold = "300ms", objective = 99.0 }',
                "credits": "[{ below = 99, credit = 10 }]",
                "service_hours": '{ days = "mon-fri" }',
            },
        )
        + _edit(
            SLO_TABLE,
            {
                "id": '"short"',
                "window": '"1h30m"',
                "credits": "[{ below = 99, credit = 10 }, { below = 98, credit = 20 }]",
            },
        )
        + WEEKLY
        + ONCE.replace('"sunday"', '"once"')
    )
    lines = summarize(load(text)).split("\n")
    assert lines[7:] == [
        "  services    2 (all 1, quorum 1)",
        "  slos        3",
        "  slo         web-availability: stack >= 99.9% over 30d / month",
        "  slo         latency: web >= 99% over quarter (Europe/Berlin), latency 99.0% < 300ms, "
        "1 credit tier, service hours",
        "  slo         short: web >= 99.9% over 1h30m, 2 credit tiers",
        "  maintenance 2 (1 recurring, 1 one-off)",
    ]


def test_summary_shows_ten_slos_at_most() -> None:
    slos = "".join(_edit(SLO_TABLE, {"id": f'"s{i}"'}) for i in range(12))
    lines = summarize(load(TWO + slos)).split("\n")
    assert lines[7] == "  slos        12"
    assert lines[8] == "  slo         s0: web >= 99.9% over 30d"
    assert lines[17:] == ["  slo         s9: web >= 99.9% over 30d", "              ... 2 more"]


def test_shipped_example_has_a_service_an_slo_and_a_window() -> None:
    c = load_config(EXAMPLE)
    assert [s.id for s in c.services] == ["self"]
    (s,) = c.slos
    assert (s.target, s.objective, s.window, s.period) == (
        "self",
        Decimal("99.9"),
        30 * 86400,
        "month",
    )
    assert [t.below for t in s.credits] == [Decimal("99.9"), Decimal("99.0"), Decimal("95.0")]
    (w,) = c.maintenance
    assert w.recurrence == Recurrence(
        rrule="FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", cron=None, duration=1800.0, timezone="Europe/Berlin"
    )
    assert c.retention.rollup == 400 * 86400


def test_shipped_example_commented_options_are_valid() -> None:
    """Uncommenting the documented SLA options gives a config that loads."""
    text = EXAMPLE.read_text()
    for key in (
        "api_token",
        "connectivity_check",
        "customer",
        "effective_from",
        "effective_until",
        "latency",
        "service_hours",
    ):
        assert text.count(f"\n# {key} = ") == 1, key
        text = text.replace(f"\n# {key} = ", f"\n{key} = ")
    start = text.index('# [[maintenance]]\n# id = "db-upgrade"')
    end = text.index("\n\n", start)
    text = text[:start] + text[start:end].replace("# ", "") + text[end:]
    c = loads_config(text, "example", secrets="check", environ={})
    # the credential is only there under systemd: check-config counts it, as summarize says
    assert c.daemon.api_token is None and c.unresolved_credentials == ("api-token",)
    assert "1 secret is read from systemd credentials when the daemon runs (api-token)" in (
        summarize(c)
    )
    assert len(c.daemon.connectivity_check) == 2
    (s,) = c.slos
    assert s.customer and s.effective_from and s.effective_until and s.latency and s.service_hours
    assert [w.id for w in c.maintenance] == ["sunday-patching", "db-upgrade"]
    assert c.maintenance[1].start == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)


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
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
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
        *config_module.TOP_KEYS,
        *config_module.DAEMON_KEYS,
        *config_module.COMMON_MONITOR_KEYS,
        *config_module.KIND_KEYS["http"],
        *config_module.KIND_KEYS["tcp"],
        *config_module.SERVICE_KEYS,
        *config_module.SLO_KEYS,
        *config_module.MAINTENANCE_KEYS,
        *config_module.LATENCY_KEYS,
        *config_module.CREDIT_KEYS,
        *config_module.SERVICE_HOURS_KEYS,
        *config_module.POLICY_KEYS,
        *config_module.RETENTION_KEYS,
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
    config = _check_outcome(_toml_document(doc))
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


# secret references (uptimed.config.secrets; the rules at the top of uptimed.config) --------------------

SECRET = "s3cr3t-Value"


def _secret_free(text: str) -> None:
    assert SECRET not in text and "s3cr3t" not in text, text


def test_each_form_resolves_in_every_secret_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "web-token").write_text(f"{SECRET}-cred\n")
    (creds / "api-token").write_text(f"{SECRET}-api\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.setenv("WEB_USER", "alice")
    (tmp_path / "pw").write_text(f"{SECRET}-file\n\n")
    text = (
        '[daemon]\napi_token = "${credential:api-token}"\n'
        'connectivity_check = ["https://${env:WEB_USER}:${file:pw}@canary.example/"]\n'
        + http(
            url='"https://${env:WEB_USER}:${file:pw}@example.com/x"',
            headers='{ X-Api-Key = "${credential:web-token}", Accept = "text/plain" }',
        )
    )
    c = load(text)
    (m,) = c.monitors
    assert c.daemon.api_token == f"{SECRET}-api"
    assert m.spec.url == f"https://alice:{SECRET}-file@example.com/x"
    assert m.spec.headers == (("X-Api-Key", f"{SECRET}-cred"), ("Accept", "text/plain"))
    assert c.daemon.connectivity_check == (f"https://alice:{SECRET}-file@canary.example/",)
    assert m.target == "https://***:***@example.com/x"
    assert c.unresolved_credentials == ()
    for shown in (repr(c), repr(m), repr(m.spec), repr(c.daemon), summarize(c), m.target):
        _secret_free(shown)
    assert repr(m.spec.headers[0][1]) == "'***'"  # a credential header, wholly masked
    # the runner scrubs these from probe errors
    assert {f"{SECRET}-file", f"{SECRET}-cred", "alice"} <= set(secrets_of(m.spec))


def test_a_relative_file_is_relative_to_the_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "etc" / "uptimed"
    conf.mkdir(parents=True)
    (conf / "secrets").mkdir()
    (conf / "secrets" / "token").write_text(SECRET + "\n")
    (conf / "c.toml").write_text('[daemon]\napi_token = "${file:secrets/token}"\n' + HTTP)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    (elsewhere / "secrets").mkdir()
    (elsewhere / "secrets" / "token").write_text("wrong\n")
    monkeypatch.chdir(elsewhere)
    assert load_config(conf / "c.toml").daemon.api_token == SECRET
    assert load_config("../etc/uptimed/c.toml").daemon.api_token == SECRET
    # text without a file name: relative to the working directory
    assert loads_config(
        '[daemon]\napi_token = "${file:secrets/token}"\n' + HTTP
    ).daemon.api_token == ("wrong")


@pytest.mark.parametrize(
    ("user", "password", "encoded"),
    [
        ("alice", "p@ss/w:rd", "alice:p%40ss%2Fw%3Ard"),
        ("bob", "100% sure?#", "bob:100%25%20sure%3F%23"),
        ("carol", "é", "carol:%C3%A9"),  # Latin-1, as UTF-8 percent-encoding (yarl decodes it)
        ("dave", "a+b=c&d", "dave:a%2Bb%3Dc%26d"),
    ],
)
def test_userinfo_values_are_percent_encoded(
    monkeypatch: pytest.MonkeyPatch, user: str, password: str, encoded: str
) -> None:
    monkeypatch.setenv("U", user)
    Path("pw").write_text(password + "\n")
    (m,) = load(http(url='"http://${env:U}:${file:pw}@h.example:8080/p?q=1"')).monitors
    assert m.spec.url == f"http://{encoded}@h.example:8080/p?q=1"
    assert isinstance(m.spec.url, SecretText) and password in m.spec.url.secrets
    assert m.target == "http://***:***@h.example:8080/p?q=1"
    if len(password) >= 4:  # shorter ones are not scrubbed (redact.MIN_SCRUB_CHARS)
        assert password in secrets_of(m.spec)


def test_references_mix_with_literal_text_and_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T", SECRET)
    (m,) = load(
        http(
            url='"https://svc-${env:T}@h/$${not-a-reference}"',
            headers='{ X-Sig = "v1 ${env:T} ${env:T}", X-Literal = "$${env:T}" }',
        )
    ).monitors
    assert m.spec.url == f"https://svc-{SECRET}@h/${{not-a-reference}}"
    assert m.spec.headers == (("X-Sig", f"v1 {SECRET} {SECRET}"), ("X-Literal", "${env:T}"))
    assert repr(m.spec.headers[0][1]) == "'v1 *** ***'"  # masked where the secret stands
    assert SECRET in secrets_of(m.spec)  # not a credential-looking name: declared by the reference
    _secret_free(repr(m))


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            {"headers": '{ Authorization = "Bearer ${env:UNSET_TOKEN}" }'},
            ".headers.Authorization: ${env:UNSET_TOKEN}: the environment variable UNSET_TOKEN "
            "is not set",
        ),
        (
            {"headers": '{ Authorization = "${file:/nonexistent/uptimed/tok}" }'},
            ".headers.Authorization: ${file:/nonexistent/uptimed/tok}: cannot read: no such file",
        ),
        (
            {"url": '"https://u:${file:missing-pw}@h/"'},
            '.url: ${file:missing-pw}: cannot read "{cwd}/missing-pw": no such file',
        ),
        (
            {"headers": '{ X-Token = "${credential:../etc/shadow}" }'},
            ".headers.X-Token: ${credential:../etc/shadow}: a credential name is a plain file name "
            '(no "/", not "." or ".."), as in LoadCredential=NAME:PATH',
        ),
        (
            {"headers": '{ X-Token = "${secret:tok}" }'},
            ".headers.X-Token: ${secret:tok} is not a secret reference (use ${env:NAME}, "
            "${file:PATH} or ${credential:NAME}; write $${ for a literal ${)",
        ),
        (
            {"headers": '{ X-Token = "${credential:web-token}" }'},
            ".headers.X-Token: ${credential:web-token}: $CREDENTIALS_DIRECTORY is not set; systemd "
            "sets it for a unit with LoadCredential=web-token:PATH (outside systemd, use "
            "${file:PATH})",
        ),
        (
            {"url": '"https://h/${env:SECRET_VALUE}"'},
            ".url: ${env:SECRET_VALUE}: in a URL, a reference can only stand in the user name or "
            'password, as in "https://${env:WEB_USER}:${file:/etc/uptimed/web-password}@host/"',
        ),
        (
            {"url": '"https://h/?token=${env:SECRET_VALUE}"'},
            ".url: ${env:SECRET_VALUE}: in a URL, a reference can only stand in the user name or "
            'password, as in "https://${env:WEB_USER}:${file:/etc/uptimed/web-password}@host/"',
        ),
        (
            {"url": '"https://${env:SECRET_VALUE}.example/"'},
            ".url: ${env:SECRET_VALUE}: in a URL, a reference can only stand in the user name or "
            'password, as in "https://${env:WEB_USER}:${file:/etc/uptimed/web-password}@host/"',
        ),
        (
            {"headers": '{ X-Token = "${env:MULTILINE}" }'},
            ".headers.X-Token: ${env:MULTILINE}: the value it gives holds a line break or control "
            "character, which a header value cannot carry",
        ),
        (
            {"url": '"https://${env:SECRET_VALUE}:${env:SECRET_VALUE}@h/"', "body": '"x"'},
            "",  # resolves: no error (a control for the other cases' environment)
        ),
    ],
)
def test_reference_errors_name_the_reference_never_the_value(
    monkeypatch: pytest.MonkeyPatch, option: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("SECRET_VALUE", SECRET)
    monkeypatch.setenv("MULTILINE", f"{SECRET}\nX-Injected: 1")
    monkeypatch.delenv("UNSET_TOKEN", raising=False)
    text = http(**option)
    if not message:
        load(text)
        return
    (line,) = errors(text)
    assert line == WEB + message.replace("{cwd}", os.getcwd())
    _secret_free(line)


def test_every_unresolvable_reference_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("A", raising=False)
    lines = errors(
        '[daemon]\napi_token = "${file:no-token}"\n'
        + http(url='"https://${env:A}:${file:no-pw}@h/"', headers='{ X = "${env:A}${env:A}" }')
    )
    cwd = os.getcwd()
    assert lines == [
        f'c.toml: daemon.api_token: ${{file:no-token}}: cannot read "{cwd}/no-token": no such file',
        f"{WEB}.url: ${{env:A}}: the environment variable A is not set",
        f'{WEB}.url: ${{file:no-pw}}: cannot read "{cwd}/no-pw": no such file',
        f"{WEB}.headers.X: ${{env:A}}: the environment variable A is not set",  # once per value
    ]


def test_modes_resolve_check_and_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("pw").write_text(SECRET)
    text = '[daemon]\napi_token = "${credential:api-token}"\n' + http(
        url='"https://web:${file:pw}@h/"',
        headers='{ Authorization2 = "${credential:web-token}", X-Also = "${credential:api-token}" }',
    )
    Path("c.toml").write_text(text)
    # resolve (the daemon): a credential without $CREDENTIALS_DIRECTORY is an error
    with pytest.raises(ConfigError) as e:
        load_config("c.toml")
    assert [line.split(": ")[1] for line in e.value.errors] == [
        "daemon.api_token",
        'monitor[0] (id "web").headers.Authorization2',
        'monitor[0] (id "web").headers.X-Also',
    ]
    # check (check-config): tolerated, left as written, and counted once per credential
    c = load_config("c.toml", secrets="check")
    (m,) = c.monitors
    assert c.unresolved_credentials == ("api-token", "web-token")
    assert c.daemon.api_token is None  # never the reference's text as a token
    assert m.spec.headers[0] == ("Authorization2", "${credential:web-token}")
    assert m.spec.url == f"https://web:{SECRET}@h/"  # files are read and checked all the same
    assert summarize(c).split("\n")[-1] == (
        "  secrets     2 secrets are read from systemd credentials when the daemon runs "
        "(api-token, web-token)"
    )
    Path("pw").unlink()
    with pytest.raises(ConfigError) as e:
        load_config("c.toml", secrets="check")
    assert e.value.errors == [
        f'c.toml: monitor[0] (id "web").url: ${{file:pw}}: cannot read "{os.getcwd()}/pw": '
        "no such file"
    ]
    # skip (status, report, maintenance): nothing is read, everything left as written
    c = load_config("c.toml", secrets="skip")
    (m,) = c.monitors
    assert m.spec.url == "https://web:${file:pw}@h/" and m.target == "https://***:***@h/"
    assert c.daemon.api_token is None and c.unresolved_credentials == ()
    assert "secrets" not in summarize(c)
    # ... but the syntax is still checked in every mode
    for mode in ("resolve", "check", "skip"):
        with pytest.raises(ConfigError) as e:
            loads_config(http(headers='{ X = "${nope}" }'), "c.toml", secrets=mode)  # type: ignore[arg-type]
        assert "${nope} is not a secret reference" in str(e.value)
    # with the credentials there, check resolves them like resolve does
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "api-token").write_text("t1")
    (creds / "web-token").write_text("t2")
    Path("pw").write_text(SECRET)
    environ = {"CREDENTIALS_DIRECTORY": str(creds)}
    checked = loads_config(text, "c.toml", secrets="check", environ=environ)
    assert checked == loads_config(text, "c.toml", environ=environ)
    assert checked.unresolved_credentials == () and checked.daemon.api_token == "t1"


def test_secrets_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="secrets must be one of resolve, check, skip"):
        loads_config(HTTP, secrets="lazy")  # type: ignore[arg-type]


def test_a_blank_resolved_token_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLANK", "  ")
    (line,) = errors('[daemon]\napi_token = "${env:BLANK}"\n' + HTTP)
    assert line == "c.toml: daemon.api_token: ${env:BLANK} gives a blank token"


def test_api_token_file_is_an_error_saying_what_to_write() -> None:
    (line,) = errors('[daemon]\napi_token_file = "/etc/uptimed/api-token"\n' + HTTP)
    assert line == (
        "c.toml: daemon.api_token_file: was removed: api_token holds the token now; to read it "
        'from the same file, write api_token = "${file:/etc/uptimed/api-token}" instead (or '
        '"${credential:NAME}" for a systemd credential)'
    )
    (line,) = errors("[daemon]\napi_token_file = 1\n" + HTTP)
    assert 'write api_token = "${file:PATH}" instead' in line
    # also next to a valid api_token, and in every mode
    with pytest.raises(ConfigError):
        loads_config('[daemon]\napi_token = "x"\napi_token_file = "t"\n' + HTTP, secrets="skip")


def test_a_changed_token_file_gives_a_new_token_on_the_next_load() -> None:
    """What a SIGHUP reload does: load_config again, and files are read again."""
    Path("c.toml").write_text('[daemon]\napi_token = "${file:token}"\n' + HTTP)
    Path("token").write_text("first\n")
    first = load_config("c.toml")
    Path("token").write_text("second\n")
    second = load_config("c.toml")
    assert (first.daemon.api_token, second.daemon.api_token) == ("first", "second")
    assert first.sha256 == second.sha256  # the config file itself did not change
    assert first != second  # so a reload sees the change


def test_literal_credentials_are_masked_too() -> None:
    (m,) = load(
        http(
            url=f'"https://bob:{SECRET}@h/"',
            headers=f'{{ X-Auth-Token = "{SECRET}", Cookie = "sid={SECRET}" }}',
        )
    ).monitors
    for shown in (repr(m), repr(m.spec)):
        _secret_free(shown)
    # a control character in a credential header is reported without echoing the value
    (line,) = errors(http(headers=f'{{ Authorization = "Bearer {SECRET}\\r\\nX: 1" }}'))
    assert line == (
        f"{WEB}.headers.Authorization: the value (not shown: a credential): header values cannot "
        "hold line breaks or control characters"
    )


# requests aiohttp refuses (the rules at the top of uptimed.config) ------------------------------
#
# Each case is refused by the loader, and the very same options given straight to the probe fail
# inside aiohttp before any request reaches the target: if aiohttp stops refusing one (or
# refuses it differently), the second half fails and the refusal can go.


@dataclasses.dataclass(frozen=True)
class Refusal:
    url: str  # "{target}" is the loopback target's host:port
    error: str  # the loader's message, after f'{WEB}.'
    aiohttp: str  # in the probe's error: aiohttp's own text
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    body: str | None = None
    env: tuple[tuple[str, str], ...] = ()

    def toml(self, where: str) -> str:
        options = {"url": _toml_string(self.url.replace("{target}", where))}
        if self.headers:
            options["headers"] = _toml_value(dict(self.headers))
        if self.method != "GET":
            options["method"] = _toml_string(self.method)
        if self.body is not None:
            options["body"] = _toml_string(self.body)
        return http(**options)

    def spec(self, where: str) -> HttpSpec:
        url = self.url.replace("{target}", where)
        for name, value in self.env:  # resolved as the loader would: percent-encoded
            url = url.replace(f"${{env:{name}}}", config_module.percent_encode(value, safe=""))
        return HttpSpec(
            url=url,
            timeout=3.0,
            method=self.method,
            headers=self.headers,
            body=None if self.body is None else self.body.encode(),
        )


CANNOT_COMBINE = (
    "cannot be combined with a user name or password in url (aiohttp refuses the request): keep "
    "this header and remove the userinfo from url, or remove this header (the url's user name and "
    "password are sent as Basic auth)"
)
COMBINE = "Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL"
LATIN1 = (
    "the user name or password has a character outside Latin-1, which aiohttp cannot send as "
    "Basic auth: take the credentials out of url and send the header yourself: Authorization = "
    '"Basic <base64 of UTF-8 user:password>"'
)
NOT_A_LENGTH = "is not a number of bytes, which aiohttp refuses"
LEAVE_IT_OUT = ": leave Content-Length out (aiohttp sends the body's length itself)"

REFUSALS = {
    "userinfo and Authorization": Refusal(
        "http://user:pw@{target}/echo",
        f"headers.Authorization: {CANNOT_COMBINE}",
        COMBINE,
        headers=(("Authorization", "Bearer t0ken"),),
    ),
    "a user name alone and authorization, any case": Refusal(
        "http://user@{target}/echo",
        f"headers.authorization: {CANNOT_COMBINE}",
        COMBINE,
        headers=(("authorization", "Bearer t0ken"),),
    ),
    "an empty user and password and Authorization": Refusal(
        "http://:@{target}/echo",
        f"headers.AUTHORIZATION: {CANNOT_COMBINE}",
        COMBINE,
        headers=(("AUTHORIZATION", "Bearer t0ken"),),
    ),
    "a user name with a colon": Refusal(
        "http://a%3Ab:pw@{target}/echo",
        'url: "http://***:***@{target}/echo": the user name holds a ":" (written %3A), which '
        "Basic auth cannot carry (aiohttp refuses the request): use a user name without one",
        'A ":" is not allowed in login',
    ),
    "a password outside Latin-1, percent-encoded": Refusal(
        "http://user:%E2%82%AC@{target}/echo",
        f'url: "http://***:***@{{target}}/echo": {LATIN1}',
        "UnicodeEncodeError: 'latin-1' codec can't encode character",
    ),
    "a user name outside Latin-1, as written": Refusal(
        "http://żaneta:pw@{target}/echo",
        f'url: "http://***:***@{{target}}/echo": {LATIN1}',
        "UnicodeEncodeError: 'latin-1' codec can't encode character",
    ),
    "a password outside Latin-1, from a reference": Refusal(
        "http://user:${env:EURO_PASSWORD}@{target}/echo",
        "url: ${env:EURO_PASSWORD}: the value has a character outside Latin-1, which aiohttp "
        "cannot send as Basic auth: take the credentials out of url and send the header "
        'yourself, e.g. Authorization = "Basic ${file:PATH}" with the base64 of UTF-8 '
        '"user:password" in that file',
        "UnicodeEncodeError: 'latin-1' codec can't encode character",
        env=(("EURO_PASSWORD", "100€"),),
    ),
    "a user name with a colon, from a reference": Refusal(
        "http://${env:COLON_USER}:pw@{target}/echo",
        'url: ${env:COLON_USER}: the user name it gives holds a ":", which Basic auth cannot '
        "carry (aiohttp refuses the request): use a user name without one",
        'A ":" is not allowed in login',
        env=(("COLON_USER", "dom:ain"),),
    ),
    "a Content-Length that is not a number, with a body": Refusal(
        "http://{target}/echo",
        f'headers.Content-Length: "abc" {NOT_A_LENGTH} with a body{LEAVE_IT_OUT}',
        "Invalid Content-Length header",
        headers=(("Content-Length", "abc"),),
        method="POST",
        body="x",
    ),
    "a Content-Length with a space, with an empty body": Refusal(
        "http://{target}/echo",
        f'headers.content-length: " 0" {NOT_A_LENGTH} with a body{LEAVE_IT_OUT}',
        "Invalid Content-Length header",
        headers=(("content-length", " 0"),),
        method="PUT",
        body="",
    ),
    "a Content-Length that is not a number, with Expect: 100-continue": Refusal(
        "http://{target}/echo",
        f'headers.Content-Length: "+1" {NOT_A_LENGTH} with "Expect: 100-continue"{LEAVE_IT_OUT}',
        "Invalid Content-Length header",
        headers=(("Expect", "100-Continue"), ("Content-Length", "+1")),
    ),
    "text after an IPv6 literal": Refusal(
        "http://[::1]x/echo",
        'url: "http://[::1]x/echo" is not a URL aiohttp can request (Invalid IPv6 URL)',
        "InvalidUrlClientError",
    ),
    "a backslash in the userinfo": Refusal(
        "http://us\\er:pw@{target}/echo",
        'url: "http://***:***@{target}/echo" is not a URL aiohttp can request (Invalid URL: '
        "backslash ('\\') is not allowed in the authority component per RFC 3986.)",
        "InvalidUrlClientError",
    ),
}


@pytest.fixture
async def http_ctx() -> AsyncIterator[ProbeContext]:
    session = make_session()
    try:
        yield ProbeContext(http=session)
    finally:
        await session.close()


@pytest.mark.parametrize("case", list(REFUSALS.values()), ids=list(REFUSALS))
async def test_refused_by_the_loader_and_by_aiohttp(
    case: Refusal,
    http_ctx: ProbeContext,
    target: Target,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    where = f"127.0.0.1:{target.port}"
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    # (a) the config is refused, at the key, with what to do instead
    (line,) = errors(case.toml(where))
    assert line == f"{WEB}.{case.error.replace('{target}', where)}"
    _secret_free(line)
    # (b) the same options given to the real probe fail inside aiohttp, nothing sent. (Which
    # error kind the probe gives such a failure is its own business, not asserted here.)
    result = await probe(case.spec(where), http_ctx)
    assert not result.ok, result
    assert case.aiohttp in (result.error or ""), result.error
    assert target.requests == []


# What each refusal's message suggests, or the nearest accepted options, does work.
ACCEPTED = {
    "userinfo alone, sent as Basic auth": Refusal(
        "http://user:pw@{target}/echo", "", "Authorization: Basic dXNlcjpwdw=="
    ),
    "Authorization alone": Refusal(
        "http://{target}/echo",
        "",
        "Authorization: Bearer t0ken",
        headers=(("Authorization", "Bearer t0ken"),),
    ),
    "an empty userinfo is none, for aiohttp too": Refusal(
        "http://@{target}/echo",
        "",
        "Authorization: Bearer t0ken",
        headers=(("Authorization", "Bearer t0ken"),),
    ),
    "Basic auth written as a header, UTF-8": Refusal(
        "http://{target}/echo",
        "",
        "Authorization: Basic " + base64.b64encode("user:100€".encode()).decode(),
        headers=(("Authorization", "Basic " + base64.b64encode("user:100€".encode()).decode()),),
    ),
    "a Latin-1 password": Refusal(
        "http://user:%C3%A9t%C3%A9@{target}/echo",
        "",
        "Authorization: Basic " + base64.b64encode("user:été".encode("latin-1")).decode(),
    ),
    "a password with a colon": Refusal(
        "http://user:a%3Ab@{target}/echo",
        "",
        "Authorization: Basic " + base64.b64encode(b"user:a:b").decode(),
    ),
    "a numeric Content-Length with a body": Refusal(
        "http://{target}/echo",
        "",
        "Content-Length: 1",
        headers=(("Content-Length", "1"),),
        method="POST",
        body="x",
    ),
    "Expect: 100-continue without a Content-Length": Refusal(
        "http://{target}/echo", "", "Expect: 100-continue", headers=(("Expect", "100-continue"),)
    ),
}


@pytest.mark.parametrize("case", list(ACCEPTED.values()), ids=list(ACCEPTED))
async def test_near_misses_are_accepted_and_work(
    case: Refusal,
    http_ctx: ProbeContext,
    target: Target,  # noqa: F811 - the fixture
) -> None:
    where = f"127.0.0.1:{target.port}"
    (m,) = load(case.toml(where)).monitors
    assert m.spec.url == case.spec(where).url and m.spec.headers == case.spec(where).headers
    result = await probe(m.spec, http_ctx)
    assert result.ok, result
    (request,) = target.requests
    name, _, value = case.aiohttp.partition(": ")
    assert request.header(name) == value


async def test_resolved_credentials_reach_the_target_and_nothing_else(
    http_ctx: ProbeContext,
    target: Target,  # noqa: F811 - the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A password with "@", "/" and ":" from a file, a header from a credential: the target gets
    them decoded, while the config's repr, target and summary show none of them."""
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "tenant").write_text(f"{SECRET}-tenant\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    Path("pw").write_text(f"p@ss/w:rd-{SECRET}\n")
    where = f"127.0.0.1:{target.port}"
    c = load(
        http(
            url=f'"http://alice:${{file:pw}}@{where}/echo"',
            headers='{ X-Tenant = "${credential:tenant}" }',
        )
    )
    (m,) = c.monitors
    assert (await probe(m.spec, http_ctx)).ok
    (request,) = target.requests
    basic = base64.b64encode(f"alice:p@ss/w:rd-{SECRET}".encode()).decode()
    assert request.header("Authorization") == f"Basic {basic}"
    assert request.header("X-Tenant") == f"{SECRET}-tenant"
    for shown in (repr(c), summarize(c), m.target):
        _secret_free(shown)
    # a failure's message is scrubbed of them by the runner (secrets_of + scrub)
    message = f"server said: bad tenant {SECRET}-tenant for p@ss/w:rd-{SECRET}"
    _secret_free(scrub(message, secrets_of(m.spec)))
