"""The authorizer's optional per-container cache of resolved credentials.

API Gateway's own authorizer cache cannot be used: it needs identity sources, and a request may
carry its credential in either of two places (ADR 0011). This cache lives in the authorizer's
container instead. Its key is the SHA-256 of the credential (the token is never kept), so two
credentials never share an entry, and an entry never outlives the TTL nor the session's own
idle deadline.

Off by default (`AUTHORIZER_CACHE_SECONDS=0`): every request is resolved afresh, so revocation,
role changes and deletions apply at the next request. Turning it on trades that for fewer reads
per request: for up to the TTL, a revoked session or key, a removed member or a changed role
still gets the answer cached for it. CSRF is still checked on every request, and every request
still counts as an API call.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from functions.identity.logic.common import digest

MAX_ENTRIES = 1024


@dataclass(frozen=True)
class _Entry:
    value: Any
    expires_at: float


class AuthCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.max_entries = max_entries

    def get(self, token: str, *, now: float) -> Any | None:
        key = digest(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.value

    def put(self, token: str, value: Any, *, now: float, ttl: int, not_after: float | None = None) -> None:
        """Keep `value` for `ttl` seconds (never past `not_after`); a ttl of 0 keeps nothing."""
        if ttl <= 0:
            return
        expires_at = now + ttl if not_after is None else min(now + ttl, not_after)
        if expires_at <= now:
            return
        self._entries[digest(token)] = _Entry(value, expires_at)
        self._entries.move_to_end(digest(token))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
