"""``--format html``: the customer document (:mod:`uptimed.render.document`) as one
self-contained HTML page: an inline style sheet, nothing to load or run (its Content Security
Policy forbids it), every value escaped."""

from __future__ import annotations

import html

from uptimed.model.report import Report
from uptimed.render.document import Block, document
from uptimed.render.text import Inline

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;\
background:#fff}
main{max-width:64rem;margin:2rem auto;padding:0 1.5rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.5rem}
h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
h3{font-size:1rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
thead th{background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content auto;gap:.25rem 1rem;margin:.5rem 0}
dt{font-weight:600}
dd{margin:0}
.met{color:#1a7f37}
.missed{color:#cf222e}
.nodata{color:#9a6700}
.time{white-space:nowrap}
footer{margin-top:2.5rem;border-top:1px solid #d0d7de;color:#59636e;font-size:.85rem}
footer p{margin:.3rem 0;overflow-wrap:anywhere}
@media print{main{margin:0;max-width:none}}
""".strip()


# Nothing but the inline style may load or run, whatever ends up in the page.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _inline(inline: Inline) -> str:
    out = []
    for segment in inline:
        if isinstance(segment, str):
            out.append(html.escape(segment))
            continue
        style, value = segment
        if style == "time":
            out.append(f'<span class="time">{html.escape(value)}</span>')
        else:
            cls = f' class="{style}"' if style in ("met", "missed", "nodata") else ""
            out.append(f"<strong{cls}>{html.escape(value)}</strong>")
    return "".join(out)


def render_html(report: Report) -> str:
    title, blocks = document(report)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="uptimed">',
        f"<title>{html.escape(title)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        "<main>",
    ]
    in_section = False
    for block in blocks:
        kind = block[0]
        if kind == "h2":
            if in_section:
                out.append("</section>")
            out.append("<section>")
            in_section = True
        elif kind == "footer" and in_section:
            out.append("</section>")
            in_section = False
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{_inline(block[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "fields":
            out.append("<dl>")
            out += [
                f"<dt>{html.escape(label)}</dt><dd>{_inline(value)}</dd>"
                for label, value in block[1]
            ]
            out.append("</dl>")
        elif kind == "table":
            out += _table(block)
        elif kind == "footer":
            out.append("<footer>")
            out += [f"<p>{_inline(line)}</p>" for line in block[1]]
            out.append("</footer>")
    if in_section:
        out.append("</section>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def _table(block: Block) -> list[str]:
    _, headers, rows, right = block
    num = [' class="num"' if i in right else "" for i in range(len(headers))]
    head = "".join(f'<th scope="col"{num[i]}>{html.escape(h)}</th>' for i, h in enumerate(headers))
    out = ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    out += [
        "<tr>"
        + "".join(f"<td{num[i]}>{_inline(cell)}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    ]
    out += ["</tbody>", "</table>"]
    return out
