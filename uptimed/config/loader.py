"""Reading a config: the file, its UTF-8 and TOML, and the document's sections in order.

Nothing downstream reads the raw TOML: :func:`load_config` checks everything first and either
returns a :class:`~uptimed.model.config.Config` or raises
:class:`~uptimed.errors.ConfigError` listing every mistake it found, one line each (how they
read: :mod:`uptimed.config.checker`). The rules of each section are stated by its module:
daemon, monitors (with [defaults] and one module of keys per probe kind: http, tcp),
retention, services, slos (and service_hours), maintenance, notifications (notifiers and
escalation policies), customers (customers, agreements, [portal], and the public names of
monitors and services); secret references in secret_options and urls.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from typing import TypeVar

from uptimed.config.checker import Checker, Table, config_dir, echo
from uptimed.config.customers import (
    check_agreement_targets,
    check_agreements,
    check_customers,
    check_portal,
    check_public_names,
)
from uptimed.config.daemon import check_daemon
from uptimed.config.maintenance import check_maintenance
from uptimed.config.monitors import check_defaults, check_monitors
from uptimed.config.notifications import check_escalations, check_notifiers, check_response
from uptimed.config.retention import check_retention
from uptimed.config.secrets import MODES, Mode
from uptimed.config.services import check_services
from uptimed.config.slos import check_slos
from uptimed.core.redact import scrub
from uptimed.errors import ConfigError
from uptimed.model.config import Config, Monitor, Service

MAX_FILE_BYTES = 64 * 1024 * 1024  # ~200,000 monitors at ~300 bytes each

TOP_KEYS = (
    "daemon", "defaults", "monitor", "retention", "service", "slo", "maintenance", "notifier",
    "escalation", "response", "customer", "agreement", "portal",
)  # fmt: skip

_T = TypeVar("_T")


def load_config(path: str | os.PathLike[str], *, secrets: Mode = "resolve") -> Config:
    """Read, parse and check the config file at ``path``.

    ``Config.path`` is ``path`` as given (not made absolute); ``Config.sha256`` hashes the file's
    bytes. A UTF-8 byte-order mark at the start is ignored.

    ``secrets`` says what to do with ``${env:...}``, ``${file:...}`` and ``${credential:...}``
    references: "resolve" them (the daemon), "check" them but tolerate systemd credentials that
    are not there (``uptimed check-config``), or "skip" them (commands that need no secret);
    see :mod:`uptimed.config.secret_options`. Relative ``${file:...}`` paths are relative to
    the file's directory.

    :raises ConfigError: for anything wrong, with every mistake found, one line each. Never
        raises anything else for whatever the file holds.
    """
    name = os.fsdecode(os.fspath(path))
    label = _file_label(name)
    try:
        with open(name, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([f"{label}: cannot read: no such file"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{label}: cannot read: is a directory, not a file"]) from None
    except PermissionError:
        raise ConfigError([f"{label}: cannot read: permission denied"]) from None
    except OSError as e:
        raise ConfigError([f"{label}: cannot read: {e.strerror or e}"]) from None
    except ValueError as e:  # e.g. "embedded null byte" in the path
        raise ConfigError([f"{label}: cannot read: {e}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError([f"{label}: larger than {MAX_FILE_BYTES // 2**20} MiB; is it a config?"])
    return loads_config(data, name, secrets=secrets)


def loads_config(
    data: bytes | str,
    path: str = "<config>",
    *,
    secrets: Mode = "resolve",
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Like :func:`load_config`, from the file's contents; ``path`` names it in errors and
    places relative paths (the working directory for "<config>"). ``environ`` (default:
    ``os.environ``) is what ``${env:...}``, ``$CREDENTIALS_DIRECTORY`` and ``$STATE_DIRECTORY``
    are read from."""
    if secrets not in MODES:  # a caller's bug, not the file's: no ConfigError
        raise ValueError(f"secrets must be one of {', '.join(MODES)}, not {secrets!r}")
    label = _file_label(path)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ConfigError(
            [
                (
                    f"{label}: not valid UTF-8 at byte offset {e.start} (line {line}): "
                    "the file must be UTF-8 encoded"
                )
            ]
        ) from None
    text = text.removeprefix("\ufeff")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{label}: {_toml_error(str(e))}"]) from None
    except RecursionError:
        raise ConfigError([f"{label}: TOML syntax error: values nested too deeply"]) from None
    except ValueError as e:  # an integer too long to convert (over 4300 digits)
        why = "an integer with too many digits" if "digits" in str(e) else echo(str(e), 200)
        raise ConfigError([f"{label}: TOML syntax error: {why}"]) from None
    env = os.environ if environ is None else environ
    checker = Checker(label, secrets, env, config_dir(path))
    try:
        config = _check_document(checker, doc, path, sha256)
    except Exception as e:  # noqa: BLE001 - a bug here must still read as a config error
        # The text of an unexpected exception could hold a value read for a reference.
        text = scrub(str(e), sorted(checker.secret_values))
        raise ConfigError(
            [
                (
                    f"{label}: internal error while checking the config, please report it: "
                    f"{type(e).__name__}: {echo(text, 200)}"
                )
            ]
        ) from (None if checker.secret_values else e)  # its traceback could show one too
    if checker.errors or config is None:
        raise ConfigError(checker.errors or [f"{label}: invalid config"])
    return config


def _check_document(c: Checker, doc: Table, path: str, sha256: str) -> Config | None:
    """The sections in a fixed order, whatever the file's: [daemon], [retention], notifiers and
    escalation policies, [defaults], the monitors, then what refers to them (services, the
    public names of both, SLOs, maintenance windows), customers, the agreements that name
    customers and SLOs, and [portal]."""
    c.unknown_keys(doc, "", TOP_KEYS)
    daemon = check_daemon(c, _section(c, doc, "daemon"), path)
    retention = check_retention(c, _section(c, doc, "retention"))
    # Notifiers, then the escalation policies that name them, before what names a policy.
    notifier_ids: dict[str, int] = {}
    raw_notifiers = _tables(c, doc, "notifier")
    notifiers = None if raw_notifiers is None else check_notifiers(c, raw_notifiers, notifier_ids)
    c.ids["notifier"] = None if notifiers is None else notifier_ids
    escalation_ids: dict[str, int] = {}
    raw_policies = _tables(c, doc, "escalation")
    policies = None if raw_policies is None else check_escalations(c, raw_policies, escalation_ids)
    c.ids["escalation"] = None if policies is None else escalation_ids
    defaults = check_defaults(c, _section(c, doc, "defaults"))
    response = check_response(c, _section(c, doc, "response"))
    monitor_ids: dict[str, int] = {}
    if "monitor" not in doc:
        c.error("", "no [[monitor]] defined")
        monitors = None
    else:
        monitors = check_monitors(c, doc["monitor"], defaults, monitor_ids)
    # Ids of tables whose own id is valid, even when their other keys are not, so that a
    # reference to them is no second error; None: the section is malformed, accept any id.
    c.ids["monitor"] = None if monitors is None else monitor_ids
    service_ids: dict[str, int] = {}
    raw_services = _tables(c, doc, "service")
    # while services are checked, their ids serve only the hint for a service named among
    # a service's monitors
    c.ids["service"] = {
        t["id"]: i
        for i, t in reversed(list(enumerate(raw_services or ())))
        if isinstance(t, dict) and isinstance(t.get("id"), str)
    }
    services = (
        None if raw_services is None else check_services(c, raw_services, service_ids, defaults)
    )
    c.ids["service"] = None if services is None else service_ids
    public: list[tuple[str, list[object], list[Monitor | Service | None]]] = []
    if monitors is not None and isinstance(doc["monitor"], list):
        public.append(("monitor", doc["monitor"], list(monitors)))
    if services is not None and raw_services is not None:
        public.append(("service", raw_services, list(services)))
    check_public_names(c, public)
    raw_slos = _tables(c, doc, "slo")
    slos = None if raw_slos is None else check_slos(c, raw_slos)
    raw_windows = _tables(c, doc, "maintenance")
    windows = None if raw_windows is None else check_maintenance(c, raw_windows)
    customer_ids: dict[str, int] = {}
    raw_customers = _tables(c, doc, "customer")
    customers = None if raw_customers is None else check_customers(c, raw_customers, customer_ids)
    c.ids["customer"] = None if customers is None else customer_ids
    # SLOs by their written id (a wrong SLO still counts as existing: no second error)
    c.ids["slo"] = None if raw_slos is None else _written_ids(raw_slos)
    slo_targets = {
        t["id"]: t["target"]
        for t in raw_slos or ()
        if isinstance(t, dict) and isinstance(t.get("id"), str) and isinstance(t.get("target"), str)
    }
    raw_agreements = _tables(c, doc, "agreement")
    agreements = (
        None if raw_agreements is None else check_agreements(c, raw_agreements, slo_targets)
    )
    if agreements is not None:
        named = {t.id for t in [*(monitors or ()), *(services or ())] if t and t.public_name}
        check_agreement_targets(c, agreements, slo_targets, named)
    portal = check_portal(c, _section(c, doc, "portal"))
    if c.errors or daemon is None or retention is None:
        return None
    monitors_ok, services_ok = _every(monitors), _every(services)
    slos_ok, windows_ok = _every(slos), _every(windows)
    notifiers_ok, policies_ok = _every(notifiers), _every(policies)
    customers_ok, agreements_ok = _every(customers), _every(agreements)
    if (
        monitors_ok is None or services_ok is None or slos_ok is None or windows_ok is None
        or notifiers_ok is None or policies_ok is None or response is None
        or customers_ok is None or agreements_ok is None or portal is None
    ):  # fmt: skip
        return None
    return Config(
        path=path,
        sha256=sha256,
        daemon=daemon,
        monitors=monitors_ok,
        retention=retention,
        services=services_ok,
        slos=slos_ok,
        maintenance=windows_ok,
        notifiers=notifiers_ok,
        escalations=policies_ok,
        response=response,
        customers=customers_ok,
        agreements=agreements_ok,
        portal=portal,
        unresolved_credentials=tuple(sorted(c.unresolved_credentials)),
    )


def _written_ids(tables: list[object]) -> dict[str, int]:
    """The string ids of ``tables``, each to the index of its first table."""
    ids: dict[str, int] = {}
    for i, t in enumerate(tables):
        if isinstance(t, dict) and isinstance(t.get("id"), str):
            ids.setdefault(t["id"], i)
    return ids


def _every(items: list[_T | None] | None) -> tuple[_T, ...] | None:
    """``items`` when none of them (nor the list) is None."""
    if items is None:
        return None
    valid = tuple(item for item in items if item is not None)
    return valid if len(valid) == len(items) else None


def _section(c: Checker, doc: Table, key: str) -> Table | None:
    """``doc[key]`` as a table ([key]): {} when absent, None when it is not a table."""
    value = doc.get(key, {})
    if not isinstance(value, dict):
        c.type_error(key, f"a table ([{key}])", value)
        return None
    return value


def _tables(c: Checker, doc: Table, key: str) -> list[object] | None:
    """``doc[key]`` as an array of tables ([[key]]): [] when absent, None when malformed."""
    if key not in doc:
        return []
    value = doc[key]
    if isinstance(value, dict):
        c.type_error(key, "an array of tables", value, f" (write [[{key}]], not [{key}])")
        return None
    if not isinstance(value, list):
        c.type_error(key, f"an array of tables ([[{key}]])", value)
        return None
    return value


def _file_label(name: str) -> str:
    """The file name as given, unless it holds characters that would break the line."""
    return name if name.isprintable() else echo(name, 1000)


def _toml_error(message: str) -> str:
    """tomllib's "Invalid value (at line 3, column 10)" -> "line 3, column 10: TOML syntax
    error: Invalid value"."""
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.DOTALL)
    if m:
        return f"line {m[2]}, column {m[3]}: TOML syntax error: {m[1]}"
    m = re.fullmatch(r"(.*) \(at end of document\)", message, re.DOTALL)
    if m:
        return f"end of file: TOML syntax error: {m[1]}"
    return f"TOML syntax error: {message}"
