"""Durations: the one grammar used for every duration in uptimed (config file and CLI flags).

A duration is one or more ``<number><unit>`` parts with no spaces, for example ``30s``, ``5m``,
``1h30m``, ``0.5s``, ``250ms``, ``1w2d``:

- ``<number>`` is ASCII digits with an optional decimal part (``0.5``; not ``.5`` nor ``5.``);
  no sign, no exponent;
- ``<unit>`` is one of ``ms``, ``s``, ``m`` (minutes), ``h``, ``d`` (24 h), ``w`` (7 d), lower-case;
- parts go from the largest unit to the smallest, each unit at most once (``1h30m``, not
  ``30m1h`` nor ``1m1m``);
- a bare number (``30``) is not a duration: the unit is required;
- the total is at most 100 years (:data:`MAX_SECONDS`).

:func:`parse_duration` turns the text into seconds (a float, computed exactly and rounded once);
:func:`format_duration` writes seconds back in the shortest exact form of the same grammar, so
``parse_duration(format_duration(x)) == x`` (for configured values and messages about them; the
figures in reports are rounded for people by :func:`uptimed.report_format.human_duration`, whose
text is in this grammar too).

Pure module: standard library only, no I/O.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, localcontext
from fractions import Fraction

__all__ = ["MAX_SECONDS", "format_duration", "parse_duration"]

#: Longest accepted duration: 100 years of 365.25 days, in seconds.
MAX_SECONDS: float = 100 * 365.25 * 86400.0

#: Unit -> seconds, largest first (the order compound forms must follow).
_UNITS: dict[str, Fraction] = {
    "w": Fraction(7 * 86400),
    "d": Fraction(86400),
    "h": Fraction(3600),
    "m": Fraction(60),
    "s": Fraction(1),
    "ms": Fraction(1, 1000),
}
_RANK = {unit: rank for rank, unit in enumerate(_UNITS)}
# "ms" before "m" and "s" so that "1ms" reads as milliseconds.
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|w|d|h|m|s)")
_MILLIS_PER_UNIT = (
    ("w", 604_800_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
)
_MAX_TEXT = 100  # characters; far above any sensible duration, keeps the arithmetic cheap
_EXAMPLES = '(examples: "30s", "5m", "1h30m")'
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str, limit: int = 40) -> str:
    """``text`` in double quotes, safe on one line: escapes quotes, backslashes and anything not
    printable, and shortens long text with an ellipsis."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _not_a_duration(text: str, why: str = "") -> ValueError:
    why = f": {why}" if why else ""
    return ValueError(f"{quote(text)} is not a duration{why} {_EXAMPLES}")


def _hint(text: str) -> str:
    """A short reason for the commonest mistakes, or "" (the examples say the rest)."""
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return f'a unit is required, e.g. "{text}s"'
    if text[:1] in "+-":
        return "no sign allowed"
    if any(ch.isspace() for ch in text):
        return "no spaces allowed"
    if re.search(r"[0-9][eE][+-]?[0-9]", text):
        return "no exponent allowed"
    if re.search(r"(^|[^0-9])\.[0-9]", text):
        return 'a decimal needs a digit before the point, e.g. "0.5s"'
    if text != text.lower() and re.fullmatch(r"([0-9]+(\.[0-9]+)?(ms|w|d|h|m|s))+", text.lower()):
        return "units are lower-case"
    return ""


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (see the module docstring for the grammar).

    >>> parse_duration("1h30m")
    5400.0
    >>> parse_duration("250ms")
    0.25

    :raises ValueError: ``"5x" is not a duration (examples: "30s", "5m", "1h30m")``, or the
        duration is longer than 100 years.
    :raises TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"a duration must be a string, not {type(text).__name__}")
    if not text:
        raise _not_a_duration(text, "it is empty")
    if len(text) > _MAX_TEXT:
        raise _not_a_duration(text, f"longer than {_MAX_TEXT} characters")
    total = Fraction(0)
    pos = 0
    last_rank = -1
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise _not_a_duration(text, _hint(text))
        number, unit = match.groups()
        rank = _RANK[unit]
        if rank <= last_rank:
            raise _not_a_duration(
                text, "units must go from largest to smallest, each at most once (like 1h30m)"
            )
        last_rank = rank
        total += Fraction(number) * _UNITS[unit]
        pos = match.end()
    if total > MAX_SECONDS:
        raise ValueError(f"{quote(text)} is too long: durations are limited to 100 years")
    return float(total)


def format_duration(seconds: float) -> str:
    """``seconds`` in the shortest exact form of the duration grammar.

    >>> format_duration(90)
    '1m30s'
    >>> format_duration(0.5)
    '500ms'
    >>> format_duration(0)
    '0s'

    Whole units from weeks down to milliseconds, zero parts left out; a remainder below one
    millisecond becomes a decimal on the milliseconds (``0.0005`` -> ``"0.5ms"``).

    :raises ValueError: ``seconds`` is negative, NaN or infinite.
    :raises TypeError: ``seconds`` is not a number.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"seconds must be an int or a float, not {type(seconds).__name__}")
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise ValueError(f"cannot format {seconds!r} as a duration")
    if seconds < 0:
        raise ValueError(f"cannot format a negative duration ({seconds!r})")
    with localcontext() as ctx:
        ctx.prec = 1000  # exact for every float: repr() has at most 17 significant digits
        # For a float, repr() is the shortest decimal that reads back as the same float.
        value = Decimal(repr(seconds)) if isinstance(seconds, float) else Decimal(seconds)
        millis = value * 1000
        whole = int(millis)  # non-negative: int() floors
        fraction = millis - whole
        parts = []
        for unit, size in _MILLIS_PER_UNIT:
            count, whole = divmod(whole, size)
            if count:
                parts.append(f"{count}{unit}")
        if fraction:
            ms = format(whole + fraction, "f").rstrip("0").rstrip(".")
            parts.append(f"{ms}ms")
        elif whole:
            parts.append(f"{whole}ms")
    return "".join(parts) or "0s"
