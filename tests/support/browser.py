"""Headless Chromium through selenium, for tests of the pages the daemon serves on 127.0.0.1.

Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). The ChromeDriver is the
one on PATH, so selenium-manager never runs and nothing is downloaded. The browser runs as root in
a container (``--no-sandbox``), with a fresh temporary profile, and records its console
(``goog:loggingPrefs``) so that a test can assert that a page logged no errors.

The ``browser`` fixture (registered in ``tests/conftest.py``) yields a driver and quits it after.
Without chromium or chromedriver it skips, except under CI (``$CI`` set), where it fails.

Selenium calls block. A test whose server runs in its own event loop (aiohttp's ``AppRunner``
in an async test) must run them in a thread, or the loop cannot answer the browser and
``driver.get`` hangs until the page-load timeout::

    async def test_status_page(browser: WebDriver) -> None:
        async with serve_something() as url:                   # a server in this loop
            await asyncio.to_thread(browser.get, url + "/status")
            title = await asyncio.to_thread(lambda: browser.find_element(By.TAG_NAME, "h1").text)
            assert title == "Status"
            assert await asyncio.to_thread(console_errors, browser) == []

A driver is used from one thread at a time: ``to_thread`` calls awaited one after the other are
fine, concurrent ones on the same driver are not.

Viewport: ``--window-size`` cannot make a headless window narrower than 500 px, and the height
includes a simulated browser frame, so :func:`set_viewport` sets the page's viewport exactly
through CDP (``Emulation.setDeviceMetricsOverride``): ``PHONE`` (390x844, a mobile viewport that
honours ``<meta name="viewport">``) or ``DESKTOP`` (1280x900, the default). It holds across
navigations in that tab. Choose per test with ``set_viewport(browser, PHONE)`` or with
``@pytest.mark.parametrize("browser", [PHONE, DESKTOP], indirect=True)``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import BaseOptions
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

PAGE_LOAD_TIMEOUT = 20.0  # seconds; a blocked event loop shows up as a timeout, not a hang
SCRIPT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Viewport:
    """The page's viewport in CSS pixels; ``mobile`` makes Chromium honour the viewport meta."""

    width: int
    height: int
    mobile: bool = False


PHONE = Viewport(390, 844, mobile=True)
DESKTOP = Viewport(1280, 900)

# Console entries that are no fault of a page: Chromium asks for /favicon.ico by itself.
DEFAULT_IGNORE: tuple[str, ...] = (r"/favicon\.ico - Failed to load resource",)


def browser_binaries() -> tuple[str, str] | None:
    """The paths of ``chromium`` and ``chromedriver`` on PATH, or None if either is missing."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def require_browser() -> tuple[str, str]:
    """:func:`browser_binaries`, or skip the test; under CI (``$CI`` set) fail it instead."""
    found = browser_binaries()
    if found is None:
        reason = (
            "chromium and chromedriver are needed on PATH "
            "(apt-get install chromium chromium-driver; .ci/run does)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so a missing browser is an error: {reason}")
        pytest.skip(reason)
    return found


@contextlib.contextmanager
def start_browser(viewport: Viewport = DESKTOP) -> Iterator[WebDriver]:
    """Start headless Chromium with a temporary profile; quit it and remove the profile after.

    Blocking (about a second): from an async test, enter it before starting the loop's servers,
    or use the ``browser`` fixture.
    """
    chromium, chromedriver = require_browser()
    profile = tempfile.mkdtemp(prefix="uptimed-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container: the setuid/user-namespace sandbox is unavailable
        "--disable-dev-shm-usage",  # a container's /dev/shm may be tiny
        "--disable-gpu",
        f"--user-data-dir={profile}",
        f"--window-size={max(viewport.width, 500)},{viewport.height}",
        "--no-proxy-server",  # pages are on 127.0.0.1; never go through $http_proxy
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # selenium's own connection to chromedriver (localhost) must not use $HTTP_PROXY either. The
    # ChromeOptions override of this method only adds a DeprecationWarning (an error here).
    BaseOptions.ignore_local_proxy_environment_variables(options)
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
        try:
            driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
            driver.set_script_timeout(SCRIPT_TIMEOUT)
            set_viewport(driver, viewport)
            yield driver
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[WebDriver]:
    """A headless Chromium driver, DESKTOP unless parametrized (``indirect=True``) with a Viewport.

    A plain (sync) fixture: it starts the browser before the test's event loop runs anything.
    """
    viewport = getattr(request, "param", DESKTOP)
    assert isinstance(viewport, Viewport), f"browser is parametrized with Viewports: {viewport!r}"
    with start_browser(viewport) as driver:
        yield driver


def set_viewport(driver: WebDriver, viewport: Viewport) -> None:
    """Make the page's viewport exactly ``viewport`` (``innerWidth`` == ``viewport.width``)."""
    driver.set_window_size(max(viewport.width, 500), viewport.height)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": viewport.width,
            "height": viewport.height,
            "deviceScaleFactor": 1,
            "mobile": viewport.mobile,
        },
    )


def console_log(driver: WebDriver) -> list[dict[str, Any]]:
    """The console entries logged since the last call (reading drains the buffer).

    Each is a dict with ``level`` (``SEVERE``, ``WARNING``, ``INFO``, ``DEBUG``), ``source``
    (``console-api`` for console.*, ``javascript`` for uncaught errors, ``network`` for failed
    loads), ``message`` (``"<script url> <line>:<col> \\"text\\""`` for console.*) and
    ``timestamp``.
    """
    # Chrome's get_log(), spelled so that it types on any WebDriver (chromedriver serves it).
    entries: list[dict[str, Any]] = driver.execute(Command.GET_LOG, {"type": "browser"})["value"]
    return entries


def console_errors(driver: WebDriver, ignore: Iterable[str] = DEFAULT_IGNORE) -> list[str]:
    """The SEVERE console messages since the last read, minus those matching an ``ignore`` regex.

    console.error, uncaught exceptions, failed loads (404s included). Messages logged after the
    load event (by a fetch, a timer) arrive only when they happen: wait for the page first.
    """
    patterns = [re.compile(p) for p in ignore]
    return [
        e["message"]
        for e in console_log(driver)
        if e["level"] == "SEVERE" and not any(p.search(e["message"]) for p in patterns)
    ]


def screenshot(driver: WebDriver, path: str | os.PathLike[str]) -> Path:
    """Save a PNG of the whole page (beyond the viewport) at ``path``, and return the path.

    CDP ``Page.captureScreenshot`` with ``captureBeyondViewport``; the plain viewport screenshot
    of WebDriver if CDP fails. Take it after layout assertions: capturing beyond the viewport
    can leave the page without its scrollbar (15 px wider) until the next resize.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        out.write_bytes(base64.b64decode(shot["data"]))
    except Exception:
        if not driver.save_screenshot(str(out)):
            raise
    return out


def find_by_label(driver: WebDriver, label: str) -> WebElement:
    """The form control labelled ``label`` (whitespace-normalised text of its <label>).

    ``<label for="id">`` first, then a control nested in the label.
    """
    literal = _xpath_literal(label)
    found = driver.find_elements(By.XPATH, f"//label[normalize-space()={literal}]")
    if not found:
        raise LookupError(f"no <label> reads {label!r}")
    target = found[0].get_attribute("for")
    if target:
        return driver.find_element(By.ID, target)
    return found[0].find_element(By.XPATH, ".//*[self::input or self::select or self::textarea]")


def _xpath_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in text.split("'")) + ")"
