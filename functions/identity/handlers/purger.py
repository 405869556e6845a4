"""Daily: enqueue a purge job for each workspace whose deletion grace window has ended.

Triggered by an EventBridge schedule (`stacks/systems/identity.py`); "now" is the scheduled
event's `time`, so a late invocation purges what was due when it was scheduled. The purge itself
is the job `identity.purge_workspace` (`jobs/purge.py`), one run per workspace with retries; the
idempotency key names the deletion, so sweeping twice (a retried invocation, the next day while a
run is still retrying) starts one run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.identity.config import IdentityConfig
from functions.identity.dal.store import IdentityDb
from functions.identity.jobs.purge import PurgeWorkspace, purge_workspace
from functions.identity.logic import purge
from ninefold_core.jobs import enqueue
from ninefold_core.observability import lambda_handler, logger
from ninefold_core.tenant import TenantContext

# A deletion's purge is started once; the key outlives the lookback, so a late sweep cannot start it again.
IDEMPOTENCY_TTL_SECONDS = (purge.LOOKBACK_DAYS + 2) * 24 * 3600


@lambda_handler(IdentityConfig)
def handler(event: dict[str, Any], context: Any, config: IdentityConfig) -> dict[str, Any]:
    scheduled = event.get("time")
    now = dt.datetime.fromisoformat(scheduled.replace("Z", "+00:00")) if scheduled else dt.datetime.now(dt.UTC)
    runs = []
    for entry in purge.due(IdentityDb(config.table_name), now=now):
        runs.append(
            enqueue(
                purge_workspace,
                PurgeWorkspace(purge_at=entry.purge_at, day=entry.day),
                TenantContext.system(entry.tenant_id, config.system),
                idempotency_key=f"purge:{entry.purge_at}",
                idempotency_ttl=IDEMPOTENCY_TTL_SECONDS,
            )
        )
    logger.info("purges enqueued", extra={"workspaces": len(runs)})
    return {"enqueued": len(runs)}
