"""Portal sign-ins: a customer's token for a session id in an HttpOnly cookie.

Tokens are checked against the digests of the configuration in force (:func:`customer_for`),
against every digest there, in constant time per digest: how long it takes says nothing of
which customer, or whether any, came close. A session remembers which token digest opened it and
holds only while that digest is still configured, so that rotating a token (edit the file,
SIGHUP) also ends the sessions it opened. Sessions live in memory: a restart signs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from uptimed.model.config import Config, Customer

COOKIE = "uptimed_portal"
MAX_SESSIONS = 10_000  # the oldest go first: memory stays bounded whoever signs in
PER_CUSTOMER = 100  # sessions one customer may have open (its oldest go first)


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def customer_for(config: Config, token: str) -> tuple[Customer, bytes] | None:
    """The customer whose token this is, and its digest; None for any other string."""
    given = digest(token.strip())
    found = None
    for c in config.customers:
        for d in c.token_digests:
            if hmac.compare_digest(d, given):  # no early exit: every digest is compared
                found = (c, d)
    return found


class Sessions:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        # digest of the session id -> (customer id, token digest, expiry): a leaked memory dump
        # holds no cookie that works
        self._live: OrderedDict[bytes, tuple[str, bytes, float]] = OrderedDict()

    def open(self, customer: Customer, token_digest: bytes, ttl: float) -> str:
        now = self.clock()
        for key in [k for k, (_, _, until) in self._live.items() if until <= now]:
            del self._live[key]
        mine = [k for k, (who, _, _) in self._live.items() if who == customer.id]
        for key in mine[: max(0, len(mine) - PER_CUSTOMER + 1)]:  # its oldest: one customer
            del self._live[key]  # signing in over and over signs no one else out
        sid = secrets.token_urlsafe(32)
        self._live[digest(sid)] = (customer.id, token_digest, now + ttl)
        while len(self._live) > MAX_SESSIONS:
            self._live.popitem(last=False)
        return sid

    def customer(self, config: Config, sid: str) -> Customer | None:
        """The session's customer, while the session lasts and its token is configured."""
        key = digest(sid)
        entry = self._live.get(key)
        if entry is None:
            return None
        customer_id, token_digest, expires = entry
        if self.clock() >= expires:
            del self._live[key]
            return None
        for c in config.customers:
            if c.id == customer_id and token_digest in c.token_digests:
                return c
        del self._live[key]  # the token was rotated away, or the customer removed
        return None

    def close(self, sid: str) -> None:
        self._live.pop(digest(sid), None)
