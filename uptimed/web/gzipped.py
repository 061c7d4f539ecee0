"""One gzip stream from pieces compressed at different times.

A gzipped scrape of 10,000 monitors spent a third of its time compressing the SLA series,
which change only once per refresh. So the refresh deflates them once (:func:`deflate`) and a
scrape deflates only the rest, then joins the pieces into ONE gzip member (:func:`join`): each
piece is raw deflate ended by a sync flush (byte-aligned, not final), so pieces concatenate, and
the stream ends with an empty final block and the CRC-32 and length of the whole. Several gzip
members would be simpler, but curl refuses them.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import NamedTuple

#: magic, deflate, no flags, no mtime, no extra flags, OS unknown (RFC 1952 2.3)
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_FINAL = b"\x03\x00"  # an empty final block with fixed codes: the end of the deflate stream


class Deflated(NamedTuple):
    raw: bytes  # the text
    data: bytes  # its raw deflate, sync-flushed, not final
    crc: int  # CRC-32 of raw


def deflate(raw: bytes, level: int = 1) -> Deflated:
    c = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return Deflated(raw, c.compress(raw) + c.flush(zlib.Z_SYNC_FLUSH), zlib.crc32(raw))


def join(pieces: Sequence[bytes | Deflated], level: int = 1) -> bytes:
    """The gzip stream of the pieces' texts, in order; ``bytes`` pieces are deflated here."""
    out = [_HEADER]
    crc = size = 0
    for piece in pieces:
        d = deflate(piece, level) if isinstance(piece, bytes) else piece
        out.append(d.data)
        # CRC-32 runs on over the whole text: the precomputed one cannot be combined in Python,
        # and running it again over a few MB costs milliseconds.
        crc = zlib.crc32(d.raw, crc)
        size += len(d.raw)
    out.append(_FINAL)
    out.append(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    return b"".join(out)
