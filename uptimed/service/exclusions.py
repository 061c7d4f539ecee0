"""The maintenance windows of a report's time: config windows (expanded) and ad-hoc ones, each
target's maintenance, and the exclusions a report lists (the windows that changed a figure).

A window covers what it names, and a window on a service also each of its member monitors
(:func:`uptimed.core.sla.covered_targets`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from uptimed.core.intervals import Interval, clip, union
from uptimed.core.recurrence import expand
from uptimed.core.sla import Target, covered_targets
from uptimed.model.config import Config
from uptimed.model.report import Exclusion
from uptimed.store.adhoc import is_retroactive
from uptimed.store.reads import AdhocRow


@dataclass(frozen=True, slots=True)
class _Source:
    """What a listing says of a window, whatever occurrence of it is listed."""

    id: int | str
    source: str
    reason: str | None
    created_by: str | None
    created_at: int | None
    retroactive: bool


@dataclass(frozen=True, slots=True)
class _Listed:
    """A window of the report's time: what it is, the targets it names (each with what it
    covers) and its occurrences."""

    source: _Source
    named: tuple[tuple[Target, tuple[Target, ...]], ...]
    occurrences: tuple[Interval, ...]


class Maintenance:
    """Every maintenance window in ``[lo, hi)``: config windows expanded there, and the ad-hoc
    windows read (``adhoc``)."""

    def __init__(self, config: Config, adhoc: Sequence[AdhocRow], lo: int, hi: int):
        members: Mapping[str, Sequence[str]] = {s.id: s.monitors for s in config.services}
        self._windows: list[_Listed] = []
        self._maint: dict[Target, list[Interval]] = {}
        #: covered target -> (window, named target) pairs that cover it
        self._covering: dict[Target, list[tuple[int, int]]] = {}
        for w in config.maintenance:
            ivs = expand(w, lo, hi)
            if ivs:
                named = [("monitor", m) for m in w.monitors] + [("service", x) for x in w.services]
                source = _Source(w.id, "config", w.reason, None, None, False)
                self._add(source, named, ivs, members)
        for mid, kind, key, s, e, reason, by, at in adhoc:
            source = _Source(mid, "adhoc", reason, by, at, is_retroactive(s, at, e))
            self._add(source, [(kind, key)], [(s, e)], members)

    def _add(
        self,
        source: _Source,
        named: Sequence[Target],
        ivs: list[Interval],
        members: Mapping[str, Sequence[str]],
    ) -> None:
        targets = tuple((t, covered_targets(*t, members)) for t in named)
        for i, (_, covered) in enumerate(targets):
            for t in covered:
                self._maint[t] = union(self._maint.get(t, []), ivs)
                self._covering.setdefault(t, []).append((len(self._windows), i))
        self._windows.append(_Listed(source, targets, tuple(ivs)))

    def named(self, source: str, window_id: int | str) -> tuple[str | None, tuple[Target, ...]]:
        """A listed window's reason and the targets it is named on (whose business its reason
        is); (None, ()) for one not listed."""
        for w in self._windows:
            if (w.source.source, w.source.id) == (source, window_id):
                return w.source.reason, tuple(t for t, _ in w.named)
        return None, ()

    def of(self, kind: str, key: str) -> list[Interval]:
        """The target's maintenance (its own windows, and for a monitor those of its
        services), normalized."""
        return self._maint.get((kind, key), [])

    def exclusions(self, shown: dict[Target, list[Interval]]) -> tuple[Exclusion, ...]:
        """The maintenance windows that changed a figure: those that cover a target of ``shown``
        (kind, key) -> the time its figures are over (normalized). Each occurrence is listed cut
        to that time and names only the targets it changed; ``overlaps`` lists the ids of the
        other listed windows it overlaps on one of them."""
        # (window, occurrence) -> named targets changed, targets hit, the pieces of time
        found: dict[tuple[int, int], tuple[set[int], set[Target], list[Interval]]] = {}
        for t, spans in shown.items():
            for w, which in self._covering.get(t, ()):
                for k, iv in enumerate(self._windows[w].occurrences):
                    pieces = clip(spans, *iv)
                    if pieces:
                        acc = found.setdefault((w, k), (set(), set(), []))
                        acc[0].add(which)
                        acc[1].add(t)
                        acc[2].extend(pieces)
        out: list[tuple[_Source, dict[Target, None], bool, set[Target], Interval]] = []
        for (w, _), (named, hit, cut) in sorted(found.items()):
            listed = self._windows[w]
            changed: dict[Target, None] = {}
            private = False
            for i in sorted(named):
                target, covered = listed.named[i]
                if target in shown:
                    changed[target] = None
                else:  # a window on a target outside the report that covers one in it (a
                    # shared member): named by what it covered here, its reason withheld
                    changed.update((t, None) for t in covered if t in hit)
                    private = True
            span = (min(a for a, _ in cut), max(b for _, b in cut))
            out.append((listed.source, changed, private, hit, span))
        out.sort(key=lambda x: x[4])
        overlaps: list[list[int | str]] = [[] for _ in out]
        for i, (source, _, _, hit, (_, hi)) in enumerate(out):
            j = i + 1
            while j < len(out) and out[j][4][0] < hi:  # sorted by start: only these can overlap
                other, hit2 = out[j][0], out[j][3]
                if other.id != source.id and hit & hit2:
                    overlaps[i].append(other.id)
                    overlaps[j].append(source.id)
                j += 1
        return tuple(
            Exclusion(
                id=source.id,
                source=source.source,
                reason=None if private else source.reason,
                created_by=source.created_by,
                created_at=source.created_at,
                retroactive=source.retroactive,
                monitors=tuple(k for kind, k in changed if kind == "monitor"),
                services=tuple(k for kind, k in changed if kind == "service"),
                start=start,
                end=end,
                overlaps=tuple(dict.fromkeys(ids)),
            )
            for (source, changed, private, _, (start, end)), ids in zip(out, overlaps, strict=True)
        )
