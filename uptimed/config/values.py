"""Checkers of the value kinds several sections share: strings, booleans, integers, durations,
names, labels, choices, sub-tables, time zones, instants and host names.

Each takes the :class:`~uptimed.config.checker.Checker`, the TOML value and its key path, and
returns the value for the model or raises :class:`~uptimed.config.checker.Invalid` after
recording why.

Rules:
  durations  uptimed.core.times' grammar: strings with units; a bare 30 is an error that
             suggests "30s".
  time zones IANA names as zoneinfo accepts them (uptimed.core.times.zone), with a suggestion
             for near misses ("Berlin" -> "Europe/Berlin"); an offset or an abbreviation is an
             error that says to use a name.
  instants   TOML offset date-times or RFC 3339 strings ("2026-10-04T02:00:00Z", "...+02:00",
             "t"/"z"/space accepted); a local date-time, date or a string without offset is an
             error naming the fix. Stored as aware datetimes in UTC.
  labels     a table of Prometheus label names (letters, digits and _, not starting with a
             digit; not "__..." nor one of RESERVED_LABELS) to strings.
  hosts      a name (internationalised names by their punycode form), an IPv4 or IPv6 address.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from uptimed.config.checker import Checker, Invalid, Table, close_match, echo, join, show_number
from uptimed.core.times import format_duration, parse_duration, zone

MIN_INTERVAL = 1.0
MAX_NAME_CHARS = 200

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
        "location",  # [daemon].location, on every series
        "target",  # the shipped rules join an SLO to its target's state by this label
    }
)

#: What a header value cannot hold (RFC 9110): line breaks and other control characters.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_HOST_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")
_INSTANT_EXAMPLES = '(examples: 2026-10-04T02:00:00Z, "2026-10-04T02:00:00+02:00")'
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


# scalars ---------------------------------------------------------------------------------------


def string(c: Checker, value: object, path: str) -> str:
    if not isinstance(value, str):
        raise c.type_error(path, "a string", value)
    return value


def boolean(c: Checker, value: object, path: str) -> bool:
    if not isinstance(value, bool):
        hint = ""
        if isinstance(value, str) and value.lower() in ("true", "false"):
            hint = f" (write {value.lower()} without quotes)"
        raise c.type_error(path, "a boolean (true or false)", value, hint)
    return value


def integer(c: Checker, value: object, path: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise c.type_error(path, f"an integer from {lo} to {hi}", value)
    if not lo <= value <= hi:
        raise c.error(path, f"{show_number(value)} is out of range (allowed: {lo} to {hi})")
    return value


def choice(c: Checker, value: object, path: str, allowed: tuple[str, ...], what: str) -> str:
    """One of ``allowed``, any case; stored lower-case."""
    if not isinstance(value, str):
        raise c.type_error(path, f"a string ({', '.join(allowed)})", value)
    if value.lower() not in allowed:
        hint = close_match(value, allowed)
        raise c.error(path, f"{echo(value)} is not {what} (allowed: {', '.join(allowed)}{hint})")
    return value.lower()


def name(c: Checker, value: object, path: str) -> str:
    """A display name ("name" of a monitor or service); left out, the id serves."""
    if not isinstance(value, str):
        raise c.type_error(path, "a string", value)
    if not value.strip():
        raise c.error(path, "is empty (leave it out to use the id)")
    return _one_line(c, value, path, MAX_NAME_CHARS)


def text(c: Checker, value: object, path: str, limit: int = MAX_NAME_CHARS) -> str:
    """A free text of one line (an SLO's customer, a window's reason)."""
    if not isinstance(value, str):
        raise c.type_error(path, "a string", value)
    if not value.strip():
        raise c.error(path, "is empty (leave the key out instead)")
    return _one_line(c, value, path, limit)


def _one_line(c: Checker, value: str, path: str, limit: int) -> str:
    if len(value) > limit:
        raise c.error(path, f"{echo(value)} is longer than {limit} characters")
    if not value.isprintable():
        raise c.error(path, f"{echo(value)} contains a control character")
    return value


def table(c: Checker, value: object, path: str, allowed: tuple[str, ...], example: str) -> Table:
    """A sub-table (``latency = { ... }``), its unknown keys reported."""
    if not isinstance(value, dict):
        raise c.type_error(path, f"a table such as {example}", value)
    c.unknown_keys(value, path, allowed)
    return value


# durations -------------------------------------------------------------------------------------


def duration(c: Checker, value: object, path: str) -> float:
    """Seconds, from a duration string."""
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
        raise c.type_error(path, 'a duration string such as "30s"', value, hint)
    try:
        return parse_duration(value)
    except ValueError as e:
        raise c.error(path, str(e)) from None


def duration_at_least(c: Checker, value: object, path: str, minimum: float, what: str) -> float:
    seconds = duration(c, value, path)
    if seconds < minimum:
        raise c.error(
            path, f"{echo(str(value))} is below the minimum {what} of {format_duration(minimum)}"
        )
    return seconds


def positive_duration(c: Checker, value: object, path: str, what: str) -> float:
    seconds = duration(c, value, path)
    if seconds <= 0:
        raise c.error(path, f"{echo(str(value))}: the {what} must be greater than 0")
    return seconds


def interval(c: Checker, value: object, path: str) -> float:
    return duration_at_least(c, value, path, MIN_INTERVAL, "interval")


def timeout(c: Checker, value: object, path: str) -> float:
    return positive_duration(c, value, path, "timeout")


# labels ----------------------------------------------------------------------------------------


def labels(c: Checker, value: object, path: str) -> dict[str, str]:
    """Label names to values, every name and value checked (each mistake reported)."""
    if not isinstance(value, dict):
        raise c.type_error(path, "a table of label names to strings", value)
    out: dict[str, str] = {}
    n_errors = len(c.errors)
    for label, label_value in value.items():
        lpath = join(path, label)
        if not _LABEL_NAME.fullmatch(label):
            c.error(
                lpath,
                f"{echo(label)} is not a valid label name "
                "(letters, digits and _, not starting with a digit)",
            )
        elif label.startswith("__"):
            c.error(lpath, f'{echo(label)}: names starting with "__" are reserved by Prometheus')
        elif label in RESERVED_LABELS:
            c.error(
                lpath,
                f"{echo(label)} is reserved by uptimed "
                f"(reserved: {', '.join(sorted(RESERVED_LABELS))})",
            )
        if not isinstance(label_value, str):
            hint = ""
            if isinstance(label_value, (int, float)) and not isinstance(label_value, bool):
                hint = f' (quote it: "{show_number(label_value)}")'
            c.type_error(lpath, "a string", label_value, hint)
        else:
            out[label] = label_value
    if len(c.errors) > n_errors:
        raise Invalid
    return out


# time zones and instants -----------------------------------------------------------------------


def time_zone(c: Checker, value: object, path: str) -> str:
    """An IANA time zone name, as written."""
    if not isinstance(value, str):
        raise c.type_error(path, 'a string (an IANA time zone such as "Europe/Berlin")', value)
    if value and len(value) <= 255 and value.isprintable():
        try:
            zone(value)
            return value
        except ValueError:
            pass
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
    raise c.error(path, f"{echo(value)} is not an IANA time zone{hint}")


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


def instant(c: Checker, value: object, path: str) -> datetime:
    """An aware date-time, returned in UTC."""
    if isinstance(value, datetime):
        shown = value.isoformat()
        if value.tzinfo is None:
            raise c.error(
                path,
                f'{shown} has no UTC offset: add "Z" for UTC or an offset such as "+02:00" '
                f"(e.g. {shown}Z)",
            )
        dt = value
    elif isinstance(value, str):
        shown = echo(value)
        dt = _rfc3339(c, value, path, shown)
    else:
        hint = ""
        if isinstance(value, date):
            hint = f" (add a time and offset: {value.isoformat()}T00:00:00Z)"
        raise c.type_error(path, f"a date-time with a UTC offset {_INSTANT_EXAMPLES}", value, hint)
    try:
        return dt.astimezone(UTC)
    except (OverflowError, ValueError):
        raise c.error(path, f"{shown} is out of range (years 1 to 9999 in UTC)") from None


def _rfc3339(c: Checker, value: str, path: str, shown: str) -> datetime:
    m = _RFC3339.fullmatch(value)
    if not m:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise c.error(
                path,
                f'{shown} is a date without a time: write "{value}T00:00:00Z" (or with '
                'an offset such as "+02:00" instead of "Z")',
            )
        raise c.error(path, f"{shown} is not an RFC 3339 date-time {_INSTANT_EXAMPLES}")
    if m[8] is None:
        raise c.error(
            path,
            f'{shown} has no UTC offset: add "Z" for UTC or an offset such as "+02:00" '
            f'(e.g. "{value}Z")',
        )
    offset = m[8].upper()
    try:
        if offset == "Z":
            tz: timezone = UTC
        else:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if minutes > 59:
                raise ValueError("offset minutes must be in 0..59")
            delta = timedelta(hours=hours, minutes=minutes)
            tz = timezone(-delta if offset[0] == "-" else delta)
        micro = int((m[7] or ".0")[1:7].ljust(6, "0"))
        year, month, day, hour, minute, second = (int(m[k]) for k in range(1, 7))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as e:
        raise c.error(path, f"{shown} is not a valid date-time: {e}") from None


def show_instant(value: object) -> str:
    """A start/end value as written: a TOML date-time, or a quoted string."""
    return value.isoformat() if isinstance(value, datetime) else echo(str(value))


def show_decimal(value: Decimal) -> str:
    """``Decimal("99.900")`` -> ``99.9``; ``Decimal("1E+2")`` -> ``100``."""
    return format(value.normalize(), "f")


# hosts -----------------------------------------------------------------------------------------


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def host_problem(host: str) -> str | None:
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
    ascii_name = host
    if not host.isascii():  # internationalised name: check its ASCII (punycode) form
        try:
            ascii_name = host.encode("idna").decode("ascii")
        except UnicodeError:
            return "is not a valid host name"
    if not _HOSTNAME.fullmatch(ascii_name):
        return "is not a valid host name or IP address"
    return None
