"""The status page and the customer portal over HTTP, against the real daemon.

One daemon runs for the module. Its config holds secrets where operators put them (a password
and a token in a target's URL, an API key in a header) and internal names (monitor and service
ids, a monitor's name, a private monitor with a public name that only its customer may see);
the probes' error messages name the loopback host and port. Every page, feed, badge, download
and JSON answer is searched for all of them.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import signal
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from multidict import CIMultiDict

from tests.support.daemon_proc import DaemonProc
from tests.support.targets import Target, serve_target

PLANTED = ("PlantedPw9x", "PlantedQ7z", "PlantedHdr3k")
INTERNAL = ("web-mon-id", "db-mon-id", "beta-mon-id", "shop-svc-id", "SecretInternalName",
            "127.0.0.1", "shop-slo-id", "beta-slo-id")  # fmt: skip


def _config(t: Target, closed: int, tmp: Path) -> str:
    return f"""
[portal]
title = "Example status"
secure_cookie = false

[[monitor]]
id = "web-mon-id"
name = "SecretInternalName"
kind = "http"
url = "http://ops:{PLANTED[0]}@127.0.0.1:{t.port}/status/200?token={PLANTED[1]}"
headers = {{ "X-Api-Key" = "{PLANTED[2]}" }}
public_name = "Website"
public = true

[[monitor]]
id = "db-mon-id"
kind = "tcp"
host = "127.0.0.1"
port = {closed}

[[monitor]]
id = "beta-mon-id"
kind = "http"
url = "http://127.0.0.1:{t.port}/status/200"
public = false
public_name = "Beta API"

[[service]]
id = "shop-svc-id"
monitors = ["web-mon-id", "db-mon-id"]
rule = "any"
public_name = "Shop"
public = true

[[slo]]
id = "shop-slo-id"
target = "shop-svc-id"
objective = 99.9
period = "month"
credits = [{{ below = 99.9, credit = 10 }}]

[[slo]]
id = "beta-slo-id"
target = "beta-mon-id"
objective = 99.5
period = "month"

[[customer]]
id = "acme"
name = "ACME Corp"
token_file = "{tmp / "acme.tokens"}"

[[customer]]
id = "beta"
name = "Beta Ltd"
token_file = "{tmp / "beta.tokens"}"

[[agreement]]
id = "acme-sla"
customer = "acme"
slos = ["shop-slo-id"]
effective_from = "2026-01-01T00:00:00Z"
obligations = {{ provider = "Answer within <b>1h</b>.", customer = "Report outages." }}

[[agreement]]
id = "beta-sla"
customer = "beta"
slos = ["beta-slo-id"]
effective_from = "2026-01-01T00:00:00Z"
"""


class Portal:
    def __init__(self, d: DaemonProc, tokens: dict[str, str]):
        self.d, self.tokens = d, tokens
        self.base = f"http://127.0.0.1:{d.port}"

    async def get(
        self,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> tuple[int, CIMultiDict[str], bytes]:
        async with aiohttp.ClientSession(cookies=cookies) as s:
            async with s.get(self.base + path, headers=headers, allow_redirects=False) as r:
                return r.status, CIMultiDict(r.headers), await r.read()

    async def sign_in(self, token: str) -> tuple[int, CIMultiDict[str], str | None]:
        async with aiohttp.ClientSession() as s:
            async with s.post(
                self.base + "/portal/", data={"token": token}, allow_redirects=False
            ) as r:
                cookie = r.cookies.get("uptimed_portal")
                return r.status, CIMultiDict(r.headers), None if cookie is None else cookie.value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def portal(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Portal]:
    tmp = tmp_path_factory.mktemp("portal")
    tokens = {"acme": secrets.token_urlsafe(32), "beta": secrets.token_hex(32)}
    for who, token in tokens.items():
        (tmp / f"{who}.tokens").write_text(f"# {who}'s portal token\n{token}\n")
    async with serve_target() as t:
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # bound, never listening: refused
        closed = sock.getsockname()[1]
        async with DaemonProc(tmp, _config(t, closed, tmp)) as d:
            await asyncio.sleep(4)  # a few probes: db is down, web is up
            yield Portal(d, tokens)
        sock.close()


def _headers_ok(headers: CIMultiDict[str], *, private: bool) -> None:
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    if private:
        assert "noindex" in headers["X-Robots-Tag"]
        assert headers["Cache-Control"].startswith("private")


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_status_page_shows_public_components_only(portal: Portal) -> None:
    status, headers, body = await portal.get("/status")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    _headers_ok(headers, private=False)
    html = body.decode()
    assert "Website" in html and "Shop" in html
    assert "Beta API" not in html  # public = false, though it has a public name
    assert '<main id="main">' in html and "<h1>Example status</h1>" in html
    assert "<script>" not in html and " style=" not in html  # nothing inline, per the CSP


async def test_status_json_and_etag(portal: Portal) -> None:
    status, headers, body = await portal.get("/status.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    page = json.loads(body)
    names = {c["name"]: c for c in page["components"]}
    assert set(names) == {"Shop", "Website"}
    assert names["Website"]["state"] == "up" and names["Shop"]["state"] == "up"  # rule any
    assert len(names["Shop"]["days"]) == 90
    etag = headers["ETag"]
    status, headers2, body2 = await portal.get("/status.json", headers={"If-None-Match": etag})
    assert status == 304 and body2 == b"" and headers2["ETag"] == etag
    status, _, _ = await portal.get("/status.json", headers={"If-None-Match": '"other"'})
    assert status == 200


async def test_badges(portal: Portal) -> None:
    status, headers, body = await portal.get("/status/badge/shop.svg")
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    svg = ET.fromstring(body)
    assert svg.get("aria-label") == "Shop: operational"
    status, _, body = await portal.get("/status/badge/website.svg?window=30d")
    label = ET.fromstring(body).get("aria-label", "")
    assert status == 200 and re.fullmatch(r"Website 30d: \d+\.\d\d %", label), label
    for missing in ("/status/badge/beta-api.svg", "/status/badge/none.svg", "/status/badge/shop"):
        status, _, _ = await portal.get(missing)
        assert status == 404, missing
    status, _, _ = await portal.get("/status/badge/shop.svg?window=365d")
    assert status == 400


async def test_feed_is_atom(portal: Portal) -> None:
    status, headers, body = await portal.get("/status/feed.atom")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(body)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"


async def test_a_wrong_token_gets_nothing(portal: Portal) -> None:
    status, headers, body = await portal.get("/portal/")
    assert status == 200 and b'<label for="token">' in body
    _headers_ok(headers, private=True)
    bodies = set()
    for wrong in ("nope", portal.tokens["acme"][:-1], portal.tokens["beta"].upper(), ""):
        status, headers, cookie = await portal.sign_in(wrong)
        assert status == 401 and cookie is None and "Set-Cookie" not in headers
        bodies.add(headers["ETag"] if "ETag" in headers else headers["Content-Length"])
    assert len(bodies) == 1  # the same answer, however close the guess
    for path in ("/portal/api/agreements", "/portal/api/agreements/acme-sla/periods"):
        status, headers, body = await portal.get(path, headers={"Authorization": "Bearer nope"})
        assert status == 401 and json.loads(body) == {
            "error": "sign in: send Authorization: Bearer TOKEN"
        }
    # Without a session, a page of the portal sends to the sign-in form, whatever it names.
    for path in ("/portal/agreements/acme-sla", "/portal/agreements/no-such"):
        status, headers, _ = await portal.get(path)
        assert status == 303 and headers["Location"] == "/portal/"


async def test_sign_in_with_a_cookie_and_see_only_ones_own(portal: Portal) -> None:
    status, headers, sid = await portal.sign_in(portal.tokens["acme"])
    assert status == 303 and headers["Location"] == "/portal/" and sid
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/portal" in cookie
    assert portal.tokens["acme"] not in json.dumps(list(headers.items()))
    jar = {"uptimed_portal": sid}
    status, _, body = await portal.get("/portal/", cookies=jar)
    assert status == 200 and b"ACME Corp" in body and b"acme-sla" in body
    assert b"beta-sla" not in body and b"Beta" not in body
    status, headers, body = await portal.get("/portal/agreements/acme-sla", cookies=jar)
    assert status == 200
    _headers_ok(headers, private=True)
    html = body.decode()
    assert "Answer within &lt;b&gt;1h&lt;/b&gt;." in html  # config text is escaped
    assert "provisional" in html
    # Another customer's agreement is as absent as one that does not exist.
    other = await portal.get("/portal/agreements/beta-sla", cookies=jar)
    none = await portal.get("/portal/agreements/no-such", cookies=jar)
    assert other[0] == none[0] == 404 and other[2] == none[2]


async def test_statements_and_the_api(portal: Portal) -> None:
    auth = {"Authorization": f"Bearer {portal.tokens['acme']}"}
    status, headers, body = await portal.get("/portal/api/agreements", headers=auth)
    assert status == 200
    _headers_ok(headers, private=True)
    listing = json.loads(body)
    assert [a["id"] for a in listing["agreements"]] == ["acme-sla"]
    periods = listing["agreements"][0]["periods"]
    label = periods[0]["period"]
    assert periods[0]["final"] is False  # the current month: provisional
    status, _, body = await portal.get("/portal/api/agreements/acme-sla/periods", headers=auth)
    statements = json.loads(body)["periods"]
    assert statements[-1]["period"] == label and statements[-1]["final"] is False
    current = statements[-1]["slos"][0]
    assert current["target"] == "Shop" and current["objective"] == 0.999
    for key in ("attainment", "verdict", "error_budget", "up_seconds", "down_seconds",
                "incident_count", "mttr_seconds", "longest_incident_seconds"):  # fmt: skip
        assert key in current  # the names of `uptimed report`'s JSON
    final = next(st for st in statements if st["final"])  # its figures no longer change
    path = f"/portal/agreements/acme-sla/periods/{final['period']}/statement"
    status, headers, body = await portal.get(path + ".json", headers=auth)
    download = json.loads(body)
    assert status == 200 and download == final | {"generated_at": download["generated_at"]}
    assert 'filename="acme-sla-' in headers["Content-Disposition"]
    status, headers, body = await portal.get(path + ".csv", headers=auth)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    head, row = body.decode().splitlines()[:2]
    assert "attainment" in head.split(",") and "Shop" in row
    status, _, _ = await portal.get("/portal/agreements/beta-sla/periods/2026-01/statement.json",
                                    headers=auth)  # fmt: skip
    assert status == 404
    status, headers, body = await portal.get("/portal/api/agreements/beta-sla/periods",
                                             headers=auth)  # fmt: skip
    assert status == 404 and json.loads(body) == {"error": "not found"}


async def test_nothing_internal_leaks_anywhere(portal: Portal) -> None:
    paths = ["/status", "/status/", "/status.json", "/status/feed.atom", "/portal/"]
    paths += ["/status/badge/shop.svg", "/status/badge/website.svg?window=7d"]
    answers = [await portal.get(path) for path in paths]
    for who, mine in (("acme", "acme-sla"), ("beta", "beta-sla")):
        auth = {"Authorization": f"Bearer {portal.tokens[who]}"}
        _, _, sid = await portal.sign_in(portal.tokens[who])
        assert sid
        jar = {"uptimed_portal": sid}
        _, _, body = await portal.get("/portal/api/agreements", headers=auth)
        labels = [p["period"] for p in json.loads(body)["agreements"][0]["periods"]]
        pages = ["/portal/", f"/portal/agreements/{mine}", f"/portal/agreements/{mine}/method"]
        pages += [f"/portal/agreements/{mine}/periods/{x}" for x in labels]
        downloads = [f"/portal/agreements/{mine}/periods/{x}/statement.{f}" for x in labels
                     for f in ("json", "csv")]  # fmt: skip
        for p in pages + downloads:
            answers.append(await portal.get(p, cookies=jar))
        answers.append(await portal.get("/portal/api/agreements", headers=auth))
        answers.append(await portal.get(f"/portal/api/agreements/{mine}/periods", headers=auth))
        for status, _, body in answers[-(len(pages) + len(downloads) + 2) :]:
            assert status == 200
            text = body.decode()
            other = "Beta" if who == "acme" else "ACME"
            assert other not in text and ("Website" not in text or who == "acme")
    assert len(answers) > 20
    for _, headers, body in answers:
        text = body.decode() + json.dumps(list(headers.items()))
        for secret in PLANTED + INTERNAL + tuple(portal.tokens.values()):
            assert secret not in text, (secret, text[:200])
        assert f":{portal.d.port}" not in body.decode()
    log = portal.d.log.read_text()
    assert all(t not in log for t in portal.tokens.values())


async def test_rotating_a_token_with_sighup(portal: Portal) -> None:
    old = portal.tokens["acme"]
    _, _, sid = await portal.sign_in(old)
    assert sid
    new = secrets.token_urlsafe(24)
    (portal.d.dir / "acme.tokens").write_text(new + "\n")
    portal.d.send(signal.SIGHUP)
    auth_old = {"Authorization": f"Bearer {old}"}
    for _ in range(50):
        status, _, _ = await portal.get("/portal/api/agreements", headers=auth_old)
        if status == 401:
            break
        await asyncio.sleep(0.1)
    assert status == 401
    status, headers, body = await portal.get("/portal/", cookies={"uptimed_portal": sid})
    assert status == 200 and b'<label for="token">' in body  # the session its token opened
    assert b"ACME Corp" not in body  # is over: the sign-in form again
    status, _, body = await portal.get(
        "/portal/api/agreements", headers={"Authorization": f"Bearer {new}"}
    )
    assert status == 200 and json.loads(body)["customer"] == "ACME Corp"
    portal.tokens["acme"] = new


async def test_forms_from_elsewhere_and_bodies_that_are_no_form(portal: Portal) -> None:
    token = portal.tokens["acme"]
    async with aiohttp.ClientSession() as s:
        url = portal.base + "/portal/"
        for headers in (
            {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
            {"Origin": "https://evil.example"},  # a browser without Sec-Fetch-Site
        ):
            async with s.post(url, data={"token": token}, headers=headers,
                              allow_redirects=False) as r:  # fmt: skip
                assert r.status == 403 and "Set-Cookie" not in r.headers
                assert "did not come from this site" in await r.text()  # not "wrong token"
        bad = {"Content-Type": "application/x-www-form-urlencoded; charset=bogus"}
        async with s.post(url, data=b"token=x", headers=bad, allow_redirects=False) as r:
            assert r.status == 400 and "Set-Cookie" not in r.headers
        torn = {"Content-Type": "multipart/form-data; boundary=xyz"}
        async with s.post(url, data=b"--xyz\r\nbroken", headers=torn) as r:
            assert r.status == 400
        # Its own form, as a browser sends it under Referrer-Policy: no-referrer.
        mine = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}
        async with s.post(url, data={"token": token}, headers=mine, allow_redirects=False) as r:
            assert r.status == 303 and "uptimed_portal" in r.cookies
    assert "Traceback" not in portal.d.log.read_text()


async def test_gzip_is_another_representation(portal: Portal) -> None:
    _, plain, body = await portal.get("/status", headers={"Accept-Encoding": "identity"})
    _, gz, zipped = await portal.get("/status", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain and gz["Content-Encoding"] == "gzip"
    assert plain["ETag"] != gz["ETag"] and "Accept-Encoding" in gz["Vary"]
    assert plain["Server"] == "uptimed"
    _, refused, _ = await portal.get("/status", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused
    status, headers, _ = await portal.get(
        "/status", headers={"Accept-Encoding": "gzip", "If-None-Match": f"W/{gz['ETag']}"}
    )
    assert status == 304 and "Accept-Encoding" in headers["Vary"]


async def test_the_pages_on_a_listener_of_their_own(tmp_path: Path) -> None:
    """[portal] listen: the pages there and only there, without the API and /metrics; the
    daemon's listener keeps those and no pages."""
    from tests.support.daemon_proc import free_port

    pages_port = free_port()
    monitors = (
        f'[portal]\nlisten = "127.0.0.1:{pages_port}"\n'
        '[[monitor]]\nid = "db"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'
        'public = true\npublic_name = "Database"\n'
    )
    async with DaemonProc(tmp_path, monitors) as d:
        async with aiohttp.ClientSession() as s:
            for path, want in (("/status", 200), ("/portal/", 200), ("/api/v1/monitors", 404),
                               ("/metrics", 404), ("/healthz", 404)):  # fmt: skip
                async with s.get(f"http://127.0.0.1:{pages_port}{path}") as r:
                    assert r.status == want, path
            async with s.get(f"http://127.0.0.1:{pages_port}/", allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"] == "/status"
            # What no page answers still says nothing of the server and carries the headers.
            for method, path in (("GET", "/nope"), ("GET", "/portal/logout")):
                async with s.request(method, f"http://127.0.0.1:{pages_port}{path}") as r:
                    assert r.status in (404, 405), path
                    assert r.headers["Server"] == "uptimed", path
                    assert r.headers["X-Content-Type-Options"] == "nosniff", path
                    assert "default-src 'none'" in r.headers["Content-Security-Policy"], path
        assert (await d.get("/status"))[0] == 404
        assert (await d.get("/api/v1/monitors"))[0] == 200
        assert "status page and portal on http://127.0.0.1:" in d.log.read_text()
        assert await d.stop() == 0
