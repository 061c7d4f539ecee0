"""The keys of a tcp monitor, and the :class:`~probes.tcp.TcpSpec` they make.

Rules: host (a name, an IPv4 or IPv6 address, brackets optional; no URL, no port) and port
(1 to 65535) are both required.
"""

from __future__ import annotations

import re

from probes.tcp import TcpSpec
from uptimed.config.checker import Checker, Invalid, Table, echo
from uptimed.config.values import host_port, host_problem, integer

KEYS = ("host", "port")
#: The keys a tcp monitor cannot do without: one of them and no "kind" suggests this kind.
REQUIRED = ("host", "port")


def build(c: Checker, raw: Table, p: str, timeout: float) -> tuple[TcpSpec, str]:
    """The spec of tcp monitor ``p`` (table ``raw``) and its target, "host:port"."""
    host = port = None
    if "host" not in raw:
        c.error(p, 'missing required key "host" (tcp monitors need one)')
    else:
        host = c.attempt(_host, raw["host"], f"{p}.host")
    if "port" not in raw:
        c.error(p, 'missing required key "port" (tcp monitors need one)')
    else:
        port = c.attempt(_port, raw["port"], f"{p}.port")
    if host is None or port is None:
        raise Invalid
    return TcpSpec(host=host, port=port, timeout=timeout), host_port(host, port)


def _host(c: Checker, value: object, path: str) -> str:
    if not isinstance(value, str):
        raise c.type_error(path, "a string (host name or IP address)", value)
    shown = echo(value)
    if "://" in value:
        raise c.error(
            path,
            f'{shown} is a URL: give the bare host name or IP address (and the port in "port")',
        )
    host = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if re.fullmatch(r"[^:]+:[0-9]+", host) or re.fullmatch(r"\[.*\]:[0-9]+", host):
        raise c.error(path, f'{shown} includes a port: put it in "port"')
    problem = host_problem(host)
    if problem:
        raise c.error(path, f"{shown} {problem}")
    return host


def _port(c: Checker, value: object, path: str) -> int:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,5}", value):
        raise c.type_error(
            path, "an integer from 1 to 65535", value, f" (write {value} without quotes)"
        )
    return integer(c, value, path, 1, 65535)
