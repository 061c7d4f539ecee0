"""The database schema, as forward-only migrations (sqlite-utils ``Migrations``).

Rows are kept compact: monitors, error kinds, phase and detail names are small integers (name
tables), times are integer milliseconds since the epoch, durations integer microseconds.
``results`` and ``timeline`` are ``WITHOUT ROWID`` tables keyed by ``(monitor, time)``, so one
monitor's history is one range of one B-tree. ``PRAGMA user_version`` mirrors the number of
applied migrations, so the schema version can be read with any SQLite tool.

A migration is never edited once released: add a new one below.
"""

from __future__ import annotations

import secrets

from sqlite_utils import Database, Migrations

from uptimed.store.results import pack, zigzag

migrations = Migrations("uptimed")


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(
        """CREATE TABLE monitors (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,      -- the id in the config file
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            first_seen INTEGER NOT NULL    -- ms
        )"""
    )
    db.execute("CREATE TABLE error_kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
    db.execute(
        """CREATE TABLE results (
            monitor INTEGER NOT NULL,
            ts INTEGER NOT NULL,           -- probe start, ms (wall clock)
            ok INTEGER NOT NULL,
            duration_us INTEGER NOT NULL,
            status INTEGER,                -- HTTP status code
            error_kind INTEGER,            -- error_kinds.id
            error TEXT,
            resolve_us INTEGER, connect_us INTEGER, tls_us INTEGER,
            processing_us INTEGER, transfer_us INTEGER,
            PRIMARY KEY (monitor, ts)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE timeline (
            monitor INTEGER NOT NULL,
            start INTEGER NOT NULL,        -- ms, inclusive
            end INTEGER NOT NULL,          -- ms, exclusive; at most last probe + max_gap
            state INTEGER NOT NULL,        -- 1 up, 0 down
            PRIMARY KEY (monitor, start)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started INTEGER NOT NULL,      -- ms
            ended INTEGER,                 -- ms; NULL while running
            heartbeat INTEGER NOT NULL,    -- ms; the last time this run was known alive
            end_reason TEXT,               -- stop | crash | clock_jump | reload
            pid INTEGER,
            version TEXT,
            config_sha256 TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE monitor_state (
            monitor INTEGER PRIMARY KEY,
            state INTEGER, streak INTEGER NOT NULL, streak_start INTEGER, last_ts INTEGER,
            seg_start INTEGER, seg_end INTEGER, seg_state INTEGER, floor INTEGER NOT NULL,
            last_ok INTEGER, last_error_kind INTEGER, last_error TEXT
        )"""
    )


@migrations()
def m002_sla(db: Database) -> None:
    # The cause of an outage (error kind of its first failure) outlives the raw results.
    db.execute("ALTER TABLE timeline ADD COLUMN cause INTEGER")
    db.execute("ALTER TABLE monitor_state ADD COLUMN seg_cause INTEGER")
    db.execute("ALTER TABLE monitor_state ADD COLUMN streak_cause INTEGER")
    db.execute(
        """CREATE TABLE maintenance (
            id INTEGER PRIMARY KEY,
            target_kind TEXT NOT NULL,     -- monitor | service
            target TEXT NOT NULL,          -- its id in the config
            start INTEGER NOT NULL,        -- ms
            end INTEGER NOT NULL,          -- ms, exclusive
            reason TEXT,
            created_by TEXT NOT NULL,
            created_at INTEGER NOT NULL,   -- ms
            ended_early_at INTEGER         -- ms, when `maintenance end` cut it short
        )"""
    )
    db.execute("CREATE INDEX maintenance_end ON maintenance (end)")
    # Time when every connectivity canary failed: the daemon's own network was down, so this
    # time is unknown for every monitor.
    db.execute(
        """CREATE TABLE degraded (
            start INTEGER NOT NULL PRIMARY KEY,
            end INTEGER NOT NULL,
            run INTEGER NOT NULL
        ) WITHOUT ROWID"""
    )


@migrations()
def m003_rollup_hourly(db: Database) -> None:
    # Per monitor and hour, kept retention.rollup (400 d): the latency SLI outlives raw results.
    # `fast` counts successful probes no slower than the latency threshold of an SLO on the
    # monitor at the time they were written.
    db.execute(
        """CREATE TABLE rollup_hourly (
            monitor INTEGER NOT NULL,
            hour INTEGER NOT NULL,         -- ms, start of the hour (UTC)
            probes INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            duration_sum_us INTEGER NOT NULL,
            duration_min_us INTEGER NOT NULL,
            duration_max_us INTEGER NOT NULL,
            fast INTEGER NOT NULL,
            PRIMARY KEY (monitor, hour)
        ) WITHOUT ROWID"""
    )


@migrations()
def m004_timeline_daily(db: Database) -> None:
    # Day summaries of the timeline (uptimed.core.sla.DaySummary), written by the writer thread
    # (uptimed.core.daily) once a day's rows are final: a 30-day report reads ~30 rows per monitor
    # instead of every timeline row. Days in [since, upto) of a monitor are summarized; one
    # without a row there was not summarizable (overlapping rows) and is read row by row.
    db.execute(
        """CREATE TABLE timeline_daily (
            monitor INTEGER NOT NULL,
            day INTEGER NOT NULL,          -- ms, 00:00 UTC
            up_ms INTEGER NOT NULL,
            down_ms INTEGER NOT NULL,
            outages INTEGER NOT NULL,      -- DOWN rows starting in the day
            longest_ms INTEGER NOT NULL,   -- longest DOWN row starting and ending in the day
            carry_end INTEGER,             -- the DOWN row starting in the day, ending after it
            carry_ms INTEGER,
            PRIMARY KEY (monitor, day)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE timeline_daily_state (
            monitor INTEGER PRIMARY KEY,
            since INTEGER NOT NULL,        -- ms: the day of the monitor's first timeline row
            upto INTEGER NOT NULL          -- ms: days before this one are summarized
        )"""
    )


@migrations()
def m005_rollup_latency(db: Database) -> None:
    # Latency SLIs per threshold (issue 14). rollup_hourly.fast counted probes against one
    # threshold per monitor (the smallest of its SLOs' at the time, unrecorded), which every
    # SLO of the monitor then read. From this version on `fast` is no longer read: its threshold
    # is not known for certain. The column stays, and the writer still fills it as before, for an
    # older uptimed reading this database.
    #
    # Per monitor, hour and threshold: `ok` successful probes counted against the threshold and
    # `fast` of them no slower than it. Both count the same probes, so an hour counted from its
    # middle on (a threshold added then) gives a consistent ratio. Kept retention.rollup, written
    # in the same transaction as rollup_hourly.
    db.execute(
        """CREATE TABLE rollup_latency (
            monitor INTEGER NOT NULL,
            hour INTEGER NOT NULL,         -- ms, start of the hour (UTC)
            threshold_us INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            fast INTEGER NOT NULL,         -- of `ok`: duration_us <= threshold_us
            PRIMARY KEY (monitor, hour, threshold_us)
        ) WITHOUT ROWID"""
    )
    # The thresholds counted now, each since when: every successful probe of the monitor from
    # `since` on is counted in rollup_latency (when a threshold is first counted, the writer
    # counts the raw results still kept, so `since` is the oldest of them; with none, the time
    # counting began). A threshold no SLO has any more loses its row here (its rollups stay
    # until retention); counted again later, it starts over. Reports compare rollup_latency.ok
    # with rollup_hourly's successful probes to tell whether a window's count is complete.
    db.execute(
        """CREATE TABLE latency_tracked (
            monitor INTEGER NOT NULL,
            threshold_us INTEGER NOT NULL,
            since INTEGER NOT NULL,        -- ms
            PRIMARY KEY (monitor, threshold_us)
        ) WITHOUT ROWID"""
    )


@migrations()
def m006_results_by_name(db: Database) -> None:
    # Phases and details by name, for every probe kind (issue 16): the HTTP-only columns status
    # and resolve_us .. transfer_us become (id, value) pairs in two BLOBs, the ids from two
    # name tables like error_kinds (the encoding: uptimed.store.results). A new kind's phases
    # and details need no migration. Every row is converted, in one transaction.
    db.execute("CREATE TABLE phase_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
    db.execute("CREATE TABLE detail_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
    # The names of the old columns, as they were: these ids are what the converted rows hold.
    db.execute(
        "INSERT INTO phase_names (id, name) VALUES"
        " (1, 'resolve'), (2, 'connect'), (3, 'tls'), (4, 'processing'), (5, 'transfer')"
    )
    db.execute("INSERT INTO detail_names (id, name) VALUES (1, 'status_code')")
    db.execute("ALTER TABLE results RENAME TO results_m001")
    db.execute(
        """CREATE TABLE results (
            monitor INTEGER NOT NULL,
            ts INTEGER NOT NULL,           -- probe start, ms (wall clock)
            ok INTEGER NOT NULL,
            duration_us INTEGER NOT NULL,
            error_kind INTEGER,            -- error_kinds.id
            error TEXT,
            phases BLOB,                   -- (phase_names.id, µs) pairs; NULL: none
            details BLOB,                  -- (detail_names.id, value) pairs; NULL: none
            PRIMARY KEY (monitor, ts)
        ) WITHOUT ROWID"""
    )
    db.conn.create_function("m006_phases", 5, _m006_phases, deterministic=True)
    db.conn.create_function("m006_details", 1, _m006_details, deterministic=True)
    db.execute(
        "INSERT INTO results SELECT monitor, ts, ok, duration_us, error_kind, error,"
        " m006_phases(resolve_us, connect_us, tls_us, processing_us, transfer_us),"
        " m006_details(status) FROM results_m001 ORDER BY monitor, ts"
    )
    db.execute("DROP TABLE results_m001")


def _m006_phases(*us: int | None) -> bytes | None:
    """The five phase columns of m001 (ids 1 to 5) as a ``phases`` value."""
    pairs = [(key, max(v, 0)) for key, v in enumerate(us, 1) if v is not None]
    return pack(pairs) if pairs else None


def _m006_details(status: int | None) -> bytes | None:
    """The status column of m001 (id 1) as a ``details`` value."""
    return None if status is None else pack([(1, zigzag(status))])


@migrations()
def m007_run_location(db: Database) -> None:
    # Where each run probed from (issue 17): [daemon].location and .shard ("I/N"), NULL when
    # not set, so that a fleet report given several daemons' databases knows each one's
    # location and which monitors it ran.
    db.execute("ALTER TABLE runs ADD COLUMN location TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN shard TEXT")


@migrations()
def m008_outbox(db: Database) -> None:
    # Notifications to deliver (issue 18): written in the transaction of the state change that
    # causes them, delivered at least once by the daemon's sender, kept as the audit of what
    # was sent. ``payload`` is what goes out (JSON, no secrets: the notifier's URL, headers and
    # key stay in the config); ``key`` is the idempotency key, so an entry is never enqueued
    # twice.
    db.execute(
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,      -- idempotency key, also sent to the receiver
            notifier TEXT NOT NULL,        -- [[notifier]] id
            event TEXT NOT NULL,           -- incident.opened, ...
            incident TEXT,                 -- the incident's key, NULL for none
            payload TEXT NOT NULL,         -- JSON
            created INTEGER NOT NULL,      -- ms
            due INTEGER NOT NULL,          -- ms: the next attempt
            attempts INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | dead
            last_error TEXT,               -- short, classified: never a URL or a secret
            done INTEGER                   -- ms: sent, or given up
        )"""
    )
    db.execute("CREATE INDEX outbox_pending ON outbox (due) WHERE state = 'pending'")


@migrations()
def m009_incidents(db: Database) -> None:
    # Incidents (issue 18): the report's own outages (one DOWN row of a monitor, one outage of a
    # service, keyed by where it starts), as the daemon's pager saw them, with what only it
    # knows: the id people use, who acknowledged it, whether and since when it may page, and the
    # highest escalation level reached. The figures (end, downtime) stay the report's.
    db.execute(
        """CREATE TABLE incidents (
            id TEXT PRIMARY KEY,           -- random, not sequential: "inc-" and 10 hex digits
            target_kind TEXT NOT NULL,     -- monitor | service
            target TEXT NOT NULL,          -- its config id
            start INTEGER NOT NULL,        -- ms: backdated, as the report counts it
            confirmed INTEGER NOT NULL,    -- ms: when the daemon knew of it
            severity TEXT NOT NULL,        -- critical | major | minor
            escalation TEXT,               -- the policy's id when it opened; NULL: nobody paged
            cause_kind TEXT,
            cause TEXT,                    -- the first failure's message (scrubbed)
            notify_from INTEGER,           -- ms: paging began; NULL: silent (see quiet)
            quiet TEXT,                    -- why it is silent: grouped | flapping (or NULL)
            group_id TEXT,                 -- the service incident it is grouped under
            level INTEGER,                 -- the highest escalation level reached (0-based)
            resolved INTEGER,              -- ms
            ack_by TEXT,
            ack_at INTEGER,                -- ms
            ack_note TEXT,
            UNIQUE (target_kind, target, start)
        )"""
    )
    db.execute("CREATE INDEX incidents_open ON incidents (resolved)")
    db.execute("CREATE INDEX incidents_start ON incidents (start)")
    # Flapping targets' quiet periods, and where the pager's last pass read up to.
    db.execute(
        """CREATE TABLE quiet (
            target_kind TEXT NOT NULL,
            target TEXT NOT NULL,
            until INTEGER NOT NULL,        -- ms
            PRIMARY KEY (target_kind, target)
        )"""
    )
    db.execute("CREATE TABLE pager (id INTEGER PRIMARY KEY CHECK (id = 1), synced INTEGER)")


def migrate(db: Database) -> int:
    """Apply pending migrations; returns the schema version (number of applied migrations)."""
    migrations.apply(db)
    version = len(migrations.applied(db))
    db.execute(f"PRAGMA user_version = {version}")
    return version


@migrations()
def m010_keys(db: Database) -> None:
    # Keys this database's data is referred to by in public (issue 19): the status page's
    # incident and maintenance references are an HMAC under "public_refs", so that no one can
    # tell from one which target or which numbered window it is.
    db.execute("CREATE TABLE keys (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
    db.execute("INSERT INTO keys VALUES ('public_refs', ?)", (secrets.token_bytes(32),))
