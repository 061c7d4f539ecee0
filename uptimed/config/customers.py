"""[[customer]], [[agreement]], [portal], and the public and public_name keys of monitors and
services: who signs in to the portal, what was promised to them, and what the status page shows.

Rules for [[customer]]: id (uptimed.config.ids: unique among customers) and token_file are
required.
  name        default: the id.
  contacts    an array of strings (one line each, e.g. "ops@acme.example"); default [].
  token_file  a file of access tokens, one a line; blank lines and lines starting with "#" are
              ignored, as is whitespace around a token. A relative path is relative to the
              config file's directory (like a notifier's secret_file). The file is read at every
              load, so a SIGHUP reload rotates the tokens. It must be readable, UTF-8, at most
              64 KiB; with no token in it the customer cannot sign in (how access is taken
              away). A token carries at least 128 bits: all hex digits, at least 32 of them;
              else the URL-safe base64 alphabet (A-Z a-z 0-9 "-" "_", with up to two "=" at the
              end, not counted), at least 22 characters; any other character is an error, and
              so is a token of fewer than 8 different characters. Make one with
              `openssl rand -hex 32` or
              `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`. Instead of a
              token, a line may hold its digest, "sha256:" and 64 hex digits, so that the file
              holds no token at all (`printf %s TOKEN | sha256sum`). A token is
              listed once (in its file and among all customers' files), and two customers never
              share a file. Only the SHA-256 digest of each token is kept
              (Customer.token_digests); no message shows a token, only the file and line number.
              With secrets="skip" (commands that need no secret) the file is not read and
              token_digests is empty, so nobody can sign in with such a config.
Rules for [[agreement]]: id (unique among agreements), customer (a [[customer]] id), slos and
effective_from are required.
  name        default: the id.
  slos        [[slo]] ids, at least one, each once; an SLO may be in several agreements. An SLO's
              own customer, effective_from and effective_until keys work as before, unchanged.
  effective_from, effective_until
              instants (uptimed.config.values), until after from; until is optional (open-ended).
  renewal     optional: one of REPORTING_PERIODS ("month", "quarter", "year").
  termination_notice
              optional: a duration greater than 0, e.g. "30d".
  obligations optional: { provider = "...", customer = "..." }, plain text (line breaks and tabs
              allowed, no other control character; at most 4000 characters each); default "".
  reporting   one of REPORTING_PERIODS; default "month".
  timezone    an IANA time zone, as an SLO's; default "UTC".
  credit_cap  optional: a TOML number in percent of the charge, more than 0, at most 100, kept
              as the Decimal of the written text (as an SLO's credits).
Rules for [portal] (optional; a table):
  title       the pages' heading, one line; default "Service status".
  frame_ancestors
              origins that may frame the pages: "'self'" or "http(s)://host[:port]" with no user
              name, path, query or fragment; each once. Default [] (no one may).
  session_ttl how long a portal sign-in lasts: a duration, at least 1m; default 8h.
  secure_cookie
              a boolean; not set: the cookie is Secure when the request came by HTTPS.
Rules for public and public_name, in [[monitor]] and [[service]] (not in [defaults]):
  public_name the target's name on the status page and in the portal: one line, at most 100
              characters. Alone it publishes nothing (it names the target in its customers'
              agreements).
  public      a boolean, default false: true shows the target on the status page. A public
              service without public_name is shown by its name (one written: its id is
              internal); a public monitor needs public_name (a monitor's name and id are
              internal).
  The public names of the public targets name their badge URLs by their slug (lowercase, runs of
  characters other than a-z and 0-9 as one "-", no "-" at either end): each needs a non-empty
  slug, and no two public targets may have the same one.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from uptimed.config import values
from uptimed.config.checker import Checker, Invalid, Table, echo, show_number
from uptimed.config.daemon import listen_address
from uptimed.config.ids import each_once, ident, reference
from uptimed.config.secrets import MAX_SECRET_BYTES
from uptimed.config.slos import _number
from uptimed.model.config import (
    REPORTING_PERIODS,
    Agreement,
    Customer,
    Monitor,
    Portal,
    Service,
)
from uptimed.model.pages import slug

PUBLIC_KEYS = ("public", "public_name")
CUSTOMER_KEYS = ("id", "name", "contacts", "token_file")
AGREEMENT_KEYS = (
    "id", "customer", "name", "slos", "effective_from", "effective_until", "renewal",
    "termination_notice", "obligations", "reporting", "timezone", "credit_cap",
)  # fmt: skip
OBLIGATION_KEYS = ("provider", "customer")
PORTAL_KEYS = ("title", "frame_ancestors", "session_ttl", "secure_cookie", "listen")

MAX_PUBLIC_NAME_CHARS = 100
MAX_OBLIGATION_CHARS = 4000
MAX_TOKEN_FILE_BYTES = MAX_SECRET_BYTES
MIN_HEX_TOKEN = 32  # hex digits: 4 bits each, 128 bits
MIN_BASE64_TOKEN = 22  # URL-safe base64 characters: 6 bits each, 132 bits
MIN_DISTINCT = 8  # different characters in a token: "aaaa..." is long, not random
DIGEST_PREFIX = "sha256:"  # a line holding a token's digest instead of the token
MIN_SESSION_TTL = 60.0
DEFAULT_REPORTING = "month"

#: How to make a token, for the messages about a bad or missing one.
MAKE_TOKEN = (
    'make one with "openssl rand -hex 32" or '
    "\"python3 -c 'import secrets; print(secrets.token_urlsafe(32))'\""
)

_HEX = re.compile(r"[0-9A-Fa-f]+")
_DIGEST = re.compile(r"[0-9A-Fa-f]{64}")
_BASE64 = re.compile(r"([A-Za-z0-9_-]+)={0,2}")
_MAX_LISTED = 10  # ids listed in a hint


# [[customer]] ----------------------------------------------------------------------------------


@dataclass
class _TokenOwners:
    """The tokens and files of the customers checked so far, to refuse sharing them."""

    digests: dict[bytes, tuple[str, int]]  # digest -> (the customer's key path, line)
    files: dict[str, str]  # the file's real path -> the customer's key path


def check_customers(
    c: Checker, tables: list[object], seen: dict[str, int]
) -> list[Customer | None]:
    """Each [[customer]], None for one that is wrong; valid ids are recorded in ``seen``."""
    owners = _TokenOwners({}, {})
    return [_customer(c, i, raw, seen, owners) for i, raw in enumerate(tables)]


def _customer(
    c: Checker, i: int, raw: object, seen: dict[str, int], owners: _TokenOwners
) -> Customer | None:
    base = f"customer[{i}]"
    if not isinstance(raw, dict):
        c.type_error(base, "a table", raw)
        return None
    n_errors = len(c.errors)
    cid = c.attempt(ident, raw, "customer", i, seen)
    p = f'{base} (id "{cid}")' if cid is not None else base
    c.unknown_keys(raw, p, CUSTOMER_KEYS)
    name = cid
    if "name" in raw:
        name = c.attempt(values.name, raw["name"], f"{p}.name")
    contacts: tuple[str, ...] | None = ()
    if "contacts" in raw:
        contacts = c.attempt(_contacts, raw["contacts"], f"{p}.contacts")
    digests = None
    if "token_file" not in raw:
        c.error(
            p,
            'missing required key "token_file" (a file of the customer\'s access tokens, one '
            f"a line; {MAKE_TOKEN})",
        )
    else:
        digests = c.attempt(_token_file, raw["token_file"], f"{p}.token_file", p, owners)
    if (
        len(c.errors) > n_errors or cid is None or name is None or contacts is None
        or digests is None
    ):  # fmt: skip
        return None
    token_file = raw["token_file"]
    assert isinstance(token_file, str)  # _token_file accepted it
    return Customer(
        id=cid, name=name, contacts=contacts, token_file=token_file, token_digests=digests
    )


def _contacts(c: Checker, value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        hint = f" (write [{echo(value)}])" if isinstance(value, str) else ""
        raise c.type_error(path, 'an array of strings such as ["ops@acme.example"]', value, hint)
    out = [c.attempt(values.text, item, f"{path}[{j}]") for j, item in enumerate(value)]
    valid = tuple(item for item in out if item is not None)
    if len(valid) < len(out):
        raise Invalid
    return valid


def _token_file(
    c: Checker, value: object, path: str, owner: str, owners: _TokenOwners
) -> tuple[bytes, ...]:
    """The SHA-256 digests of the tokens in the file ``value`` names (see the rules above);
    () when the mode skips secrets. Never shows a token: only the file and line numbers."""
    written = values.string(c, value, path)
    if not written.strip():
        raise c.error(path, f"is empty: give the path of the customer's token file ({MAKE_TOKEN})")
    if "\0" in written:
        raise c.error(path, f"{echo(written, 200)} contains a NUL character")
    file_path = os.path.join(c.base_dir, written)  # join keeps an absolute path as it is
    shown = echo(file_path, 200)
    real = os.path.realpath(file_path)
    if real in owners.files:
        raise c.error(
            path,
            f"{shown} is the token file of {owners.files[real]} too: each customer needs "
            "their own tokens, in their own file",
        )
    owners.files[real] = owner
    if c.mode == "skip":
        return ()
    text = _read(c, file_path, path, shown)
    digests: list[bytes] = []
    lines: dict[bytes, int] = {}
    n_errors = len(c.errors)
    for number, line in enumerate(text.split("\n"), 1):
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        where = f"{shown}, line {number}"
        if token.lower().startswith(DIGEST_PREFIX):  # the token's digest, not the token
            hexdigest = token[len(DIGEST_PREFIX) :]
            if not _DIGEST.fullmatch(hexdigest):
                c.error(path, f"{where}: a {DIGEST_PREFIX} line needs the 64 hex digits of the"
                        " token's SHA-256")  # fmt: skip
                continue
            digest = bytes.fromhex(hexdigest)
        else:
            c.secret_values.add(token)  # scrubbed from an internal error's text, even a bad one
            problem = _token_problem(token)
            if problem:
                c.error(path, f"{where}: {problem} ({MAKE_TOKEN})")
                continue
            digest = hashlib.sha256(token.encode()).digest()
        if digest in lines:
            c.error(path, f"{where}: the same token as line {lines[digest]}")
            continue
        if digest in owners.digests:
            other, other_line = owners.digests[digest]
            c.error(
                path,
                f"{where}: the same token as line {other_line} of the token file of {other}: "
                "each customer needs their own tokens",
            )
            continue
        lines[digest] = number
        digests.append(digest)
    for digest, number in lines.items():  # taken, even when other lines are wrong
        owners.digests[digest] = (owner, number)
    if len(c.errors) > n_errors:
        raise Invalid
    # No token at all is allowed: emptying the file (and SIGHUP) is how a customer's access is
    # taken away, and a reload must not fail for it (the old tokens would stay in force).
    return tuple(digests)


def _read(c: Checker, file_path: str, path: str, shown: str) -> str:
    """The file's text (a byte-order mark dropped); nothing read is ever shown."""
    try:
        with open(file_path, "rb") as f:
            data = f.read(MAX_TOKEN_FILE_BYTES + 1)
    except FileNotFoundError:
        raise c.error(
            path, f"cannot read {shown}: no such file (one token a line; {MAKE_TOKEN})"
        ) from None
    except PermissionError:
        raise c.error(path, f"cannot read {shown}: permission denied") from None
    except IsADirectoryError:
        raise c.error(path, f"cannot read {shown}: is a directory, not a file") from None
    except OSError as e:
        raise c.error(path, f"cannot read {shown}: {e.strerror or type(e).__name__}") from None
    except ValueError as e:  # e.g. a path the file system cannot encode
        raise c.error(path, f"cannot read {shown}: {type(e).__name__}") from None
    if len(data) > MAX_TOKEN_FILE_BYTES:
        raise c.error(
            path,
            f"{shown} is larger than {MAX_TOKEN_FILE_BYTES // 1024} KiB; is it a token file?",
        )
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise c.error(path, f"{shown} is not UTF-8 text") from None


def _token_problem(token: str) -> str | None:
    """Why ``token`` (a stripped, non-empty line) is no token, or None; never shows it."""
    if _HEX.fullmatch(token):
        if len(token) < MIN_HEX_TOKEN:
            return (
                f"too short: a token of hex digits needs at least {MIN_HEX_TOKEN} of them "
                f"(128 bits), this one has {len(token)}"
            )
        return _not_random(token)
    m = _BASE64.fullmatch(token)
    if m:
        if len(m[1]) < MIN_BASE64_TOKEN:
            return (
                f"too short: a URL-safe base64 token needs at least {MIN_BASE64_TOKEN} "
                f"characters (128 bits), this one has {len(m[1])}"
            )
        return _not_random(m[1])
    return (
        'not a token: a token is hex digits or URL-safe base64 (A-Z, a-z, 0-9, "-" and "_", '
        f'up to two "=" at the end), or {DIGEST_PREFIX} and its SHA-256 in hex, one a line'
    )


def _not_random(token: str) -> str | None:
    if len(set(token)) < MIN_DISTINCT:
        return f"not random: fewer than {MIN_DISTINCT} different characters"
    return None


# [[agreement]] ---------------------------------------------------------------------------------


def check_agreements(
    c: Checker, tables: list[object], slo_targets: Mapping[str, str]
) -> list[Agreement | None]:
    """Each [[agreement]], None for one that is wrong. Customer ids are checked against
    ``c.ids["customer"]``, SLO ids against ``c.ids["slo"]``; ``slo_targets`` (SLO id -> its
    target) serves the hint for a monitor or service listed instead of its SLO."""
    seen: dict[str, int] = {}
    return [_agreement(c, i, raw, seen, slo_targets) for i, raw in enumerate(tables)]


def _agreement(
    c: Checker, i: int, raw: object, seen: dict[str, int], slo_targets: Mapping[str, str]
) -> Agreement | None:
    base = f"agreement[{i}]"
    if not isinstance(raw, dict):
        c.type_error(base, "a table", raw)
        return None
    n_errors = len(c.errors)
    aid = c.attempt(ident, raw, "agreement", i, seen)
    p = f'{base} (id "{aid}")' if aid is not None else base
    c.unknown_keys(raw, p, AGREEMENT_KEYS)
    customer = None
    if "customer" not in raw:
        c.error(p, 'missing required key "customer" (the id of a [[customer]])')
    else:
        customer = c.attempt(
            reference, raw["customer"], f"{p}.customer", {"customer": c.ids.get("customer")},
            "a customer id",
        )  # fmt: skip
    name = aid
    if "name" in raw:
        name = c.attempt(values.name, raw["name"], f"{p}.name")
    slos = None
    if "slos" not in raw:
        c.error(p, 'missing required key "slos" (the ids of the [[slo]] tables it promises)')
    else:
        slos = c.attempt(_slo_list, raw["slos"], f"{p}.slos", slo_targets)
    start, end = _term(c, raw, p)
    renewal = None
    if "renewal" in raw:
        renewal = c.attempt(
            values.choice, raw["renewal"], f"{p}.renewal", REPORTING_PERIODS, "a renewal period"
        )
    notice = None
    if "termination_notice" in raw:
        notice = c.attempt(
            values.positive_duration, raw["termination_notice"], f"{p}.termination_notice",
            "termination notice",
        )  # fmt: skip
    obligations: tuple[str, str] | None = ("", "")
    if "obligations" in raw:
        obligations = c.attempt(_obligations, raw["obligations"], f"{p}.obligations")
    reporting: str | None = DEFAULT_REPORTING
    if "reporting" in raw:
        reporting = c.attempt(
            values.choice, raw["reporting"], f"{p}.reporting", REPORTING_PERIODS,
            "a reporting period",
        )  # fmt: skip
    tz: str | None = "UTC"
    if "timezone" in raw:
        tz = c.attempt(values.time_zone, raw["timezone"], f"{p}.timezone")
    cap = None
    if "credit_cap" in raw:
        cap = c.attempt(_credit_cap, raw["credit_cap"], f"{p}.credit_cap")
    if (
        len(c.errors) > n_errors or aid is None or customer is None or name is None
        or slos is None or start is None or obligations is None or reporting is None
        or tz is None
    ):  # fmt: skip
        return None
    return Agreement(
        id=aid,
        customer=customer,
        name=name,
        slos=slos,
        effective_from=start,
        effective_until=end,
        renewal=renewal,
        termination_notice=notice,
        provider_obligations=obligations[0],
        customer_obligations=obligations[1],
        reporting=reporting,
        timezone=tz,
        credit_cap=cap,
    )


def _term(c: Checker, raw: Table, p: str) -> tuple[datetime | None, datetime | None]:
    """effective_from (required) and effective_until (optional, after it), as an SLO's."""
    start = end = None
    if "effective_from" not in raw:
        c.error(
            p,
            'missing required key "effective_from" (when the agreement begins, e.g. '
            "2026-01-01T00:00:00Z)",
        )
    else:
        start = c.attempt(values.instant, raw["effective_from"], f"{p}.effective_from")
    if "effective_until" in raw:
        end = c.attempt(values.instant, raw["effective_until"], f"{p}.effective_until")
    if start is not None and end is not None and not start < end:
        c.error(
            f"{p}.effective_until",
            f"{values.show_instant(raw['effective_until'])} is not after effective_from "
            f"({values.show_instant(raw['effective_from'])})",
        )
    return start, end


def check_agreement_targets(
    c: Checker,
    agreements: Sequence[Agreement | None],
    slo_targets: Mapping[str, str],
    named: set[str],
) -> None:
    """Each agreement's SLOs target something with a public_name: what the portal calls it
    (a target's id, and its name, are internal)."""
    for i, a in enumerate(agreements):
        if a is None:
            continue
        for j, sid in enumerate(a.slos):
            target = slo_targets.get(sid)
            if target is not None and target not in named:
                c.error(
                    f'agreement[{i}] (id "{a.id}").slos[{j}]',
                    f"SLO {echo(sid)} is on {echo(target)}, which has no public_name: the portal"
                    " shows an agreement's targets by their public names (set one; with"
                    " public = false it stays off the status page)",
                )


def _slo_list(
    c: Checker, value: object, path: str, slo_targets: Mapping[str, str]
) -> tuple[str, ...]:
    """SLO ids, at least one, each once; an unknown one says what to list instead."""
    if not isinstance(value, list):
        hint = f" (write [{echo(value)}])" if isinstance(value, str) else ""
        raise c.type_error(path, 'an array of SLO ids such as ["web-availability"]', value, hint)
    if not value:
        raise c.error(path, "is empty: list at least one SLO id")
    return each_once(c, value, path, lambda c, item, ipath: _slo_id(c, item, ipath, slo_targets))


def _slo_id(c: Checker, value: object, path: str, slo_targets: Mapping[str, str]) -> str:
    if not isinstance(value, str):
        raise c.type_error(path, "a string (an SLO id)", value)
    known = c.ids.get("slo")
    if known is None or value in known:
        return value
    hint = ""
    for kind in ("service", "monitor"):
        ids = c.ids.get(kind)
        if ids and value in ids:
            on = [sid for sid, target in slo_targets.items() if target == value]
            if on:
                hint = f" (it is a {kind}: list its SLOs instead: {_listed(on)})"
            else:
                hint = (
                    f" (it is a {kind}, and no SLO targets it: add an [[slo]] with "
                    f"target = {echo(value)}, then list the SLO's id here)"
                )
            break
    if not hint:
        lowered = {sid.lower(): sid for sid in known}
        match = [lowered[value.lower()]] if value.lower() in lowered else []
        if not match and len(known) <= 10_000:
            match = difflib.get_close_matches(value[:100], list(known), n=1, cutoff=0.6)
        if match:
            hint = f' (did you mean "{match[0]}"?)'
        elif known:
            hint = f" (the SLO ids are {_listed(list(known))})"
        else:
            hint = " (there are no [[slo]] tables: define the SLO, then list its id here)"
    raise c.error(path, f"{echo(value)} is not an SLO id{hint}")


def _listed(ids: Sequence[str]) -> str:
    shown = ", ".join(echo(i) for i in ids[:_MAX_LISTED])
    return shown + (f", ... {len(ids) - _MAX_LISTED} more" if len(ids) > _MAX_LISTED else "")


def _obligations(c: Checker, value: object, path: str) -> tuple[str, str]:
    table = values.table(c, value, path, OBLIGATION_KEYS, '{ provider = "...", customer = "..." }')
    texts: dict[str, str | None] = {key: "" for key in OBLIGATION_KEYS}
    for key in OBLIGATION_KEYS:
        if key in table:
            texts[key] = c.attempt(_plain_text, table[key], f"{path}.{key}")
    provider, customer = texts["provider"], texts["customer"]
    if provider is None or customer is None:
        raise Invalid
    return provider, customer


def _plain_text(c: Checker, value: object, path: str) -> str:
    """Text shown as written (never as markup): line breaks and tabs allowed, no other control
    character."""
    text = values.string(c, value, path)
    if len(text) > MAX_OBLIGATION_CHARS:
        raise c.error(path, f"is longer than {MAX_OBLIGATION_CHARS} characters")
    for n, ch in enumerate(text):
        if ch not in "\n\r\t" and unicodedata.category(ch) == "Cc":
            raise c.error(
                path,
                f"contains a control character ({echo(ch)} at character {n + 1}; line breaks "
                "and tabs are allowed)",
            )
    return text


def _credit_cap(c: Checker, value: object, path: str) -> Decimal:
    number = _number(c, value, path, "a number in percent such as 50")
    if not 0 < number <= 100:
        assert isinstance(value, (int, float))  # _number accepted it
        raise c.error(
            path,
            f"{show_number(value)} is out of range (allowed: more than 0, at most 100, in "
            "percent of the charge)",
        )
    return number


# [portal] --------------------------------------------------------------------------------------


def check_portal(c: Checker, table: Table | None) -> Portal | None:
    """[portal]; ``table`` None: the section was not a table (already reported)."""
    if table is None:
        return None
    c.unknown_keys(table, "portal", PORTAL_KEYS)
    defaults = Portal()
    n_errors = len(c.errors)
    title: str | None = defaults.title
    if "title" in table:
        title = c.attempt(values.text, table["title"], "portal.title")
    ancestors: tuple[str, ...] | None = defaults.frame_ancestors
    if "frame_ancestors" in table:
        ancestors = c.attempt(_frame_ancestors, table["frame_ancestors"], "portal.frame_ancestors")
    ttl: float | None = defaults.session_ttl
    if "session_ttl" in table:
        ttl = c.attempt(
            values.duration_at_least, table["session_ttl"], "portal.session_ttl",
            MIN_SESSION_TTL, "session lifetime",
        )  # fmt: skip
    secure = defaults.secure_cookie
    if "secure_cookie" in table:
        secure = c.attempt(values.boolean, table["secure_cookie"], "portal.secure_cookie")
    listen = None
    if "listen" in table:
        listen = c.attempt(listen_address, table["listen"], "portal.listen")
        if listen is None:
            return None
    if len(c.errors) > n_errors or title is None or ancestors is None or ttl is None:
        return None
    return Portal(
        title=title, frame_ancestors=ancestors, session_ttl=ttl, secure_cookie=secure,
        listen=listen,
    )  # fmt: skip


def _frame_ancestors(c: Checker, value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        hint = f" (write [{echo(value)}])" if isinstance(value, str) else ""
        raise c.type_error(
            path, "an array of origins such as [\"https://intranet.example.com\", \"'self'\"]",
            value, hint,
        )  # fmt: skip
    out: list[str] = []
    first: dict[str, int] = {}
    n_errors = len(c.errors)
    for j, item in enumerate(value):
        ipath = f"{path}[{j}]"
        origin = c.attempt(_origin, item, ipath)
        if origin is None:
            continue
        if origin in first:
            c.error(ipath, f"{echo(origin)} is listed twice (first at [{first[origin]}])")
        else:
            first[origin] = j
            out.append(origin)
    if len(c.errors) > n_errors:
        raise Invalid
    return tuple(out)


_ORIGIN_EXAMPLE = '(examples: "https://intranet.example.com", "http://127.0.0.1:8080", "\'self\'")'


def _origin(c: Checker, value: object, path: str) -> str:
    """ "'self'", or an http(s) origin, stored as scheme://host[:port] in lower case (an
    internationalised host by its ASCII form, an IPv6 address in brackets)."""
    if not isinstance(value, str):
        raise c.type_error(path, f"a string {_ORIGIN_EXAMPLE}", value)
    shown = echo(value)
    lowered = value.strip().lower()
    if lowered == "'self'":
        return "'self'"
    if lowered in ("self", '"self"'):
        raise c.error(path, f"{shown}: write \"'self'\", with the single quotes")
    if lowered == "'none'":
        raise c.error(path, f"{shown}: leave frame_ancestors out (or []) to let no one frame them")
    if "*" in value:
        raise c.error(path, f"{shown}: wildcards are not allowed: list each origin")
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise c.error(path, f"{shown} contains a space or a control character")
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise c.error(path, f"{shown} is not an http:// or https:// origin {_ORIGIN_EXAMPLE}")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if netloc != rest:
        raise c.error(
            path,
            f'{shown} has a path: an origin is scheme://host[:port] (write "{scheme}://{netloc}")',
        )
    if "@" in netloc:
        raise c.error(path, f"{shown}: an origin has no user name or password")
    try:
        parts = urlsplit(value)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise c.error(path, f"{shown} is not a valid origin {_ORIGIN_EXAMPLE}") from None
    problem = values.host_problem(host)
    if problem is not None:
        raise c.error(path, f"{shown}: the host {problem}")
    if port == 0:
        raise c.error(path, f"{shown}: port 0 is not a port")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")  # host_problem checked that it encodes
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


# public and public_name ------------------------------------------------------------------------


def check_public(
    c: Checker, raw: Table, p: str, kind: str, name: str | None
) -> tuple[bool, str | None]:
    """A [[monitor]] or [[service]] table's ``public`` and ``public_name`` (see the rules
    above): (public, public name). ``name``: the service's name, its public name by default
    (None: wrong, already reported)."""
    n_errors = len(c.errors)
    public_name = None
    if "public_name" in raw:
        public_name = c.attempt(_public_name, raw["public_name"], f"{p}.public_name")
    # Never public by default: a public_name alone may only name the target in its
    # customers' agreements.
    public = False
    if "public" in raw:
        got = c.attempt(values.boolean, raw["public"], f"{p}.public")
        public = bool(got)
    if public and "public_name" not in raw:
        if kind == "monitor":
            c.error(
                p,
                'public = true needs "public_name", the name the status page shows (a '
                "monitor's name and id are internal)",
            )
        elif "name" not in raw:
            c.error(
                p,
                'public = true needs "public_name" (or a "name"), the name the status page '
                "shows (a service's id is internal)",
            )
        elif name is not None:
            public_name = c.attempt(_name_as_public, name, f"{p}.public")
    if len(c.errors) > n_errors:
        raise Invalid
    return public, public_name


def _public_name(c: Checker, value: object, path: str) -> str:
    text = values.text(c, value, path, MAX_PUBLIC_NAME_CHARS)
    if not slug(text):
        raise c.error(
            path,
            f"{echo(text)} has no letter a-z or digit: the status page's URLs name a target by "
            'them (lowercased, other characters as "-")',
        )
    return text


def _name_as_public(c: Checker, name: str, path: str) -> str:
    """A public service's name, shown when it has no public_name."""
    if len(name) > MAX_PUBLIC_NAME_CHARS:
        raise c.error(
            path,
            f"the service's name is longer than {MAX_PUBLIC_NAME_CHARS} characters, too long "
            "for the status page: set a shorter public_name",
        )
    if not slug(name):
        raise c.error(
            path,
            f"the service's name {echo(name)} has no letter a-z or digit for the status page's "
            "URLs: set public_name",
        )
    return name


def check_public_names(
    c: Checker, groups: Sequence[tuple[str, Sequence[object], Sequence[Monitor | Service | None]]]
) -> None:
    """No two public targets with the same slug. ``groups``: (kind, its raw tables, what was
    built of each, None where it was wrong), in the order the targets are checked in."""
    first: dict[str, tuple[str, str]] = {}  # slug -> (where, public name)
    for kind, tables, built in groups:
        for i, (raw, target) in enumerate(zip(tables, built, strict=True)):
            if target is None or not target.public or target.public_name is None:
                continue
            where = f'{kind}[{i}] (id "{target.id}")'
            key = slug(target.public_name)
            if key not in first:
                first[key] = (where, target.public_name)
                continue
            other, other_name = first[key]
            written = isinstance(raw, dict) and "public_name" in raw
            path = f"{where}.{'public_name' if written else 'public'}"
            shown = echo(target.public_name)
            if other_name == target.public_name:
                c.error(path, f"{shown} is the public name of {other} too: each must differ")
            else:
                c.error(
                    path,
                    f"{shown} and the public name {echo(other_name)} of {other} are the same "
                    f'in the status page\'s URLs ("{key}"): make them differ in letters or digits',
                )
