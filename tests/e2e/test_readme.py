"""The README shows real commands and their real output: these tests run them and compare.

Output that changes from run to run (times, durations, counts, hashes, pids, column widths) is
normalized on both sides; everything else (which lines, which columns, which words) must match.
The daemon's example config listens on port 9464; the tests give it a free port and map it back.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon_proc import UPTIMED, free_port
from uptimed.store import Store

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
EXAMPLE_PORT = "9464"
#: Where the README pretends the checkout is (it shows absolute paths resolved from it).
README_CHECKOUT = "/home/you/uptimed"


def console_blocks(text: str) -> list[list[tuple[str, str]]]:
    """Every ```console block as a list of (command, output), commands joined across "\\"."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        pairs: list[tuple[str, str]] = []
        command: str | None = None
        out: list[str] = []
        continued = False
        for line in body.splitlines():
            if continued:
                assert command is not None
                command += " " + line.strip().rstrip("\\").strip()
                continued = line.endswith("\\")
            elif line.startswith("$ "):
                if command is not None:
                    pairs.append((command, "\n".join(out)))
                command, out = line[2:].rstrip("\\").strip(), []
                continued = line.endswith("\\")
            else:
                out.append(line)
        if command is not None:
            pairs.append((command, "\n".join(out)))
        blocks.append(pairs)
    return blocks


def commands() -> dict[str, str]:
    """The README's commands (with their comments cut off) -> the output it shows."""
    out = {}
    for block in console_blocks(README.read_text()):
        for command, output in block:
            out[re.sub(r"\s+#.*$", "", command)] = output
    return out


def normalized(text: str) -> list[str]:
    rules = [
        (r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?Z?", "<T>"),
        (r"\b[0-9a-f]{64}\b", "<H>"),
        (r"\(pid \d+", "(pid <N>"),
        (r"\b(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+\b", "<D>"),  # durations: 0s, 39.5s, 59m21s
        (r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", "<N>"),
        (r"[ \t]+", " "),
    ]
    lines = []
    for line in text.strip().splitlines():
        for pattern, repl in rules:
            line = re.sub(pattern, repl, line)
        lines.append(line.strip())
    return lines


def run(args: list[str], cwd: Path) -> str:
    r = subprocess.run(
        [*UPTIMED, *args], check=False, capture_output=True, text=True, cwd=cwd, timeout=120,
        env={**os.environ, "STATE_DIRECTORY": ""},
    )  # fmt: skip
    return r.stdout + r.stderr


def uptimed_args(command: str) -> list[str]:
    assert command.startswith("uptimed "), command
    return [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', command[len("uptimed ") :])]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory holding the example config, as a checkout would, with a free port."""
    port = str(free_port())
    text = (REPO / "config.example.toml").read_text().replace(EXAMPLE_PORT, port)
    (tmp_path / "config.example.toml").write_text(text)
    (tmp_path / "port").write_text(port)
    return tmp_path


def back(text: str, checkout: Path) -> str:
    """Real output as the README would show it: the README's checkout path and port."""
    port = (checkout / "port").read_text()
    return text.replace(str(checkout), README_CHECKOUT).replace(port, EXAMPLE_PORT)


def test_the_layout_names_every_module_and_only_real_ones() -> None:
    layout = re.search(r"## Code layout\n.*?```\n(.*?)```", README.read_text(), re.DOTALL)
    assert layout, "README has no Code layout block"
    block = layout.group(1)
    # Lines name a package folder ("uptimed/core/") and then its modules by file name.
    named: set[str] = set()
    folder = ""
    for line in block.splitlines():
        head = line.split()[0] if line.strip() else ""
        if head.endswith("/") and not line.startswith(" "):
            folder = head
        elif head.endswith(".py"):
            named.add(folder + head)
    real = {
        str(p.relative_to(REPO))
        for d in ("uptimed", "probes")
        for p in (REPO / d).rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py") or p.parent.name == "probes"
    }
    assert named - real == set(), "the layout names modules that do not exist"
    assert real - named == set(), "the layout omits these modules"


def test_the_readme_cites_only_files_in_the_repository() -> None:
    cited = set(re.findall(r"`([\w.-][\w./-]*\.(?:md|toml|py|service))`", README.read_text()))
    missing = {name for name in cited if not (REPO / name).exists()}
    assert missing == set(), "README cites files that are not in the repository"


def test_the_schema_version_shown_is_the_real_one(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "u.db"))
    version = store.open()
    store.close()
    shown = re.findall(r"schema version (\d+)", README.read_text())
    assert shown and all(int(v) == version for v in shown), (shown, version)


def test_the_commands_listed_are_the_real_ones() -> None:
    listed = re.search(r"Commands: (.*?)\. Exit status", README.read_text(), re.DOTALL)
    assert listed
    names = set(re.findall(r"`uptimed ([a-z-]+)", listed.group(1)))
    r = subprocess.run(
        [*UPTIMED, "--help"], check=False, capture_output=True, text=True, timeout=60
    )
    real = set(re.findall(r"^    ([a-z-]+)", r.stdout, re.MULTILINE))
    assert real and names == real


def test_check_config_and_a_bad_config_print_what_the_readme_shows(checkout: Path) -> None:
    shown = commands()
    out = back(run(["check-config", "-c", "config.example.toml"], checkout), checkout)
    assert out.strip() == shown["uptimed check-config -c config.example.toml"].strip()
    bad = shown["cat bad.toml"]
    (checkout / "bad.toml").write_text(bad + "\n")
    out = run(["check-config", "-c", "bad.toml"], checkout)
    assert out.strip() == shown["uptimed check-config -c bad.toml"].strip()


async def test_a_running_daemon_prints_what_the_readme_shows(checkout: Path) -> None:
    shown = commands()
    port = (checkout / "port").read_text()
    log = (checkout / "daemon.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        *UPTIMED, "run", "-c", "config.example.toml", cwd=checkout, stdout=log, stderr=log,
        env={**os.environ, "STATE_DIRECTORY": ""},
    )  # fmt: skip
    try:
        status_cmd = "uptimed status -c config.example.toml"
        deadline = time.monotonic() + 60
        while True:  # both example monitors probed (every 10 s) and up
            status = run(uptimed_args(status_cmd), checkout)
            if status.count(" up ") == 2 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert normalized(back(status, checkout)) == normalized(shown[status_cmd])

        async with aiohttp.ClientSession() as s:
            while True:  # the SLA series appear at the first refresh after a verdict (every 15 s)
                async with s.get(f"http://127.0.0.1:{port}/metrics") as r:
                    metrics = await r.text()
                if (
                    'uptimed_availability_ratio{monitor="self-http"' in metrics
                    or time.monotonic() > deadline
                ):
                    break
                await asyncio.sleep(0.5)
            async with s.get(f"http://127.0.0.1:{port}/healthz") as r:
                health = await r.text()
        mine = "\n".join(ln for ln in metrics.splitlines() if "self-http" in ln)
        assert normalized(mine) == normalized(
            shown[f"curl -s localhost:{EXAMPLE_PORT}/metrics | grep self-http"]
        )
        assert (
            json.loads(health).keys()
            == json.loads(shown[f"curl -s localhost:{EXAMPLE_PORT}/healthz"]).keys()
        )

        # The README's retroactive window, moved to just now (after both monitors' first
        # probes, so that it changes a figure of the report's hour, as in the README).
        await asyncio.sleep(3)
        (add_cmd,) = [c for c in shown if c.startswith("uptimed maintenance add -c")]
        now = time.time()
        start, end = (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) for t in (now - 2, now))
        args = uptimed_args(add_cmd)
        args[args.index("--start") + 1], args[args.index("--end") + 1] = start, end
        assert normalized(run(args, checkout)) == normalized(shown[add_cmd])

        report_cmd = "uptimed report -c config.example.toml --window 1h"
        report = back(run(uptimed_args(report_cmd), checkout), checkout)
        assert normalized(report) == normalized(shown[report_cmd])
    finally:
        proc.terminate()
        await proc.wait()
        log.close()
    assert "Traceback" not in (checkout / "daemon.log").read_text()


def test_the_readme_runs_no_command_it_does_not_show_for_real() -> None:
    """Every `uptimed ...` command in a console block is one of those compared above (or the
    install line), so a new example cannot slip in untested."""
    compared = {
        "uptimed check-config -c config.example.toml",
        "uptimed check-config -c bad.toml",
        "uptimed status -c config.example.toml",
        "uptimed report -c config.example.toml --window 1h",
    }
    for command in commands():
        if command.endswith(" --help"):  # tests/test_docs.py compares these
            continue
        if command.startswith("uptimed ") and not command.startswith("uptimed maintenance add"):
            assert command in compared, f"README shows {command!r}, which no test runs"
