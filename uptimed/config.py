"""The validated configuration: frozen dataclasses built from a TOML file.

Nothing downstream reads the raw TOML: :func:`load_config` validates everything first and either
returns a :class:`Config` or raises :class:`ConfigError` listing every mistake it found.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import os
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from datetime import time as time_of_day
from decimal import Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import unquote, urlsplit

from probes.spec import HttpSpec, TcpSpec
from uptimed.durations import format_duration, parse_duration, quote
from uptimed.redact import UNPARSABLE, redact_url

# MODEL (fixed interface, used by the rest of the daemon) --------------------------------------


@dataclass(frozen=True)
class DaemonConfig:
    database: str  # path; "./uptimed.db" or "$STATE_DIRECTORY/uptimed.db" by default
    listen_host: str = "127.0.0.1"
    listen_port: int = 9464
    log_level: str = "info"  # debug | info | warning | error
    max_concurrency: int = 500  # probes in flight at once (bounds open sockets)
    api_token_file: str | None = None  # bearer token for API writes; None: write endpoints off
    connectivity_check: tuple[str, ...] = ()  # "tcp://host:port" or "http(s)://..." canaries


@dataclass(frozen=True)
class Monitor:
    id: str
    name: str
    kind: str  # "http" | "tcp"
    interval: float  # seconds, >= 1
    timeout: float  # seconds, < interval
    failure_threshold: int
    success_threshold: int
    labels: tuple[tuple[str, str], ...]  # [defaults].labels merged with the monitor's, sorted
    enabled: bool
    spec: HttpSpec | TcpSpec
    target: str  # what is probed, safe to log: URL with credentials redacted, or "host:port"

    @property
    def max_gap(self) -> float:
        """How long one probe's verdict may stand without the next one (seconds)."""
        return 2 * self.interval + self.timeout


@dataclass(frozen=True)
class Retention:
    raw: float = 14 * 86400.0  # seconds
    rollup: float = 400 * 86400.0  # seconds: rollup_hourly rows


@dataclass(frozen=True)
class Recurrence:
    """A recurring maintenance window: occurrences of ``rrule`` (RFC 5545 RRULE body, e.g.
    "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", no DTSTART) or ``cron`` (5 fields), in local time of
    ``timezone``, each lasting ``duration`` seconds of real time."""

    rrule: str | None
    cron: str | None
    duration: float
    timezone: str  # IANA name, e.g. "Europe/Berlin"


@dataclass(frozen=True)
class Maintenance:
    """A maintenance window from the config: one-off (``start``/``end``) or recurring."""

    id: str
    monitors: tuple[str, ...]
    services: tuple[str, ...]
    reason: str | None
    start: datetime | None  # timezone-aware (UTC); set for one-off windows
    end: datetime | None
    recurrence: Recurrence | None


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    monitors: tuple[str, ...]
    rule: str  # "all" | "any" | "quorum"
    quorum: int | None  # k, for rule "quorum": down when at least k members are down


@dataclass(frozen=True)
class Policy:
    """How time that is neither plainly up nor down counts toward attainment."""

    unknown: str = "exclude"  # "exclude" | "down" | "up"
    maintenance: str = "exclude"  # "exclude" | "up"


@dataclass(frozen=True)
class CreditTier:
    below: Decimal  # percent: applies when attainment < below
    credit: Decimal  # percent of the charge, as configured


@dataclass(frozen=True)
class LatencyObjective:
    threshold: float  # seconds
    objective: Decimal  # percent of successful probes faster than threshold


@dataclass(frozen=True)
class ServiceHours:
    """Weekly hours in which an SLO counts; time outside is not eligible."""

    days: tuple[int, ...]  # 0 = Monday ... 6 = Sunday
    start: time_of_day  # local wall time, inclusive
    end: time_of_day  # local wall time, exclusive; 00:00 means midnight at the end of the day
    timezone: str


@dataclass(frozen=True)
class SLO:
    id: str
    target: str  # a monitor id or a service id
    objective: Decimal  # percent, e.g. Decimal("99.9")
    window: float | None  # rolling window, seconds (e.g. 30 days)
    period: str | None  # calendar period: "week" | "month" | "quarter" | "year"
    timezone: str  # IANA; calendar periods and reports are cut in it (default "UTC")
    effective_from: datetime | None  # agreement term, aware
    effective_until: datetime | None
    customer: str | None
    latency: LatencyObjective | None
    credits: tuple[CreditTier, ...]  # sorted by ``below``, descending
    service_hours: ServiceHours | None
    policy: Policy


@dataclass(frozen=True)
class Config:
    path: str
    sha256: str  # of the file's bytes
    daemon: DaemonConfig
    monitors: tuple[Monitor, ...]
    retention: Retention
    services: tuple[Service, ...] = ()
    slos: tuple[SLO, ...] = ()
    maintenance: tuple[Maintenance, ...] = ()

    def monitor(self, monitor_id: str) -> Monitor | None:
        for m in self.monitors:
            if m.id == monitor_id:
                return m
        return None


class ConfigError(Exception):
    """The config cannot be used. ``errors`` holds one line per mistake, each starting with the
    file name: ``FILE: monitor[3].interval: "5x" is not a duration (examples: "30s", "5m")``."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


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
#   database   "./uptimed.db", or "$STATE_DIRECTORY/uptimed.db" when STATE_DIRECTORY is set
#              (first entry when it lists several, colon-separated). Relative paths stay relative
#              to the working directory, as written.
#
# Other choices: durations follow uptimed.durations (strings with units; a bare 30 is an error
# that suggests "30s"). kind is required (the error suggests one from url / host); kind and
# log_level ignore case; method is upper-cased. expect_status takes a list or a single item;
# items are 100..599 integers or "301", "200-299", "2xx"; ranges are sorted and merged.
# max_body_bytes takes an integer or "<number><unit>" with B, kB/MB/GB (1000s) or KiB/MiB/GiB
# (1024s), any case, no space. Redirects are capped at 10 (HttpSpec.max_redirects). tcp host
# may be a name, an IPv4 or IPv6 address (brackets optional). Keys of the other kind are errors
# ("url" on a tcp monitor); unknown keys get a difflib suggestion.

DEFAULT_DATABASE = "./uptimed.db"
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

TOP_KEYS = ("daemon", "defaults", "monitor", "retention")
DAEMON_KEYS = ("database", "listen", "log_level", "max_concurrency")
DEFAULTS_KEYS = ("interval", "timeout", "failure_threshold", "success_threshold", "labels")
RETENTION_KEYS = ("raw",)
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


class _Bad:
    """A value that was present but invalid; its error is already recorded."""

    def __repr__(self) -> str:
        return "<bad>"


_BAD: Any = _Bad()


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read, parse and validate the config file at ``path``.

    ``Config.path`` is ``path`` as given (not made absolute); ``Config.sha256`` hashes the file's
    bytes. A UTF-8 byte-order mark at the start is ignored.

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
    return loads_config(data, name)


def loads_config(data: bytes | str, path: str = "<config>") -> Config:
    """Like :func:`load_config`, from the file's contents; ``path`` names it in errors."""
    label = _file_label(path)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ConfigError(
            [
                f"{label}: not valid UTF-8 at byte offset {e.start} (line {line}): "
                "the file must be UTF-8 encoded"
            ]
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{label}: {_toml_error(str(e))}"]) from None
    except RecursionError:
        raise ConfigError([f"{label}: TOML syntax error: values nested too deeply"]) from None
    except ValueError as e:  # an integer too long to convert (over 4300 digits)
        why = "an integer with too many digits" if "digits" in str(e) else _quote(str(e), 200)
        raise ConfigError([f"{label}: TOML syntax error: {why}"]) from None
    checker = _Checker(label)
    try:
        config = checker.build(doc, path, sha256)
    except Exception as e:  # noqa: BLE001 - a bug here must still read as a config error
        raise ConfigError(
            [
                f"{label}: internal error while checking the config, please report it: "
                f"{type(e).__name__}: {_quote(str(e), 200)}"
            ]
        ) from e
    if checker.errors or config is None:
        raise ConfigError(checker.errors or [f"{label}: invalid config"])
    return config


def default_database(environ: Any = None) -> str:
    """The database path when ``[daemon].database`` is not set (see the rules above)."""
    env = os.environ if environ is None else environ
    first = (env.get("STATE_DIRECTORY") or "").split(":")[0]
    return os.path.join(first, "uptimed.db") if first else DEFAULT_DATABASE


def summarize(config: Config) -> str:
    """The one-screen summary printed by ``uptimed check-config``."""
    enabled = [m for m in config.monitors if m.enabled]
    disabled = len(config.monitors) - len(enabled)
    kinds = Counter(m.kind for m in enabled)
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    monitors = f"{len(enabled)} enabled" + (f" ({by_kind})" if by_kind else "")
    intervals = sorted(Counter(m.interval for m in enabled).items())
    shown = [f"{format_duration(iv)} x{n}" for iv, n in intervals[:8]]
    if len(intervals) > 8:
        shown.append(f"... {len(intervals) - 8} more")
    load = sum(1.0 / m.interval for m in enabled)
    load_text = f"{load:.2f}" if load == 0 or load >= 0.01 else f"{load:.2g}"
    d = config.daemon
    rows = [
        ("database", d.database),
        ("listen", _host_port(d.listen_host, d.listen_port)),
        ("monitors", f"{monitors}, {disabled} disabled"),
        ("intervals", ", ".join(shown) or "-"),
        ("load", f"{load_text} probes/s"),
    ]
    return "\n".join([f"{config.path}: OK"] + [f"  {k:<12}{v}" for k, v in rows])


# helpers --------------------------------------------------------------------------------------


def _quote(text: str, limit: int = 60) -> str:
    return quote(text, limit)


def _file_label(name: str) -> str:
    """The file name as given, unless it holds characters that would break the line."""
    return name if name.isprintable() else _quote(name, 1000)


def _toml_error(message: str) -> str:
    """tomllib's "Invalid value (at line 3, column 10)" -> "line 3, column 10: TOML syntax
    error: Invalid value"."""
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.S)
    if m:
        return f"line {m[2]}, column {m[3]}: TOML syntax error: {m[1]}"
    m = re.fullmatch(r"(.*) \(at end of document\)", message, re.S)
    if m:
        return f"end of file: TOML syntax error: {m[1]}"
    return f"TOML syntax error: {message}"


def _join(prefix: str, key: str) -> str:
    """Key path ``prefix.key``; keys that are not bare TOML keys are quoted."""
    k = key if _BARE_KEY.fullmatch(key) else _quote(key)
    return f"{prefix}.{k}" if prefix else k


def _show_number(value: int | float) -> str:
    if isinstance(value, float):
        if value != value:
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
    masked = re.sub(r"//[^/?#]*@", "//***@", url)
    return masked.split("?")[0] + ("?…" if "?" in masked else "")


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


class _Checker:
    """Collects every error while turning the TOML document into the model."""

    def __init__(self, label: str):
        self.label = label
        self.errors: list[str] = []

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

    # [daemon] --------------------------------------------------------------------------------

    def daemon(self, table: dict[str, Any] | None) -> DaemonConfig | None:
        if table is None:
            return None
        self.unknown_keys(table, "daemon", DAEMON_KEYS)
        database = default_database()
        if "database" in table:
            database = self.database(table["database"], "daemon.database")
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
        if _BAD in (database, listen, log_level, max_concurrency):
            return None
        return DaemonConfig(
            database=database,
            listen_host=listen[0],
            listen_port=listen[1],
            log_level=log_level,
            max_concurrency=max_concurrency,
        )

    def database(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, "a string (a file path)", value)
        if not value:
            return self.error(
                path, 'is empty: give a file path, e.g. "/var/lib/uptimed/uptimed.db"'
            )
        if "\0" in value:
            return self.error(path, f"{_quote(value)} contains a NUL character")
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
        return None if raw is _BAD else Retention(raw=raw)

    # [[monitor]] ---------------------------------------------------------------------------

    def monitors(self, value: Any, defaults: _Defaults) -> list[Monitor | None] | None:
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
        seen: dict[str, int] = {}
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

        name = mid
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
                target = redact_url(spec.url)
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
        url = _BAD
        if "url" not in raw:
            self.error(p, 'missing required key "url" (http monitors need one)')
        else:
            url = self.url(raw["url"], f"{p}.url")
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
        return HttpSpec(
            url=url,
            timeout=timeout,
            method=method,
            headers=headers,
            body=body,
            expect_status=expect,
            follow_redirects=flags["follow_redirects"],
            max_redirects=MAX_REDIRECTS,
            max_body_bytes=max_body,
            verify_tls=flags["verify_tls"],
        )

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
        return value

    def method(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            return self.type_error(path, 'a string such as "GET"', value)
        if not _TOKEN.fullmatch(value) or len(value) > 32:
            return self.error(
                path, f"{_quote(value)} is not an HTTP method (examples: GET, HEAD, POST)"
            )
        return value.upper()

    def headers(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            return self.type_error(path, "a table of header names to strings", value)
        out = []
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
            elif any((ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in text):
                self.error(
                    hpath,
                    f"{_quote(text)}: header values cannot hold line breaks or control characters",
                )
            else:
                out.append((name, text))
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

    # the whole document --------------------------------------------------------------------

    def build(self, doc: dict[str, Any], path: str, sha256: str) -> Config | None:
        self.unknown_keys(doc, "", TOP_KEYS)
        daemon = self.daemon(self.section(doc, "daemon"))
        defaults = self.defaults(self.section(doc, "defaults"))
        retention = self.retention(self.section(doc, "retention"))
        if "monitor" not in doc:
            self.error("", "no [[monitor]] defined")
            monitors = None
        else:
            monitors = self.monitors(doc["monitor"], defaults)
        if self.errors or daemon is None or retention is None or monitors is None:
            return None
        if any(m is None for m in monitors):
            return None
        return Config(
            path=path,
            sha256=sha256,
            daemon=daemon,
            monitors=tuple(m for m in monitors if m is not None),
            retention=retention,
        )
