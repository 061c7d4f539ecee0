"""The HTTP listener: ``/metrics``, ``/healthz`` and the JSON API (aiohttp)."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics import exposition as openmetrics

from uptimed.web.api import Api
from uptimed.web.metrics import MonitorCollector, SelfMetrics
from uptimed.web.sla_metrics import SlaMetrics

TEXT = "text/plain; version=0.0.4; charset=utf-8"
# prometheus_client's OpenMetrics writer has no annotations: its type, as it behaves.
_generate_openmetrics = cast(Callable[[CollectorRegistry], bytes], openmetrics.generate_latest)


class MetricsEndpoint:
    def __init__(
        self, self_metrics: SelfMetrics, collector: MonitorCollector, sla: SlaMetrics | None = None
    ):
        self.collector = collector
        self.sla = sla
        self.self_registry = CollectorRegistry(auto_describe=False)
        self_metrics.register(self.self_registry)
        # OpenMetrics goes through prometheus_client alone: self-metrics and monitors together.
        self.full_registry = CollectorRegistry(auto_describe=False)
        self_metrics.register(self.full_registry)
        self.full_registry.register(collector)
        if sla is not None:
            self.full_registry.register(sla)

    def render(self, accept: str, gzip_ok: bool) -> tuple[bytes, str]:
        if "application/openmetrics-text" in accept:
            body, ctype = _generate_openmetrics(self.full_registry), openmetrics.CONTENT_TYPE_LATEST
        else:
            text = self.collector.render_text() + (self.sla.text if self.sla else "")
            body = generate_latest(self.self_registry) + text.encode()
            ctype = TEXT
        if gzip_ok:
            body = gzip.compress(body, compresslevel=1)
        return body, ctype

    async def handle(self, request: web.Request) -> web.Response:
        gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
        # Rendering thousands of monitors takes tens of ms: keep it off the event loop.
        body, ctype = await asyncio.to_thread(
            self.render, request.headers.get("Accept", ""), gzip_ok
        )
        resp = web.Response(body=body, headers={"Content-Type": ctype})
        if gzip_ok:
            resp.headers["Content-Encoding"] = "gzip"
        return resp


def make_app(
    metrics: MetricsEndpoint,
    health: Callable[[], tuple[bool, dict[str, Any]]],
    api: Api | None = None,
) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        ok, detail = health()
        return web.Response(
            status=200 if ok else 503,
            text=json.dumps(detail) + "\n",
            content_type="application/json",
        )

    async def index(request: web.Request) -> web.Response:
        return web.Response(text="uptimed: see /metrics, /healthz and /api/v1/\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics.handle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", index)
    if api is not None:
        api.routes(app)
    return app
