"""URL redaction and secret scrubbing as the config hands values over (uptimed.core.redact)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.http import HttpSpec
from probes.tcp import TcpSpec
from uptimed.core.redact import UNPARSABLE, redact_url, scrub, secrets_of

# redaction --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/x", "https://example.com/x"),
        ("https://bob:hunter2@example.com/", "https://***:***@example.com/"),
        ("https://bob@example.com/", "https://***@example.com/"),
        ("http://a:b@c@d:80/", "http://***:***@d:80/"),
        ("http://h/?token=abc&page=2", "http://h/?token=***&page=2"),
        ("http://h/?TOKEN=abc", "http://h/?TOKEN=***"),
        (
            "http://h/?key=1&apikey=2&api_key=3&secret=4&password=5&passwd=6&pass=7&auth=8&sig=9"
            "&signature=10&access_token=11&q=12",
            "http://h/?key=***&apikey=***&api_key=***&secret=***&password=***&passwd=***&pass=***"
            "&auth=***&sig=***&signature=***&access_token=***&q=12",
        ),
        (
            "http://h/?apiKey=1&X-Amz-Signature=2&client_secret=3&private_token=4",
            "http://h/?apiKey=***&X-Amz-Signature=***&client_secret=***&private_token=***",
        ),
        ("http://h/?%74oken=x", "http://h/?%74oken=***"),
        ("http://h/?a=1;sig=2", "http://h/?a=1;sig=***"),
        ("http://h/?bypass=1&keyboard=2&token=", "http://h/?bypass=1&keyboard=2&token="),
        ("http://h/#access_token=x&state=y", "http://h/#access_token=***&state=y"),
        ("http://h/#section", "http://h/#section"),
        ("http://h/a b\n\x1b[31m", "http://h/a%20b%0A%1B[31m"),
        ("not a url", "not%20a%20url"),
        ("", ""),
        ("http://[::1/", UNPARSABLE),
    ],
)
def test_redact_url(url: str, safe: str) -> None:
    assert redact_url(url) == safe


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=60) | st.from_regex(r"https?://[a-z:@\[\]]{0,12}/?\?[a-z_=&;]{0,20}"))
def test_redact_url_never_raises(url: str) -> None:
    safe = redact_url(url)
    assert isinstance(safe, str) and safe.isprintable()


def test_redact_url_non_string() -> None:
    assert redact_url(None) == UNPARSABLE  # type: ignore[arg-type]


def test_secrets_of_and_scrub() -> None:
    spec = HttpSpec(
        url="https://bob:p%40ssw0rd@h/x?token=abcd%2Fef&q=1",
        timeout=1.0,
        headers=(("Authorization", "Bearer tok123"), ("X-Api-Key", "kkkk"), ("Accept", "x/y")),
    )
    secrets = secrets_of(spec)
    assert set(secrets) == {
        "p%40ssw0rd",
        "p@ssw0rd",
        "abcd%2Fef",
        "abcd/ef",
        "Bearer tok123",
        "tok123",
        "kkkk",
    }
    text = "GET https://bob:p%40ssw0rd@h/x?token=abcd%2Fef: 401 (p@ssw0rd, tok123, x/y)"
    assert scrub(text, secrets) == "GET https://bob:***@h/x?token=***: 401 (***, ***, x/y)"
    assert secrets_of(TcpSpec("h", 1, 1.0)) == ()
    assert secrets_of(object()) == ()
