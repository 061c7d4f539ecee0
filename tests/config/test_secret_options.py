"""Secret references in config values: the modes, and that no value read ever shows
(uptimed.config.secret_options, uptimed.config.secrets)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.config.documents import (
    HTTP,
    SECRET,
    WEB,
    errors,
    http,
    load,
    secret_free,
)
from uptimed.config import load_config, loads_config, summarize
from uptimed.core.redact import SecretText, secrets_of
from uptimed.errors import ConfigError


def test_each_form_resolves_in_every_secret_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "web-token").write_text(f"{SECRET}-cred\n")
    (creds / "api-token").write_text(f"{SECRET}-api\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.setenv("WEB_USER", "alice")
    (tmp_path / "pw").write_text(f"{SECRET}-file\n\n")
    text = (
        '[daemon]\napi_token = "${credential:api-token}"\n'
        'connectivity_check = ["https://${env:WEB_USER}:${file:pw}@canary.example/"]\n'
        + http(
            url='"https://${env:WEB_USER}:${file:pw}@example.com/x"',
            headers='{ X-Api-Key = "${credential:web-token}", Accept = "text/plain" }',
        )
    )
    c = load(text)
    (m,) = c.monitors
    assert c.daemon.api_token == f"{SECRET}-api"
    assert m.spec.url == f"https://alice:{SECRET}-file@example.com/x"
    assert m.spec.headers == (("X-Api-Key", f"{SECRET}-cred"), ("Accept", "text/plain"))
    assert c.daemon.connectivity_check == (f"https://alice:{SECRET}-file@canary.example/",)
    assert m.target == "https://***:***@example.com/x"
    assert c.unresolved_credentials == ()
    for shown in (repr(c), repr(m), repr(m.spec), repr(c.daemon), summarize(c), m.target):
        secret_free(shown)
    assert repr(m.spec.headers[0][1]) == "'***'"  # a credential header, wholly masked
    # the runner scrubs these from probe errors
    assert {f"{SECRET}-file", f"{SECRET}-cred", "alice"} <= set(secrets_of(m.spec))


def test_a_relative_file_is_relative_to_the_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "etc" / "uptimed"
    conf.mkdir(parents=True)
    (conf / "secrets").mkdir()
    (conf / "secrets" / "token").write_text(SECRET + "\n")
    (conf / "c.toml").write_text('[daemon]\napi_token = "${file:secrets/token}"\n' + HTTP)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    (elsewhere / "secrets").mkdir()
    (elsewhere / "secrets" / "token").write_text("wrong\n")
    monkeypatch.chdir(elsewhere)
    assert load_config(conf / "c.toml").daemon.api_token == SECRET
    assert load_config("../etc/uptimed/c.toml").daemon.api_token == SECRET
    # text without a file name: relative to the working directory
    assert loads_config(
        '[daemon]\napi_token = "${file:secrets/token}"\n' + HTTP
    ).daemon.api_token == ("wrong")


@pytest.mark.parametrize(
    ("user", "password", "encoded"),
    [
        ("alice", "p@ss/w:rd", "alice:p%40ss%2Fw%3Ard"),
        ("bob", "100% sure?#", "bob:100%25%20sure%3F%23"),
        ("carol", "é", "carol:%C3%A9"),  # Latin-1, as UTF-8 percent-encoding (yarl decodes it)
        ("dave", "a+b=c&d", "dave:a%2Bb%3Dc%26d"),
    ],
)
def test_userinfo_values_are_percent_encoded(
    monkeypatch: pytest.MonkeyPatch, user: str, password: str, encoded: str
) -> None:
    monkeypatch.setenv("U", user)
    Path("pw").write_text(password + "\n")
    (m,) = load(http(url='"http://${env:U}:${file:pw}@h.example:8080/p?q=1"')).monitors
    assert m.spec.url == f"http://{encoded}@h.example:8080/p?q=1"
    assert isinstance(m.spec.url, SecretText) and password in m.spec.url.secrets
    assert m.target == "http://***:***@h.example:8080/p?q=1"
    if len(password) >= 4:  # shorter ones are not scrubbed (redact.MIN_SCRUB_CHARS)
        assert password in secrets_of(m.spec)


def test_references_mix_with_literal_text_and_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T", SECRET)
    (m,) = load(
        http(
            url='"https://svc-${env:T}@h/$${not-a-reference}"',
            headers='{ X-Sig = "v1 ${env:T} ${env:T}", X-Literal = "$${env:T}" }',
        )
    ).monitors
    assert m.spec.url == f"https://svc-{SECRET}@h/${{not-a-reference}}"
    assert m.spec.headers == (("X-Sig", f"v1 {SECRET} {SECRET}"), ("X-Literal", "${env:T}"))
    assert repr(m.spec.headers[0][1]) == "'v1 *** ***'"  # masked where the secret stands
    assert SECRET in secrets_of(m.spec)  # not a credential-looking name: declared by the reference
    secret_free(repr(m))


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            {"headers": '{ Authorization = "Bearer ${env:UNSET_TOKEN}" }'},
            ".headers.Authorization: ${env:UNSET_TOKEN}: the environment variable UNSET_TOKEN "
            "is not set",
        ),
        (
            {"headers": '{ Authorization = "${file:/nonexistent/uptimed/tok}" }'},
            ".headers.Authorization: ${file:/nonexistent/uptimed/tok}: cannot read: no such file",
        ),
        (
            {"url": '"https://u:${file:missing-pw}@h/"'},
            '.url: ${file:missing-pw}: cannot read "{cwd}/missing-pw": no such file',
        ),
        (
            {"headers": '{ X-Token = "${credential:../etc/shadow}" }'},
            ".headers.X-Token: ${credential:../etc/shadow}: a credential name is a plain file name "
            '(no "/", not "." or ".."), as in LoadCredential=NAME:PATH',
        ),
        (
            {"headers": '{ X-Token = "${secret:tok}" }'},
            ".headers.X-Token: ${secret:tok} is not a secret reference (use ${env:NAME}, "
            "${file:PATH} or ${credential:NAME}; write $${ for a literal ${)",
        ),
        (
            {"headers": '{ X-Token = "${credential:web-token}" }'},
            ".headers.X-Token: ${credential:web-token}: $CREDENTIALS_DIRECTORY is not set; systemd "
            "sets it for a unit with LoadCredential=web-token:PATH (outside systemd, use "
            "${file:PATH})",
        ),
        (
            {"url": '"https://h/${env:SECRET_VALUE}"'},
            ".url: ${env:SECRET_VALUE}: in a URL, a reference can only stand in the user name or "
            'password, as in "https://${env:WEB_USER}:${file:/etc/uptimed/web-password}@host/"',
        ),
        (
            {"url": '"https://h/?token=${env:SECRET_VALUE}"'},
            ".url: ${env:SECRET_VALUE}: in a URL, a reference can only stand in the user name or "
            'password, as in "https://${env:WEB_USER}:${file:/etc/uptimed/web-password}@host/"',
        ),
        (
            {"url": '"https://${env:SECRET_VALUE}.example/"'},
            ".url: ${env:SECRET_VALUE}: in a URL, a reference can only stand in the user name or "
            'password, as in "https://${env:WEB_USER}:${file:/etc/uptimed/web-password}@host/"',
        ),
        (
            {"headers": '{ X-Token = "${env:MULTILINE}" }'},
            ".headers.X-Token: ${env:MULTILINE}: the value it gives holds a line break or control "
            "character, which a header value cannot carry",
        ),
        (
            {"url": '"https://${env:SECRET_VALUE}:${env:SECRET_VALUE}@h/"', "body": '"x"'},
            "",  # resolves: no error (a control for the other cases' environment)
        ),
    ],
)
def test_reference_errors_name_the_reference_never_the_value(
    monkeypatch: pytest.MonkeyPatch, option: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("SECRET_VALUE", SECRET)
    monkeypatch.setenv("MULTILINE", f"{SECRET}\nX-Injected: 1")
    monkeypatch.delenv("UNSET_TOKEN", raising=False)
    text = http(**option)
    if not message:
        load(text)
        return
    (line,) = errors(text)
    assert line == WEB + message.replace("{cwd}", os.getcwd())
    secret_free(line)


def test_every_unresolvable_reference_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("A", raising=False)
    lines = errors(
        '[daemon]\napi_token = "${file:no-token}"\n'
        + http(url='"https://${env:A}:${file:no-pw}@h/"', headers='{ X = "${env:A}${env:A}" }')
    )
    cwd = os.getcwd()
    assert lines == [
        f'c.toml: daemon.api_token: ${{file:no-token}}: cannot read "{cwd}/no-token": no such file',
        f"{WEB}.url: ${{env:A}}: the environment variable A is not set",
        f'{WEB}.url: ${{file:no-pw}}: cannot read "{cwd}/no-pw": no such file',
        f"{WEB}.headers.X: ${{env:A}}: the environment variable A is not set",  # once per value
    ]


def test_modes_resolve_check_and_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("pw").write_text(SECRET)
    text = '[daemon]\napi_token = "${credential:api-token}"\n' + http(
        url='"https://web:${file:pw}@h/"',
        headers='{ Authorization2 = "${credential:web-token}", '
        'X-Also = "${credential:api-token}" }',
    )
    Path("c.toml").write_text(text)
    # resolve (the daemon): a credential without $CREDENTIALS_DIRECTORY is an error
    with pytest.raises(ConfigError) as e:
        load_config("c.toml")
    assert [line.split(": ")[1] for line in e.value.errors] == [
        "daemon.api_token",
        'monitor[0] (id "web").headers.Authorization2',
        'monitor[0] (id "web").headers.X-Also',
    ]
    # check (check-config): tolerated, left as written, and counted once per credential
    c = load_config("c.toml", secrets="check")
    (m,) = c.monitors
    assert c.unresolved_credentials == ("api-token", "web-token")
    assert c.daemon.api_token is None  # never the reference's text as a token
    assert m.spec.headers[0] == ("Authorization2", "${credential:web-token}")
    assert m.spec.url == f"https://web:{SECRET}@h/"  # files are read and checked all the same
    assert summarize(c).split("\n")[-1] == (
        "  secrets     2 secrets are read from systemd credentials when the daemon runs "
        "(api-token, web-token)"
    )
    Path("pw").unlink()
    with pytest.raises(ConfigError) as e:
        load_config("c.toml", secrets="check")
    assert e.value.errors == [
        f'c.toml: monitor[0] (id "web").url: ${{file:pw}}: cannot read "{os.getcwd()}/pw": '
        "no such file"
    ]
    # skip (status, report, maintenance): nothing is read, everything left as written
    c = load_config("c.toml", secrets="skip")
    (m,) = c.monitors
    assert m.spec.url == "https://web:${file:pw}@h/" and m.target == "https://***:***@h/"
    assert c.daemon.api_token is None and c.unresolved_credentials == ()
    assert "secrets" not in summarize(c)
    # ... but the syntax is still checked in every mode
    for mode in ("resolve", "check", "skip"):
        with pytest.raises(ConfigError) as e:
            loads_config(http(headers='{ X = "${nope}" }'), "c.toml", secrets=mode)  # type: ignore[arg-type]
        assert "${nope} is not a secret reference" in str(e.value)
    # with the credentials there, check resolves them like resolve does
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "api-token").write_text("t1")
    (creds / "web-token").write_text("t2")
    Path("pw").write_text(SECRET)
    environ = {"CREDENTIALS_DIRECTORY": str(creds)}
    checked = loads_config(text, "c.toml", secrets="check", environ=environ)
    assert checked == loads_config(text, "c.toml", environ=environ)
    assert checked.unresolved_credentials == () and checked.daemon.api_token == "t1"


def test_secrets_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="secrets must be one of resolve, check, skip"):
        loads_config(HTTP, secrets="lazy")  # type: ignore[arg-type]


def test_a_blank_resolved_token_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLANK", "  ")
    (line,) = errors('[daemon]\napi_token = "${env:BLANK}"\n' + HTTP)
    assert line == "c.toml: daemon.api_token: ${env:BLANK} gives a blank token"


def test_api_token_file_is_an_error_saying_what_to_write() -> None:
    (line,) = errors('[daemon]\napi_token_file = "/etc/uptimed/api-token"\n' + HTTP)
    assert line == (
        "c.toml: daemon.api_token_file: was removed: api_token holds the token now; to read it "
        'from the same file, write api_token = "${file:/etc/uptimed/api-token}" instead (or '
        '"${credential:NAME}" for a systemd credential)'
    )
    (line,) = errors("[daemon]\napi_token_file = 1\n" + HTTP)
    assert 'write api_token = "${file:PATH}" instead' in line
    # also next to a valid api_token, and in every mode
    with pytest.raises(ConfigError):
        loads_config('[daemon]\napi_token = "x"\napi_token_file = "t"\n' + HTTP, secrets="skip")


def test_a_changed_token_file_gives_a_new_token_on_the_next_load() -> None:
    """What a SIGHUP reload does: load_config again, and files are read again."""
    Path("c.toml").write_text('[daemon]\napi_token = "${file:token}"\n' + HTTP)
    Path("token").write_text("first\n")
    first = load_config("c.toml")
    Path("token").write_text("second\n")
    second = load_config("c.toml")
    assert (first.daemon.api_token, second.daemon.api_token) == ("first", "second")
    assert first.sha256 == second.sha256  # the config file itself did not change
    assert first != second  # so a reload sees the change


def test_literal_credentials_are_masked_too() -> None:
    (m,) = load(
        http(
            url=f'"https://bob:{SECRET}@h/"',
            headers=f'{{ X-Auth-Token = "{SECRET}", Cookie = "sid={SECRET}" }}',
        )
    ).monitors
    for shown in (repr(m), repr(m.spec)):
        secret_free(shown)
    # a control character in a credential header is reported without echoing the value
    (line,) = errors(http(headers=f'{{ Authorization = "Bearer {SECRET}\\r\\nX: 1" }}'))
    assert line == (
        f"{WEB}.headers.Authorization: the value (not shown: a credential): header values cannot "
        "hold line breaks or control characters"
    )
