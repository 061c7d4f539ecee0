"""Config documents for the loader's tests: snippets (a monitor of each kind, a service, an
SLO, maintenance windows), builders that add or replace keys, TOML writers, and helpers that
load a document and return its config or its errors."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from uptimed.config import load_config
from uptimed.errors import ConfigError
from uptimed.model.config import Config

# monitors -----------------------------------------------------------------------------------------

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


def with_options(base: str, options: dict[str, str]) -> str:
    """``base`` with ``key = value`` lines (values are TOML) replacing or adding to its own."""
    lines = [line for line in base.split("\n") if line.split(" = ")[0] not in options]
    return "\n".join(lines) + "".join(f"{k} = {v}\n" for k, v in options.items())


def http(**options: str) -> str:
    """The http monitor "web", with ``options``."""
    return with_options(HTTP, options)


def tcp(**options: str) -> str:
    """The tcp monitor "db", with ``options``."""
    return with_options(TCP, options)


WEB = 'c.toml: monitor[0] (id "web")'
DB = 'c.toml: monitor[0] (id "db")'


# services, SLOs, maintenance windows ---------------------------------------------------------

TWO = HTTP + TCP  # monitors "web" (http) and "db" (tcp)
SERVICE = '[[service]]\nid = "stack"\nmonitors = ["web", "db"]\n'
SVC = 'c.toml: service[0] (id "stack")'


def edit(base: str, options: dict[str, str | None]) -> str:
    """``base`` with ``key = value`` lines replaced, added, or (value None) removed."""
    lines = [line for line in base.split("\n") if line.split(" = ")[0] not in options]
    return "\n".join(lines) + "".join(f"{k} = {v}\n" for k, v in options.items() if v is not None)


def service(**options: str | None) -> str:
    """Monitors "web" and "db" and the service "stack" over both, with ``options``."""
    return TWO + edit(SERVICE, options)


SLO_TABLE = '[[slo]]\nid = "avail"\ntarget = "web"\nobjective = 99.9\nwindow = "30d"\n'
SL = 'c.toml: slo[0] (id "avail")'


def slo(**options: str | None) -> str:
    """Monitors "web" and "db", service "stack", and the SLO "avail" on "web", with ``options``."""
    return TWO + SERVICE + edit(SLO_TABLE, options)


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
    return TWO + SERVICE + edit(WEEKLY, options)


def once(**options: str | None) -> str:
    """Monitors "web" and "db", service "stack", and a one-off window, with ``options``."""
    return TWO + SERVICE + edit(ONCE, options)


# TOML writers ----------------------------------------------------------------------------------


def toml_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v: Any) -> str:
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
        return toml_string(v)
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def toml_document(doc: dict[str, Any]) -> str:
    return "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in doc.items())


# secrets -----------------------------------------------------------------------------------------

SECRET = "s3cr3t-Value"


def secret_free(text: str) -> None:
    """No secret value is in ``text``."""
    assert SECRET not in text and "s3cr3t" not in text, text
