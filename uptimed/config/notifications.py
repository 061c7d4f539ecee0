"""[[notifier]] and [[escalation]]: who is told of an incident, how, and when.

Rules for [[notifier]]: id (uptimed.config.ids) and kind are required.
  kind      "webhook" (a JSON POST, the schema of uptimed.notify.message) or "apprise" (any
            apprise URL: mailto://, slack://, tgram://, ntfy://, json://...).
  url       required; a secret option (uptimed.config.secret_options): tokens in it are best
            given by reference, "${credential:slack-url}". A webhook's is an http(s) URL; an
            apprise one is "scheme://...".
  headers   webhook only: a table of header names to values; the values are secret options.
  secret_file  webhook only: a file holding the key the body is signed with (HMAC-SHA256, in
            the X-Uptimed-Signature header); read at every load, a relative path is relative to
            the config file's directory.
  timeout   per delivery attempt; default 10s, at most 5m.
  title, body  message templates ($target, $severity, $state, $cause, $started, $duration...:
            uptimed.notify.message.FIELDS); a default when not given.
Paging keys, in [defaults], [[monitor]] and [[service]] (a monitor's or service's own win):
  severity    "critical", "major" or "minor"; default "major" (or [defaults].severity).
  escalation  the id of an [[escalation]] policy; default [defaults].escalation, else none
              (its incidents are recorded and reported, and page nobody).
Rules for [response], the response and resolution objectives per severity:
  critical, major, minor   each an optional table { acknowledge = "15m", resolve = "4h" }
            (either or both; more than 0): how soon an incident of that severity must be
            acknowledged and resolved. The SLA report counts the incidents that missed them.
Rules for [[escalation]]: id and levels are required.
  levels    an array of { after = "DURATION", notify = ["NOTIFIER", ...] }, at least one, with
            strictly increasing after (time since the incident was confirmed while it is not
            acknowledged; the first is usually "0s"); notify names notifiers, at least one.
  repeat    a reminder to everyone told so far, this often while the incident is open and not
            acknowledged; at least 1m; none when not given.
  notify_resolved  default true: everyone who was told hears of the end.
  group     default false: a service's incident stands for its members' incidents, which then
            page nobody (one outage, one page).
"""

from __future__ import annotations

from uptimed.config import values
from uptimed.config.checker import Checker, Invalid, Table
from uptimed.config.http import check_headers
from uptimed.config.ids import id_list, ident, reference
from uptimed.config.secret_options import secret
from uptimed.core.times import format_duration
from uptimed.model.config import (
    SEVERITIES,
    EscalationLevel,
    EscalationPolicy,
    Notifier,
    ResponseObjective,
)

NOTIFIER_KINDS = ("webhook", "apprise")
NOTIFIER_KEYS = ("id", "kind", "url", "headers", "secret_file", "timeout", "title", "body")
ESCALATION_KEYS = (
    "id", "levels", "repeat", "notify_resolved", "group", "flap_changes", "flap_window",
    "flap_quiet",
)  # fmt: skip
LEVEL_KEYS = ("after", "notify")
PAGING_KEYS = ("severity", "escalation")
DEFAULT_SEVERITY = "major"
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 300.0
MIN_REPEAT = 60.0
MAX_TEMPLATE_CHARS = 4000


def check_notifiers(
    c: Checker, tables: list[object], seen: dict[str, int]
) -> list[Notifier | None]:
    """Each [[notifier]], None for one that is wrong; valid ids are recorded in ``seen``."""
    return [_notifier(c, i, raw, seen) for i, raw in enumerate(tables)]


def _notifier(c: Checker, i: int, raw: object, seen: dict[str, int]) -> Notifier | None:
    base = f"notifier[{i}]"
    if not isinstance(raw, dict):
        c.type_error(base, "a table", raw)
        return None
    n_errors = len(c.errors)
    nid = c.attempt(ident, raw, "notifier", i, seen)
    p = f'{base} (id "{nid}")' if nid is not None else base
    c.unknown_keys(raw, p, NOTIFIER_KEYS)
    kind = None
    if "kind" not in raw:
        c.error(p, f'missing required key "kind" (one of {", ".join(NOTIFIER_KINDS)})')
    else:
        kind = c.attempt(values.choice, raw["kind"], f"{p}.kind", NOTIFIER_KINDS, "a notifier kind")
    url = None
    if "url" not in raw:
        c.error(p, 'missing required key "url"')
    elif kind is not None:
        url = c.attempt(_url, raw["url"], f"{p}.url", kind)
    headers: tuple[tuple[str, str], ...] = ()
    key: str | None = None
    for only_webhook in ("headers", "secret_file"):
        if only_webhook in raw and kind == "apprise":
            c.error(f"{p}.{only_webhook}", 'only applies to kind = "webhook"')
    if "headers" in raw and kind == "webhook":
        # As a monitor's: token names, each once, no control characters even from a reference.
        checked = c.attempt(check_headers, raw["headers"], f"{p}.headers") or ()
        headers = tuple((name, text) for name, text, _ in checked)
    if "secret_file" in raw and kind == "webhook":
        key = c.attempt(_secret_file, raw["secret_file"], f"{p}.secret_file")
    timeout = DEFAULT_TIMEOUT
    if "timeout" in raw:
        timeout = c.attempt(_timeout, raw["timeout"], f"{p}.timeout") or DEFAULT_TIMEOUT
    templates: dict[str, str | None] = {"title": None, "body": None}
    for name in templates:
        if name in raw:
            templates[name] = c.attempt(_template, raw[name], f"{p}.{name}")
    if len(c.errors) > n_errors or nid is None or kind is None or url is None:
        return None
    return Notifier(
        id=nid,
        kind=kind,
        url=url,
        headers=headers,
        secret=key,
        timeout=timeout,
        title=templates["title"],
        body=templates["body"],
    )


def _url(c: Checker, value: object, path: str, kind: str) -> str:
    text = values.string(c, value, path)
    resolved = secret(c, text, path)
    if not resolved.resolved:
        return resolved.text  # left as written (check-config, report...): nothing to check
    url = resolved.text.strip()
    scheme, sep, rest = url.partition("://")
    # Never echo the URL itself: it may hold a token.
    if kind == "webhook" and (scheme.lower() not in ("http", "https") or not sep or not rest):
        raise c.error(path, "expected an http:// or https:// URL")
    if kind == "apprise" and (not sep or not scheme.isalnum() or not rest):
        raise c.error(
            path, 'expected an apprise URL, "scheme://..." (mailto://, slack://, ntfy://...)'
        )
    return url


def _secret_file(c: Checker, value: object, path: str) -> str | None:
    """The signing key: the file's contents, through the same rules as ``${file:PATH}`` (read at
    every load, relative to the config's directory, nothing shown); None when the mode skips
    secrets."""
    file_path = values.string(c, value, path)
    if not file_path or "}" in file_path or "${" in file_path:
        raise c.error(path, 'expected a file path (without "}" or "${")')
    resolved = secret(c, "${file:" + file_path + "}", path)
    if not resolved.resolved:
        return None
    if not resolved.text:
        raise c.error(path, "the file is empty: a signing key is needed")
    return resolved.text


def _timeout(c: Checker, value: object, path: str) -> float:
    t = values.positive_duration(c, value, path, "a timeout")
    if t > MAX_TIMEOUT:
        raise c.error(
            path, f"{format_duration(t)} is too long (at most {format_duration(MAX_TIMEOUT)})"
        )
    return t


def _template(c: Checker, value: object, path: str) -> str:
    text = values.string(c, value, path)
    if len(text) > MAX_TEMPLATE_CHARS:
        raise c.error(path, f"longer than {MAX_TEMPLATE_CHARS} characters")
    return text


def check_escalations(
    c: Checker, tables: list[object], seen: dict[str, int]
) -> list[EscalationPolicy | None]:
    """Each [[escalation]], None for one that is wrong; valid ids are recorded in ``seen``.
    Notifier ids are checked against ``c.ids["notifier"]``."""
    return [_escalation(c, i, raw, seen) for i, raw in enumerate(tables)]


def _escalation(c: Checker, i: int, raw: object, seen: dict[str, int]) -> EscalationPolicy | None:
    base = f"escalation[{i}]"
    if not isinstance(raw, dict):
        c.type_error(base, "a table", raw)
        return None
    n_errors = len(c.errors)
    eid = c.attempt(ident, raw, "escalation", i, seen)
    p = f'{base} (id "{eid}")' if eid is not None else base
    c.unknown_keys(raw, p, ESCALATION_KEYS)
    levels: tuple[EscalationLevel, ...] | None = None
    if "levels" not in raw:
        c.error(p, 'missing required key "levels" (e.g. [{ after = "0s", notify = ["ops"] }])')
    else:
        levels = c.attempt(_levels, raw["levels"], f"{p}.levels")
    repeat = None
    if "repeat" in raw:
        repeat = c.attempt(
            values.duration_at_least,
            raw["repeat"],
            f"{p}.repeat",
            MIN_REPEAT,
            "a reminder interval",
        )
    flap = {"flap_window": 900.0, "flap_quiet": 1800.0}
    for name in flap:
        if name in raw:
            got_s = c.attempt(
                values.duration_at_least, raw[name], f"{p}.{name}", 60.0, "a flapping period"
            )
            flap[name] = flap[name] if got_s is None else got_s
    changes = 6
    if "flap_changes" in raw:
        got_n = c.attempt(values.integer, raw["flap_changes"], f"{p}.flap_changes", 2, 1000)
        changes = changes if got_n is None else got_n
    flags = {"notify_resolved": True, "group": False}
    for name in flags:
        if name in raw:
            got = c.attempt(values.boolean, raw[name], f"{p}.{name}")
            flags[name] = flags[name] if got is None else got
    if len(c.errors) > n_errors or eid is None or levels is None:
        return None
    return EscalationPolicy(
        id=eid,
        levels=levels,
        repeat=repeat,
        notify_resolved=flags["notify_resolved"],
        group=flags["group"],
        flap_changes=changes,
        flap_window=flap["flap_window"],
        flap_quiet=flap["flap_quiet"],
    )


def _levels(c: Checker, value: object, path: str) -> tuple[EscalationLevel, ...]:
    if not isinstance(value, list) or not value:
        raise c.type_error(path, 'a non-empty array of { after = "...", notify = [...] }', value)
    out: list[EscalationLevel] = []
    n_errors = len(c.errors)
    for j, raw in enumerate(value):
        where = f"{path}[{j}]"
        if not isinstance(raw, dict):
            c.type_error(where, '{ after = "...", notify = [...] }', raw)
            continue
        c.unknown_keys(raw, where, LEVEL_KEYS)
        missing = [k for k in LEVEL_KEYS if k not in raw]
        if missing:
            c.error(where, f'missing required key "{missing[0]}"')
            continue
        after = c.attempt(values.duration, raw["after"], f"{where}.after")
        notify = c.attempt(
            id_list, raw["notify"], f"{where}.notify", {"notifier": c.ids.get("notifier")},
            "a notifier id",
        )  # fmt: skip
        if after is None or notify is None:
            continue
        if out and after <= out[-1].after:
            c.error(
                f"{where}.after",
                f"{format_duration(after)} is not after the previous level's"
                f" {format_duration(out[-1].after)} (levels go in order of after)",
            )
            continue
        out.append(EscalationLevel(after=after, notify=notify))
    if len(c.errors) > n_errors:
        raise Invalid
    return tuple(out)


def paging(
    c: Checker,
    raw: Table,
    p: str,
    severity: str | None,
    escalation: str | None,
    bad: bool = False,
) -> tuple[str | None, str | None, bool]:
    """A table's ``severity`` and ``escalation`` keys over the given defaults (``bad``: the
    default policy was wrong): (severity, or None when wrong; the policy id or None; whether
    the policy, its own or the default it takes, was wrong)."""
    if "severity" in raw:
        severity = c.attempt(
            values.choice, raw["severity"], f"{p}.severity", SEVERITIES, "a severity"
        )
    if "escalation" in raw:
        escalation = c.attempt(
            reference, raw["escalation"], f"{p}.escalation",
            {"escalation": c.ids.get("escalation")}, "an escalation policy id",
        )  # fmt: skip
        bad = escalation is None
    return severity, escalation, bad


def check_response(c: Checker, table: Table | None) -> tuple[ResponseObjective, ...] | None:
    """[response]; ``table`` None: the section was not a table (already reported)."""
    if table is None:
        return None
    c.unknown_keys(table, "response", SEVERITIES)
    out = []
    n_errors = len(c.errors)
    for severity in SEVERITIES:
        if severity not in table:
            continue
        path = f"response.{severity}"
        raw = c.attempt(
            values.table, table[severity], path, ("acknowledge", "resolve"),
            '{ acknowledge = "15m", resolve = "4h" }',
        )  # fmt: skip
        if raw is None:
            continue
        times: dict[str, float | None] = {"acknowledge": None, "resolve": None}
        for key in times:
            if key in raw:
                times[key] = c.attempt(
                    values.positive_duration, raw[key], f"{path}.{key}", f"time to {key}"
                )
        out.append(ResponseObjective(severity, times["acknowledge"], times["resolve"]))
    return None if len(c.errors) > n_errors else tuple(out)
