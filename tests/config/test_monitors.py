"""[defaults] and [[monitor]]: defaults and merges, the timeout and interval rules, durations,
ids and kinds (uptimed.config.monitors, uptimed.config.values)."""

from __future__ import annotations

import dataclasses
import hashlib
import os

import pytest

from probes.http import HttpSpec
from probes.tcp import TcpSpec
from tests.config.documents import (
    DB,
    HTTP,
    TCP,
    WEB,
    error,
    errors,
    http,
    load,
)
from uptimed.model.config import DaemonConfig

# defaults ------------------------------------------------------------------------------------


def test_minimal_config_gets_every_default() -> None:
    c = load(HTTP)
    assert c.path == "c.toml"
    assert c.sha256 == hashlib.sha256(HTTP.encode()).hexdigest()
    assert c.daemon == DaemonConfig(
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
