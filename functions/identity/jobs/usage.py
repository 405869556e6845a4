"""`identity.report_usage`: hourly, report each workspace's API calls of the finished hours as
`usage.api_calls_recorded` (`logic/usage.py`: deltas, idempotent, late calls reported next time).

A platform job on identity's clock (ADR 0014): the Scheduler fires it at five past every hour
(calls stamped at the hour's edge by a skewed clock are in by then); the hours come from the
firing's scheduled time, not from the worker's clock, so a late or retried run reports the same
hours. A failed run is retried with backoff and dead-lettered like any job.
"""

from __future__ import annotations

from typing import Any

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import usage
from ninefold_core.jobs import NoPayload, RetryPolicy, RunInfo, job


@job(
    name="identity.report_usage",
    payload=NoPayload,
    schedule="cron(5 * * * ? *)",
    retry=RetryPolicy(max_attempts=3, base_delay=30, max_delay=300),
    timeout=120,
    # Overlapping runs are harmless (idempotent), and a firing never waits behind another.
    concurrency=2,
)
def report_usage(payload: NoPayload, run: RunInfo) -> dict[str, Any]:
    """Report the API calls of the finished hours, per workspace (billing usage)."""
    reported = usage.report(IdentityDb(run.table_name), at=run.scheduled_at())
    return {"reports": len(reported), "calls": sum(r.calls for r in reported)}
