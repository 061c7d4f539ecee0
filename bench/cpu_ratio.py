#!/usr/bin/env python3
"""CPU per HTTP probe of the running daemon, as a ratio to a bare aiohttp loop doing the same work.

Both sides probe nginx on loopback (200 "ok") on fresh connections, M monitors at 1 s:

* daemon: ``uptimed run`` with M HTTP monitors (interval 1s, timeout 0.5s);
* floor:  a separate Python process (this file with ``--floor-child``): one aiohttp session with
  ``TCPConnector(force_close=True)`` and ``ClientTimeout(total=0.5)``, one task per monitor,
  monitor i firing at i/M within each second.

For each, after a warm-up: CPU = utime + stime of the process from /proc over a window, divided by
the probes completed in that window (daemon: ``uptimed_probes_total`` summed over /metrics; floor:
its own counter, read through SIGUSR1). Rounds alternate floor, daemon, floor, daemon, ... so
both see the same machine noise; each round's ratio is daemon / the floor just before it.

    python bench/cpu_ratio.py [--monitors 500] [--window 15] [--rounds 3] [--loop uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402

# -- the floor: a bare aiohttp loop, run in its own process ----------------------------------------


async def floor_loop(port: int, monitors: int, same_phases: bool) -> None:
    """Probe like the daemon would, forever. SIGUSR1 prints "done failed" on stdout; SIGTERM stops.
    Monitor i fires at i/M in each second, or with ``same_phases`` at the daemon's own phase for
    monitor "m{i}" (10 ms slots, so about M/100 probes share each wake-up, as in the daemon)."""
    import aiohttp

    from uptimed.core.schedule import phase_offset

    loop = asyncio.get_running_loop()
    count = {"done": 0, "failed": 0}
    stop = asyncio.Event()
    loop.add_signal_handler(
        signal.SIGUSR1, lambda: print(count["done"], count["failed"], flush=True)
    )
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=0.5)
    ) as session:

        async def monitor(i: int) -> None:
            url = f"http://127.0.0.1:{port}/m{i}"
            due = start + (phase_offset(f"m{i}", 1.0) if same_phases else i / monitors)
            while True:
                await asyncio.sleep(max(0.0, due - loop.time()))
                try:
                    async with session.get(url) as r:
                        await r.read()
                        ok = r.status == 200
                except Exception:
                    ok = False
                count["done"] += 1
                count["failed"] += not ok
                due += 1.0

        start = loop.time() + 0.1
        tasks = [asyncio.create_task(monitor(i)) for i in range(monitors)]
        print("ready", flush=True)
        await stop.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def floor_child(port: int, monitors: int, loop: str, same_phases: bool) -> None:
    factory = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as r:
        r.run(floor_loop(port, monitors, same_phases))


# -- one measured round of each --------------------------------------------------------------------


class Measure:
    def __init__(self, probes: float, failed: float, seconds: float, cpu: float, rss: float):
        self.probes, self.failed, self.seconds, self.cpu, self.rss = (
            probes,
            failed,
            seconds,
            cpu,
            rss,
        )
        self.ms_per_probe = cpu / probes * 1000 if probes else float("nan")

    def line(self, expected: int) -> str:
        rate = self.probes / self.seconds
        fail = f", {self.failed:.0f} FAILED" if self.failed else ""
        return (
            f"{self.probes:6.0f} probes in {self.seconds:5.2f} s"
            f" ({rate:6.1f}/s of {expected} expected{fail}),"
            f" CPU {self.cpu:6.3f} s = {self.ms_per_probe:.4f} ms/probe, RSS {self.rss:4.0f} MB"
        )


def measure_window(
    pid: int, counters: Callable[[], tuple[float, float]], args: argparse.Namespace
) -> Measure:
    """After the warm-up, the probes done and failed (``counters()``) and the CPU of ``pid``
    over the window."""
    time.sleep(args.warmup)
    (n0, f0), c0, t0 = counters(), common.cpu_seconds(pid), time.monotonic()
    time.sleep(args.window)
    (n1, f1), c1, t1 = counters(), common.cpu_seconds(pid), time.monotonic()
    return Measure(n1 - n0, f1 - f0, t1 - t0, c1 - c0, common.rss_mb(pid))


def measure_floor(port: int, args: argparse.Namespace) -> Measure:
    cmd = [
        sys.executable,
        __file__,
        "--floor-child",
        str(port),
        "--monitors",
        str(args.monitors),
        "--loop",
        args.loop,
    ]
    cmd += ["--same-phases"] if args.same_phases else []
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, preexec_fn=common.raise_nofile)
    assert child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("floor: the child did not start")

        def counters() -> tuple[float, float]:
            child.send_signal(signal.SIGUSR1)
            done, failed = child.stdout.readline().split()
            return int(done), int(failed)

        return measure_window(child.pid, counters, args)
    finally:
        child.terminate()
        child.wait(10)


def measure_daemon(port: int, args: argparse.Namespace, work: Path) -> Measure:
    work.mkdir()
    cfg, log, listen = work / "c.toml", work / "daemon.log", common.free_port()
    common.write_config(
        cfg,
        db=work / "u.db",
        listen_port=listen,
        target_port=port,
        monitors=args.monitors,
        interval=1,
        timeout=0.5,
    )
    proc = common.start_daemon(cfg, log, loop=args.loop)
    try:
        common.wait_ready(proc, listen, log)

        def counters() -> tuple[float, float]:
            text = common.scrape(listen)[0]
            probes = common.samples(text, "uptimed_probes_total")
            return sum(v for _, v in probes), sum(
                v for lbl, v in probes if 'result="failure"' in lbl
            )

        return measure_window(proc.pid, counters, args)
    finally:
        if common.stop(proc) != 0:
            print(f"  (daemon exit status {proc.returncode}; log: {log})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--monitors", type=int, default=500, help="M monitors at 1 s (default 500)")
    p.add_argument(
        "--window", type=float, default=15, help="measured seconds per round (default 15)"
    )
    p.add_argument("--warmup", type=float, default=5, help="seconds before each window (default 5)")
    p.add_argument("--rounds", type=int, default=3, help="floor+daemon pairs (default 3)")
    p.add_argument(
        "--loop", choices=("asyncio", "uvloop"), default="asyncio", help="event loop of both sides"
    )
    p.add_argument(
        "--same-phases", action="store_true",
        help="fire the floor's monitors at the daemon's phases (10 ms slots) instead of at i/M",
    )  # fmt: skip
    p.add_argument("--floor-child", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.floor_child:
        return floor_child(args.floor_child, args.monitors, args.loop, args.same_phases)
    if args.loop == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            raise SystemExit("--loop uvloop needs uvloop: pip install uvloop") from None

    phases = "daemon" if args.same_phases else "i/M"
    print(
        f"cpu_ratio: {args.monitors} monitors at 1 s, window {args.window:g} s after"
        f" {args.warmup:g} s, {args.rounds} rounds, loop {args.loop}, floor phases {phases},"
        f" Python {sys.version.split()[0]}"
    )
    floors, daemons, ratios = [], [], []
    work = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    with common.Nginx() as port:
        for r in range(1, args.rounds + 1):
            f = measure_floor(port, args)
            print(f"round {r} floor : {f.line(args.monitors)}", flush=True)
            d = measure_daemon(port, args, work / f"round{r}")
            ratios.append(d.ms_per_probe / f.ms_per_probe)
            print(
                f"round {r} daemon: {d.line(args.monitors)}  -> ratio {ratios[-1]:.2f}", flush=True
            )
            floors.append(f.ms_per_probe)
            daemons.append(d.ms_per_probe)
    fm, dm = statistics.median(floors), statistics.median(daemons)
    print(
        f"median: floor {fm:.4f} ms/probe, daemon {dm:.4f} ms/probe"
        f" (ratio of medians {dm / fm:.2f})"
    )
    shown = ", ".join(f"{x:.2f}" for x in ratios)
    print(f"ratios: {shown}; median ratio {statistics.median(ratios):.2f} (target <= 1.25)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
