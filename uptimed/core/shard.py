"""Shards: one config file split across several daemons, unedited.

``[daemon] shard = "I/N"`` runs the monitors whose stable hash falls in shard I of N
(:func:`shard_of`: SHA-256 of the monitor id, so every machine, Python version and restart agrees,
and adding a monitor never moves the others). A service or SLO whose members all run here is
evaluated here, exactly; one with members on other shards is not: a partial figure would read
as whole. Prometheus evaluates those from every shard's series (the shipped recording rules),
and so does ``uptimed report`` given every shard's database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from uptimed.model.config import Config


def shard_text(shard: tuple[int, int]) -> str:
    """``(2, 3)`` as written in the config, the database and the series: ``"2/3"``."""
    return f"{shard[0]}/{shard[1]}"


def shard_of(monitor_id: str, count: int) -> int:
    """The shard (1 to ``count``) that runs ``monitor_id``."""
    digest = hashlib.sha256(monitor_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


@dataclass(frozen=True)
class ShardPlan:
    """What one daemon of a sharded fleet runs and evaluates."""

    shard: tuple[int, int] | None  # (index, count); None: not sharded, everything is here
    monitors: frozenset[str]  # the monitor ids this daemon runs
    #: Services and SLOs whose members (an SLO: its target's) all run here.
    services: tuple[str, ...]
    slos: tuple[str, ...]
    #: The others: id -> the shards that run the members not here.
    services_elsewhere: dict[str, tuple[int, ...]]
    slos_elsewhere: dict[str, tuple[int, ...]]

    def runs(self, monitor_id: str) -> bool:
        return monitor_id in self.monitors


def plan(config: Config, shard: tuple[int, int] | None = None) -> ShardPlan:
    """The plan for ``shard`` (default: the config's ``[daemon].shard``)."""
    if shard is None:
        shard = config.daemon.shard
    ids = [m.id for m in config.monitors]
    if shard is None:
        here = frozenset(ids)
    else:
        here = frozenset(i for i in ids if shard_of(i, shard[1]) == shard[0])
    members = {s.id: s.monitors for s in config.services}

    def elsewhere(monitors: tuple[str, ...]) -> tuple[int, ...]:
        if shard is None:
            return ()
        return tuple(sorted({shard_of(m, shard[1]) for m in monitors if m not in here}))

    services_elsewhere = {s: e for s, ms in members.items() if (e := elsewhere(ms))}
    slos_elsewhere = {
        s.id: e for s in config.slos if (e := elsewhere(members.get(s.target, (s.target,))))
    }
    return ShardPlan(
        shard=shard,
        monitors=here,
        services=tuple(s for s in members if s not in services_elsewhere),
        slos=tuple(s.id for s in config.slos if s.id not in slos_elsewhere),
        services_elsewhere=services_elsewhere,
        slos_elsewhere=slos_elsewhere,
    )
