"""Per-tenant concurrency slots: lease counters in the workflows table (ADR 0013).

Keys (tenant-prefixed like every workflows key)
* `T#<tenant>#SLOTS#JOB#<job>` / `slots`   runs of `<job>` the tenant has in flight (limit: the job's `concurrency`)
* `T#<tenant>#SLOTS#TENANT` / `slots`      all the tenant's runs in flight (limit: the tenant cap)

One item per counter holds `leases: {holder: expires_at}` and a `version`. Taking a slot reads
the item, drops expired leases (a crashed worker's lease ends on its own: nothing has to free it),
and writes the new map conditional on the version it read (optimistic concurrency: two workers
racing for the last slot make one winner). The item's `ttl` is a day after its latest lease
expiry: TTL only cleans up an idle tenant's counters, liveness is always `expires_at` (TTL deletion
is lazy in AWS, and the local cloud's sweeper runs on the warp clock, not the functions' clock).
"""

from __future__ import annotations

from typing import Any

from ninefold_core.dynamo import ConditionFailed, TenantRepository
from ninefold_core.tenant import TenantContext

SLOTS_SK = "slots"
CLEANUP_AFTER_SECONDS = 24 * 3600
# Optimistic write attempts before a contended slot counts as taken (the message is deferred).
MAX_RACES = 3


def job_scope(job: str) -> tuple[str, ...]:
    return ("SLOTS", "JOB", job)


TENANT_SCOPE: tuple[str, ...] = ("SLOTS", "TENANT")


class SlotStore:
    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.repo = TenantRepository(table_name, ctx, client)

    def leases(self, scope: tuple[str, ...], now: float) -> dict[str, float]:
        """The live leases of `scope` (holder -> expiry)."""
        item = self.repo.get(scope, SLOTS_SK, consistent=True)
        return _live(item, now)

    def acquire(self, scope: tuple[str, ...], holder: str, *, limit: int, expires_at: float, now: float) -> bool:
        """Take a slot of `scope` for `holder` until `expires_at`; False when `limit` live leases
        are held by others. Re-entrant: a holder that has a slot keeps it (its expiry is renewed)."""
        for _ in range(MAX_RACES):
            item = self.repo.get(scope, SLOTS_SK, consistent=True)
            live = _live(item, now)
            if holder not in live and len(live) >= limit:
                return False
            live[holder] = float(expires_at)
            try:
                self._write(scope, item, live)
                return True
            except ConditionFailed:
                continue  # another worker changed the counter meanwhile: look again
        return False

    def release(self, scope: tuple[str, ...], holder: str, *, now: float) -> None:
        """Give the slot back (best effort: an unreleased lease expires anyway)."""
        for _ in range(MAX_RACES):
            item = self.repo.get(scope, SLOTS_SK, consistent=True)
            live = _live(item, now)
            if item is None or holder not in (item.get("leases") or {}):
                return
            live.pop(holder, None)
            try:
                self._write(scope, item, live)
                return
            except ConditionFailed:
                continue

    def _write(self, scope: tuple[str, ...], item: dict[str, Any] | None, leases: dict[str, float]) -> None:
        expires = int(max(leases.values(), default=0)) + CLEANUP_AFTER_SECONDS
        if item is None:
            self.repo.put(scope, SLOTS_SK, {"leases": leases, "version": 1}, if_absent=True, ttl=expires)
            return
        version = int(item.get("version", 0))
        self.repo.update(
            scope,
            SLOTS_SK,
            {"leases": leases, "version": version + 1, "ttl": expires},
            expected={"version": version},
            return_item=False,
        )


def _live(item: dict[str, Any] | None, now: float) -> dict[str, float]:
    leases = (item or {}).get("leases") or {}
    return {str(k): float(v) for k, v in leases.items() if float(v) > now}
