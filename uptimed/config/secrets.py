"""Secret references in config values: ``${env:NAME}``, ``${file:PATH}``, ``${credential:NAME}``.

The config file must stay world-readable (the systemd unit runs the daemon as a DynamicUser, who
owns nothing), so a password or token is better kept elsewhere and *referenced* from the value:

``${env:NAME}``         the environment variable NAME, exactly as set (an error when it is unset
                        or empty). NAME is a shell-style name: letters, digits and "_", not
                        starting with a digit.
``${file:PATH}``        the file's contents, surrounding whitespace stripped (a trailing newline is
                        normal). A relative PATH is resolved against ``base_dir`` (the config
                        file's directory). The file is read again at each load, so a SIGHUP reload
                        picks up a new value.
``${credential:NAME}``  the file ``$CREDENTIALS_DIRECTORY/NAME``: a systemd credential
                        (``LoadCredential=NAME:/etc/uptimed/NAME`` in the unit). NAME is a plain
                        file name: no "/", not "." or "..".

``$${`` is a literal ``${`` (so a literal "$" right before a reference cannot be written; no
real secret needs that). Any other ``${...}`` is an error that names the forms allowed, so a typo
such as ``${enV:X}`` or ``${X}`` never goes out as literal text. Resolved values are not scanned
again: a secret that itself holds ``${`` is taken as is.

Every function here is pure apart from reading the files named: the environment comes in as a
mapping and relative paths are resolved against a directory the caller gives. Messages
(:class:`SecretError`) name the reference as written, never a value read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from uptimed.core.times import quote
from uptimed.errors import CredentialsUnavailable, SecretError

__all__ = [
    "FORMS",
    "MAX_SECRET_BYTES",
    "MODES",
    "CredentialsUnavailable",
    "Form",
    "Mode",
    "Piece",
    "Reference",
    "SecretError",
    "parse",
    "references",
    "render",
    "resolve",
]

#: What ``load_config(..., secrets=MODE)`` does with references (see uptimed.config).
Mode: TypeAlias = Literal["resolve", "check", "skip"]
MODES: tuple[Mode, ...] = ("resolve", "check", "skip")

Form: TypeAlias = Literal["env", "file", "credential"]
FORMS: tuple[Form, ...] = ("env", "file", "credential")

#: A secret file larger than this is refused: it is not a password or a token, and reading a
#: wrongly named multi-gigabyte file would stall the daemon's start.
MAX_SECRET_BYTES = 64 * 1024

_ALLOWED = "use ${env:NAME}, ${file:PATH} or ${credential:NAME}; write $${ for a literal ${"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Reference:
    """One ``${form:name}`` in a value; ``name`` is the NAME or PATH exactly as written."""

    form: Form
    name: str

    def __str__(self) -> str:
        return "${" + self.form + ":" + self.name + "}"

    @property
    def shown(self) -> str:
        """The reference for a message: as written, or escaped and quoted when it holds
        characters that would break the line."""
        text = str(self)
        return text if text.isprintable() and len(text) <= 200 else quote(text, 200)


#: A value split into literal text and references.
Piece: TypeAlias = "str | Reference"


def parse(text: str) -> tuple[Piece, ...]:
    """Split ``text`` into literal pieces and :class:`Reference` pieces, checking their syntax.

    ``$${`` becomes a literal ``${`` in the literal pieces. Adjacent literal text is merged, so a
    value without references gives ``(text,)`` (or ``()`` for ``""``).

    :raises SecretError: for a ``${`` without a closing ``}``, an unknown form, or a NAME or PATH
        that its form does not accept.
    """
    pieces: list[Piece] = []
    literal: list[str] = []
    i = 0
    while True:
        j = text.find("$", i)
        if j < 0:
            literal.append(text[i:])
            break
        literal.append(text[i:j])
        if text.startswith("$${", j):
            literal.append("${")
            i = j + 3
        elif text.startswith("${", j):
            end = text.find("}", j + 2)
            if end < 0:
                # Not echoed: the rest of the value may be a literal secret with a stray "${".
                raise SecretError(f'a "${{" without a closing "}}" ({_ALLOWED})')
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(_reference(text[j + 2 : end]))
            i = end + 1
        else:
            literal.append("$")
            i = j + 1
    rest = "".join(literal)
    if rest:
        pieces.append(rest)
    return tuple(p for p in pieces if p != "")


def _reference(body: str) -> Reference:
    form, colon, name = body.partition(":")
    written = "${" + body + "}"
    shown = written if written.isprintable() and len(written) <= 60 else quote(written, 60)
    if not colon or form not in FORMS:
        raise SecretError(f"{shown} is not a secret reference ({_ALLOWED})")
    if not name:
        what = "a file path" if form == "file" else "a name"
        raise SecretError(f"{shown}: give {what} after the colon")
    if "\0" in name:
        raise SecretError(f"{shown} contains a NUL character")
    if form == "env" and not _ENV_NAME.fullmatch(name):
        raise SecretError(
            f"{shown}: {quote(name)} is not an environment variable name "
            '(letters, digits and "_", not starting with a digit)'
        )
    if form == "credential" and ("/" in name or name in (".", "..")):
        raise SecretError(
            f'{shown}: a credential name is a plain file name (no "/", not "." or ".."), '
            "as in LoadCredential=NAME:PATH"
        )
    return Reference(form, name)  # mypy narrows form to Form by the "in FORMS" test above


def references(pieces: Sequence[Piece]) -> tuple[Reference, ...]:
    """The references among ``pieces``, in order."""
    return tuple(p for p in pieces if isinstance(p, Reference))


def render(pieces: Sequence[Piece], value: Callable[[Reference], str]) -> str:
    """``pieces`` joined, each reference replaced by ``value(reference)``."""
    return "".join(value(p) if isinstance(p, Reference) else p for p in pieces)


def resolve(ref: Reference, environ: Mapping[str, str], base_dir: str) -> str:
    """The value ``ref`` stands for.

    :param environ: the process environment (``os.environ``), for ``${env:...}`` and
        ``$CREDENTIALS_DIRECTORY``.
    :param base_dir: what a relative ``${file:PATH}`` is relative to.
    :raises CredentialsUnavailable: for a credential while ``$CREDENTIALS_DIRECTORY`` is unset.
    :raises SecretError: when the value cannot be read, is empty, or is not UTF-8 text.
    """
    if ref.form == "env":
        value = environ.get(ref.name)
        if value is None:
            raise SecretError(f"{ref.shown}: the environment variable {ref.name} is not set")
        if not value:
            raise SecretError(f"{ref.shown}: the environment variable {ref.name} is empty")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # os.environ keeps undecodable bytes as lone surrogates
            raise SecretError(
                f"{ref.shown}: the environment variable {ref.name} is not valid UTF-8"
            ) from None
        return value
    if ref.form == "file":
        path = os.path.join(base_dir, ref.name)  # join keeps an absolute name as it is
        return _read(ref, path, shown_path=path != ref.name)
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        raise CredentialsUnavailable(
            f"{ref.shown}: $CREDENTIALS_DIRECTORY is not set; systemd sets it for a unit with "
            f"LoadCredential={ref.name}:PATH (outside systemd, use ${{file:PATH}})"
        )
    return _read(ref, os.path.join(directory, ref.name), shown_path=True)


def _read(ref: Reference, path: str, shown_path: bool) -> str:
    where = f" {quote(path, 200)}" if shown_path else ""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SECRET_BYTES + 1)
    except FileNotFoundError:
        why = "no such file"
        if ref.form == "credential":
            why += f" (does the unit have LoadCredential={ref.name}:PATH?)"
        raise SecretError(f"{ref.shown}: cannot read{where}: {why}") from None
    except PermissionError:
        raise SecretError(f"{ref.shown}: cannot read{where}: permission denied") from None
    except IsADirectoryError:
        raise SecretError(f"{ref.shown}: cannot read{where}: is a directory") from None
    except OSError as e:
        why = e.strerror or type(e).__name__
        raise SecretError(f"{ref.shown}: cannot read{where}: {why}") from None
    if len(data) > MAX_SECRET_BYTES:
        raise SecretError(
            f"{ref.shown}: the file{where} is larger than {MAX_SECRET_BYTES // 1024} KiB; "
            "is it a secret?"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(f"{ref.shown}: the file{where} is not UTF-8 text") from None
    text = text.strip()
    if not text:
        raise SecretError(f"{ref.shown}: the file{where} is empty")
    return text
