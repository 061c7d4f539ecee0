"""[[service]] (uptimed.config.services)."""

from __future__ import annotations

import pytest

from tests.config.documents import (
    SERVICE,
    SVC,
    TCP,
    TWO,
    WEB,
    error,
    errors,
    http,
    load,
    service,
)
from uptimed.model.config import Service


def test_service_defaults() -> None:
    c = load(service())
    assert c.services == (
        Service(id="stack", name="stack", monitors=("web", "db"), rule="all", quorum=None),
    )


def test_service_options() -> None:
    s = load(service(name='"Web stack"', rule='"QUORUM"', quorum="2", monitors='["db", "web"]'))
    assert s.services[0] == Service(
        id="stack", name="Web stack", monitors=("db", "web"), rule="quorum", quorum=2
    )
    assert load(service(rule='"any"')).services[0].rule == "any"
    assert load(service(rule='"quorum"', quorum="1")).services[0].quorum == 1


def test_services_may_name_disabled_monitors_and_each_other_share_monitors() -> None:
    text = (
        http(enabled="false") + TCP + SERVICE + '[[service]]\nid = "db-only"\nmonitors = ["db"]\n'
    )
    c = load(text)
    assert [s.id for s in c.services] == ["stack", "db-only"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"monitors": None}, f'{SVC}: missing required key "monitors" (the ids of its monitors)'),
        ({"monitors": "[]"}, f"{SVC}.monitors: is empty: list at least one monitor id"),
        (
            {"monitors": '"web"'},
            f'{SVC}.monitors: expected an array of monitor ids such as ["web", "db"], found '
            'string "web" (write ["web"])',
        ),
        (
            {"monitors": '["web", "wbe"]'},
            f'{SVC}.monitors[1]: "wbe" is not a monitor id (did you mean "web"?)',
        ),
        (
            {"monitors": '["WEB"]'},
            f'{SVC}.monitors[0]: "WEB" is not a monitor id (did you mean "web"?)',
        ),
        ({"monitors": '["zzz"]'}, f'{SVC}.monitors[0]: "zzz" is not a monitor id'),
        (
            {"monitors": "[1]"},
            f"{SVC}.monitors[0]: expected a string (a monitor id), found integer 1",
        ),
        (
            {"monitors": '["web", "db", "web"]'},
            f'{SVC}.monitors[2]: "web" is listed twice (first at [0])',
        ),
        (
            {"rule": '"majority"'},
            f'{SVC}.rule: "majority" is not a service rule (allowed: all, any, quorum)',
        ),
        (
            {"rule": '"quorom"'},
            f'{SVC}.rule: "quorom" is not a service rule (allowed: all, any, quorum; did you mean '
            '"quorum"?)',
        ),
        ({"rule": "1"}, f"{SVC}.rule: expected a string (all, any, quorum), found integer 1"),
        (
            {"rule": '"quorum"'},
            f'{SVC}: missing required key "quorum" (rule "quorum" needs k: the service is down '
            "when at least k of its monitors are down)",
        ),
        (
            {"rule": '"quorum"', "quorum": "3"},
            f"{SVC}.quorum: 3 is more than the service's 2 monitors (allowed: 1 to 2)",
        ),
        (
            {"rule": '"quorum"', "quorum": "0"},
            f"{SVC}.quorum: 0 is out of range (allowed: 1 to 1000)",
        ),
        (
            {"rule": '"quorum"', "quorum": '"2"'},
            f'{SVC}.quorum: expected an integer from 1 to 1000, found string "2"',
        ),
        (
            {"quorum": "2"},
            f'{SVC}.quorum: only applies with rule = "quorum" (this service\'s rule is "all")',
        ),
        ({"name": '""'}, f"{SVC}.name: is empty (leave it out to use the id)"),
        ({"monitor": '["web"]'}, f'{SVC}: unknown key "monitor" (did you mean "monitors"?)'),
        (
            {"zzz": "1"},
            f'{SVC}: unknown key "zzz" (allowed: id, name, monitors, rule, quorum, severity,'
            " escalation, public, public_name)",
        ),
    ],
)
def test_service_errors(options: dict[str, str | None], message: str) -> None:
    assert error(service(**options)) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            TWO + SERVICE.replace('"stack"', '"web"'),
            'c.toml: service[0].id: "web" is already the id of monitor[0]: SLO targets name '
            "monitors and services alike, so their ids must differ",
        ),
        (
            TWO + SERVICE + SERVICE,
            'c.toml: service[1].id: "stack" is used twice (first at service[0])',
        ),
        (
            TWO + SERVICE.replace('id = "stack"\n', ""),
            'c.toml: service[0]: missing required key "id"',
        ),
        (
            TWO + SERVICE.replace('"stack"', '"a b"'),
            'c.toml: service[0].id: "a b" is not a valid id: use letters, digits, "_", "." and "-"',
        ),
        (
            TWO + '[service]\nid = "x"\n',
            "c.toml: service: expected an array of tables, found table (write [[service]], not "
            "[service])",
        ),
        (
            "service = 1\n" + TWO,
            "c.toml: service: expected an array of tables ([[service]]), found integer 1",
        ),
        ("service = [1]\n" + TWO, "c.toml: service[0]: expected a table, found integer 1"),
        (
            TWO + SERVICE + '[[service]]\nid = "outer"\nmonitors = ["stack"]\n',
            'c.toml: service[1] (id "outer").monitors[0]: "stack" is not a monitor id (it is a '
            "service; a service is made of monitors only)",
        ),
    ],
)
def test_service_table_errors(text: str, message: str) -> None:
    assert error(text) == message


def test_a_broken_monitor_still_counts_for_references() -> None:
    """A monitor whose id is valid but whose other keys are not is one error, not two."""
    text = http(interval='"5x"') + TCP + SERVICE
    assert errors(text) == [
        f'{WEB}.interval: "5x" is not a duration (examples: "30s", "5m", "1h30m")'
    ]


def test_references_are_not_checked_when_the_monitors_are_malformed() -> None:
    assert errors("monitor = 1\n" + SERVICE) == [
        "c.toml: monitor: expected an array of tables ([[monitor]]), found integer 1"
    ]
