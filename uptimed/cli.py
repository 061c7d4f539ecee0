"""The ``uptimed`` command: a thin layer over the library.

The config file is ``-c FILE``, else ``$UPTIMED_CONFIG``, else /etc/uptimed/config.toml.

    uptimed run -c FILE            run the daemon
    uptimed check-config -c FILE   validate a config and summarize it
    uptimed status -c FILE         confirmed state of every monitor, from the database
    uptimed report -c FILE         availability, SLOs, budgets and credits over a window
                                   (--database FILE, repeated: several daemons as one fleet)
    uptimed maintenance add|list|end -c FILE   ad-hoc maintenance windows
    uptimed incidents -c FILE      the incidents of a window (--open: those under way)
    uptimed incident show|ack ID   one incident; acknowledge it (escalation stops)
    uptimed --version

Exit status: 0 success, 1 runtime failure (database, address in use), 2 bad config or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from uptimed import __version__
from uptimed.config import load_config, summarize
from uptimed.config.daemon import LOCATION, LOCATION_RULE, SHARD_RULE, parse_shard
from uptimed.config.secrets import Mode
from uptimed.core.times import PERIODS
from uptimed.errors import ConfigError, NoDatabase, RequestError, UsageError
from uptimed.model.config import Config
from uptimed.model.report import Scope
from uptimed.render.report import FORMATS

if TYPE_CHECKING:
    from uptimed.service.fleet import Database

SYSTEM_CONFIG = "/etc/uptimed/config.toml"
CONFIG_HELP = f"the TOML config file (default: $UPTIMED_CONFIG, else {SYSTEM_CONFIG})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="uptimed", description="Uptime monitoring with exact availability figures."
    )
    parser.add_argument("--version", action="version", version=f"uptimed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("-c", "--config", metavar="FILE", help=CONFIG_HELP)
        return p

    p_run = command("run", "Run the daemon: probe the monitors, record, serve /metrics.")
    p_run.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="event loop (uvloop needs uptimed[uvloop])",
    )
    p_check = command("check-config", "Validate a config file and print a summary.")
    for p in (p_run, p_check):
        p.add_argument(
            "--location", metavar="NAME", help="where this daemon probes from ([daemon].location)"
        )
        p.add_argument(
            "--shard", metavar="I/N", help="run only shard I of N of the monitors ([daemon].shard)"
        )
    p_status = command("status", "Show each monitor's confirmed state, read from the database.")
    p_status.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )

    p_report = command("report", "Availability, SLOs, error budgets and credits over a window.")
    when = p_report.add_argument_group("window (one of)")
    when.add_argument("--from", dest="start", metavar="T", help="start: a date or an RFC 3339 time")
    when.add_argument("--to", dest="end", metavar="T", help="end (exclusive)")
    when.add_argument(
        "--period", choices=PERIODS, help="a calendar period, in each SLO's time zone"
    )
    when.add_argument(
        "--at",
        metavar="WHICH",
        help="which period: 2026-10, 2026-Q4, 2026-W43, 2026, or a date in it (default: now)",
    )
    when.add_argument(
        "--window", metavar="DURATION", help="rolling, ending now, e.g. 30d (the default)"
    )
    p_report.add_argument(
        "--timezone", default=None, metavar="TZ", help="zone for dates and periods (default UTC)"
    )
    p_report.add_argument(
        "--monitor",
        action="append",
        default=[],
        metavar="ID",
        help="only this monitor (repeatable)",
    )
    p_report.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="ID",
        help="only this service (repeatable)",
    )
    p_report.add_argument(
        "--slo", action="append", default=[], metavar="ID", help="only this SLO (repeatable)"
    )
    p_report.add_argument(
        "--database",
        action="append",
        default=[],
        metavar="FILE",
        help="read this daemon's database (repeatable: several daemons, locations or shards"
        " as one fleet; default: the config's [daemon].database)",
    )
    p_report.add_argument(
        "--location-quorum",
        type=_quorum,
        metavar="K",
        help="a monitor seen from several locations is down when at least K of them see it"
        " down (default: [daemon].location_quorum)",
    )
    p_report.add_argument(
        "--format", choices=FORMATS, default="table",
        help="table for a terminal, json and csv for machines, markdown and html for customers"
        " (default: table)",
    )  # fmt: skip

    p_maint = sub.add_parser("maintenance", help="Add, list and end ad-hoc maintenance windows.")
    msub = p_maint.add_subparsers(dest="action", metavar="ACTION", required=True)
    p_add = msub.add_parser(
        "add",
        help="Add a window (in the past too: a retroactive exclusion, with a reason).",
        description="Add one window per target (--monitor and --service, repeatable, mixed),"
        " all or none.",
    )
    p_list = msub.add_parser(
        "list", help="List ad-hoc windows that have not ended (--all: every one)."
    )
    p_end = msub.add_parser("end", help="End a window now.")
    for p in (p_add, p_list, p_end):
        p.add_argument("-c", "--config", metavar="FILE", help=CONFIG_HELP)
    p_add.add_argument(
        "--monitor", action="append", default=[], metavar="ID", help="a monitor (repeatable)"
    )
    p_add.add_argument(
        "--service", action="append", default=[], metavar="ID", help="a service (repeatable)"
    )
    p_add.add_argument("--for", dest="duration", metavar="DURATION", help="from now, e.g. 30m")
    p_add.add_argument(
        "--start", metavar="T", help="start: a date or an RFC 3339 time (with --end)"
    )
    p_add.add_argument("--end", metavar="T", help="end (exclusive)")
    p_add.add_argument("--reason", metavar="TEXT", help="why; required for a window in the past")
    p_add.add_argument("--by", metavar="NAME", help="who adds it (default: the login name)")
    p_list.add_argument("--all", action="store_true", help="include windows that have ended")
    p_list.add_argument(
        "--cancelled",
        action="store_true",
        help="only windows cancelled before they began (the audit trail)",
    )
    p_list.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )
    p_end.add_argument("id", type=int, metavar="ID", help="the window's number (see list)")

    p_incidents = command("incidents", "The incidents of monitors and services, oldest first.")
    p_incidents.add_argument("--open", action="store_true", help="only those under way")
    p_incidents.add_argument("--from", dest="start", metavar="T", help="start: a date or time")
    p_incidents.add_argument("--to", dest="end", metavar="T", help="end (exclusive)")
    p_incidents.add_argument(
        "--window", metavar="DURATION", help="rolling, ending now (default: 30d)"
    )
    p_incidents.add_argument(
        "--format", choices=("table", "json", "csv"), default="table",
        help="output format (default: table)",
    )  # fmt: skip
    p_incident = sub.add_parser("incident", help="Show or acknowledge one incident.")
    isub = p_incident.add_subparsers(dest="action", metavar="ACTION", required=True)
    p_show = isub.add_parser(
        "show", help="Every field, its notifications and what it cost each SLO's error budget."
    )
    p_ack = isub.add_parser(
        "ack", help="Acknowledge it: escalation stops, whoever was told hears who took it."
    )
    for p in (p_show, p_ack):
        p.add_argument("-c", "--config", metavar="FILE", help=CONFIG_HELP)
        p.add_argument("id", metavar="ID", help="the incident's id (see uptimed incidents)")
    p_show.add_argument(
        "--format", choices=("table", "json"), default="table",
        help="output format (default: table)",
    )  # fmt: skip
    p_ack.add_argument("--by", required=True, metavar="NAME", help="who acknowledges it")
    p_ack.add_argument("--note", metavar="TEXT", help="what they are doing about it")

    args = parser.parse_args(argv)
    placement = {}
    if args.command in ("run", "check-config"):
        if args.location is not None:
            if not LOCATION.fullmatch(args.location):
                parser.error(f"--location {args.location!r}: {LOCATION_RULE}")
            placement["location"] = args.location
        if args.shard is not None:
            placement["shard"] = parse_shard(args.shard) or parser.error(
                f"--shard {args.shard!r}: give {SHARD_RULE}"
            )
    try:
        # Only the daemon needs the secrets; check-config checks them (systemd credentials
        # exist only inside the unit); the other commands read the database and leave them be.
        modes: dict[str, Mode] = {"run": "resolve", "check-config": "check"}
        secrets = modes.get(args.command, "skip")
        config = load_config(
            args.config or os.environ.get("UPTIMED_CONFIG") or SYSTEM_CONFIG, secrets=secrets
        )
    except ConfigError as e:
        print(e, file=sys.stderr)
        if args.config is None:
            where = (
                "$UPTIMED_CONFIG"
                if os.environ.get("UPTIMED_CONFIG")
                else f"the default, {SYSTEM_CONFIG}"
            )
            print(f"(the config file is {where}: give another with -c FILE)", file=sys.stderr)
        return 2
    if placement:  # --location and --shard stand in for [daemon]'s
        config = dataclasses.replace(config, daemon=dataclasses.replace(config.daemon, **placement))
    try:
        if args.command == "check-config":
            print(summarize(config))
            return 0
        if args.command == "status":
            return _status(config, args.format)
        if args.command == "report":
            return _report(config, args)
        if args.command == "maintenance":
            return _maintenance(config, args)
        if args.command == "incidents":
            return _incidents(config, args)
        if args.command == "incident":
            return _incident(config, args)
    except UsageError as e:
        parser.exit(2, f"uptimed {args.command}: error: {e}\n")
    except (NoDatabase, sqlite3.Error) as e:  # sqlite3.Error: unreadable, locked, not a database
        why = (
            e if isinstance(e, NoDatabase) else f"cannot use database {config.daemon.database}: {e}"
        )
        print(f"uptimed {args.command}: {why}", file=sys.stderr)
        return 1
    return _run(config, args.loop)


def _quorum(value: str) -> int:
    """``--location-quorum``: an integer >= 1."""
    try:
        k = int(value)
    except ValueError:
        k = 0
    if k < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give an integer >= 1")
    return k


def _report(config: Config, args: argparse.Namespace) -> int:
    from uptimed.render.report import render
    from uptimed.service import fleet
    from uptimed.service.window import resolve_scope, resolve_window
    from uptimed.store import now_ms

    now = now_ms()
    paths = args.database or [config.daemon.database]
    quorum = args.location_quorum or config.daemon.location_quorum
    try:
        w = resolve_window(
            now, start=args.start, end=args.end, period=args.period, at=args.at, window=args.window,
            timezone=args.timezone,
        )  # fmt: skip
        scope = resolve_scope(config, args.monitor, args.service, args.slo)
        with fleet.reading_all(paths, check=len(paths) > 1) as databases:
            dbs = [db for db, _ in databases]
            scope = _whole_only(config, scope, dbs, args)
            if len(databases) == 1:  # one daemon's database: the report as it always was
                from uptimed.service.report import build_report

                report = build_report(
                    databases[0][1], config, scope, w, now, incident_lists=args.format == "json"
                )
            else:
                for note in fleet.thin(config, scope, dbs, quorum):
                    print(f"uptimed report: note: {note}", file=sys.stderr)
                report = fleet.build_fleet_report(
                    databases, config, scope, w, now, quorum, incident_lists=args.format == "json"
                )
    except RequestError as e:
        raise UsageError(e.render(_flag)) from None
    except fleet.FleetError as e:
        print(f"uptimed report: {e}", file=sys.stderr)
        return 1
    except sqlite3.Error as e:  # unreadable, locked, not a database
        print(f"uptimed report: cannot use database {', '.join(paths)}: {e}", file=sys.stderr)
        return 1
    if len(paths) == 1:
        sys.stdout.write(render(report, args.format))
    elif args.format == "json":
        from uptimed.render.json import dumps, report_json

        print(dumps({**report_json(report), "fleet": _fleet_json(dbs, quorum)}))
    else:
        sys.stdout.write(render(report, args.format))
        if args.format == "table":
            print("\n".join(_fleet_lines(dbs, quorum)))
    return 0


def _whole_only(
    config: Config, scope: Scope, databases: Sequence[Database], args: argparse.Namespace
) -> Scope:
    """``scope`` less the services and SLOs a sharded fleet's databases cannot compute whole
    (an error for one asked for by name; a note for the others)."""
    from uptimed.service import fleet

    if not fleet.sharded(config, databases):
        return scope
    left_out = fleet.partial(config, scope, databases)
    for p in left_out:
        missing = ", ".join(repr(m) for m in p.missing)
        why = (
            f"{p.kind} {p.id!r}: its member(s) {missing} are in none of the databases given"
            " (they run on other shards: give every shard's database)"
        )
        if p.id in (args.service if p.kind == "service" else args.slo):
            raise UsageError(why)
        print(f"uptimed report: note: {why}; left out of the report", file=sys.stderr)
    return fleet.without(scope, left_out)


def _fleet_json(databases: Sequence[Database], quorum: int) -> dict[str, object]:
    """What the JSON of a report of several databases says of them (its ``"fleet"``)."""
    return {
        "locations": [
            {"location": db.location, "database": db.path, "shard": db.shard,
             "monitors": len(db.monitors)}
            for db in databases
        ],
        "location_quorum": quorum,
    }  # fmt: skip


def _fleet_lines(databases: Sequence[Database], quorum: int) -> list[str]:
    """What the table of a report of several databases says of them, after the rest."""
    from uptimed.render.table import text_table

    rows = [(db.location, db.shard or "-", str(len(db.monitors)), db.path) for db in databases]
    return [
        "",
        f"FLEET ({len(databases)} databases; a monitor is down when at least {quorum} of its"
        " locations see it down)",
        *text_table(("LOCATION", "SHARD", "MONITORS", "DATABASE"), rows, right=(2,)),
    ]


#: The flag of each field of the library's requests (uptimed.errors.RequestError names fields).
FLAGS = {
    field: f"--{field}"
    for field in ("monitor", "service", "slo", "for", "start", "end", "reason", "by", "from", "to",
                  "period", "at", "window", "timezone")
}  # fmt: skip


def _flag(field: str) -> str:
    return FLAGS.get(field, f"--{field}")


def _maintenance(config: Config, args: argparse.Namespace) -> int:
    from uptimed.render.json import dumps, maintenance_json
    from uptimed.render.maintenance import added, ended, maintenance_table
    from uptimed.service import maintenance
    from uptimed.store import now_ms

    now = now_ms()
    try:
        if args.action == "add":
            fields = {
                "monitor": args.monitor, "service": args.service, "for": args.duration,
                "start": args.start, "end": args.end, "reason": args.reason, "by": args.by,
            }  # fmt: skip
            by = "" if (args.by or "").strip() else _login()
            for w in maintenance.add(config, fields, now, by=by):
                print(added(w))
        elif args.action == "end":
            print(ended(maintenance.end(config, args.id, now)))
        else:
            ws = maintenance.windows(config, now, everything=args.all, cancelled=args.cancelled)
            if args.format == "json":
                print(dumps([maintenance_json(w) for w in ws]))
            else:
                print(maintenance_table(ws, now))
    except RequestError as e:
        raise UsageError(e.render(_flag)) from None
    except LookupError as e:  # no such window
        raise UsageError(str(e)) from None
    return 0


def _incidents(config: Config, args: argparse.Namespace) -> int:
    from uptimed.render.incidents import incidents_csv, incidents_table
    from uptimed.render.json import dumps, incident_view_json
    from uptimed.service import incident_views
    from uptimed.service.history import reading
    from uptimed.service.window import resolve_window
    from uptimed.store import now_ms

    now = now_ms()
    try:
        window = resolve_window(now, start=args.start, end=args.end, window=args.window)
    except RequestError as e:
        raise UsageError(e.render(_flag)) from None
    with reading(config) as conn:
        views = incident_views.listing(conn, config, window, now, open_only=args.open)
    if args.format == "json":
        print(dumps([incident_view_json(v, now) for v in views]))
    elif args.format == "csv":
        sys.stdout.write(incidents_csv(views, now))
    else:
        print(incidents_table(views))
    return 0


def _incident(config: Config, args: argparse.Namespace) -> int:
    from uptimed.render.incidents import incident_text
    from uptimed.render.json import dumps, incident_view_json
    from uptimed.service import incident_views, incidents
    from uptimed.service.history import reading
    from uptimed.store import now_ms
    from uptimed.store.adhoc import open_db
    from uptimed.store.db import transaction

    now = now_ms()
    try:
        if args.action == "ack":
            by, note = incident_views.ack_fields({"by": args.by, "note": args.note})
            # On the daemon's own file, as `maintenance add` does: the acknowledgement and its
            # notifications in one transaction; the running daemon's sender delivers them.
            conn = open_db(config.daemon.database)
            try:
                with transaction(conn):
                    incidents.acknowledge(
                        conn, config, args.id, by, note, now, incidents.links(config.daemon)
                    )
            finally:
                conn.close()
            print(f"incident {args.id} acknowledged by {by}")
            return 0
        with reading(config) as conn:
            view = incident_views.detail(conn, config, args.id, now)
    except RequestError as e:
        raise UsageError(e.render(_flag)) from None
    except (LookupError, ValueError) as e:
        raise UsageError(str(e)) from None
    if args.format == "json":
        print(dumps(incident_view_json(view, now, detail=True)))
    else:
        print(incident_text(view, now))
    return 0


def _login() -> str:
    import getpass

    return os.environ.get("SUDO_USER") or getpass.getuser()


def _run(config: Config, loop: str) -> int:
    from uptimed.daemon.app import Daemon
    from uptimed.errors import StartupError

    setup_logging(config.daemon.log_level)
    if loop == "uvloop":
        try:
            import uvloop  # type: ignore[import-not-found]  # the optional extra uptimed[uvloop]
        except ImportError:
            print(
                "uptimed: --loop uvloop needs the uvloop package: pip install 'uptimed[uvloop]'",
                file=sys.stderr,
            )
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
    from uptimed.render.json import dumps
    from uptimed.render.status import render_table
    from uptimed.service.status import read_status

    status = read_status(config)
    print(dumps(status) if fmt == "json" else render_table(status))
    return 0


def setup_logging(level: str) -> None:
    """One line per event on stderr. Under systemd the journal adds its own timestamps."""
    fmt = (
        "%(levelname)s %(message)s"
        if os.environ.get("JOURNAL_STREAM")
        else "%(asctime)s %(levelname)s %(message)s"
    )
    logging.basicConfig(level=level.upper(), format=fmt, stream=sys.stderr)
    # APScheduler logs every run at INFO and every skipped run at WARNING: we count those ourselves.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
