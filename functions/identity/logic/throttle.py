"""Brute-force protection without hard lockout: failure counters with a growing delay.

A counter lives at `P#throttle#<policy>#<subject>`: `failures`, `last_failure_at` and a TTL a
window after the last failure. Once `failures` reaches the policy's free attempts, the next
attempt must wait `2^(failures - free)` seconds after the last failure, capped (15 minutes):
a guesser gets a few tries an hour, the owner can still get in (or reset the password), and
nobody is locked out for good.

Policies
* sign-in per account (subject: SHA-256 of the normalised email, known or not): 5 free. The
  attempt is *claimed* before the password is checked, with a conditional write on the count
  read, so concurrent guesses cannot all slip through while the first is being verified. A
  successful sign-in clears it.
* sign-in per IP address: 20 free, counted after each failure (one office behind one NAT should
  not be throttled by a colleague's typos); never cleared by a success, so an attacker cannot
  reset it with an account of their own.
* emails per address (sign-up, reset and verification requests): 3 free, counted for every
  request whether or not the address has an account, so a 429 reveals nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from functions.identity.dal.store import ThrottleStore
from functions.identity.logic.common import digest
from ninefold_core.errors import TooManyRequests

MAX_DELAY_SECONDS = 15 * 60
WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Policy:
    name: str
    free_attempts: int
    max_delay_seconds: int = MAX_DELAY_SECONDS
    window_seconds: int = WINDOW_SECONDS


SIGN_IN_ACCOUNT = Policy("sign-in-account", free_attempts=5)
SIGN_IN_IP = Policy("sign-in-ip", free_attempts=20)
EMAILS = Policy("emails", free_attempts=3)


def delay_seconds(failures: int, policy: Policy) -> int:
    """How long after the last failure the next attempt must wait."""
    if failures < policy.free_attempts:
        return 0
    exponent = failures - policy.free_attempts
    # 2**exponent overflows nothing in Python, but keep it small anyway.
    return policy.max_delay_seconds if exponent >= 20 else min(2**exponent, policy.max_delay_seconds)


def _live(state: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    # An expired counter may linger until TTL deletion catches up; it counts as none.
    if state is None or int(state.get("ttl", 0)) <= now:
        return None
    return state


def wait_seconds(state: dict[str, Any] | None, policy: Policy, now: float) -> int:
    live = _live(state, now)
    if live is None:
        return 0
    remaining = float(live["last_failure_at"]) + delay_seconds(int(live["failures"]), policy) - now
    return max(0, math.ceil(remaining))


def email_subject(email: str) -> str:
    """Counters are keyed by a hash of the address: no personal data in throttle keys."""
    return digest(email)


def _too_many(seconds: int) -> TooManyRequests:
    return TooManyRequests(
        f"Too many attempts. Try again in {seconds} second{'s' if seconds != 1 else ''}.",
        retry_after_seconds=max(1, seconds),
    )


class Throttle:
    def __init__(self, store: ThrottleStore) -> None:
        self.store = store

    def check(self, policy: Policy, subject: str, *, now: float) -> None:
        """Refuse (429 with Retry-After) while the subject must wait."""
        wait = wait_seconds(self.store.get(policy.name, subject), policy, now)
        if wait:
            raise _too_many(wait)

    def claim(self, policy: Policy, subject: str, *, now: float) -> None:
        """Check, then count this attempt as a failure up front (cleared on success)."""
        state = self.store.get(policy.name, subject)
        wait = wait_seconds(state, policy, now)
        if wait:
            raise _too_many(wait)
        live = _live(state, now)
        failures = 0 if live is None else int(live["failures"])
        claimed = self.store.claim(
            policy.name,
            subject,
            stored=None if state is None else int(state["failures"]),
            changes={"failures": failures + 1, "last_failure_at": now},
            ttl=int(now) + policy.window_seconds,
        )
        if not claimed:
            # Another attempt for the same subject is in flight right now.
            raise _too_many(1)

    def fail(self, policy: Policy, subject: str, *, now: float) -> int:
        return self.store.increment(policy.name, subject, now=int(now), ttl=int(now) + policy.window_seconds)

    def clear_op(self, policy: Policy, subject: str) -> dict[str, Any]:
        return self.store.clear_op(policy.name, subject)
