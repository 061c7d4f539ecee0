"""``uptimed status``: each monitor's confirmed state, read from the database (read-only)."""

from __future__ import annotations

import os
import time
from typing import Any

from uptimed.core.state import STATE_NAMES
from uptimed.model.config import Config
from uptimed.store import connect, now_ms


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + "Z"


#: A heartbeat older than this means the daemon is not working, whatever its run record says.
#: The writer stamps one at least every HEARTBEAT_EVERY (5 s); a busy writer may be late by a few.
STALE_AFTER = 30.0  # seconds


def read_status(config: Config) -> dict[str, Any]:
    """The daemon's last run and, for every monitor in the config, its state and last probe."""
    conn = connect(config.daemon.database, readonly=True)
    try:
        runs = conn.execute(
            "SELECT started, ended, heartbeat, end_reason, pid FROM runs ORDER BY id DESC"
        )
        last = runs.fetchone()
        starts = _starts(last, runs) if last else None
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
    daemon = (
        _daemon(last, *starts, now) if last and starts else {"running": False, "state": "never"}
    )
    monitors = []
    for m in config.monitors:
        state, streak, last_ts, seg_start, seg_state, last_ok, kind, error = rows.get(
            m.id, (None,) * 8
        )
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


def _starts(last: tuple[Any, ...], earlier: Any) -> tuple[int, int]:
    """When the process behind the last run started, and when it last loaded its config: a
    reload or a clock jump ends a run and starts the next one in the same process, so walk
    back over those (a clock jump is no reload)."""
    started = loaded = int(last[0])
    reloaded = False
    for prev_started, _ended, _hb, reason, pid in earlier:
        if reason not in ("reload", "clock_jump") or pid != last[4]:
            break
        reloaded = reloaded or reason == "reload"
        if not reloaded:
            loaded = int(prev_started)
        started = int(prev_started)
    return started, loaded


def _daemon(
    run: tuple[Any, ...], process_start: int, config_loaded: int, now: int
) -> dict[str, Any]:
    """Whether the daemon runs, judged from the heartbeat's age and whether its pid is alive, not
    only from the run record: ``kill -9`` leaves the record open, and the heartbeat alone cannot
    tell a hung daemon from a dead one."""
    _started, ended, heartbeat, reason, pid = run
    age = (now - heartbeat) / 1000  # negative: a heartbeat from the future (a clock stepped back)
    alive = pid_alive(pid)
    out: dict[str, Any] = {
        "running": False,
        "pid": pid,
        "started": iso(process_start),
        "config_loaded": iso(config_loaded),
        "heartbeat": iso(heartbeat),
        "heartbeat_age_seconds": round(age, 1),
        "process_alive": alive,
    }
    if ended is not None:
        out.update(state="stopped", ended=iso(ended), end_reason=reason)
    elif abs(age) <= STALE_AFTER:
        # Fresh: it runs, even if its pid is not ours to see (another pid namespace).
        out.update(running=True, state="running")
    elif alive is False:
        out.update(state="gone")
    else:
        out.update(state="stale")
    return out


def pid_alive(pid: int | None) -> bool | None:
    """Whether a process with this pid exists here (None: cannot tell)."""
    if not pid or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's (the daemon's DynamicUser)
        return True
    except OSError:
        return None
    return True


def render_table(status: dict[str, Any]) -> str:
    lines = [f"daemon: {describe_daemon(status['daemon'])}", ""]
    cols = ("MONITOR", "STATE", "SINCE", "LAST PROBE", "LAST ERROR")
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
    widths = [max(len(str(r[i])) for r in [cols, *rows]) for i in range(len(cols))]
    for r in [cols, *rows]:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


ERROR_CHARS = 60  # of a monitor's last error shown in the table (JSON has all of it)


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
