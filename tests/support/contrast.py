"""WCAG 2.x relative luminance of an sRGB colour, and the contrast ratio of two colours: what
the badge and page tests check the state colours with."""

from __future__ import annotations

import re


def luminance(hex_colour: str) -> float:
    """The relative luminance of a colour written #rrggbb or #rgb."""
    h = hex_colour.strip().lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    assert re.fullmatch(r"[0-9a-fA-F]{6}", h), f"not a #rrggbb colour: {hex_colour!r}"
    channels = []
    for i in (0, 2, 4):
        c = int(h[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
