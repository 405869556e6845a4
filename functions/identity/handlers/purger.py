"""Daily: purge the workspaces whose deletion grace window has ended (`logic/purge.py`).

Triggered by an EventBridge schedule (`stacks/systems/identity.py`); "now" is the scheduled
event's `time`, so a late invocation purges what was due when it was scheduled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.identity.config import IdentityConfig
from functions.identity.dal.store import IdentityDb
from functions.identity.logic import purge
from ninefold_core.observability import lambda_handler, logger


@lambda_handler(IdentityConfig)
def handler(event: dict[str, Any], context: Any, config: IdentityConfig) -> dict[str, Any]:
    scheduled = event.get("time")
    now = dt.datetime.fromisoformat(scheduled.replace("Z", "+00:00")) if scheduled else dt.datetime.now(dt.UTC)
    purged = purge.run(IdentityDb(config.table_name), now=now)
    logger.info("purge run", extra={"workspaces": len(purged)})
    return {"purged": [p.tenant_id for p in purged]}
