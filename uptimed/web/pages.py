"""The public status page (``/status``, ``/status.json``, ``/status/feed.atom``,
``/status/badge/{name}.svg``) and the customer portal (``/portal/``), over HTTP.

Every page is computed in a thread from the database (:mod:`uptimed.service.status_page`,
:mod:`uptimed.service.portal`), kept for a few seconds (longer when it is slow to compute: ten
times what it took, so that a large fleet's page costs at most a tenth of a core however often it
is asked for), and served with an ETag (``If-None-Match`` gets a 304) and Cache-Control. Every
answer carries a strict Content-Security-Policy (no inline script or style), ``nosniff`` and
``Referrer-Policy: no-referrer``; the portal's also ``X-Robots-Tag: noindex`` and
``Cache-Control: private``.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from uptimed.core.times import iso
from uptimed.model.config import Agreement, Config, Customer
from uptimed.model.pages import AgreementView, StatusPage
from uptimed.render import pages as render
from uptimed.render.atom import FeedEntry, atom_feed
from uptimed.render.badge import badge
from uptimed.render.text import format_percent
from uptimed.service import portal, status_page
from uptimed.service.history import reading
from uptimed.web.sessions import COOKIE, Sessions, customer_for

log = logging.getLogger(__name__)

T = TypeVar("T")

MIN_TTL = 5.0  # seconds a computed page is served before it is computed again
MAX_TTL = 60.0
STATIC = {"style.css": "text/css", "refresh.js": "text/javascript"}
#: Why a sign-in posted from another origin is refused (behind a proxy: one that does not pass
#: on the Host, or X-Forwarded-Host, the browser sees).
CROSS_SITE = (
    "This sign-in did not come from this site's own form. Sign in from this page (behind a"
    " proxy, it must pass on the Host header or X-Forwarded-Host)."
)


@dataclass(frozen=True, slots=True)
class Body:
    """An answer's bytes, its ETag, and (for the large ones) its gzip."""

    data: bytes
    etag: str
    gzipped: bytes | None = None

    @classmethod
    def of(cls, body: str | bytes, *, compress: bool = False) -> Body:
        data = body.encode() if isinstance(body, str) else body
        etag = '"' + hashlib.sha256(data).hexdigest()[:24] + '"'
        return cls(data, etag, gzip.compress(data, 6, mtime=0) if compress else None)


@dataclass(frozen=True, slots=True)
class Published:
    """The status page as computed once: its view-model and its rendered answers."""

    page: StatusPage
    html: Body
    json: Body
    feed: Body


def _feed(page: StatusPage) -> bytes:
    entries = [
        FeedEntry(
            id=f"urn:uptimed:incident:{i.ref}",
            title=f"{i.component}: outage ({render.cause(i.cause)})"
            + ("" if i.end is None else f", resolved after {render.duration(i.duration_ms)}"),
            published=i.start,
            updated=i.end or i.start,
            summary=f"{i.component} was down from {iso(i.start)}"
            + (" and still is." if i.end is None else f" to {iso(i.end)}."),
            link="/status",
        )
        for i in page.incidents
    ]
    entries += [
        FeedEntry(
            id=f"urn:uptimed:maintenance:{m.ref}",
            title=f"Maintenance: {', '.join(m.components)}",
            published=m.announced,
            updated=m.announced,
            summary=f"{iso(m.start)} to {iso(m.end)}" + (f": {m.reason}" if m.reason else ""),
            link="/status",
        )
        for m in page.maintenance
    ]
    entries.sort(key=lambda e: -e.updated)
    return atom_feed(
        title=page.title,
        feed_id=f"urn:uptimed:status:{page.feed_ref}",
        self_url="/status/feed.atom",
        updated=max((e.updated for e in entries), default=page.generated_at),
        entries=entries,
    )


def _cross_site(request: web.Request) -> bool:
    """A POST sent by another site's page: the browser says so (Sec-Fetch-Site), or, from a
    browser that does not, its Origin is not this host (as the request or a proxy's
    X-Forwarded-Host names it). Scripts send neither, and are let through. (Under our
    Referrer-Policy a browser may send "Origin: null" for its own form: that says nothing.)"""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site.lower() == "cross-site"
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return False
    hosts = {request.host.lower()}
    hosts |= {h.strip().lower() for h in request.headers.get("X-Forwarded-Host", "").split(",")}
    return urlsplit(origin).netloc.lower() not in hosts


@functools.cache
def _static(name: str) -> Body:
    """A file of the style sheet and script, read once (with its ETag)."""
    return Body.of(resources.files("uptimed.render").joinpath("static", name).read_bytes())


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether ``Accept-Encoding`` takes gzip (named, or ``*``, with a quality above 0)."""
    for item in accept_encoding.split(","):
        coding, *params = (p.strip() for p in item.split(";"))
        if coding.lower() in ("gzip", "*"):
            q = next((p.partition("=")[2] for p in params if p.lower().startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def _tone(availability: float | None) -> str:
    """A badge's colour for an availability: green from 99.9 %, red below 99 %."""
    if availability is None:
        return "unknown"
    return "up" if availability >= 0.999 else "neutral" if availability >= 0.99 else "down"


class _Cache:
    """Computed values by key, each computed by one task at a time. Once a value has expired,
    the next request starts its computation and is served the old value meanwhile (as every
    request is until it is done): a slow page never makes visitors wait once it exists."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._values: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._computing: dict[tuple[Any, ...], asyncio.Task[Any]] = {}

    async def get(self, key: tuple[Any, ...], compute: Callable[[], Awaitable[T]]) -> T:
        found = self._values.get(key)
        if found is not None and self.clock() < found[0]:
            fresh: T = found[1]
            return fresh
        task = self._computing.get(key)
        if task is None:
            task = asyncio.ensure_future(self._compute(key, compute))
            task.add_done_callback(_logged)
            self._computing[key] = task
        if found is not None:
            stale: T = found[1]
            return stale
        value: T = await asyncio.shield(task)
        return value

    async def _compute(self, key: tuple[Any, ...], compute: Callable[[], Awaitable[T]]) -> T:
        try:
            t0 = self.clock()
            value = await compute()
            now = self.clock()
            # Values of old configs (or agreements no one asks for) go once long expired.
            for k in [k for k, (until, _) in self._values.items() if until + MAX_TTL < now]:
                del self._values[k]
            self._values[key] = (now + min(MAX_TTL, max(MIN_TTL, 10 * (now - t0))), value)
            return value
        finally:
            del self._computing[key]


def _logged(task: asyncio.Task[Any]) -> None:
    """A computation served stale meanwhile has nobody to raise to: say it in the log."""
    if not task.cancelled() and task.exception() is not None:
        log.error("status page: cannot compute a page", exc_info=task.exception())


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def page_headers(prefixes: tuple[str, ...] = ()) -> Any:
    """A middleware: every answer (under ``prefixes``; () every one), errors and redirects too,
    carries the pages' security headers and says no more of the server than its name."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        mine = not prefixes or request.path.startswith(prefixes)
        try:
            response = await handler(request)
        except web.HTTPException as e:
            if mine:
                _secure(e.headers)
            raise
        if mine:
            _secure(response.headers)
        return response

    return middleware


def _secure(headers: Any) -> None:
    for k, v in _BASE_HEADERS.items():
        headers.setdefault(k, v)
    headers["Server"] = "uptimed"


#: What every answer of the pages carries (its CSP, with the configured frame-ancestors, is
#: set by the handler; this one is for answers no handler made: 404s, 405s).
_BASE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class Pages:
    def __init__(self, config: Callable[[], Config], now_ms: Callable[[], int]):
        self.config = config
        self.now_ms = now_ms
        self.sessions = Sessions()
        self.cache = _Cache()

    def routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/status", self.status)
        r.add_get("/status/", self.status)
        r.add_get("/status.json", self.status_json)
        r.add_get("/status/feed.atom", self.feed)
        r.add_get("/status/badge/{name}", self.badge)
        r.add_get("/status/components/{slug}", self.component)
        r.add_get("/status/static/{name}", self.static)
        r.add_get("/portal", self.portal_redirect)
        r.add_get("/portal/", self.portal_home)
        r.add_post("/portal/", self.sign_in)
        r.add_post("/portal/logout", self.sign_out)
        r.add_get("/portal/agreements/{id}", self.agreement)
        r.add_get("/portal/agreements/{id}/method", self.method)
        r.add_get("/portal/agreements/{id}/periods/{label}", self.period)
        r.add_get("/portal/agreements/{id}/periods/{label}/statement.json", self.statement_json)
        r.add_get("/portal/agreements/{id}/periods/{label}/statement.csv", self.statement_csv)
        r.add_get("/portal/api/agreements", self.api_agreements)
        r.add_get("/portal/api/agreements/{id}/periods", self.api_periods)

    # -- what every answer carries ------------------------------------------------------------

    def _headers(self, *, private: bool) -> dict[str, str]:
        frames = " ".join(self.config().portal.frame_ancestors) or "'none'"
        headers = {
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self';"
                f" form-action 'self'; base-uri 'none'; frame-ancestors {frames}"
            ),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        }
        if private:
            headers |= {
                "X-Robots-Tag": "noindex, nofollow",
                "Cache-Control": "private, no-cache",
                "Vary": "Cookie, Authorization",
            }
        else:
            headers["Cache-Control"] = f"public, max-age={int(MIN_TTL)}"
        return headers

    def _send(
        self,
        request: web.Request,
        body: Body | str | bytes,
        content_type: str,
        *,
        private: bool,
        status: int = 200,
        extra: dict[str, str] | None = None,
    ) -> web.Response:
        b = body if isinstance(body, Body) else Body.of(body)
        headers = self._headers(private=private) | (extra or {}) | {"Server": "uptimed"}
        etag, data = b.etag, b.data
        if b.gzipped is not None:
            headers["Vary"] = ", ".join(filter(None, (headers.get("Vary"), "Accept-Encoding")))
            if _accepts_gzip(request.headers.get("Accept-Encoding", "")):
                headers["Content-Encoding"] = "gzip"
                etag, data = etag[:-1] + '-gz"', b.gzipped  # another representation
        if status == 200:
            headers["ETag"] = etag
            wanted = {
                t.strip().removeprefix("W/")
                for t in request.headers.get("If-None-Match", "").split(",")
            }
            if etag in wanted or "*" in wanted:
                headers.pop("Content-Encoding", None)
                return web.Response(status=304, headers=headers)
        headers["Content-Type"] = content_type
        return web.Response(body=data, status=status, headers=headers)

    def _page_html(self, template: str, *, private: bool, **values: Any) -> str:
        cfg = self.config()
        return render.render(
            template, site=cfg.portal.title, title=values.pop("title", cfg.portal.title),
            tz_label=values.pop("tz_label", "UTC"), noindex=private, **values,
        )  # fmt: skip

    def _html(self, request: web.Request, template: str, *, private: bool, status: int = 200,
              **values: Any) -> web.Response:  # fmt: skip
        page = self._page_html(template, private=private, **values)
        return self._send(request, page, "text/html; charset=utf-8", private=private, status=status)

    async def _computed(
        self, key: tuple[str, ...], compute: Callable[[sqlite3.Connection, Config, int], T]
    ) -> T:
        """``compute(conn, config, now)`` on a read-only connection in a thread, kept in the
        cache under ``key`` for the configuration in force (a reload computes all again)."""
        config = self.config()

        def read() -> T:
            with reading(config) as conn:
                return compute(conn, config, self.now_ms())

        async def run() -> T:
            return await asyncio.to_thread(read)

        return await self.cache.get((*key, config.sha256, id(config)), run)

    # -- the public status page ---------------------------------------------------------------

    async def _published(self) -> Published:
        return await self._computed(
            ("status",),
            lambda c, config, now: self._publish(status_page.status_page(c, config, now)),
        )

    def _publish(self, page: StatusPage) -> Published:
        """The page's answers, rendered and compressed once (in the reading thread)."""
        html = self._page_html("status.html", private=False, page=page, title=page.title)
        data = json.dumps(render.status_json(page), ensure_ascii=False, separators=(",", ":"))
        return Published(
            page, Body.of(html, compress=True), Body.of(data, compress=True), Body.of(_feed(page))
        )

    async def status(self, request: web.Request) -> web.Response:
        html = (await self._published()).html
        return self._send(request, html, "text/html; charset=utf-8", private=False)

    async def component(self, request: web.Request) -> web.Response:
        page = (await self._published()).page
        c = next((c for c in page.components if c.slug == request.match_info["slug"]), None)
        if c is None:
            raise web.HTTPNotFound(text="not found", headers=self._headers(private=False))
        incidents = [i for i in page.incidents if i.slug == c.slug]
        return self._html(request, "component.html", private=False, page=page, c=c,
                          incidents=incidents, title=f"{c.name}: {page.title}")  # fmt: skip

    async def status_json(self, request: web.Request) -> web.Response:
        body = (await self._published()).json
        return self._send(request, body, "application/json", private=False)

    async def feed(self, request: web.Request) -> web.Response:
        body = (await self._published()).feed
        return self._send(request, body, "application/atom+xml", private=False)

    async def badge(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        page = (await self._published()).page
        slug = name.removesuffix(".svg")
        c = next((c for c in page.components if c.slug == slug), None)
        window = request.query.get("window")
        if c is None or slug == name:  # none by that name, or not asked for as .svg
            svg = badge("status", "not found", "neutral")
            return self._send(request, svg, "image/svg+xml", private=False, status=404)
        if window is None:
            text, _ = render.STATE_TEXT[c.state]
            svg = badge(c.name, text.lower(), c.state)
        else:
            rolling = dict(c.rolling)
            if window not in rolling:
                svg = badge("window", " | ".join(rolling), "neutral")
                return self._send(request, svg, "image/svg+xml", private=False, status=400)
            availability = rolling[window]
            svg = badge(f"{c.name} {window}", format_percent(availability, 2), _tone(availability))
        return self._send(request, svg, "image/svg+xml", private=False)

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return self._send(request, _static(name), STATIC[name], private=False)

    # -- the customer portal ------------------------------------------------------------------

    def _customer(self, request: web.Request) -> Customer | None:
        config = self.config()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            found = customer_for(config, token)
            return found[0] if found else None
        sid = request.cookies.get(COOKIE)
        return self.sessions.customer(config, sid) if sid else None

    def _agreement(self, request: web.Request, customer: Customer) -> Agreement:
        """The customer's agreement of the path; 404 for any other (another customer's too)."""
        wanted = request.match_info["id"]
        for a in self.config().agreements:
            if a.customer == customer.id and a.id == wanted:
                return a
        raise self._not_found(request)

    def _not_found(self, request: web.Request) -> web.HTTPNotFound:
        if request.path.startswith("/portal/api/"):
            return web.HTTPNotFound(
                text=json.dumps({"error": "not found"}),
                content_type="application/json",
                headers=self._headers(private=True),
            )
        return web.HTTPNotFound(text="not found", headers=self._headers(private=True))

    async def _view(self, a: Agreement) -> AgreementView:
        return await self._computed(
            ("agreement", a.id), lambda c, config, now: portal.agreement_view(c, config, a, now)
        )

    def _login(
        self,
        request: web.Request,
        *,
        failed: bool = False,
        status: int | None = None,
        message: str | None = None,
    ) -> web.Response:
        status = status or (401 if failed or message else 200)
        if failed and message is None:
            message = "That token was not accepted."
        return self._html(request, "portal_login.html", private=True, status=status,
                          message=message, title="Sign in", tz_label=None)  # fmt: skip

    async def portal_redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect("/portal/")

    async def portal_home(self, request: web.Request) -> web.Response:
        customer = self._customer(request)
        if customer is None:
            return self._login(request)
        views = [await self._view(a) for a in portal.customer_agreements(self.config(), customer)]
        return self._html(request, "portal_home.html", private=True, customer=customer.name,
                          agreements=views, title=f"{customer.name}: agreements",
                          tz_label="each agreement's time zone")  # fmt: skip

    async def sign_in(self, request: web.Request) -> web.Response:
        if _cross_site(request):  # a form on another site must not sign anyone in here
            return self._login(request, status=403, message=CROSS_SITE)
        # The form posts urlencoded; nothing else is parsed (a multipart body is work and
        # room for trouble that a sign-in never needs).
        if request.content_type != "application/x-www-form-urlencoded":
            return self._login(request, failed=True, status=400)
        try:
            form = await request.post()
        except (ValueError, LookupError, UnicodeDecodeError, HttpProcessingError):
            return self._login(request, failed=True, status=400)
        token = form.get("token")
        found = customer_for(self.config(), token) if isinstance(token, str) else None
        if found is None:
            return self._login(request, failed=True)
        customer, token_digest = found
        ttl = self.config().portal.session_ttl
        old = request.cookies.get(COOKIE)
        if old:  # signing in again ends the session this browser had
            self.sessions.close(old)
        sid = self.sessions.open(customer, token_digest, ttl)
        resp = web.HTTPSeeOther("/portal/", headers=self._headers(private=True))
        secure = self.config().portal.secure_cookie
        if secure is None:
            secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
        resp.set_cookie(COOKIE, sid, max_age=int(ttl), path="/portal", httponly=True,
                        samesite="Strict", secure=secure)  # fmt: skip
        raise resp

    async def sign_out(self, request: web.Request) -> web.Response:
        if _cross_site(request):
            raise web.HTTPForbidden(headers=self._headers(private=True))
        sid = request.cookies.get(COOKIE)
        if sid:
            self.sessions.close(sid)
        resp = web.HTTPSeeOther("/portal/", headers=self._headers(private=True))
        resp.del_cookie(COOKIE, path="/portal")
        raise resp

    def _signed_in(self, request: web.Request) -> Customer:
        customer = self._customer(request)
        if customer is None:
            raise web.HTTPSeeOther("/portal/", headers=self._headers(private=True))
        return customer

    async def agreement(self, request: web.Request) -> web.Response:
        a = self._agreement(request, self._signed_in(request))
        view = await self._view(a)
        return self._html(request, "portal_agreement.html", private=True, a=view,
                          title=view.name, tz_label=view.timezone)  # fmt: skip

    async def method(self, request: web.Request) -> web.Response:
        a = self._agreement(request, self._signed_in(request))
        view = await self._view(a)
        return self._html(request, "portal_method.html", private=True, a=view,
                          policies=view.policies, title=f"{view.name}: method",
                          tz_label=view.timezone)  # fmt: skip

    async def period(self, request: web.Request) -> web.Response:
        a = self._agreement(request, self._signed_in(request))
        view = await self._view(a)
        label = request.match_info["label"]
        p = next((p for p in view.periods if p.label == label), None)
        if p is None:
            raise self._not_found(request)
        return self._html(request, "portal_period.html", private=True, a=view, p=p,
                          title=f"{view.name}: {p.label}", tz_label=view.timezone)  # fmt: skip

    async def _statements(self, a: Agreement) -> list[dict[str, Any]]:
        def compute(c: sqlite3.Connection, config: Config, now: int) -> list[dict[str, Any]]:
            return [render.statement_json(st) for st in portal.statements(c, config, a, now)]

        return await self._computed(("statements", a.id), compute)

    async def _statement(self, request: web.Request) -> tuple[Agreement, dict[str, Any]]:
        a = self._agreement(request, self._signed_in(request))
        label = request.match_info["label"]
        found = [st for st in await self._statements(a) if st["period"] == label]
        if not found:
            raise self._not_found(request)
        return a, found[0]

    async def statement_json(self, request: web.Request) -> web.Response:
        a, st = await self._statement(request)
        body = json.dumps(st, indent=1, ensure_ascii=False)
        return self._download(request, body, "application/json", f"{a.id}-{st['period']}.json")

    async def statement_csv(self, request: web.Request) -> web.Response:
        a, st = await self._statement(request)
        body = render.statement_csv(st)
        return self._download(
            request, body, "text/csv; charset=utf-8", f"{a.id}-{st['period']}.csv"
        )

    def _download(self, request: web.Request, body: str, ctype: str, name: str) -> web.Response:
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return self._send(request, body, ctype, private=True, extra=disposition)

    def _api_customer(self, request: web.Request) -> Customer:
        customer = self._customer(request)
        if customer is None:
            body = json.dumps({"error": "sign in: send Authorization: Bearer TOKEN"})
            raise web.HTTPUnauthorized(
                text=body,
                content_type="application/json",
                headers=self._headers(private=True) | {"WWW-Authenticate": "Bearer"},
            )
        return customer

    async def api_agreements(self, request: web.Request) -> web.Response:
        customer = self._api_customer(request)
        views = [await self._view(a) for a in portal.customer_agreements(self.config(), customer)]
        body = {"customer": customer.name,
                "agreements": [render.agreement_json(v, periods=True) for v in views]}  # fmt: skip
        return self._send(request, json.dumps(body, indent=1, ensure_ascii=False),
                          "application/json", private=True)  # fmt: skip

    async def api_periods(self, request: web.Request) -> web.Response:
        a = self._agreement(request, self._api_customer(request))
        body = {"agreement": a.id, "periods": await self._statements(a)}
        return self._send(request, json.dumps(body, indent=1, ensure_ascii=False),
                          "application/json", private=True)  # fmt: skip
