"""The status page and the customer portal in a real browser, against the real daemon.

One daemon runs for the module, over a database scripted before it starts: a monitor ("Website",
the only member of the service "Shop") with three past calendar months in the agreement's time
zone, one without downtime (met, no credit), one with an hour of it (missed: 10 %), one with ten
hours (missed: 25 %) and two maintenance windows, one announced in advance and one added
afterwards; the agreement begins on the first of the first month. The months are counted back
from today, so the test works on any day.

Every page loads in headless Chromium with no console error at desktop and phone width, and fits
a phone's width (a table scrolls in its own ``.scroll`` box); the token form signs in to an
HttpOnly cookie and out again; the ledger shows each month's verdict and credit. The HTML of
every page passes structural accessibility checks, and the state colours of the style sheet
reach 4.5:1 against their background in both colour schemes.

With ``UPTIMED_SCREENSHOTS`` set to a directory, full-page screenshots for the docs are saved
there: status.png, status-phone.png, ledger.png, period.png.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.browser import (
    DESKTOP,
    PHONE,
    console_errors,
    find_by_label,
    screenshot,
    set_viewport,
)
from tests.support.contrast import contrast
from tests.support.daemon_proc import DaemonProc
from uptimed.config.loader import load_config
from uptimed.store import Store

#: The async tests share the module's loop, the one the daemon fixture runs in.
in_module_loop = pytest.mark.asyncio(loop_scope="module")

TZ = "America/New_York"  # the agreement's zone: its months are not UTC's
HOUR = 3_600_000
DAY = 24 * HOUR
COOKIE = "uptimed_portal"
AGREEMENT = "acme-sla"
STYLE = Path(__file__).parents[2] / "uptimed" / "render" / "static" / "style.css"
STATES = ("up", "down", "maintenance", "unknown", "degraded")


# -- the scripted history ------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    label: str  # "2026-03", as the portal names a period
    start: int  # ms, 00:00 on the 1st in TZ
    end: int  # ms, exclusive

    def at(self, day: int, hour: int) -> int:
        """``hour``:00 on ``day`` of the month in TZ (never 02:00, which DST may skip)."""
        local = datetime.fromtimestamp(self.start / 1000, ZoneInfo(TZ))
        return _ms(local.replace(day=day, hour=hour))


@dataclass(frozen=True)
class Expected:
    """What the ledger must say of a final month."""

    down_ms: int
    maintenance_ms: int
    verdict: str
    credit: str
    rule: str
    incidents: int


@dataclass
class Scenario:
    now: int
    months: list[Month]  # the three past months, oldest first, then the current one
    outages: list[tuple[int, int, str]] = field(default_factory=list)  # start, end, cause
    windows: list[tuple[int, int, str, int]] = field(default_factory=list)  # start, end, why, at
    expected: dict[str, Expected] = field(default_factory=dict)

    @property
    def first(self) -> Month:
        return self.months[0]


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def calendar_months(now: int, back: int) -> list[Month]:
    """The ``back`` calendar months before the current one in TZ, oldest first, and the current
    one (to the 1st of the next)."""
    tz = ZoneInfo(TZ)
    today = datetime.fromtimestamp(now / 1000, tz)
    starts = []
    for k in range(back, -2, -1):
        m = today.month - 1 - k
        starts.append(datetime(today.year + m // 12, m % 12 + 1, 1, tzinfo=tz))
    return [
        Month(f"{a.year:04d}-{a.month:02d}", _ms(a), _ms(b))
        for a, b in zip(starts, starts[1:], strict=False)
    ]


def scenario(now: int) -> Scenario:
    months = calendar_months(now, 3)
    met, one_hour, ten_hours, _current = months
    s = Scenario(now, months)
    s.outages = [
        (one_hour.at(10, 9), one_hour.at(10, 9) + HOUR, "timeout"),
        (ten_hours.at(5, 10), ten_hours.at(5, 10) + 6 * HOUR, "refused"),
        (ten_hours.at(20, 12), ten_hours.at(20, 12) + 4 * HOUR, "http_status"),
    ]
    advance = ten_hours.at(12, 6)
    afterwards = ten_hours.at(25, 9)
    s.windows = [
        (advance, advance + 2 * HOUR, "Database upgrade", advance - 3 * DAY),  # in advance
        (afterwards, afterwards + HOUR, "Upstream outage excused by contract", afterwards + DAY),
        (now + 3 * DAY, now + 3 * DAY + HOUR, "Network switch replacement", now),  # planned
    ]
    s.expected = {
        met.label: Expected(0, 0, "Met", "none",
                            "objective met: no credit (credits begin below 99.9 %)", 0),
        one_hour.label: Expected(HOUR, 0, "Missed", "10 % eligible",
                                 "below 99.9 %: 10 % of the monthly charge", 1),
        ten_hours.label: Expected(10 * HOUR, 3 * HOUR, "Missed", "25 % eligible",
                                  "below 99 %: 25 % of the monthly charge", 2),
    }  # fmt: skip
    return s


def build_database(db: Path, config: Path, s: Scenario, history_end: int) -> None:
    """The project's schema (its Store), then the history with sqlite3 (as bench/sla.py does):
    one run from a day before the first month to ``history_end``, the monitor's timeline over
    it (UP but for the outages) and the ad-hoc maintenance windows."""
    store = Store(str(db))
    store.open()
    store.close()
    sha = load_config(config).sha256
    started = s.first.start - DAY
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        kinds = dict(conn.execute("SELECT name, id FROM error_kinds"))
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO runs (started, ended, heartbeat, end_reason, pid, version,"
            " config_sha256) VALUES (?, ?, ?, 'stop', 4242, 'test', ?)",
            (started, history_end, history_end, sha),
        )
        conn.execute(
            "INSERT INTO monitors (id, key, kind, name, first_seen) VALUES (1, 'web', 'http',"
            " 'web', ?)",
            (started,),
        )
        rows, cursor = [], started
        for start, end, cause in sorted(s.outages):
            rows += [(1, cursor, start, 1, None), (1, start, end, 0, kinds[cause])]
            cursor = end
        rows.append((1, cursor, history_end, 1, None))
        conn.executemany(
            "INSERT INTO timeline (monitor, start, end, state, cause) VALUES (?,?,?,?,?)", rows
        )
        conn.executemany(
            "INSERT INTO maintenance (target_kind, target, start, end, reason, created_by,"
            " created_at) VALUES ('service', 'shop', ?, ?, ?, 'ops@example.com', ?)",
            s.windows,
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def config_toml(port: int, tokens: Path, effective_from: int) -> str:
    since = datetime.fromtimestamp(effective_from / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""
[portal]
title = "Example status"
secure_cookie = false

[[monitor]]
id = "web"
kind = "http"
url = "http://127.0.0.1:{port}/"
public_name = "Website"
public = true

[[service]]
id = "shop"
monitors = ["web"]
rule = "all"
public_name = "Shop"
public = true

[[slo]]
id = "shop-availability"
target = "shop"
objective = 99.9
period = "month"
credits = [{{ below = 99.9, credit = 10 }}, {{ below = 99.0, credit = 25 }}]

[[customer]]
id = "acme"
name = "ACME Corp"
token_file = "{tokens}"

[[agreement]]
id = "{AGREEMENT}"
name = "ACME hosting"
customer = "acme"
slos = ["shop-availability"]
effective_from = "{since}"
timezone = "{TZ}"
credit_cap = 50
obligations = {{ provider = "Answer within 1h, around the clock.", customer = "Report \
outages to ops@example.com." }}
"""


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Site:
    d: DaemonProc
    s: Scenario
    token: str
    base: str

    @property
    def ledger(self) -> str:
        return f"/portal/agreements/{AGREEMENT}"

    def period(self, label: str) -> str:
        return f"{self.ledger}/periods/{label}"

    @property
    def public_pages(self) -> list[str]:
        return ["/status", "/status/components/shop", "/status/components/website"]

    @property
    def portal_pages(self) -> list[str]:
        pages = ["/portal/", self.ledger, f"{self.ledger}/method"]
        return pages + [self.period(m.label) for m in self.s.months]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    tmp = tmp_path_factory.mktemp("portal-browser")
    # The monitored target answers from a thread of its own: it must answer while the test's
    # loop waits on the browser, or between tests when that loop does not run at all.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    token = secrets.token_urlsafe(32)
    (tmp / "acme.tokens").write_text(f"# ACME's portal token\n{token}\n")
    now = int(time.time() * 1000)
    s = scenario(now)
    d = DaemonProc(
        tmp,
        config_toml(server.server_address[1], tmp / "acme.tokens", s.first.start),
        defaults='interval = "2s"\ntimeout = "1s"\n',
    )
    build_database(d.db, d.config, s, int(time.time() * 1000) - 1000)
    try:
        async with d:
            site = Site(d, s, token, f"http://127.0.0.1:{d.port}")
            # The first probe makes both components up; a page computed before it is kept for
            # a few seconds, so wait until the status page says so.
            for _ in range(100):
                status, body = await d.get("/status")
                if status == 200 and body.count("state state-up") == 2:
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError(f"the components never came up:\n{d.log.read_text()}")
            yield site
    finally:
        server.shutdown()
        server.server_close()


async def sign_in_http(site: Site) -> dict[str, str]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            site.base + "/portal/", data={"token": site.token}, allow_redirects=False
        ) as r:
            assert r.status == 303, r.status
            return {COOKIE: r.cookies[COOKIE].value}


async def fetch(site: Site, path: str, cookies: dict[str, str] | None = None) -> str:
    async with aiohttp.ClientSession(cookies=cookies) as http:
        async with http.get(site.base + path, allow_redirects=False) as r:
            assert r.status == 200, (path, r.status)
            return await r.text()


# -- the browser ---------------------------------------------------------------------------------


def wait_for(driver: WebDriver, css: str, text: str | None = None) -> None:
    def found(d: WebDriver) -> bool:
        els = d.find_elements(By.CSS_SELECTOR, css)
        return bool(els) and (text is None or any(text in e.text for e in els))

    WebDriverWait(driver, 10, poll_frequency=0.05).until(found)


def sign_in(driver: WebDriver, base: str, token: str) -> str:
    """Post ``token`` through the form; returns the h1 of the page it lands on."""
    driver.get(base + "/portal/")
    old = driver.find_element(By.TAG_NAME, "h1")
    find_by_label(driver, "Access token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    WebDriverWait(driver, 10, poll_frequency=0.05).until(staleness_of(old))
    return str(driver.find_element(By.TAG_NAME, "h1").text)


def overflow(driver: WebDriver, width: int) -> tuple[int, int, list[str]]:
    """``(scrollWidth, innerWidth, what sticks out)``: the elements whose right edge passes
    ``width``, outside a ``.scroll`` box (where a table may scroll).

    A mobile viewport zooms out to fit a page wider than the device: its ``innerWidth`` grows
    with the page, so ``scrollWidth <= innerWidth`` alone would pass an overflowing page. Both
    are compared with the device's width.
    """
    scroll, inner, wide = driver.execute_script(
        """
        const w = arguments[0], out = [];
        for (const el of document.body.querySelectorAll('*')) {
          if (el.closest('.scroll') && !el.classList.contains('scroll')) continue;
          const r = el.getBoundingClientRect();
          if (r.right > w + 0.5) {
            out.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
                     + ' right=' + Math.round(r.right));
          }
        }
        return [document.documentElement.scrollWidth, window.innerWidth, out.slice(0, 8)];
        """,
        width,
    )
    return int(scroll), int(inner), list(wide)


@in_module_loop
@pytest.mark.parametrize("browser", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
async def test_every_page_loads_clean_and_fits(
    site: Site, browser: WebDriver, request: pytest.FixtureRequest
) -> None:
    """No console error on any page, and at phone width nothing wider than the viewport."""
    viewport = request.node.callspec.params["browser"]

    def visit(path: str) -> tuple[list[str], tuple[int, int, list[str]]]:
        browser.get(site.base + path)
        wait_for(browser, "footer")
        return console_errors(browser), overflow(browser, viewport.width)

    def walk() -> dict[str, tuple[list[str], tuple[int, int, list[str]]]]:
        seen = {path: visit(path) for path in site.public_pages}
        seen["/portal/ (signed out)"] = visit("/portal/")
        assert sign_in(browser, site.base, site.token) == "ACME Corp: agreements"
        seen |= {path: visit(path) for path in site.portal_pages}
        return seen

    seen = await asyncio.to_thread(walk)
    assert len(seen) == 3 + 1 + 3 + len(site.s.months)
    errors = {path: e for path, (e, _) in seen.items() if e}
    assert errors == {}
    if viewport is PHONE:
        w = PHONE.width
        too_wide = {path: o for path, (_, o) in seen.items() if o[0] > w or o[1] != w or o[2]}
        assert too_wide == {}, f"wider than {w} px (scrollWidth, innerWidth, what sticks out)"


@in_module_loop
async def test_the_token_flow(site: Site, browser: WebDriver) -> None:
    def flow() -> dict[str, Any]:
        out: dict[str, Any] = {}
        wrong = site.token[:-1] + ("A" if site.token[-1] != "A" else "B")
        out["wrong"] = sign_in(browser, site.base, wrong)
        out["alert"] = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
        out["wrong_cookies"] = browser.get_cookies()
        out["form_again"] = bool(browser.find_elements(By.ID, "token"))
        # A wrong token is answered 401, which Chromium logs about the document itself.
        out["wrong_console"] = console_errors(browser)
        out["right"] = sign_in(browser, site.base, site.token)
        out["url"] = browser.current_url
        out["listed"] = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "main h2 a")]
        out["cookie"] = browser.get_cookie(COOKIE)
        out["js_cookie"] = browser.execute_script("return document.cookie")
        out["console"] = console_errors(browser)
        browser.find_element(By.CSS_SELECTOR, "nav button[type=submit]").click()
        wait_for(browser, "label[for=token]")
        out["after_out"] = browser.find_element(By.TAG_NAME, "h1").text
        out["cookies_after"] = browser.get_cookies()
        browser.get(site.base + site.ledger)  # the session is over: back to the form
        wait_for(browser, "footer")
        out["ledger_after"] = (browser.current_url, bool(browser.find_elements(By.ID, "token")))
        return out

    out = await asyncio.to_thread(flow)
    assert out["wrong"] == "Customer SLA portal"
    assert out["alert"] == "That token was not accepted."
    assert out["wrong_cookies"] == [] and out["form_again"]
    [logged] = out["wrong_console"]
    assert f"{site.base}/portal/ - Failed to load resource" in logged and "401" in logged
    assert out["right"] == "ACME Corp: agreements"
    assert out["url"] == site.base + "/portal/"
    assert out["listed"] == ["ACME hosting"]
    cookie = out["cookie"]
    assert isinstance(cookie, dict) and cookie["httpOnly"] is True, cookie
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/portal"
    assert cookie["value"] and cookie["value"] != site.token
    assert COOKIE not in str(out["js_cookie"]) and cookie["value"] not in str(out["js_cookie"])
    assert out["console"] == []
    assert out["after_out"] == "Customer SLA portal"
    assert out["cookies_after"] == []
    assert out["ledger_after"] == (site.base + "/portal/", True)


@dataclass
class Row:
    """A row of the ledger: its cells by their column's heading, and its verdict's text."""

    cells: dict[str, str]
    verdict: str
    status: str = ""

    def cell(self, *heading: str) -> str:
        """The cell under the first column whose heading starts with one of ``heading``."""
        found = [v for k, v in self.cells.items() if k.startswith(heading)]
        assert found, (heading, self.cells)
        return found[0]

    @property
    def text(self) -> str:
        """Every cell as "heading: text", a line each."""
        return "\n".join(f"{k}: {v}" for k, v in self.cells.items())


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('0.001'), rounding=ROUND_FLOOR)} %"


def _duration(ms: int) -> str:
    h, m = divmod(ms // 60_000, 60)
    return "0s" if ms == 0 else f"{h}h{m:02d}m" if h else f"{m}m00s"


@in_module_loop
async def test_the_ledger_shows_each_months_verdict_and_credit(
    site: Site, browser: WebDriver
) -> None:
    def read() -> tuple[list[str], list[list[str]], str, list[list[str]]]:
        sign_in(browser, site.base, site.token)
        browser.get(site.base + site.ledger)
        wait_for(browser, "table.ledger")
        heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.ledger thead th")]
        rows = [
            [c.text for c in tr.find_elements(By.XPATH, "./th|./td")]
            + [v.text for v in tr.find_elements(By.CSS_SELECTOR, ".verdict")]
            for tr in browser.find_elements(By.CSS_SELECTOR, "table.ledger tbody tr")
        ]
        ten = site.s.months[2]
        browser.get(site.base + site.period(ten.label))
        wait_for(browser, "footer")
        text = browser.find_element(By.TAG_NAME, "main").text
        tables = [
            [c.text for c in tr.find_elements(By.XPATH, "./th|./td")]
            for tr in browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")
        ]
        return heads, rows, text, tables

    heads, rows, period_text, period_rows = await asyncio.to_thread(read)
    # The columns by what they hold, not where: a figure may share a cell with others.
    assert heads[:2] == ["Period", "Objective"] and "Credit" in heads, heads
    by_label: dict[str, Row] = {}
    for cells in rows:
        assert len(cells) == len(heads) + 1, (heads, cells)  # one SLO: no total row
        row = Row(dict(zip(heads, cells, strict=False)), cells[-1])
        label, _, row.status = row.cell("Period").partition("\n")
        by_label[label] = row
    months = site.s.months
    assert list(by_label) == [m.label for m in reversed(months)]  # newest first
    assert by_label[months[-1].label].status == "provisional, to date"
    for m in months[:-1]:
        want, got = site.s.expected[m.label], by_label[m.label]
        eligible = m.end - m.start - want.maintenance_ms
        achieved = Decimal(eligible - want.down_ms) / Decimal(eligible)
        assert got.status == "final", got
        assert got.cell("Objective") == "Shop availability ≥ 99.9 %"
        assert got.verdict == f"{'✓' if want.verdict == 'Met' else '✕'} {want.verdict}", got
        assert got.cell("Credit").splitlines()[0] == want.credit, (m.label, got)
        assert want.rule in got.text, (m.label, want.rule, got)
        [shown] = re.findall(r"\b(\d+\.\d{3}) %", got.text)  # the one figure to 3 places
        assert abs(Decimal(shown) - Decimal(_percent(achieved)[:-2])) <= Decimal("0.001"), (
            m.label, shown, _percent(achieved),
        )  # fmt: skip
        assert got.cell("Used", "Downtime").split()[0] == _duration(want.down_ms), got
        assert got.cell("Incidents").split()[0] == str(want.incidents), got
        windows = " (2 windows)" if want.maintenance_ms else ""
        assert _duration(want.maintenance_ms) + windows in got.cell("Maintenance", "Excluded")
        for fact in (r"coverage:? 100\.00 %", r"no data:? 0s\b"):
            assert re.search(fact, got.text, re.I), (fact, got)
    for fact in (r"MTTR:? 5h00m", r"longest:? 6h00m"):
        assert re.search(fact, by_label[months[2].label].text, re.I), fact
    # The drill-down of the month with maintenance: its outages, and which window was announced.
    assert f"ACME hosting: {months[2].label}" in period_text
    assert "Final: this period has ended" in period_text
    assert "Credit for the period: 25 % of the charge." in period_text
    outages = [r for r in period_rows if len(r) == 5 and r[-1] in ("connection refused",
                                                                   "error status")]  # fmt: skip
    assert [(o[2], o[4]) for o in outages] == [("6h00m", "connection refused"),
                                               ("4h00m", "error status")]  # fmt: skip
    windows = {r[3]: r[4] for r in period_rows if r[-1] in ("in advance", "added afterwards")}
    assert windows == {
        "Database upgrade": "in advance",
        "Upstream outage excused by contract": "added afterwards",
    }


@in_module_loop
async def test_screenshots_for_the_docs(site: Site, browser: WebDriver) -> None:
    where = os.environ.get("UPTIMED_SCREENSHOTS")
    if not where:
        pytest.skip("set UPTIMED_SCREENSHOTS to a directory to save the docs' screenshots")
    out = Path(where)
    period = site.period(site.s.months[2].label)

    def shoot() -> list[Path]:
        shots = []
        browser.get(site.base + "/status")
        wait_for(browser, "footer")
        shots.append(screenshot(browser, out / "status.png"))
        set_viewport(browser, PHONE)
        browser.get(site.base + "/status")
        wait_for(browser, "footer")
        shots.append(screenshot(browser, out / "status-phone.png"))
        set_viewport(browser, DESKTOP)
        sign_in(browser, site.base, site.token)
        for path, name in ((site.ledger, "ledger.png"), (period, "period.png")):
            browser.get(site.base + path)
            wait_for(browser, "footer")
            shots.append(screenshot(browser, out / name))
        return shots

    for png in await asyncio.to_thread(shoot):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- accessibility of the HTML -------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()

    def find(self, tag: str) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag]

    def text(self, *, visible: bool = False) -> str:
        """The text inside; ``visible``: leaving out what is hidden from people (aria-hidden,
        hidden)."""
        if visible and (self.attrs.get("aria-hidden") == "true" or "hidden" in self.attrs):
            return ""
        parts = [c if isinstance(c, str) else c.text(visible=visible) for c in self.children]
        return " ".join(" ".join(parts).split())

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def __repr__(self) -> str:
        shown = " ".join(f'{k}="{v}"' for k, v in self.attrs.items())
        return f"<{self.tag}{' ' if shown else ''}{shown}>"


class Tree(HTMLParser):
    """A document as nodes; an end tag that closes nothing open, or one that closes others
    still open, is a markup problem (recorded in ``problems``)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.open = self.root
        self.problems: list[str] = []
        self.feed(html)
        self.close()
        if self.open is not self.root:
            self.problems.append(f"unclosed at the end: {self.open!r}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.open)
        self.open.children.append(node)
        if tag not in VOID:
            self.open = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.open))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        node: Node | None = self.open
        while node is not None and node.tag != tag:
            node = node.parent
        if node is None:
            self.problems.append(f"</{tag}> closes nothing open (inside {self.open!r})")
            return
        if node is not self.open:
            self.problems.append(f"</{tag}> closes {self.open!r} too")
        assert node.parent is not None
        self.open = node.parent

    def handle_data(self, data: str) -> None:
        self.open.children.append(data)


def accessibility_problems(html: str) -> list[str]:
    tree = Tree(html)
    doc = tree.root
    problems = list(tree.problems)
    htmls = doc.find("html")
    if len(htmls) != 1 or not htmls[0].attrs.get("lang"):
        problems.append("<html> has no lang")
    for tag in ("main", "header", "footer"):
        n = len(doc.find(tag))
        if (tag == "main" and n != 1) or n < 1:
            problems.append(f"{n} <{tag}> (want {'exactly one' if tag == 'main' else 'one'})")
    levels = [(int(n.tag[1]), n.text()) for n in doc.walk() if re.fullmatch(r"h[1-6]", n.tag)]
    if [lvl for lvl, _ in levels].count(1) != 1:
        problems.append(f"{[lvl for lvl, _ in levels].count(1)} <h1> (want one)")
    previous = 0
    for lvl, text in levels:
        if lvl > previous + 1:
            problems.append(f"<h{lvl}> {text!r} after <h{previous}>: a level skipped")
        previous = lvl
    ids = [n.attrs["id"] for n in doc.walk() if "id" in n.attrs]
    problems += [f"id {i!r} twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for n in doc.walk():
        for ref in n.attrs.get("aria-labelledby", "").split():
            if ref not in ids:
                problems.append(f"{n!r}: aria-labelledby names no element")
    labelled = {n.attrs.get("for") for n in doc.find("label")}
    for n in doc.walk():
        if n.tag == "img" and "alt" not in n.attrs:
            problems.append(f"{n!r} has no alt")
        if n.tag in ("input", "select", "textarea") and n.attrs.get("type") != "hidden":
            if not n.attrs.get("id") or n.attrs["id"] not in labelled:
                problems.append(f"{n!r} has no <label for> naming its id")
        if n.tag == "button" and not n.text(visible=True) and not n.attrs.get("aria-label"):
            problems.append(f"{n!r} has no text")
        if n.tag == "svg" and n.attrs.get("role") == "img" and not n.attrs.get("aria-label"):
            problems.append(f"{n!r} has no aria-label")
        if n.tag == "table":
            captions = [c for c in n.children if isinstance(c, Node) and c.tag == "caption"]
            if len(captions) != 1 or not captions[0].text():
                problems.append(f"a table has no <caption> (its text: {n.text()[:60]!r})")
            if not n.find("th"):
                problems.append(f"a table has no <th> (caption {n.text()[:40]!r})")
        if n.tag == "th" and n.attrs.get("scope") not in ("col", "row", "colgroup", "rowgroup"):
            problems.append(f"<th> {n.text()!r} has no scope")
        if any(c.startswith(("state-", "verdict-")) for c in n.classes):
            if not re.search(r"\w", n.text(visible=True)):
                problems.append(f"{n!r} shows its state by colour alone")
    return problems


@in_module_loop
async def test_every_page_is_accessible_html(site: Site) -> None:
    jar = await sign_in_http(site)
    pages = {p: await fetch(site, p) for p in [*site.public_pages, "/portal/"]}
    pages["/portal/ (signed in)"] = await fetch(site, "/portal/", jar)
    pages |= {p: await fetch(site, p, jar) for p in site.portal_pages[1:]}
    async with aiohttp.ClientSession() as http:
        async with http.post(site.base + "/portal/", data={"token": "nope"}) as r:
            assert r.status == 401
            pages["/portal/ (wrong token)"] = await r.text()
    found = {path: accessibility_problems(html) for path, html in pages.items()}
    assert {path: p for path, p in found.items() if p} == {}
    # The checks see what they check: state words, verdicts, bars, tables, the form.
    status = Tree(pages["/status"]).root
    assert len([n for n in status.walk() if "state-up" in n.classes]) == 3  # overall + 2
    assert len([n for n in status.find("svg") if n.attrs.get("role") == "img"]) == 2
    ledger = Tree(pages[site.ledger]).root
    assert len(ledger.find("th")) >= 5 + len(site.s.months)  # the headings and each period's
    assert "Planned:" in Tree(pages["/status"]).root.text()  # the announced window
    login = Tree(pages["/portal/"]).root
    assert [n.attrs.get("id") for n in login.find("input")] == ["token"]


def test_accessibility_checks_catch_faults() -> None:
    """The checker itself, on a page with one fault of each kind."""
    bad = (
        "<!doctype html><html><head><title>t</title></head><body><main><h1>A</h1><h3>C</h3>"
        '<h1>B</h1><img src="x.png"><input id="q"><label for="other">L</label><button></button>'
        '<svg role="img"></svg><table><tr><th>h</th></tr></table>'
        '<p class="state state-up"><span aria-hidden="true">✓</span></p></main>'
        '<main></main><div id="x"></div><div id="x"></div></body></html>'
    )
    problems = "\n".join(accessibility_problems(bad))
    for fault in ("no lang", "2 <main>", "0 <header>", "0 <footer>", "2 <h1>", "a level skipped",
                  "no alt", "no <label for>", "has no text", "no aria-label", "no <caption>",
                  "no scope", "colour alone", "'x' twice"):  # fmt: skip
        assert fault in problems, (fault, problems)


# -- contrast ------------------------------------------------------------------------------------


def custom_properties(css: str) -> dict[str, dict[str, str]]:
    """The custom properties of ``:root`` ("light") and of ``:root`` inside
    ``@media (prefers-color-scheme: dark)`` ("dark"), by name without the dashes."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    dark = re.search(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)\s*\{(.*?\})\s*\}",
                     css, re.S)  # fmt: skip
    assert dark, "no @media (prefers-color-scheme: dark) block"
    light_css = css[: dark.start()] + css[dark.end() :]

    def root_vars(text: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for block in re.findall(r"(?:^|\})\s*:root\s*\{([^}]*)\}", text):
            out |= dict(re.findall(r"--([\w-]+)\s*:\s*([^;]+?)\s*(?:;|$)", block))
        return out

    return {"light": root_vars(light_css), "dark": root_vars(dark[1])}


def test_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # WCAG's example
    assert contrast("#fff", "#ffffff") == 1.0


def test_state_colours_reach_4_5_to_1_in_both_schemes() -> None:
    schemes = custom_properties(STYLE.read_text())
    assert schemes["light"]["bg"] != schemes["dark"]["bg"]  # both blocks were read
    ratios = {
        (scheme, name): contrast(props[name], props["bg"])
        for scheme, props in schemes.items()
        for name in STATES
    }
    assert len(ratios) == 10
    failing = {k: f"{r:.3f}:1, short by {4.5 - r:.3f}" for k, r in ratios.items() if r < 4.5}
    shown = {k: round(r, 2) for k, r in ratios.items()}
    assert failing == {}, f"state colours against --bg: {shown}"


def test_state_colours_reach_4_5_to_1_on_the_panels_they_are_shown_on() -> None:
    schemes = custom_properties(STYLE.read_text())
    text_states = ("up", "down", "maintenance", "unknown")  # .state-*, .verdict-* text
    ratios = {
        (scheme, name): contrast(props[name], props["panel"])
        for scheme, props in schemes.items()
        for name in text_states
    }
    failing = {k: f"{r:.3f}:1, short by {4.5 - r:.3f}" for k, r in ratios.items() if r < 4.5}
    assert failing == {}, f"state colours against --panel: {ratios}"


def test_the_bars_reach_3_to_1_on_their_cards() -> None:
    """The daily bars are graphics: WCAG's 3:1 against the card (--panel) they are drawn on,
    the no-data bars included."""
    schemes = custom_properties(STYLE.read_text())
    ratios = {
        (scheme, name): contrast(props[name], props["panel"])
        for scheme, props in schemes.items()
        for name in ("up", "degraded", "down", "maintenance", "nodata")
    }
    assert {k: r for k, r in ratios.items() if r < 3.0} == {}, ratios
