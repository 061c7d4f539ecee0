"""Shared helpers for the benchmarks: nginx, free ports, /proc readers, configs, daemons, /metrics.

Nothing here measures anything by itself; cpu_ratio.py and load.py decide what to time.
"""

from __future__ import annotations

import gzip
import http.client
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# -- /proc --------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def rss_mb(pid: int) -> float:
    m = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(m.group(1)) / 1024 if m else 0.0


def raise_nofile() -> None:
    """preexec_fn: open-files soft limit up to the hard limit (each probe holds a socket)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- nginx ----------------------------------------------------------------------------------------


class Nginx:
    """``with Nginx() as port:`` nginx on 127.0.0.1:port answering 200 "ok" to everything, with
    its own config, logs and pid file in a temporary directory."""

    def __init__(self, workers: int = 1, connections: int = 8192):
        self.workers = workers
        self.connections = connections
        self.dir = tempfile.mkdtemp(prefix="bench-nginx-")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> int:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        d = self.dir
        temps = "".join(
            f"{k}_temp_path {d}/{k};\n"
            for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        Path(d, "nginx.conf").write_text(
            f"worker_processes {self.workers};\n"
            f"worker_rlimit_nofile {2 * self.connections + 100};\n"
            f"daemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
            f"events {{ worker_connections {self.connections}; }}\n"
            "http {\n  access_log off;\n" + temps
            + f"  server {{\n    listen 127.0.0.1:{self.port} backlog=4096;\n"
            '    location / { return 200 "ok"; }\n  }\n}\n'
        )  # fmt: skip
        self.proc = subprocess.Popen(
            [nginx, "-p", d, "-e", f"{d}/error.log", "-c", f"{d}/nginx.conf"]
        )
        wait_port(self.port)
        return self.port

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the daemon -----------------------------------------------------------------------------------


def write_config(
    path: Path,
    *,
    db: Path,
    listen_port: int,
    target_port: int,
    monitors: int,
    interval: float,
    timeout: float,
    failing: int = 0,
    notify: bool = False,
) -> None:
    """A config of ``monitors`` HTTP monitors m0..m{N-1}, each GETting its own path on nginx;
    the first ``failing`` of them get a closed port instead (each one incident, open all
    along). ``notify``: every incident pages a webhook on nginx (which answers 200), through a
    two-level policy with reminders."""
    defaults = f'[defaults]\ninterval = "{interval:g}s"\ntimeout = "{timeout:g}s"\n'
    lines = [f'[daemon]\ndatabase = "{db}"\nlisten = "127.0.0.1:{listen_port}"\n']
    if notify:
        lines.append(
            f'[[notifier]]\nid = "hook"\nkind = "webhook"\n'
            f'url = "http://127.0.0.1:{target_port}/hook"\n'
            '[[escalation]]\nid = "ops"\nrepeat = "1m"\n'
            'levels = [{ after = "0s", notify = ["hook"] }, { after = "30s", notify = ["hook"] }]\n'
        )
        defaults += 'escalation = "ops"\n'
    lines.append(defaults)
    closed = free_port()  # nothing listens there
    for i in range(monitors):
        port, where = (closed, "x") if i < failing else (target_port, f"m{i}")
        lines.append(
            f'[[monitor]]\nid = "m{i}"\nkind = "http"\nurl = "http://127.0.0.1:{port}/{where}"\n'
        )
    path.write_text("\n".join(lines))


def start_daemon(
    config: Path, log: Path, *, loop: str = "asyncio", python_args: list[str] | None = None
) -> subprocess.Popen[bytes]:
    """``python [python_args] -m uptimed run -c CONFIG --loop LOOP``, output to ``log``.
    ``python_args`` lets a caller slip in e.g. ``-m cProfile -o FILE``."""
    cmd = [
        sys.executable,
        *(python_args or []),
        "-m",
        "uptimed",
        "run",
        "-c",
        str(config),
        "--loop",
        loop,
    ]
    with open(log, "ab") as f:
        return subprocess.Popen(cmd, stdout=f, stderr=f, preexec_fn=raise_nofile)


def wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 120.0) -> None:
    """Wait until /healthz answers (whatever its verdict)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"daemon exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            get(port, "/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"daemon did not listen within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """SIGTERM and wait (the daemon stops cleanly on SIGTERM); SIGKILL if it does not."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


# -- /metrics -------------------------------------------------------------------------------------


def get(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[bytes, float]:
    """GET on a fresh connection; returns (raw body, wall seconds until the last body byte)."""
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        body = c.getresponse().read()
    finally:
        c.close()
    return body, time.perf_counter() - t0


def scrape(port: int, gzipped: bool = False) -> tuple[str, float, int]:
    """One /metrics scrape: (text, client wall seconds for the full body, bytes on the wire)."""
    body, seconds = get(port, "/metrics", {"Accept-Encoding": "gzip"} if gzipped else None)
    text = (gzip.decompress(body) if gzipped else body).decode()
    return text, seconds, len(body)


def samples(text: str, name: str) -> list[tuple[str, float]]:
    """(label string, value) of every sample of ``name`` in a text exposition."""
    return [
        (m[1] or "", float(m[2]))
        for m in re.finditer(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", text, re.M)
    ]


def total(text: str, name: str) -> float:
    return sum(v for _, v in samples(text, name))


def series_count(text: str) -> int:
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def histogram(text: str, name: str) -> dict[float, float]:
    """Cumulative bucket counts of a histogram without other labels: {le: count}."""
    out = {}
    for labels, v in samples(text, name + "_bucket"):
        le = re.search(r'le="([^"]+)"', labels)
        if le:
            out[float(le.group(1))] = v
    return out


def histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """What Prometheus' histogram_quantile() would say: linear interpolation within the bucket
    (the top bucket's lower bound if it lands in +Inf)."""
    bounds = sorted(buckets)
    count = buckets[bounds[-1]]
    if count <= 0:
        return float("nan")
    rank = q * count
    lower, below = 0.0, 0.0
    for b in bounds:
        if buckets[b] >= rank:
            if b == float("inf"):
                return lower
            return lower + (b - lower) * (rank - below) / max(buckets[b] - below, 1e-12)
        lower, below = b, buckets[b]
    return lower


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list (q in 0..1)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]
