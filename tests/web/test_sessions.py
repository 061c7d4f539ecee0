"""Portal sign-ins (uptimed.web.sessions) with a fake clock: expiry, rotation, and the bounds
that keep one customer from signing the others out."""

from __future__ import annotations

import hashlib

from uptimed.model.config import Config, Customer, DaemonConfig, Retention
from uptimed.web import sessions
from uptimed.web.sessions import Sessions, customer_for

TOKENS = {"acme": "0123456789abcdef" * 4, "beta": "fedcba9876543210" * 4}


def config(**tokens: str) -> Config:
    customers = tuple(
        Customer(who, who.upper(), (), f"{who}.tokens", (hashlib.sha256(t.encode()).digest(),))
        for who, t in tokens.items()
    )
    return Config(
        "c.toml", "0" * 64, DaemonConfig("/nonexistent/u.db"), (), Retention(), customers=customers
    )


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_token_finds_its_customer_and_nothing_else_does() -> None:
    c = config(**TOKENS)
    found = customer_for(c, TOKENS["beta"])
    assert found is not None and found[0].id == "beta"
    assert customer_for(c, f"  {TOKENS['acme']}\n") is not None  # as pasted
    for wrong in ("", TOKENS["acme"][:-1], TOKENS["acme"].upper(), TOKENS["beta"] + "0"):
        assert customer_for(c, wrong) is None


def test_a_session_ends_when_it_expires_or_its_token_is_rotated() -> None:
    clock, c = Clock(), config(**TOKENS)
    s = Sessions(clock)
    acme, digest = customer_for(c, TOKENS["acme"]) or (None, b"")
    assert acme is not None
    sid = s.open(acme, digest, ttl=60)
    assert s.customer(c, sid) == acme and s.customer(c, sid + "x") is None
    clock.t += 59.9
    assert s.customer(c, sid) == acme
    clock.t += 0.1
    assert s.customer(c, sid) is None  # expired
    sid = s.open(acme, digest, ttl=60)
    rotated = config(acme="00112233445566778899aabbccddeeff" * 2, beta=TOKENS["beta"])
    assert s.customer(rotated, sid) is None  # its token is no longer configured
    assert s.customer(c, sid) is None  # and the session is gone for good
    sid = s.open(acme, digest, ttl=60)
    s.close(sid)
    assert s.customer(c, sid) is None


def test_one_customer_signing_in_over_and_over_signs_no_one_else_out() -> None:
    clock, c = Clock(), config(**TOKENS)
    s = Sessions(clock)
    beta, beta_digest = customer_for(c, TOKENS["beta"]) or (None, b"")
    acme, acme_digest = customer_for(c, TOKENS["acme"]) or (None, b"")
    assert beta is not None and acme is not None
    kept = s.open(beta, beta_digest, ttl=3600)
    first = [s.open(acme, acme_digest, ttl=3600) for _ in range(sessions.PER_CUSTOMER)]
    more = [s.open(acme, acme_digest, ttl=3600) for _ in range(3 * sessions.PER_CUSTOMER)]
    assert s.customer(c, kept) == beta
    assert all(s.customer(c, x) is None for x in first)  # acme's oldest went
    assert all(s.customer(c, x) == acme for x in more[-sessions.PER_CUSTOMER :])


def test_expired_sessions_are_dropped_when_another_opens() -> None:
    clock, c = Clock(), config(**TOKENS)
    s = Sessions(clock)
    acme, digest = customer_for(c, TOKENS["acme"]) or (None, b"")
    assert acme is not None
    for _ in range(50):
        s.open(acme, digest, ttl=10)
    clock.t += 11
    s.open(acme, digest, ttl=10)
    assert len(s._live) == 1
