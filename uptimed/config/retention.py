"""[retention]: how long probe results are kept.

Rules: raw (the results themselves: at least 1h, default 14d) and rollup (the hourly rollups:
at least 1d, default 400d) are durations.
"""

from __future__ import annotations

from uptimed.config.checker import Checker, Table
from uptimed.config.values import duration_at_least
from uptimed.model.config import Retention

MIN_RETENTION_RAW = 3600.0
DEFAULT_RETENTION_RAW = 14 * 86400.0
MIN_RETENTION_ROLLUP = 86400.0
DEFAULT_RETENTION_ROLLUP = 400 * 86400.0

RETENTION_KEYS = ("raw", "rollup")


def check_retention(c: Checker, table: Table | None) -> Retention | None:
    """[retention]; None when it is wrong (``table`` None: not a table, already reported)."""
    if table is None:
        return None
    c.unknown_keys(table, "retention", RETENTION_KEYS)
    raw: float | None = DEFAULT_RETENTION_RAW
    if "raw" in table:
        raw = c.attempt(
            duration_at_least, table["raw"], "retention.raw", MIN_RETENTION_RAW, "retention"
        )
    rollup: float | None = DEFAULT_RETENTION_ROLLUP
    if "rollup" in table:
        rollup = c.attempt(
            duration_at_least,
            table["rollup"],
            "retention.rollup",
            MIN_RETENTION_ROLLUP,
            "rollup retention",
        )
    if raw is None or rollup is None:
        return None
    return Retention(raw=raw, rollup=rollup)
