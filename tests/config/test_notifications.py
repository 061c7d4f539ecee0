"""[[notifier]] and [[escalation]] (uptimed.config.notifications)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.documents import TCP, error, errors, load
from uptimed.model.config import EscalationLevel, EscalationPolicy, Notifier

OPS = '[[notifier]]\nid = "ops"\nkind = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
LEAD = '[[notifier]]\nid = "lead"\nkind = "apprise"\nurl = "json://127.0.0.1:9/x"\n'
POLICY = """
[[escalation]]
id = "standard"
levels = [{ after = "0s", notify = ["ops"] }, { after = "15m", notify = ["ops", "lead"] }]
repeat = "30m"
"""


def test_notifiers_and_a_two_level_policy() -> None:
    c = load(TCP + OPS + LEAD + POLICY)
    assert c.notifiers == (
        Notifier(id="ops", kind="webhook", url="http://127.0.0.1:9/hook"),
        Notifier(id="lead", kind="apprise", url="json://127.0.0.1:9/x"),
    )
    assert c.escalations == (
        EscalationPolicy(
            id="standard",
            levels=(
                EscalationLevel(0.0, ("ops",)),
                EscalationLevel(900.0, ("ops", "lead")),
            ),
            repeat=1800.0,
        ),
    )


def test_webhook_options_and_secrets_by_reference(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("k3y\n")
    (tmp_path / "url").write_text("https://hooks.example/T0k3n\n")
    c = load(
        TCP
        + '[[notifier]]\nid = "ops"\nkind = "webhook"\n'
        + f'url = "${{file:{tmp_path}/url}}"\n'
        + f'secret_file = "{tmp_path}/key"\ntimeout = "5s"\n'
        + 'headers = { "X-Token" = "t0k" }\ntitle = "$target is $state"\n'
    )
    n = c.notifiers[0]
    assert (n.url, n.secret, n.timeout, n.headers, n.title, n.body) == (
        "https://hooks.example/T0k3n", "k3y", 5.0, (("X-Token", "t0k"),), "$target is $state", None
    )  # fmt: skip
    assert "T0k3n" not in repr(n) and "k3y" not in repr(n) and "t0k" not in repr(n)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (OPS.replace('"webhook"', '"pager"'), 'notifier[0] (id "ops").kind'),
        (OPS.replace("http://", "ftp://"), "expected an http:// or https:// URL"),
        (LEAD.replace("json://", "json:"), "expected an apprise URL"),
        (LEAD + 'headers = { A = "b" }\n', 'headers: only applies to kind = "webhook"'),
        (OPS + 'timeout = "1h"\n', "too long (at most 5m)"),
        (OPS + 'colour = "red"\n', 'unknown key "colour"'),
        (OPS.replace('url = "http://127.0.0.1:9/hook"\n', ""), 'missing required key "url"'),
        (OPS + 'headers = { A = "b\\nc" }\n', "cannot hold line breaks"),
    ],
)
def test_bad_notifiers(text: str, message: str) -> None:
    assert message in error(TCP + text)


def test_a_url_in_an_error_is_never_shown() -> None:
    (msg,) = errors(TCP + OPS.replace("http://127.0.0.1:9/hook", "ftp://u:T0k3n@h/x"))
    assert "T0k3n" not in msg


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ('[{ after = "0s", notify = ["nobody"] }]', '"nobody"'),
        ('[{ after = "15m", notify = ["ops"] }, { after = "5m", notify = ["ops"] }]',
         "is not after the previous level's 15m"),
        ("[]", "a non-empty array"),
        ('[{ after = "0s" }]', 'missing required key "notify"'),
        ('[{ after = "0s", notify = ["ops"], when = "x" }]', 'unknown key "when"'),
    ],
)  # fmt: skip
def test_bad_levels(levels: str, message: str) -> None:
    text = TCP + OPS + f'[[escalation]]\nid = "p"\nlevels = {levels}\n'
    assert message in "\n".join(errors(text))


def test_repeat_has_a_floor_and_flags_are_booleans() -> None:
    base = TCP + OPS + '[[escalation]]\nid = "p"\nlevels = [{ after = "0s", notify = ["ops"] }]\n'
    assert "below the minimum" in error(base + 'repeat = "10s"\n')
    assert "notify_resolved" in error(base + 'notify_resolved = "yes"\n')
    p = load(base + "notify_resolved = false\ngroup = true\n").escalations[0]
    assert (p.notify_resolved, p.group, p.repeat) == (False, True, None)


def test_the_shipped_example_policy_loads_uncommented(tmp_path: Path, monkeypatch) -> None:
    """config.example.toml's commented notifiers and two-level policy are valid as written."""
    from tests.config.documents import EXAMPLE

    text = EXAMPLE.read_text()
    examples = text[text.index("# [[notifier]]\n") : text.index("# --- Real-world examples")]
    block = "\n".join(line.removeprefix("# ") for line in examples.splitlines())
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    for name in ("hook-token", "lead-slack-url"):
        (tmp_path / name).write_text("slack://a/b/c" if "slack" in name else "t0k")
    block = block.replace("/etc/uptimed/webhook.key", str(tmp_path / "hook-token"))
    c = load(TCP + block)
    assert [n.id for n in c.notifiers] == ["ops", "lead"]
    (policy,) = c.escalations
    assert [(lv.after, lv.notify) for lv in policy.levels] == [
        (0.0, ("ops",)), (900.0, ("ops", "lead")),
    ]  # fmt: skip
    assert policy.repeat == 1800.0


def test_severity_and_policy_come_from_defaults_unless_a_table_says_otherwise() -> None:
    from tests.config.documents import HTTP

    text = (
        '[defaults]\nseverity = "critical"\nescalation = "standard"\n'
        + HTTP
        + TCP.rstrip("\n") + '\nseverity = "minor"\n'
        + OPS + LEAD + POLICY
        + '[[service]]\nid = "stack"\nmonitors = ["web", "db"]\nseverity = "major"\n'
    )  # fmt: skip
    c = load(text)
    web, db = c.monitors
    assert (web.severity, web.escalation) == ("critical", "standard")
    assert (db.severity, db.escalation) == ("minor", "standard")
    assert (c.services[0].severity, c.services[0].escalation) == ("major", "standard")
    bare = load(TCP).monitors[0]
    assert (bare.severity, bare.escalation) == ("major", None)


def test_a_wrong_severity_or_an_unknown_policy_names_the_key() -> None:
    assert 'monitor[0] (id "db").severity' in error(TCP.rstrip("\n") + '\nseverity = "high"\n')
    msg = error(TCP + OPS + POLICY.replace("lead", "ops").replace('["ops", "ops"]', '["ops"]')
                + '[defaults]\nescalation = "standrad"\n')  # fmt: skip
    assert msg.startswith("c.toml: defaults.escalation:") and 'did you mean "standard"' in msg


def test_response_objectives_per_severity() -> None:
    from uptimed.model.config import ResponseObjective

    c = load(
        TCP
        + '[response]\ncritical = { acknowledge = "15m", resolve = "4h" }\n'
        + 'minor = { resolve = "3d" }\n'
    )
    assert c.response == (
        ResponseObjective("critical", 900.0, 14400.0),
        ResponseObjective("minor", None, 259200.0),
    )
    assert load(TCP).response == ()
    assert 'unknown key "urgent"' in error(TCP + '[response]\nurgent = { resolve = "1h" }\n')
    msg = error(TCP + '[response]\nmajor = { acknowledge = "0s" }\n')
    assert msg.startswith("c.toml: response.major.acknowledge:")


def test_check_config_summarizes_notifiers_and_policies() -> None:
    from uptimed.config.summary import summarize

    text = summarize(load(TCP + OPS + LEAD + POLICY))
    assert "  notifiers   2 (apprise 1, webhook 1)\n" in text
    assert text.endswith("  escalation  standard: ops after 0s, then ops, lead after 15m")
    assert "127.0.0.1:9/" not in text  # no URL: they may hold tokens
