"""A gzipped /metrics joins pieces deflated at different times (uptimed.web.gzipped) into one
gzip member that every reader reads: Python's, zlib's strict single-member one, curl's."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import subprocess
import zlib
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon_proc import DaemonProc, value
from tests.support.targets import serve_target

OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"


async def raw(d: DaemonProc, accept: str) -> bytes:
    headers = {"Accept-Encoding": "gzip", "Accept": accept}
    async with aiohttp.ClientSession(auto_decompress=False) as s:
        async with s.get(f"http://127.0.0.1:{d.port}/metrics", headers=headers) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            return await r.read()


def members(body: bytes) -> list[bytes]:
    """Each gzip member's text, read one by one as a strict single-member reader would."""
    out = []
    while body:
        z = zlib.decompressobj(wbits=31)
        out.append(z.decompress(body))
        body = z.unused_data
    return out


async def test_gzipped_scrapes_hold_every_series(tmp_path: Path) -> None:
    async with serve_target() as t:
        monitors = f'[[monitor]]\nid = "web"\nkind = "http"\nurl = "{t.url("/")}"\n'
        async with DaemonProc(tmp_path, monitors) as d:
            for _ in range(100):
                if value(await d.metrics(), "uptimed_sla_evaluated_timestamp_seconds"):
                    break
                await asyncio.sleep(0.2)
            for accept, end in (("", b""), (OPENMETRICS, b"# EOF\n")):
                body = await raw(d, accept)
                text = gzip.decompress(body)
                assert members(body) == [text]  # one member, whole
                assert b"probe_success{" in text and b"uptimed_up_seconds_total{" in text
                assert text.endswith(end) and text.count(b"# EOF") == (1 if end else 0)
            if shutil.which("curl") is None:
                pytest.skip("curl is not installed")
            url = f"http://127.0.0.1:{d.port}/metrics"
            out = subprocess.run(
                ["curl", "-sf", "--compressed", url], capture_output=True, check=True
            ).stdout
            assert b"probe_success{" in out and b"uptimed_up_seconds_total{" in out
