"""Hourly: report each workspace's API calls of the finished hours as `usage.api_calls_recorded`.

Triggered by an EventBridge schedule (`stacks/systems/identity.py`). The hour boundary comes from
the scheduled event's `time`, not from this function's clock, so a late or repeated invocation
reports the same hours; reports are idempotent (see `logic/usage.py`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.identity.config import IdentityConfig
from functions.identity.dal.store import IdentityDb
from functions.identity.logic import usage
from ninefold_core.observability import lambda_handler, logger


@lambda_handler(IdentityConfig)
def handler(event: dict[str, Any], context: Any, config: IdentityConfig) -> dict[str, Any]:
    scheduled = event.get("time")
    at = dt.datetime.fromisoformat(scheduled.replace("Z", "+00:00")) if scheduled else dt.datetime.now(dt.UTC)
    reported = usage.report(IdentityDb(config.table_name), at=at)
    logger.info("api calls reported", extra={"reports": len(reported), "calls": sum(r.calls for r in reported)})
    return {"reports": len(reported), "calls": sum(r.calls for r in reported)}
