"""The webhook payload (the versioned contract) and the templates."""

from __future__ import annotations

import dataclasses
import json
import string

import pytest

from uptimed.notify import message
from uptimed.notify.message import (
    DEFAULT_BODY,
    DEFAULT_TITLE,
    EVENTS,
    FIELDS,
    SCHEMA_VERSION,
    Notification,
    format_duration,
    iso,
    payload,
    render,
)

T0 = 1_767_323_045_123  # 2026-01-02T03:04:05.123Z
HOUR = 3_600_000


def note(**changes: object) -> Notification:
    n = Notification(
        event="incident.opened",
        idempotency_key="inc-7f3a:incident.opened:0",
        level=0,
        incident_id="inc-7f3a",
        target="api",
        target_kind="monitor",
        severity="major",
        state="down",
        started=T0,
        confirmed=T0 + 30_000,
        cause_kind="timeout",
        cause="no complete reply within 10 s",
        report_url="https://status.example.com/incidents/inc-7f3a",
        dashboard_url="https://grafana.example.com/d/uptimed",
    )
    return dataclasses.replace(n, **changes)  # type: ignore[arg-type]


def test_iso_is_utc_with_milliseconds_and_z() -> None:
    assert iso(T0) == "2026-01-02T03:04:05.123Z"
    assert iso(0) == "1970-01-01T00:00:00.000Z"


def test_payload_has_exactly_the_documented_schema() -> None:
    now = T0 + HOUR + 250_000
    p = payload(note(), now)
    assert p == {
        "version": 1,
        "event": "incident.opened",
        "idempotency_key": "inc-7f3a:incident.opened:0",
        "level": 0,
        "sent_at": "2026-01-02T04:08:15.123Z",
        "incident": {
            "id": "inc-7f3a",
            "target": "api",
            "target_kind": "monitor",
            "severity": "major",
            "state": "down",
            "started": "2026-01-02T03:04:05.123Z",
            "confirmed": "2026-01-02T03:04:35.123Z",
            "resolved": None,
            "acknowledged_by": None,
            "cause": {"kind": "timeout", "message": "no complete reply within 10 s"},
            "duration_seconds": 3850.0,
        },
        "links": {
            "report": "https://status.example.com/incidents/inc-7f3a",
            "dashboard": "https://grafana.example.com/d/uptimed",
        },
    }
    assert SCHEMA_VERSION == 1
    json.dumps(p, allow_nan=False)  # plain JSON types only


def test_payload_resolved_has_null_free_times_and_duration_to_resolution() -> None:
    n = note(
        event="incident.resolved",
        state="up",
        resolved=T0 + 90_500,
        acknowledged_by="alice",
        cause_kind=None,
        cause=None,
        report_url=None,
        dashboard_url=None,
    )
    p = payload(n, T0 + 10 * HOUR)  # long after: the duration ends at the resolution
    inc = p["incident"]
    assert inc["resolved"] == "2026-01-02T03:05:35.623Z"
    assert inc["duration_seconds"] == 90.5
    assert inc["acknowledged_by"] == "alice"
    assert inc["cause"] is None
    assert p["links"] == {"report": None, "dashboard": None}


def test_documented_schema_lists_every_payload_key() -> None:
    doc = message.__doc__ or ""
    p = payload(note(), T0)
    for key in [*p, *p["incident"], *p["incident"]["cause"], *p["links"]]:
        assert f'"{key}"' in doc, key


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.9, "0s"),
        (45, "45s"),
        (60, "1m"),
        (3850, "1h 4m 10s"),
        (3605, "1h 5s"),
        (2 * 86400 + 3 * 3600, "2d 3h"),
        (-5, "0s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_every_documented_field_is_rendered() -> None:
    template = " | ".join(f"${name}" for name in FIELDS)
    n = note(acknowledged_by="bob", level=2)
    title, body = render(n, template, template, T0 + 3_850_000)
    assert "$" not in title
    assert title == body
    assert title == " | ".join(
        [
            "api",
            "monitor",
            "major",
            "down",
            "incident.opened",
            "2",
            "no complete reply within 10 s (timeout)",
            "2026-01-02 03:04:05 UTC",
            "1h 4m 10s",
            "bob",
            "https://status.example.com/incidents/inc-7f3a",
            "https://grafana.example.com/d/uptimed",
        ]
    )
    assert list(FIELDS) == list(message.fields(n, T0))


def test_safe_substitute_keeps_literal_dollars_and_unknown_fields() -> None:
    title, body = render(
        note(), "$target costs $5 and $$10", "${target}: $unknown ${also_unknown} $ end", T0
    )
    assert title == "api costs $5 and $10"
    assert body == "api: $unknown ${also_unknown} $ end"


def test_a_field_value_is_not_substituted_again() -> None:
    title, _ = render(note(target="$severity"), "$target", "", T0)
    assert title == "$severity"


def test_empty_fields_are_empty_in_custom_templates() -> None:
    n = note(cause=None, cause_kind=None, report_url=None, dashboard_url=None)
    _, body = render(n, None, "[$cause][$report_url][$dashboard_url][$acknowledged_by]", T0)
    assert body == "[][][][]"


def test_cause_without_message_is_its_kind() -> None:
    _, body = render(note(cause=None), None, "$cause", T0)
    assert body == "timeout"


def test_default_title() -> None:
    assert DEFAULT_TITLE == "[$severity] $target is $state"
    assert render(note(), None, None, T0)[0] == "[major] api is down"
    resolved = note(event="incident.resolved", state="up", resolved=T0 + 1000)
    assert render(resolved, None, None, T0)[0] == "[major] api is up"


def test_every_event_has_a_default_body_and_they_differ() -> None:
    assert set(DEFAULT_BODY) == set(EVENTS)
    bodies = {render(note(event=e), None, None, T0 + HOUR)[1] for e in EVENTS}
    assert len(bodies) == len(EVENTS)
    for template in DEFAULT_BODY.values():  # the defaults use documented fields only
        names = {
            m.group("named") or m.group("braced")
            for m in string.Template.pattern.finditer(template)
        }
        assert names - {None} <= set(FIELDS)


def test_default_bodies_per_event() -> None:
    now = T0 + 3_850_000
    _, opened = render(note(), None, None, now)
    assert opened.splitlines() == [
        "api (monitor) is down since 2026-01-02 03:04:05 UTC.",
        "Cause: no complete reply within 10 s (timeout)",
        "Severity: major",
        "Report: https://status.example.com/incidents/inc-7f3a",
        "Dashboard: https://grafana.example.com/d/uptimed",
    ]
    _, escalated = render(note(event="incident.escalated", level=1), None, None, now)
    assert escalated.startswith("api (monitor) has been down for 1h 4m 10s")
    assert "escalated to level 1" in escalated
    _, reminder = render(note(event="incident.reminder"), None, None, now)
    assert reminder.startswith("Reminder: api (monitor) is still down, for 1h 4m 10s")
    ack = note(event="incident.acknowledged", acknowledged_by="alice")
    _, acknowledged = render(ack, None, None, now)
    assert "Acknowledged by: alice" in acknowledged.splitlines()
    assert "Down since: 2026-01-02 03:04:05 UTC (1h 4m 10s)" in acknowledged.splitlines()
    res = note(event="incident.resolved", state="up", resolved=T0 + 3_850_000)
    _, resolved = render(res, None, None, T0 + 10 * HOUR)
    assert resolved.splitlines()[0] == (
        "api (monitor) is back up after 1h 4m 10s (down since 2026-01-02 03:04:05 UTC)."
    )
    _, flapping = render(note(event="monitor.flapping", state="up"), None, None, now)
    assert flapping.splitlines()[0] == (
        "api (monitor) is flapping: its state keeps changing. It is up now."
    )


def test_default_body_drops_lines_with_nothing_to_say() -> None:
    n = note(cause=None, cause_kind=None, report_url=None, dashboard_url=None)
    _, body = render(n, None, None, T0)
    assert body == "api (monitor) is down since 2026-01-02 03:04:05 UTC.\nSeverity: major"
    ack = note(event="incident.acknowledged", acknowledged_by=None, dashboard_url=None)
    _, body = render(ack, None, None, T0)
    assert "Acknowledged by" not in body
    assert "Dashboard" not in body
    assert "Report: https://status.example.com/incidents/inc-7f3a" in body


def test_service_targets() -> None:
    n = note(target="checkout", target_kind="service", severity="critical")
    title, body = render(n, None, None, T0)
    assert title == "[critical] checkout is down"
    assert body.startswith("checkout (service) is down since")
