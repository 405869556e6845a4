"""Purging deleted workspaces on identity's job runtime (ADR 0014, `logic/purge.py`).

* `identity.sweep_purges`: a platform job on a clock (daily, 03:30 UTC). It enqueues one
  `identity.purge_workspace` per workspace whose grace window ended by the firing's scheduled
  time, with one idempotency key per deletion, so a retried or repeated sweep starts no second run.
* `identity.purge_workspace`: runs under the workspace's own tenant. Every step is an idempotent
  delete and the due entry goes last, so a retry (or a crash half-way) finishes the job; after the
  last attempt the run is dead-lettered and an operator replays it (runbooks/jobs.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import purge
from ninefold_core.jobs import NoPayload, RetryPolicy, RunInfo, enqueue, job
from ninefold_core.tenant import TenantContext

# A deletion's purge is started once; the key outlives the lookback, so a late sweep cannot start it again.
IDEMPOTENCY_TTL_SECONDS = (purge.LOOKBACK_DAYS + 2) * 24 * 3600


class PurgeWorkspace(BaseModel):
    """Which deletion to carry out: the workspace is the run's tenant."""

    purge_at: int = Field(description="When the grace window ended (epoch seconds), as filed.")
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="The day it was filed under.")


@job(
    name="identity.purge_workspace",
    payload=PurgeWorkspace,
    retry=RetryPolicy(max_attempts=5, base_delay=30, max_delay=900),
    timeout=300,
    concurrency=1,  # one purge of a workspace at a time
)
def purge_workspace(payload: PurgeWorkspace, run: RunInfo) -> dict[str, Any]:
    """Purge a deleted workspace whose grace window ended; `workspace.purged` goes out."""
    entry = purge.Due(tenant_id=run.ctx.tenant_id, purge_at=payload.purge_at, day=payload.day)
    done = purge.purge_workspace(IdentityDb(run.table_name), entry)
    return {"purged": done is not None, "rows": done.rows if done else 0}


@job(
    name="identity.sweep_purges",
    payload=NoPayload,
    schedule="cron(30 3 * * ? *)",
    retry=RetryPolicy(max_attempts=3, base_delay=60, max_delay=900),
    timeout=60,
    # Overlapping runs are harmless (idempotent), and a firing never waits behind another.
    concurrency=2,
)
def sweep_purges(payload: NoPayload, run: RunInfo) -> dict[str, Any]:
    """Enqueue a purge for each deleted workspace whose grace window ended."""
    runs = [
        enqueue(
            purge_workspace,
            PurgeWorkspace(purge_at=entry.purge_at, day=entry.day),
            TenantContext.system(entry.tenant_id, "identity"),
            idempotency_key=f"purge:{entry.purge_at}",
            idempotency_ttl=IDEMPOTENCY_TTL_SECONDS,
        )
        for entry in purge.due(IdentityDb(run.table_name), now=run.scheduled_at())
    ]
    return {"enqueued": len(runs)}
