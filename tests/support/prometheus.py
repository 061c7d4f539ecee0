"""A real Prometheus (Debian's ``prometheus`` binary) for end-to-end tests, on loopback.

::

    async with Prometheus(tmp_path, [f"127.0.0.1:{daemon.port}"]) as prom:
        await prom.wait_until(lambda: prom.query("probe_success"), 20, "a first scrape")
        alerts = await prom.alerts()

:class:`Prometheus` writes a temporary config that scrapes the given targets every second in one
job (``uptimed``: the fleet rules aggregate within a job), loads temporary copies of the shipped
rule files (``dashboards/rules/*.yml``) with every group's ``interval`` set to 1 s, starts the
binary on a free loopback port with its own data directory, and waits for ``/-/ready``. Its
helpers speak the HTTP API (``/api/v1/query``, ``query_range``, ``alerts``, ``rules``); every
one of them raises with the tail of Prometheus' log when the API answers an error, and the
``async with`` block prints that tail when the block fails, so a failing test shows what
Prometheus said.

:func:`require_prometheus` skips the calling test, with the reason, only when the binary is
missing (CI installs the package: ``.ci/run``); anything else that goes wrong fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import yaml

from tests.support.daemon_proc import free_port

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "dashboards" / "rules"
JOB = "uptimed"
#: The group interval the rule copies get: with scrapes every second, rules see every sample.
EVALUATION = "1s"

T = TypeVar("T")


def prometheus_binary() -> str | None:
    """The ``prometheus`` binary: on PATH, else Debian's path."""
    found = shutil.which("prometheus")
    if found:
        return found
    return "/usr/bin/prometheus" if os.access("/usr/bin/prometheus", os.X_OK) else None


def require_prometheus() -> str:
    """The binary's path, or skip the test (the only reason to skip: it is not installed)."""
    binary = prometheus_binary()
    if binary is None:
        pytest.skip(
            "the prometheus binary is not installed (Debian: apt-get install prometheus;"
            " CI installs it, see .ci/run)"
        )
    return binary


def shipped_rule_files() -> list[Path]:
    return sorted(RULES.glob("*.yml")) + sorted(RULES.glob("*.yaml"))


def fast_rule_copies(sources: Sequence[Path], directory: Path) -> list[Path]:
    """Copies of ``sources`` in ``directory`` with every group's ``interval`` set to
    :data:`EVALUATION` (nothing else changes: the ranges, ``for`` durations and labels are the
    shipped ones)."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for src in sources:
        doc = yaml.safe_load(src.read_text(encoding="utf-8")) or {}
        for group in doc.get("groups") or []:
            group["interval"] = EVALUATION
        dst = directory / src.name
        dst.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        out.append(dst)
    return out


def rule_by_name(name: str, sources: Sequence[Path] | None = None) -> dict[str, Any] | None:
    """The shipped alerting or recording rule called ``name`` (the first one), as YAML data."""
    for src in shipped_rule_files() if sources is None else sources:
        doc = yaml.safe_load(src.read_text(encoding="utf-8")) or {}
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                if name in (rule.get("alert"), rule.get("record")):
                    return dict(rule)
    return None


def seconds(duration: str | None) -> float:
    """A Prometheus duration ("90s", "1m30s", "2h") in seconds; None and "" are 0."""
    if not duration:
        return 0.0
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total, number = 0.0, ""
    rest = duration
    while rest:
        if rest[0].isdigit():
            number += rest[0]
            rest = rest[1:]
            continue
        unit = "ms" if rest.startswith("ms") else rest[0]
        total += int(number) * units[unit]
        number, rest = "", rest[len(unit) :]
    return total


class PrometheusError(AssertionError):
    pass


class Prometheus:
    """A running Prometheus; see the module docstring."""

    def __init__(
        self,
        directory: Path,
        targets: Sequence[str],
        *,
        rule_files: Sequence[Path] | None = None,
        job: str = JOB,
        scrape_interval: str = "1s",
    ) -> None:
        self.binary = require_prometheus()
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.targets = list(targets)
        self.job = job
        self.scrape_interval = scrape_interval
        sources = shipped_rule_files() if rule_files is None else list(rule_files)
        self.rule_files = fast_rule_copies(sources, self.dir / "rules")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = self.dir / "prometheus.yml"
        self.log = self.dir / "prometheus.log"
        self.data = self.dir / "data"
        self.proc: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None

    def write_config(self) -> None:
        config = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "scrape_timeout": self.scrape_interval,
                "evaluation_interval": EVALUATION,
            },
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": [
                {"job_name": self.job, "static_configs": [{"targets": self.targets}]}
            ],
        }
        self.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    async def start(self, timeout: float = 30) -> None:
        self.write_config()
        with open(self.log, "ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                self.binary,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.data}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1d",
                "--log.level=info",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a Ctrl-C of the test run is the test's to handle
            )
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.returncode is not None:
                raise PrometheusError(
                    f"prometheus exited {self.proc.returncode} at start:\n{self.log_tail()}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self._session.get(f"{self.url}/-/ready") as r:
                    if r.status == 200:
                        return
            if time.monotonic() > deadline:
                raise PrometheusError(f"prometheus not ready in {timeout} s:\n{self.log_tail()}")
            await asyncio.sleep(0.1)

    async def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM, and a kill when it has not stopped within ``timeout``; the exit status."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode

    async def __aenter__(self) -> Prometheus:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is not None:
            print(f"--- prometheus log ({self.log}), last lines ---\n{self.log_tail()}")
        await self.stop()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- the HTTP API ------------------------------------------------------------------------

    async def api(self, path: str, **params: str | float) -> Any:
        """``GET /api/v1/<path>``: its ``data``, or raise with the error and the log tail."""
        assert self._session is not None, "not started"
        query = {k: str(v) for k, v in params.items()}
        async with self._session.get(f"{self.url}/api/v1/{path}", params=query) as r:
            body = await r.json(content_type=None)
        if body.get("status") != "success":
            raise PrometheusError(
                f"{path} {query}: {body.get('errorType')}: {body.get('error')}\n{self.log_tail(15)}"
            )
        return body["data"]

    async def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query: ``[{"metric": {...}, "value": [t, "v"]}, ...]`` (a scalar or
        string result comes back as one such row with no labels)."""
        params: dict[str, str | float] = {"query": expr}
        if at is not None:
            params["time"] = at
        data = await self.api("query", **params)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    async def value(self, expr: str, at: float | None = None) -> float | None:
        """The value of the one series ``expr`` returns; None when it returns none."""
        rows = await self.query(expr, at)
        if not rows:
            return None
        assert len(rows) == 1, f"{expr}: {len(rows)} series: {rows}"
        return float(rows[0]["value"][1])

    async def values(self, expr: str, *by: str) -> dict[tuple[str, ...], float]:
        """Each series' value keyed by its ``by`` labels ("" when a label is missing)."""
        return {
            tuple(r["metric"].get(k, "") for k in by): float(r["value"][1])
            for r in await self.query(expr)
        }

    async def query_range(
        self, expr: str, start: float, end: float, step: float = 1.0
    ) -> list[dict[str, Any]]:
        """A range query: ``[{"metric": {...}, "values": [[t, "v"], ...]}, ...]``."""
        data = await self.api("query_range", query=expr, start=start, end=end, step=step)
        return list(data["result"])

    async def alerts(self) -> list[dict[str, Any]]:
        """``/api/v1/alerts``: every active alert, pending or firing, with its labels."""
        return list((await self.api("alerts"))["alerts"])

    async def active(self, alertname: str, **labels: str) -> list[dict[str, Any]]:
        """The active alerts called ``alertname`` whose labels include ``labels``."""
        return [
            a
            for a in await self.alerts()
            if a["labels"].get("alertname") == alertname
            and all(a["labels"].get(k) == v for k, v in labels.items())
        ]

    async def rules(self) -> list[dict[str, Any]]:
        """``/api/v1/rules``: every loaded rule (with its group's name as ``group``)."""
        groups = (await self.api("rules"))["groups"]
        return [{**rule, "group": g["name"]} for g in groups for rule in g["rules"]]

    async def targets_up(self) -> bool:
        """Whether every scrape target's last scrape succeeded."""
        rows = await self.query(f'up{{job="{self.job}"}}')
        return len(rows) == len(self.targets) and all(r["value"][1] == "1" for r in rows)

    async def wait_until(
        self,
        predicate: Callable[[], Awaitable[T]],
        timeout: float,
        what: str,
        every: float = 0.25,
    ) -> T:
        """Poll ``predicate`` until it returns something truthy (returned); raise, naming
        ``what`` and the last value, after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            got = await predicate()
            if got:
                return got
            if time.monotonic() > deadline:
                raise PrometheusError(
                    f"timed out after {timeout} s waiting for {what} (last: {got!r})\n"
                    f"{self.log_tail(15)}"
                )
            await asyncio.sleep(every)


__all__ = [
    "JOB",
    "Prometheus",
    "PrometheusError",
    "fast_rule_copies",
    "prometheus_binary",
    "require_prometheus",
    "rule_by_name",
    "seconds",
    "shipped_rule_files",
]
