"""The keys of tcp monitors (uptimed.config.tcp)."""

from __future__ import annotations

import pytest

from tests.config.documents import (
    DB,
    error,
    errors,
    tcp,
)

# tcp options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": "0"}, ".port: 0 is out of range (allowed: 1 to 65535)"),
        ({"port": "70000"}, ".port: 70000 is out of range (allowed: 1 to 65535)"),
        (
            {"port": '"80"'},
            '.port: expected an integer from 1 to 65535, found string "80" '
            "(write 80 without quotes)",
        ),
        ({"port": '"http"'}, '.port: expected an integer from 1 to 65535, found string "http"'),
        ({"port": "true"}, ".port: expected an integer from 1 to 65535, found boolean true"),
        ({"host": '"db:5432"'}, '.host: "db:5432" includes a port: put it in "port"'),
        ({"host": '"[::1]:5432"'}, '.host: "[::1]:5432" includes a port: put it in "port"'),
        (
            {"host": '"tcp://db"'},
            '.host: "tcp://db" is a URL: give the bare host name or IP '
            'address (and the port in "port")',
        ),
        ({"host": '"bad host"'}, '.host: "bad host" is not a valid host name or IP address'),
        ({"host": '""'}, '.host: "" is empty'),
        ({"host": '"1.2.3.256"'}, '.host: "1.2.3.256" is not a valid IPv4 address'),
        ({"host": "[1]"}, ".host: expected a string (host name or IP address), found array"),
    ],
)
def test_tcp_option_errors(options: dict[str, str], message: str) -> None:
    assert error(tcp(**options)) == DB + message


def test_tcp_required_keys() -> None:
    assert errors('[[monitor]]\nid = "db"\nkind = "tcp"\n') == [
        f'{DB}: missing required key "host" (tcp monitors need one)',
        f'{DB}: missing required key "port" (tcp monitors need one)',
    ]
