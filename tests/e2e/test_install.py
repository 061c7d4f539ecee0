"""The documented systemd install starts: the shipped unit, the config where systemd/README.md
puts it, and systemd's sandbox, stood in for by a private mount namespace.

systemd cannot run here (it is not PID 1), so ``unshare --mount`` builds what the unit asks for:
``ProtectSystem=strict`` (every mount read-only but the API file systems and the state
directory), ``PrivateTmp=`` (an empty /tmp), ``StateDirectory=uptimed`` (/var/lib/uptimed,
writable, owned by the service's user, exported as $STATE_DIRECTORY), ``DynamicUser=`` (an
unprivileged uid, 65534 here), ``UMask=``, ``Environment=``, no ``WorkingDirectory=`` (so /), and
``Type=notify`` (READY=1 must arrive on $NOTIFY_SOCKET, from the daemon's own pid). /etc and
/var/lib are overlays private to the namespace, so nothing lands on this machine's real ones.

Then an admin's shell in the same file system view (root, no $STATE_DIRECTORY, no ``-c``, some
other working directory) runs ``uptimed status`` and ``uptimed maintenance add``: both must reach
the daemon's database, and the daemon must see the window.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon.test_systemd import UNIT, NotifyListener, parse_unit
from tests.support.daemon_proc import free_port

REPO = Path(__file__).resolve().parents[2]
README = REPO / "systemd" / "README.md"
USER = "65534"

SCRIPT = r"""
set -eu
mount -t tmpfs -o mode=0700 tmpfs "$NS"
for d in /etc /var/lib; do
    n=$(echo "$d" | tr / _)
    mkdir -p "$NS/up$n" "$NS/work$n"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$NS/up$n,workdir=$NS/work$n" "$d"
done

# The install, as systemd/README.md gives it (the example listens on a free port here).
cd "$REPO"
eval "$INSTALL_CONFIG"
sed -i "s/\b9464\b/$PORT/g" "$CONFIG"

# The test's interpreter may live where the service's user cannot reach it (pyenv under /root,
# mode 0700): show the namespace a /root that holds only that, traversable. Not part of the install.
case "$(readlink -f "$PY")" in /root/*)
    top=$(readlink -f "$PY" | cut -d/ -f3)
    mkdir -p "$NS/rootview/$top"
    chmod 0711 "$NS/rootview"
    mount --bind "/root/$top" "$NS/rootview/$top"
    mount --rbind "$NS/rootview" /root;;
esac

# StateDirectory=: created by systemd, owned by the service's user, writable in the sandbox.
mkdir -p "$STATE"
chown "$RUNAS:$RUNAS" "$STATE"
chmod 0700 "$STATE"
mount --bind "$STATE" "$STATE"

# ProtectSystem=strict: everything else read-only; PrivateTmp=: a /tmp of its own.
for m in $(awk '{print $2}' /proc/self/mounts | sort -u); do
    case "$m" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|"$STATE"|"$NS"|"$NS"/*) continue;; esac
    mount -o remount,bind,ro "$m" 2>/dev/null || true
done
# The checkout and the venv may live under /tmp (CI's clone does): keep them visible in the new
# /tmp, read-only, as the installed /opt/uptimed would be. Staged under /mnt, private to us.
mount -t tmpfs tmpfs /mnt
i=0
for p in $KEEP; do i=$((i+1)); mkdir -p "/mnt/keep$i"; mount --bind "$p" "/mnt/keep$i"; done
mount -t tmpfs tmpfs /tmp
i=0
for p in $KEEP; do i=$((i+1)); mkdir -p "$p"; mount --bind -o ro "/mnt/keep$i" "$p"; done
if touch /etc/uptimed/probe 2>/dev/null || touch /uptimed.db 2>/dev/null; then
    echo "SANDBOX NOT READ-ONLY"; exit 3
fi

cd /
( umask "$UMASK"; exec setpriv --reuid "$RUNAS" --regid "$RUNAS" --clear-groups \
    env -i PATH=/usr/bin:/bin STATE_DIRECTORY="$STATE" NOTIFY_SOCKET="$NOTIFY" $UNIT_ENV \
    $EXEC ) >/tmp/daemon.log 2>&1 &
DAEMON=$!
echo "DAEMON PID $DAEMON"

# An admin's shell: root, no STATE_DIRECTORY, no -c, another working directory.
cd /var
for i in $(seq 1 100); do
    if env -u STATE_DIRECTORY -u UPTIMED_CONFIG $PY -m uptimed status >/tmp/status.txt 2>&1 \
        && grep -q "daemon: running" /tmp/status.txt; then break; fi
    sleep 0.2
done
set +e
echo "--- status"; cat /tmp/status.txt
echo "--- maintenance add"
env -u STATE_DIRECTORY -u UPTIMED_CONFIG \
    $PY -m uptimed maintenance add --monitor self-http --for 10m \
    --reason "install test" 2>&1
for i in $(seq 1 25); do grep -q "maintenance" /tmp/daemon.log && break; sleep 0.2; done
# It probes under the sandbox: the first verdict (10 s interval, a phase within it).
for i in $(seq 1 100); do grep -q "is UP" /tmp/daemon.log && break; sleep 0.2; done
kill -TERM "$DAEMON"
wait "$DAEMON"
echo "DAEMON EXIT $?"
echo "--- state directory"; ls -ln "$STATE"
echo "--- daemon log"; cat /tmp/daemon.log
"""


def _install_line() -> str:
    """The README's command that puts the config where the unit's ExecStart= reads it."""
    lines = [
        ln.strip() for ln in README.read_text().splitlines() if ln.strip().startswith("install ")
    ]
    config = [ln for ln in lines if "config.example.toml" in ln]
    assert config, f"{README} shows no `install ... config.example.toml ...` command"
    return config[0].split("#")[0].strip()


def _under_tmp() -> list[str]:
    """What the daemon needs that PrivateTmp= would hide: the checkout, the venv, the
    interpreter, when they are under /tmp (no spaces in them: the script splits on blanks)."""
    places = {
        str(REPO),
        sys.prefix,
        os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))),
    }
    keep = sorted(p for p in places if p == "/tmp" or p.startswith("/tmp/"))
    assert all(" " not in p for p in keep), keep
    return [p for p in keep if not any(p.startswith(q + "/") for q in keep)]  # outermost only


def _sandbox_works(tmp: Path) -> str | None:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        return "needs root, unshare and setpriv (util-linux)"
    (tmp / "t").mkdir()
    r = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         (f"mount -t tmpfs tmpfs {tmp}/t && mkdir {tmp}/t/u {tmp}/t/w && "
          f"mount -t overlay overlay -o lowerdir=/etc,upperdir={tmp}/t/u,workdir={tmp}/t/w /etc")],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    return (
        None if r.returncode == 0 else f"no mount namespace with overlays here: {r.stderr.strip()}"
    )


def test_the_documented_systemd_install_reaches_ready(tmp_path: Path) -> None:
    why = _sandbox_works(tmp_path)
    if why:
        pytest.skip(why)
    service = parse_unit(UNIT)["Service"]
    assert "WorkingDirectory" not in service  # so the daemon runs in /, as assumed below
    (exec_start,) = service["ExecStart"]
    argv = shlex.split(exec_start)
    assert argv[0] == "/opt/uptimed/bin/uptimed" and argv[1] == "run", argv
    config = argv[argv.index("-c") + 1]
    install = _install_line()
    assert shlex.split(install)[-1] == config, (
        f"the README installs the config at {install!r}, the unit reads {config}"
    )
    (state_dir,) = service["StateDirectory"]
    state = f"/var/lib/{state_dir}"
    env = " ".join(service.get("Environment", []))
    (umask,) = service["UMask"]

    ns = tmp_path / "ns"
    ns.mkdir()
    with NotifyListener(abstract=True) as notify:
        r = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", SCRIPT],
            check=False, capture_output=True, text=True, timeout=120,
            env={
                **os.environ, "NS": str(ns), "REPO": str(REPO), "INSTALL_CONFIG": install,
                "CONFIG": config, "PORT": str(free_port()), "STATE": state, "RUNAS": USER,
                "UMASK": umask, "NOTIFY": notify.path,
                "UNIT_ENV": env, "PY": sys.executable, "KEEP": " ".join(_under_tmp()),
                # The unit's command line, with the installed venv's entry point replaced by ours.
                "EXEC": shlex.join([sys.executable, "-m", "uptimed", *argv[1:]]),
            },
        )  # fmt: skip
        out = r.stdout + r.stderr
        assert r.returncode == 0, out
        pid = int(re.search(r"DAEMON PID (\d+)", out).group(1))  # type: ignore[union-attr]
        notify.messages(timeout=1)
        ready = [d for d in notify.datagrams if b"READY=1" in d.data]
    assert ready, f"no READY=1 on $NOTIFY_SOCKET:\n{out}"
    # NotifyAccess=main: it comes from the main process (setpriv and env exec into it).
    assert ready[0].pid == pid, (ready[0].pid, pid)
    assert "DAEMON EXIT 0" in out, out
    assert "daemon: running (pid" in out, out
    assert re.search(r"maintenance window \d+: monitor self-http from", out), out
    db = re.search(rf"^-rw------- +1 +{USER} +{USER} +\d+ .* uptimed\.db$", out, re.MULTILINE)
    assert db, (
        f"the database is not {state}/uptimed.db, owned by the service's user, mode 0600:\n{out}"
    )
    assert f"database {state}/uptimed.db" in out and "Traceback" not in out, out
    assert re.search(r"maintenance began: ad-hoc window \d+ on monitor self-http", out), out
    assert "is UP since" in out, out  # it probes, under the sandbox
