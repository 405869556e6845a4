"""Per-tenant concurrency slots: lease counters in the owning system's table (ADR 0013).

Keys (tenant-prefixed like every key)
* `T#<tenant>#SLOTS#JOB#<job>` / `slots`   runs of `<job>` the tenant has in flight (limit: the job's `concurrency`)
* `T#<tenant>#SLOTS#TENANT` / `slots`      all the tenant's runs in flight (limit: the tenant cap)

One item per counter holds `leases: {holder: expires_at}` and a `version`. Taking a slot reads
the item, drops expired leases (a crashed worker's lease ends on its own: nothing has to free it),
and writes the new map conditional on the version it read (optimistic concurrency: two workers
racing for the last slot make one winner). The item's `ttl` is a day after its latest lease
expiry: TTL only cleans up an idle tenant's counters, liveness is always `expires_at` (TTL deletion
is lazy in AWS, and the local cloud's sweeper runs on the warp clock, not the functions' clock).

Fairness: a run is admitted only with a free slot of its job (the
declaration's `concurrency`, per tenant) AND of its tenant (the tenant cap across jobs).

The worker admits a whole batch before running it, so the admitted runs of one batch count as in
flight together (they are: the batch's messages are received and invisible until it ends). A
message that is not admitted is *deferred*: sent again as a new message with a short delay and
the received one deleted, so neither `ApproximateReceiveCount` nor the run's attempts move, and
the DLQ's maxReceiveCount still counts attempts only.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ninefold_core.dynamo import ConditionFailed, TenantRepository
from ninefold_core.jobs import JobMessage, JobSpec
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


# A deferred message comes back after DEFER_MIN..DEFER_MAX seconds (jitter spreads a burst).
DEFER_MIN_SECONDS = 2
DEFER_MAX_SECONDS = 5
# A lease outlives the worker invocation by this much (clock skew between workers).
LEASE_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class Admission:
    admitted: bool
    scope: str = ""  # what was full: "job" or "tenant"


def defer_delay(rng: Callable[[], float] = random.random) -> int:
    return DEFER_MIN_SECONDS + round((DEFER_MAX_SECONDS - DEFER_MIN_SECONDS) * rng())


def admit(
    message: JobMessage,
    spec: JobSpec[Any] | None,
    slots: SlotStore,
    *,
    tenant_cap: int,
    lease_until: float,
    now: float,
) -> Admission:
    """Take a job slot and a tenant slot for the message's run (holder = run id). A message of an
    unknown job is admitted (the run fails at once, it holds nothing)."""
    if spec is None:
        return Admission(True)
    holder = message.run_id
    if not slots.acquire(job_scope(spec.name), holder, limit=spec.concurrency, expires_at=lease_until, now=now):
        return Admission(False, "job")
    if not slots.acquire(TENANT_SCOPE, holder, limit=tenant_cap, expires_at=lease_until, now=now):
        slots.release(job_scope(spec.name), holder, now=now)
        return Admission(False, "tenant")
    return Admission(True)


def release(message: JobMessage, jobs: Mapping[str, JobSpec[Any]], slots: SlotStore, *, now: float) -> None:
    spec = jobs.get(message.job)
    if spec is None:
        return
    slots.release(job_scope(spec.name), message.run_id, now=now)
    slots.release(TENANT_SCOPE, message.run_id, now=now)
