"""The JSON API under ``/api/v1/``: the same figures as ``uptimed report``, and maintenance.

``GET /api/v1/`` lists the endpoints (:data:`ENDPOINTS`: method, path, what it gives, whether it
needs the token, which parameters it takes). Reads run in a thread on a read-only connection.
Writes (adding or ending a maintenance window) go through the store's writer thread and need
``Authorization: Bearer <token>`` (the scheme in any case, spaces before the token allowed; the
token compared in constant time), the token being ``[daemon] api_token``; without one the write
endpoints are off (403). The token is :attr:`Api.token`, read at every request: assigning a new
one (the daemon does, on SIGHUP) takes effect at once.

Requests are checked by the library, as the CLI's are
(:func:`uptimed.store.adhoc.maintenance_request`, :func:`uptimed.service.window.resolve_window`
and ``resolve_scope``); their errors (:class:`~uptimed.errors.RequestError`) name the fields as
this API does (``'for'``, ``'window'``), never as the CLI's flags. Bad parameters get a 400 with
``{"error": "..."}``; an unknown path under ``/api/v1/`` a 404 (a known one with another method,
a 405), in JSON too. Anything else that goes wrong is a bug: a 500 with ``{"error": "internal
error"}``, and its traceback in the daemon's log, never in the answer.

Each endpoint computes only what it answers with (:mod:`uptimed.service.report`: the services,
the SLOs or the incidents of the report, from the same time the whole report reads, so with the
same figures); the JSON is :mod:`uptimed.render.json`'s.

``POST /api/v1/maintenance`` takes ``monitor`` and ``service``, each an id or a list of ids
(mixed: one window per target, all added in one transaction or none), and ``for`` or ``start``
and ``end``, ``reason``, ``by``. It answers with the window added when the body names one target
with a string (the form of earlier versions, which clients rely on), and with the list of the
windows added (monitors first, then services, each in the order given) when it names several
or uses a list.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from uptimed import __version__
from uptimed.core.state import STATE_NAMES
from uptimed.core.times import iso
from uptimed.daemon.runner import LiveMonitor
from uptimed.errors import RequestError
from uptimed.model.config import Config
from uptimed.model.report import Scope, Window
from uptimed.render.json import (
    dumps,
    incident_view_json,
    maintenance_json,
    monitor_json,
    report_json,
    service_json,
    slo_json,
)
from uptimed.service import incident_views, incidents
from uptimed.service.history import reading
from uptimed.service.incidents import NO_LINKS, Links
from uptimed.service.report import ReportReader, build_report
from uptimed.service.window import resolve_scope, resolve_window
from uptimed.store import Store, adhoc

log = logging.getLogger(__name__)
T = TypeVar("T")

API = "/api/v1"
WINDOW_PARAMETERS = ("from", "to", "period", "at", "window", "timezone")
REPORT_PARAMETERS = (*WINDOW_PARAMETERS, "monitor", "service", "slo")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # under API
    handler: str  # the name of the Api method
    description: str
    token: bool = False  # needs the token
    parameters: tuple[str, ...] = ()  # query parameters (any other is a 400)
    body: tuple[str, ...] = ()  # fields of the JSON body

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method, "path": API + self.path, "description": self.description,
            "needs_token": self.token, "parameters": list(self.parameters),
        }  # fmt: skip
        if self.body:
            out["body"] = list(self.body)
        return out


ENDPOINTS = (
    Endpoint("GET", "/", "index", "This list of endpoints."),
    Endpoint("GET", "/monitors", "list_monitors",
             "Every monitor's live state: confirmed state, last probe."),
    Endpoint("GET", "/monitors/{id}", "get_monitor", "One monitor: live state and report figures.",
             parameters=WINDOW_PARAMETERS),
    Endpoint("GET", "/services", "list_services", "The report figures of the services.",
             parameters=REPORT_PARAMETERS),
    Endpoint("GET", "/services/{id}", "get_service", "One service's report figures.",
             parameters=WINDOW_PARAMETERS),
    Endpoint("GET", "/slos", "list_slos", "The SLOs: attainment, error budget, burn rates, credit.",
             parameters=REPORT_PARAMETERS),
    Endpoint("GET", "/slos/{id}", "get_slo", "One SLO's figures.", parameters=WINDOW_PARAMETERS),
    Endpoint("GET", "/incidents", "incidents",
             "Incidents of monitors and services, oldest first (open: only those under way).",
             parameters=(*REPORT_PARAMETERS, "open")),
    Endpoint("GET", "/incidents/{id}", "get_incident",
             "One incident: acknowledgement, escalation, notifications, SLA impact."),
    Endpoint("POST", "/incidents/{id}/ack", "ack_incident",
             "Acknowledge an incident: escalation stops; who was told hears of it.", token=True,
             body=("by", "note")),
    Endpoint("GET", "/report", "report", "The whole report, as uptimed report --format json.",
             parameters=REPORT_PARAMETERS),
    Endpoint("GET", "/maintenance", "list_maintenance",
             "Ad-hoc maintenance windows that have not ended.", parameters=("all", "cancelled")),
    Endpoint("POST", "/maintenance", "add_maintenance",
             "Add a maintenance window per target (all or none).", token=True,
             body=adhoc.MAINTENANCE_FIELDS),
    Endpoint("DELETE", "/maintenance/{id}", "end_maintenance",
             "End a maintenance window now (cancel one not begun).", token=True),
)  # fmt: skip


class ApiError(Exception):
    """An answer other than 200, with its status and message: what the HTTP layer says of a
    request (no such path, a method not allowed, no token, a body that is no JSON object)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def field_name(field: str) -> str:
    """A field as this API's errors name it (a query parameter or a key of the JSON body)."""
    return f"'{field}'"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers, dumps=dumps)


class Api:
    def __init__(
        self,
        config: Callable[[], Config],
        monitors: Callable[[], dict[str, LiveMonitor]],
        store: Store,
        token: str | None,
        *,
        on_ack: Callable[[], None] = lambda: None,
        links: Links = NO_LINKS,
    ):
        self.config = config
        self.monitors = monitors
        self.store = store
        self.token = token  # read at every request: a new value takes effect at once
        self.on_ack = on_ack  # called from the server's thread: it must be thread-safe
        self.links = links

    def routes(self, app: web.Application) -> None:
        r = app.router
        for ep in ENDPOINTS:
            handler = self._wrap(ep, getattr(self, ep.handler))
            paths = (
                [API, API + ep.path] if ep.path == "/" else [API + ep.path]
            )  # /api/v1 and /api/v1/
            for path in paths:
                if ep.method == "GET":
                    r.add_get(path, handler)  # and HEAD
                else:
                    r.add_route(ep.method, path, handler)
                if path == API:
                    r.add_route("*", API, self._wrap(None, self.fallback))
        # Last: what no endpoint above took (aiohttp goes on looking past a path whose methods
        # differ).
        r.add_route("*", API + "/{tail:.*}", self._wrap(None, self.fallback))

    def _wrap(
        self, endpoint: Endpoint | None, handler: Callable[[web.Request], Awaitable[Any]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                if endpoint is not None:
                    _only(request, endpoint.parameters)
                return web.json_response(await handler(request), dumps=dumps)
            except ApiError as e:
                return _error(e.status, str(e), e.headers)
            except RequestError as e:
                return _error(400, e.render(field_name))
            except web.HTTPException as e:  # e.g. a body over the size limit
                return _error(e.status, e.text or e.reason)
            except Exception:  # a bug: said in the log, with its traceback, not to the client
                log.exception("API: %s %s failed", request.method, request.path)
                return _error(500, "internal error")

        return wrapped

    # -- the list of endpoints, and what none of them takes ----------------------------------

    async def index(self, request: web.Request) -> dict[str, Any]:
        return {
            "name": "uptimed", "version": __version__, "api": API,
            "writes_enabled": self.token is not None,
            "endpoints": [ep.as_json() for ep in ENDPOINTS],
        }  # fmt: skip

    async def fallback(self, request: web.Request) -> Any:
        path = request.path
        allowed = [ep.method for ep in ENDPOINTS if _pattern(ep).fullmatch(path)]
        if path == API:
            allowed = [ep.method for ep in ENDPOINTS if ep.path == "/"]
        if allowed:
            if "GET" in allowed:
                allowed.append("HEAD")
            methods = ", ".join(allowed)
            raise ApiError(
                405,
                f"{request.method} is not allowed on {path} (allowed: {methods})",
                {"Allow": methods},
            )
        raise ApiError(404, f"no endpoint {path}: GET {API}/ lists them")

    # -- reads -----------------------------------------------------------------------------

    def _ask(
        self, request: web.Request, *, monitors: Sequence[str] = (), services: Sequence[str] = (),
        slos: Sequence[str] = (),
    ) -> tuple[Config, Scope, Window, int]:  # fmt: skip
        """What the request asks for: the window of its parameters, over its scope or the one
        given (raises RequestError naming the parameter at fault)."""
        q = request.query
        config = self.config()
        now = self.store.now_ms()
        w = resolve_window(
            now, start=q.get("from"), end=q.get("to"), period=q.get("period"), at=q.get("at"),
            window=q.get("window"), timezone=q.get("timezone"),
        )  # fmt: skip
        if monitors or services or slos:
            scope = resolve_scope(config, monitors, services, slos)
        else:
            scope = resolve_scope(
                config, q.getall("monitor", []), q.getall("service", []), q.getall("slo", [])
            )
        return config, scope, w, now

    async def _read(self, config: Config, read: Callable[[sqlite3.Connection], T]) -> T:
        """``read`` on a read-only connection, in a thread."""

        def run() -> T:
            with reading(config) as conn:
                return read(conn)

        return await asyncio.to_thread(run)

    async def report(self, request: web.Request) -> dict[str, Any]:
        config, scope, w, now = self._ask(request)
        done = await self._read(config, lambda c: build_report(c, config, scope, w, now))
        return report_json(done)

    async def list_services(self, request: web.Request) -> list[dict[str, Any]]:
        config, scope, w, now = self._ask(request)
        found = await self._read(
            config, lambda c: ReportReader(c, config, scope, w, now).services()
        )
        return [service_json(s) for s in found]

    async def list_slos(self, request: web.Request) -> list[dict[str, Any]]:
        config, scope, w, now = self._ask(request)
        found = await self._read(config, lambda c: ReportReader(c, config, scope, w, now).slos())
        return [slo_json(s, now) for s in found]

    async def list_monitors(self, request: web.Request) -> list[dict[str, Any]]:
        now = self.store.now_ms()
        # list() first: the web server's thread walks what a reload may change meanwhile
        return [self._live(m, now) for m in list(self.monitors().values())]

    async def get_monitor(self, request: web.Request) -> dict[str, Any]:
        key = request.match_info["id"]
        m = self.monitors().get(key)
        if m is None:
            raise ApiError(404, f"no monitor {key!r}")
        config, scope, w, now = self._ask(request, monitors=[key])
        found = await self._read(
            config, lambda c: ReportReader(c, config, scope, w, now).monitors()
        )
        (mine,) = [x for x in found if x.id == key]
        return {
            **self._live(m, self.store.now_ms()),
            **_span_json(w, now),
            **monitor_json(mine),
        }

    async def get_service(self, request: web.Request) -> dict[str, Any]:
        """A service's figures over the window asked for (``from``, ``to``: the report's)."""
        key = request.match_info["id"]
        if key not in {s.id for s in self.config().services}:
            raise ApiError(404, f"no service {key!r}")
        config, scope, w, now = self._ask(request, services=[key])
        found = await self._read(
            config, lambda c: ReportReader(c, config, scope, w, now).services()
        )
        (mine,) = [x for x in found if x.id == key]
        return {"id": key, **_span_json(w, now), **service_json(mine)}

    async def get_slo(self, request: web.Request) -> dict[str, Any]:
        """An SLO's figures, as in ``/slos`` (``from``, ``to``: the time it was evaluated over)."""
        key = request.match_info["id"]
        if key not in {s.id for s in self.config().slos}:
            raise ApiError(404, f"no SLO {key!r}")
        config, scope, w, now = self._ask(request, slos=[key])
        found = await self._read(config, lambda c: ReportReader(c, config, scope, w, now).slos())
        (mine,) = [x for x in found if x.slo.id == key]
        return slo_json(mine, now)

    def _live(self, m: LiveMonitor, now: int) -> dict[str, Any]:
        seg = m.machine.segment
        state = m.confirmed_state(now)
        return {
            "id": m.config.id,
            "name": m.config.name,
            "kind": m.config.kind,
            "target": m.config.target,
            "state": STATE_NAMES[state],
            "since": iso(seg.start) if seg is not None and state is not None else None,
            "last_probe": iso(m.machine.last_ts),
            "last_ok": None if m.last is None else m.last.ok,
            "last_error_kind": None if m.last is None else m.last.error_kind,
            "last_error": None if m.last is None else m.last.error,
        }

    async def incidents(self, request: web.Request) -> list[dict[str, Any]]:
        config, scope, w, now = self._ask(request)
        only = _flag(request, "open")
        found = await self._read(
            config,
            lambda c: incident_views.listing(c, config, w, now, scope=scope, open_only=only),
        )
        return [incident_view_json(v, now) for v in found]

    async def get_incident(self, request: web.Request) -> dict[str, Any]:
        key = request.match_info["id"]
        config, now = self.config(), self.store.now_ms()
        try:
            found = await self._read(config, lambda c: incident_views.detail(c, config, key, now))
        except LookupError as e:
            raise ApiError(404, str(e)) from None
        return incident_view_json(found, now, detail=True)

    async def ack_incident(self, request: web.Request) -> dict[str, Any]:
        self._authorize(request)
        body = await _json_object(request)
        by, note = incident_views.ack_fields(body)
        key = request.match_info["id"]
        config, now = self.config(), self.store.now_ms()
        try:
            await asyncio.wrap_future(
                self.store.call(
                    lambda c: incidents.acknowledge(c, config, key, by, note, now, self.links)
                )
            )
        except LookupError as e:
            raise ApiError(404, str(e)) from None
        except ValueError as e:
            raise ApiError(409, str(e)) from None
        self.on_ack()
        found = await self._read(config, lambda c: incident_views.detail(c, config, key, now))
        return incident_view_json(found, now, detail=True)

    async def list_maintenance(self, request: web.Request) -> list[dict[str, Any]]:
        config, now = self.config(), self.store.now_ms()
        everything = request.query.get("all") in ("1", "true", "yes")
        cancelled = request.query.get("cancelled") in ("1", "true", "yes")

        found = await self._read(
            config, lambda c: adhoc.windows(c, None if everything else now, cancelled=cancelled)
        )
        return [maintenance_json(w) for w in found]

    # -- writes ----------------------------------------------------------------------------

    def _authorize(self, request: web.Request) -> None:
        token = self.token
        if token is None:
            raise ApiError(403, "write endpoints are off: set [daemon] api_token to enable them")
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not _same(credentials.strip(" "), token):
            raise ApiError(
                401,
                "a valid 'Authorization: Bearer <token>' header is required",
                {"WWW-Authenticate": "Bearer"},
            )

    async def add_maintenance(self, request: web.Request) -> dict[str, Any] | list[dict[str, Any]]:
        self._authorize(request)
        body = await _json_object(request)
        now = self.store.now_ms()
        req = adhoc.maintenance_request(self.config(), body, now, by="api")
        fut = self.store.call(lambda conn: adhoc.add_all(conn, req, now))
        windows: list[adhoc.Window] = await asyncio.wrap_future(fut)
        if len(windows) == 1 and not any(
            isinstance(body.get(k), list) for k in ("monitor", "service")
        ):
            return maintenance_json(windows[0])
        return [maintenance_json(w) for w in windows]

    async def end_maintenance(self, request: web.Request) -> dict[str, Any]:
        self._authorize(request)
        try:
            window_id = int(request.match_info["id"])
        except ValueError:
            raise ApiError(
                400, f"{request.match_info['id']!r} is not a maintenance window id"
            ) from None
        now = self.store.now_ms()
        try:
            w: adhoc.Window = await asyncio.wrap_future(
                self.store.call(lambda conn: adhoc.end(conn, window_id, now))
            )
        except LookupError as e:
            raise ApiError(404, str(e)) from None
        return maintenance_json(w)


def _same(given: str, token: str) -> bool:
    """``given == token`` in constant time (digests first: not even the length shows)."""
    a = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(a, hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest())


def _pattern(ep: Endpoint) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", API + ep.path)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name) in ("1", "true", "yes")


def _only(request: web.Request, known: Sequence[str]) -> None:
    unknown = sorted(set(request.query) - set(known))
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ApiError(400, f"unknown parameter(s): {', '.join(unknown)} (allowed: {allowed})")


def _span_json(w: Window, now: int) -> dict[str, Any]:
    """``from`` and ``to`` of the figures over ``w`` (which ends at now at the latest)."""
    return {"from": iso(w.start), "to": iso(min(w.end, now))}


async def _json_object(request: web.Request) -> dict[str, Any]:
    """The request's body, which must be a JSON object."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body
