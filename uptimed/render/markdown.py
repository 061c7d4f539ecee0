"""``--format markdown``: the customer document (:mod:`uptimed.render.document`) as CommonMark.

Everything that could start markup (emphasis, code, links, raw HTML, entities, table cells) is
escaped; a time is never split across lines (no-break spaces)."""

from __future__ import annotations

import re

from uptimed.model.report import Report
from uptimed.render.document import document
from uptimed.render.text import Inline, text

# CommonMark backslash escapes; "_" only where it could open or close emphasis, so that ids like
# web_api stay as they are.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _escape(value: str) -> str:
    escaped = _MD_SPECIAL.sub(r"\\\1", text(value))
    return _MD_UNDERSCORE.sub(r"\\_", escaped)


def _inline(inline: Inline) -> str:
    out = []
    for segment in inline:
        if isinstance(segment, str):
            out.append(_escape(segment))
        elif segment[0] == "time":  # no-break spaces: a time is never split across lines
            out.append(_escape(segment[1]).replace(" ", "\u00a0"))
        else:
            out.append(f"**{_escape(segment[1])}**")
    return "".join(out)


def render_markdown(report: Report) -> str:
    _, blocks = document(report)
    parts = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            parts.append("#" * int(kind[1]) + " " + _inline(block[1]))
        elif kind == "p":
            parts.append(_inline(block[1]))
        elif kind == "fields":
            parts.append("\n".join(f"- **{label}:** {_inline(value)}" for label, value in block[1]))
        elif kind == "table":
            _, headers, rows, right = block
            lines = ["| " + " | ".join(headers) + " |"]
            lines.append(
                "|"
                + "|".join(" ---: " if i in right else " --- " for i in range(len(headers)))
                + "|"
            )
            lines += ["| " + " | ".join(_inline(cell) for cell in row) + " |" for row in rows]
            parts.append("\n".join(lines))
        elif kind == "footer":
            parts.append("---")
            parts.extend(_inline(line) for line in block[1])
    return "\n\n".join(parts) + "\n"
