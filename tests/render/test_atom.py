"""The Atom feed (uptimed.render.atom): RFC 4287 structure, entries in the order given, RFC 3339
times, and a well-formed document whatever the text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uptimed.core.times import MAX_MS, MIN_MS, parse_time
from uptimed.render.atom import ATOM, FeedEntry, atom_feed, xml_safe

A = "{" + ATOM + "}"
NASTY = "<script>alert(\"x\")</script>&amp; 'q' ]]> <![CDATA[x]]>"
RFC3339_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def ms(text: str) -> int:
    return parse_time(text, ZoneInfo("UTC"))


def entry(n: int, **changes: object) -> FeedEntry:
    fields: dict[str, object] = {
        "id": f"urn:uptimed:incident:{n:04x}",
        "title": f"Incident {n}",
        "published": ms("2026-10-07T13:00:00Z") + n * 3_600_000,
        "updated": ms("2026-10-07T13:20:00.250Z") + n * 3_600_000,
        "summary": f"Outage {n} of the API.",
        "link": f"/incidents/{n}",
    }
    fields.update(changes)
    return FeedEntry(**fields)  # type: ignore[arg-type]


def feed(entries: list[FeedEntry], **changes: object) -> bytes:
    args: dict[str, object] = {
        "title": "ACME status",
        "feed_id": "urn:uptimed:feed:acme",
        "self_url": "https://status.example.com/feed.atom",
        "updated": ms("2026-10-08T09:00:00.999Z"),
        "entries": entries,
    }
    args.update(changes)
    return atom_feed(**args)  # type: ignore[arg-type]


def parse(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def child(parent: ET.Element, tag: str) -> ET.Element:
    found = parent.find(A + tag)
    assert found is not None, tag
    return found


def text(parent: ET.Element, tag: str) -> str:
    return child(parent, tag).text or ""


def xml_char(ch: str) -> bool:
    """XML 1.0's Char production, written out here independently of the module."""
    c = ord(ch)
    return (
        c in (0x9, 0xA, 0xD)
        or 0x20 <= c <= 0xD7FF
        or 0xE000 <= c <= 0xFFFD
        or 0x10000 <= c <= 0x10FFFF
    )


def allowed(text: str) -> str:
    return "".join(ch for ch in text if xml_char(ch))


def test_declaration_and_encoding() -> None:
    data = feed([entry(1)], title="Zürich – 状态")
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="' + ATOM.encode())
    assert "Zürich – 状态".encode() in data  # UTF-8 itself, not character references
    assert data.endswith(b"</feed>\n")


def test_feed_structure() -> None:
    root = parse(feed([entry(1)], author="ACME Ops"))
    assert root.tag == A + "feed"
    assert text(root, "title") == "ACME status"
    assert child(root, "title").attrib["type"] == "text"
    assert text(root, "id") == "urn:uptimed:feed:acme"
    assert text(root, "updated") == "2026-10-08T09:00:00Z"
    links = root.findall(A + "link")
    assert [link.attrib for link in links] == [
        {
            "rel": "self",
            "type": "application/atom+xml",
            "href": "https://status.example.com/feed.atom",
        }
    ]
    assert text(child(root, "author"), "name") == "ACME Ops"
    assert all(e.tag.startswith(A) for e in root.iter())  # nothing outside the Atom namespace


def test_default_author() -> None:
    assert text(child(parse(feed([])), "author"), "name") == "uptimed"


def test_entry_structure() -> None:
    (e,) = parse(feed([entry(1)])).findall(A + "entry")
    assert text(e, "id") == "urn:uptimed:incident:0001"
    assert text(e, "title") == "Incident 1"
    assert child(e, "title").attrib["type"] == "text"
    assert text(e, "published") == "2026-10-07T14:00:00Z"
    assert text(e, "updated") == "2026-10-07T14:20:00Z"
    assert text(e, "summary") == "Outage 1 of the API."
    assert child(e, "summary").attrib["type"] == "text"
    (link,) = e.findall(A + "link")
    assert link.attrib["rel"] == "alternate"
    assert link.attrib["href"] == "/incidents/1"
    assert e.find(A + "content") is None


def test_entry_without_link_carries_content() -> None:
    """RFC 4287 4.1.2: an entry has content or an alternate link."""
    (e,) = parse(feed([entry(1, link=None)])).findall(A + "entry")
    assert e.findall(A + "link") == []
    assert text(e, "content") == "Outage 1 of the API."
    assert child(e, "content").attrib["type"] == "text"


def test_absolute_links() -> None:
    url = "https://status.example.com/incidents/1?x=1&y=<2>"
    (e,) = parse(feed([entry(1, link=url)])).findall(A + "entry")
    assert child(e, "link").attrib["href"] == url


def test_entries_keep_the_given_order() -> None:
    """Not re-sorted: the caller's order (newest first) is the feed's, even if it is not."""
    order = [entry(3), entry(1), entry(7), entry(2)]
    root = parse(feed(order))
    ids = [text(e, "id") for e in root.findall(A + "entry")]
    assert ids == [e.id for e in order]


def test_no_entries() -> None:
    root = parse(feed([]))
    assert root.findall(A + "entry") == []
    assert text(root, "id") == "urn:uptimed:feed:acme"


@pytest.mark.parametrize(
    ("when", "text_"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (999, "1970-01-01T00:00:00Z"),
        (1000, "1970-01-01T00:00:01Z"),
        (-1, "1969-12-31T23:59:59Z"),  # floored: the instant stays in its second
        (ms("2026-10-07T13:20:00.250Z"), "2026-10-07T13:20:00Z"),
        (ms("2028-02-29T23:59:59.999Z"), "2028-02-29T23:59:59Z"),
        (MIN_MS, "0001-01-01T00:00:00Z"),
        (MAX_MS, "9999-12-31T23:59:59Z"),
    ],
)
def test_times(when: int, text_: str) -> None:
    root = parse(feed([entry(1, published=when, updated=when)], updated=when))
    e = child(root, "entry")
    assert text(root, "updated") == text(e, "updated") == text(e, "published") == text_


@settings(max_examples=200)
@given(st.integers(MIN_MS, MAX_MS))
def test_times_are_rfc3339_to_the_second(when: int) -> None:
    got = text(parse(feed([], updated=when)), "updated")
    assert RFC3339_Z.fullmatch(got)
    parsed = datetime.fromisoformat(got.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None and parsed.utcoffset() == UTC.utcoffset(None)
    assert parse_time(got, ZoneInfo("UTC")) == when - when % 1000


@pytest.mark.parametrize("when", [MIN_MS - 1, MAX_MS + 1, 10**20, -(10**20)])
def test_times_out_of_range_are_refused(when: int) -> None:
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        feed([entry(1, published=when)])


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "//evil.example.com/x",
        "/\\evil.example.com",
        "incidents/1",
        "ftp://example.com/x",
        "https://",
        "/a b",
        "",
    ],
)
def test_bad_links_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="neither an absolute http"):
        feed([entry(1, link=url)])
    with pytest.raises(ValueError, match="neither an absolute http"):
        feed([], self_url=url)


def test_hostile_text_is_escaped() -> None:
    hostile = NASTY + "\x00\x01\x08\x0b\x0c\x1f\ufffe\uffff\ud800 tab\there\r\nline\rend"
    e1 = entry(1, title=hostile, summary=hostile, id="urn:x:" + hostile)
    data = feed([e1], title=hostile, author=hostile)
    assert b"<script" not in data and b"]]>" not in data
    root = parse(data)
    expected = allowed(hostile)
    assert "\x00" not in expected and "\r" in expected
    assert text(root, "title") == expected
    assert text(child(root, "author"), "name") == expected
    e = child(root, "entry")
    assert text(e, "title") == text(e, "summary") == expected
    assert text(e, "id") == "urn:x:" + expected


def test_xml_safe() -> None:
    raw = "a\x00b\x7fc\ud800d\ufffe\uffffe\U0010ffff\t\n\r"
    assert xml_safe(raw) == "ab\x7fcde\U0010ffff\t\n\r"  # DEL is allowed, if discouraged


HOSTILE = st.lists(
    st.one_of(
        st.characters(max_codepoint=0x1F),
        st.sampled_from("<>&\"'];=/\r\n\t\x7f\x85\u2028\ufffe\uffff\ud800\udfff"),
        st.sampled_from(("]]>", "\r\n", "<![CDATA[", "&amp;", "&#0;", "<!--")),
        st.characters(exclude_categories=()),  # surrogates and unassigned too
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300)
@given(title=HOSTILE, summary=HOSTILE, ident=HOSTILE, author=HOSTILE)
def test_any_text_gives_a_well_formed_feed(
    title: str, summary: str, ident: str, author: str
) -> None:
    """Whatever the text, the document parses and every text comes back, less what XML 1.0
    cannot carry (whitespace, carriage returns included, as given)."""
    entries = [entry(1, title=title, summary=summary, id=ident, link=None), entry(2)]
    data = feed(entries, title=title, feed_id=ident, author=author)
    root = parse(data)
    assert text(root, "title") == allowed(title)
    assert text(root, "id") == allowed(ident)
    assert text(child(root, "author"), "name") == allowed(author)
    first, second = root.findall(A + "entry")
    assert text(first, "title") == allowed(title)
    assert text(first, "summary") == text(first, "content") == allowed(summary)
    assert text(first, "id") == allowed(ident)
    assert text(second, "id") == "urn:uptimed:incident:0002"
