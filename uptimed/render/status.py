"""``uptimed status`` as a table: the daemon in one line, then a row per monitor (the status is
the dict of :func:`uptimed.service.status.read_status`)."""

from __future__ import annotations

from typing import Any

from uptimed.render.table import text_table

ERROR_CHARS = 60  # of a monitor's last error shown in the table (JSON has all of it)


def render_table(status: dict[str, Any]) -> str:
    lines = [f"daemon: {describe_daemon(status['daemon'])}", ""]
    rows = []
    for m in status["monitors"]:
        state = m["state"] + (f" ({m['pending']})" if m["pending"] else "")
        if m["state"] == "unknown" and m["last_known_state"] != "unknown":
            state += f" (last {m['last_known_state']})"
        if not m["enabled"]:
            state = "disabled"
        err = f"{m['last_error_kind']}: {m['last_error']}" if m["last_error_kind"] else ""
        rows.append(
            (m["id"], state, m["since"] or "-", m["last_probe"] or "-", cut(err, ERROR_CHARS))
        )
    lines += text_table(("MONITOR", "STATE", "SINCE", "LAST PROBE", "LAST ERROR"), rows)
    lines += _paging(status)
    return "\n".join(lines)


def _paging(status: dict[str, Any]) -> list[str]:
    """Open incidents, the outbox per notifier and the deliveries given up (when any)."""
    lines: list[str] = []
    if status["incidents"]:
        lines += ["", *text_table(INCIDENT_HEADERS, [_incident(i) for i in status["incidents"]])]
    if status["notifiers"]:
        counts = [
            (n["id"], str(n["pending"]), str(n["sent"]), str(n["dead"]))
            for n in status["notifiers"]
        ]
        lines += ["", *text_table(("NOTIFIER", "PENDING", "SENT", "DEAD"), counts)]
    if status["dead_notifications"]:
        dead = [
            (
                d["given_up"],
                d["notifier"],
                d["event"],
                d["incident"] or "-",
                str(d["attempts"]),
                cut(d["last_error"] or "", ERROR_CHARS),
            )  # fmt: skip
            for d in status["dead_notifications"]
        ]
        lines += ["", "notifications given up (the newest first):"]
        lines += text_table(("GIVEN UP", "NOTIFIER", "EVENT", "INCIDENT", "TRIES", "ERROR"), dead)
    return lines


INCIDENT_HEADERS = ("INCIDENT", "TARGET", "SEVERITY", "SINCE", "ACK", "LEVEL")


def _incident(i: dict[str, Any]) -> tuple[str, ...]:
    level = i["quiet"] or ("-" if i["level"] is None else str(i["level"]))
    target = f"{i['target_kind']} {i['target']}"
    return (i["id"], target, i["severity"], i["since"], i["acknowledged_by"] or "-", level)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_daemon(d: dict[str, Any]) -> str:
    state = d["state"]
    if state == "never":
        return "has not run yet"
    if state == "stopped":
        return f"not running (last run ended {d['ended']}: {d['end_reason']})"
    beat = f"last heartbeat {_ago(d['heartbeat_age_seconds'])}"
    if state == "gone":
        return f"not running: {beat}, the process (pid {d['pid']}) is gone"
    if state == "stale":
        alive = (
            "exists (hung, or another process has its pid)" if d["process_alive"] else "may exist"
        )
        return f"stale: {beat}, though pid {d['pid']} {alive}"
    reload = f", config reloaded {d['config_loaded']}" if d["config_loaded"] != d["started"] else ""
    return f"running (pid {d['pid']}, since {d['started']}{reload}, {beat})"


def _ago(seconds: float) -> str:
    if seconds < 0:
        return f"{-seconds:.0f} s in the future (has the clock been set back?)"
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"
