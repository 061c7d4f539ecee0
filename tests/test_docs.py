"""The documentation keeps up with the code (as sqlite-utils' test_docs.py does): every command
and option of the CLI has ``--help`` text and is named in the README, every API endpoint is in
docs/api.md, and every module docstring's pointer to the docs points at a real file."""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

from tests.support.daemon_proc import UPTIMED
from uptimed.web.api import API, ENDPOINTS

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


@cache
def help_text(*command: str) -> str:
    env = {**os.environ, "COLUMNS": "100"}  # argparse wraps to the terminal's width
    r = subprocess.run(
        [*UPTIMED, *command, "--help"],
        capture_output=True, text=True, timeout=60, check=True, env=env,
    )  # fmt: skip
    return r.stdout


def subcommands(*command: str) -> list[str]:
    """The commands listed under ``{a,b,c}`` or the COMMAND/ACTION block of a help text."""
    return re.findall(r"^    ([a-z][a-z-]*)\s", help_text(*command), re.MULTILINE)


def commands() -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name in subcommands():
        actions = subcommands(name)
        out.extend([(name, a) for a in actions] if actions else [(name,)])
    return out


def options(*command: str) -> dict[str, str]:
    """Each option of a help text (``--from``, ``-c/--config``, positionals) -> its help text.

    argparse prints an option and its help on one line, or the help on the next, more indented
    lines when the option is long; an option without help has neither."""
    found: dict[str, str] = {}
    lines = help_text(*command).splitlines()
    in_options = False
    for i, line in enumerate(lines):
        if re.match(r"^\S.*:$", line):  # "options:", "positional arguments:", a group title
            in_options = True
            continue
        m = re.match(r"^  (\S.*?)(?:\s{2,}(\S.*))?$", line)
        if not (in_options and m) or line.startswith("   "):
            continue
        names = m.group(1)
        text = m.group(2) or ""
        j = i + 1
        while not text and j < len(lines) and re.match(r"^\s{10,}\S", lines[j]):
            text = lines[j].strip()
            j += 1
        flags = re.findall(r"--[a-z][a-z-]*", names) or [names.split()[0].strip(",")]
        for flag in flags:
            found[flag] = text
    return found


def test_the_cli_has_commands() -> None:
    # A parser that lists nothing would make the tests below pass vacuously.
    cmds = commands()
    assert ("run",) in cmds and ("report",) in cmds and ("maintenance", "add") in cmds


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_every_command_is_in_the_readme(command: tuple[str, ...]) -> None:
    assert f"uptimed {command[0]}" in README
    if len(command) > 1:  # "uptimed maintenance add|list|end" names the actions
        assert re.search(rf"uptimed {command[0]} [a-z|]*\b{command[1]}\b", README), command


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_every_option_has_help_text(command: tuple[str, ...]) -> None:
    opts = options(*command)
    assert opts, f"no options found in `uptimed {' '.join(command)} --help`"
    missing_help = sorted(o for o, text in opts.items() if not text)
    assert missing_help == [], f"options without --help text in {command}"


@pytest.mark.parametrize("command", [(), *commands()], ids=lambda c: " ".join(c) or "uptimed")
def test_the_readme_shows_every_help_text_as_it_is(command: tuple[str, ...]) -> None:
    """The README's command reference is each command's real ``--help``, so every option is
    documented there with the words the CLI itself uses. To update it after changing the CLI:
    ``python -m tests.test_docs`` prints the section."""
    assert reference_block(command) in README, f"README: `uptimed {' '.join(command)} --help`"


def reference_block(command: tuple[str, ...]) -> str:
    shown = " ".join(("uptimed", *command, "--help"))
    return f"```console\n$ {shown}\n{help_text(*command).rstrip()}\n```\n"


def test_every_api_endpoint_is_in_docs_api() -> None:
    doc = (REPO / "docs" / "api.md").read_text()
    for ep in ENDPOINTS:
        assert f"| {ep.method} | `{API}{ep.path}` |" in doc, ep
        for name in (*ep.parameters, *ep.body):
            assert f"`{name}`" in doc, (ep.path, name)


def test_docstrings_point_to_docs_that_exist() -> None:
    cited: set[str] = set()
    for path in [*(REPO / "uptimed").rglob("*.py"), *(REPO / "probes").rglob("*.py")]:
        cited.update(re.findall(r"\b(?:docs/)?[a-z-]+\.md\b", path.read_text()))
    for name in cited:
        assert (REPO / name).exists() or (REPO / "docs" / name).exists(), name
    assert "design.md" not in cited, "design.md is not in the repository: cite docs/"


def test_the_readme_test_command_is_what_ci_runs() -> None:
    def command(text: str) -> str:
        pattern = r"python3 -m venv \.venv && \S+ install -q -e '\.\[test\]'.*?-m pytest"
        m = re.search(pattern, text, re.DOTALL)
        assert m, "no test command"
        return re.sub(r"\s*\\\n\s*", " ", m.group(0))

    assert command(README) == command((REPO / ".ci" / "run").read_text())


if __name__ == "__main__":
    print("\n".join(reference_block(c) for c in [(), *commands()]), end="")
