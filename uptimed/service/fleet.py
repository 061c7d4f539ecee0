"""The fleet report: the databases of several daemons (locations, shards) read as one, exactly.

Each database says where it was recorded (:func:`describe`: the location and shard of its runs,
the monitors of its ``monitors`` table). A monitor's voters are the databases that hold it. Held
by one, its figures are that database's, as a report of that database alone computes them. Held
by several, its fleet timeline is the location quorum of theirs
(:mod:`uptimed.core.quorum`: down when at least ``k`` voting locations see it down, up
otherwise, unknown when none votes), and its incidents the same quorum over their rows as
written. Services are computed from the fleet timelines of their members as from monitors',
SLOs too: :class:`FleetTargets` stands in for :class:`~uptimed.service.targets.Targets` under
the unchanged :class:`~uptimed.service.report.ReportReader`, and the renderers are those of any
report.

Maintenance is the monitor's, not a vantage point's: the config's windows and the ad-hoc windows
of every database given cover every location alike.

A sharded fleet (``[daemon].shard``, or runs recorded as "I/N") given only some shards'
databases cannot compute the services and SLOs whose members none of them holds: those are left
out of the report and named (:func:`partial`), never shown as whole.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from uptimed.core import sla
from uptimed.core.intervals import Interval, union
from uptimed.core.quorum import Parts, effective_quorum, fleet_parts, known_span
from uptimed.errors import StorageError
from uptimed.model.config import Config
from uptimed.model.report import ConfigVersion, Report, Scope, Window
from uptimed.service.exclusions import Maintenance
from uptimed.service.history import History, one_snapshot
from uptimed.service.report import ReportReader
from uptimed.service.targets import Downs, Targets
from uptimed.store import connect, reads
from uptimed.store.reads import AdhocRow, Row

#: How far back (or on) the first extra read goes when a fleet outage reaches the edge of the
#: rows read; each further read doubles it.
EXTEND_MS = 3_600_000
#: At most this many extra reads per monitor (as a service's outages are read out to).
EXTENSIONS = 8


class FleetError(StorageError):
    """The databases given cannot be read as one fleet (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class Database:
    """One daemon's database as the fleet report reads it."""

    path: str
    location: str  # the latest location its runs record, else the file name's stem
    shard: str | None  # the latest "I/N" its runs record
    monitors: frozenset[str]  # the monitors of its ``monitors`` table
    #: Every location its runs record, the latest first (more than one: see :func:`check_all`)
    recorded: tuple[str, ...] = ()


def describe(conn: sqlite3.Connection, path: str) -> Database:
    """Where the database at ``path`` was recorded, from its runs and its monitors table."""
    try:
        named = tuple(r[0] for r in conn.execute(
            "SELECT location FROM runs WHERE location IS NOT NULL GROUP BY location"
            " ORDER BY max(id) DESC"
        ))  # fmt: skip
        shard = conn.execute(
            "SELECT shard FROM runs WHERE shard IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
    except sqlite3.OperationalError:  # before schema v7 (the daemon migrates at start)
        named, shard = (), None
    location = named[0] if named else Path(path).stem
    monitors = frozenset(reads.monitor_ids(conn))
    return Database(path, location, shard[0] if shard else None, monitors, named)


def check_all(databases: Sequence[Database]) -> None:
    """One database per location and shard: each recorded from one location, no file twice,
    and no monitor held by two databases of one location (it would vote twice).

    :raises FleetError: naming the databases, the locations and a monitor."""
    seen: dict[str, str] = {}
    for db in databases:
        if len(db.recorded) > 1:
            raise FleetError(
                f"database {db.path} was recorded from more than one location"
                f" ({', '.join(db.recorded)}): a fleet report needs each location's own database"
            )
        real = str(Path(db.path).resolve())
        if real in seen:
            raise FleetError(f"database {db.path} is given twice (also as {seen[real]})")
        seen[real] = db.path
    for i, a in enumerate(databases):
        for b in databases[i + 1 :]:
            both = sorted(a.monitors & b.monitors)
            if a.location == b.location and both:
                more = f" and {len(both) - 1} more" if len(both) > 1 else ""
                raise FleetError(
                    f"databases {a.path} and {b.path} are both from location {a.location!r}"
                    f" and both hold monitor {both[0]!r}{more}: give one database per location"
                    " and shard"
                )


def sharded(config: Config, databases: Sequence[Database]) -> bool:
    """Whether the fleet is sharded: by the config, or by the runs of a database."""
    return config.daemon.shard is not None or any(db.shard for db in databases)


@dataclass(frozen=True, slots=True)
class Partial:
    """A service or SLO of the scope whose members none of the databases holds (some or all)."""

    kind: str  # "service" | "slo"
    id: str
    missing: tuple[str, ...]  # the member monitors held by no database


def partial(config: Config, scope: Scope, databases: Sequence[Database]) -> list[Partial]:
    """The services and SLOs of ``scope`` a sharded fleet's ``databases`` cannot compute whole:
    some member monitor (an SLO's: its target's) is in none of them."""
    held = frozenset().union(*(db.monitors for db in databases))
    members = {s.id: s.monitors for s in config.services}
    out = []
    for key in scope.services:
        missing = tuple(m for m in members[key] if m not in held)
        if missing:
            out.append(Partial("service", key, missing))
    for s in scope.slos:
        missing = tuple(m for m in members.get(s.target, (s.target,)) if m not in held)
        if missing:
            out.append(Partial("slo", s.id, missing))
    return out


def without(scope: Scope, left_out: Sequence[Partial]) -> Scope:
    """``scope`` less the services and SLOs of ``left_out``."""
    services = {p.id for p in left_out if p.kind == "service"}
    slos = {p.id for p in left_out if p.kind == "slo"}
    return replace(
        scope,
        services=tuple(s for s in scope.services if s not in services),
        slos=tuple(s for s in scope.slos if s.id not in slos),
    )


@contextmanager
def reading_all(
    paths: Sequence[str], *, check: bool = True
) -> Iterator[list[tuple[Database, sqlite3.Connection]]]:
    """Read-only connections to every database of ``paths``, each read in one snapshot
    (:func:`~uptimed.service.history.one_snapshot`), with what each holds; closed after.

    :raises NoDatabase: naming the first that does not exist (reading never creates one).
    :raises FleetError: with ``check``, see :func:`check_all` (one database alone is read as
        it is, whatever its runs say)."""
    with ExitStack() as stack:
        out = []
        for path in paths:
            conn = connect(path, readonly=True)
            stack.callback(conn.close)
            stack.enter_context(one_snapshot(conn))
            out.append((describe(conn, path), conn))
        if check:
            check_all([db for db, _ in out])
        yield out


class FleetHistory(History):
    """What the databases recorded over ``[lo, hi)``, as one :class:`History` for the report:
    every database's runs (their union) and config versions, the maintenance of all of them
    (:data:`parts` use it too), and each one's own :class:`History` in :attr:`parts`.

    A fleet has no one connection: it has no :attr:`conn`. Its :attr:`ids` number the monitors
    for :class:`FleetTargets`, whose :meth:`segments_many` gives a fleet monitor's rows as
    written: the quorum of its locations' (see :class:`FleetTargets`)."""

    def __init__(
        self,
        databases: Sequence[tuple[Database, sqlite3.Connection]],
        config: Config,
        lo: int,
        hi: int,
        now: int,
    ):
        # No History.__init__: it reads one connection; each database's part does.
        self.config, self.lo, self.hi, self.now = config, lo, hi, now
        self.databases = [db for db, _ in databases]
        self.parts = [History(conn, config, lo, hi, now) for _, conn in databases]
        held = [k for db in self.databases for k in sorted(db.monitors)]
        keys = dict.fromkeys([m.id for m in config.monitors] + held)
        self.ids = {k: i for i, k in enumerate(keys)}
        self.keys = list(keys)
        self.runs = union(*(p.runs for p in self.parts))
        self.config_versions = _versions(p.config_versions for p in self.parts)
        self.degraded = []  # per location: see each part
        self.cover = union(*(p.cover for p in self.parts))
        adhoc: list[AdhocRow] = []
        several = len(databases) > 1
        for db, conn in databases:
            for row in reads.maintenance(conn, lo, hi):
                # Numbers are each database's own: named by location where several could clash.
                adhoc.append(cast(AdhocRow, (f"{db.location}:{row[0]}", *row[1:])) if several
                             else row)  # fmt: skip
        self.maintenance = Maintenance(config, adhoc, lo, hi)
        for p in self.parts:  # the monitor's maintenance covers every location alike
            p.maintenance = self.maintenance
        self._daily_state = {}
        self.fleet: FleetTargets | None = None  # set by FleetTargets

    def segments_many(self, mids: Sequence[int], spans: Sequence[Interval]) -> dict[int, list[Row]]:
        """The fleet's rows as written of the monitors ``mids`` (numbers of :attr:`ids`) over
        each of ``spans``: what a service's outages are read out to
        (:meth:`uptimed.service.targets.Targets._service`)."""
        assert self.fleet is not None, "a FleetHistory is read through its FleetTargets"
        return {mid: self.fleet.rows_as_written(self.keys[mid], spans) for mid in mids}

    def daily_state(self) -> dict[int, tuple[int, int]]:
        return {}  # no day summaries across locations: every figure from rows

    def latency_counts(
        self, keys: Sequence[str], threshold: int, window: Interval
    ) -> tuple[int, int, int | None, bool]:
        """The latency SLI's counts over every location's probes of ``keys``: the sums; counted
        since the latest of the locations' (None while one does not count them); exact when
        every location's are."""
        good = total = 0
        since: int | None = None
        exact = True
        any_held = False
        for db, part in zip(self.databases, self.parts, strict=True):
            mine = [k for k in keys if k in db.monitors]
            if not mine:
                continue
            g, t, s, e = part.latency_counts(mine, threshold, window)
            good, total, exact = good + g, total + t, exact and e
            if not any_held:
                since = s
            elif since is not None:
                since = None if s is None else max(since, s)
            any_held = True
        return good, total, since, exact and any_held


def _versions(lists: Iterable[Sequence[ConfigVersion]]) -> tuple[ConfigVersion, ...]:
    """The config versions of several databases as one list by start; a version is extended by
    the next of the same config (as one database's runs are)."""
    out: list[ConfigVersion] = []
    for v in sorted((v for vs in lists for v in vs), key=lambda v: (v.start, v.end)):
        if out and out[-1].sha256 == v.sha256:
            out[-1] = ConfigVersion(v.sha256, out[-1].start, max(out[-1].end, v.end))
        else:
            out.append(v)
    return tuple(out)


class FleetTargets(Targets):
    """:class:`~uptimed.service.targets.Targets` over a fleet: a monitor's timeline is its
    locations' quorum (:func:`uptimed.core.quorum.fleet_parts`), its DOWN rows the quorum's
    outages; services and SLOs are built from those as from one database's.

    Figures come from rows only (no day summaries: they are per location)."""

    def __init__(self, history: FleetHistory, quorum: int):
        super().__init__(history)
        history.fleet = self
        self.fleet = history
        self.quorum = quorum
        #: monitor -> the indexes of the databases (locations) that hold it
        self.holders: dict[str, list[int]] = {}
        for i, db in enumerate(history.databases):
            for key in db.monitors:
                self.holders.setdefault(key, []).append(i)
        self._loc_rows: dict[str, list[list[Row]]] = {}  # read by load()

    def load(self, keys: Sequence[str]) -> None:
        """Read the rows of many monitors at once, from each database that holds them."""
        span = [(self.fleet.lo, self.fleet.hi)]
        todo = [k for k in dict.fromkeys(keys) if ("monitor", k) not in self._cache]
        got: dict[str, list[list[Row]]] = {k: [] for k in todo if k in self.holders}
        for i, part in enumerate(self.fleet.parts):
            mine = [k for k in todo if i in self.holders.get(k, ())]
            rows = part.segments_many([part.ids[k] for k in mine], span)
            for k in mine:
                got[k].append(rows[part.ids[k]])
        self._loc_rows.update(got)

    def prepare(self, keys: Sequence[str], window: Interval) -> None:
        return None  # day summaries are per location: figures() computes from rows

    def prepare_each(self, windows: dict[str, Interval]) -> None:
        return None

    def locations(self, key: str) -> list[str]:
        """The locations that hold ``key``."""
        return [self.fleet.databases[i].location for i in self.holders.get(key, ())]

    def _read(self, key: str, spans: Sequence[Interval]) -> list[list[Row]]:
        """The rows of ``key`` over ``spans``, from each database that holds it."""
        out = []
        for i in self.holders.get(key, ()):
            part = self.fleet.parts[i]
            out.append(part.segments_many([part.ids[key]], spans)[part.ids[key]])
        return out

    def _monitor(self, key: str) -> tuple[sla.StateTimeline, Downs]:
        tl, downs, raw = self.parts_of(key)
        if self._uses[key]:
            self._raw[key] = raw
        return tl, downs

    def parts_of(self, key: str) -> Parts:
        """The monitor's fleet timeline, DOWN rows and rows as written (see
        :func:`uptimed.core.quorum.fleet_parts`), read over the history's time and, for an
        outage that reaches the edge of what the rows read tell, out to where it ends."""
        holders = self.holders.get(key, [])
        lo, hi = self.fleet.lo, self.fleet.hi
        rows = self._loc_rows.pop(key, None)
        if rows is None:
            rows = self._read(key, [(lo, hi)])
        covers = [self.fleet.parts[i].cover for i in holders]
        if len(holders) <= 1:  # as one database's report computes it
            return sla.monitor_parts(rows[0] if rows else [], covers[0] if covers else [])
        return self._read_out(key, rows, (lo, hi), covers)

    def _read_out(
        self, key: str, rows: list[list[Row]], read: Interval, covers: Sequence[Sequence[Interval]]
    ) -> Parts:
        """The fleet parts of ``key`` (held by several locations) from its locations' ``rows``
        over ``read``, read further out while an outage touches the edge of where the quorum is
        known, so that each outage is whole, as one database's DOWN rows are (a service's
        outages are read out to where those end: an outage cut at that edge would look as if
        it began or ended there). ``covers``: each location's."""
        now = self.fleet.now
        step = max(EXTEND_MS, read[1] - read[0])
        for _ in range(EXTENSIONS + 1):
            located = [sla.monitor_parts(r, c) for r, c in zip(rows, covers, strict=True)]
            known = known_span([[(r[0], r[1]) for r in rs] for rs in rows], read)
            tl, downs, raw = fleet_parts(located, self.quorum, known)
            # An outage that touches the edge of what is known may go on past it.
            before = bool(downs) and downs[0][0] <= known[0] and known[0] > 0
            after = bool(downs) and downs[-1][1] >= known[1] and known[1] < now
            if not (before or after):
                break
            spans = []
            if before:
                spans.append((max(0, known[0] - step), read[0]))
            if after:
                spans.append((read[1], known[1] + step))
            spans = [s for s in spans if s[1] > s[0]]
            if not spans:
                break
            more = self._read(key, spans)
            rows = [_merge(a, b) for a, b in zip(rows, more, strict=True)]
            read = (min(read[0], spans[0][0]), max(read[1], spans[-1][1]))
            step *= 2
        return tl, downs, raw

    def rows_as_written(self, key: str, spans: Sequence[Interval]) -> list[Row]:
        """The monitor's rows as written over ``spans`` (sorted, disjoint), as rows
        ``(start, end, state, cause, number)``: one database's as they are; several
        databases' as the quorum of theirs where it is known, each outage read out whole
        (:meth:`_read_out`), as one database's DOWN rows are."""
        holders = self.holders.get(key, [])
        mid = self.fleet.ids[key]
        if len(holders) <= 1:
            rows = self._read(key, spans)
            return [(r[0], r[1], r[2], r[3], mid) for r in (rows[0] if rows else [])]
        out: list[Row] = []
        for span in spans:
            rows = self._read(key, [span])
            _, downs, raw = self._read_out(key, rows, span, [[] for _ in rows])
            out += [(s, e, 1, None, mid) for s, e in raw.up]
            out += [(s, e, 0, cause, mid) for s, e, cause in downs]
        return sorted(out)


def _merge(a: list[Row], b: list[Row]) -> list[Row]:
    """Rows of one monitor of one database read twice, each once (rows are keyed by start)."""
    return sorted({r[0]: r for r in (*a, *b)}.values())


def build_fleet_report(
    databases: Sequence[tuple[Database, sqlite3.Connection]],
    config: Config,
    scope: Scope,
    window: Window,
    now: int,
    quorum: int,
    *,
    incident_lists: bool = True,
) -> Report:
    """The report over ``window`` (as :func:`uptimed.service.report.build_report`) of the fleet
    of ``databases`` (from :func:`reading_all`), with location quorum ``quorum``."""
    if quorum < 1:
        raise ValueError(f"location quorum must be >= 1, not {quorum!r}")

    def targets(lo: int, hi: int) -> Targets:
        return FleetTargets(FleetHistory(databases, config, lo, hi, now), quorum)

    reader = ReportReader(None, config, scope, window, now, targets=targets)
    return reader.report(incident_lists=incident_lists)


def thin(config: Config, scope: Scope, databases: Sequence[Database], quorum: int) -> list[str]:
    """Notes on the monitors of ``scope`` held by fewer locations than ``quorum`` (their figures
    are those locations' with the quorum capped: :func:`uptimed.core.quorum.effective_quorum`),
    or by none."""
    out = []
    for key in scope.monitors:
        where = [db.location for db in databases if key in db.monitors]
        if not where:
            out.append(f"monitor {key!r} is in none of the databases given: its time is unknown")
        elif len(where) < quorum:
            q = effective_quorum(quorum, len(where))
            out.append(
                f"monitor {key!r} is held by {len(where)} location(s) ({', '.join(where)}),"
                f" fewer than the location quorum {quorum}: it is down when {q} see it down"
            )
    return out
