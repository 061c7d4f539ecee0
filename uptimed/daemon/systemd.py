"""Talking to systemd as a ``Type=notify`` service, with the standard library only.

Two pieces of the protocol systemd documents in sd_notify(3) and sd_watchdog_enabled(3):

* :func:`notify` sends state assignments such as ``READY=1``, ``STATUS=...``, ``WATCHDOG=1``,
  ``RELOADING=1`` or ``STOPPING=1`` as ONE datagram (assignments separated by ``\\n``) to the
  ``AF_UNIX`` socket named in ``$NOTIFY_SOCKET``: an absolute path, or a Linux abstract-namespace
  name when it starts with ``@`` (the ``@`` stands for the leading NUL byte). The kernel attaches
  the sender's credentials, which systemd uses to check ``NotifyAccess=main``: so call this from
  the daemon's main process, not from a child.
* :func:`watchdog_interval` reads ``$WATCHDOG_USEC``/``$WATCHDOG_PID`` and tells how often to send
  ``WATCHDOG=1``: every half of the timeout, as sd_watchdog_enabled(3) recommends.

Typical use from the daemon (the asyncio loop itself sends the keep-alive, so a stalled loop is
exactly what the watchdog catches)::

    notify("READY=1", f"STATUS=monitoring {n} targets")
    if (interval := watchdog_interval()) is not None:
        while True:
            notify("WATCHDOG=1")
            await asyncio.sleep(interval)
    ...
    notify("STOPPING=1")

On SIGHUP the daemon may send ``RELOADING=1`` and, once the new config is in place, ``READY=1``
again. Send ``MONOTONIC_USEC=<CLOCK_MONOTONIC in µs>`` with ``RELOADING=1``, e.g.
``notify("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")``: systemd >= 253 uses
it to tie the message to the reload it asked for (older versions ignore it).

Nothing here raises on a missing or broken socket: outside systemd, or when the manager is gone,
notifications are simply not delivered (logged at DEBUG level).
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading

__all__ = ["Notifier", "notify", "watchdog_interval"]

log = logging.getLogger(__name__)


def _notify_address(value: str) -> bytes | None:
    """The ``AF_UNIX`` address for a ``$NOTIFY_SOCKET`` value, or None if it is not one.

    Like libsystemd, accept only an absolute path or an abstract name (``@name``), each non-empty.
    (systemd >= 254 may also hand a VM ``vsock:CID:PORT``; that is not supported here.)
    """
    if len(value) < 2 or value[0] not in "/@":
        return None
    address = os.fsencode(value)
    if address.startswith(b"@"):
        # Abstract namespace: a leading NUL, and the name's exact length (no trailing NUL);
        # Python passes a bytes address with exactly its length.
        address = b"\0" + address[1:]
    return address


class Notifier:
    """Sends sd_notify datagrams through one long-lived, unbound, non-blocking socket.

    ``$NOTIFY_SOCKET`` is read at every :meth:`notify` call (like libsystemd does), so one
    ``Notifier`` follows changes of the environment; only the sending socket is kept, created on
    first use. Sending never blocks, so it is safe to call from the asyncio event loop: if the
    receiver's queue is full the datagram is dropped (EAGAIN) and False is returned. It is also
    safe to call from several threads.
    """

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def _socket(self) -> socket.socket:
        with self._lock:
            if self._sock is None:
                self._sock = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
                )
            return self._sock

    def notify(self, *messages: str) -> bool:
        """Send ``messages`` (``"KEY=value"`` each) as one datagram to ``$NOTIFY_SOCKET``.

        Returns True if the datagram was handed to the kernel, False if ``$NOTIFY_SOCKET`` is
        unset (not started by systemd as ``Type=notify``), invalid, or the send failed. A value
        must not contain a newline: that would start another assignment.
        """
        value = os.environ.get("NOTIFY_SOCKET")
        if not value:
            return False
        if not messages:
            return False
        payload = "\n".join(messages).encode("utf-8", "replace")
        try:
            address = _notify_address(value)
            if address is None:
                log.debug(
                    "NOTIFY_SOCKET=%r is neither an absolute path nor @abstract; not notifying",
                    value,
                )
                return False
            self._socket().sendto(payload, address)
        except (OSError, ValueError) as e:  # ValueError: e.g. a path that cannot be encoded
            log.debug("sd_notify %r to %r failed: %s", payload, value, e)
            return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


_default = Notifier()
atexit.register(_default.close)


def notify(*messages: str) -> bool:
    """Send ``messages`` (``"READY=1"``, ``"STATUS=..."``, ``"WATCHDOG=1"``, ``"STOPPING=1"``...)
    as one datagram to ``$NOTIFY_SOCKET``; see :meth:`Notifier.notify`. Never raises for a missing
    or unreachable socket: returns False instead."""
    return _default.notify(*messages)


def watchdog_interval() -> float | None:
    """How often to send ``WATCHDOG=1``, in seconds, or None if no watchdog applies to us.

    Follows sd_watchdog_enabled(3): the watchdog is on if ``$WATCHDOG_USEC`` is a positive
    integer (microseconds) and ``$WATCHDOG_PID`` is unset or is our PID (it is set for the main
    process; a child that inherited the environment must not answer for it). The recommended
    keep-alive period is half the timeout.
    """
    usec_text = os.environ.get("WATCHDOG_USEC")
    if not usec_text:
        return None
    usec = _parse_uint(usec_text)
    if usec is None or usec == 0:
        log.debug("WATCHDOG_USEC=%r is not a positive integer; no watchdog", usec_text)
        return None
    pid_text = os.environ.get("WATCHDOG_PID")
    if pid_text:
        pid = _parse_uint(pid_text)
        if pid is None or pid == 0:
            log.debug("WATCHDOG_PID=%r is not a PID; no watchdog", pid_text)
            return None
        if pid != os.getpid():
            return None
    return usec / 2 / 1_000_000


def _parse_uint(text: str) -> int | None:
    if not text.isascii() or not text.isdigit():  # no sign, no "_", no non-ASCII digits
        return None
    return int(text)
