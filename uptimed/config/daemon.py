"""[daemon]: the database, the listener, logging, concurrency, the API token and the
connectivity checks.

Rules:
  database   relative paths are resolved against the config file's directory (not the working
             directory), so the daemon and every command find the same file. Not set:
             "$STATE_DIRECTORY/uptimed.db" when STATE_DIRECTORY is set (systemd's
             StateDirectory=; the first entry when it lists several, colon-separated); else
             /var/lib/uptimed/uptimed.db for a config in /etc/uptimed (the systemd install:
             the unit's state directory, so `uptimed status` from an admin's shell finds the
             daemon's database); else "uptimed.db" beside the config file.
  listen     "HOST:PORT"; IPv6 addresses in brackets ("[::1]:9464").
  log_level  debug, info, warning or error, any case.
  api_token  the API's bearer token, best given by reference ("${credential:api-token}",
             "${file:/etc/uptimed/api-token}"; a literal works too; see
             uptimed.config.secret_options). Surrounding blanks are dropped; line breaks and
             control characters are errors. The removed api_token_file is an error that says
             what to write instead.
  connectivity_check
             canaries that tell our own network outage from the targets': "tcp://HOST:PORT" or
             http(s) URLs (uptimed.config.urls), each at most once.
  location   where this daemon probes from, 1 to 64 letters, digits, "_", "." and "-": a
             `location` label on every series, recorded in the database's runs.
  shard      "I/N" (1 <= I <= N <= 1000): run only the monitors whose stable hash falls in
             shard I of N (uptimed.core.shard), so one config serves N machines unedited.
  location_quorum
             1 to 1000: how many locations must see a monitor down for the fleet to count it
             down (the shipped Prometheus rules and the fleet report).
  public_url, dashboard_url
             http(s) URLs for the links in notifications: where people reach this daemon's
             API (an incident's link is PUBLIC_URL/api/v1/incidents/ID), and a Grafana
             dashboard. Never credentials: they are sent to every receiver.
  metrics_token, metrics_username, metrics_password
             credentials /metrics asks for: a bearer token, and/or basic auth (username and
             password together). Token and password are secret options, checked as api_token.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from uptimed.config.checker import Checker, Invalid, Table, config_dir, echo
from uptimed.config.secret_options import secret
from uptimed.config.urls import MAX_URL_CHARS, mask_userinfo, secret_url, shown_url
from uptimed.config.values import CONTROL, choice, host_port, host_problem, integer
from uptimed.model.config import DaemonConfig

DATABASE_NAME = "uptimed.db"
SYSTEM_CONFIG_DIR = "/etc/uptimed"  # the systemd install's config directory ...
SYSTEM_STATE_DIR = "/var/lib/uptimed"  # ... and its StateDirectory=uptimed
DEFAULT_LISTEN = ("127.0.0.1", 9464)
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error")
MAX_CONCURRENCY = 100_000

DAEMON_KEYS = (
    "database",
    "listen",
    "log_level",
    "max_concurrency",
    "api_token",
    "connectivity_check",
    "location",
    "shard",
    "location_quorum",
    "metrics_token",
    "metrics_username",
    "metrics_password",
    "public_url",
    "dashboard_url",
)
MAX_SHARDS = 1000
#: Keys that were removed: each gets its own error saying what to write instead.
REMOVED_DAEMON_KEYS = ("api_token_file",)

_LISTEN_EXAMPLES = '(examples: "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464")'
_CANARY_EXAMPLES = '(examples: "tcp://192.0.2.1:443", "https://example.com/")'
_TOKEN_EXAMPLES = '(examples: "${credential:api-token}", "${file:/etc/uptimed/api-token}")'


def default_database(config_path: str, environ: Mapping[str, str] | None = None) -> str:
    """The database path when ``[daemon].database`` is not set (see the rules above);
    ``environ`` defaults to ``os.environ``."""
    env = os.environ if environ is None else environ
    first = (env.get("STATE_DIRECTORY") or "").split(":")[0]
    if first:
        return os.path.join(os.path.abspath(first), DATABASE_NAME)
    directory = config_dir(config_path)
    if directory == SYSTEM_CONFIG_DIR:
        return os.path.join(SYSTEM_STATE_DIR, DATABASE_NAME)
    return os.path.join(directory, DATABASE_NAME)


def check_daemon(c: Checker, table: Table | None, config_path: str) -> DaemonConfig | None:
    """[daemon] as a :class:`DaemonConfig`; None when it is wrong (``table`` None: the section
    was not a table, already reported)."""
    if table is None:
        return None
    n_errors = len(c.errors)
    c.unknown_keys(
        {k: v for k, v in table.items() if k not in REMOVED_DAEMON_KEYS}, "daemon", DAEMON_KEYS
    )
    database: str | None = default_database(config_path, c.environ)
    if "database" in table:
        database = c.attempt(_database, table["database"], "daemon.database")
        if database is not None:
            database = os.path.normpath(os.path.join(c.base_dir, database))
    listen: tuple[str, int] | None = DEFAULT_LISTEN
    if "listen" in table:
        listen = c.attempt(listen_address, table["listen"], "daemon.listen")
    log_level: str | None = "info"
    if "log_level" in table:
        log_level = c.attempt(
            choice, table["log_level"], "daemon.log_level", LOG_LEVELS, "a log level"
        )
    max_concurrency: int | None = 500
    if "max_concurrency" in table:
        max_concurrency = c.attempt(
            integer, table["max_concurrency"], "daemon.max_concurrency", 1, MAX_CONCURRENCY
        )
    api_token = _optional_secret(c, table, "api_token")
    metrics_token = _optional_secret(c, table, "metrics_token")
    metrics_password = _optional_secret(c, table, "metrics_password")
    metrics_username = None
    if "metrics_username" in table:
        metrics_username = c.attempt(
            _username, table["metrics_username"], "daemon.metrics_username"
        )
    for given, missing in (
        ("metrics_username", "metrics_password"),
        ("metrics_password", "metrics_username"),
    ):
        if given in table and missing not in table:
            c.error(f"daemon.{given}", f"needs daemon.{missing} too: basic auth takes both")
    location = None
    if "location" in table:
        location = c.attempt(_location, table["location"], "daemon.location")
    shard = None
    if "shard" in table:
        shard = c.attempt(_shard, table["shard"], "daemon.shard")
    location_quorum: int | None = 1
    if "location_quorum" in table:
        location_quorum = c.attempt(
            integer, table["location_quorum"], "daemon.location_quorum", 1, MAX_SHARDS
        )
    links = {}
    for key in ("public_url", "dashboard_url"):
        if key in table:
            links[key] = c.attempt(_link, table[key], f"daemon.{key}")
    if "api_token_file" in table:
        _api_token_file(c, table["api_token_file"], "daemon.api_token_file")
    connectivity_check: tuple[str, ...] | None = ()
    if "connectivity_check" in table:
        connectivity_check = c.attempt(
            _canaries, table["connectivity_check"], "daemon.connectivity_check"
        )
    if (
        len(c.errors) > n_errors
        or database is None
        or listen is None
        or log_level is None
        or max_concurrency is None
        or connectivity_check is None
        or location_quorum is None
    ):
        return None
    return DaemonConfig(
        database=database,
        listen_host=listen[0],
        listen_port=listen[1],
        log_level=log_level,
        max_concurrency=max_concurrency,
        api_token=api_token,
        connectivity_check=connectivity_check,
        location=location,
        shard=shard,
        location_quorum=location_quorum,
        metrics_token=metrics_token,
        metrics_username=metrics_username,
        metrics_password=metrics_password,
        public_url=links.get("public_url"),
        dashboard_url=links.get("dashboard_url"),
    )


def _link(c: Checker, value: object, path: str) -> str:
    """An http(s) URL without credentials, for the links in notifications."""
    if not isinstance(value, str):
        raise c.type_error(path, "an http(s) URL", value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise c.error(path, f"{echo(value)} is not an http(s) URL")
    if parts.username or parts.password:
        raise c.error(path, "must not hold credentials: every receiver sees it")
    if CONTROL.search(value) or len(value) > MAX_URL_CHARS:
        raise c.error(path, "control characters or too long")
    return value.rstrip("/")


def _optional_secret(c: Checker, table: Table, key: str) -> str | None:
    """A token-like secret option, or None when unset, unresolved or wrong (reported)."""
    if key not in table:
        return None
    try:
        return _api_token(c, table[key], f"daemon.{key}")
    except Invalid:
        return None


LOCATION = re.compile(r"[A-Za-z0-9_.-]{1,64}")
LOCATION_RULE = 'give 1 to 64 letters, digits, "_", "." or "-" (e.g. "fra1")'


def _location(c: Checker, value: object, path: str) -> str:
    if not isinstance(value, str):
        raise c.type_error(path, 'a string (e.g. "fra1")', value)
    if not LOCATION.fullmatch(value):
        raise c.error(path, f"{echo(value)}: {LOCATION_RULE}")
    return value


def parse_shard(text: str) -> tuple[int, int] | None:
    """``"I/N"`` as (I, N) when 1 <= I <= N <= MAX_SHARDS, else None."""
    m = re.fullmatch(r"([0-9]{1,4})/([0-9]{1,4})", text.strip())
    if m is None:
        return None
    index, count = int(m[1]), int(m[2])
    return (index, count) if 1 <= index <= count <= MAX_SHARDS else None


SHARD_RULE = f'"I/N" with 1 <= I <= N <= {MAX_SHARDS} (e.g. "2/3": the second of three)'


def _shard(c: Checker, value: object, path: str) -> tuple[int, int]:
    if not isinstance(value, str):
        raise c.type_error(path, f"a string {SHARD_RULE}", value)
    shard = parse_shard(value)
    if shard is None:
        raise c.error(path, f"{echo(value)} is not {SHARD_RULE}")
    return shard


def _username(c: Checker, value: object, path: str) -> str:
    if not isinstance(value, str):
        raise c.type_error(path, "a string", value)
    if not value or ":" in value or CONTROL.search(value):
        raise c.error(path, "must be a non-empty name without ':' or control characters")
    return value


def _database(c: Checker, value: object, path: str) -> str:
    if not isinstance(value, str):
        raise c.type_error(path, "a string (a file path)", value)
    if not value:
        raise c.error(path, 'is empty: give a file path, e.g. "/var/lib/uptimed/uptimed.db"')
    if "\0" in value:
        raise c.error(path, f"{echo(value)} contains a NUL character")
    return value


def listen_address(c: Checker, value: object, path: str) -> tuple[str, int]:
    """A listener's "HOST:PORT" ([daemon] listen, [portal] listen)."""
    if not isinstance(value, str):
        raise c.type_error(path, 'a string "HOST:PORT"', value)
    shown = echo(value)
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise c.error(path, f"{shown} is not HOST:PORT {_LISTEN_EXAMPLES}")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise c.error(path, f"{shown}: {echo(host)} is not an IPv6 address") from None
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep:
            raise c.error(path, f"{shown} has no port {_LISTEN_EXAMPLES}")
        if ":" in host:
            raise c.error(
                path, f'{shown}: write IPv6 addresses in brackets, e.g. "[{host}]:{port_text}"'
            )
        if not host:
            raise c.error(
                path,
                f'{shown} has no host: use "0.0.0.0:{port_text}" for every IPv4 interface, '
                f'"[::]:{port_text}" for every interface',
            )
        problem = host_problem(host)
        if problem:
            raise c.error(path, f"{shown}: host {echo(host)} {problem}")
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 1 <= int(port_text) <= 65535:
        raise c.error(path, f"{shown}: the port must be a number from 1 to 65535")
    return (host, int(port_text))


def _api_token(c: Checker, value: object, path: str) -> str | None:
    """The token; None when its references were left unresolved (see the rules above)."""
    if not isinstance(value, str):
        raise c.type_error(path, f"a string {_TOKEN_EXAMPLES}", value)
    if not value.strip():
        raise c.error(path, f"is empty: give the token by reference {_TOKEN_EXAMPLES}")
    token = secret(c, value, path)
    if not token.resolved:
        # Left as written, the token would be the reference's text, which anyone reading
        # the config knows: no token at all is the safe value for a mode that needs none.
        return None
    if not token.text.strip():  # e.g. an environment variable set to spaces
        raise c.error(path, f"{token.shown_refs} gives a blank token")
    bad = [ref for ref, text in token.values.items() if CONTROL.search(text)]
    if bad:
        raise c.error(
            path,
            f"{bad[0].shown}: the token holds a line break or control character, which an "
            "Authorization header cannot carry",
        )
    if CONTROL.search(token.text):  # literal text, not shown: it may be the token itself
        raise c.error(path, "the token cannot hold a line break or control character")
    # Blanks around it could never be matched: a client's "Bearer  tok " is read as "tok".
    return token.text.strip()


def _api_token_file(c: Checker, value: object, path: str) -> None:
    """The removed option: an error that says what to write instead."""
    old = value if isinstance(value, str) and value.strip() else "PATH"
    c.error(
        path,
        "was removed: api_token holds the token now; to read it from the same file, write "
        f"api_token = {echo('${file:' + old + '}', 300)} instead "
        '(or "${credential:NAME}" for a systemd credential)',
    )


def _canaries(c: Checker, value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        hint = ""
        if isinstance(value, str):
            value = mask_userinfo(value)
            hint = f" (write [{echo(value, 200)}])"
        raise c.type_error(path, f"an array of targets {_CANARY_EXAMPLES}", value, hint)
    out: list[str] = []
    first: dict[str, int] = {}
    n_errors = len(c.errors)
    for j, item in enumerate(value):
        ipath = f"{path}[{j}]"
        target = c.attempt(_canary, item, ipath)
        if target is None:
            continue
        if target in first:
            c.error(
                ipath,
                f"{echo(shown_url(target), 100)} is listed twice (first at [{first[target]}])",
            )
        else:
            first[target] = j
            out.append(target)
    if len(c.errors) > n_errors:
        raise Invalid
    return tuple(out)


def _canary(c: Checker, value: object, path: str) -> str:
    if not isinstance(value, str):
        raise c.type_error(path, f"a string {_CANARY_EXAMPLES}", value)
    scheme = value.partition("://")[0].lower() if "://" in value else ""
    if scheme in ("http", "https"):
        return secret_url(c, value, path).value
    shown = echo(mask_userinfo(value), 100)
    if scheme != "tcp":
        raise c.error(
            path,
            f'{shown} is not a connectivity check: use "tcp://HOST:PORT" or an http:// or '
            f"https:// URL {_CANARY_EXAMPLES}",
        )
    if len(value) > MAX_URL_CHARS or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise c.error(path, f"{shown} contains a space or control character")
    try:
        parts = urlsplit(value)
        port = parts.port
        host = parts.hostname
    except ValueError as e:
        raise c.error(path, f"{shown} is not HOST:PORT ({e})") from None
    if parts.username is not None or parts.path or parts.query or parts.fragment:
        raise c.error(
            path, f'{shown}: a tcp check is only "tcp://HOST:PORT" (no user, path or query)'
        )
    if not host:
        raise c.error(path, f'{shown} has no host (e.g. "tcp://192.0.2.1:443")')
    if port is None or port == 0:
        raise c.error(
            path,
            f'{shown}: give a port from 1 to 65535 (e.g. "tcp://{host_port(host, 443)}")',
        )
    problem = host_problem(host)
    if problem:
        raise c.error(path, f"{shown}: host {echo(host)} {problem}")
    return value
