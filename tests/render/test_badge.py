"""The status badge (uptimed.render.badge): a well-formed, inert, accessible SVG whose parts fit
their texts, with colours white text is readable on."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.contrast import contrast, luminance
from uptimed.render.badge import (
    LABEL_COLOUR,
    MAX_CHARS,
    PADDING,
    TONE_COLOURS,
    TONES,
    badge,
    text_width,
)

SVG = "{http://www.w3.org/2000/svg}"
NASTY = "<script>alert(\"x\")</script>&amp; 'q' ]]>"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def xml_char(ch: str) -> bool:
    """XML 1.0's Char production, written out here independently of the module."""
    c = ord(ch)
    return (
        c in (0x9, 0xA, 0xD)
        or 0x20 <= c <= 0xD7FF
        or 0xE000 <= c <= 0xFFFD
        or 0x10000 <= c <= 0x10FFFF
    )


def shown(text: str) -> str:
    """What the badge is expected to show of ``text``."""
    text = " ".join("".join(ch for ch in text if xml_char(ch)).split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def texts(root: ET.Element) -> list[str]:
    """The visible texts (the shadows are aria-hidden copies)."""
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]


def parts(root: ET.Element) -> tuple[int, int]:
    """The widths of the label and the message part."""
    group = root.find(f"{SVG}g")
    assert group is not None
    rects = group.findall(f"{SVG}rect")
    return int(rects[0].attrib["width"]), int(rects[1].attrib["width"])


def width(svg: str) -> int:
    return int(parse(svg).attrib["width"])


def test_luminance_formula_matches_known_values() -> None:
    assert luminance("#fff") == pytest.approx(1.0)
    assert luminance("#000") == 0.0
    assert contrast("#fff", "#000") == pytest.approx(21.0)
    assert contrast("#fff", "#767676") == pytest.approx(4.54, abs=0.01)  # the classic threshold


def test_structure() -> None:
    svg = badge("uptime", "99.95%", "up")
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-label"] == "uptime: 99.95%"
    assert root.attrib["height"] == "20"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "uptime: 99.95%"
    assert texts(root) == ["uptime", "99.95%"]
    label_w, message_w = parts(root)
    assert label_w + message_w == width(svg)
    group = root.find(f"{SVG}g")
    assert group is not None
    fills = [r.attrib["fill"] for r in group.findall(f"{SVG}rect")]
    assert fills[:2] == [LABEL_COLOUR, TONE_COLOURS["up"]]


@pytest.mark.parametrize("tone", TONES)
def test_every_tone_has_its_colour(tone: str) -> None:
    group = parse(badge("api", tone, tone)).find(f"{SVG}g")
    assert group is not None
    assert group.findall(f"{SVG}rect")[1].attrib["fill"] == TONE_COLOURS[tone]


def test_tones_and_colours_agree() -> None:
    assert set(TONE_COLOURS) == set(TONES)
    assert len(set(TONE_COLOURS.values())) == len(TONES)  # tones are told apart by colour


@pytest.mark.parametrize("colour", [LABEL_COLOUR, *TONE_COLOURS.values()])
def test_white_text_contrast_is_at_least_aa(colour: str) -> None:
    assert contrast("#fff", colour) >= 4.5


def test_unknown_tone_is_refused() -> None:
    with pytest.raises(ValueError, match='"green" is not a badge tone'):
        badge("api", "up", "green")


def test_hostile_text_is_escaped() -> None:
    svg = badge(NASTY, NASTY, "down")
    assert "<script" not in svg and "</script" not in svg
    root = parse(svg)
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert texts(root) == [NASTY, NASTY]
    assert root.attrib["aria-label"] == f"{NASTY}: {NASTY}"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == f"{NASTY}: {NASTY}"


def test_nothing_runs_or_loads() -> None:
    svg = badge(NASTY + ' onload="x()"', "javascript:alert(1)", "neutral")
    allowed = {
        "svg", "title", "linearGradient", "stop", "clipPath", "rect", "g", "text"
    }  # fmt: skip
    for element in parse(svg).iter():
        assert element.tag.removeprefix(SVG) in allowed
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on")
            assert "href" not in name.lower()
            for ref in re.findall(r"url\(([^)]*)\)", value):
                assert ref.startswith("#")  # only its own gradient and clip path


def test_width_grows_with_the_text() -> None:
    widths = [width(badge("api", "x" * n, "up")) for n in range(30)]
    assert widths == sorted(widths) and len(set(widths)) > 20
    labels = [width(badge("a" * n, "up", "up")) for n in range(30)]
    assert labels == sorted(labels) and len(set(labels)) > 20
    assert width(badge("api", "W" * 20, "up")) > width(badge("api", "i" * 20, "up"))
    assert width(badge("api", "全" * 10, "up")) >= 10 * 11


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("uptime", "99.95%"),
        ("WWWWWWWWWW", "MMMMMMMMMMMMMM"),
        ("i", "l"),
        ("", "down"),
        ("ステータス", "稼働中 ✅"),
        ("x" * 100, "@" * 100),
    ],
)
def test_texts_fit_their_parts(label: str, message: str) -> None:
    """Each text is centred in its part, within the padding: the texts cannot overlap."""
    root = parse(badge(label, message, "maintenance"))
    label_w, message_w = parts(root)
    shown_texts = [t for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]
    boxes = [(0, label_w), (label_w, label_w + message_w)] if label else [(label_w, None)]
    for text, (left, right) in zip(shown_texts, boxes[-len(shown_texts) :], strict=True):
        if right is None:
            right = left + message_w
        length = int(text.attrib["textLength"]) / 10  # scale(.1)
        centre = int(text.attrib["x"]) / 10
        assert centre == pytest.approx((left + right) / 2, abs=0.5)
        assert length == pytest.approx(text_width(text.text or ""), abs=0.1)
        assert left + PADDING - 0.5 <= centre - length / 2
        assert centre + length / 2 <= right - PADDING + 0.5


def test_long_text_is_cut_and_the_badge_bounded() -> None:
    root = parse(badge("L" * 10_000, "M" * 10_000, "up"))
    label, message = texts(root)
    assert label == "L" * (MAX_CHARS - 1) + "…"
    assert message == "M" * (MAX_CHARS - 1) + "…"
    assert int(root.attrib["width"]) < 2 * (MAX_CHARS * 11 + 2 * PADDING)
    assert len(badge("x" * MAX_CHARS, "y" * MAX_CHARS, "up")) < 4000
    assert texts(parse(badge("x" * MAX_CHARS, "up", "up")))[0] == "x" * MAX_CHARS  # not cut


def test_whitespace_and_control_characters() -> None:
    root = parse(badge("  a\tb\r\n c\x00\x1b ", "d\ufffee\uffff\ud800", "unknown"))
    assert texts(root) == ["a b c", "de"]
    assert root.attrib["aria-label"] == "a b c: de"


def test_every_printable_ascii_character_has_a_width() -> None:
    for c in range(0x20, 0x7F):
        assert text_width(chr(c)) > 0
    assert text_width("m") > text_width("n") > text_width("i")
    assert text_width("\u0301") == 0  # a combining accent adds nothing


HOSTILE = st.text(
    st.one_of(
        st.characters(max_codepoint=0x1F),
        st.sampled_from("<>&\"'];=/\r\n\t\x7f\x85\u2028\ufffe\uffff\ud800\udfff"),
        st.characters(exclude_categories=()),  # surrogates and unassigned too
    ),
    max_size=60,
)


@settings(max_examples=300)
@given(label=HOSTILE, message=HOSTILE, tone=st.sampled_from(TONES))
def test_any_text_gives_a_well_formed_badge(label: str, message: str, tone: str) -> None:
    svg = badge(label, message, tone)
    svg.encode("utf-8")  # no lone surrogate left
    root = parse(svg)
    expected = [t for t in (shown(label), shown(message)) if t]
    assert texts(root) == expected
    spoken = f"{shown(label)}: {shown(message)}" if shown(label) else shown(message)
    assert root.attrib["aria-label"] == spoken
    title = root.find(f"{SVG}title")
    assert title is not None and (title.text or "") == spoken
