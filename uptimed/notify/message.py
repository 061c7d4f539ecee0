"""What a notification says: the webhook JSON (a versioned contract) and the text templates.

Pure: no clock, no I/O. The caller passes ``now_ms`` (epoch milliseconds), so the same
:class:`Notification` and clock give the same bytes, in the daemon and in tests. The incident
events are those of :mod:`uptimed.core.escalation`.

**The webhook payload, version 1** (:func:`payload`; ``SCHEMA_VERSION``). A JSON object::

    {
      "version": 1,
      "event": "incident.opened",        # see EVENTS
      "idempotency_key": "...",          # also the Idempotency-Key header; the same for
                                         # every retry of one notification: dedupe on it
      "level": 0,                        # the escalation level reached (0: the first)
      "sent_at": "2026-01-02T03:04:05.000Z",
      "incident": {
        "id": "...",
        "target": "api",                 # the monitor's or service's id
        "target_kind": "monitor",        # "monitor" | "service"
        "severity": "major",             # "critical" | "major" | "minor"
        "state": "down",                 # "down" | "up" | "unknown" (the target now)
        "started": "...Z",               # when the target went down
        "confirmed": "...Z",             # when the incident was confirmed (notifying began)
        "resolved": "...Z" | null,
        "acknowledged_by": "alice" | null,
        "cause": {"kind": "timeout", "message": "..."} | null,
        "duration_seconds": 3850.0       # started to resolved, or to sent_at while open
      },
      "links": {"report": "https://..." | null, "dashboard": "https://..." | null}
    }

Every time is ISO-8601 UTC with milliseconds and a ``Z`` (``YYYY-MM-DDTHH:MM:SS.sssZ``).
Within version 1, fields are only ever added, never removed, renamed or changed in meaning:
receivers must ignore keys they do not know. Anything else bumps ``version``. ``cause.kind``
is an error kind of :mod:`probes.base` (``timeout``, ``refused``, ``http_status``, ...) or
null; ``cause.message`` was scrubbed of credentials before it got here.

**Templates** (:func:`render`). A notifier's ``title`` and ``body`` are
:class:`string.Template` strings over :data:`FIELDS` (``$target`` or ``${target}``), filled
with ``safe_substitute``: a ``$`` that names no field (``$5``, ``$HOME``) stays as typed, and
``$$`` is a literal ``$``. A field with no value (``$cause`` without a cause, the links when
not configured, ``$acknowledged_by`` before an acknowledgement) is the empty string. Without a
template, :data:`DEFAULT_TITLE` and the event's :data:`DEFAULT_BODY` are used; in those
defaults (only), a line whose fields are all empty is left out.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from uptimed.core.escalation import ACKNOWLEDGED, ESCALATED, OPENED, REMINDER, RESOLVED

__all__ = [
    "DEFAULT_BODY",
    "DEFAULT_TITLE",
    "EVENTS",
    "FIELDS",
    "SCHEMA_VERSION",
    "Notification",
    "fields",
    "format_duration",
    "iso",
    "payload",
    "render",
]

#: The version of the webhook payload; see the module docstring.
SCHEMA_VERSION = 1

FLAPPING = "monitor.flapping"

#: Every event a notification can be about.
EVENTS: tuple[str, ...] = (OPENED, ESCALATED, REMINDER, ACKNOWLEDGED, RESOLVED, FLAPPING)

#: The template fields, each with what it holds.
FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "target": "the monitor's or service's id",
        "target_kind": '"monitor" or "service"',
        "severity": '"critical", "major" or "minor"',
        "state": '"down", or on a resolution "up" ("unknown" when it ended with no verdict)',
        "event": 'the event, e.g. "incident.opened" (see EVENTS)',
        "level": "the escalation level reached, 0 for the first",
        "cause": 'why it is down: "message (kind)"; empty when unknown',
        "started": 'when it went down, e.g. "2026-01-02 03:04:05 UTC"',
        "duration": 'how long it has been (or was) down, e.g. "1h 4m 10s"',
        "acknowledged_by": "who acknowledged the incident; empty if nobody has",
        "report_url": "a link to the incident's report; empty when not configured",
        "dashboard_url": "a link to the dashboard; empty when not configured",
    }
)

#: The title when a notifier has none.
DEFAULT_TITLE = "[$severity] $target is $state"

#: The body per event when a notifier has none (lines whose fields are all empty are dropped).
DEFAULT_BODY: Mapping[str, str] = MappingProxyType(
    {
        OPENED: (
            "$target ($target_kind) is down since $started.\n"
            "Cause: $cause\n"
            "Severity: $severity\n"
            "Report: $report_url\n"
            "Dashboard: $dashboard_url"
        ),
        ESCALATED: (
            "$target ($target_kind) has been down for $duration and nobody has acknowledged "
            "it: escalated to level $level.\n"
            "Down since: $started\n"
            "Cause: $cause\n"
            "Report: $report_url\n"
            "Dashboard: $dashboard_url"
        ),
        REMINDER: (
            "Reminder: $target ($target_kind) is still down, for $duration now, and nobody "
            "has acknowledged it.\n"
            "Down since: $started\n"
            "Cause: $cause\n"
            "Report: $report_url\n"
            "Dashboard: $dashboard_url"
        ),
        ACKNOWLEDGED: (
            "The incident on $target ($target_kind) was acknowledged.\n"
            "Acknowledged by: $acknowledged_by\n"
            "Down since: $started ($duration)\n"
            "Report: $report_url\n"
            "Dashboard: $dashboard_url"
        ),
        RESOLVED: (
            "$target ($target_kind) is back up after $duration (down since $started).\n"
            "Cause: $cause\n"
            "Report: $report_url\n"
            "Dashboard: $dashboard_url"
        ),
        FLAPPING: (
            "$target ($target_kind) is flapping: its state keeps changing. It is $state now.\n"
            "Dashboard: $dashboard_url"
        ),
    }
)


@dataclass(frozen=True)
class Notification:
    """One message about one incident (or a flapping monitor), as sent to every notifier.

    Times are epoch milliseconds. ``cause`` must already be scrubbed of credentials."""

    event: str  # one of EVENTS
    idempotency_key: str
    level: int
    incident_id: str
    target: str
    target_kind: str  # "monitor" | "service"
    severity: str
    state: str  # "down" | "up" | "unknown"
    started: int
    confirmed: int
    resolved: int | None = None
    acknowledged_by: str | None = None
    cause_kind: str | None = None
    cause: str | None = None
    report_url: str | None = None
    dashboard_url: str | None = None


def iso(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC: ``2026-01-02T03:04:05.123Z``."""
    t = datetime.fromtimestamp(ms // 1000, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def _human_time(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration_ms(n: Notification, now_ms: int) -> int:
    end = n.resolved if n.resolved is not None else now_ms
    return max(end - n.started, 0)


def format_duration(seconds: float) -> str:
    """Whole seconds, largest unit first, zero units left out: ``1h 4m 10s``, ``2d 3h``,
    ``45s``, ``0s``."""
    rest = max(int(seconds), 0)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"


def payload(n: Notification, now_ms: int) -> dict[str, Any]:
    """The webhook JSON object (version :data:`SCHEMA_VERSION`) for ``n`` sent at ``now_ms``."""
    cause: dict[str, str | None] | None = None
    if n.cause_kind is not None or n.cause is not None:
        cause = {"kind": n.cause_kind, "message": n.cause}
    return {
        "version": SCHEMA_VERSION,
        "event": n.event,
        "idempotency_key": n.idempotency_key,
        "level": n.level,
        "sent_at": iso(now_ms),
        "incident": {
            "id": n.incident_id,
            "target": n.target,
            "target_kind": n.target_kind,
            "severity": n.severity,
            "state": n.state,
            "started": iso(n.started),
            "confirmed": iso(n.confirmed),
            "resolved": None if n.resolved is None else iso(n.resolved),
            "acknowledged_by": n.acknowledged_by,
            "cause": cause,
            "duration_seconds": _duration_ms(n, now_ms) / 1000,
        },
        "links": {"report": n.report_url, "dashboard": n.dashboard_url},
    }


def _cause_text(n: Notification) -> str:
    if n.cause and n.cause_kind:
        return f"{n.cause} ({n.cause_kind})"
    return n.cause or n.cause_kind or ""


def fields(n: Notification, now_ms: int) -> dict[str, str]:
    """The value of every field of :data:`FIELDS` for ``n`` at ``now_ms``."""
    return {
        "target": n.target,
        "target_kind": n.target_kind,
        "severity": n.severity,
        "state": n.state,
        "event": n.event,
        "level": str(n.level),
        "cause": _cause_text(n),
        "started": _human_time(n.started),
        "duration": format_duration(_duration_ms(n, now_ms) / 1000),
        "acknowledged_by": n.acknowledged_by or "",
        "report_url": n.report_url or "",
        "dashboard_url": n.dashboard_url or "",
    }


def _default_body(event: str, values: Mapping[str, str]) -> str:
    template = DEFAULT_BODY.get(event, DEFAULT_BODY[OPENED])
    lines = []
    for line in template.split("\n"):
        names = {
            m.group("named") or m.group("braced")
            for m in string.Template.pattern.finditer(line)
            if m.group("named") or m.group("braced")
        }
        if names and not any(values.get(name) for name in names):
            continue  # an optional line with nothing to say
        lines.append(string.Template(line).safe_substitute(values))
    return "\n".join(lines)


def render(
    n: Notification, template_title: str | None, template_body: str | None, now_ms: int
) -> tuple[str, str]:
    """``(title, body)`` for ``n`` at ``now_ms``: the notifier's templates, or the defaults
    when ``None`` (see the module docstring)."""
    values = fields(n, now_ms)
    title = string.Template(
        DEFAULT_TITLE if template_title is None else template_title
    ).safe_substitute(values)
    if template_body is None:
        body = _default_body(n.event, values)
    else:
        body = string.Template(template_body).safe_substitute(values)
    return title, body
