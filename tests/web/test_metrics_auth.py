"""Credentials on /metrics: a bearer token, basic auth, or either; /healthz and / stay open.

Against a real aiohttp server on loopback (the daemon's own app and endpoint), and once against
the real daemon with the credentials in its config file.
"""

from __future__ import annotations

import asyncio
import base64
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse

from tests.support.daemon_proc import DaemonProc
from uptimed.config import loads_config
from uptimed.model.config import Config
from uptimed.web.api import Api
from uptimed.web.app import MetricsEndpoint, make_app
from uptimed.web.metrics import MonitorCollector, SelfMetrics

TOKEN = "m3trics-t0ken"
USER, PASSWORD = "prometheus", "pa:ss wörd"  # a colon and a non-ASCII letter in the password
API_TOKEN = "api-t0ken-unchanged"
OM = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"

CONFIG = """
[daemon]
database = "{db}"
location = "fra1"
api_token = "{api}"
{credentials}

[[monitor]]
id = "web"
kind = "tcp"
host = "127.0.0.1"
port = 9
"""

BEARER = f'metrics_token = "{TOKEN}"'
BASIC = f'metrics_username = "{USER}"\nmetrics_password = "{PASSWORD}"'


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def config_with(tmp_path: Path, credentials: str) -> Config:
    text = CONFIG.format(db=tmp_path / "u.db", api=API_TOKEN, credentials=credentials)
    return loads_config(text, str(tmp_path / "c.toml"))


async def serve(config: Config) -> tuple[web.AppRunner, str]:
    ep = MetricsEndpoint(
        SelfMetrics(), MonitorCollector(lambda: (), location="fra1"), None, lambda: config
    )
    # No store: the API requests made here never reach it.
    api = Api(lambda: config, dict, None, config.daemon.api_token)  # type: ignore[arg-type]
    runner = web.AppRunner(make_app(ep, lambda: (True, {"status": "ok"}), api), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def open_server(tmp_path: Path) -> AsyncIterator[str]:
    runner, url = await serve(config_with(tmp_path, ""))
    yield url
    await runner.cleanup()


@pytest.fixture(params=["bearer", "basic", "both"])
async def guarded(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    creds = {"bearer": BEARER, "basic": BASIC, "both": BEARER + "\n" + BASIC}[request.param]
    runner, url = await serve(config_with(tmp_path, creds))
    yield request.param, url
    await runner.cleanup()


async def get(
    url: str, headers: dict[str, str] | None = None
) -> tuple[int, str, CIMultiDictProxy[str]]:
    async with aiohttp.ClientSession() as s:
        async with s.get(url, headers=headers or {}) as r:
            return r.status, await r.text(), r.headers


async def test_without_credentials_configured_metrics_are_open(open_server: str) -> None:
    status, body, _ = await get(open_server + "/metrics")
    assert status == 200 and "uptimed_build_info{" in body
    status, body, _ = await get(open_server + "/metrics", {"Authorization": "Bearer whatever"})
    assert status == 200 and "uptimed_build_info{" in body


async def test_the_right_credentials_and_only_they_read_metrics(guarded: tuple[str, str]) -> None:
    kind, url = guarded
    right_bearer = {"Authorization": f"Bearer {TOKEN}"}
    right_basic = {"Authorization": basic(USER, PASSWORD)}
    accepted = {
        "bearer": [right_bearer, {"Authorization": f"bearer   {TOKEN}"}],
        "basic": [right_basic],
        "both": [right_bearer, right_basic],
    }[kind]
    refused: list[dict[str, str]] = [
        {},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": "Bearer "},
        {"Authorization": TOKEN},
        {"Authorization": basic(USER, PASSWORD + "x")},
        {"Authorization": basic(USER + "x", PASSWORD)},
        {"Authorization": basic("", "")},
        {"Authorization": "Basic " + base64.b64encode(USER.encode()).decode()},  # no colon
        {"Authorization": "Basic %%%not-base64"},
        {"Authorization": f"Token {TOKEN}"},
        {"Authorization": f"Bearer {API_TOKEN}"},  # the API's token is not the metrics'
    ]
    if kind == "bearer":
        refused.append(right_basic)  # basic auth not configured: refused even if right
    if kind == "basic":
        refused.append(right_bearer)
    for headers in accepted:
        status, body, _ = await get(url + "/metrics", headers)
        assert status == 200 and "uptimed_build_info{" in body, headers
        assert 'location="fra1"' in body
    for headers in refused:
        status, body, h = await get(url + "/metrics", headers)
        assert status == 401, headers
        assert "uptimed_" not in body and "# TYPE" not in body, body  # no metric data
        assert TOKEN not in body and PASSWORD not in body
        challenges = h.getall("WWW-Authenticate")
        want = {
            "bearer": ['Bearer realm="uptimed"'],
            "basic": ['Basic realm="uptimed", charset="UTF-8"'],
            "both": ['Bearer realm="uptimed"', 'Basic realm="uptimed", charset="UTF-8"'],
        }[kind]
        assert challenges == want, (headers, challenges)
    # /healthz and / stay open; the API's own token is unchanged and still guards its writes.
    assert (await get(url + "/healthz"))[0] == 200
    assert (await get(url + "/"))[0] == 200
    async with aiohttp.ClientSession() as s:
        maintenance = url + "/api/v1/maintenance"
        async with s.post(maintenance, data=b"[not json", headers=right_bearer) as r:
            assert r.status == 401  # the metrics token opens no API write
        api = {"Authorization": f"Bearer {API_TOKEN}"}
        async with s.post(maintenance, data=b"[not json", headers=api) as r:
            assert r.status == 400  # past the API's own check: the body is refused


async def test_openmetrics_and_gzip_with_credentials(guarded: tuple[str, str]) -> None:
    kind, url = guarded
    auth = basic(USER, PASSWORD) if kind == "basic" else f"Bearer {TOKEN}"
    async with aiohttp.ClientSession() as s:
        async with s.get(
            url + "/metrics",
            headers={"Authorization": auth, "Accept": OM, "Accept-Encoding": "gzip"},
        ) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("application/openmetrics-text")
            assert r.headers["Content-Encoding"] == "gzip"
            body = await r.text()  # aiohttp inflates it
        assert body.endswith("# EOF\n")
        names = {f.name for f in om_parse(body)}
        assert {
            "uptimed_build_info",
            "uptimed_location_quorum",
            "uptimed_schedule_lag_seconds",
        } <= names
        async with s.get(url + "/metrics", headers={"Accept": OM}) as r:
            assert r.status == 401 and "# EOF" not in await r.text()


MONITORS = """
[[monitor]]
id = "web"
kind = "tcp"
host = "127.0.0.1"
port = 9
"""


async def test_the_daemon_asks_for_its_configured_credentials_and_never_logs_them(
    tmp_path: Path,
) -> None:
    d = DaemonProc(tmp_path, MONITORS)
    d.config.write_text(
        d.config.read_text().replace("[daemon]\n", f"[daemon]\n{BEARER}\n{BASIC}\n", 1)
    )
    async with d:
        url = f"http://127.0.0.1:{d.port}"
        status, body, h = await get(url + "/metrics")
        assert status == 401 and "uptimed_" not in body
        assert len(h.getall("WWW-Authenticate")) == 2
        assert (await get(url + "/metrics", {"Authorization": f"Bearer {TOKEN}"}))[0] == 200
        status, body, _ = await get(url + "/metrics", {"Authorization": basic(USER, PASSWORD)})
        assert status == 200 and "uptimed_monitors 1.0" in body, body
        assert (await get(url + "/metrics", {"Authorization": "Bearer nope"}))[0] == 401
        assert (await get(url + "/healthz"))[0] == 200
    log = d.log.read_text()
    assert TOKEN not in log and PASSWORD not in log


async def test_a_reload_changes_the_metrics_credentials_at_once(tmp_path: Path) -> None:
    """SIGHUP applies new /metrics credentials (as the API token): the old token stops working,
    and no "takes effect at the next restart" warning is logged for them."""
    d = DaemonProc(tmp_path, MONITORS)
    text = d.config.read_text()
    d.config.write_text(text.replace("[daemon]\n", f"[daemon]\n{BEARER}\n", 1))
    async with d:
        url = f"http://127.0.0.1:{d.port}/metrics"
        assert (await get(url, {"Authorization": f"Bearer {TOKEN}"}))[0] == 200
        d.config.write_text(text.replace("[daemon]\n", '[daemon]\nmetrics_token = "n3w"\n', 1))
        d.send(signal.SIGHUP)
        for _ in range(50):
            if (await get(url, {"Authorization": "Bearer n3w"}))[0] == 200:
                break
            await asyncio.sleep(0.1)
        assert (await get(url, {"Authorization": "Bearer n3w"}))[0] == 200
        assert (await get(url, {"Authorization": f"Bearer {TOKEN}"}))[0] == 401
    assert "take effect at the next restart" not in d.log.read_text()
