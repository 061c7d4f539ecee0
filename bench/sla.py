#!/usr/bin/env python3
"""SLA benchmark: reports and /metrics over N monitors with D days of synthetic history.

Builds a database directly with sqlite3 (schema from ``uptimed.store.Store``): per monitor
``--outages`` outages (random starts, durations log-uniform from 5 s to 1 h) over ``--days`` days,
timeline rows alternating up/down, cut at a few daemon restarts (runs with heartbeats, a crash
among them) so the timeline has small gaps; a ``monitor_state`` row each; a few ad-hoc
(retroactive) maintenance windows. The config has the N monitors (TCP to a closed loopback port,
interval 60 s), services of 10 monitors, one 30-day SLO with credits per service, and a weekly
maintenance window over every service. Then it measures, in-process with ``time.perf_counter``
on the warm database (first run and median of the rest):

* ``build_report`` over [now-30d, now): one monitor (target < 50 ms), all monitors, and the full
  scope with services and SLOs (target < 2 s);
* ``uptimed report`` end to end for one monitor (subprocess wall time, for reference);
* ``SlaMetrics.refresh``: the background work behind the SLA part of /metrics;
* the database size;
* a live ``uptimed run`` on that database and config: /metrics scrapes (target < 250 ms) once
  the first SLA refresh is visible.

A missed report target is followed by a cProfile of ``build_report`` (top 20 by tottime).

    python bench/sla.py [--monitors 10000] [--outages 300] [--days 90] [--keep]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402

from uptimed.config import load_config  # noqa: E402
from uptimed.model.report import Report, Scope, Window  # noqa: E402
from uptimed.render.json import dumps, report_json  # noqa: E402
from uptimed.service.report import build_report  # noqa: E402
from uptimed.service.window import resolve_scope  # noqa: E402
from uptimed.store import Store, connect, reads, summaries  # noqa: E402
from uptimed.web.sla_metrics import SlaMetrics  # noqa: E402

DAY = 86_400_000
INTERVAL_S = 60
TIMEOUT_S = 2
MAX_GAP = (2 * INTERVAL_S + TIMEOUT_S) * 1000  # Monitor.max_gap: how far a verdict reaches
RESTARTS = 3  # daemon restarts in the history: RESTARTS + 1 runs
SERVICE_SIZE = 10
ADHOC = 20  # ad-hoc, retroactive maintenance windows on random monitors
CAUSES = ("refused", "timeout", "reset", "http_status", "dns")

TARGET_ALL = 2.0
TARGET_ONE = 0.050
TARGET_SCRAPE = 0.250


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--monitors", type=int, default=10_000, help="N monitors (default 10000)")
    p.add_argument(
        "--outages",
        type=int,
        default=300,
        help="outages per monitor over the history (default 300)",
    )
    p.add_argument("--days", type=int, default=90, help="days of history (default 90)")
    p.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="timed runs of each whole-config measurement (default 5)",
    )
    p.add_argument(
        "--scrapes", type=int, default=10, help="/metrics scrapes on the live daemon (default 10)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-daemon", action="store_true", help="skip the live daemon")
    p.add_argument(
        "--profile", action="store_true", help="profile build_report even if the targets are met"
    )
    p.add_argument(
        "--keep", action="store_true", help="keep the work directory (database, config, daemon log)"
    )
    args = p.parse_args()
    if args.days < 31:
        p.error("--days: at least 31 (the report covers 30 days)")

    work = Path(tempfile.mkdtemp(prefix="bench-sla-"))
    try:
        run(args, work)
    finally:
        if args.keep:
            print(f"\nwork directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    n = args.monitors
    n_services = min(100, n // SERVICE_SIZE)
    db, cfg = work / "u.db", work / "uptimed.toml"
    listen = common.free_port()
    print(f"sla: {n} monitors, {args.outages} outages each over {args.days} days, {n_services}"
          f" services of {SERVICE_SIZE}, {n_services} SLOs (30d, credits), weekly maintenance;"
          f" work dir {work}")  # fmt: skip
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}; code {revision()};"
          f" load average {loadavg()}")  # fmt: skip

    # -- the data ------------------------------------------------------------------------------
    write_config(cfg, db=db, listen=listen, monitors=n, services=n_services)
    t0 = time.perf_counter()
    now, counts = build_database(db, cfg, n=n, outages=args.outages, days=args.days, seed=args.seed)
    print(f"\n== data (built in {time.perf_counter() - t0:.1f} s)")
    for table, rows in counts.items():
        print(f"  {table:<14} {rows:>12,} rows")
    # What the daemon's writer does in the background, a few monitors at a time, as days end.
    t0 = time.perf_counter()
    c = connect(str(db))
    summarized = summaries.summarize_all(c, now)
    c.close()
    print(f"  day summaries: {summarized:,} rows, written in {time.perf_counter() - t0:.1f} s "
          "(the daemon's writer does this in the background)")  # fmt: skip
    size_before = db_size(db)

    config_times = timed(lambda: load_config(cfg), 3)
    config = load_config(cfg)
    conn = connect(str(db), readonly=True)
    lo30 = now - 30 * DAY
    in30 = conn.execute(
        "SELECT count(*) FROM timeline WHERE start < ? AND end > ?", (now, lo30)
    ).fetchone()[0]
    conn.close()
    print(
        f"  timeline rows overlapping the last 30 days: {in30:,}"
        f" ({in30 / max(n, 1):.0f} per monitor)"
    )
    print(
        f"  load_config of this file: median {ms(statistics.median(config_times))}"
        f" (of {len(config_times)})"
    )

    # -- reports ---------------------------------------------------------------------------------
    print("\n== reports over [now-30d, now) (in-process build_report; first run, then median of "
          "the others; reading the warm database)")  # fmt: skip
    one = "m0"  # a member of service s0, under the weekly window, with SLO slo0 on its service

    def report_of(scope_fn: Callable[[], Scope], lists: bool) -> Callable[[], Any]:
        """The report as its formats need it: with incident lists, shaped into the JSON's dict
        (what --format json and the API do); without, the typed report (every other format)."""

        def go() -> Report | dict[str, Any]:
            scope = scope_fn()
            c = connect(str(db), readonly=True)
            try:
                r = build_report(c, config, scope, Window(lo30, now), now, incident_lists=lists)
                return report_json(r) if lists else r
            finally:
                c.close()

        return go

    print("  table = build_report as every format but JSON calls it (incident counts, no lists);")
    print("  json  = with every monitor's and service's incident list, shaped into the JSON's")
    print("          dict (render.json.report_json), as --format json and the API")
    results: dict[str, list[float]] = {}
    one_fn = report_of(lambda: resolve_scope(config, [one]), True)
    results["one"] = timed(one_fn, max(21, args.repeat))
    rows_one = rows_read(one_fn)
    line("one monitor, json (resolve_scope + build_report)", results["one"], TARGET_ONE)
    listed = len(one_fn()["monitors"][0]["incidents"])
    print(f"    timeline rows read: {rows_one:,}; incidents in the report: {listed}")
    one_table = report_of(lambda: resolve_scope(config, [one]), False)
    results["one_table"] = timed(one_table, max(21, args.repeat))
    line("one monitor, table", results["one_table"], TARGET_ONE)

    if n_services:
        slo_fn = report_of(lambda: resolve_scope(config, slos=["slo0"]), True)
        results["slo"] = timed(slo_fn, max(11, args.repeat))
        line(f"one SLO, json (slo0: service s0 + {SERVICE_SIZE} monitors)", results["slo"], None)

    # JSON lists every incident of every monitor: output-bound, measured for reference.
    all_ids = tuple(m.id for m in config.monitors)
    for lists, fmt in ((False, "table"), (True, "json")):
        mon_fn = report_of(lambda: Scope(all_ids, (), ()), lists)
        results[f"monitors_{fmt}"] = timed(mon_fn, args.repeat)
        line(
            f"all {n} monitors, no services or SLOs, {fmt}",
            results[f"monitors_{fmt}"],
            TARGET_ALL if fmt == "table" else None,
        )
    for lists, fmt in ((False, "table"), (True, "json")):
        full_fn = report_of(lambda: resolve_scope(config), lists)
        results[f"full_{fmt}"] = timed(full_fn, args.repeat)
        rows_full = rows_read(full_fn)
        line(f"full scope ({n} monitors, {n_services} services, {n_services} SLOs), {fmt}",
             results[f"full_{fmt}"], TARGET_ALL if fmt == "table" else None)  # fmt: skip
        print(f"    timeline rows read: {rows_full:,}")
    rep = full_fn()
    t = time.perf_counter()
    text = dumps(rep) + "\n"  # what render(report, "json") writes
    listed = sum(len(x["incidents"]) for x in rep["monitors"] + rep["services"])
    print(
        f"    the JSON lists {listed:,} incidents: {mb(len(text))}, rendered in"
        f" {time.perf_counter() - t:.2f} s more"
    )
    del rep, text
    full_fn = report_of(lambda: resolve_scope(config), False)

    # resolve_scope with every monitor named (what `--monitor` for each would do), for reference
    t = time.perf_counter()
    resolve_scope(config, list(all_ids))
    print(f"  resolve_scope(config, every monitor id), once: {ms(time.perf_counter() - t)}")

    # -- the CLI -----------------------------------------------------------------------------------
    exe = Path(sys.executable).with_name("uptimed")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "uptimed"]
    cmd += ["report", "-c", str(cfg), "--window", "30d", "--monitor", one, "--format", "json"]
    cli = []
    for _ in range(5):
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, check=True).stdout
        cli.append(time.perf_counter() - t)
    json.loads(out)
    print(
        f"\n== `uptimed report --window 30d --monitor {one} --format json`"
        " (subprocess wall time, reference)"
    )
    print(f"  first {ms(cli[0])}, median of the others {ms(statistics.median(cli[1:]))} "
          f"(includes interpreter start-up and load_config;"
          f" {len(out):,} bytes of JSON)")  # fmt: skip

    # -- SLA metrics -------------------------------------------------------------------------------
    print("\n== SlaMetrics.refresh (the background work behind /metrics; every 15 s in the daemon)")
    sla = SlaMetrics(now)
    results["refresh"] = timed(lambda: sla.refresh(config, now), args.repeat)
    line("refresh, whole config", results["refresh"], None)
    print(
        f"    text left for scrapes: {len(sla.text):,} bytes,"
        f" {common.series_count(sla.text):,} series"
    )

    # -- disk --------------------------------------------------------------------------------------
    print("\n== database size (as built, after a checkpoint)")
    print(
        f"  file {mb(size_before)}; {size_before / max(counts['timeline'], 1):.1f} B"
        " per timeline row (whole file)"
    )
    table_sizes(db)

    # -- the live daemon -----------------------------------------------------------------------
    if not args.no_daemon:
        live(args, cfg, work, listen, results)

    # -- summary -----------------------------------------------------------------------------------
    print("\n== summary (medians)")
    summary = [
        ("30-day report, one monitor, json", results["one"], TARGET_ONE),
        ("30-day report, one monitor, table", results["one_table"], TARGET_ONE),
        ("30-day report, all monitors, table", results["monitors_table"], TARGET_ALL),
        ("30-day report, all monitors, json (reference)", results["monitors_json"], None),
        ("30-day report, full scope, table", results["full_table"], TARGET_ALL),
        ("30-day report, full scope, json (reference)", results["full_json"], None),
        ("SlaMetrics.refresh (background, every 15 s)", results["refresh"], None),
    ]
    if "scrape" in results:
        summary.append(("/metrics scrape, live daemon (plain)", results["scrape"], TARGET_SCRAPE))
        summary.append(("/metrics scrape, live daemon (gzip)", results["scrape_gz"], TARGET_SCRAPE))
    missed = []
    for label, times, target in summary:
        med = statistics.median(times[1:] or times)
        verdict = (
            ""
            if target is None
            else (f"target < {ms(target)}  " + ("ok" if med < target else "MISSED"))
        )
        if target is not None and med >= target:
            missed.append(label)
        print(f"  {label:<48} {ms(med):>10}   {verdict}")
    print(f"  database size: {mb(size_before)}")
    print(
        f"  load average at the end: {loadavg()} (on {os.cpu_count()} CPUs: other work on the"
        " machine inflates these)"
    )

    if args.profile or any("report" in m for m in missed):
        print("\n== profile: cProfile of build_report, full scope (one run), top 20 by tottime")
        prof = cProfile.Profile()
        prof.enable()
        full_fn()
        prof.disable()
        buf = io.StringIO()
        st = pstats.Stats(prof, stream=buf)
        st.sort_stats("tottime").print_stats(20)
        print(trim_stats(buf.getvalue()))
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(20)
        print("-- top 20 by cumulative time")
        print(trim_stats(buf.getvalue()))


# -- the live daemon -------------------------------------------------------------------------------


def live(
    args: argparse.Namespace, cfg: Path, work: Path, port: int, results: dict[str, list[float]]
) -> None:
    print(f"\n== live daemon: `uptimed run` on this database and config ({args.monitors} TCP"
          f" monitors at {INTERVAL_S} s to a closed loopback port),"
          f" /metrics on 127.0.0.1:{port}")  # fmt: skip
    log = work / "daemon.log"
    t_start = time.monotonic()
    proc = common.start_daemon(cfg, log)
    try:
        common.wait_ready(proc, port, log, timeout=300)
        t_ready = time.monotonic()
        # The first SLA refresh starts 2 s after start-up, in a thread; until it ends, /metrics has
        # no SLA series. Poll gently: each poll is itself a scrape.
        deadline = t_ready + 900
        while True:
            text, _, _ = common.scrape(port)
            if "uptimed_availability_ratio" in text:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                waited = time.monotonic() - t_ready
                raise SystemExit(f"no SLA series on /metrics after {waited:.0f} s:\n"
                                 f"{log.read_text()[-3000:]}")  # fmt: skip
            time.sleep(1.0)
        t_sla = time.monotonic()
        print(f"  listening after {t_ready - t_start:.1f} s; first SLA series on /metrics "
              f"{t_sla - t_ready:.1f} s later (the first refresh,"
              " under the probe load)")  # fmt: skip
        # Scrapes spread over ~45 s, so that some of them overlap a background refresh (every 15 s).
        spacing = 45.0 / args.scrapes
        plain, gz = [], []
        cpu0, w0 = common.cpu_seconds(proc.pid), time.monotonic()
        size = size_gz = series = 0
        for _ in range(args.scrapes):
            text, s, size = common.scrape(port)
            plain.append(s)
            _, s, size_gz = common.scrape(port, gzipped=True)
            gz.append(s)
            series = common.series_count(text)
            time.sleep(spacing)
        cpu1, w1 = common.cpu_seconds(proc.pid), time.monotonic()
        rss = common.rss_mb(proc.pid)
        results["scrape"], results["scrape_gz"] = plain, gz
        print(
            f"  {args.scrapes} scrapes over {w1 - w0:.0f} s, each plain then gzip (client wall"
            " time, connect to last byte):"
        )
        for label, v in (("plain", plain), ("gzip", gz)):
            p90 = common.percentile(v, 0.9)
            print(f"    {label:<5}  median {ms(statistics.median(v)):>9}  p90 {ms(p90):>9}  "
                  f"max {ms(max(v)):>9}   (target < {ms(TARGET_SCRAPE)})")  # fmt: skip
        print(f"  body {size / 1e6:.2f} MB plain, {size_gz / 1e6:.2f} MB gzip; {series:,} series")
        cpu = 100 * (cpu1 - cpu0) / (w1 - w0)
        print(f"  daemon CPU over the scrape window {cpu:.0f} % of one core "
              f"(probes + SLA refreshes + scrapes); RSS {rss:.0f} MB")  # fmt: skip
    finally:
        rc = common.stop(proc)
        if rc != 0:
            print(f"  daemon exited {rc}; log tail:\n{log.read_text()[-2000:]}")


# -- building the data -----------------------------------------------------------------------------


def write_config(path: Path, *, db: Path, listen: int, monitors: int, services: int) -> None:
    closed = common.free_port()  # nothing listens there: each probe is one refused connect
    out = [
        f'[daemon]\ndatabase = "{db}"\nlisten = "127.0.0.1:{listen}"\nlog_level = "warning"\n',
        f'[defaults]\ninterval = "{INTERVAL_S}s"\ntimeout = "{TIMEOUT_S}s"\n',
    ]
    for i in range(monitors):
        out.append(f'[[monitor]]\nid = "m{i}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {closed}\n')
    rules = ('rule = "all"', 'rule = "any"', 'rule = "quorum"\nquorum = 3')
    for j in range(services):
        members = ", ".join(f'"m{SERVICE_SIZE * j + k}"' for k in range(SERVICE_SIZE))
        out.append(f'[[service]]\nid = "s{j}"\nmonitors = [{members}]\n{rules[j % 3]}\n')
    for j in range(services):
        out.append(
            f'[[slo]]\nid = "slo{j}"\ntarget = "s{j}"\nobjective = 99.9\nwindow = "30d"\n'
            f'customer = "customer {j}"\n'
            "credits = [{ below = 99.9, credit = 10 }, { below = 99.0, credit = 25 },"
            " { below = 95.0, credit = 100 }]\n"
        )
    if services:
        svc = ", ".join(f'"s{j}"' for j in range(services))
        out.append(
            f'[[maintenance]]\nid = "weekly"\nservices = [{svc}]\nreason = "weekly patching"\n'
            'rrule = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"\nduration = "30m"\n'
            'timezone = "Europe/Berlin"\n'
        )
    path.write_text("\n".join(out))


def build_database(
    db: Path, cfg: Path, *, n: int, outages: int, days: int, seed: int
) -> tuple[int, dict[str, int]]:
    """Create the schema with the project's Store, then fill it with sqlite3 in one transaction.
    Returns (now, rows per table); the history ends at ``now``."""
    store = Store(str(db))
    store.open()
    store.close()
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    h0 = now - days * DAY
    sha = load_config(cfg).sha256

    # Runs: RESTARTS restarts at random times, each a stop of 20 s to 5 min; the second run crashed
    # (it ended at its last heartbeat). The last one stopped at `now`.
    cuts = sorted(rng.uniform(h0 + DAY, now - DAY) for _ in range(RESTARTS))
    runs = []
    start = h0
    for k, c in enumerate(cuts + [now]):
        end = int(c)
        runs.append((start, end, end, "crash" if k == 1 else "stop", 1000 + k, "bench", sha))
        start = end + rng.randint(20_000, 300_000)
    kinds = dict(sqlite3.connect(db).execute("SELECT name, id FROM error_kinds"))
    causes = [kinds[c] for c in CAUSES]

    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO runs (started, ended, heartbeat, end_reason, pid, version, config_sha256)"
        " VALUES (?,?,?,?,?,?,?)",
        runs,
    )
    conn.executemany(
        "INSERT INTO monitors (id, key, kind, name, first_seen) VALUES (?, ?, 'tcp', ?, ?)",
        [(i + 1, f"m{i}", f"m{i}", h0) for i in range(n)],
    )
    n_timeline = 0
    chunk_rows: list[tuple[int, int, int, int, int | None]] = []
    states = []
    log_lo, log_hi = math.log(5_000), math.log(3_600_000)
    for i in range(n):
        mid = i + 1
        phase = rng.randrange(INTERVAL_S * 1000)
        starts = sorted(rng.randrange(h0, now) for _ in range(outages))
        durs = [int(math.exp(rng.uniform(log_lo, log_hi))) for _ in range(outages)]
        rows = monitor_rows(mid, runs, starts, durs, phase, causes, rng)
        chunk_rows += rows
        _, s, e, st, cause = rows[-1]
        last_ts = max(s, e - MAX_GAP)
        states.append(
            (
                mid,
                st,
                0,
                None,
                last_ts,
                s,
                e,
                st,
                0,
                st,
                cause,
                None if st else "refused",
                cause,
                None,
            )
        )
        if len(chunk_rows) >= 200_000:
            conn.executemany(
                "INSERT INTO timeline (monitor, start, end, state, cause) VALUES (?,?,?,?,?)",
                chunk_rows,
            )
            n_timeline += len(chunk_rows)
            chunk_rows = []
    conn.executemany(
        "INSERT INTO timeline (monitor, start, end, state, cause) VALUES (?,?,?,?,?)", chunk_rows
    )
    n_timeline += len(chunk_rows)
    conn.executemany("INSERT INTO monitor_state VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", states)
    adhoc = []
    for _ in range(ADHOC if n else 0):
        s = rng.randrange(h0, now - DAY)
        adhoc.append(
            (
                "monitor",
                f"m{rng.randrange(n)}",
                s,
                s + 3_600_000,
                "excused by contract",
                "bench",
                s + DAY,
            )
        )
    conn.executemany(
        "INSERT INTO maintenance (target_kind, target, start, end, reason, created_by, created_at)"
        " VALUES (?,?,?,?,?,?,?)",
        adhoc,
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA optimize")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    counts = {
        "monitors": n,
        "timeline": n_timeline,
        "runs": len(runs),
        "monitor_state": n,
        "maintenance": len(adhoc),
    }
    return now, counts


def monitor_rows(
    mid: int,
    runs: list[tuple[Any, ...]],
    starts: list[int],
    durs: list[int],
    phase: int,
    causes: list[int],
    rng: random.Random,
) -> list[tuple[int, int, int, int, int | None]]:
    """One monitor's timeline: within each run, from its first probe (run start + phase) to a
    little after the run's end (the last verdict's reach), UP rows with DOWN rows at the outages.
    Rows of one run touch, as the state machine writes them; between runs there is a gap. An
    outage that would overlap the previous one starts one interval after it instead."""
    out: list[tuple[int, int, int, int, int | None]] = []
    k = 0
    firsts = [r[0] + phase for r in runs]  # the first probe of each run
    for j, (_, re_, *_) in enumerate(runs):
        cs, ce = firsts[j], re_ + rng.randrange(MAX_GAP)
        if j + 1 < len(runs):  # a quick restart: the next run's first probe ends this verdict
            ce = min(ce, firsts[j + 1])
        cursor = cs
        while k < len(starts) and starts[k] < cs:  # outages while the daemon was stopped
            k += 1
        while k < len(starts) and starts[k] < ce:
            s = max(starts[k], cursor + INTERVAL_S * 1000)
            e = min(s + durs[k], ce)
            k += 1
            if s >= ce - 1000:
                break
            out.append((mid, cursor, s, 1, None))
            out.append((mid, s, e, 0, causes[k % len(causes)]))
            cursor = e
        if cursor < ce:
            out.append((mid, cursor, ce, 1, None))
    return out


# -- helpers ---------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def rows_read(fn: Callable[[], Any]) -> int:
    """Timeline rows a report reads (all through ``reads.segments_many``), for one untimed run."""
    many = reads.segments_many
    count = 0

    def counting(conn: Any, mids: Any, spans: Any) -> Any:
        nonlocal count
        rows = many(conn, mids, spans)
        count += sum(map(len, rows.values()))
        return rows

    reads.segments_many = counting
    try:
        fn()
    finally:
        reads.segments_many = many
    return count


def line(label: str, times: list[float], target: float | None) -> None:
    rest = times[1:] or times
    tail = (
        ""
        if target is None
        else f"   target < {ms(target)}: "
        + ("ok" if statistics.median(rest) < target else "MISSED")
    )
    print(f"  {label}:\n    first {ms(times[0])}, median {ms(statistics.median(rest))} "
          f"(min {ms(min(rest))}, max {ms(max(rest))}, {len(rest)} runs){tail}")  # fmt: skip


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def mb(nbytes: int) -> str:
    return f"{nbytes / 1e6:.1f} MB"


def db_size(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


def table_sizes(db: Path) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT name, sum(pgsize), count(*) FROM dbstat GROUP BY name ORDER BY sum(pgsize) DESC"
        ).fetchall()
    except sqlite3.OperationalError:
        print("  (no dbstat in this SQLite: no per-table sizes)")
        return
    finally:
        conn.close()
    for name, size, pages in rows[:6]:
        print(f"  {name:<32} {mb(size):>10}  {pages:>8,} pages")


def cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def revision() -> str:
    """The commit measured, "-dirty" when the work tree has changes (figures follow the code)."""
    try:
        return subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parent.parent), "describe", "--always",
             "--dirty"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def trim_stats(text: str) -> str:
    """pstats output without its header lines and with paths shortened to the project."""
    root = str(Path(__file__).resolve().parent.parent) + os.sep
    lines = [t.replace(root, "") for t in text.splitlines()]
    start = next((i for i, t in enumerate(lines) if "ncalls" in t), 0)
    return "\n".join(t for t in lines[start:] if t.strip())


if __name__ == "__main__":
    main()
