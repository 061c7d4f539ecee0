"""[daemon] location, shard, location_quorum and the /metrics credentials
(uptimed.config.daemon), and what check-config says of them (uptimed.config.summary)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.documents import HTTP, error, load
from uptimed.config import summarize


def test_fleet_options() -> None:
    Path("metrics-password").write_text("pa55word\n")
    d = load(
        '[daemon]\nlocation = "fra1.de-1"\nshard = "2/3"\nlocation_quorum = 2\n'
        'metrics_token = "t0ken"\nmetrics_username = "prom"\n'
        'metrics_password = "${file:metrics-password}"\n' + HTTP
    ).daemon
    assert (d.location, d.shard, d.location_quorum) == ("fra1.de-1", (2, 3), 2)
    credentials = (d.metrics_token, d.metrics_username, d.metrics_password)
    assert credentials == ("t0ken", "prom", "pa55word")
    assert "t0ken" not in repr(d) and "pa55word" not in repr(d)


def test_fleet_defaults() -> None:
    d = load(HTTP).daemon
    assert (d.location, d.shard, d.location_quorum) == (None, None, 1)
    assert (d.metrics_token, d.metrics_username, d.metrics_password) == (None, None, None)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('location = ""', 'daemon.location: "": give 1 to 64 letters, digits, "_", "." or "-"'),
        ('location = "fra 1"', 'daemon.location: "fra 1": give 1 to 64 letters, digits, "_"'),
        ("location = 1", "daemon.location: expected a string"),
        ('shard = "3/2"', 'daemon.shard: "3/2" is not "I/N" with 1 <= I <= N <= 1000'),
        ('shard = "0/3"', 'daemon.shard: "0/3" is not "I/N"'),
        ('shard = "1/1001"', 'daemon.shard: "1/1001" is not "I/N"'),
        ('shard = "2"', 'daemon.shard: "2" is not "I/N"'),
        ("shard = 2", "daemon.shard: expected a string"),
        ("location_quorum = 0", "daemon.location_quorum: 0 is out of range (allowed: 1 to 1000)"),
        ('metrics_token = ""', "daemon.metrics_token: is empty"),
        ('metrics_username = "prom"', "daemon.metrics_username: needs daemon.metrics_password"),
        ('metrics_password = "pw"', "daemon.metrics_password: needs daemon.metrics_username"),
        (
            'metrics_username = "a:b"\nmetrics_password = "pw"',
            "daemon.metrics_username: must be a non-empty name without ':'",
        ),
    ],
)
def test_fleet_option_errors(line: str, message: str) -> None:
    assert error(f"[daemon]\n{line}\n" + HTTP).startswith(f"c.toml: {message}")


@pytest.mark.parametrize("name", ["location", "target"])
def test_labels_the_fleet_rules_use_are_reserved(name: str) -> None:
    assert f'"{name}" is reserved by uptimed' in error(
        HTTP.replace('kind = "http"', f'kind = "http"\nlabels = {{ {name} = "x" }}')
    )


SHARDED = (
    """
[daemon]
location = "fra1"
shard = "1/2"
location_quorum = 2
metrics_username = "prom"
metrics_password = "secret-pw"
"""
    + "".join(
        f'[[monitor]]\nid = "m{i}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {i + 1}\n'
        for i in range(8)
    )
    + """
[[service]]
id = "all-of-them"
monitors = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]
[[slo]]
id = "all-slo"
target = "all-of-them"
objective = 99.9
window = "30d"
"""
)


def test_check_config_says_what_a_shard_does_not_evaluate() -> None:
    text = summarize(load(SHARDED))
    assert "location    fra1 (the fleet counts a monitor down when 2 locations see it down)" in text
    assert "shard       1/2: runs " in text and " of 8 monitors" in text
    assert "service all-of-them: not here (members on shard 2)" in text
    assert "slo all-slo: not here (members on shard 2)" in text
    assert "/metrics    basic auth (user prom)" in text
    assert "secret-pw" not in text
