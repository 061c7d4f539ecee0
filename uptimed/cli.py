"""The ``uptimed`` command: a thin layer over the library.

    uptimed run -c FILE            run the daemon
    uptimed check-config -c FILE   validate a config and summarize it
    uptimed status -c FILE         confirmed state of every monitor, from the database
    uptimed --version

Exit status: 0 success, 1 runtime failure (database, address in use), 2 bad config or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence

from uptimed import __version__
from uptimed.config import Config, ConfigError, load_config, summarize


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="uptimed", description="Uptime monitoring with exact availability figures.")
    parser.add_argument("--version", action="version", version=f"uptimed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("-c", "--config", required=True, metavar="FILE", help="the TOML config file")
        return p

    p_run = command("run", "Run the daemon: probe the monitors, record, serve /metrics.")
    p_run.add_argument(
        "--loop", choices=("asyncio", "uvloop"), default="asyncio", help="event loop (uvloop needs uptimed[uvloop])"
    )
    command("check-config", "Validate a config file and print a summary.")
    p_status = command("status", "Show each monitor's confirmed state, read from the database.")
    p_status.add_argument("--format", choices=("table", "json"), default="table")

    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    if args.command == "check-config":
        print(summarize(config))
        return 0
    if args.command == "status":
        return _status(config, args.format)
    return _run(config, args.loop)


def _run(config: Config, loop: str) -> int:
    from uptimed.daemon import Daemon, StartupError

    setup_logging(config.daemon.log_level)
    if loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            print("uptimed: --loop uvloop needs the uvloop package: pip install 'uptimed[uvloop]'", file=sys.stderr)
            return 2
        factory = uvloop.new_event_loop
    else:
        factory = None
    try:
        with asyncio.Runner(loop_factory=factory) as r:
            r.run(Daemon(config).run())
    except StartupError as e:
        logging.getLogger("uptimed").error("%s", e)
        return 1
    return 0


def _status(config: Config, fmt: str) -> int:
    from uptimed.status import read_status, render_table

    try:
        status = read_status(config)
    except FileNotFoundError as e:
        print(f"uptimed: {e}", file=sys.stderr)
        return 1
    if fmt == "json":
        print(json.dumps(status, indent=2))
    else:
        print(render_table(status))
    return 0


def setup_logging(level: str) -> None:
    """One line per event on stderr. Under systemd the journal adds its own timestamps."""
    fmt = "%(levelname)s %(message)s" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s %(levelname)s %(message)s"
    logging.basicConfig(level=level.upper(), format=fmt, stream=sys.stderr)
    # APScheduler logs every run at INFO and every skipped run at WARNING: we count those ourselves.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
