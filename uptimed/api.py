"""The JSON API under ``/api/v1/``: the same figures as ``uptimed report``, and maintenance.

Reads run in a thread on a read-only connection. Writes (adding or ending a maintenance window)
go through the store's writer thread and need ``Authorization: Bearer <token>``, the token being
the contents of ``[daemon] api_token_file``; without that setting the write endpoints are off.
Bad parameters get a 400 with ``{"error": "..."}``, never a 500.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from uptimed import adhoc
from uptimed.config import Config
from uptimed.periods import iso, parse_time, zone
from uptimed.report import build_report, resolve_scope, resolve_window
from uptimed.runner import LiveMonitor
from uptimed.state import STATE_NAMES
from uptimed.store import Store, connect

API = "/api/v1"


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class Api:
    def __init__(
        self,
        config: Callable[[], Config],
        monitors: Callable[[], dict[str, LiveMonitor]],
        store: Store,
        token: str | None,
    ):
        self.config = config
        self.monitors = monitors
        self.store = store
        self.token = token

    def routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get(f"{API}/monitors", self._wrap(self.list_monitors))
        r.add_get(f"{API}/monitors/{{id}}", self._wrap(self.get_monitor))
        r.add_get(f"{API}/services", self._wrap(self.section("services")))
        r.add_get(f"{API}/slos", self._wrap(self.section("slos")))
        r.add_get(f"{API}/incidents", self._wrap(self.incidents))
        r.add_get(f"{API}/report", self._wrap(self.report))
        r.add_get(f"{API}/maintenance", self._wrap(self.list_maintenance))
        r.add_post(f"{API}/maintenance", self._wrap(self.add_maintenance))
        r.add_delete(f"{API}/maintenance/{{id}}", self._wrap(self.end_maintenance))

    def _wrap(self, handler: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                return web.json_response(await handler(request), dumps=_dumps)
            except ApiError as e:
                return _error(e.status, str(e))
            except ValueError as e:
                return _error(400, str(e))

        return wrapped

    # -- reads -----------------------------------------------------------------------------

    async def _report(self, request: web.Request, **filters: list[str]) -> dict[str, Any]:
        q = request.query
        _only(request, {"from", "to", "period", "at", "window", "timezone", "monitor", "service", "slo"})
        config = self.config()
        now = self.store.now_ms()
        w = resolve_window(
            now, start=q.get("from"), end=q.get("to"), period=q.get("period"), at=q.get("at"),
            window=q.get("window"), timezone=q.get("timezone"),
        )  # fmt: skip
        scope = resolve_scope(
            config,
            filters.get("monitor", q.getall("monitor", [])),
            filters.get("service", q.getall("service", [])),
            q.getall("slo", []),
        )

        def build() -> dict[str, Any]:
            conn = connect(config.daemon.database, readonly=True)
            try:
                return build_report(conn, config, scope, w, now)
            finally:
                conn.close()

        return await asyncio.to_thread(build)

    async def report(self, request: web.Request) -> dict[str, Any]:
        return await self._report(request)

    def section(self, name: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> Any:
            return (await self._report(request))[name]

        return handler

    async def list_monitors(self, request: web.Request) -> list[dict[str, Any]]:
        _only(request, set())
        now = self.store.now_ms()
        return [self._live(m, now) for m in self.monitors().values()]

    async def get_monitor(self, request: web.Request) -> dict[str, Any]:
        key = request.match_info["id"]
        m = self.monitors().get(key)
        if m is None:
            raise ApiError(404, f"no monitor {key!r}")
        report = await self._report(request, monitor=[key])
        figures = next(x for x in report["monitors"] if x["id"] == key)
        return {**self._live(m, self.store.now_ms()), "from": report["from"], "to": report["to"], **figures}

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
        report = await self._report(request)
        out = []
        for kind in ("monitors", "services"):
            for item in report[kind]:
                out += [{"target": item["id"], "target_kind": kind[:-1], **i} for i in item["incidents"]]
        return sorted(out, key=lambda i: i["start"])

    async def list_maintenance(self, request: web.Request) -> list[dict[str, Any]]:
        _only(request, {"all", "cancelled"})
        config, now = self.config(), self.store.now_ms()
        everything = request.query.get("all") in ("1", "true", "yes")
        cancelled = request.query.get("cancelled") in ("1", "true", "yes")

        def read() -> list[dict[str, Any]]:
            conn = connect(config.daemon.database, readonly=True)
            try:
                return [w.as_json() for w in adhoc.windows(conn, None if everything else now, cancelled=cancelled)]
            finally:
                conn.close()

        return await asyncio.to_thread(read)

    # -- writes ----------------------------------------------------------------------------

    def _authorize(self, request: web.Request) -> None:
        if self.token is None:
            raise ApiError(403, "write endpoints are off: set [daemon] api_token_file to enable them")
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            raise ApiError(401, "a valid 'Authorization: Bearer <token>' header is required")

    async def add_maintenance(self, request: web.Request) -> dict[str, Any]:
        self._authorize(request)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValueError("the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        allowed = {"monitor", "service", "start", "end", "for", "reason", "by"}
        if set(body) - allowed:
            raise ValueError(f"unknown field(s): {', '.join(sorted(set(body) - allowed))}")
        config, now = self.config(), self.store.now_ms()
        if ("monitor" in body) == ("service" in body):
            raise ValueError("give exactly one of 'monitor' and 'service'")
        kind = "monitor" if "monitor" in body else "service"
        key = body[kind]
        known = [m.id for m in config.monitors] if kind == "monitor" else [s.id for s in config.services]
        if key not in known:
            raise ValueError(f"no {kind} {key!r}")
        if "for" in body:
            from uptimed.durations import parse_duration

            start, end = now, now + int(parse_duration(str(body["for"])) * 1000)
        elif "start" in body and "end" in body:
            start, end = parse_time(str(body["start"]), zone("UTC")), parse_time(str(body["end"]), zone("UTC"))
        else:
            raise ValueError("give 'for' (a duration), or 'start' and 'end'")
        reason, by = body.get("reason"), body.get("by") or "api"
        if not isinstance(reason, (str, type(None))) or not isinstance(by, str):
            raise ValueError("'reason' and 'by' must be strings")
        fut = self.store.call(lambda conn: adhoc.add(conn, kind, key, start, end, reason, by, now))
        return (await asyncio.wrap_future(fut)).as_json()

    async def end_maintenance(self, request: web.Request) -> dict[str, Any]:
        self._authorize(request)
        try:
            window_id = int(request.match_info["id"])
        except ValueError:
            raise ValueError(f"{request.match_info['id']!r} is not a maintenance window id") from None
        now = self.store.now_ms()
        try:
            w = await asyncio.wrap_future(self.store.call(lambda conn: adhoc.end(conn, window_id, now)))
        except LookupError as e:
            raise ApiError(404, str(e)) from None
        return w.as_json()


def _only(request: web.Request, known: set[str]) -> None:
    unknown = sorted(set(request.query) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ValueError(f"unknown parameter(s): {', '.join(unknown)} (allowed: {allowed})")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2)


def read_token(path: str | None) -> str | None:
    """The API token from its file (whitespace stripped); None when not configured."""
    if path is None:
        return None
    with open(path, encoding="utf-8") as f:
        token = f.read().strip()
    if not token:
        raise ValueError(f"{path}: the API token file is empty")
    return token
