"""What `uptimed check-config` prints (uptimed.config.summary)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.config.documents import (
    EXAMPLE,
    ONCE,
    SERVICE,
    SLO_TABLE,
    TCP,
    TWO,
    WEEKLY,
    edit,
    http,
    load,
    tcp,
)
from uptimed.config import load_config, loads_config, summarize
from uptimed.model.config import Recurrence

# summary ----------------------------------------------------------------------------------------


def test_summary_exact() -> None:
    text = (
        '[daemon]\ndatabase = "/srv/uptimed.db"\n' + http(interval='"30s"') + tcp(interval='"30s"')
    )
    Path("config.example.toml").write_text(text)
    assert summarize(load_config("config.example.toml")) == (
        "config.example.toml: OK\n"
        "  database    /srv/uptimed.db\n"
        "  listen      127.0.0.1:9464\n"
        "  monitors    2 enabled (http 1, tcp 1), 0 disabled\n"
        "  intervals   30s x2\n"
        "  timeouts    10s x2\n"
        "  load        0.07 probes/s"
    )


def test_summary_counts() -> None:
    text = (
        '[daemon]\nlisten = "[::1]:9000"\n'
        + http(interval='"1m30s"')
        + tcp(interval='"10s"')
        + TCP.replace('"db"', '"db2"')
        + 'interval = "10s"\n'
        + TCP.replace('"db"', '"db3"')
        + "enabled = false\n"
    )
    lines = summarize(load(text)).split("\n")
    assert lines[2] == "  listen      [::1]:9000"
    assert lines[3] == "  monitors    3 enabled (http 1, tcp 2), 1 disabled"
    assert lines[4] == "  intervals   10s x2, 1m30s x1"
    assert lines[5] == "  timeouts    5s x2, 10s x1"  # inherited 10s, capped at half of 10s
    assert lines[6] == f"  load        {2 / 10 + 1 / 90:.2f} probes/s"


def test_summary_nothing_enabled() -> None:
    lines = summarize(load(http(enabled="false"))).split("\n")
    assert lines[3:] == [
        "  monitors    0 enabled, 1 disabled",
        "  intervals   -",
        "  timeouts    -",
        "  load        0.00 probes/s",
    ]


def test_summary_timeouts_are_the_effective_ones() -> None:
    """Inherited timeouts are capped at half the interval; a monitor's own is shown as set."""
    text = (
        '[defaults]\ntimeout = "10s"\n'
        + http(interval='"5s"')  # inherits 10s, capped: 2.5s
        + TCP.replace('"db"', '"db5"')
        + 'interval = "5s"\n'  # the same: 2.5s
        + tcp(interval='"5s"', timeout='"3s"')  # its own: 3s, above half the interval
        + TCP.replace('"db"', '"slow"')
        + 'interval = "1m"\n'  # inherits 10s: no cap needed
        + TCP.replace('"db"', '"off"')
        + 'interval = "2s"\nenabled = false\n'  # not counted, like intervals
    )
    c = load(text)
    assert [m.timeout for m in c.monitors] == [2.5, 2.5, 3.0, 10.0, 1.0]
    lines = summarize(c).split("\n")
    assert lines[4] == "  intervals   5s x3, 1m x1"
    assert lines[5] == "  timeouts    2s500ms x2, 3s x1, 10s x1"


def test_summary_small_load() -> None:
    assert summarize(load(http(interval='"1h"'))).endswith("load        0.00028 probes/s")


@pytest.mark.skipif(not EXAMPLE.exists(), reason="no config.example.toml yet")
def test_shipped_example_loads() -> None:
    c = load_config(EXAMPLE)
    assert c.monitors
    assert summarize(c).startswith(f"{EXAMPLE}: OK")


@pytest.mark.skipif(not EXAMPLE.exists(), reason="no config.example.toml yet")
def test_shipped_example_documents_min_coverage() -> None:
    text = EXAMPLE.read_text()
    assert text.count("# min_coverage = 90\n") == 1
    assert all(s.min_coverage == Decimal(90) for s in load_config(EXAMPLE).slos)
    (first, *_) = load(text.replace("# min_coverage = 90\n", "min_coverage = 75.5\n")).slos
    assert first.min_coverage == Decimal("75.5")


# summary of services, SLOs and maintenance -------------------------------------------------------


def test_summary_sla_lines() -> None:
    text = (
        TWO
        + edit(SERVICE, {"rule": '"quorum"', "quorum": "1"})
        + '[[service]]\nid = "db-only"\nmonitors = ["db"]\n'
        + edit(SLO_TABLE, {"target": '"stack"', "id": '"web-availability"', "period": '"month"'})
        + edit(
            SLO_TABLE,
            {
                "id": '"latency"',
                "window": None,
                "period": '"quarter"',
                "timezone": '"Europe/Berlin"',
                "objective": "99",
                "latency": '{ threshold = "300ms", objective = 99.0 }',
                "credits": "[{ below = 99, credit = 10 }]",
                "service_hours": '{ days = "mon-fri" }',
            },
        )
        + edit(
            SLO_TABLE,
            {
                "id": '"short"',
                "window": '"1h30m"',
                "credits": "[{ below = 99, credit = 10 }, { below = 98, credit = 20 }]",
            },
        )
        + WEEKLY
        + ONCE.replace('"sunday"', '"once"')
    )
    lines = summarize(load(text)).split("\n")
    assert lines[7:] == [
        "  services    2 (all 1, quorum 1)",
        "  slos        3",
        "  slo         web-availability: stack >= 99.9% over 30d / month",
        "  slo         latency: web >= 99% over quarter (Europe/Berlin), latency 99.0% < 300ms, "
        "1 credit tier, service hours",
        "  slo         short: web >= 99.9% over 1h30m, 2 credit tiers",
        "  maintenance 2 (1 recurring, 1 one-off)",
    ]


def test_summary_shows_ten_slos_at_most() -> None:
    slos = "".join(edit(SLO_TABLE, {"id": f'"s{i}"'}) for i in range(12))
    lines = summarize(load(TWO + slos)).split("\n")
    assert lines[7] == "  slos        12"
    assert lines[8] == "  slo         s0: web >= 99.9% over 30d"
    assert lines[17:] == ["  slo         s9: web >= 99.9% over 30d", "              ... 2 more"]


def test_shipped_example_has_a_service_an_slo_and_a_window() -> None:
    c = load_config(EXAMPLE)
    assert [s.id for s in c.services] == ["self"]
    (s,) = c.slos
    assert (s.target, s.objective, s.window, s.period) == (
        "self",
        Decimal("99.9"),
        30 * 86400,
        "month",
    )
    assert [t.below for t in s.credits] == [Decimal("99.9"), Decimal("99.0"), Decimal("95.0")]
    (w,) = c.maintenance
    assert w.recurrence == Recurrence(
        rrule="FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", cron=None, duration=1800.0, timezone="Europe/Berlin"
    )
    assert c.retention.rollup == 400 * 86400


def test_shipped_example_commented_options_are_valid() -> None:
    """Uncommenting the documented SLA options gives a config that loads."""
    text = EXAMPLE.read_text()
    for key in (
        "api_token",
        "connectivity_check",
        "customer",
        "effective_from",
        "effective_until",
        "latency",
        "service_hours",
    ):
        assert text.count(f"\n# {key} = ") == 1, key
        text = text.replace(f"\n# {key} = ", f"\n{key} = ")
    start = text.index('# [[maintenance]]\n# id = "db-upgrade"')
    end = text.index("\n\n", start)
    text = text[:start] + text[start:end].replace("# ", "") + text[end:]
    c = loads_config(text, "example", secrets="check", environ={})
    # the credential is only there under systemd: check-config counts it, as summarize says
    assert c.daemon.api_token is None and c.unresolved_credentials == ("api-token",)
    assert "1 secret is read from systemd credentials when the daemon runs (api-token)" in (
        summarize(c)
    )
    assert len(c.daemon.connectivity_check) == 2
    (s,) = c.slos
    assert s.customer and s.effective_from and s.effective_until and s.latency and s.service_hours
    assert [w.id for w in c.maintenance] == ["sunday-patching", "db-upgrade"]
    assert c.maintenance[1].start == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)
