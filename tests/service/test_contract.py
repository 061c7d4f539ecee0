"""One validation, two front ends: every error of a maintenance or a report request, through the
CLI and through the API, in each one's own words.

The library (:func:`uptimed.store.adhoc.maintenance_request`,
:func:`uptimed.service.window.resolve_window`, :func:`uptimed.service.window.resolve_scope`) raises
:class:`~uptimed.errors.RequestError` naming the field at fault; the CLI (``uptimed.cli.main``,
run in this process) says it with its flags (``--for``), the API (a real aiohttp server on a real
SQLite file, in a thread) with its field names (``'for'``). Each case goes through the library,
then through both front ends, which must say the library's sentence exactly, each with its own
names: never a ``--flag`` from the API, never a bare field name from the CLI. A last test checks
that the cases reach every place in the library that raises a RequestError, so that a new check
cannot go without a case here.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.support.daemon_proc import free_port
from uptimed import cli
from uptimed.config import load_config
from uptimed.errors import RequestError
from uptimed.service import window as report_window
from uptimed.store import Store, adhoc
from uptimed.web import api

TOKEN = "contract-token"
FUTURE = "2099-01-01T00:00:00Z"
CONFIG = """
[daemon]
database = "{db}"
listen = "127.0.0.1:{port}"

[[monitor]]
id = "web"
kind = "tcp"
host = "127.0.0.1"
port = 9

[[monitor]]
id = "db"
kind = "tcp"
host = "127.0.0.1"
port = 9

[[service]]
id = "shop"
monitors = ["web", "db"]

[[slo]]
id = "shop-slo"
target = "shop"
objective = 99.9
window = "30d"
"""

# (fields, the field at fault). Lists for monitor and service: what the CLI's repeated flags give.
MAINTENANCE = [
    ({"for": "1m"}, "monitor"),
    ({"monitor": [], "service": [], "for": "1m"}, "monitor"),
    ({"monitor": ["nosuch"], "for": "1m"}, "monitor"),
    ({"monitor": ["web", "nosuch", "other"], "for": "1m"}, "monitor"),
    ({"service": ["nosuch"], "for": "1m"}, "service"),
    ({"monitor": ["web"], "service": ["nosuch"], "for": "1m"}, "service"),  # all or none
    ({"monitor": ["web"], "for": "1m", "start": FUTURE}, "for"),
    ({"monitor": ["web"], "for": "1m", "end": FUTURE}, "for"),
    ({"monitor": ["web"]}, "for"),
    ({"monitor": ["web"], "reason": "r"}, "for"),
    ({"monitor": ["web"], "start": FUTURE}, "end"),
    ({"monitor": ["web"], "end": FUTURE}, "start"),
    ({"monitor": ["web"], "for": "soon"}, "for"),
    ({"monitor": ["web"], "for": "30"}, "for"),
    ({"monitor": ["web"], "for": "0s"}, "for"),
    ({"monitor": ["web"], "for": ""}, "for"),
    ({"monitor": ["web"], "start": " ", "end": FUTURE}, "start"),
    ({"monitor": ["web"], "start": "tomorrow", "end": FUTURE}, "start"),
    ({"monitor": ["web"], "start": FUTURE, "end": "2099-01-02T00:00:00"}, "end"),
    ({"monitor": ["web"], "start": "2099-01-02T00:00:00Z", "end": FUTURE}, "end"),
    ({"monitor": ["web"], "start": FUTURE, "end": FUTURE}, "end"),
    (
        {"monitor": ["web"], "start": "1969-12-31T00:00:00Z", "end": "1970-01-02", "reason": "r"},
        "start",
    ),
    (
        {
            "monitor": ["web"],
            "start": "0001-01-01T00:00:00+05:00",
            "end": "2000-01-01",
            "reason": "r",
        },
        "start",
    ),
    ({"monitor": ["web"], "start": "2020-01-01", "end": "2020-01-02"}, "reason"),
    ({"service": ["shop"], "start": "2020-01-01", "end": "2020-01-02", "reason": "  "}, "reason"),
    ({"monitor": ["web"], "for": "1m", "reason": "two\nlines"}, "reason"),
    ({"monitor": ["web"], "for": "1m", "by": "a\tb"}, "by"),
]
# What only a JSON body can say (the CLI gives strings, and argparse refuses unknown flags).
MAINTENANCE_API_ONLY = [
    ({"monitor": 5, "for": "1m"}, "monitor"),
    ({"monitor": ["web", 5], "for": "1m"}, "monitor"),
    ({"service": {"id": "shop"}, "for": "1m"}, "service"),
    ({"monitor": "web", "for": 30}, "for"),
    ({"monitor": "web", "start": 1, "end": FUTURE}, "start"),
    ({"monitor": "web", "for": "1m", "reason": 5}, "reason"),
    ({"monitor": "web", "for": "1m", "by": ["x"]}, "by"),
    ({"monitor": "web", "for": "1m", "colour": "red"}, "colour"),
]
REPORT = [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"window": ""}, "window"),
    ({"from": "", "to": "2026-10-01"}, "from"),
    ({"period": "month", "at": " "}, "at"),
    ({"from": "2026-10-01", "to": "2026-10-02", "window": "1d"}, "window"),
    ({"from": "2026-10-01", "to": "2026-10-02", "period": "month"}, "period"),
    ({"period": "month", "window": "1d"}, "window"),
    ({"at": "2026-10"}, "at"),
    ({"at": "2026-10", "window": "1d"}, "at"),
    ({"from": "2026-10-01"}, "to"),
    ({"to": "2026-10-01"}, "from"),
    ({"from": "2026-10-02", "to": "2026-10-01"}, "to"),
    ({"from": "2999-01-01", "to": "2999-02-01"}, "from"),
    ({"from": "1969-12-31T23:59:59Z", "to": "1970-01-02"}, "from"),
    ({"from": "yesterday", "to": "2026-10-01"}, "from"),
    ({"from": "2026-10-01", "to": "2026-10-02T00:00:00"}, "to"),
    ({"from": "0001-01-01", "to": "0001-01-02", "timezone": "Asia/Tokyo"}, "from"),
    ({"period": "month", "at": "2026-13"}, "at"),
    ({"period": "year", "at": "2999"}, "at"),
    ({"period": "year", "at": "1960"}, "at"),
    ({"window": "3x"}, "window"),
    ({"window": "0s"}, "window"),
    ({"window": "30000d"}, "window"),
    ({"monitor": ["nosuch"]}, "monitor"),
    ({"service": ["nosuch"]}, "service"),
    ({"slo": ["nosuch"]}, "slo"),
]
REPORT_API_ONLY = [({"period": "decade"}, "period")]  # the CLI offers the periods as choices


def flag(field: str) -> str:
    return f"--{field}"


def quoted(field: str) -> str:
    return f"'{field}'"


class Server:
    """The real Api on a real Store, served by aiohttp on a loopback port from a thread."""

    def __init__(self, tmp: Path):
        self.port = free_port()
        self.db = tmp / "u.db"
        self.config_path = tmp / "c.toml"
        self.config_path.write_text(CONFIG.format(db=self.db, port=self.port))
        self.config = load_config(str(self.config_path))
        self.store = Store(str(self.db))
        self.store.open()
        self.store.start(version="test", config_sha256=self.config.sha256)
        self.api = api.Api(lambda: self.config, dict, self.store, TOKEN)
        self.unendable: dict[str, int] = {}  # see unendable_windows
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        app = web.Application()
        self.api.routes(app)
        self.runner = web.AppRunner(app, access_log=None)
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        self.store.close()

    def windows(self) -> int:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM maintenance").fetchone()[0])
        finally:
            conn.close()

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, str, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data, headers, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers["Content-Type"], json.loads(r.read())
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers["Content-Type"], json.loads(e.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("contract"))
    try:
        yield s
    finally:
        s.close()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def argv_of(fields: dict[str, Any]) -> list[str]:
    argv = []
    for name, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            argv += [flag(name), v]
    return argv


def report_query(fields: dict[str, Any]) -> str:
    pairs = [(k, v) for k, vs in fields.items() for v in (vs if isinstance(vs, list) else [vs])]
    return urllib.parse.urlencode(pairs)


def library_error(kind: str, fields: dict[str, Any], config: Any) -> RequestError:
    now = int(time.time() * 1000)
    with pytest.raises(RequestError) as e:
        if kind == "maintenance":
            adhoc.maintenance_request(config, fields, now, by="test")
        else:
            window = {"start": "from", "end": "to", "period": "period", "at": "at",
                      "window": "window", "timezone": "timezone"}  # fmt: skip
            report_window.resolve_window(now, **{k: fields.get(v) for k, v in window.items()})
            report_window.resolve_scope(
                config, fields.get("monitor", []), fields.get("service", []), fields.get("slo", [])
            )
    return e.value


def check_wording(error: RequestError, cli_text: str | None, api_text: str) -> None:
    """Both front ends say the library's sentence, each naming the fields its own way."""
    every = set(adhoc.MAINTENANCE_FIELDS) | set(api.REPORT_PARAMETERS)
    assert api_text == error.render(quoted)
    assert not re.search(r"--[a-z]", api_text), api_text  # no CLI flag in the API's words
    assert not re.search(r"\{[a-z_]+\}", api_text), api_text  # no placeholder left
    if error.field in every:
        assert quoted(error.field) in api_text, api_text
    if cli_text is None:
        return
    assert cli_text == error.render(cli._flag)
    assert error.field in error.fields and flag(error.field) in cli_text, cli_text
    for f in every:  # no field named as the API names it, without its flag
        assert quoted(f) not in cli_text, cli_text
    assert "\n" not in cli_text and "\n" not in api_text


@pytest.mark.parametrize("fields, field", MAINTENANCE + MAINTENANCE_API_ONLY)
def test_maintenance_errors(
    server: Server, capsys: pytest.CaptureFixture[str], fields: dict[str, Any], field: str
):
    error = library_error("maintenance", fields, server.config)
    assert error.field == field
    status, ctype, body = server.request("POST", "/api/v1/maintenance", fields)
    assert status == 400 and ctype.startswith("application/json"), body
    cli_text = None
    if (fields, field) in MAINTENANCE:
        code, out, err = run_cli(
            capsys, "maintenance", "add", "-c", str(server.config_path), *argv_of(fields)
        )
        assert code == 2 and out == "", (out, err)
        prefix = "uptimed maintenance: error: "
        assert err.startswith(prefix) and err.endswith("\n"), err
        cli_text = err[len(prefix) : -1]
    check_wording(error, cli_text, body["error"])
    # Refused as a whole: nothing was written, by either front end.
    assert server.windows() == 0


@pytest.mark.parametrize("fields, field", REPORT + REPORT_API_ONLY)
def test_report_errors(
    server: Server, capsys: pytest.CaptureFixture[str], fields: dict[str, Any], field: str
):
    error = library_error("report", fields, server.config)
    assert error.field == field
    status, ctype, body = server.request("GET", f"/api/v1/report?{report_query(fields)}")
    assert status == 400 and ctype.startswith("application/json"), body
    cli_text = None
    if (fields, field) in REPORT:
        code, out, err = run_cli(capsys, "report", "-c", str(server.config_path), *argv_of(fields))
        assert code == 2 and out == "", (out, err)
        prefix = "uptimed report: error: "
        assert err.startswith(prefix) and err.endswith("\n"), err
        cli_text = err[len(prefix) : -1]
    check_wording(error, cli_text, body["error"])


def test_the_section_and_item_endpoints_say_it_the_same_way(server: Server):
    """Every endpoint that takes a report window checks it with the same words."""
    want = library_error("report", {"window": "3x"}, server.config).render(quoted)
    for path in ("/api/v1/services", "/api/v1/slos", "/api/v1/incidents", "/api/v1/services/shop",
                 "/api/v1/slos/shop-slo"):  # fmt: skip
        status, _, body = server.request("GET", f"{path}?window=3x")
        assert (status, body) == (400, {"error": want}), path


def unendable_windows(server: Server) -> dict[str, int]:
    """Two windows no request can end, made once: one that has ended, one cancelled."""
    if not server.unendable:
        now = int(time.time() * 1000)
        conn = adhoc.open_db(str(server.db))
        try:
            ended = adhoc.add(
                conn, "monitor", "web", now - 7_200_000, now - 3_600_000, "r", "t", now
            )
            later = adhoc.add(
                conn, "monitor", "web", now + 3_600_000, now + 7_200_000, None, "t", now
            )
            adhoc.end(conn, later.id, now)
        finally:
            conn.close()
        server.unendable.update(ended=ended.id, cancelled=later.id)
    return server.unendable


def end_error(server: Server, which: str) -> RequestError:
    conn = adhoc.open_db(str(server.db))
    try:
        with pytest.raises(RequestError) as e:
            adhoc.end(conn, unendable_windows(server)[which], int(time.time() * 1000))
    finally:
        conn.close()
    return e.value


@pytest.mark.parametrize("which, words", [("ended", "already ended"), ("cancelled", "cancelled")])
def test_ending_a_window_that_cannot_end(
    server: Server, capsys: pytest.CaptureFixture[str], which: str, words: str
):
    error = end_error(server, which)
    assert error.field == "id" and words in str(error)
    window_id = unendable_windows(server)[which]
    status, ctype, body = server.request("DELETE", f"/api/v1/maintenance/{window_id}")
    assert status == 400 and ctype.startswith("application/json"), body
    code, out, err = run_cli(
        capsys, "maintenance", "end", "-c", str(server.config_path), str(window_id)
    )
    assert code == 2 and out == "", (out, err)
    prefix = "uptimed maintenance: error: "
    assert err.startswith(prefix) and err.endswith("\n"), err
    # The window is the command's argument and the API's path, not a field: no name to say it by.
    assert error.fields == ()
    assert body["error"] == err[len(prefix) : -1] == error.render(quoted) == error.render(flag)


def test_the_cli_has_a_flag_for_every_field():
    for f in (*adhoc.MAINTENANCE_FIELDS, *api.REPORT_PARAMETERS):
        assert cli.FLAGS[f] == flag(f), f


def _raise_sites() -> set[tuple[str, int]]:
    """Every ``raise RequestError...`` of the request checks in the library: (file, line)."""
    sites = set()
    for module, functions in (
        (adhoc, None),
        (report_window, {"resolve_scope", "resolve_window"}),
    ):
        path = inspect.getsourcefile(module)
        assert path
        tree = ast.parse(Path(path).read_text())
        for fn in tree.body:
            if not isinstance(fn, ast.FunctionDef) or (
                functions is not None and fn.name not in functions
            ):
                continue
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Raise)
                    and node.exc is not None
                    and "RequestError" in ast.unparse(node.exc)
                ):
                    sites.add((path, node.lineno))
    return sites


def test_the_cases_reach_every_check(server: Server):
    reached = set()
    cases = [("maintenance", c) for c in MAINTENANCE + MAINTENANCE_API_ONLY]
    cases += [("report", c) for c in REPORT + REPORT_API_ONLY]
    for kind, (fields, _) in cases:
        tb = library_error(kind, fields, server.config).__traceback__
        assert tb is not None
        while tb.tb_next is not None:
            tb = tb.tb_next
        reached.add((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
    for which in ("ended", "cancelled"):
        tb = end_error(server, which).__traceback__
        assert tb is not None
        while tb.tb_next is not None:
            tb = tb.tb_next
        reached.add((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
    sites = _raise_sites()
    assert len(sites) > 30
    assert sites - reached == set(), "checks no case here reaches"
