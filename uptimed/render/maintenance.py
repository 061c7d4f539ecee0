"""Ad-hoc maintenance windows for ``uptimed maintenance``: what adding and ending one says, and
the list as a table (its JSON is :func:`uptimed.render.json.maintenance_json`)."""

from __future__ import annotations

from collections.abc import Sequence

from uptimed.core.times import iso
from uptimed.render.table import text_table
from uptimed.store.adhoc import Window


def added(w: Window) -> str:
    return (
        f"maintenance window {w.id}: {w.target_kind} {w.target} from {iso(w.start)} to {iso(w.end)}"
    )


def ended(w: Window) -> str:
    if w.cancelled:
        return f"maintenance window {w.id} cancelled (it had not begun): it excludes nothing"
    return f"maintenance window {w.id} ended at {iso(w.end)}"


def maintenance_table(windows: Sequence[Window], now: int) -> str:
    """One row per window, with its state at ``now``."""
    rows = []
    for w in windows:
        if w.cancelled:
            state = "cancelled"
        elif w.end <= now:
            state = "ended"
        else:
            state = "active" if w.start <= now else "upcoming"
        if w.retroactive:
            state += ", retroactive"
        rows.append(
            (
                str(w.id),
                f"{w.target_kind} {w.target}",
                iso(w.start) or "",
                iso(w.end) or "",
                state,
                str(w.created_by),
                w.reason or "",
            )
        )
    headers = ("ID", "TARGET", "START", "END", "STATE", "BY", "REASON")
    return "\n".join(text_table(headers, rows))
