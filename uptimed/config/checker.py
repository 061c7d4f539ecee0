"""What every section checker shares: the list of errors, the :class:`Invalid` signal, and how
keys and values appear in messages.

How errors read. Each line is "FILE: KEYPATH: message". KEYPATH is the TOML path of the key at
fault: daemon.listen, defaults.labels.team, retention.raw, monitor[3].interval,
monitor[3].expect_status[1]. Tables of an array ([[monitor]], [[service]], [[slo]],
[[maintenance]]) are numbered from 0 in file order; once a table's id is known (a valid id
string), its path reads monitor[3] (id "web").interval. Errors about the id itself use the bare
index: monitor[3].id: "a" is used twice (first at monitor[0]). Errors about a whole table
(unknown or missing keys) name the table: monitor[0] (id "web"): unknown key ... Errors about the
whole file have no KEYPATH: "FILE: no [[monitor]] defined", and TOML syntax errors put the
position there: "FILE: line 3, column 10: TOML syntax error: ...". Values are echoed in double
quotes with control characters escaped (:func:`echo`); URLs are echoed redacted.

Every mistake is reported, in file order within a table, in one pass: a checker that finds its
value unusable records why (:meth:`Checker.error`) and raises :class:`Invalid`; the table's
builder catches it (:meth:`Checker.attempt`), goes on with the next key, and drops the table
when any of its keys failed.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Concatenate, ParamSpec, TypeVar

from uptimed.config.secrets import Mode
from uptimed.core.times import quote

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: A TOML table as tomllib gives it (values are checked before use).
Table = Mapping[str, object]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class Invalid(Exception):
    """The value being checked is unusable; what is wrong with it is already recorded."""


class Checker:
    """The state of one check of a config document: the errors found so far, in order, and
    what checkers need to know beyond their own value.

    ``mode``, ``environ`` and ``base_dir`` say how secret references are resolved (see
    :mod:`uptimed.config.secret_options`); ``ids`` holds the valid ids of the monitors and
    services seen, for references to them (see :mod:`uptimed.config.ids`).
    """

    def __init__(self, label: str, mode: Mode, environ: Mapping[str, str], base_dir: str) -> None:
        self.label = label
        self.errors: list[str] = []
        self.mode: Mode = mode
        self.environ = environ
        self.base_dir = base_dir  # where relative paths start (see config_dir)
        #: valid ids of [[monitor]] and [[service]] tables (see the loader's document check)
        self.ids: dict[str, dict[str, int] | None] = {
            "monitor": None,
            "service": None,
            "notifier": None,
            "escalation": None,
        }
        #: secrets="check": credentials left unresolved (CREDENTIALS_DIRECTORY unset)
        self.unresolved_credentials: set[str] = set()
        #: every value read for a reference, to scrub from an internal error's text
        self.secret_values: set[str] = set()

    def error(self, path: str, message: str) -> Invalid:
        """Record ``message`` about the key at ``path`` ("" for the whole file); the returned
        :class:`Invalid` is for the caller to raise when its value is lost."""
        where = f"{path}: " if path else ""
        self.errors.append(f"{self.label}: {where}{message}")
        return Invalid()

    def type_error(self, path: str, wanted: str, value: object, hint: str = "") -> Invalid:
        return self.error(path, f"expected {wanted}, found {describe(value)}{hint}")

    def unknown_keys(self, table: Mapping[str, object], path: str, allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                self.error(path, f"unknown key {echo(key)}{suggest(key, allowed)}")

    def attempt(
        self, check: Callable[Concatenate[Checker, _P], _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T | None:
        """``check(self, *args, **kwargs)``, or None when it raised :class:`Invalid` (its
        errors recorded): for a builder that goes on checking the other keys."""
        try:
            return check(self, *args, **kwargs)
        except Invalid:
            return None


def config_dir(config_path: str) -> str:
    """The directory relative paths in a config are resolved against: the config file's own
    (the working directory for a config given as text, path "<config>")."""
    if config_path.startswith("<"):
        return os.getcwd()
    return os.path.dirname(os.path.abspath(config_path))


# how keys and values are shown -----------------------------------------------------------------


def echo(text: str, limit: int = 60) -> str:
    """A value as messages show it: quoted, escaped, shortened past ``limit`` characters."""
    return quote(text, limit)


def join(prefix: str, key: str) -> str:
    """Key path ``prefix.key``; keys that are not bare TOML keys are quoted."""
    k = key if _BARE_KEY.fullmatch(key) else echo(key)
    return f"{prefix}.{k}" if prefix else k


def show_number(value: int | float) -> str:  # noqa: PYI041 - the int branch needs int
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


def describe(value: object) -> str:
    """What was found, for type errors: ``integer 30``, ``string "x"``, ``table``."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {show_number(value)}"
    if isinstance(value, float):
        return f"float {show_number(value)}"
    if isinstance(value, str):
        return f"string {echo(value)}"
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


def suggest(key: str, allowed: Sequence[str]) -> str:
    """`` (did you mean "interval"?)``, or the allowed keys when there are few, or ""."""
    match = difflib.get_close_matches(key[:100].lower(), allowed, n=1, cutoff=0.6)
    if match:
        return f' (did you mean "{match[0]}"?)'
    if len(allowed) <= 12:
        return f" (allowed: {', '.join(allowed)})"
    return ""


def close_match(value: str, allowed: Sequence[str]) -> str:
    """``; did you mean "info"?`` for a value near one of ``allowed``, else ""."""
    match = difflib.get_close_matches(value[:100].lower(), allowed, n=1, cutoff=0.6)
    return f'; did you mean "{match[0]}"?' if match else ""
