"""Apprise delivery: a title and a body to any apprise URL (``mailto://``, ``slack://``,
``tgram://``, ``ntfy://``, ``json://``...).

apprise is synchronous (requests, smtplib), so :func:`deliver_apprise` runs it in a worker
thread (:func:`asyncio.to_thread`) and waits at most ``notifier.timeout``. On expiry it returns a
retryable ``timeout`` outcome and leaves the thread to finish on its own (a thread cannot be
cancelled): apprise's own service budget (``AppriseAsset(service_timeout=...)``) is set to the
same timeout, so such a thread does not linger long.

Each delivery builds its own ``Apprise`` object (nothing is shared between threads), with an
in-memory persistent store (nothing written to disk) and no plugin paths (no code loaded from
the user's directories).

The title and body are given to apprise as plain text (``body_format=TEXT``): each plugin then
escapes them for its own format (HTML mail, Markdown chats). Without it apprise passes them on
as if already in the plugin's format: a mail's plain-text part loses its line breaks, and a
``<`` or ``*`` in a monitor's error becomes markup.

**apprise's logging is silenced.** apprise logs through the ``"apprise"`` logger, at every
level, and its messages may quote a URL or part of one (a bot token, a webhook path, a chat id,
an SMTP user): its ``secure_logging`` masks only what it recognises. The libraries under it do
the same (urllib3 logs each request's path at DEBUG; oauthlib may log tokens). Those records
would reach the daemon's handlers through propagation, so this module, when imported, sets the
level of each logger of :data:`SILENCED_LOGGERS` above CRITICAL (so no record is even created,
on them or on their children, which inherit the level) and adds a filter that drops any record
logged on them anyway, should something lower a level again. uptimed itself uses none of these
libraries (its HTTP is aiohttp), so nothing of its own is lost. What went wrong is reported
through :class:`Outcome` instead, in words of our own: apprise only says whether it delivered
(or timed out), never why in a form that is safe to show.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from concurrent.futures import Executor

import apprise
from apprise.manager_plugins import NotificationManager

from uptimed.model.config import Notifier
from uptimed.notify.webhook import Outcome

__all__ = ["APPRISE_LOGGER", "SILENCED_LOGGERS", "deliver_apprise"]

#: The loggers of apprise and of the libraries its plugins use: see the module docstring.
SILENCED_LOGGERS = ("apprise", "urllib3", "requests", "requests_oauthlib", "oauthlib", "slixmpp")

#: apprise's own logger.
APPRISE_LOGGER = logging.getLogger("apprise")


def _drop(record: logging.LogRecord) -> bool:
    return False


for _name in SILENCED_LOGGERS:
    _logger = logging.getLogger(_name)
    _logger.setLevel(logging.CRITICAL + 1)
    if _drop not in _logger.filters:
        _logger.addFilter(_drop)
del _name, _logger

# apprise imports its plugins on first use. Do it now, in the importing thread: it costs about
# 0.2 s that would otherwise count against the first delivery's timeout, and on Python < 3.13
# the e-mail plugin imports the deprecated ``imghdr`` (a DeprecationWarning, which the tests
# turn into an error; in a worker thread it would make apprise skip the plugin).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    # The process-wide singleton; apprise leaves its manager untyped.
    NotificationManager().load_modules()  # type: ignore[no-untyped-call]

_SENT = "sent"
_REFUSED = "refused"
_FAILED = "failed"
_TIMEOUT = "timeout"


def _send(url: str, title: str, body: str, timeout: float) -> str:
    """In the worker thread: one delivery; ``_SENT``, ``_REFUSED``, ``_FAILED`` or
    ``_TIMEOUT``."""
    asset = apprise.AppriseAsset(storage_mode="memory", service_timeout=timeout)
    client = apprise.Apprise(asset=asset)
    if not client.add(url):
        return _REFUSED
    result = client.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
    if result:
        return _SENT
    return _TIMEOUT if result.status == apprise.AppriseResultStatus.TIMEOUT else _FAILED


async def deliver_apprise(
    notifier: Notifier, title: str, body: str, executor: Executor | None = None
) -> Outcome:
    """Send ``title`` and ``body`` to ``notifier.url`` through apprise, once, in a thread of
    ``executor`` (the loop's default one when None).

    Never raises for a failed delivery: an URL apprise does not accept is not worth retrying;
    a failed or timed-out delivery is (apprise does not say why it failed)."""
    timeout = notifier.timeout
    try:
        result = await asyncio.wait_for(
            asyncio.get_running_loop().run_in_executor(
                executor, _send, notifier.url, title, body, timeout
            ),
            timeout,
        )
    except TimeoutError:
        return Outcome(False, True, f"timeout after {timeout:g}s")
    except Exception as exc:  # noqa: BLE001 - apprise's bug; its text may quote the URL
        return Outcome(False, True, f"apprise failed ({type(exc).__name__})")
    if result == _REFUSED:
        return Outcome(False, False, "apprise refused the URL")
    if result == _TIMEOUT:  # apprise's own service budget ran out first
        return Outcome(False, True, f"timeout after {timeout:g}s")
    if result == _FAILED:
        return Outcome(False, True, "apprise could not deliver")
    return Outcome(True, False, "sent")
