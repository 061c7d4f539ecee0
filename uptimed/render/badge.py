"""A status badge: a shields.io "flat" style SVG of two parts, a grey label on the left and a
message on the right in the colour of its tone (``uptime | 99.95%``, ``api | down``).

The SVG is served as an image (``image/svg+xml``, or through ``<img>``): nothing in it runs or
loads (no script, no event handler, no external reference; the only references are to its own
gradient and clip path), every text is escaped, and its size is bounded: each text is cut to
:data:`MAX_CHARS`. Widths come from a table of Verdana 11px advances (DejaVu Sans, the fallback
on Linux, is of about the same width); each text also carries ``textLength``, so a renderer
whose font is wider squeezes the text into its part rather than letting it overlap the next.
"""

from __future__ import annotations

import html
import unicodedata

from uptimed.render.atom import xml_safe

#: What the message says about the thing: its state, or ``neutral`` for a figure with no verdict.
TONES = ("up", "down", "maintenance", "unknown", "neutral")

#: The message colour of each tone. White text on each (and on :data:`LABEL_COLOUR`) has a WCAG
#: contrast ratio of at least 4.5:1 (the tests compute it); shields.io's own bright green and
#: blue do not, which is why these are darker.
TONE_COLOURS: dict[str, str] = {
    "up": "#1a7f37",  # 5.08:1
    "down": "#cf222e",  # 5.36:1
    "maintenance": "#0969da",  # 5.19:1
    "unknown": "#656d76",  # 5.25:1
    "neutral": "#1b7c83",  # 4.93:1
}
LABEL_COLOUR = "#555"  # 7.46:1

#: Longest label or message, in characters; longer text ends in an ellipsis.
MAX_CHARS = 40

HEIGHT = 20
PADDING = 5  # px either side of each text

# Verdana's advance widths in font units (2048 to the em) for printable ASCII from the space to
# the tilde; at 11px a unit is 11/2048 px.
_ASCII_UNITS = (
    720, 808, 941, 1675, 1303, 2224, 1479, 549, 930, 930, 1303, 1675, 745, 885, 745, 930,  # ␠-/
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303,  # 0-9
    930, 930, 1675, 1675, 1675, 1110, 2048,  # :-@
    1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 862, 924, 1415, 1149, 1730,  # A-M
    1532, 1612, 1240, 1612, 1423, 1401, 1243, 1509, 1401, 2024, 1405, 1243, 1405,  # N-Z
    930, 930, 930, 1675, 1303, 1303,  # [-`
    1229, 1276, 1067, 1276, 1220, 720, 1276, 1296, 562, 677, 1190, 562, 1992,  # a-m
    1296, 1243, 1276, 1276, 874, 1067, 807, 1296, 1190, 1675, 1190, 1190, 1051,  # n-z
    1300, 930, 1300, 1675,  # {-~
)  # fmt: skip
_FONT_PX = 11
_EM = 2048
_ASCII_PX = {chr(32 + i): units * _FONT_PX / _EM for i, units in enumerate(_ASCII_UNITS)}
# Anything else: a full em when East Asian wide, else about a capital letter (on the wide side,
# so that scripts the table does not know get room rather than overlap).
_WIDE_PX = float(_FONT_PX)
_OTHER_PX = 1500 * _FONT_PX / _EM


def text_width(text: str) -> float:
    """The width of ``text`` in px at Verdana 11px (an estimate beyond ASCII)."""
    return sum(_char_width(ch) for ch in text)


def _char_width(ch: str) -> float:
    px = _ASCII_PX.get(ch)
    if px is not None:
        return px
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0.0  # marks sit on the previous character; format characters are invisible
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return _WIDE_PX
    return _OTHER_PX


def badge_text(text: str) -> str:
    """``text`` as the badge shows it: one line (whitespace runs become one space, none at the
    ends, as SVG would collapse them anyway), no character XML forbids, at most
    :data:`MAX_CHARS` characters."""
    text = " ".join(xml_safe(text).split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def badge(label: str, message: str, tone: str) -> str:
    """The SVG of a badge reading ``label | message``, the message coloured by ``tone`` (one of
    :data:`TONES`).

    :raises ValueError: ``tone`` is not one of :data:`TONES`.
    """
    colour = TONE_COLOURS.get(tone)
    if colour is None:
        raise ValueError(f'"{tone}" is not a badge tone (allowed: {", ".join(TONES)})')
    label, message = badge_text(label), badge_text(message)
    # Whole pixels for the parts; the texts are laid out in tenths of a pixel (scale(.1)), as
    # shields.io does, for finer placement than whole-pixel coordinates.
    label_text, message_text = round(text_width(label) * 10), round(text_width(message) * 10)
    label_w = -(-label_text // 10) + 2 * PADDING
    message_w = -(-message_text // 10) + 2 * PADDING
    width = label_w + message_w
    spoken = html.escape(f"{label}: {message}" if label else message)
    return "".join(
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}"'
            f' role="img" aria-label="{spoken}">',
            f"<title>{spoken}</title>",
            '<linearGradient id="s" x2="0" y2="100%">'
            '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
            '<stop offset="1" stop-opacity=".1"/></linearGradient>',
            f'<clipPath id="r"><rect width="{width}" height="{HEIGHT}" rx="3" fill="#fff"/>'
            "</clipPath>",
            '<g clip-path="url(#r)">',
            f'<rect width="{label_w}" height="{HEIGHT}" fill="{LABEL_COLOUR}"/>',
            f'<rect x="{label_w}" width="{message_w}" height="{HEIGHT}" fill="{colour}"/>',
            f'<rect width="{width}" height="{HEIGHT}" fill="url(#s)"/>',
            "</g>",
            '<g fill="#fff" text-anchor="middle"'
            ' font-family="Verdana,Geneva,DejaVu Sans,sans-serif"'
            ' text-rendering="geometricPrecision" font-size="110">',
            _text(label, label_w * 5, label_text),
            _text(message, label_w * 10 + message_w * 5, message_text),
            "</g>",
            "</svg>",
        )
    )


def _text(text: str, centre: int, length: int) -> str:
    """One text, in tenths of a pixel: its shadow (hidden from screen readers, which read the
    ``aria-label``), then the text itself."""
    if not text:
        return ""
    body = html.escape(text)
    return (
        f'<text aria-hidden="true" x="{centre}" y="150" fill="#010101" fill-opacity=".3"'
        f' transform="scale(.1)" textLength="{length}">{body}</text>'
        f'<text x="{centre}" y="140" transform="scale(.1)" fill="#fff"'
        f' textLength="{length}">{body}</text>'
    )
