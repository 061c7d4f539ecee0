"""The JSON API (/api/v1/) and the SLA series on /metrics, against the real daemon.

One daemon (with ``[daemon] api_token``, read from a file) runs for the whole module against a
loopback target: ``web`` is up, ``db`` answers 503, ``cache`` is a TCP port that accepts. Tests run
in file order: the SLA counters are scraped when the daemon is ready and again at the end, at
least one 15-second refresh later, while the tests in between use the time. Maintenance windows
written here only ever cover ``cache`` (directly or through the service ``backend``), so they
never touch the figures of web, db and the services and SLOs built on them. One test runs the
API in this process, with a bug put into it.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.daemon_proc import UPTIMED, DaemonProc, free_port, value

TOKEN = "s3cret-t0ken-for-tests"
PROMTOOL = "/usr/bin/promtool"
SLA_SERIES = (
    "uptimed_availability_ratio",
    "uptimed_up_seconds_total",
    "uptimed_down_seconds_total",
    "uptimed_slo_objective_ratio",
    "uptimed_slo_attainment_ratio",
    "uptimed_slo_error_budget_remaining_ratio",
    "uptimed_slo_burn_rate",
)
BURN_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "24h", "3d")


def iso(t: float) -> str:
    ms = round(t * 1000)
    text = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ms % 1000:03d}Z" if ms % 1000 else "Z")


class Target(http.server.BaseHTTPRequestHandler):
    """/up answers 200, anything else 503."""

    def do_GET(self) -> None:
        ok = self.path == "/up"
        body = b"ok" if ok else b"down"
        self.send_response(200 if ok else 503)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass(repr=False)
class Daemon:
    port: int
    config: Path
    db: Path
    log: Path
    proc: subprocess.Popen[bytes]
    started: float
    first_scrape: str = ""
    first_scrape_at: float = 0.0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def request(
    d: Daemon,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    if data is not None:
        h.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(d.url(path), data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers), e.read().decode()


def get_json(d: Daemon, path: str) -> Any:
    status, headers, text = request(d, "GET", path)
    assert status == 200, (path, status, text)
    assert headers["Content-Type"].startswith("application/json"), headers
    return json.loads(text)


def metrics(d: Daemon) -> str:
    status, _, text = request(d, "GET", "/metrics")
    assert status == 200
    return text


def wait_metric(d: Daemon, name: str, want: float, timeout: float, **labels: str) -> float:
    """Seconds until ``name{labels}`` reads ``want`` (fails after ``timeout``)."""
    t0 = time.monotonic()
    while True:
        got = value(metrics(d), name, **labels)
        if got == want:
            return time.monotonic() - t0
        assert time.monotonic() - t0 < timeout, (
            f"{name}{labels} = {got}, not {want} after {timeout} s"
        )
        time.sleep(0.1)


def first_probes(d: Daemon) -> tuple[int, int]:
    """When web and db were first probed (ms), from the database."""
    c = sqlite3.connect(f"file:{d.db}?mode=ro", uri=True)
    try:
        rows = dict(
            c.execute(
                "SELECT m.key, min(r.ts) FROM results r JOIN monitors m ON m.id = r.monitor"
                " GROUP BY m.key"
            )
        )
    finally:
        c.close()
    return rows["web"], rows["db"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UPTIMED, *args], capture_output=True, text=True, timeout=60)


def write_config(tmp: Path, port: int, target_port: int, token_file: Path | None) -> Path:
    config = tmp / "c.toml"
    token = f'api_token = "${{file:{token_file}}}"\n' if token_file else ""
    config.write_text(f"""
[daemon]
database = "{tmp / "u.db"}"
listen = "127.0.0.1:{port}"
{token}
[defaults]
interval = "1s"
timeout = "0.5s"
{monitors(target_port)}""")
    return config


def monitors(target_port: int) -> str:
    """The monitors, services and SLOs (after [daemon] and [defaults])."""
    return f"""
[[monitor]]
id = "web"
kind = "http"
url = "http://127.0.0.1:{target_port}/up"

[[monitor]]
id = "db"
kind = "http"
url = "http://127.0.0.1:{target_port}/down"

[[monitor]]
id = "cache"
kind = "tcp"
host = "127.0.0.1"
port = {target_port}

[[service]]
id = "shop"
monitors = ["web", "db"]
rule = "all"

[[service]]
id = "edge"
monitors = ["web", "db"]
rule = "any"

[[service]]
id = "backend"
monitors = ["cache"]
rule = "all"

[[slo]]
id = "shop-slo"
target = "shop"
objective = 99.9
window = "30d"
credits = [{{ below = 99.9, credit = 10 }}]
min_coverage = 0  # the daemon runs seconds of the 30 days: a verdict all the same

[[slo]]
id = "web-slo"
target = "web"
objective = 99.0
period = "month"
timezone = "Europe/Berlin"
min_coverage = 0
"""


@pytest.fixture(scope="module")
def target() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, target: int) -> Iterator[Daemon]:
    tmp = tmp_path_factory.mktemp("api")
    token_file = tmp / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    config = write_config(tmp, port, target, token_file)
    log = tmp / "daemon.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen([*UPTIMED, "run", "-c", str(config)], stdout=f, stderr=f)
    d = Daemon(port, config, tmp / "u.db", log, proc, time.time())
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if request(d, "GET", "/healthz")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        # The first SLA refresh comes ~2 s after start; wait until db has been down a moment.
        while True:
            m = metrics(d)
            if (value(m, "uptimed_down_seconds_total", monitor="db") or 0) > 0:
                break
            assert time.monotonic() < deadline, m
            time.sleep(0.2)
        d.first_scrape, d.first_scrape_at = m, time.monotonic()
        yield d
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                assert proc.wait(15) == 0
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


# -- reads -----------------------------------------------------------------------------------------


def test_monitors(daemon):
    mons = {m["id"]: m for m in get_json(daemon, "/api/v1/monitors")}
    assert set(mons) == {"web", "db", "cache"}
    assert (
        mons["web"]["state"] == "up"
        and mons["web"]["last_ok"] is True
        and mons["web"]["kind"] == "http"
    )
    assert mons["db"]["state"] == "down" and mons["db"]["last_error_kind"] == "http_status"
    assert mons["cache"]["kind"] == "tcp" and mons["cache"]["target"].startswith("127.0.0.1:")
    for m in mons.values():
        assert m["since"] is not None and m["last_probe"] is not None

    web = get_json(daemon, "/api/v1/monitors/web")
    for k in (
        "state",
        "up_seconds",
        "down_seconds",
        "maintenance_seconds",
        "unknown_seconds",
        "availability",
        "coverage",
        "incidents",
        "mttr_seconds",
        "from",
        "to",
    ):
        assert k in web, k
    assert web["id"] == "web" and web["availability"] == 1.0 and web["incidents"] == []
    db = get_json(daemon, "/api/v1/monitors/db")
    assert db["availability"] == 0.0 and len(db["incidents"]) == 1
    assert (
        db["incidents"][0]["cause"] == "http_status" and db["incidents"][0]["end"] is None
    )  # ongoing

    status, headers, text = request(daemon, "GET", "/api/v1/monitors/nosuch")
    assert status == 404 and headers["Content-Type"].startswith("application/json")
    assert "nosuch" in json.loads(text)["error"]


def test_services_slos_incidents_and_maintenance(daemon):
    svcs = {s["id"]: s for s in get_json(daemon, "/api/v1/services")}
    assert set(svcs) == {"shop", "edge", "backend"}
    assert svcs["shop"]["rule"] == "all" and svcs["shop"]["monitors"] == ["web", "db"]
    assert svcs["edge"]["rule"] == "any"
    # shop (all) is down while db is, edge (any) up while web is; between the two monitors' first
    # probes only one of them votes, and that one decides.
    web, db = first_probes(daemon)
    assert svcs["shop"]["up_seconds"] == max(0, db - web) / 1000
    assert svcs["edge"]["down_seconds"] == max(0, web - db) / 1000
    assert svcs["shop"]["down_seconds"] > 0 and svcs["edge"]["up_seconds"] > 0
    assert get_json(daemon, "/api/v1/services?service=edge")[0]["id"] == "edge"

    slos = {s["id"]: s for s in get_json(daemon, "/api/v1/slos")}
    assert set(slos) == {"shop-slo", "web-slo"}
    assert slos["shop-slo"]["objective"] == 0.999 and slos["shop-slo"]["met"] is False
    assert slos["shop-slo"]["credit"] == {"below": 99.9, "credit": 10}
    assert slos["web-slo"]["objective"] == 0.99 and slos["web-slo"]["met"] is True
    assert slos["web-slo"]["attainment"] == 1.0 and slos["web-slo"]["credit"] is None
    for s in slos.values():
        assert set(s["burn_rates"]) == set(BURN_WINDOWS)
        assert {"total_seconds", "consumed_seconds", "remaining_seconds", "remaining_ratio"} <= set(
            s["error_budget"]
        )
    assert [s["id"] for s in get_json(daemon, "/api/v1/slos?slo=web-slo")] == ["web-slo"]

    incidents = get_json(daemon, "/api/v1/incidents")
    by_target = {(i["target_kind"], i["target"]): i for i in incidents}
    assert ("monitor", "db") in by_target and ("service", "shop") in by_target
    assert ("monitor", "web") not in by_target
    # edge (any) is down only while db alone has voted: before web's first probe, if db's came
    # first.
    edge = [i for i in incidents if i["target"] == "edge"]
    assert len(edge) <= 1 and all(
        i["end"] is not None and i["duration_seconds"] < 1.1 for i in edge
    ), edge
    assert by_target[("monitor", "db")]["cause"] == "http_status"
    assert by_target[("service", "shop")]["cause"] == "http_status"  # db's, which began it
    assert [i["start"] for i in incidents] == sorted(i["start"] for i in incidents)

    assert get_json(daemon, "/api/v1/maintenance") == []


def test_an_ongoing_service_outage_is_an_ongoing_incident(daemon):
    """As a monitor's: no end yet (services' outages were once cut at the last heartbeat)."""
    incidents = get_json(daemon, "/api/v1/incidents")
    (db,) = [i for i in incidents if i["target"] == "db"]
    (shop,) = [i for i in incidents if i["target"] == "shop"]
    assert db["end"] is None  # db has been down since its first probe, and still is
    assert shop["end"] is None, shop  # so has shop (rule all, db a member)


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what depends on the moment it was made: generated_at, the running
    run's heartbeat (config_versions[].to), and the end and duration of outages still under way
    at the end of the window (they run to now, or to the last heartbeat)."""
    out = json.loads(json.dumps(report))
    out.pop("generated_at")
    for v in out["config_versions"]:
        v.pop("to")
    for kind in ("monitors", "services", "slos"):
        for item in out[kind]:
            for i in item["incidents"]:
                if i["end"] is None or i["end"] >= out["to"]:
                    i.pop("end")
                    i.pop("duration_seconds")
    return out


def test_report_is_the_same_json_as_the_cli(daemon):
    lo, hi = iso(daemon.started - 2), iso(time.time() - 1.5)  # a window whose data is final
    api = get_json(daemon, f"/api/v1/report?from={lo}&to={hi}")
    out = cli("report", "-c", str(daemon.config), "--from", lo, "--to", hi, "--format", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert list(api) == list(report)  # the same keys, in the same order
    for kind in ("monitors", "services", "slos"):
        assert [list(i) for i in api[kind]] == [list(i) for i in report[kind]], kind
    assert _comparable(api) == _comparable(report)
    assert api["from"] == lo and api["to"] == hi
    window = datetime.fromisoformat(hi.replace("Z", "+00:00")) - datetime.fromisoformat(
        lo.replace("Z", "+00:00")
    )
    for item in api["monitors"] + api["services"]:
        total = sum(
            item[k]
            for k in ("up_seconds", "down_seconds", "maintenance_seconds", "unknown_seconds")
        )
        assert total == pytest.approx(window.total_seconds(), abs=1e-6), item["id"]
    # Filters work as the CLI's.
    one = get_json(daemon, f"/api/v1/report?from={lo}&to={hi}&monitor=db")
    assert (
        [m["id"] for m in one["monitors"]] == ["db"] and one["services"] == [] and one["slos"] == []
    )
    svc = get_json(daemon, f"/api/v1/report?from={lo}&to={hi}&service=shop")
    assert [m["id"] for m in svc["monitors"]] == ["web", "db"] and [
        s["id"] for s in svc["slos"]
    ] == ["shop-slo"]
    # The section endpoints take the same parameters and give the same items.
    assert _comparable(
        {**api, "services": get_json(daemon, f"/api/v1/services?from={lo}&to={hi}")}
    ) == _comparable(api)
    assert (
        get_json(daemon, f"/api/v1/slos?from={lo}&to={hi}")[0]["attainment"]
        == api["slos"][0]["attainment"]
    )


BAD_READS = [
    "/api/v1/report?bogus=1",
    "/api/v1/report?from=yesterday&to=2026-10-01",
    "/api/v1/report?from=2026-10-02&to=2026-10-01",
    "/api/v1/report?from=2026-10-01T00:00:00&to=2026-10-02",
    "/api/v1/report?from=2026-10-01",
    "/api/v1/report?monitor=nosuch",
    "/api/v1/report?service=nosuch",
    "/api/v1/report?slo=nosuch",
    "/api/v1/report?period=decade",
    "/api/v1/report?period=month&at=2026-13",
    "/api/v1/report?at=2026-10",
    "/api/v1/report?window=3x",
    "/api/v1/report?window=1d&period=month",
    "/api/v1/report?window=1d&timezone=Mars/Olympus",
    "/api/v1/services?bogus=1",
    "/api/v1/services?service=nosuch",
    "/api/v1/slos?from=2026-10-02&to=2026-10-01",
    "/api/v1/incidents?monitor=nosuch",
    "/api/v1/incidents?from=x&to=y",
    "/api/v1/monitors/web?from=x&to=y",
    "/api/v1/monitors/web?bogus=1",
    "/api/v1/monitors?bogus=1",
    "/api/v1/maintenance?bogus=1",
    "/api/v1/maintenance?all=1&bogus=1",
    "/api/v1/report?period=week&at=9999-12-31",  # a week ending in year 10000
    "/api/v1/report?from=0001-01-01T00:00:00%2B05:00&to=2000-01-01",  # year 0 in UTC
    # Dates east of UTC in year 1, the first year in such a zone (an OverflowError before).
    "/api/v1/report?from=0001-01-01&to=0001-01-02&timezone=Asia/Tokyo",
    "/api/v1/report?period=year&at=0001&timezone=Asia/Tokyo",
    "/api/v1/report?window=0s",  # empty, as an empty --from/--to is
    "/api/v1/report?window=",
    "/api/v1/report?period=year&at=2999",  # has not begun
    "/api/v1/report?from=2999-01-01&to=2999-02-01",
    # One service or SLO: the window parameters, checked as the report's; no scope parameters.
    "/api/v1/services/shop?window=3x",
    "/api/v1/services/shop?monitor=web",
    "/api/v1/slos/web-slo?from=2026-10-02&to=2026-10-01",
    "/api/v1/slos/web-slo?slo=shop-slo",
    "/api/v1/monitors/web?monitor=db",
]


@pytest.mark.parametrize("path", BAD_READS)
def test_bad_parameters_get_400_with_a_json_error(daemon, path):
    status, headers, text = request(daemon, "GET", path)
    assert status == 400, (path, status, text)
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(text)["error"]
    assert isinstance(error, str) and error and "Traceback" not in error


def test_bad_parameter_errors_name_the_parameter(daemon):
    def error(path: str) -> str:
        return json.loads(request(daemon, "GET", path)[2])["error"]

    assert "bogus" in error("/api/v1/report?bogus=1")
    assert "'monitor': no such id: nosuch" in error("/api/v1/report?monitor=nosuch")
    assert "'from': \"yesterday\" is not a time" in error(
        "/api/v1/report?from=yesterday&to=2026-10-01"
    )
    assert "'from' (2026-10-02) must be before 'to'" in error(
        "/api/v1/report?from=2026-10-02&to=2026-10-01"
    )
    assert "decade" in error("/api/v1/report?period=decade")
    assert "'window': 0s is empty" in error("/api/v1/report?window=0s")
    assert "'at' goes with 'period'" in error("/api/v1/report?at=2026-10")
    assert "has not begun" in error("/api/v1/report?period=year&at=2999")
    assert "out of range" in error(
        "/api/v1/report?from=0001-01-01&to=0001-01-02&timezone=Asia/Tokyo"
    )
    # Named as this API names them, never as the CLI's flags (tests/test_contract.py: every error).
    for path in BAD_READS:
        assert not re.search(r"--[a-z]", error(path)), path


ENDPOINTS = {
    ("GET", "/api/v1/"),
    ("GET", "/api/v1/monitors"),
    ("GET", "/api/v1/monitors/{id}"),
    ("GET", "/api/v1/services"),
    ("GET", "/api/v1/services/{id}"),
    ("GET", "/api/v1/slos"),
    ("GET", "/api/v1/slos/{id}"),
    ("GET", "/api/v1/incidents"),
    ("GET", "/api/v1/incidents/{id}"),
    ("POST", "/api/v1/incidents/{id}/ack"),
    ("GET", "/api/v1/report"),
    ("GET", "/api/v1/maintenance"),
    ("POST", "/api/v1/maintenance"),
    ("DELETE", "/api/v1/maintenance/{id}"),
}


def test_the_api_lists_its_endpoints(daemon):
    status, _, text = request(daemon, "GET", "/")
    assert status == 200 and "/api/v1/" in text  # where the index points
    for path in ("/api/v1/", "/api/v1"):
        index = get_json(daemon, path)
        eps = {(e["method"], e["path"]): e for e in index["endpoints"]}
        assert set(eps) == ENDPOINTS and len(index["endpoints"]) == len(ENDPOINTS)
        for e in index["endpoints"]:
            assert (
                isinstance(e["description"], str)
                and e["description"]
                and "\n" not in e["description"]
            ), e
            assert e["needs_token"] is (e["method"] != "GET"), e
        assert index["writes_enabled"] is True
        window = ["from", "to", "period", "at", "window", "timezone"]
        assert eps[("GET", "/api/v1/services/{id}")]["parameters"] == window
        assert "for" in eps[("POST", "/api/v1/maintenance")]["body"]
    # Every read listed answers, and takes the parameters listed (one of them, at least).
    ids = {"monitors": "web", "services": "shop", "slos": "web-slo"}
    ids["incidents"] = next(i["id"] for i in get_json(daemon, "/api/v1/incidents") if i["id"])
    for method, path in sorted(ENDPOINTS):
        if method == "GET":
            url = re.sub(r"/(\w+)/\{id\}", lambda m: f"/{m[1]}/{ids[m[1]]}", path)
            params = eps[(method, path)]["parameters"]
            query = "?window=1h" if "window" in params else "?all=1" if "all" in params else ""
            get_json(daemon, url + query)


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/nosuch"), ("GET", "/api/v1/monitors/web/extra"), ("POST", "/api/v1/nosuch"),
    ("GET", "/api/v1/monitors/"), ("GET", "/api/v1/v2"), ("DELETE", "/api/v1/maintenance/1/2"),
])  # fmt: skip
def test_unknown_paths_under_the_api_get_a_json_404(daemon, method, path):
    status, headers, text = request(daemon, method, path)
    assert status == 404 and headers["Content-Type"].startswith("application/json"), (status, text)
    assert path in json.loads(text)["error"] and "/api/v1/" in json.loads(text)["error"]


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("PUT", "/api/v1/maintenance", "GET, POST, HEAD"),
        ("DELETE", "/api/v1/monitors", "GET, HEAD"),
        ("POST", "/api/v1/", "GET, HEAD"),
        ("POST", "/api/v1", "GET, HEAD"),
        ("GET", "/api/v1/maintenance/1", "DELETE"),
    ],
)
def test_a_known_path_with_another_method_gets_a_json_405(daemon, method, path, allowed):
    status, headers, text = request(daemon, method, path, token=TOKEN)
    assert status == 405 and headers["Content-Type"].startswith("application/json"), (status, text)
    assert headers["Allow"] == allowed and method in json.loads(text)["error"]


def _settled(item: dict[str, Any], to: str) -> dict[str, Any]:
    """An item without what depends on the moment it was read (see _comparable)."""
    out = json.loads(json.dumps(item))
    for i in out["incidents"]:
        if i["end"] is None or i["end"] >= to:
            i.pop("end")
            i.pop("duration_seconds")
    return out


def test_one_service_and_one_slo(daemon):
    """/services/{id} and /slos/{id}: the report's figures for that one item, over the same
    window parameters; a 404 for an id the config does not have."""
    lo, hi = iso(daemon.started - 2), iso(time.time() - 1.5)  # a window whose data is final
    rep = get_json(daemon, f"/api/v1/report?from={lo}&to={hi}")
    for kind, key in (
        ("services", "shop"),
        ("services", "edge"),
        ("slos", "shop-slo"),
        ("slos", "web-slo"),
    ):
        one = get_json(daemon, f"/api/v1/{kind}/{key}?from={lo}&to={hi}")
        (want,) = [x for x in rep[kind] if x["id"] == key]
        if kind == "services":
            assert list(one)[:3] == ["id", "from", "to"] and (one["from"], one["to"]) == (lo, hi)
            want = {"id": key, "from": lo, "to": hi, **want}
        assert _settled(one, hi) == _settled(want, hi), key
    # Without a window: the default, the SLO over its own period.
    slo = get_json(daemon, "/api/v1/slos/web-slo")
    assert slo["id"] == "web-slo" and slo["basis"] == "period" and slo["period"] == "month"
    assert get_json(daemon, "/api/v1/services/backend?window=1h")["monitors"] == ["cache"]
    for path in (
        "/api/v1/services/nosuch",
        "/api/v1/slos/nosuch",
        "/api/v1/services/web",
        "/api/v1/slos/shop",
    ):
        status, headers, text = request(daemon, "GET", path)
        assert status == 404 and headers["Content-Type"].startswith("application/json"), (
            path,
            text,
        )
        assert path.rsplit("/", 1)[1] in json.loads(text)["error"]


# -- writes ----------------------------------------------------------------------------------------


def test_post_maintenance_needs_the_token(daemon):
    body = {"monitor": "cache", "for": "1m", "reason": "deploy"}
    for auth in (
        None,
        "Bearer wrong",
        TOKEN,
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
        "Bearer",
        "Bearer ",
        f"Bearer{TOKEN}",
        f"Bearer {TOKEN} {TOKEN}",
        f"Token {TOKEN}",
        f"Bearer\t{TOKEN}",
    ):
        headers = {} if auth is None else {"Authorization": auth}
        status, h, text = request(daemon, "POST", "/api/v1/maintenance", body, headers=headers)
        assert status == 401, (headers, status, text)
        assert h["Content-Type"].startswith("application/json") and json.loads(text)["error"]
        assert h["WWW-Authenticate"] == "Bearer"
    assert get_json(daemon, "/api/v1/maintenance?all=1") == []  # nothing was written
    status, _, text = request(daemon, "DELETE", "/api/v1/maintenance/1")
    assert status == 401, text


def test_the_bearer_scheme_is_case_insensitive(daemon):
    """RFC 9110: the scheme in any case, one space or more before the token. (With the token, a
    window that does not exist is a 404; without, a 401.)"""
    for auth in (
        f"bearer {TOKEN}",
        f"BEARER {TOKEN}",
        f"bEaReR {TOKEN}",
        f"Bearer   {TOKEN}",
        f"bearer  {TOKEN} ",
    ):
        status, _, text = request(
            daemon, "DELETE", "/api/v1/maintenance/99999", headers={"Authorization": auth}
        )
        assert status == 404, (auth, status, text)


def test_maintenance_through_the_api_takes_effect_without_a_restart(daemon):
    assert value(metrics(daemon), "uptimed_maintenance_active", monitor="cache") == 0
    status, _, text = request(
        daemon,
        "POST",
        "/api/v1/maintenance",
        {"monitor": "cache", "for": "10m", "reason": "deploy", "by": "bob"},
        TOKEN,
    )
    assert status == 200, text
    w = json.loads(text)
    assert (w["target_kind"], w["target"], w["reason"], w["created_by"]) == (
        "monitor",
        "cache",
        "deploy",
        "bob",
    )
    assert w["retroactive"] is False and w["ended_early_at"] is None
    start = datetime.fromisoformat(w["start"].replace("Z", "+00:00")).timestamp()
    end = datetime.fromisoformat(w["end"].replace("Z", "+00:00")).timestamp()
    assert end - start == pytest.approx(600, abs=0.001) and abs(start - time.time()) < 5
    assert [x["id"] for x in get_json(daemon, "/api/v1/maintenance")] == [w["id"]]

    took = wait_metric(daemon, "uptimed_maintenance_active", 1, 4, monitor="cache")
    assert took < 2.5, took
    m = metrics(daemon)
    assert value(m, "uptimed_maintenance_active", monitor="web") == 0
    assert value(m, "uptimed_maintenance_active", monitor="db") == 0
    # The report lists it as an exclusion.
    rep = get_json(
        daemon,
        f"/api/v1/report?from={iso(time.time() - 60)}&to={iso(time.time() + 1)}&monitor=cache",
    )
    (x,) = [x for x in rep["exclusions"] if x["source"] == "adhoc"]
    assert x["id"] == w["id"] and x["monitors"] == ["cache"] and x["created_by"] == "bob"

    status, _, text = request(daemon, "DELETE", f"/api/v1/maintenance/{w['id']}")
    assert status == 401, text
    status, _, text = request(daemon, "DELETE", f"/api/v1/maintenance/{w['id']}", token=TOKEN)
    assert status == 200, text
    ended = json.loads(text)
    assert (
        ended["id"] == w["id"]
        and ended["ended_early_at"] is not None
        and ended["end"] == ended["ended_early_at"]
    )
    took = wait_metric(daemon, "uptimed_maintenance_active", 0, 4, monitor="cache")
    assert took < 2.5, took
    assert get_json(daemon, "/api/v1/maintenance") == []
    assert [x["id"] for x in get_json(daemon, "/api/v1/maintenance?all=1")] == [w["id"]]

    status, _, text = request(daemon, "DELETE", f"/api/v1/maintenance/{w['id']}", token=TOKEN)
    assert status == 400 and "already ended" in json.loads(text)["error"]
    status, _, text = request(daemon, "DELETE", "/api/v1/maintenance/99999", token=TOKEN)
    assert status == 404 and "99999" in json.loads(text)["error"]
    status, _, text = request(daemon, "DELETE", "/api/v1/maintenance/abc", token=TOKEN)
    assert status == 400 and "abc" in json.loads(text)["error"]


def test_maintenance_on_a_service_covers_its_monitors(daemon):
    status, _, text = request(
        daemon, "POST", "/api/v1/maintenance", {"service": "backend", "for": "5m"}, TOKEN
    )
    assert status == 200, text
    w = json.loads(text)
    assert (w["target_kind"], w["target"], w["created_by"]) == ("service", "backend", "api")
    wait_metric(daemon, "uptimed_maintenance_active", 1, 4, monitor="cache")
    assert request(daemon, "DELETE", f"/api/v1/maintenance/{w['id']}", token=TOKEN)[0] == 200
    wait_metric(daemon, "uptimed_maintenance_active", 0, 4, monitor="cache")


def test_maintenance_for_several_targets_at_once(daemon):
    """monitor and service each an id or a list: one window per target, listed in the answer."""
    body = {"service": ["backend"], "monitor": "cache", "for": "5m", "reason": "both"}
    auth = {"Authorization": f"bearer  {TOKEN}"}  # the scheme in any case, spaces after it
    status, _, text = request(daemon, "POST", "/api/v1/maintenance", body, headers=auth)
    assert status == 200, text
    ws = json.loads(text)
    assert [(w["target_kind"], w["target"], w["reason"]) for w in ws] == [
        ("monitor", "cache", "both"),
        ("service", "backend", "both"),
    ]
    assert len({(w["start"], w["end"]) for w in ws}) == 1 and ws[0]["id"] < ws[1]["id"]
    assert [x["id"] for x in get_json(daemon, "/api/v1/maintenance")] == [w["id"] for w in ws]
    wait_metric(daemon, "uptimed_maintenance_active", 1, 4, monitor="cache")
    for w in ws:
        assert request(daemon, "DELETE", f"/api/v1/maintenance/{w['id']}", token=TOKEN)[0] == 200
    wait_metric(daemon, "uptimed_maintenance_active", 0, 4, monitor="cache")
    # A list of one is answered with a list too; a string, with the window itself (as ever).
    status, _, text = request(
        daemon, "POST", "/api/v1/maintenance", {"monitor": ["cache"], "for": "1m"}, TOKEN
    )
    assert status == 200 and [w["target"] for w in json.loads(text)] == ["cache"], text
    assert (
        request(daemon, "DELETE", f"/api/v1/maintenance/{json.loads(text)[0]['id']}", token=TOKEN)[
            0
        ]
        == 200
    )


def test_cli_maintenance_reaches_the_running_daemon(daemon):
    out = cli(
        "maintenance",
        "add",
        "-c",
        str(daemon.config),
        "--monitor",
        "cache",
        "--for",
        "5m",
        "--reason",
        "cli",
        "--service",
        "backend",
    )
    assert out.returncode == 0, out.stderr
    ids = re.findall(
        r"^maintenance window (\d+): (?:monitor cache|service backend) from ",
        out.stdout,
        re.MULTILINE,
    )
    assert len(ids) == 2 == len(out.stdout.splitlines()), out.stdout
    assert wait_metric(daemon, "uptimed_maintenance_active", 1, 4, monitor="cache") < 2.5
    listed = get_json(daemon, "/api/v1/maintenance")
    assert [(str(x["id"]), x["reason"]) for x in listed] == [(ids[0], "cli"), (ids[1], "cli")]
    for window_id in ids:
        out = cli("maintenance", "end", "-c", str(daemon.config), window_id)
        assert out.returncode == 0, out.stderr
    assert wait_metric(daemon, "uptimed_maintenance_active", 0, 4, monitor="cache") < 2.5


BAD_WRITES = [
    (b"not json", "JSON"),
    (b"[1, 2]", "JSON object"),
    (b'"monitor"', "JSON object"),
    (json.dumps({"monitor": "cache", "for": "1m", "colour": "red"}).encode(), "colour"),
    (json.dumps({"for": "1m"}).encode(), "give at least one target: 'monitor' or 'service'"),
    (json.dumps({"monitor": [], "service": [], "for": "1m"}).encode(), "give at least one target"),
    (json.dumps({"monitor": "nosuch", "for": "1m"}).encode(), "'monitor': no such id: nosuch"),
    (json.dumps({"service": "nosuch", "for": "1m"}).encode(), "'service': no such id: nosuch"),
    # All or none: one unknown target refuses the others.
    (
        json.dumps({"monitor": ["cache"], "service": ["backend", "nosuch"], "for": "1m"}).encode(),
        "nosuch",
    ),
    (json.dumps({"monitor": [1], "for": "1m"}).encode(), "'monitor': give an id or a list of ids"),
    (json.dumps({"monitor": {"id": "cache"}, "for": "1m"}).encode(), "'monitor'"),
    (json.dumps({"monitor": "cache"}).encode(), "give 'for' (a duration), or 'start' and 'end'"),
    (
        json.dumps({"monitor": "cache", "for": "1m", "start": "2030-01-01T00:00:00Z"}).encode(),
        "not both",
    ),
    (
        json.dumps(
            {"monitor": "cache", "for": "1m", "start": "2030-01-01", "end": "2030-01-02"}
        ).encode(),
        "give 'for', or 'start' and 'end', not both",
    ),
    (
        json.dumps({"monitor": "cache", "start": "2030-01-01T00:00:00Z"}).encode(),
        "'start' and 'end' go together",
    ),
    (json.dumps({"monitor": "cache", "for": 30}).encode(), "'for': give text"),
    (json.dumps({"monitor": "cache", "for": ""}).encode(), "'for': empty"),
    (
        json.dumps({"monitor": "cache", "for": "1m", "reason": "two\nlines"}).encode(),
        "'reason': one line",
    ),
    (
        json.dumps(
            {
                "monitor": "cache",
                "start": "1969-01-01T00:00:00Z",
                "end": "1970-01-02T00:00:00Z",
                "reason": "old",
            }
        ).encode(),
        "before 1970",
    ),
    (json.dumps({"monitor": "cache", "for": "soon"}).encode(), "soon"),
    (json.dumps({"monitor": "cache", "for": "30"}).encode(), "30"),
    (json.dumps({"monitor": "cache", "for": "0s"}).encode(), "end after it starts"),
    (
        json.dumps(
            {"monitor": "cache", "start": "2026-10-01T00:00:00", "end": "2030-01-01T00:00:00Z"}
        ).encode(),
        "time zone",
    ),
    (
        json.dumps(
            {"monitor": "cache", "start": "tomorrow", "end": "2030-01-01T00:00:00Z"}
        ).encode(),
        "tomorrow",
    ),
    (
        json.dumps(
            {"monitor": "cache", "start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}
        ).encode(),
        "end after it starts",
    ),
    (
        json.dumps(
            {"monitor": "cache", "start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"}
        ).encode(),
        "excludes recorded time: give a 'reason'",
    ),
    (
        json.dumps(
            {
                "monitor": "cache",
                "start": "2020-01-01T00:00:00Z",
                "end": "2020-01-02T00:00:00Z",
                "reason": 123,
            }
        ).encode(),
        "reason",
    ),
    (json.dumps({"monitor": "cache", "for": "1m", "by": ["x"]}).encode(), "by"),
    (
        json.dumps(
            {
                "monitor": "cache",
                "start": "0001-01-01T00:00:00+05:00",
                "end": "2000-01-01T00:00:00Z",
                "reason": "typo",
            }
        ).encode(),
        "0001-01-01T00:00:00+05:00",
    ),  # year 0 in UTC: not stored
]


@pytest.mark.parametrize("raw, needle", BAD_WRITES)
def test_bad_writes_get_400_with_a_json_error(daemon, raw, needle):
    status, headers, text = request(daemon, "POST", "/api/v1/maintenance", raw=raw, token=TOKEN)
    assert status == 400, (raw, status, text)
    assert headers["Content-Type"].startswith("application/json")
    assert needle in json.loads(text)["error"], text
    assert not re.search(r"--[a-z]", json.loads(text)["error"]), (
        text
    )  # the API's names, not the CLI's flags


def test_bad_writes_wrote_nothing(daemon):
    listed = get_json(daemon, "/api/v1/maintenance?all=1")
    # Only the windows the tests above added (and ended).
    assert [(x["target"], x["reason"]) for x in listed] == [
        ("cache", "deploy"),
        ("backend", None),
        ("cache", "both"),
        ("backend", "both"),
        ("cache", None),
        ("cache", "cli"),
        ("backend", "cli"),
    ]
    assert all(x["ended_early_at"] for x in listed), listed


# -- SLA metrics -----------------------------------------------------------------------------------


def test_sla_series_on_metrics(daemon):
    m = metrics(daemon)
    for name in SLA_SERIES:
        assert f"# TYPE {name} " in m, name
    for window in ("1h", "24h", "7d", "30d"):
        assert value(m, "uptimed_availability_ratio", monitor="web", window=window) == 1.0
        assert value(m, "uptimed_availability_ratio", monitor="db", window=window) == 0.0
        assert value(m, "uptimed_availability_ratio", monitor="cache", window=window) == 1.0
    web, db = first_probes(daemon)  # see test_services_slos_incidents_and_maintenance
    shop = {
        w: value(m, "uptimed_availability_ratio", service="shop", window=w)
        for w in ("1h", "24h", "7d", "30d")
    }
    edge = {
        w: value(m, "uptimed_availability_ratio", service="edge", window=w)
        for w in ("1h", "24h", "7d", "30d")
    }
    assert (
        len(set(shop.values())) == 1 and len(set(edge.values())) == 1
    )  # every window holds all the data
    assert (shop["1h"] > 0) == (web < db) and 0 <= shop["1h"] < 1
    assert (edge["1h"] < 1) == (db < web) and 0 < edge["1h"] <= 1
    assert value(m, "uptimed_slo_objective_ratio", slo="shop-slo", target="shop") == 0.999
    assert value(m, "uptimed_slo_objective_ratio", slo="web-slo", target="web") == 0.99
    att = value(m, "uptimed_slo_attainment_ratio", slo="shop-slo", target="shop")
    assert att == pytest.approx(
        shop["1h"], rel=1e-12
    )  # the SLO's 30-day window holds the same data
    budget = value(m, "uptimed_slo_error_budget_remaining_ratio", slo="shop-slo", target="shop")
    assert budget == pytest.approx(1 - (1 - att) / 0.001, rel=1e-6)  # deeply overspent
    for window in BURN_WINDOWS:
        burn = value(m, "uptimed_slo_burn_rate", slo="shop-slo", target="shop", window=window)
        assert burn == pytest.approx((1 - att) / 0.001, rel=1e-6), (
            window
        )  # all of it is in every window
        assert value(m, "uptimed_slo_burn_rate", slo="web-slo", target="web", window=window) == 0.0
    assert value(m, "uptimed_slo_attainment_ratio", slo="web-slo", target="web") == 1.0
    assert value(m, "uptimed_slo_error_budget_remaining_ratio", slo="web-slo", target="web") == 1.0
    for mon in ("web", "db", "cache"):
        assert value(m, "uptimed_maintenance_active", monitor=mon) == 0
    for kind, key in (
        ("monitor", "web"),
        ("monitor", "db"),
        ("monitor", "cache"),
        ("service", "shop"),
        ("service", "edge"),
        ("service", "backend"),
    ):
        assert value(m, "uptimed_up_seconds_total", **{kind: key}) is not None, key
        assert value(m, "uptimed_down_seconds_total", **{kind: key}) is not None, key


def test_openmetrics_has_the_sla_series(daemon):
    status, headers, text = request(
        daemon, "GET", "/metrics", headers={"Accept": "application/openmetrics-text"}
    )
    assert status == 200 and headers["Content-Type"].startswith("application/openmetrics-text")
    assert text.endswith("# EOF\n")
    assert 'uptimed_availability_ratio{monitor="web",window="1h"} 1.0' in text
    assert re.search(r'^uptimed_down_seconds_total\{monitor="db"\} \d', text, re.M)
    assert re.search(
        r'^uptimed_slo_burn_rate\{slo="shop-slo",target="shop",window="5m"\} ', text, re.M
    )


@pytest.mark.skipif(not os.path.exists(PROMTOOL), reason="promtool is not installed")
def test_promtool_check_metrics_is_clean(daemon):
    m = metrics(daemon)
    r = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=m, capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


async def test_without_a_token_writes_are_403(tmp_path, target):
    d = DaemonProc(tmp_path, monitors(target))  # no api_token
    assert "api_token" not in d.config.read_text()
    async with d:
        status, body = await d.get("/api/v1/maintenance")
        assert status == 200 and json.loads(body) == []
        async with aiohttp.ClientSession() as s:
            url = f"http://127.0.0.1:{d.port}/api/v1/maintenance"
            for token in (None, TOKEN):
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                async with s.post(
                    url, json={"monitor": "cache", "for": "1m"}, headers=headers
                ) as r:
                    assert r.status == 403, await r.text()
                    assert "[daemon] api_token" in (await r.json())["error"]
                async with s.delete(f"{url}/1", headers=headers) as r:
                    assert r.status == 403
        assert await d.stop() == 0
    assert d.sql("SELECT count(*) FROM maintenance") == [(0,)]


async def test_a_new_token_takes_effect_at_once(tmp_path):
    """The daemon may swap the token at run time (api.token = new): the next request sees it."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from uptimed.config import load_config
    from uptimed.store import Store
    from uptimed.web.api import Api

    config = write_config(tmp_path, free_port(), 9, None)
    cfg = load_config(str(config))
    store = Store(str(tmp_path / "u.db"))
    store.open()
    store.start(version="test", config_sha256=cfg.sha256)
    api = Api(lambda: cfg, dict, store, "old-token")
    app = web.Application()
    api.routes(app)
    try:
        async with TestClient(TestServer(app)) as client:

            async def status(token: str) -> int:
                headers = {"Authorization": f"Bearer {token}"}
                async with client.delete("/api/v1/maintenance/7", headers=headers) as r:
                    return r.status

            assert await status("old-token") == 404  # authorized: there is no window 7
            api.token = "new-token"
            assert (await status("old-token"), await status("new-token")) == (401, 404)
            api.token = None
            assert await status("new-token") == 403
            api.token = "again"
            assert await status("again") == 404
            async with client.get("/api/v1/") as r:
                assert (await r.json())["writes_enabled"] is True
    finally:
        store.close()


async def test_a_bug_is_a_500_without_details_and_a_bad_parameter_a_400(
    tmp_path, monkeypatch, caplog
):
    """A handler that fails (here: a service function with a bug) answers 500 with nothing of
    the failure in the body, and logs its traceback; a bad parameter is still a 400 in JSON."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from uptimed.config import load_config
    from uptimed.service.report import ReportReader
    from uptimed.store import Store
    from uptimed.web.api import Api

    config = write_config(tmp_path, free_port(), 9, None)
    cfg = load_config(str(config))
    store = Store(str(tmp_path / "u.db"))
    store.open()
    store.start(version="test", config_sha256=cfg.sha256)

    def broken(*args: Any) -> Any:
        raise KeyError("secret-detail-of-the-bug")

    monkeypatch.setattr(ReportReader, "services", broken)
    app = web.Application()
    Api(lambda: cfg, dict, store, TOKEN).routes(app)
    try:
        async with TestClient(TestServer(app)) as client:
            with caplog.at_level("ERROR", logger="uptimed.web.api"):
                async with client.get("/api/v1/services") as r:
                    assert r.status == 500
                    assert r.headers["Content-Type"].startswith("application/json")
                    text = await r.text()
            assert json.loads(text) == {"error": "internal error"}
            assert "secret-detail" not in text and "Traceback" not in text
            (record,) = [x for x in caplog.records if x.name == "uptimed.web.api"]
            assert record.exc_info is not None and record.exc_info[0] is KeyError
            assert "Traceback" in caplog.text and "secret-detail-of-the-bug" in caplog.text
            assert "/api/v1/services" in record.getMessage()
            # What the request got wrong is still the request's: a 400 naming it, in JSON.
            caplog.clear()
            async with client.get("/api/v1/services?window=3x") as r:
                assert r.status == 400
                assert (await r.json())["error"].startswith("'window': ")
            async with client.get("/api/v1/slos?window=1d") as r:
                assert r.status == 200  # the other endpoints are fine
            assert not [x for x in caplog.records if x.levelname == "ERROR"]
    finally:
        store.close()


def test_a_missing_token_file_stops_the_start(tmp_path, target):
    config = write_config(tmp_path, free_port(), target, tmp_path / "nope")
    r = cli("run", "-c", str(config))
    assert r.returncode == 2, r.stderr  # a config error: the secret it refers to is not there
    assert (
        "daemon.api_token" in r.stderr
        and str(tmp_path / "nope") in r.stderr
        and "Traceback" not in r.stderr
    )


def test_sla_counters_only_grow_and_follow_the_clock(daemon):
    """uptimed_up/down_seconds_total: scraped at start and again at least one 15 s refresh later.
    They never decrease; web's up and db's down grow by about the time between refreshes; and
    they agree with the report (they count only final time, so they lag it by at most a refresh)."""
    first, t_first = daemon.first_scrape, daemon.first_scrape_at
    scrapes = [first]
    # At least one scrape, the last one 16.5 s or more after the first (the tests above may take
    # longer).
    while True:
        time.sleep(min(2.0, max(0.0, t_first + 16.5 - time.monotonic())))
        scrapes.append(metrics(daemon))
        if time.monotonic() >= t_first + 16.5:
            break
    last = scrapes[-1]
    elapsed = time.monotonic() - t_first
    names = ("uptimed_up_seconds_total", "uptimed_down_seconds_total")
    series = sorted(
        {
            m.group(0)
            for s in scrapes
            for m in re.finditer(rf"^(?:{'|'.join(names)})\{{[^}}]*\}}", s, re.M)
        }
    )
    assert len(series) == 12  # up and down for 3 monitors and 3 services
    for a, b in zip(scrapes, scrapes[1:], strict=False):
        for s in series:
            va, vb = _sample(a, s), _sample(b, s)
            assert vb >= va, (s, va, vb)
    grew = {s: _sample(last, s) - _sample(first, s) for s in series}
    for s in (
        'uptimed_up_seconds_total{monitor="web"}',
        'uptimed_down_seconds_total{monitor="db"}',
        'uptimed_down_seconds_total{service="shop"}',
        'uptimed_up_seconds_total{service="edge"}',
    ):
        assert 10 <= grew[s] <= elapsed + 1, (s, grew[s], elapsed)
    for s in (
        'uptimed_down_seconds_total{monitor="web"}',
        'uptimed_up_seconds_total{monitor="db"}',
    ):
        assert grew[s] == 0, s
    # cache spent some of the time in maintenance (the tests above): that is not up time.
    assert (
        grew['uptimed_up_seconds_total{monitor="cache"}']
        <= grew['uptimed_up_seconds_total{monitor="web"}']
    )

    now = time.time()
    rep = get_json(daemon, f"/api/v1/report?from={iso(daemon.started - 2)}&to={iso(now + 1)}")
    mons = {m["id"]: m for m in rep["monitors"]}
    for key, kind in (("web", "up"), ("db", "down")):
        counter = _sample(last, f'uptimed_{kind}_seconds_total{{monitor="{key}"}}')
        reported = mons[key][f"{kind}_seconds"]
        assert reported - 20 <= counter <= reported + 0.01, (key, counter, reported)

    if os.path.exists(PROMTOOL):
        r = subprocess.run(
            [PROMTOOL, "check", "metrics"], input=last, capture_output=True, text=True, timeout=30
        )
        assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


def _sample(text: str, series: str) -> float:
    m = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
    assert m, series
    return float(m[1])


def test_the_daemon_logged_no_traceback(daemon):
    """Every request above, good or bad, was handled: no 500, nothing for the log but one line."""
    assert "Traceback" not in daemon.log.read_text()
