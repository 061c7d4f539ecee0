#!/usr/bin/env python3
"""Load test: N HTTP monitors against nginx on loopback; does the daemon keep up, and at what cost?

Runs ``uptimed run`` with N monitors (interval 10s, timeout 2s by default), waits one interval of
warm-up, then watches a window of ``--duration`` seconds and reports:

* probes: due slots in the window vs probes done (uptimed_probes_total delta, and rows of
  ``results`` matched to their due slot), lost slots, failures, skipped runs;
* schedule lag p50/p99/max from the database (each result's ts vs its due slot, with
  ``uptimed.core.schedule.lateness``) and as estimated from ``uptimed_schedule_lag_seconds``;
* RSS (max of samples every 2 s), CPU (% of one core) over the window;
* /metrics: client wall time of 10 scrapes spread over the window, plain and gzip; size; series;
* bytes on disk per stored result (after stopping the daemon and checkpointing the WAL), per table
  from the ``dbstat`` virtual table and for the whole file.

``--profile`` attaches ``py-spy record`` to the daemon for the window and prints where the CPU
went; where py-spy cannot attach (no ptrace), the daemon runs under cProfile instead.

``--failing N --notify`` measures the cost of incidents and the notification outbox: N
monitors down all along, each paging a webhook on nginx (see the closing note of issue 18).

    python bench/load.py [--monitors 10000] [--interval 10] [--duration 180] [--profile]
                         [--failing N] [--notify]
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402

from uptimed.core.schedule import ANCHOR_TS, lateness, phase_offset  # noqa: E402

TIMEOUT = 2.0
SCRAPES = 10
RSS_EVERY = 2.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--monitors", type=int, default=10_000, help="N HTTP monitors (default 10000)")
    p.add_argument(
        "--interval",
        type=float,
        default=10,
        help="seconds between probes of a monitor (default 10)",
    )
    p.add_argument(
        "--duration", type=float, default=180, help="measured window in seconds (default 180)"
    )
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    p.add_argument(
        "--failing", type=int, default=0,
        help="the first N monitors probe a closed port: N incidents, open all along (default 0)",
    )  # fmt: skip
    p.add_argument(
        "--notify", action="store_true",
        help="page a webhook on nginx for every incident (two levels, reminders every minute)",
    )  # fmt: skip
    p.add_argument(
        "--profile", nargs="?", const="py-spy", choices=("py-spy", "cprofile"),
        help="profile the daemon: py-spy (default; falls back to cProfile if it cannot attach)"
        " or cprofile",
    )  # fmt: skip
    args = p.parse_args()
    if args.profile == "py-spy":
        why = pyspy_problem()
        if why:
            print(
                f"py-spy cannot profile here ({why}); falling back to cProfile (main thread only)"
            )
            args.profile = "cprofile"
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    print(
        f"load: {args.monitors} monitors at {args.interval:g} s (timeout {TIMEOUT:g} s), "
        f"window {args.duration:g} s after {args.interval:g} s warm-up, loop {args.loop}, "
        f"profile {args.profile or 'off'}, "
        f"work dir {work}"
    )
    run = measure(args, work)
    report(args, run, work / "u.db")
    if args.profile == "py-spy":
        print("\n== profile (py-spy, busy samples only)")
        summarize_speedscope(work / "daemon.speedscope.json", work / "py-spy.log")
    elif args.profile == "cprofile":
        print("\n== profile (cProfile, main thread, whole run including start-up)")
        stats = pstats.Stats(str(work / "daemon.pstats"))
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(25)


def measure(args: argparse.Namespace, work: Path) -> dict:
    """Run the daemon against nginx; returns the raw observations of the window [t0, t1]."""
    cfg, log, listen = work / "c.toml", work / "daemon.log", common.free_port()
    with common.Nginx(connections=8192) as port:
        common.write_config(
            cfg, db=work / "u.db", listen_port=listen, target_port=port,
            monitors=args.monitors, interval=args.interval, timeout=TIMEOUT,
            failing=args.failing, notify=args.notify,
        )  # fmt: skip
        python_args = (
            ["-m", "cProfile", "-o", str(work / "daemon.pstats")]
            if args.profile == "cprofile"
            else []
        )
        started = time.monotonic()
        proc = common.start_daemon(cfg, log, loop=args.loop, python_args=python_args)
        try:
            common.wait_ready(proc, listen, log)
            print(f"start-up: /healthz answered after {time.monotonic() - started:.1f} s")
            rss = [common.rss_mb(proc.pid)]
            sleep_sampling(
                args.interval, proc.pid, rss
            )  # warm-up: one interval, every monitor probed once
            spy = None
            if args.profile == "py-spy":
                spy = subprocess.Popen(
                    [
                        pyspy(),
                        "record",
                        "--pid",
                        str(proc.pid),
                        "--duration",
                        str(int(args.duration)),
                        "--function",
                        "--format",
                        "speedscope",
                        "--output",
                        str(work / "daemon.speedscope.json"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=open(work / "py-spy.log", "w"),
                )
            run = {"rss_warm": rss[-1], "rss": rss}
            run.update(m0=common.scrape(listen)[0], c0=common.cpu_seconds(proc.pid), t0=time.time())
            run["scrapes"] = watch(listen, proc.pid, args.duration, rss)
            run.update(m1=common.scrape(listen)[0], c1=common.cpu_seconds(proc.pid), t1=time.time())
            rss.append(common.rss_mb(proc.pid))
            if spy is not None:
                spy.wait(60)
        finally:
            stopped = time.monotonic()
            code = common.stop(proc, timeout=60)
            print(f"stop: exit status {code} after {time.monotonic() - stopped:.1f} s (SIGTERM)")
    return run


def report(args: argparse.Namespace, run: dict, db: Path) -> None:
    n, interval, duration = args.monitors, args.interval, args.duration
    m0, m1, t0, t1 = run["m0"], run["m1"], run["t0"], run["t1"]
    window = t1 - t0

    print("\n== probes")
    metric_done = common.total(m1, "uptimed_probes_total") - common.total(
        m0, "uptimed_probes_total"
    )
    failed = failures(m1) - failures(m0)
    dbf = from_database(db, interval, t0, t1)
    print(f"expected       {n * duration / interval:10,.0f}  (N x duration / interval)")
    print(f"due in window  {dbf['due']:10,d}  (exact count of due slots in [t0, t1))")
    print(f"done (metrics) {metric_done:10,.0f}  (uptimed_probes_total delta over {window:.1f} s; "
          f"{metric_done / window:.1f}/s)")  # fmt: skip
    print(f"done (rows)    {dbf['done']:10,d}  (results rows whose due slot is in the window)")
    print(f"lost           {dbf['lost']:10,d}  (due slots without a result)")
    print(f"duplicates     {dbf['dups']:10,d}  (extra results for a slot)")
    print(f"failed         {failed:10,.0f}  (metrics; {dbf['failed']:,d} in the rows)")
    skipped0, skipped1 = (common.total(m, "uptimed_probes_skipped_total") for m in (m0, m1))
    print(f"skipped runs   {skipped1 - skipped0:10,.0f}  "
          f"(uptimed_probes_skipped_total delta; {skipped1:.0f} since start)")  # fmt: skip

    print("\n== schedule lag (probe start vs due slot)")
    lags = dbf["lags"]
    if lags:
        print(
            f"database:  p50 {ms(common.percentile(lags, 0.5))}  "
            f"p99 {ms(common.percentile(lags, 0.99))}  max {ms(max(lags))}  "
            f"over {len(lags):,d} results"
        )
    h0, h1 = (
        common.histogram(m0, "uptimed_schedule_lag_seconds"),
        common.histogram(m1, "uptimed_schedule_lag_seconds"),
    )
    delta = {le: h1[le] - h0.get(le, 0.0) for le in h1}
    if delta:
        print(f"histogram: p50 {ms(common.histogram_quantile(0.5, delta))}  "
              f"p99 {ms(common.histogram_quantile(0.99, delta))}  "
              "(uptimed_schedule_lag_seconds, interpolated)")  # fmt: skip

    b0, b1 = (common.histogram(m, "uptimed_writer_batch_seconds") for m in (m0, m1))
    batches = {le: b1[le] - b0.get(le, 0.0) for le in b1}
    if batches:
        print(f"writer batch: p50 {ms(common.histogram_quantile(0.5, batches))}  "
              f"p99 {ms(common.histogram_quantile(0.99, batches))}  "
              "(uptimed_writer_batch_seconds; the pager's passes run in them)")  # fmt: skip
    paging(db)

    print("\n== resources")
    cpu, rss = run["c1"] - run["c0"], run["rss"]
    print(
        f"CPU: {cpu:.1f} s over {window:.1f} s = {100 * cpu / window:.1f} % of one core "
        f"({1000 * cpu / max(metric_done, 1):.3f} ms per probe, scrapes included)"
    )
    print(
        f"RSS: max {max(rss):.0f} MB ({len(rss)} samples every {RSS_EVERY:g} s from start-up "
        f"to the end); {run['rss_warm']:.0f} MB after warm-up, {rss[-1]:.0f} MB at the end"
    )

    print("\n== /metrics")
    scrapes = run["scrapes"]
    for kind in ("plain", "gzip"):
        times, size = [s[kind] for s in scrapes], scrapes[-1][kind + " bytes"]
        print(f"{kind:5}: median {ms(statistics.median(times))}, max {ms(max(times))} "
              f"over {len(times)} scrapes, {size / 1e6:.2f} MB on the wire")  # fmt: skip
    print(f"series: {common.series_count(scrapes[-1]['text']):,d}")

    print("\n== disk")
    disk(db)


def paging(db: Path) -> None:
    """The incidents and the outbox at the end (absent from a database before schema 9)."""
    conn = sqlite3.connect(db)
    try:
        (n,) = conn.execute("SELECT count(*) FROM incidents").fetchone()
        states = dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state"))
    except sqlite3.OperationalError:
        return
    finally:
        conn.close()
    print(f"incidents {n:,d}; outbox: {states or 'empty'}")


def pyspy() -> str:
    return shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def failures(text: str) -> float:
    return sum(
        v
        for labels, v in common.samples(text, "uptimed_probes_total")
        if 'result="failure"' in labels
    )


def sleep_sampling(seconds: float, pid: int, rss: list[float]) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(RSS_EVERY, left))
        rss.append(common.rss_mb(pid))


def watch(port: int, pid: int, duration: float, rss: list[float]) -> list[dict]:
    """Sample RSS every RSS_EVERY s and scrape /metrics (plain, then gzip) SCRAPES times, evenly
    spread over the window. Returns one dict per scrape pair: seconds and bytes of each, text."""
    start = time.monotonic()
    out = []
    for k in range(SCRAPES):
        sleep_sampling(start + (k + 0.5) * duration / SCRAPES - time.monotonic(), pid, rss)
        text, t_plain, size = common.scrape(port)
        _, t_gzip, gz_size = common.scrape(port, gzipped=True)
        out.append(
            {
                "plain": t_plain,
                "plain bytes": size,
                "gzip": t_gzip,
                "gzip bytes": gz_size,
                "text": text,
            }
        )
    sleep_sampling(start + duration - time.monotonic(), pid, rss)
    return out


def pyspy_problem() -> str | None:
    """Why py-spy cannot sample a Python process here (None if it can)."""
    exe = pyspy()
    if not os.path.exists(exe):
        return "not installed: pip install py-spy"
    target = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.5)
        r = subprocess.run(
            [exe, "dump", "--pid", str(target.pid)], capture_output=True, text=True, timeout=30
        )
        return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["failed"])[0]
    finally:
        target.kill()
        target.wait()


# -- the database ---------------------------------------------------------------------------------


def from_database(db: Path, interval: float, t0: float, t1: float) -> dict:
    """Match every result to its due slot (ANCHOR + phase + k * interval) and count, for the slots
    due in [t0, t1): how many have a result, which are lost, and how late each result started."""
    conn = sqlite3.connect(db)
    keys = dict(conn.execute("SELECT id, key FROM monitors"))
    phases = {mid: phase_offset(key, interval) for mid, key in keys.items()}
    # All slots due in the window, per monitor.
    due = {}
    for mid, ph in phases.items():
        first = math.ceil((t0 - ANCHOR_TS - ph) / interval)
        last = math.ceil((t1 - ANCHOR_TS - ph) / interval)  # exclusive
        due[mid] = (first, last)
    seen: collections.Counter[tuple[int, int]] = collections.Counter()
    lags, failed = [], 0
    # A result of a slot due before t1 may start up to a whole interval later.
    rows = conn.execute(
        "SELECT monitor, ts, ok FROM results WHERE ts >= ? AND ts < ?",
        (int(t0 * 1000) - 1000, int((t1 + interval) * 1000)),
    )
    for mid, ts, ok in rows:
        start = ts / 1000
        lag = lateness(start, keys[mid], interval)
        k = round((start - lag - ANCHOR_TS - phases[mid]) / interval)
        first, last = due[mid]
        if first <= k < last:
            seen[(mid, k)] += 1
            lags.append(lag)
            failed += not ok
    conn.close()
    total_due = sum(last - first for first, last in due.values())
    return {
        "due": total_due, "done": len(lags), "lost": total_due - len(seen),
        "dups": sum(c - 1 for c in seen.values()), "lags": lags, "failed": failed,
    }  # fmt: skip


def disk(db: Path) -> None:
    """Bytes on disk per stored result, after a checkpoint, per table and for the whole file."""

    def sizes() -> str:
        return ", ".join(
            f"{p.name} {p.stat().st_size / 1e6:.2f} MB"
            for p in sorted(db.parent.glob(db.name + "*"))
        )

    print(f"after stop:       {sizes()}")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"after checkpoint: {sizes()}")
    tables = ("results", "timeline", "monitor_state")
    rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    results = rows["results"]
    file_bytes = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob(db.name + "-wal"))
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0] * page_size
    print(
        f"whole file: {file_bytes:,d} bytes / {results:,d} results = "
        f"{file_bytes / max(results, 1):.1f} bytes per result "
        f"(page size {page_size}, {free:,d} bytes free)"
    )
    try:
        stat = conn.execute(
            "SELECT name, sum(pgsize), sum(pgsize - unused), count(*) FROM dbstat GROUP BY name"
        ).fetchall()
    except sqlite3.OperationalError as e:
        print(f"(no per-table figures: this SQLite has no dbstat: {e})")
        return
    print(
        f"{'table/index':44} {'bytes':>12} {'pages':>7} {'fill':>5} {'rows':>9} {'B/row':>7}"
        f" {'B/result':>9}"
    )
    for name, pgsize, used, pages in sorted(stat, key=lambda r: -r[1]):
        count = rows.get(name)
        per_row = f"{pgsize / count:7.1f}" if count else f"{'':7}"
        shown = count if count is not None else ""
        print(f"{name:44} {pgsize:12,d} {pages:7,d} {used / pgsize:5.0%} {shown:>9} "
              f"{per_row} {pgsize / max(results, 1):9.1f}")  # fmt: skip
    conn.close()


# -- profiles -------------------------------------------------------------------------------------

#: Where a sample's CPU goes: the innermost frame that matches one of these (path fragments) names
#: the component; frames of asyncio and the rest of the stdlib fall through to their caller.
CATEGORIES = [
    ("logging", ("/logging/",)),
    (
        "metrics rendering (/metrics)",
        ("uptimed/web/metrics.py", "uptimed/web/app.py", "prometheus_client/", "/gzip.py"),
    ),
    ("store (SQLite writes, record())", ("uptimed/store/", "/sqlite3/")),
    ("state machine (uptimed/core/state.py)", ("uptimed/core/state.py",)),
    ("APScheduler wake-ups / job submission", ("apscheduler/",)),
    ("HTTP probe code (probes/)", ("probes/",)),
    (
        "runner / scheduler / daemon (uptimed/)",
        ("uptimed/daemon/runner.py", "uptimed/daemon/scheduler.py", "uptimed/daemon/app.py"),
    ),
    (
        "aiohttp client, connection set-up, parsing",
        ("aiohttp/", "aiohappyeyeballs/", "yarl/", "multidict/", "propcache/"),
    ),
]
EVENT_LOOP = "asyncio event loop itself (selector, timers, callbacks)"

#: Innermost frames of a thread that waits (py-spy's idle detection misses a few of these).
IDLE = [
    ("select", "/selectors.py"),
    ("_worker", "concurrent/futures/thread.py"),
    ("wait", "/threading.py"),
]


def category(stack: list[dict]) -> str:
    for frame in reversed(stack):  # innermost first
        for name, fragments in CATEGORIES:
            if any(f in frame["file"] for f in fragments):
                return name
    return EVENT_LOOP if any("/asyncio/" in f["file"] for f in stack) else "other"


def idle(frame: dict) -> bool:
    return any(frame["name"].endswith(n) and frame["file"].endswith(f) for n, f in IDLE)


def short(frame: dict) -> str:
    path = frame["file"]
    for marker in ("site-packages/", "/work/main/", "python3.11/", "python3.12/", "python3.13/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{frame['name']} ({path}:{frame['line']})"


def summarize_speedscope(path: Path, log: Path) -> None:
    if not path.exists():
        print(f"py-spy wrote no profile: {log.read_text()[-2000:]}")
        return
    data = json.loads(path.read_text())
    frames = data["shared"]["frames"]
    by_thread: collections.Counter[str] = collections.Counter()
    by_cat: collections.Counter[str] = collections.Counter()
    cumulative: collections.Counter[int] = collections.Counter()
    own: collections.Counter[int] = collections.Counter()
    everywhere: set[int] = (
        set()
    )  # frames on every stack of a thread (main(), run_forever...): not news
    waiting = 0.0
    for prof in data["profiles"]:
        common_frames: set[int] | None = None
        for stack, w in zip(prof["samples"], prof["weights"], strict=True):  # stacks are root first
            if not stack or idle(frames[stack[-1]]):
                waiting += w
                continue
            by_thread[prof["name"]] += w
            by_cat[category([frames[i] for i in stack])] += w
            for i in set(stack):
                cumulative[i] += w
            own[stack[-1]] += w
            common_frames = set(stack) if common_frames is None else common_frames & set(stack)
        everywhere |= common_frames or set()
    busy = sum(by_thread.values())
    print(
        f"{busy:.1f} s of busy samples (about CPU seconds; {waiting:.1f} s more were waits)"
        f" in {path}"
    )
    for name, w in by_thread.most_common():
        print(f"  thread {name}: {w:.1f} s ({w / busy:.0%})")
    print("by component (innermost matching frame):")
    for name, w in by_cat.most_common():
        print(f"  {w / busy:6.1%}  {name}")
    for title, counter in (("cumulative (inclusive)", cumulative), ("self (exclusive)", own)):
        print(f"top 25 by {title}:")
        for i, w in [
            (i, w) for i, w in counter.most_common() if i not in everywhere or counter is own
        ][:25]:
            print(f"  {w / busy:6.1%}  {short(frames[i])}")


if __name__ == "__main__":
    main()
