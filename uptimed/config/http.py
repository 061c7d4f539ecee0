"""The keys of an http monitor, and the :class:`~probes.http.HttpSpec` they make.

Rules: url is required (uptimed.config.urls; references allowed in its userinfo). method is
an RFC 9110 token, upper-cased (default GET). headers is a table of names (tokens, each once,
any case) to values without line breaks or control characters; references are allowed anywhere
in a value ("Bearer ${credential:web-token}"), and the resolved text obeys the same rules.
body is a string, sent as UTF-8. expect_status takes a list or a single item; items are
100..599 integers or "301", "200-299", "2xx"; ranges are sorted and merged (default 2xx).
max_body_bytes takes an integer or "<number><unit>" with B, kB/MB/GB (1000s) or KiB/MiB/GiB
(1024s), any case, no space, from 1 byte to 1GiB (default 1MiB). follow_redirects and
verify_tls are booleans (default true); redirects are capped at 10.

Requests aiohttp would refuse are config errors, with what to write instead (each is proved
against the real probe in tests/config, so this list follows the library; the URL's own
refusals are in uptimed.config.urls):
  - a user name or password in url together with an Authorization header (aiohttp: "Cannot
    combine AUTHORIZATION header with ... credentials encoded in URL"); "https://@h/" has
    none, "https://:@h/" has (empty) ones, as aiohttp's yarl sees it;
  - a Content-Length header that is not ASCII digits when the request has a body (body set,
    even "") or an "Expect: 100-continue" header (aiohttp validates it only then).
Header values with line breaks or control characters and methods that are not RFC 9110 tokens
are errors already; the rest of aiohttp's refusals need options uptimed never passes (auth=,
json=, compress=, chunked=, proxies, fingerprints) or come from the target (redirects).
"""

from __future__ import annotations

import re
from fractions import Fraction

from probes.http import HttpSpec
from uptimed.config.checker import Checker, Invalid, Table, echo, join, show_number
from uptimed.config.secret_options import secret
from uptimed.config.secrets import render
from uptimed.config.urls import Url, secret_url, shown_url
from uptimed.config.values import CONTROL, boolean, string
from uptimed.core.intervals import normalize
from uptimed.core.redact import MASK, SecretText, is_secret_header

KEYS = (
    "url",
    "method",
    "headers",
    "body",
    "expect_status",
    "follow_redirects",
    "max_body_bytes",
    "verify_tls",
)
#: The keys an http monitor cannot do without: one of them and no "kind" suggests this kind.
REQUIRED = ("url",)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_MAX_BODY_BYTES = 1024 * 1024 * 1024
MAX_REDIRECTS = 10

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token: methods, header names
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

#: A checked header: its name, its value, and whether that value is resolved (False: its
#: references were left as written, so it is not the value that will be sent).
_Header = tuple[str, str, bool]


def build(c: Checker, raw: Table, p: str, timeout: float) -> tuple[HttpSpec, str]:
    """The spec of http monitor ``p`` (table ``raw``) and its target, the URL redacted."""
    n_errors = len(c.errors)
    url = None
    if "url" not in raw:
        c.error(p, 'missing required key "url" (http monitors need one)')
    else:
        url = c.attempt(secret_url, raw["url"], f"{p}.url")
    method: str | None = "GET"
    if "method" in raw:
        method = c.attempt(_method, raw["method"], f"{p}.method")
    headers: tuple[_Header, ...] | None = ()
    if "headers" in raw:
        headers = c.attempt(check_headers, raw["headers"], f"{p}.headers")
    body = None
    if "body" in raw:
        text = c.attempt(string, raw["body"], f"{p}.body")
        body = None if text is None else text.encode("utf-8")
    expect: tuple[tuple[int, int], ...] | None = ((200, 299),)
    if "expect_status" in raw:
        expect = c.attempt(_expect_status, raw["expect_status"], f"{p}.expect_status")
    follow_redirects: bool | None = True
    if "follow_redirects" in raw:
        follow_redirects = c.attempt(boolean, raw["follow_redirects"], f"{p}.follow_redirects")
    verify_tls: bool | None = True
    if "verify_tls" in raw:
        verify_tls = c.attempt(boolean, raw["verify_tls"], f"{p}.verify_tls")
    max_body: int | None = DEFAULT_MAX_BODY_BYTES
    if "max_body_bytes" in raw:
        max_body = c.attempt(_size, raw["max_body_bytes"], f"{p}.max_body_bytes")
    if (
        len(c.errors) > n_errors
        or url is None
        or method is None
        or headers is None
        or expect is None
        or follow_redirects is None
        or verify_tls is None
        or max_body is None
    ):
        raise Invalid
    _refused_by_aiohttp(c, url, headers, body, p)
    spec = HttpSpec(
        url=url.value,
        timeout=timeout,
        method=method,
        headers=tuple((name, text) for name, text, _ in headers),
        body=body,
        expect_status=expect,
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        max_body_bytes=max_body,
        verify_tls=verify_tls,
    )
    return spec, shown_url(spec.url)


def _refused_by_aiohttp(
    c: Checker, url: Url, headers: tuple[_Header, ...], body: bytes | None, p: str
) -> None:
    """Record the option combinations aiohttp refuses to send (see the rules above)."""
    by_name = {name.lower(): (name, text, resolved) for name, text, resolved in headers}
    n_errors = len(c.errors)
    auth = by_name.get("authorization")
    if auth is not None and url.credentials:
        c.error(
            join(f"{p}.headers", auth[0]),
            "cannot be combined with a user name or password in url (aiohttp refuses the "
            "request): keep this header and remove the userinfo from url, or remove this "
            "header (the url's user name and password are sent as Basic auth)",
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
        shown = "the value" if isinstance(length[1], SecretText) else echo(length[1])
        c.error(
            join(f"{p}.headers", length[0]),
            f"{shown} is not a number of bytes, which aiohttp refuses "
            + ("with a body" if body is not None else 'with "Expect: 100-continue"')
            + ": leave Content-Length out (aiohttp sends the body's length itself)",
        )
    if len(c.errors) > n_errors:
        raise Invalid


def _method(c: Checker, value: object, path: str) -> str:
    if not isinstance(value, str):
        raise c.type_error(path, 'a string such as "GET"', value)
    if not _TOKEN.fullmatch(value) or len(value) > 32:
        raise c.error(path, f"{echo(value)} is not an HTTP method (examples: GET, HEAD, POST)")
    return value.upper()


def check_headers(c: Checker, value: object, path: str) -> tuple[_Header, ...]:
    """Each header with its value resolved (see uptimed.config.secret_options); values that
    hold secrets are SecretText."""
    if not isinstance(value, dict):
        raise c.type_error(path, "a table of header names to strings", value)
    out: list[_Header] = []
    seen: dict[str, str] = {}
    n_errors = len(c.errors)
    for name, text in value.items():
        hpath = join(path, name)
        if not _TOKEN.fullmatch(name) or len(name) > 256:
            c.error(
                hpath,
                f"{echo(name)} is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)",
            )
        elif name.lower() in seen:
            c.error(
                hpath,
                f"{echo(name)} repeats {echo(seen[name.lower()])} (header names ignore case)",
            )
        else:
            seen[name.lower()] = name
        if not isinstance(text, str):
            c.type_error(hpath, "a string", text)
            continue
        header = c.attempt(secret, text, hpath)
        if header is None:
            continue
        credential = is_secret_header(name)
        bad = [ref for ref, secret_text in header.values.items() if CONTROL.search(secret_text)]
        if CONTROL.search(render(header.pieces, lambda ref: "")):
            shown = "the value (not shown: a credential)" if credential else echo(text)
            c.error(hpath, f"{shown}: header values cannot hold line breaks or control characters")
        elif bad:
            c.error(
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
    if len(c.errors) > n_errors:
        raise Invalid
    return tuple(out)


def _expect_status(c: Checker, value: object, path: str) -> tuple[tuple[int, int], ...]:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise c.error(path, f"is empty: list at least one status {_STATUS_EXAMPLES}")
    ranges = []
    ok = True
    for j, item in enumerate(items):
        ipath = f"{path}[{j}]" if isinstance(value, list) else path
        rng = c.attempt(_status_range, item, ipath)
        if rng is None:
            ok = False
        else:
            ranges.append(rng)
    if not ok:
        raise Invalid
    return _merge_ranges(ranges)


def _status_range(c: Checker, item: object, path: str) -> tuple[int, int]:
    if isinstance(item, bool) or not isinstance(item, (int, str)):
        raise c.type_error(path, f"a status code or range {_STATUS_EXAMPLES}", item)
    if isinstance(item, int):
        if not 100 <= item <= 599:
            raise c.error(path, f"{show_number(item)} is not an HTTP status (allowed: 100 to 599)")
        return (item, item)
    m = re.fullmatch(r"([1-5])[xX][xX]", item)
    if m:
        return (int(m[1]) * 100, int(m[1]) * 100 + 99)
    m = re.fullmatch(r"([0-9]{3})(?:-([0-9]{3}))?", item)
    if not m:
        raise c.error(path, f"{echo(item)} is not a status or range {_STATUS_EXAMPLES}")
    lo, hi = int(m[1]), int(m[2] or m[1])
    if not (100 <= lo <= 599 and 100 <= hi <= 599):
        raise c.error(path, f"{echo(item)}: statuses go from 100 to 599")
    if lo > hi:
        raise c.error(path, f'{echo(item)}: the range is backwards (write "{hi}-{lo}")')
    return (lo, hi)


def _merge_ranges(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Inclusive ranges sorted, and merged where they overlap or are adjacent (200-299 and
    300-399 give 200-399): as half-open intervals, that is what normalize does."""
    return tuple((lo, end - 1) for lo, end in normalize((lo, hi + 1) for lo, hi in ranges))


def _size(c: Checker, value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise c.type_error(path, f"a number of bytes or a size {_SIZE_EXAMPLES}", value)
    if isinstance(value, int):
        count, shown = value, show_number(value)
    else:
        shown = echo(value)
        m = _SIZE.fullmatch(value)
        if not m or m[2].lower() not in _SIZE_UNITS:
            raise c.error(path, f"{shown} is not a size {_SIZE_EXAMPLES}")
        exact = Fraction(m[1]) * _SIZE_UNITS[m[2].lower()]
        if exact.denominator != 1:
            raise c.error(path, f"{shown} is not a whole number of bytes")
        count = int(exact)
    if not 1 <= count <= MAX_MAX_BODY_BYTES:
        raise c.error(path, f"{shown} is out of range (allowed: 1 byte to 1GiB)")
    return count
