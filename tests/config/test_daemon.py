"""[daemon] and [retention]: the database, listener, log level, API token and connectivity
checks, and retention (uptimed.config.daemon, uptimed.config.retention)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.config.documents import (
    HTTP,
    error,
    load,
)
from uptimed.config import default_database, load_config
from uptimed.model.config import DaemonConfig

# [daemon] ------------------------------------------------------------------------------------


def test_daemon_options() -> None:
    c = load(
        '[daemon]\ndatabase = "data/u.db"\nlisten = "[::1]:9000"\nlog_level = "DEBUG"\n'
        "max_concurrency = 100000\n" + HTTP
    )
    assert c.daemon == DaemonConfig(
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
    assert load_config(path).daemon.database == str(tmp_path / "etc" / "u.db")
    path.write_text(HTTP)  # not set: beside the config file
    assert load_config(path).daemon.database == str(tmp_path / "etc" / "uptimed.db")
    assert default_database("/etc/uptimed/config.toml", {}) == "/var/lib/uptimed/uptimed.db"
    env = {"STATE_DIRECTORY": "/var/lib/uptimed"}
    assert default_database("/etc/uptimed/config.toml", env) == "/var/lib/uptimed/uptimed.db"
    assert default_database("/opt/x/c.toml", {"STATE_DIRECTORY": "st"}) == os.path.abspath(
        "st/uptimed.db"
    )


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
