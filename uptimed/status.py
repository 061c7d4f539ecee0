"""``uptimed status``: each monitor's confirmed state, read from the database (read-only)."""

from __future__ import annotations

import time
from typing import Any

from uptimed.config import Config
from uptimed.state import STATE_NAMES
from uptimed.store import connect, now_ms


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + "Z"


def read_status(config: Config) -> dict[str, Any]:
    """The daemon's last run and, for every monitor in the config, its state and last probe."""
    conn = connect(config.daemon.database, readonly=True)
    try:
        run = conn.execute(
            "SELECT started, ended, heartbeat, end_reason, pid FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT m.key, s.state, s.streak, s.last_ts, s.seg_start, s.seg_state, s.last_ok, e.name, s.last_error"
                " FROM monitors m JOIN monitor_state s ON s.monitor = m.id"
                " LEFT JOIN error_kinds e ON e.id = s.last_error_kind"
            )
        }
    finally:
        conn.close()
    now = now_ms()
    daemon: dict[str, Any] = {"running": False}
    if run:
        started, ended, heartbeat, reason, pid = run
        daemon = {"running": ended is None, "pid": pid, "started": iso(started), "heartbeat": iso(heartbeat)}
        if ended is not None:
            daemon.update(ended=iso(ended), end_reason=reason)
    monitors = []
    for m in config.monitors:
        state, streak, last_ts, seg_start, seg_state, last_ok, kind, error = rows.get(m.id, (None,) * 8)
        fresh = last_ts is not None and now - last_ts <= m.max_gap * 1000 and daemon["running"]
        pending = None
        if fresh and streak:
            need = m.success_threshold if state == 0 else m.failure_threshold
            pending = f"{streak}/{need} {'successes' if state == 0 else 'failures'}"
        monitors.append(
            {
                "id": m.id,
                "name": m.name,
                "kind": m.kind,
                "target": m.target,
                "enabled": m.enabled,
                "state": STATE_NAMES[state] if fresh else "unknown",
                "last_known_state": STATE_NAMES[state],
                "since": iso(seg_start) if fresh and seg_state == state else None,
                "pending": pending,
                "last_probe": iso(last_ts),
                "last_ok": None if last_ok is None else bool(last_ok),
                "last_error_kind": kind if last_ok == 0 else None,
                "last_error": error if last_ok == 0 else None,
            }
        )
    return {"database": config.daemon.database, "daemon": daemon, "monitors": monitors}


def render_table(status: dict[str, Any]) -> str:
    d = status["daemon"]
    if d.get("running"):
        head = f"daemon: running (pid {d['pid']}, since {d['started']}, heartbeat {d['heartbeat']})"
    elif "started" in d:
        head = f"daemon: not running (last run ended {d['ended']}: {d['end_reason']})"
    else:
        head = "daemon: has not run yet"
    cols = ("MONITOR", "STATE", "SINCE", "LAST PROBE", "LAST ERROR")
    rows = []
    for m in status["monitors"]:
        state = m["state"] + (f" ({m['pending']})" if m["pending"] else "")
        if m["state"] == "unknown" and m["last_known_state"] != "unknown":
            state += f" (last {m['last_known_state']})"
        if not m["enabled"]:
            state = "disabled"
        err = f"{m['last_error_kind']}: {m['last_error']}" if m["last_error_kind"] else ""
        rows.append((m["id"], state, m["since"] or "-", m["last_probe"] or "-", err[:60]))
    widths = [max(len(str(r[i])) for r in [cols, *rows]) for i in range(len(cols))]
    lines = [head, ""]
    for r in [cols, *rows]:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    return "\n".join(lines)
