"""Make targets safe to log, label and show: :func:`redact_url`.

Everything that logs, labels or displays a monitored URL goes through :func:`redact_url`
(``Monitor.target`` already holds its result). The probe itself keeps the real URL.

The config loader hands the probes their URLs and header values as :class:`SecretText` when
they hold credentials (written in the config, or resolved from ``${env:...}``, ``${file:...}``
or ``${credential:...}``): a ``str`` whose repr is masked, so no repr of a config, monitor or
probe spec shows them, and which names the secrets inside it for :func:`secrets_of`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from typing import Any, Self
from urllib.parse import quote, unquote, unquote_plus, urlsplit, urlunsplit

from probes.base import HEADERS, SECRET, URL

__all__ = [
    "MASK",
    "SECRET_PARAMS",
    "UNPARSABLE",
    "SecretText",
    "is_secret_header",
    "is_secret_param",
    "redact_url",
    "scrub",
    "secrets_of",
]

#: What replaces a secret.
MASK = "***"

#: What :func:`redact_url` returns for input it cannot parse (nothing of it is shown).
UNPARSABLE = "<unparsable URL>"

#: Query parameter names (case-insensitive) whose values are always masked.
SECRET_PARAMS: frozenset[str] = frozenset(
    {
        "token",
        "key",
        "apikey",
        "api_key",
        "secret",
        "password",
        "passwd",
        "pass",
        "auth",
        "sig",
        "signature",
        "access_token",
    }
)

# A name whose last word is one of these is masked too: client_secret, X-Amz-Signature,
# private_token, apiKey, accessToken, refresh-token, x-api-key, db_password ...
_SECRET_WORDS = frozenset(
    {"token", "key", "apikey", "secret", "password", "passwd", "pass", "auth", "sig", "signature"}
)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SEPARATORS = re.compile(r"([&;])")
# Headers whose values are credentials, beyond names that look secret (x-api-key, x-auth-token).
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
#: What yarl (and so aiohttp's messages) leaves unencoded in a URL's userinfo: RFC 3986's
#: sub-delims. "p@ss;word!" shows there as "p%40ss;word!", a third spelling to scrub.
_YARL_USERINFO = "!$&'()*+,;="
#: Secrets shorter than this are not scrubbed from free text (they would mangle every message).
MIN_SCRUB_CHARS = 4


class SecretText(str):
    """A string holding secrets: ``str()``, formatting and every string operation give the real
    text (the probe sends it), ``repr()`` gives ``repr(shown)``, a masked form.

    ``secrets`` are the secret values inside the text (for a URL, as decoded, not as
    percent-encoded), which :func:`secrets_of` adds to what the runner scrubs from error
    messages. Whatever is derived from it (``text.strip()``, ``text + "x"``) is a plain ``str``
    again, so the mask protects the value only as the config hands it over.
    """

    secrets: tuple[str, ...]
    shown: str

    def __new__(cls, text: str, secrets: Iterable[str] = (), shown: str = MASK) -> Self:
        self = super().__new__(cls, text)
        self.secrets = tuple(secrets)
        self.shown = shown
        return self

    def __repr__(self) -> str:
        return repr(self.shown)

    def __reduce__(self) -> tuple[Any, ...]:
        # A pickled copy (e.g. into a worker process) stays a SecretText.
        return (SecretText, (str(self), self.secrets, self.shown))


def is_secret_header(name: str) -> bool:
    """Whether a request header called ``name`` carries a credential: ``Authorization``,
    ``Proxy-Authorization``, ``Cookie``, or a secret-looking name (``X-Api-Key``,
    ``X-Auth-Token``; see :func:`is_secret_param`)."""
    return name.lower() in _SECRET_HEADERS or is_secret_param(name)


def is_secret_param(name: str) -> bool:
    """Whether a query parameter called ``name`` (raw or percent-decoded) holds a secret.

    True for the names in :data:`SECRET_PARAMS` (any case, ``-`` or ``_`` alike, with or without
    separators: ``API-Key``, ``apiKey``, ``AccessToken``) and for names whose last word is a
    secret word (``client_secret``, ``X-Amz-Signature``, ``private_token``, ``x-api-key``).
    """
    words = [w for w in _NON_ALNUM.split(_CAMEL.sub(r"\1_\2", name.strip()).lower()) if w]
    if not words:
        return False
    return (
        "_".join(words) in SECRET_PARAMS
        or "".join(words) in SECRET_PARAMS
        or words[-1] in _SECRET_WORDS
    )


def _redact_params(text: str) -> str:
    """``a=1&token=x`` -> ``a=1&token=***``; separators and other parameters are kept as written."""
    pieces = _SEPARATORS.split(text)
    for i in range(0, len(pieces), 2):  # even indexes are parameters, odd ones separators
        name, sep, value = pieces[i].partition("=")
        if sep and value and is_secret_param(unquote_plus(name)):
            pieces[i] = f"{name}={MASK}"
    return "".join(pieces)


def _escape(text: str) -> str:
    """Percent-encode whitespace and unprintable characters, so the result stays on one line and
    cannot smuggle terminal controls into a log."""
    return "".join(
        ch if ch.isprintable() and not ch.isspace() else quote(ch, safe="") for ch in text
    )


def redact_url(url: str) -> str:
    """``url`` with its secrets replaced by ``***``, safe to log and to use as a label.

    - userinfo: ``https://user:pw@host/`` -> ``https://***:***@host/`` (``***@host`` when there is
      no password);
    - query (and fragment) parameters whose names look secret (see :func:`is_secret_param`):
      ``?token=abc&page=2`` -> ``?token=***&page=2``;
    - whitespace and unprintable characters are percent-encoded.

    Never raises: anything unparsable (or not a string) gives :data:`UNPARSABLE`.
    Secrets in the path itself (``/hooks/T000/B000/XXXX``) cannot be recognised and are kept.

    >>> redact_url("https://bob:hunter2@example.com/x?api_key=abc&q=1")
    'https://***:***@example.com/x?api_key=***&q=1'
    """
    try:
        if not isinstance(url, str):
            return UNPARSABLE
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            netloc = (f"{MASK}:{MASK}" if ":" in userinfo else MASK) + "@" + hostport
        query = _redact_params(parts.query)
        fragment = _redact_params(parts.fragment) if "=" in parts.fragment else parts.fragment
        if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
            return _escape(url)  # nothing secret: keep the text exactly as written
        return _escape(urlunsplit((parts.scheme, netloc, parts.path, query, fragment)))
    except Exception:  # noqa: BLE001 - the contract is "never raise"
        return UNPARSABLE


def secrets_of(spec: Any) -> tuple[str, ...]:
    """The secret strings a probe spec carries, longest first, for :func:`scrub`.

    Read from the spec's dataclass fields, whatever its kind: every secret a
    :class:`SecretText` value names (a resolved ``${...}`` reference, in any field, as given;
    in a URL also percent-encoded), and what the field's metadata (:data:`probes.base.SECRET`)
    says its kind of value holds. A :data:`~probes.base.URL`: its user name and password, and
    the values of secret-looking query and fragment parameters (as written and
    percent-decoded). :data:`~probes.base.HEADERS`: the values of credential headers
    (``Authorization``, ``Proxy-Authorization``, ``Cookie``, secret-looking names such as
    ``X-Api-Key``; for ``Bearer xyz`` also ``xyz``). Strings shorter than
    :data:`MIN_SCRUB_CHARS` are left out. A spec with no such field (TCP) carries none: ``()``.
    Never raises.
    """
    found: set[str] = set()
    try:
        for f in fields(spec) if is_dataclass(spec) and not isinstance(spec, type) else ():
            value = getattr(spec, f.name)
            role = f.metadata.get(SECRET)
            if role == URL:
                _url_secrets(value, found)
            elif role == HEADERS:
                _header_secrets(value, found)
            else:
                found.update(_declared_anywhere(value))
    except Exception:  # noqa: BLE001, S110 - best effort, never raise
        pass
    return tuple(sorted((s for s in found if len(s) >= MIN_SCRUB_CHARS), key=len, reverse=True))


def _url_secrets(url: Any, found: set[str]) -> None:
    for value in _declared(url):
        found.update((value, quote(value, safe=""), quote(value, safe=_YARL_USERINFO)))
    if not isinstance(url, str):
        return
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    for value in userinfo.split(":", 1) if userinfo else ():
        plain = unquote(value)
        found.update((value, plain, quote(plain, safe=_YARL_USERINFO)))
    for text in (parts.query, parts.fragment):
        for piece in _SEPARATORS.split(text)[::2]:
            name, sep, value = piece.partition("=")
            if sep and value and is_secret_param(unquote_plus(name)):
                found.update((value, unquote_plus(value), unquote(value)))


def _header_secrets(headers: Any, found: set[str]) -> None:
    for name, value in headers or ():
        found.update(_declared(value))
        if isinstance(name, str) and isinstance(value, str) and is_secret_header(name):
            found.add(value.strip())
            scheme, _, credential = value.strip().partition(" ")
            if credential and scheme.isalpha():
                found.add(credential.strip())


def _declared(value: Any) -> tuple[str, ...]:
    secrets = value.secrets if isinstance(value, SecretText) else ()
    return tuple(s for s in secrets if isinstance(s, str) and s)


def _declared_anywhere(value: Any) -> tuple[str, ...]:
    """The secrets :class:`SecretText` values name in ``value``, or in the tuples it holds."""
    if isinstance(value, tuple):
        return tuple(s for item in value for s in _declared_anywhere(item))
    return _declared(value)


def scrub(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***`` (longest first).

    For free text such as error messages, which may quote a URL or a header. Never raises.
    """
    try:
        for secret in sorted(secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, MASK)
        return text
    except Exception:  # noqa: BLE001
        return MASK if text else text
