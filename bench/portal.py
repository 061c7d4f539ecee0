#!/usr/bin/env python3
"""Portal benchmark: ``/status`` with N public services over 90 days of history, and a
customer's ledger of M monthly periods, served by the live daemon.

Builds the database as ``bench/sla.py`` does (synthetic timelines of N TCP monitors, outages at
random, a few restarts and retroactive ad-hoc windows) over M months plus a few days; the config
has N services of one monitor each, all public, a monthly SLO with credit tiers on the first
service, a customer, and an agreement over that SLO whose term began M months ago. Then it starts
``uptimed run`` on it and measures client wall time (connect to last byte) for:

* ``/status`` and ``/status.json``: the first request (computed) and the median of the next
  ``--repeat`` (warm: from the cache), and with ``If-None-Match`` (304);
* the customer's ledger page ``/portal/agreements/ID`` and ``/portal/api/agreements/ID/periods``
  (a statement for every period), signed in by bearer token: first and warm median.

Targets (issue 19): each warm page under 200 ms.

    python bench/portal.py [--services 1000] [--months 24] [--outages 2] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
import sla  # noqa: E402

from uptimed.store import connect, summaries  # noqa: E402

TARGET_MS = 200.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--services", type=int, default=1000, help="public services (default 1000)")
    p.add_argument("--months", type=int, default=24, help="monthly periods (default 24)")
    p.add_argument(
        "--outages", type=int, default=2, help="outages per monitor per month (default 2)"
    )
    p.add_argument("--repeat", type=int, default=20, help="warm requests of each (default 20)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    try:
        run(args, work)
    finally:
        if args.keep:
            print(f"\nwork directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def write_config(path: Path, *, db: Path, listen: int, n: int, since: str, tokens: Path) -> None:
    closed = common.free_port()
    out = [
        f'[daemon]\ndatabase = "{db}"\nlisten = "127.0.0.1:{listen}"\nlog_level = "warning"\n',
        f'[defaults]\ninterval = "{sla.INTERVAL_S}s"\ntimeout = "{sla.TIMEOUT_S}s"\n',
        '[portal]\ntitle = "Bench status"\nsecure_cookie = false\n',
    ]
    for i in range(n):
        out.append(f'[[monitor]]\nid = "m{i}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {closed}\n')
    for i in range(n):
        out.append(
            f'[[service]]\nid = "s{i}"\nmonitors = ["m{i}"]\npublic = true\n'
            f'public_name = "Service {i}"\n'
        )
    out.append(
        '[[slo]]\nid = "gold"\ntarget = "s0"\nobjective = 99.9\nperiod = "month"\n'
        "credits = [{ below = 99.9, credit = 10 }, { below = 99.0, credit = 25 }]\n"
        f'[[customer]]\nid = "acme"\nname = "ACME"\ntoken_file = "{tokens}"\n'
        f'[[agreement]]\nid = "acme-gold"\ncustomer = "acme"\nslos = ["gold"]\n'
        f'effective_from = "{since}"\ntimezone = "Europe/Berlin"\ncredit_cap = 30\n'
    )
    path.write_text("\n".join(out))


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, float, str, int]:
    """(status, seconds, ETag, bytes of the body as sent)."""
    req = urllib.request.Request(url, headers=headers or {})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            size = len(r.read())
            return r.status, time.perf_counter() - t0, r.headers.get("ETag", ""), size
    except urllib.error.HTTPError as e:
        e.read()
        return e.code, time.perf_counter() - t0, e.headers.get("ETag", ""), 0


def measure(label: str, url: str, repeat: int, headers: dict[str, str] | None = None) -> float:
    status, first, etag, size = get(url, headers)
    assert status == 200, (url, status)
    warm = [get(url, headers)[1] for _ in range(repeat)]
    cond = [get(url, (headers or {}) | {"If-None-Match": etag})[1] for _ in range(repeat)]
    gz = get(url, (headers or {}) | {"Accept-Encoding": "gzip"})[3]
    med = statistics.median(warm) * 1000
    verdict = "ok" if med < TARGET_MS else "MISSED"
    print(f"  {label:<30} first {first * 1000:7.1f} ms  warm median {med:6.1f} ms"
          f"  304 median {statistics.median(cond) * 1000:5.1f} ms"
          f"  {size / 1e6:5.2f} MB ({gz / 1e6:.2f} gzip)  [{verdict}]")  # fmt: skip
    return med


def run(args: argparse.Namespace, work: Path) -> None:
    n, months = args.services, args.months
    db, cfg, tokens = work / "u.db", work / "uptimed.toml", work / "acme.tokens"
    token = secrets.token_urlsafe(32)
    tokens.write_text(token + "\n")
    today = datetime.now(UTC)
    y, m = divmod(today.year * 12 + today.month - 1 - (months - 1), 12)
    since = f"{y:04d}-{m + 1:02d}-01T00:00:00+01:00"
    days = (today - datetime(y, m + 1, 1, tzinfo=UTC)).days + 3
    listen = common.free_port()
    write_config(cfg, db=db, listen=listen, n=n, since=since, tokens=tokens)
    print(f"portal: {n} public services (one TCP monitor each), {days} days of history,"
          f" {args.outages * months} outages per monitor; a ledger of {months} months;"
          f" work dir {work}")  # fmt: skip
    print(f"machine: {os.cpu_count()} CPUs ({sla.cpu_model()}), Python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}; code {sla.revision()};"
          f" load average {sla.loadavg()}")  # fmt: skip
    t0 = time.perf_counter()
    now, counts = sla.build_database(
        db, cfg, n=n, outages=args.outages * months, days=days, seed=args.seed
    )
    c = connect(str(db))
    summaries.summarize_all(c, now)
    c.close()
    print(f"  built in {time.perf_counter() - t0:.1f} s: {counts['timeline']:,} timeline rows")

    log = work / "daemon.log"
    proc = common.start_daemon(cfg, log)
    try:
        common.wait_ready(proc, listen, log, timeout=300)
        base = f"http://127.0.0.1:{listen}"
        auth = {"Authorization": f"Bearer {token}"}
        print(f"\n== live daemon on 127.0.0.1:{listen}; client wall time, {args.repeat} each")
        results = [
            measure("/status", base + "/status", args.repeat),
            measure("/status.json", base + "/status.json", args.repeat),
            measure(
                "/portal/agreements/acme-gold",
                base + "/portal/agreements/acme-gold",
                args.repeat,
                auth,
            ),  # fmt: skip
            measure(
                "/portal/api/.../periods",
                base + "/portal/api/agreements/acme-gold/periods",
                args.repeat,
                auth,
            ),  # fmt: skip
        ]
        rss = common.rss_mb(proc.pid)
        print(f"  daemon RSS {rss:.0f} MB; every warm median under {TARGET_MS:.0f} ms:"
              f" {'yes' if max(results) < TARGET_MS else 'NO'}")  # fmt: skip
    finally:
        rc = common.stop(proc)
        if rc != 0:
            print(f"  daemon exited {rc}; log tail:\n{log.read_text()[-2000:]}")


if __name__ == "__main__":
    main()
