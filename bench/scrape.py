#!/usr/bin/env python3
"""Scrape benchmark: /metrics of a daemon with 10,000 monitors, a location, services and SLOs.

Runs ``uptimed run`` with N HTTP monitors against nginx on loopback (interval 10 s, timeout 2 s
by default; a third of the monitors carry static labels), ``[daemon] location``, ``--services``
services of 10 members each (rules all, any and quorum in turn) and ``--slos`` SLOs (on the
services, then on single monitors). It waits until every monitor has been probed once and the
first SLA refresh is on /metrics (``uptimed_sla_evaluated_timestamp_seconds``), then makes
``--scrapes`` rounds, spread over ``--spread`` seconds so that some overlap a background SLA
refresh (every 15 s), each round one scrape of every format on a fresh connection:

* ``text``: the text format 0.0.4, no Accept header (what curl gets);
* ``text+gzip``: the same with ``Accept-Encoding: gzip``;
* ``openmetrics``: ``Accept`` as Prometheus 2.x sends it, which picks OpenMetrics;
* ``openmetrics+gzip``: the same with gzip: what a real Prometheus scrape is.

For each: the median, p90 and max client wall time (connect to last body byte), and the body
size; then the series count, a check that every series carries the location label and that the
OpenMetrics body ends with ``# EOF``, and the daemon's CPU and RSS over the rounds.

    python bench/scrape.py [--monitors 10000] [--scrapes 20] [--services 10] [--slos 10]
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TARGET = 0.250  # seconds, client wall time of one scrape
TIMEOUT = 2.0
LOCATION = "bench-1"
SERVICE_SIZE = 10
#: What Prometheus 2.x sends (scrape_protocols' default): OpenMetrics first.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
PROMETHEUS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
FORMATS: dict[str, dict[str, str]] = {
    "text": {},
    "text+gzip": {"Accept-Encoding": "gzip"},
    "openmetrics": {"Accept": PROMETHEUS_ACCEPT},
    "openmetrics+gzip": {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"},
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--monitors", type=int, default=10_000, help="N HTTP monitors (default 10000)")
    p.add_argument("--interval", type=float, default=10, help="seconds between probes (10)")
    p.add_argument("--services", type=int, default=10, help="services of 10 monitors (10)")
    p.add_argument("--slos", type=int, default=10, help="SLOs (10)")
    p.add_argument("--scrapes", type=int, default=20, help="rounds of the four formats (20)")
    p.add_argument("--spread", type=float, default=60, help="seconds the rounds span (60)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument(
        "--prometheus",
        type=float,
        default=0,
        metavar="SECONDS",
        help="then let a real Prometheus scrape it every 5 s for SECONDS and report its"
        " scrape_duration_seconds (Debian's prometheus on PATH)",
    )
    args = p.parse_args()
    if args.services * SERVICE_SIZE > args.monitors:
        p.error("--services needs 10 monitors each")
    work = Path(tempfile.mkdtemp(prefix="bench-scrape-"))
    print(
        f"scrape: {args.monitors} monitors at {args.interval:g} s, location {LOCATION!r},"
        f" {args.services} services, {args.slos} SLOs; {args.scrapes} rounds over"
        f" {args.spread:g} s; commit {describe()}; {os.cpu_count()} CPUs"
        f" ({platform.processor() or platform.machine()}), load average {load()}; work dir {work}"
    )
    try:
        results, facts = measure(args, work)
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(work)], check=False)
    report(results, facts)


def describe() -> str:
    r = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent,
    )
    return r.stdout.strip() or "?"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def write_config(path: Path, args: argparse.Namespace, db: Path, listen: int, target: int) -> None:
    out = [
        f'[daemon]\ndatabase = "{db}"\nlisten = "127.0.0.1:{listen}"\nlog_level = "warning"\n'
        f'location = "{LOCATION}"\nlocation_quorum = 2\n',
        f'[defaults]\ninterval = "{args.interval:g}s"\ntimeout = "{TIMEOUT:g}s"\n',
    ]
    for i in range(args.monitors):
        # A third with static labels: every series then carries both names (layout of the family).
        labels = f'labels = {{ env = "prod", team = "t{i % 7}" }}\n' if i % 3 == 0 else ""
        out.append(
            f'[[monitor]]\nid = "m{i}"\nkind = "http"\n'
            f'url = "http://127.0.0.1:{target}/m{i}"\n{labels}'
        )
    rules = ('rule = "all"', 'rule = "any"', 'rule = "quorum"\nquorum = 3')
    for j in range(args.services):
        members = ", ".join(f'"m{SERVICE_SIZE * j + k}"' for k in range(SERVICE_SIZE))
        out.append(f'[[service]]\nid = "s{j}"\nmonitors = [{members}]\n{rules[j % 3]}\n')
    for j in range(args.slos):
        target_id = f"s{j}" if j < args.services else f"m{j}"
        out.append(
            f'[[slo]]\nid = "slo{j}"\ntarget = "{target_id}"\nobjective = 99.9\nwindow = "30d"\n'
        )
    path.write_text("\n".join(out))


def measure(args: argparse.Namespace, work: Path) -> tuple[dict[str, list[float]], dict]:
    cfg, log, listen = work / "c.toml", work / "daemon.log", common.free_port()
    results: dict[str, list[float]] = {name: [] for name in FORMATS}
    sizes: dict[str, int] = {}
    facts: dict = {}
    with common.Nginx(connections=8192) as port:
        write_config(cfg, args, work / "u.db", listen, port)
        t_start = time.monotonic()
        proc = common.start_daemon(cfg, log)
        try:
            common.wait_ready(proc, listen, log, timeout=300)
            t_ready = time.monotonic()
            # Every monitor probed once (so every per-monitor series is there), and the first
            # SLA refresh done: only then is the body as large as it stays.
            deadline = t_ready + 600
            while True:
                text, _, _ = common.scrape(listen)
                probed = len(common.samples(text, "probe_success"))
                if probed >= args.monitors and "uptimed_sla_evaluated_timestamp_seconds" in text:
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"after {time.monotonic() - t_ready:.0f} s: {probed} monitors probed,"
                        f" SLA series {'on' if 'uptimed_sla_' in text else 'not yet on'}"
                        f" /metrics:\n{log.read_text()[-3000:]}"
                    )
                time.sleep(2.0)
            print(
                f"listening after {t_ready - t_start:.1f} s; every monitor probed and the SLA"
                f" series on /metrics {time.monotonic() - t_ready:.1f} s later"
            )
            spacing = args.spread / args.scrapes
            cpu0, w0 = common.cpu_seconds(proc.pid), time.monotonic()
            rss = [common.rss_mb(proc.pid)]
            bodies: dict[str, bytes] = {}
            for _ in range(args.scrapes):
                t_round = time.monotonic()
                for name, headers in FORMATS.items():
                    body, seconds = common.get(listen, "/metrics", headers)
                    results[name].append(seconds)
                    sizes[name] = len(body)
                    bodies[name] = body
                rss.append(common.rss_mb(proc.pid))
                time.sleep(max(0.0, spacing - (time.monotonic() - t_round)))
            cpu1, w1 = common.cpu_seconds(proc.pid), time.monotonic()
            facts.update(
                cpu=100 * (cpu1 - cpu0) / (w1 - w0), window=w1 - w0, rss=max(rss), sizes=sizes,
                load=load(),
            )  # fmt: skip
            facts.update(check(bodies, args))
            if args.prometheus:
                facts["prometheus"] = prometheus_scrapes(
                    work / "tsdb", f"127.0.0.1:{listen}", args.prometheus
                )
                # The same body from a server that only writes bytes, the daemon still probing:
                # what Prometheus itself takes to read, parse and store 170,000 samples here.
                with StaticBody(bodies["openmetrics+gzip"]) as static:
                    facts["prometheus_static"] = prometheus_scrapes(
                        work / "tsdb-static", static, args.prometheus
                    )
        finally:
            rc = common.stop(proc, timeout=60)
            if rc != 0:
                print(f"daemon exited {rc}; log tail:\n{log.read_text()[-2000:]}")
    return results, facts


def prometheus_scrapes(tsdb: Path, target: str, seconds: float) -> list[float]:
    """A real Prometheus scraping ``target`` (host:port) every 5 s (OpenMetrics and gzip, as it
    asks): its own scrape_duration_seconds of each scrape, in seconds. That is the time from
    sending the request until the samples are stored in its TSDB."""
    port = common.free_port()
    tsdb.mkdir()
    (tsdb / "prometheus.yml").write_text(
        "global: {scrape_interval: 5s, scrape_timeout: 5s}\n"
        f"scrape_configs: [{{job_name: uptimed, static_configs: [{{targets: ['{target}']}}]}}]\n"
    )
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={tsdb / 'prometheus.yml'}",
         f"--storage.tsdb.path={tsdb}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        t0 = time.time()
        time.sleep(seconds + 6)
        query = urllib.parse.urlencode(
            {"query": "scrape_duration_seconds", "start": t0, "end": time.time(), "step": "5s"}
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query_range?{query}") as r:
            result = json.load(r)["data"]["result"]
        # one value per 5 s step: each scrape's duration (a step may repeat the last one)
        return [float(v) for _, v in result[0]["values"]] if result else []
    finally:
        proc.terminate()
        proc.wait(10)


class StaticBody:
    """``with StaticBody(gzipped) as target:`` a stdlib HTTP server on loopback answering every
    GET with these gzipped OpenMetrics bytes."""

    def __init__(self, body: bytes):
        body_bytes = body

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self.send_response(200)
                self.send_header("Content-Type", PROMETHEUS_CONTENT_TYPE)
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body_bytes)))
                self.end_headers()
                self.wfile.write(body_bytes)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def check(bodies: dict[str, bytes], args: argparse.Namespace) -> dict:
    """What the last round's bodies say: series, the location on each, the OpenMetrics end."""
    text = bodies["text"].decode()
    om = gzip.decompress(bodies["openmetrics+gzip"]).decode()
    if gzip.decompress(bodies["text+gzip"]).decode().count("\n") < text.count("\n") * 0.9:
        raise SystemExit("the gzip body is not the text body")
    sample_lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    located = re.compile(r'^[^{ ]+\{.*location="' + re.escape(LOCATION) + r'".*\} ')
    missing = [line for line in sample_lines if not located.match(line)]
    if missing:
        raise SystemExit(f"{len(missing)} series without location={LOCATION!r}, e.g. {missing[:3]}")
    if not om.endswith("# EOF\n"):
        raise SystemExit("the OpenMetrics body does not end with # EOF")
    names = {line.split("{", 1)[0] for line in sample_lines}
    for want in (
        "uptimed_availability_ratio", "uptimed_slo_burn_rate", "uptimed_service_info",
        "uptimed_slo_objective_ratio", "uptimed_location_quorum", "probe_http_duration_seconds",
    ):  # fmt: skip
        if want not in names:
            raise SystemExit(f"{want} is not on /metrics")
    return {"series": len(sample_lines), "families": text.count("# TYPE ")}


def report(results: dict[str, list[float]], facts: dict) -> None:
    print(
        f"\n{len(results['text'])} rounds over {facts['window']:.0f} s; {facts['series']:,} series"
        f" in {facts['families']} families, every one with location={LOCATION!r}"
    )
    print(f"{'format':<18}{'median':>10}{'p90':>10}{'max':>10}{'body':>12}   target")
    missed = []
    for name, times in results.items():
        med, p90 = statistics.median(times), common.percentile(times, 0.9)
        ok = med < TARGET
        if not ok:
            missed.append(name)
        print(
            f"{name:<18}{ms(med):>10}{ms(p90):>10}{ms(max(times)):>10}"
            f"{facts['sizes'][name] / 1e6:>9.2f} MB   < {ms(TARGET)} {'ok' if ok else 'MISSED'}"
        )
    print(
        f"daemon CPU over the rounds {facts['cpu']:.0f} % of one core (probes, SLA refreshes and"
        f" the scrapes); RSS max {facts['rss']:.0f} MB; load average at the end {facts['load']}"
    )
    prom, static = facts.get("prometheus"), facts.get("prometheus_static")
    if prom and static:
        print(
            "Prometheus' own scrape_duration_seconds (request sent to samples stored; OpenMetrics"
            "+gzip), median / p90 / max:"
        )
        for name, times in (("uptimed", prom), ("the same body, static", static)):
            print(
                f"  {name:<24}{ms(statistics.median(times)):>8}"
                f"{ms(common.percentile(times, 0.9)):>9}{ms(max(times)):>9}  ({len(times)} scrapes)"
            )
        print(
            "  uptimed's share (the difference of the medians):"
            f" {ms(statistics.median(prom) - statistics.median(static))}"
        )
    if missed:
        print(f"missed the target (median): {', '.join(missed)}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


if __name__ == "__main__":
    main()
