"""An Atom feed (RFC 4287) of entries the caller has chosen, named and ordered (incidents and
maintenance windows on the status page): UTF-8 XML built with :mod:`xml.etree.ElementTree`, so
every text is escaped by the serializer, not by hand.

XML 1.0 cannot carry every character: the C0 controls other than tab, line feed and carriage
return, lone surrogates, U+FFFE and U+FFFF are dropped (:func:`xml_safe`) rather than left to
make the document ill-formed. Everything else comes through as given, a carriage return
included (written as ``&#13;``, which a parser keeps; a raw one it would turn into a line
feed). Times are RFC 3339 in UTC to the second (milliseconds dropped, always), the form feed
readers parse most reliably.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from uptimed.core.times import MAX_MS, MIN_MS, iso

ATOM = "http://www.w3.org/2005/Atom"

# What XML 1.0 forbids (its Char production, inverted); Python strings can hold all of it.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A link the feed may carry: absolute http(s), or root-relative (resolved against the feed's
# own address). Not "//host" (another site), nor "javascript:" and the like.
_LINK = re.compile(r"(?:https?://[^/?#\s]+|/(?![/\\]))\S*", re.IGNORECASE)


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (everything else it can carry)."""
    return _FORBIDDEN.sub("", text)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a feed; every field is shown as given (the caller chose it)."""

    id: str  # a stable URI, e.g. "urn:uptimed:incident:9f2c..." (the caller makes it)
    title: str
    published: int  # ms since the epoch
    updated: int  # ms
    summary: str  # plain text
    link: str | None = None  # absolute (http or https) or root-relative URL


def atom_feed(
    *,
    title: str,
    feed_id: str,
    self_url: str,
    updated: int,
    entries: Sequence[FeedEntry],
    author: str = "uptimed",
) -> bytes:
    """The feed as UTF-8 XML. The entries come out in the order given, not re-sorted: the
    caller lists them newest first (a feed reader sorts them itself anyway).

    An entry without a ``link`` repeats its summary as ``<content type="text">``: RFC 4287
    (4.1.2) requires an entry to have either content or an alternate link.

    :raises ValueError: a time is outside the years 1 to 9999, or a link (or ``self_url``) is
        neither an absolute http(s) URL nor root-relative.
    """
    feed = ET.Element("feed", xmlns=ATOM)
    _add(feed, "title", title, type="text")
    _add(feed, "id", feed_id)
    _add(feed, "updated", _time(updated))
    _add(feed, "link", rel="self", type="application/atom+xml", href=_href(self_url))
    _add(ET.SubElement(feed, "author"), "name", author)
    _add(feed, "generator", "uptimed")
    for e in entries:
        entry = ET.SubElement(feed, "entry")
        _add(entry, "id", e.id)
        _add(entry, "title", e.title, type="text")
        _add(entry, "updated", _time(e.updated))
        _add(entry, "published", _time(e.published))
        _add(entry, "summary", e.summary, type="text")
        if e.link is None:
            _add(entry, "content", e.summary, type="text")
        else:
            _add(entry, "link", rel="alternate", type="text/html", href=_href(e.link))
    ET.indent(feed)
    # ElementTree escapes a carriage return in attributes but not in text; written raw, a
    # parser would read it as a line feed. Raw ones can only be in text, so this is exact.
    body = ET.tostring(feed, encoding="unicode").replace("\r", "&#13;")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body.encode("utf-8") + b"\n"


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        child.text = xml_safe(text)
    return child


def _time(ms: int) -> str:
    """RFC 3339 in UTC to the second, e.g. ``2026-10-07T13:00:00Z``."""
    if not MIN_MS <= ms <= MAX_MS:
        raise ValueError(f"{ms} ms since the epoch is outside the years 1 to 9999")
    text = iso(ms - ms % 1000)  # floor to the second: an instant stays in its second
    assert text is not None  # iso() is None only for None
    return text


def _href(url: str) -> str:
    if not _LINK.fullmatch(url):
        raise ValueError(f"{url!r} is neither an absolute http(s) URL nor root-relative")
    return url
