"""Every error uptimed raises on purpose, in one tree.

::

    UptimedError
    ├── ConfigError           the config cannot be used: one line per mistake
    ├── SecretError           a ${...} reference that is malformed or cannot be resolved
    │   └── CredentialsUnavailable
    ├── RequestError          a bad request to the library (CLI flags, API input): names the field
    ├── UsageError            a bad command-line argument that is no request field
    ├── StorageError          the database cannot be used
    │   ├── DatabaseLocked    another daemon holds it
    │   └── NoDatabase        there is none where the config puts it
    └── StartupError          the daemon cannot start

Front ends catch :class:`UptimedError` subclasses and show their message; anything else is a
bug, shown as one (a traceback in the log, a 500 from the API).
"""

from __future__ import annotations

import re
from collections.abc import Callable


class UptimedError(Exception):
    """The root of uptimed's own errors."""


class ConfigError(UptimedError):
    """The config cannot be used. ``errors`` holds one line per mistake, each starting with the
    file name: ``FILE: monitor[3].interval: "5x" is not a duration (examples: "30s", "5m")``."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class SecretError(UptimedError, ValueError):
    """A reference that is malformed or cannot be resolved. The message starts with the
    reference as written (``${file:/etc/uptimed/tok}: cannot read: no such file``) and never
    holds a value read from the environment or a file."""


class CredentialsUnavailable(SecretError):
    """A ``${credential:NAME}`` while ``$CREDENTIALS_DIRECTORY`` is not set: the process does not
    run under systemd with credentials (``uptimed check-config`` from a shell), which the
    "check" mode tolerates."""


_REF = re.compile(r"\{\{|\}\}|\{([a-z_]+)\}")


class RequestError(UptimedError):
    """A bad request to the library (a maintenance window, a report's window or scope).

    ``field`` names the field at fault by the library's name (``for``, ``start``, ``reason``,
    ``from``, ``window``, ...). ``template`` is the sentence; it names fields only as ``{name}``
    placeholders (braces of the values in it doubled), so that each front end says it in its own
    words: :meth:`render` with a function from a field's name to the front end's (the CLI's
    ``--for``, the API's ``'for'``). ``str()`` renders them as ``--name``; a front end renders
    explicitly."""

    def __init__(self, field: str, template: str):
        self.field = field
        self.template = template
        super().__init__(self.render(lambda name: f"--{name}"))

    @classmethod
    def of(cls, field: str, error: object) -> RequestError:
        """``{field}: <error>``: a value its parser refused, in the parser's words."""
        return cls(field, f"{{{field}}}: {escape(str(error))}")

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the sentence names, in order."""
        return tuple(m[1] for m in _REF.finditer(self.template) if m[1])

    def render(self, name: Callable[[str], str]) -> str:
        return _REF.sub(lambda m: name(m[1]) if m[1] else m[0][0], self.template)

    def __reduce__(self) -> tuple[type[RequestError], tuple[str, str]]:
        return type(self), (self.field, self.template)


def escape(text: str) -> str:
    """``text`` for a :class:`RequestError` template: as it is, not read as placeholders."""
    return text.replace("{", "{{").replace("}", "}}")


class UsageError(UptimedError):
    """A bad argument: reported in one line with exit status 2."""


class StorageError(UptimedError):
    """The database cannot be used."""


class DatabaseLocked(StorageError):
    """Another daemon holds the database: one database has one daemon."""

    def __init__(self, path: str, pid: int | None):
        holder = f"pid {pid}" if pid else "a process"
        super().__init__(f"another uptimed ({holder}) is running on database {path}: not starting")
        self.pid = pid


class NoDatabase(StorageError, FileNotFoundError):
    """A command other than ``run`` found no database where the config puts it: it never
    creates one (a stray empty file the daemon never reads would take its writes)."""

    def __init__(self, path: str, why: str = "has the daemon run with this config?"):
        super().__init__(f"no database at {path} ({why})")
        self.path = path


class StartupError(UptimedError):
    """The daemon cannot start (database unusable, address in use...): the message says why."""
