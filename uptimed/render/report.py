"""A report (:class:`uptimed.model.report.Report`) as text in each ``uptimed report --format``::

    text = render(report, "markdown")

- ``table``: what an operator reads in a terminal (:mod:`uptimed.render.terminal`);
- ``json``: the report's JSON (:mod:`uptimed.render.json`), also what the API answers;
- ``csv``: that JSON flattened, one row per monitor, service and SLO (:mod:`uptimed.render.csv`);
- ``markdown`` and ``html``: what a customer receives, the same document in both
  (:mod:`uptimed.render.document`).

Rendering computes no figure and reads nothing: it shows the report's values (no I/O, standard
library only).
"""

from __future__ import annotations

from collections.abc import Callable

from uptimed.model.report import Report
from uptimed.render.csv import render_csv
from uptimed.render.html import render_html
from uptimed.render.json import render_json
from uptimed.render.markdown import render_markdown
from uptimed.render.terminal import render_table

_RENDERERS: dict[str, Callable[[Report], str]] = {
    "table": render_table,
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
    "html": render_html,
}
#: Every format, the default first.
FORMATS = tuple(_RENDERERS)


def render(report: Report, fmt: str) -> str:
    """``report`` as text in ``fmt``, ending with a newline.

    :raises ValueError: ``fmt`` is not one of :data:`FORMATS`; the message names it and them.
    """
    renderer = _RENDERERS.get(fmt) if isinstance(fmt, str) else None
    if renderer is None:
        raise ValueError(f"unknown report format {fmt!r} (allowed: {', '.join(FORMATS)})")
    return renderer(report)
