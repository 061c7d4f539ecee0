"""The browser helper itself: headless Chromium against a real aiohttp server on 127.0.0.1.

It sees a console.error from a same-origin script and none on a clean page, posts a form found
by its label, fits a responsive page into a 390 px phone viewport, and writes a full-page PNG.
The server runs in the test's event loop, so every selenium call goes through a thread.
"""

from __future__ import annotations

import asyncio
import html
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.browser import (
    DESKTOP,
    PHONE,
    console_errors,
    find_by_label,
    screenshot,
    set_viewport,
)

HEAD = '<!doctype html><html lang="en"><head><meta charset="utf-8">'
VIEWPORT_META = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def page(body: str, head: str = "") -> web.Response:
    return web.Response(
        text=f"{HEAD}{head}<title>t</title></head><body>{body}</body></html>",
        content_type="text/html",
    )


def smoke_app() -> web.Application:
    async def broken(request: web.Request) -> web.Response:
        return page('<p>broken</p><script src="/static/broken.js"></script>')

    async def clean(request: web.Request) -> web.Response:
        return page('<p>clean</p><script src="/static/clean.js"></script>')

    async def script(request: web.Request) -> web.Response:
        js = {
            "broken.js": 'console.error("boom from broken.js");',
            "clean.js": 'console.log("just saying"); console.warn("a warning is no error");',
        }[request.match_info["name"]]
        return web.Response(text=js, content_type="application/javascript")

    async def form(request: web.Request) -> web.Response:
        return page(
            '<form method="post" action="/greet">'
            '<label for="who">Your name</label> <input id="who" name="who">'
            '<label>Note <textarea name="note"></textarea></label>'
            '<button type="submit">Send</button></form>'
        )

    async def greet(request: web.Request) -> web.Response:
        data = await request.post()
        who, note = html.escape(str(data["who"])), html.escape(str(data["note"]))
        return page(f'<p id="greeting">Hello, {who}!</p><p id="note">{note}</p>')

    async def responsive(request: web.Request) -> web.Response:
        style = (
            "<style>body{margin:0;font-family:sans-serif}"
            ".cards{display:flex;flex-wrap:wrap;gap:8px;padding:8px}"
            ".card{flex:1 1 300px;min-width:0;height:200px;background:#8ac}"
            "table{width:100%;table-layout:fixed}td{overflow-wrap:anywhere}</style>"
        )
        cards = "".join(f'<div class="card">card {i}</div>' for i in range(8))
        table = "<table><tr>" + "<td>averyveryverylongunbreakableword</td>" * 3 + "</tr></table>"
        return page(f'<div class="cards">{cards}</div>{table}', head=VIEWPORT_META + style)

    app = web.Application()
    app.router.add_get("/broken", broken)
    app.router.add_get("/clean", clean)
    app.router.add_get("/static/{name}", script)
    app.router.add_get("/form", form)
    app.router.add_post("/greet", greet)
    app.router.add_get("/responsive", responsive)
    return app


@pytest.fixture
async def site() -> AsyncIterator[str]:
    runner = web.AppRunner(smoke_app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_console_errors_from_a_script_and_none_from_a_clean_page(
    browser: WebDriver, site: str
) -> None:
    await asyncio.to_thread(browser.get, f"{site}/broken")
    errors = await asyncio.to_thread(console_errors, browser)
    assert len(errors) == 1, errors
    assert f"{site}/static/broken.js" in errors[0]
    assert "boom from broken.js" in errors[0]

    await asyncio.to_thread(browser.get, f"{site}/clean")
    assert await asyncio.to_thread(console_errors, browser) == []


async def test_a_form_found_by_its_labels_posts(browser: WebDriver, site: str) -> None:
    def fill_and_send() -> tuple[str, str]:
        browser.get(f"{site}/form")
        find_by_label(browser, "Your name").send_keys("Ada <Lovelace>")
        find_by_label(browser, "Note").send_keys("first & last")
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        # click() does not wait for the next page to load: wait for the result explicitly.
        WebDriverWait(browser, 10, poll_frequency=0.05).until(
            lambda d: d.find_elements(By.ID, "greeting")
        )
        return (
            browser.find_element(By.ID, "greeting").text,
            browser.find_element(By.ID, "note").text,
        )

    # Several blocking calls in one thread hop: one to_thread for the whole interaction.
    greeting, note = await asyncio.to_thread(fill_and_send)
    assert greeting == "Hello, Ada <Lovelace>!"
    assert note == "first & last"
    assert await asyncio.to_thread(console_errors, browser) == []


@pytest.mark.parametrize("browser", [PHONE], indirect=True)
async def test_a_phone_viewport_fits_a_responsive_page(
    browser: WebDriver, site: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(browser.get, f"{site}/responsive")
    inner, scroll = await asyncio.to_thread(
        browser.execute_script,
        "return [window.innerWidth, document.documentElement.scrollWidth]",
    )
    assert inner == 390
    assert scroll <= 390

    png = await asyncio.to_thread(screenshot, browser, tmp_path / "shots" / "phone.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 390
    assert height > 844  # eight stacked 200 px cards: the whole page, not just the viewport

    # And back to a desktop viewport in the same browser.
    await asyncio.to_thread(set_viewport, browser, DESKTOP)
    assert await asyncio.to_thread(browser.execute_script, "return window.innerWidth") == 1280
