"""The public status page's view-model (:class:`~uptimed.model.pages.StatusPage`), read from the
database: the public services and monitors by their public names, 90 daily bars, calendar
months, incidents and maintenance.

Every figure comes from :class:`~uptimed.service.targets.Targets`, as ``uptimed report`` computes
it for the same window and target (the report's default policy: unknown time is excluded). What
is copied into the view-model is an allow-list: see :mod:`uptimed.model.pages`.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections import Counter
from collections.abc import Sequence

from uptimed.core import sla
from uptimed.core.agreements import label
from uptimed.core.intervals import Interval
from uptimed.core.sla import DAY_MS, covered_targets
from uptimed.core.times import calendar_period, zone
from uptimed.model.config import Config
from uptimed.model.pages import (
    BADGE_WINDOWS,
    Component,
    DayBar,
    MonthUptime,
    PublicIncident,
    PublicMaintenance,
    StatusPage,
    slug,
)
from uptimed.service.exclusions import Maintenance
from uptimed.service.history import History, one_snapshot
from uptimed.service.targets import Targets
from uptimed.store import reads

DAYS = 90  # daily bars per component
UPCOMING_MS = 14 * DAY_MS  # how far ahead maintenance is announced
INCIDENTS = 100  # the newest incidents listed
STALE_MS = 60_000  # a daemon not heard of for this long: its targets' state is unknown
_WORST = ("down", "unknown", "maintenance", "up")


def ref(key: bytes, *parts: object) -> str:
    """An opaque, stable reference: an HMAC under the database's own key, so that nothing
    internal can be read back from it (by guessing ids) and nothing counts up."""
    text = "\x1f".join(map(str, parts))
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]


def public_targets(config: Config) -> list[tuple[str, str, str]]:
    """``(kind, id, public name)`` of the public services, then monitors, in config order."""
    out = [("service", s.id, s.public_name) for s in config.services if s.public and s.public_name]
    out += [("monitor", m.id, m.public_name) for m in config.monitors if m.public and m.public_name]
    return out


def status_page(conn: sqlite3.Connection, config: Config, now: int) -> StatusPage:
    with one_snapshot(conn):
        return _build(conn, config, now)


def _build(conn: sqlite3.Connection, config: Config, now: int) -> StatusPage:
    today = now // DAY_MS * DAY_MS
    first = today - (DAYS - 1) * DAY_MS
    utc = zone("UTC")
    month_lo, _ = calendar_period("month", None, utc, first)
    rolling = [(name, (now - n * DAY_MS, now)) for name, n in BADGE_WINDOWS.items()]
    lo = min(first, month_lo, *(w[0] for _, w in rolling))
    history = History(conn, config, lo, now, now)
    secret = reads.public_key(conn)
    targets = Targets(history)
    wanted = public_targets(config)
    members = {s.id: s.monitors for s in config.services}
    keys = [m for kind, key, _ in wanted for m in (members[key] if kind == "service" else [key])]
    targets.load(list(dict.fromkeys(keys)))
    cover_end = max((b for _, b in history.cover), default=None)
    months = _months(month_lo, now)
    days = [(d, min(d + DAY_MS, now)) for d in range(first, today + 1, DAY_MS)]

    windows = days + [(a, b) for _, a, b, _ in months] + [w for _, w in rolling]
    components = []
    incidents: list[tuple[int, str, str, str, str, int | None, int, str | None]] = []
    for kind, key, name in wanted:
        whole = targets.figures(kind, key, (first, now))
        found = whole.incidents or ()
        per_day = Counter(i[0] // DAY_MS * DAY_MS for i in found)
        tl, _, maint = targets.timeline(kind, key)
        counts = sla.accounting_many(tl, maint, windows)
        day_counts, rest = counts[: len(days)], counts[len(days) :]
        bars = [
            DayBar(d, end, up, down, mm, unknown, _ratio(up, down), per_day[d])
            for (d, end), (up, down, mm, unknown) in zip(days, day_counts, strict=True)
        ]
        month_rows = [
            MonthUptime(label, a, b, _ratio(c[0], c[1]), to_date, _coverage(a, b, c))
            for (label, a, b, to_date), c in zip(months, rest[: len(months)], strict=True)
        ]
        windowed = tuple(
            (name, _ratio(c[0], c[1]))
            for (name, _), c in zip(rolling, rest[len(months) :], strict=True)
        )
        s = slug(name)
        state = _state(targets, history, kind, key, now, cover_end)
        components.append(
            Component(
                s,
                name,
                state,
                tuple(bars),
                tuple(month_rows),
                whole.availability,
                windowed,
                whole.coverage,
            )  # fmt: skip
        )
        incidents += [(i[0], kind, key, name, s, i[1], i[2], i[4]) for i in found]
    # The newest only: a storm of short outages must not make the page (and feed) huge.
    incidents.sort(key=lambda i: -i[0])
    shown = [
        PublicIncident(ref(secret, kind, key, start), name, s, start, end, duration, cause)
        for start, kind, key, name, s, end, duration, cause in incidents[:INCIDENTS]
    ]
    state = min((c.state for c in components), key=_WORST.index, default="up")
    return StatusPage(
        config.portal.title,
        now,
        state,
        tuple(components),
        tuple(shown),
        tuple(_maintenance(conn, config, wanted, now, secret)),
        ref(secret, "feed"),
    )


def _months(first_month: int, now: int) -> list[tuple[str, int, int, bool]]:
    """``(label, start, end cut to now, under way)`` of each UTC month from the first."""
    utc = zone("UTC")
    out = []
    at = first_month
    while at < now:
        a, b = calendar_period("month", None, utc, at)
        out.append((label("month", a, "UTC"), a, min(b, now), b > now))
        at = b
    return out


def _state(
    targets: Targets, history: History, kind: str, key: str, now: int, cover_end: int | None
) -> str:
    if _inside(history.maintenance.of(kind, key), now - 1):
        return "maintenance"
    if cover_end is None or now - cover_end > STALE_MS:
        return "unknown"
    tl, _, _ = targets.timeline(kind, key)
    t = min(now, cover_end) - 1
    if _inside(tl.down, t):
        return "down"
    if _inside(tl.up, t):
        return "up"
    if _inside(tl.maintenance, t):
        return "maintenance"
    return "unknown"


def _coverage(start: int, end: int, counts: tuple[int, int, int, int]) -> float | None:
    """(up + down) / (window − maintenance), as :func:`uptimed.core.sla.figures` has it."""
    up, down, maintenance, _ = counts
    eligible = end - start - maintenance
    return (up + down) / eligible if eligible else None


def _ratio(up: int, down: int) -> float | None:
    return up / (up + down) if up + down else None


def _inside(ivs: Sequence[Interval], t: int) -> bool:
    return any(a <= t < b for a, b in ivs)


def _maintenance(
    conn: sqlite3.Connection,
    config: Config,
    wanted: list[tuple[str, str, str]],
    now: int,
    secret: bytes,
) -> list[PublicMaintenance]:
    """Maintenance under way or to come (within UPCOMING_MS) on public targets."""
    # From a week back, so that a window under way shows when it began.
    lo, hi = now - 7 * DAY_MS, now + UPCOMING_MS
    m = Maintenance(config, reads.maintenance(conn, lo, hi), lo, hi)
    names = {(kind, key): name for kind, key, name in wanted}
    shown: dict[tuple[str, str], list[Interval]] = {t: [(lo, hi)] for t in names}
    out = []
    members = {s.id: s.monitors for s in config.services}
    for x in m.exclusions(shown):
        if x.end <= now:
            continue
        named = [("monitor", k) for k in x.monitors] + [("service", k) for k in x.services]
        # Every public component it covers: a window on a service covers its members too.
        hit = [t for kind, key in named for t in covered_targets(kind, key, members)]
        components = tuple(dict.fromkeys(names[t] for t in hit if t in names))
        if components:
            out.append(
                PublicMaintenance(
                    ref(secret, x.source, x.id, x.start),
                    components,
                    x.start,
                    x.end,
                    x.reason,
                    x.start <= now < x.end,
                    x.created_at if x.created_at is not None else x.start - UPCOMING_MS,
                )  # fmt: skip
            )
    return out
