"""The HTTP listener: ``/metrics``, ``/healthz`` and the JSON API (aiohttp).

``/metrics`` speaks the Prometheus text format 0.0.4, or OpenMetrics 1.0 when the client asks
for it (``Accept: application/openmetrics-text``, as Prometheus does first). Both are rendered as
strings by the parts themselves (:class:`~uptimed.web.metrics.MonitorCollector`,
:class:`~uptimed.web.sla_metrics.ConfigSeries`, :class:`~uptimed.web.sla_metrics.SlaMetrics`);
only the few dozen self-metrics go through prometheus_client's writers.

With ``[daemon] metrics_token`` and/or ``metrics_username`` + ``metrics_password`` set,
``/metrics`` asks for them (``Authorization: Bearer <token>`` or ``Basic``; either one when both
are set, compared in constant time) and answers anything else with 401 and no metric data.
``/healthz`` and ``/`` stay open: a load balancer's health check has no credentials, and they
say nothing a scrape would. The credentials are read from the config at every request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web
from multidict import CIMultiDict
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics import exposition as openmetrics

from uptimed.model.config import Config
from uptimed.web import gzipped
from uptimed.web.api import Api
from uptimed.web.gzipped import Deflated
from uptimed.web.metrics import MonitorCollector, SelfMetrics, self_registry
from uptimed.web.pages import Pages, page_headers
from uptimed.web.sla_metrics import ConfigSeries, SlaMetrics

TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = openmetrics.CONTENT_TYPE_LATEST
EOF_LINE = "# EOF\n"
REALM = "uptimed"
# prometheus_client's OpenMetrics writer has no annotations: its type, as it behaves.
_generate_openmetrics = cast(Callable[[CollectorRegistry], bytes], openmetrics.generate_latest)


class MetricsEndpoint:
    """``/metrics``: the self-metrics, the per-monitor series, the config series (given
    ``config``) and the SLA series (given ``sla``), with the collector's location (the daemon's)
    on every one, and the credentials of ``config().daemon`` checked first."""

    def __init__(
        self,
        self_metrics: SelfMetrics,
        collector: MonitorCollector,
        sla: SlaMetrics | None = None,
        config: Callable[[], Config] | None = None,
    ):
        self.collector = collector
        self.sla = sla
        self.config = config
        self.config_series = None if config is None else ConfigSeries(config)
        self.self_registry = self_registry(self_metrics, collector.location)
        # Every part through prometheus_client alone: what the fast renderings must equal
        # (the tests compare them); nothing serves it.
        self.full_registry = CollectorRegistry(auto_describe=False)
        self.full_registry.register(self.self_registry)
        self.full_registry.register(collector)
        if self.config_series is not None:
            self.full_registry.register(self.config_series)
        if sla is not None:
            self.full_registry.register(sla)

    def render(self, accept: str, gzip_ok: bool) -> tuple[bytes, str]:
        """The body and its content type. Gzipped, the SLA series are what the last refresh
        deflated (:mod:`uptimed.web.gzipped`): compressing them at every scrape was a third of
        a scrape's time at 10,000 monitors."""
        om = wants_openmetrics(accept)
        parts: list[str] = []
        if om:
            own = _generate_openmetrics(self.self_registry).decode()
            parts.append(own.removesuffix(EOF_LINE))
        parts.append(self.collector.render(om))
        if self.config_series is not None:
            text, om_text = self.config_series.texts()
            parts.append(om_text if om else text)
        sla = self.sla
        if sla is not None and not gzip_ok:
            parts.append(sla.openmetrics if om else sla.text)
        head = generate_latest(self.self_registry) if not om else b""
        body = head + "".join(parts).encode()
        if gzip_ok:
            pieces: list[bytes | Deflated] = [body]
            if sla is not None:
                pieces.append(sla.openmetrics_gz if om else sla.text_gz)
            if om:
                pieces.append(EOF_LINE.encode())
            body = gzipped.join(pieces)
        elif om:
            body += EOF_LINE.encode()
        return body, OPENMETRICS if om else TEXT

    def authorized(self, authorization: str) -> bool:
        """Whether a request with this ``Authorization`` header may read /metrics."""
        if self.config is None:
            return True
        d = self.config().daemon
        token, user, password = d.metrics_token, d.metrics_username, d.metrics_password
        basic = user is not None and password is not None
        if token is None and not basic:
            return True  # no credentials configured: open, as before
        scheme, _, credentials = authorization.partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip(" ")
        if scheme == "bearer" and token is not None:
            return same(credentials, token)
        if scheme == "basic" and user is not None and password is not None:
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            given_user, colon, given_password = decoded.partition(":")
            # Both compared whatever the first says: the time tells nothing about which failed.
            ok_user, ok_password = same(given_user, user), same(given_password, password)
            return bool(colon) and ok_user and ok_password
        return False

    def challenge(self) -> CIMultiDict[str]:
        """The WWW-Authenticate headers of a 401: one per scheme configured."""
        headers: CIMultiDict[str] = CIMultiDict()
        d = self.config().daemon if self.config is not None else None
        if d is not None and d.metrics_token is not None:
            headers.add("WWW-Authenticate", f'Bearer realm="{REALM}"')
        if d is not None and d.metrics_username is not None and d.metrics_password is not None:
            headers.add("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
        return headers

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorized(request.headers.get("Authorization", "")):
            return web.Response(
                status=401,
                text="401: /metrics needs credentials ([daemon] metrics_token or"
                " metrics_username and metrics_password)\n",
                headers=self.challenge(),
            )
        gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
        # Rendering thousands of monitors takes tens of ms: keep it off the event loop.
        body, ctype = await asyncio.to_thread(
            self.render, request.headers.get("Accept", ""), gzip_ok
        )
        resp = web.Response(body=body, headers={"Content-Type": ctype})
        if gzip_ok:
            resp.headers["Content-Encoding"] = "gzip"
        return resp


def wants_openmetrics(accept: str) -> bool:
    """Whether an ``Accept`` header prefers OpenMetrics to the text format: it names
    ``application/openmetrics-text`` with a quality above 0 and no lower than ``text/plain``'s
    (Prometheus sends ``application/openmetrics-text;version=1.0.0,...,text/plain;...;q=0.5``)."""
    best: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for p in params:
            name, _, v = p.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        media = media.lower()
        best[media] = max(best.get(media, 0.0), q)
    om = best.get("application/openmetrics-text", 0.0)
    return om > 0 and om >= best.get("text/plain", 0.0)


def same(given: str, secret: str) -> bool:
    """``given == secret`` in constant time (digests first: not even the length shows)."""
    a = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(a, hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest())


def make_app(
    metrics: MetricsEndpoint,
    health: Callable[[], tuple[bool, dict[str, Any]]],
    api: Api | None = None,
    pages: Pages | None = None,
) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        ok, detail = health()
        return web.Response(
            status=200 if ok else 503,
            text=json.dumps(detail) + "\n",
            content_type="application/json",
        )

    async def index(request: web.Request) -> web.Response:
        return web.Response(
            text="uptimed: see /metrics, /healthz, /api/v1/, /status and /portal/\n"
        )

    app = web.Application(
        middlewares=[page_headers(("/status", "/portal"))] if pages is not None else []
    )
    app.router.add_get("/metrics", metrics.handle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", index)
    if api is not None:
        api.routes(app)
    if pages is not None:
        pages.routes(app)
    return app


def make_pages_app(pages: Pages) -> web.Application:
    """The status page and the portal alone: for a listener that is published."""

    async def index(request: web.Request) -> web.Response:
        raise web.HTTPFound("/status")

    app = web.Application(middlewares=[page_headers()])
    app.router.add_get("/", index)
    pages.routes(app)
    return app
