"""Secret options: string values whose ``${...}`` references are resolved as the load's mode
says (the grammar and its messages: :mod:`uptimed.config.secrets`).

Rules. The config file is world-readable (the systemd unit's DynamicUser cannot own it), so a
password or token can be kept elsewhere and referenced from inside a string value:
  ${env:NAME}          the environment variable NAME (an error when unset or empty);
  ${file:PATH}         the file's contents, surrounding whitespace stripped; a relative PATH is
                       relative to the config file's directory, like [daemon].database;
  ${credential:NAME}   the file $CREDENTIALS_DIRECTORY/NAME, i.e. a systemd credential
                       (LoadCredential=NAME:/etc/uptimed/NAME); NAME has no "/" and is not "."
                       or "..".
  $${ is a literal ${; any other ${...} is an error naming these forms (so a typo never goes
  out as text). Files are read afresh on every load, so a SIGHUP reload picks up a new value.
References are allowed in the secret options, and only there: a monitor's url and
daemon.connectivity_check's http(s) URLs (in the userinfo only, see uptimed.config.urls), header
values (see uptimed.config.http) and daemon.api_token (see uptimed.config.daemon).
load_config's secrets= says what happens to references:
  "resolve"  (the daemon's start and its SIGHUP reload) each is resolved; one that cannot be
             is an error with the key path: "c.toml: monitor[0] (id "web").headers.
             Authorization: ${file:/etc/uptimed/tok}: cannot read: no such file".
  "check"    (uptimed check-config) the same, except that a ${credential:...} while
             CREDENTIALS_DIRECTORY is unset (an admin's shell, not the unit) is no error: the
             value is left as written, Config.unresolved_credentials names it, and summarize()
             says how many secrets the daemon reads from systemd credentials.
  "skip"     (status, report, maintenance, which need no secret) syntax only; values are left
             as written.
A value whose references were left unresolved keeps its text as written, except api_token,
which is then None: an unresolved reference must never become a guessable token.
No resolved value is ever shown: messages name the reference (${file:/x}), URLs and header
values holding credentials reach the model as uptimed.core.redact.SecretText (its repr is
masked, and redact.secrets_of names its secrets for the runner to scrub from probe errors), and
Monitor.target and every message show URLs redacted.
"""

from __future__ import annotations

from dataclasses import dataclass

from uptimed.config.checker import Checker, Invalid
from uptimed.config.secrets import (
    CredentialsUnavailable,
    Piece,
    Reference,
    SecretError,
    parse,
    references,
    render,
    resolve,
)


@dataclass(frozen=True)
class Secret:
    """A secret option's string after its references were dealt with (see :func:`secret`)."""

    text: str  # resolved; as written when ``resolved`` is False
    resolved: bool  # False: references left for later (secrets="skip", or "check" credentials)
    pieces: tuple[Piece, ...]
    values: dict[Reference, str]  # the value each reference resolved to

    @property
    def shown_refs(self) -> str:
        """Its references, for a message: ``${env:A}, ${file:b}``."""
        return ", ".join(ref.shown for ref in self.values)


def secret(c: Checker, text: str, path: str) -> Secret:
    """``text`` with its references resolved as the mode says; an error is recorded for each
    malformed or unresolvable reference."""
    try:
        pieces = parse(text)
    except SecretError as e:
        raise c.error(path, str(e)) from None
    refs = references(pieces)
    if not refs:
        return Secret(render(pieces, str), True, pieces, {})
    values = resolve_all(c, refs, path)
    if values is None:
        return Secret(text, False, pieces, {})
    return Secret(render(pieces, values.__getitem__), True, pieces, values)


def resolve_all(c: Checker, refs: tuple[Reference, ...], path: str) -> dict[Reference, str] | None:
    """``{reference: value}``, each reference once; None when the mode leaves some unresolved.
    Every reference that cannot be resolved is an error."""
    if c.mode == "skip":
        return None
    values: dict[Reference, str] = {}
    unresolved = failed = False
    for ref in dict.fromkeys(refs):  # each once, in order
        try:
            values[ref] = resolve(ref, c.environ, c.base_dir)
        except CredentialsUnavailable as e:
            if c.mode == "check":
                c.unresolved_credentials.add(ref.name)
                unresolved = True
            else:
                c.error(path, str(e))
                failed = True
        except SecretError as e:
            c.error(path, str(e))
            failed = True
    c.secret_values.update(values.values())
    if failed:
        raise Invalid
    return None if unresolved else values
