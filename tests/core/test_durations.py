"""The one duration grammar: parse_duration / format_duration."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uptimed.core.times import MAX_SECONDS, format_duration, parse_duration

EXAMPLES = '(examples: "30s", "5m", "1h30m")'


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("2w", 14 * 86400.0),
        ("0.5s", 0.5),
        ("250ms", 0.25),
        ("1ms", 0.001),
        ("0.1s", 0.1),  # exact decimal arithmetic, not 0.1 * 1.0 rounding twice
        ("1.5h", 5400.0),
        ("1w2d3h4m5s6ms", 7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5 + 0.006),
        ("1m0.5s", 60.5),
        ("0s", 0.0),
        ("007s", 7.0),
        ("36525d", MAX_SECONDS),  # exactly 100 years is allowed
    ],
)
def test_parse_valid(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_parse_error_message_is_exact() -> None:
    with pytest.raises(ValueError) as e:
        parse_duration("5x")
    assert str(e.value) == f'"5x" is not a duration {EXAMPLES}'


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("30", 'a unit is required, e.g. "30s"'),
        ("1.5", 'a unit is required, e.g. "1.5s"'),
        ("-1s", "no sign allowed"),
        ("+1s", "no sign allowed"),
        ("1 s", "no spaces allowed"),
        (" 1s", "no spaces allowed"),
        ("1s\n", "no spaces allowed"),
        ("1e3s", "no exponent allowed"),
        ("1E3s", "no exponent allowed"),
        (".5s", "a digit before the point"),
        ("5M", "units are lower-case"),
        ("1H30M", "units are lower-case"),
        ("30m1h", "from largest to smallest"),
        ("1m1m", "from largest to smallest"),
        ("1s1ms1s", "from largest to smallest"),
        ("", "it is empty"),
        ("9" * 101 + "s", "longer than 100 characters"),
    ],
)
def test_parse_error_hints(text: str, why: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_duration(text)
    message = str(e.value)
    assert "is not a duration" in message
    assert why in message
    assert message.endswith(EXAMPLES)
    assert "\n" not in message


@pytest.mark.parametrize(
    "text",
    [
        "5.s",
        "1y",
        "1mo",
        "s",
        "ms",
        "1sec",
        "1 ",
        "nan",
        "inf",
        "infs",
        "1.2.3s",
        "٣s",
        "1_000s",
        "0x10s",
        "1s,2s",
        "1h 30m",
        "1,5s",
        "½s",
        "１s",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_parse_quotes_odd_text_safely() -> None:
    with pytest.raises(ValueError) as e:
        parse_duration('a"b\\c\x1b[31m\u202e')
    assert str(e.value).startswith('"a\\"b\\\\c\\x1b[31m\\u202e" is not a duration')


def test_parse_rejects_more_than_100_years() -> None:
    with pytest.raises(ValueError) as e:
        parse_duration("36526d")
    assert str(e.value) == '"36526d" is too long: durations are limited to 100 years'
    with pytest.raises(ValueError, match="limited to 100 years"):
        parse_duration("9" * 99 + "w")


def test_parse_wants_a_string() -> None:
    with pytest.raises(TypeError, match="must be a string, not int"):
        parse_duration(30)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (90, "1m30s"),
        (0.5, "500ms"),
        (0, "0s"),
        (0.0, "0s"),
        (30, "30s"),
        (3600, "1h"),
        (5400.0, "1h30m"),
        (86400, "1d"),
        (604800, "1w"),
        (8 * 86400 + 1, "1w1d1s"),
        (1.5, "1s500ms"),
        (0.001, "1ms"),
        (0.0005, "0.5ms"),
        (1.0005, "1s0.5ms"),
        (2.5, "2s500ms"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", [-1, -0.5, math.nan, math.inf, -math.inf])
def test_format_rejects_impossible_values(bad: float) -> None:
    with pytest.raises(ValueError):
        format_duration(bad)


@pytest.mark.parametrize("bad", [True, "30s", None])
def test_format_wants_a_number(bad: object) -> None:
    with pytest.raises(TypeError):
        format_duration(bad)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None, database=None)
@given(st.floats(min_value=1e-6, max_value=MAX_SECONDS) | st.just(0.0))
def test_format_round_trips_exactly(seconds: float) -> None:
    text = format_duration(seconds)
    assert parse_duration(text) == seconds


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=int(MAX_SECONDS) * 1000))
def test_format_round_trips_milliseconds(millis: int) -> None:
    seconds = millis / 1000
    text = format_duration(seconds)
    assert parse_duration(text) == seconds
    assert "." not in text  # whole milliseconds need no decimal


_UNITS = ["w", "d", "h", "m", "s", "ms"]


@st.composite
def grammar_texts(draw: st.DrawFn) -> str:
    """Valid durations straight from the grammar."""
    units = sorted(draw(st.sets(st.sampled_from(_UNITS), min_size=1)), key=_UNITS.index)
    parts = []
    for unit in units:
        number = str(draw(st.integers(0, 999)))
        if draw(st.booleans()):
            number += "." + str(draw(st.integers(0, 999)))
        parts.append(number + unit)
    return "".join(parts)


@settings(max_examples=200, deadline=None, database=None)
@given(grammar_texts())
def test_grammar_texts_parse_and_normalise(text: str) -> None:
    seconds = parse_duration(text)
    assert 0 <= seconds <= MAX_SECONDS
    assert parse_duration(format_duration(seconds)) == seconds


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=30) | st.text(alphabet="0123456789.smhdwM -+e", max_size=16))
def test_parse_gives_seconds_or_value_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError as e:
        assert "\n" not in str(e)
    else:
        assert 0 <= seconds <= MAX_SECONDS and math.isfinite(seconds)
