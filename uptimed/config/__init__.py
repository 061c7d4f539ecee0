"""The validated configuration: frozen dataclasses built from a TOML file.

Nothing downstream reads the raw TOML: :func:`load_config` validates everything first and either
returns a :class:`Config` or raises :class:`ConfigError` listing every mistake it found.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import ipaddress
import math
import os
import re
import tomllib
import zoneinfo
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from datetime import time as time_of_day
from decimal import Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import quote as percent_encode
from urllib.parse import unquote, urlsplit

from yarl import URL

from probes.http import HttpSpec
from probes.tcp import TcpSpec
from uptimed.config.secrets import (
    MODES,
    CredentialsUnavailable,
    Mode,
    Piece,
    Reference,
    SecretError,
    references,
    render,
    resolve,
)
from uptimed.config.secrets import parse as parse_references
from uptimed.core.redact import MASK, UNPARSABLE, SecretText, is_secret_header, redact_url, scrub
from uptimed.core.times import format_duration, parse_duration, quote
from uptimed.errors import ConfigError
from uptimed.model.config import (
    SLO,
    Config,
    CreditTier,
    DaemonConfig,
    LatencyObjective,
    Maintenance,
    Monitor,
    Policy,
    Recurrence,
    Retention,
    Service,
    ServiceHours,
)

# LOADER ---------------------------------------------------------------------------------------
#
# How errors read. Each line is "FILE: KEYPATH: message". KEYPATH is the TOML path of the key at
# fault: daemon.listen, defaults.labels.team, retention.raw, monitor[3].interval,
# monitor[3].expect_status[1]. Monitors are numbered from 0 in file order; once a monitor's id is
# known (a valid id string), its path reads monitor[3] (id "web").interval. Errors about the id
# itself use the bare index: monitor[3].id: "a" is used twice (first at monitor[0]). Errors about a
# whole table (unknown or missing keys) name the table: monitor[0] (id "web"): unknown key ...
# Errors about the whole file have no KEYPATH: "FILE: no [[monitor]] defined", and TOML syntax
# errors put the position there: "FILE: line 3, column 10: TOML syntax error: ...".
# Values are echoed in double quotes with control characters escaped; URLs are echoed redacted.
#
# Defaults, resolved per monitor:
#   interval   the monitor's, else [defaults].interval, else 60s. At least 1s.
#   timeout    the monitor's own timeout, used as written: it must be strictly shorter than
#              the monitor's interval, else that is an error. A monitor without one gets
#              [defaults].timeout (10s when not set), capped at half of its own interval:
#              min(defaults.timeout or 10s, interval / 2). So "interval = 5s" alone gives a 2.5s
#              timeout, with or without an explicit timeout = "10s" in [defaults], and an
#              inherited timeout can never clash with an interval. (This is the rule
#              config.example.toml states: "Default: 10s, or half the interval when shorter".)
#   thresholds the monitor's, else [defaults], else 1.
#   labels     [defaults].labels, then the monitor's labels on top (same name: the monitor wins;
#              an empty string value removes the label); sorted by name.
#   database   relative paths are resolved against the config file's directory (not the working
#              directory), so the daemon and every command find the same file. Not set:
#              "$STATE_DIRECTORY/uptimed.db" when STATE_DIRECTORY is set (systemd's
#              StateDirectory=; the first entry when it lists several, colon-separated); else
#              /var/lib/uptimed/uptimed.db for a config in /etc/uptimed (the systemd install:
#              the unit's state directory, so `uptimed status` from an admin's shell finds the
#              daemon's database); else "uptimed.db" beside the config file.
#
# Other choices: durations follow uptimed.core.times (strings with units; a bare 30 is an error
# that suggests "30s"). kind is required (the error suggests one from url / host); kind and
# log_level ignore case; method is upper-cased. expect_status takes a list or a single item;
# items are 100..599 integers or "301", "200-299", "2xx"; ranges are sorted and merged.
# max_body_bytes takes an integer or "<number><unit>" with B, kB/MB/GB (1000s) or KiB/MiB/GiB
# (1024s), any case, no space. Redirects are capped at 10 (HttpSpec.max_redirects). tcp host
# may be a name, an IPv4 or IPv6 address (brackets optional). Keys of the other kind are errors
# ("url" on a tcp monitor); unknown keys get a difflib suggestion.
#
# Secrets. The config file is world-readable (the systemd unit's DynamicUser cannot own it), so a
# password or token can be kept elsewhere and referenced from inside a string value (grammar and
# messages: uptimed.config.secrets):
#   ${env:NAME}          the environment variable NAME (an error when unset or empty);
#   ${file:PATH}         the file's contents, surrounding whitespace stripped; a relative PATH is
#                        relative to the config file's directory, like [daemon].database;
#   ${credential:NAME}   the file $CREDENTIALS_DIRECTORY/NAME, i.e. a systemd credential
#                        (LoadCredential=NAME:/etc/uptimed/NAME); NAME has no "/" and is not "."
#                        or "..".
#   $${ is a literal ${; any other ${...} is an error naming these forms (so a typo never goes
#   out as text). Files are read afresh on every load, so a SIGHUP reload picks up a new value.
# References are allowed in the secret options, and only there:
#   monitor url, daemon.connectivity_check http(s) URLs
#              only in the userinfo (user name and password: "https://${env:U}:${file:pw}@h/").
#              Elsewhere in a URL they are an error. The resolved value is percent-encoded, so a
#              password holding "@", "/" or ":" works; a user name cannot hold ":" (Basic auth
#              splits there) and neither may hold a character outside Latin-1 (aiohttp encodes
#              Basic auth as Latin-1); both are errors naming the reference.
#   headers    anywhere in each value ("Bearer ${credential:web-token}"); the resolved text obeys
#              the header-value rules (no line break or control character).
#   daemon.api_token
#              the API's bearer token ("${credential:api-token}", "${file:/etc/uptimed/api-token}";
#              a literal works too). The removed daemon.api_token_file is an error that says
#              what to write instead. DaemonConfig.api_token holds the resolved token.
# load_config's secrets= says what happens to references:
#   "resolve"  (the daemon's start and its SIGHUP reload) each is resolved; one that cannot be
#              is an error with the key path: "c.toml: monitor[0] (id "web").headers.
#              Authorization: ${file:/etc/uptimed/tok}: cannot read: no such file".
#   "check"    (uptimed check-config) the same, except that a ${credential:...} while
#              CREDENTIALS_DIRECTORY is unset (an admin's shell, not the unit) is no error: the
#              value is left as written, Config.unresolved_credentials names it, and summarize()
#              says how many secrets the daemon reads from systemd credentials.
#   "skip"     (status, report, maintenance, which need no secret) syntax only; values are left
#              as written.
# A value whose references were left unresolved keeps its text as written, except api_token,
# which is then None: an unresolved reference must never become a guessable token.
# No resolved value is ever shown: messages name the reference (${file:/x}), URLs and header
# values holding credentials reach the model as uptimed.core.redact.SecretText (its repr is masked,
# and redact.secrets_of names its secrets for the runner to scrub from probe errors), and
# Monitor.target and every message show URLs redacted. The secrets themselves are percent-
# encoded in the probed URL and plain in header values.
#
# Requests aiohttp would refuse are config errors, with what to write instead (each is proved
# against the real probe in tests/test_config.py, so this list follows the library):
#   - a user name or password in url together with an Authorization header (aiohttp: "Cannot
#     combine AUTHORIZATION header with ... credentials encoded in URL"); "https://@h/" has
#     none, "https://:@h/" has (empty) ones, as aiohttp's yarl sees it;
#   - a user name holding ":" (written %3A), which Basic auth cannot carry;
#   - a user name or password with a character outside Latin-1 (aiohttp encodes Basic auth as
#     Latin-1): send the Authorization header yourself, base64 of UTF-8 "user:password";
#   - a Content-Length header that is not ASCII digits when the request has a body (body set,
#     even "") or an "Expect: 100-continue" header (aiohttp validates it only then);
#   - a URL yarl (aiohttp's URL parser) rejects although urllib accepts it: text after "[...]"
#     other than ":port", a backslash in the host part, "[" or "]" outside an IPv6 literal.
# Header values with line breaks or control characters and methods that are not RFC 9110 tokens
# were errors already; the rest of aiohttp's refusals need options uptimed never passes (auth=,
# json=, compress=, chunked=, proxies, fingerprints) or come from the target (redirects).
#
# Services, SLOs and maintenance windows (tables numbered from 0 like monitors: service[1],
# slo[0] (id "web-availability").credits[2].below, maintenance[0] (id "sunday").rrule):
#   ids        the monitor id grammar. Service ids are unique among services and must not be a
#              monitor id (an SLO target names either); SLO and maintenance ids are unique among
#              their own kind. References to monitors and services get a difflib suggestion; a
#              monitor whose other keys are wrong still counts as existing (no error cascade).
#   percent    objective, latency.objective and credits[].below are TOML numbers in percent,
#              kept as Decimal from the written text (99.9 -> Decimal("99.9"), via repr of the
#              float); a value in (0, 1] reads as a ratio written by mistake and is an error
#              that suggests the percent. credit is a number from 0 to 1000 (percent).
#              min_coverage is a percent from 0 to 100 inclusive (default 90; 0: no minimum), by
#              the same rules (0.9 is an error suggesting 90): below it an SLO's verdict is
#              "insufficient data", never met, and no credit tier is claimed.
#   instants   start/end and effective_from/effective_until: TOML offset date-times or RFC 3339
#              strings ("2026-10-04T02:00:00Z", "...+02:00", "t"/"z"/space accepted); a local
#              date-time, date or a string without offset is an error naming the fix. Stored
#              as aware datetimes in UTC.
#   time zones IANA names as zoneinfo.ZoneInfo accepts them, with a suggestion for near misses.
#   rrule      an RRULE body ("FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"; an "RRULE:" prefix is dropped)
#              checked by dateutil.rrule.rrulestr against an aware DTSTART of 2000-01-01 00:00 in
#              the window's timezone, so an UNTIL must be UTC ("...Z"). No DTSTART, RDATE, EXDATE
#              or COUNT (there is no first occurrence to count from), no FREQ=SECONDLY; INTERVAL
#              >= 1 and the BYxxx numbers within RFC 5545 ranges (dateutil silently ignores
#              BYMONTHDAY=0, say); numbered weekdays (1SU) only with MONTHLY or YEARLY.
#   cron       exactly five fields as croniter reads them (no @daily, no seconds or year field),
#              and must fire at least once in 50 years ("0 2 30 2 *" never does).
#   days       "mon-fri", "mon,wed,fri", "sat-sun", "mon-wed,fri": three-letter or full English
#              day names, any case, ranges not wrapping past Sunday, no day twice.


DATABASE_NAME = "uptimed.db"
SYSTEM_CONFIG_DIR = "/etc/uptimed"  # the systemd install's config directory ...
SYSTEM_STATE_DIR = "/var/lib/uptimed"  # ... and its StateDirectory=uptimed
DEFAULT_LISTEN = ("127.0.0.1", 9464)
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error")
KINDS: tuple[str, ...] = ("http", "tcp")
DEFAULT_INTERVAL = 60.0
DEFAULT_TIMEOUT = 10.0
MIN_INTERVAL = 1.0
MIN_RETENTION_RAW = 3600.0
DEFAULT_RETENTION_RAW = 14 * 86400.0
MAX_THRESHOLD = 1000
MAX_CONCURRENCY = 100_000
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_MAX_BODY_BYTES = 1024 * 1024 * 1024
MAX_REDIRECTS = 10
MAX_FILE_BYTES = 64 * 1024 * 1024  # ~200,000 monitors at ~300 bytes each
MAX_NAME_CHARS = 200
MAX_URL_CHARS = 8192
SUMMARY_SLOS = 10  # SLO lines shown by summarize()
MIN_RETENTION_ROLLUP = 86400.0
DEFAULT_RETENTION_ROLLUP = 400 * 86400.0
MAX_MAINTENANCE_DURATION = 31 * 86400.0
MIN_SLO_WINDOW = 1.0
DEFAULT_MIN_COVERAGE = Decimal(90)  # percent of eligible time with a verdict
MAX_CREDIT = 1000
MAX_REASON_CHARS = 1000
MAX_RULE_CHARS = 1000
RULES: tuple[str, ...] = ("all", "any", "quorum")
PERIODS: tuple[str, ...] = ("week", "month", "quarter", "year")
UNKNOWN_POLICIES: tuple[str, ...] = ("exclude", "down", "up")
MAINTENANCE_POLICIES: tuple[str, ...] = ("exclude", "up")
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Label names uptimed itself puts on its series (or Prometheus does): not allowed in labels.
RESERVED_LABELS: frozenset[str] = frozenset(
    {
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
)

TOP_KEYS = ("daemon", "defaults", "monitor", "retention", "service", "slo", "maintenance")
DAEMON_KEYS = (
    "database",
    "listen",
    "log_level",
    "max_concurrency",
    "api_token",
    "connectivity_check",
)
#: Keys that were removed: each gets its own error saying what to write instead.
REMOVED_DAEMON_KEYS = ("api_token_file",)
DEFAULTS_KEYS = ("interval", "timeout", "failure_threshold", "success_threshold", "labels")
RETENTION_KEYS = ("raw", "rollup")
SERVICE_KEYS = ("id", "name", "monitors", "rule", "quorum")
SLO_KEYS = (
    "id",
    "target",
    "objective",
    "window",
    "period",
    "timezone",
    "effective_from",
    "effective_until",
    "customer",
    "latency",
    "credits",
    "service_hours",
    "policy",
    "min_coverage",
)
LATENCY_KEYS = ("threshold", "objective")
CREDIT_KEYS = ("below", "credit")
SERVICE_HOURS_KEYS = ("days", "from", "to", "timezone")
POLICY_KEYS = ("unknown", "maintenance")
ONE_OFF_KEYS = ("start", "end")
RECURRENCE_KEYS = ("rrule", "cron", "duration", "timezone")
MAINTENANCE_KEYS = ("id", "monitors", "services", "reason", *ONE_OFF_KEYS, *RECURRENCE_KEYS)
COMMON_MONITOR_KEYS = ("id", "name", "kind", "enabled", *DEFAULTS_KEYS)
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "http": (
        "url",
        "method",
        "headers",
        "body",
        "expect_status",
        "follow_redirects",
        "max_body_bytes",
        "verify_tls",
    ),
    "tcp": ("host", "port"),
}

_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token: methods, header names
_HOST_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")
_SIZE = re.compile(r"([0-9]{1,20}(?:\.[0-9]{1,20})?)([A-Za-z]{0,3})")
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "kib": 2**10,
    "mb": 10**6,
    "mib": 2**20,
    "gb": 10**9,
    "gib": 2**30,
}
_SIZE_EXAMPLES = '(examples: 65536, "512KiB", "1MiB", "1MB")'
_STATUS_EXAMPLES = '(examples: 200, "200-299", "2xx", "301")'
_LISTEN_EXAMPLES = '(examples: "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464")'
_CANARY_EXAMPLES = '(examples: "tcp://192.0.2.1:443", "https://example.com/")'
_TOKEN_EXAMPLES = '(examples: "${credential:api-token}", "${file:/etc/uptimed/api-token}")'
_URL_REFERENCE_EXAMPLE = '"https://${env:WEB_USER}:${file:/etc/uptimed/web-password}@host/"'
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # what a header value cannot hold (RFC 9110)
_INSTANT_EXAMPLES = '(examples: 2026-10-04T02:00:00Z, "2026-10-04T02:00:00+02:00")'
_RRULE_EXAMPLE = '"FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"'
_CRON_EXAMPLE = '"0 2 * * 0"'
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_HH_MM = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DAY_NAMES: dict[str, int] = {
    **{d: i for i, d in enumerate(DAYS)},
    **{
        d: i
        for i, d in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
#: RFC 5545 ranges of the numeric RRULE parts (dateutil checks some, ignores 0 in others).
_RRULE_RANGES: dict[str, tuple[int, int, bool]] = {  # name: (lo, hi, negatives allowed)
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYHOUR": (0, 23, False),
    "BYMINUTE": (0, 59, False),
    "BYSECOND": (0, 59, False),
    "BYSETPOS": (1, 366, True),
    "BYEASTER": (0, 366, True),
}


class _Bad:
    """A value that was present but invalid; its error is already recorded."""

    def __repr__(self) -> str:
        return "<bad>"


_BAD: Any = _Bad()


def load_config(path: str | os.PathLike[str], *, secrets: Mode = "resolve") -> Config:
    """Read, parse and validate the config file at ``path``.

    ``Config.path`` is ``path`` as given (not made absolute); ``Config.sha256`` hashes the file's
    bytes. A UTF-8 byte-order mark at the start is ignored.

    ``secrets`` says what to do with ``${env:...}``, ``${file:...}`` and ``${credential:...}``
    references: "resolve" them (the daemon), "check" them but tolerate systemd credentials that
    are not there (``uptimed check-config``), or "skip" them (commands that need no secret);
    see the comment above. Relative ``${file:...}`` paths are relative to the file's directory.

    :raises ConfigError: for anything wrong, with every mistake found, one line each (see the
        comment above for the format). Never raises anything else for whatever the file holds.
    """
    name = os.fsdecode(os.fspath(path))
    label = _file_label(name)
    try:
        with open(name, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([f"{label}: cannot read: no such file"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{label}: cannot read: is a directory, not a file"]) from None
    except PermissionError:
        raise ConfigError([f"{label}: cannot read: permission denied"]) from None
    except OSError as e:
        raise ConfigError([f"{label}: cannot read: {e.strerror or e}"]) from None
    except ValueError as e:  # e.g. "embedded null byte" in the path
        raise ConfigError([f"{label}: cannot read: {e}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError([f"{label}: larger than {MAX_FILE_BYTES // 2**20} MiB; is it a config?"])
    return loads_config(data, name, secrets=secrets)


def loads_config(
    data: bytes | str,
    path: str = "<config>",
    *,
    secrets: Mode = "resolve",
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Like :func:`load_config`, from the file's contents; ``path`` names it in errors and
    places relative paths (the working directory for "<config>"). ``environ`` (default:
    ``os.environ``) is what ``${env:...}``, ``$CREDENTIALS_DIRECTORY`` and ``$STATE_DIRECTORY``
    are read from."""
    if secrets not in MODES:  # a caller's bug, not the file's: no ConfigError
        raise ValueError(f"secrets must be one of {', '.join(MODES)}, not {secrets!r}")
    label = _file_label(path)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ConfigError(
            [
                (
                    f"{label}: not valid UTF-8 at byte offset {e.start} (line {line}): "
                    "the file must be UTF-8 encoded"
                )
            ]
        ) from None
    text = text.removeprefix("\ufeff")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{label}: {_toml_error(str(e))}"]) from None
    except RecursionError:
        raise ConfigError([f"{label}: TOML syntax error: values nested too deeply"]) from None
    except ValueError as e:  # an integer too long to convert (over 4300 digits)
        why = "an integer with too many digits" if "digits" in str(e) else _quote(str(e), 200)
        raise ConfigError([f"{label}: TOML syntax error: {why}"]) from None
    checker = _Checker(label, secrets, os.environ if environ is None else environ, path)
    try:
        config = checker.build(doc, path, sha256)
    except Exception as e:  # noqa: BLE001 - a bug here must still read as a config error
        # The text of an unexpected exception could hold a value read for a reference.
        text = scrub(str(e), sorted(checker.secret_values))
        raise ConfigError(
            [
                (
                    f"{label}: internal error while checking the config, please report it: "
                    f"{type(e).__name__}: {_quote(text, 200)}"
                )
            ]
        ) from (None if checker.secret_values else e)  # its traceback could show one too
    if checker.errors or config is None:
        raise ConfigError(checker.errors or [f"{label}: invalid config"])
    return config


def default_database(config_path: str, environ: Any = None) -> str:
    """The database path when ``[daemon].database`` is not set (see the rules above)."""
    env = os.environ if environ is None else environ
    first = (env.get("STATE_DIRECTORY") or "").split(":")[0]
    if first:
        return os.path.join(os.path.abspath(first), DATABASE_NAME)
    directory = _config_dir(config_path)
    if directory == SYSTEM_CONFIG_DIR:
        return os.path.join(SYSTEM_STATE_DIR, DATABASE_NAME)
    return os.path.join(directory, DATABASE_NAME)


def _config_dir(config_path: str) -> str:
    """The directory relative paths in a config are resolved against: the config file's own
    (the working directory for a config given as text, path "<config>")."""
    if config_path.startswith("<"):
        return os.getcwd()
    return os.path.dirname(os.path.abspath(config_path))


def summarize(config: Config) -> str:
    """The one-screen summary printed by ``uptimed check-config``."""
    enabled = [m for m in config.monitors if m.enabled]
    disabled = len(config.monitors) - len(enabled)
    kinds = Counter(m.kind for m in enabled)
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    monitors = f"{len(enabled)} enabled" + (f" ({by_kind})" if by_kind else "")
    load = sum(1.0 / m.interval for m in enabled)
    load_text = f"{load:.2f}" if load == 0 or load >= 0.01 else f"{load:.2g}"
    d = config.daemon
    rows = [
        ("database", d.database),
        ("listen", _host_port(d.listen_host, d.listen_port)),
        ("monitors", f"{monitors}, {disabled} disabled"),
        ("intervals", _tally([m.interval for m in enabled])),
        # the effective timeouts: a monitor's own, or the inherited one capped at interval / 2
        ("timeouts", _tally([m.timeout for m in enabled])),
        ("load", f"{load_text} probes/s"),
    ]
    pending = config.unresolved_credentials
    if pending:
        more = f", ... {len(pending) - 5} more" if len(pending) > 5 else ""
        names = ", ".join(pending[:5]) + more
        are = "secrets are" if len(pending) > 1 else "secret is"
        text = f"{len(pending)} {are} read from systemd credentials when the daemon runs ({names})"
        rows.append(("secrets", text))
    if config.services:
        rules = Counter(s.rule for s in config.services)
        by_rule = ", ".join(f"{r} {n}" for r, n in sorted(rules.items()))
        rows.append(("services", f"{len(config.services)} ({by_rule})"))
    if config.slos:
        rows.append(("slos", str(len(config.slos))))
        rows += [("slo", _describe_slo(slo)) for slo in config.slos[:SUMMARY_SLOS]]
        if len(config.slos) > SUMMARY_SLOS:
            rows.append(("", f"... {len(config.slos) - SUMMARY_SLOS} more"))
    if config.maintenance:
        recurring = sum(1 for w in config.maintenance if w.recurrence is not None)
        one_off = len(config.maintenance) - recurring
        rows.append(
            ("maintenance", f"{len(config.maintenance)} ({recurring} recurring, {one_off} one-off)")
        )
    return "\n".join([f"{config.path}: OK"] + [f"  {k:<12}{v}" for k, v in rows])


def _tally(durations: list[float]) -> str:
    """``10s x2, 1m30s x1``: how many of each duration, shortest first, at most 8 kinds."""
    counts = sorted(Counter(durations).items())
    shown = [f"{format_duration(d)} x{n}" for d, n in counts[:8]]
    if len(counts) > 8:
        shown.append(f"... {len(counts) - 8} more")
    return ", ".join(shown) or "-"


def _describe_slo(slo: SLO) -> str:
    """``web-availability: web >= 99.9% over 30d / month (Europe/Berlin), latency 99.0% < 300ms,
    3 credit tiers, service hours``."""
    over = [_show_window(slo.window)] if slo.window is not None else []
    if slo.period is not None:
        over.append(slo.period + (f" ({slo.timezone})" if slo.timezone != "UTC" else ""))
    text = f"{slo.id}: {slo.target} >= {slo.objective}% over {' / '.join(over)}"
    extras = []
    if slo.latency is not None:
        extras.append(
            f"latency {slo.latency.objective}% < {format_duration(slo.latency.threshold)}"
        )
    if slo.credits:
        extras.append(f"{len(slo.credits)} credit tier{'s' if len(slo.credits) > 1 else ''}")
    if slo.service_hours is not None:
        extras.append("service hours")
    if slo.min_coverage != DEFAULT_MIN_COVERAGE:
        extras.append(f"min coverage {_show_decimal(slo.min_coverage)}%")
    return ", ".join([text, *extras])


def _show_window(seconds: float) -> str:
    """A window in days when it is whole days ("30d", not "4w2d"), else as a duration."""
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)}d"
    return format_duration(seconds)


# helpers --------------------------------------------------------------------------------------


def _quote(text: str, limit: int = 60) -> str:
    return quote(text, limit)


def _file_label(name: str) -> str:
    """The file name as given, unless it holds characters that would break the line."""
    return name if name.isprintable() else _quote(name, 1000)


def _toml_error(message: str) -> str:
    """tomllib's "Invalid value (at line 3, column 10)" -> "line 3, column 10: TOML syntax
    error: Invalid value"."""
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.DOTALL)
    if m:
        return f"line {m[2]}, column {m[3]}: TOML syntax error: {m[1]}"
    m = re.fullmatch(r"(.*) \(at end of document\)", message, re.DOTALL)
    if m:
        return f"end of file: TOML syntax error: {m[1]}"
    return f"TOML syntax error: {message}"


def _join(prefix: str, key: str) -> str:
    """Key path ``prefix.key``; keys that are not bare TOML keys are quoted."""
    k = key if _BARE_KEY.fullmatch(key) else _quote(key)
    return f"{prefix}.{k}" if prefix else k


def _show_number(value: int | float) -> str:  # noqa: PYI041 - the int branch needs int
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if value.bit_length() > 70:  # show the first digits and the length, not 4000 digits
        if value.bit_length() > 14_000:  # str() refuses more than 4300 digits
            return f"{'-' if value < 0 else ''}(about {int(value.bit_length() * 0.30103)} digits)"
        digits = str(abs(value))
        return f"{'-' if value < 0 else ''}{digits[:12]}…({len(digits)} digits)"
    return str(value)


def _describe(value: Any) -> str:
    """What was found, for type errors: ``integer 30``, ``string "x"``, ``table``."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {_show_number(value)}"
    if isinstance(value, float):
        return f"float {_show_number(value)}"
    if isinstance(value, str):
        return f"string {_quote(value)}"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "array"
    if isinstance(value, datetime):
        return f"datetime {value.isoformat()}"
    if isinstance(value, date):
        return f"date {value.isoformat()}"
    if isinstance(value, time):
        return f"time {value.isoformat()}"
    return type(value).__name__


def _suggest(key: str, allowed: tuple[str, ...] | list[str]) -> str:
    """`` (did you mean "interval"?)``, or the allowed keys when there are few, or ""."""
    match = difflib.get_close_matches(key[:100].lower(), allowed, n=1, cutoff=0.6)
    if match:
        return f' (did you mean "{match[0]}"?)'
    if len(allowed) <= 8:
        return f" (allowed: {', '.join(allowed)})"
    return ""


def _safe_url(url: str) -> str:
    """``url`` for an error message: redacted, or crudely masked when it cannot be parsed."""
    safe = redact_url(url)
    if safe != UNPARSABLE:
        return safe
    masked = _mask_userinfo(url)
    return masked.split("?")[0] + ("?…" if "?" in masked else "")


def _mask_userinfo(text: str) -> str:
    """``text`` with every ``//user:password@`` masked: for text too broken to redact_url, so
    that no message ever echoes a password."""
    return re.sub(r"//[^/?#]*@", "//***@", text)


def _shown_refs(value: _Secret) -> str:
    """The references of a resolved value, for a message: ``${env:A}, ${file:b}``."""
    return ", ".join(ref.shown for ref in value.values)


def _shown_url(url: str) -> str:
    """A checked URL as it may be shown: a SecretText's own redacted form (computed before its
    references were resolved), else the URL redacted."""
    return url.shown if isinstance(url, SecretText) else redact_url(url)


def _userinfo(url: str) -> str:
    """The userinfo of ``url`` as urlsplit and yarl both find it ("" when there is none)."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return ""
    return netloc.rpartition("@")[0]


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _host_problem(host: str) -> str | None:
    """Why ``host`` is not a usable host name or IP address, or None when it is."""
    if not host:
        return "is empty"
    if len(host) > 253:
        return "is longer than 253 characters"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if ":" in host:
        return "is not a valid IPv6 address"
    if re.fullmatch(r"[0-9.]+", host):
        return "is not a valid IPv4 address"
    name = host
    if not host.isascii():  # internationalised name: check its ASCII (punycode) form
        try:
            name = host.encode("idna").decode("ascii")
        except UnicodeError:
            return "is not a valid host name"
    if not _HOSTNAME.fullmatch(name):
        return "is not a valid host name or IP address"
    return None


_CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def _show_decimal(value: Decimal) -> str:
    """``Decimal("99.900")`` -> ``99.9``; ``Decimal("1E+2")`` -> ``100``."""
    return format(value.normalize(), "f")


def _show_instant(value: Any) -> str:
    """A start/end value as written: a TOML date-time, or a quoted string."""
    return value.isoformat() if isinstance(value, datetime) else _quote(str(value))


def _zone_ok(name: str) -> bool:
    if not name or len(name) > 255 or not name.isprintable():
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except Exception:  # noqa: BLE001 - ValueError, ZoneInfoNotFoundError, OSError, ...
        return False
    return True


def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


@functools.lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _suggest_zone(name: str) -> str | None:
    """The zone ``name`` probably means: same name in another case, the zone a city name is in
    ("Berlin" -> "Europe/Berlin"), or a close spelling."""
    names = _zone_names()
    key = name[:100].lower()
    by_lower = {n.lower(): n for n in names}
    if key in by_lower:
        return by_lower[key]
    if re.fullmatch(r"[A-Z]{2,5}", name):
        return None  # an abbreviation such as "CEST": a near spelling would be another zone
    by_city = {n.rsplit("/", 1)[-1].lower(): n for n in names if "/" in n}
    if key.replace(" ", "_") in by_city:
        return by_city[key.replace(" ", "_")]
    match = difflib.get_close_matches(name[:100], names, n=1, cutoff=0.6)
    return match[0] if match else None


def _rrule_problem(parts: dict[str, str]) -> str | None:
    """What dateutil accepts in an RRULE but RFC 5545 does not (and dateutil would mishandle
    later, e.g. ignore BYMONTHDAY=0 or fail on BYDAY=9SU), or None."""
    if parts.get("FREQ") == "SECONDLY":
        return "FREQ=SECONDLY is not supported: a maintenance window recurs at most every minute"
    try:
        if "INTERVAL" in parts and int(parts["INTERVAL"]) < 1:
            return f"INTERVAL={parts['INTERVAL']} must be at least 1"
        for name, (lo, hi, negative) in _RRULE_RANGES.items():
            for item in parts[name].split(",") if name in parts else ():
                n = int(item)
                if not (lo <= n <= hi or negative and -hi <= n <= -lo):
                    allowed = f"{lo} to {hi}" + (f" or -{hi} to -{max(lo, 1)}" if negative else "")
                    return f"{name}={item} is out of range (allowed: {allowed})"
        freq = parts.get("FREQ")
        for item in parts["BYDAY"].split(",") if "BYDAY" in parts else ():
            m = re.fullmatch(r"([+-]?[0-9]+)?([A-Z]{2})|([A-Z]{2})\(([+-]?[0-9]+)\)", item)
            ordinal = m and (m[1] or m[4])
            if not ordinal:
                continue
            if freq not in ("MONTHLY", "YEARLY"):
                return (
                    f"BYDAY={item}: a numbered weekday (like 1SU, -1FR) needs FREQ=MONTHLY or "
                    "FREQ=YEARLY"
                )
            most = 5 if freq == "MONTHLY" or "BYMONTH" in parts else 53
            if not 1 <= abs(int(ordinal)) <= most:
                return f"BYDAY={item}: the number must be 1 to {most} or -{most} to -1"
    except ValueError:
        return None  # dateutil read it; nothing more to say
    return None


def _merge_ranges(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


@dataclass
class _Defaults:
    """[defaults] after checking. ``None`` marks an invalid value (its error is recorded)."""

    interval: float | None = DEFAULT_INTERVAL
    interval_written: bool = False
    timeout: float | None = None  # written timeout; None with timeout_bad False: not written
    timeout_bad: bool = False
    failure_threshold: int | None = 1
    success_threshold: int | None = 1
    labels: dict[str, str] | None = None


@dataclass(frozen=True)
class _Secret:
    """A secret option's string after its references were dealt with (see _Checker.secret)."""

    text: str  # resolved; as written when ``resolved`` is False
    resolved: bool  # False: references left for later (secrets="skip", or "check" credentials)
    pieces: tuple[Piece, ...]
    values: dict[Reference, str]  # the value each reference resolved to


@dataclass(frozen=True)
class _Url:
    """A checked URL of a secret option (see _Checker.secret_url)."""

    value: str  # what is requested: a SecretText when it holds credentials or references
    target: str  # the URL redacted: Monitor.target, and what messages show
    credentials: bool  # it has a userinfo, which aiohttp sends as Basic auth


class _Checker:
    """Collects every error while turning the TOML document into the model."""

    def __init__(self, label: str, mode: Mode, environ: Mapping[str, str], config_path: str):
        self.label = label
        self.errors: list[str] = []
        # valid ids of [[monitor]] and [[service]] tables (see build)
        self.ids: dict[str, dict[str, int] | None] = {"monitor": None, "service": None}
        self.mode = mode
        self.environ = environ
        self.base_dir = _config_dir(config_path)  # where relative ${file:...} paths start
        #: secrets="check": credentials left unresolved (CREDENTIALS_DIRECTORY unset)
        self.unresolved_credentials: set[str] = set()
        #: every value read for a reference, to scrub from an internal error's text
        self.secret_values: set[str] = set()

    # recording -----------------------------------------------------------------------------

    def error(self, path: str, message: str) -> Any:
        where = f"{path}: " if path else ""
        self.errors.append(f"{self.label}: {where}{message}")
        return _BAD

    def type_error(self, path: str, wanted: str, value: Any, hint: str = "") -> Any:
        return self.error(path, f"expected {wanted}, found {_describe(value)}{hint}")

    def unknown_keys(
        self, table: dict[str, Any], path: str, allowed: tuple[str, ...], kind: str | None = None
    ) -> None:
        for key in table:
            if key in allowed:
                continue
            owner = next((k for k, keys in KIND_KEYS.items() if key in keys), None)
            if kind is not None and owner is not None and owner != kind:
                self.error(
                    _join(path, key),
                    f'"{key}" belongs to {owner} monitors; this monitor is kind "{kind}"',
                )
            else:
                self.error(path, f"unknown key {_quote(key)}{_suggest(key, allowed)}")

    def section(self, doc: dict[str, Any], key: str) -> dict[str, Any] | None:
        value = doc.get(key, {})
        if not isinstance(value, dict):
            self.type_error(key, f"a table ([{key}])", value)
            return None
        return value

    # scalar checks: each returns the value or _BAD (after recording the error) ----------------

    def string(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, "a string", value)
        return value

    def boolean(self, value: Any, path: str) -> Any:
        if not isinstance(value, bool):
            hint = ""
            if isinstance(value, str) and value.lower() in ("true", "false"):
                hint = f" (write {value.lower()} without quotes)"
            return self.type_error(path, "a boolean (true or false)", value, hint)
        return value

    def integer(self, value: Any, path: str, lo: int, hi: int) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return self.type_error(path, f"an integer from {lo} to {hi}", value)
        if not lo <= value <= hi:
            return self.error(
                path, f"{_show_number(value)} is out of range (allowed: {lo} to {hi})"
            )
        return value

    def duration(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            hint = ""
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and 0 <= value < 10**9
                or isinstance(value, float)
                and re.fullmatch(r"[0-9]+\.[0-9]+", repr(value))
            ):
                hint = f' (durations are strings with a unit: "{value}s")'
            return self.type_error(path, 'a duration string such as "30s"', value, hint)
        try:
            return parse_duration(value)
        except ValueError as e:
            return self.error(path, str(e))

    def duration_at_least(self, value: Any, path: str, minimum: float, what: str) -> Any:
        seconds = self.duration(value, path)
        if seconds is not _BAD and seconds < minimum:
            return self.error(
                path, f"{_quote(value)} is below the minimum {what} of {format_duration(minimum)}"
            )
        return seconds

    def interval(self, value: Any, path: str) -> Any:
        return self.duration_at_least(value, path, MIN_INTERVAL, "interval")

    def timeout(self, value: Any, path: str) -> Any:
        seconds = self.duration(value, path)
        if seconds is not _BAD and seconds <= 0:
            return self.error(path, f"{_quote(value)}: the timeout must be greater than 0")
        return seconds

    def labels(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            return self.type_error(path, "a table of label names to strings", value)
        out: dict[str, str] = {}
        n_errors = len(self.errors)
        for name, text in value.items():
            lpath = _join(path, name)
            if not _LABEL_NAME.fullmatch(name):
                self.error(
                    lpath,
                    f"{_quote(name)} is not a valid label name "
                    "(letters, digits and _, not starting with a digit)",
                )
            elif name.startswith("__"):
                self.error(
                    lpath, f'{_quote(name)}: names starting with "__" are reserved by Prometheus'
                )
            elif name in RESERVED_LABELS:
                self.error(
                    lpath,
                    f"{_quote(name)} is reserved by uptimed "
                    f"(reserved: {', '.join(sorted(RESERVED_LABELS))})",
                )
            if not isinstance(text, str):
                hint = ""
                if isinstance(text, (int, float)) and not isinstance(text, bool):
                    hint = f' (quote it: "{_show_number(text)}")'
                self.type_error(lpath, "a string", text, hint)
            else:
                out[name] = text
        return out if len(self.errors) == n_errors else _BAD

    # secret references (see the rules at the top of the loader and uptimed.config.secrets) -----------

    def secret(self, text: str, path: str) -> Any:
        """``text`` with its references resolved as the mode says: a :class:`_Secret`, or _BAD
        after recording an error for each malformed or unresolvable reference."""
        try:
            pieces = parse_references(text)
        except SecretError as e:
            return self.error(path, str(e))
        refs = references(pieces)
        if not refs:
            return _Secret(render(pieces, str), True, pieces, {})
        values = self.resolve(refs, path)
        if values is _BAD:
            return _BAD
        if values is None:
            return _Secret(text, False, pieces, {})
        return _Secret(render(pieces, values.__getitem__), True, pieces, values)

    def resolve(self, refs: tuple[Reference, ...], path: str) -> Any:
        """``{reference: value}``; None when the mode leaves some unresolved; _BAD on errors."""
        if self.mode == "skip":
            return None
        values: dict[Reference, str] = {}
        unresolved = failed = False
        for ref in dict.fromkeys(refs):  # each once, in order
            try:
                values[ref] = resolve(ref, self.environ, self.base_dir)
            except CredentialsUnavailable as e:
                if self.mode == "check":
                    self.unresolved_credentials.add(ref.name)
                    unresolved = True
                else:
                    self.error(path, str(e))
                    failed = True
            except SecretError as e:
                self.error(path, str(e))
                failed = True
        self.secret_values.update(values.values())
        if failed:
            return _BAD
        return None if unresolved else values

    # [daemon] --------------------------------------------------------------------------------

    def daemon(self, table: dict[str, Any] | None, config_path: str) -> DaemonConfig | None:
        if table is None:
            return None
        self.unknown_keys(
            {k: v for k, v in table.items() if k not in REMOVED_DAEMON_KEYS}, "daemon", DAEMON_KEYS
        )
        database = default_database(config_path, self.environ)
        if "database" in table:
            database = self.database(table["database"], "daemon.database")
            if database is not _BAD:
                database = os.path.normpath(os.path.join(_config_dir(config_path), database))
        listen = DEFAULT_LISTEN
        if "listen" in table:
            listen = self.listen(table["listen"], "daemon.listen")
        log_level = "info"
        if "log_level" in table:
            log_level = self.log_level(table["log_level"], "daemon.log_level")
        max_concurrency = 500
        if "max_concurrency" in table:
            max_concurrency = self.integer(
                table["max_concurrency"], "daemon.max_concurrency", 1, MAX_CONCURRENCY
            )
        api_token = None
        if "api_token" in table:
            api_token = self.api_token(table["api_token"], "daemon.api_token")
        if "api_token_file" in table:
            api_token = self.api_token_file(table["api_token_file"], "daemon.api_token_file")
        connectivity_check: Any = ()
        if "connectivity_check" in table:
            connectivity_check = self.canaries(
                table["connectivity_check"], "daemon.connectivity_check"
            )
        if _BAD in (
            database,
            listen,
            log_level,
            max_concurrency,
            api_token,
            connectivity_check,
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
        )

    def api_token(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, f"a string {_TOKEN_EXAMPLES}", value)
        if not value.strip():
            return self.error(path, f"is empty: give the token by reference {_TOKEN_EXAMPLES}")
        token = self.secret(value, path)
        if token is _BAD:
            return _BAD
        if not token.resolved:
            # Left as written, the token would be the reference's text, which anyone reading
            # the config knows: no token at all is the safe value for a mode that needs none.
            return None
        if not token.text.strip():  # e.g. an environment variable set to spaces
            return self.error(path, f"{_shown_refs(token)} gives a blank token")
        bad = [ref for ref, text in token.values.items() if _CONTROL.search(text)]
        if bad:
            return self.error(
                path,
                f"{bad[0].shown}: the token holds a line break or control character, which an "
                "Authorization header cannot carry",
            )
        if _CONTROL.search(token.text):  # literal text, not shown: it may be the token itself
            return self.error(path, "the token cannot hold a line break or control character")
        # Blanks around it could never be matched: a client's "Bearer  tok " is read as "tok".
        return token.text.strip()

    def api_token_file(self, value: Any, path: str) -> Any:
        """The removed option: an error that says what to write instead."""
        old = value if isinstance(value, str) and value.strip() else "PATH"
        return self.error(
            path,
            "was removed: api_token holds the token now; to read it from the same file, write "
            f"api_token = {_quote('${file:' + old + '}', 300)} instead "
            '(or "${credential:NAME}" for a systemd credential)',
        )

    def database(self, value: Any, path: str) -> Any:
        return self.file_path(value, path, "/var/lib/uptimed/uptimed.db")

    def file_path(self, value: Any, path: str, example: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, "a string (a file path)", value)
        if not value:
            return self.error(path, f'is empty: give a file path, e.g. "{example}"')
        if "\0" in value:
            return self.error(path, f"{_quote(value)} contains a NUL character")
        return value

    def canaries(self, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            hint = ""
            if isinstance(value, str):
                value = _mask_userinfo(value)
                hint = f" (write [{_quote(value, 200)}])"
            return self.type_error(path, f"an array of targets {_CANARY_EXAMPLES}", value, hint)
        out: list[str] = []
        first: dict[str, int] = {}
        n_errors = len(self.errors)
        for j, item in enumerate(value):
            ipath = f"{path}[{j}]"
            target = self.canary(item, ipath)
            if target is _BAD:
                continue
            if target in first:
                self.error(
                    ipath,
                    f"{_quote(_shown_url(target), 100)} is listed twice "
                    f"(first at [{first[target]}])",
                )
            else:
                first[target] = j
                out.append(target)
        return tuple(out) if len(self.errors) == n_errors else _BAD

    def canary(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, f"a string {_CANARY_EXAMPLES}", value)
        scheme = value.partition("://")[0].lower() if "://" in value else ""
        if scheme in ("http", "https"):
            url = self.secret_url(value, path)
            return url if url is _BAD else url.value
        shown = _quote(_mask_userinfo(value), 100)
        if scheme != "tcp":
            return self.error(
                path,
                f'{shown} is not a connectivity check: use "tcp://HOST:PORT" or an http:// or '
                f"https:// URL {_CANARY_EXAMPLES}",
            )
        if len(value) > MAX_URL_CHARS or any(ch.isspace() or not ch.isprintable() for ch in value):
            return self.error(path, f"{shown} contains a space or control character")
        try:
            parts = urlsplit(value)
            port = parts.port
            host = parts.hostname
        except ValueError as e:
            return self.error(path, f"{shown} is not HOST:PORT ({e})")
        if parts.username is not None or parts.path or parts.query or parts.fragment:
            return self.error(
                path, f'{shown}: a tcp check is only "tcp://HOST:PORT" (no user, path or query)'
            )
        if not host:
            return self.error(path, f'{shown} has no host (e.g. "tcp://192.0.2.1:443")')
        if port is None or port == 0:
            return self.error(
                path,
                f'{shown}: give a port from 1 to 65535 (e.g. "tcp://{_host_port(host, 443)}")',
            )
        problem = _host_problem(host)
        if problem:
            return self.error(path, f"{shown}: host {_quote(host)} {problem}")
        return value

    def listen(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, 'a string "HOST:PORT"', value)
        shown = _quote(value)
        if value.startswith("["):
            host, sep, rest = value[1:].partition("]")
            if not sep or not rest.startswith(":"):
                return self.error(path, f"{shown} is not HOST:PORT {_LISTEN_EXAMPLES}")
            port_text = rest[1:]
            try:
                ipaddress.IPv6Address(host)
            except ValueError:
                return self.error(path, f"{shown}: {_quote(host)} is not an IPv6 address")
        else:
            host, sep, port_text = value.rpartition(":")
            if not sep:
                return self.error(path, f"{shown} has no port {_LISTEN_EXAMPLES}")
            if ":" in host:
                return self.error(
                    path, f'{shown}: write IPv6 addresses in brackets, e.g. "[{host}]:{port_text}"'
                )
            if not host:
                return self.error(
                    path,
                    f'{shown} has no host: use "0.0.0.0:{port_text}" for every IPv4 interface, '
                    f'"[::]:{port_text}" for every interface',
                )
            problem = _host_problem(host)
            if problem:
                return self.error(path, f"{shown}: host {_quote(host)} {problem}")
        if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 1 <= int(port_text) <= 65535:
            return self.error(path, f"{shown}: the port must be a number from 1 to 65535")
        return (host, int(port_text))

    def log_level(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, f"a string ({', '.join(LOG_LEVELS)})", value)
        if value.lower() not in LOG_LEVELS:
            match = difflib.get_close_matches(value[:100].lower(), LOG_LEVELS, n=1, cutoff=0.6)
            hint = f'; did you mean "{match[0]}"?' if match else ""
            return self.error(
                path, f"{_quote(value)} is not a log level (allowed: {', '.join(LOG_LEVELS)}{hint})"
            )
        return value.lower()

    # [defaults] and [retention] ----------------------------------------------------------------

    def defaults(self, table: dict[str, Any] | None) -> _Defaults:
        d = _Defaults(labels={})
        if table is None:  # wrong type, reported: monitors inherit nothing usable
            return _Defaults(
                interval=None,
                timeout_bad=True,
                failure_threshold=None,
                success_threshold=None,
                labels=None,
            )
        self.unknown_keys(table, "defaults", DEFAULTS_KEYS)
        if "interval" in table:
            iv = self.interval(table["interval"], "defaults.interval")
            d.interval, d.interval_written = (None if iv is _BAD else iv), True
        if "timeout" in table:
            to = self.timeout(table["timeout"], "defaults.timeout")
            d.timeout, d.timeout_bad = (None, True) if to is _BAD else (to, False)
        for key in ("failure_threshold", "success_threshold"):
            if key in table:
                n = self.integer(table[key], f"defaults.{key}", 1, MAX_THRESHOLD)
                setattr(d, key, None if n is _BAD else n)
        if "labels" in table:
            labels = self.labels(table["labels"], "defaults.labels")
            d.labels = None if labels is _BAD else {k: v for k, v in labels.items() if v}
        return d

    def retention(self, table: dict[str, Any] | None) -> Retention | None:
        if table is None:
            return None
        self.unknown_keys(table, "retention", RETENTION_KEYS)
        raw = DEFAULT_RETENTION_RAW
        if "raw" in table:
            raw = self.duration_at_least(
                table["raw"], "retention.raw", MIN_RETENTION_RAW, "retention"
            )
        rollup = DEFAULT_RETENTION_ROLLUP
        if "rollup" in table:
            rollup = self.duration_at_least(
                table["rollup"], "retention.rollup", MIN_RETENTION_ROLLUP, "rollup retention"
            )
        return None if _BAD in (raw, rollup) else Retention(raw=raw, rollup=rollup)

    # [[monitor]] ---------------------------------------------------------------------------

    def monitors(
        self, value: Any, defaults: _Defaults, seen: dict[str, int]
    ) -> list[Monitor | None] | None:
        if isinstance(value, dict):
            self.type_error(
                "monitor", "an array of tables", value, " (write [[monitor]], not [monitor])"
            )
            return None
        if not isinstance(value, list):
            self.type_error("monitor", "an array of tables ([[monitor]])", value)
            return None
        if not value:
            self.error("", "no [[monitor]] defined")
            return None
        return [self.monitor(i, item, defaults, seen) for i, item in enumerate(value)]

    def monitor(
        self, i: int, raw: Any, defaults: _Defaults, seen: dict[str, int]
    ) -> Monitor | None:
        base = f"monitor[{i}]"
        if not isinstance(raw, dict):
            self.type_error(base, "a table", raw)
            return None
        n_errors = len(self.errors)

        # id and kind first: they name the monitor and decide which keys are allowed
        mid = None
        if "id" not in raw:
            self.error(base, 'missing required key "id"')
        else:
            value = raw["id"]
            if not isinstance(value, str):
                self.type_error(f"{base}.id", "a string", value)
            elif not _ID.fullmatch(value):
                why = (
                    "longer than 64 characters"
                    if len(value) > 64
                    else ('use letters, digits, "_", "." and "-"')
                )
                self.error(f"{base}.id", f"{_quote(value)} is not a valid id: {why}")
            else:
                mid = value
                if value in seen:
                    self.error(
                        f"{base}.id",
                        f"{_quote(value)} is used twice (first at monitor[{seen[value]}])",
                    )
                else:
                    seen[value] = i
        p = f'{base} (id "{mid}")' if mid is not None else base

        kind = None
        if "kind" not in raw:
            guess = "http" if "url" in raw else "tcp" if "host" in raw or "port" in raw else None
            hint = f'; add kind = "{guess}"?' if guess else ""
            self.error(p, f'missing required key "kind" (allowed: {", ".join(KINDS)}{hint})')
        else:
            value = raw["kind"]
            if not isinstance(value, str):
                self.type_error(f"{p}.kind", f"a string ({', '.join(KINDS)})", value)
            elif value.lower() in KINDS:
                kind = value.lower()
            else:
                match = difflib.get_close_matches(value[:100].lower(), KINDS, n=1, cutoff=0.6)
                hint = f'; did you mean "{match[0]}"?' if match else ""
                self.error(
                    f"{p}.kind",
                    f"{_quote(value)} is not a kind (allowed: {', '.join(KINDS)}{hint})",
                )

        allowed = COMMON_MONITOR_KEYS + (
            KIND_KEYS[kind] if kind else tuple(k for keys in KIND_KEYS.values() for k in keys)
        )
        self.unknown_keys(raw, p, allowed, kind)

        name: Any = mid  # str, or _BAD once a wrong name is recorded
        if "name" in raw:
            name = self.name(raw["name"], f"{p}.name")
        enabled = True
        if "enabled" in raw:
            enabled = self.boolean(raw["enabled"], f"{p}.enabled")

        # interval and timeout (see the rules at the top of the loader)
        if "interval" in raw:
            interval = self.interval(raw["interval"], f"{p}.interval")
        else:
            interval = _BAD if defaults.interval is None else defaults.interval
        if "timeout" in raw:
            timeout = self.timeout(raw["timeout"], f"{p}.timeout")
            if interval is not _BAD and timeout is not _BAD and timeout >= interval:
                where = ""
                if "interval" not in raw:
                    where = (
                        ", from defaults.interval" if defaults.interval_written else ", the default"
                    )
                timeout = self.error(
                    f"{p}.timeout",
                    f"{format_duration(timeout)} must be shorter than the interval "
                    f"({format_duration(interval)}{where})",
                )
        elif interval is _BAD or defaults.timeout_bad:
            timeout = _BAD
        else:
            inherited = DEFAULT_TIMEOUT if defaults.timeout is None else defaults.timeout
            timeout = min(inherited, interval / 2)

        thresholds = {}
        for key in ("failure_threshold", "success_threshold"):
            if key in raw:
                thresholds[key] = self.integer(raw[key], f"{p}.{key}", 1, MAX_THRESHOLD)
            else:
                inherited = getattr(defaults, key)
                thresholds[key] = _BAD if inherited is None else inherited

        labels: Any = _BAD if defaults.labels is None else dict(defaults.labels)
        if "labels" in raw:
            own = self.labels(raw["labels"], f"{p}.labels")
            if own is _BAD or labels is _BAD:
                labels = _BAD
            else:
                for key, text in own.items():
                    if text:
                        labels[key] = text
                    else:
                        labels.pop(key, None)

        spec: Any = _BAD
        target = ""
        spec_timeout = timeout if timeout is not _BAD else 1.0
        if kind == "http":
            spec = self.http(raw, p, spec_timeout)
            if spec is not _BAD:
                target = _shown_url(spec.url)
        elif kind == "tcp":
            spec = self.tcp(raw, p, spec_timeout)
            if spec is not _BAD:
                target = _host_port(spec.host, spec.port)

        if (
            len(self.errors) > n_errors
            or _BAD in (interval, timeout, name, enabled, labels, spec, *thresholds.values())
            or mid is None
            or kind is None
        ):
            return None
        return Monitor(
            id=mid,
            name=name,
            kind=kind,
            interval=interval,
            timeout=timeout,
            failure_threshold=thresholds["failure_threshold"],
            success_threshold=thresholds["success_threshold"],
            labels=tuple(sorted(labels.items())),
            enabled=enabled,
            spec=spec,
            target=target,
        )

    def name(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, "a string", value)
        if not value.strip():
            return self.error(path, "is empty (leave it out to use the id)")
        if len(value) > MAX_NAME_CHARS:
            return self.error(path, f"{_quote(value)} is longer than {MAX_NAME_CHARS} characters")
        if not value.isprintable():
            return self.error(path, f"{_quote(value)} contains a control character")
        return value

    # http ----------------------------------------------------------------------------------

    def http(self, raw: dict[str, Any], p: str, timeout: float) -> Any:
        url: Any = _BAD
        if "url" not in raw:
            self.error(p, 'missing required key "url" (http monitors need one)')
        else:
            url = self.secret_url(raw["url"], f"{p}.url")
        method = "GET"
        if "method" in raw:
            method = self.method(raw["method"], f"{p}.method")
        headers: Any = ()
        if "headers" in raw:
            headers = self.headers(raw["headers"], f"{p}.headers")
        body = None
        if "body" in raw:
            body = self.string(raw["body"], f"{p}.body")
            if body is not _BAD:
                body = body.encode("utf-8")
        expect: Any = ((200, 299),)
        if "expect_status" in raw:
            expect = self.expect_status(raw["expect_status"], f"{p}.expect_status")
        flags = {}
        for key in ("follow_redirects", "verify_tls"):
            flags[key] = self.boolean(raw[key], f"{p}.{key}") if key in raw else True
        max_body = DEFAULT_MAX_BODY_BYTES
        if "max_body_bytes" in raw:
            max_body = self.size(raw["max_body_bytes"], f"{p}.max_body_bytes")
        if _BAD in (url, method, headers, body, expect, max_body, *flags.values()):
            return _BAD
        if self.refused_by_aiohttp(url, headers, body, p):
            return _BAD
        return HttpSpec(
            url=url.value,
            timeout=timeout,
            method=method,
            headers=tuple((name, text) for name, text, _ in headers),
            body=body,
            expect_status=expect,
            follow_redirects=flags["follow_redirects"],
            max_redirects=MAX_REDIRECTS,
            max_body_bytes=max_body,
            verify_tls=flags["verify_tls"],
        )

    def refused_by_aiohttp(
        self, url: _Url, headers: tuple[tuple[str, str, bool], ...], body: bytes | None, p: str
    ) -> bool:
        """Record the option combinations aiohttp refuses to send (see the rules at the top of
        the loader; the URL's own refusals are in aiohttp_url); True when there is one."""
        by_name = {name.lower(): (name, text, resolved) for name, text, resolved in headers}
        refused = False
        auth = by_name.get("authorization")
        if auth is not None and url.credentials:
            refused = (
                self.error(
                    _join(f"{p}.headers", auth[0]),
                    "cannot be combined with a user name or password in url (aiohttp refuses the "
                    "request): keep this header and remove the userinfo from url, or remove this "
                    "header (the url's user name and password are sent as Basic auth)",
                )
                is _BAD
            )
        length = by_name.get("content-length")
        expect = by_name.get("expect")
        # aiohttp waits for "100 Continue" (and checks Content-Length) on this exact value
        continues = expect is not None and expect[2] and expect[1].lower() == "100-continue"
        if (
            length is not None
            and length[2]  # resolved: a reference left as written is not the value sent
            and (body is not None or continues)
            and not re.fullmatch(r"[0-9]+", length[1])
        ):
            shown = "the value" if isinstance(length[1], SecretText) else _quote(length[1])
            refused = (
                self.error(
                    _join(f"{p}.headers", length[0]),
                    f"{shown} is not a number of bytes, which aiohttp refuses "
                    + ("with a body" if body is not None else 'with "Expect: 100-continue"')
                    + ": leave Content-Length out (aiohttp sends the body's length itself)",
                )
                is _BAD
            )
        return refused

    def secret_url(self, value: Any, path: str) -> Any:
        """A URL option, references allowed in its userinfo: a :class:`_Url`, or _BAD."""
        if not isinstance(value, str):
            return self.url(value, path)  # the type error
        try:
            pieces = parse_references(value)
        except SecretError as e:
            return self.error(path, str(e))
        refs = tuple(dict.fromkeys(references(pieces)))
        # The URL is checked with each reference replaced by a placeholder of plain letters and
        # digits, which is valid in a userinfo and appears nowhere else in the text: before
        # resolving (the check must not depend on the mode) and without the value's "/", "@"
        # or ":" confusing where the userinfo ends.
        mark = "uptimedref"
        while mark in value:
            mark += "x"
        holders = {ref: f"{mark}{i:04d}" for i, ref in enumerate(refs)}  # < 1200 refs in 8 KiB
        skeleton = render(pieces, holders.__getitem__)
        userinfo = _userinfo(skeleton)
        for ref, holder in holders.items():
            if skeleton.count(holder) != userinfo.count(holder):
                return self.error(
                    path,
                    f"{ref.shown}: in a URL, a reference can only stand in the user name or "
                    f"password, as in {_URL_REFERENCE_EXAMPLE}",
                )
        if self.url(skeleton, path) is _BAD:
            return _BAD
        target = redact_url(skeleton)
        credentials = bool(userinfo)
        if not refs:
            plain = SecretText(skeleton, (), target) if credentials else skeleton
            return _Url(plain, target, credentials)
        values = self.resolve(refs, path)
        if values is _BAD:
            return _BAD
        if values is None:
            return _Url(SecretText(value, (), target), target, credentials)
        user = userinfo.partition(":")[0]
        for ref, holder in holders.items():
            text = values[ref]
            if holder in user and ":" in text:
                return self.error(
                    path,
                    f'{ref.shown}: the user name it gives holds a ":", which Basic auth cannot '
                    "carry (aiohttp refuses the request): use a user name without one",
                )
            if not _latin1(text):
                return self.error(
                    path,
                    f"{ref.shown}: the value has a character outside Latin-1, which aiohttp "
                    "cannot send as Basic auth: take the credentials out of url and send the "
                    'header yourself, e.g. Authorization = "Basic ${file:PATH}" with the '
                    'base64 of UTF-8 "user:password" in that file',
                )
        resolved = render(pieces, lambda ref: percent_encode(values[ref], safe=""))
        if self.aiohttp_url(resolved, path, _quote(target, 100)) is _BAD:
            return _BAD
        return _Url(SecretText(resolved, tuple(values.values()), target), target, credentials)

    def aiohttp_url(self, value: str, path: str, shown: str) -> Any:
        """``value`` if aiohttp can request it, else _BAD with the error recorded. aiohttp parses
        URLs with yarl, which refuses some that urllib accepts, and sends the userinfo as Basic
        auth, encoded as Latin-1 and without a ":" in the user name."""
        try:
            parsed = URL(value)
        except ValueError as e:  # UnicodeError too
            userinfo = _userinfo(value)
            reason = scrub(str(e), [userinfo] if userinfo else [])  # yarl may quote the netloc
            return self.error(path, f"{shown} is not a URL aiohttp can request ({reason})")
        if not parsed.raw_host:
            return self.error(path, f"{shown} has no host that aiohttp can use")
        if parsed.raw_user is None and parsed.raw_password is None:
            return value
        user, password = parsed.user or "", parsed.password or ""
        if ":" in user:
            return self.error(
                path,
                f'{shown}: the user name holds a ":" (written %3A), which Basic auth cannot '
                "carry (aiohttp refuses the request): use a user name without one",
            )
        if not _latin1(user + password):
            return self.error(
                path,
                f"{shown}: the user name or password has a character outside Latin-1, which "
                "aiohttp cannot send as Basic auth: take the credentials out of url and send "
                'the header yourself: Authorization = "Basic <base64 of UTF-8 user:password>"',
            )
        return value

    def url(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, 'a string such as "https://example.com/health"', value)
        shown = _quote(_safe_url(value), 100)  # never echo credentials
        if len(value) > MAX_URL_CHARS:
            return self.error(path, f"{shown} is longer than {MAX_URL_CHARS} characters")
        bad = next((j for j, ch in enumerate(value) if ch.isspace() or not ch.isprintable()), None)
        if bad is not None:
            return self.error(
                path,
                f"{shown} contains a space or control character at position "
                f"{bad} (percent-encode it: a space is %20)",
            )
        if "://" not in value:
            return self.error(
                path, f'{shown} is not an absolute URL: it must start with "http://" or "https://"'
            )
        try:
            parts = urlsplit(value)
            port = parts.port
            host = parts.hostname
        except ValueError as e:
            return self.error(path, f"{shown} is not a valid URL ({e})")
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            return self.error(
                path, f"{shown}: scheme {_quote(scheme)} is not allowed (allowed: http, https)"
            )
        if not host:
            return self.error(path, f"{shown} has no host")
        if port == 0:
            return self.error(path, f"{shown}: the port must be a number from 1 to 65535")
        problem = _host_problem(unquote(host))
        if problem:
            return self.error(path, f"{shown}: host {_quote(host)} {problem}")
        return self.aiohttp_url(value, path, shown)

    def method(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, 'a string such as "GET"', value)
        if not _TOKEN.fullmatch(value) or len(value) > 32:
            return self.error(
                path, f"{_quote(value)} is not an HTTP method (examples: GET, HEAD, POST)"
            )
        return value.upper()

    def headers(self, value: Any, path: str) -> Any:
        """``((name, value, resolved), ...)``: each value resolved (see secret), or _BAD."""
        if not isinstance(value, dict):
            return self.type_error(path, "a table of header names to strings", value)
        out: list[tuple[str, str, bool]] = []
        seen: dict[str, str] = {}
        n_errors = len(self.errors)
        for name, text in value.items():
            hpath = _join(path, name)
            if not _TOKEN.fullmatch(name) or len(name) > 256:
                self.error(
                    hpath,
                    f"{_quote(name)} is not a valid header name "
                    "(letters, digits and !#$%&'*+-.^_`|~)",
                )
            elif name.lower() in seen:
                self.error(
                    hpath,
                    f"{_quote(name)} repeats {_quote(seen[name.lower()])} "
                    "(header names ignore case)",
                )
            else:
                seen[name.lower()] = name
            if not isinstance(text, str):
                self.type_error(hpath, "a string", text)
                continue
            header = self.secret(text, hpath)
            if header is _BAD:
                continue
            credential = is_secret_header(name)
            bad = [ref for ref, secret in header.values.items() if _CONTROL.search(secret)]
            if _CONTROL.search(render(header.pieces, lambda ref: "")):
                shown = "the value (not shown: a credential)" if credential else _quote(text)
                self.error(
                    hpath, f"{shown}: header values cannot hold line breaks or control characters"
                )
            elif bad:
                self.error(
                    hpath,
                    f"{bad[0].shown}: the value it gives holds a line break or control character, "
                    "which a header value cannot carry",
                )
            elif header.values:  # shown with each secret masked: "Bearer ***"
                shown = render(header.pieces, lambda ref: MASK)
                out.append((name, SecretText(header.text, header.values.values(), shown), True))
            elif credential:
                out.append((name, SecretText(header.text), header.resolved))
            else:
                out.append((name, header.text, header.resolved))
        return tuple(out) if len(self.errors) == n_errors else _BAD

    def expect_status(self, value: Any, path: str) -> Any:
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not value:
            return self.error(path, f"is empty: list at least one status {_STATUS_EXAMPLES}")
        ranges = []
        ok = True
        for j, item in enumerate(items):
            ipath = f"{path}[{j}]" if isinstance(value, list) else path
            rng = self.status_range(item, ipath)
            if rng is _BAD:
                ok = False
            else:
                ranges.append(rng)
        return _merge_ranges(ranges) if ok else _BAD

    def status_range(self, item: Any, path: str) -> Any:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            return self.type_error(path, f"a status code or range {_STATUS_EXAMPLES}", item)
        if isinstance(item, int):
            if not 100 <= item <= 599:
                return self.error(
                    path, f"{_show_number(item)} is not an HTTP status (allowed: 100 to 599)"
                )
            return (item, item)
        m = re.fullmatch(r"([1-5])[xX][xX]", item)
        if m:
            return (int(m[1]) * 100, int(m[1]) * 100 + 99)
        m = re.fullmatch(r"([0-9]{3})(?:-([0-9]{3}))?", item)
        if not m:
            return self.error(path, f"{_quote(item)} is not a status or range {_STATUS_EXAMPLES}")
        lo, hi = int(m[1]), int(m[2] or m[1])
        if not (100 <= lo <= 599 and 100 <= hi <= 599):
            return self.error(path, f"{_quote(item)}: statuses go from 100 to 599")
        if lo > hi:
            return self.error(path, f'{_quote(item)}: the range is backwards (write "{hi}-{lo}")')
        return (lo, hi)

    def size(self, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return self.type_error(path, f"a number of bytes or a size {_SIZE_EXAMPLES}", value)
        if isinstance(value, int):
            count, shown = value, _show_number(value)
        else:
            shown = _quote(value)
            m = _SIZE.fullmatch(value)
            if not m or m[2].lower() not in _SIZE_UNITS:
                return self.error(path, f"{shown} is not a size {_SIZE_EXAMPLES}")
            exact = Fraction(m[1]) * _SIZE_UNITS[m[2].lower()]
            if exact.denominator != 1:
                return self.error(path, f"{shown} is not a whole number of bytes")
            count = int(exact)
        if not 1 <= count <= MAX_MAX_BODY_BYTES:
            return self.error(path, f"{shown} is out of range (allowed: 1 byte to 1GiB)")
        return count

    # tcp -----------------------------------------------------------------------------------

    def tcp(self, raw: dict[str, Any], p: str, timeout: float) -> Any:
        host = port = _BAD
        if "host" not in raw:
            self.error(p, 'missing required key "host" (tcp monitors need one)')
        else:
            host = self.tcp_host(raw["host"], f"{p}.host")
        if "port" not in raw:
            self.error(p, 'missing required key "port" (tcp monitors need one)')
        else:
            port = self.port(raw["port"], f"{p}.port")
        if host is _BAD or port is _BAD:
            return _BAD
        return TcpSpec(host=host, port=port, timeout=timeout)

    def tcp_host(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, "a string (host name or IP address)", value)
        shown = _quote(value)
        if "://" in value:
            return self.error(
                path,
                f'{shown} is a URL: give the bare host name or IP address (and the port in "port")',
            )
        host = value[1:-1] if value.startswith("[") and value.endswith("]") else value
        if re.fullmatch(r"[^:]+:[0-9]+", host) or re.fullmatch(r"\[.*\]:[0-9]+", host):
            return self.error(path, f'{shown} includes a port: put it in "port"')
        problem = _host_problem(host)
        if problem:
            return self.error(path, f"{shown} {problem}")
        return host

    def port(self, value: Any, path: str) -> Any:
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,5}", value):
            return self.type_error(
                path, "an integer from 1 to 65535", value, f" (write {value} without quotes)"
            )
        return self.integer(value, path, 1, 65535)

    # shared checks for services, SLOs and maintenance windows -------------------------------

    def tables(self, doc: dict[str, Any], key: str) -> list[Any] | None:
        """``doc[key]`` as an array of tables ([[key]]): [] when absent, None when malformed."""
        if key not in doc:
            return []
        value = doc[key]
        if isinstance(value, dict):
            self.type_error(key, "an array of tables", value, f" (write [[{key}]], not [{key}])")
            return None
        if not isinstance(value, list):
            self.type_error(key, f"an array of tables ([[{key}]])", value)
            return None
        return value

    def ident(
        self,
        raw: dict[str, Any],
        kind: str,
        i: int,
        seen: dict[str, int],
        clash: dict[str, int] | None = None,
    ) -> str | None:
        """The table's id, or None; records it in ``seen``. ``clash``: monitor ids a service id
        must not repeat."""
        base = f"{kind}[{i}]"
        if "id" not in raw:
            self.error(base, 'missing required key "id"')
            return None
        value = raw["id"]
        if not isinstance(value, str):
            self.type_error(f"{base}.id", "a string", value)
            return None
        if not _ID.fullmatch(value):
            why = (
                "longer than 64 characters"
                if len(value) > 64
                else 'use letters, digits, "_", "." and "-"'
            )
            self.error(f"{base}.id", f"{_quote(value)} is not a valid id: {why}")
            return None
        if value in seen:
            self.error(
                f"{base}.id", f"{_quote(value)} is used twice (first at {kind}[{seen[value]}])"
            )
        else:
            seen[value] = i
            if clash is not None and value in clash:
                self.error(
                    f"{base}.id",
                    f"{_quote(value)} is already the id of monitor[{clash[value]}]: SLO targets "
                    "name monitors and services alike, so their ids must differ",
                )
        return value

    def text(self, value: Any, path: str, limit: int = MAX_NAME_CHARS) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, "a string", value)
        if not value.strip():
            return self.error(path, "is empty (leave the key out instead)")
        if len(value) > limit:
            return self.error(path, f"{_quote(value)} is longer than {limit} characters")
        if not value.isprintable():
            return self.error(path, f"{_quote(value)} contains a control character")
        return value

    def choice(self, value: Any, path: str, allowed: tuple[str, ...], what: str) -> Any:
        """One of ``allowed``, any case; stored lower-case."""
        if not isinstance(value, str):
            return self.type_error(path, f"a string ({', '.join(allowed)})", value)
        if value.lower() not in allowed:
            match = difflib.get_close_matches(value[:100].lower(), allowed, n=1, cutoff=0.6)
            hint = f'; did you mean "{match[0]}"?' if match else ""
            return self.error(
                path, f"{_quote(value)} is not {what} (allowed: {', '.join(allowed)}{hint})"
            )
        return value.lower()

    def table(self, value: Any, path: str, allowed: tuple[str, ...], example: str) -> Any:
        if not isinstance(value, dict):
            return self.type_error(path, f"a table such as {example}", value)
        self.unknown_keys(value, path, allowed)
        return value

    def reference(
        self,
        value: Any,
        path: str,
        known: dict[str, dict[str, int] | None],
        wanted: str,
        misplaced: dict[str, str] | None = None,
    ) -> Any:
        """An id that must name one of ``known`` ("monitor" -> its ids, "service" -> ...). A
        kind whose ids are unknown (its section is malformed, already reported) matches any
        id. ``wanted`` reads "a monitor id", "a monitor or service id". ``misplaced``: the hint
        when the id names a kind not wanted here ("service" -> ': list it under "services"')."""
        if not isinstance(value, str):
            return self.type_error(path, f"a string ({wanted})", value)
        if any(ids is None or value in ids for ids in known.values()):
            return value
        hint = ""
        for other, why in (misplaced or {}).items():
            ids = self.ids.get(other)
            if ids and value in ids:
                hint = f" (it is a {other}{why})"
                break
        if not hint:
            candidates = [i for ids in known.values() if ids for i in ids]
            lowered = {c.lower(): c for c in candidates}
            match = [lowered[value.lower()]] if value.lower() in lowered else []
            if not match and len(candidates) <= 10_000:
                match = difflib.get_close_matches(value[:100], candidates, n=1, cutoff=0.6)
            if match:
                hint = f' (did you mean "{match[0]}"?)'
            elif not candidates:
                hint = f" (there are no {' or '.join(k + 's' for k in known)})"
        return self.error(path, f"{_quote(value)} is not {wanted}{hint}")

    def id_list(
        self,
        value: Any,
        path: str,
        known: dict[str, dict[str, int] | None],
        wanted: str,
        allow_empty: bool = False,
        misplaced: dict[str, str] | None = None,
    ) -> Any:
        kind = next(iter(known))
        if not isinstance(value, list):
            hint = f" (write [{_quote(value)}])" if isinstance(value, str) else ""
            return self.type_error(
                path, f'an array of {kind} ids such as ["web", "db"]', value, hint
            )
        if not value and not allow_empty:
            return self.error(path, f"is empty: list at least one {kind} id")
        out: list[str] = []
        first: dict[str, int] = {}
        n_errors = len(self.errors)
        for j, item in enumerate(value):
            ipath = f"{path}[{j}]"
            ref = self.reference(item, ipath, known, wanted, misplaced)
            if ref is _BAD:
                continue
            if ref in first:
                self.error(ipath, f"{_quote(ref)} is listed twice (first at [{first[ref]}])")
            else:
                first[ref] = j
                out.append(ref)
        return tuple(out) if len(self.errors) == n_errors else _BAD

    def number(self, value: Any, path: str, wanted: str) -> Any:
        """A TOML integer or float as the Decimal of its written text."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str):
                bare = value.strip().removesuffix("%").strip()
                if re.fullmatch(r"[0-9]{1,20}(\.[0-9]{1,20})?", bare):
                    hint = f" (write {bare} without quotes{' or %' if '%' in value else ''})"
            return self.type_error(path, wanted, value, hint)
        if isinstance(value, float):
            if not math.isfinite(value):
                return self.error(path, f"{_show_number(value)} is not a finite number")
            return Decimal(repr(value))
        return Decimal(value)

    def percent(
        self, value: Any, path: str, what: str, *, up_to_100: bool = False, ratio_check: bool = True
    ) -> Any:
        """A percentage in (0, 100), or (0, 100] with ``up_to_100``."""
        number = self.number(value, path, "a number in percent such as 99.9")
        if number is _BAD:
            return _BAD
        shown = _show_number(value)
        if not (0 < number <= 100 if up_to_100 else 0 < number < 100):
            allowed = "more than 0, at most 100" if up_to_100 else "more than 0, less than 100"
            return self.error(path, f"{shown} is out of range (allowed: {allowed}, in percent)")
        if ratio_check and number <= 1:
            fix = f"write {_show_decimal(number * 100)}" if number < 1 else "e.g. 99.9, not 0.999"
            return self.error(path, f"{shown} looks like a ratio: {what} is in percent ({fix})")
        return number

    def tz(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(
                path, 'a string (an IANA time zone such as "Europe/Berlin")', value
            )
        if _zone_ok(value):
            return value
        if re.fullmatch(r"(UTC|GMT)?[+-][0-9]{1,2}(:?[0-9]{2})?", value, re.IGNORECASE):
            hint = ' (use a zone name such as "Europe/Berlin" or "UTC", not an offset)'
        else:
            match = _suggest_zone(value)
            if match:
                hint = f' (did you mean "{match}"?)'
            elif re.fullmatch(r"[A-Z]{2,5}", value):
                hint = ' (an abbreviation is not a zone: use a name such as "Europe/Berlin")'
            else:
                hint = ' (examples: "UTC", "Europe/Berlin", "America/New_York")'

        return self.error(path, f"{_quote(value)} is not an IANA time zone{hint}")

    def instant(self, value: Any, path: str) -> Any:
        """An aware date-time, returned in UTC."""
        if isinstance(value, datetime):
            shown = value.isoformat()
            if value.tzinfo is None:
                return self.error(
                    path,
                    f'{shown} has no UTC offset: add "Z" for UTC or an offset such as "+02:00" '
                    f"(e.g. {shown}Z)",
                )
            dt = value
        elif isinstance(value, str):
            shown = _quote(value)
            m = _RFC3339.fullmatch(value)
            if not m:
                if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                    return self.error(
                        path,
                        f'{shown} is a date without a time: write "{value}T00:00:00Z" (or with '
                        'an offset such as "+02:00" instead of "Z")',
                    )
                return self.error(path, f"{shown} is not an RFC 3339 date-time {_INSTANT_EXAMPLES}")
            if m[8] is None:
                return self.error(
                    path,
                    f'{shown} has no UTC offset: add "Z" for UTC or an offset such as "+02:00" '
                    f'(e.g. "{value}Z")',
                )
            offset = m[8].upper()
            try:
                if offset == "Z":
                    zone = UTC
                else:
                    hours, minutes = int(offset[1:3]), int(offset[4:6])
                    if minutes > 59:
                        raise ValueError("offset minutes must be in 0..59")
                    delta = timedelta(hours=hours, minutes=minutes)
                    zone = timezone(-delta if offset[0] == "-" else delta)
                micro = int((m[7] or ".0")[1:7].ljust(6, "0"))
                dt = datetime(*(int(m[k]) for k in range(1, 7)), micro, tzinfo=zone)  # type: ignore[misc, arg-type]
            except ValueError as e:
                return self.error(path, f"{shown} is not a valid date-time: {e}")
        else:
            hint = ""
            if isinstance(value, date):
                hint = f" (add a time and offset: {value.isoformat()}T00:00:00Z)"
            return self.type_error(
                path, f"a date-time with a UTC offset {_INSTANT_EXAMPLES}", value, hint
            )
        try:
            return dt.astimezone(UTC)
        except (OverflowError, ValueError):
            return self.error(path, f"{shown} is out of range (years 1 to 9999 in UTC)")

    def positive_duration(self, value: Any, path: str, what: str) -> Any:
        seconds = self.duration(value, path)
        if seconds is not _BAD and seconds <= 0:
            return self.error(path, f"{_quote(value)}: the {what} must be greater than 0")
        return seconds

    # [[service]] ----------------------------------------------------------------------------

    def services(self, value: list[Any], seen: dict[str, int]) -> list[Service | None]:
        return [self.service(i, item, seen) for i, item in enumerate(value)]

    def service(self, i: int, raw: Any, seen: dict[str, int]) -> Service | None:
        base = f"service[{i}]"
        if not isinstance(raw, dict):
            self.type_error(base, "a table", raw)
            return None
        n_errors = len(self.errors)
        sid = self.ident(raw, "service", i, seen, self.ids["monitor"])
        p = f'{base} (id "{sid}")' if sid is not None else base
        self.unknown_keys(raw, p, SERVICE_KEYS)
        name: Any = sid  # str, or _BAD once a wrong name is recorded
        if "name" in raw:
            name = self.name(raw["name"], f"{p}.name")
        monitors: Any = _BAD
        if "monitors" not in raw:
            self.error(p, 'missing required key "monitors" (the ids of its monitors)')
        else:
            monitors = self.id_list(
                raw["monitors"],
                f"{p}.monitors",
                {"monitor": self.ids["monitor"]},
                "a monitor id",
                misplaced={"service": "; a service is made of monitors only"},
            )
        rule = "all"
        if "rule" in raw:
            rule = self.choice(raw["rule"], f"{p}.rule", RULES, "a service rule")
        quorum: Any = None
        if rule == "quorum":
            if "quorum" not in raw:
                self.error(
                    p,
                    'missing required key "quorum" (rule "quorum" needs k: the service is down '
                    "when at least k of its monitors are down)",
                )
                quorum = _BAD
            else:
                quorum = self.integer(raw["quorum"], f"{p}.quorum", 1, MAX_THRESHOLD)
                if quorum is not _BAD and monitors is not _BAD and quorum > len(monitors):
                    n = len(monitors)
                    quorum = self.error(
                        f"{p}.quorum",
                        f"{quorum} is more than the service's {n} monitor{'s' if n > 1 else ''} "
                        f"(allowed: 1 to {n})",
                    )
        elif "quorum" in raw and rule is not _BAD:
            self.error(
                f"{p}.quorum",
                f'only applies with rule = "quorum" (this service\'s rule is "{rule}")',
            )
        if len(self.errors) > n_errors or sid is None or _BAD in (name, monitors, rule, quorum):
            return None
        return Service(id=sid, name=name, monitors=monitors, rule=rule, quorum=quorum)

    # [[slo]] ----------------------------------------------------------------------------------

    def slos(self, value: list[Any]) -> list[SLO | None]:
        seen: dict[str, int] = {}
        return [self.slo(i, item, seen) for i, item in enumerate(value)]

    def slo(self, i: int, raw: Any, seen: dict[str, int]) -> SLO | None:
        base = f"slo[{i}]"
        if not isinstance(raw, dict):
            self.type_error(base, "a table", raw)
            return None
        n_errors = len(self.errors)
        sid = self.ident(raw, "slo", i, seen)
        p = f'{base} (id "{sid}")' if sid is not None else base
        self.unknown_keys(raw, p, SLO_KEYS)
        target: Any = _BAD
        if "target" not in raw:
            self.error(p, 'missing required key "target" (a monitor or service id)')
        else:
            target = self.reference(
                raw["target"],
                f"{p}.target",
                {"monitor": self.ids["monitor"], "service": self.ids["service"]},
                "a monitor or service id",
            )
        objective: Any = _BAD
        if "objective" not in raw:
            self.error(p, 'missing required key "objective" (in percent, e.g. 99.9)')
        else:
            objective = self.percent(raw["objective"], f"{p}.objective", "the objective")
        window = period = None
        if "window" in raw:
            window = self.duration_at_least(raw["window"], f"{p}.window", MIN_SLO_WINDOW, "window")
        if "period" in raw:
            period = self.choice(raw["period"], f"{p}.period", PERIODS, "a calendar period")
        if "window" not in raw and "period" not in raw:
            self.error(
                p,
                'missing "window" or "period": give a rolling window (e.g. window = "30d"), a '
                'calendar period (e.g. period = "month"), or both',
            )
        tz = "UTC"
        if "timezone" in raw:
            tz = self.tz(raw["timezone"], f"{p}.timezone")
        term: dict[str, Any] = {}
        for key in ("effective_from", "effective_until"):
            term[key] = self.instant(raw[key], f"{p}.{key}") if key in raw else None
        start, end = term["effective_from"], term["effective_until"]
        if start not in (None, _BAD) and end not in (None, _BAD) and not start < end:
            self.error(
                f"{p}.effective_until",
                f"{_show_instant(raw['effective_until'])} is not after effective_from "
                f"({_show_instant(raw['effective_from'])})",
            )
        customer = None
        if "customer" in raw:
            customer = self.text(raw["customer"], f"{p}.customer")
        latency = None
        if "latency" in raw:
            latency = self.latency(raw["latency"], f"{p}.latency")
        credits: Any = ()
        if "credits" in raw:
            credits = self.credits(raw["credits"], f"{p}.credits")
        hours = None
        if "service_hours" in raw:
            hours = self.service_hours(raw["service_hours"], f"{p}.service_hours", tz)
        policy: Any = Policy()
        if "policy" in raw:
            policy = self.policy(raw["policy"], f"{p}.policy")
        min_coverage: Any = DEFAULT_MIN_COVERAGE
        if "min_coverage" in raw:
            min_coverage = self.min_coverage(raw["min_coverage"], f"{p}.min_coverage")
        parts = (target, objective, window, period, tz, start, end, customer, latency, credits)
        if len(self.errors) > n_errors or sid is None or _BAD in (*parts, hours, policy):
            return None
        if min_coverage is _BAD:
            return None
        return SLO(
            id=sid,
            target=target,
            objective=objective,
            window=window,
            period=period,
            timezone=tz,
            effective_from=start,
            effective_until=end,
            customer=customer,
            latency=latency,
            credits=credits,
            service_hours=hours,
            policy=policy,
            min_coverage=min_coverage,
        )

    def min_coverage(self, value: Any, path: str) -> Any:
        """The least coverage for a verdict: a percentage from 0 (no minimum) to 100 inclusive,
        the exact Decimal written; a value in (0, 1] is a ratio written by mistake."""
        number = self.number(value, path, "a number in percent such as 90")
        if number is _BAD:
            return _BAD
        shown = _show_number(value)
        if not 0 <= number <= 100:
            return self.error(
                path, f"{shown} is out of range (allowed: 0 to 100, in percent; 0 for no minimum)"
            )
        if 0 < number <= 1:
            fix = f"write {_show_decimal(number * 100)}" if number < 1 else "e.g. 90, not 0.9"
            return self.error(
                path, f"{shown} looks like a ratio: the minimum coverage is in percent ({fix})"
            )
        return abs(number) if number == 0 else number  # -0.0 is 0

    def latency(self, value: Any, path: str) -> Any:
        table = self.table(value, path, LATENCY_KEYS, '{ threshold = "300ms", objective = 99.0 }')
        if table is _BAD:
            return _BAD
        threshold = objective = _BAD
        if "threshold" not in table:
            self.error(path, 'missing required key "threshold" (a duration such as "300ms")')
        else:
            threshold = self.positive_duration(table["threshold"], f"{path}.threshold", "threshold")
        if "objective" not in table:
            self.error(path, 'missing required key "objective" (in percent, e.g. 99.0)')
        else:
            objective = self.percent(
                table["objective"], f"{path}.objective", "the latency objective"
            )
        if _BAD in (threshold, objective):
            return _BAD
        return LatencyObjective(threshold=threshold, objective=objective)

    def credits(self, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            return self.type_error(
                path, "an array of tables such as [{ below = 99.9, credit = 10 }]", value
            )
        tiers: list[CreditTier] = []
        first: dict[Decimal, int] = {}
        n_errors = len(self.errors)
        for j, item in enumerate(value):
            ipath = f"{path}[{j}]"
            table = self.table(item, ipath, CREDIT_KEYS, "{ below = 99.9, credit = 10 }")
            if table is _BAD:
                continue
            below = credit = _BAD
            if "below" not in table:
                self.error(
                    ipath,
                    'missing required key "below" (the attainment, in percent, under which the tier applies)',
                )
            else:
                below = self.percent(table["below"], f"{ipath}.below", "below", up_to_100=True)
            if "credit" not in table:
                self.error(ipath, 'missing required key "credit" (percent of the charge)')
            else:
                credit = self.number(
                    table["credit"], f"{ipath}.credit", "a number in percent such as 10"
                )
                if credit is not _BAD and not 0 <= credit <= MAX_CREDIT:
                    credit = self.error(
                        f"{ipath}.credit",
                        f"{_show_number(table['credit'])} is out of range "
                        f"(allowed: 0 to {MAX_CREDIT}, in percent)",
                    )
            if below is not _BAD:
                if below in first:
                    self.error(
                        f"{ipath}.below",
                        f"{_show_number(table['below'])} is used twice (first at "
                        f"credits[{first[below]}]): each tier needs its own threshold",
                    )
                else:
                    first[below] = j
            if _BAD not in (below, credit):
                tiers.append(CreditTier(below=below, credit=credit))
        if len(self.errors) > n_errors:
            return _BAD
        return tuple(sorted(tiers, key=lambda t: t.below, reverse=True))

    def service_hours(self, value: Any, path: str, slo_tz: Any) -> Any:
        example = '{ days = "mon-fri", from = "08:00", to = "18:00" }'
        table = self.table(value, path, SERVICE_HOURS_KEYS, example)
        if table is _BAD:
            return _BAD
        if not table:
            return self.error(path, f"is empty: give days and/or hours, e.g. {example}")
        days: Any = tuple(range(7))
        if "days" in table:
            days = self.days(table["days"], f"{path}.days")
        start: Any = time_of_day(0, 0)
        if "from" in table:
            start = self.clock(table["from"], f"{path}.from", end_of_day=False)
        end: Any = time_of_day(0, 0)  # midnight at the end of the day
        if "to" in table:
            end = self.clock(table["to"], f"{path}.to", end_of_day=True)
        if start is not _BAD and end is not _BAD and end != time_of_day(0, 0) and end <= start:
            shown_to = _quote(table["to"]) if "to" in table else '"24:00"'
            end = self.error(
                f"{path}.to",
                f"{shown_to} is not after from ({_quote(table.get('from', '00:00'))}); hours cannot "
                'run past midnight (use "24:00" for the end of the day)',
            )
        tz = slo_tz
        if "timezone" in table:
            tz = self.tz(table["timezone"], f"{path}.timezone")
        if _BAD in (days, start, end, tz):
            return _BAD
        return ServiceHours(days=days, start=start, end=end, timezone=tz)

    def days(self, value: Any, path: str) -> Any:
        examples = '(examples: "mon-fri", "mon,wed,fri", "sat-sun")'
        if not isinstance(value, str):
            hint = ""
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                hint = f' (write one string: "{",".join(value)}")'
            return self.type_error(path, f"a string of days {examples}", value, hint)
        shown = _quote(value)
        if not value.strip():
            return self.error(path, f"is empty: name at least one day {examples}")
        out: list[int] = []
        for item in value.split(","):
            ends = [part.strip() for part in item.split("-")]
            numbers = []
            for name in ends:
                if name.lower() not in _DAY_NAMES:
                    if not name:
                        return self.error(path, f"{shown} has an empty day name {examples}")
                    match = difflib.get_close_matches(
                        name[:20].lower(), list(_DAY_NAMES), n=1, cutoff=0.75
                    )
                    hint = f'; did you mean "{match[0]}"?' if match else ""
                    if name.lower() in ("weekday", "weekdays", "weekend", "weekends"):
                        hint = f'; write "{"sat-sun" if "end" in name.lower() else "mon-fri"}"'

                    return self.error(
                        path, f"{shown}: {_quote(name)} is not a day (use {', '.join(DAYS)}{hint})"
                    )
                numbers.append(_DAY_NAMES[name.lower()])
            if len(numbers) > 2:
                return self.error(
                    path, f"{shown}: {_quote(item.strip())} is not a day or a range like mon-fri"
                )
            lo, hi = numbers[0], numbers[-1]
            if lo > hi:
                return self.error(
                    path,
                    f"{shown}: the range {_quote(item.strip())} runs backwards; weeks run mon to sun "
                    f'(write "{DAYS[lo]}-sun,mon-{DAYS[hi]}" to wrap past Sunday)',
                )
            for d in range(lo, hi + 1):
                if d in out:
                    return self.error(path, f"{shown}: {DAYS[d]} is named twice")
                out.append(d)
        return tuple(sorted(out))

    def clock(self, value: Any, path: str, end_of_day: bool) -> Any:
        wanted = '"HH:MM" string, e.g. "08:00"' + (' or "24:00"' if end_of_day else "")
        if not isinstance(value, str):
            hint = ""
            if isinstance(value, time):
                hint = f' (write it as a string: "{value.strftime("%H:%M")}")'
            return self.type_error(path, f"a {wanted}", value, hint)
        m = _HH_MM.fullmatch(value)
        if m and end_of_day and int(m[1]) == 24 and int(m[2]) == 0:
            return time_of_day(0, 0)  # midnight at the end of the day (see ServiceHours)
        if m and end_of_day and int(m[1]) == 0 and int(m[2]) == 0:
            return self.error(
                path, f'{_quote(value)} is the start of the day: write "24:00" for its end'
            )
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            last = "24:00" if end_of_day else "23:59"
            return self.error(
                path, f'{_quote(value)} is not a time of day (allowed: "00:00" to "{last}")'
            )
        return time_of_day(int(m[1]), int(m[2]))

    def policy(self, value: Any, path: str) -> Any:
        table = self.table(
            value, path, POLICY_KEYS, '{ unknown = "exclude", maintenance = "exclude" }'
        )
        if table is _BAD:
            return _BAD
        unknown = maintenance = "exclude"
        if "unknown" in table:
            unknown = self.choice(
                table["unknown"], f"{path}.unknown", UNKNOWN_POLICIES, "a policy for unknown time"
            )
        if "maintenance" in table:
            maintenance = self.choice(
                table["maintenance"],
                f"{path}.maintenance",
                MAINTENANCE_POLICIES,
                "a policy for maintenance time",
            )
        if _BAD in (unknown, maintenance):
            return _BAD
        return Policy(unknown=unknown, maintenance=maintenance)

    # [[maintenance]] --------------------------------------------------------------------------

    def maintenances(self, value: list[Any]) -> list[Maintenance | None]:
        seen: dict[str, int] = {}
        return [self.maintenance(i, item, seen) for i, item in enumerate(value)]

    def maintenance(self, i: int, raw: Any, seen: dict[str, int]) -> Maintenance | None:
        base = f"maintenance[{i}]"
        if not isinstance(raw, dict):
            self.type_error(base, "a table", raw)
            return None
        n_errors = len(self.errors)
        mid = self.ident(raw, "maintenance", i, seen)
        p = f'{base} (id "{mid}")' if mid is not None else base
        self.unknown_keys(raw, p, MAINTENANCE_KEYS)
        covered: dict[str, Any] = {}
        for key, kind in (("monitors", "monitor"), ("services", "service")):
            covered[key] = ()
            if key in raw:
                other = "service" if kind == "monitor" else "monitor"
                covered[key] = self.id_list(
                    raw[key],
                    f"{p}.{key}",
                    {kind: self.ids[kind]},
                    f"a {kind} id",
                    allow_empty=True,
                    misplaced={other: f': list it under "{other}s"'},
                )
        if not (raw.get("monitors") or raw.get("services") or _BAD in covered.values()):
            self.error(
                p, 'covers nothing: list the ids it applies to in "monitors" and/or "services"'
            )
        reason = None
        if "reason" in raw:
            reason = self.text(raw["reason"], f"{p}.reason", MAX_REASON_CHARS)
        start = end = recurrence = None
        one_off = [k for k in ONE_OFF_KEYS if k in raw]
        recurring = [k for k in RECURRENCE_KEYS if k in raw]
        if one_off and recurring:
            self.error(
                p,
                f'"{one_off[0]}" and "{recurring[0]}" cannot be combined: a window is either '
                "one-off (start and end) or recurring (rrule or cron, with duration and timezone)",
            )
        elif one_off:
            start, end = self.one_off(raw, p)
        elif recurring:
            recurrence = self.recurrence(raw, p)
        else:
            self.error(
                p,
                'missing a schedule: give "start" and "end" for a one-off window, or "rrule" or '
                '"cron" with "duration" and "timezone" for a recurring one',
            )
        parts = (covered["monitors"], covered["services"], reason, start, end, recurrence)
        if len(self.errors) > n_errors or mid is None or _BAD in parts:
            return None
        if recurrence is None and start is None:
            return None
        return Maintenance(
            id=mid,
            monitors=covered["monitors"],
            services=covered["services"],
            reason=reason,
            start=start,
            end=end,
            recurrence=recurrence,
        )

    def one_off(self, raw: dict[str, Any], p: str) -> tuple[Any, Any]:
        got: dict[str, Any] = {}
        for key in ONE_OFF_KEYS:
            if key not in raw:
                other = "end" if key == "start" else "start"
                self.error(
                    p, f'missing required key "{key}" (a one-off window needs {other} and {key})'
                )
                got[key] = _BAD
            else:
                got[key] = self.instant(raw[key], f"{p}.{key}")
        start, end = got["start"], got["end"]
        if start is not _BAD and end is not _BAD and not start < end:
            end = self.error(
                f"{p}.end",
                f"{_show_instant(raw['end'])} is not after start ({_show_instant(raw['start'])})",
            )
        return start, end

    def recurrence(self, raw: dict[str, Any], p: str) -> Any:
        n_errors = len(self.errors)
        tz: Any = _BAD
        if "timezone" not in raw:
            self.error(p, 'missing required key "timezone" (an IANA zone such as "Europe/Berlin")')
        else:
            tz = self.tz(raw["timezone"], f"{p}.timezone")
        rrule = cron = None
        if "rrule" in raw and "cron" in raw:
            self.error(p, 'give "rrule" or "cron", not both')
        elif "rrule" in raw:
            rrule = self.rrule(raw["rrule"], f"{p}.rrule", tz)
        elif "cron" in raw:
            cron = self.cron(raw["cron"], f"{p}.cron", tz)
        else:
            self.error(
                p,
                f'missing "rrule" or "cron": when the window recurs (e.g. rrule = {_RRULE_EXAMPLE} '
                f"or cron = {_CRON_EXAMPLE})",
            )
        duration: Any = _BAD
        if "duration" not in raw:
            self.error(
                p, 'missing required key "duration" (how long each window lasts, e.g. "30m")'
            )
        else:
            duration = self.positive_duration(raw["duration"], f"{p}.duration", "duration")
            if duration is not _BAD and duration > MAX_MAINTENANCE_DURATION:
                duration = self.error(
                    f"{p}.duration",
                    f"{_quote(raw['duration'])} is too long: a maintenance window lasts at most 31d",
                )
        if len(self.errors) > n_errors or _BAD in (tz, rrule, cron, duration):
            return _BAD
        return Recurrence(rrule=rrule, cron=cron, duration=duration, timezone=tz)

    def rrule(self, value: Any, path: str, tz: Any) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, f"a string such as {_RRULE_EXAMPLE}", value)
        shown = _quote(value, 100)
        body = value[6:] if value[:6].upper() == "RRULE:" else value
        if not body:
            return self.error(path, f"is empty: give a rule such as {_RRULE_EXAMPLE}")
        if len(body) > MAX_RULE_CHARS:
            return self.error(path, f"{shown} is longer than {MAX_RULE_CHARS} characters")
        upper = body.upper()
        if "DTSTART" in upper or ":" in body:
            return self.error(
                path,
                f"{shown}: give only the rule's parts (FREQ=...;BYDAY=...), no DTSTART, RDATE or "
                'EXDATE: windows start at the times the rule names, in "timezone"',
            )
        if any(ch.isspace() or not ch.isprintable() for ch in body):
            return self.error(
                path, f"{shown}: write the rule on one line without spaces, e.g. {_RRULE_EXAMPLE}"
            )
        parts: dict[str, str] = {}
        for part in upper.split(";"):
            name, _, text = part.partition("=")
            if not name:
                continue  # dateutil reports it
            if name in parts:
                return self.error(path, f"{shown}: {name} is given twice")
            parts[name] = text
            if name == "COUNT":
                return self.error(
                    path,
                    f"{shown}: COUNT is not supported (there is no DTSTART to count from); end "
                    "the rule with UNTIL=<UTC time>, e.g. UNTIL=20271231T235959Z",
                )
            if name == "UNTIL" and not re.fullmatch(r"[0-9]{8}(T[0-9]{6}Z?)?", text):
                return self.error(
                    path, f"{shown}: UNTIL must be a UTC time such as UNTIL=20271231T235959Z"
                )
        # only configs with an rrule need it; no type stubs are installed for dateutil
        from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

        zone = _zone(tz) if tz is not _BAD else UTC
        try:
            rrulestr(body, dtstart=datetime(2000, 1, 1, tzinfo=zone))
        except Exception as e:  # noqa: BLE001 - whatever dateutil raises is the user's answer
            said = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
            hint = ""
            if "UNTIL" in said:
                hint = ' (write UNTIL in UTC with a "Z", e.g. UNTIL=20271231T235959Z)'
            elif "freq" in said and "FREQ" not in parts:
                hint = " (FREQ is required, e.g. FREQ=WEEKLY)"
            return self.error(
                path, f"{shown} is not a valid RRULE: dateutil says {_quote(said, 200)}{hint}"
            )
        problem = _rrule_problem(parts)
        if problem:
            return self.error(path, f"{shown}: {problem}")
        return body

    def cron(self, value: Any, path: str, tz: Any) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, f"a string such as {_CRON_EXAMPLE}", value)
        shown = _quote(value, 100)
        if len(value) > MAX_RULE_CHARS:
            return self.error(path, f"{shown} is longer than {MAX_RULE_CHARS} characters")
        if not value.isprintable():
            return self.error(path, f"{shown} contains a control character")
        fields = value.split()
        if len(fields) == 1 and fields[0].startswith("@"):
            alias = _CRON_ALIASES.get(fields[0].lower())
            fix = f' (write "{alias}")' if alias else ""
            return self.error(
                path,
                f"{shown}: give the five fields (minute hour day-of-month month day-of-week), "
                f"not a nickname{fix}",
            )
        if len(fields) != 5:
            return self.error(
                path,
                f"{shown} has {len(fields)} field{'s' if len(fields) != 1 else ''}; cron needs "
                f"five: minute hour day-of-month month day-of-week (e.g. {_CRON_EXAMPLE})",
            )
        # only configs with a cron need it; no type stubs are installed for croniter
        from croniter import croniter  # type: ignore[import-untyped]

        zone = _zone(tz) if tz is not _BAD else UTC
        try:
            if not croniter.is_valid(value):
                croniter(value)  # raises with the reason
                raise ValueError("not a valid expression")
            croniter(value, datetime(2000, 1, 1, tzinfo=zone)).get_next(datetime)
        except Exception as e:  # noqa: BLE001 - whatever croniter raises is the user's answer
            name = type(e).__name__
            if name == "CroniterBadDateError":
                return self.error(path, f"{shown} never fires (croniter found no date in 50 years)")
            return self.error(
                path, f"{shown} is not a valid cron expression: croniter says {_quote(str(e), 200)}"
            )
        return value

    # the whole document --------------------------------------------------------------------

    def build(self, doc: dict[str, Any], path: str, sha256: str) -> Config | None:
        self.unknown_keys(doc, "", TOP_KEYS)
        daemon = self.daemon(self.section(doc, "daemon"), path)
        defaults = self.defaults(self.section(doc, "defaults"))
        retention = self.retention(self.section(doc, "retention"))
        monitor_ids: dict[str, int] = {}
        if "monitor" not in doc:
            self.error("", "no [[monitor]] defined")
            monitors = None
        else:
            monitors = self.monitors(doc["monitor"], defaults, monitor_ids)
        # Ids of tables whose own id is valid, even when their other keys are not, so that a
        # reference to them is no second error; None: the section is malformed, accept any id.
        self.ids["monitor"] = None if monitors is None else monitor_ids
        service_ids: dict[str, int] = {}
        raw_services = self.tables(doc, "service")
        # while services are checked, their ids serve only the hint for a service named among
        # a service's monitors
        self.ids["service"] = {
            t["id"]: i
            for i, t in reversed(list(enumerate(raw_services or ())))
            if isinstance(t, dict) and isinstance(t.get("id"), str)
        }
        services = None if raw_services is None else self.services(raw_services, service_ids)
        self.ids["service"] = None if services is None else service_ids
        raw_slos = self.tables(doc, "slo")
        slos = None if raw_slos is None else self.slos(raw_slos)
        raw_windows = self.tables(doc, "maintenance")
        windows = None if raw_windows is None else self.maintenances(raw_windows)
        if self.errors or daemon is None or retention is None:
            return None
        parts = (monitors, services, slos, windows)
        if any(part is None or any(x is None for x in part) for part in parts):
            return None
        return Config(
            path=path,
            sha256=sha256,
            daemon=daemon,
            monitors=tuple(monitors or ()),  # type: ignore[arg-type]
            retention=retention,
            services=tuple(services or ()),  # type: ignore[arg-type]
            slos=tuple(slos or ()),  # type: ignore[arg-type]
            maintenance=tuple(windows or ()),  # type: ignore[arg-type]
            unresolved_credentials=tuple(sorted(self.unresolved_credentials)),
        )
