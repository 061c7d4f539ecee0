"""[[customer]], [[agreement]], [portal], and public / public_name on monitors and services
(uptimed.config.customers)."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.config.documents import (
    EXAMPLE,
    HTTP,
    SERVICE,
    SLO_TABLE,
    SVC,
    TCP,
    TWO,
    WEB,
    edit,
    error,
    errors,
    load,
    slo,
)
from uptimed.config import load_config, loads_config, summarize
from uptimed.config.customers import MAKE_TOKEN
from uptimed.errors import ConfigError
from uptimed.model.config import Agreement, Customer, Portal
from uptimed.model.pages import slug

TOKEN = "0123456789abcdef" * 4  # 64 hex digits: 256 bits
URLSAFE = "Zm9vYmFyYmF6cXV4cXV1eA"  # 22 URL-safe base64 characters: 132 bits

ACME = '[[customer]]\nid = "acme"\ntoken_file = "acme.tokens"\n'
CU = 'c.toml: customer[0] (id "acme")'
AGREEMENT = (
    '[[agreement]]\nid = "acme-hosting"\ncustomer = "acme"\nslos = ["avail"]\n'
    "effective_from = 2026-01-01T00:00:00Z\n"
)
AG = 'c.toml: agreement[0] (id "acme-hosting")'


@pytest.fixture(autouse=True)
def _acme_tokens(tmp_path: Path) -> None:
    """acme.tokens, holding TOKEN, beside c.toml (the test's working directory)."""
    (tmp_path / "acme.tokens").write_text(TOKEN + "\n")


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def customer(**options: str | None) -> str:
    """The tcp monitor "db" and the customer "acme", with ``options``."""
    return TCP + edit(ACME, options)


def tokens_error(*lines: str) -> str:
    """The one error acme.tokens holding ``lines`` gives."""
    Path("acme.tokens").write_text("".join(line + "\n" for line in lines))
    return error(customer())


def where(line: int) -> str:
    return f'{CU}.token_file: "{Path.cwd() / "acme.tokens"}", line {line}'


def agreement(**options: str | None) -> str:
    """Monitors "web" and "db", service "stack", SLO "avail" on "web", customer "acme" and the
    agreement "acme-hosting" of "avail", with ``options``."""
    return named(slo()) + ACME + edit(AGREEMENT, options)


def named(document: str) -> str:
    """``document`` with public names (kept off the status page) for "web" and "stack": an
    agreement's targets need one."""
    document = document.replace(
        'id = "web"\n', 'id = "web"\npublic_name = "Web"\npublic = false\n', 1
    )
    return document.replace('id = "stack"\n', 'id = "stack"\npublic_name = "Stack"\n', 1)


# [[customer]] ----------------------------------------------------------------------------------


def test_a_customer_keeps_only_the_digests_of_its_tokens() -> None:
    (c_,) = load(customer()).customers
    assert c_ == Customer(
        id="acme",
        name="acme",
        contacts=(),
        token_file="acme.tokens",
        token_digests=(digest(TOKEN),),
    )
    assert c_.token_digests == (hashlib.sha256(TOKEN.encode()).digest(),)
    assert TOKEN not in repr(c_) and TOKEN not in repr(load(customer()))


def test_customer_options() -> None:
    c_ = load(
        customer(name='"ACME Corp"', contacts='["ops@acme.example", "Jane <j@acme.example>"]')
    )
    assert (c_.customers[0].name, c_.customers[0].contacts) == (
        "ACME Corp",
        ("ops@acme.example", "Jane <j@acme.example>"),
    )


def test_a_token_file_holds_tokens_one_a_line_comments_and_blanks_ignored() -> None:
    other = secrets.token_urlsafe(32)
    Path("acme.tokens").write_bytes(
        (
            f"\ufeff# ACME's tokens, one a line\n\n   {TOKEN}  \r\n#{URLSAFE}\n"
            f"  # rotated on 2026-11-01:\n{other}\n{URLSAFE}==\n\t\n"
        ).encode()
    )
    (c_,) = load(customer()).customers
    assert c_.token_digests == (digest(TOKEN), digest(other), digest(URLSAFE + "=="))


@pytest.mark.parametrize(
    "token",
    [
        "ABCDEF0123456789" * 2,
        URLSAFE,
        URLSAFE + "=",
        "-_abcdef" * 3,
        secrets.token_hex(16),
        secrets.token_hex(32),
        secrets.token_urlsafe(16),
        secrets.token_urlsafe(32),
    ],
)
def test_tokens_of_128_bits_or_more(token: str) -> None:
    Path("acme.tokens").write_text(token)
    assert load(customer()).customers[0].token_digests == (digest(token),)


def test_a_short_token_is_refused_by_its_line_number_only() -> None:
    short_hex, short_b64 = "ab" * 15 + "c", URLSAFE[:21]
    assert tokens_error("# hex", short_hex) == (
        f"{where(2)}: too short: a token of hex digits needs at least 32 of them (128 bits), "
        f"this one has 31 ({MAKE_TOKEN})"
    )
    assert tokens_error(short_b64 + "==") == (
        f"{where(1)}: too short: a URL-safe base64 token needs at least 22 characters "
        f"(128 bits), this one has 21 ({MAKE_TOKEN})"
    )
    assert MAKE_TOKEN == (
        'make one with "openssl rand -hex 32" or '
        "\"python3 -c 'import secrets; print(secrets.token_urlsafe(32))'\""
    )


@pytest.mark.parametrize(
    "token",
    [
        TOKEN[:20] + " " + TOKEN[20:],  # two tokens on a line, or a space in one
        TOKEN + "+/",  # standard base64
        TOKEN + "===",
        "=" + URLSAFE,
        URLSAFE + "=" + URLSAFE,
        TOKEN + "é",
        TOKEN + "\x00",
        'token = "' + TOKEN + '"',
    ],
)
def test_a_token_with_another_character_is_refused_without_showing_it(token: str) -> None:
    message = tokens_error(TOKEN[::-1], token)
    assert message == (
        f'{where(2)}: not a token: a token is hex digits or URL-safe base64 (A-Z, a-z, 0-9, "-" '
        f'and "_", up to two "=" at the end), or sha256: and its SHA-256 in hex, one a line'
        f" ({MAKE_TOKEN})"
    )
    assert TOKEN[10:30] not in message and URLSAFE not in message


def test_tokens_never_appear_in_any_error(tmp_path: Path) -> None:
    """A file with every kind of mistake, and a token shared with another customer: every line
    is reported, by number, and no token (good or bad) is in the output."""
    good, shared = secrets.token_hex(32), secrets.token_urlsafe(32)
    planted = [
        secrets.token_hex(15),  # too short
        secrets.token_urlsafe(12),  # too short
        secrets.token_urlsafe(32) + "!",
        secrets.token_hex(20) + " " + secrets.token_hex(20),
    ]
    (tmp_path / "acme.tokens").write_text("\n".join([good, *planted, good, shared]) + "\n")
    (tmp_path / "globex.tokens").write_text(f"{shared}\n")
    text = customer() + '[[customer]]\nid = "globex"\ntoken_file = "globex.tokens"\n'
    found = errors(text)
    with pytest.raises(ConfigError) as e:
        load_config("c.toml")
    output = "\n".join(found) + str(e.value) + repr(e.value)
    for token in [good, shared, *planted, *(t for p in planted for t in p.split())]:
        assert token not in output
        assert token[4:-4] not in output
    assert [re.findall(r"line (\d+): ([a-z ]+)", m)[0] for m in found] == [
        ("2", "too short"),
        ("3", "too short"),
        ("4", "not a token"),
        ("5", "not a token"),
        ("6", "the same token as line "),
        ("1", "the same token as line "),  # globex's: acme's line 7, taken though acme is wrong
    ]
    assert found[-1].startswith('c.toml: customer[1] (id "globex").token_file: ')


def test_a_token_of_two_customers_is_refused() -> None:
    Path("globex.tokens").write_text(f"# globex\n{URLSAFE}\n{TOKEN}\n")
    text = customer() + '[[customer]]\nid = "globex"\ntoken_file = "globex.tokens"\n'
    assert error(text) == (
        f'c.toml: customer[1] (id "globex").token_file: "{Path.cwd() / "globex.tokens"}", '
        f'line 3: the same token as line 1 of the token file of customer[0] (id "acme"): each '
        "customer needs their own tokens"
    )


def test_two_customers_cannot_share_a_token_file(tmp_path: Path) -> None:
    text = customer() + f'[[customer]]\nid = "globex"\ntoken_file = "{tmp_path}/./acme.tokens"\n'
    assert error(text) == (
        f'c.toml: customer[1] (id "globex").token_file: "{tmp_path}/./acme.tokens" is the token '
        'file of customer[0] (id "acme") too: each customer needs their own tokens, in their '
        "own file"
    )


def test_a_token_twice_in_one_file() -> None:
    assert tokens_error(TOKEN, URLSAFE, TOKEN) == f"{where(3)}: the same token as line 1"


@pytest.mark.parametrize("content", ["", "\n\n", "# no token yet\n  # another comment\n", " \t\n"])
def test_a_token_file_without_a_token_lets_no_one_in(content: str) -> None:
    """Emptying the file is how access is taken away: a reload must not fail for it (the old
    tokens would stay in force)."""
    Path("acme.tokens").write_text(content)
    assert load(customer()).customers[0].token_digests == ()


def test_a_line_may_hold_a_tokens_digest_instead() -> None:
    hexdigest = hashlib.sha256(URLSAFE.encode()).hexdigest()
    Path("acme.tokens").write_text(f"sha256:{hexdigest}\n{TOKEN}\n")
    assert load(customer()).customers[0].token_digests == (digest(URLSAFE), digest(TOKEN))
    assert tokens_error(f"sha256:{hexdigest[:-1]}") == (
        f"{where(1)}: a sha256: line needs the 64 hex digits of the token's SHA-256"
    )


@pytest.mark.parametrize("token", ["a" * 32, "-_" * 11, "0123456" * 5])
def test_a_long_token_of_few_characters_is_refused(token: str) -> None:
    assert tokens_error(token) == (
        f"{where(1)}: not random: fewer than 8 different characters ({MAKE_TOKEN})"
    )


def test_a_token_file_that_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.tokens"
    assert error(customer(token_file='"nope.tokens"')) == (
        f'{CU}.token_file: cannot read "{missing}": no such file (one token a line; {MAKE_TOKEN})'
    )
    (tmp_path / "dir").mkdir()
    assert error(customer(token_file='"dir"')) == (
        f'{CU}.token_file: cannot read "{tmp_path / "dir"}": is a directory, not a file'
    )
    (tmp_path / "acme.tokens").write_bytes(b"\xff" + TOKEN.encode())
    assert error(customer()) == f'{CU}.token_file: "{tmp_path / "acme.tokens"}" is not UTF-8 text'
    (tmp_path / "acme.tokens").write_text((TOKEN + "\n") * 1100)
    assert error(customer()) == (
        f'{CU}.token_file: "{tmp_path / "acme.tokens"}" is larger than 64 KiB; is it a token file?'
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_token_file(tmp_path: Path) -> None:
    (tmp_path / "acme.tokens").chmod(0)
    assert error(customer()) == (
        f'{CU}.token_file: cannot read "{tmp_path / "acme.tokens"}": permission denied'
    )


def test_a_relative_token_file_is_relative_to_the_config_files_directory(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "uptimed"
    (etc / "tokens").mkdir(parents=True)
    (etc / "tokens" / "acme").write_text(URLSAFE + "\n")
    (etc / "config.toml").write_text(customer(token_file='"tokens/acme"'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    (c_,) = load_config(etc / "config.toml").customers
    assert (c_.token_file, c_.token_digests) == ("tokens/acme", (digest(URLSAFE),))
    # an absolute path is taken as it is
    (etc / "config.toml").write_text(customer(token_file=f'"{tmp_path / "acme.tokens"}"'))
    assert load_config(etc / "config.toml").customers[0].token_digests == (digest(TOKEN),)
    # the same config as text: relative to the working directory
    (elsewhere / "tokens").mkdir()
    (elsewhere / "tokens" / "acme").write_text(TOKEN + "\n")
    text = customer(token_file='"tokens/acme"')
    assert loads_config(text).customers[0].token_digests == (digest(TOKEN),)


def test_a_reload_reads_the_token_file_again(tmp_path: Path) -> None:
    """SIGHUP reloads the config: a new token is in force, a removed one no longer is."""
    first = load(customer()).customers[0].token_digests
    new = secrets.token_urlsafe(32)
    (tmp_path / "acme.tokens").write_text(f"{TOKEN}\n{new}\n")
    assert load_config("c.toml").customers[0].token_digests == (digest(TOKEN), digest(new))
    (tmp_path / "acme.tokens").write_text(f"# rotated\n{new}\n")
    again = load_config("c.toml").customers[0].token_digests
    assert first == (digest(TOKEN),) and again == (digest(new),)


def test_commands_without_secrets_do_not_read_token_files(tmp_path: Path) -> None:
    (tmp_path / "acme.tokens").unlink()
    text = customer()
    assert loads_config(text, "c.toml", secrets="skip").customers[0].token_digests == ()
    with pytest.raises(ConfigError, match="no such file"):
        loads_config(text, "c.toml", secrets="check")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"token_file": None},
            f'{CU}: missing required key "token_file" (a file of the customer\'s access tokens, '
            f"one a line; {MAKE_TOKEN})",
        ),
        (
            {"token_file": '""'},
            f"{CU}.token_file: is empty: give the path of the customer's token file "
            f"({MAKE_TOKEN})",
        ),
        ({"token_file": "1"}, f"{CU}.token_file: expected a string, found integer 1"),
        ({"tokens": '"x"'}, f'{CU}: unknown key "tokens" (did you mean "token_file"?)'),
        ({"name": '""'}, f"{CU}.name: is empty (leave it out to use the id)"),
        (
            {"contacts": '"ops@acme.example"'},
            f'{CU}.contacts: expected an array of strings such as ["ops@acme.example"], found '
            'string "ops@acme.example" (write ["ops@acme.example"])',
        ),
        ({"contacts": '["a", 1]'}, f"{CU}.contacts[1]: expected a string, found integer 1"),
        ({"contacts": '["a\\nb"]'}, f'{CU}.contacts[0]: "a\\nb" contains a control character'),
        ({"id": '"ac me"'}, 'c.toml: customer[0].id: "ac me" is not a valid id: use letters, '
         'digits, "_", "." and "-"'),
    ],
)  # fmt: skip
def test_bad_customers(options: dict[str, str | None], message: str) -> None:
    assert error(customer(**options)) == message


def test_customer_ids_are_unique_and_the_section_is_an_array() -> None:
    Path("other.tokens").write_text(URLSAFE)
    text = customer() + '[[customer]]\nid = "acme"\ntoken_file = "other.tokens"\n'
    assert error(text) == 'c.toml: customer[1].id: "acme" is used twice (first at customer[0])'
    assert error(TCP + '[customer]\nid = "acme"\n') == (
        "c.toml: customer: expected an array of tables, found table (write [[customer]], not "
        "[customer])"
    )


# [[agreement]] ---------------------------------------------------------------------------------


def test_an_agreement_with_its_defaults() -> None:
    c = load(agreement())
    assert c.agreements == (
        Agreement(
            id="acme-hosting",
            customer="acme",
            name="acme-hosting",
            slos=("avail",),
            effective_from=datetime(2026, 1, 1, tzinfo=UTC),
            effective_until=None,
            renewal=None,
            termination_notice=None,
            provider_obligations="",
            customer_obligations="",
            reporting="month",
            timezone="UTC",
            credit_cap=None,
        ),
    )


def test_an_agreement_with_every_option() -> None:
    text = (
        agreement(
            name='"ACME hosting"',
            slos='["avail", "stack-avail"]',
            effective_from='"2026-01-01T00:00:00+01:00"',
            effective_until="2027-01-01T00:00:00+01:00",
            renewal='"Year"',
            termination_notice='"30d"',
            reporting='"quarter"',
            timezone='"Europe/Berlin"',
            credit_cap="12.5",
        )
        + "[agreement.obligations]\n"
        + 'provider = """\nRuns the service 24/7.\n\tRestores it within 4h."""\n'
        + 'customer = "Reports incidents."\n'
        + edit(SLO_TABLE, {"id": '"stack-avail"', "target": '"stack"'})
    )
    (a,) = load(text).agreements
    assert a == Agreement(
        id="acme-hosting",
        customer="acme",
        name="ACME hosting",
        slos=("avail", "stack-avail"),
        effective_from=datetime(2025, 12, 31, 23, tzinfo=UTC),
        effective_until=datetime(2026, 12, 31, 23, tzinfo=UTC),
        renewal="year",
        termination_notice=30 * 86400.0,
        provider_obligations="Runs the service 24/7.\n\tRestores it within 4h.",
        customer_obligations="Reports incidents.",
        reporting="quarter",
        timezone="Europe/Berlin",
        credit_cap=Decimal("12.5"),
    )
    assert load(agreement(credit_cap="100")).agreements[0].credit_cap == Decimal(100)
    only = load(agreement(obligations='{ customer = "Pays on time." }')).agreements[0]
    assert (only.provider_obligations, only.customer_obligations) == ("", "Pays on time.")


def test_an_slo_in_several_agreements_keeps_its_own_terms() -> None:
    text = (
        named(slo(customer='"ACME Corp"', effective_from="2026-02-01T00:00:00Z"))
        + ACME
        + AGREEMENT
        + edit(AGREEMENT, {"id": '"acme-extra"', "effective_from": "2026-06-01T00:00:00Z"})
    )
    c = load(text)
    assert [(a.id, a.slos) for a in c.agreements] == [
        ("acme-hosting", ("avail",)),
        ("acme-extra", ("avail",)),
    ]
    (s,) = c.slos
    assert (s.customer, s.effective_from) == ("ACME Corp", datetime(2026, 2, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"customer": None}, f'{AG}: missing required key "customer" (the id of a [[customer]])'),
        (
            {"customer": '"acm"'},
            f'{AG}.customer: "acm" is not a customer id (did you mean "acme"?)',
        ),
        ({"customer": "1"}, f"{AG}.customer: expected a string (a customer id), found integer 1"),
        (
            {"slos": None},
            f'{AG}: missing required key "slos" (the ids of the [[slo]] tables it promises)',
        ),
        ({"slos": "[]"}, f"{AG}.slos: is empty: list at least one SLO id"),
        (
            {"slos": '"avail"'},
            f'{AG}.slos: expected an array of SLO ids such as ["web-availability"], found '
            'string "avail" (write ["avail"])',
        ),
        ({"slos": '["avail", "avail"]'}, f'{AG}.slos[1]: "avail" is listed twice (first at [0])'),
        ({"slos": '["Avail"]'}, f'{AG}.slos[0]: "Avail" is not an SLO id (did you mean "avail"?)'),
        ({"slos": "[1]"}, f"{AG}.slos[0]: expected a string (an SLO id), found integer 1"),
        (
            {"slos": '["web"]'},
            f'{AG}.slos[0]: "web" is not an SLO id (it is a monitor: list its SLOs instead: '
            '"avail")',
        ),
        (
            {"slos": '["stack"]'},
            f'{AG}.slos[0]: "stack" is not an SLO id (it is a service, and no SLO targets it: '
            'add an [[slo]] with target = "stack", then list the SLO\'s id here)',
        ),
        ({"slos": '["xyz"]'}, f'{AG}.slos[0]: "xyz" is not an SLO id (the SLO ids are "avail")'),
        (
            {"effective_from": None},
            f'{AG}: missing required key "effective_from" (when the agreement begins, e.g. '
            "2026-01-01T00:00:00Z)",
        ),
        (
            {"effective_from": "2026-01-01T00:00:00"},
            f'{AG}.effective_from: 2026-01-01T00:00:00 has no UTC offset: add "Z" for UTC or an '
            'offset such as "+02:00" (e.g. 2026-01-01T00:00:00Z)',
        ),
        (
            {"effective_until": '"2026-01-01T01:00:00+01:00"'},
            f'{AG}.effective_until: "2026-01-01T01:00:00+01:00" is not after effective_from '
            "(2026-01-01T00:00:00+00:00)",
        ),
        (
            {"renewal": '"week"'},
            f'{AG}.renewal: "week" is not a renewal period (allowed: month, quarter, year)',
        ),
        (
            {"reporting": '"monthly"'},
            f'{AG}.reporting: "monthly" is not a reporting period (allowed: month, quarter, '
            'year; did you mean "month"?)',
        ),
        (
            {"timezone": '"Berlin"'},
            f'{AG}.timezone: "Berlin" is not an IANA time zone (did you mean "Europe/Berlin"?)',
        ),
        (
            {"termination_notice": "30"},
            f'{AG}.termination_notice: expected a duration string such as "30s", found integer '
            '30 (durations are strings with a unit: "30s")',
        ),
        (
            {"termination_notice": '"0s"'},
            f'{AG}.termination_notice: "0s": the termination notice must be greater than 0',
        ),
        (
            {"credit_cap": "0"},
            f"{AG}.credit_cap: 0 is out of range (allowed: more than 0, at most 100, in percent "
            "of the charge)",
        ),
        (
            {"credit_cap": "100.5"},
            f"{AG}.credit_cap: 100.5 is out of range (allowed: more than 0, at most 100, in "
            "percent of the charge)",
        ),
        (
            {"credit_cap": '"50%"'},
            f'{AG}.credit_cap: expected a number in percent such as 50, found string "50%" '
            "(write 50 without quotes or %)",
        ),
        (
            {"obligations": '"none"'},
            f'{AG}.obligations: expected a table such as {{ provider = "...", customer = "..." '
            '}, found string "none"',
        ),
        (
            {"obligations": '{ supplier = "x" }'},
            f'{AG}.obligations: unknown key "supplier" (allowed: provider, customer)',
        ),
        (
            {"obligations": "{ provider = 1 }"},
            f"{AG}.obligations.provider: expected a string, found integer 1",
        ),
        (
            {"obligations": '{ provider = "a\\u0007b" }'},
            f'{AG}.obligations.provider: contains a control character ("\\x07" at character 2; '
            "line breaks and tabs are allowed)",
        ),
        (
            {"obligations": '{ customer = "' + "x" * 4001 + '" }'},
            f"{AG}.obligations.customer: is longer than 4000 characters",
        ),
        ({"reportng": '"month"'}, f'{AG}: unknown key "reportng" (did you mean "reporting"?)'),
    ],
)
def test_bad_agreements(options: dict[str, str | None], message: str) -> None:
    assert error(agreement(**options)) == message


def test_agreement_ids_and_what_they_name() -> None:
    text = agreement() + AGREEMENT
    assert error(text) == (
        'c.toml: agreement[1].id: "acme-hosting" is used twice (first at agreement[0])'
    )
    none = TWO + ACME + AGREEMENT
    assert error(none) == (
        f'{AG}.slos[0]: "avail" is not an SLO id (there are no [[slo]] tables: define the SLO, '
        "then list its id here)"
    )
    assert error(slo() + AGREEMENT) == (
        f'{AG}.customer: "acme" is not a customer id (there are no customers)'
    )
    many = "".join(edit(SLO_TABLE, {"id": f'"slo-{i:02}"'}) for i in range(12))
    assert error(TWO + SERVICE + many + ACME + edit(AGREEMENT, {"slos": '["xyz"]'})) == (
        f'{AG}.slos[0]: "xyz" is not an SLO id (the SLO ids are "slo-00", "slo-01", "slo-02", '
        '"slo-03", "slo-04", "slo-05", "slo-06", "slo-07", "slo-08", "slo-09", ... 2 more)'
    )


def test_what_an_agreement_names_still_counts_when_it_is_wrong() -> None:
    """A customer or an SLO with a mistake of its own is no second error in the agreement."""
    (msg,) = errors(agreement().replace("objective = 99.9\n", "objective = 0.999\n"))
    assert msg.startswith('c.toml: slo[0] (id "avail").objective: ')
    (msg,) = errors(agreement().replace('token_file = "acme.tokens"\n', ""))
    assert msg.startswith(f'{CU}: missing required key "token_file"')
    (msg,) = errors("customer = 1\n" + named(slo()) + AGREEMENT)
    assert msg == "c.toml: customer: expected an array of tables ([[customer]]), found integer 1"
    (msg,) = errors("slo = 1\n" + TWO + ACME + AGREEMENT)
    assert msg == "c.toml: slo: expected an array of tables ([[slo]]), found integer 1"


def test_an_agreements_targets_need_a_public_name() -> None:
    (msg,) = errors(slo() + ACME + AGREEMENT)
    assert msg == (
        f'{AG}.slos[0]: SLO "avail" is on "web", which has no public_name: the portal shows an'
        " agreement's targets by their public names (set one; with public = false it stays off"
        " the status page)"
    )
    (c,) = load(named(slo()) + ACME + AGREEMENT).monitors[:1]
    assert (c.public, c.public_name) == (False, "Web")


def test_every_mistake_of_an_agreement_is_reported_at_once() -> None:
    found = errors(agreement(customer='"acm"', slos='["nope"]', reporting='"week"', credit_cap="0"))
    assert [line.split(": ")[1] for line in found] == [
        f"{AG[8:]}.customer",
        f"{AG[8:]}.slos[0]",
        f"{AG[8:]}.reporting",
        f"{AG[8:]}.credit_cap",
    ]


# [portal] --------------------------------------------------------------------------------------


def test_portal_defaults() -> None:
    assert load(TCP).portal == Portal()
    assert load(TCP + "[portal]\n").portal == Portal(
        title="Service status", frame_ancestors=(), session_ttl=8 * 3600.0, secure_cookie=None
    )


def test_portal_options() -> None:
    text = TCP + (
        '[portal]\ntitle = "ACME status"\nsession_ttl = "1m"\nsecure_cookie = false\n'
        'frame_ancestors = ["\'self\'", "https://intranet.example.com", '
        '"HTTP://Example.ORG:8080", "https://[::1]:8443", "https://bücher.example", '
        "\"'SELF' \"]\n"
    )
    with pytest.raises(ConfigError) as e:
        load(text)
    assert e.value.errors == [
        "c.toml: portal.frame_ancestors[5]: \"'self'\" is listed twice (first at [0])"
    ]
    p = load(text.replace(", \"'SELF' \"]", "]")).portal
    assert p == Portal(
        title="ACME status",
        frame_ancestors=(
            "'self'",
            "https://intranet.example.com",
            "http://example.org:8080",
            "https://[::1]:8443",
            "https://xn--bcher-kva.example",
        ),
        session_ttl=60.0,
        secure_cookie=False,
    )


EXAMPLES = '(examples: "https://intranet.example.com", "http://127.0.0.1:8080", "\'self\'")'


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ('title = ""', 'portal.title: is empty (leave the key out instead)'),
        ('title = "a\\nb"', 'portal.title: "a\\nb" contains a control character'),
        ('session_ttl = "30s"', 'portal.session_ttl: "30s" is below the minimum session lifetime '
         "of 1m"),
        ("session_ttl = 3600", 'portal.session_ttl: expected a duration string such as "30s", '
         'found integer 3600 (durations are strings with a unit: "3600s")'),
        ('secure_cookie = "true"', "portal.secure_cookie: expected a boolean (true or false), "
         'found string "true" (write true without quotes)'),
        ('sesion_ttl = "1h"', 'portal: unknown key "sesion_ttl" (did you mean "session_ttl"?)'),
        ('frame_ancestors = "\'self\'"', "portal.frame_ancestors: expected an array of origins "
         "such as [\"https://intranet.example.com\", \"'self'\"], found string \"'self'\" "
         "(write [\"'self'\"])"),
        ('frame_ancestors = ["https://example.com/"]', 'portal.frame_ancestors[0]: '
         '"https://example.com/" has a path: an origin is scheme://host[:port] (write '
         '"https://example.com")'),
        ('frame_ancestors = ["https://example.com/embed?x=1"]', "portal.frame_ancestors[0]: "
         '"https://example.com/embed?x=1" has a path: an origin is scheme://host[:port] (write '
         '"https://example.com")'),
        ('frame_ancestors = ["https://example.com#top"]', "portal.frame_ancestors[0]: "
         '"https://example.com#top" has a path: an origin is scheme://host[:port] (write '
         '"https://example.com")'),
        ('frame_ancestors = ["self"]', 'portal.frame_ancestors[0]: "self": write "\'self\'", '
         "with the single quotes"),
        ("frame_ancestors = [\"'none'\"]", "portal.frame_ancestors[0]: \"'none'\": leave "
         "frame_ancestors out (or []) to let no one frame them"),
        ('frame_ancestors = ["https://*.example.com"]', "portal.frame_ancestors[0]: "
         '"https://*.example.com": wildcards are not allowed: list each origin'),
        ('frame_ancestors = ["example.com"]', 'portal.frame_ancestors[0]: "example.com" is not '
         f"an http:// or https:// origin {EXAMPLES}"),
        ('frame_ancestors = ["ftp://example.com"]', 'portal.frame_ancestors[0]: '
         f'"ftp://example.com" is not an http:// or https:// origin {EXAMPLES}'),
        ('frame_ancestors = ["https://u:p@example.com"]', "portal.frame_ancestors[0]: "
         '"https://u:p@example.com": an origin has no user name or password'),
        ('frame_ancestors = ["https://exa mple.com"]', "portal.frame_ancestors[0]: "
         '"https://exa mple.com" contains a space or a control character'),
        ('frame_ancestors = ["https://example.com\\n"]', "portal.frame_ancestors[0]: "
         '"https://example.com\\n" contains a space or a control character'),
        ('frame_ancestors = ["https://example.com:99999"]', "portal.frame_ancestors[0]: "
         f'"https://example.com:99999" is not a valid origin {EXAMPLES}'),
        ('frame_ancestors = ["https://"]', 'portal.frame_ancestors[0]: "https://": the host is '
         "empty"),
        ('frame_ancestors = ["https://ex_ample..com"]', "portal.frame_ancestors[0]: "
         '"https://ex_ample..com": the host is not a valid host name or IP address'),
        ("frame_ancestors = [1]", "portal.frame_ancestors[0]: expected a string "
         f"{EXAMPLES}, found integer 1"),
    ],
)  # fmt: skip
def test_bad_portal(options: str, message: str) -> None:
    assert error(TCP + f"[portal]\n{options}\n") == f"c.toml: {message}"


def test_portal_is_a_table() -> None:
    assert error(TCP + "[[portal]]\n") == (
        "c.toml: portal: expected a table ([portal]), found array"
    )


# public and public_name ------------------------------------------------------------------------


def test_nothing_is_public_unless_it_says_so() -> None:
    c = load(TWO + SERVICE)
    assert [(t.public, t.public_name) for t in (*c.monitors, *c.services)] == [(False, None)] * 3


def test_public_services_and_monitors() -> None:
    text = (
        HTTP + 'public_name = "Website"\npublic = true\n'
        + TCP + 'public_name = "Database"\n'  # a public name alone publishes nothing
        + SERVICE + 'public = true\nname = "Web stack"\n'
        + '[[service]]\nid = "db-only"\nmonitors = ["db"]\npublic = true\nname = "DB only"\n'
        + '[[service]]\nid = "named"\nmonitors = ["db"]\npublic_name = "Named"\npublic = true\n'
    )  # fmt: skip
    c = load(text)
    assert [(t.id, t.public, t.public_name) for t in (*c.monitors, *c.services)] == [
        ("web", True, "Website"),
        ("db", False, "Database"),  # kept (for its agreements), not shown
        ("stack", True, "Web stack"),  # its name
        ("db-only", True, "DB only"),  # its name
        ("named", True, "Named"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            TCP + '[[service]]\nid = "db-only"\nmonitors = ["db"]\npublic = true\n',
            'c.toml: service[0] (id "db-only"): public = true needs "public_name" (or a "name"),'
            " the name the status page shows (a service's id is internal)",
        ),
        (
            HTTP + "public = true\n",
            f'{WEB}: public = true needs "public_name", the name the status page shows (a '
            "monitor's name and id are internal)",
        ),
        (
            HTTP + 'public = "yes"\n',
            f'{WEB}.public: expected a boolean (true or false), found string "yes"',
        ),
        (HTTP + 'public_name = ""\n', f"{WEB}.public_name: is empty (leave the key out instead)"),
        (
            HTTP + 'public_name = "a\\tb"\n',
            f'{WEB}.public_name: "a\\tb" contains a control character',
        ),
        (
            HTTP + f'public_name = "{"x" * 101}"\n',
            f'{WEB}.public_name: "{"x" * 59}…" is longer than 100 characters',
        ),
        (
            HTTP + 'public_name = "Сервис"\n',
            f'{WEB}.public_name: "Сервис" has no letter a-z or digit: the status page\'s URLs '
            'name a target by them (lowercased, other characters as "-")',
        ),
        (HTTP + "public_name = 1\n", f"{WEB}.public_name: expected a string, found integer 1"),
        (
            TWO + SERVICE + 'public = true\nname = "—"\n',
            f'{SVC}.public: the service\'s name "—" has no letter a-z or digit for the status '
            "page's URLs: set public_name",
        ),
        (
            TWO + SERVICE + f'public = true\nname = "{"x" * 101}"\n',
            f"{SVC}.public: the service's name is longer than 100 characters, too long for the "
            "status page: set a shorter public_name",
        ),
        (
            '[defaults]\npublic = true\npublic_name = "x"\n' + HTTP,
            "c.toml: defaults.public: is not a default: set it in each [[monitor]] or [[service]] "
            "the status page shows\n"
            "c.toml: defaults.public_name: is not a default: set it in each [[monitor]] or "
            "[[service]] the status page shows",
        ),
        (HTTP + 'publc = true\n', f'{WEB}: unknown key "publc" (did you mean "public"?)'),
        (TWO + SERVICE + "public_nam = 1\n", f'{SVC}: unknown key "public_nam" (did you mean '
         '"public_name"?)'),
    ],
)  # fmt: skip
def test_bad_public_keys(text: str, message: str) -> None:
    assert "\n".join(errors(text)) == message


def test_the_public_names_of_public_targets_differ_in_their_slugs() -> None:
    assert [slug(n) for n in ("Web API", "  web--api!", "Ünïcode 2", "a_b.c")] == [
        "web-api", "web-api", "n-code-2", "a-b-c",
    ]  # fmt: skip
    text = HTTP + 'public_name = "Web API"\npublic = true\n' + TCP
    text += 'public_name = "  web--API!"\npublic = true\n'
    assert error(text) == (
        'c.toml: monitor[1] (id "db").public_name: "  web--API!" and the public name "Web API" '
        'of monitor[0] (id "web") are the same in the status page\'s URLs ("web-api"): make '
        "them differ in letters or digits"
    )
    same = HTTP + 'public_name = "Shop"\npublic = true\n' + TCP + SERVICE
    same += 'name = "Shop"\npublic = true\n'
    assert error(same) == (
        f'{SVC}.public: "Shop" is the public name of monitor[0] (id "web") too: each must differ'
    )
    # targets that are not public may share names with public ones
    private = HTTP + 'public_name = "Shop"\npublic = true\n' + TCP + 'public_name = "shop"\n'
    private += SERVICE + 'name = "Shop"\n'
    assert [m.public_name for m in load(private).monitors] == ["Shop", "shop"]


# summary and the shipped example ---------------------------------------------------------------


def test_summary_lines_of_customers_and_agreements() -> None:
    Path("globex.tokens").write_text(f"{URLSAFE}\n{secrets.token_hex(16)}\n")
    text = (
        agreement()
        + '[[customer]]\nid = "globex"\ntoken_file = "globex.tokens"\n'
        + edit(
            AGREEMENT,
            {
                "id": '"globex-gold"',
                "customer": '"globex"',
                "slos": '["avail", "b", "c", "d"]',
                "effective_until": "2027-01-01T00:00:00Z",
                "renewal": '"year"',
                "reporting": '"quarter"',
                "timezone": '"Europe/Berlin"',
                "credit_cap": "50.0",
            },
        )
        + "".join(edit(SLO_TABLE, {"id": f'"{i}"'}) for i in "bcd")
    )
    lines = summarize(load(text)).split("\n")
    assert lines[-3:] == [
        "  customers   2 (3 tokens)",
        "  agreement   acme-hosting: acme, slo avail, from 2026-01-01T00:00:00Z, statements per "
        "month",
        "  agreement   globex-gold: globex, slos avail, b, c, ... 1 more, from "
        "2026-01-01T00:00:00Z until 2027-01-01T00:00:00Z (renews yearly), statements per "
        "quarter (Europe/Berlin), credits capped at 50%",
    ]
    assert "customers" not in summarize(load(TCP))


def test_the_shipped_example_shows_a_service_and_a_portal() -> None:
    c = load_config(EXAMPLE)
    assert [(s.id, s.public, s.public_name) for s in c.services] == [("self", True, "Monitoring")]
    assert not any(m.public for m in c.monitors)
    assert c.portal == Portal()
    assert (c.customers, c.agreements) == ((), ())


def test_the_shipped_example_customer_and_agreement_load_uncommented(tmp_path: Path) -> None:
    """Uncommented, with customer-acme.tokens made as the example says, they are valid, and so
    are the commented portal and public_name options."""
    text = EXAMPLE.read_text()
    start = text.index("# [[customer]]\n# id = ")
    end = text.index("\n\n# --- Incidents", start)
    block = "\n".join(line.removeprefix("# ") for line in text[start:end].splitlines())
    text = text[:start] + block + text[end:]
    for key in ("frame_ancestors", "secure_cookie", "public_name"):
        assert text.count(f"\n# {key} = ") == 1, key
        text = text.replace(f"\n# {key} = ", f"\n{key} = ")
    (tmp_path / "customer-acme.tokens").write_text(secrets.token_urlsafe(32) + "\n")
    c = load(text)
    (customer_,) = c.customers
    assert (customer_.id, customer_.name, customer_.token_file) == (
        "acme", "ACME Corp", "customer-acme.tokens",
    )  # fmt: skip
    (a,) = c.agreements
    assert (a.customer, a.slos, a.renewal, a.reporting, a.credit_cap) == (
        "acme", ("self-availability",), "year", "month", Decimal(50),
    )  # fmt: skip
    assert a.provider_obligations and a.customer_obligations
    assert c.portal.frame_ancestors == ("'self'", "https://intranet.example.com")
    assert c.portal.secure_cookie is True
    assert [m.public_name for m in c.monitors] == ["Health endpoint", None]
    # without the token file, the error says what to do
    (tmp_path / "customer-acme.tokens").unlink()
    (msg,) = errors(text)
    assert "no such file (one token a line; make one with" in msg
