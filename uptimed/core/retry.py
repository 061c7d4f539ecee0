"""When to try a failed notification again: exponential backoff with jitter.

The n-th failed attempt waits ``min(cap, base * 2**(n-1))``, scaled by a factor in [0.5, 1)
drawn from ``jitter`` ("equal jitter"): a receiver that was down for everyone is not hit by
every daemon's retries at the same instant when it comes back, and no wait is shorter than
half of its step, so the backoff still backs off. A receiver's ``Retry-After`` is honoured when
it asks for longer (never for more than ``cap``).
"""

from __future__ import annotations

BASE = 5.0  # seconds: the first retry
CAP = 3600.0  # seconds: the longest wait between tries
MAX_ATTEMPTS = 12  # then the delivery is dead: about 6 hours of trying at the defaults


def backoff(
    attempt: int,
    jitter: float,
    retry_after: float | None = None,
    base: float = BASE,
    cap: float = CAP,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first), with
    ``jitter`` drawn uniformly from [0, 1)."""
    step = min(cap, base * 2.0 ** min(attempt - 1, 62))
    wait = step * (0.5 + jitter / 2)
    if retry_after is not None and retry_after > wait:
        wait = min(cap, retry_after)
    return wait
