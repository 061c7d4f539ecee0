"""systemd integration: sd_notify/watchdog helpers and the shipped unit file.

:class:`NotifyListener` plays systemd's side of the notify socket, so tests (including end-to-end
ones that start the real daemon) can see exactly which datagrams arrive and from which PID.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from uptimed.daemon.systemd import Notifier, notify, watchdog_interval

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "uptimed.service"

_SUN_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1 for the terminating NUL, on Linux
_UCRED = struct.Struct("=iII")  # struct ucred: pid_t pid; uid_t uid; gid_t gid


# --- helper: the service manager's end of $NOTIFY_SOCKET ------------------------------------


class Datagram(NamedTuple):
    data: bytes  # exactly what was received
    pid: int | None  # sender's PID from SCM_CREDENTIALS (what systemd checks for NotifyAccess=)


class NotifyListener:
    """A datagram socket standing in for systemd's notify socket.

    ``NotifyListener(tmp_path)`` binds ``<dir>/notify.sock``; ``NotifyListener(abstract=True)``
    binds a Linux abstract name ``@uptimed-test-<random>`` instead. Like systemd, it turns on
    SO_PASSCRED so each datagram comes with its sender's PID.

    Use ``.env()`` for a child's environment (``{"NOTIFY_SOCKET": ...}``; leave WATCHDOG_PID
    unset there, the child's PID is unknown before it starts), ``.messages(timeout)`` for the
    decoded datagrams received so far, ``.wait_for("READY=1", timeout)`` to wait for one
    assignment, and ``.datagrams`` for raw bytes and sender PIDs. Close it (or use ``with``).
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        abstract: bool = False,
        name: str = "notify.sock",
    ) -> None:
        if abstract:
            self.path = f"@uptimed-test-{secrets.token_hex(8)}"
            address: bytes | str = b"\0" + self.path[1:].encode()
        else:
            if directory is None:
                raise TypeError("NotifyListener needs a directory unless abstract=True")
            self.path = os.path.join(os.fspath(directory), name)
            if len(os.fsencode(self.path)) > _SUN_PATH_MAX:
                raise ValueError(
                    f"socket path too long for AF_UNIX ({len(self.path)} bytes): {self.path}"
                )
            address = self.path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            self._sock.bind(address)
        except BaseException:
            self._sock.close()
            raise
        self.datagrams: list[Datagram] = []

    def env(self) -> dict[str, str]:
        return {"NOTIFY_SOCKET": self.path}

    def messages(self, timeout: float = 0.0) -> list[str]:
        """All datagrams received so far, decoded, oldest first.

        Reads whatever is queued; if nothing new is queued, first waits up to ``timeout``
        seconds for one datagram to arrive.
        """
        deadline = time.monotonic() + timeout
        got_new = False
        while True:
            wait = 0.0 if got_new else max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([self._sock], [], [], wait)
            if not readable:
                break
            data, ancdata, flags, _ = self._sock.recvmsg(65536, socket.CMSG_SPACE(_UCRED.size))
            assert not flags & socket.MSG_TRUNC, "notify datagram truncated"
            pid = None
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = _UCRED.unpack(payload[: _UCRED.size])[0]
            self.datagrams.append(Datagram(data, pid))
            got_new = True
        return [d.data.decode("utf-8", "replace") for d in self.datagrams]

    def wait_for(self, assignment: str, timeout: float) -> list[str]:
        """Wait until some datagram carries ``assignment`` (a whole line, e.g. ``"READY=1"``);
        return all messages so far. Fails the test with everything received if it never came."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.messages(0.0)
            if any(assignment in m.split("\n") for m in received):
                return received
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(
                    f"{assignment!r} not received on {self.path} within {timeout}s; "
                    f"got {received!r}"
                )
            self.messages(min(remaining, 0.5))

    def close(self) -> None:
        self._sock.close()
        if not self.path.startswith("@"):
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> NotifyListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def listener(tmp_path):
    with NotifyListener(tmp_path) as lst:
        yield lst


@pytest.fixture
def abstract_listener():
    with NotifyListener(abstract=True) as lst:
        yield lst


@pytest.fixture
def notifier():
    n = Notifier()
    yield n
    n.close()


# --- notify() -----------------------------------------------------------------------------


def test_notify_path_socket_sends_one_exact_datagram(listener, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", listener.path)
    assert notify("READY=1", "STATUS=x") is True
    assert listener.messages(timeout=2) == ["READY=1\nSTATUS=x"]
    assert listener.datagrams[0].data == b"READY=1\nSTATUS=x"
    # The kernel attaches our credentials; with NotifyAccess=main, systemd accepts the message
    # only because this PID is the service's main PID.
    assert listener.datagrams[0].pid == os.getpid()


def test_notify_abstract_socket(abstract_listener, monkeypatch):
    assert abstract_listener.path.startswith("@uptimed-test-")
    monkeypatch.setenv("NOTIFY_SOCKET", abstract_listener.path)
    assert notify("READY=1", "STATUS=x") is True
    abstract_listener.messages(timeout=2)
    assert [d.data for d in abstract_listener.datagrams] == [b"READY=1\nSTATUS=x"]


def test_notify_single_message_and_utf8(listener, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", listener.path)
    assert notify("WATCHDOG=1") is True
    assert notify("STATUS=3 monitors ↑") is True
    listener.messages(timeout=2)  # AF_UNIX: a datagram is queued by the time sendto() returns
    assert [d.data for d in listener.datagrams] == [b"WATCHDOG=1", "STATUS=3 monitors ↑".encode()]


@pytest.mark.parametrize("value", [None, ""])
def test_notify_without_notify_socket_returns_false(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    else:
        monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert notify("READY=1") is False


def test_notify_missing_socket_path_returns_false(tmp_path, monkeypatch, caplog):
    caplog.set_level("DEBUG", logger="uptimed.daemon.systemd")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nonexistent.sock"))
    assert notify("READY=1") is False
    assert "nonexistent.sock" in caplog.text  # logged at DEBUG, not raised


def test_notify_socket_nobody_listens_returns_false(tmp_path, monkeypatch):
    # The path exists but its socket is closed (systemd gone): ECONNREFUSED, not an exception.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stale.bind(str(tmp_path / "stale.sock"))
    stale.close()
    assert (tmp_path / "stale.sock").exists()
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "stale.sock"))
    assert notify("WATCHDOG=1") is False


@pytest.mark.parametrize("value", ["relative/notify.sock", "@", "/", "vsock:2:1234"])
def test_notify_rejects_what_sd_notify_rejects(monkeypatch, value):
    # sd_notify(3): an absolute path or "@abstract", with a name after the first character.
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert notify("READY=1") is False


def test_notify_with_no_messages_sends_nothing(listener, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", listener.path)
    assert notify() is False
    assert listener.messages(timeout=0.1) == []


def test_notifier_reuses_one_socket(listener, monkeypatch, notifier):
    monkeypatch.setenv("NOTIFY_SOCKET", listener.path)
    assert notifier.notify("WATCHDOG=1")
    fds_before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        assert notifier.notify("WATCHDOG=1")
        listener.messages(timeout=1)
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert len(listener.messages()) == 6


def test_notify_never_blocks_when_the_receiver_is_full(listener, monkeypatch, notifier):
    # Nobody reads the listener: once its queue (net.unix.max_dgram_qlen) or our send buffer is
    # full, a blocking send would hang the event loop; ours gives up with False (EAGAIN).
    monkeypatch.setenv("NOTIFY_SOCKET", listener.path)
    results: list[bool] = []

    def spam() -> None:
        for _ in range(5000):
            results.append(notifier.notify("WATCHDOG=1"))

    t = threading.Thread(target=spam, daemon=True)
    t.start()
    t.join(timeout=10)
    assert not t.is_alive(), "notify() blocked on a full notify socket"
    assert True in results and False in results


async def test_notify_from_the_event_loop(listener, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", listener.path)
    for _ in range(3):
        assert notify("WATCHDOG=1")
        await asyncio.sleep(0.01)
    assert listener.messages(timeout=1).count("WATCHDOG=1") == 3


def test_wait_for_helper(listener, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", listener.path)
    notify("STATUS=starting")
    notify("READY=1", "STATUS=up")
    assert listener.wait_for("READY=1", timeout=2)[-1] == "READY=1\nSTATUS=up"


# --- watchdog_interval() ------------------------------------------------------------------


def test_watchdog_interval_is_half_the_timeout(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 15.0


def test_watchdog_interval_for_our_pid(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval() == 15.0


def test_watchdog_interval_for_another_pid_is_none(monkeypatch):
    # e.g. a child that inherited the main process's environment
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getppid()))
    assert watchdog_interval() is None


def test_watchdog_interval_unset_is_none(monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval() is None


@pytest.mark.parametrize("usec", ["", "0", "-30000000", "30s", "3e7", " 30000000", "१२"])
def test_watchdog_interval_invalid_usec_is_none(monkeypatch, usec):
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() is None


@pytest.mark.parametrize("pid", ["0", "-1", "self", "12x"])
def test_watchdog_interval_invalid_pid_is_none(monkeypatch, pid):
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", pid)
    assert watchdog_interval() is None


# --- the unit file ------------------------------------------------------------------------


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value assigned, in order (systemd keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):  # continuation
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"assignment outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not an assignment: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_unit_has_the_intended_settings():
    unit = parse_unit(UNIT)
    service = unit["Service"]

    def value(key: str) -> str:
        assert key in service, f"{key}= missing from [Service]"
        return service[key][-1]

    expected = {
        "Type": "notify",
        "NotifyAccess": "main",
        "ExecStart": "/opt/uptimed/bin/uptimed run -c /etc/uptimed/config.toml",
        "ExecReload": "/bin/kill -HUP $MAINPID",
        "WatchdogSec": "30s",
        "Restart": "on-failure",
        "RestartSec": "5s",
        "TimeoutStopSec": "30s",
        "StateDirectory": "uptimed",
        "DynamicUser": "yes",
        "UMask": "0077",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "ProtectClock": "yes",
        "ProtectHostname": "yes",
        "RestrictNamespaces": "yes",
        "RestrictRealtime": "yes",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "SystemCallArchitectures": "native",
        "CapabilityBoundingSet": "",  # empty: no capabilities at all
        "PrivateMounts": "yes",
        "ProtectProc": "invisible",
        "PrivateUsers": "yes",
    }
    assert {k: value(k) for k in expected} == expected
    assert service["SystemCallFilter"] == ["@system-service", "~@privileged @resources"]
    assert "ProcSubset" not in service  # it hides /proc/stat: process_* series would vanish
    assert "WorkingDirectory" not in service  # the daemon runs in /: the config must not need a cwd
    assert "AmbientCapabilities" not in service

    families = value("RestrictAddressFamilies").split()
    assert not families[0].startswith("~"), "must be an allow-list"
    assert set(families) == {"AF_INET", "AF_INET6", "AF_UNIX"}  # AF_UNIX: $NOTIFY_SOCKET
    assert "PYTHONUNBUFFERED=1" in " ".join(service["Environment"]).split()
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def _systemd_version(exe: str) -> int:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    m = re.match(r"systemd (\d+)", out)
    assert m, f"unexpected `{exe} --version` output: {out!r}"
    return int(m.group(1))


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    exe = shutil.which("systemd-analyze") or (
        "/usr/bin/systemd-analyze" if os.access("/usr/bin/systemd-analyze", os.X_OK) else None
    )
    if exe is None:
        pytest.skip("systemd-analyze is not installed (Debian/Ubuntu: apt-get install systemd)")
    return exe


def _console_script() -> Path:
    for candidate in (Path(sys.executable).parent / "uptimed", shutil.which("uptimed")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    pytest.fail("the `uptimed` console script is not installed (pip install -e .)")


@pytest.fixture
def installed_unit(tmp_path) -> Path:
    """The shipped unit with ExecStart= pointed at this checkout's console script (verify checks
    that the executable exists). Alone in its directory: verify adds that directory to the unit
    search path."""
    text = UNIT.read_text()
    text, n = re.subn(
        r"(?m)^ExecStart=/opt/uptimed/bin/uptimed ", f"ExecStart={_console_script()} ", text
    )
    assert n == 1
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    copy = unit_dir / "uptimed.service"  # the name matters: verify derives the unit name from it
    copy.write_text(text)
    return copy


# Deterministic output, whatever the caller's environment: messages at info and above (every
# warning), no colours or pager, C locale.
_ANALYZE_ENV = {
    **os.environ,
    "SYSTEMD_LOG_LEVEL": "info",
    "SYSTEMD_LOG_COLOR": "0",
    "SYSTEMD_COLORS": "0",
    "SYSTEMD_LOG_TIME": "0",
    "SYSTEMD_LOG_LOCATION": "0",
    "SYSTEMD_PAGER": "cat",
    "LC_ALL": "C",
}

# A line systemd-analyze prints about ANOTHER unit starts with that unit's name or file, e.g.
#   "/lib/systemd/system/foo.service:12: Unknown key ..."   or   "bar.mount: Failed to ..."
# Containers without systemd as PID 1 sometimes make verify complain about the distribution's
# own units that ours pulls in (sysinit.target, network-online.target, tmp.mount, ...); those are
# not our unit's problem, so they are filtered out (and printed, to be seen with `pytest -rA`).
# Every other line fails the test: lines about our unit, and lines that name no unit at all.
_OTHER_UNIT_LINE = re.compile(
    r"^(?:\S*/)?(?!uptimed\.service\b)[\w@:.\\-]+\."
    r"(?:service|socket|target|mount|automount|swap|path|timer|slice|scope|device)\b"
)


def test_unit_passes_systemd_analyze_verify(systemd_analyze, installed_unit):
    # Works without systemd as PID 1 (as in a container): verify runs its own manager instance
    # in test mode. --man=no: don't require man pages for Documentation= (man-db may be
    # absent). --generators=no: generators want a booted system. --recursive-errors=no
    # (systemd >= 250): the exit status reflects our unit, not broken units of the host.
    cmd = [systemd_analyze, "verify", "--man=no", "--generators=no"]
    if _systemd_version(systemd_analyze) >= 250:
        cmd.append("--recursive-errors=no")
    cmd.append(str(installed_unit))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_ANALYZE_ENV, timeout=120)
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    noise = [ln for ln in lines if _OTHER_UNIT_LINE.match(ln)]
    ours = [ln for ln in lines if ln not in noise]
    if noise:
        print("ignored, about other units:\n" + "\n".join(noise))
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n" + "\n".join(lines)
    assert ours == [], f"{' '.join(cmd)} warned:\n" + "\n".join(ours)


def test_verify_catches_mistakes(systemd_analyze, installed_unit):
    # Guards the test above: a misspelt key and a bad value must show up as lines about our unit
    # (verify still exits 0 for these, hence the check on the output).
    text = installed_unit.read_text()
    text = text.replace("\nProtectSystem=strict", "\nProtectSytem=strict")
    text = text.replace("\nWatchdogSec=30s", "\nWatchdogSec=thirty")
    installed_unit.write_text(text)
    proc = subprocess.run(
        [systemd_analyze, "verify", "--man=no", str(installed_unit)],
        capture_output=True,
        text=True,
        env=_ANALYZE_ENV,
        timeout=120,
    )
    ours = [ln for ln in proc.stderr.splitlines() if not _OTHER_UNIT_LINE.match(ln)]
    assert any("ProtectSytem" in ln for ln in ours), proc.stderr
    assert any("thirty" in ln for ln in ours), proc.stderr


def test_unit_security_exposure(systemd_analyze, installed_unit):
    # systemd's own score of the sandbox (0 = locked down, 10 = unprotected); the unit scores
    # 1.1 ("OK") with systemd 252. Fail if hardening is lost: above 1.5 on that scale.
    if _systemd_version(systemd_analyze) < 250:
        pytest.skip("systemd-analyze security --offline needs systemd >= 250")
    proc = subprocess.run(
        [
            systemd_analyze,
            "security",
            "--offline=yes",
            "--threshold=15",
            "--no-pager",
            str(installed_unit),
        ],
        capture_output=True,
        text=True,
        env=_ANALYZE_ENV,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert "Overall exposure level for uptimed.service" in proc.stdout
