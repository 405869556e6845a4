"""Per-tenant fairness (ADR 0013): a run is admitted only with a free slot of its job (the
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

from functions.workflows.dal.slots import TENANT_SCOPE, SlotStore, job_scope
from ninefold_core.jobs import JobMessage, JobSpec

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
