"""``uptimed status``: each monitor's confirmed state, read from the database (read-only).

The status is the dict ``uptimed status --format json`` prints (times in RFC 3339 at whole
seconds); :mod:`uptimed.render.status` shows it as a table.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from uptimed.core.state import STATE_NAMES
from uptimed.core.times import iso
from uptimed.model.config import Config
from uptimed.service.history import reading
from uptimed.store import incidents, now_ms, outbox, reads


def _second(ms: int | None) -> str | None:
    """``ms`` in RFC 3339 at the second it falls in (a status shows no milliseconds)."""
    return None if ms is None else iso(ms - ms % 1000)


#: A heartbeat older than this means the daemon is not working, whatever its run record says.
#: The writer stamps one at least every HEARTBEAT_EVERY (5 s); a busy writer may be late by a few.
STALE_AFTER = 30.0  # seconds


def read_status(config: Config) -> dict[str, Any]:
    """The daemon's last run and, for every monitor in the config, its state and last probe."""
    with reading(config) as conn:
        runs = reads.runs_newest_first(conn)
        last = next(runs, None)
        starts = _starts(last, runs) if last else None
        rows = reads.monitor_states(conn)
        paging = _paging(conn, config)
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
                "since": _second(seg_start) if fresh and seg_state == state else None,
                "pending": pending,
                "last_probe": _second(last_ts),
                "last_ok": None if last_ok is None else bool(last_ok),
                "last_error_kind": kind if last_ok == 0 else None,
                "last_error": error if last_ok == 0 else None,
            }
        )
    return {
        "database": config.daemon.database, "daemon": daemon, "monitors": monitors, **paging,
    }  # fmt: skip


#: Dead deliveries listed (the newest first); the API's incident detail has every one.
DEAD_SHOWN = 10


def _paging(conn: sqlite3.Connection, config: Config) -> dict[str, Any]:
    """The open incidents, the outbox per notifier, and the last deliveries given up."""
    try:
        open_now = incidents.unresolved(conn)
        counts = outbox.counts(conn)
        dead = conn.execute(
            "SELECT notifier, event, incident, attempts, done, last_error FROM outbox"
            " WHERE state = 'dead' ORDER BY id DESC LIMIT ?",
            (DEAD_SHOWN,),
        ).fetchall()
    except sqlite3.OperationalError:  # a database from before incidents (schema < 9)
        open_now, counts, dead = [], {}, []
    names = [n.id for n in config.notifiers] + sorted(
        {n for n, _ in counts} - {n.id for n in config.notifiers}
    )
    return {
        "incidents": [
            {
                "id": i.id,
                "target": i.target,
                "target_kind": i.target_kind,
                "severity": i.severity,
                "since": _second(i.start),
                "acknowledged_by": i.ack_by,
                "level": i.level,
                "quiet": i.quiet,
            }  # fmt: skip
            for i in open_now
        ],
        "notifiers": [
            {"id": n, **{state: counts.get((n, state), 0) for state in outbox.STATES}}
            for n in names
        ],
        "dead_notifications": [
            {
                "notifier": n,
                "event": e,
                "incident": inc,
                "attempts": a,
                "given_up": _second(done),
                "last_error": err,
            }  # fmt: skip
            for n, e, inc, a, done, err in dead
        ],
    }


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
        "started": _second(process_start),
        "config_loaded": _second(config_loaded),
        "heartbeat": _second(heartbeat),
        "heartbeat_age_seconds": round(age, 1),
        "process_alive": alive,
    }
    if ended is not None:
        out.update(state="stopped", ended=_second(ended), end_reason=reason)
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
