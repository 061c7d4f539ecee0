"""uptimed.config.secrets: the reference grammar, resolving each form, and every error's wording
(which names the reference and never a value); plus redact.SecretText, which carries resolved
values."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.http import HttpSpec
from uptimed.config.secrets import (
    MAX_SECRET_BYTES,
    CredentialsUnavailable,
    Reference,
    SecretError,
    parse,
    references,
    render,
    resolve,
)
from uptimed.core.redact import SecretText, is_secret_header, secrets_of

NOT_ENV_NAME = (
    'is not an environment variable name (letters, digits and "_", not starting with a digit)'
)
PLAIN_NAME = (
    'a credential name is a plain file name (no "/", not "." or ".."), '
    "as in LoadCredential=NAME:PATH"
)
ALLOWED = "(use ${env:NAME}, ${file:PATH} or ${credential:NAME}; write $${ for a literal ${)"
SECRET = "hunter2-Secret"


def env(name: str) -> Reference:
    return Reference("env", name)


def file(name: str) -> Reference:
    return Reference("file", name)


def credential(name: str) -> Reference:
    return Reference("credential", name)


# grammar ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("", ()),
        ("plain", ("plain",)),
        ("${env:TOKEN}", (env("TOKEN"),)),
        ("Bearer ${file:/etc/uptimed/tok}", ("Bearer ", file("/etc/uptimed/tok"))),
        ("${credential:api-token}", (credential("api-token"),)),
        ("a${env:A}b${env:B}c", ("a", env("A"), "b", env("B"), "c")),
        ("${env:A}${env:A}", (env("A"), env("A"))),
        ("$${env:A}", ("${env:A}",)),  # the escape: literal text, not a reference
        ("x$${y$${", ("x${y${",)),
        # "$" then the escape "$${": a "$" right before a reference cannot be written
        ("$$${env:A}", ("$${env:A}",)),
        ("price: $5, $ {x}, $", ("price: $5, $ {x}, $",)),
        ("${file:rel/path with space}", (file("rel/path with space"),)),
        ("${file:C:x}", (file("C:x"),)),  # only the first ":" separates the form
        ("${credential:name.with-dots_1}", (credential("name.with-dots_1"),)),
    ],
)
def test_parse(text: str, pieces: tuple[object, ...]) -> None:
    assert parse(text) == pieces


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${env:A", f'a "${{" without a closing "}}" {ALLOWED}'),
        ("Bearer abc${", f'a "${{" without a closing "}}" {ALLOWED}'),
        ("${}", f"${{}} is not a secret reference {ALLOWED}"),
        ("${TOKEN}", f"${{TOKEN}} is not a secret reference {ALLOWED}"),
        ("${ENV:TOKEN}", f"${{ENV:TOKEN}} is not a secret reference {ALLOWED}"),  # lower case
        ("${vault:x}", f"${{vault:x}} is not a secret reference {ALLOWED}"),
        ("${ env:X}", f"${{ env:X}} is not a secret reference {ALLOWED}"),
        ("${env:}", "${env:}: give a name after the colon"),
        ("${file:}", "${file:}: give a file path after the colon"),
        ("${credential:}", "${credential:}: give a name after the colon"),
        (
            "${env:MY-VAR}",
            f'${{env:MY-VAR}}: "MY-VAR" {NOT_ENV_NAME}',
        ),
        (
            "${env:1X}",
            f'${{env:1X}}: "1X" {NOT_ENV_NAME}',
        ),
        (
            "${credential:a/b}",
            f"${{credential:a/b}}: {PLAIN_NAME}",
        ),
        (
            "${credential:..}",
            f"${{credential:..}}: {PLAIN_NAME}",
        ),
        (
            "${credential:.}",
            f"${{credential:.}}: {PLAIN_NAME}",
        ),
        ("${file:a\0b}", '"${file:a\\x00b}" contains a NUL character'),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SecretError) as e:
        parse(text)
    assert str(e.value) == message


def test_unterminated_reference_is_not_echoed() -> None:
    """The text after a stray "${" may be a literal secret: the message does not quote it."""
    with pytest.raises(SecretError) as e:
        parse(f"Bearer {SECRET}${{{SECRET}")
    assert SECRET not in str(e.value)


def test_reference_text_and_shown() -> None:
    assert str(file("/etc/x")) == "${file:/etc/x}" == file("/etc/x").shown
    assert file("a\nb").shown == '"${file:a\\nb}"'  # escaped, so a message stays on one line
    assert len(file("x" * 500).shown) < 210


def test_references_and_render() -> None:
    pieces = parse("a${env:A}b$${c}${env:A}")
    assert references(pieces) == (env("A"), env("A"))
    assert render(pieces, lambda ref: f"<{ref.name}>") == "a<A>b${c}<A>"
    assert render(parse("x$${y}"), str) == "x${y}"


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="ab$:{}/.\n", max_size=30))
def test_parse_never_raises_anything_else(text: str) -> None:
    try:
        pieces = parse(text)
    except SecretError as e:
        assert "\n" not in str(e)
        return
    # Without "${", text is taken literally.
    if "${" not in text:
        assert render(pieces, str) == text


# resolving ----------------------------------------------------------------------------------------


def test_env() -> None:
    assert resolve(env("TOKEN"), {"TOKEN": SECRET}, "/nowhere") == SECRET
    # taken exactly as set: no stripping (unlike a file, an environment variable has no newline
    # by accident)
    assert resolve(env("T"), {"T": " x "}, "/") == " x "


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "${env:TOKEN}: the environment variable TOKEN is not set"),
        ({"TOKEN": ""}, "${env:TOKEN}: the environment variable TOKEN is empty"),
        ({"TOKEN": "a\udcffb"}, "${env:TOKEN}: the environment variable TOKEN is not valid UTF-8"),
    ],
)
def test_env_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SecretError) as e:
        resolve(env("TOKEN"), environ, "/")
    assert str(e.value) == message


def test_file_absolute_and_relative(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text(f"  {SECRET}\n\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pw").write_bytes("pässword\n".encode())
    assert resolve(file(str(tmp_path / "tok")), {}, "/elsewhere") == SECRET
    assert resolve(file("tok"), {}, str(tmp_path)) == SECRET  # relative to base_dir
    assert resolve(file("sub/pw"), {}, str(tmp_path)) == "pässword"
    assert resolve(file("./sub/../tok"), {}, str(tmp_path)) == SECRET


def test_file_errors(tmp_path: Path) -> None:
    def message(ref: Reference) -> str:
        with pytest.raises(SecretError) as e:
            resolve(ref, {}, str(tmp_path))
        assert SECRET not in str(e.value)
        return str(e.value)

    missing = tmp_path / "missing"
    assert message(file(str(missing))) == f"${{file:{missing}}}: cannot read: no such file"
    # a relative path: the message says where it looked
    assert message(file("missing")) == f'${{file:missing}}: cannot read "{missing}": no such file'
    assert message(file(str(tmp_path))) == f"${{file:{tmp_path}}}: cannot read: is a directory"
    (tmp_path / "empty").write_text(" \n\t\n")
    assert message(file("empty")) == f'${{file:empty}}: the file "{tmp_path / "empty"}" is empty'
    (tmp_path / "latin1").write_bytes(b"caf\xe9 " + SECRET.encode())
    assert message(file("latin1")).endswith("is not UTF-8 text")
    (tmp_path / "big").write_bytes(b"x" * (MAX_SECRET_BYTES + 1))
    assert message(file("big")).endswith("is larger than 64 KiB; is it a secret?")
    (tmp_path / "just-fits").write_bytes(b"y" * MAX_SECRET_BYTES)
    assert resolve(file("just-fits"), {}, str(tmp_path)) == "y" * MAX_SECRET_BYTES
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked"
        locked.write_text(SECRET)
        locked.chmod(0)
        assert message(file("locked")) == (
            f'${{file:locked}}: cannot read "{locked}": permission denied'
        )


def test_credential(tmp_path: Path) -> None:
    (tmp_path / "api-token").write_text(SECRET + "\n")
    environ = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    assert resolve(credential("api-token"), environ, "/unrelated") == SECRET
    with pytest.raises(SecretError) as e:
        resolve(credential("other"), environ, "/")
    assert str(e.value) == (
        f'${{credential:other}}: cannot read "{tmp_path / "other"}": no such file '
        "(does the unit have LoadCredential=other:PATH?)"
    )
    assert not isinstance(e.value, CredentialsUnavailable)


@pytest.mark.parametrize("environ", [{}, {"CREDENTIALS_DIRECTORY": ""}])
def test_credential_without_credentials_directory(environ: dict[str, str]) -> None:
    with pytest.raises(CredentialsUnavailable) as e:
        resolve(credential("api-token"), environ, "/")
    assert str(e.value) == (
        "${credential:api-token}: $CREDENTIALS_DIRECTORY is not set; systemd sets it for a unit "
        "with LoadCredential=api-token:PATH (outside systemd, use ${file:PATH})"
    )
    assert isinstance(e.value, SecretError)


# SecretText and secrets_of ------------------------------------------------------------------------


def test_secret_text_is_the_text_but_its_repr_is_masked() -> None:
    text = SecretText(f"Bearer {SECRET}", [SECRET], "Bearer ***")
    assert text == f"Bearer {SECRET}" and str(text) == f"Bearer {SECRET}"
    assert f"{text}" == f"Bearer {SECRET}" and hash(text) == hash(f"Bearer {SECRET}")
    assert repr(text) == "'Bearer ***'" and SECRET not in repr((text, [text], {"k": text}))
    assert text.secrets == (SECRET,)
    assert type(text + "x") is str  # derived text is plain again (see the class docstring)
    copy = pickle.loads(pickle.dumps(text))
    assert isinstance(copy, SecretText) and copy == text and copy.secrets == (SECRET,)
    assert repr(SecretText("x")) == "'***'"


def test_secrets_of_names_declared_secrets_whatever_the_header() -> None:
    spec = HttpSpec(
        url=SecretText("https://u:p%40ss@h/", ["p@ss"], "https://***:***@h/"),
        timeout=1.0,
        headers=(("X-Tenant", SecretText("id=tenant-42", ["tenant-42"], "id=***")),),
    )
    found = set(secrets_of(spec))
    assert {"tenant-42", "p@ss", "p%40ss"} <= found
    assert "tenant-42" not in repr(spec) and "p@ss" not in repr(spec)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("proxy-authorization", True),
        ("Cookie", True),
        ("X-Api-Key", True),
        ("X-Auth-Token", True),
        ("Accept", False),
        ("Content-Type", False),
    ],
)
def test_is_secret_header(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret
