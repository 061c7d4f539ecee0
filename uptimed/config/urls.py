"""URL options: a monitor's ``url`` and the http(s) checks of daemon.connectivity_check.

Rules: an absolute http:// or https:// URL of at most 8192 characters, without spaces or control
characters (percent-encode them), with a usable host (see uptimed.config.values.host_problem)
and a port from 1 to 65535 when given. Secret references (uptimed.config.secret_options) may
stand only in the userinfo, user name and password: "https://${env:U}:${file:pw}@h/".
Elsewhere in a URL they are an error. The resolved value is percent-encoded, so a password
holding "@", "/" or ":" works. The URL must also be one aiohttp can request, as aiohttp sees it
(each refusal is proved against the real probe in tests/config):
  - a URL yarl (aiohttp's URL parser) rejects although urllib accepts it: text after "[...]"
    other than ":port", a backslash in the host part, "[" or "]" outside an IPv6 literal;
  - a user name holding ":" (written %3A), which Basic auth cannot carry (aiohttp splits there);
  - a user name or password with a character outside Latin-1 (aiohttp encodes Basic auth as
    Latin-1): send the Authorization header yourself, base64 of UTF-8 "user:password".
Messages show URLs redacted (uptimed.core.redact.redact_url), never a password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote as percent_encode
from urllib.parse import unquote, urlsplit

from yarl import URL

from uptimed.config.checker import Checker, echo
from uptimed.config.secret_options import resolve_all
from uptimed.config.secrets import SecretError, parse, references, render
from uptimed.config.values import host_problem
from uptimed.core.redact import UNPARSABLE, SecretText, redact_url, scrub

MAX_URL_CHARS = 8192

_WANTED = 'a string such as "https://example.com/health"'
_URL_REFERENCE_EXAMPLE = '"https://${env:WEB_USER}:${file:/etc/uptimed/web-password}@host/"'


@dataclass(frozen=True)
class Url:
    """A checked URL option."""

    value: str  # what is requested: a SecretText when it holds credentials or references
    target: str  # the URL redacted: Monitor.target, and what messages show
    credentials: bool  # it has a userinfo, which aiohttp sends as Basic auth


def secret_url(c: Checker, value: object, path: str) -> Url:
    """A URL option, references allowed in its userinfo."""
    if not isinstance(value, str):
        raise c.type_error(path, _WANTED, value)
    try:
        pieces = parse(value)
    except SecretError as e:
        raise c.error(path, str(e)) from None
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
    info = userinfo(skeleton)
    for ref, holder in holders.items():
        if skeleton.count(holder) != info.count(holder):
            raise c.error(
                path,
                f"{ref.shown}: in a URL, a reference can only stand in the user name or "
                f"password, as in {_URL_REFERENCE_EXAMPLE}",
            )
    url(c, skeleton, path)
    target = redact_url(skeleton)
    credentials = bool(info)
    if not refs:
        plain = SecretText(skeleton, (), target) if credentials else skeleton
        return Url(plain, target, credentials)
    values = resolve_all(c, refs, path)
    if values is None:
        return Url(SecretText(value, (), target), target, credentials)
    user = info.partition(":")[0]
    for ref, holder in holders.items():
        text = values[ref]
        if holder in user and ":" in text:
            raise c.error(
                path,
                f'{ref.shown}: the user name it gives holds a ":", which Basic auth cannot '
                "carry (aiohttp refuses the request): use a user name without one",
            )
        if not _latin1(text):
            raise c.error(
                path,
                f"{ref.shown}: the value has a character outside Latin-1, which aiohttp "
                "cannot send as Basic auth: take the credentials out of url and send the "
                'header yourself, e.g. Authorization = "Basic ${file:PATH}" with the '
                'base64 of UTF-8 "user:password" in that file',
            )
    resolved = render(pieces, lambda ref: percent_encode(values[ref], safe=""))
    _aiohttp_url(c, resolved, path, echo(target, 100))
    return Url(SecretText(resolved, tuple(values.values()), target), target, credentials)


def url(c: Checker, value: object, path: str) -> str:
    """An http(s) URL without references."""
    if not isinstance(value, str):
        raise c.type_error(path, _WANTED, value)
    shown = echo(safe_url(value), 100)  # never echo credentials
    if len(value) > MAX_URL_CHARS:
        raise c.error(path, f"{shown} is longer than {MAX_URL_CHARS} characters")
    bad = next((j for j, ch in enumerate(value) if ch.isspace() or not ch.isprintable()), None)
    if bad is not None:
        raise c.error(
            path,
            f"{shown} contains a space or control character at position "
            f"{bad} (percent-encode it: a space is %20)",
        )
    if "://" not in value:
        raise c.error(
            path, f'{shown} is not an absolute URL: it must start with "http://" or "https://"'
        )
    try:
        parts = urlsplit(value)
        port = parts.port
        host = parts.hostname
    except ValueError as e:
        raise c.error(path, f"{shown} is not a valid URL ({e})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise c.error(path, f"{shown}: scheme {echo(scheme)} is not allowed (allowed: http, https)")
    if not host:
        raise c.error(path, f"{shown} has no host")
    if port == 0:
        raise c.error(path, f"{shown}: the port must be a number from 1 to 65535")
    problem = host_problem(unquote(host))
    if problem:
        raise c.error(path, f"{shown}: host {echo(host)} {problem}")
    return _aiohttp_url(c, value, path, shown)


def _aiohttp_url(c: Checker, value: str, path: str, shown: str) -> str:
    """``value`` if aiohttp can request it. aiohttp parses URLs with yarl, which refuses some
    that urllib accepts, and sends the userinfo as Basic auth, encoded as Latin-1 and without
    a ":" in the user name."""
    try:
        parsed = URL(value)
    except ValueError as e:  # UnicodeError too
        info = userinfo(value)
        reason = scrub(str(e), [info] if info else [])  # yarl may quote the netloc
        raise c.error(path, f"{shown} is not a URL aiohttp can request ({reason})") from None
    if not parsed.raw_host:
        raise c.error(path, f"{shown} has no host that aiohttp can use")
    if parsed.raw_user is None and parsed.raw_password is None:
        return value
    user, password = parsed.user or "", parsed.password or ""
    if ":" in user:
        raise c.error(
            path,
            f'{shown}: the user name holds a ":" (written %3A), which Basic auth cannot '
            "carry (aiohttp refuses the request): use a user name without one",
        )
    if not _latin1(user + password):
        raise c.error(
            path,
            f"{shown}: the user name or password has a character outside Latin-1, which "
            "aiohttp cannot send as Basic auth: take the credentials out of url and send "
            'the header yourself: Authorization = "Basic <base64 of UTF-8 user:password>"',
        )
    return value


def safe_url(text: str) -> str:
    """``text`` for an error message: redacted, or crudely masked when it cannot be parsed."""
    safe = redact_url(text)
    if safe != UNPARSABLE:
        return safe
    masked = mask_userinfo(text)
    return masked.split("?")[0] + ("?…" if "?" in masked else "")


def mask_userinfo(text: str) -> str:
    """``text`` with every ``//user:password@`` masked: for text too broken to redact_url, so
    that no message ever echoes a password."""
    return re.sub(r"//[^/?#]*@", "//***@", text)


def shown_url(value: str) -> str:
    """A checked URL as it may be shown: a SecretText's own redacted form (computed before its
    references were resolved), else the URL redacted."""
    return value.shown if isinstance(value, SecretText) else redact_url(value)


def userinfo(text: str) -> str:
    """The userinfo of URL ``text`` as urlsplit and yarl both find it ("" when there is none)."""
    try:
        netloc = urlsplit(text).netloc
    except ValueError:
        return ""
    return netloc.rpartition("@")[0]


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
