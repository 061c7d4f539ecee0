"""The keys of http monitors (uptimed.config.http, uptimed.config.urls), and the requests
aiohttp refuses, each proved against the real probe."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote as percent_encode

import pytest

from probes.base import ProbeContext
from probes.http import HttpSpec, make_session, probe
from tests.config.documents import (
    HTTP,
    SECRET,
    WEB,
    error,
    errors,
    http,
    load,
    secret_free,
    toml_string,
    toml_value,
)
from tests.support.targets import Target
from uptimed.config import summarize
from uptimed.core.redact import scrub, secrets_of

# http options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "HTTPS://EXAMPLE.COM/x?y=1#z",
        "http://127.0.0.1:8080/",
        "https://[::1]:8443/health",
        "http://例え.jp/",
        "http://user:pass@host.internal/",
        "http://under_score.local/",
    ],
)
def test_valid_urls(url: str) -> None:
    assert load(http(url=f'"{url}"')).monitors[0].spec.url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x/", '"ftp://x/": scheme "ftp" is not allowed (allowed: http, https)'),
        (
            "example.com/x",
            '"example.com/x" is not an absolute URL: it must start with "http://" or "https://"',
        ),
        ("http://", '"http://" has no host'),
        ("http:///path", '"http:///path" has no host'),
        (
            "http://exa mple.com/",
            '"http://exa%20mple.com/" contains a space or control character '
            "at position 10 (percent-encode it: a space is %20)",
        ),
        ("http://[::1/", '"http://[::1/" is not a valid URL (Invalid IPv6 URL)'),
        ("http://u:pw@[::1/?key=1", '"http://***@[::1/?…" is not a valid URL (Invalid IPv6 URL)'),
        ("http://h:99999/", '"http://h:99999/" is not a valid URL (Port out of range 0-65535)'),
        ("http://h:0/", '"http://h:0/": the port must be a number from 1 to 65535'),
        (
            "http://-bad-.com/",
            '"http://-bad-.com/": host "-bad-.com" is not a valid host name or IP address',
        ),
        ("http://999.1.1.1/", '"http://999.1.1.1/": host "999.1.1.1" is not a valid IPv4 address'),
        (
            "http://[fe80::zz]/",
            "\"http://[fe80::zz]/\" is not a valid URL ('fe80::zz' does not "
            "appear to be an IPv4 or IPv6 address)",
        ),
        ("http://a..b/", '"http://a..b/": host "a..b" is not a valid host name or IP address'),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    assert error(http(url=f'"{url}"')) == f"{WEB}.url: {message}"


def test_url_errors_never_echo_credentials() -> None:
    msg = error(http(url='"ftp://admin:hunter2@host/x?token=s3cret"'))
    assert "hunter2" not in msg and "s3cret" not in msg and "admin" not in msg
    assert msg == (
        f'{WEB}.url: "ftp://***:***@host/x?token=***": scheme "ftp" is not allowed '
        "(allowed: http, https)"
    )


def test_url_type_and_presence() -> None:
    assert error(http(url="1")) == (
        f'{WEB}.url: expected a string such as "https://example.com/health", found integer 1'
    )
    assert error(HTTP.replace('url = "http://127.0.0.1:8080/health"\n', "")) == (
        f'{WEB}: missing required key "url" (http monitors need one)'
    )


def test_target_is_redacted_but_spec_keeps_the_url() -> None:
    url = "https://bob:hunter2@example.com/x?api_key=abc&page=2"
    m = load(http(url=f'"{url}"')).monitors[0]
    assert m.spec.url == url
    assert m.target == "https://***:***@example.com/x?api_key=***&page=2"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": '"GE T"'}, '.method: "GE T" is not an HTTP method (examples: GET, HEAD, POST)'),
        ({"method": '""'}, '.method: "" is not an HTTP method (examples: GET, HEAD, POST)'),
        ({"method": "1"}, '.method: expected a string such as "GET", found integer 1'),
        (
            {"headers": '{ "X A" = "1" }'},
            '.headers."X A": "X A" is not a valid header name '
            "(letters, digits and !#$%&'*+-.^_`|~)",
        ),
        (
            {"headers": '{ A = "a\\r\\nB: c" }'},
            '.headers.A: "a\\r\\nB: c": header values cannot '
            "hold line breaks or control characters",
        ),
        ({"headers": "{ A = 1 }"}, ".headers.A: expected a string, found integer 1"),
        (
            {"headers": '{ Accept = "a", accept = "b" }'},
            '.headers.accept: "accept" repeats "Accept" (header names ignore case)',
        ),
        (
            {"headers": '["A: b"]'},
            ".headers: expected a table of header names to strings, found array",
        ),
        ({"body": "1"}, ".body: expected a string, found integer 1"),
        (
            {"follow_redirects": "1"},
            ".follow_redirects: expected a boolean (true or false), found integer 1",
        ),
        (
            {"verify_tls": '"no"'},
            '.verify_tls: expected a boolean (true or false), found string "no"',
        ),
        (
            {"expect_status": "600"},
            ".expect_status: 600 is not an HTTP status (allowed: 100 to 599)",
        ),
        (
            {"expect_status": "[200, 99]"},
            ".expect_status[1]: 99 is not an HTTP status (allowed: 100 to 599)",
        ),
        (
            {"expect_status": '["abc"]'},
            '.expect_status[0]: "abc" is not a status or range '
            '(examples: 200, "200-299", "2xx", "301")',
        ),
        (
            {"expect_status": '"6xx"'},
            '.expect_status: "6xx" is not a status or range '
            '(examples: 200, "200-299", "2xx", "301")',
        ),
        (
            {"expect_status": '"299-200"'},
            '.expect_status: "299-200": the range is backwards (write "200-299")',
        ),
        ({"expect_status": '"200-600"'}, '.expect_status: "200-600": statuses go from 100 to 599'),
        (
            {"expect_status": "[]"},
            ".expect_status: is empty: list at least one status "
            '(examples: 200, "200-299", "2xx", "301")',
        ),
        (
            {"expect_status": "[true]"},
            ".expect_status[0]: expected a status code or range "
            '(examples: 200, "200-299", "2xx", "301"), found '
            "boolean true",
        ),
        ({"max_body_bytes": "0"}, ".max_body_bytes: 0 is out of range (allowed: 1 byte to 1GiB)"),
        (
            {"max_body_bytes": '"2GiB"'},
            '.max_body_bytes: "2GiB" is out of range (allowed: 1 byte to 1GiB)',
        ),
        ({"max_body_bytes": '"1.5B"'}, '.max_body_bytes: "1.5B" is not a whole number of bytes'),
        (
            {"max_body_bytes": '"1 MiB"'},
            '.max_body_bytes: "1 MiB" is not a size (examples: 65536, "512KiB", "1MiB", "1MB")',
        ),
        (
            {"max_body_bytes": '"1XB"'},
            '.max_body_bytes: "1XB" is not a size (examples: 65536, "512KiB", "1MiB", "1MB")',
        ),
        (
            {"max_body_bytes": "1.5"},
            ".max_body_bytes: expected a number of bytes or a size "
            '(examples: 65536, "512KiB", "1MiB", "1MB"), found float 1.5',
        ),
    ],
)
def test_http_option_errors(options: dict[str, str], message: str) -> None:
    assert error(http(**options)) == WEB + message


# requests aiohttp refuses (the rules in uptimed.config.http and uptimed.config.urls) -------------
#
# Each case is refused by the loader, and the very same options given straight to the probe fail
# inside aiohttp before any request reaches the target: if aiohttp stops refusing one (or
# refuses it differently), the second half fails and the refusal can go.


@dataclasses.dataclass(frozen=True)
class Refusal:
    url: str  # "{target}" is the loopback target's host:port
    error: str  # the loader's message, after f'{WEB}.'
    aiohttp: str  # in the probe's error: aiohttp's own text
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    body: str | None = None
    env: tuple[tuple[str, str], ...] = ()

    def toml(self, where: str) -> str:
        options = {"url": toml_string(self.url.replace("{target}", where))}
        if self.headers:
            options["headers"] = toml_value(dict(self.headers))
        if self.method != "GET":
            options["method"] = toml_string(self.method)
        if self.body is not None:
            options["body"] = toml_string(self.body)
        return http(**options)

    def spec(self, where: str) -> HttpSpec:
        url = self.url.replace("{target}", where)
        for name, value in self.env:  # resolved as the loader would: percent-encoded
            url = url.replace(f"${{env:{name}}}", percent_encode(value, safe=""))
        return HttpSpec(
            url=url,
            timeout=3.0,
            method=self.method,
            headers=self.headers,
            body=None if self.body is None else self.body.encode(),
        )


CANNOT_COMBINE = (
    "cannot be combined with a user name or password in url (aiohttp refuses the request): keep "
    "this header and remove the userinfo from url, or remove this header (the url's user name and "
    "password are sent as Basic auth)"
)
COMBINE = "Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL"
LATIN1 = (
    "the user name or password has a character outside Latin-1, which aiohttp cannot send as "
    "Basic auth: take the credentials out of url and send the header yourself: Authorization = "
    '"Basic <base64 of UTF-8 user:password>"'
)
NOT_A_LENGTH = "is not a number of bytes, which aiohttp refuses"
LEAVE_IT_OUT = ": leave Content-Length out (aiohttp sends the body's length itself)"

REFUSALS = {
    "userinfo and Authorization": Refusal(
        "http://user:pw@{target}/echo",
        f"headers.Authorization: {CANNOT_COMBINE}",
        COMBINE,
        headers=(("Authorization", "Bearer t0ken"),),
    ),
    "a user name alone and authorization, any case": Refusal(
        "http://user@{target}/echo",
        f"headers.authorization: {CANNOT_COMBINE}",
        COMBINE,
        headers=(("authorization", "Bearer t0ken"),),
    ),
    "an empty user and password and Authorization": Refusal(
        "http://:@{target}/echo",
        f"headers.AUTHORIZATION: {CANNOT_COMBINE}",
        COMBINE,
        headers=(("AUTHORIZATION", "Bearer t0ken"),),
    ),
    "a user name with a colon": Refusal(
        "http://a%3Ab:pw@{target}/echo",
        'url: "http://***:***@{target}/echo": the user name holds a ":" (written %3A), which '
        "Basic auth cannot carry (aiohttp refuses the request): use a user name without one",
        'A ":" is not allowed in login',
    ),
    "a password outside Latin-1, percent-encoded": Refusal(
        "http://user:%E2%82%AC@{target}/echo",
        f'url: "http://***:***@{{target}}/echo": {LATIN1}',
        "UnicodeEncodeError: 'latin-1' codec can't encode character",
    ),
    "a user name outside Latin-1, as written": Refusal(
        "http://żaneta:pw@{target}/echo",
        f'url: "http://***:***@{{target}}/echo": {LATIN1}',
        "UnicodeEncodeError: 'latin-1' codec can't encode character",
    ),
    "a password outside Latin-1, from a reference": Refusal(
        "http://user:${env:EURO_PASSWORD}@{target}/echo",
        "url: ${env:EURO_PASSWORD}: the value has a character outside Latin-1, which aiohttp "
        "cannot send as Basic auth: take the credentials out of url and send the header "
        'yourself, e.g. Authorization = "Basic ${file:PATH}" with the base64 of UTF-8 '
        '"user:password" in that file',
        "UnicodeEncodeError: 'latin-1' codec can't encode character",
        env=(("EURO_PASSWORD", "100€"),),
    ),
    "a user name with a colon, from a reference": Refusal(
        "http://${env:COLON_USER}:pw@{target}/echo",
        'url: ${env:COLON_USER}: the user name it gives holds a ":", which Basic auth cannot '
        "carry (aiohttp refuses the request): use a user name without one",
        'A ":" is not allowed in login',
        env=(("COLON_USER", "dom:ain"),),
    ),
    "a Content-Length that is not a number, with a body": Refusal(
        "http://{target}/echo",
        f'headers.Content-Length: "abc" {NOT_A_LENGTH} with a body{LEAVE_IT_OUT}',
        "Invalid Content-Length header",
        headers=(("Content-Length", "abc"),),
        method="POST",
        body="x",
    ),
    "a Content-Length with a space, with an empty body": Refusal(
        "http://{target}/echo",
        f'headers.content-length: " 0" {NOT_A_LENGTH} with a body{LEAVE_IT_OUT}',
        "Invalid Content-Length header",
        headers=(("content-length", " 0"),),
        method="PUT",
        body="",
    ),
    "a Content-Length that is not a number, with Expect: 100-continue": Refusal(
        "http://{target}/echo",
        f'headers.Content-Length: "+1" {NOT_A_LENGTH} with "Expect: 100-continue"{LEAVE_IT_OUT}',
        "Invalid Content-Length header",
        headers=(("Expect", "100-Continue"), ("Content-Length", "+1")),
    ),
    "text after an IPv6 literal": Refusal(
        "http://[::1]x/echo",
        'url: "http://[::1]x/echo" is not a URL aiohttp can request (Invalid IPv6 URL)',
        "InvalidUrlClientError",
    ),
    "a backslash in the userinfo": Refusal(
        "http://us\\er:pw@{target}/echo",
        'url: "http://***:***@{target}/echo" is not a URL aiohttp can request (Invalid URL: '
        "backslash ('\\') is not allowed in the authority component per RFC 3986.)",
        "InvalidUrlClientError",
    ),
}


@pytest.fixture
async def http_ctx() -> AsyncIterator[ProbeContext]:
    session = make_session()
    try:
        yield ProbeContext(http=session)
    finally:
        await session.close()


@pytest.mark.parametrize("case", list(REFUSALS.values()), ids=list(REFUSALS))
async def test_refused_by_the_loader_and_by_aiohttp(
    case: Refusal,
    http_ctx: ProbeContext,
    target: Target,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    where = f"127.0.0.1:{target.port}"
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    # (a) the config is refused, at the key, with what to do instead
    (line,) = errors(case.toml(where))
    assert line == f"{WEB}.{case.error.replace('{target}', where)}"
    secret_free(line)
    # (b) the same options given to the real probe fail inside aiohttp, nothing sent. (Which
    # error kind the probe gives such a failure is its own business, not asserted here.)
    result = await probe(case.spec(where), http_ctx)
    assert not result.ok, result
    assert case.aiohttp in (result.error or ""), result.error
    assert target.requests == []


# What each refusal's message suggests, or the nearest accepted options, does work.
ACCEPTED = {
    "userinfo alone, sent as Basic auth": Refusal(
        "http://user:pw@{target}/echo", "", "Authorization: Basic dXNlcjpwdw=="
    ),
    "Authorization alone": Refusal(
        "http://{target}/echo",
        "",
        "Authorization: Bearer t0ken",
        headers=(("Authorization", "Bearer t0ken"),),
    ),
    "an empty userinfo is none, for aiohttp too": Refusal(
        "http://@{target}/echo",
        "",
        "Authorization: Bearer t0ken",
        headers=(("Authorization", "Bearer t0ken"),),
    ),
    "Basic auth written as a header, UTF-8": Refusal(
        "http://{target}/echo",
        "",
        "Authorization: Basic " + base64.b64encode("user:100€".encode()).decode(),
        headers=(("Authorization", "Basic " + base64.b64encode("user:100€".encode()).decode()),),
    ),
    "a Latin-1 password": Refusal(
        "http://user:%C3%A9t%C3%A9@{target}/echo",
        "",
        "Authorization: Basic " + base64.b64encode("user:été".encode("latin-1")).decode(),
    ),
    "a password with a colon": Refusal(
        "http://user:a%3Ab@{target}/echo",
        "",
        "Authorization: Basic " + base64.b64encode(b"user:a:b").decode(),
    ),
    "a numeric Content-Length with a body": Refusal(
        "http://{target}/echo",
        "",
        "Content-Length: 1",
        headers=(("Content-Length", "1"),),
        method="POST",
        body="x",
    ),
    "Expect: 100-continue without a Content-Length": Refusal(
        "http://{target}/echo", "", "Expect: 100-continue", headers=(("Expect", "100-continue"),)
    ),
}


@pytest.mark.parametrize("case", list(ACCEPTED.values()), ids=list(ACCEPTED))
async def test_near_misses_are_accepted_and_work(
    case: Refusal,
    http_ctx: ProbeContext,
    target: Target,  # noqa: F811 - the fixture
) -> None:
    where = f"127.0.0.1:{target.port}"
    (m,) = load(case.toml(where)).monitors
    assert m.spec.url == case.spec(where).url and m.spec.headers == case.spec(where).headers
    result = await probe(m.spec, http_ctx)
    assert result.ok, result
    (request,) = target.requests
    name, _, value = case.aiohttp.partition(": ")
    assert request.header(name) == value


async def test_resolved_credentials_reach_the_target_and_nothing_else(
    http_ctx: ProbeContext,
    target: Target,  # noqa: F811 - the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A password with "@", "/" and ":" from a file, a header from a credential: the target gets
    them decoded, while the config's repr, target and summary show none of them."""
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "tenant").write_text(f"{SECRET}-tenant\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    Path("pw").write_text(f"p@ss/w:rd-{SECRET}\n")
    where = f"127.0.0.1:{target.port}"
    c = load(
        http(
            url=f'"http://alice:${{file:pw}}@{where}/echo"',
            headers='{ X-Tenant = "${credential:tenant}" }',
        )
    )
    (m,) = c.monitors
    assert (await probe(m.spec, http_ctx)).ok
    (request,) = target.requests
    basic = base64.b64encode(f"alice:p@ss/w:rd-{SECRET}".encode()).decode()
    assert request.header("Authorization") == f"Basic {basic}"
    assert request.header("X-Tenant") == f"{SECRET}-tenant"
    for shown in (repr(c), summarize(c), m.target):
        secret_free(shown)
    # a failure's message is scrubbed of them by the runner (secrets_of + scrub)
    message = f"server said: bad tenant {SECRET}-tenant for p@ss/w:rd-{SECRET}"
    secret_free(scrub(message, secrets_of(m.spec)))
