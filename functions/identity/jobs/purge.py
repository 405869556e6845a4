"""`identity.purge_workspace`: delete what identity holds for a workspace whose grace window ended.

Enqueued by the daily sweep (`handlers/purger.py`) under the workspace's own tenant, with one
idempotency key per deletion. Every step is an idempotent delete and the due entry goes last, so
a retry (or a crash half-way) finishes the job; after the last attempt the run is dead-lettered
and an operator replays it (runbooks/jobs.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import purge
from ninefold_core.jobs import RetryPolicy, RunInfo, job


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
