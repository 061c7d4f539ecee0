"""Ids of tables ([[monitor]], [[service]], [[slo]], [[maintenance]]) and references to them.

Rules: an id is 1 to 64 letters, digits, "_", "." and "-". Monitor ids are unique among
monitors, service ids among services and must not be a monitor id (an SLO target names
either), SLO and maintenance ids among their own kind. A reference to a monitor or service that
does not exist gets a suggestion (same id in another case, or a close spelling); a monitor whose
other keys are wrong still counts as existing, so that there is no cascade of errors.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping

from uptimed.config.checker import Checker, Invalid, Table, echo

_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")

#: Ids by table kind ("monitor", "service"): id -> index of its table; None: any id is taken
#: (the section is malformed, already reported).
Known = Mapping[str, dict[str, int] | None]


def ident(
    c: Checker,
    raw: Table,
    kind: str,
    i: int,
    seen: dict[str, int],
    clash: dict[str, int] | None = None,
) -> str:
    """The id of table ``kind[i]``, recorded in ``seen`` (a repeated id is an error but still
    names its table). ``clash``: monitor ids a service id must not repeat."""
    base = f"{kind}[{i}]"
    if "id" not in raw:
        raise c.error(base, 'missing required key "id"')
    value = raw["id"]
    if not isinstance(value, str):
        raise c.type_error(f"{base}.id", "a string", value)
    if not _ID.fullmatch(value):
        why = (
            "longer than 64 characters"
            if len(value) > 64
            else 'use letters, digits, "_", "." and "-"'
        )
        raise c.error(f"{base}.id", f"{echo(value)} is not a valid id: {why}")
    if value in seen:
        c.error(f"{base}.id", f"{echo(value)} is used twice (first at {kind}[{seen[value]}])")
    else:
        seen[value] = i
        if clash is not None and value in clash:
            c.error(
                f"{base}.id",
                f"{echo(value)} is already the id of monitor[{clash[value]}]: SLO targets "
                "name monitors and services alike, so their ids must differ",
            )
    return value


def reference(
    c: Checker,
    value: object,
    path: str,
    known: Known,
    wanted: str,
    misplaced: Mapping[str, str] | None = None,
) -> str:
    """An id that must name one of ``known`` ("monitor" -> its ids, "service" -> ...). A
    kind whose ids are unknown (its section is malformed, already reported) matches any id.
    ``wanted`` reads "a monitor id", "a monitor or service id". ``misplaced``: the hint when
    the id names a kind not wanted here ("service" -> ': list it under "services"')."""
    if not isinstance(value, str):
        raise c.type_error(path, f"a string ({wanted})", value)
    if any(ids is None or value in ids for ids in known.values()):
        return value
    hint = ""
    for other, why in (misplaced or {}).items():
        ids = c.ids.get(other)
        if ids and value in ids:
            hint = f" (it is a {other}{why})"
            break
    if not hint:
        candidates = [i for ids in known.values() if ids for i in ids]
        lowered = {candidate.lower(): candidate for candidate in candidates}
        match = [lowered[value.lower()]] if value.lower() in lowered else []
        if not match and len(candidates) <= 10_000:
            match = difflib.get_close_matches(value[:100], candidates, n=1, cutoff=0.6)
        if match:
            hint = f' (did you mean "{match[0]}"?)'
        elif not candidates:
            hint = f" (there are no {' or '.join(k + 's' for k in known)})"
    raise c.error(path, f"{echo(value)} is not {wanted}{hint}")


def id_list(
    c: Checker,
    value: object,
    path: str,
    known: Known,
    wanted: str,
    allow_empty: bool = False,
    misplaced: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """References (see :func:`reference`) as an array, each at most once."""
    kind = next(iter(known))
    if not isinstance(value, list):
        hint = f" (write [{echo(value)}])" if isinstance(value, str) else ""
        raise c.type_error(path, f'an array of {kind} ids such as ["web", "db"]', value, hint)
    if not value and not allow_empty:
        raise c.error(path, f"is empty: list at least one {kind} id")
    return each_once(
        c, value, path, lambda c, item, ipath: reference(c, item, ipath, known, wanted, misplaced)
    )


def each_once(
    c: Checker, items: list[object], path: str, one: Callable[[Checker, object, str], str]
) -> tuple[str, ...]:
    """``one(c, item, path[j])`` of each item (every mistake reported), each result at most
    once; :class:`Invalid` when any was wrong."""
    out: list[str] = []
    first: dict[str, int] = {}
    n_errors = len(c.errors)
    for j, item in enumerate(items):
        ipath = f"{path}[{j}]"
        ref = c.attempt(one, item, ipath)
        if ref is None:
            continue
        if ref in first:
            c.error(ipath, f"{echo(ref)} is listed twice (first at [{first[ref]}])")
        else:
            first[ref] = j
            out.append(ref)
    if len(c.errors) > n_errors:
        raise Invalid
    return tuple(out)
