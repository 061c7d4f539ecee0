"""The one text table: aligned columns for a terminal (the report's table format, ``uptimed
status``, ``uptimed maintenance list``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def text_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()
) -> list[str]:
    """The header and the rows as lines: each column as wide as its widest cell, two spaces
    between columns, the columns in ``right`` (their indexes) aligned right and the others
    left, no trailing spaces. Cells are shown as they are: make them one line first."""
    cells = [headers, *rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    to_right = set(right)
    return [
        "  ".join(
            c.rjust(w) if i in to_right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]
